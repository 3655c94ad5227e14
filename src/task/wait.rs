//! `wait`: asyncio.wait for join handles, with `ReturnWhen` and a timeout.
//!
//! `WaitState` is the loop shared by the free `wait` and `JoinSet::wait`: drain every
//! member that has finished, then decide whether `return_when` is satisfied, then (only if
//! not) look at the timer. Members that are still running are never touched: `wait` does
//! not cancel anything, exactly as asyncio.wait.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::task::group::Group;
use crate::task::id::{self, Leaf};
use crate::task::{JoinError, JoinHandle};
use crate::time::Sleep;

/// When [`wait`] (or [`JoinSet::wait`](crate::task::JoinSet::wait)) returns; asyncio's
/// `return_when`.
///
/// # Examples
///
/// ```
/// use flywheel::task::{wait, ReturnWhen};
///
/// flywheel::run(async {
///     let handles = vec![flywheel::spawn(async { 1 }), flywheel::spawn(async { 2 })];
///     let waited = wait(handles, ReturnWhen::AllCompleted, None).await;
///     assert_eq!(waited.done.len(), 2);
///     assert!(waited.pending.is_empty());
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// Return as soon as at least one task has finished (`FIRST_COMPLETED`).
    FirstCompleted,
    /// Return as soon as a task has failed: it panicked, was cancelled, or produced an
    /// output whose [`Outcome::is_failure`] is true, such as an `Err` (`FIRST_EXCEPTION`).
    /// When no task fails this is [`AllCompleted`](ReturnWhen::AllCompleted).
    FirstError,
    /// Return when every task has finished (`ALL_COMPLETED`).
    AllCompleted,
}

/// Tells [`ReturnWhen::FirstError`] whether a task's output counts as a failure.
///
/// `Result<T, E>` fails when it is `Err`. The plain types (`()`, `bool`, `char`, the
/// integers and floats, `String`, `&'static str`, `Vec<T>`, `Box<T>`) never fail, so for
/// them only a panic or a cancellation stops a `FirstError` wait. `Option<T>` is left out
/// on purpose: whether `None` is an error depends on the program; wrap it in a `Result`.
///
/// For an output type of your own, implement the trait; the default method says "never
/// fails", so an empty `impl` is enough for plain data.
///
/// # Examples
///
/// ```
/// use flywheel::task::{wait, Outcome, ReturnWhen};
///
/// struct Report {
///     broken_links: usize,
/// }
///
/// impl Outcome for Report {
///     fn is_failure(&self) -> bool {
///         self.broken_links > 0
///     }
/// }
///
/// flywheel::run(async {
///     let handles = vec![
///         flywheel::spawn(async { Report { broken_links: 2 } }),
///         flywheel::spawn(std::future::pending()),
///     ];
///     let waited = wait(handles, ReturnWhen::FirstError, None).await;
///     assert_eq!(waited.done[0].as_ref().unwrap().broken_links, 2);
///     assert_eq!(waited.pending.len(), 1);
///     waited.pending[0].abort();
/// });
/// ```
pub trait Outcome {
    /// True when this output means the task failed. Defaults to `false`.
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::task::Outcome;
    ///
    /// assert!(Err::<u8, &str>("nope").is_failure());
    /// assert!(!Ok::<u8, &str>(1).is_failure());
    /// assert!(!42u32.is_failure());
    /// ```
    fn is_failure(&self) -> bool {
        false
    }
}

impl<T, E> Outcome for Result<T, E> {
    fn is_failure(&self) -> bool {
        self.is_err()
    }
}

macro_rules! never_fails {
    ($($ty:ty),* $(,)?) => {
        $(impl Outcome for $ty {})*
    };
}

never_fails!(
    (),
    bool,
    char,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    String,
    &'static str,
);

impl<T> Outcome for Vec<T> {}
impl<T: ?Sized> Outcome for Box<T> {}

/// True when a joined result stops a `FirstError` wait.
fn is_failure<T: Outcome>(result: &Result<T, JoinError>) -> bool {
    result.as_ref().map_or(true, Outcome::is_failure)
}

/// What [`wait`] returns: the finished tasks' results and the handles of the others.
///
/// `done` is in completion order; `pending` keeps the order the handles were given in.
/// Pending tasks are still running: await them, wait on them again, or abort them.
///
/// # Examples
///
/// ```
/// use flywheel::task::{wait, ReturnWhen, Waited};
///
/// flywheel::run(async {
///     let handles = vec![flywheel::spawn(async { 'a' }), flywheel::spawn(std::future::pending())];
///     let Waited { done, pending } = wait(handles, ReturnWhen::FirstCompleted, None).await;
///     assert_eq!(*done[0].as_ref().unwrap(), 'a');
///     for handle in pending {
///         handle.abort();
///     }
/// });
/// ```
#[derive(Debug)]
pub struct Waited<T> {
    /// Results of the tasks that finished, in the order they finished.
    pub done: Vec<Result<T, JoinError>>,
    /// Handles of the tasks still running, in the order they were given.
    pub pending: Vec<JoinHandle<T>>,
}

/// Waits for join handles the way asyncio.wait waits for tasks, and returns the finished
/// ones and the pending ones.
///
/// - [`ReturnWhen::FirstCompleted`]: once at least one task has finished.
/// - [`ReturnWhen::FirstError`]: once a task has failed — panicked, been cancelled, or
///   returned an output that [`Outcome`] calls a failure (an `Err` for `Result` outputs);
///   like `AllCompleted` when none fails.
/// - [`ReturnWhen::AllCompleted`]: once every task has finished.
///
/// `done` holds every task that had finished when `wait` returned, not only the one that
/// triggered it. With `timeout`, `wait` returns after at most that long with whatever has
/// finished by then (possibly nothing). Pending tasks are not cancelled. An empty input
/// returns at once.
///
/// Each finished task costs O(1): tasks are polled only when they signal completion.
///
/// The output type must implement [`Outcome`], which tells `FirstError` what a failure is;
/// `Result` and the plain std types do, and an empty `impl` covers a type of your own.
///
/// # Cancel safety
///
/// Not cancel safe: dropping the future detaches the tasks it holds (they keep running,
/// their outputs are dropped).
///
/// # Examples
///
/// ```
/// use flywheel::task::{wait, ReturnWhen};
///
/// flywheel::run(async {
///     let handles = vec![
///         flywheel::spawn(async { Ok(1) }),
///         flywheel::spawn(async { Err("mirror unreachable".to_string()) }),
///         flywheel::spawn(std::future::pending::<Result<u64, String>>()),
///     ];
///     let waited = wait(handles, ReturnWhen::FirstError, None).await;
///     assert!(waited.done.iter().any(|r| matches!(r, Ok(Err(_)))));
///     // The pending one is still running, not cancelled (and the `Ok` one too, if it had
///     // not finished yet on another worker when the error came).
///     assert!((1..=2).contains(&waited.pending.len()));
///     for handle in &waited.pending {
///         handle.abort();
///     }
/// });
/// ```
///
/// With a timeout, what has not finished in time comes back pending:
///
/// ```
/// use std::time::Duration;
/// use flywheel::task::{wait, ReturnWhen};
/// use flywheel::time::sleep;
///
/// flywheel::run(async {
///     let quick = flywheel::spawn(sleep(Duration::from_millis(1)));
///     let slow = flywheel::spawn(sleep(Duration::from_secs(60)));
///     let waited = wait([quick, slow], ReturnWhen::AllCompleted, Some(Duration::from_millis(50))).await;
///     assert_eq!((waited.done.len(), waited.pending.len()), (1, 1));
///     waited.pending[0].abort();
/// });
/// ```
pub fn wait<T, I>(tasks: I, return_when: ReturnWhen, timeout: Option<Duration>) -> Wait<T>
where
    I: IntoIterator<Item = JoinHandle<T>>,
    T: Outcome + Send + 'static,
{
    Wait {
        group: Group::from_handles(tasks),
        state: WaitState::new(return_when, timeout),
    }
}

/// The future returned by [`wait`].
///
/// # Examples
///
/// ```
/// use flywheel::task::{wait, ReturnWhen, Wait};
///
/// flywheel::run(async {
///     let waiting: Wait<u8> = wait([flywheel::spawn(async { 1 })], ReturnWhen::AllCompleted, None);
///     assert_eq!(waiting.await.done.len(), 1);
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Wait<T> {
    group: Group<T>,
    state: WaitState<T>,
}

impl<T: Outcome + Send + 'static> Future for Wait<T> {
    type Output = Waited<T>;

    #[track_caller]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Waited<T>> {
        let this = &mut *self;
        let polled = this.state.poll(&mut this.group, cx);
        // After the timer's own note: the user awaited the wait.
        let done = std::task::ready!(id::noting(polled, Leaf::Wait, Location::caller()));
        Poll::Ready(Waited {
            done,
            pending: this.group.drain(),
        })
    }
}

// Nothing in it is pinned structurally (outputs are moved by value), so it is Unpin
// whatever `T` is.
impl<T> Unpin for Wait<T> {}

/// The progress of one wait over a group.
pub(crate) struct WaitState<T> {
    return_when: ReturnWhen,
    timeout: Option<Duration>,
    /// Started at the first poll: the timeout counts from when the wait is awaited.
    timer: Option<Sleep>,
    done: Vec<Result<T, JoinError>>,
    failed: bool,
}

impl<T: Outcome + Send + 'static> WaitState<T> {
    pub(crate) fn new(return_when: ReturnWhen, timeout: Option<Duration>) -> WaitState<T> {
        WaitState {
            return_when,
            timeout,
            timer: None,
            done: Vec::new(),
            failed: false,
        }
    }

    pub(crate) fn poll(
        &mut self,
        group: &mut Group<T>,
        cx: &mut Context<'_>,
    ) -> Poll<Vec<Result<T, JoinError>>> {
        loop {
            match group.poll_next(Some(cx)) {
                Poll::Ready(Some((_, _, result))) => {
                    self.failed |= is_failure(&result);
                    self.done.push(result);
                }
                Poll::Ready(None) => return Poll::Ready(std::mem::take(&mut self.done)),
                Poll::Pending => break,
            }
        }
        let satisfied = match self.return_when {
            ReturnWhen::FirstCompleted => !self.done.is_empty(),
            ReturnWhen::FirstError => self.failed,
            ReturnWhen::AllCompleted => false,
        };
        if satisfied || self.timed_out(cx) {
            return Poll::Ready(std::mem::take(&mut self.done));
        }
        Poll::Pending
    }

    fn timed_out(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(timeout) = self.timeout else {
            return false;
        };
        if timeout.is_zero() {
            return true;
        }
        let timer = self
            .timer
            .get_or_insert_with(|| crate::time::sleep(timeout));
        Pin::new(timer).poll(cx).is_ready()
    }
}

impl<T> fmt::Debug for WaitState<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitState")
            .field("return_when", &self.return_when)
            .field("timeout", &self.timeout)
            .field("done", &self.done.len())
            .finish()
    }
}
