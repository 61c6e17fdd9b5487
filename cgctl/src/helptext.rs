//! The `--help` epilogues of cgctl and of each command: the value syntax, notes and
//! examples (the man pages take their EXAMPLES from these blocks too).

use nscli::columns::help as column_help;

use crate::columns::{CgroupColumn, ModeColumn, TreeColumn};

pub const AFTER_HELP: &str = "\
CGROUP is a path relative to the hierarchy root (box/web, as with cgcreate), resolved in
every hierarchy that applies, or an absolute path inside a mounted cgroup filesystem
(/sys/fs/cgroup/memory/box). With --root, relative names resolve below that cgroup;
--root self means the cgroup cgctl itself is in, in each hierarchy (where systemd manages
the tree: the delegated scope cgctl runs in; outside one, commands that write are refused
with the way to get one); with --root, absolute paths must lead below it too. Names with '..', that lead outside a cgroup filesystem, or
that the cgroup filesystem keeps for its files (cgroup.*, tasks, memory.max...) are
refused before anything is written.
A TARGET of digits only is a PID; each is held by a pidfd from lookup to last write, and
one that exits meanwhile is refused, never written. With --json (before or after the
command) every command prints one JSON document; no limit is null. create prints
{\"created\": [DIR]}, add {\"cgroups\": [DIR], \"pids\": [PID], \"threads\": BOOL}, rm
{\"removed\": [DIR]}, mount {\"dir\": DIR, \"version\": \"v1\"|\"v2\"}.

Values: sizes are bytes or K/M/G/T/P/E with optional B or iB, any case, base 1024
(100M = 104857600), or N% of physical memory; 'max', 'infinity' or -1 remove a limit.
Memory limits below one page are refused (the kernel would make them 0).
cpu is a decimal number of CPUs (0.5 = 50000 µs every 100000 µs). cpu-weight and
io-weight are 1-10000 (v2 scale, default 100). On v1, as systemd maps CPUWeight=,
cpu.shares = weight*1024/100 clamped to 2-262144 (100 -> 1024, the default on both;
show gives the weight and the raw cpu.shares) and blkio.weight = 10 + (weight-1)*990/9999.
RESOURCE also takes libcgroup's names: memory (mem), io and blkio (io-weight); so do
CONTROLLERS (mem for memory, io and blkio for each other).

Which hierarchies (v1, hybrid): limit and exec -l create cgroups and move processes
only in the hierarchy of each resource named (and those of exec -c); create and add
without -c use every hierarchy with controllers (plus cgroup2 on a hybrid host).

Exit status:
  0        success (also when stdout's reader went away)
  1        the operation failed (the message says what, on what, and why), or the
           result could not be written to stdout
  2        usage error: bad arguments, value or name, or PID 1, a kernel thread or an
           ancestor of cgctl without --force; nothing was written
  exec:    COMMAND's status; 125 if cgctl failed, 126 COMMAND cannot be executed,
           127 COMMAND not found";

pub const EVENTS_HELP: &str = "\
Without --follow: each cgroup's counters so far (oom, oom_kill, max, high, populated,
frozen; - where the host has none). With --follow: one line per event as the kernel
reports it, flushed at once (TIME CGROUP KIND COUNT; --json: one object a line,
{\"time\": seconds since the epoch, \"cgroup\", \"event\", \"count\"}), until every
cgroup is removed. Kinds: oom (limit reached, reclaim failed), oom_kill (COUNT
processes killed), max / high (limit hits), populated / empty, frozen / thawed, removed.
v2: inotify on memory.events and cgroup.events. v1: an eventfd through
cgroup.event_control for memory.oom_control and for memory use crossing the limit
(memory.failcnt then gives the hits); v1 has no populated or freezer notification.

Examples:
  cgctl --root self events --follow build
  cgctl events --follow --json box | while read -r ev; do ...; done";

pub const TOP_HELP: &str = "\
A row per cgroup, its figures merged from every hierarchy it is in: processes, CPU %
(of one CPU, from the usage over the interval), memory current / limit / peak, swap,
pids current/max, IO read and write per second (v2 io.stat, v1 blkio.throttle), and
PSI some avg10 of memory (MPSI) and CPU (CPSI) where cgroup2 has it; - where the host
has none. On a terminal it redraws in place until Ctrl-C (the screen is restored);
otherwise, or with -n, it prints a table per iteration, a blank line between (as
systemd-cgtop -b). --json: one JSON document per iteration, one a line:
{\"time\", \"cgroups\": [{\"path\", \"processes\", \"cpu_percent\", \"memory_current\",
\"memory_limit\", \"memory_peak\", \"swap_current\", \"pids_current\", \"pids_max\",
\"io_read_bps\", \"io_write_bps\", \"memory_pressure\", \"cpu_pressure\"}]}.

Examples:
  cgctl top                                   the whole host, every second
  cgctl --root self top -d 2 --sort mem --depth 1
  cgctl top box -n 5 --json | jq .cgroups[0].cpu_percent";

pub const WAIT_HELP: &str = "\
Exit status 0 once it happened (also at once if it already is so: empty, frozen), 1
after --timeout. Notifications, not polling: v2 inotify on cgroup.events and
memory.events; v1 an eventfd on memory.oom_control (--oom) and each process's pidfd
(--empty); only v1's freezer.state, which has no notification, is read every 100 ms.

Examples:
  cgctl wait --empty build --timeout 60
  cgctl wait --oom box && echo 'box ran out of memory'";

pub const CREATE_HELP: &str = "\
Examples:
  cgctl create box/web box/db -c memory,pids     two cgroups, memory and pids hierarchies
  cgctl --root self create build                 below cgctl's own cgroup";

pub const ADD_HELP: &str = "\
All or nothing: every PID is looked up first, and if one cannot be moved those moved
before it go back. PID 1, kernel threads and cgctl's own ancestors need --force.

Examples:
  cgctl add box/web 4242 4243           two processes, every hierarchy box/web is in
  pgrep nginx | cgctl add box/web -     PIDs from stdin, one a line";

pub const LIMIT_HELP: &str = "\
Values: sizes (mem, mem-high, swap) are bytes or K/M/G/T/P/E with optional B or iB, any
case, base 1024 (100M, 1.5G, 512KiB), or N% of physical memory; cpu is a decimal number
of CPUs (0.5 = 50000 us every 100000 us); cpu-weight and io-weight are 1-10000; cpuset
and mems are lists (0-1,3; max copies the parent's); pids is a count. 'max', 'infinity'
or -1 remove a limit. The value is read back and printed on stderr.

Examples:
  cgctl limit mem 100M $PID                  into cgctl/PID, at most 100 MiB there
  cgctl limit cpu 0.5 --period 20000 box     half a CPU, in 20 ms periods
  cgctl limit pids max box/web               remove the pids limit";

pub const EXEC_HELP: &str = "\
Examples:
  cgctl --root self exec -l mem=512M -l cpu=0.5 build -- make -j2    a build below your cgroup
  cgctl exec -c pids box -- sh -c 'echo $$'     in box of the pids hierarchy only";

pub const SHOW_HELP: &str = "\
Examples:
  cgctl --root self show build     memory peak, OOM kills, CPU used, pids
  cgctl show --json $$             the cgroups this shell is in, as JSON";

pub const RM_HELP: &str = "\
Examples:
  cgctl rm box/web box/db          two empty cgroups
  cgctl rm -r --kill box           box and what is below it, killing its processes";

pub const FREEZE_HELP: &str = "\
Examples:
  cgctl freeze box/web; cgctl thaw box/web   stop every process of box/web, let them go on";

pub const MOUNT_HELP: &str = "\
Examples:
  cgctl mount --name test /mnt/cg       a named v1 hierarchy without controllers
  cgctl mount --v2 /mnt/cg2             cgroup2";

pub const UMOUNT_HELP: &str = "\
Examples:
  cgctl umount /mnt/cg     unmount what cgctl mount put there";

pub fn mode_help() -> String {
    format!(
        "Examples:\n  cgctl mode                   v1, hybrid or v2, then each hierarchy\n  cgctl mode -o +VERSION,ROOT  more columns\n\nColumns:\n{}",
        column_help::<ModeColumn>()
    )
}

pub fn ls_help() -> String {
    format!(
        "Examples:\n  cgctl ls box              the cgroups below box\n  cgctl ls -c memory -o +DIR   those of the memory hierarchy, with their directories\n\nColumns:\n{}",
        column_help::<CgroupColumn>()
    )
}

pub fn tree_help() -> String {
    format!(
        "Examples:\n  cgctl tree --depth 1 --no-procs     the top two levels, cgroups only\n  cgctl tree -c memory --full box     box's memory cgroups, whole command lines\n\nColumns:\n{}",
        column_help::<TreeColumn>()
    )
}

pub fn which_help() -> String {
    format!(
        "Examples:\n  cgctl which $$          this shell's cgroup in every hierarchy\n  cgctl which --json 1    the cgroups of PID 1, as JSON\n\nColumns:\n{}",
        column_help::<CgroupColumn>()
    )
}
