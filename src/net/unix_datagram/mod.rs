//! `UnixDatagram`: a Unix domain datagram socket.
//!
//! Like `UdpSocket`, every method takes `&self`: async ones wait through a waiter slot of
//! their own (any number of tasks at once), `poll_*` ones through the direction's polled
//! slot (the last task to poll is woken), and `try_*` ones never wait.
//!
//! This file holds the type, its constructors (`bind`, `unbound`, `pair`), `connect`, its
//! addresses, `take_error` and `shutdown`, the conversions from and to std and to
//! descriptors, and `Debug`. The methods that move datagrams are split by how they wait,
//! one file each: `datagram.rs` (async `send` / `recv`), `ready.rs` (readiness waits and
//! polls), `poll.rs` (`poll_*` I/O) and `try_io.rs` (`try_*`).

mod datagram;
mod poll;
mod ready;
mod try_io;

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use crate::io::poll_evented::PollEvented;

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

impl_socket_conversions!(UnixDatagram, std::os::unix::net::UnixDatagram);

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}
