//! The `--help` epilogues of each command: notes and examples (the man pages take
//! their EXAMPLES from these blocks too).

use nscli::columns::help as column_help;

use crate::columns::LsColumn;

pub const ATTACH_HELP: &str = "\
TARGET is a PID (its /proc/PID/ns/net), a named namespace (NAME or /run/netns/NAME), or
a network namespace file. Prints the address (CIDR), and the IPv6 one on a second line
on a dual-stack bridge. --subnet and --subnet6 count when the bridge is made; a
different one later is an error.

Several TARGETs are attached in one go (one lock, one netlink socket, one transaction),
all or nothing: if one fails, what was made for every one of them is undone and the exit
status is that failure's (1, or 3 when the subnet is full). Their addresses are printed in
the order given, one a line (with an IPv6 subnet, each IPv4 address is followed by its
IPv6 one). With --json, one TARGET prints its attachment as one JSON object; several
print one document {\"attachments\": [...]}, as ls --json does. --ip and --ip6 need a
single TARGET.

Examples:
  netns-bridge attach red --subnet 10.88.0.0/24     the first one makes the bridge
  netns-bridge attach blue                          the next address of the subnet
  netns-bridge attach \"$PID\" --nat                 a process's namespace, with NAT
  netns-bridge attach green --ip 10.88.0.9          a static address
  netns-bridge attach ns1 ns2 ns3 --json            three namespaces in one call";

pub const DETACH_HELP: &str = "\
Examples:
  netns-bridge detach red blue      two namespaces in one kernel operation
  netns-bridge detach \"$PID\" -b br1        a process's namespace, from the bridge br1";

pub const GC_HELP: &str = "\
Examples:
  netns-bridge gc          leases and veths of namespaces that are gone
  netns-bridge gc -b br1   the same for the bridge br1";

pub const DOWN_HELP: &str = "\
Examples:
  netns-bridge down                 the bridge nsbr0 and its NAT table, if nothing is attached
  netns-bridge down --force -b br1  detach everything first";

pub const PUBLISH_HELP: &str = "\
Examples:
  netns-bridge publish web 8080:80                         host port 8080 to port 80 of web
  netns-bridge publish web 5353:53/udp --host-ip 192.0.2.10    UDP, to one address of the host";

pub const UNPUBLISH_HELP: &str = "\
Examples:
  netns-bridge unpublish web 8080         stop forwarding host port 8080 (tcp)
  netns-bridge unpublish web 5353/udp     the same for a UDP port";

pub fn ls_help() -> String {
    format!(
        "Examples:\n  netns-bridge ls --json                   every attachment as JSON\n  netns-bridge ls -r -n -o address,alive   for scripts: one space between columns\n\nColumns:\n{}",
        column_help::<LsColumn>()
    )
}
