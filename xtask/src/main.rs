//! `cargo xtask docs DIR` generates the man pages and shell completions;
//! `cargo xtask install [--prefix DIR]` builds the release binaries and installs them
//! with both; `cargo xtask dist` packages the static binaries as a tarball and a .deb.
//! (`cargo xtask` is an alias of `cargo run -p xtask --` in .cargo/config.toml.)

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// nstools' build steps.
#[derive(Parser, Debug)]
#[command(name = "xtask")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand, Debug)]
enum Task {
    /// Generate man pages (DIR/man1) and bash, zsh and fish completions
    /// (DIR/completions/SHELL) from the tools' clap definitions
    Docs { dir: PathBuf },
    /// Build release binaries and install them, their man pages and completions
    Install {
        /// Install below DIR: bin/, share/man/man1/, share/bash-completion/completions/,
        /// share/zsh/site-functions/, share/fish/vendor_completions.d/
        #[arg(long, value_name = "DIR", default_value = "/usr/local")]
        prefix: PathBuf,
    },
    /// Build static binaries (`cargo build-static`) and package them, their man pages,
    /// completions, README and licences as TARGET/dist/nstools-VERSION-x86_64-linux.tar.gz
    /// and TARGET/dist/nstools_VERSION_amd64.deb
    Dist,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Task::Docs { dir } => xtask::generate(&dir).and_then(|g| {
            println!(
                "{} man pages in {}, {} completion files in {}",
                g.man_pages.len(),
                dir.join("man1").display(),
                g.completions.len(),
                dir.join("completions").display()
            );
            let missing = xtask::missing_help();
            if missing.is_empty() {
                return Ok(());
            }
            for arg in &missing {
                eprintln!("  {arg}");
            }
            Err(xtask::Error::Build(format!(
                "{} arguments above have no help text (empty in their man pages)",
                missing.len()
            )))
        }),
        Task::Install { prefix } => xtask::install(&prefix).map(|files| {
            for f in files {
                println!("{}", f.display());
            }
        }),
        Task::Dist => xtask::dist().map(|d| {
            println!("{}", d.tarball.display());
            println!("{}", d.deb.display());
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
