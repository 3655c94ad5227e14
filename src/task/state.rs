//! The task state word: one `AtomicUsize` that decides every transition of a task.
//!
//! This module only decides; `cell.rs` acts on the decision. Each `transition_*` returns a
//! `#[must_use]` value that tells the caller what it now owns or must do.
//!
//! Bits (all others are zero). Each says when it is set and cleared, and by whom; which
//! fields of the task each state lets a thread touch is not repeated here: rules S1-S3
//! (the stage) and J1-J5 (the join-waker slot) at the top of `cell.rs` are the one list.
//! - `RUNNING`: a thread is polling (or cancelling) the future. Set by whoever wins
//!   `transition_to_running`/`transition_to_shutdown`, cleared by that thread when the poll
//!   returns `Pending` or when it sets `COMPLETE`.
//! - `COMPLETE`: the future is gone and the output (or the cancellation) is stored. Set once,
//!   by the thread holding `RUNNING`; never cleared.
//! - `NOTIFIED`: a reference to the task is in (or is about to be put in) a run queue, or the
//!   thread that runs it owes it one more poll. At most one such reference exists. Set by a
//!   wake or an abort, cleared by the thread that takes `RUNNING` (and by `COMPLETE`).
//! - `CANCELLED`: abort (or shutdown) was requested; the next run drops the future instead
//!   of polling it. Never cleared.
//! - `JOIN_INTEREST`: the `JoinHandle` is alive. Cleared once, when it is dropped; never set
//!   again. Whichever of `COMPLETE` and this clearing comes second decides who drops the
//!   output (S2, S3).
//! - `JOIN_WAKER`: the join-waker slot holds the `JoinHandle`'s waker, published for the
//!   completing thread to wake. Set only by the handle, only before `COMPLETE` (J3); cleared
//!   before `COMPLETE` only by the handle (J4), after it only by the completing thread (J5).

use crate::sync::atomic::AtomicUsize;
use crate::sync::atomic::Ordering::{AcqRel, Acquire};

/// A thread is polling the future.
const RUNNING: usize = 1 << 0;
/// The output (or cancellation) is stored; the future is dropped.
const COMPLETE: usize = 1 << 1;
/// The task is queued, or owes one more poll.
const NOTIFIED: usize = 1 << 2;
/// Abort was requested.
const CANCELLED: usize = 1 << 3;
/// The `JoinHandle` still exists.
const JOIN_INTEREST: usize = 1 << 4;
/// The join-waker slot holds a waker published to the completing thread (J1-J5 in
/// `cell.rs`).
const JOIN_WAKER: usize = 1 << 5;

/// The state of a new task: queued for its first poll, with a `JoinHandle`.
const INITIAL: usize = NOTIFIED | JOIN_INTEREST;

/// The atomic state word of one task.
pub(crate) struct State {
    word: AtomicUsize,
}

/// A copy of the state word at one moment.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

impl Snapshot {
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    pub(crate) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    pub(crate) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("notified", &self.is_notified())
            .field("cancelled", &self.is_cancelled())
            .field("join_interest", &self.is_join_interested())
            .field("join_waker", &self.is_join_waker_set())
            .finish()
    }
}

/// What a wake (or an abort) asks of the waker.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Submit {
    /// Push the task to a run queue: the caller created the one `NOTIFIED` reference.
    Yes,
    /// Someone else will run it, or it is complete.
    No,
}

/// What a worker that popped a task must do with it.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Run {
    /// Poll the future; the caller holds `RUNNING`.
    Poll,
    /// Drop the future and complete as cancelled; the caller holds `RUNNING`.
    Cancel,
    /// The task completed while queued (runtime shutdown): drop the reference.
    Skip,
}

/// What a worker must do after a poll returned `Pending`.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AfterPoll {
    /// Nothing: a future wake will submit the task.
    Wait,
    /// It was woken during the poll: queue it again (it keeps `NOTIFIED`).
    Reschedule,
    /// It was aborted during the poll: drop the future now (the caller keeps `RUNNING`).
    Cancel,
}

impl State {
    /// The state of a task that was just spawned and is about to be queued.
    pub(crate) fn new() -> State {
        State {
            word: AtomicUsize::new(INITIAL),
        }
    }

    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.word.load(Acquire))
    }

    /// Applies `f` until the compare-exchange succeeds; `f` returns the new word (or `None`
    /// to leave it unchanged) and the decision.
    fn update<R>(&self, mut f: impl FnMut(usize) -> (Option<usize>, R)) -> R {
        let mut cur = self.word.load(Acquire);
        loop {
            let (next, result) = f(cur);
            let Some(next) = next else { return result };
            match self.word.compare_exchange_weak(cur, next, AcqRel, Acquire) {
                Ok(_) => return result,
                Err(actual) => cur = actual,
            }
        }
    }

    /// A waker fired.
    pub(crate) fn transition_to_notified(&self) -> Submit {
        self.update(|s| {
            if s & COMPLETE != 0 {
                (None, Submit::No)
            } else if s & NOTIFIED != 0 {
                // Already queued (or owed a poll). Still write the word back unchanged: the
                // release makes what the waker did before waking visible to the thread that
                // polls next, whose acquire reads this write. A plain load here would let
                // that poll miss the event and the wake-up be lost.
                (Some(s), Submit::No)
            } else if s & RUNNING != 0 {
                // The runner re-queues it after the poll.
                (Some(s | NOTIFIED), Submit::No)
            } else {
                (Some(s | NOTIFIED), Submit::Yes)
            }
        })
    }

    /// A worker popped the task's queue reference.
    pub(crate) fn transition_to_running(&self) -> Run {
        self.update(|s| {
            debug_assert!(
                s & NOTIFIED != 0 || s & COMPLETE != 0,
                "run without NOTIFIED"
            );
            if s & COMPLETE != 0 || s & RUNNING != 0 {
                // RUNNING without COMPLETE here means shutdown is cancelling it right now.
                (None, Run::Skip)
            } else {
                let next = (s & !NOTIFIED) | RUNNING;
                let run = if s & CANCELLED != 0 {
                    Run::Cancel
                } else {
                    Run::Poll
                };
                (Some(next), run)
            }
        })
    }

    /// The poll returned `Pending`.
    pub(crate) fn transition_to_idle(&self) -> AfterPoll {
        self.update(|s| {
            debug_assert!(s & RUNNING != 0);
            if s & CANCELLED != 0 {
                (None, AfterPoll::Cancel)
            } else if s & NOTIFIED != 0 {
                (Some(s & !RUNNING), AfterPoll::Reschedule)
            } else {
                (Some(s & !RUNNING), AfterPoll::Wait)
            }
        })
    }

    /// The output is stored; returns the state just before, so the caller knows whether to
    /// wake the `JoinHandle`.
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        self.update(|s| {
            debug_assert!(s & RUNNING != 0 && s & COMPLETE == 0);
            (Some((s & !(RUNNING | NOTIFIED)) | COMPLETE), Snapshot(s))
        })
    }

    /// `abort()` was called.
    pub(crate) fn transition_to_cancelled(&self) -> Submit {
        self.update(|s| {
            if s & (COMPLETE | CANCELLED) != 0 {
                (None, Submit::No)
            } else if s & (RUNNING | NOTIFIED) != 0 {
                // Whoever runs it next, or the current runner, sees CANCELLED.
                (Some(s | CANCELLED), Submit::No)
            } else {
                (Some(s | CANCELLED | NOTIFIED), Submit::Yes)
            }
        })
    }

    /// The runtime is shutting down: take `RUNNING` unless a poll is in flight or it is
    /// done. `true` means the caller must drop the future and complete the task. When a poll
    /// is in flight, the task is marked cancelled so its runner drops the future after the
    /// poll (`AfterPoll::Cancel`) instead of leaving it idle in a dead runtime.
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        self.update(|s| {
            if s & COMPLETE != 0 || s & (RUNNING | CANCELLED) == RUNNING | CANCELLED {
                (None, false)
            } else if s & RUNNING != 0 {
                (Some(s | CANCELLED), false)
            } else {
                (Some(s | RUNNING | CANCELLED), true)
            }
        })
    }

    /// The `JoinHandle` wrote a waker into the slot and publishes it. `Err` means the task
    /// completed first: read the output instead (the slot stays the handle's).
    pub(crate) fn set_join_waker(&self) -> Result<(), Snapshot> {
        self.update(|s| {
            debug_assert!(s & JOIN_INTEREST != 0 && s & JOIN_WAKER == 0);
            if s & COMPLETE != 0 {
                (None, Err(Snapshot(s)))
            } else {
                (Some(s | JOIN_WAKER), Ok(()))
            }
        })
    }

    /// The `JoinHandle` takes the slot back to replace its waker. `Err` means the task
    /// completed first: read the output instead.
    pub(crate) fn unset_join_waker(&self) -> Result<(), Snapshot> {
        self.update(|s| {
            debug_assert!(s & JOIN_INTEREST != 0 && s & JOIN_WAKER != 0);
            if s & COMPLETE != 0 {
                (None, Err(Snapshot(s)))
            } else {
                (Some(s & !JOIN_WAKER), Ok(()))
            }
        })
    }

    /// The completing thread has woken the join waker and hands the slot back. Returns the
    /// state just before: without `JOIN_INTEREST`, the handle is gone and the waker is the
    /// completing thread's to drop.
    pub(crate) fn unset_join_waker_after_complete(&self) -> Snapshot {
        self.update(|s| {
            debug_assert!(s & COMPLETE != 0 && s & JOIN_WAKER != 0);
            (Some(s & !JOIN_WAKER), Snapshot(s))
        })
    }

    /// The `JoinHandle` was dropped. Before `COMPLETE` it takes the join-waker slot back as
    /// well (clearing `JOIN_WAKER`), to drop its waker at once. Returns the state just
    /// before: when it was already `COMPLETE`, the output is the handle's to drop;
    /// otherwise the completing thread sees `JOIN_INTEREST` clear and drops it.
    pub(crate) fn drop_join_handle(&self) -> Snapshot {
        self.update(|s| {
            let next = if s & COMPLETE == 0 {
                s & !(JOIN_INTEREST | JOIN_WAKER)
            } else {
                s & !JOIN_INTEREST
            };
            (Some(next), Snapshot(s))
        })
    }
}

#[cfg(all(test, not(flywheel_loom)))]
mod tests {
    use super::*;

    #[test]
    fn first_run_polls_and_pending_goes_idle() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), Run::Poll);
        assert_eq!(s.transition_to_idle(), AfterPoll::Wait);
        assert!(!s.load().is_running());
    }

    #[test]
    fn wake_while_idle_submits_once() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), Run::Poll);
        assert_eq!(s.transition_to_idle(), AfterPoll::Wait);
        assert_eq!(s.transition_to_notified(), Submit::Yes);
        assert_eq!(s.transition_to_notified(), Submit::No);
    }

    #[test]
    fn wake_while_running_reschedules_exactly_once() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), Run::Poll);
        assert_eq!(s.transition_to_notified(), Submit::No);
        assert_eq!(s.transition_to_notified(), Submit::No);
        assert_eq!(s.transition_to_idle(), AfterPoll::Reschedule);
        assert!(s.load().is_notified());
        assert_eq!(s.transition_to_running(), Run::Poll);
    }

    #[test]
    fn wake_after_complete_does_nothing() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), Run::Poll);
        let prev = s.transition_to_complete();
        assert!(prev.is_running());
        assert_eq!(s.transition_to_notified(), Submit::No);
        assert_eq!(s.transition_to_cancelled(), Submit::No);
        assert!(!s.transition_to_shutdown());
    }

    #[test]
    fn abort_idle_task_submits_it_for_cancellation() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), Run::Poll);
        assert_eq!(s.transition_to_idle(), AfterPoll::Wait);
        assert_eq!(s.transition_to_cancelled(), Submit::Yes);
        assert_eq!(s.transition_to_running(), Run::Cancel);
    }

    #[test]
    fn abort_while_running_cancels_after_poll() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), Run::Poll);
        assert_eq!(s.transition_to_cancelled(), Submit::No);
        assert_eq!(s.transition_to_idle(), AfterPoll::Cancel);
        assert!(s.load().is_running());
    }

    #[test]
    fn abort_queued_task_cancels_on_run() {
        let s = State::new();
        assert_eq!(s.transition_to_cancelled(), Submit::No);
        assert_eq!(s.transition_to_running(), Run::Cancel);
    }

    #[test]
    fn shutdown_takes_idle_and_queued_tasks_but_not_running_ones() {
        let s = State::new();
        assert!(s.transition_to_shutdown());
        let _ = s.transition_to_complete();
        assert_eq!(s.transition_to_running(), Run::Skip);

        let r = State::new();
        assert_eq!(r.transition_to_running(), Run::Poll);
        assert!(!r.transition_to_shutdown());
        // The runner drops the future after its poll.
        assert_eq!(r.transition_to_idle(), AfterPoll::Cancel);
    }

    #[test]
    fn join_waker_handshake() {
        let s = State::new();
        assert!(s.set_join_waker().is_ok());
        assert!(s.unset_join_waker().is_ok());
        assert!(s.set_join_waker().is_ok());
        assert_eq!(s.transition_to_running(), Run::Poll);
        let prev = s.transition_to_complete();
        assert!(prev.is_join_waker_set() && prev.is_join_interested());
        assert!(s.unset_join_waker().is_err());
    }

    #[test]
    fn exactly_one_side_owns_the_output_of_a_detached_task() {
        // Handle dropped first: the completing thread sees no interest and drops the output.
        let s = State::new();
        assert_eq!(s.transition_to_running(), Run::Poll);
        assert!(!s.drop_join_handle().is_complete());
        assert!(!s.transition_to_complete().is_join_interested());

        // Task completed first: the completing thread leaves it, the handle's drop takes it.
        let s = State::new();
        assert_eq!(s.transition_to_running(), Run::Poll);
        assert!(s.transition_to_complete().is_join_interested());
        assert!(s.drop_join_handle().is_complete());
    }

    #[test]
    fn a_dropped_handle_takes_its_waker_back_unless_the_completer_holds_it() {
        // Dropped before completion: JOIN_WAKER goes with JOIN_INTEREST; the completer
        // then sees neither and leaves the slot alone.
        let s = State::new();
        assert!(s.set_join_waker().is_ok());
        let prev = s.drop_join_handle();
        assert!(prev.is_join_waker_set() && !prev.is_complete());
        assert!(!s.load().is_join_waker_set());
        assert_eq!(s.transition_to_running(), Run::Poll);
        let prev = s.transition_to_complete();
        assert!(!prev.is_join_waker_set() && !prev.is_join_interested());

        // Dropped while the completer wakes it: JOIN_WAKER stays, and the completer learns
        // when it hands the slot back that the waker is its to drop.
        let s = State::new();
        assert!(s.set_join_waker().is_ok());
        assert_eq!(s.transition_to_running(), Run::Poll);
        assert!(s.transition_to_complete().is_join_waker_set());
        let prev = s.drop_join_handle();
        assert!(prev.is_complete() && prev.is_join_waker_set());
        assert!(!s.unset_join_waker_after_complete().is_join_interested());

        // Dropped after the completer handed the slot back: the handle drops the waker.
        let s = State::new();
        assert!(s.set_join_waker().is_ok());
        assert_eq!(s.transition_to_running(), Run::Poll);
        let _ = s.transition_to_complete();
        assert!(s.unset_join_waker_after_complete().is_join_interested());
        let prev = s.drop_join_handle();
        assert!(prev.is_complete() && !prev.is_join_waker_set());
    }

    #[test]
    fn set_join_waker_fails_after_complete() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), Run::Poll);
        let _ = s.transition_to_complete();
        assert!(s.set_join_waker().unwrap_err().is_complete());
        s.drop_join_handle();
        assert!(!s.load().is_join_interested());
    }
}
