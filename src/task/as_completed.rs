//! `as_completed`: a stream of join results in completion order.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::task::group::Group;
use crate::task::{JoinError, JoinHandle};

/// Turns join handles into a [`Stream`] of their results in the order the tasks finish:
/// asyncio's `as_completed`.
///
/// Each finished task costs O(1), however many are still running. Dropping the stream
/// detaches the tasks that have not been yielded yet (they keep running), like dropping
/// their handles.
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
///
/// flywheel::run(async {
///     let (tx, rx) = futures::channel::oneshot::channel::<()>();
///     let slow = flywheel::spawn(async move {
///         rx.await.unwrap();
///         "slow"
///     });
///     let fast = flywheel::spawn(async { "fast" });
///     let mut results = flywheel::task::as_completed(vec![slow, fast]);
///     assert_eq!(results.next().await.unwrap().unwrap(), "fast");
///     tx.send(()).unwrap();
///     assert_eq!(results.next().await.unwrap().unwrap(), "slow");
///     assert!(results.next().await.is_none());
/// });
/// ```
pub fn as_completed<T, I>(handles: I) -> AsCompleted<T>
where
    I: IntoIterator<Item = JoinHandle<T>>,
    T: Send + 'static,
{
    AsCompleted {
        group: Group::from_handles(handles),
    }
}

/// The stream returned by [`as_completed`].
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
/// use flywheel::task::{as_completed, AsCompleted};
///
/// flywheel::run(async {
///     let results: AsCompleted<u8> = as_completed([flywheel::spawn(async { 3 })]);
///     let all: Vec<_> = results.map(|r| r.unwrap()).collect().await;
///     assert_eq!(all, [3]);
/// });
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<T> {
    group: Group<T>,
}

impl<T: Send + 'static> Stream for AsCompleted<T> {
    type Item = Result<T, JoinError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.group
            .poll_next(Some(cx))
            .map(|next| next.map(|(_, _, result)| result))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.group.len(), Some(self.group.len()))
    }
}

// Nothing in it is pinned structurally (outputs are moved by value), so it is Unpin
// whatever `T` is.
impl<T> Unpin for AsCompleted<T> {}

impl<T> fmt::Debug for AsCompleted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("remaining", &self.group.len())
            .finish()
    }
}
