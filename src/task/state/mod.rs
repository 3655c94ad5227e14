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
//!
//! This file holds the bits and the `Snapshot` that reads them; `transition.rs` the
//! transitions and the decisions they return; `tests.rs` the unit tests.

mod transition;

#[cfg(all(test, not(flywheel_loom)))]
mod tests;

pub(crate) use transition::{AfterPoll, Run, Submit};

use crate::sync::atomic::AtomicUsize;

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
