//! The columns of `ls`: names, help, alignment, and each attachment's cell. The `-o`
//! parser, the table and JSON are nscli's.

use nscli::cell::Cell;
use nscli::columns::Column;

use crate::ports::Port;
use crate::teardown::Entry;

/// A column of `ls`: a row per attachment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LsColumn {
    Bridge,
    Namespace,
    Netns,
    HostVeth,
    Ifname,
    Address,
    Address6,
    Mac,
    Alive,
    Ports,
}

impl Column for LsColumn {
    const ALL: &'static [Self] = &[
        LsColumn::Bridge,
        LsColumn::Namespace,
        LsColumn::Netns,
        LsColumn::HostVeth,
        LsColumn::Ifname,
        LsColumn::Address,
        LsColumn::Address6,
        LsColumn::Mac,
        LsColumn::Alive,
        LsColumn::Ports,
    ];

    fn name(self) -> &'static str {
        match self {
            LsColumn::Bridge => "BRIDGE",
            LsColumn::Namespace => "NAMESPACE",
            LsColumn::Netns => "NETNS",
            LsColumn::HostVeth => "HOST-VETH",
            LsColumn::Ifname => "IFNAME",
            LsColumn::Address => "ADDRESS",
            LsColumn::Address6 => "ADDRESS6",
            LsColumn::Mac => "MAC",
            LsColumn::Alive => "ALIVE",
            LsColumn::Ports => "PORTS",
        }
    }

    fn help(self) -> &'static str {
        match self {
            LsColumn::Bridge => "the bridge",
            LsColumn::Namespace => "the namespace file it was attached through",
            LsColumn::Netns => "the namespace's identity, DEV:INO ({\"dev\",\"ino\"} in JSON)",
            LsColumn::HostVeth => "the veth end on the bridge",
            LsColumn::Ifname => "the interface inside the namespace",
            LsColumn::Address => "its address, CIDR",
            LsColumn::Address6 => "its IPv6 address, CIDR (none without --subnet6)",
            LsColumn::Mac => "the interface's MAC",
            LsColumn::Alive => "whether the namespace still exists",
            LsColumn::Ports => "published ports, [HOSTIP:]HOSTPORT:PORT/PROTO",
        }
    }

    fn right(self) -> bool {
        false
    }

    /// JSON keys as earlier versions wrote them: `host_veth`, `interface`.
    fn key(self) -> String {
        match self {
            LsColumn::HostVeth => "host_veth".into(),
            LsColumn::Ifname => "interface".into(),
            other => other.name().to_ascii_lowercase(),
        }
    }
}

/// The default columns: all of them.
pub const LS_DEFAULT: &[LsColumn] = LsColumn::ALL;

/// What `column` shows of `entry`.
pub fn cell(entry: &Entry, column: LsColumn) -> Cell {
    match column {
        LsColumn::Bridge => Cell::text(&entry.bridge),
        LsColumn::Namespace => Cell::text(&entry.namespace),
        LsColumn::Netns => entry.netns.map_or(Cell::Empty, |id| {
            Cell::Record(vec![("dev", Cell::Num(id.dev)), ("ino", Cell::Num(id.ino))])
        }),
        LsColumn::HostVeth => Cell::text(&entry.host_veth),
        LsColumn::Ifname => Cell::text(&entry.interface),
        LsColumn::Address => Cell::text(&entry.address),
        LsColumn::Address6 => entry.address6.as_ref().map_or(Cell::Empty, Cell::text),
        LsColumn::Mac => Cell::text(&entry.mac),
        LsColumn::Alive => Cell::Bool(entry.alive),
        LsColumn::Ports => Cell::List(entry.ports.iter().map(port_cell).collect()),
    }
}

/// A published port: `8080:80/tcp` in a table, an object of numbers in JSON.
fn port_cell(p: &Port) -> Cell {
    let json = Cell::Record(vec![
        (
            "host_ip",
            p.host_ip
                .map_or(Cell::Empty, |ip| Cell::text(ip.to_string())),
        ),
        ("host_port", Cell::Num(p.host_port.into())),
        ("port", Cell::Num(p.port.into())),
        ("proto", Cell::text(p.proto.to_string())),
    ]);
    Cell::Shown(p.to_string(), Box::new(json))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nsproc::NsId;

    fn entry() -> Entry {
        Entry {
            bridge: "nsbr0".into(),
            namespace: "/run/netns/a".into(),
            netns: Some(NsId {
                dev: 4,
                ino: 4026532527,
            }),
            host_veth: "nb0123456789ab".into(),
            interface: "eth0".into(),
            address: "10.1.0.2/24".into(),
            address6: None,
            mac: "02:6e:0a:01:00:02".into(),
            alive: true,
            ports: vec!["8080:80".parse().expect("port")],
        }
    }

    #[test]
    fn identity_is_two_numbers_in_json() {
        let e = entry();
        let obj = nscli::json::object(LS_DEFAULT, |c| cell(&e, c));
        assert_eq!(
            obj["netns"],
            serde_json::json!({"dev": 4, "ino": 4026532527u64})
        );
        assert_eq!(obj["alive"], serde_json::json!(true));
        assert_eq!(obj["host_veth"], "nb0123456789ab");
        assert_eq!(obj["interface"], "eth0");
        assert_eq!(obj["address6"], serde_json::Value::Null);
        assert_eq!(
            obj["ports"],
            serde_json::json!([{"host_ip": null, "host_port": 8080, "port": 80, "proto": "tcp"}])
        );
        assert_eq!(cell(&e, LsColumn::Ports).display(), "8080:80/tcp");
        assert_eq!(cell(&e, LsColumn::Netns).display(), "4:4026532527");
        assert_eq!(cell(&e, LsColumn::Alive).display(), "yes");
    }
}
