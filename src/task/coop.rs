//! Cooperative budget: a task that keeps finding its resources ready yields after a bounded
//! number of operations, so one hot connection cannot starve the other tasks.
//!
//! The budget is per poll of a task or of a `block_on` future: `budget` refills it, resources
//! spend it through `runtime::coop::poll_proceed` before doing work. Anywhere else (a future
//! polled by another executor, a destructor) it is unconstrained.
//!
//! The budget is a thread-local of its own: the task cell refills it around every poll
//! without reaching into the runtime (spending it counts forced yields in the runtime's
//! metrics, which is why that half lives in `runtime/`).

use std::cell::Cell;

/// Operations a task may complete in one poll before it is made to yield (tokio uses 128).
pub(crate) const BUDGET: u16 = 128;
/// Marks "no budget applies" (outside task and `block_on` polls).
pub(crate) const UNCONSTRAINED: u16 = u16::MAX;

thread_local! {
    /// What is left of the budget of the poll running on this thread.
    static BUDGET_LEFT: Cell<u16> = const { Cell::new(UNCONSTRAINED) };
}

/// What is left of this thread's budget (`UNCONSTRAINED` outside a budgeted poll).
pub(crate) fn left() -> u16 {
    BUDGET_LEFT.try_with(Cell::get).unwrap_or(UNCONSTRAINED)
}

/// Sets what is left of this thread's budget.
pub(crate) fn set_left(value: u16) {
    let _ = BUDGET_LEFT.try_with(|b| b.set(value));
}

/// Runs one poll of a task (or of a `block_on` future) with a full budget.
pub(crate) fn budget<R>(f: impl FnOnce() -> R) -> R {
    set_left(BUDGET);
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
        set_left(UNCONSTRAINED);
    }
}
