//! What each tool's man pages say beyond its clap definition: EXAMPLES, EXIT STATUS,
//! FILES and SEE ALSO, taken from the README's sections of the tool.

/// The hand-written sections of one tool's pages.
pub struct ToolDocs {
    /// (what it does, the command line); a subcommand's page shows the examples that
    /// use it.
    pub examples: &'static [(&'static str, &'static str)],
    /// (status, meaning)
    pub exit_status: &'static [(&'static str, &'static str)],
    /// (path, what it is)
    pub files: &'static [(&'static str, &'static str)],
    /// Other pages, as `name(section)`.
    pub see_also: &'static [&'static str],
}

const NSRUN: ToolDocs = ToolDocs {
    examples: &[
        (
            "A shell with its own hostname, PIDs and /proc: ps inside shows only its own processes.",
            "nsrun --pid --mount-proc --hostname box bash",
        ),
        (
            "Root inside a user namespace, your own uid outside: prints 0, then only a loopback link.",
            "nsrun --map-root-user --net sh -c 'id -u; ip -o link'",
        ),
        (
            "Keep a network namespace after its command exits, use it with ip(8), release it.",
            "touch /run/netns/lab && nsrun --net=/run/netns/lab true\nip netns exec lab ip -o link; ip netns delete lab",
        ),
        (
            "The pod pattern: a pause process holds the namespaces, an application joins them with a PID namespace of its own.",
            "nsrun --net --ipc --uts --pid-file /run/pod.pid -- sleep infinity &\nnsrun --join $(cat /run/pod.pid):net,ipc,uts --pid --mount-proc -- app",
        ),
        (
            "A sandbox in the style of bwrap: the host's /usr read-only, its own /dev, /proc and /tmp, no capabilities, no network, the default seccomp filter.",
            "nsrun --user --map-root-user --pid --net --root /tmp/sb \\\n    --ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib \\\n    --dev /dev --proc /proc --tmpfs /tmp --cap-drop all --no-new-privs \\\n    --seccomp default --new-session -- sh",
        ),
    ],
    exit_status: &[
        ("N", "COMMAND's own exit status."),
        ("128+N", "COMMAND died of signal N; or nsrun got signal N before COMMAND started and undid what it made."),
        ("125", "nsrun itself failed; nothing it made is left behind."),
        ("126", "COMMAND was found but cannot be executed."),
        ("127", "COMMAND was not found."),
        ("2", "Usage error."),
    ],
    files: &[
        ("/proc/PID/ns/TYPE", "The namespaces --join enters, and those it compares against nsrun's own."),
        ("/run/netns/NAME", "Named network namespaces (ip netns): a --join TARGET, or a --net=FILE to keep one."),
        ("/etc/subuid, /etc/subgid", "The ranges --map-users auto and --map-groups auto map (by newuidmap and newgidmap without root)."),
    ],
    see_also: &[
        "unshare(1)",
        "nsenter(1)",
        "bwrap(1)",
        "nsinspect(1)",
        "cgctl(1)",
        "netns-bridge(1)",
        "namespaces(7)",
        "user_namespaces(7)",
    ],
};

const NSINSPECT: ToolDocs = ToolDocs {
    examples: &[
        ("This shell's namespaces, a row per type.", "nsinspect $$"),
        (
            "Compare two processes; the exit status is that of cmp.",
            "nsinspect -t net,uts \"$A\" \"$B\" && echo same",
        ),
        (
            "Is PID in the blue network namespace?",
            "nsinspect /run/netns/blue \"$PID\"",
        ),
        (
            "Every user and PID namespace on the machine, as a tree.",
            "nsinspect --all --tree -t user,pid",
        ),
    ],
    exit_status: &[
        ("0", "Success; when comparing, every selected type is shared by all targets."),
        ("1", "When comparing, some type differs; with --strict, some process could not be read."),
        ("2", "Usage error, bad TARGET (no such process, not a namespace file, not a number), a compared process that has exited, or failure."),
    ],
    files: &[
        ("/proc/PID/ns/TYPE", "The namespaces of each process, read with readlinkat and NS_GET_* ioctls."),
        ("/proc/PID/fd", "Namespace files held open, found by --all."),
        ("/proc/self/mountinfo", "Namespace files kept by bind mounts (nsfs), found by --all."),
        ("/run/netns/NAME", "Named network namespaces, a TARGET by path."),
    ],
    see_also: &["lsns(8)", "nsrun(1)", "nsenter(1)", "namespaces(7)"],
};

const CGCTL: ToolDocs = ToolDocs {
    examples: &[
        (
            "Move a process into cgctl/PID and limit its memory there.",
            "cgctl limit mem 100M $PID",
        ),
        (
            "Half a CPU and 512 MiB for a build, in a cgroup below your own (like systemd-run --scope).",
            "cgctl --root self exec -l mem=512M -l cpu=0.5 build -- make -j2",
        ),
        (
            "Memory peak, OOM kills, CPU used and pids of that cgroup.",
            "cgctl --root self show build",
        ),
        ("Remove it and what is below it, killing its processes.", "cgctl --root self rm -r --kill build"),
        ("Make two cgroups with the memory and pids controllers.", "cgctl create box/web box/db -c memory,pids"),
        ("Move processes into a cgroup, all or nothing.", "cgctl add box/web 4242 4243"),
        ("Which cgroups a process is in, in every hierarchy.", "cgctl which $$"),
        ("The cgroups below box, and the tree with their processes.", "cgctl ls box; cgctl tree box"),
        ("Stop every process of a cgroup, and let them go on.", "cgctl freeze box/web; cgctl thaw box/web"),
        ("v1, hybrid or v2, and every hierarchy's mounts.", "cgctl mode"),
        (
            "Mount a named v1 hierarchy, and unmount it.",
            "cgctl mount --name test /mnt/cg; cgctl umount /mnt/cg",
        ),
    ],
    exit_status: &[
        ("0", "Success (also when stdout's reader went away)."),
        ("1", "The operation failed (the message says what, on what, and why), or the result could not be written to stdout."),
        ("2", "Usage error: bad arguments, value or name, or a protected target without --force; nothing was written."),
        ("exec", "COMMAND's status; 125 cgctl failed, 126 COMMAND cannot be executed, 127 not found."),
    ],
    files: &[
        ("/sys/fs/cgroup", "The cgroup hierarchies (v1 below it, v2 on it or on /sys/fs/cgroup/unified)."),
        ("/proc/self/mountinfo", "Where each hierarchy is mounted, and which version it is."),
        ("/proc/PID/cgroup", "A process's cgroup in every hierarchy."),
    ],
    see_also: &[
        "cgcreate(1)",
        "cgset(1)",
        "cgclassify(1)",
        "cgexec(1)",
        "systemd-run(1)",
        "cgroups(7)",
        "nsrun(1)",
    ],
};

const NETNS_BRIDGE: ToolDocs = ToolDocs {
    examples: &[
        (
            "Connect two named namespaces to one bridge; each gets an address.",
            "netns-bridge attach red --subnet 10.88.0.0/24\nnetns-bridge attach blue",
        ),
        ("A process's namespace, with NAT to the outside.", "netns-bridge attach \"$PID\" --nat"),
        (
            "Three namespaces in one call, all or nothing; one address a line, in that order.",
            "netns-bridge attach ns1 ns2 ns3",
        ),
        ("Every attachment: namespace, veth, address, alive.", "netns-bridge ls --json"),
        ("Disconnect two namespaces in one kernel operation.", "netns-bridge detach red blue"),
        ("Release what belongs to namespaces that are gone.", "netns-bridge gc"),
        ("Remove the bridge and its NAT table.", "netns-bridge down"),
    ],
    exit_status: &[
        ("0", "Success (for detach, gc, down also: nothing was there)."),
        ("1", "The operation failed; whatever it had made is undone."),
        ("2", "Usage error: bad option, name, CIDR, address, MTU, a TARGET that is no network namespace, or a state directory refused as unsafe; nothing was touched."),
        ("3", "No address: the subnet is full, or the static address is taken."),
        ("CNI", "In CNI mode the status is 0 or 1, with the error JSON on stdout."),
    ],
    files: &[
        ("/run/netns-bridge", "The state directory (--state-dir DIR or NETNS_BRIDGE_STATE_DIR move it), 0700, one directory per host network namespace: netns-DEV-INO, the identity of the namespace netns-bridge runs in."),
        ("/run/netns-bridge/netns-DEV-INO/BRIDGE/bridge.json", "The bridge's record: its subnet, whether netns-bridge made it, NAT."),
        ("/run/netns-bridge/netns-DEV-INO/BRIDGE/lease-DEV-INO", "One namespace's lease (pending-DEV-INO while its attach is under way); ip-ADDRESS and ip6-ADDRESS claim its addresses, cursor is where the search for a free one starts. A lease is written under a fresh name, its claims linked to it, then renamed into place; an attach of several namespaces writes one file, a line per lease, linked under each name."),
        ("/run/netns-bridge/netns-DEV-INO/BRIDGE/state.json", "The whole state as earlier versions kept it; read and turned into the files above when the lock is next taken."),
        ("/run/netns-bridge/netns-DEV-INO/BRIDGE/lock", "Taken with flock(2) around every change."),
        ("/run/netns/NAME", "Named network namespaces, a TARGET by name."),
        ("/proc/PID/ns/net", "A process's network namespace, a TARGET by PID."),
    ],
    see_also: &["ip-netns(8)", "ip-link(8)", "bridge(8)", "nft(8)", "nsrun(1)", "network_namespaces(7)"],
};

/// The hand-written sections of `tool`'s pages.
pub fn docs(tool: &str) -> Option<&'static ToolDocs> {
    match tool {
        "nsrun" => Some(&NSRUN),
        "nsinspect" => Some(&NSINSPECT),
        "cgctl" => Some(&CGCTL),
        "netns-bridge" => Some(&NETNS_BRIDGE),
        _ => None,
    }
}
