//! The runtime: `Runtime`, and the `run`/`spawn` shortcuts; task dumps ([`Dump`]).
//!
//! Everything here is also at the crate root, except the dump types, which only
//! [`Handle::dump`] returns.

mod block_in_place;
pub(crate) mod block_on;
pub(crate) mod blocking;
mod builder;
pub(crate) mod context;
pub(crate) mod coop;
pub(crate) mod driver;
mod dump;
mod handle;
pub(crate) mod local;
#[cfg(all(test, flywheel_loom))]
mod loom_local;
mod metrics;
pub(crate) mod panic;
mod park;
pub(crate) mod scheduler;
pub(crate) mod thread;
mod watchdog;

pub use block_in_place::block_in_place;
pub use builder::Builder;
pub use dump::{Dump, TaskDump, TaskState};
pub(crate) use handle::RuntimeShared;
pub use handle::{EnterGuard, Handle, RuntimeFlavor, TryCurrentError};
pub use local::LocalRuntime;
pub use metrics::RuntimeMetrics;
pub use panic::{TaskPanic, UnhandledPanic};
pub use watchdog::LongPoll;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::runtime::scheduler::Scheduler;
use crate::task::schedule::Spawned;
use crate::task::JoinHandle;

/// A flywheel runtime: worker threads (or the calling thread), an I/O reactor, a timer
/// wheel and a blocking pool.
///
/// Most programs call [`flywheel::run`](crate::run) and never see this type; build one with
/// [`Runtime::new`] or a [`Builder`] to choose the flavour and the thread counts.
///
/// # Shutdown
///
/// Dropping a `Runtime` shuts it down: new tasks are refused (cancelled at once), every task
/// that has not finished is cancelled, the worker threads are joined and running blocking
/// jobs are waited for ([`Runtime::shutdown_timeout`] bounds that wait). Each cancelled
/// task's future is dropped exactly once:
///
/// - a task that is idle or queued (never polled included) is dropped on the thread that
///   drops the runtime, before `drop` returns;
/// - a task that some thread is polling at that moment is dropped by that thread, as soon
///   as the poll returns. This happens only when the runtime cannot wait for the poll: it
///   is dropped from inside one of its own tasks (that task, and on a multi-thread runtime
///   the tasks other workers are polling meanwhile), `shutdown_timeout` gave up on a worker
///   stuck in a poll, or, on a current-thread runtime, another thread inside
///   [`Handle::block_on`] is running a task.
///
/// A blocking job that has not started is cancelled like a task; one that is running is
/// never interrupted and finishes on its own thread. Wakers, `JoinHandle`s and `Handle`s
/// that outlive the runtime stay harmless: the handles report the tasks as cancelled.
///
/// # Examples
///
/// ```
/// let rt = flywheel::Runtime::new().unwrap();
/// let task = rt.spawn(async { 2 + 2 });
/// assert_eq!(rt.block_on(task).unwrap(), 4);
/// ```
pub struct Runtime {
    handle: Handle,
    /// Set once shut down, so `Drop` after `shutdown_timeout` does nothing.
    shut_down: bool,
    /// The long-poll watchdog thread, when `warn_long_polls` asked for one.
    watchdog: Option<watchdog::Watchdog>,
}

impl Runtime {
    /// A multi-thread runtime with one worker per available core.
    ///
    /// # Errors
    ///
    /// When the OS refuses the poller or a worker thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Runtime::new()?;
    /// rt.block_on(async { println!("inside flywheel") });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> std::io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }

    pub(crate) fn from_handle(handle: Handle) -> Runtime {
        Runtime {
            handle,
            shut_down: false,
            watchdog: None,
        }
    }

    /// Runs a future to completion on the current thread and returns its output.
    ///
    /// On a multi-thread runtime the future runs on the calling thread while spawned tasks
    /// run on the workers; on a current-thread runtime the calling thread runs the tasks too.
    ///
    /// # Panics
    ///
    /// When called on a runtime thread (a worker, or inside another `block_on`): `.await`
    /// the future there instead. On a runtime built with
    /// [`UnhandledPanic::ShutdownRuntime`], a task panic shuts it down and `block_on` resumes
    /// that panic.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_current_thread().build().unwrap();
    /// let out = rt.block_on(async {
    ///     let a = flywheel::spawn(async { 20 });
    ///     let b = flywheel::spawn(async { 22 });
    ///     a.await.unwrap() + b.await.unwrap()
    /// });
    /// assert_eq!(out, 42);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// Spawns a task onto this runtime; see [`Handle::spawn`].
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Runtime::new().unwrap();
    /// let task = rt.spawn(async { "hi" });
    /// assert_eq!(rt.block_on(task).unwrap(), "hi");
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs a blocking closure on the blocking pool; see [`Handle::spawn_blocking`].
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Runtime::new().unwrap();
    /// let job = rt.spawn_blocking(|| std::thread::current().name().map(str::to_owned));
    /// assert!(rt.block_on(job).unwrap().is_some());
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// The runtime's [`Handle`], to spawn onto it from elsewhere.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// let task = handle.spawn(async { 1 });
    /// assert_eq!(rt.block_on(task).unwrap(), 1);
    /// ```
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Makes this runtime the current one on this thread until the guard drops; see
    /// [`Handle::enter`].
    ///
    /// # Panics
    ///
    /// The guard panics when dropped while a guard made after it is still alive.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = flywheel::Runtime::new().unwrap();
    /// let nap = {
    ///     let _guard = rt.enter();
    ///     // Timers and spawns need a current runtime: the guard provides it.
    ///     flywheel::time::sleep(Duration::from_millis(1))
    /// };
    /// rt.block_on(nap);
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// Shuts the runtime down, waiting at most `timeout` for worker and blocking threads.
    ///
    /// Every unfinished task is cancelled (its future dropped, as for `drop`: see
    /// [Shutdown](Runtime#shutdown)). Threads still busy after `timeout` (a task or blocking
    /// job that does not return) are left to finish on their own instead of blocking the
    /// caller; a task stuck in a poll is then dropped by its worker when the poll returns.
    /// A `timeout` too long to add to the current time (`Duration::MAX`) waits like `drop`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = flywheel::Runtime::new().unwrap();
    /// rt.spawn_blocking(|| std::thread::sleep(Duration::from_millis(200)));
    /// let start = std::time::Instant::now();
    /// rt.shutdown_timeout(Duration::from_millis(10));
    /// assert!(start.elapsed() < Duration::from_millis(150));
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown(Instant::now().checked_add(timeout));
    }

    fn shutdown(&mut self, deadline: Option<Instant>) {
        if std::mem::replace(&mut self.shut_down, true) {
            return;
        }
        // First, so no poll that shutdown itself waits for is reported.
        if let Some(mut watchdog) = self.watchdog.take() {
            watchdog.stop();
        }
        let shared = &self.handle.shared;
        // Destructors of cancelled futures may look for their runtime.
        let _enter = context::enter(&self.handle);
        match &shared.scheduler {
            // `false` (a worker still busy at the deadline) is fine below: see the loop.
            Scheduler::MultiThread(mt) => {
                // Dropped inside one of its own tasks: this worker cannot wait for itself.
                // It exits when the poll it is in returns.
                // Also from a `block_in_place` closure: the thread gave its core away but
                // still counts as a worker until it returns.
                let own_worker = context::with_core(|core| {
                    matches!(core, Some(scheduler::Core::MultiThread(core))
                        if core.runs(Arc::as_ptr(shared)))
                }) || mt.is_worker_thread();
                let deadline = if own_worker {
                    Some(Instant::now())
                } else {
                    deadline
                };
                let _workers_done = mt.shutdown(&shared.driver_handle, deadline);
            }
            Scheduler::CurrentThread(ct) => ct.shutdown(),
        }
        // Even when a worker is stuck inside a poll (shutdown_timeout expired), every other
        // task is cancelled here; the stuck one is marked cancelled and its worker drops its
        // future when the poll returns (the state word arbitrates: see `transition_to_shutdown`).
        for task in shared.owned.close_and_take_all() {
            task.shutdown();
        }
        if let Scheduler::MultiThread(mt) = &shared.scheduler {
            mt.drain_injector();
        }
        shared.driver_handle.shutdown();
        shared.blocking.shutdown(deadline);
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("handle", &self.handle)
            .finish()
    }
}

/// Runs a future to completion on a new multi-thread runtime, then shuts it down —
/// flywheel's `asyncio.run`.
///
/// # Panics
///
/// When the runtime cannot be built (the OS refuses threads or the poller), or when called
/// from inside a runtime (`.await` the future there instead).
///
/// # Examples
///
/// ```
/// let sum = flywheel::run(async {
///     let a = flywheel::spawn(async { 1 });
///     let b = flywheel::spawn(async { 2 });
///     a.await.unwrap() + b.await.unwrap()
/// });
/// assert_eq!(sum, 3);
/// ```
#[track_caller]
pub fn run<F: Future>(future: F) -> F::Output {
    // Refuse before starting threads that would only be torn down again.
    if context::in_runtime() {
        panic!("{}", context::NESTED_BLOCK_ON);
    }
    // A `match`, not `unwrap_or_else`: a panic inside a closure would point here, not at
    // the caller.
    let rt = match Runtime::new() {
        Ok(rt) => rt,
        Err(e) => panic!("flywheel::run: cannot start a runtime: {e}"),
    };
    rt.block_on(future)
}

/// Spawns a task onto the current runtime and returns its [`JoinHandle`].
///
/// # Panics
///
/// Outside a runtime: call it from `flywheel::run`, `block_on` or a task, or use
/// [`Handle::spawn`].
///
/// # Examples
///
/// ```
/// flywheel::run(async {
///     let task = flywheel::spawn(async { "spawned" });
///     assert_eq!(task.await.unwrap(), "spawned");
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    spawn_with(future, Spawned::here())
}

/// `spawn` with the task's name and spawn location given.
#[track_caller]
pub(crate) fn spawn_with<F>(future: F, spawned: Spawned) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // Borrow the current handle rather than cloning it: spawn is a hot path.
    let spawn = |handle: Option<&Handle>| handle.map(|h| h.spawn_or_refuse(future, spawned));
    match context::with_current(spawn) {
        Some((join, refused)) => {
            if let Some(task) = refused {
                // Cancelled out here, not inside the borrow: dropping the future may run
                // code (a destructor dropping a runtime) that enters a runtime.
                task.shutdown();
            }
            join
        }
        None => panic!("{}", context::NO_RUNTIME),
    }
}

/// Runs a blocking closure on the current runtime's blocking pool.
///
/// # Panics
///
/// Outside a runtime: call it from `flywheel::run`, `block_on` or a task, or use
/// [`Handle::spawn_blocking`].
///
/// # Examples
///
/// ```
/// flywheel::run(async {
///     let n = flywheel::spawn_blocking(|| 40 + 2).await.unwrap();
///     assert_eq!(n, 42);
/// });
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    Handle::current().spawn_blocking_with(f, Spawned::here())
}
