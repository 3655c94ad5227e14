//! The transitions of the state word: `impl State` and the `#[must_use]` decisions it
//! returns. Each `transition_*` (and each step of the join-waker handshake) is one
//! compare-exchange loop over the word; `cell.rs` acts on what it returns.

use super::{
    Snapshot, State, CANCELLED, COMPLETE, INITIAL, JOIN_INTEREST, JOIN_WAKER, NOTIFIED, RUNNING,
};
use crate::sync::atomic::AtomicUsize;
use crate::sync::atomic::Ordering::{AcqRel, Acquire};

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
