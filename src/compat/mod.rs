//! Adapters that let crates with runtime traits of their own run on flywheel.
//!
//! - [`hyper`] (feature `hyper`): hyper 1.x's `rt::{Read, Write, Executor, Timer}` over
//!   flywheel's streams, `spawn` and timers.
//!
//! Crates written against `futures_io` and the `Waker` contract (futures-util,
//! futures-channel, async-channel, async-lock, ...) need no adapter: they work on flywheel as
//! they are.

#[cfg(feature = "hyper")]
pub mod hyper;
