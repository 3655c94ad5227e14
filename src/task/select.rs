//! `select` and `select_all`: race futures, keep the first output, drop the losers.
//!
//! These are functions, not a macro. A function keeps control flow visible (no hidden
//! `break`/`return` inside branches), composes with `?` and combinators, and its future is
//! `Send` exactly when its inputs are. `select` is an `async fn` so the inputs can be pinned
//! on the future's own frame with `std::pin::pin!`, which needs no named future type and no
//! pin projection (`time::Timeout`, a named future, gets its projection from
//! pin-project-lite instead; an `async fn` keeps this file free of even that).
//! `select_all` boxes its inputs anyway, so it is a plain function returning a `poll_fn`:
//! that lets it check its input when called, and report the caller's line on misuse.
//!
//! Both are biased: on each poll the futures are polled in argument order, so when two are
//! ready at once the earlier one wins. That makes outcomes reproducible; put the future
//! that must win ties (a shutdown signal, say) first.

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::task::Poll;

/// The output of [`select`]: which of the two futures finished first, with its output.
///
/// # Examples
///
/// ```
/// use flywheel::task::{select, Either};
///
/// flywheel::run(async {
///     match select(async { 1 }, std::future::pending::<&str>()).await {
///         Either::Left(n) => assert_eq!(n, 1),
///         Either::Right(_) => unreachable!(),
///     }
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Either<A, B> {
    /// The first future won.
    Left(A),
    /// The second future won.
    Right(B),
}

/// Waits for the first of two futures and returns its output; the other future is dropped
/// before `select` returns.
///
/// The futures may have different output types. For three or more, nest the calls
/// (`select(a, select(b, c))`), or use [`select_all`] when they have the same type. The
/// returned future is `Send` when both inputs are.
///
/// It is biased: both futures are polled in argument order, so when both are ready the
/// first wins; put the one that must win ties (a shutdown signal, say) first.
///
/// flywheel offers functions rather than a `select!` macro: no hidden control flow inside
/// branches, the result is an ordinary value to `match` or `?`, and `Send`-ness follows
/// from the inputs. The loser is dropped; to keep racing it later, pin it yourself and pass
/// `fut.as_mut()`, as the second example does.
///
/// # Cancel safety
///
/// Dropping it drops both futures; it is as cancel safe as they are.
///
/// # Examples
///
/// ```
/// use flywheel::task::{select, Either};
///
/// flywheel::run(async {
///     let (tx, rx) = futures::channel::oneshot::channel::<&str>();
///     let worker = flywheel::spawn(async move { tx.send("result").unwrap() });
///     let stop = std::future::pending::<()>();
///     match select(rx, stop).await {
///         Either::Left(msg) => assert_eq!(msg.unwrap(), "result"),
///         Either::Right(()) => unreachable!("nobody asked to stop"),
///     }
///     worker.await.unwrap();
/// });
/// ```
///
/// Keeping the loser by passing a pinned reference:
///
/// ```
/// use std::pin::pin;
/// use flywheel::task::{select, Either};
///
/// flywheel::run(async {
///     let (tx, rx) = futures::channel::oneshot::channel::<u8>();
///     let mut answer = pin!(async move { rx.await.unwrap() });
///     match select(answer.as_mut(), async { "not yet" }).await {
///         Either::Right(status) => assert_eq!(status, "not yet"),
///         Either::Left(_) => unreachable!("nothing was sent"),
///     }
///     tx.send(5).unwrap();
///     assert_eq!(answer.await, 5);
/// });
/// ```
pub async fn select<A, B>(a: A, b: B) -> Either<A::Output, B::Output>
where
    A: Future,
    B: Future,
{
    let mut a = pin!(a);
    let mut b = pin!(b);
    poll_fn(|cx| {
        if let Poll::Ready(out) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(out));
        }
        if let Poll::Ready(out) = b.as_mut().poll(cx) {
            return Poll::Ready(Either::Right(out));
        }
        Poll::Pending
    })
    .await
}

/// Waits for the first of any number of futures of one type and returns its output and
/// its position; every other future is dropped before `select_all` returns.
///
/// Each future is boxed once to pin it. Futures of different types can be raced by boxing
/// them as `Pin<Box<dyn Future<Output = T> + Send>>`. The returned future is `Send` when
/// the inputs are.
///
/// # Panics
///
/// When given no future at all (when called, not when awaited): there would be nothing to
/// wait for. Check for an empty input first.
///
/// # Cancel safety
///
/// Dropping it drops every future; it is as cancel safe as they are.
///
/// # Examples
///
/// ```
/// use flywheel::task::select_all;
///
/// flywheel::run(async {
///     let mirrors = ["eu", "us", "asia"].map(|name| async move {
///         if name == "us" {
///             name
///         } else {
///             std::future::pending().await
///         }
///     });
///     let (fastest, index) = select_all(mirrors).await;
///     assert_eq!((fastest, index), ("us", 1));
/// });
/// ```
#[track_caller]
pub fn select_all<I>(futures: I) -> impl Future<Output = (<I::Item as Future>::Output, usize)>
where
    I: IntoIterator,
    I::Item: Future,
{
    let mut futures: Vec<Pin<Box<I::Item>>> = futures.into_iter().map(Box::pin).collect();
    assert!(
        !futures.is_empty(),
        "select_all needs at least one future; an empty input would never finish"
    );
    poll_fn(move |cx| {
        for (index, future) in futures.iter_mut().enumerate() {
            if let Poll::Ready(out) = future.as_mut().poll(cx) {
                return Poll::Ready((out, index));
            }
        }
        Poll::Pending
    })
}
