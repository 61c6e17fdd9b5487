//! /proc/PID/cgroup, parsed: which cgroup a process is in, in each hierarchy.

/// One line of /proc/PID/cgroup: `ID:CONTROLLERS:PATH`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    /// Hierarchy ID; 0 for cgroup2.
    pub id: u32,
    /// v1 controllers and `name=NAME`; empty for cgroup2.
    pub controllers: Vec<String>,
    /// The cgroup path, relative to the hierarchy root (or the cgroup namespace root).
    pub path: String,
}

impl Membership {
    pub fn is_v2(&self) -> bool {
        self.id == 0 && self.controllers.is_empty()
    }
}

/// Parses the text of /proc/PID/cgroup; the error says which line is wrong and how.
pub fn parse(text: &str) -> Result<Vec<Membership>, String> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        let mut parts = line.splitn(3, ':');
        let (id, controllers, path) = match (parts.next(), parts.next(), parts.next()) {
            (Some(i), Some(c), Some(p)) => (i, c, p),
            _ => return Err(format!("line '{line}' is not ID:CONTROLLERS:PATH")),
        };
        let id = id
            .parse()
            .map_err(|_| format!("line '{line}' has no numeric hierarchy ID"))?;
        // A cgroup removed while the process was in it reads "/path (deleted)" on v2.
        let path = path.strip_suffix(" (deleted)").unwrap_or(path);
        if !path.starts_with('/') {
            return Err(format!("line '{line}' has a relative path"));
        }
        out.push(Membership {
            id,
            controllers: controllers
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect(),
            path: path.to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hybrid() {
        let m =
            parse("9:name=systemd:/\n4:memory:/process_api/abc\n2:cpu,cpuacct:/a\n0::/\n").unwrap();
        assert_eq!(m.len(), 4);
        assert_eq!(m[0].controllers, ["name=systemd"]);
        assert_eq!(m[1].path, "/process_api/abc");
        assert_eq!(m[2].controllers, ["cpu", "cpuacct"]);
        assert!(m[3].is_v2());
        assert!(!m[1].is_v2());
    }

    #[test]
    fn parses_v2_and_deleted() {
        let m = parse("0::/user.slice/x (deleted)\n").unwrap();
        assert_eq!(m[0].path, "/user.slice/x");
        assert!(m[0].is_v2());
    }

    #[test]
    fn paths_may_hold_colons() {
        let m = parse("0::/a:b\n").unwrap();
        assert_eq!(m[0].path, "/a:b");
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse("x:y\n").is_err());
        assert!(parse("a:cpu:/\n").is_err());
        assert!(parse("1:cpu:relative\n").is_err());
    }
}
