//! The methods of `Async<T>` that wait for readiness: `readable` / `writable`, which only
//! wait, and `read_with` / `write_with` (and their `_mut` twins), which do the I/O by hand and
//! clear readiness on `WouldBlock`.

use std::future::{poll_fn, Future};
use std::io;
use std::os::fd::AsFd;
use std::panic::Location;

// For the intra-doc link in `readable`.
#[cfg(doc)]
use futures_io::AsyncRead;

use super::Async;
use crate::io::registration::Direction;
use crate::task::id::{self, Leaf};

impl<T: AsFd> Async<T> {
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
