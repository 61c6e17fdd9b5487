//! xtask: the project's own build steps. Man pages and shell completions are generated
//! from each tool's clap definition (its library's `cli::command()`), the same one its
//! binary parses with, so the documentation cannot drift from the options.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

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
        clap_mangen::generate_to(cmd.clone(), &man_dir).map_err(io_err("write to", &man_dir))?;
        out.man_pages.extend(man_pages_of(&cmd, &man_dir));
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

/// The pages clap_mangen writes for `cmd`: its own and one per visible subcommand
/// (`TOOL-SUB.1`, `TOOL-SUB-SUBSUB.1`, ...).
fn man_pages_of(cmd: &clap::Command, dir: &Path) -> Vec<PathBuf> {
    fn walk(cmd: &clap::Command, name: &str, dir: &Path, out: &mut Vec<PathBuf>) {
        out.push(dir.join(format!("{name}.1")));
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub, &format!("{name}-{}", sub.get_name()), dir, out);
        }
    }
    let mut pages = Vec::new();
    walk(cmd, cmd.get_name(), dir, &mut pages);
    pages
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

/// Builds the four binaries in release mode and returns the directory they are in.
pub fn build_release() -> Result<PathBuf, Error> {
    let root = workspace_root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root).args(["build", "--release"]);
    for (name, _) in tools() {
        cmd.args(["-p", name]);
    }
    let status = cmd
        .status()
        .map_err(|e| Error::Build(format!("cannot run cargo: {e}")))?;
    if !status.success() {
        return Err(Error::Build(format!(
            "cargo build --release failed ({status})"
        )));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let target = if target.is_absolute() {
        target
    } else {
        root.join(target)
    };
    Ok(target.join("release"))
}

/// Builds the release binaries and installs them with their man pages and completions
/// below `prefix`: `bin/`, `share/man/man1/`, and each shell's completion directory.
/// Returns every file installed.
pub fn install(prefix: &Path) -> Result<Vec<PathBuf>, Error> {
    let release = build_release()?;
    let mut installed = Vec::new();
    let bin_dir = prefix.join("bin");
    fs::create_dir_all(&bin_dir).map_err(io_err("create", &bin_dir))?;
    for (name, _) in tools() {
        let from = release.join(name);
        let to = bin_dir.join(name);
        copy(&from, &to)?;
        installed.push(to);
    }
    let staging = prefix.join(".nstools-docs.tmp");
    let generated = generate(&staging);
    let result = generated.and_then(|generated| {
        let man_dir = prefix.join("share/man/man1");
        fs::create_dir_all(&man_dir).map_err(io_err("create", &man_dir))?;
        for page in &generated.man_pages {
            let to = man_dir.join(page.file_name().unwrap_or_default());
            copy(page, &to)?;
            installed.push(to);
        }
        for (shell, dir) in SHELLS {
            let to_dir = prefix.join(dir);
            fs::create_dir_all(&to_dir).map_err(io_err("create", &to_dir))?;
            for (name, _) in tools() {
                let file = completion_file(shell, name);
                let from = staging
                    .join("completions")
                    .join(shell.to_string())
                    .join(&file);
                let to = to_dir.join(&file);
                copy(&from, &to)?;
                installed.push(to);
            }
        }
        Ok(())
    });
    let _ = fs::remove_dir_all(&staging);
    result.map(|()| installed)
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
