//! `TcpSocket`: a TCP socket not yet connected or listening, to set options on first.
//!
//! The socket is created non-blocking and close-on-exec, and stays a plain descriptor
//! (not registered with any reactor) until `connect` or `listen` turns it into a
//! `TcpStream` or `TcpListener`; so it may be built and configured outside a runtime.
//! Options are set with rustix's safe `setsockopt` wrappers.
//!
//! This file holds the type, its creation, `bind`, `connect`, `listen` and `local_addr`;
//! option.rs the option setters and getters; fd.rs the descriptor conversions.

mod fd;
mod option;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;

use rustix::net::{AddressFamily, SocketFlags, SocketType};

use crate::net::{TcpListener, TcpStream};

/// A TCP socket that has not been connected or made a listener yet.
///
/// Create one with [`new_v4`](TcpSocket::new_v4) / [`new_v6`](TcpSocket::new_v6), set
/// options (`SO_REUSEADDR`, buffer sizes, `SO_LINGER`, ...), optionally
/// [`bind`](TcpSocket::bind) it, then either [`connect`](TcpSocket::connect) it into a
/// [`TcpStream`] or [`listen`](TcpSocket::listen) on it for a [`TcpListener`]. Unlike
/// [`TcpListener::bind`], nothing is set by default: call
/// [`set_reuseaddr`](TcpSocket::set_reuseaddr) for a server that restarts on the same
/// port.
///
/// # Examples
///
/// ```
/// use flywheel::net::TcpSocket;
///
/// flywheel::run(async {
///     let socket = TcpSocket::new_v4()?;
///     socket.set_reuseaddr(true)?;
///     socket.bind("127.0.0.1:0".parse().unwrap())?;
///     let listener = socket.listen(128)?;
///
///     let client = TcpSocket::new_v4()?;
///     client.set_nodelay(true)?;
///     let stream = client.connect(listener.local_addr()?).await?;
///     assert!(stream.nodelay()?);
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct TcpSocket {
    fd: OwnedFd,
}

impl TcpSocket {
    /// A new IPv4 TCP socket.
    ///
    /// # Errors
    ///
    /// When the OS refuses (out of descriptors, for example).
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = flywheel::net::TcpSocket::new_v4()?;
    /// socket.bind("127.0.0.1:0".parse().unwrap())?;
    /// assert!(socket.local_addr()?.is_ipv4());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new_v4() -> io::Result<TcpSocket> {
        TcpSocket::new(AddressFamily::INET)
    }

    /// A new IPv6 TCP socket.
    ///
    /// # Errors
    ///
    /// When the OS refuses (no IPv6 support, out of descriptors).
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = flywheel::net::TcpSocket::new_v6()?;
    /// socket.bind("[::1]:0".parse().unwrap())?;
    /// assert!(socket.local_addr()?.is_ipv6());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new_v6() -> io::Result<TcpSocket> {
        TcpSocket::new(AddressFamily::INET6)
    }

    fn new(family: AddressFamily) -> io::Result<TcpSocket> {
        let fd = rustix::net::socket_with(
            family,
            SocketType::STREAM,
            SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
            None,
        )?;
        Ok(TcpSocket { fd })
    }

    /// Takes over a std stream's socket, to set options on it or hand it on.
    ///
    /// # Examples
    ///
    /// ```
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let std_stream = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// let socket = flywheel::net::TcpSocket::from_std_stream(std_stream);
    /// socket.set_linger(None)?;
    /// assert!(socket.local_addr()?.ip().is_loopback());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_std_stream(stream: std::net::TcpStream) -> TcpSocket {
        TcpSocket {
            fd: OwnedFd::from(stream),
        }
    }

    /// Binds the socket to `addr` (port 0: any free port).
    ///
    /// # Errors
    ///
    /// `AddrInUse` when another socket holds the address (see
    /// [`set_reuseaddr`](TcpSocket::set_reuseaddr)), `AddrNotAvailable` when it is not
    /// local, or a family mismatch (an IPv6 address on a `new_v4` socket).
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = flywheel::net::TcpSocket::new_v4()?;
    /// socket.bind("127.0.0.1:0".parse().unwrap())?;
    /// assert_ne!(socket.local_addr()?.port(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        Ok(rustix::net::bind(&self.fd, &addr)?)
    }

    /// Connects to `addr` and returns the stream, registered with the current runtime.
    ///
    /// # Errors
    ///
    /// `ConnectionRefused` when nothing listens there, other connection errors, or outside
    /// a runtime.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the attempt and closes the socket.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let listener = flywheel::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let socket = flywheel::net::TcpSocket::new_v4()?;
    ///     let stream = socket.connect(listener.local_addr()?).await?;
    ///     assert_eq!(stream.peer_addr()?, listener.local_addr()?);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        match rustix::net::connect(&self.fd, &addr) {
            // A non-blocking connect: the handshake goes on, `connected` waits for it.
            Ok(()) | Err(rustix::io::Errno::INPROGRESS) => {}
            Err(e) => return Err(e.into()),
        }
        let stream = std::net::TcpStream::from(self.fd);
        TcpStream::connected(mio::net::TcpStream::from_std(stream)).await
    }

    /// Starts listening, with up to `backlog` connections waiting to be accepted, and
    /// returns the listener, registered with the current runtime.
    ///
    /// # Errors
    ///
    /// When the OS refuses (the address is taken, for example), or outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let socket = flywheel::net::TcpSocket::new_v4()?;
    ///     socket.bind("127.0.0.1:0".parse().unwrap())?;
    ///     let listener = socket.listen(1024)?;
    ///     let _client = flywheel::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     listener.accept().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        // The kernel caps the backlog at somaxconn anyway.
        let backlog = i32::try_from(backlog).unwrap_or(i32::MAX);
        rustix::net::listen(&self.fd, backlog)?;
        TcpListener::from_std(std::net::TcpListener::from(self.fd))
    }

    /// The address the socket is bound to (`0.0.0.0:0` before `bind`).
    ///
    /// # Errors
    ///
    /// When the OS cannot tell (rare).
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = flywheel::net::TcpSocket::new_v4()?;
    /// socket.bind("127.0.0.1:0".parse().unwrap())?;
    /// assert!(socket.local_addr()?.ip().is_loopback());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        let addr = rustix::net::getsockname(&self.fd)?;
        Ok(SocketAddr::try_from(addr)?)
    }
}

impl fmt::Debug for TcpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpSocket").field("fd", &self.fd).finish()
    }
}
