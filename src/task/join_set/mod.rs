//! `JoinSet`: a group of tasks joined in completion order, aborted together on drop.
//!
//! A thin owner of a `Group` (see `group.rs`), which makes each completion cost O(1). The
//! one rule it adds: dropping the set aborts every member, so tasks never outlive the scope
//! that owns their set unless `detach_all` says so.
//!
//! This file holds the type and its bookkeeping (`new`, `len`, drop); the methods live by
//! role in `spawn.rs` (adding tasks), `join.rs` (taking results) and `abort.rs` (ending
//! tasks); `future.rs` holds the futures those methods return.

// rustdoc lists the methods of these modules in this order (spawning, joining, aborting),
// then those of this file. Blank lines keep rustfmt from sorting them.
mod spawn;

mod join;

mod abort;

mod future;

pub use future::{JoinNext, JoinNextWithId, JoinSetWait, Shutdown};

use std::fmt;

use crate::task::group::Group;

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
