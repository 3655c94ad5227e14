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

use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::task::{ready, Context, Poll, Waker};

use crate::io::waiter_list::WaiterList;
use crate::io::Ready;
use crate::sync::atomic::AtomicUsize;
use crate::sync::atomic::Ordering::{AcqRel, Acquire};
use crate::sync::Mutex;

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

impl ScheduledIo {
    /// Waits until `direction` is ready (storing the waker as `poll_ready` does), runs the
    /// non-blocking `op`, and on `WouldBlock` clears the readiness `op` was given and waits
    /// again. `drained(&output)` says a successful `op` used the readiness up too. Fails
    /// once the source is shut down.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut key: Option<&mut Option<usize>>,
        mut op: impl FnMut() -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        loop {
            let key = key.as_deref_mut();
            let event = ready!(self.poll_ready(cx, direction, key));
            if event.is_shutdown() {
                return Poll::Ready(Err(gone()));
            }
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.clear_readiness(event, direction);
                }
                Ok(output) => {
                    if drained(&output) {
                        self.clear_readiness(event, direction);
                    }
                    return Poll::Ready(Ok(output));
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl ScheduledIo {
    /// Runs the non-blocking `op` once, now, if `direction` is ready; for the `try_*`
    /// methods. Never waits and never stores a waker.
    ///
    /// Without readiness it returns `WouldBlock` without calling `op` (the reactor has not
    /// reported the direction ready since the last `WouldBlock`). When `op` returns
    /// `WouldBlock`, or `drained(&output)` says it used the readiness up, the readiness
    /// observed *before* `op` is cleared, unless an event with a newer tick arrived
    /// meanwhile: the next wait then sleeps until the OS reports something new, and an event
    /// that raced with `op` is kept. Fails once the source is shut down.
    pub(crate) fn try_io<R>(
        &self,
        direction: Direction,
        op: impl FnOnce() -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> io::Result<R> {
        let Some(event) = self.ready_event(direction) else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        if event.is_shutdown() {
            return Err(gone());
        }
        match op() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear_readiness(event, direction);
                Err(e)
            }
            Ok(output) => {
                if drained(&output) {
                    self.clear_readiness(event, direction);
                }
                Ok(output)
            }
            Err(e) => Err(e),
        }
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

#[cfg(all(test, not(flywheel_loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize as StdAtomicUsize;
    use std::sync::atomic::Ordering::SeqCst;
    use std::sync::Arc;

    use futures_task::ArcWake;

    #[derive(Default)]
    struct Count(StdAtomicUsize);

    impl ArcWake for Count {
        fn wake_by_ref(arc_self: &Arc<Self>) {
            arc_self.0.fetch_add(1, SeqCst);
        }
    }

    fn waker() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count::default());
        (count.clone(), futures_task::waker(count))
    }

    #[test]
    fn every_waiter_of_a_direction_is_woken_and_slots_are_reused() {
        let io = ScheduledIo::new();
        let (counts, wakers): (Vec<_>, Vec<_>) = (0..3).map(|_| waker()).unzip();
        let mut keys = [None; 3];
        for (key, waker) in keys.iter_mut().zip(&wakers) {
            let mut cx = Context::from_waker(waker);
            assert!(io
                .poll_ready(&mut cx, Direction::Read, Some(key))
                .is_pending());
        }
        assert_eq!(keys, [Some(0), Some(1), Some(2)]);
        // The middle one leaves: its waker goes with it.
        assert!(io.remove_waiter(Direction::Read, 1).is_some());
        // A write event wakes no reader.
        let mut batch = Vec::new();
        io.set_readiness(WRITABLE, 1, &mut batch);
        assert!(batch.is_empty());
        io.set_readiness(READABLE, 2, &mut batch);
        assert_eq!(batch.len(), 2);
        wake_all(&mut batch);
        let woken: Vec<_> = counts.iter().map(|c| c.0.load(SeqCst)).collect();
        assert_eq!(woken, [1, 0, 1]);
        // A new waiter reuses the freed slot.
        let mut key = None;
        let (_, other) = waker();
        io.readiness.store(0, SeqCst);
        assert!(io
            .poll_ready(
                &mut Context::from_waker(&other),
                Direction::Read,
                Some(&mut key)
            )
            .is_pending());
        assert_eq!(key, Some(1));
    }

    #[test]
    fn a_stale_clear_keeps_a_newer_event() {
        let io = ScheduledIo::new();
        let mut batch = Vec::new();
        io.set_readiness(READABLE, 1, &mut batch);
        let (_, w) = waker();
        let mut cx = Context::from_waker(&w);
        let Poll::Ready(seen) = io.poll_ready(&mut cx, Direction::Read, None) else {
            panic!("readable");
        };
        io.set_readiness(READABLE, 2, &mut batch);
        io.clear_readiness(seen, Direction::Read);
        assert!(io.poll_ready(&mut cx, Direction::Read, None).is_ready());
    }

    #[test]
    fn try_io_clears_only_the_readiness_it_consumed() {
        let io = ScheduledIo::new();
        let would_block = || -> io::Result<usize> { Err(io::ErrorKind::WouldBlock.into()) };
        // Nothing reported yet: `WouldBlock` without calling the operation.
        let r = io.try_io(
            Direction::Read,
            || -> io::Result<usize> { panic!("ran") },
            |_| false,
        );
        assert_eq!(r.unwrap_err().kind(), io::ErrorKind::WouldBlock);
        let mut batch = Vec::new();
        io.set_readiness(READABLE | WRITABLE, 1, &mut batch);
        // A read that would block clears READABLE only.
        let r = io.try_io(Direction::Read, would_block, |_| false);
        assert_eq!(r.unwrap_err().kind(), io::ErrorKind::WouldBlock);
        assert!(io.ready_event(Direction::Read).is_none());
        assert!(io.ready_event(Direction::Write).is_some());
        // A success keeps readiness, unless it drained the source.
        io.set_readiness(READABLE, 2, &mut batch);
        assert_eq!(io.try_io(Direction::Read, || Ok(4), |&n| n < 4).unwrap(), 4);
        assert!(io.ready_event(Direction::Read).is_some());
        assert_eq!(io.try_io(Direction::Read, || Ok(3), |&n| n < 4).unwrap(), 3);
        assert!(io.ready_event(Direction::Read).is_none());
        // An event that arrives while the operation runs is kept.
        io.set_readiness(READABLE, 3, &mut batch);
        let r = io.try_io(
            Direction::Read,
            || {
                io.set_readiness(READABLE, 4, &mut Vec::new());
                would_block()
            },
            |_| false,
        );
        assert!(r.is_err());
        assert!(io.ready_event(Direction::Read).is_some());
        // After shutdown: an error, and the operation does not run.
        io.shutdown(&mut batch);
        let r = io.try_io(
            Direction::Write,
            || -> io::Result<usize> { panic!("ran") },
            |_| false,
        );
        assert!(r.unwrap_err().to_string().contains("shut down"));
    }

    #[test]
    fn shutdown_ends_every_wait_and_stays() {
        let io = ScheduledIo::new();
        let (count, w) = waker();
        let mut cx = Context::from_waker(&w);
        let mut key = None;
        assert!(io
            .poll_ready(&mut cx, Direction::Write, Some(&mut key))
            .is_pending());
        assert!(io.poll_ready(&mut cx, Direction::Read, None).is_pending());
        let mut batch = Vec::new();
        io.shutdown(&mut batch);
        assert_eq!(batch.len(), 2);
        wake_all(&mut batch);
        assert_eq!(count.0.load(SeqCst), 2);
        for direction in [Direction::Read, Direction::Write] {
            let Poll::Ready(event) = io.poll_ready(&mut cx, direction, None) else {
                panic!("shut down");
            };
            assert!(event.is_shutdown());
            io.clear_readiness(event, direction);
        }
        assert!(io.ready_event(Direction::Read).unwrap().is_shutdown());
    }

    #[test]
    fn a_panicking_waker_does_not_stop_the_batch() {
        struct Panics;
        impl ArcWake for Panics {
            fn wake_by_ref(_: &Arc<Self>) {
                panic!("on purpose");
            }
        }
        let (count, w) = waker();
        let mut batch = vec![futures_task::waker(Arc::new(Panics)), w];
        wake_all(&mut batch);
        assert!(batch.is_empty());
        assert_eq!(count.0.load(SeqCst), 1);
    }
}
