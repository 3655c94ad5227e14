//! Spending the cooperative budget (`task::coop`): resources (sockets, timers, join sets)
//! call `poll_proceed` before doing work; once the poll's budget is used up it makes the
//! task yield, and counts that in the runtime's metrics.

use std::task::{Context, Poll};

use crate::runtime::metrics;
use crate::task::coop;

/// Spends one unit of budget; `Pending` (after scheduling a wake-up) when it is used up.
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    match coop::left() {
        coop::UNCONSTRAINED => Poll::Ready(()),
        0 => {
            metrics::count_forced_yield();
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        n => {
            coop::set_left(n - 1);
            Poll::Ready(())
        }
    }
}
