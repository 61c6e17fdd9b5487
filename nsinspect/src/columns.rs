//! The output columns of `--all` and of the one-target view: names, help, alignment
//! (the `-o` parser and the `--help` list are nscli's).

use nscli::columns::Column;

/// Columns of `--all`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListColumn {
    Ns,
    Type,
    Path,
    Nprocs,
    Pid,
    Ppid,
    Command,
    Uid,
    User,
    Nsfs,
    Fds,
    Pns,
    Ons,
}

impl Column for ListColumn {
    const ALL: &'static [Self] = &[
        ListColumn::Ns,
        ListColumn::Type,
        ListColumn::Path,
        ListColumn::Nprocs,
        ListColumn::Pid,
        ListColumn::Ppid,
        ListColumn::Command,
        ListColumn::Uid,
        ListColumn::User,
        ListColumn::Nsfs,
        ListColumn::Fds,
        ListColumn::Pns,
        ListColumn::Ons,
    ];

    fn name(self) -> &'static str {
        match self {
            ListColumn::Ns => "NS",
            ListColumn::Type => "TYPE",
            ListColumn::Path => "PATH",
            ListColumn::Nprocs => "NPROCS",
            ListColumn::Pid => "PID",
            ListColumn::Ppid => "PPID",
            ListColumn::Command => "COMMAND",
            ListColumn::Uid => "UID",
            ListColumn::User => "USER",
            ListColumn::Nsfs => "NSFS",
            ListColumn::Fds => "FDS",
            ListColumn::Pns => "PNS",
            ListColumn::Ons => "ONS",
        }
    }

    fn help(self) -> &'static str {
        match self {
            ListColumn::Ns => "namespace identifier (inode number)",
            ListColumn::Type => "kind of namespace",
            ListColumn::Path => "a path that opens the namespace",
            ListColumn::Nprocs => "number of processes in the namespace",
            ListColumn::Pid => "lowest PID in the namespace",
            ListColumn::Ppid => "PPID of PID",
            ListColumn::Command => "command line of PID",
            ListColumn::Uid => "UID of PID",
            ListColumn::User => "user name of PID",
            ListColumn::Nsfs => "paths where the namespace is bind-mounted",
            ListColumn::Fds => "PID:FD of descriptors that hold it (with --fds)",
            ListColumn::Pns => "parent namespace (pid and user)",
            ListColumn::Ons => "owner user namespace",
        }
    }

    fn right(self) -> bool {
        matches!(
            self,
            ListColumn::Ns
                | ListColumn::Nprocs
                | ListColumn::Pid
                | ListColumn::Ppid
                | ListColumn::Uid
                | ListColumn::Pns
                | ListColumn::Ons
        )
    }
}

impl ListColumn {
    pub const DEFAULT: &'static [ListColumn] = &[
        ListColumn::Ns,
        ListColumn::Type,
        ListColumn::Nprocs,
        ListColumn::Pid,
        ListColumn::Ppid,
        ListColumn::User,
        ListColumn::Nsfs,
        ListColumn::Command,
    ];
}

/// Columns of the one-target view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShowColumn {
    Type,
    Ns,
    Pns,
    Ons,
    Nspid,
    Children,
    Depth,
    Uid,
    Uidmap,
    Gidmap,
    Details,
}

impl Column for ShowColumn {
    const ALL: &'static [Self] = &[
        ShowColumn::Type,
        ShowColumn::Ns,
        ShowColumn::Pns,
        ShowColumn::Ons,
        ShowColumn::Nspid,
        ShowColumn::Children,
        ShowColumn::Depth,
        ShowColumn::Uid,
        ShowColumn::Uidmap,
        ShowColumn::Gidmap,
        ShowColumn::Details,
    ];

    fn name(self) -> &'static str {
        match self {
            ShowColumn::Type => "TYPE",
            ShowColumn::Ns => "NS",
            ShowColumn::Pns => "PNS",
            ShowColumn::Ons => "ONS",
            ShowColumn::Nspid => "NSPID",
            ShowColumn::Children => "CHILDNS",
            ShowColumn::Depth => "DEPTH",
            ShowColumn::Uid => "UID",
            ShowColumn::Uidmap => "UIDMAP",
            ShowColumn::Gidmap => "GIDMAP",
            ShowColumn::Details => "DETAILS",
        }
    }

    fn help(self) -> &'static str {
        match self {
            ShowColumn::Type => "kind of namespace",
            ShowColumn::Ns => "namespace identifier (inode number)",
            ShowColumn::Pns => "parent namespace (pid and user)",
            ShowColumn::Ons => "owner user namespace",
            ShowColumn::Nspid => {
                "pid: the target's PID in each nested PID namespace, outermost first"
            }
            ShowColumn::Children => "pid, time: the namespace children go to, if not this one",
            ShowColumn::Depth => "pid, user: nesting depth (0 for the initial namespace)",
            ShowColumn::Uid => "user: the uid that created it",
            ShowColumn::Uidmap => "user: uid map, INSIDE:OUTSIDE:COUNT,...",
            ShowColumn::Gidmap => "user: gid map, INSIDE:OUTSIDE:COUNT,...",
            ShowColumn::Details => "the above that apply, in one column (table only)",
        }
    }

    fn right(self) -> bool {
        matches!(
            self,
            ShowColumn::Ns
                | ShowColumn::Pns
                | ShowColumn::Ons
                | ShowColumn::Depth
                | ShowColumn::Uid
        )
    }
}

#[cfg(test)]
mod show_column_tests {
    use super::*;

    #[test]
    fn derived_column_lists() {
        assert!(!ShowColumn::DEFAULT_JSON.contains(&ShowColumn::Details));
        assert_eq!(ShowColumn::DEFAULT_JSON.len() + 1, ShowColumn::ALL.len());
        assert_eq!(ShowColumn::DETAIL_PARTS.first(), Some(&ShowColumn::Nspid));
        assert_eq!(ShowColumn::DETAIL_PARTS.last(), Some(&ShowColumn::Gidmap));
    }
}

impl ShowColumn {
    /// In a table: the details folded into one column.
    pub const DEFAULT: &'static [ShowColumn] = &[
        ShowColumn::Type,
        ShowColumn::Ns,
        ShowColumn::Pns,
        ShowColumn::Ons,
        ShowColumn::Details,
    ];
    /// In JSON: every fact in a field of its own (every column but DETAILS, the last).
    pub const DEFAULT_JSON: &'static [ShowColumn] = match <ShowColumn as Column>::ALL.split_last() {
        Some((_, facts)) => facts,
        None => &[],
    };
    /// What DETAILS folds into one column: the facts after TYPE, NS, PNS and ONS.
    pub const DETAIL_PARTS: &'static [ShowColumn] = Self::DEFAULT_JSON.split_at(4).1;
}

#[cfg(test)]
mod tests {
    use super::*;
    use nscli::columns::parse_list;

    #[test]
    fn lists() {
        assert_eq!(
            parse_list("ns,TYPE", ListColumn::DEFAULT).unwrap(),
            [ListColumn::Ns, ListColumn::Type]
        );
        let plus = parse_list("+PNS,ons", ListColumn::DEFAULT).unwrap();
        assert_eq!(plus.len(), ListColumn::DEFAULT.len() + 2);
        assert_eq!(plus.last(), Some(&ListColumn::Ons));
        assert_eq!(
            parse_list("NS,NS", ListColumn::DEFAULT).unwrap(),
            [ListColumn::Ns]
        );
    }

    #[test]
    fn unknown_names() {
        for bad in ["", "NS,", "BOGUS", "+", "NS;TYPE"] {
            assert!(parse_list(bad, ListColumn::DEFAULT).is_err(), "{bad}");
        }
        assert!(parse_list("NSPID", ListColumn::DEFAULT).is_err());
        assert!(parse_list("NSPID", ShowColumn::DEFAULT).is_ok());
    }

    #[test]
    fn keys_are_unique() {
        let mut keys: Vec<String> = ListColumn::ALL.iter().map(|c| c.key()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), ListColumn::ALL.len());
    }
}

#[cfg(test)]
mod properties;
