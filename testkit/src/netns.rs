//! A throwaway network namespace that plays the host in network tests.

use std::process::Command;

/// A named network namespace (`/run/netns/NAME`), made with `ip netns add` and deleted
/// on drop with everything in it.
pub struct NetnsGuard {
    name: String,
}

impl NetnsGuard {
    pub fn new() -> Self {
        let name = crate::unique_name("nstools-test");
        let status = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .expect("cannot run ip (install iproute2)");
        assert!(status.success(), "ip netns add {name} failed");
        NetnsGuard { name }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The namespace file, for tools that take a path.
    pub fn path(&self) -> String {
        format!("/run/netns/{}", self.name)
    }

    /// A command that runs `program` inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name, program]);
        cmd
    }
}

impl Default for NetnsGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for NetnsGuard {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.name])
            .status();
    }
}
