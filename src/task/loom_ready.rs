//! Loom models of a task group's ready list (`ready.rs`): a member's task completing (the
//! real join-waker hand-over of `cell.rs`, firing the member's real `Entry`) while the group
//! waits in `join_next`, re-registers its waker, or is dropped. The group's side is
//! `Group::poll_next` for a one-member group, over the real `ReadyList`.
//!
//! Run with the other models (see `loom_join.rs`):
//!
//! ```text
//! LOOM_MAX_PREEMPTIONS=3 RUSTFLAGS="--cfg flywheel_loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test --release --lib loom_
//! ```

use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};

use futures_task::{waker_ref, ArcWake};
use loom::sync::atomic::AtomicUsize;
use loom::sync::atomic::Ordering::SeqCst;
use loom::sync::Arc;
use loom::thread;

use super::cell::model;
use super::ready::{Entry, ReadyList};

/// The member's slot.
const MEMBER: usize = 0;
/// A slot no member holds (a stale index, as far as the group is concerned).
const VACANT: usize = 1;

/// `Group::poll_next` for a group whose only member sits in slot `MEMBER`.
fn poll_next(
    list: &mut ReadyList,
    entry: &StdArc<Entry>,
    handle: &mut model::Joiner,
    parent: &Waker,
) -> Poll<usize> {
    let cx = Context::from_waker(parent);
    loop {
        let Some(index) = list.next(Some(&cx)) else {
            return Poll::Pending;
        };
        if index != MEMBER {
            continue;
        }
        entry.rearm();
        let waker = waker_ref(entry);
        if let Poll::Ready(output) = handle.poll(&waker) {
            return Poll::Ready(output);
        }
    }
}

#[derive(Default)]
struct Counts {
    wakes: AtomicUsize,
    drops: AtomicUsize,
}

/// The waker of the task waiting on the group. With a `reenter` entry, its drop fires that
/// entry, which takes the ready list's lock: had the group dropped it under that lock,
/// the model would deadlock.
struct Parent {
    counts: Arc<Counts>,
    reenter: Option<StdArc<Entry>>,
}

impl Wake for Parent {
    fn wake(self: StdArc<Self>) {
        self.counts.wakes.fetch_add(1, SeqCst);
    }
    fn wake_by_ref(self: &StdArc<Self>) {
        self.counts.wakes.fetch_add(1, SeqCst);
    }
}

impl Drop for Parent {
    fn drop(&mut self) {
        self.counts.drops.fetch_add(1, SeqCst);
        if let Some(entry) = &self.reenter {
            entry.rearm();
            ArcWake::wake_by_ref(entry);
        }
    }
}

fn parent(reenter: Option<&StdArc<Entry>>) -> (Waker, Arc<Counts>) {
    let counts = Arc::new(Counts::default());
    let waker = Waker::from(StdArc::new(Parent {
        counts: counts.clone(),
        reenter: reenter.cloned(),
    }));
    (waker, counts)
}

/// The member completes while the group waits, then re-registers another waker: the group
/// either takes the result or its current waker is woken; each waker is released exactly
/// once, the last one when the group goes.
#[test]
fn loom_ready_list_completion_vs_join_next() {
    loom::model(|| {
        let mut list = ReadyList::new();
        let entry = list.entry(MEMBER);
        let (mut handle, runner, probe) = model::task();
        let runner = thread::spawn(move || runner.complete(7));

        let (first, first_counts) = parent(None);
        let (second, second_counts) = parent(None);
        let mut out = poll_next(&mut list, &entry, &mut handle, &first);
        let mut current = &first_counts;
        if out.is_pending() {
            out = poll_next(&mut list, &entry, &mut handle, &second);
            current = &second_counts;
        }
        runner.join().unwrap();
        if out.is_pending() {
            assert_eq!(
                current.wakes.load(SeqCst),
                1,
                "the group waits, but its waker was not woken"
            );
            out = poll_next(&mut list, &entry, &mut handle, &second);
        }
        assert_eq!(out, Poll::Ready(7));
        drop((first, second));

        // The group goes: retire the member's entry, drop the list, then the handle.
        entry.retire();
        drop(list);
        assert!(handle.drop_handle());
        drop(entry);
        let (empty, dropped) = probe.finish();
        assert!(empty && dropped == 0);
        for counts in [&first_counts, &second_counts] {
            assert_eq!(
                counts.drops.load(SeqCst),
                1,
                "a parent waker was not released once"
            );
        }
    });
}

/// The member completes while the group re-registers its waker and is then dropped. The
/// parent wakers' drops take the ready list's lock (as a waker whose drop drives a runtime
/// would): the model deadlocks if the group drops one under that lock. Each is released
/// exactly once, and so is the member's output.
#[test]
fn loom_ready_list_completion_vs_set_drop() {
    loom::model(|| {
        let mut list = ReadyList::new();
        let entry = list.entry(MEMBER);
        let reenter = list.entry(VACANT);
        let (mut handle, runner, probe) = model::task();
        let runner = thread::spawn(move || runner.complete(7));

        let (first, first_counts) = parent(Some(&reenter));
        let (second, second_counts) = parent(Some(&reenter));
        let mut taken = poll_next(&mut list, &entry, &mut handle, &first).is_ready();
        drop(first);
        if !taken {
            taken = poll_next(&mut list, &entry, &mut handle, &second).is_ready();
        }
        drop(second);

        // The set is dropped, racing the completion.
        entry.retire();
        drop(list);
        let _ = handle.drop_handle();
        runner.join().unwrap();
        drop((entry, reenter));
        let (empty, dropped) = probe.finish();
        assert!(empty, "the member's task still holds a waker");
        assert_eq!(
            dropped,
            usize::from(!taken),
            "the output was not dropped exactly once"
        );
        for counts in [&first_counts, &second_counts] {
            assert_eq!(
                counts.drops.load(SeqCst),
                1,
                "a parent waker was not released once"
            );
        }
    });
}
