//! Cooperative budget: a task that keeps finding its resources ready yields after a bounded
//! number of operations, so one hot connection cannot starve the other tasks.
//!
//! The budget is per poll of a task or of a `block_on` future: `budget` refills it, resources
//! call `poll_proceed` before doing work. Anywhere else (a future polled by another
//! executor, a destructor) it is unconstrained.

use std::task::{Context, Poll};

use crate::runtime::context;

/// Operations a task may complete in one poll before it is made to yield (tokio uses 128).
pub(crate) const BUDGET: u16 = 128;
/// Marks "no budget applies" (outside task and `block_on` polls).
pub(crate) const UNCONSTRAINED: u16 = u16::MAX;

/// Runs one poll of a task (or of a `block_on` future) with a full budget.
pub(crate) fn budget<R>(f: impl FnOnce() -> R) -> R {
    context::set_budget(BUDGET);
    // Restored on unwind too: the task cell catches a panicking poll, and the thread then
    // goes on to poll a `block_on` future that must not inherit a spent budget (at zero it
    // would yield for ever, with no task poll left to refill it).
    let _restore = Unconstrain;
    f()
}

/// Puts the thread back outside any task's budget when dropped.
struct Unconstrain;

impl Drop for Unconstrain {
    fn drop(&mut self) {
        context::set_budget(UNCONSTRAINED);
    }
}

/// Spends one unit of budget; `Pending` (after scheduling a wake-up) when it is used up.
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    match context::budget() {
        UNCONSTRAINED => Poll::Ready(()),
        0 => {
            crate::runtime::metrics::count_forced_yield();
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        n => {
            context::set_budget(n - 1);
            Poll::Ready(())
        }
    }
}
