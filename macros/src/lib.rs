//! The `#[flywheel::main]` and `#[flywheel::test]` attributes.
//!
//! Use them through the `flywheel` crate (its `macros` feature, on by default), not from this
//! crate directly: the generated code names the runtime as `::flywheel`, or as the path given
//! with `crate = "path"` by crates that re-export flywheel.
//!
//! Both turn an `async fn` without arguments into a plain function that builds a runtime,
//! runs the body to completion with `block_on`, and returns its output. Misuse (a function
//! that is not `async`, has arguments or generics, an unknown option, an option without a
//! value, a bad value or a missing comma) is a compile error pointing at the offending tokens.
#![warn(missing_docs, unreachable_pub, rust_2018_idioms)]
#![deny(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

use proc_macro::TokenStream;

mod expand;
mod options;

use options::Kind;

/// Runs `async fn main` on a flywheel runtime.
///
/// By default the runtime is multi-thread, with one worker per available core (which follows
/// a container's CPU quota), or as many as the `FLYWHEEL_WORKER_THREADS` environment
/// variable says when it is set. Options:
///
/// - `flavor = "current_thread"` runs every task on the main thread;
///   `flavor = "local"` does too, on a `LocalRuntime` (`Builder::build_local`), so the body
///   need not be `Send` and may `spawn_local` tasks that are not either;
///   `flavor = "multi_thread"` is the default;
/// - `worker_threads = N` sets the number of workers of a multi-thread runtime;
/// - `crate = "path"` names the path at which flywheel is reachable, for crates that use it
///   through a re-export (the default is `::flywheel`).
///
/// The function keeps its return type, so `main` may return a `Result`. The new `main`
/// does roughly this:
///
/// ```
/// async fn body() { /* the original body */ }
/// flywheel::Builder::new_multi_thread()
///     .build()
///     .expect("#[flywheel::main]: failed to build the flywheel runtime")
///     .block_on(body())
/// ```
///
/// # Panics
///
/// When the runtime cannot be built (the OS refuses the poller or a thread, or
/// `FLYWHEEL_WORKER_THREADS` is not a positive integer).
///
/// # Examples
///
/// ```
/// #[flywheel::main]
/// async fn main() {
///     let answer = flywheel::spawn(async { 6 * 7 });
///     assert_eq!(answer.await.unwrap(), 42);
/// }
/// ```
///
/// With `!Send` state shared by local tasks, on a `LocalRuntime`:
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// #[flywheel::main(flavor = "local")]
/// async fn main() {
///     let hits = Rc::new(Cell::new(0));
///     let task = flywheel::task::spawn_local({
///         let hits = hits.clone();
///         async move { hits.set(hits.get() + 1) }
///     });
///     task.await.unwrap();
///     assert_eq!(hits.get(), 1);
/// }
/// ```
///
/// On the main thread only, returning a `Result`:
///
/// ```
/// #[flywheel::main(flavor = "current_thread")]
/// async fn main() -> Result<(), std::num::ParseIntError> {
///     let here = std::thread::current().id();
///     let there = flywheel::spawn(async { std::thread::current().id() }).await.unwrap();
///     assert_eq!(here, there);
///     let n: u32 = "7".parse()?;
///     assert_eq!(n, 7);
///     Ok(())
/// }
/// ```
///
/// With two workers:
///
/// ```
/// #[flywheel::main(worker_threads = 2)]
/// async fn main() {
///     let name = flywheel::spawn(async { std::thread::current().name().map(str::to_owned) });
///     assert_eq!(name.await.unwrap().as_deref(), Some("flywheel-worker"));
/// }
/// ```
///
/// Through a re-export, as a crate that wraps flywheel would offer it to its users:
///
/// ```
/// mod my_framework {
///     pub use flywheel as rt;
/// }
///
/// #[my_framework::rt::main(crate = "my_framework::rt", flavor = "current_thread")]
/// async fn main() {
///     assert!(my_framework::rt::Handle::try_current().is_ok());
/// }
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Kind::Main, args.into(), item.into()).into()
}

/// Runs an `async fn` test on its own flywheel runtime.
///
/// By default the runtime is current-thread: the test body and every task it spawns run on
/// the test's thread. Options:
///
/// - `flavor = "multi_thread"` (with `worker_threads = N`, default one per core) to test
///   code across threads;
/// - `flavor = "local"` runs it on a `LocalRuntime` (`Builder::build_local`): the body may
///   hold `Rc`s across `.await`s and `spawn_local` tasks that are not `Send`;
/// - `start_paused = true` starts the runtime with a paused clock
///   (`Builder::start_paused`), so timers fire as soon as the runtime is idle and tests of
///   timing code run instantly and deterministically;
/// - `unhandled_panic = "ignore"` lets the test go on when a spawned task panics (the panic
///   then reaches only the task's `JoinHandle`). By default, `"shutdown_runtime"`, the first
///   task panic shuts the runtime down and fails the test with that panic
///   (`Builder::unhandled_panic(UnhandledPanic::ShutdownRuntime)`), instead of leaving the
///   test waiting for a task that is gone;
/// - `seed = N` runs the body on a seeded runtime (`Builder::seed`): its tasks are polled in
///   an order drawn from the seed, with a paused clock, so the run is the same every time;
/// - `runs = N` runs the body N times, each on a fresh seeded runtime with its own seed
///   (following from `seed` when given, random otherwise), to explore interleavings. When
///   the environment variable `FLYWHEEL_SEED` is set, the body runs once, with that seed.
///   A run that panics (or returns an `Err`) ends the test, and the output names its seed
///   and the command that replays it: `FLYWHEEL_SEED=<seed> cargo test <name>`;
/// - `crate = "path"` names the path at which flywheel is reachable, for crates that use it
///   through a re-export (the default is `::flywheel`).
///
/// Other attributes on the function (`#[should_panic]`, `#[ignore]`) are kept. Do not add
/// `#[test]` as well: this attribute already adds it.
///
/// # Panics
///
/// When the runtime cannot be built (the OS refuses the poller or a thread).
///
/// # Examples
///
/// In a test file (the function only runs under `cargo test`):
///
/// ```
/// #[flywheel::test]
/// async fn spawned_tasks_run() {
///     let task = flywheel::spawn(async { 1 + 1 });
///     assert_eq!(task.await.unwrap(), 2);
/// }
///
/// #[flywheel::test(flavor = "multi_thread", worker_threads = 2)]
/// async fn returns_a_result() -> Result<(), std::fmt::Error> {
///     Ok(())
/// }
///
/// // A task panic fails the test by default; this one expects it.
/// #[flywheel::test(unhandled_panic = "ignore")]
/// async fn a_task_may_panic() {
///     let err = flywheel::spawn(async { panic!("expected") }).await.unwrap_err();
///     assert!(err.is_panic());
/// }
///
/// // 200 interleavings of two tasks, each run replayable from its seed.
/// #[flywheel::test(runs = 200)]
/// async fn counter_survives_any_order() {
///     use std::sync::atomic::{AtomicU32, Ordering};
///     use std::sync::Arc;
///     assert!(flywheel::Handle::current().seed().is_some());
///     let count = Arc::new(AtomicU32::new(0));
///     let tasks: Vec<_> = (0..2)
///         .map(|_| {
///             let count = count.clone();
///             flywheel::spawn(async move {
///                 count.fetch_add(1, Ordering::SeqCst);
///             })
///         })
///         .collect();
///     for task in tasks {
///         task.await.unwrap();
///     }
///     assert_eq!(count.load(Ordering::SeqCst), 2);
/// }
///
/// #[flywheel::test(flavor = "local")]
/// async fn holds_an_rc_across_await() {
///     let rc = std::rc::Rc::new(1);
///     flywheel::task::yield_now().await;
///     assert_eq!(*rc, 1);
/// }
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Kind::Test, args.into(), item.into()).into()
}
