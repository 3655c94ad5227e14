//! A socket's membership in the reactor (`Registration`) and the place of one waiting
//! future in a source's waiter list (`Waiter`).
//!
//! `Registration` holds the source's slab slot (given back when dropped) and its shared
//! `ScheduledIo`; every I/O type owns one. Operations go through it in one of three ways:
//! - `poll_io` / `poll_stream_io`, for the `poll_*` methods behind `AsyncRead` /
//!   `AsyncWrite`: the waker goes to the direction's polled slot, so only the task that
//!   polled last is woken (one reader and one writer at a time, as in tokio and async-io);
//! - a `Waiter`, for `async fn`s (`accept`, `recv`, `readable`, `read_with`, ...): the future
//!   owns a slot of its own, so any number of them may wait at once and dropping one never
//!   strands another (`ReadyWaiter` holds one per direction, for `ready(interest)`);
//! - `try_io` / `try_stream_io`, for the `try_*` methods: one non-blocking call now, no
//!   waker stored, no budget spent; a `WouldBlock` clears the readiness observed before the
//!   call (unless a newer event arrived), so the caller's next wait really sleeps.
//!
//! The first two spend one unit of the task's cooperative budget per poll; all three fail
//! once the runtime has shut down (see `scheduled_io/`).

use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Weak};
use std::task::{ready, Context, Poll};

use crate::io::reactor::Token;
use crate::io::scheduled_io::{gone, ScheduledIo};
pub(crate) use crate::io::scheduled_io::{Direction, ReadyEvent};
use crate::io::{Interest, Ready};
use crate::runtime::{context, coop};
use crate::task::id::{self, Leaf};

/// A source's membership in the reactor; dropping it frees the slab slot.
///
/// The owner must call [`Registration::deregister`] with its source before dropping it (the
/// I/O types do so in their `Drop`), so the OS stops reporting events for it.
pub(crate) struct Registration {
    /// The runtime, weakly: a socket kept past its runtime must not keep the runtime alive.
    runtime: Weak<crate::runtime::RuntimeShared>,
    token: Token,
    io: Arc<ScheduledIo>,
}

impl Registration {
    /// Registers `source` with the current runtime's reactor for reads and writes.
    ///
    /// # Errors
    ///
    /// Outside a runtime, when the runtime has shut down, or when the OS refuses the
    /// registration.
    pub(crate) fn new(source: &mut impl mio::event::Source) -> io::Result<Registration> {
        let handle = context::try_current().ok_or_else(|| {
            io::Error::other(format!(
                "flywheel I/O needs a runtime: {}",
                context::NO_RUNTIME
            ))
        })?;
        let reactor = handle.io();
        let (token, io) = reactor.register(source)?;
        Ok(Registration {
            runtime: Arc::downgrade(&handle.shared),
            token,
            io,
        })
    }

    /// A place in `direction`'s waiter list for one waiting future; see [`Waiter`].
    pub(crate) fn waiter(&self, direction: Direction) -> Waiter<'_> {
        Waiter {
            registration: self,
            direction,
            key: None,
        }
    }

    /// Runs the non-blocking operation `op` once `direction` is ready, clearing readiness and
    /// waiting again each time it returns `WouldBlock`. Spends one unit of the task's
    /// cooperative budget. For the `poll_*` methods: only the task that polled last is woken.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_op(cx, direction, None, op, |_| false)
    }

    /// Like `poll_io`, for reads and writes on a byte stream of `len` bytes: an operation
    /// that moved fewer bytes than asked (but some) drained the socket buffer, so readiness is
    /// cleared at once instead of paying another system call to learn `WouldBlock`. An event
    /// that arrived meanwhile carries a newer tick and is kept.
    pub(crate) fn poll_stream_io(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        len: usize,
        op: impl FnMut() -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.poll_op(cx, direction, None, op, |&n| n > 0 && n < len)
    }

    /// Waits until `direction` is ready (or the runtime is gone), storing the waker in the
    /// polled slot (`key` `None`) or in a future's slot.
    fn poll_event(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        key: Option<&mut Option<usize>>,
    ) -> Poll<io::Result<ReadyEvent>> {
        let event = ready!(noted(self.io.poll_ready(cx, direction, key), direction));
        if event.is_shutdown() {
            return Poll::Ready(Err(gone()));
        }
        Poll::Ready(Ok(event))
    }

    /// The loop behind all operations (`ScheduledIo::poll_io`), after spending one unit of
    /// the task's cooperative budget.
    fn poll_op<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        key: Option<&mut Option<usize>>,
        op: impl FnMut() -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        ready!(coop::poll_proceed(cx));
        noted(self.io.poll_io(cx, direction, key, op, drained), direction)
    }

    /// Waits until `direction` is ready, without doing any I/O or clearing anything, for the
    /// `poll_*_ready` methods: the waker goes to the polled slot (only the task that polled
    /// last is woken). Spends one unit of the task's cooperative budget.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<Ready>> {
        ready!(coop::poll_proceed(cx));
        self.poll_event(cx, direction, None)
            .map_ok(|event| event.to_ready(direction))
    }

    /// Runs the non-blocking `op` once, now, for the `try_*` methods: `WouldBlock` when
    /// `direction` is not ready (without calling `op`); a `WouldBlock` from `op` clears the
    /// readiness it consumed. Never waits, never stores a waker, spends no budget. See
    /// `ScheduledIo::try_io`.
    pub(crate) fn try_io<R>(
        &self,
        direction: Direction,
        op: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.try_io(direction, op, |_| false)
    }

    /// `try_io` for a read or write of `len` bytes on a byte stream: a short transfer also
    /// clears readiness, as in `poll_stream_io`.
    pub(crate) fn try_stream_io(
        &self,
        direction: Direction,
        len: usize,
        op: impl FnOnce() -> io::Result<usize>,
    ) -> io::Result<usize> {
        self.io.try_io(direction, op, |&n| n > 0 && n < len)
    }

    /// A future's places in the waiter lists of the directions of `interest`; see
    /// [`ReadyWaiter`].
    pub(crate) fn ready_waiter(&self, interest: Interest) -> ReadyWaiter<'_> {
        ReadyWaiter {
            read: interest.is_readable().then(|| self.waiter(Direction::Read)),
            write: interest
                .is_writable()
                .then(|| self.waiter(Direction::Write)),
        }
    }

    /// Tells the OS to stop reporting events for `source`. The slab slot is freed when the
    /// registration drops, whatever this returns; callers in `Drop` ignore the error.
    pub(crate) fn deregister(&self, source: &mut impl mio::event::Source) -> io::Result<()> {
        match self.runtime.upgrade() {
            Some(runtime) => runtime.io().deregister(source),
            // The poller closed with its runtime: nothing watches the source any more.
            None => Ok(()),
        }
    }
}

/// `polled`, noting a socket wait in `direction` for the task's dump when it is pending.
/// Only the kind: the caller up the stack may be another crate's future (`AsyncReadExt`);
/// the `async fn`s whose location is known (`readable`, ...) note it after this.
fn noted<T>(polled: Poll<T>, direction: Direction) -> Poll<T> {
    if polled.is_pending() {
        let leaf = match direction {
            Direction::Read => Leaf::Read,
            Direction::Write => Leaf::Write,
        };
        id::note_waiting(leaf, None);
    }
    polled
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.upgrade() {
            runtime.io().release(self.token);
        }
    }
}

/// One waiting future's place in a direction's waiter list.
///
/// An `async fn` that waits on a source creates one before its wait loop and polls through
/// it; the slot is taken on the first poll that has to wait and given back when the future
/// completes or is dropped (aborted), so it can neither strand nor be stranded by another
/// waiter of the same source.
pub(crate) struct Waiter<'a> {
    registration: &'a Registration,
    direction: Direction,
    /// The slot index while this waiter holds one.
    key: Option<usize>,
}

impl Waiter<'_> {
    /// Waits until the direction is ready, without doing any I/O or clearing anything.
    /// Spends one unit of the task's cooperative budget.
    pub(crate) fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ReadyEvent>> {
        ready!(coop::poll_proceed(cx));
        self.registration
            .poll_event(cx, self.direction, Some(&mut self.key))
    }

    /// `Registration::poll_io` through this waiter's own slot.
    pub(crate) fn poll_io<R>(
        &mut self,
        cx: &mut Context<'_>,
        op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.registration
            .poll_op(cx, self.direction, Some(&mut self.key), op, |_| false)
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        if let Some(index) = self.key.take() {
            let waker = self.registration.io.remove_waiter(self.direction, index);
            // Outside the lock; and a waker whose destructor panics must not make this
            // `Drop` panic.
            let _ = panic::catch_unwind(AssertUnwindSafe(|| drop(waker)));
        }
    }
}

/// The waiter of a `ready(interest)` future: a place in the waiter list of each direction
/// of `interest`, so it wakes on whichever comes first. Each place is given back on drop.
pub(crate) struct ReadyWaiter<'a> {
    read: Option<Waiter<'a>>,
    write: Option<Waiter<'a>>,
}

impl ReadyWaiter<'_> {
    /// Waits until a direction of the interest is ready; returns what all of them showed.
    /// Does no I/O and clears nothing. Spends one unit of the task's cooperative budget.
    pub(crate) fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Ready>> {
        ready!(coop::poll_proceed(cx));
        let mut ready = Ready::EMPTY;
        for waiter in [&mut self.read, &mut self.write].into_iter().flatten() {
            let direction = waiter.direction;
            // Polling every direction even after one is ready costs a lock at most and
            // reports everything that is ready at once.
            if let Poll::Ready(event) =
                waiter
                    .registration
                    .poll_event(cx, direction, Some(&mut waiter.key))
            {
                ready |= event?.to_ready(direction);
            }
        }
        if ready.is_empty() {
            Poll::Pending
        } else {
            Poll::Ready(Ok(ready))
        }
    }
}
