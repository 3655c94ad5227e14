//! `UnixStream`: one Unix domain stream connection.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use crate::io::poll_evented::PollEvented;
use crate::io::registration::Direction;

/// A Unix domain stream connection.
///
/// Implements [`AsyncRead`](futures_io::AsyncRead) and
/// [`AsyncWrite`](futures_io::AsyncWrite), for `UnixStream` and for `&UnixStream`, like
/// [`TcpStream`](crate::net::TcpStream), with the same rules: one reader and one writer
/// at a time through the traits, any number of tasks in `readable` / `writable`, and an
/// error for every wait once the stream's runtime has shut down.
///
/// # Examples
///
/// ```
/// use futures::{AsyncReadExt, AsyncWriteExt};
///
/// flywheel::run(async {
///     let (mut a, mut b) = flywheel::net::UnixStream::pair()?;
///     a.write_all(b"over").await?;
///     a.close().await?;
///     let mut got = String::new();
///     b.read_to_string(&mut got).await?;
///     assert_eq!(got, "over");
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct UnixStream {
    io: PollEvented<mio::net::UnixStream>,
}

impl UnixStream {
    pub(crate) fn new(stream: mio::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: PollEvented::new(stream)?,
        })
    }

    /// Connects to the socket at `path`.
    ///
    /// # Errors
    ///
    /// `NotFound` when nothing exists at `path`, `ConnectionRefused` when nothing listens
    /// there, or outside a runtime.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the attempt and closes its socket.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let path = std::env::temp_dir().join(format!("flywheel-doc-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let _listener = flywheel::net::UnixListener::bind(&path)?;
    ///     let stream = flywheel::net::UnixStream::connect(&path).await?;
    ///     assert_eq!(stream.peer_addr()?.as_pathname(), Some(path.as_path()));
    ///     std::fs::remove_file(&path)
    /// })
    /// .unwrap();
    /// ```
    pub async fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        let stream = UnixStream::new(mio::net::UnixStream::connect(path)?)?;
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

    /// A pair of connected, unnamed streams.
    ///
    /// # Errors
    ///
    /// When the OS runs out of descriptors, or outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let (a, b) = flywheel::net::UnixStream::pair()?;
    ///     assert!(a.peer_addr()?.is_unnamed() && b.local_addr()?.is_unnamed());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((UnixStream::new(a)?, UnixStream::new(b)?))
    }

    /// The local address (usually unnamed for a client).
    ///
    /// # Errors
    ///
    /// When the OS cannot tell (rare).
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let (a, _b) = flywheel::net::UnixStream::pair()?;
    ///     assert!(a.local_addr()?.is_unnamed());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address of the remote end.
    ///
    /// # Errors
    ///
    /// When the socket is not connected.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let (a, _b) = flywheel::net::UnixStream::pair()?;
    ///     assert!(a.peer_addr()?.is_unnamed());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down the reading half, the writing half or both, at once (like std's).
    ///
    /// # Errors
    ///
    /// When the socket is not connected.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::AsyncReadExt;
    ///
    /// flywheel::run(async {
    ///     let (a, mut b) = flywheel::net::UnixStream::pair()?;
    ///     a.shutdown(std::net::Shutdown::Write)?;
    ///     let mut buf = [0; 4];
    ///     assert_eq!(b.read(&mut buf).await?, 0);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Takes over a connected std stream: sets it non-blocking and registers it.
    ///
    /// # Errors
    ///
    /// Outside a runtime, or when the OS refuses the mode change or the registration.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    ///     let a = flywheel::net::UnixStream::from_std(a)?;
    ///     a.writable().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::new(mio::net::UnixStream::from_std(stream))
    }

    /// Waits until the stream may be readable (data, end of file or an error).
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
    ///     let (mut a, b) = flywheel::net::UnixStream::pair()?;
    ///     a.write_all(b"!").await?;
    ///     b.readable().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(Direction::Read).await
    }

    /// Waits until the stream may be writable.
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
    ///     let (a, _b) = flywheel::net::UnixStream::pair()?;
    ///     a.writable().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready(Direction::Write).await
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}

impl_async_io!(UnixStream);

/// Readiness and non-blocking calls, with tokio's names and semantics.
///
/// `ready` / `readable` / `writable` wait without doing any I/O and may be awaited by any
/// number of tasks at once; the `try_*` methods do one non-blocking call now and never wait
/// or store a waker. A `try_*` call that returns `WouldBlock` clears the readiness it
/// consumed (unless a newer event arrived meanwhile), so "wait, try, on `WouldBlock` wait
/// again" sleeps between events instead of spinning.
impl UnixStream {
    /// Waits until the stream is ready for any direction of `interest`; returns what is ready.
    /// Does no I/O and clears nothing.
    ///
    /// Readiness is a hint: the next `try_*` call may still return `WouldBlock` (and then
    /// clears it). Any number of tasks may wait at once; an event wakes them all.
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
    /// use flywheel::io::Interest;
    /// use std::io;
    ///
    /// flywheel::run(async {
    ///     let (client, server) = flywheel::net::UnixStream::pair()?;
    ///     client.writable().await?;
    ///     client.try_write(b"ping")?;
    ///     let mut buf = [0; 4];
    ///     loop {
    ///         let ready = server.ready(Interest::READABLE | Interest::WRITABLE).await?;
    ///         assert!(ready.is_writable() || ready.is_readable());
    ///         if ready.is_readable() {
    ///             match server.try_read(&mut buf) {
    ///                 Ok(n) => break assert_eq!(&buf[..n], b"ping"),
    ///                 Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
    ///                 Err(e) => return Err(e),
    ///             }
    ///         }
    ///         // Only writable: a real program would write here; this one waits for data.
    ///         server.readable().await?;
    ///     }
    ///     Ok::<(), io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn ready(&self, interest: crate::io::Interest) -> io::Result<crate::io::Ready> {
        self.io.ready_for(interest).await
    }

    /// Polls for read readiness: `Ready(Ok(()))` when the stream may be readable, else
    /// stores the waker and returns `Pending`. Does no I/O and clears nothing.
    ///
    /// Only the task that polled last is woken (the waker is kept with those of the
    /// `AsyncRead` implementation): use [`readable`](UnixStream::readable) for several tasks.
    ///
    /// # Errors
    ///
    /// When the runtime the stream was registered with has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// flywheel::run(async {
    ///     let (client, server) = flywheel::net::UnixStream::pair()?;
    ///     client.writable().await?;
    ///     client.try_write(b"!")?;
    ///     poll_fn(|cx| server.poll_read_ready(cx)).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_read_ready(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Read).map_ok(|_| ())
    }

    /// Polls for write readiness; the writing twin of
    /// [`poll_read_ready`](UnixStream::poll_read_ready), with the same rules.
    ///
    /// # Errors
    ///
    /// When the runtime the stream was registered with has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// flywheel::run(async {
    ///     let (client, server) = flywheel::net::UnixStream::pair()?;
    ///     poll_fn(|cx| client.poll_write_ready(cx)).await?;
    ///     # drop(server);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_write_ready(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Write).map_ok(|_| ())
    }

    /// Reads what is there into `buf`, now, without waiting; returns the bytes read (0 at
    /// end of file, or when `buf` is empty).
    ///
    /// Returns `WouldBlock` when nothing is there, or when the reactor has not reported the
    /// stream readable since the last `WouldBlock` (so await [`readable`](UnixStream::readable)
    /// first). A `WouldBlock` clears the read readiness it consumed, so the next
    /// `readable()` sleeps until new data arrives; so does a read shorter than `buf`, which
    /// means the socket buffer ran dry.
    ///
    /// # Errors
    ///
    /// `WouldBlock` as above, the OS's error, or an error once the runtime the stream was
    /// registered with has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    ///
    /// flywheel::run(async {
    ///     let (client, server) = flywheel::net::UnixStream::pair()?;
    ///     client.writable().await?;
    ///     client.try_write(b"hello")?;
    ///     let mut buf = [0; 16];
    ///     let n = loop {
    ///         server.readable().await?;
    ///         match server.try_read(&mut buf) {
    ///             Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
    ///             r => break r?,
    ///         }
    ///     };
    ///     assert_eq!(&buf[..n], b"hello");
    ///     Ok::<(), io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let len = buf.len();
        self.io
            .try_stream_io(Direction::Read, len, |mut s| io::Read::read(&mut s, buf))
    }

    /// [`try_read`](UnixStream::try_read) into several buffers, filled in order.
    ///
    /// # Errors
    ///
    /// As for [`try_read`](UnixStream::try_read).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{self, IoSliceMut};
    ///
    /// flywheel::run(async {
    ///     let (client, server) = flywheel::net::UnixStream::pair()?;
    ///     client.writable().await?;
    ///     client.try_write(b"headbody")?;
    ///     let mut got: Vec<u8> = Vec::new();
    ///     while got.len() < 8 {
    ///         server.readable().await?;
    ///         let (mut head, mut body) = ([0; 4], [0; 4]);
    ///         let mut bufs = [IoSliceMut::new(&mut head), IoSliceMut::new(&mut body)];
    ///         match server.try_read_vectored(&mut bufs) {
    ///             Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
    ///             r => {
    ///                 let n = r?;
    ///                 got.extend(head.iter().chain(&body).take(n));
    ///             }
    ///         }
    ///     }
    ///     assert_eq!(got, b"headbody");
    ///     Ok::<(), io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn try_read_vectored(&self, bufs: &mut [io::IoSliceMut<'_>]) -> io::Result<usize> {
        let len = bufs.iter().map(|b| b.len()).sum();
        self.io.try_stream_io(Direction::Read, len, |mut s| {
            io::Read::read_vectored(&mut s, bufs)
        })
    }

    /// Writes as much of `buf` as fits, now, without waiting; returns the bytes written.
    ///
    /// Returns `WouldBlock` when the send buffer is full, or when the reactor has not
    /// reported the stream writable since the last `WouldBlock` (so await
    /// [`writable`](UnixStream::writable) first). A `WouldBlock`, or a write shorter than `buf`,
    /// clears the write readiness it consumed.
    ///
    /// # Errors
    ///
    /// `WouldBlock` as above, the OS's error (`BrokenPipe` once the peer is gone), or an
    /// error once the runtime the stream was registered with has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    ///
    /// flywheel::run(async {
    ///     let (client, server) = flywheel::net::UnixStream::pair()?;
    ///     let mut rest: &[u8] = b"all of it";
    ///     while !rest.is_empty() {
    ///         client.writable().await?;
    ///         match client.try_write(rest) {
    ///             Ok(n) => rest = &rest[n..],
    ///             Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
    ///             Err(e) => return Err(e),
    ///         }
    ///     }
    ///     # drop(server);
    ///     Ok::<(), io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_stream_io(Direction::Write, buf.len(), |mut s| {
            io::Write::write(&mut s, buf)
        })
    }

    /// [`try_write`](UnixStream::try_write) from several buffers, taken in order.
    ///
    /// # Errors
    ///
    /// As for [`try_write`](UnixStream::try_write).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::IoSlice;
    ///
    /// flywheel::run(async {
    ///     let (client, server) = flywheel::net::UnixStream::pair()?;
    ///     client.writable().await?;
    ///     let n = client.try_write_vectored(&[IoSlice::new(b"head"), IoSlice::new(b"body")])?;
    ///     assert_eq!(n, 8);
    ///     # drop(server);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn try_write_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let len = bufs.iter().map(|b| b.len()).sum();
        self.io.try_stream_io(Direction::Write, len, |mut s| {
            io::Write::write_vectored(&mut s, bufs)
        })
    }
}

// Conversions to std and to descriptors.
impl UnixStream {
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
    ///     let (mut a, b) = flywheel::net::UnixStream::pair()?;
    ///     let mut b = b.into_std()?;
    ///     a.write_all(b"std").await?;
    ///     let mut buf = [0; 3];
    ///     b.read_exact(&mut buf)?; // blocking read
    ///     assert_eq!(&buf, b"std");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        let stream = std::os::unix::net::UnixStream::from(self.io.into_inner()?);
        stream.set_nonblocking(false)?;
        Ok(stream)
    }
}

impl_socket_conversions!(UnixStream, std::os::unix::net::UnixStream);
