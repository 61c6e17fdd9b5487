//! Putting the built binaries, their man pages and completions (and, for packages, the
//! README and licences) where an installation or a package keeps them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap_complete::Shell;

use crate::{completion_file, generate, io_err, tools, workspace_root, Error, SHELLS};

/// Where each kind of file goes, relative to the staging root.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub bin: &'static str,
    pub man: &'static str,
    /// Each shell's completion directory.
    pub completions: [(Shell, &'static str); 3],
    /// README.md, LICENSE-MIT and LICENSE-APACHE go here ("" is the root); None: not at all.
    pub doc: Option<&'static str>,
    /// Man pages compressed with `gzip -9n`, as Debian keeps them.
    pub gzip_man: bool,
}

/// `cargo xtask install --prefix DIR`: below DIR.
pub const PREFIX: Layout = Layout {
    bin: "bin",
    man: "share/man/man1",
    completions: SHELLS,
    doc: None,
    gzip_man: false,
};

/// The release tarball: laid out as a prefix, README and licences at its top.
pub const TARBALL: Layout = Layout {
    doc: Some(""),
    ..PREFIX
};

/// The Debian package: the places Debian's own packages use.
pub const DEBIAN: Layout = Layout {
    bin: "usr/bin",
    man: "usr/share/man/man1",
    completions: [
        (Shell::Bash, "usr/share/bash-completion/completions"),
        (Shell::Zsh, "usr/share/zsh/vendor-completions"),
        (Shell::Fish, "usr/share/fish/vendor_completions.d"),
    ],
    doc: Some("usr/share/doc/nstools"),
    gzip_man: true,
};

/// The files besides the binaries and generated docs, from the workspace's root.
pub const DOC_FILES: [&str; 3] = ["README.md", "LICENSE-MIT", "LICENSE-APACHE"];

/// Copies the four binaries from `bins` and the generated man pages and completions
/// (and the doc files, if the layout has a place for them) below `root`, laid out as
/// `layout` says. Returns every file written.
pub fn stage(layout: &Layout, bins: &Path, root: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut written = Vec::new();
    let bin_dir = root.join(layout.bin);
    fs::create_dir_all(&bin_dir).map_err(io_err("create", &bin_dir))?;
    for (name, _) in tools() {
        let to = bin_dir.join(name);
        copy(&bins.join(name), &to)?;
        written.push(to);
    }
    let staging = root.join(".nstools-docs.tmp");
    let result = generate(&staging).and_then(|generated| {
        let man_dir = root.join(layout.man);
        fs::create_dir_all(&man_dir).map_err(io_err("create", &man_dir))?;
        for page in &generated.man_pages {
            let to = man_dir.join(page.file_name().unwrap_or_default());
            copy(page, &to)?;
            written.push(if layout.gzip_man { gzip(&to)? } else { to });
        }
        for (shell, dir) in layout.completions {
            let to_dir = root.join(dir);
            fs::create_dir_all(&to_dir).map_err(io_err("create", &to_dir))?;
            for (name, _) in tools() {
                let file = completion_file(shell, name);
                let from = staging
                    .join("completions")
                    .join(shell.to_string())
                    .join(&file);
                let to = to_dir.join(&file);
                copy(&from, &to)?;
                written.push(to);
            }
        }
        Ok(())
    });
    let _ = fs::remove_dir_all(&staging);
    result?;
    if let Some(doc) = layout.doc {
        let doc_dir = root.join(doc);
        fs::create_dir_all(&doc_dir).map_err(io_err("create", &doc_dir))?;
        for file in DOC_FILES {
            let to = doc_dir.join(file);
            copy(&workspace_root().join(file), &to)?;
            written.push(to);
        }
    }
    Ok(written)
}

/// Compresses `path` to `path.gz` with `gzip -9n` (no name or time inside: the same
/// page gives the same bytes) and returns the new path.
fn gzip(path: &Path) -> Result<PathBuf, Error> {
    let status = Command::new("gzip")
        .args(["-9nf", "--"])
        .arg(path)
        .status()
        .map_err(|e| Error::Build(format!("cannot run gzip: {e}")))?;
    if !status.success() {
        return Err(Error::Build(format!(
            "gzip {} failed ({status})",
            path.display()
        )));
    }
    let mut gz = path.as_os_str().to_owned();
    gz.push(".gz");
    Ok(PathBuf::from(gz))
}

/// Copies through a temporary file renamed into place, so a running binary being
/// replaced is never half-written (and `Text file busy` never happens).
fn copy(from: &Path, to: &Path) -> Result<(), Error> {
    let tmp = to.with_extension("xtask-tmp");
    fs::copy(from, &tmp).map_err(io_err("copy", from))?;
    fs::rename(&tmp, to).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io_err("install", to)(e)
    })
}
