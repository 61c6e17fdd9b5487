//! The two pipes between nsrun and its child: nsrun says when to go on, the child says
//! how its set-up went. The child's end of the report pipe is close-on-exec, so reading
//! end-of-file after "go" means COMMAND was executed.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::OwnedFd;

use nix::errno::Errno;
use nix::fcntl::OFlag;

use crate::error::{io_errno, Context, Error};

/// What nsrun tells its child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// The ID maps are written: set up the inside.
    MapsWritten = b'M' as isize,
    /// Everything outside is ready: run COMMAND.
    Go = b'G' as isize,
}

/// What the child tells nsrun.
#[derive(Debug, PartialEq, Eq)]
pub enum Report {
    /// The inside is set up; waiting for [`Order::Go`].
    Ready,
    /// A set-up step failed; the text says which and why.
    Failed(String),
    /// exec(2) of COMMAND failed with this errno.
    ExecFailed(Errno),
}

/// Both pipes, before the fork decides which end is whose.
pub struct Pipes {
    orders: (OwnedFd, OwnedFd),
    reports: (OwnedFd, OwnedFd),
}

impl Pipes {
    pub fn new() -> Result<Self, Error> {
        let make =
            || nix::unistd::pipe2(OFlag::O_CLOEXEC).context(|| "cannot create a pipe".into());
        Ok(Pipes {
            orders: make()?,
            reports: make()?,
        })
    }

    /// nsrun's ends: it writes orders and reads reports.
    pub fn parent(self) -> ParentEnd {
        ParentEnd {
            orders: File::from(self.orders.1),
            reports: File::from(self.reports.0),
        }
    }

    /// The child's ends.
    pub fn child(self) -> ChildEnd {
        ChildEnd {
            orders: File::from(self.orders.0),
            reports: File::from(self.reports.1),
        }
    }
}

pub struct ParentEnd {
    orders: File,
    reports: File,
}

impl ParentEnd {
    pub fn send(&mut self, order: Order) -> Result<(), Error> {
        self.orders
            .write_all(&[order as u8])
            .map_err(|e| Error::sys("cannot signal the child", io_errno(&e)))
    }

    /// A report the child left before it ended, without waiting for one: `None` when
    /// there is none, or the child's end is still open somewhere.
    pub fn receive_left(&mut self) -> Result<Option<Report>, Error> {
        use std::os::fd::AsFd;
        let flags = nix::fcntl::fcntl(self.reports.as_fd(), nix::fcntl::FcntlArg::F_GETFL)
            .context(|| "cannot read the report pipe's flags".into())?;
        let nonblocking = OFlag::from_bits_retain(flags) | OFlag::O_NONBLOCK;
        nix::fcntl::fcntl(
            self.reports.as_fd(),
            nix::fcntl::FcntlArg::F_SETFL(nonblocking),
        )
        .context(|| "cannot make the report pipe non-blocking".into())?;
        match self.receive() {
            Err(Error::Sys {
                source: Errno::EAGAIN,
                ..
            }) => Ok(None),
            other => other,
        }
    }

    /// Whether an order is still in the pipe, unread: a child that has ended with it
    /// there never took its go-ahead, so never reached exec.
    pub fn orders_unread(&self) -> Result<bool, Error> {
        use std::os::fd::AsRawFd;
        let mut n: libc::c_int = 0;
        // SAFETY: FIONREAD writes one int, to `n`; both ends of a pipe answer it.
        let rc = unsafe { libc::ioctl(self.orders.as_raw_fd(), libc::FIONREAD, &mut n) };
        Errno::result(rc).context(|| "cannot read the order pipe's fill (FIONREAD)".into())?;
        Ok(n > 0)
    }

    /// The next report, or `None` when the child closed its end (exec or exit).
    pub fn receive(&mut self) -> Result<Option<Report>, Error> {
        let mut tag = [0u8; 1];
        if !read_exact(&mut self.reports, &mut tag)? {
            return Ok(None);
        }
        match tag[0] {
            b'R' => Ok(Some(Report::Ready)),
            b'F' => {
                let mut len = [0u8; 4];
                let mut text = Vec::new();
                if read_exact(&mut self.reports, &mut len)? {
                    text.resize(u32::from_ne_bytes(len) as usize, 0);
                    read_exact(&mut self.reports, &mut text)?;
                }
                Ok(Some(Report::Failed(
                    String::from_utf8_lossy(&text).into_owned(),
                )))
            }
            b'X' => {
                let mut errno = [0u8; 4];
                read_exact(&mut self.reports, &mut errno)?;
                Ok(Some(Report::ExecFailed(Errno::from_raw(
                    i32::from_ne_bytes(errno),
                ))))
            }
            other => Err(Error::Child(format!(
                "the child sent an unknown report {other:#x}"
            ))),
        }
    }
}

pub struct ChildEnd {
    orders: File,
    reports: File,
}

impl ChildEnd {
    /// Waits for `order`; `false` when nsrun went away or sent something else.
    pub fn wait_for(&mut self, order: Order) -> bool {
        let mut byte = [0u8; 1];
        matches!(read_exact(&mut self.orders, &mut byte), Ok(true)) && byte[0] == order as u8
    }

    /// Reports the inside ready and waits for the go-ahead; `false` when either failed
    /// (a report that did not go out would leave both sides waiting for each other).
    pub fn ready(&mut self) -> bool {
        self.report(&Report::Ready) && self.wait_for(Order::Go)
    }

    /// Sends a report; `false` when it did not go out. Each goes out in one write(2),
    /// below PIPE_BUF, so it arrives whole.
    pub fn report(&mut self, report: &Report) -> bool {
        let mut msg = Vec::new();
        match report {
            Report::Ready => msg.push(b'R'),
            Report::Failed(text) => {
                let text = &text.as_bytes()[..text.len().min(3000)];
                msg.push(b'F');
                msg.extend_from_slice(&(text.len() as u32).to_ne_bytes());
                msg.extend_from_slice(text);
            }
            Report::ExecFailed(errno) => {
                msg.push(b'X');
                msg.extend_from_slice(&(*errno as i32).to_ne_bytes());
            }
        }
        self.reports.write_all(&msg).is_ok()
    }
}

/// Reads exactly `buf.len()` bytes; `Ok(false)` on end-of-file before the first byte.
fn read_exact(file: &mut File, buf: &mut [u8]) -> Result<bool, Error> {
    let mut done = 0;
    while done < buf.len() {
        match file.read(&mut buf[done..]) {
            Ok(0) if done == 0 => return Ok(false),
            Ok(0) => return Err(Error::Child("the child's report was cut short".into())),
            Ok(n) => done += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::sys("cannot read from the child", io_errno(&e))),
        }
    }
    Ok(true)
}
