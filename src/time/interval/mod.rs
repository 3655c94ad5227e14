//! `interval` and `interval_at`: a ticker that completes once per period.
//!
//! `mod.rs` holds the constructors, the `Interval` type, ticking and `MissedTickBehavior`;
//! `reset.rs` the methods that move the schedule (`reset`, `reset_at`, ...).

use std::fmt;
use std::future::{poll_fn, Future};
use std::panic::Location;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::runtime::coop;
use crate::task::id::{self, Leaf};
use crate::time::clock::far_future;
use crate::time::entry::{self, Entry};
use crate::time::Instant;

mod reset;

/// Lateness below which a tick counts as on time: the next one is scheduled a period after
/// the missed deadline whatever the behaviour, so ordinary timer jitter never shifts the
/// schedule.
const ON_TIME: Duration = Duration::from_millis(5);

/// A ticker that completes every `period`, starting at once.
///
/// The first [`tick`](Interval::tick) completes immediately; the next ones one `period`
/// apart. When ticks are missed (the task was busy longer than a period), what happens next
/// is set by [`MissedTickBehavior`] (default [`Burst`](MissedTickBehavior::Burst)).
///
/// # Panics
///
/// When `period` is zero.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// flywheel::run(async {
///     let mut ticker = flywheel::time::interval(Duration::from_millis(5));
///     let first = ticker.tick().await; // at once
///     let second = ticker.tick().await;
///     assert_eq!(second - first, Duration::from_millis(5));
/// });
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    let (now, handle) = entry::now_and_handle();
    make(Entry::new(handle, now), period)
}

/// A ticker whose first tick completes at `start`, then every `period`.
///
/// # Panics
///
/// When `period` is zero.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use flywheel::time::Instant;
///
/// flywheel::run(async {
///     let start = Instant::now() + Duration::from_millis(10);
///     let mut ticker = flywheel::time::interval_at(start, Duration::from_millis(10));
///     assert_eq!(ticker.tick().await, start);
///     assert!(Instant::now() >= start);
/// });
/// ```
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    make(
        Entry::new(crate::runtime::context::try_current(), start),
        period,
    )
}

#[track_caller]
fn make(entry: Entry, period: Duration) -> Interval {
    assert!(
        period > Duration::ZERO,
        "flywheel::time::interval: the period must be greater than zero"
    );
    Interval {
        entry,
        period,
        missed_tick_behavior: MissedTickBehavior::default(),
    }
}

/// What an [`Interval`] does after ticks were missed: its `tick` was not awaited for longer
/// than a period.
///
/// In the examples below, the period is 10 ms, ticks were due at 0, 10, 20, ... and the task
/// stalled from 0 until 35 ms.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use flywheel::time::{interval, MissedTickBehavior};
///
/// flywheel::run(async {
///     let mut ticker = interval(Duration::from_millis(10));
///     ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
///     assert_eq!(ticker.missed_tick_behavior(), MissedTickBehavior::Skip);
/// });
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissedTickBehavior {
    /// Catch up: the missed ticks (10, 20, 30) complete at once, one per `tick`, then the
    /// schedule continues at 40. Keeps the number of ticks right.
    #[default]
    Burst,
    /// Start over: the missed tick completes at once (at 35), the next one a full period
    /// later (45), and so on from there. Keeps the spacing right.
    Delay,
    /// Drop the missed ticks: one completes at once (at 35), then the schedule continues on
    /// its original grid (40, 50, ...). Keeps the phase right.
    Skip,
}

impl MissedTickBehavior {
    /// When the tick after one due at `due` is, given that it completed at `now`.
    fn next(self, due: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => add(due, period),
            MissedTickBehavior::Delay => add(now, period),
            MissedTickBehavior::Skip => {
                let late = now.saturating_duration_since(due).as_nanos() % period.as_nanos();
                // `late` is below `period`, so it fits a Duration (not always a u64 of
                // nanoseconds: periods beyond 584 years exist).
                let late =
                    Duration::new((late / 1_000_000_000) as u64, (late % 1_000_000_000) as u32);
                add(now, period - late)
            }
        }
    }
}

fn add(instant: Instant, by: Duration) -> Instant {
    instant
        .checked_add(by)
        .unwrap_or_else(|| far_future(instant))
}

/// A ticker made by [`interval`] or [`interval_at`].
///
/// `Interval` is `Send`, `Sync` and `Unpin`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// flywheel::run(async {
///     let mut ticker = flywheel::time::interval(Duration::from_millis(2));
///     for _ in 0..3 {
///         ticker.tick().await;
///     }
///     assert_eq!(ticker.period(), Duration::from_millis(2));
/// });
/// ```
pub struct Interval {
    /// Armed for the next tick's deadline.
    entry: Entry,
    period: Duration,
    missed_tick_behavior: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns the instant it was due at.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future before it completes loses no tick; the next call
    /// waits for the same one.
    ///
    /// # Panics
    ///
    /// Awaiting it outside a flywheel runtime panics, and so does awaiting a tick that is
    /// not yet due after the runtime shut down (see [`Sleep`](crate::time::Sleep)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use flywheel::time::Instant;
    ///
    /// flywheel::run(async {
    ///     let mut ticker = flywheel::time::interval(Duration::from_millis(3));
    ///     let a = ticker.tick().await;
    ///     let b = ticker.tick().await;
    ///     assert_eq!(b - a, Duration::from_millis(3));
    ///     assert!(Instant::now() >= b);
    /// });
    /// ```
    #[track_caller]
    pub fn tick(&mut self) -> impl Future<Output = Instant> + Send + '_ {
        // Not an `async fn`: `#[track_caller]` does not reach into one, and a dump shows
        // this call's location as where the task waits.
        let at = Location::caller();
        poll_fn(move |cx| {
            let polled = self.poll_tick(cx);
            if polled.is_pending() {
                id::note_waiting(Leaf::Interval, Some(at));
            }
            polled
        })
    }

    /// Polls for the next tick: `Ready` with the instant it was due at, or `Pending` after
    /// arranging for `cx`'s waker to be woken at that instant.
    ///
    /// # Panics
    ///
    /// Outside a flywheel runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// flywheel::run(async {
    ///     let mut ticker = flywheel::time::interval(Duration::from_millis(1));
    ///     let first = std::future::poll_fn(|cx| ticker.poll_tick(cx)).await;
    ///     assert!(first <= flywheel::time::Instant::now());
    /// });
    /// ```
    #[track_caller]
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        // Bursts of missed ticks must still let other tasks run.
        if coop::poll_proceed(cx).is_pending() || self.entry.poll_elapsed(cx).is_pending() {
            id::note_waiting(Leaf::Interval, Some(Location::caller()));
            return Poll::Pending;
        }
        let due = self.entry.deadline();
        let now = self.entry.clock_now();
        let next = if now > add(due, ON_TIME) {
            self.missed_tick_behavior.next(due, now, self.period)
        } else {
            add(due, self.period)
        };
        // The entry has fired, so this only records the deadline: nothing is registered
        // until the next tick is polled.
        self.entry.reset(next);
        Poll::Ready(due)
    }

    /// The behaviour after missed ticks.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use flywheel::time::MissedTickBehavior;
    ///
    /// let ticker = flywheel::time::interval(Duration::from_secs(1));
    /// assert_eq!(ticker.missed_tick_behavior(), MissedTickBehavior::Burst);
    /// ```
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Sets the behaviour after missed ticks.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use flywheel::time::MissedTickBehavior;
    ///
    /// let mut ticker = flywheel::time::interval(Duration::from_secs(1));
    /// ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    /// assert_eq!(ticker.missed_tick_behavior(), MissedTickBehavior::Delay);
    /// ```
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }

    /// The period between ticks.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let ticker = flywheel::time::interval(Duration::from_millis(250));
    /// assert_eq!(ticker.period(), Duration::from_millis(250));
    /// ```
    pub fn period(&self) -> Duration {
        self.period
    }
}

impl fmt::Debug for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interval")
            .field("next", &self.entry.deadline())
            .field("period", &self.period)
            .field("missed_tick_behavior", &self.missed_tick_behavior)
            .finish()
    }
}
