//! Task ids, and the id of the task this thread is running.
//!
//! Every task gets an [`Id`] when it is spawned (blocking tasks too), taken from one global
//! counter: ids are never reused while the process lives. The id lives in the task's header,
//! inside the task's one allocation.
//!
//! The "current task" is a thread-local that `task/cell.rs` sets, through an [`IdGuard`],
//! around each poll of a task's future and around each drop of its future or output
//! (whichever thread does it: a worker, a runtime shutting down, a `JoinHandle`'s `Drop`).
//! The guard restores the previous value when it goes, so it nests (a task dropping another
//! task's output) and survives a panic unwinding through it. `block_on` sets it to `None`
//! for its own future, which is not a task.
//!
//! A second thread-local says where the task being polled is waiting, for `Handle::dump`:
//! a flywheel leaf future (a sleep, a socket wait, a `JoinHandle`, ...) that returns
//! `Pending` notes its kind and the user's source location in it ([`note_waiting`]), and the
//! task cell moves the last note into the task's header when the poll returns `Pending`
//! (`Header::start_poll` / `Header::parked`). The last note wins on purpose: a leaf polls
//! its inner futures first and notes itself after them, so the outermost flywheel future,
//! the one the user awaited, is what the dump shows. A plain thread-local write costs about
//! a nanosecond, and nothing is written when a leaf is ready.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::num::NonZeroU64;
use std::panic::Location;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;

/// An opaque number that identifies a task, unique among all tasks of the process.
///
/// Every task gets one when it is spawned, including those of `spawn_blocking`; no two
/// tasks ever share an id, even across runtimes and after a task is gone. Ids say nothing
/// else: not the order of spawns, nor the runtime. Get it from outside the task with
/// [`JoinHandle::id`](crate::task::JoinHandle::id) or
/// [`AbortHandle::id`](crate::task::AbortHandle::id), from inside with [`id()`] or
/// [`try_id()`], and from a failure with [`JoinError::id`](crate::task::JoinError::id).
///
/// `Display` prints the bare number, `Debug` prints `Id(number)`.
///
/// # Examples
///
/// ```
/// flywheel::run(async {
///     let handle = flywheel::spawn(async { flywheel::task::id() });
///     let id = handle.id();
///     assert_eq!(handle.await.unwrap(), id);
///     assert_eq!(format!("{id:?}"), format!("Id({id})"));
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Id(NonZeroU64);

/// The next id to hand out.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Id {
    /// A fresh id, never handed out before.
    pub(crate) fn next() -> Id {
        // Relaxed: uniqueness only needs the increment to be atomic, nothing is published
        // through the counter.
        //
        // It cannot wrap: it grows by one per spawn, and even at one spawn per nanosecond
        // (a spawn costs ~100 ns, a `fetch_add` alone ~2 ns) 2^64 - 1 of them take 584
        // years. So the `expect` below stands for an invariant, not for a case to handle.
        let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        Id(NonZeroU64::new(n).expect("the task id counter starts at 1 and cannot wrap"))
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.0)
    }
}

thread_local! {
    /// The task whose future this thread is polling or dropping, if any.
    static CURRENT: Cell<Option<Id>> = const { Cell::new(None) };
}

/// Stores `id` as the current task and returns the one before. A thread whose locals are
/// being destroyed has no current task: it reads `None` and ignores the write.
fn replace_current(id: Option<Id>) -> Option<Id> {
    CURRENT
        .try_with(|current| current.replace(id))
        .unwrap_or(None)
}

/// Makes `id` this thread's current task until it is dropped, then restores the previous
/// one: guards nest, and a panic unwinding through one still restores.
pub(crate) struct IdGuard {
    prev: Option<Id>,
}

impl IdGuard {
    pub(crate) fn enter(id: Option<Id>) -> IdGuard {
        IdGuard {
            prev: replace_current(id),
        }
    }
}

impl Drop for IdGuard {
    fn drop(&mut self) {
        replace_current(self.prev);
    }
}

/// The kind of flywheel future a task waits on, as shown by a dump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Leaf {
    Sleep = 1,
    Timeout,
    Interval,
    Read,
    Write,
    Ready,
    JoinHandle,
    JoinSet,
    Wait,
    JoinAll,
    Yield,
}

/// Every `Leaf`, in `repr` order from 1.
const LEAVES: [Leaf; 11] = [
    Leaf::Sleep,
    Leaf::Timeout,
    Leaf::Interval,
    Leaf::Read,
    Leaf::Write,
    Leaf::Ready,
    Leaf::JoinHandle,
    Leaf::JoinSet,
    Leaf::Wait,
    Leaf::JoinAll,
    Leaf::Yield,
];

impl Leaf {
    /// How a dump names it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Leaf::Sleep => "sleep",
            Leaf::Timeout => "timeout",
            Leaf::Interval => "interval",
            Leaf::Read => "read",
            Leaf::Write => "write",
            Leaf::Ready => "readiness",
            Leaf::JoinHandle => "JoinHandle",
            Leaf::JoinSet => "JoinSet",
            Leaf::Wait => "wait",
            Leaf::JoinAll => "join_all",
            Leaf::Yield => "yield_now",
        }
    }

    /// The leaf whose `repr` is `n`, for a header that stores it as a byte.
    pub(crate) fn from_u8(n: u8) -> Option<Leaf> {
        LEAVES.get(usize::from(n).checked_sub(1)?).copied()
    }
}

/// Where a task waits: the leaf future, and the user's source location of it when known
/// (a read through `futures::AsyncReadExt` passes through code that is not the user's, so
/// its location would name that crate, not the caller: it is left out).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WaitPoint {
    pub(crate) leaf: Leaf,
    pub(crate) at: Option<&'static Location<'static>>,
}

thread_local! {
    /// What the last leaf future that returned `Pending` on this thread noted.
    static WAITING: Cell<Option<WaitPoint>> = const { Cell::new(None) };
}

/// A leaf future returns `Pending`: notes where, for the task being polled on this thread
/// (outside a task the note is never read, and the next task poll clears it).
#[inline]
pub(crate) fn note_waiting(leaf: Leaf, at: Option<&'static Location<'static>>) {
    let _ = WAITING.try_with(|waiting| waiting.set(Some(WaitPoint { leaf, at })));
}

/// Takes the last note, leaving none: before a task poll (to drop a note made outside a
/// task) and after it (to store it in the task's header).
#[inline]
pub(crate) fn take_waiting() -> Option<WaitPoint> {
    WAITING.try_with(Cell::take).unwrap_or(None)
}

/// Returns `polled`, noting `leaf` at `at` when it is `Pending`: for leaf futures' `poll`.
#[inline]
pub(crate) fn noting<T>(polled: Poll<T>, leaf: Leaf, at: &'static Location<'static>) -> Poll<T> {
    if polled.is_pending() {
        note_waiting(leaf, Some(at));
    }
    polled
}

/// Runs `future`, noting `leaf` at `at` whenever it returns `Pending`: the body of leaf
/// futures written as `async` blocks, whose own location a `#[track_caller]` function takes
/// before it builds the block.
pub(crate) async fn noted<F: Future>(
    leaf: Leaf,
    at: &'static Location<'static>,
    future: F,
) -> F::Output {
    let mut future = pin!(future);
    std::future::poll_fn(|cx| noting(future.as_mut().poll(cx), leaf, at)).await
}

/// The [`Id`] of the task being run on this thread.
///
/// Inside a task's future — while it is polled, and while it or its output is dropped
/// (when the task is aborted, the runtime shuts down or its `JoinHandle` drops the output)
/// — this is that task's id; inside a `spawn_blocking` closure, the blocking task's.
///
/// # Panics
///
/// Outside a task: on a thread that is not running one, and inside the future given to
/// `block_on` (`flywheel::run`, `Runtime::block_on`), which is not a task. Use
/// [`try_id()`] there, which returns `None` instead.
///
/// # Examples
///
/// ```
/// flywheel::run(async {
///     let handle = flywheel::spawn(async { flywheel::task::id() });
///     assert_eq!(handle.id(), handle.await.unwrap());
/// });
/// ```
#[track_caller]
pub fn id() -> Id {
    match try_id() {
        Some(id) => id,
        None => panic!(
            "task::id() called outside a task (block_on's own future is not a task either); \
             use task::try_id(), which returns None there"
        ),
    }
}

/// The [`Id`] of the task being run on this thread, or `None` outside a task.
///
/// Like [`id()`], but `None` where that panics: on a thread not running a task, and inside
/// the future given to `block_on` (`flywheel::run`, `Runtime::block_on`), which is not a
/// task. tokio answers `None` there too.
///
/// # Examples
///
/// ```
/// use flywheel::task::try_id;
///
/// assert_eq!(try_id(), None);
/// flywheel::run(async {
///     assert_eq!(try_id(), None); // block_on's future is not a task
///     let inside = flywheel::spawn(async { try_id() }).await.unwrap();
///     assert!(inside.is_some());
/// });
/// ```
pub fn try_id() -> Option<Id> {
    CURRENT.try_with(Cell::get).unwrap_or(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_fresh_and_ordered_by_allocation() {
        let a = Id::next();
        let b = Id::next();
        assert_ne!(a, b);
        assert!(a < b);
    }

    #[test]
    fn guards_nest_and_restore() {
        assert_eq!(try_id(), None);
        let (a, b) = (Id::next(), Id::next());
        {
            let _outer = IdGuard::enter(Some(a));
            assert_eq!(try_id(), Some(a));
            {
                let _inner = IdGuard::enter(Some(b));
                assert_eq!(try_id(), Some(b));
                {
                    let _none = IdGuard::enter(None);
                    assert_eq!(try_id(), None);
                }
                assert_eq!(try_id(), Some(b));
            }
            assert_eq!(try_id(), Some(a));
        }
        assert_eq!(try_id(), None);
    }

    #[test]
    fn a_panic_unwinding_through_a_guard_restores() {
        let a = Id::next();
        let _outer = IdGuard::enter(Some(a));
        let caught = std::panic::catch_unwind(|| {
            let _inner = IdGuard::enter(Some(Id::next()));
            panic!("unwinds through the guard");
        });
        assert!(caught.is_err());
        assert_eq!(try_id(), Some(a));
    }

    #[test]
    fn leaves_round_trip_through_their_byte() {
        for leaf in LEAVES {
            assert_eq!(Leaf::from_u8(leaf as u8), Some(leaf));
        }
        assert_eq!(Leaf::from_u8(0), None);
        assert_eq!(Leaf::from_u8(LEAVES.len() as u8 + 1), None);
    }

    #[test]
    fn the_last_note_wins_and_taking_clears() {
        assert_eq!(take_waiting(), None);
        note_waiting(Leaf::Sleep, None);
        let here = Location::caller();
        note_waiting(Leaf::Timeout, Some(here));
        let noted = take_waiting().expect("a note");
        assert_eq!((noted.leaf, noted.at), (Leaf::Timeout, Some(here)));
        assert_eq!(take_waiting(), None);
    }

    #[test]
    fn formats() {
        let id = Id(NonZeroU64::new(42).unwrap());
        assert_eq!(id.to_string(), "42");
        assert_eq!(format!("{id:?}"), "Id(42)");
    }
}
