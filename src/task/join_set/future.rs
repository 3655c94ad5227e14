//! The futures returned by `JoinSet`'s methods; each borrows the set mutably for as long
//! as it lives.

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::task::id::{self, Leaf};
use crate::task::join_set::JoinSet;
use crate::task::wait::{Outcome, WaitState};
use crate::task::{Id, JoinError};

/// The future returned by [`JoinSet::join_next`].
///
/// # Examples
///
/// ```
/// use flywheel::task::{JoinNext, JoinSet};
///
/// flywheel::run(async {
///     let mut set = JoinSet::new();
///     set.spawn(async { 'x' });
///     let next: JoinNext<'_, char> = set.join_next();
///     assert_eq!(next.await.unwrap().unwrap(), 'x');
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct JoinNext<'a, T> {
    pub(super) set: &'a mut JoinSet<T>,
}

impl<T: 'static> Future for JoinNext<'_, T> {
    type Output = Option<Result<T, JoinError>>;

    #[track_caller]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let polled = self.set.poll_join_next(cx);
        id::noting(polled, Leaf::JoinSet, Location::caller())
    }
}

/// The future returned by [`JoinSet::join_next_with_id`].
///
/// # Examples
///
/// ```
/// use flywheel::task::{JoinNextWithId, JoinSet};
///
/// flywheel::run(async {
///     let mut set = JoinSet::new();
///     let id = set.spawn(async { 'x' }).id();
///     let next: JoinNextWithId<'_, char> = set.join_next_with_id();
///     assert_eq!(next.await.unwrap().unwrap(), (id, 'x'));
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct JoinNextWithId<'a, T> {
    pub(super) set: &'a mut JoinSet<T>,
}

impl<T: 'static> Future for JoinNextWithId<'_, T> {
    type Output = Option<Result<(Id, T), JoinError>>;

    #[track_caller]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let polled = self.set.poll_join_next_with_id(cx);
        id::noting(polled, Leaf::JoinSet, Location::caller())
    }
}

/// The future returned by [`JoinSet::shutdown`].
///
/// # Examples
///
/// ```
/// use flywheel::task::{JoinSet, Shutdown};
///
/// flywheel::run(async {
///     let mut set = JoinSet::new();
///     set.spawn(std::future::pending::<()>());
///     let closing: Shutdown<'_, ()> = set.shutdown();
///     closing.await;
///     assert!(set.is_empty());
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Shutdown<'a, T> {
    pub(super) set: &'a mut JoinSet<T>,
}

impl<T: 'static> Future for Shutdown<'_, T> {
    type Output = ();

    #[track_caller]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            match self.set.group.poll_next(Some(cx)) {
                Poll::Ready(Some(_result)) => {}
                Poll::Ready(None) => return Poll::Ready(()),
                Poll::Pending => {
                    id::note_waiting(Leaf::JoinSet, Some(Location::caller()));
                    return Poll::Pending;
                }
            }
        }
    }
}

/// The future returned by [`JoinSet::wait`].
///
/// # Examples
///
/// ```
/// use flywheel::task::{JoinSet, JoinSetWait, ReturnWhen};
///
/// flywheel::run(async {
///     let mut set = JoinSet::new();
///     set.spawn(async { 1u8 });
///     let waiting: JoinSetWait<'_, u8> = set.wait(ReturnWhen::AllCompleted, None);
///     assert_eq!(waiting.await.len(), 1);
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct JoinSetWait<'a, T> {
    pub(super) set: &'a mut JoinSet<T>,
    pub(super) state: WaitState<T>,
}

// Nothing in it is pinned structurally (outputs are moved by value), so it is Unpin
// whatever `T` is.
impl<T> Unpin for JoinSetWait<'_, T> {}

impl<T: Outcome + Send + 'static> Future for JoinSetWait<'_, T> {
    type Output = Vec<Result<T, JoinError>>;

    #[track_caller]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let polled = this.state.poll(&mut this.set.group, cx);
        id::noting(polled, Leaf::JoinSet, Location::caller())
    }
}
