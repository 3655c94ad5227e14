//! The seam between a task and whatever runs it.
//!
//! The task cell knows the thing that scheduled it only through `Schedule`: it calls
//! `schedule` when the task must be polled again (spawned, woken, yielded, aborted while
//! idle) and `release` once the task is complete. A runtime's schedulers implement it
//! (`runtime::Handle`: the current-thread and multi-thread queues, and the owned-task set
//! that shutdown empties), and so does the blocking pool, whose jobs run once and are never
//! owned. A scheduler keeping tasks on one thread, or picking the next one at random from a
//! seed, plugs in here the same way; the cell does not change.
//!
//! The cell stores its scheduler by value and is generic over it, so every call is static
//! (no `dyn` call on the spawn or wake path).

use crate::task::cell::{Header, Task};

/// Why a task is being queued; a scheduler may use it to choose where the task goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reason {
    /// A new task: back of the queue.
    Spawn,
    /// Woken by another task or an event: the LIFO slot, to run next while its data is hot.
    Wake,
    /// Yielded or woken during its own poll: back of the queue, behind everything else.
    Yield,
}

/// Whatever queues and owns a task: what the task cell calls back.
pub(crate) trait Schedule: Send + Sync + 'static {
    /// Queues `task` (a task whose cell holds `self`) to be polled. Called only by the one
    /// thread whose state transition asked for it, so a task is never queued twice at once.
    fn schedule(&self, task: Task, reason: Reason);

    /// `task` is complete (or was cancelled): forget it. Called once, by the thread that
    /// completed it, after its output was stored and its `JoinHandle` woken.
    fn release(&self, task: &Header);
}
