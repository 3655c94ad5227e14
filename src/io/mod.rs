//! I/O: the reactor that turns OS readiness into task wake-ups, and [`Async`], which puts
//! any non-blocking file descriptor on it.

#[cfg(unix)]
mod async_fd;
#[cfg(all(test, flywheel_loom))]
mod loom_readiness;
pub(crate) mod poll_evented;
pub(crate) mod reactor;
pub(crate) mod registration;
pub(crate) mod scheduled_io;
mod waiter_list;

#[cfg(unix)]
pub use async_fd::Async;
