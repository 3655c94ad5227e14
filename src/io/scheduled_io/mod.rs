//! The state of one registered I/O source: its readiness word and the tasks waiting on it.
//!
//! `ScheduledIo` is shared (an `Arc`) between the reactor's slab, which sets readiness when
//! the OS reports an event, and the socket's `Registration` (`registration.rs`), whose tasks
//! wait on it. It needs no runtime, so the loom models (`loom_readiness.rs`) drive it as is.
//!
//! # Waiting
//!
//! Each direction (read, write) has a waiter list, because any number of tasks may wait on
//! one socket in one direction (`accept` on a shared listener, `recv` on a shared UDP
//! socket, `readable()` on one `Async`). It holds:
//! - one *polled* slot, for the `poll_*` methods behind `AsyncRead` / `AsyncWrite`, which
//!   have nowhere to keep state between polls: only the task that polled last is woken (as
//!   with tokio's and async-io's `poll_*` methods);
//! - a slab of slots for waiting *futures* (`Waiter`; see `waiter_list.rs`): a future takes
//!   a slot when it first has to wait, keeps it (no allocation on later polls) and gives it
//!   back in `Drop`, so an aborted or dropped future never leaves a stale waker behind in
//!   place of another's.
//!
//! An event wakes every waiter of the directions it makes ready: each re-polls, one of them
//! gets the connection or datagram, the others find `WouldBlock`, clear readiness and wait
//! again. Waking only some of them could strand the rest: a woken future may be dropped
//! before it polls, and edge-triggered readiness would not report the event again.
//!
//! # Invariants
//!
//! - The readiness word holds the ready bits (low 16 bits) and the reactor tick of the event
//!   that last set them (bits 16..32). Ready bits are only *set* by the reactor, and only
//!   *cleared* by a task whose operation returned `WouldBlock` (or, on a byte stream, moved
//!   fewer bytes than asked, which also means the buffer ran dry), and then only when the
//!   tick still equals the one the task observed: an event that arrived in between is never
//!   lost.
//! - `SHUTDOWN` is set once, when the runtime shuts down, and never cleared: every wait on
//!   the source fails from then on, whoever holds the runtime's handles.
//! - A waiting task stores its waker under the waiters lock and then re-reads the readiness
//!   word; the reactor sets the word before it takes that lock. So either the task sees the
//!   new bits or the reactor sees (and wakes) the stored waker.
//! - Wakers are taken under the lock and woken (or dropped) after it is released, each woken
//!   inside `catch_unwind`: a waker that panics costs neither the driver turn nor the other
//!   wake-ups of its batch.
//!
//! `mod.rs` holds the readiness word, the waiter lists and waiting; `operation.rs` running an
//! operation against them (`poll_io`, `try_io`); `tests.rs` the unit tests.

use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::task::{Context, Poll, Waker};

use crate::io::waiter_list::WaiterList;
use crate::io::Ready;
use crate::sync::atomic::AtomicUsize;
use crate::sync::atomic::Ordering::{AcqRel, Acquire};
use crate::sync::Mutex;

mod operation;
#[cfg(all(test, not(flywheel_loom)))]
mod tests;

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
/// The runtime shut down: set by `ScheduledIo::shutdown`, never cleared.
pub(crate) const SHUTDOWN: usize = 1 << 5;
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
    /// The bits that end a wait in this direction.
    fn mask(self) -> usize {
        match self {
            Direction::Read => READABLE | READ_CLOSED | ERROR | SHUTDOWN,
            Direction::Write => WRITABLE | WRITE_CLOSED | ERROR | SHUTDOWN,
        }
    }

    /// The bits a `WouldBlock` in this direction proves stale. Closed bits stay: once closed,
    /// operations fail or return EOF without blocking. `SHUTDOWN` stays for good.
    fn clearable(self) -> usize {
        match self {
            Direction::Read => READABLE | ERROR,
            Direction::Write => WRITABLE | ERROR,
        }
    }
}

/// What a task observed when its wait ended: the bits and their tick.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadyEvent {
    tick: usize,
    ready: usize,
}

impl ReadyEvent {
    /// The wait ended because the runtime shut down.
    pub(crate) fn is_shutdown(&self) -> bool {
        self.ready & SHUTDOWN != 0
    }

    /// The public view of what a wait in `direction` observed.
    pub(crate) fn to_ready(self, direction: Direction) -> Ready {
        Ready::from_reactor(self.ready, direction == Direction::Read)
    }
}

/// Both directions' waiters, behind one lock.
#[derive(Debug)]
struct Waiters {
    read: WaiterList,
    write: WaiterList,
}

impl Waiters {
    fn list(&mut self, direction: Direction) -> &mut WaiterList {
        match direction {
            Direction::Read => &mut self.read,
            Direction::Write => &mut self.write,
        }
    }
}

/// The readiness state of one source, shared with the reactor's slab.
#[derive(Debug)]
pub(crate) struct ScheduledIo {
    readiness: AtomicUsize,
    waiters: Mutex<Waiters>,
}

impl ScheduledIo {
    pub(crate) fn new() -> ScheduledIo {
        ScheduledIo {
            readiness: AtomicUsize::new(0),
            waiters: Mutex::new(Waiters {
                read: WaiterList::new(),
                write: WaiterList::new(),
            }),
        }
    }

    /// Called by the reactor: records `ready` (from event tick `tick`) and moves the wakers
    /// of the directions it makes ready into `wakers`, for the caller to wake (`wake_all`)
    /// once it holds no lock.
    pub(crate) fn set_readiness(&self, ready: usize, tick: u16, wakers: &mut Vec<Waker>) {
        let _ = self.readiness.fetch_update(AcqRel, Acquire, |word| {
            Some(((tick as usize) << TICK_SHIFT) | (word & READY_MASK) | ready)
        });
        self.take_wakers(ready, wakers);
    }

    /// Marks the source shut down for good and moves every waker into `wakers`.
    pub(crate) fn shutdown(&self, wakers: &mut Vec<Waker>) {
        self.readiness.fetch_or(SHUTDOWN, AcqRel);
        self.take_wakers(SHUTDOWN, wakers);
    }

    fn take_wakers(&self, ready: usize, wakers: &mut Vec<Waker>) {
        let mut waiters = self.waiters.lock();
        for direction in [Direction::Read, Direction::Write] {
            if ready & direction.mask() != 0 {
                waiters.list(direction).take_all(wakers);
            }
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

    /// Returns the readiness of `direction`, or stores the task's waker to be woken when it
    /// comes: in the polled slot when `key` is `None`, else in the future's own slot (taken
    /// on the first wait; the future must give it back with `remove_waiter`).
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        key: Option<&mut Option<usize>>,
    ) -> Poll<ReadyEvent> {
        if let Some(event) = self.ready_event(direction) {
            return Poll::Ready(event);
        }
        let (poll, replaced) = {
            let mut waiters = self.waiters.lock();
            let list = waiters.list(direction);
            let replaced = match key {
                None => list.register_polled(cx.waker()),
                Some(key) => list.register(key, cx.waker()),
            };
            // Re-check under the lock: the reactor sets bits before it takes the wakers.
            let poll = match self.ready_event(direction) {
                Some(event) => Poll::Ready(event),
                None => Poll::Pending,
            };
            (poll, replaced)
        };
        // Dropped outside the lock: dropping a waker may run arbitrary code.
        drop(replaced);
        poll
    }

    /// Gives back a future's slot; returns its waker (if not woken yet) for the caller to
    /// drop outside the lock.
    pub(crate) fn remove_waiter(&self, direction: Direction, index: usize) -> Option<Waker> {
        self.waiters.lock().list(direction).remove(index)
    }

    /// Forgets the observed bits, unless a newer event arrived since they were read.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent, direction: Direction) {
        let clear = event.ready & direction.clearable();
        let _ = self.readiness.fetch_update(AcqRel, Acquire, |word| {
            ((word >> TICK_SHIFT) & TICK_MASK == event.tick).then_some(word & !clear)
        });
    }
}

/// Wakes (and so drops) every waker in `wakers`, each inside `catch_unwind`: a waker that
/// panics (a foreign executor's, a buggy hand-written one) has its panic reported by the
/// panic hook and swallowed here, and the others are still woken. Leaves `wakers` empty
/// with its capacity, for the next batch.
pub(crate) fn wake_all(wakers: &mut Vec<Waker>) {
    for waker in wakers.drain(..) {
        let _ = panic::catch_unwind(AssertUnwindSafe(|| waker.wake()));
    }
}

/// The error of an operation on a source whose runtime has shut down.
pub(crate) fn gone() -> io::Error {
    io::Error::other("the flywheel runtime this I/O object was registered with has shut down")
}
