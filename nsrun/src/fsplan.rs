//! The container's filesystem as asked for on the command line: `--bind`, `--ro-bind`,
//! `--tmpfs` (with `--size`), `--dev`, `--proc`, `--mkdir` and `--symlink`, kept in the
//! order they were given, as bubblewrap applies them. Pure: nothing is done here.

use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};

/// One filesystem operation; every DST is a path inside the new root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FsOp {
    /// Bind SRC (a path outside, with everything mounted below it) on DST.
    Bind {
        src: PathBuf,
        dst: PathBuf,
        read_only: bool,
    },
    /// A new tmpfs on DST, of at most `size` bytes.
    Tmpfs { dst: PathBuf, size: Option<u64> },
    /// A minimal /dev on DST.
    Dev(PathBuf),
    /// A new proc on DST.
    Proc(PathBuf),
    /// A directory DST (with its parents).
    Mkdir(PathBuf),
    /// A symbolic link DST pointing to TARGET.
    Symlink { target: PathBuf, dst: PathBuf },
}

/// The ordered operations; clap fills it through [`FromArgMatches`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FsArgs {
    pub ops: Vec<FsOp>,
}

const HEADING: &str = crate::cli::FS_HEADING;

/// (id, value names, help) of each ordered option.
const OPTIONS: [(&str, &[&str], &str); 8] = [
    ("bind", &["SRC", "DST"], "Bind-mount SRC (with its submounts) on DST (implies --mount)"),
    ("ro-bind", &["SRC", "DST"], "Bind-mount SRC on DST read-only, submounts too (implies --mount)"),
    ("tmpfs", &["DST"], "Mount a new tmpfs on DST (implies --mount)"),
    ("size", &["SIZE"], "Size limit of the next --tmpfs: bytes, or with a k, m or g suffix"),
    ("dev", &["DST"], "Mount a minimal /dev on DST: null, zero, full, random, urandom, tty, its own pts and shm (implies --mount)"),
    ("proc", &["DST"], "Mount a new proc on DST, of the new PID namespace with --pid (implies --mount)"),
    ("mkdir", &["DST"], "Create the directory DST (implies --mount)"),
    ("symlink", &["TARGET", "DST"], "Create a symbolic link DST pointing to TARGET (implies --mount)"),
];

impl Args for FsArgs {
    fn augment_args(cmd: Command) -> Command {
        OPTIONS.iter().fold(cmd, |cmd, (id, names, help)| {
            cmd.arg(
                Arg::new(*id)
                    .long(*id)
                    .num_args(names.len())
                    .value_names(names.iter().copied())
                    .value_parser(clap::value_parser!(std::ffi::OsString))
                    .action(ArgAction::Append)
                    .help(*help)
                    .help_heading(HEADING),
            )
        })
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for FsArgs {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        // (position on the command line, option, its values)
        let mut given: Vec<(usize, &str, Vec<PathBuf>)> = Vec::new();
        for (id, names, _) in OPTIONS {
            let (Some(values), Some(indices)) =
                (m.get_many::<std::ffi::OsString>(id), m.indices_of(id))
            else {
                continue;
            };
            let values: Vec<PathBuf> = values.map(PathBuf::from).collect();
            let indices: Vec<usize> = indices.collect();
            for (vals, idx) in values.chunks(names.len()).zip(indices.chunks(names.len())) {
                given.push((idx[0], id, vals.to_vec()));
            }
        }
        given.sort_by_key(|(index, _, _)| *index);
        let mut ops = Vec::new();
        let mut size = None;
        for (_, id, mut vals) in given {
            let last = vals.pop().unwrap_or_default();
            let first = vals.pop().unwrap_or_default();
            ops.push(match id {
                "bind" | "ro-bind" => FsOp::Bind {
                    src: first,
                    dst: last,
                    read_only: id == "ro-bind",
                },
                "size" => {
                    let text = last.to_string_lossy();
                    size = Some(parse_size(&text).map_err(|e| {
                        clap::Error::raw(
                            ErrorKind::ValueValidation,
                            format!("invalid value '{text}' for '--size <SIZE>': {e}\n"),
                        )
                    })?);
                    continue;
                }
                "tmpfs" => FsOp::Tmpfs {
                    dst: last,
                    size: size.take(),
                },
                "dev" => FsOp::Dev(last),
                "proc" => FsOp::Proc(last),
                "mkdir" => FsOp::Mkdir(last),
                _ => FsOp::Symlink {
                    target: first,
                    dst: last,
                },
            });
        }
        if size.is_some() {
            return Err(clap::Error::raw(
                ErrorKind::ArgumentConflict,
                "--size applies to a --tmpfs given after it, and none is\n",
            ));
        }
        Ok(FsArgs { ops })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

/// Bytes, or a number with a k, m or g suffix (powers of 1024), as tmpfs takes them.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let lower = text.trim().to_ascii_lowercase();
    let (digits, shift) = match lower.as_bytes().last() {
        Some(b'k') => (&lower[..lower.len() - 1], 10),
        Some(b'm') => (&lower[..lower.len() - 1], 20),
        Some(b'g') => (&lower[..lower.len() - 1], 30),
        _ => (&lower[..], 0),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| "a size is a number of bytes, with an optional k, m or g".to_string())?;
    n.checked_mul(1 << shift)
        .filter(|bytes| *bytes > 0)
        .ok_or_else(|| "a size must be above 0 and below 16 EiB".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser, Debug)]
    struct Probe {
        #[command(flatten)]
        fs: FsArgs,
    }

    fn parse(args: &[&str]) -> Result<Vec<FsOp>, clap::Error> {
        use clap::Parser;
        Probe::try_parse_from(std::iter::once("nsrun").chain(args.iter().copied()))
            .map(|p| p.fs.ops)
    }

    #[test]
    fn keeps_the_order_of_the_command_line() {
        let ops = parse(&[
            "--tmpfs",
            "/tmp",
            "--ro-bind",
            "/usr",
            "/usr",
            "--mkdir",
            "/a/b",
            "--size",
            "1m",
            "--tmpfs",
            "/run",
            "--bind",
            "/x",
            "/y",
            "--symlink",
            "usr/bin",
            "/bin",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
        ])
        .expect("parses");
        assert_eq!(
            ops,
            [
                FsOp::Tmpfs {
                    dst: "/tmp".into(),
                    size: None
                },
                FsOp::Bind {
                    src: "/usr".into(),
                    dst: "/usr".into(),
                    read_only: true
                },
                FsOp::Mkdir("/a/b".into()),
                FsOp::Tmpfs {
                    dst: "/run".into(),
                    size: Some(1 << 20)
                },
                FsOp::Bind {
                    src: "/x".into(),
                    dst: "/y".into(),
                    read_only: false
                },
                FsOp::Symlink {
                    target: "usr/bin".into(),
                    dst: "/bin".into()
                },
                FsOp::Dev("/dev".into()),
                FsOp::Proc("/proc".into()),
            ]
        );
    }

    #[test]
    fn size_needs_a_tmpfs_after_it() {
        assert!(parse(&["--tmpfs", "/a", "--size", "4k"]).is_err());
        assert!(parse(&["--size", "nope", "--tmpfs", "/a"]).is_err());
        assert!(parse(&["--bind", "/only-one"]).is_err());
    }

    #[test]
    fn sizes_take_suffixes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("4k"), Ok(4096));
        assert_eq!(parse_size("2M"), Ok(2 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("0").is_err());
        assert!(parse_size("-1").is_err());
        assert!(parse_size("99999999999g").is_err());
    }
}
