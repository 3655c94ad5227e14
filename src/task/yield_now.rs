//! `yield_now`: give other tasks a turn.

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::task::id::{self, Leaf};

/// Yields once to the scheduler: the task goes to the back of the run queue and other
/// ready tasks run before it resumes.
///
/// # Examples
///
/// ```
/// flywheel::run(async {
///     for _ in 0..3 {
///         flywheel::task::yield_now().await;
///     }
/// });
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future returned by [`yield_now`].
///
/// # Examples
///
/// ```
/// let yielding: flywheel::task::YieldNow = flywheel::task::yield_now();
/// flywheel::run(yielding);
/// ```
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    #[track_caller]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // Woken during its own poll, the task is re-queued behind everything else.
        cx.waker().wake_by_ref();
        id::note_waiting(Leaf::Yield, Some(Location::caller()));
        Poll::Pending
    }
}
