//! hyper 1.x on flywheel: the runtime traits of `hyper::rt` over flywheel's pieces.
//!
//! hyper does no I/O, spawning or timing of its own; a connection is driven through four
//! traits, implemented here:
//!
//! | hyper needs | flywheel provides |
//! |---|---|
//! | `rt::Read` + `rt::Write` for the connection | [`FlywheelIo`], over any `futures_io` stream ([`TcpStream`](crate::net::TcpStream), [`UnixStream`](crate::net::UnixStream)) |
//! | `rt::Executor` for background tasks (HTTP/2 streams, client connections) | [`FlywheelExecutor`], over [`spawn`](crate::spawn) |
//! | `rt::Timer` for timeouts (`header_read_timeout`, keep-alive) | [`FlywheelTimer`], over [`time::Sleep`](crate::time::Sleep) |
//!
//! # Examples
//!
//! An HTTP/1.1 server and a client talking to it over loopback:
//!
//! ```
//! use std::convert::Infallible;
//!
//! use bytes::Bytes;
//! use http_body_util::{BodyExt, Empty, Full};
//! use hyper::{Request, Response};
//! use flywheel::compat::hyper::{FlywheelIo, FlywheelTimer};
//! use flywheel::net::{TcpListener, TcpStream};
//!
//! async fn hello(_: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
//!     Ok(Response::new(Full::new(Bytes::from("Hello, World!"))))
//! }
//!
//! flywheel::run(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     flywheel::spawn(async move {
//!         let (stream, _) = listener.accept().await?;
//!         hyper::server::conn::http1::Builder::new()
//!             .timer(FlywheelTimer::new())
//!             .serve_connection(FlywheelIo::new(stream), hyper::service::service_fn(hello))
//!             .await
//!             .map_err(std::io::Error::other)
//!     });
//!
//!     let stream = TcpStream::connect(addr).await?;
//!     let (mut sender, connection) = hyper::client::conn::http1::handshake(FlywheelIo::new(stream))
//!         .await
//!         .map_err(std::io::Error::other)?;
//!     flywheel::spawn(connection);
//!     let request = Request::get("/").header("host", "localhost").body(Empty::<Bytes>::new()).unwrap();
//!     let response = sender.send_request(request).await.map_err(std::io::Error::other)?;
//!     let body = response.into_body().collect().await.map_err(std::io::Error::other)?;
//!     assert_eq!(body.to_bytes(), "Hello, World!");
//!     Ok::<(), std::io::Error>(())
//! })
//! .unwrap();
//! ```

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_io::{AsyncRead, AsyncWrite};
use hyper::rt::ReadBufCursor;

use crate::time::Sleep;

/// Size of the buffer a [`FlywheelIo`] reads into before handing bytes to hyper.
const SCRATCH_LEN: usize = 16 * 1024;

/// A `futures_io` stream seen through hyper's `rt::Read` and `rt::Write`.
///
/// Wrap the accepted or connected stream and hand it to hyper's `serve_connection` or
/// `handshake`. Works for any `AsyncRead + AsyncWrite + Unpin` type, flywheel's
/// [`TcpStream`](crate::net::TcpStream) and [`UnixStream`](crate::net::UnixStream) included.
///
/// hyper hands reads a possibly uninitialised buffer, which can only be filled without
/// `unsafe` by copying: a read lands in a scratch buffer owned by the wrapper (allocated on
/// the first read, 16 KiB) and is then copied into hyper's. For the small
/// messages of a typical HTTP exchange the copy costs far less than the system call.
///
/// # Examples
///
/// ```
/// use flywheel::compat::hyper::FlywheelIo;
/// use flywheel::net::{TcpListener, TcpStream};
///
/// flywheel::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let stream = TcpStream::connect(listener.local_addr()?).await?;
///     let io = FlywheelIo::new(stream);
///     assert_eq!(io.get_ref().peer_addr()?, listener.local_addr()?);
///     let _stream: TcpStream = io.into_inner();
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct FlywheelIo<T> {
    inner: T,
    scratch: Vec<u8>,
}

impl<T> FlywheelIo<T> {
    /// Wraps a stream.
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::compat::hyper::FlywheelIo;
    ///
    /// // Anything `futures_io` works: here an in-memory cursor.
    /// let io = FlywheelIo::new(futures::io::Cursor::new(b"GET / HTTP/1.1\r\n".to_vec()));
    /// assert_eq!(io.get_ref().get_ref().len(), 16);
    /// ```
    pub fn new(inner: T) -> FlywheelIo<T> {
        FlywheelIo {
            inner,
            scratch: Vec::new(),
        }
    }

    /// The wrapped stream.
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::compat::hyper::FlywheelIo;
    ///
    /// let io = FlywheelIo::new(futures::io::Cursor::new(vec![1u8, 2, 3]));
    /// assert_eq!(io.get_ref().position(), 0);
    /// ```
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::compat::hyper::FlywheelIo;
    ///
    /// let mut io = FlywheelIo::new(futures::io::Cursor::new(vec![1u8, 2, 3]));
    /// io.get_mut().set_position(2);
    /// assert_eq!(io.get_ref().position(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream.
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::compat::hyper::FlywheelIo;
    ///
    /// let io = FlywheelIo::new(futures::io::Cursor::new(vec![7u8]));
    /// assert_eq!(io.into_inner().into_inner(), [7]);
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: fmt::Debug> fmt::Debug for FlywheelIo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("FlywheelIo").field(&self.inner).finish()
    }
}

impl<T: AsyncRead + Unpin> hyper::rt::Read for FlywheelIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.scratch.is_empty() {
            this.scratch = vec![0; SCRATCH_LEN];
        }
        let want = buf.remaining().min(this.scratch.len());
        let n = match Pin::new(&mut this.inner).poll_read(cx, &mut this.scratch[..want]) {
            Poll::Ready(Ok(n)) => n,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        };
        buf.put_slice(&this.scratch[..n]);
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> hyper::rt::Write for FlywheelIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    /// `futures_io` cannot say whether a stream writes vectors natively; flywheel's sockets
    /// do (`writev`), and for others the default writes the first buffer, which is correct.
    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}

/// hyper's `rt::Executor`: runs hyper's background futures as flywheel tasks.
///
/// Give it to builders that spawn (HTTP/2 server and client connections); each future is
/// spawned with [`flywheel::spawn`](crate::spawn) and detached.
///
/// # Panics
///
/// `execute` panics outside a flywheel runtime, like [`flywheel::spawn`](crate::spawn): hyper
/// calls it while a connection is polled, so serve connections on the runtime.
///
/// # Examples
///
/// ```
/// use hyper::rt::Executor;
/// use flywheel::compat::hyper::FlywheelExecutor;
///
/// flywheel::run(async {
///     let (tx, rx) = futures::channel::oneshot::channel();
///     FlywheelExecutor::new().execute(async move { tx.send(5).unwrap() });
///     assert_eq!(rx.await, Ok(5));
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct FlywheelExecutor {
    _private: (),
}

impl FlywheelExecutor {
    /// An executor that spawns onto the current flywheel runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let executor = flywheel::compat::hyper::FlywheelExecutor::new();
    /// let _copy = executor;
    /// ```
    pub fn new() -> FlywheelExecutor {
        FlywheelExecutor { _private: () }
    }
}

impl<F> hyper::rt::Executor<F> for FlywheelExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    #[track_caller]
    fn execute(&self, future: F) {
        // Detached: hyper watches the outcome through its own channels.
        drop(crate::spawn(future));
    }
}

/// hyper's `rt::Timer`: sleeps on flywheel's timer wheel.
///
/// Needed for hyper's timeouts, such as the HTTP/1 server's `header_read_timeout` (on by
/// default once a timer is set). hyper keeps its sleeps as `Pin<Box<dyn Sleep>>`; a reset
/// moves the existing flywheel [`Sleep`] in place instead of allocating a new one. `now`
/// reads the runtime's clock, so hyper's timeouts follow a paused clock in tests
/// ([`Builder::start_paused`](crate::Builder::start_paused)).
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use hyper::rt::Timer;
/// use flywheel::compat::hyper::FlywheelTimer;
///
/// flywheel::run(async {
///     let timer = FlywheelTimer::new();
///     let start = Instant::now();
///     timer.sleep(Duration::from_millis(5)).await;
///     assert!(start.elapsed() >= Duration::from_millis(5));
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct FlywheelTimer {
    _private: (),
}

impl FlywheelTimer {
    /// A timer on the current runtime's clock.
    ///
    /// # Examples
    ///
    /// ```
    /// let timer = flywheel::compat::hyper::FlywheelTimer::new();
    /// let server = hyper::server::conn::http1::Builder::new().timer(timer).clone();
    /// # drop(server);
    /// ```
    pub fn new() -> FlywheelTimer {
        FlywheelTimer { _private: () }
    }
}

impl hyper::rt::Timer for FlywheelTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(crate::time::sleep(duration))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(crate::time::sleep_until(deadline.into()))
    }

    fn now(&self) -> Instant {
        // The runtime's clock (paused or not), in the std type hyper speaks.
        crate::time::Instant::now().into_std()
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<Sleep>() {
            Some(ours) => ours.reset(new_deadline.into()),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

impl hyper::rt::Sleep for Sleep {}
