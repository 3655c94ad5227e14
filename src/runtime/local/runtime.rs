//! `LocalRuntime`: a current-thread runtime that owns its thread's local tasks.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::runtime::{EnterGuard, Handle, Runtime};
use crate::task::schedule::Spawned;
use crate::task::JoinHandle;

use super::LocalTasks;

/// A current-thread runtime for futures that are not `Send`: its `block_on`, its local
/// tasks and its ordinary tasks share one run queue on the thread that built it.
///
/// Build one with [`Builder::build_local`](crate::Builder::build_local). It is `!Send`: it
/// stays on that thread, which owns its local tasks, so dropping it drops every local
/// future there. Tasks spawned with [`spawn_local`](crate::task::spawn_local) (inside it)
/// or [`LocalRuntime::spawn_local`] (from outside) may hold `Rc`, `RefCell` and other
/// `!Send` state; they are woken from any thread like other tasks. Ordinary `Send` tasks
/// ([`flywheel::spawn`](crate::spawn), [`LocalRuntime::spawn`]) run on the same queue.
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
///
/// let rt = flywheel::Builder::new_current_thread().build_local()?;
/// let log = Rc::new(RefCell::new(Vec::new()));
/// let task = {
///     let log = log.clone();
///     rt.spawn_local(async move { log.borrow_mut().push("local task") })
/// };
/// rt.block_on(async {
///     task.await.unwrap();
///     log.borrow_mut().push("block_on");
/// });
/// assert_eq!(*log.borrow(), ["local task", "block_on"]);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct LocalRuntime {
    runtime: Runtime,
    tasks: Arc<LocalTasks>,
    /// `!Send` and `!Sync`: the runtime's local tasks belong to this thread.
    _owner_thread: PhantomData<*const ()>,
}

impl LocalRuntime {
    /// Makes `runtime` (a current-thread one) local to the calling thread.
    pub(crate) fn new(runtime: Runtime) -> LocalRuntime {
        let tasks = runtime
            .handle()
            .shared
            .current_thread()
            .bind_local_tasks(runtime.handle());
        LocalRuntime {
            runtime,
            tasks,
            _owner_thread: PhantomData,
        }
    }

    /// Runs a future, which need not be `Send`, to completion on this thread, running the
    /// runtime's tasks (local and ordinary) meanwhile.
    ///
    /// # Panics
    ///
    /// When called inside a runtime (a task, or another `block_on`): `.await` instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_current_thread().build_local().unwrap();
    /// let shared = std::rc::Rc::new(5);
    /// let out = rt.block_on(async {
    ///     let shared = shared.clone();
    ///     flywheel::task::spawn_local(async move { *shared * 2 }).await.unwrap()
    /// });
    /// assert_eq!(out, 10);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Spawns a local task (its future need not be `Send`); it runs during the next
    /// `block_on`. See [`spawn_local`](crate::task::spawn_local).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_current_thread().build_local().unwrap();
    /// let text = std::rc::Rc::new("not Send");
    /// let task = rt.spawn_local(async move { text.len() });
    /// assert_eq!(rt.block_on(task).unwrap(), 8);
    /// ```
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.tasks.spawn(future, Spawned::here())
    }

    /// Spawns an ordinary (`Send`) task on this runtime; see [`Handle::spawn`].
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_current_thread().build_local().unwrap();
    /// let task = rt.spawn(async { 1 + 1 });
    /// assert_eq!(rt.block_on(task).unwrap(), 2);
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.runtime.spawn(future)
    }

    /// The runtime's [`Handle`]: it spawns ordinary tasks from any thread. A thread that
    /// drives the runtime through it (`Handle::block_on`) runs the ordinary tasks only.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_current_thread().build_local().unwrap();
    /// let handle = rt.handle().clone();
    /// let task = std::thread::spawn(move || handle.spawn(async { "from a thread" }))
    ///     .join()
    ///     .unwrap();
    /// assert_eq!(rt.block_on(task).unwrap(), "from a thread");
    /// ```
    pub fn handle(&self) -> &Handle {
        self.runtime.handle()
    }

    /// Makes this runtime the current one on this thread until the guard drops; see
    /// [`Handle::enter`]. `spawn_local` then works here outside `block_on` too.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_current_thread().build_local().unwrap();
    /// let task = {
    ///     let _guard = rt.enter();
    ///     flywheel::task::spawn_local(async { std::rc::Rc::new(3) })
    /// };
    /// assert_eq!(*rt.block_on(task).unwrap(), 3);
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        self.runtime.enter()
    }
}

impl fmt::Debug for LocalRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalRuntime")
            .field("handle", self.runtime.handle())
            .finish()
    }
}
