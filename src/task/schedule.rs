//! The seam between a task and whatever runs it, both ways: what a scheduler sees of a task
//! (`Task`, a `Runnable` with a `Header`), and what a task sees of its scheduler
//! (`Schedule`). The task cell (`cell.rs`) implements the one and calls the other; it
//! imports nothing of the runtime.
//!
//! The task cell knows the thing that scheduled it only through `Schedule`: it calls
//! `schedule` when the task must be polled again (spawned, woken, yielded, aborted while
//! idle) and `release` once the task is complete. A runtime's schedulers implement it
//! (`runtime::Handle`: the current-thread and multi-thread queues, and the owned-task set
//! that shutdown empties), and so does the blocking pool, whose jobs run once and are never
//! owned. A scheduler keeping tasks on one thread, or picking the next one at random from a
//! seed, plugs in here the same way; the cell does not change.
//!
//! The cell stores its scheduler by value and is generic over it, so every call is static
//! (no `dyn` call on the spawn or wake path).

use std::any::Any;
use std::panic::Location;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize};
use std::sync::Arc;

use crate::task::id::{self, Id};
use crate::task::state::State;

/// Why a task is being queued; a scheduler may use it to choose where the task goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reason {
    /// A new task: back of the queue (the LIFO slot on a multi-thread worker, as a wake).
    Spawn,
    /// Woken by another task or an event: the LIFO slot, to run next while its data is hot.
    Wake,
    /// Yielded or woken during its own poll: back of the queue, behind everything else.
    Yield,
}

/// Whatever queues and owns a task: what the task cell calls back.
pub(crate) trait Schedule: Send + Sync + 'static {
    /// Queues `task` (a task whose cell holds `self`) to be polled. Called only by the one
    /// thread whose state transition asked for it, so a task is never queued twice at once.
    fn schedule(&self, task: Task, reason: Reason);

    /// Whether the calling thread runs this scheduler's own queue (one of its workers, or
    /// the thread inside its `block_on`).
    fn runs_here(&self) -> bool;

    /// Queues `task` on the calling thread's own queue; only right after `runs_here`
    /// returned true on this thread. It takes no `&self` on purpose: once queued, the task
    /// (and the scheduler stored in it) may be run and freed by another thread.
    fn schedule_here(task: Task, reason: Reason)
    where
        Self: Sized;

    /// `task` is complete (or was cancelled): forget it. Called once, by the thread that
    /// completed it, after its output was stored and its `JoinHandle` woken.
    fn release(&self, task: &Header);

    /// `task`'s future panicked while polled, with `payload`. Called on the thread that
    /// polled it, before its future is dropped and its `JoinHandle` woken (a runtime reports
    /// the panic and applies its `UnhandledPanic` policy here). Returns the payload the
    /// task's `JoinError` will hold: `payload` itself, or a stand-in when the scheduler keeps
    /// the original. By default nothing is reported and nothing kept (blocking jobs).
    fn panicked(&self, task: &Header, payload: Box<dyn Any + Send>) -> Box<dyn Any + Send> {
        let _ = task;
        payload
    }
}

/// `owned_key` of a task that is not in an owned set (blocking tasks).
pub(crate) const NOT_OWNED: usize = usize::MAX;

/// A queued task, type-erased.
pub(crate) type Task = Arc<dyn Runnable>;

/// The part of a task that does not depend on its future's type.
pub(crate) struct Header {
    pub(crate) state: State,
    /// Unique in the process; drawn at spawn.
    pub(crate) id: Id,
    /// Its slot in its scheduler's owned set, or `NOT_OWNED`.
    pub(crate) owned_key: AtomicUsize,
    /// Where it was spawned and under which name.
    pub(crate) spawned: Spawned,
    /// Polls so far and where it waits, for `Handle::dump`.
    pub(crate) trace: Trace,
}

impl Header {
    /// The name given at spawn (`task::Builder::name`), if any.
    pub(crate) fn name(&self) -> Option<&str> {
        self.spawned.name.as_deref()
    }

    /// The source location of the user's spawn call.
    pub(crate) fn location(&self) -> &'static Location<'static> {
        self.spawned.location
    }

    /// The thread that holds `RUNNING` is about to poll the future: counts the poll and
    /// drops any wait note left on this thread by code that was not this task.
    #[inline]
    pub(crate) fn start_poll(&self) {
        let word = &self.trace.word;
        word.store(word.load(Relaxed) + ONE_POLL, Relaxed);
        let _ = id::take_waiting();
    }

    /// The poll returned `Pending` (the thread still holds `RUNNING`): stores where the
    /// future said it waits.
    #[inline]
    pub(crate) fn parked(&self) {
        let waiting = id::take_waiting();
        let word = &self.trace.word;
        let leaf = waiting.map_or(0, |w| w.leaf as u64);
        word.store(word.load(Relaxed) & !LEAF_MASK | leaf, Relaxed);
        let at: *const Location<'static> =
            waiting.and_then(|w| w.at).map_or(std::ptr::null(), |at| at);
        // Never written through (`AtomicPtr` only comes as `*mut`): read back by
        // `task::cell::waiting_at`.
        self.trace.at.store(at.cast_mut(), Relaxed);
    }

    /// Polls so far (any thread; may lag a poll in progress).
    pub(crate) fn polls(&self) -> u64 {
        self.trace.word.load(Relaxed) >> LEAF_BITS
    }

    /// What the task waited on when its last poll returned `Pending` (any thread); where
    /// in the code is `task::cell::waiting_at`.
    pub(crate) fn waiting(&self) -> Option<id::Leaf> {
        let word = self.trace.word.load(Relaxed);
        // Truncation intended: the mask keeps the low byte.
        id::Leaf::from_u8((word & LEAF_MASK) as u8)
    }

    /// Null, or the `&'static Location` of the last wait, as a pointer (any thread).
    pub(crate) fn wait_site(&self) -> *const Location<'static> {
        self.trace.at.load(Relaxed)
    }
}

/// Low bits of `Trace::word` that hold the leaf kind (`Leaf as u8`, 0 for none).
const LEAF_BITS: u32 = 8;
/// Mask of the leaf bits.
const LEAF_MASK: u64 = (1 << LEAF_BITS) - 1;
/// One poll in `Trace::word` (the count sits above the leaf bits: 2^56 polls, never reached).
const ONE_POLL: u64 = 1 << LEAF_BITS;

/// What a task records about itself for dumps, written only by the thread that holds its
/// `RUNNING` bit. One writer at a time, handed over through the state word's
/// acquire/release transitions, is why the counts are a relaxed load and store instead of
/// a `fetch_add`: no read-modify-write on the poll path. Readers (a dump, on any thread)
/// load relaxed and may see a value one poll old. The poll count and the kind of wait share
/// one word (16 bytes in all per task); the wait's location is the second word, so a dump
/// racing the end of a poll may pair one wait's kind with the next one's location — a dump
/// shows waits only for tasks that were not running when it looked, which makes that rare.
pub(crate) struct Trace {
    /// Polls so far (the one in progress included) above `LEAF_BITS`, and the kind of
    /// the last wait below.
    word: AtomicU64,
    /// Null, or the `&'static Location` of the last wait (the only kind of value
    /// `Header::parked` writes).
    at: AtomicPtr<Location<'static>>,
}

impl Trace {
    pub(crate) fn new() -> Trace {
        Trace {
            word: AtomicU64::new(0),
            at: AtomicPtr::new(std::ptr::null_mut()),
        }
    }
}

/// Where a task comes from: kept for the whole life of the task so that dumps, long-poll
/// reports and panic reports can say which task they mean. Immutable after spawn.
#[derive(Clone, Debug)]
pub(crate) struct Spawned {
    pub(crate) name: Option<Box<str>>,
    pub(crate) location: &'static Location<'static>,
}

impl Spawned {
    /// An unnamed task spawned by the caller's caller (every public spawn function is
    /// `#[track_caller]`, so this is the user's code).
    #[track_caller]
    pub(crate) fn here() -> Spawned {
        Spawned {
            name: None,
            location: Location::caller(),
        }
    }
}

/// What the schedulers see of a task.
pub(crate) trait Runnable: Send + Sync {
    fn header(&self) -> &Header;
    /// Polls the task once (or cancels it). The caller popped its `NOTIFIED` reference.
    fn run(self: Arc<Self>);
    /// Runtime shutdown: drop the future now unless it is being polled or is done.
    fn shutdown(&self);
    /// Requests cancellation; queues the task when it is idle so a worker drops it.
    fn abort(self: Arc<Self>);
}
