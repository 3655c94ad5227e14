//! `TcpListener`: accepts TCP connections.

use std::fmt;
use std::io;
use std::net::SocketAddr;

use crate::io::poll_evented::PollEvented;
use crate::io::registration::Direction;
use crate::net::{each_addr, resolve, TcpStream, ToSocketAddrs};

/// A TCP socket server, listening for connections.
///
/// [`accept`](TcpListener::accept) takes `&self`: share the listener in an `Arc` and any
/// number of tasks may wait in `accept` at once; each connection goes to one of them, and
/// a task that is aborted while waiting never keeps the others from being served. Once the
/// runtime the listener was created on has shut down, `accept` fails with an error.
///
/// # Examples
///
/// ```
/// use futures::{AsyncReadExt, AsyncWriteExt};
/// use flywheel::net::{TcpListener, TcpStream};
///
/// flywheel::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let server = flywheel::spawn(async move {
///         let (mut stream, _) = listener.accept().await?;
///         let mut buf = [0; 5];
///         stream.read_exact(&mut buf).await?;
///         stream.write_all(&buf).await?;
///         Ok::<(), std::io::Error>(())
///     });
///     let mut client = TcpStream::connect(addr).await?;
///     client.write_all(b"hello").await?;
///     let mut echoed = [0; 5];
///     client.read_exact(&mut echoed).await?;
///     assert_eq!(&echoed, b"hello");
///     server.await??;
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct TcpListener {
    io: PollEvented<mio::net::TcpListener>,
}

impl TcpListener {
    /// Binds a listener to `addr` (`SO_REUSEADDR` set), trying each resolved address in turn.
    ///
    /// Port 0 asks the OS for a free port; [`local_addr`](TcpListener::local_addr) tells it.
    /// A host name is resolved on the blocking pool (see the [module docs](crate::net)).
    ///
    /// # Errors
    ///
    /// When no address resolves or none can be bound, or outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let listener = flywheel::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     assert!(listener.local_addr()?.ip().is_loopback());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn bind<A>(addr: A) -> io::Result<TcpListener>
    where
        A: ToSocketAddrs,
    {
        let addrs = resolve(addr.to_resolve()).await?;
        each_addr(addrs, |addr| async move {
            let listener = mio::net::TcpListener::bind(addr)?;
            Ok(TcpListener {
                io: PollEvented::new(listener)?,
            })
        })
        .await
    }

    /// Waits for the next connection and returns it with the peer's address.
    ///
    /// # Errors
    ///
    /// Whatever `accept(2)` reports, for example `ConnectionAborted` when a client reset
    /// before it was accepted, or running out of file descriptors. The listener stays usable:
    /// call `accept` again to keep serving. An error, too, when the runtime the listener was
    /// created on has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a connection is only taken from the OS when the future returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::net::{TcpListener, TcpStream};
    ///
    /// flywheel::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (_server_side, peer) = listener.accept().await?;
    ///     assert_eq!(peer, client.local_addr()?);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, addr) = self
            .io
            .io(Direction::Read, mio::net::TcpListener::accept)
            .await?;
        Ok((TcpStream::new(stream)?, addr))
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    ///
    /// When the OS cannot tell (rare).
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let listener = flywheel::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     assert_ne!(listener.local_addr()?.port(), 0);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Takes over a std listener: sets it non-blocking and registers it with the current
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
    ///     let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let listener = flywheel::net::TcpListener::from_std(std_listener)?;
    ///     assert!(listener.local_addr().is_ok());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            io: PollEvented::new(mio::net::TcpListener::from_std(listener))?,
        })
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}

// Conversions to std and to descriptors.
impl TcpListener {
    /// Deregisters the listener and returns it as a std listener, in blocking mode again.
    ///
    /// # Errors
    ///
    /// When the OS refuses the deregistration or the mode change.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let listener = flywheel::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let addr = listener.local_addr()?;
    ///     let listener = listener.into_std()?;
    ///     let _client = std::net::TcpStream::connect(addr)?;
    ///     let (_server, _) = listener.accept()?; // blocking accept
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        let listener =
            std::net::TcpListener::from(std::os::fd::OwnedFd::from(self.io.into_inner()?));
        listener.set_nonblocking(false)?;
        Ok(listener)
    }
}

impl_socket_conversions!(TcpListener, std::net::TcpListener);
