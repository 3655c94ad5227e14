//! Loom models of the task state word (`state/`): the interleavings of the racing
//! transitions (up to four preemptions per execution) are explored, with loom's
//! weak-memory model. Once built, the whole run takes about 3 s on 2 cores (5 preemptions:
//! ~9 s; unbounded: over 5 minutes).
//!
//! Run with:
//!
//! ```text
//! LOOM_MAX_PREEMPTIONS=4 RUSTFLAGS="--cfg flywheel_loom" cargo test --release --lib loom_state
//! ```
//!
//! (Adding `CARGO_TARGET_DIR=target/loom` keeps the normal build cache intact; the filter
//! `loom_` runs these with the join-waker and ready-list models of `loom_join.rs` and
//! `loom_ready.rs`.)
//!
//! Each model drives `State` exactly as `cell.rs` does (run, poll, go idle or complete,
//! wake, abort, shut down, the join-waker handshake) around a fake future. The fake future's
//! own data is kept in atomics that are only ever loaded and stored `Relaxed` (never
//! read-modify-written), so they behave like plain fields: when the state word fails to order
//! two accesses, loom lets the second one read a stale value and the model's assertions
//! fail. That is how these models check "publication" (the output, the join waker, what the
//! waker did before waking) without `unsafe`. Bookkeeping counters use `Relaxed` RMWs, which
//! add no synchronisation of their own.

use loom::sync::atomic::AtomicUsize;
use loom::sync::atomic::Ordering::Relaxed;
use loom::sync::Arc;
use loom::thread;

use super::state::{AfterPoll, Run, State, Submit};

/// `stage` values: the future is present.
const FUTURE: usize = 1;
/// `stage`: the future returned and its output is stored.
const OUTPUT: usize = 2;
/// `stage`: the future was dropped by a cancellation.
const CANCELLED: usize = 3;

/// What the modelled future does when polled.
#[derive(Clone, Copy)]
enum Body {
    /// Ready once it has seen this many wake-ups.
    ReadyAfter(usize),
    /// Never ready.
    Never,
}

/// A task: the real state word plus a fake future instrumented to catch misuse.
struct Task {
    state: State,
    body: Body,
    /// Plain data: FUTURE, OUTPUT or CANCELLED.
    stage: AtomicUsize,
    /// A thread is inside poll (or drop) of the future: set with an RMW, so two threads
    /// inside at once are caught.
    in_poll: AtomicUsize,
    /// Polls counted with RMWs (exact).
    polls: AtomicUsize,
    /// Polls counted as plain data: equal to `polls` only if each poll saw all earlier ones.
    poll_seq: AtomicUsize,
    /// Times the future was dropped.
    drops: AtomicUsize,
    /// Queue references in existence: the one `NOTIFIED` reference, at most.
    queued: AtomicUsize,
    /// Wake-ups sent: each waker bumps this (plain-data style: Relaxed) before waking.
    epoch: AtomicUsize,
    /// The epoch the most recent poll observed (plain data).
    seen: AtomicUsize,
}

impl Task {
    /// A freshly spawned task: `NOTIFIED`, with its one queue reference held by the caller.
    fn spawned(body: Body) -> Arc<Task> {
        Arc::new(Task {
            state: State::new(),
            body,
            stage: AtomicUsize::new(FUTURE),
            in_poll: AtomicUsize::new(0),
            polls: AtomicUsize::new(0),
            poll_seq: AtomicUsize::new(0),
            drops: AtomicUsize::new(0),
            queued: AtomicUsize::new(1),
            epoch: AtomicUsize::new(0),
            seen: AtomicUsize::new(0),
        })
    }

    /// Creates the queue reference a `Submit::Yes` or `AfterPoll::Reschedule` hands out.
    fn submit(&self) {
        let prev = self.queued.fetch_add(1, Relaxed);
        assert_eq!(prev, 0, "two queue references to one task");
    }

    fn enter(&self) {
        assert_eq!(
            self.in_poll.fetch_add(1, Relaxed),
            0,
            "two threads touch the future at once"
        );
        assert_eq!(
            self.stage.load(Relaxed),
            FUTURE,
            "the future is touched after it was dropped (or a stale view of it)"
        );
    }

    fn exit(&self) {
        self.in_poll.fetch_sub(1, Relaxed);
    }

    /// One poll of the fake future; `true` when it is ready.
    fn poll(&self) -> bool {
        self.enter();
        let seq = self.poll_seq.load(Relaxed);
        self.poll_seq.store(seq + 1, Relaxed);
        self.polls.fetch_add(1, Relaxed);
        let epoch = self.epoch.load(Relaxed);
        self.seen.store(epoch, Relaxed);
        let ready = match self.body {
            Body::ReadyAfter(n) => epoch >= n,
            Body::Never => false,
        };
        self.exit();
        ready
    }

    /// Drops the future (storing the output or the cancellation) and completes, as
    /// `Cell::complete` / `Cell::cancel` do.
    fn finish(&self, stage: usize) {
        self.enter();
        self.drops.fetch_add(1, Relaxed);
        self.stage.store(stage, Relaxed);
        self.exit();
        let _ = self.state.transition_to_complete();
    }

    /// A worker pops the task's queue reference and runs it (`Cell::run`), running it again
    /// itself when it must be rescheduled.
    fn run(&self) {
        loop {
            assert_eq!(
                self.queued.fetch_sub(1, Relaxed),
                1,
                "ran without a reference"
            );
            match self.state.transition_to_running() {
                Run::Skip => return,
                Run::Cancel => return self.finish(CANCELLED),
                Run::Poll => {}
            }
            if self.poll() {
                return self.finish(OUTPUT);
            }
            match self.state.transition_to_idle() {
                AfterPoll::Wait => return,
                AfterPoll::Reschedule => self.submit(),
                AfterPoll::Cancel => return self.finish(CANCELLED),
            }
        }
    }

    /// A waker fires after recording a new event; the waking thread runs the task when it
    /// was the one to queue it.
    fn wake(&self) {
        let epoch = self.epoch.load(Relaxed);
        self.epoch.store(epoch + 1, Relaxed);
        self.wake_only();
    }

    fn wake_only(&self) -> bool {
        if self.state.transition_to_notified() == Submit::Yes {
            self.submit();
            self.run();
            true
        } else {
            false
        }
    }

    /// `abort()`: runs the task (to cancel it) when the abort queued it.
    fn abort(&self) {
        if self.state.transition_to_cancelled() == Submit::Yes {
            self.submit();
            self.run();
        }
    }

    /// Runtime shutdown of this task (`Cell::shutdown`).
    fn shutdown(&self) {
        if self.state.transition_to_shutdown() {
            self.finish(CANCELLED);
        }
    }

    /// Checks that every poll happened after the previous one.
    fn assert_polls_ordered(&self) {
        assert_eq!(
            self.poll_seq.load(Relaxed),
            self.polls.load(Relaxed),
            "two polls not ordered by the state word"
        );
    }
}

fn spawn(task: &Arc<Task>, f: impl FnOnce(&Task) + Send + 'static) -> thread::JoinHandle<()> {
    let task = task.clone();
    thread::spawn(move || f(&task))
}

/// A wake racing the first poll is never lost, and costs at most one more poll.
#[test]
fn wake_vs_poll_no_lost_wake() {
    loom::model(|| {
        let task = Task::spawned(Body::ReadyAfter(1));
        let waker = spawn(&task, Task::wake);
        task.run();
        waker.join().unwrap();

        assert!(task.state.load().is_complete(), "the wake-up was lost");
        assert_eq!(task.stage.load(Relaxed), OUTPUT);
        assert_eq!(task.drops.load(Relaxed), 1);
        assert!(
            task.polls.load(Relaxed) <= 2,
            "a wake caused more than one poll"
        );
        task.assert_polls_ordered();
    });
}

/// Several wakes during and after polls: every wake is seen by a later poll, at most one
/// queue reference exists at a time, and the task ends idle with nothing queued.
#[test]
fn wakes_during_poll_reschedule_once() {
    loom::model(|| {
        let task = Task::spawned(Body::Never);
        let waker = spawn(&task, |t| {
            t.wake();
            t.wake();
        });
        task.run();
        waker.join().unwrap();

        assert_eq!(
            task.seen.load(Relaxed),
            2,
            "the last wake was not followed by a poll"
        );
        assert!(task.polls.load(Relaxed) <= 3);
        let s = task.state.load();
        assert!(
            !s.is_running() && !s.is_notified() && !s.is_complete(),
            "{s:?}"
        );
        assert_eq!(task.queued.load(Relaxed), 0);
        task.assert_polls_ordered();
    });
}

/// Two threads wake an idle task at once: exactly one of them queues it.
#[test]
fn concurrent_wakes_submit_once() {
    loom::model(|| {
        let task = Task::spawned(Body::Never);
        task.run(); // first poll: now idle
        let other = {
            let task = task.clone();
            thread::spawn(move || task.state.transition_to_notified() == Submit::Yes)
        };
        let here = task.state.transition_to_notified() == Submit::Yes;
        let there = other.join().unwrap();
        assert!(here ^ there, "queued {} times", here as u8 + there as u8);
        task.submit();
        task.run();
        assert_eq!(
            task.polls.load(Relaxed),
            2,
            "two wakes of an idle task: one more poll"
        );
        task.assert_polls_ordered();
    });
}

/// A wake racing completion submits nothing once the task is complete, and never polls the
/// finished task.
#[test]
fn wake_vs_complete() {
    loom::model(|| {
        let task = Task::spawned(Body::ReadyAfter(0));
        let waker = spawn(&task, |t| {
            assert!(
                !t.wake_only(),
                "a wake of a running/queued/complete task queued it"
            );
        });
        task.run();
        waker.join().unwrap();
        assert_eq!(task.polls.load(Relaxed), 1);
        assert_eq!(task.drops.load(Relaxed), 1);
        // And after completion, for sure:
        assert!(!task.wake_only());
        assert_eq!(task.state.transition_to_cancelled(), Submit::No);
        assert!(!task.state.transition_to_shutdown());
        assert!(!task.state.load().is_notified());
    });
}

/// Abort races a poll and a wake: the future is dropped exactly once, never polled after,
/// and the task completes as cancelled.
#[test]
fn abort_vs_poll_vs_wake() {
    loom::model(|| {
        let task = Task::spawned(Body::Never);
        let aborter = spawn(&task, Task::abort);
        let waker = spawn(&task, Task::wake);
        task.run();
        aborter.join().unwrap();
        waker.join().unwrap();

        assert!(task.state.load().is_complete(), "abort was lost");
        assert_eq!(task.stage.load(Relaxed), CANCELLED);
        assert_eq!(task.drops.load(Relaxed), 1);
        assert_eq!(task.queued.load(Relaxed), 0);
        task.assert_polls_ordered();
    });
}

/// Runtime shutdown races a worker that polls the task (and a wake): whoever wins, the
/// future is dropped exactly once and the task ends complete.
#[test]
fn shutdown_vs_running() {
    loom::model(|| {
        let task = Task::spawned(Body::Never);
        let closer = spawn(&task, Task::shutdown);
        let waker = spawn(&task, Task::wake);
        task.run();
        closer.join().unwrap();
        waker.join().unwrap();

        assert!(
            task.state.load().is_complete(),
            "shutdown left the task alive"
        );
        assert_eq!(task.stage.load(Relaxed), CANCELLED);
        assert_eq!(task.drops.load(Relaxed), 1);
        task.assert_polls_ordered();
    });
}

/// The JoinHandle side of the join-waker handshake, with the slot as plain data: the state
/// word's half of it. The real `JoinWaker` (slot, wake and release included) is modelled in
/// `loom_join.rs`.
struct Join {
    task: Arc<Task>,
    /// The slot: the token of the registered waker (0: none).
    slot: Arc<AtomicUsize>,
}

enum Polled {
    Ready(usize),
    Pending,
}

impl Join {
    /// `poll_join` with a waker identified by `token`.
    fn poll(&self, token: usize) -> Polled {
        let state = &self.task.state;
        let snapshot = state.load();
        if !snapshot.is_complete() {
            let registered = if !snapshot.is_join_waker_set() {
                self.slot.store(token, Relaxed);
                state.set_join_waker().is_ok()
            } else if self.slot.load(Relaxed) == token {
                true
            } else if state.unset_join_waker().is_ok() {
                self.slot.store(token, Relaxed);
                state.set_join_waker().is_ok()
            } else {
                false
            };
            if registered {
                return Polled::Pending;
            }
        }
        Polled::Ready(self.task.stage.load(Relaxed))
    }
}

/// The completing thread's half of the handshake (`Cell::complete`): returns the token of
/// the waker it woke, 0 when it woke none.
fn complete_and_wake(task: &Task, slot: &AtomicUsize) -> usize {
    assert_eq!(task.state.transition_to_running(), Run::Poll);
    task.enter();
    task.drops.fetch_add(1, Relaxed);
    task.stage.store(OUTPUT, Relaxed);
    task.exit();
    let prev = task.state.transition_to_complete();
    if prev.is_join_interested() && prev.is_join_waker_set() {
        slot.load(Relaxed)
    } else {
        0
    }
}

/// The JoinHandle registers a waker, then swaps it for another, while the task completes:
/// either the handle sees COMPLETE (and the output), or the completer sees JOIN_WAKER and
/// wakes the waker registered last. Never both miss.
#[test]
fn join_waker_vs_complete() {
    loom::model(|| {
        let task = Task::spawned(Body::ReadyAfter(0));
        let slot = Arc::new(AtomicUsize::new(0));
        let completer = {
            let (task, slot) = (task.clone(), slot.clone());
            thread::spawn(move || complete_and_wake(&task, &slot))
        };
        let join = Join { task, slot };
        let mut outcome = join.poll(1);
        let mut last = 1;
        if let Polled::Pending = outcome {
            outcome = join.poll(2);
            last = 2;
        }
        let woken = completer.join().unwrap();
        match outcome {
            Polled::Ready(stage) => assert_eq!(stage, OUTPUT, "saw COMPLETE but not the output"),
            Polled::Pending => {
                assert_eq!(
                    woken, last,
                    "the handle waits but its current waker was not woken"
                );
                // Woken: the next poll must find the output.
                match join.poll(last) {
                    Polled::Ready(stage) => assert_eq!(stage, OUTPUT),
                    Polled::Pending => panic!("woken, yet still pending"),
                }
            }
        }
        join.task.state.drop_join_handle();
    });
}

/// Dropping the JoinHandle races completion: no waker is woken after the handle is gone
/// unless it was registered, and the state ends without join interest.
#[test]
fn join_handle_drop_vs_complete() {
    loom::model(|| {
        let task = Task::spawned(Body::ReadyAfter(0));
        let slot = Arc::new(AtomicUsize::new(0));
        let completer = {
            let (task, slot) = (task.clone(), slot.clone());
            thread::spawn(move || complete_and_wake(&task, &slot))
        };
        let join = Join { task, slot };
        let registered = matches!(join.poll(7), Polled::Pending);
        join.task.state.drop_join_handle();
        let woken = completer.join().unwrap();
        assert!(woken == 0 || (registered && woken == 7), "woke {woken}");
        let s = join.task.state.load();
        assert!(s.is_complete() && !s.is_join_interested());
    });
}

/// Dropping the JoinHandle races completion: exactly one side drops the output (the
/// completer when the handle was gone, the handle's drop when the task was complete), and
/// whichever does sees the output the completer stored.
#[test]
fn exactly_one_side_drops_a_detached_output() {
    loom::model(|| {
        let state = Arc::new(State::new());
        let stage = Arc::new(AtomicUsize::new(FUTURE));
        let drops = Arc::new(AtomicUsize::new(0));
        let completer = {
            let (state, stage, drops) = (state.clone(), stage.clone(), drops.clone());
            thread::spawn(move || {
                assert_eq!(state.transition_to_running(), Run::Poll);
                stage.store(OUTPUT, Relaxed);
                if !state.transition_to_complete().is_join_interested() {
                    assert_eq!(stage.load(Relaxed), OUTPUT);
                    drops.fetch_add(1, Relaxed);
                }
            })
        };
        if state.drop_join_handle().is_complete() {
            assert_eq!(
                stage.load(Relaxed),
                OUTPUT,
                "the handle dropped a stale stage"
            );
            drops.fetch_add(1, Relaxed);
        }
        completer.join().unwrap();
        assert_eq!(
            drops.load(Relaxed),
            1,
            "the output must be dropped exactly once"
        );
    });
}
