//! `cargo run -p xtask -- docs DIR` generates the man pages and shell completions;
//! `cargo run -p xtask -- install [--prefix DIR]` builds the release binaries and
//! installs them with both.

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Task::Docs { dir } => xtask::generate(&dir).map(|g| {
            println!(
                "{} man pages in {}, {} completion files in {}",
                g.man_pages.len(),
                dir.join("man1").display(),
                g.completions.len(),
                dir.join("completions").display()
            );
        }),
        Task::Install { prefix } => xtask::install(&prefix).map(|files| {
            for f in files {
                println!("{}", f.display());
            }
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
