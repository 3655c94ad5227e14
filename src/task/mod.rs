//! Tasks: handles to spawned work, their errors, and yielding.

pub(crate) mod cell;
mod error;
mod join_handle;
#[cfg(all(test, flywheel_loom))]
mod loom_state;
pub(crate) mod state;
mod yield_now;

pub use error::JoinError;
pub use join_handle::{AbortHandle, JoinHandle};
pub use yield_now::{yield_now, YieldNow};
