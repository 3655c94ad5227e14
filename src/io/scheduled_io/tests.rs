//! Unit tests of `ScheduledIo` without a runtime: waking every waiter, keeping an event
//! newer than a clear, `try_io`, shutdown, and a panicking waker in a batch.

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
