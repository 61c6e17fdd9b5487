//! Pressure stall information (PSI): the `memory.pressure`, `cpu.pressure` and
//! `io.pressure` files of a cgroup2 cgroup, parsed, and why they are missing when they
//! are.

use std::path::Path;

use crate::cgfs::read_opt;

/// One line of a pressure file: the share of time (in %) some or all tasks stalled,
/// averaged over 10, 60 and 300 s, and the total stall time in µs.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Stall {
    pub avg10: f64,
    pub avg60: f64,
    pub avg300: f64,
    pub total: u64,
}

/// A pressure file: `some` (at least one task stalled) and `full` (all of them; the
/// kernel has no `full` line for cpu before 5.13, and at the root cgroup).
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Psi {
    pub some: Option<Stall>,
    pub full: Option<Stall>,
}

/// The three pressure files of a cgroup.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Pressure {
    pub memory: Option<Psi>,
    pub cpu: Option<Psi>,
    pub io: Option<Psi>,
}

/// Parses a pressure file: `some avg10=0.00 avg60=0.00 avg300=0.00 total=0` and the
/// same for `full`. Lines or fields it does not know are skipped.
pub fn parse(text: &str) -> Psi {
    let mut psi = Psi::default();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let kind = words.next();
        let mut stall = Stall::default();
        let mut seen = 0;
        for w in words {
            let Some((k, v)) = w.split_once('=') else {
                continue;
            };
            let ok = match k {
                "avg10" => v.parse().map(|x| stall.avg10 = x).is_ok(),
                "avg60" => v.parse().map(|x| stall.avg60 = x).is_ok(),
                "avg300" => v.parse().map(|x| stall.avg300 = x).is_ok(),
                "total" => v.parse().map(|x| stall.total = x).is_ok(),
                _ => false,
            };
            seen += usize::from(ok);
        }
        if seen == 0 {
            continue;
        }
        match kind {
            Some("some") => psi.some = Some(stall),
            Some("full") => psi.full = Some(stall),
            _ => {}
        }
    }
    psi
}

/// The pressure files of the cgroup2 cgroup `dir`; None if it has none of them.
pub fn read(dir: &Path) -> Option<Pressure> {
    let file = |f: &str| read_opt(&dir.join(f)).map(|t| parse(&t));
    let p = Pressure {
        memory: file("memory.pressure"),
        cpu: file("cpu.pressure"),
        io: file("io.pressure"),
    };
    (p != Pressure::default()).then_some(p)
}

/// Why a cgroup2 cgroup at `dir` has no pressure files: the kernel has no PSI at all
/// (`/proc/pressure` missing), or has it but not for cgroups.
pub fn why_missing(dir: &Path) -> String {
    if !Path::new("/proc/pressure").exists() {
        return "the kernel has no PSI (built without CONFIG_PSI, or booted with psi=0: add psi=1 to its command line)".to_string();
    }
    if read_opt(&dir.join("cgroup.pressure")).is_some_and(|t| t.trim() == "0") {
        return format!(
            "PSI is switched off for this cgroup ({} is 0)",
            dir.join("cgroup.pressure").display()
        );
    }
    format!("{} has no pressure files", dir.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_some_and_full() {
        let p = parse(
            "some avg10=1.50 avg60=0.25 avg300=0.00 total=2199814\n\
             full avg10=0.00 avg60=0.00 avg300=0.00 total=1074567\n",
        );
        assert_eq!(
            p.some,
            Some(Stall {
                avg10: 1.5,
                avg60: 0.25,
                avg300: 0.0,
                total: 2_199_814
            })
        );
        assert_eq!(p.full.map(|f| f.total), Some(1_074_567));
        // cpu.pressure before 5.13: no full line; junk is skipped
        let p = parse("some avg10=0.00 avg60=0.00 avg300=0.00 total=7\ngarbage\nfull x\n");
        assert_eq!(p.some.map(|s| s.total), Some(7));
        assert_eq!(p.full, None);
        assert_eq!(parse(""), Psi::default());
    }

    #[test]
    fn reads_a_directory() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(read(d.path()), None);
        std::fs::write(
            d.path().join("cpu.pressure"),
            "some avg10=3.00 avg60=0.00 avg300=0.00 total=9\n",
        )
        .unwrap();
        let p = read(d.path()).unwrap();
        assert_eq!(p.cpu.and_then(|c| c.some).map(|s| s.avg10), Some(3.0));
        assert_eq!(p.memory, None);
        std::fs::write(d.path().join("cgroup.pressure"), "0\n").unwrap();
        if Path::new("/proc/pressure").exists() {
            assert!(why_missing(d.path()).contains("switched off"));
        }
    }
}
