//! `Async<T>`: any file descriptor the caller made non-blocking, on the reactor.
//!
//! Invariant: `io` is `Some` from `new` until `into_inner` or `drop`, and while it is, its
//! descriptor is registered under `registration`; both paths deregister before giving the
//! descriptor up, so the poller never watches a closed (or reused) descriptor.
//!
//! `mod.rs` holds the type, its constructors and its `Drop`; `wait.rs` the methods that wait
//! for readiness (`readable`, `read_with`, ...); `stream.rs` the `AsyncRead` / `AsyncWrite`
//! implementations.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd};

// For the intra-doc links of `Async`; the implementations live in `stream.rs`.
#[cfg(doc)]
use futures_io::{AsyncRead, AsyncWrite};
use mio::unix::SourceFd;

use crate::io::registration::Registration;

mod stream;
mod wait;

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
