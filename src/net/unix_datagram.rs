//! `UnixDatagram`: a Unix domain datagram socket.
//!
//! Like `UdpSocket`, every method takes `&self`: async ones wait through a waiter slot of
//! their own (any number of tasks at once), `poll_*` ones through the direction's polled
//! slot (the last task to poll is woken), and `try_*` ones never wait.

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::task::{Context, Poll};

use crate::io::poll_evented::PollEvented;
use crate::io::registration::Direction;
use crate::io::{Interest, Ready};

/// A Unix domain datagram socket.
///
/// Bound to a path ([`bind`](UnixDatagram::bind)), unnamed
/// ([`unbound`](UnixDatagram::unbound)), or one of a connected [`pair`](UnixDatagram::pair).
/// Send to any path with [`send_to`](UnixDatagram::send_to), or
/// [`connect`](UnixDatagram::connect) to one peer and use [`send`](UnixDatagram::send) /
/// [`recv`](UnixDatagram::recv). All methods take `&self`, so tasks can share a socket in
/// an `Arc`: any number of them may wait to receive or send at once. The socket file of a
/// bound socket stays on disk after it is dropped; remove it yourself. Once the runtime the
/// socket was created on has shut down, every wait on it fails with an error.
///
/// # Examples
///
/// ```
/// use flywheel::net::UnixDatagram;
///
/// flywheel::run(async {
///     let (a, b) = UnixDatagram::pair()?;
///     a.send(b"ping").await?;
///     let mut buf = [0; 16];
///     let n = b.recv(&mut buf).await?;
///     assert_eq!(&buf[..n], b"ping");
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct UnixDatagram {
    io: PollEvented<mio::net::UnixDatagram>,
}

impl UnixDatagram {
    fn new(socket: mio::net::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            io: PollEvented::new(socket)?,
        })
    }

    /// Creates the socket file at `path` and binds a socket to it.
    ///
    /// # Errors
    ///
    /// When the path exists already (remove a stale socket file first), its directory is
    /// missing, or outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let path = std::env::temp_dir()
    ///         .join(format!("flywheel-doc-dgram-bind-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let socket = flywheel::net::UnixDatagram::bind(&path)?;
    ///     assert_eq!(socket.local_addr()?.as_pathname(), Some(path.as_path()));
    ///     std::fs::remove_file(&path)
    /// })
    /// .unwrap();
    /// ```
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixDatagram> {
        UnixDatagram::new(mio::net::UnixDatagram::bind(path)?)
    }

    /// A socket bound to no address: it can send to bound sockets (or
    /// [`connect`](UnixDatagram::connect) to one), but nobody can address it back.
    ///
    /// # Errors
    ///
    /// When the OS runs out of descriptors, or outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let path = std::env::temp_dir()
    ///         .join(format!("flywheel-doc-dgram-unbound-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let server = flywheel::net::UnixDatagram::bind(&path)?;
    ///     let client = flywheel::net::UnixDatagram::unbound()?;
    ///     client.send_to(b"anonymous", &path).await?;
    ///     let mut buf = [0; 16];
    ///     let (n, from) = server.recv_from(&mut buf).await?;
    ///     assert_eq!(&buf[..n], b"anonymous");
    ///     assert!(from.is_unnamed());
    ///     std::fs::remove_file(&path)
    /// })
    /// .unwrap();
    /// ```
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::new(mio::net::UnixDatagram::unbound()?)
    }

    /// A pair of connected, unnamed sockets.
    ///
    /// # Errors
    ///
    /// When the OS runs out of descriptors, or outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let (a, b) = flywheel::net::UnixDatagram::pair()?;
    ///     b.send(b"back").await?;
    ///     let mut buf = [0; 8];
    ///     assert_eq!(a.recv(&mut buf).await?, 4);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = mio::net::UnixDatagram::pair()?;
        Ok((UnixDatagram::new(a)?, UnixDatagram::new(b)?))
    }

    /// Sets the default peer: `send` goes there and `recv` only accepts datagrams from it.
    ///
    /// # Errors
    ///
    /// `NotFound` when nothing exists at `path`, `ConnectionRefused` when no socket is bound
    /// there.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let path = std::env::temp_dir()
    ///         .join(format!("flywheel-doc-dgram-connect-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let server = flywheel::net::UnixDatagram::bind(&path)?;
    ///     let client = flywheel::net::UnixDatagram::unbound()?;
    ///     client.connect(&path)?;
    ///     assert_eq!(client.peer_addr()?.as_pathname(), Some(path.as_path()));
    ///     client.send(b"hi").await?;
    ///     let mut buf = [0; 2];
    ///     server.recv(&mut buf).await?;
    ///     std::fs::remove_file(&path)
    /// })
    /// .unwrap();
    /// ```
    pub fn connect<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        self.io.get_ref().connect(path)
    }

    /// Sends one datagram to the connected peer; returns the bytes sent.
    ///
    /// # Errors
    ///
    /// `NotConnected` when the socket has no peer, `ConnectionRefused` once the peer is gone,
    /// or an error once the runtime the socket was registered with has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a datagram is either sent whole or not at all.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let (a, _b) = flywheel::net::UnixDatagram::pair()?;
    ///     assert_eq!(a.send(b"hey").await?, 3);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.io(Direction::Write, |s| s.send(buf)).await
    }

    /// Receives one datagram (from the connected peer, if any) into `buf`; returns its
    /// length. A datagram longer than `buf` is truncated.
    ///
    /// # Errors
    ///
    /// The OS's error, or an error once the runtime the socket was registered with has shut
    /// down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a datagram is only taken when the future returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let (a, b) = flywheel::net::UnixDatagram::pair()?;
    ///     a.send(b"hi").await?;
    ///     let mut buf = [0; 8];
    ///     let n = b.recv(&mut buf).await?;
    ///     assert_eq!(&buf[..n], b"hi");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Direction::Read, |s| s.recv(buf)).await
    }

    /// Sends one datagram to the socket bound at `path`; returns the bytes sent.
    ///
    /// # Errors
    ///
    /// `NotFound` when nothing exists at `path`, `ConnectionRefused` when no socket is bound
    /// there, or an error once the runtime the socket was registered with has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a datagram is either sent whole or not at all.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let dir = std::env::temp_dir();
    ///     let path = dir.join(format!("flywheel-doc-dgram-send-to-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let _server = flywheel::net::UnixDatagram::bind(&path)?;
    ///     let client = flywheel::net::UnixDatagram::unbound()?;
    ///     assert_eq!(client.send_to(b"four", &path).await?, 4);
    ///     std::fs::remove_file(&path)
    /// })
    /// .unwrap();
    /// ```
    pub async fn send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        let path = path.as_ref();
        self.io.io(Direction::Write, |s| s.send_to(buf, path)).await
    }

    /// Receives one datagram into `buf`; returns its length and the sender's address
    /// (unnamed for an unbound or paired sender). A longer datagram is truncated.
    ///
    /// # Errors
    ///
    /// The OS's error, or an error once the runtime the socket was registered with has shut
    /// down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a datagram is only taken when the future returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let (a, b) = flywheel::net::UnixDatagram::pair()?;
    ///     a.send(b"x").await?;
    ///     let mut buf = [0; 8];
    ///     let (n, from) = b.recv_from(&mut buf).await?;
    ///     assert_eq!(n, 1);
    ///     assert!(from.is_unnamed());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.io(Direction::Read, |s| s.recv_from(buf)).await
    }

    /// The address the socket is bound to (unnamed for an unbound or paired socket).
    ///
    /// # Errors
    ///
    /// When the OS cannot tell (rare).
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let socket = flywheel::net::UnixDatagram::unbound()?;
    ///     assert!(socket.local_addr()?.is_unnamed());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    ///
    /// `NotConnected` for a socket that has no peer.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let socket = flywheel::net::UnixDatagram::unbound()?;
    ///     assert!(socket.peer_addr().is_err());
    ///     let (a, _b) = flywheel::net::UnixDatagram::pair()?;
    ///     assert!(a.peer_addr()?.is_unnamed());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any, clearing it.
    ///
    /// # Errors
    ///
    /// When the OS cannot tell (rare).
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let (a, _b) = flywheel::net::UnixDatagram::pair()?;
    ///     assert!(a.take_error()?.is_none());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Shuts down the receiving half, the sending half or both, at once (like std's).
    ///
    /// # Errors
    ///
    /// When the OS refuses (for example `NotConnected` on Linux for a socket without peer).
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let (a, _b) = flywheel::net::UnixDatagram::pair()?;
    ///     a.shutdown(std::net::Shutdown::Write)?;
    ///     assert!(a.send(b"late").await.is_err());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Takes over a std socket: sets it non-blocking and registers it with the current
    /// runtime.
    ///
    /// # Errors
    ///
    /// Outside a runtime, or when the OS refuses the mode change or the registration.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let (a, b) = std::os::unix::net::UnixDatagram::pair()?;
    ///     let a = flywheel::net::UnixDatagram::from_std(a)?;
    ///     b.send(b"from std")?;
    ///     let mut buf = [0; 16];
    ///     let n = a.recv(&mut buf).await?;
    ///     assert_eq!(&buf[..n], b"from std");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        UnixDatagram::new(mio::net::UnixDatagram::from_std(socket))
    }

    /// Deregisters the socket and returns it as a std socket, still in non-blocking mode
    /// (call `set_nonblocking(false)` on it for blocking calls).
    ///
    /// # Errors
    ///
    /// When the OS refuses to deregister the socket; it is closed then.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let (a, b) = flywheel::net::UnixDatagram::pair()?;
    ///     let a = a.into_std()?;
    ///     a.set_nonblocking(false)?;
    ///     b.send(b"to std").await?;
    ///     let mut buf = [0; 16];
    ///     let n = a.recv(&mut buf)?;
    ///     assert_eq!(&buf[..n], b"to std");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        self.io.into_inner().map(Into::into)
    }
}

/// Readiness, `poll_*` and non-blocking calls, with tokio's names and semantics; the same
/// rules as `UdpSocket`'s.
impl UnixDatagram {
    /// Waits until the socket is ready for any direction of `interest`; returns what is
    /// ready. Does no I/O and clears nothing.
    ///
    /// Readiness is a hint: the next `try_*` call may still return `WouldBlock` (and then
    /// clears it). Any number of tasks may wait at once; an event wakes them all.
    ///
    /// # Errors
    ///
    /// When the runtime the socket was registered with has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::io::Interest;
    ///
    /// flywheel::run(async {
    ///     let (a, b) = flywheel::net::UnixDatagram::pair()?;
    ///     b.send(b"x").await?;
    ///     let ready = a.ready(Interest::READABLE | Interest::WRITABLE).await?;
    ///     assert!(ready.is_writable() || ready.is_readable());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.io.ready_for(interest).await
    }

    /// Waits until a datagram may be there to receive. Does no I/O and clears nothing: a
    /// `try_recv` / `try_recv_from` that returns `WouldBlock` does. Any number of tasks may
    /// wait at once.
    ///
    /// # Errors
    ///
    /// When the runtime the socket was registered with has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let (a, b) = flywheel::net::UnixDatagram::pair()?;
    ///     b.send(b"x").await?;
    ///     a.readable().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(Direction::Read).await
    }

    /// Waits until a datagram may be sent. Does no I/O and clears nothing. Any number of
    /// tasks may wait at once.
    ///
    /// # Errors
    ///
    /// When the runtime the socket was registered with has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let (a, _b) = flywheel::net::UnixDatagram::pair()?;
    ///     a.writable().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready(Direction::Write).await
    }

    /// Polls for receive readiness: `Ready(Ok(()))` when a datagram may be there, else
    /// stores the waker (only the task that polled last is woken) and returns `Pending`.
    ///
    /// # Errors
    ///
    /// When the runtime the socket was registered with has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// flywheel::run(async {
    ///     let (a, b) = flywheel::net::UnixDatagram::pair()?;
    ///     b.send(b"x").await?;
    ///     poll_fn(|cx| a.poll_recv_ready(cx)).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Read).map_ok(|_| ())
    }

    /// Polls for send readiness; the sending twin of
    /// [`poll_recv_ready`](UnixDatagram::poll_recv_ready).
    ///
    /// # Errors
    ///
    /// When the runtime the socket was registered with has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// flywheel::run(async {
    ///     let (a, _b) = flywheel::net::UnixDatagram::pair()?;
    ///     poll_fn(|cx| a.poll_send_ready(cx)).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_send_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Write).map_ok(|_| ())
    }

    /// Polls to send one datagram to the connected peer; `Ready` with the bytes sent, or
    /// `Pending` with the waker stored (only the task that polled last is woken).
    ///
    /// # Errors
    ///
    /// As for [`send`](UnixDatagram::send).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// flywheel::run(async {
    ///     let (a, _b) = flywheel::net::UnixDatagram::pair()?;
    ///     assert_eq!(poll_fn(|cx| a.poll_send(cx, b"hey")).await?, 3);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Write, |s| s.send(buf))
    }

    /// Polls to receive one datagram into `buf`; `Ready` with its length (a longer datagram
    /// is truncated), or `Pending` with the waker stored (only the task that polled last is
    /// woken). Takes a plain slice, unlike tokio's `ReadBuf`.
    ///
    /// # Errors
    ///
    /// As for [`recv`](UnixDatagram::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// flywheel::run(async {
    ///     let (a, b) = flywheel::net::UnixDatagram::pair()?;
    ///     b.send(b"hi").await?;
    ///     let mut buf = [0; 8];
    ///     let n = poll_fn(|cx| a.poll_recv(cx, &mut buf)).await?;
    ///     assert_eq!(&buf[..n], b"hi");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Read, |s| s.recv(buf))
    }

    /// Polls to send one datagram to the socket bound at `path`; `Ready` with the bytes
    /// sent, or `Pending` with the waker stored (only the task that polled last is woken).
    ///
    /// # Errors
    ///
    /// As for [`send_to`](UnixDatagram::send_to).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// flywheel::run(async {
    ///     let path = std::env::temp_dir()
    ///         .join(format!("flywheel-doc-dgram-poll-send-to-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let _server = flywheel::net::UnixDatagram::bind(&path)?;
    ///     let client = flywheel::net::UnixDatagram::unbound()?;
    ///     assert_eq!(poll_fn(|cx| client.poll_send_to(cx, b"four", &path)).await?, 4);
    ///     std::fs::remove_file(&path)
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_send_to<P: AsRef<Path>>(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        path: P,
    ) -> Poll<io::Result<usize>> {
        let path = path.as_ref();
        self.io
            .poll_io(cx, Direction::Write, |s| s.send_to(buf, path))
    }

    /// Polls to receive one datagram into `buf`; `Ready` with its length and sender, or
    /// `Pending` with the waker stored (only the task that polled last is woken).
    ///
    /// # Errors
    ///
    /// As for [`recv_from`](UnixDatagram::recv_from).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// flywheel::run(async {
    ///     let (a, b) = flywheel::net::UnixDatagram::pair()?;
    ///     b.send(b"x").await?;
    ///     let mut buf = [0; 8];
    ///     let (n, from) = poll_fn(|cx| a.poll_recv_from(cx, &mut buf)).await?;
    ///     assert_eq!(n, 1);
    ///     assert!(from.is_unnamed());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io.poll_io(cx, Direction::Read, |s| s.recv_from(buf))
    }

    /// Sends one datagram to the connected peer now, without waiting; returns the bytes
    /// sent.
    ///
    /// Returns `WouldBlock` when the peer's queue is full, or when the reactor has not
    /// reported the socket writable since the last `WouldBlock` (await
    /// [`writable`](UnixDatagram::writable) first); a `WouldBlock` clears the write
    /// readiness it consumed.
    ///
    /// # Errors
    ///
    /// `WouldBlock` as above, the errors of [`send`](UnixDatagram::send), or an error once
    /// the runtime the socket was registered with has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let (a, _b) = flywheel::net::UnixDatagram::pair()?;
    ///     a.writable().await?;
    ///     assert_eq!(a.try_send(b"now")?, 3);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Write, |s| s.send(buf))
    }

    /// Receives one datagram now, without waiting; returns its length (a longer datagram
    /// is truncated).
    ///
    /// Returns `WouldBlock` when no datagram is queued, or when the reactor has not reported
    /// the socket readable since the last `WouldBlock` (await
    /// [`readable`](UnixDatagram::readable) first); a `WouldBlock` clears the read
    /// readiness it consumed, so the next `readable()` sleeps until a datagram arrives.
    ///
    /// # Errors
    ///
    /// `WouldBlock` as above, the OS's error, or an error once the runtime the socket was
    /// registered with has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    ///
    /// flywheel::run(async {
    ///     let (a, b) = flywheel::net::UnixDatagram::pair()?;
    ///     b.send(b"hi").await?;
    ///     let mut buf = [0; 8];
    ///     let n = loop {
    ///         a.readable().await?;
    ///         match a.try_recv(&mut buf) {
    ///             Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
    ///             r => break r?,
    ///         }
    ///     };
    ///     assert_eq!(&buf[..n], b"hi");
    ///     Ok::<(), io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Read, |s| s.recv(buf))
    }

    /// Sends one datagram to the socket bound at `path` now, without waiting; returns the
    /// bytes sent. A `WouldBlock` clears the write readiness it consumed, as in
    /// [`try_send`](UnixDatagram::try_send).
    ///
    /// # Errors
    ///
    /// `WouldBlock` (see [`try_send`](UnixDatagram::try_send)), the errors of
    /// [`send_to`](UnixDatagram::send_to), or an error once the runtime the socket was
    /// registered with has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let path = std::env::temp_dir()
    ///         .join(format!("flywheel-doc-dgram-try-send-to-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let _server = flywheel::net::UnixDatagram::bind(&path)?;
    ///     let client = flywheel::net::UnixDatagram::unbound()?;
    ///     client.writable().await?;
    ///     assert_eq!(client.try_send_to(b"four", &path)?, 4);
    ///     std::fs::remove_file(&path)
    /// })
    /// .unwrap();
    /// ```
    pub fn try_send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        let path = path.as_ref();
        self.io.try_io(Direction::Write, |s| s.send_to(buf, path))
    }

    /// Receives one datagram now, without waiting; returns its length and sender. A
    /// `WouldBlock` clears the read readiness it consumed, as in
    /// [`try_recv`](UnixDatagram::try_recv).
    ///
    /// # Errors
    ///
    /// `WouldBlock` (see [`try_recv`](UnixDatagram::try_recv)), the OS's error, or an error
    /// once the runtime the socket was registered with has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let (a, b) = flywheel::net::UnixDatagram::pair()?;
    ///     b.send(b"x").await?;
    ///     a.readable().await?;
    ///     let mut buf = [0; 8];
    ///     let (n, from) = a.try_recv_from(&mut buf)?;
    ///     assert_eq!(n, 1);
    ///     assert!(from.is_unnamed());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Direction::Read, |s| s.recv_from(buf))
    }
}

impl_socket_conversions!(UnixDatagram, std::os::unix::net::UnixDatagram);

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}
