//! `JoinSet`: a group of tasks joined in completion order, aborted together on drop.
//!
//! A thin owner of a `Group` (see `group.rs`), which makes each completion cost O(1). The
//! one rule it adds: dropping the set aborts every member, so tasks never outlive the scope
//! that owns their set unless `detach_all` says so.

mod future;

pub use future::{JoinNext, JoinNextWithId, JoinSetWait, Shutdown};

use std::fmt;
use std::future::Future;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::runtime::coop;
use crate::task::gather::{JoinAll, TryJoinAll};
use crate::task::group::Group;
use crate::task::wait::{Outcome, ReturnWhen, WaitState};
use crate::task::{AbortHandle, Id, JoinError, JoinHandle};
use crate::Handle;

/// A set of tasks, awaited in the order they finish; dropping it aborts them all.
///
/// This is flywheel's `asyncio.TaskGroup`: spawn into a set, then [`join_next`] gives each
/// result as its task finishes. Leaving the scope (returning early, `?`, a panic) drops the
/// set and aborts every task still in it, so no task outlives the code that owns it. For
/// fail-fast groups where the first error aborts the siblings, see [`try_join_all`].
///
/// [`join_next`] costs O(1) per finished task, however many tasks the set holds: a task's
/// completion puts it on a ready list and only tasks on that list are polled.
///
/// `JoinSet<T>` is `Send` and `Sync` when `T` is `Send`; every future its methods return
/// is then `Send`.
///
/// [`join_next`]: JoinSet::join_next
/// [`try_join_all`]: JoinSet::try_join_all
///
/// # Examples
///
/// ```
/// use flywheel::task::JoinSet;
///
/// flywheel::run(async {
///     let mut set = JoinSet::new();
///     for i in 0..10u64 {
///         set.spawn(async move { i * i });
///     }
///     let mut sum = 0;
///     while let Some(result) = set.join_next().await {
///         sum += result.unwrap();
///     }
///     assert_eq!(sum, 285);
/// });
/// ```
pub struct JoinSet<T> {
    group: Group<T>,
}

impl<T: 'static> JoinSet<T> {
    /// An empty set. It needs no runtime until the first `spawn`.
    ///
    /// # Examples
    ///
    /// ```
    /// let set = flywheel::task::JoinSet::<()>::new();
    /// assert!(set.is_empty());
    /// ```
    pub fn new() -> JoinSet<T> {
        JoinSet {
            group: Group::new(),
        }
    }

    /// The number of tasks in the set: spawned and not yet returned by a join method.
    ///
    /// A task that has finished but whose result has not been taken still counts.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let mut set = flywheel::task::JoinSet::new();
    ///     set.spawn(async { 1 });
    ///     set.spawn(async { 2 });
    ///     assert_eq!(set.len(), 2);
    ///     set.join_next().await;
    ///     assert_eq!(set.len(), 1);
    /// });
    /// ```
    pub fn len(&self) -> usize {
        self.group.len()
    }

    /// True when the set holds no task.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let mut set = flywheel::task::JoinSet::new();
    ///     set.spawn(async {});
    ///     assert!(!set.is_empty());
    ///     set.join_all().await;
    /// });
    /// ```
    pub fn is_empty(&self) -> bool {
        self.group.len() == 0
    }

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

    /// Waits for the next task to finish and returns its result; `None` once the set is
    /// empty. Results come in the order the tasks finished.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future before it completes loses no result; the next call
    /// returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let mut set = flywheel::task::JoinSet::new();
    ///     set.spawn(async { panic!("broken") });
    ///     let err = set.join_next().await.unwrap().unwrap_err();
    ///     assert!(err.is_panic());
    ///     assert!(set.join_next().await.is_none());
    /// });
    /// ```
    pub fn join_next(&mut self) -> JoinNext<'_, T> {
        JoinNext { set: self }
    }

    /// Polls for the next finished task: the poll form of [`join_next`](JoinSet::join_next),
    /// for hand-written futures. `Ready(None)` when the set is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let mut set = flywheel::task::JoinSet::new();
    ///     set.spawn(async { 3 });
    ///     let out = std::future::poll_fn(|cx| set.poll_join_next(cx)).await;
    ///     assert_eq!(out.unwrap().unwrap(), 3);
    /// });
    /// ```
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.poll_join_next_with_id(cx)
            .map(|next| next.map(|result| result.map(|(_, output)| output)))
    }

    /// Waits for the next task to finish and returns its result with the task's [`Id`];
    /// `None` once the set is empty. Like [`join_next`](JoinSet::join_next) otherwise. On
    /// failure the id is in the error: [`JoinError::id`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as `join_next`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::collections::HashMap;
    ///
    /// flywheel::run(async {
    ///     let mut set = flywheel::task::JoinSet::new();
    ///     let mut names = HashMap::new();
    ///     for name in ["north", "south"] {
    ///         names.insert(set.spawn(async move { name.len() }).id(), name);
    ///     }
    ///     while let Some(result) = set.join_next_with_id().await {
    ///         let (id, len) = result.unwrap();
    ///         assert_eq!(names[&id].len(), len);
    ///     }
    /// });
    /// ```
    pub fn join_next_with_id(&mut self) -> JoinNextWithId<'_, T> {
        JoinNextWithId { set: self }
    }

    /// The poll form of [`join_next_with_id`](JoinSet::join_next_with_id).
    /// `Ready(None)` when the set is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let mut set = flywheel::task::JoinSet::new();
    ///     let id = set.spawn(async { 3 }).id();
    ///     let out = std::future::poll_fn(|cx| set.poll_join_next_with_id(cx)).await;
    ///     assert_eq!(out.unwrap().unwrap(), (id, 3));
    /// });
    /// ```
    pub fn poll_join_next_with_id(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<(Id, T), JoinError>>> {
        if self.group.len() == 0 {
            return Poll::Ready(None);
        }
        // A set whose tasks keep finishing must still let its owner's neighbours run.
        if coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        self.group
            .poll_next(Some(cx))
            .map(|next| next.map(|(_, id, result)| result.map(|output| (id, output))))
    }

    /// The result of a task that has already finished, without waiting; `None` when no
    /// task is known to be finished (or the set is empty).
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let mut set = flywheel::task::JoinSet::new();
    ///     set.spawn(async { 9 });
    ///     let out = loop {
    ///         match set.try_join_next() {
    ///             Some(result) => break result.unwrap(),
    ///             None => flywheel::task::yield_now().await,
    ///         }
    ///     };
    ///     assert_eq!(out, 9);
    /// });
    /// ```
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.try_join_next_with_id()
            .map(|result| result.map(|(_, output)| output))
    }

    /// The result of a task that has already finished, with the task's [`Id`], without
    /// waiting; `None` when no task is known to be finished (or the set is empty).
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let mut set = flywheel::task::JoinSet::new();
    ///     let id = set.spawn(async { 9 }).id();
    ///     let out = loop {
    ///         match set.try_join_next_with_id() {
    ///             Some(result) => break result.unwrap(),
    ///             None => flywheel::task::yield_now().await,
    ///         }
    ///     };
    ///     assert_eq!(out, (id, 9));
    /// });
    /// ```
    pub fn try_join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        match self.group.poll_next(None) {
            Poll::Ready(next) => next.map(|(_, id, result)| result.map(|output| (id, output))),
            Poll::Pending => None,
        }
    }

    /// Aborts every task in the set. They stay in the set: each still comes out of
    /// [`join_next`](JoinSet::join_next), as a cancelled [`JoinError`] (or with its
    /// output, if it finished before the abort took effect).
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let mut set = flywheel::task::JoinSet::new();
    ///     for _ in 0..3 {
    ///         set.spawn(std::future::pending::<()>());
    ///     }
    ///     set.abort_all();
    ///     while let Some(result) = set.join_next().await {
    ///         assert!(result.unwrap_err().is_cancelled());
    ///     }
    /// });
    /// ```
    pub fn abort_all(&mut self) {
        self.group.abort_all();
    }

    /// Removes every task from the set without aborting it: they keep running, and their
    /// outputs are dropped when they finish.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let (tx, rx) = std::sync::mpsc::channel();
    ///     let mut set = flywheel::task::JoinSet::new();
    ///     set.spawn(async move { tx.send("still ran").unwrap() });
    ///     set.detach_all();
    ///     drop(set); // aborts nothing: the set is empty
    ///     while let Err(_) = rx.try_recv() {
    ///         flywheel::task::yield_now().await;
    ///     }
    /// });
    /// ```
    pub fn detach_all(&mut self) {
        drop(self.group.drain());
    }

    /// Aborts every task, then waits until each one is gone (its future dropped, or its
    /// output produced); the set is empty afterwards and the results are discarded.
    ///
    /// A blocking closure that is already running cannot be aborted, so `shutdown` waits
    /// for it to return.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future early leaves the set holding the tasks not yet gone, aborted.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let mut set = flywheel::task::JoinSet::new();
    ///     set.spawn(std::future::pending::<()>());
    ///     set.shutdown().await;
    ///     assert!(set.is_empty());
    /// });
    /// ```
    pub fn shutdown(&mut self) -> Shutdown<'_, T> {
        self.group.abort_all();
        Shutdown { set: self }
    }

    /// Waits for every task and returns their outputs in completion order.
    ///
    /// This is `asyncio.gather` for a set. When a task panics, the others are aborted and,
    /// once they are gone, the panic is re-raised here with `std::panic::resume_unwind`.
    ///
    /// # Panics
    ///
    /// Re-raises a task's panic. Panics when a task was cancelled (aborted through an
    /// [`AbortHandle`]): use [`join_next`](JoinSet::join_next) to handle cancellation.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let mut set = flywheel::task::JoinSet::new();
    ///     for word in ["a", "b", "c"] {
    ///         set.spawn(async move { word.to_uppercase() });
    ///     }
    ///     let mut words = set.join_all().await;
    ///     words.sort();
    ///     assert_eq!(words, ["A", "B", "C"]);
    /// });
    /// ```
    pub fn join_all(mut self) -> JoinAll<T>
    where
        T: Send,
    {
        JoinAll::completion_order(std::mem::replace(&mut self.group, Group::new()))
    }

    /// Waits until the tasks are done in the sense of `return_when`, at most `timeout`, and
    /// returns the results of the tasks that finished; the others stay in the set, running.
    ///
    /// The set's counterpart of [`wait`](crate::task::wait): `FirstCompleted` returns once
    /// a task has finished, `FirstError` once one failed (see [`Outcome`]), `AllCompleted`
    /// when the set is empty. On timeout, whatever finished so far is returned (possibly
    /// nothing). An empty set returns at once.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: results collected before the future is dropped are lost (their
    /// tasks are not; they just no longer count as members).
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::task::{JoinSet, ReturnWhen};
    ///
    /// flywheel::run(async {
    ///     let mut set = JoinSet::new();
    ///     set.spawn(async { 1 });
    ///     set.spawn(std::future::pending());
    ///     let done = set.wait(ReturnWhen::FirstCompleted, None).await;
    ///     assert_eq!(done.len(), 1);
    ///     assert_eq!(set.len(), 1); // the pending one is still running
    /// });
    /// ```
    pub fn wait(&mut self, return_when: ReturnWhen, timeout: Option<Duration>) -> JoinSetWait<'_, T>
    where
        T: Outcome + Send,
    {
        JoinSetWait {
            set: self,
            state: WaitState::new(return_when, timeout),
        }
    }
}

impl<U, E> JoinSet<Result<U, E>>
where
    U: Send + 'static,
    E: Send + 'static,
{
    /// Fail-fast join, the `asyncio.TaskGroup` pattern: waits for every task and returns
    /// their `Ok` values in completion order, or, at the first task that returns `Err`,
    /// panics or is cancelled, aborts the others, waits until they are gone and returns
    /// that failure.
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::task::{JoinSet, TryJoinError};
    ///
    /// flywheel::run(async {
    ///     let mut group = JoinSet::new();
    ///     group.spawn(async { Ok(1) });
    ///     group.spawn(async { Err("disk full") });
    ///     group.spawn(std::future::pending()); // aborted by the failure
    ///     match group.try_join_all().await {
    ///         Err(TryJoinError::Task(e)) => assert_eq!(e, "disk full"),
    ///         other => panic!("unexpected {other:?}"),
    ///     }
    /// });
    /// ```
    pub fn try_join_all(mut self) -> TryJoinAll<U, E> {
        TryJoinAll::completion_order(std::mem::replace(&mut self.group, Group::new()))
    }
}

impl<T: Send + 'static> Default for JoinSet<T> {
    fn default() -> JoinSet<T> {
        JoinSet::new()
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.group.abort_all();
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet")
            .field("len", &self.group.len())
            .finish()
    }
}
