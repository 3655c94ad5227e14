//! Ending the tasks of a `JoinSet` early: abort them (they still come out of the join
//! methods, cancelled), detach them (they run on, unowned), or shut down (abort, then wait
//! until every one is gone).

use super::{JoinSet, Shutdown};
// Only the docs name it, in a link.
#[cfg(doc)]
use crate::task::JoinError;

impl<T: 'static> JoinSet<T> {
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
}
