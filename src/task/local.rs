//! `spawn_local`: tasks whose futures are not `Send`, pinned to the thread that spawns them.
//!
//! The machinery lives in `runtime/local/` (where local tasks queue, how other threads
//! wake them, who drops them) and `task/cell.rs` (rules L1-L3, which keep a `!Send` future
//! and output on their owner thread although the task itself is shared like any other).

use std::future::Future;

use crate::runtime::local::current_local_tasks;
use crate::task::schedule::Spawned;
use crate::task::JoinHandle;

/// Spawns a task whose future need not be `Send`, pinned to the calling thread, and returns
/// its [`JoinHandle`].
///
/// The task is polled only on this thread, and its future (and output) are dropped here:
/// it may hold `Rc`, `RefCell` and other `!Send` state. It is woken from any thread like
/// any task; the wake queues it for this thread. Where it may be called:
///
/// - inside `block_on` of a current-thread runtime, or of a
///   [`LocalRuntime`](crate::LocalRuntime) (whose local tasks, `block_on` future and
///   ordinary tasks share one run queue);
/// - in a task on a multi-thread runtime's worker: the task is pinned to that worker,
///   never stolen by another, polled in turns with the worker's other work, and dropped on
///   that worker at shutdown. While a worker has unfinished local tasks,
///   [`block_in_place`](crate::task::block_in_place) on it runs its closure in place
///   instead of moving the worker to another thread.
///
/// A current-thread runtime's local tasks all belong to one thread: the first that spawns
/// one while driving it (for a `LocalRuntime`, the thread that built it). If another thread
/// drives the runtime later through [`Handle::block_on`](crate::Handle::block_on), it runs
/// the ordinary tasks only; the local ones wait for their thread's next `block_on`. Drop
/// such a runtime on the thread that owns its local tasks (a `LocalRuntime` always is):
/// dropped elsewhere, their futures cannot be dropped and are leaked.
///
/// The `JoinHandle<T>` is `Send` when `T` is, so a local task's output may be awaited
/// anywhere when it is `Send`.
///
/// # Panics
///
/// Anywhere else: outside a runtime, in a multi-thread runtime's `block_on` future, on a
/// blocking-pool thread, or on a current-thread runtime whose local tasks belong to another
/// thread. Build a [`LocalRuntime`](crate::LocalRuntime) there, or use
/// [`flywheel::spawn`](crate::spawn) for `Send` futures.
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
///
/// let rt = flywheel::Builder::new_current_thread().build().unwrap();
/// let total = rt.block_on(async {
///     let counter = Rc::new(RefCell::new(0));
///     let tasks: Vec<_> = (1..=3)
///         .map(|n| {
///             let counter = counter.clone();
///             flywheel::task::spawn_local(async move { *counter.borrow_mut() += n })
///         })
///         .collect();
///     for task in tasks {
///         task.await.unwrap();
///     }
///     let total = *counter.borrow();
///     total
/// });
/// assert_eq!(total, 6);
/// ```
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    current_local_tasks().spawn(future, Spawned::here())
}
