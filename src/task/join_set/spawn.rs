//! Adding tasks to a `JoinSet`: on the current runtime, on a given runtime, as a local
//! task, or as a blocking closure. Each returns the new member's `AbortHandle`.

use std::future::Future;

use super::JoinSet;
use crate::task::{AbortHandle, JoinHandle};
use crate::Handle;

impl<T: 'static> JoinSet<T> {
    /// Spawns a task on the current runtime into the set and returns an [`AbortHandle`]
    /// for it.
    ///
    /// # Panics
    ///
    /// Outside a runtime: call it from `flywheel::run`, `block_on` or a task, or use
    /// [`JoinSet::spawn_on`].
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let mut set = flywheel::task::JoinSet::new();
    ///     let abort = set.spawn(std::future::pending::<()>());
    ///     abort.abort();
    ///     assert!(set.join_next().await.unwrap().unwrap_err().is_cancelled());
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
        T: Send,
    {
        self.insert(crate::spawn(future))
    }

    /// Spawns a task into the set on the runtime of `handle`; works from any thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Runtime::new().unwrap();
    /// let mut set = flywheel::task::JoinSet::new();
    /// set.spawn_on(async { "from outside" }, rt.handle());
    /// let out = rt.block_on(set.join_next()).unwrap().unwrap();
    /// assert_eq!(out, "from outside");
    /// ```
    #[track_caller]
    pub fn spawn_on<F>(&mut self, future: F, handle: &Handle) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
        T: Send,
    {
        self.insert(handle.spawn(future))
    }

    /// Spawns a local task (its future need not be `Send`, nor its output) into the set:
    /// see [`spawn_local`](crate::task::spawn_local) for the thread it is pinned to. A set
    /// whose output is not `Send` is not `Send` either: it stays on that thread.
    ///
    /// # Panics
    ///
    /// Where `spawn_local` panics: outside a current-thread runtime's `block_on`, a
    /// `LocalRuntime` or a multi-thread runtime's worker.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    ///
    /// let rt = flywheel::Builder::new_current_thread().build_local().unwrap();
    /// let total = rt.block_on(async {
    ///     let mut set = flywheel::task::JoinSet::new();
    ///     for i in 1..=3 {
    ///         set.spawn_local(async move { Rc::new(i) });
    ///     }
    ///     let mut total = 0;
    ///     while let Some(rc) = set.join_next().await {
    ///         total += *rc.unwrap();
    ///     }
    ///     total
    /// });
    /// assert_eq!(total, 6);
    /// ```
    #[track_caller]
    pub fn spawn_local<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(crate::task::spawn_local(future))
    }

    /// Runs a blocking closure on the current runtime's blocking pool, as a member of the
    /// set. Aborting it only helps before it starts: a running closure cannot be stopped.
    ///
    /// # Panics
    ///
    /// Outside a runtime: call it from `flywheel::run`, `block_on` or a task, or use
    /// [`Handle::spawn_blocking`] and await the handle.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let mut set = flywheel::task::JoinSet::new();
    ///     set.spawn_blocking(|| (1..=5u32).product::<u32>());
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), 120);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, f: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send,
    {
        self.insert(crate::spawn_blocking(f))
    }

    fn insert(&mut self, handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        self.group.insert(handle);
        abort
    }
}
