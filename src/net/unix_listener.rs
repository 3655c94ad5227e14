//! `UnixListener`: accepts Unix domain stream connections.

use std::fmt;
use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use crate::io::poll_evented::PollEvented;
use crate::io::registration::Direction;
use crate::net::UnixStream;

/// A Unix domain socket server, listening for connections on a path.
///
/// The socket file stays on disk after the listener is dropped; remove it yourself. Like
/// [`TcpListener`](crate::net::TcpListener), any number of tasks may wait in `accept` at
/// once.
///
/// # Examples
///
/// ```
/// use futures::{AsyncReadExt, AsyncWriteExt};
/// use flywheel::net::{UnixListener, UnixStream};
///
/// flywheel::run(async {
///     let path = std::env::temp_dir().join(format!("flywheel-doc-{}.sock", std::process::id()));
///     let _ = std::fs::remove_file(&path);
///     let listener = UnixListener::bind(&path)?;
///     let mut client = UnixStream::connect(&path).await?;
///     let (mut server, _) = listener.accept().await?;
///     client.write_all(b"hi").await?;
///     let mut buf = [0; 2];
///     server.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"hi");
///     std::fs::remove_file(&path)
/// })
/// .unwrap();
/// ```
pub struct UnixListener {
    io: PollEvented<mio::net::UnixListener>,
}

impl UnixListener {
    /// Creates the socket file at `path` and listens on it.
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
    ///     let path = std::env::temp_dir().join(format!("flywheel-doc-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let listener = flywheel::net::UnixListener::bind(&path)?;
    ///     assert_eq!(listener.local_addr()?.as_pathname(), Some(path.as_path()));
    ///     std::fs::remove_file(&path)
    /// })
    /// .unwrap();
    /// ```
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        Ok(UnixListener {
            io: PollEvented::new(mio::net::UnixListener::bind(path)?)?,
        })
    }

    /// Waits for the next connection and returns it with the peer's address (usually
    /// unnamed).
    ///
    /// # Errors
    ///
    /// Whatever `accept(2)` reports, for example running out of file descriptors. The
    /// listener stays usable. An error, too, when the runtime the listener was created on
    /// has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::net::{UnixListener, UnixStream};
    ///
    /// flywheel::run(async {
    ///     let path = std::env::temp_dir().join(format!("flywheel-doc-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let listener = UnixListener::bind(&path)?;
    ///     let _client = UnixStream::connect(&path).await?;
    ///     let (_server, peer) = listener.accept().await?;
    ///     assert!(peer.is_unnamed());
    ///     std::fs::remove_file(&path)
    /// })
    /// .unwrap();
    /// ```
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, addr) = self
            .io
            .io(Direction::Read, mio::net::UnixListener::accept)
            .await?;
        Ok((UnixStream::new(stream)?, addr))
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
    ///     let path = std::env::temp_dir().join(format!("flywheel-doc-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let listener = flywheel::net::UnixListener::bind(&path)?;
    ///     assert!(listener.local_addr()?.as_pathname().is_some());
    ///     std::fs::remove_file(&path)
    /// })
    /// .unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Takes over a std listener: sets it non-blocking and registers it.
    ///
    /// # Errors
    ///
    /// Outside a runtime, or when the OS refuses the mode change or the registration.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let path = std::env::temp_dir().join(format!("flywheel-doc-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let std_listener = std::os::unix::net::UnixListener::bind(&path)?;
    ///     let listener = flywheel::net::UnixListener::from_std(std_listener)?;
    ///     assert!(listener.local_addr().is_ok());
    ///     std::fs::remove_file(&path)
    /// })
    /// .unwrap();
    /// ```
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            io: PollEvented::new(mio::net::UnixListener::from_std(listener))?,
        })
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}

// Conversions to std and to descriptors.
impl UnixListener {
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
    ///     let path = std::env::temp_dir().join(format!("flywheel-doc-std-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let listener = flywheel::net::UnixListener::bind(&path)?.into_std()?;
    ///     let _client = std::os::unix::net::UnixStream::connect(&path)?;
    ///     let (_server, _) = listener.accept()?; // blocking accept
    ///     std::fs::remove_file(&path)
    /// })
    /// .unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        let listener = std::os::unix::net::UnixListener::from(std::os::fd::OwnedFd::from(
            self.io.into_inner()?,
        ));
        listener.set_nonblocking(false)?;
        Ok(listener)
    }
}

impl_socket_conversions!(UnixListener, std::os::unix::net::UnixListener);
