//! Time: sleeps, timeouts and intervals on a hierarchical timer wheel.
//!
//! Every runtime has one timer wheel with 1 ms resolution. A timer costs nothing until it is
//! first polled while not yet due; then it takes a slot in the wheel (a reusable slab node,
//! no allocation of its own) which dropping it frees in O(1). The thread that parks with
//! nothing to do sleeps exactly until the next deadline and fires what is due; busy workers
//! also fire due timers every few dozen tasks. Timers never complete before their deadline.
//!
//! [`Instant`] is std's. All deadlines are measured on the runtime's clock, which is the real
//! clock unless the runtime was built with
//! [`Builder::start_paused`](crate::Builder::start_paused).
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

mod clock;
pub(crate) mod driver;
mod entry;
mod paused;
mod sleep;
mod timeout;
mod wheel;

pub use paused::{advance, pause, resume};
pub use sleep::{sleep, sleep_until, Sleep};
pub use std::time::Instant;
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};
