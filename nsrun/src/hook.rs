//! `--setup CMD`: a shell command run in nsrun's own namespaces once the child's exist.

use std::os::fd::AsFd;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

use nix::unistd::Pid;

use crate::error::{io_errno, Error};

/// Runs `/bin/sh -c CMD` with `NSRUN_PID` set to `pid`. Its stdout goes to nsrun's stderr
/// (nsrun's stdout belongs to COMMAND), its stdin is empty (it belongs to COMMAND too).
pub fn run(cmd: &str, pid: Pid) -> Result<(), Error> {
    let stderr = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| {
            Error::sys(
                "cannot duplicate stderr for the setup command",
                io_errno(&e),
            )
        })?;
    let status = Command::new("/bin/sh")
        .arg("-c")
        .arg(cmd)
        .env("NSRUN_PID", pid.to_string())
        .stdin(Stdio::null())
        .stdout(stderr)
        .status()
        .map_err(|e| Error::sys("cannot run the setup command /bin/sh", io_errno(&e)))?;
    if status.success() {
        return Ok(());
    }
    Err(Error::Setup(match (status.code(), status.signal()) {
        (Some(code), _) => format!("failed with exit status {code}"),
        (_, Some(sig)) => format!("was killed by signal {sig}"),
        _ => "failed".to_string(),
    }))
}
