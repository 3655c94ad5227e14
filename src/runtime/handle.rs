//! `Handle`: a cheap, clonable reference to a runtime, usable from any thread, and the
//! state it refers to, which the runtime's threads and tasks share.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::runtime::blocking::{self, BlockingSchedule, BlockingTask};
use crate::runtime::dump::Dump;
#[cfg(doc)]
use crate::runtime::dump::TaskDump;
use crate::runtime::scheduler::owned::OwnedTasks;
use crate::runtime::scheduler::{current_thread, worker, Scheduler};
use crate::runtime::{context, driver, thread};
use crate::task::cell::{Cell, Task};
use crate::task::schedule::{Reason, Schedule, Spawned};
use crate::task::JoinHandle;

/// Everything a runtime's threads and tasks share; a `Handle` is an `Arc` of it.
pub(crate) struct RuntimeShared {
    pub(crate) scheduler: Scheduler,
    pub(crate) owned: OwnedTasks,
    pub(crate) blocking: blocking::Pool,
    /// Locked by the idle thread that blocks in it.
    pub(crate) driver: Mutex<driver::Driver>,
    pub(crate) driver_handle: driver::DriverHandle,
    /// Names, stack size and hooks of the runtime's threads.
    pub(crate) threads: thread::ThreadConfig,
    /// `Builder::unhandled_panic` and `on_task_panic`, and a panic kept for `block_on`.
    pub(crate) panics: crate::runtime::panic::TaskPanics,
    /// Every thread's local tasks on this runtime (not in `owned`), for `Handle::dump`.
    pub(crate) locals: Mutex<Vec<std::sync::Weak<crate::runtime::local::LocalTasks>>>,
}

impl RuntimeShared {
    pub(crate) fn multi_thread(&self) -> &worker::MultiThread {
        match &self.scheduler {
            Scheduler::MultiThread(mt) => mt,
            Scheduler::CurrentThread(_) => unreachable!("not a multi-thread runtime"),
        }
    }

    pub(crate) fn current_thread(&self) -> &current_thread::CurrentThread {
        match &self.scheduler {
            Scheduler::CurrentThread(ct) => ct,
            Scheduler::MultiThread(_) => unreachable!("not a current-thread runtime"),
        }
    }

    /// The drivers' shared half: I/O reactor and timer wheel, and `unpark` for the thread
    /// blocked in them.
    pub(crate) fn driver(&self) -> &driver::DriverHandle {
        &self.driver_handle
    }

    /// The I/O reactor: registrations of sources.
    pub(crate) fn io(&self) -> &crate::io::reactor::IoHandle {
        &self.driver_handle.io
    }

    /// The timer wheel and the runtime's clock.
    pub(crate) fn time(&self) -> &crate::time::driver::TimeHandle {
        &self.driver_handle.time
    }
}

/// A reference to a runtime: spawn onto it, or block on it, from any thread.
///
/// Cloning is cheap (one reference count). A `Handle` does not keep the runtime's threads
/// alive: once the [`Runtime`](crate::Runtime) is dropped, tasks spawned through a handle
/// are cancelled at once.
///
/// # Examples
///
/// ```
/// let rt = flywheel::Runtime::new().unwrap();
/// let handle = rt.handle().clone();
/// let answer = std::thread::spawn(move || handle.block_on(async { 6 * 7 }))
///     .join()
///     .unwrap();
/// assert_eq!(answer, 42);
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) shared: Arc<RuntimeShared>,
}

/// Returned by [`Handle::try_current`] on a thread that has no runtime.
///
/// # Examples
///
/// ```
/// let err = flywheel::Handle::try_current().unwrap_err();
/// println!("{err}");
/// ```
#[derive(Debug)]
pub struct TryCurrentError {
    _private: (),
}

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(context::NO_RUNTIME)
    }
}

impl std::error::Error for TryCurrentError {}

/// Keeps a runtime entered on this thread; returned by [`Handle::enter`] and
/// [`Runtime::enter`](crate::Runtime::enter).
///
/// While it lives, [`flywheel::spawn`](crate::spawn), [`Handle::current`], timers and
/// socket constructors work from ordinary (synchronous) code on this thread, using the
/// entered runtime. Dropping it makes the previously entered runtime (or none) current
/// again.
///
/// # Panics
///
/// Guards nest, and must be dropped in the reverse order they were made: dropping one while
/// a guard made after it is still alive panics.
///
/// # Examples
///
/// ```
/// let rt = flywheel::Runtime::new().unwrap();
/// let task = {
///     let _guard = rt.enter();
///     flywheel::spawn(async { 7 })
/// };
/// assert_eq!(rt.block_on(task).unwrap(), 7);
/// ```
#[must_use = "the runtime is entered only while the guard lives: bind it to a variable"]
pub struct EnterGuard<'a> {
    inner: context::EnterGuard,
    /// Tied to the handle it entered, and to this thread (`!Send`): it restores this
    /// thread's context.
    _handle: PhantomData<(&'a Handle, *const ())>,
}

impl Drop for EnterGuard<'_> {
    fn drop(&mut self) {
        // Panicking while already unwinding would abort: the context is restored anyway.
        if self.inner.has_inner_guards() && !std::thread::panicking() {
            panic!("{}", context::ENTER_OUT_OF_ORDER);
        }
    }
}

impl fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

/// The kind of scheduler a runtime runs, from [`Handle::runtime_flavor`].
///
/// # Examples
///
/// ```
/// use flywheel::RuntimeFlavor;
///
/// let rt = flywheel::Builder::new_current_thread().build().unwrap();
/// assert_eq!(rt.handle().runtime_flavor(), RuntimeFlavor::CurrentThread);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RuntimeFlavor {
    /// Every task runs on the thread inside `block_on`
    /// ([`Builder::new_current_thread`](crate::Builder::new_current_thread)).
    CurrentThread,
    /// Tasks run on a pool of work-stealing worker threads
    /// ([`Builder::new_multi_thread`](crate::Builder::new_multi_thread)).
    MultiThread,
}

impl Handle {
    /// The handle of the runtime this thread is running in.
    ///
    /// # Panics
    ///
    /// Outside a runtime (not in `block_on`, a task, or a blocking-pool job). Use
    /// [`Handle::try_current`] to check instead.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let handle = flywheel::Handle::current();
    ///     assert_eq!(handle.spawn(async { 1 }).await.unwrap(), 1);
    /// });
    /// ```
    #[track_caller]
    pub fn current() -> Handle {
        match context::try_current() {
            Some(handle) => handle,
            None => panic!("{}", context::NO_RUNTIME),
        }
    }

    /// The handle of the runtime this thread is running in, or an error outside one.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(flywheel::Handle::try_current().is_err());
    /// flywheel::run(async {
    ///     assert!(flywheel::Handle::try_current().is_ok());
    /// });
    /// ```
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        context::try_current().ok_or(TryCurrentError { _private: () })
    }

    /// Spawns a task onto this runtime and returns its [`JoinHandle`].
    ///
    /// The task starts running at once on the runtime's threads (on a current-thread runtime:
    /// during the next `block_on`). Dropping the `JoinHandle` detaches the task.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Runtime::new().unwrap();
    /// let handle = rt.handle().spawn(async { "done" });
    /// assert_eq!(rt.block_on(handle).unwrap(), "done");
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (join, refused) = self.spawn_or_refuse(future, Spawned::here());
        if let Some(task) = refused {
            // The runtime is shut down: the task is cancelled before it ever runs.
            task.shutdown();
        }
        join
    }

    /// Spawns a task, or, when the runtime is shut down, hands it back un-run: the caller
    /// must `shutdown()` it. That drop of the user's future is left to the caller so that it
    /// can happen outside the thread-local borrow `flywheel::spawn` holds (the future's
    /// destructor may enter a runtime, which needs that slot).
    pub(crate) fn spawn_or_refuse<F>(
        &self,
        future: F,
        spawned: Spawned,
    ) -> (JoinHandle<F::Output>, Option<Task>)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let cell = Cell::new(future, self.clone(), spawned);
        let task: Task = cell.clone();
        if self.shared.owned.insert(&task) {
            self.schedule(task, Reason::Spawn);
            (JoinHandle::new(cell), None)
        } else {
            (JoinHandle::new(cell), Some(task))
        }
    }

    /// Runs a blocking closure on the runtime's blocking pool and returns its
    /// [`JoinHandle`].
    ///
    /// Use it for work that would stall a worker: file I/O, CPU-heavy loops, blocking calls
    /// into C libraries. The pool has at most `max_blocking_threads` threads; jobs beyond
    /// that wait for a free thread. A running job cannot be aborted.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Runtime::new().unwrap();
    /// let job = rt.handle().spawn_blocking(|| (1..=10u64).product::<u64>());
    /// assert_eq!(rt.block_on(job).unwrap(), 3_628_800);
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.spawn_blocking_with(f, Spawned::here())
    }

    /// `spawn_blocking` with the task's name and spawn location given.
    pub(crate) fn spawn_blocking_with<F, R>(&self, f: F, spawned: Spawned) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.try_spawn_blocking(f, spawned).0
    }

    /// `spawn_blocking_with`, also saying whether the pool took the job: on `Err` (the
    /// runtime is shut down, or the OS refused the pool its first thread) the job is
    /// cancelled already, and the handle reports it.
    pub(crate) fn try_spawn_blocking<F, R>(
        &self,
        f: F,
        spawned: Spawned,
    ) -> (JoinHandle<R>, std::io::Result<()>)
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let scheduler = BlockingSchedule::new(self.clone());
        let cell = Cell::new(BlockingTask::new(f), scheduler, spawned);
        let scheduled = self.shared.blocking.schedule(cell.clone(), self);
        (JoinHandle::new(cell), scheduled)
    }

    /// Runs a future to completion on the current thread, with this runtime as the
    /// current one (so `flywheel::spawn` works inside it).
    ///
    /// On a current-thread runtime one thread at a time runs the tasks, I/O and timers: the
    /// first inside `block_on`. Another thread calling `block_on` meanwhile polls its own
    /// future on its own thread whenever that future is woken (so the two futures may wait
    /// on each other), and takes over running the tasks when the first returns.
    ///
    /// # Panics
    ///
    /// When called on a runtime thread (a worker, or inside another `block_on`): `.await`
    /// the future there instead. When the runtime was already dropped: keep the `Runtime`
    /// alive while you use its handle. On a runtime built with
    /// [`UnhandledPanic::ShutdownRuntime`](crate::UnhandledPanic::ShutdownRuntime): with the
    /// payload of the task panic that shut it down (see there).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// let out = handle.block_on(async { flywheel::spawn(async { 5 }).await.unwrap() });
    /// assert_eq!(out, 5);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        // The future is not a task, even on a thread that is running one (a `spawn_blocking`
        // closure): `task::try_id()` is `None` in it.
        let _not_a_task = crate::task::id::IdGuard::enter(None);
        match &self.shared.scheduler {
            Scheduler::CurrentThread(_) => current_thread::block_on(self, future),
            Scheduler::MultiThread(_) => worker::block_on(self, future),
        }
    }

    /// Makes this runtime the current one on this thread until the returned guard drops.
    ///
    /// Use it to call [`flywheel::spawn`](crate::spawn), [`Handle::current`] or create
    /// timers and sockets from synchronous code that has a handle but is not inside the
    /// runtime. Entering does not run anything: tasks spawned meanwhile run on the
    /// runtime's workers (on a current-thread runtime: in its next `block_on`).
    ///
    /// # Panics
    ///
    /// The guard panics when dropped while a guard made after it (by this function or
    /// [`Runtime::enter`](crate::Runtime::enter)) is still alive: drop guards in reverse
    /// order.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// std::thread::spawn(move || {
    ///     let _guard = handle.enter();
    ///     assert!(flywheel::Handle::try_current().is_ok());
    ///     let task = flywheel::spawn(async { "from a plain thread" });
    ///     assert_eq!(handle.block_on(task).unwrap(), "from a plain thread");
    /// })
    /// .join()
    /// .unwrap();
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            inner: context::enter(self),
            _handle: PhantomData,
        }
    }

    /// What every live task of this runtime is doing: one [`TaskDump`] per task (and per
    /// `spawn_blocking` job) with its id, name, spawn location, state (idle, scheduled,
    /// running, blocking), polls so far, and the flywheel future it waits on with the
    /// user's source location of it.
    ///
    /// Taking a dump never polls or wakes a task and never stops the workers: it walks the
    /// runtime's task list one shard lock at a time, copying a few words per task, so a
    /// worker that spawns or finishes a task meanwhile waits at most that long. It works
    /// from any thread (inside the runtime too), on both flavours. Tasks that start or
    /// finish while it walks may or may not be listed. Print it for a table
    /// ([`Dump`]'s `Display`), or read [`Dump::tasks`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// flywheel::run(async {
    ///     let fetch = flywheel::task::Builder::new()
    ///         .name("fetch")
    ///         .spawn(flywheel::time::sleep(Duration::from_secs(60)))
    ///         .unwrap();
    ///     let dump = flywheel::Handle::current().dump();
    ///     let entry = dump.tasks().iter().find(|t| t.id() == fetch.id()).unwrap();
    ///     assert_eq!(entry.name(), Some("fetch"));
    ///     println!("{dump}");
    /// });
    /// ```
    pub fn dump(&self) -> Dump {
        Dump::take(self)
    }

    /// The flavour of this runtime's scheduler.
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::RuntimeFlavor;
    ///
    /// flywheel::run(async {
    ///     let flavor = flywheel::Handle::current().runtime_flavor();
    ///     assert_eq!(flavor, RuntimeFlavor::MultiThread);
    /// });
    /// ```
    pub fn runtime_flavor(&self) -> RuntimeFlavor {
        match self.shared.scheduler {
            Scheduler::CurrentThread(_) => RuntimeFlavor::CurrentThread,
            Scheduler::MultiThread(_) => RuntimeFlavor::MultiThread,
        }
    }

    /// The seed this runtime draws its scheduling order from
    /// ([`Builder::seed`](crate::Builder::seed)); `None` when it runs tasks in the order
    /// they were queued.
    ///
    /// A program that needs randomness of its own can derive it from this seed, so that it
    /// replays with the scheduling.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_current_thread().seed(42).build().unwrap();
    /// assert_eq!(rt.block_on(async { flywheel::Handle::current().seed() }), Some(42));
    /// let plain = flywheel::Builder::new_current_thread().build().unwrap();
    /// assert_eq!(plain.handle().seed(), None);
    /// ```
    pub fn seed(&self) -> Option<u64> {
        match &self.shared.scheduler {
            Scheduler::CurrentThread(ct) => ct.seed(),
            Scheduler::MultiThread(_) => None,
        }
    }

    pub(crate) fn multi_thread(&self) -> &worker::MultiThread {
        self.shared.multi_thread()
    }

    /// The runtime's drivers (I/O and time) as every thread shares them.
    pub(crate) fn driver(&self) -> &driver::DriverHandle {
        self.shared.driver()
    }

    /// The runtime's I/O reactor.
    pub(crate) fn io(&self) -> &crate::io::reactor::IoHandle {
        self.shared.io()
    }

    /// The runtime's timer wheel and clock.
    pub(crate) fn time(&self) -> &crate::time::driver::TimeHandle {
        self.shared.time()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flavor = match self.shared.scheduler {
            Scheduler::CurrentThread(_) => "current_thread",
            Scheduler::MultiThread(_) => "multi_thread",
        };
        f.debug_struct("Handle").field("flavor", &flavor).finish()
    }
}
