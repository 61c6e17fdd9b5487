//! A blocking rtnetlink socket: requests with sequence numbers, each answered by an ACK
//! or an error, multipart dumps, and batches (several requests in one `send`, one ACK
//! each). Sockets opened inside another network namespace act on that namespace.

use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Duration;

use netlink_packet_core::{
    NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_DUMP,
    NLM_F_DUMP_INTR, NLM_F_REQUEST,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::protocols::NETLINK_ROUTE;
use netlink_sys::SocketAddr;
use nix::errno::Errno;
use nix::sched::CloneFlags;

use nscli::errno::io_errno;

use crate::error::Error;

/// Large enough for any one datagram the kernel sends for a dump (it caps them at 32 KiB).
const RECV_BUFFER: usize = 64 * 1024;
/// How often a dump that the kernel marks as interrupted (changed meanwhile) is retried.
const DUMP_RETRIES: usize = 5;
/// How long any reply may take before the wait ends in an error, never a hang.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(5);
/// The most requests sent at once: their replies (a short ACK each, a link message for a
/// lookup) must fit the socket's receive buffer, or the kernel drops them (ENOBUFS).
const BATCH_MAX: usize = 32;
/// The receive buffer asked for (root may exceed `rmem_max`): room for a batch's replies.
const RECEIVE_BUFFER: libc::c_int = 1 << 20;

/// One rtnetlink socket, bound to the network namespace it was opened in.
pub struct Socket {
    socket: netlink_sys::Socket,
    sequence: u32,
    buffer: Vec<u8>,
}

/// How many sockets [`InsideSockets`] keeps ready ahead of their use.
const AHEAD: usize = 2;

/// Sockets opened inside several namespaces, in order, by one helper thread that keeps
/// at most [`AHEAD`] ready: entering each namespace and opening a socket there happen
/// beside the caller's work on the host side, and a batch starts one thread, not one
/// per namespace.
pub struct InsideSockets {
    ready: std::sync::mpsc::Receiver<Result<Socket, Error>>,
}

impl InsideSockets {
    /// Starts the helper thread on `scope`, for the namespaces `netns` in order.
    pub fn start<'scope, 'env: 'scope>(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        netns: Vec<BorrowedFd<'env>>,
    ) -> InsideSockets {
        let (ready, taken) = std::sync::mpsc::sync_channel(AHEAD);
        scope.spawn(move || {
            for fd in netns {
                let socket = nix::sched::setns(fd, CloneFlags::CLONE_NEWNET)
                    .map_err(|e| Error::sys("cannot enter the target network namespace", e))
                    .and_then(|()| Socket::open());
                // The caller is gone (it failed): nothing more to open.
                if ready.send(socket).is_err() {
                    break;
                }
            }
        });
        InsideSockets { ready: taken }
    }

    /// The socket inside the next namespace (waits for it).
    pub fn take(&mut self) -> Result<Socket, Error> {
        self.ready.recv().unwrap_or_else(|_| {
            Err(Error::Protocol {
                what: "cannot open a netlink socket in the target namespace".into(),
                why: "the helper thread ended".into(),
            })
        })
    }
}

/// The reply to one request: the messages it produced, or the kernel's errno.
pub type Reply = Result<Vec<RouteNetlinkMessage>, Errno>;

impl Socket {
    /// Opens a socket in the caller's network namespace.
    pub fn open() -> Result<Socket, Error> {
        let fail = |e: std::io::Error| Error::sys("cannot open a netlink socket", io_errno(&e));
        let mut socket = netlink_sys::Socket::new(NETLINK_ROUTE).map_err(fail)?;
        socket.bind(&SocketAddr::new(0, 0)).map_err(fail)?;
        socket.connect(&SocketAddr::new(0, 0)).map_err(fail)?;
        configure(&socket)?;
        Ok(Socket {
            socket,
            sequence: 0,
            buffer: vec![0; RECV_BUFFER],
        })
    }

    /// Opens a socket inside the network namespace `netns`. The `setns` happens on a
    /// thread that does nothing else; a socket stays in the namespace it was made in.
    pub fn open_in(netns: BorrowedFd<'_>) -> Result<Socket, Error> {
        std::thread::scope(|scope| InsideSockets::start(scope, vec![netns]).take())
    }

    /// Sends one request and waits for its ACK; returns the messages that came before it.
    pub fn request(&mut self, message: RouteNetlinkMessage, flags: u16) -> Reply {
        let mut replies = self
            .batch(vec![(message, flags)])
            .map_err(|e| e.errno().unwrap_or(Errno::EIO))?;
        replies.pop().unwrap_or(Err(Errno::EIO))
    }

    /// Like [`Socket::request`], with `what` as the context of a failure.
    pub fn call(
        &mut self,
        what: impl FnOnce() -> String,
        message: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>, Error> {
        // Through `batch`, not `request`: a receive that fails keeps its own words.
        let reply = self.batch(vec![(message, flags)])?.pop();
        reply
            .unwrap_or(Err(Errno::EIO))
            .map_err(|source| Error::Netlink {
                what: what(),
                source,
            })
    }

    /// Sends several requests in one datagram (a few dozen at a time) and collects
    /// one reply for each, in order. The kernel goes on after a failed request, so every
    /// reply is there.
    pub fn batch(
        &mut self,
        mut messages: Vec<(RouteNetlinkMessage, u16)>,
    ) -> Result<Vec<Reply>, Error> {
        let mut out = Vec::with_capacity(messages.len());
        while !messages.is_empty() {
            let rest = messages.split_off(messages.len().min(BATCH_MAX));
            out.extend(self.batch_once(messages)?);
            messages = rest;
        }
        Ok(out)
    }

    fn batch_once(
        &mut self,
        messages: Vec<(RouteNetlinkMessage, u16)>,
    ) -> Result<Vec<Reply>, Error> {
        let first = self.sequence.wrapping_add(1);
        let mut out = Vec::new();
        for (message, flags) in messages {
            self.sequence = self.sequence.wrapping_add(1);
            let mut header = NetlinkHeader::default();
            header.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
            header.sequence_number = self.sequence;
            let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(message));
            packet.finalize();
            let start = out.len();
            out.resize(start + packet.buffer_len(), 0);
            packet.serialize(&mut out[start..]);
        }
        let count = self.sequence.wrapping_sub(first).wrapping_add(1) as usize;
        self.send(&out)?;
        let mut replies: Vec<Option<Reply>> = (0..count).map(|_| None).collect();
        let mut gathered: Vec<Vec<RouteNetlinkMessage>> = (0..count).map(|_| Vec::new()).collect();
        let mut pending = count;
        while pending > 0 {
            let size = self.receive()?;
            let mut offset = 0;
            while offset < size {
                let (length, header, payload) = parse_one(&self.buffer[offset..size])?;
                offset += length;
                let slot = header.sequence_number.wrapping_sub(first) as usize;
                if slot >= count {
                    // A reply to an earlier request that was given up on: not ours now.
                    continue;
                }
                let reply = match payload {
                    NetlinkPayload::InnerMessage(m) => {
                        gathered[slot].push(m);
                        continue;
                    }
                    NetlinkPayload::Error(e) => match e.code {
                        None => Ok(std::mem::take(&mut gathered[slot])),
                        Some(code) => Err(Errno::from_raw(code.get().saturating_abs())),
                    },
                    NetlinkPayload::Done(_) => Ok(std::mem::take(&mut gathered[slot])),
                    _ => continue,
                };
                if replies[slot].is_none() {
                    replies[slot] = Some(reply);
                    pending -= 1;
                }
            }
        }
        Ok(replies
            .into_iter()
            .map(|r| r.unwrap_or(Err(Errno::EIO)))
            .collect())
    }

    /// Dumps every object of a kind (links, addresses, routes); retried when the kernel
    /// says the table changed during the dump.
    pub fn dump(
        &mut self,
        what: impl Fn() -> String,
        message: RouteNetlinkMessage,
    ) -> Result<Vec<RouteNetlinkMessage>, Error> {
        for _ in 0..DUMP_RETRIES {
            match self.dump_once(message.clone())? {
                Some(all) => return Ok(all),
                None => continue,
            }
        }
        Err(Error::Protocol {
            what: what(),
            why: "the kernel's table kept changing during the dump".into(),
        })
    }

    fn dump_once(
        &mut self,
        message: RouteNetlinkMessage,
    ) -> Result<Option<Vec<RouteNetlinkMessage>>, Error> {
        self.sequence = self.sequence.wrapping_add(1);
        let sequence = self.sequence;
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_DUMP;
        header.sequence_number = sequence;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(message));
        packet.finalize();
        let mut out = vec![0; packet.buffer_len()];
        packet.serialize(&mut out);
        self.send(&out)?;
        let mut all = Vec::new();
        let mut interrupted = false;
        loop {
            let size = self.receive()?;
            let mut offset = 0;
            while offset < size {
                let (length, header, payload) = parse_one(&self.buffer[offset..size])?;
                offset += length;
                if header.sequence_number != sequence {
                    continue;
                }
                if header.flags & NLM_F_DUMP_INTR != 0 {
                    interrupted = true;
                }
                match payload {
                    NetlinkPayload::InnerMessage(m) => all.push(m),
                    NetlinkPayload::Done(_) => return Ok((!interrupted).then_some(all)),
                    NetlinkPayload::Error(e) => match e.code {
                        None => return Ok((!interrupted).then_some(all)),
                        Some(code) => {
                            return Err(Error::Netlink {
                                what: "netlink dump failed".into(),
                                source: Errno::from_raw(code.get().saturating_abs()),
                            })
                        }
                    },
                    _ => {}
                }
            }
        }
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.socket
            .send(bytes, 0)
            .map_err(|e| Error::sys("cannot send to netlink", io_errno(&e)))?;
        Ok(())
    }

    fn receive(&mut self) -> Result<usize, Error> {
        loop {
            match self.socket.recv(&mut &mut self.buffer[..], 0) {
                Ok(size) => return Ok(size.min(self.buffer.len())),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    return Err(Error::sys(
                        format!(
                            "cannot receive from netlink (no reply within {} s)",
                            REPLY_TIMEOUT.as_secs()
                        ),
                        Errno::ETIMEDOUT,
                    ))
                }
                Err(e) => return Err(Error::sys("cannot receive from netlink", io_errno(&e))),
            }
        }
    }
}

/// Sets up a new socket: a timeout on every receive, ACKs without a copy of the request
/// (NETLINK_CAP_ACK, so a batch's ACKs stay small), and a larger receive buffer.
fn configure(socket: &netlink_sys::Socket) -> Result<(), Error> {
    let fd = socket.as_raw_fd();
    let set = |level, name, value: *const libc::c_void, len: usize| {
        // SAFETY: `value` points to `len` readable bytes for the duration of the call.
        let rc = unsafe { libc::setsockopt(fd, level, name, value, len as libc::socklen_t) };
        if rc == 0 {
            Ok(())
        } else {
            Err(Errno::last())
        }
    };
    let timeout = libc::timeval {
        tv_sec: REPLY_TIMEOUT.as_secs() as libc::time_t,
        tv_usec: 0,
    };
    let size = std::mem::size_of::<libc::timeval>();
    set(
        libc::SOL_SOCKET,
        libc::SO_RCVTIMEO,
        (&raw const timeout).cast(),
        size,
    )
    .map_err(|e| Error::sys("cannot set a receive timeout on the netlink socket", e))?;
    let one: libc::c_int = 1;
    let int = std::mem::size_of::<libc::c_int>();
    // Older kernels lack it: their ACKs are only longer.
    let _ = set(
        libc::SOL_NETLINK,
        libc::NETLINK_CAP_ACK,
        (&raw const one).cast(),
        int,
    );
    let wanted = RECEIVE_BUFFER;
    let buffer = (&raw const wanted).cast();
    if set(libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, buffer, int).is_err() {
        // Without CAP_NET_ADMIN: as much as rmem_max allows; batches are small anyway.
        let _ = set(libc::SOL_SOCKET, libc::SO_RCVBUF, buffer, int);
    }
    Ok(())
}

/// Parses the first message in `bytes`; returns its aligned length too. A message of a
/// kind we cannot decode (a newer kernel's attribute layout) comes back as `Noop`, so a
/// dump is not lost for one odd entry.
fn parse_one(
    bytes: &[u8],
) -> Result<(usize, NetlinkHeader, NetlinkPayload<RouteNetlinkMessage>), Error> {
    let bad = |why: String| Error::Protocol {
        what: "cannot read a netlink reply".into(),
        why,
    };
    let raw = NetlinkBuffer::new(bytes);
    if bytes.len() < 16 || (raw.length() as usize) < 16 {
        return Err(bad(format!("truncated message of {} bytes", bytes.len())));
    }
    let length = raw.length() as usize;
    let aligned = ((length + 3) & !3).min(bytes.len());
    match NetlinkMessage::<RouteNetlinkMessage>::deserialize(&bytes[..length.min(bytes.len())]) {
        Ok(message) => {
            let (header, payload) = message.into_parts();
            Ok((aligned, header, payload))
        }
        Err(e) if raw.message_type() < 16 => Err(bad(e.to_string())),
        Err(_) => {
            let mut header = NetlinkHeader::default();
            header.sequence_number = raw.sequence_number();
            header.flags = raw.flags();
            Ok((aligned, header, NetlinkPayload::Noop))
        }
    }
}
