//! One registered I/O source: its readiness word and the wakers of its reader and writer.
//!
//! `ScheduledIo` is shared (an `Arc`) between the reactor's slab, which sets readiness when
//! the OS reports an event, and the `Registration` owned by the socket, whose tasks wait on
//! it. `Registration` also owns the slab slot and gives it back when dropped.
//!
//! Invariants:
//! - The readiness word holds the ready bits (low 16 bits) and the reactor tick of the event
//!   that last set them (bits 16..32). Bits are only *set* by the reactor, and only *cleared*
//!   by a task whose operation returned `WouldBlock` (or, on a byte stream, moved fewer bytes
//!   than asked, which also means the buffer ran dry), and then only when the tick still
//!   equals the one the task observed: an event that arrived in between is never lost.
//! - A registration whose runtime is gone fails its waits with an error instead of hanging.
//! - A waiting task stores its waker under the wakers lock and then re-reads the readiness
//!   word; the reactor sets the word before taking that lock. So either the task sees the new
//!   bits or the reactor sees (and wakes) the stored waker.
//! - Reader and writer wakers are separate, so one task may read while another writes.

use std::io;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{AcqRel, Acquire};
use std::sync::{Arc, Weak};
use std::task::{ready, Context, Poll, Waker};

use parking_lot::Mutex;

use crate::io::reactor::Token;
use crate::runtime::{context, coop};

/// The source can be read.
pub(crate) const READABLE: usize = 1 << 0;
/// The source can be written.
pub(crate) const WRITABLE: usize = 1 << 1;
/// The peer closed its writing half (reads return end of file).
pub(crate) const READ_CLOSED: usize = 1 << 2;
/// The writing half is closed (writes fail).
pub(crate) const WRITE_CLOSED: usize = 1 << 3;
/// The source reported an error (the next operation returns it).
pub(crate) const ERROR: usize = 1 << 4;
/// All ready bits.
const READY_MASK: usize = 0xFFFF;
/// Where the tick starts in the readiness word.
const TICK_SHIFT: u32 = 16;
/// The tick is 16 bits wide.
const TICK_MASK: usize = 0xFFFF;

/// Which half of a source a task waits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    /// The bits that make this direction ready.
    fn mask(self) -> usize {
        match self {
            Direction::Read => READABLE | READ_CLOSED | ERROR,
            Direction::Write => WRITABLE | WRITE_CLOSED | ERROR,
        }
    }

    /// The bits a `WouldBlock` in this direction proves stale. Closed bits stay: once closed,
    /// operations fail or return EOF without blocking.
    fn clearable(self) -> usize {
        match self {
            Direction::Read => READABLE | ERROR,
            Direction::Write => WRITABLE | ERROR,
        }
    }
}

/// What a task observed when it found its direction ready: the bits and their tick.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadyEvent {
    tick: usize,
    ready: usize,
}

#[derive(Default)]
struct Wakers {
    reader: Option<Waker>,
    writer: Option<Waker>,
}

/// The readiness state of one source, shared with the reactor's slab.
#[derive(Default)]
pub(crate) struct ScheduledIo {
    readiness: AtomicUsize,
    wakers: Mutex<Wakers>,
}

impl ScheduledIo {
    /// Called by the reactor: records `ready` (from event tick `tick`) and wakes the tasks
    /// waiting on the directions that became ready.
    pub(crate) fn set_readiness(&self, ready: usize, tick: u16) {
        let _ = self.readiness.fetch_update(AcqRel, Acquire, |word| {
            Some(((tick as usize) << TICK_SHIFT) | (word & READY_MASK) | ready)
        });
        let (reader, writer) = {
            let mut wakers = self.wakers.lock();
            let reader = if ready & Direction::Read.mask() != 0 {
                wakers.reader.take()
            } else {
                None
            };
            let writer = if ready & Direction::Write.mask() != 0 {
                wakers.writer.take()
            } else {
                None
            };
            (reader, writer)
        };
        // Wake outside the lock: a waker may do anything, even drop this source's task.
        if let Some(waker) = reader {
            waker.wake();
        }
        if let Some(waker) = writer {
            waker.wake();
        }
    }

    fn ready_event(&self, direction: Direction) -> Option<ReadyEvent> {
        let word = self.readiness.load(Acquire);
        let ready = word & direction.mask();
        (ready != 0).then_some(ReadyEvent {
            tick: (word >> TICK_SHIFT) & TICK_MASK,
            ready,
        })
    }

    fn poll_ready(&self, cx: &mut Context<'_>, direction: Direction) -> Poll<ReadyEvent> {
        if let Some(event) = self.ready_event(direction) {
            return Poll::Ready(event);
        }
        let mut wakers = self.wakers.lock();
        let slot = match direction {
            Direction::Read => &mut wakers.reader,
            Direction::Write => &mut wakers.writer,
        };
        match slot {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => *slot = Some(cx.waker().clone()),
        }
        // Re-check under the lock: the reactor sets bits before it takes the wakers.
        match self.ready_event(direction) {
            Some(event) => Poll::Ready(event),
            None => Poll::Pending,
        }
    }

    /// Forgets the observed bits, unless a newer event arrived since they were read.
    fn clear_readiness(&self, event: ReadyEvent, direction: Direction) {
        let clear = event.ready & direction.clearable();
        let _ = self.readiness.fetch_update(AcqRel, Acquire, |word| {
            ((word >> TICK_SHIFT) & TICK_MASK == event.tick).then_some(word & !clear)
        });
    }
}

/// A source's membership in the reactor; dropping it frees the slab slot.
///
/// The owner must call [`Registration::deregister`] with its source before dropping it (the
/// I/O types do so in their `Drop`), so the OS stops reporting events for it.
pub(crate) struct Registration {
    /// The runtime, weakly: a socket kept past its runtime must not keep the runtime alive.
    runtime: Weak<crate::runtime::Shared>,
    token: Token,
    io: Arc<ScheduledIo>,
}

impl Registration {
    /// Registers `source` with the current runtime's reactor for reads and writes.
    ///
    /// # Errors
    ///
    /// Outside a runtime, or when the OS refuses the registration.
    pub(crate) fn new(source: &mut impl mio::event::Source) -> io::Result<Registration> {
        let handle = context::try_current().ok_or_else(|| {
            io::Error::other(format!(
                "flywheel I/O needs a runtime: {}",
                context::NO_RUNTIME
            ))
        })?;
        let reactor = &handle.shared.driver_handle.io;
        let (token, io) = reactor.register(source)?;
        Ok(Registration {
            runtime: Arc::downgrade(&handle.shared),
            token,
            io,
        })
    }

    /// Waits until `direction` is ready (without clearing anything).
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        match self.io.poll_ready(cx, direction) {
            Poll::Ready(event) => Poll::Ready(Ok(event)),
            Poll::Pending if self.runtime.strong_count() == 0 => Poll::Ready(Err(gone())),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Runs the non-blocking operation `op` once `direction` is ready, clearing readiness and
    /// waiting again each time it returns `WouldBlock`. Spends one unit of the task's
    /// cooperative budget.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_op(cx, direction, op, |_| false)
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
        self.poll_op(cx, direction, op, |&n| n > 0 && n < len)
    }

    /// The loop behind both: `drained(&output)` says a successful operation also used up the
    /// readiness it was given.
    fn poll_op<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut() -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        ready!(coop::poll_proceed(cx));
        loop {
            let event = ready!(self.poll_ready(cx, direction))?;
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.io.clear_readiness(event, direction);
                }
                Ok(output) => {
                    if drained(&output) {
                        self.io.clear_readiness(event, direction);
                    }
                    return Poll::Ready(Ok(output));
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// Tells the OS to stop reporting events for `source`. The slab slot is freed when the
    /// registration drops, whatever this returns; callers in `Drop` ignore the error.
    pub(crate) fn deregister(&self, source: &mut impl mio::event::Source) -> io::Result<()> {
        match self.runtime.upgrade() {
            Some(runtime) => runtime.driver_handle.io.deregister(source),
            // The poller closed with its runtime: nothing watches the source any more.
            None => Ok(()),
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.upgrade() {
            runtime.driver_handle.io.release(self.token);
        }
    }
}

/// The error of an operation on a source whose runtime was dropped.
fn gone() -> io::Error {
    io::Error::other("the flywheel runtime this I/O object was registered with has shut down")
}

/// Lets the reactor build entries without exposing the fields.
pub(crate) fn new_scheduled_io() -> Arc<ScheduledIo> {
    Arc::new(ScheduledIo::default())
}
