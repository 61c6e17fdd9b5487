//! The cgroup layer: an open cgroup directory ([`CgroupDir`]), the retry rule, and
//! what is particular to each cgroup version, one module per version and controller.

pub mod dir;
pub mod retry;
pub mod v1;
pub mod v2;

pub use dir::CgroupDir;
