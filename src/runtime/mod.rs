//! The runtime: its shared state, `Runtime`, and the `run`/`spawn` shortcuts.

pub(crate) mod blocking;
mod builder;
pub(crate) mod context;
pub(crate) mod coop;
pub(crate) mod driver;
mod handle;
mod park;
pub(crate) mod scheduler;

pub use builder::Builder;
pub use handle::{Handle, TryCurrentError};

use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Release, SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use futures_task::{waker_ref, ArcWake};
use parking_lot::Mutex;

use crate::runtime::scheduler::owned::OwnedTasks;
use crate::runtime::scheduler::{current_thread, worker, Flavor};
use crate::task::JoinHandle;

/// Everything a runtime's threads and tasks share; a `Handle` is an `Arc` of it.
pub(crate) struct Shared {
    pub(crate) flavor: Flavor,
    pub(crate) owned: OwnedTasks,
    pub(crate) blocking: blocking::Pool,
    /// Locked by the idle thread that blocks in it.
    pub(crate) driver: Mutex<driver::Driver>,
    pub(crate) driver_handle: driver::Handle,
}

impl Shared {
    pub(crate) fn multi_thread(&self) -> &worker::Shared {
        match &self.flavor {
            Flavor::MultiThread(mt) => mt,
            Flavor::CurrentThread(_) => unreachable!("not a multi-thread runtime"),
        }
    }

    pub(crate) fn current_thread(&self) -> &current_thread::Shared {
        match &self.flavor {
            Flavor::CurrentThread(ct) => ct,
            Flavor::MultiThread(_) => unreachable!("not a current-thread runtime"),
        }
    }
}

/// The waker of a current-thread `block_on` future: the runtime itself, so it costs no
/// allocation.
impl ArcWake for Shared {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.current_thread().wake_main(arc_self);
    }
}

/// A flywheel runtime: worker threads (or the calling thread), an I/O reactor, a timer
/// wheel and a blocking pool.
///
/// Most programs call [`flywheel::run`](crate::run) and never see this type; build one with
/// [`Runtime::new`] or a [`Builder`] to choose the flavour and the thread counts.
///
/// Dropping a `Runtime` cancels every task that has not finished (each future is dropped
/// exactly once, on the dropping thread), joins the worker threads and waits for running
/// blocking jobs; [`Runtime::shutdown_timeout`] bounds that wait.
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
    /// the future there instead.
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

    /// Shuts the runtime down, waiting at most `timeout` for worker and blocking threads.
    ///
    /// Every unfinished task is cancelled (its future dropped). Threads still busy after
    /// `timeout` (a task or blocking job that does not return) are left to finish on their
    /// own instead of blocking the caller.
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
        self.shutdown(Some(Instant::now() + timeout));
    }

    fn shutdown(&mut self, deadline: Option<Instant>) {
        if std::mem::replace(&mut self.shut_down, true) {
            return;
        }
        let shared = &self.handle.shared;
        // Destructors of cancelled futures may look for their runtime.
        let _enter = context::enter(&self.handle);
        match &shared.flavor {
            // `false` (a worker still busy at the deadline) is fine below: see the loop.
            Flavor::MultiThread(mt) => {
                // Dropped inside one of its own tasks: this worker cannot wait for itself.
                // It exits when the poll it is in returns.
                let own_worker = context::with_core(|core| {
                    matches!(core, Some(scheduler::Core::MultiThread(core))
                        if core.runs(Arc::as_ptr(shared)))
                });
                let deadline = if own_worker {
                    Some(Instant::now())
                } else {
                    deadline
                };
                let _workers_done = mt.shutdown(&shared.driver_handle, deadline);
            }
            Flavor::CurrentThread(ct) => ct.shutdown(),
        }
        // Even when a worker is stuck inside a poll (shutdown_timeout expired), every other
        // task is cancelled here; the stuck one is marked cancelled and its worker drops its
        // future when the poll returns (the state word arbitrates: see `transition_to_shutdown`).
        for task in shared.owned.close_and_take_all() {
            task.shutdown();
        }
        shared.driver_handle.shutdown();
        if let Flavor::MultiThread(mt) = &shared.flavor {
            mt.drain_injector();
        }
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

/// Rounds of `park::spin` a `block_on` thread does before it sleeps.
const BLOCK_ON_SPIN_ROUNDS: u32 = 64;

/// Wakes a thread blocked in a multi-thread `block_on`.
pub(crate) struct ThreadWaker {
    thread: Thread,
    woken: AtomicBool,
    /// Set while the thread sleeps with nothing to do: a paused clock may then auto-advance
    /// (when `woken` is clear too; see `worker::Shared::is_idle`).
    idle: AtomicBool,
}

impl ThreadWaker {
    /// The `block_on` future neither runs nor waits to be polled.
    pub(crate) fn is_idle(&self) -> bool {
        self.idle.load(SeqCst) && !self.woken.load(SeqCst)
    }
}

impl ArcWake for ThreadWaker {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.woken.store(true, Release);
        arc_self.thread.unpark();
    }
}

thread_local! {
    static THREAD_WAKER: Arc<ThreadWaker> = Arc::new(ThreadWaker {
        thread: thread::current(),
        woken: AtomicBool::new(false),
        idle: AtomicBool::new(false),
    });
}

/// `block_on` for the multi-thread flavour: poll on this thread, sleep between wake-ups.
pub(crate) fn block_on_thread<F: Future>(handle: &Handle, future: F) -> F::Output {
    if handle.multi_thread().is_shut_down() {
        // No worker is left to drive I/O and timers: the future could wait for ever.
        panic!("{}", context::SHUT_DOWN_BLOCK_ON);
    }
    let _enter = context::enter_runtime(handle);
    let mut future = pin!(future);
    THREAD_WAKER.with(|thread_waker| {
        let _registered = handle.multi_thread().register_block_on(thread_waker);
        let waker = waker_ref(thread_waker);
        let mut cx = Context::from_waker(&waker);
        thread_waker.woken.store(true, Release);
        loop {
            if thread_waker.woken.swap(false, AcqRel) {
                if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                    return output;
                }
            } else if !park::spin(BLOCK_ON_SPIN_ROUNDS, || thread_waker.woken.load(Acquire)) {
                // Idle first, then re-check `woken`: a paused clock must never see this thread
                // idle while a wake-up is pending.
                thread_waker.idle.store(true, SeqCst);
                if !thread_waker.woken.load(SeqCst) {
                    handle.shared.driver_handle.notify_idle();
                    thread::park();
                }
                thread_waker.idle.store(false, SeqCst);
            }
        }
    })
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
    let rt =
        Runtime::new().unwrap_or_else(|e| panic!("flywheel::run: cannot start a runtime: {e}"));
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
    // Borrow the current handle rather than cloning it: spawn is a hot path.
    match context::with_current(|handle| handle.map(|handle| handle.spawn_or_refuse(future))) {
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
    Handle::current().spawn_blocking(f)
}
