//! Time: sleeps, timeouts and intervals on a hierarchical timer wheel.
//!
//! - [`sleep`] / [`sleep_until`]: wait for a duration or an instant ([`Sleep`]);
//! - [`timeout`] / [`timeout_at`]: bound another future ([`Timeout`], failing with
//!   [`Elapsed`]);
//! - [`interval`] / [`interval_at`]: a periodic ticker ([`Interval`]), with a choice of
//!   [`MissedTickBehavior`];
//! - [`pause`], [`resume`], [`advance`]: control a runtime's clock in tests;
//! - [`Instant`]: a point in time on the runtime's clock.
//!
//! Every runtime has one timer wheel with 1 ms resolution. A timer costs nothing until it is
//! first polled while not yet due; then it takes a slot in the wheel (a reusable slab node,
//! no allocation of its own) which dropping it frees in O(1). The thread that parks with
//! nothing to do sleeps exactly until the next deadline and fires what is due; busy workers
//! also fire due timers every few dozen tasks. Timers never complete before their deadline:
//! deadlines are rounded up to the next millisecond, so they complete on average about a
//! millisecond after it on an idle machine.
//!
//! All deadlines are [`Instant`]s on the runtime's clock, which is the real clock unless it is
//! paused. [`Instant::now`] reads that clock (std's outside a runtime); it wraps
//! `std::time::Instant` and converts to and from it for free.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use flywheel::time::{sleep, timeout};
//!
//! flywheel::run(async {
//!     sleep(Duration::from_millis(1)).await;
//!     let answer = timeout(Duration::from_secs(1), async { 42 }).await;
//!     assert_eq!(answer, Ok(42));
//! });
//! ```
//!
//! # Testing timing code
//!
//! Build the runtime with [`Builder::start_paused(true)`](crate::Builder::start_paused)
//! (either flavour). Its clock is then virtual: whenever nothing can run — every task waits,
//! no blocking job runs, the `block_on` future is not woken — the clock jumps straight to the
//! next timer deadline. Code that sleeps for hours finishes in milliseconds, and timers fire
//! in the same order on every run, so tests of retries, back-off or rate limits are fast and
//! deterministic. [`advance`] moves the clock by hand for finer control. [`Instant::now`]
//! and [`Instant::elapsed`] read the same virtual clock on every thread of the runtime
//! (tasks, `block_on`, `spawn_blocking` jobs), so `Instant::now() - start` after a one-hour
//! sleep is an hour, as are the instants the timers report ([`Sleep::deadline`],
//! [`Interval::tick`]). Only `std::time::Instant::now()` keeps reading the real clock.
//!
//! ```
//! use std::time::Duration;
//! use flywheel::time::{interval, timeout, Instant};
//!
//! let rt = flywheel::Builder::new_multi_thread()
//!     .worker_threads(2)
//!     .start_paused(true)
//!     .build()
//!     .unwrap();
//! rt.block_on(async {
//!     // A day of per-minute ticks...
//!     let mut ticker = interval(Duration::from_secs(60));
//!     let first = ticker.tick().await;
//!     let mut last = first;
//!     for _ in 0..24 * 60 {
//!         last = ticker.tick().await;
//!     }
//!     assert_eq!(last - first, Duration::from_secs(24 * 3600));
//!     assert_eq!(Instant::now(), last);
//!     // ...and a timeout that can only expire, at once.
//!     let start = Instant::now();
//!     let never = std::future::pending::<()>();
//!     assert!(timeout(Duration::from_secs(3600), never).await.is_err());
//!     assert!(start.elapsed() >= Duration::from_secs(3600));
//! });
//! ```

mod clock;
pub(crate) mod driver;
mod entry;
mod instant;
mod interval;
mod paused;
mod sleep;
mod timeout;
mod wheel;

pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use paused::{advance, pause, resume};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};
