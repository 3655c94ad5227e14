//! asyncio.gather's counterparts: `join_all` and the fail-fast `try_join_all`.
//!
//! Both run on a `Group`, so a failure is seen as soon as it happens, whatever the position
//! of the failing task. On a failure they abort the other members and keep draining the
//! group until it is empty, so that when they return, no sibling is still running: the
//! structured-concurrency promise of asyncio.TaskGroup.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::task::group::Group;
use crate::task::id::{self, Leaf};
use crate::task::{JoinError, JoinHandle};

/// Told to callers of `join_all` whose task was cancelled.
const CANCELLED_IN_JOIN_ALL: &str = "join_all: a task was cancelled, so it has no output \
    to return; use try_join_all, wait or JoinSet::join_next to handle a JoinError";

/// Where the outputs go: by position (gathering handles) or as they come (a `JoinSet`).
enum Outputs<T> {
    Input(Vec<Option<T>>),
    Completion(Vec<T>),
}

impl<T> Outputs<T> {
    fn input(len: usize) -> Outputs<T> {
        Outputs::Input(std::iter::repeat_with(|| None).take(len).collect())
    }

    fn store(&mut self, index: usize, value: T) {
        match self {
            Outputs::Input(slots) => slots[index] = Some(value),
            Outputs::Completion(values) => values.push(value),
        }
    }

    fn finish(&mut self) -> Vec<T> {
        match self {
            Outputs::Input(slots) => std::mem::take(slots)
                .into_iter()
                .map(|value| value.expect("a gathered task finished without an output"))
                .collect(),
            Outputs::Completion(values) => std::mem::take(values),
        }
    }
}

/// Waits for every task and returns their outputs in the order the handles were given:
/// `asyncio.gather`.
///
/// When a task panics, the others are aborted and, once they are gone, the panic is
/// re-raised here with `std::panic::resume_unwind`.
///
/// # Panics
///
/// Re-raises a task's panic. Panics when a task was cancelled: use [`try_join_all`] or
/// [`wait`](crate::task::wait) to handle cancellation.
///
/// # Cancel safety
///
/// Dropping the future detaches the tasks, like dropping their handles.
///
/// # Examples
///
/// ```
/// flywheel::run(async {
///     let handles: Vec<_> = (1..=3u32).map(|n| flywheel::spawn(async move { n * 10 })).collect();
///     assert_eq!(flywheel::task::join_all(handles).await, [10, 20, 30]);
/// });
/// ```
pub fn join_all<T, I>(handles: I) -> JoinAll<T>
where
    I: IntoIterator<Item = JoinHandle<T>>,
    T: Send + 'static,
{
    let group = Group::from_handles(handles);
    let outputs = Outputs::input(group.len());
    JoinAll {
        group,
        outputs,
        failure: None,
        abort_on_drop: false,
    }
}

/// Waits for every task, whose outputs are `Result`s, and returns the `Ok` values in the
/// order the handles were given; at the first `Err`, panic or cancellation it aborts the
/// other tasks, waits until they are gone, and returns that failure.
///
/// This is `asyncio.TaskGroup`'s fail-fast rule applied to handles you already hold.
///
/// # Errors
///
/// [`TryJoinError::Task`] with the first `Err` a task returned, or [`TryJoinError::Join`]
/// when a task panicked or was cancelled first.
///
/// # Cancel safety
///
/// Dropping the future detaches the tasks, like dropping their handles.
///
/// # Examples
///
/// ```
/// use flywheel::task::{try_join_all, TryJoinError};
///
/// flywheel::run(async {
///     let ok: Vec<_> = (0..3).map(|n| flywheel::spawn(async move { Ok::<_, String>(n) })).collect();
///     assert_eq!(try_join_all(ok).await.unwrap(), [0, 1, 2]);
///
///     let failing = vec![
///         flywheel::spawn(std::future::pending::<Result<i32, String>>()),
///         flywheel::spawn(async { Err("bad checksum".to_string()) }),
///     ];
///     match try_join_all(failing).await {
///         Err(TryJoinError::Task(e)) => assert_eq!(e, "bad checksum"),
///         other => panic!("unexpected {other:?}"),
///     }
/// });
/// ```
pub fn try_join_all<U, E, I>(handles: I) -> TryJoinAll<U, E>
where
    I: IntoIterator<Item = JoinHandle<Result<U, E>>>,
    U: Send + 'static,
    E: Send + 'static,
{
    let group = Group::from_handles(handles);
    let outputs = Outputs::input(group.len());
    TryJoinAll {
        group,
        outputs,
        failure: None,
        abort_on_drop: false,
    }
}

/// The future returned by [`join_all`] and [`JoinSet::join_all`](crate::task::JoinSet::join_all).
///
/// # Examples
///
/// ```
/// use flywheel::task::{join_all, JoinAll};
///
/// flywheel::run(async {
///     let gathering: JoinAll<u8> = join_all([flywheel::spawn(async { 4 })]);
///     assert_eq!(gathering.await, [4]);
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct JoinAll<T> {
    group: Group<T>,
    outputs: Outputs<T>,
    /// The first failure, held until the aborted siblings are gone.
    failure: Option<JoinError>,
    /// Set when the group came from a `JoinSet`, whose members never outlive it.
    abort_on_drop: bool,
}

impl<T: Send + 'static> JoinAll<T> {
    pub(crate) fn completion_order(group: Group<T>) -> JoinAll<T> {
        JoinAll {
            group,
            outputs: Outputs::Completion(Vec::new()),
            failure: None,
            abort_on_drop: true,
        }
    }
}

/// `polled`, noting the gather as where the task waits when it is pending: at the user's
/// `.await` (the `poll` calling it is `#[track_caller]` too).
#[track_caller]
fn noted<R>(polled: Poll<R>) -> Poll<R> {
    id::noting(polled, Leaf::JoinAll, Location::caller())
}

impl<T: Send + 'static> Future for JoinAll<T> {
    type Output = Vec<T>;

    // The cancellation panic below then names the `.await` that met it.
    #[track_caller]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<T>> {
        let this = &mut *self;
        while let Some((index, _, result)) =
            std::task::ready!(noted(this.group.poll_next(Some(cx))))
        {
            match result {
                Ok(value) if this.failure.is_none() => this.outputs.store(index, value),
                Ok(_) => {}
                Err(err) => {
                    if this.failure.is_none() {
                        this.group.abort_all();
                        this.failure = Some(err);
                    }
                }
            }
        }
        match this.failure.take() {
            None => Poll::Ready(this.outputs.finish()),
            Some(err) => match err.try_into_panic() {
                Ok(payload) => std::panic::resume_unwind(payload),
                Err(_) => panic!("{CANCELLED_IN_JOIN_ALL}"),
            },
        }
    }
}

// Nothing in it is pinned structurally (outputs are moved by value), so it is Unpin
// whatever `T` is.
impl<T> Unpin for JoinAll<T> {}

impl<T> Drop for JoinAll<T> {
    fn drop(&mut self) {
        if self.abort_on_drop {
            self.group.abort_all();
        }
    }
}

impl<T> fmt::Debug for JoinAll<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinAll")
            .field("remaining", &self.group.len())
            .finish()
    }
}

/// The future returned by [`try_join_all`] and
/// [`JoinSet::try_join_all`](crate::task::JoinSet::try_join_all).
///
/// # Examples
///
/// ```
/// use flywheel::task::{try_join_all, TryJoinAll};
///
/// flywheel::run(async {
///     let gathering: TryJoinAll<u8, String> = try_join_all([flywheel::spawn(async { Ok(4) })]);
///     assert_eq!(gathering.await.unwrap(), [4]);
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct TryJoinAll<U, E> {
    group: Group<Result<U, E>>,
    outputs: Outputs<U>,
    failure: Option<TryJoinError<E>>,
    abort_on_drop: bool,
}

impl<U: Send + 'static, E: Send + 'static> TryJoinAll<U, E> {
    pub(crate) fn completion_order(group: Group<Result<U, E>>) -> TryJoinAll<U, E> {
        TryJoinAll {
            group,
            outputs: Outputs::Completion(Vec::new()),
            failure: None,
            abort_on_drop: true,
        }
    }
}

impl<U: Send + 'static, E: Send + 'static> Future for TryJoinAll<U, E> {
    type Output = Result<Vec<U>, TryJoinError<E>>;

    #[track_caller]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        while let Some((index, _, result)) =
            std::task::ready!(noted(this.group.poll_next(Some(cx))))
        {
            let failure = match result {
                Ok(Ok(value)) => {
                    if this.failure.is_none() {
                        this.outputs.store(index, value);
                    }
                    continue;
                }
                Ok(Err(err)) => TryJoinError::Task(err),
                Err(err) => TryJoinError::Join(err),
            };
            if this.failure.is_none() {
                this.group.abort_all();
                this.failure = Some(failure);
            }
        }
        Poll::Ready(match this.failure.take() {
            None => Ok(this.outputs.finish()),
            Some(failure) => Err(failure),
        })
    }
}

// Nothing is pinned structurally: the error is moved out by value, so `E` need not be Unpin.
impl<U, E> Unpin for TryJoinAll<U, E> {}

impl<U, E> Drop for TryJoinAll<U, E> {
    fn drop(&mut self) {
        if self.abort_on_drop {
            self.group.abort_all();
        }
    }
}

impl<U, E> fmt::Debug for TryJoinAll<U, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryJoinAll")
            .field("remaining", &self.group.len())
            .finish()
    }
}

/// Why [`try_join_all`] (or [`JoinSet::try_join_all`](crate::task::JoinSet::try_join_all))
/// stopped: the first task that failed, and how.
///
/// # Examples
///
/// ```
/// use flywheel::task::{try_join_all, TryJoinError};
///
/// flywheel::run(async {
///     let handles = vec![flywheel::spawn(async { panic!("worker crashed") as Result<(), String> })];
///     let err = try_join_all(handles).await.unwrap_err();
///     assert!(matches!(&err, TryJoinError::Join(e) if e.is_panic()));
///     println!("{err}");
/// });
/// ```
pub enum TryJoinError<E> {
    /// A task returned `Err`.
    Task(E),
    /// A task panicked or was cancelled.
    Join(JoinError),
}

impl<E: fmt::Debug> fmt::Debug for TryJoinError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryJoinError::Task(err) => f.debug_tuple("Task").field(err).finish(),
            TryJoinError::Join(err) => f.debug_tuple("Join").field(err).finish(),
        }
    }
}

impl<E: fmt::Display> fmt::Display for TryJoinError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryJoinError::Task(err) => write!(f, "task failed: {err}"),
            TryJoinError::Join(err) => fmt::Display::fmt(err, f),
        }
    }
}

impl<E: Error + 'static> Error for TryJoinError<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            TryJoinError::Task(err) => Some(err),
            TryJoinError::Join(err) => Some(err),
        }
    }
}
