//! `Instant`: a point in time on the current runtime's clock.
//!
//! It wraps std's `Instant`, so the two convert for free and a flywheel instant is a real
//! instant whenever the clock is not paused. Only `Instant::now` differs from std: it asks
//! the runtime entered on this thread (a worker, a `block_on`, a blocking-pool thread) for its
//! clock, which is virtual under `Builder::start_paused` / `time::pause`, and reads std's
//! clock outside any runtime. Finding the runtime is a thread-local borrow, no handle clone;
//! an unpaused clock then costs one atomic load on top of std's `Instant::now()`.
//!
//! A runtime's clock does not go back: pausing freezes it where it stands, `advance` only
//! moves it forward, and resuming runs it on from the frozen time at real speed (so it may
//! stay behind or ahead of the real clock for good). The one exception is a read on one
//! thread racing a pause on another: it may return a real time slightly past the frozen one
//! (see `clock.rs`); closing that would put a lock on the unpaused path. Instants from different clocks —
//! two runtimes, or a runtime and a thread outside one — are comparable only while neither
//! clock was ever paused.
//!
//! Arithmetic follows std: `checked_*` return `None` past what an instant can hold, the
//! operators panic there (saying which `checked_*` to use instead), and the durations
//! between two instants saturate at zero.

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

use crate::runtime::context;

/// A measurement of the current runtime's clock, as [`std::time::Instant`] is of the
/// system's monotonic clock.
///
/// [`Instant::now`] reads the clock of the runtime this thread runs (inside `flywheel::run`,
/// `Runtime::block_on`, a task or a `spawn_blocking` job). That clock is the real one unless
/// it was paused ([`Builder::start_paused`](crate::Builder::start_paused),
/// [`pause`](crate::time::pause)): then it moves only by [`advance`](crate::time::advance) or
/// when the runtime is idle and jumps to the next timer, and `Instant::now()`, `elapsed()` and
/// every timer see that virtual time alike. Outside a runtime, `now` is std's.
///
/// Timers take and report these instants ([`sleep_until`](crate::time::sleep_until),
/// [`Sleep::deadline`](crate::time::Sleep::deadline),
/// [`Interval::tick`](crate::time::Interval::tick), ...). Convert with [`from_std`](Instant::from_std) / [`into_std`](Instant::into_std) or
/// `From`/`Into`; the conversion is free. Note that `std::time::Instant::now()` always reads
/// the real clock, paused runtime or not.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use flywheel::time::{sleep, Instant};
///
/// let rt = flywheel::Builder::new_current_thread().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     sleep(Duration::from_secs(3600)).await; // virtual: returns at once
///     assert!(start.elapsed() >= Duration::from_secs(3600));
/// });
/// ```
///
/// Arithmetic is std's: `Instant ± Duration` (panicking on overflow, so `checked_add` /
/// `checked_sub` for untrusted durations) and `Instant - Instant`, which is zero when the
/// right side is later.
///
/// ```
/// use std::time::Duration;
/// use flywheel::time::Instant;
///
/// let a = Instant::now();
/// let mut b = a + Duration::from_secs(1);
/// b -= Duration::from_millis(400);
/// assert!(a < b);
/// assert_eq!(b - a, Duration::from_millis(600));
/// assert_eq!(a - b, Duration::ZERO);
/// assert_eq!(a.checked_add(Duration::MAX), None);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    std: std::time::Instant,
}

impl Instant {
    /// The current time on the clock of the runtime this thread runs; std's
    /// `Instant::now()` outside a runtime.
    ///
    /// On a worker, in `block_on` and in `spawn_blocking` jobs it is the runtime's clock
    /// (virtual when paused). A thread that merely holds a [`Handle`](crate::Handle) has not
    /// entered the runtime and reads the real clock.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use flywheel::time::Instant;
    ///
    /// // Outside a runtime: the real clock.
    /// let before = std::time::Instant::now();
    /// assert!(Instant::now() >= Instant::from_std(before));
    ///
    /// // Inside a paused one: its virtual clock.
    /// let rt = flywheel::Builder::new_current_thread().start_paused(true).build().unwrap();
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     flywheel::time::advance(Duration::from_secs(60)).await;
    ///     assert_eq!(Instant::now() - start, Duration::from_secs(60));
    /// });
    /// ```
    pub fn now() -> Instant {
        context::with_current(|handle| match handle {
            Some(handle) => handle.time().clock.now(),
            None => Instant::from_std(std::time::Instant::now()),
        })
    }

    /// The flywheel instant at the same point in time as `std`.
    ///
    /// # Examples
    ///
    /// ```
    /// let std_now = std::time::Instant::now();
    /// let ours = flywheel::time::Instant::from_std(std_now);
    /// assert_eq!(ours.into_std(), std_now);
    /// ```
    pub fn from_std(std: std::time::Instant) -> Instant {
        Instant { std }
    }

    /// The std instant at the same point in time.
    ///
    /// # Examples
    ///
    /// ```
    /// let ours = flywheel::time::Instant::now();
    /// let std_instant: std::time::Instant = ours.into_std();
    /// assert_eq!(flywheel::time::Instant::from(std_instant), ours);
    /// ```
    pub fn into_std(self) -> std::time::Instant {
        self.std
    }

    /// The time from `earlier` to `self`, or zero if `earlier` is later (as `self - earlier`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use flywheel::time::Instant;
    ///
    /// let a = Instant::now();
    /// let b = a + Duration::from_secs(2);
    /// assert_eq!(b.duration_since(a), Duration::from_secs(2));
    /// assert_eq!(a.duration_since(b), Duration::ZERO);
    /// ```
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }

    /// The time from `earlier` to `self`, or `None` if `earlier` is later.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use flywheel::time::Instant;
    ///
    /// let a = Instant::now();
    /// let b = a + Duration::from_millis(5);
    /// assert_eq!(b.checked_duration_since(a), Some(Duration::from_millis(5)));
    /// assert_eq!(a.checked_duration_since(b), None);
    /// ```
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.std.checked_duration_since(earlier.std)
    }

    /// The time from `earlier` to `self`, or zero if `earlier` is later.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use flywheel::time::Instant;
    ///
    /// let a = Instant::now();
    /// let b = a + Duration::from_millis(5);
    /// assert_eq!(a.saturating_duration_since(b), Duration::ZERO);
    /// ```
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.std.saturating_duration_since(earlier.std)
    }

    /// The time since `self` on the current runtime's clock: `Instant::now() - self`
    /// (virtual under a paused clock; zero if `self` is later than now).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use flywheel::time::{sleep, Instant};
    ///
    /// flywheel::run(async {
    ///     let start = Instant::now();
    ///     sleep(Duration::from_millis(5)).await;
    ///     assert!(start.elapsed() >= Duration::from_millis(5));
    /// });
    /// ```
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    /// `self + duration`, or `None` if an instant cannot hold the result.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use flywheel::time::Instant;
    ///
    /// let now = Instant::now();
    /// assert_eq!(now.checked_add(Duration::from_secs(1)), Some(now + Duration::from_secs(1)));
    /// assert_eq!(now.checked_add(Duration::MAX), None);
    /// ```
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        self.std.checked_add(duration).map(Instant::from_std)
    }

    /// `self - duration`, or `None` if an instant cannot hold the result.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use flywheel::time::Instant;
    ///
    /// let later = Instant::now() + Duration::from_secs(1);
    /// assert!(later.checked_sub(Duration::from_secs(1)).is_some());
    /// assert_eq!(later.checked_sub(Duration::MAX), None);
    /// ```
    pub fn checked_sub(&self, duration: Duration) -> Option<Instant> {
        self.std.checked_sub(duration).map(Instant::from_std)
    }
}

impl From<std::time::Instant> for Instant {
    /// Same as [`Instant::from_std`].
    ///
    /// # Examples
    ///
    /// ```
    /// let std_now = std::time::Instant::now();
    /// let ours: flywheel::time::Instant = std_now.into();
    /// assert_eq!(ours.into_std(), std_now);
    /// ```
    fn from(std: std::time::Instant) -> Instant {
        Instant::from_std(std)
    }
}

impl From<Instant> for std::time::Instant {
    /// Same as [`Instant::into_std`].
    ///
    /// # Examples
    ///
    /// ```
    /// let ours = flywheel::time::Instant::now();
    /// let std_instant: std::time::Instant = ours.into();
    /// assert_eq!(flywheel::time::Instant::from_std(std_instant), ours);
    /// ```
    fn from(instant: Instant) -> std::time::Instant {
        instant.into_std()
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// # Panics
    ///
    /// When the result does not fit an instant: use [`Instant::checked_add`] for such
    /// durations (`Duration::MAX`, say).
    #[track_caller]
    fn add(self, duration: Duration) -> Instant {
        match self.checked_add(duration) {
            Some(sum) => sum,
            None => panic!(
                "flywheel::time::Instant + {duration:?} overflows an instant: use \
                 `Instant::checked_add` for durations this long"
            ),
        }
    }
}

impl AddAssign<Duration> for Instant {
    /// # Panics
    ///
    /// As `Instant + Duration`.
    #[track_caller]
    fn add_assign(&mut self, duration: Duration) {
        *self = *self + duration;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;

    /// # Panics
    ///
    /// When the result does not fit an instant: use [`Instant::checked_sub`] for such
    /// durations.
    #[track_caller]
    fn sub(self, duration: Duration) -> Instant {
        match self.checked_sub(duration) {
            Some(difference) => difference,
            None => panic!(
                "flywheel::time::Instant - {duration:?} overflows an instant: use \
                 `Instant::checked_sub` for durations this long"
            ),
        }
    }
}

impl SubAssign<Duration> for Instant {
    /// # Panics
    ///
    /// As `Instant - Duration`.
    #[track_caller]
    fn sub_assign(&mut self, duration: Duration) {
        *self = *self - duration;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    /// The time from `earlier` to `self`, zero if `earlier` is later: see
    /// [`Instant::duration_since`].
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.std.fmt(f)
    }
}
