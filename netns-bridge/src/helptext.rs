//! The `--help` epilogues of each command: notes and examples (the man pages take
//! their EXAMPLES from these blocks too).

use nscli::columns::help as column_help;

use crate::columns::LsColumn;

pub const ATTACH_HELP: &str = "\
TARGET is a PID (its /proc/PID/ns/net), a named namespace (NAME or /run/netns/NAME), or
a network namespace file. Prints the address (CIDR), and the IPv6 one on a second line
on a dual-stack bridge. --subnet and --subnet6 count when the bridge is made; a
different one later is an error.

Examples:
  netns-bridge attach red --subnet 10.88.0.0/24     the first one makes the bridge
  netns-bridge attach blue                          the next address of the subnet
  netns-bridge attach \"$PID\" --nat                 a process's namespace, with NAT
  netns-bridge attach green --ip 10.88.0.9          a static address";

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
