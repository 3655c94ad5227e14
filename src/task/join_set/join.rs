//! Taking results out of a `JoinSet`: one at a time in completion order (awaited, polled or
//! tried), all at once (`join_all`, the fail-fast `try_join_all`), or asyncio-style `wait`.

use std::task::{Context, Poll};
use std::time::Duration;

use super::{JoinNext, JoinNextWithId, JoinSet, JoinSetWait};
use crate::runtime::coop;
use crate::task::gather::{JoinAll, TryJoinAll};
use crate::task::group::Group;
use crate::task::wait::{Outcome, ReturnWhen, WaitState};
use crate::task::{Id, JoinError};
// Only the docs name it, in a link.
#[cfg(doc)]
use crate::task::AbortHandle;

impl<T: 'static> JoinSet<T> {
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
