//! The methods of `Interval` that move its schedule: `reset`, `reset_immediately`,
//! `reset_after` and `reset_at`.

use std::time::Duration;

use super::{add, Interval};
use crate::time::Instant;

impl Interval {
    /// Restarts the schedule: the next tick completes one period from now.
    ///
    /// # Panics
    ///
    /// Outside a flywheel runtime (it reads the runtime's clock).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use flywheel::time::Instant;
    ///
    /// flywheel::run(async {
    ///     let mut ticker = flywheel::time::interval(Duration::from_millis(10));
    ///     ticker.tick().await;
    ///     let before = Instant::now();
    ///     ticker.reset();
    ///     ticker.tick().await;
    ///     assert!(Instant::now() >= before + Duration::from_millis(10));
    /// });
    /// ```
    #[track_caller]
    pub fn reset(&mut self) {
        let now = self.entry.clock_now();
        self.entry.reset(add(now, self.period));
    }

    /// Restarts the schedule from now: the next tick completes at once, the following ones
    /// a period apart from it.
    ///
    /// # Panics
    ///
    /// Outside a flywheel runtime (it reads the runtime's clock).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use flywheel::time::Instant;
    ///
    /// let rt = flywheel::Builder::new_current_thread().start_paused(true).build().unwrap();
    /// rt.block_on(async {
    ///     let mut ticker = flywheel::time::interval(Duration::from_secs(60));
    ///     ticker.tick().await;
    ///     flywheel::time::advance(Duration::from_secs(5)).await;
    ///     ticker.reset_immediately();
    ///     let now = Instant::now();
    ///     assert_eq!(ticker.tick().await, now);
    ///     assert_eq!(ticker.tick().await, now + Duration::from_secs(60));
    /// });
    /// ```
    #[track_caller]
    pub fn reset_immediately(&mut self) {
        let now = self.entry.clock_now();
        self.entry.reset(now);
    }

    /// Restarts the schedule: the next tick completes `after` from now, the following ones
    /// a period apart from it.
    ///
    /// # Panics
    ///
    /// Outside a flywheel runtime (it reads the runtime's clock).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use flywheel::time::Instant;
    ///
    /// let rt = flywheel::Builder::new_current_thread().start_paused(true).build().unwrap();
    /// rt.block_on(async {
    ///     let mut ticker = flywheel::time::interval(Duration::from_secs(60));
    ///     ticker.tick().await;
    ///     let now = Instant::now();
    ///     ticker.reset_after(Duration::from_secs(5));
    ///     assert_eq!(ticker.tick().await, now + Duration::from_secs(5));
    /// });
    /// ```
    #[track_caller]
    pub fn reset_after(&mut self, after: Duration) {
        let now = self.entry.clock_now();
        self.entry.reset(add(now, after));
    }

    /// Moves the schedule: the next tick completes at `deadline` (at once if it has passed),
    /// the following ones a period apart from it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use flywheel::time::Instant;
    ///
    /// let rt = flywheel::Builder::new_current_thread().start_paused(true).build().unwrap();
    /// rt.block_on(async {
    ///     let mut ticker = flywheel::time::interval(Duration::from_secs(60));
    ///     ticker.tick().await;
    ///     let at = Instant::now() + Duration::from_secs(90);
    ///     ticker.reset_at(at);
    ///     assert_eq!(ticker.tick().await, at);
    ///     assert_eq!(ticker.tick().await, at + Duration::from_secs(60));
    /// });
    /// ```
    pub fn reset_at(&mut self, deadline: Instant) {
        self.entry.reset(deadline);
    }
}
