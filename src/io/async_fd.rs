//! `Async<T>`: any file descriptor the caller made non-blocking, on the reactor.
//!
//! Invariant: `io` is `Some` from `new` until `into_inner` or `drop`, and while it is, its
//! descriptor is registered under `registration`; both paths deregister before giving the
//! descriptor up, so the poller never watches a closed (or reused) descriptor.

use std::fmt;
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use mio::unix::SourceFd;

use crate::io::registration::{Direction, Registration};
use crate::task::id::{self, Leaf};

/// A non-blocking file descriptor registered with the runtime's reactor.
///
/// Wrap anything that implements [`AsFd`] — a pipe, a std socket, an eventfd — after
/// putting it in non-blocking mode yourself (std types have `set_nonblocking(true)`;
/// flywheel never changes the mode of a descriptor it is given). Then either
/// - use the [`AsyncRead`] / [`AsyncWrite`] implementations when `T` implements `Read` /
///   `Write` (for `Async<T>`, and for `&Async<T>` when `&T` does, so a reader task and a
///   writer task can share one value; through the traits, one task at a time reads and one
///   writes: only the task that polled last is woken), or
/// - do the I/O calls by hand with [`read_with`](Async::read_with) /
///   [`write_with`](Async::write_with) (and their `_mut` twins), which any number of tasks
///   may await at once.
///
/// [`readable`](Async::readable) / [`writable`](Async::writable) only wait: they never
/// clear readiness, so they are no way to wait again after a call by hand returned
/// `WouldBlock` (that loop would spin); `read_with` / `write_with` are.
///
/// Dropping an `Async<T>` deregisters the descriptor and then drops `T`. Once its runtime
/// has shut down, every wait on it fails with an error.
///
/// # Examples
///
/// ```
/// use futures::{AsyncReadExt, AsyncWriteExt};
/// use flywheel::io::Async;
/// use std::os::unix::net::UnixStream;
///
/// flywheel::run(async {
///     let (a, b) = UnixStream::pair()?;
///     a.set_nonblocking(true)?;
///     b.set_nonblocking(true)?;
///     let (mut a, mut b) = (Async::new(a)?, Async::new(b)?);
///     a.write_all(b"ping").await?;
///     let mut buf = [0; 4];
///     b.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"ping");
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
///
/// Reading by hand: "wait until readable, read, on `WouldBlock` wait again" is one
/// `read_with` call, which clears readiness on `WouldBlock` so the next wait really sleeps:
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
///
/// flywheel::run(async {
///     let (a, mut b) = UnixStream::pair()?;
///     a.set_nonblocking(true)?;
///     let a = flywheel::io::Async::new(a)?;
///     let writer = std::thread::spawn(move || {
///         b.write_all(b"one")?;
///         b.write_all(b"two")
///     });
///     let mut got = Vec::new();
///     while got.len() < 6 {
///         let mut buf = [0; 16];
///         let n = a.read_with(|mut s| s.read(&mut buf)).await?;
///         got.extend_from_slice(&buf[..n]);
///     }
///     assert_eq!(got, b"onetwo");
///     writer.join().unwrap()
/// })
/// .unwrap();
/// ```
pub struct Async<T: AsFd> {
    io: Option<T>,
    registration: Registration,
}

impl<T: AsFd> Async<T> {
    /// Registers `io` with the current runtime's reactor. `io` must already be in
    /// non-blocking mode, or reads and writes through this type block the worker.
    ///
    /// # Errors
    ///
    /// Outside a runtime, or when the OS refuses the descriptor (for example a regular file,
    /// which epoll cannot watch).
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    ///     socket.set_nonblocking(true)?;
    ///     let socket = flywheel::io::Async::new(socket)?;
    ///     socket.writable().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn new(io: T) -> io::Result<Async<T>> {
        let fd = io.as_fd().as_raw_fd();
        let registration = Registration::new(&mut SourceFd(&fd))?;
        Ok(Async {
            io: Some(io),
            registration,
        })
    }

    /// The wrapped value.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    ///     socket.set_nonblocking(true)?;
    ///     let socket = flywheel::io::Async::new(socket)?;
    ///     assert!(socket.get_ref().local_addr()?.port() != 0);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn get_ref(&self) -> &T {
        self.io.as_ref().expect("the value is present until drop")
    }

    /// Deregisters the descriptor and returns the wrapped value (still non-blocking).
    ///
    /// # Errors
    ///
    /// When the OS refuses to deregister the descriptor.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    ///     socket.set_nonblocking(true)?;
    ///     let socket = flywheel::io::Async::new(socket)?.into_inner()?;
    ///     assert!(socket.local_addr().is_ok());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn into_inner(mut self) -> io::Result<T> {
        let io = self.io.take().expect("the value is present until drop");
        let fd = io.as_fd().as_raw_fd();
        self.registration.deregister(&mut SourceFd(&fd))?;
        Ok(io)
    }

    /// Waits until the descriptor may be readable.
    ///
    /// Readiness is a hint, and this does not clear it: after a read by hand returned
    /// `WouldBlock`, `readable()` still returns at once, and a loop of "`readable().await`,
    /// read by hand, on `WouldBlock` wait again" keeps spinning until data arrives (other
    /// tasks still run, as each call spends a unit of the task's cooperative budget, but the
    /// task burns a CPU). For reads by hand, use [`read_with`](Async::read_with) (or
    /// [`read_with_mut`](Async::read_with_mut)): it clears readiness when your closure
    /// returns `WouldBlock` and then really waits. `readable()` is for "tell me when there is
    /// something" before handing the descriptor to code that reads it until `WouldBlock`
    /// through this `Async` (its [`AsyncRead`] implementation clears readiness too).
    ///
    /// Any number of tasks may wait at once; an event wakes them all.
    ///
    /// # Errors
    ///
    /// When the runtime the value was registered with has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    ///
    /// flywheel::run(async {
    ///     let (a, mut b) = std::os::unix::net::UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let a = flywheel::io::Async::new(a)?;
    ///     b.write_all(b"x")?;
    ///     a.readable().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    #[track_caller]
    pub fn readable(&self) -> impl Future<Output = io::Result<()>> + '_ {
        // Not an `async fn`, so that a dump can show this call as where the task waits.
        let at = Location::caller();
        let mut waiter = self.registration.waiter(Direction::Read);
        id::noted(
            Leaf::Read,
            at,
            poll_fn(move |cx| waiter.poll_ready(cx).map_ok(|_| ())),
        )
    }

    /// Waits until the descriptor may be writable.
    ///
    /// Like [`readable`](Async::readable), this does not clear readiness: for writes by hand
    /// use [`write_with`](Async::write_with). Any number of tasks may wait at once.
    ///
    /// # Errors
    ///
    /// When the runtime the value was registered with has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     flywheel::io::Async::new(a)?.writable().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    #[track_caller]
    pub fn writable(&self) -> impl Future<Output = io::Result<()>> + '_ {
        // Not an `async fn`, so that a dump can show this call as where the task waits.
        let at = Location::caller();
        let mut waiter = self.registration.waiter(Direction::Write);
        id::noted(
            Leaf::Write,
            at,
            poll_fn(move |cx| waiter.poll_ready(cx).map_ok(|_| ())),
        )
    }

    /// Reads by hand: calls `op` with the value once the descriptor may be readable, and
    /// again after each new readiness event for as long as `op` returns `WouldBlock`;
    /// returns `op`'s first other result.
    ///
    /// This is the loop "wait until readable, read, on `WouldBlock` wait again" done right:
    /// a `WouldBlock` clears the readiness `op` was given (unless a newer event arrived
    /// meanwhile), so the next wait sleeps until the OS reports the descriptor readable
    /// again. `op` must do non-blocking I/O and report "nothing yet" as `WouldBlock`. Each
    /// call spends a unit of the task's cooperative budget.
    ///
    /// Any number of tasks may wait at once (give each a shared reference); an event wakes
    /// them all and the ones whose `op` finds nothing wait again.
    ///
    /// # Errors
    ///
    /// Whatever `op` returns other than `WouldBlock`, or an error when the runtime the value
    /// was registered with has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe as long as `op` is: `op` only runs inside `poll`, so dropping the future
    /// between two calls loses nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::UdpSocket;
    ///
    /// flywheel::run(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0")?;
    ///     socket.set_nonblocking(true)?;
    ///     let socket = flywheel::io::Async::new(socket)?;
    ///     let sender = UdpSocket::bind("127.0.0.1:0")?;
    ///     sender.send_to(b"hello", socket.get_ref().local_addr()?)?;
    ///
    ///     let mut buf = [0; 16];
    ///     let (n, from) = socket.read_with(|s| s.recv_from(&mut buf)).await?;
    ///     assert_eq!((&buf[..n], from), (&b"hello"[..], sender.local_addr()?));
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn read_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        let io = self.get_ref();
        let mut waiter = self.registration.waiter(Direction::Read);
        poll_fn(|cx| waiter.poll_io(cx, || op(io))).await
    }

    /// [`read_with`](Async::read_with) with a mutable reference to the value, for types
    /// whose reads need `&mut self`.
    ///
    /// # Errors
    ///
    /// As for [`read_with`](Async::read_with).
    ///
    /// # Cancel safety
    ///
    /// As for [`read_with`](Async::read_with).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{Read, Write};
    ///
    /// flywheel::run(async {
    ///     let (a, mut b) = std::os::unix::net::UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let mut a = flywheel::io::Async::new(a)?;
    ///     b.write_all(b"ping")?;
    ///     let mut buf = [0; 4];
    ///     let n = a.read_with_mut(|s| s.read(&mut buf)).await?;
    ///     assert_eq!(&buf[..n], b"ping");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn read_with_mut<R>(
        &mut self,
        mut op: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        let Async { io, registration } = self;
        let io = io.as_mut().expect("the value is present until drop");
        let mut waiter = registration.waiter(Direction::Read);
        poll_fn(|cx| waiter.poll_io(cx, || op(io))).await
    }

    /// Writes by hand: calls `op` with the value once the descriptor may be writable, and
    /// again after each new readiness event for as long as `op` returns `WouldBlock`;
    /// returns `op`'s first other result. The writing twin of
    /// [`read_with`](Async::read_with).
    ///
    /// # Errors
    ///
    /// Whatever `op` returns other than `WouldBlock`, or an error when the runtime the value
    /// was registered with has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe as long as `op` is.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    ///     socket.set_nonblocking(true)?;
    ///     let socket = flywheel::io::Async::new(socket)?;
    ///     let target = socket.get_ref().local_addr()?;
    ///     let n = socket.write_with(|s| s.send_to(b"to myself", target)).await?;
    ///     assert_eq!(n, 9);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn write_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        let io = self.get_ref();
        let mut waiter = self.registration.waiter(Direction::Write);
        poll_fn(|cx| waiter.poll_io(cx, || op(io))).await
    }

    /// [`write_with`](Async::write_with) with a mutable reference to the value.
    ///
    /// # Errors
    ///
    /// As for [`write_with`](Async::write_with).
    ///
    /// # Cancel safety
    ///
    /// As for [`write_with`](Async::write_with).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    ///
    /// flywheel::run(async {
    ///     let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let mut a = flywheel::io::Async::new(a)?;
    ///     let n = a.write_with_mut(|s| s.write(b"pong")).await?;
    ///     assert_eq!(n, 4);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn write_with_mut<R>(
        &mut self,
        mut op: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        let Async { io, registration } = self;
        let io = io.as_mut().expect("the value is present until drop");
        let mut waiter = registration.waiter(Direction::Write);
        poll_fn(|cx| waiter.poll_io(cx, || op(io))).await
    }
}

// `T` is never pinned in place: it is only reached through `&`/`&mut`.
impl<T: AsFd> Unpin for Async<T> {}

impl<T: AsFd> Drop for Async<T> {
    fn drop(&mut self) {
        if let Some(io) = self.io.take() {
            let fd = io.as_fd().as_raw_fd();
            // Errors are ignored: the descriptor is closed right after anyway.
            let _ = self.registration.deregister(&mut SourceFd(&fd));
        }
    }
}

impl<T: AsFd + fmt::Debug> fmt::Debug for Async<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Async").field("io", &self.io).finish()
    }
}

impl<T: AsFd + Read> AsyncRead for Async<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let io = this.io.as_mut().expect("the value is present until drop");
        this.registration
            .poll_io(cx, Direction::Read, || io.read(buf))
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let io = this.io.as_mut().expect("the value is present until drop");
        this.registration
            .poll_io(cx, Direction::Read, || io.read_vectored(bufs))
    }
}

impl<T: AsFd + Write> AsyncWrite for Async<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let io = this.io.as_mut().expect("the value is present until drop");
        this.registration
            .poll_io(cx, Direction::Write, || io.write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let io = this.io.as_mut().expect("the value is present until drop");
        this.registration
            .poll_io(cx, Direction::Write, || io.write_vectored(bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let io = this.io.as_mut().expect("the value is present until drop");
        this.registration
            .poll_io(cx, Direction::Write, || io.flush())
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl<T: AsFd> AsyncRead for &Async<T>
where
    for<'a> &'a T: Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this: &Async<T> = *self;
        let mut io = this.get_ref();
        this.registration
            .poll_io(cx, Direction::Read, || io.read(buf))
    }
}

impl<T: AsFd> AsyncWrite for &Async<T>
where
    for<'a> &'a T: Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this: &Async<T> = *self;
        let mut io = this.get_ref();
        this.registration
            .poll_io(cx, Direction::Write, || io.write(buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this: &Async<T> = *self;
        let mut io = this.get_ref();
        this.registration
            .poll_io(cx, Direction::Write, || io.flush())
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}
