//! The output columns of cgctl's tables (`mode`, `ls`, `which`, `tree`): names, help
//! and alignment. The `-o` parser, the table and JSON are nscli's.

use nscli::columns::Column;

/// Columns of `mode`: a row per mount of each hierarchy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModeColumn {
    Hierarchy,
    Version,
    Mount,
    Root,
    Controllers,
}

impl Column for ModeColumn {
    const ALL: &'static [Self] = &[
        ModeColumn::Hierarchy,
        ModeColumn::Version,
        ModeColumn::Mount,
        ModeColumn::Root,
        ModeColumn::Controllers,
    ];

    fn name(self) -> &'static str {
        match self {
            ModeColumn::Hierarchy => "HIERARCHY",
            ModeColumn::Version => "VERSION",
            ModeColumn::Mount => "MOUNT",
            ModeColumn::Root => "ROOT",
            ModeColumn::Controllers => "CONTROLLERS",
        }
    }

    fn help(self) -> &'static str {
        match self {
            ModeColumn::Hierarchy => {
                "the hierarchy's label (its controllers, name=NAME, or unified)"
            }
            ModeColumn::Version => "v1 or v2",
            ModeColumn::Mount => "where it is mounted",
            ModeColumn::Root => "the cgroup mounted there (/ for the hierarchy's root)",
            ModeColumn::Controllers => "its controllers",
        }
    }

    fn right(self) -> bool {
        false
    }
}

/// The default columns of `mode`.
pub const MODE_DEFAULT: &[ModeColumn] = &[
    ModeColumn::Hierarchy,
    ModeColumn::Mount,
    ModeColumn::Controllers,
];

/// Columns of `ls` and `which`: a row per cgroup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CgroupColumn {
    Hierarchy,
    Path,
    Dir,
}

impl Column for CgroupColumn {
    const ALL: &'static [Self] = &[
        CgroupColumn::Hierarchy,
        CgroupColumn::Path,
        CgroupColumn::Dir,
    ];

    fn name(self) -> &'static str {
        match self {
            CgroupColumn::Hierarchy => "HIERARCHY",
            CgroupColumn::Path => "PATH",
            CgroupColumn::Dir => "DIR",
        }
    }

    fn help(self) -> &'static str {
        match self {
            CgroupColumn::Hierarchy => "the hierarchy's label",
            CgroupColumn::Path => "the cgroup path in the hierarchy",
            CgroupColumn::Dir => "its directory (- when not mounted here)",
        }
    }

    fn right(self) -> bool {
        false
    }
}

/// The default columns of `ls`.
pub const LS_DEFAULT: &[CgroupColumn] = &[CgroupColumn::Hierarchy, CgroupColumn::Path];
/// The default columns of `which`.
pub const WHICH_DEFAULT: &[CgroupColumn] = CgroupColumn::ALL;

/// Columns of `tree`: a row per cgroup and per process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TreeColumn {
    Name,
    Pid,
    Hierarchy,
    Path,
    Dir,
    Unit,
}

impl Column for TreeColumn {
    const ALL: &'static [Self] = &[
        TreeColumn::Name,
        TreeColumn::Pid,
        TreeColumn::Hierarchy,
        TreeColumn::Path,
        TreeColumn::Dir,
        TreeColumn::Unit,
    ];

    fn name(self) -> &'static str {
        match self {
            TreeColumn::Name => "NAME",
            TreeColumn::Pid => "PID",
            TreeColumn::Hierarchy => "HIERARCHY",
            TreeColumn::Path => "PATH",
            TreeColumn::Dir => "DIR",
            TreeColumn::Unit => "UNIT",
        }
    }

    fn help(self) -> &'static str {
        match self {
            TreeColumn::Name => "the cgroup's name, or the process's PID and command",
            TreeColumn::Pid => "the process's PID (- for a cgroup)",
            TreeColumn::Hierarchy => "the cgroup's hierarchy (- for a process)",
            TreeColumn::Path => "the cgroup path (- for a process)",
            TreeColumn::Dir => "the cgroup's directory (- for a process)",
            TreeColumn::Unit => {
                "the systemd unit the cgroup belongs to, from its path (- for none, or a process)"
            }
        }
    }

    fn right(self) -> bool {
        self == TreeColumn::Pid
    }
}

/// The default columns of `tree`: drawn like systemd-cgls.
pub const TREE_DEFAULT: &[TreeColumn] = &[TreeColumn::Name];
