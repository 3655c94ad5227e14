//! `JoinHandle` and `AbortHandle`.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::task::cell::{Join, Runnable};
use crate::task::error::JoinError;
use crate::task::id::Leaf;
use crate::task::Id;

/// An owned permission to await a task's output, or to abort it.
///
/// Awaiting it gives `Ok(output)`, or a [`JoinError`] when the task panicked or was
/// cancelled. Dropping it detaches the task: the task keeps running and its output is
/// dropped; the waker it was last polled with is released at once. It is `Unpin`, and
/// `Send` and `Sync` when `T` is `Send` (always, for tasks from `spawn`; for a local task
/// from [`spawn_local`](crate::task::spawn_local), whose output may not be).
///
/// # Examples
///
/// ```
/// flywheel::run(async {
///     let handle: flywheel::task::JoinHandle<u32> = flywheel::spawn(async { 7 });
///     assert_eq!(handle.await.unwrap(), 7);
/// });
/// ```
pub struct JoinHandle<T> {
    raw: Arc<dyn Join<T>>,
    /// `Send` and `Sync` exactly when `T` is `Send`, whatever the task's future is: a local
    /// task's `!Send` output is then taken or dropped only on the thread that spawned it
    /// (rule L2 in `task/cell.rs`). The `Arc` above is `Send + Sync` for every task.
    _output: PhantomData<std::sync::Mutex<T>>,
}

/// Whatever `T` is: the handle never pins its output.
impl<T> Unpin for JoinHandle<T> {}

/// Aborts a task without owning its output; obtained from [`JoinHandle::abort_handle`].
///
/// # Examples
///
/// ```
/// flywheel::run(async {
///     let handle = flywheel::spawn(std::future::pending::<()>());
///     let abort = handle.abort_handle();
///     abort.abort();
///     assert!(handle.await.unwrap_err().is_cancelled());
///     assert!(abort.is_finished());
/// });
/// ```
#[derive(Clone)]
pub struct AbortHandle {
    raw: Arc<dyn Runnable>,
}

impl<T: Send + 'static> JoinHandle<T> {
    pub(crate) fn new(raw: Arc<dyn Join<T>>) -> JoinHandle<T> {
        JoinHandle {
            raw,
            _output: PhantomData,
        }
    }
}

impl<T: 'static> JoinHandle<T> {
    /// The handle of a local task, made on its owner thread (`Cell::new_local`, rule L2).
    pub(crate) fn new_local(raw: Arc<dyn Join<T>>) -> JoinHandle<T> {
        JoinHandle {
            raw,
            _output: PhantomData,
        }
    }
}

// No bounds here, so that `Drop` impls of generic owners (a `JoinSet<T>`) can abort.
impl<T> JoinHandle<T> {
    /// Cancels the task: at its next scheduling point its future is dropped and this handle
    /// yields a cancelled [`JoinError`]. Aborting a finished task changes nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let handle = flywheel::spawn(std::future::pending::<()>());
    ///     handle.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        self.raw.clone().abort();
    }

    /// True once the task has finished: returned, panicked or been cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let handle = flywheel::spawn(async {});
    ///     while !handle.is_finished() {
    ///         flywheel::task::yield_now().await;
    ///     }
    ///     assert!(handle.await.is_ok());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.load().is_complete()
    }

    /// An [`AbortHandle`] for this task, which may outlive this handle.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let handle = flywheel::spawn(async { 1 });
    ///     let abort = handle.abort_handle();
    ///     assert_eq!(handle.await.unwrap(), 1);
    ///     abort.abort(); // finished already: nothing happens
    ///     assert!(abort.is_finished());
    /// });
    /// ```
    pub fn abort_handle(&self) -> AbortHandle {
        let raw: Arc<dyn Runnable> = self.raw.clone();
        AbortHandle { raw }
    }

    /// The task's [`Id`]: the one [`task::id()`](crate::task::id()) returns inside it.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let handle = flywheel::spawn(async { flywheel::task::id() });
    ///     let id = handle.id();
    ///     assert_eq!(handle.await.unwrap(), id);
    /// });
    /// ```
    pub fn id(&self) -> Id {
        self.raw.header().id
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    /// # Panics
    ///
    /// When polled again after it returned `Ready`: a task's output is handed out once.
    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.raw.poll_join(cx) {
            Poll::Ready(Some(output)) => Poll::Ready(output),
            Poll::Pending => {
                // `#[track_caller]` on `poll` is the user's `.await` when awaited directly.
                crate::task::id::note_waiting(Leaf::JoinHandle, Some(Location::caller()));
                Poll::Pending
            }
            Poll::Ready(None) => panic!(
                "JoinHandle polled after it returned Ready: a task's output is handed out \
                 once; keep the result of the first `.await` instead of polling again"
            ),
        }
    }
}

impl<T> Drop for JoinHandle<T> {
    /// Detaches the task and releases the waker it was last polled with, at once.
    fn drop(&mut self) {
        self.raw.drop_join_handle();
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header = self.raw.header();
        let mut out = f.debug_struct("JoinHandle");
        out.field("id", &header.id);
        if let Some(name) = header.name() {
            out.field("name", &name);
        }
        out.field("spawned_at", &format_args!("{}", header.location()))
            .field("state", &header.state.load())
            .finish()
    }
}

impl AbortHandle {
    /// Cancels the task; see [`JoinHandle::abort`].
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let handle = flywheel::spawn(std::future::pending::<()>());
    ///     handle.abort_handle().abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        self.raw.clone().abort();
    }

    /// True once the task has finished.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let handle = flywheel::spawn(async {});
    ///     let abort = handle.abort_handle();
    ///     handle.await.unwrap();
    ///     assert!(abort.is_finished());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.load().is_complete()
    }

    /// The task's [`Id`], the same as its [`JoinHandle::id`].
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let mut set = flywheel::task::JoinSet::new();
    ///     let abort = set.spawn(async { flywheel::task::id() });
    ///     let (id, inside) = set.join_next_with_id().await.unwrap().unwrap();
    ///     assert_eq!((abort.id(), abort.id()), (id, inside));
    /// });
    /// ```
    pub fn id(&self) -> Id {
        self.raw.header().id
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header = self.raw.header();
        let mut out = f.debug_struct("AbortHandle");
        out.field("id", &header.id);
        if let Some(name) = header.name() {
            out.field("name", &name);
        }
        out.field("spawned_at", &format_args!("{}", header.location()))
            .field("state", &header.state.load())
            .finish()
    }
}
