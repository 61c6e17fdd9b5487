//! xtask: the project's own build steps (release and static builds, install, dist). Man
//! pages and shell completions are generated from each tool's clap definition (its
//! library's `cli::command()`), the same one its binary parses with, so the
//! documentation cannot drift from the options; the pages' EXAMPLES, EXIT STATUS, FILES
//! and SEE ALSO are in [`pages`].

mod build;
mod dist;
pub mod man;
pub mod pages;
mod stage;

pub use build::{build, target_dir, Build, STATIC_TARGET};
pub use dist::{control_file, dist, dist_dir, Dist, VERSION};
pub use stage::{stage, Layout, DEBIAN, DOC_FILES, PREFIX, TARBALL};

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use clap_complete::Shell;

/// The four tools: binary name and the clap command it parses.
pub fn tools() -> Vec<(&'static str, clap::Command)> {
    vec![
        ("nsrun", nsrun::cli::command()),
        ("nsinspect", nsinspect::cli::command()),
        ("cgctl", cgctl::cli::command()),
        ("netns-bridge", netns_bridge::cli::command()),
    ]
}

/// The shells completions are made for, and where each looks for them below a prefix.
pub const SHELLS: [(Shell, &str); 3] = [
    (Shell::Bash, "share/bash-completion/completions"),
    (Shell::Zsh, "share/zsh/site-functions"),
    (Shell::Fish, "share/fish/vendor_completions.d"),
];

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot {what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{0}")]
    Build(String),
}

fn io_err(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Io { what, path, source }
}

/// Every argument of the four tools that has no help text (see [`man::missing_help`]).
pub fn missing_help() -> Vec<String> {
    tools()
        .iter()
        .flat_map(|(name, cmd)| man::missing_help(name, cmd))
        .collect()
}

/// What [`generate`] wrote below its directory.
#[derive(Debug, Default)]
pub struct Generated {
    /// `man1/TOOL.1` and one page per subcommand (`man1/TOOL-SUB.1`).
    pub man_pages: Vec<PathBuf>,
    /// `completions/SHELL/FILE`, with the file name each shell looks for
    /// (`TOOL` for bash, `_TOOL` for zsh, `TOOL.fish` for fish).
    pub completions: Vec<PathBuf>,
}

/// Writes the man pages to `DIR/man1` and the completions to `DIR/completions/SHELL`.
pub fn generate(dir: &Path) -> Result<Generated, Error> {
    let mut out = Generated::default();
    let man_dir = dir.join("man1");
    fs::create_dir_all(&man_dir).map_err(io_err("create", &man_dir))?;
    for (name, cmd) in tools() {
        for page in man::pages(name, cmd.clone()) {
            let path = man_dir.join(&page.file_name);
            fs::write(&path, page.text).map_err(io_err("write", &path))?;
            out.man_pages.push(path);
        }
        for (shell, _) in SHELLS {
            let shell_dir = dir.join("completions").join(shell.to_string());
            fs::create_dir_all(&shell_dir).map_err(io_err("create", &shell_dir))?;
            let path = shell_dir.join(completion_file(shell, name));
            let mut file = fs::File::create(&path).map_err(io_err("create", &path))?;
            let mut cmd = cmd.clone();
            clap_complete::generate(shell, &mut cmd, name, &mut file);
            out.completions.push(path);
        }
    }
    Ok(out)
}

/// The file name `shell` loads the completions of `tool` from.
pub fn completion_file(shell: Shell, tool: &str) -> String {
    match shell {
        Shell::Zsh => format!("_{tool}"),
        Shell::Fish => format!("{tool}.fish"),
        _ => tool.to_string(),
    }
}

/// The workspace's root directory (xtask's parent).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Builds the release binaries and installs them with their man pages and completions
/// below `prefix`: `bin/`, `share/man/man1/`, and each shell's completion directory.
/// Returns every file installed.
pub fn install(prefix: &Path) -> Result<Vec<PathBuf>, Error> {
    let release = build(Build::Release)?;
    stage(&PREFIX, &release, prefix)
}
