//! `cargo xtask dist`: a tarball and a Debian package of the static binaries, their man
//! pages and completions, the README and the licences.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::build::{build, target_dir, Build};
use crate::stage::{stage, DEBIAN, TARBALL};
use crate::{io_err, Error};

/// The version of the four tools (they share the workspace's).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What [`dist`] made.
#[derive(Debug)]
pub struct Dist {
    /// `nstools-VERSION-x86_64-linux.tar.gz`: one directory laid out as a prefix.
    pub tarball: PathBuf,
    /// `nstools_VERSION_amd64.deb`.
    pub deb: PathBuf,
}

/// The directory the packages are written to: `TARGET/dist`.
pub fn dist_dir() -> PathBuf {
    target_dir().join("dist")
}

/// Builds the static binaries and packages them in [`dist_dir`].
pub fn dist() -> Result<Dist, Error> {
    let bins = build(Build::Static)?;
    let out = dist_dir();
    fs::create_dir_all(&out).map_err(io_err("create", &out))?;
    Ok(Dist {
        tarball: tarball(&bins, &out)?,
        deb: deb(&bins, &out)?,
    })
}

fn tarball(bins: &Path, out: &Path) -> Result<PathBuf, Error> {
    let name = format!("nstools-{VERSION}-x86_64-linux");
    let dir = out.join(&name);
    fresh_dir(&dir)?;
    stage(&TARBALL, bins, &dir)?;
    let tarball = out.join(format!("{name}.tar.gz"));
    let mut tar = Command::new("tar");
    tar.args([
        "--sort=name",
        "--owner=0",
        "--group=0",
        "--numeric-owner",
        "-czf",
    ])
    .arg(&tarball)
    .arg("-C")
    .arg(out)
    .arg(&name);
    run(&mut tar)?;
    let _ = fs::remove_dir_all(&dir);
    Ok(tarball)
}

fn deb(bins: &Path, out: &Path) -> Result<PathBuf, Error> {
    let root = out.join("deb-root");
    fresh_dir(&root)?;
    let files = stage(&DEBIAN, bins, &root)?;
    let doc = root.join(DEBIAN.doc.unwrap_or("usr/share/doc/nstools"));
    let copyright = doc.join("copyright");
    fs::write(&copyright, COPYRIGHT).map_err(io_err("write", &copyright))?;
    let bytes: u64 = files
        .iter()
        .chain([&copyright])
        .filter_map(|f| fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let debian = root.join("DEBIAN");
    fs::create_dir_all(&debian).map_err(io_err("create", &debian))?;
    let control = debian.join("control");
    fs::write(&control, control_file(VERSION, bytes.div_ceil(1024)))
        .map_err(io_err("write", &control))?;
    // dpkg-deb wants every directory 0755 and files not group-writable, whatever the umask.
    normalize_modes(&root)?;
    let deb = out.join(format!("nstools_{VERSION}_amd64.deb"));
    let mut dpkg = Command::new("dpkg-deb");
    dpkg.args(["--root-owner-group", "-Zxz", "--build"])
        .arg(&root)
        .arg(&deb)
        // Its "building package" note would mix with the paths printed on stdout.
        .stdout(std::io::stderr());
    run(&mut dpkg)?;
    let _ = fs::remove_dir_all(&root);
    Ok(deb)
}

/// The package's `DEBIAN/control`. The binaries are static: no `Depends`.
pub fn control_file(version: &str, installed_kib: u64) -> String {
    format!(
        "Package: nstools\n\
         Version: {version}\n\
         Architecture: amd64\n\
         Maintainer: nstools developers <nstools@example.invalid>\n\
         Installed-Size: {installed_kib}\n\
         Section: admin\n\
         Priority: optional\n\
         Homepage: https://example.invalid/nstools\n\
         Description: Linux namespaces, cgroups and bridges from the shell\n \
         nsrun runs a command in new namespaces; nsinspect lists and compares\n \
         namespaces; cgctl creates cgroups, sets limits and moves processes (v1\n \
         and v2); netns-bridge connects network namespaces to a bridge, also as a\n \
         CNI plugin. Static binaries, with man pages and bash, zsh and fish\n \
         completions.\n"
    )
}

const COPYRIGHT: &str = "\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: nstools
Source: https://example.invalid/nstools

Files: *
Copyright: the nstools contributors
License: MIT or Apache-2.0
 The full texts are in LICENSE-MIT and LICENSE-APACHE in this directory; the
 Apache License 2.0 is also in /usr/share/common-licenses/Apache-2.0.
";

/// Removes `dir` if it is there (a previous run's), then creates it empty.
fn fresh_dir(dir: &Path) -> Result<(), Error> {
    match fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err("remove", dir)(e)),
    }
    fs::create_dir_all(dir).map_err(io_err("create", dir))
}

/// Directories and executables 0755, other files 0644, below and including `dir`.
fn normalize_modes(dir: &Path) -> Result<(), Error> {
    let set = |path: &Path, mode: u32| {
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .map_err(io_err("change the mode of", path))
    };
    set(dir, 0o755)?;
    for entry in fs::read_dir(dir).map_err(io_err("read", dir))? {
        let path = entry.map_err(io_err("read", dir))?.path();
        let meta = fs::symlink_metadata(&path).map_err(io_err("stat", &path))?;
        if meta.is_dir() {
            normalize_modes(&path)?;
        } else if meta.is_file() {
            let exec = meta.permissions().mode() & 0o111 != 0;
            set(&path, if exec { 0o755 } else { 0o644 })?;
        }
    }
    Ok(())
}

fn run(cmd: &mut Command) -> Result<(), Error> {
    let status = cmd
        .status()
        .map_err(|e| Error::Build(format!("cannot run {cmd:?}: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::Build(format!("{cmd:?} failed ({status})")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_file_is_what_dpkg_wants() {
        let control = control_file("1.2.3", 4096);
        let fields: Vec<&str> = control
            .lines()
            .filter(|l| !l.starts_with(' '))
            .filter_map(|l| l.split_once(": ").map(|(k, _)| k))
            .collect();
        assert_eq!(
            fields,
            [
                "Package",
                "Version",
                "Architecture",
                "Maintainer",
                "Installed-Size",
                "Section",
                "Priority",
                "Homepage",
                "Description"
            ]
        );
        assert!(control.contains("Version: 1.2.3\n"));
        assert!(control.contains("Installed-Size: 4096\n"));
        assert!(control.ends_with(".\n"));
        assert!(
            !control.contains("Depends"),
            "static binaries depend on nothing"
        );
        // Continuation lines of the description start with one space.
        let description = control.split("Description: ").nth(1).unwrap_or_default();
        assert!(description.lines().skip(1).all(|l| l.starts_with(' ')));
    }
}
