//! `TcpStream`: one TCP connection.

use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::panic::Location;

use crate::io::poll_evented::PollEvented;
use crate::io::registration::Direction;
use crate::net::{each_addr, resolve, ToSocketAddrs};
use crate::task::id::{self, Leaf};

/// A TCP connection.
///
/// Read and write it through the futures crate's `AsyncReadExt` / `AsyncWriteExt`: it
/// implements [`AsyncRead`](futures_io::AsyncRead) and [`AsyncWrite`](futures_io::AsyncWrite),
/// and so does `&TcpStream`, so one task may read while another writes the same connection
/// (share it in an `Arc`). Through those traits one task at a time reads and one writes:
/// like tokio's and async-io's `poll_*` methods, they wake only the task that polled last.
/// [`readable`](TcpStream::readable) / [`writable`](TcpStream::writable) may be awaited by
/// any number of tasks. Closing the writer (`AsyncWriteExt::close`) shuts down the
/// writing half; dropping the stream closes the socket. Once the runtime the stream was
/// created on has shut down, every read, write or wait on it fails with an error.
///
/// # Examples
///
/// ```
/// use futures::{AsyncReadExt, AsyncWriteExt};
/// use flywheel::net::{TcpListener, TcpStream};
///
/// flywheel::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
///     let (mut server, _) = listener.accept().await?;
///     client.write_all(b"bye").await?;
///     client.close().await?; // half-close: the server reads to EOF
///     let mut got = Vec::new();
///     server.read_to_end(&mut got).await?;
///     assert_eq!(got, b"bye");
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct TcpStream {
    io: PollEvented<mio::net::TcpStream>,
}

impl TcpStream {
    pub(crate) fn new(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: PollEvented::new(stream)?,
        })
    }

    /// Opens a connection to `addr`, trying each resolved address in turn.
    ///
    /// A host name is resolved on the blocking pool (see the [module docs](crate::net)).
    ///
    /// # Errors
    ///
    /// The last address's error, for example `ConnectionRefused` when nothing listens.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the connection attempt and closes its socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::net::{TcpListener, TcpStream};
    ///
    /// flywheel::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = TcpStream::connect(listener.local_addr()?).await?;
    ///     assert_eq!(stream.peer_addr()?, listener.local_addr()?);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn connect<A>(addr: A) -> io::Result<TcpStream>
    where
        A: ToSocketAddrs,
    {
        let addrs = resolve(addr.to_resolve()).await?;
        each_addr(addrs, TcpStream::connect_addr).await
    }

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::connected(mio::net::TcpStream::connect(addr)?).await
    }

    /// The address of the remote end.
    ///
    /// # Errors
    ///
    /// When the socket is not connected any more.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let listener = flywheel::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = flywheel::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     assert_eq!(stream.peer_addr()?, listener.local_addr()?);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The local address of this end.
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
    ///     let stream = flywheel::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     assert!(stream.local_addr()?.ip().is_loopback());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets `TCP_NODELAY`: send small writes at once instead of coalescing them (Nagle).
    ///
    /// # Errors
    ///
    /// When the OS refuses the option.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let listener = flywheel::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = flywheel::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     stream.set_nodelay(true)?;
    ///     assert!(stream.nodelay()?);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
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
    ///     let stream = flywheel::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     assert!(!stream.nodelay()?);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Shuts down the reading half, the writing half or both, at once (like std's).
    ///
    /// Shutting down writes sends FIN: the peer's reads return end of file once it has read
    /// what was sent before.
    ///
    /// # Errors
    ///
    /// When the socket is not connected.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::AsyncReadExt;
    /// use std::net::Shutdown;
    ///
    /// flywheel::run(async {
    ///     let listener = flywheel::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = flywheel::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     client.shutdown(Shutdown::Write)?;
    ///     let mut buf = [0; 8];
    ///     assert_eq!(server.read(&mut buf).await?, 0);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Takes over a connected std stream: sets it non-blocking and registers it with the
    /// current runtime.
    ///
    /// # Errors
    ///
    /// Outside a runtime, or when the OS refuses the mode change or the registration.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let std_stream = std::net::TcpStream::connect(listener.local_addr()?)?;
    ///     let stream = flywheel::net::TcpStream::from_std(std_stream)?;
    ///     assert_eq!(stream.peer_addr()?, listener.local_addr()?);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::new(mio::net::TcpStream::from_std(stream))
    }

    /// Waits until the connection may be readable (data, end of file or an error).
    ///
    /// Readiness is a hint and is only cleared by a read that would block, so this may
    /// return at once after a successful read. Any number of tasks may wait at once.
    ///
    /// # Errors
    ///
    /// When the runtime the stream was registered with has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::AsyncWriteExt;
    ///
    /// flywheel::run(async {
    ///     let listener = flywheel::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut client = flywheel::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     client.write_all(b"!").await?;
    ///     server.readable().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    #[track_caller]
    pub fn readable(&self) -> impl Future<Output = io::Result<()>> + '_ {
        // Not an `async fn`, so that a dump can show this call as where the task waits.
        id::noted(
            Leaf::Read,
            Location::caller(),
            self.io.ready(Direction::Read),
        )
    }

    /// Waits until the connection may be writable.
    ///
    /// # Errors
    ///
    /// When the runtime the stream was registered with has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let listener = flywheel::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = flywheel::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     client.writable().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    #[track_caller]
    pub fn writable(&self) -> impl Future<Output = io::Result<()>> + '_ {
        // Not an `async fn`, so that a dump can show this call as where the task waits.
        id::noted(
            Leaf::Write,
            Location::caller(),
            self.io.ready(Direction::Write),
        )
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}

impl_async_io!(TcpStream);

impl_stream_readiness!(
    TcpStream,
    "    let listener = flywheel::net::TcpListener::bind(\"127.0.0.1:0\").await?;
    let client = flywheel::net::TcpStream::connect(listener.local_addr()?).await?;
    let (server, _) = listener.accept().await?;"
);

impl TcpStream {
    /// Waits for data and copies it into `buf` without taking it from the socket; returns
    /// the bytes copied (0 at end of file). The next read returns the same bytes.
    ///
    /// # Errors
    ///
    /// The OS's error, or an error once the runtime the stream was registered with has shut
    /// down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is consumed.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::{AsyncReadExt, AsyncWriteExt};
    ///
    /// flywheel::run(async {
    ///     let listener = flywheel::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut client = flywheel::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     client.write_all(b"look").await?;
    ///     let mut buf = [0; 4];
    ///     let n = server.peek(&mut buf).await?;
    ///     assert_eq!(&buf[..n], &b"look"[..n]);
    ///     server.read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"look");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Direction::Read, |s| s.peek(buf)).await
    }
}

// Connecting, shared with `TcpSocket`.
impl TcpStream {
    /// Registers a socket whose non-blocking `connect` is under way and waits until the
    /// handshake is over (for `connect` and `TcpSocket::connect`).
    pub(crate) async fn connected(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        let stream = TcpStream::new(stream)?;
        // Writable means the handshake finished, one way or the other (mio's docs on
        // `TcpStream::connect`): an error is pending, or the peer address is known.
        poll_fn(|cx| {
            stream.io.poll_io(cx, Direction::Write, |s| {
                if let Some(e) = s.take_error()? {
                    return Err(e);
                }
                match s.peer_addr() {
                    Ok(_) => Ok(()),
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                        Err(io::ErrorKind::WouldBlock.into())
                    }
                    Err(e) => Err(e),
                }
            })
        })
        .await?;
        Ok(stream)
    }
}

// Conversions to std and to descriptors.
impl TcpStream {
    /// Deregisters the stream and returns it as a std stream, in blocking mode again.
    ///
    /// # Errors
    ///
    /// When the OS refuses the deregistration or the mode change.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Read;
    /// use futures::AsyncWriteExt;
    ///
    /// flywheel::run(async {
    ///     let listener = flywheel::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut client = flywheel::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     let mut server = server.into_std()?;
    ///     client.write_all(b"std").await?;
    ///     let mut buf = [0; 3];
    ///     server.read_exact(&mut buf)?; // blocking read
    ///     assert_eq!(&buf, b"std");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        let stream = std::net::TcpStream::from(self.io.into_inner()?);
        stream.set_nonblocking(false)?;
        Ok(stream)
    }
}

impl_socket_conversions!(TcpStream, std::net::TcpStream);
