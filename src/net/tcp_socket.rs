//! `TcpSocket`: a TCP socket not yet connected or listening, to set options on first.
//!
//! The socket is created non-blocking and close-on-exec, and stays a plain descriptor
//! (not registered with any reactor) until `connect` or `listen` turns it into a
//! `TcpStream` or `TcpListener`; so it may be built and configured outside a runtime.
//! Options are set with rustix's safe `setsockopt` wrappers.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::time::Duration;

use rustix::net::{sockopt, AddressFamily, SocketFlags, SocketType};

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

/// Defines a setter and a getter for one socket option, with their docs and doctests.
macro_rules! socket_option {
    (
        $(#[$set_doc:meta])* set $set:ident($value:ident: $ty:ty) => $rustix_set:ident($arg:expr);
        $(#[$get_doc:meta])* get $get:ident -> $ret:ty => $rustix_get:ident $(.map($map:expr))?;
    ) => {
        $(#[$set_doc])*
        ///
        /// # Errors
        ///
        /// When the OS refuses the option.
        pub fn $set(&self, $value: $ty) -> io::Result<()> {
            Ok(sockopt::$rustix_set(&self.fd, $arg)?)
        }

        $(#[$get_doc])*
        ///
        /// # Errors
        ///
        /// When the OS cannot tell (rare).
        pub fn $get(&self) -> io::Result<$ret> {
            let value = sockopt::$rustix_get(&self.fd)?;
            $(let value = ($map)(value);)?
            Ok(value)
        }
    };
}

impl TcpSocket {
    socket_option! {
        /// Sets `SO_REUSEADDR`: allow binding a port that still has connections in
        /// `TIME_WAIT` (a server restarting on its port).
        ///
        /// # Examples
        ///
        /// ```
        /// let socket = flywheel::net::TcpSocket::new_v4()?;
        /// socket.set_reuseaddr(true)?;
        /// assert!(socket.reuseaddr()?);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        set set_reuseaddr(reuseaddr: bool) => set_socket_reuseaddr(reuseaddr);
        /// Whether `SO_REUSEADDR` is set.
        ///
        /// # Examples
        ///
        /// ```
        /// assert!(!flywheel::net::TcpSocket::new_v4()?.reuseaddr()?);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        get reuseaddr -> bool => socket_reuseaddr;
    }

    socket_option! {
        /// Sets `SO_REUSEPORT`: several sockets, each with it set, may bind the same
        /// address and port (the kernel spreads connections among the listeners).
        ///
        /// # Examples
        ///
        /// ```
        /// let socket = flywheel::net::TcpSocket::new_v4()?;
        /// socket.set_reuseport(true)?;
        /// assert!(socket.reuseport()?);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        set set_reuseport(reuseport: bool) => set_socket_reuseport(reuseport);
        /// Whether `SO_REUSEPORT` is set.
        ///
        /// # Examples
        ///
        /// ```
        /// assert!(!flywheel::net::TcpSocket::new_v4()?.reuseport()?);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        get reuseport -> bool => socket_reuseport;
    }

    socket_option! {
        /// Sets `SO_SNDBUF`, the size of the send buffer. Linux doubles the value (for its
        /// bookkeeping) and clamps it to its limits.
        ///
        /// # Examples
        ///
        /// ```
        /// let socket = flywheel::net::TcpSocket::new_v4()?;
        /// socket.set_send_buffer_size(64 * 1024)?;
        /// assert!(socket.send_buffer_size()? >= 64 * 1024);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        set set_send_buffer_size(size: u32) => set_socket_send_buffer_size(size as usize);
        /// The size of the send buffer (`SO_SNDBUF`).
        ///
        /// # Examples
        ///
        /// ```
        /// assert!(flywheel::net::TcpSocket::new_v4()?.send_buffer_size()? > 0);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        get send_buffer_size -> u32 => socket_send_buffer_size.map(saturate);
    }

    socket_option! {
        /// Sets `SO_RCVBUF`, the size of the receive buffer. Linux doubles the value (for
        /// its bookkeeping) and clamps it to its limits.
        ///
        /// # Examples
        ///
        /// ```
        /// let socket = flywheel::net::TcpSocket::new_v4()?;
        /// socket.set_recv_buffer_size(64 * 1024)?;
        /// assert!(socket.recv_buffer_size()? >= 64 * 1024);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        set set_recv_buffer_size(size: u32) => set_socket_recv_buffer_size(size as usize);
        /// The size of the receive buffer (`SO_RCVBUF`).
        ///
        /// # Examples
        ///
        /// ```
        /// assert!(flywheel::net::TcpSocket::new_v4()?.recv_buffer_size()? > 0);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        get recv_buffer_size -> u32 => socket_recv_buffer_size.map(saturate);
    }

    socket_option! {
        /// Sets `SO_LINGER`. `Some(time)`: closing the socket waits (blocking the thread
        /// that drops it) up to `time` for unsent data to go out; `Some(Duration::ZERO)`
        /// resets the connection at once. `None` (the default): close returns at once and
        /// the kernel sends the rest in the background.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::time::Duration;
        ///
        /// let socket = flywheel::net::TcpSocket::new_v4()?;
        /// socket.set_linger(Some(Duration::from_secs(1)))?;
        /// assert_eq!(socket.linger()?, Some(Duration::from_secs(1)));
        /// # Ok::<(), std::io::Error>(())
        /// ```
        set set_linger(linger: Option<Duration>) => set_socket_linger(linger);
        /// The `SO_LINGER` setting; see [`set_linger`](TcpSocket::set_linger).
        ///
        /// # Examples
        ///
        /// ```
        /// assert_eq!(flywheel::net::TcpSocket::new_v4()?.linger()?, None);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        get linger -> Option<Duration> => socket_linger;
    }

    socket_option! {
        /// Sets `TCP_NODELAY`: send small writes at once instead of coalescing them.
        ///
        /// # Examples
        ///
        /// ```
        /// let socket = flywheel::net::TcpSocket::new_v4()?;
        /// socket.set_nodelay(true)?;
        /// assert!(socket.nodelay()?);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        set set_nodelay(nodelay: bool) => set_tcp_nodelay(nodelay);
        /// Whether `TCP_NODELAY` is set.
        ///
        /// # Examples
        ///
        /// ```
        /// assert!(!flywheel::net::TcpSocket::new_v4()?.nodelay()?);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        get nodelay -> bool => tcp_nodelay;
    }

    socket_option! {
        /// Sets `SO_KEEPALIVE`: probe an idle connection so a vanished peer is noticed.
        ///
        /// # Examples
        ///
        /// ```
        /// let socket = flywheel::net::TcpSocket::new_v4()?;
        /// socket.set_keepalive(true)?;
        /// assert!(socket.keepalive()?);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        set set_keepalive(keepalive: bool) => set_socket_keepalive(keepalive);
        /// Whether `SO_KEEPALIVE` is set.
        ///
        /// # Examples
        ///
        /// ```
        /// assert!(!flywheel::net::TcpSocket::new_v4()?.keepalive()?);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        get keepalive -> bool => socket_keepalive;
    }
}

/// Buffer sizes as tokio reports them: `u32`.
fn saturate(size: usize) -> u32 {
    u32::try_from(size).unwrap_or(u32::MAX)
}

impl fmt::Debug for TcpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpSocket").field("fd", &self.fd).finish()
    }
}

impl AsFd for TcpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl IntoRawFd for TcpSocket {
    fn into_raw_fd(self) -> RawFd {
        self.fd.into_raw_fd()
    }
}

impl From<OwnedFd> for TcpSocket {
    /// Takes over a TCP socket descriptor (the safe form of `FromRawFd`).
    fn from(fd: OwnedFd) -> TcpSocket {
        TcpSocket { fd }
    }
}

impl From<TcpSocket> for OwnedFd {
    fn from(socket: TcpSocket) -> OwnedFd {
        socket.fd
    }
}

// The one `unsafe` outside src/task/cell.rs: `FromRawFd` is an unsafe trait method by
// definition (tokio's `TcpSocket` has it); the caller's promise is passed on unchanged.
#[allow(unsafe_code)]
impl FromRawFd for TcpSocket {
    /// Takes ownership of `fd`.
    ///
    /// # Safety
    ///
    /// `fd` must be an open TCP socket that nothing else owns or will close.
    unsafe fn from_raw_fd(fd: RawFd) -> TcpSocket {
        // SAFETY: the caller promises `fd` is open and owned by nobody else, which is
        // exactly `OwnedFd::from_raw_fd`'s contract.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        TcpSocket { fd }
    }
}
