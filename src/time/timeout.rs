//! `timeout` and `timeout_at`: run a future, give up when a deadline passes first.

use std::error::Error;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::task::id::{self, Leaf};
use crate::time::clock::far_future;
use crate::time::entry::{self, Entry};
use crate::time::Instant;

/// Runs `future`, giving up with [`Elapsed`] if it has not finished `duration` after it was
/// first polled.
///
/// The future is polled before the clock is looked at, so a future that is ready at once
/// costs no clock read and no timer: the timer starts, and the deadline is fixed, at the
/// first poll that finds the future pending. When the time runs out, the `Timeout` returns
/// [`Elapsed`] and stops polling the future; the future itself is dropped with the
/// `Timeout` (awaiting it by value does both at once), or handed back by
/// [`Timeout::into_inner`].
///
/// # Panics
///
/// Polling the returned [`Timeout`] outside a flywheel runtime panics (once the future is
/// pending and a timer is needed), and so does polling it after its runtime shut down while
/// the future is still pending (see [`Sleep`](crate::time::Sleep)).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use flywheel::time::{sleep, timeout};
///
/// flywheel::run(async {
///     assert_eq!(timeout(Duration::from_secs(1), async { 7 }).await, Ok(7));
///     let slow = sleep(Duration::from_secs(60));
///     assert!(timeout(Duration::from_millis(10), slow).await.is_err());
/// });
/// ```
#[track_caller]
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    Timeout {
        future: future.into_future(),
        deadline: Deadline::After(duration),
        at: Location::caller(),
    }
}

/// Runs `future`, giving up with [`Elapsed`] if it has not finished by `deadline`.
///
/// The future is always polled at least once, even when the deadline has passed.
///
/// # Panics
///
/// Polling the returned [`Timeout`] outside a flywheel runtime panics (once a timer is
/// needed).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use flywheel::time::Instant;
/// use flywheel::time::{sleep, timeout_at};
///
/// flywheel::run(async {
///     let deadline = Instant::now() + Duration::from_millis(10);
///     let result = timeout_at(deadline, sleep(Duration::from_secs(60))).await;
///     assert!(result.is_err());
///     assert!(Instant::now() >= deadline);
/// });
/// ```
#[track_caller]
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    Timeout {
        future: future.into_future(),
        deadline: Deadline::At(deadline),
        at: Location::caller(),
    }
}

/// When a `Timeout` gives up.
enum Deadline {
    /// This long after the first poll that finds the future pending.
    After(Duration),
    /// At this instant (the timer is not made until needed).
    At(Instant),
    /// The timer, armed.
    Armed(Entry),
}

pin_project_lite::pin_project! {
    /// The future returned by [`timeout`] and [`timeout_at`]: the inner future's output, or
    /// [`Elapsed`] if the deadline came first.
    ///
    /// `Timeout` is `Send` when the inner future is.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// flywheel::run(async {
    ///     let t: flywheel::time::Timeout<_> =
    ///         flywheel::time::timeout(Duration::from_secs(1), async { "fast" });
    ///     assert_eq!(t.await.unwrap(), "fast");
    /// });
    /// ```
    #[must_use = "futures do nothing unless awaited"]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        deadline: Deadline,
        // The user's call of `timeout`/`timeout_at`: where a dump says the task waits.
        at: &'static Location<'static>,
    }
}

impl<F> Timeout<F> {
    /// The wrapped future.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let t = flywheel::time::timeout(Duration::from_secs(1), std::future::ready(3));
    /// let _inner: &std::future::Ready<i32> = t.get_ref();
    /// ```
    pub fn get_ref(&self) -> &F {
        &self.future
    }

    /// Unwraps the future, dropping the timer; works after the `Timeout` returned
    /// [`Elapsed`] too, to keep the future.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let t = flywheel::time::timeout(Duration::from_secs(1), async { 5 });
    /// assert_eq!(flywheel::run(t.into_inner()), 5);
    /// ```
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        let entry = match this.deadline {
            Deadline::Armed(entry) => entry,
            Deadline::After(duration) => {
                let (now, handle) = entry::now_and_handle();
                let deadline = now
                    .checked_add(*duration)
                    .unwrap_or_else(|| far_future(now));
                *this.deadline = Deadline::Armed(Entry::new(handle, deadline));
                match this.deadline {
                    Deadline::Armed(entry) => entry,
                    _ => unreachable!("just armed"),
                }
            }
            Deadline::At(deadline) => {
                let deadline = *deadline;
                *this.deadline = Deadline::Armed(Entry::new(None, deadline));
                match this.deadline {
                    Deadline::Armed(entry) => entry,
                    _ => unreachable!("just armed"),
                }
            }
        };
        match entry.poll_elapsed(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed { _private: () })),
            Poll::Pending => {
                // After the inner future's own note: the user awaited the timeout.
                id::note_waiting(Leaf::Timeout, Some(*this.at));
                Poll::Pending
            }
        }
    }
}

impl<F: fmt::Debug> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("future", &self.future)
            .finish_non_exhaustive()
    }
}

/// The error of a [`Timeout`] whose deadline passed before its future finished.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// flywheel::run(async {
///     let pending = std::future::pending::<()>();
///     let err = flywheel::time::timeout(Duration::from_millis(1), pending).await.unwrap_err();
///     assert_eq!(err.to_string(), "deadline has elapsed");
///     let _: &dyn std::error::Error = &err;
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed {
    _private: (),
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl Error for Elapsed {}
