//! Loom models of the join-waker hand-over (`JoinWaker` in `cell.rs`, rules J1-J5): the
//! `JoinHandle` registering and re-registering its waker, or being dropped, while another
//! thread completes the task. They run the real `JoinWaker` and `State` (through
//! `cell::model`); loom checks every access to the waker slot and the output against its
//! happens-before order, so a rule that let two threads touch them at once fails the model.
//!
//! Run with the other models (a few seconds):
//!
//! ```text
//! LOOM_MAX_PREEMPTIONS=3 RUSTFLAGS="--cfg flywheel_loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test --release --lib loom_
//! ```

use std::sync::Arc as StdArc;
use std::task::{Poll, Wake, Waker};

use loom::sync::atomic::AtomicUsize;
use loom::sync::atomic::Ordering::SeqCst;
use loom::sync::Arc;
use loom::thread;

use super::cell::model;

/// What a counting waker recorded.
#[derive(Default)]
struct Counts {
    wakes: AtomicUsize,
    drops: AtomicUsize,
}

/// A waker that counts its wakes, and its drop (the last reference going).
struct Counted(Arc<Counts>);

impl Wake for Counted {
    fn wake(self: StdArc<Self>) {
        self.0.wakes.fetch_add(1, SeqCst);
    }
    fn wake_by_ref(self: &StdArc<Self>) {
        self.0.wakes.fetch_add(1, SeqCst);
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.drops.fetch_add(1, SeqCst);
    }
}

fn counted() -> (Waker, Arc<Counts>) {
    let counts = Arc::new(Counts::default());
    (Waker::from(StdArc::new(Counted(counts.clone()))), counts)
}

/// The handle polls with one waker, then re-registers another, while the task completes.
/// Whatever the interleaving: the handle either sees the output or its current waker is
/// woken (no lost wake-up); the replaced waker is released by the re-registration; every
/// waker is released exactly once in the end, and the slot is left empty.
#[test]
fn loom_join_reregister_vs_complete() {
    loom::model(|| {
        let (mut handle, runner, probe) = model::task();
        let runner = thread::spawn(move || runner.complete(7));

        let (first, first_counts) = counted();
        let (second, second_counts) = counted();
        let mut out = handle.poll(&first);
        drop(first);
        let mut current = &first_counts;
        if out.is_pending() {
            out = handle.poll(&second);
            current = &second_counts;
            if out.is_pending() {
                assert_eq!(
                    first_counts.drops.load(SeqCst),
                    1,
                    "the replaced waker is released by the re-registration"
                );
            }
        }
        runner.join().unwrap();
        match out {
            Poll::Ready(output) => assert_eq!(output, 7),
            Poll::Pending => {
                assert_eq!(
                    current.wakes.load(SeqCst),
                    1,
                    "the handle waits, but its current waker was not woken"
                );
                assert_eq!(handle.poll(&second), Poll::Ready(7), "woken, yet pending");
            }
        }
        drop(second);
        assert!(handle.drop_handle(), "the task completed");
        let (empty, dropped) = probe.finish();
        assert!(empty, "the slot still holds a waker");
        assert_eq!(dropped, 0, "the output went to the handle");
        for counts in [&first_counts, &second_counts] {
            assert_eq!(counts.drops.load(SeqCst), 1);
        }
    });
}

/// The handle registers a waker and is dropped while the task completes. A handle dropped
/// before completion releases its waker at once (item 8 of issue 9: it must not pin what
/// polled it until the task ends); one dropped during the completing thread's wake leaves
/// it to that thread. Either way the waker is released exactly once, the output is dropped
/// exactly once, and nothing is left in the slot.
#[test]
fn loom_join_handle_drop_vs_complete() {
    loom::model(|| {
        let (mut handle, runner, probe) = model::task();
        let runner = thread::spawn(move || runner.complete(7));

        let (waker, counts) = counted();
        let out = handle.poll(&waker);
        drop(waker);
        let was_complete = handle.drop_handle();
        if !was_complete {
            assert_eq!(
                counts.drops.load(SeqCst),
                1,
                "a handle dropped before completion still pins its waker"
            );
        }
        runner.join().unwrap();
        assert_eq!(
            counts.drops.load(SeqCst),
            1,
            "the waker was not released once"
        );
        assert!(counts.wakes.load(SeqCst) <= 1);
        if !was_complete {
            assert_eq!(
                counts.wakes.load(SeqCst),
                0,
                "woke a dropped handle's waker"
            );
        }
        let (empty, dropped) = probe.finish();
        assert!(empty, "the slot still holds a waker");
        let expected = if out.is_ready() { 0 } else { 1 };
        assert_eq!(dropped, expected, "the output was not dropped exactly once");
    });
}

/// The handle re-registers and is dropped, all while the task completes: the two wakers are
/// each released exactly once.
#[test]
fn loom_join_reregister_then_drop_vs_complete() {
    loom::model(|| {
        let (mut handle, runner, probe) = model::task();
        let runner = thread::spawn(move || runner.complete(7));

        let (first, first_counts) = counted();
        let (second, second_counts) = counted();
        let polled = handle.poll(&first).is_pending() && handle.poll(&second).is_pending();
        drop((first, second));
        let _ = handle.drop_handle();
        runner.join().unwrap();
        let (empty, dropped) = probe.finish();
        assert!(empty);
        assert_eq!(dropped, usize::from(polled));
        for counts in [&first_counts, &second_counts] {
            assert_eq!(counts.drops.load(SeqCst), 1);
        }
    });
}
