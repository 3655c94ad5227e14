//! `sleep` and `sleep_until`: futures that complete once a deadline has passed.

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::runtime::coop;
use crate::task::id::{self, Leaf};
use crate::time::clock::far_future;
use crate::time::entry::{self, Entry};
use crate::time::Instant;

/// Waits until `duration` has elapsed on the runtime's clock.
///
/// The deadline is taken when `sleep` is called. The sleep never completes before it, and
/// with 1 ms resolution, usually within a millisecond or two after it. Waiting costs nothing
/// until the first poll; dropping the `Sleep` cancels the timer.
///
/// # Panics
///
/// Polling the returned [`Sleep`] outside a flywheel runtime panics: await it inside
/// `flywheel::run`, `Runtime::block_on` or a spawned task. So does polling it after its
/// runtime shut down, unless its deadline has passed: see [`Sleep`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use flywheel::time::Instant;
///
/// flywheel::run(async {
///     let start = Instant::now();
///     flywheel::time::sleep(Duration::from_millis(20)).await;
///     assert!(start.elapsed() >= Duration::from_millis(20));
/// });
/// ```
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    let (now, handle) = entry::now_and_handle();
    let deadline = now.checked_add(duration).unwrap_or_else(|| far_future(now));
    Sleep {
        entry: Entry::new(handle, deadline),
        at: Location::caller(),
    }
}

/// Waits until `deadline` on the runtime's clock.
///
/// A deadline in the past completes at the first poll.
///
/// # Panics
///
/// Polling the returned [`Sleep`] outside a flywheel runtime panics.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use flywheel::time::Instant;
///
/// flywheel::run(async {
///     let deadline = Instant::now() + Duration::from_millis(10);
///     flywheel::time::sleep_until(deadline).await;
///     assert!(Instant::now() >= deadline);
/// });
/// ```
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        entry: Entry::new(crate::runtime::context::try_current(), deadline),
        at: Location::caller(),
    }
}

/// The future returned by [`sleep`] and [`sleep_until`].
///
/// `Sleep` is `Unpin`, `Send` and `Sync`; it holds no allocation of its own (the wheel keeps a
/// reusable slot for it while it waits).
///
/// # Panics
///
/// A `Sleep` belongs to the runtime it was created (or first polled) in, whose timer wheel
/// fires it. When that runtime shuts down, every `Sleep` still waiting is woken, and its
/// next poll panics with a message saying so (its deadline can never come), unless the
/// deadline has passed by then, in which case it completes. The same holds for
/// [`Timeout`](crate::time::Timeout) and [`Interval`](crate::time::Interval), which use the
/// same timers. A task of the runtime never sees this (shutdown drops its future first);
/// it concerns futures polled elsewhere, such as a `Handle::block_on` on another thread
/// or a foreign executor.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// flywheel::run(async {
///     let sleep = flywheel::time::sleep(Duration::from_millis(5));
///     let deadline = sleep.deadline();
///     sleep.await;
///     assert!(flywheel::time::Instant::now() >= deadline);
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    entry: Entry,
    /// The user's call of `sleep`/`sleep_until`: where a dump says the task waits.
    at: &'static Location<'static>,
}

impl Sleep {
    /// The instant this sleep completes at (or after).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use flywheel::time::Instant;
    ///
    /// let before = Instant::now();
    /// let sleep = flywheel::time::sleep(Duration::from_secs(1));
    /// assert!(sleep.deadline() >= before + Duration::from_secs(1));
    /// ```
    pub fn deadline(&self) -> Instant {
        self.entry.deadline()
    }

    /// Whether the deadline has been reached: the sleep has completed, or would complete
    /// when polled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// flywheel::run(async {
    ///     let mut sleep = flywheel::time::sleep(Duration::from_millis(5));
    ///     assert!(!sleep.is_elapsed());
    ///     (&mut sleep).await;
    ///     assert!(sleep.is_elapsed());
    /// });
    /// ```
    pub fn is_elapsed(&self) -> bool {
        self.entry.is_elapsed()
    }

    /// Moves the deadline, earlier or later, whether or not the sleep has completed.
    ///
    /// A sleep that is waiting is re-armed at once (the waiting task is woken at the new
    /// deadline); a completed one waits again when next polled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::pin::Pin;
    /// use std::time::Duration;
    /// use flywheel::time::Instant;
    ///
    /// flywheel::run(async {
    ///     let mut sleep = flywheel::time::sleep(Duration::from_secs(3600));
    ///     let soon = Instant::now() + Duration::from_millis(5);
    ///     Pin::new(&mut sleep).reset(soon);
    ///     sleep.await;
    ///     assert!(Instant::now() >= soon);
    /// });
    /// ```
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        self.get_mut().entry.reset(deadline);
    }
}

impl Future for Sleep {
    type Output = ();

    #[track_caller]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // A loop over sleeps that are already due must still let other tasks run.
        if coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        let polled = self.entry.poll_elapsed(cx);
        if polled.is_pending() {
            id::note_waiting(Leaf::Sleep, Some(self.at));
        }
        polled
    }
}

impl std::fmt::Debug for Sleep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.entry.deadline())
            .field("is_elapsed", &self.entry.is_elapsed())
            .finish()
    }
}
