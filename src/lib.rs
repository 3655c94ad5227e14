//! flywheel: a small async runtime you can read in an afternoon.
//!
//! - a work-stealing executor (`Runtime`, `spawn`, `JoinHandle`) with per-worker
//!   crossbeam-deque queues, a LIFO slot and a shared injector, plus a current-thread flavour;
//! - a blocking pool for work that must not stall the workers (`spawn_blocking`);
//! - a mio reactor and a timer wheel driven by the idle workers themselves.
//!
//! # A tour
//!
//! ```
//! async fn greet(name: &str) -> String {
//!     format!("Hello, {name}")
//! }
//!
//! let greetings = flywheel::run(async {
//!     let alice = flywheel::spawn(greet("Alice"));
//!     let bob = flywheel::spawn(greet("Bob"));
//!     vec![alice.await.unwrap(), bob.await.unwrap()]
//! });
//! assert_eq!(greetings, ["Hello, Alice", "Hello, Bob"]);
//! ```
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rust_2018_idioms,
    clippy::undocumented_unsafe_blocks
)]
#![deny(unsafe_code, unsafe_op_in_unsafe_fn)]
#![doc(test(attr(deny(warnings))))]

#[cfg(feature = "hyper")]
pub mod compat;
#[doc = include_str!("from_tokio.md")]
pub mod from_tokio {}
pub mod io;
pub mod net;
#[cfg(unix)]
pub mod process;
pub mod runtime;
#[cfg(unix)]
pub mod signal;
mod sync;
pub mod task;
pub mod time;

#[cfg(feature = "macros")]
pub use flywheel_macros::{main, test};
pub use runtime::{
    run, spawn, spawn_blocking, Builder, EnterGuard, Handle, LocalRuntime, LongPoll, Runtime,
    RuntimeFlavor, RuntimeMetrics, TaskPanic, TryCurrentError, UnhandledPanic,
};
pub use task::spawn_local;
