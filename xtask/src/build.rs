//! Building the four tools: the ordinary release build (`cargo build --release`), and
//! the static one that `dist` packages and `bench/` measures (`cargo build-static`, an
//! alias in `.cargo/config.toml`: static-PIE binaries that need no libc on the machine).

use std::path::PathBuf;
use std::process::Command;

use crate::{tools, workspace_root, Error};

/// Which build of the four tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Build {
    /// `cargo build --release`: linked to the system's libc; `TARGET/release`.
    Release,
    /// `cargo build-static`: static PIE; `TARGET/STATIC_TARGET/release`.
    Static,
}

/// The target the static build names (explicitly, so that proc-macros and build
/// scripts are still built for the host without `crt-static`).
pub const STATIC_TARGET: &str = "x86_64-unknown-linux-gnu";

/// Runs cargo for `build` and returns the directory the four binaries are in.
pub fn build(build: Build) -> Result<PathBuf, Error> {
    let root = workspace_root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root);
    match build {
        Build::Release => {
            cmd.args(["build", "--release"]);
            for (name, _) in tools() {
                cmd.args(["-p", name]);
            }
        }
        Build::Static => {
            cmd.arg("build-static");
        }
    }
    let status = cmd
        .status()
        .map_err(|e| Error::Build(format!("cannot run cargo: {e}")))?;
    if !status.success() {
        return Err(Error::Build(format!("{cmd:?} failed ({status})")));
    }
    Ok(match build {
        Build::Release => target_dir().join("release"),
        Build::Static => target_dir().join(STATIC_TARGET).join("release"),
    })
}

/// Cargo's target directory: `CARGO_TARGET_DIR`, else the workspace's `target/`.
pub fn target_dir() -> PathBuf {
    let root = workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    if target.is_absolute() {
        target
    } else {
        root.join(target)
    }
}
