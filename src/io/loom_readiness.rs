//! Loom models of an I/O source's readiness word and waiter lists (`scheduled_io/`):
//! several waiters race the reactor setting readiness, each other clearing it, a waiter
//! leaving its slot, and shutdown. A lost wake-up leaves a waiter parked for ever, which
//! loom reports as a deadlock; a stranded waiter the same.
//!
//! Run with:
//!
//! ```text
//! LOOM_MAX_PREEMPTIONS=3 RUSTFLAGS="--cfg flywheel_loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test --release --lib loom_readiness
//! ```
//!
//! Each waiter runs the real wait loop (`ScheduledIo::poll_io`, the one every socket
//! operation goes through; or the user's `readable()` + `try_*` loop over
//! `ScheduledIo::poll_ready` and `ScheduledIo::try_io`) around an "operation" that takes one unit from a counter of
//! available connections or returns `WouldBlock`; its waker unparks its loom thread. The
//! reactor is the model's main thread: it makes units available and then calls the real
//! `set_readiness` and `wake_all`, as a driver turn does.

use std::io;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll};

use futures_task::ArcWake;
use loom::sync::atomic::AtomicUsize;
use loom::sync::atomic::Ordering::{AcqRel, Acquire};
use loom::sync::Arc;
use loom::thread;

use super::scheduled_io::{wake_all, Direction, ScheduledIo, READABLE};

/// Wakes a loom thread parked in `wait`.
struct Unpark(thread::Thread);

impl ArcWake for Unpark {
    fn wake_by_ref(arc_self: &StdArc<Self>) {
        arc_self.0.unpark();
    }
}

/// How a modelled waiter registers.
#[derive(Clone, Copy)]
enum Via {
    /// Its own slot in the waiter list (an `async fn` such as `accept`).
    Slot,
    /// The shared polled slot (a `poll_read` through `AsyncRead`).
    Polled,
}

/// The operation: takes one available unit, or reports `WouldBlock`.
fn take(available: &AtomicUsize) -> io::Result<()> {
    available
        .fetch_update(AcqRel, Acquire, |n| n.checked_sub(1))
        .map(|_| ())
        .map_err(|_| io::ErrorKind::WouldBlock.into())
}

/// Runs the real wait loop until the operation succeeds (or the source shuts down), parking
/// whenever it is pending; then gives the slot back as `Waiter`'s `Drop` does.
fn wait(io: &ScheduledIo, available: &AtomicUsize, via: Via) -> io::Result<()> {
    let waker = futures_task::waker(StdArc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut key = None;
    let result = loop {
        let slot = match via {
            Via::Slot => Some(&mut key),
            Via::Polled => None,
        };
        match io.poll_io(
            &mut cx,
            Direction::Read,
            slot,
            || take(available),
            |_| false,
        ) {
            Poll::Ready(result) => break result,
            Poll::Pending => thread::park(),
        }
    };
    if let Some(index) = key {
        drop(io.remove_waiter(Direction::Read, index));
    }
    result
}

/// The reactor's side of one event: `units` become available, then readiness is set and
/// the waiters woken, outside the lock.
fn event(io: &ScheduledIo, available: &AtomicUsize, units: usize, tick: u16) {
    available.fetch_add(units, AcqRel);
    let mut wakers = Vec::new();
    io.set_readiness(READABLE, tick, &mut wakers);
    wake_all(&mut wakers);
}

/// The user's loop around a `try_*` call: wait for readiness in its own slot (as
/// `readable()` does, clearing nothing), try the operation once (`try_io`), and on
/// `WouldBlock` wait again.
fn wait_then_try(io: &ScheduledIo, available: &AtomicUsize) -> io::Result<()> {
    let waker = futures_task::waker(StdArc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut key = None;
    let result = loop {
        match io.poll_ready(&mut cx, Direction::Read, Some(&mut key)) {
            Poll::Pending => {
                thread::park();
                continue;
            }
            Poll::Ready(event) if event.is_shutdown() => {
                break Err(io::Error::other("shut down"));
            }
            Poll::Ready(_) => {}
        }
        match io.try_io(Direction::Read, || take(available), |_| false) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            result => break result,
        }
    };
    if let Some(index) = key {
        drop(io.remove_waiter(Direction::Read, index));
    }
    result
}

fn spawn_waiter(
    io: &Arc<ScheduledIo>,
    available: &Arc<AtomicUsize>,
    via: Via,
) -> thread::JoinHandle<io::Result<()>> {
    let (io, available) = (io.clone(), available.clone());
    thread::spawn(move || wait(&io, &available, via))
}

/// Two waiters (one in its own slot, one in the polled slot) and two events of one unit
/// each: both are served, whatever the order of polls, clears and events.
#[test]
fn loom_readiness_two_events_serve_two_waiters() {
    loom::model(|| {
        let io = Arc::new(ScheduledIo::new());
        let available = Arc::new(AtomicUsize::new(0));
        let a = spawn_waiter(&io, &available, Via::Slot);
        let b = spawn_waiter(&io, &available, Via::Polled);
        event(&io, &available, 1, 1);
        event(&io, &available, 1, 2);
        a.join().unwrap().unwrap();
        b.join().unwrap().unwrap();
        assert_eq!(available.load(Acquire), 0);
    });
}

/// Two waiters in their own slots and one event carrying both units: an event wakes every
/// waiter of its direction, so neither is left asleep while a unit is pending.
#[test]
fn loom_readiness_one_event_wakes_every_waiter() {
    loom::model(|| {
        let io = Arc::new(ScheduledIo::new());
        let available = Arc::new(AtomicUsize::new(0));
        let a = spawn_waiter(&io, &available, Via::Slot);
        let b = spawn_waiter(&io, &available, Via::Slot);
        event(&io, &available, 2, 1);
        a.join().unwrap().unwrap();
        b.join().unwrap().unwrap();
    });
}

/// A waiter that registers and then leaves (an aborted `accept`) while the event arrives:
/// the waiter that stays is served.
#[test]
fn loom_readiness_a_leaving_waiter_strands_nobody() {
    loom::model(|| {
        let io = Arc::new(ScheduledIo::new());
        let available = Arc::new(AtomicUsize::new(0));
        let stays = spawn_waiter(&io, &available, Via::Slot);
        let leaves = {
            let io = io.clone();
            thread::spawn(move || {
                let waker = futures_task::waker(StdArc::new(Unpark(thread::current())));
                let mut key = None;
                let poll = io.poll_ready(
                    &mut Context::from_waker(&waker),
                    Direction::Read,
                    Some(&mut key),
                );
                if let Some(index) = key {
                    drop(io.remove_waiter(Direction::Read, index));
                }
                poll.is_ready()
            })
        };
        event(&io, &available, 1, 1);
        let _ = leaves.join().unwrap();
        stays.join().unwrap().unwrap();
        assert_eq!(available.load(Acquire), 0);
    });
}

/// Shutdown racing a waiter that registers: the waiter always ends, with the error.
#[test]
fn loom_readiness_shutdown_ends_every_wait() {
    loom::model(|| {
        let io = Arc::new(ScheduledIo::new());
        let available = Arc::new(AtomicUsize::new(0));
        let a = spawn_waiter(&io, &available, Via::Slot);
        let b = spawn_waiter(&io, &available, Via::Polled);
        let mut wakers = Vec::new();
        io.shutdown(&mut wakers);
        wake_all(&mut wakers);
        assert!(a.join().unwrap().is_err());
        assert!(b.join().unwrap().is_err());
    });
}

/// A waiter in the "`readable()`, `try_*`, on `WouldBlock` wait again" loop and one in the
/// wait loop of the async calls, against two events of one unit each: a `WouldBlock` from
/// `try_io` clears only the readiness it observed, so neither waiter is left asleep with a
/// unit available.
#[test]
fn loom_readiness_try_loop_misses_no_event() {
    loom::model(|| {
        let io = Arc::new(ScheduledIo::new());
        let available = Arc::new(AtomicUsize::new(0));
        let a = {
            let (io, available) = (io.clone(), available.clone());
            thread::spawn(move || wait_then_try(&io, &available))
        };
        let b = spawn_waiter(&io, &available, Via::Slot);
        event(&io, &available, 1, 1);
        event(&io, &available, 1, 2);
        a.join().unwrap().unwrap();
        b.join().unwrap().unwrap();
        assert_eq!(available.load(Acquire), 0);
    });
}
