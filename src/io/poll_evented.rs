//! `PollEvented`: a mio source together with its registration, the building block of the
//! net types.
//!
//! The source is deregistered from the OS poller in `Drop`, before it is closed.

use std::io;
use std::task::{Context, Poll};

use crate::io::registration::{Direction, Registration, Waiter};
use crate::io::{Interest, Ready};

/// A mio source registered with the current runtime's reactor.
pub(crate) struct PollEvented<E: mio::event::Source> {
    /// Always `Some` until `into_inner` or `drop` takes it.
    io: Option<E>,
    registration: Registration,
}

impl<E: mio::event::Source> PollEvented<E> {
    /// Registers `io` for reads and writes.
    ///
    /// # Errors
    ///
    /// Outside a runtime, or when the OS refuses the registration.
    pub(crate) fn new(mut io: E) -> io::Result<PollEvented<E>> {
        let registration = Registration::new(&mut io)?;
        Ok(PollEvented {
            io: Some(io),
            registration,
        })
    }

    pub(crate) fn get_ref(&self) -> &E {
        self.io.as_ref().expect("the source is present until drop")
    }

    /// Waits until `direction` is ready, without doing any I/O; for `readable()` and
    /// `writable()`. Any number of tasks may wait at once.
    pub(crate) async fn ready(&self, direction: Direction) -> io::Result<()> {
        let mut waiter: Waiter<'_> = self.registration.waiter(direction);
        std::future::poll_fn(|cx| waiter.poll_ready(cx).map_ok(|_| ())).await
    }

    /// Runs `op` on the source once `direction` is ready, for an `async fn` (accept, recv,
    /// send): any number of tasks may wait at once. See `Registration::poll_io`.
    pub(crate) async fn io<R>(
        &self,
        direction: Direction,
        mut op: impl FnMut(&E) -> io::Result<R>,
    ) -> io::Result<R> {
        let source = self.get_ref();
        let mut waiter = self.registration.waiter(direction);
        std::future::poll_fn(|cx| waiter.poll_io(cx, || op(source))).await
    }

    /// Runs `op` on the source when `direction` is ready, for `poll_*` methods (only the
    /// task that polled last is woken); see `Registration::poll_io`.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut(&E) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let io = self.get_ref();
        self.registration.poll_io(cx, direction, || op(io))
    }
}

impl<E: mio::event::Source> PollEvented<E> {
    /// Runs a read or write of `len` bytes on a byte stream; see
    /// `Registration::poll_stream_io`.
    pub(crate) fn poll_stream_io(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        len: usize,
        mut op: impl FnMut(&E) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let io = self.get_ref();
        self.registration
            .poll_stream_io(cx, direction, len, || op(io))
    }

    /// Deregisters the source and returns it, for `into_std`.
    ///
    /// # Errors
    ///
    /// When the OS refuses to deregister the source; the source is then closed.
    pub(crate) fn into_inner(mut self) -> io::Result<E> {
        let mut io = self.io.take().expect("the source is present until drop");
        self.registration.deregister(&mut io)?;
        Ok(io)
    }
}

impl<E: mio::event::Source> PollEvented<E> {
    /// Waits until a direction of `interest` is ready, without doing any I/O; for
    /// `ready(interest)`. Any number of tasks may wait at once.
    pub(crate) async fn ready_for(&self, interest: Interest) -> io::Result<Ready> {
        let mut waiter = self.registration.ready_waiter(interest);
        std::future::poll_fn(|cx| waiter.poll_ready(cx)).await
    }

    /// Waits until `direction` is ready, for `poll_*_ready` methods (only the task that
    /// polled last is woken); see `Registration::poll_ready`.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<Ready>> {
        self.registration.poll_ready(cx, direction)
    }

    /// Runs `op` on the source once, now, for `try_*` methods; see `Registration::try_io`.
    pub(crate) fn try_io<R>(
        &self,
        direction: Direction,
        op: impl FnOnce(&E) -> io::Result<R>,
    ) -> io::Result<R> {
        let io = self.get_ref();
        self.registration.try_io(direction, || op(io))
    }

    /// `try_io` for a read or write of `len` bytes on a byte stream; see
    /// `Registration::try_stream_io`.
    pub(crate) fn try_stream_io(
        &self,
        direction: Direction,
        len: usize,
        op: impl FnOnce(&E) -> io::Result<usize>,
    ) -> io::Result<usize> {
        let io = self.get_ref();
        self.registration.try_stream_io(direction, len, || op(io))
    }
}

impl<E: mio::event::Source> Drop for PollEvented<E> {
    fn drop(&mut self) {
        if let Some(mut io) = self.io.take() {
            let _ = self.registration.deregister(&mut io);
        }
    }
}
