//! I/O: the reactor that turns OS readiness into task wake-ups, [`Async`], which puts any
//! non-blocking file descriptor on it, and [`Interest`] / [`Ready`], the vocabulary of the
//! sockets' `ready()` and `try_*` methods.
//!
//! # Waiting by hand
//!
//! Every socket in [`net`](crate::net) has `readable()`, `writable()` and `ready(interest)`,
//! which wait without doing any I/O, and `try_*` methods (`try_read`, `try_send`, ...),
//! which do one non-blocking call now and never wait. A `try_*` call that returns
//! `WouldBlock` clears the readiness it consumed (unless a newer event arrived meanwhile),
//! so the usual loop sleeps until the OS reports something new, and misses nothing:
//!
//! ```
//! use futures::AsyncWriteExt;
//! use std::io;
//!
//! flywheel::run(async {
//!     let (mut a, b) = flywheel::net::UnixStream::pair()?;
//!     a.write_all(b"hello").await?;
//!     let mut buf = [0; 16];
//!     let n = loop {
//!         b.readable().await?;
//!         match b.try_read(&mut buf) {
//!             Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
//!             r => break r?,
//!         }
//!     };
//!     assert_eq!(&buf[..n], b"hello");
//!     Ok::<(), io::Error>(())
//! })
//! .unwrap();
//! ```

#[cfg(unix)]
mod async_fd;
mod interest;
#[cfg(all(test, flywheel_loom))]
mod loom_readiness;
pub(crate) mod poll_evented;
pub(crate) mod reactor;
mod ready;
pub(crate) mod registration;
pub(crate) mod scheduled_io;
mod waiter_list;

#[cfg(unix)]
pub use async_fd::Async;
pub use interest::Interest;
pub use ready::Ready;
