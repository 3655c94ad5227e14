//! The task cell: the one heap allocation behind every spawned task.
//!
//! A task is an `Arc<Cell<F, S, H>>`. Run queues hold it as `Task = Arc<dyn Runnable>`, the
//! `JoinHandle<T>` as `Arc<dyn Join<T>>`, and every `Waker` is the same `Arc` through
//! futures-task's `ArcWake` (cloning a waker bumps the count; it never allocates).
//!
//! `S` is whatever scheduled the task (`task::schedule::Schedule`): the cell hands the task
//! back to it to be queued, and tells it when the task is done. The cell knows nothing else
//! of runtimes.
//!
//! # Who may touch which field, in which state
//!
//! This is the one authoritative list (`state/` documents the bits and points here);
//! every `unsafe` block below cites a rule from it.
//!
//! - `header.state`: anyone, atomically.
//! - `header.id`, `header.spawned`, `scheduler`, `home`: immutable after spawn.
//! - `header.trace` (poll count, wait site): written only by the thread holding `RUNNING`,
//!   with relaxed loads and stores; read by `Handle::dump` from any thread (`waiting_at`).
//! - `header.owned_key`: written once by the spawner before the task is first queued (the
//!   queue push publishes it), read by the thread that completes it (in
//!   `Schedule::release`).
//! - `stage` (the future, then its output):
//!   - **S1** While `COMPLETE` is clear, only the thread holding `RUNNING` touches it.
//!   - **S2** Once `COMPLETE` is set while `JOIN_INTEREST` still is, it belongs to the
//!     `JoinHandle` (which is not `Clone` and polls through `&mut self`, so one thread at a
//!     time): it reads the output, or drops it in its own `Drop`.
//!   - **S3** If `JOIN_INTEREST` was already clear when `COMPLETE` was set, the completing
//!     thread drops the output at once, so that wakers outliving the task do not keep it
//!     alive. (Whichever of the two transitions comes second decides: never both.)
//! - `join` (the join-waker slot, `JoinWaker`):
//!   - **J1** While `JOIN_WAKER` is clear (and the handle lives), the slot is the
//!     `JoinHandle`'s alone: it may read, replace and drop the waker.
//!   - **J2** While `JOIN_WAKER` is set, nobody writes the slot: the handle may read it
//!     (`will_wake`), and so may the completing thread once `COMPLETE` is set (to wake it).
//!   - **J3** Only the handle sets `JOIN_WAKER`, and only while `COMPLETE` is clear; when
//!     that fails the task is complete and the slot stays the handle's (J1).
//!   - **J4** Before `COMPLETE`, only the handle clears `JOIN_WAKER`: to replace its waker,
//!     or, together with `JOIN_INTEREST`, when it is dropped; it then drops the waker at
//!     once, so a dropped `JoinHandle` pins nothing that last polled it.
//!   - **J5** After `COMPLETE`, only the completing thread clears `JOIN_WAKER`, once it has
//!     woken the waker. If `JOIN_INTEREST` was clear by then, the handle was dropped
//!     meanwhile and left the waker to it: the completing thread drops it. Otherwise the
//!     slot is the handle's again (J1), which drops the waker with itself.
//! - A local task (`home: Owner`, spawned by `spawn_local`; its future or output may be
//!   `!Send`) adds these rules; an ordinary task (`home: Anywhere`) has none of them, and
//!   its `is_here` is a constant `true` that the compiler folds away:
//!   - **L1** Its owner is the thread that created the cell (`Owner::here()` taken in
//!     `new_local`). Its future is polled, cancelled and dropped on that thread only: `run`
//!     and `shutdown` check `home.is_here()` before they try for `RUNNING`; elsewhere
//!     `run` hands the task back to its scheduler (whose `schedule` from another thread
//!     only queues it for the owner), and `shutdown` leaves it to the owner.
//!   - **L2** Its output is stored and, when the handle is gone (S3), dropped by the
//!     completing thread, which is the owner (L1). Otherwise it is taken or dropped by the
//!     `JoinHandle` (S2) on whichever thread holds the handle: `new_local` makes the handle
//!     on the owner thread, and a `JoinHandle<T>` is `Send` only when `T` is
//!     (`join_handle.rs`), so a `!Send` output is never touched on another thread.
//!   - **L3** When the last reference goes on another thread, the cell's `Drop` does not
//!     drop the stage. An output still there (its `JoinHandle` was forgotten) is leaked.
//!     A future cannot be there: the owner's list of local tasks holds a reference to every
//!     unfinished one, dropped only on the owner thread once the task completed or was
//!     cancelled there (`runtime/local/`). Were that broken, freeing a pinned future
//!     without dropping it would break `Pin`'s guarantee, and dropping it on this thread
//!     would break `!Send`: the process aborts instead.
//!
//! Wakers, futures and outputs are user code: the runtime's threads call and drop them
//! through `task::callback`, which contains a panic, and never while holding a lock.
//!
//! While a task's future is polled, and while its future or output is dropped (by whichever
//! thread does it), the task is this thread's current task (`task::id::IdGuard`), so that
//! `task::id()` works in that code. The guard is a thread-local write, not an atomic.
//!
//! A local cell is still a `Task` (`Send + Sync`): its wakers, `AbortHandle` and queue
//! references travel anywhere and only touch the state word and the scheduler, which are
//! `Sync`; by L1-L3 the future and the output stay on the owner thread.
//!
//! This is the only module allowed `unsafe`: each block relies on one of the rules above.
#![allow(unsafe_code)]

use std::any::Any;
use std::cell::UnsafeCell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures_task::{waker_ref, ArcWake};

use crate::task::callback;
use crate::task::coop;
use crate::task::error::JoinError;
use crate::task::id::{Id, IdGuard};
use crate::task::schedule::{Header, Reason, Schedule, Spawned};
pub(crate) use crate::task::schedule::{Runnable, Task, NOT_OWNED};
use crate::task::state::{AfterPoll, Run, Snapshot, State, Submit};
use crate::task::JoinHandle;

enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

/// The allocation: header, scheduler, stage and join waker.
pub(crate) struct Cell<F: Future, S, H: Home = Anywhere> {
    header: Header,
    /// Whatever scheduled the task; it queues the task again when it is woken.
    scheduler: S,
    /// Which threads may touch the stage: any (`Anywhere`), or the owner only (`Owner`, L1).
    home: H,
    stage: UnsafeCell<Stage<F>>,
    join: JoinWaker,
}

/// Where a task's future and output may be touched (rules L1-L3).
pub(crate) trait Home: Send + Sync + 'static {
    /// Whether the calling thread may poll, cancel and drop the future.
    fn is_here(&self) -> bool;
}

/// An ordinary task: its future and output are `Send`; any thread may run it.
pub(crate) struct Anywhere;

impl Home for Anywhere {
    #[inline(always)]
    fn is_here(&self) -> bool {
        true
    }
}

/// A local task: only the thread that spawned it may touch its future and output (L1).
pub(crate) struct Owner {
    thread: u64,
}

/// Numbers threads for `Owner`: unlike a thread-local's address, a number is never reused
/// by a later thread.
static NEXT_THREAD: AtomicU64 = AtomicU64::new(1);

std::thread_local! {
    /// This thread's number, 0 until first asked. A `Cell<u64>` has no destructor, so it
    /// stays readable while the thread's other locals are destroyed (a local runtime kept
    /// in a thread-local still recognises its owner then).
    static THIS_THREAD: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

impl Owner {
    /// The calling thread.
    pub(crate) fn here() -> Owner {
        Owner {
            thread: this_thread(),
        }
    }
}

fn this_thread() -> u64 {
    THIS_THREAD.with(|id| {
        if id.get() == 0 {
            id.set(NEXT_THREAD.fetch_add(1, Relaxed));
        }
        id.get()
    })
}

impl Home for Owner {
    #[inline]
    fn is_here(&self) -> bool {
        this_thread() == self.thread
    }
}

// SAFETY: the stage and the join waker are only reached under rules S1-S3 and J1-J5 in the
// module docs, which give one writer at a time; F and its output are Send, so whichever
// thread holds those rights may own them.
unsafe impl<F: Future + Send, S: Sync> Sync for Cell<F, S, Anywhere> where F::Output: Send {}

// SAFETY: what the compiler would derive, spelled out because the `Owner` impl below
// replaces the derived one: every field is `Send` when F, its output and S are (the stage's
// `UnsafeCell` holds only those; the join waker holds a `Waker`).
unsafe impl<F: Future + Send, S: Send> Send for Cell<F, S, Anywhere> where F::Output: Send {}

// SAFETY: L1-L3: the future and the output of a local task are only touched (polled,
// taken, dropped) on its owner thread, or by a `JoinHandle` that is `Send` only when the
// output is; whichever thread holds a reference otherwise reaches only the state word, the
// join-waker slot (a `Waker`, which is `Send`, under J1-J5) and the scheduler (`Send`).
unsafe impl<F: Future, S: Send> Send for Cell<F, S, Owner> {}

// SAFETY: as for `Send` above: shared references reach the future and the output only on
// the owner thread (L1-L3), and everything else in the cell is `Sync` or guarded by the
// state word (S1-S3, J1-J5).
unsafe impl<F: Future, S: Sync> Sync for Cell<F, S, Owner> {}

/// What a `JoinHandle<T>` sees of a task.
pub(crate) trait Join<T>: Runnable {
    /// Takes the output once the task is complete (`Ready(None)` when it was taken
    /// already); registers the waker otherwise.
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>>;
    /// The `JoinHandle` is dropped: gives up join interest, releases its waker, and drops
    /// the output if the task is already complete.
    fn drop_join_handle(&self);
}

impl<F, S> Cell<F, S>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    /// Allocates a task run by `scheduler`; it starts `NOTIFIED` and with join interest.
    /// The caller owes it its first `scheduler.schedule`.
    pub(crate) fn new(future: F, scheduler: S, spawned: Spawned) -> Arc<Cell<F, S>> {
        Arc::new(Cell::with_home(future, scheduler, Anywhere, spawned))
    }
}

impl<F, S> Cell<F, S, Owner>
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
{
    /// Allocates a local task owned by the calling thread (L1), and its `JoinHandle`, made
    /// here so that a `!Send` output's handle starts on the owner thread (L2). Like `new`,
    /// the task starts `NOTIFIED`; the caller owes it its first `scheduler.schedule`.
    pub(crate) fn new_local(
        future: F,
        scheduler: S,
        spawned: Spawned,
    ) -> (Task, JoinHandle<F::Output>) {
        let cell = Arc::new(Cell::with_home(future, scheduler, Owner::here(), spawned));
        let join: Arc<dyn Join<F::Output>> = cell.clone();
        (cell, JoinHandle::new_local(join))
    }
}

impl<F: Future, S, H: Home> Cell<F, S, H> {
    fn with_home(future: F, scheduler: S, home: H, spawned: Spawned) -> Cell<F, S, H> {
        Cell {
            header: Header {
                state: State::new(),
                id: Id::next(),
                owned_key: AtomicUsize::new(NOT_OWNED),
                spawned,
                trace: crate::task::schedule::Trace::new(),
            },
            scheduler,
            home,
            stage: UnsafeCell::new(Stage::Running(future)),
            join: JoinWaker::new(),
        }
    }
}

impl<F, S, H> Cell<F, S, H>
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
    H: Home,
    Self: Send + Sync,
{
    /// Replaces the stage and returns the old one, undropped. Only for a stage that holds
    /// no future (an output may move; a pinned future must not): see `set_stage`.
    ///
    /// # Safety
    ///
    /// The caller may write the stage: it holds `RUNNING` before `COMPLETE` (S1), or it is
    /// the stage's owner after `COMPLETE` (S2, S3).
    unsafe fn replace_stage(&self, stage: Stage<F>) -> Stage<F> {
        // SAFETY: this function's contract gives the caller the stage alone.
        let slot = unsafe { &mut *self.stage.get() };
        debug_assert!(
            !matches!(slot, Stage::Running(_)),
            "a pinned future is never moved"
        );
        std::mem::replace(slot, stage)
    }

    /// Stores `stage`, dropping the old one where it lies: the future is pinned, so it is
    /// dropped in place, never moved out first (a future may point into itself, e.g. an
    /// I/O waiter linked to a socket the future owns). Returns the payload of a panic raised
    /// by that drop; the new stage is stored either way.
    ///
    /// # Safety
    ///
    /// As `replace_stage`.
    unsafe fn set_stage(&self, stage: Stage<F>) -> Result<(), Box<dyn Any + Send>> {
        let _current = IdGuard::enter(Some(self.header.id));
        let slot = self.stage.get();
        let dropped = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: the caller alone may touch the stage (this function's contract), and
            // it holds a value, which nobody uses after this drop.
            unsafe { std::ptr::drop_in_place(slot) }
        }));
        // SAFETY: the old value is gone: its drop ran to the end, or panicked, in which case
        // the drop glue still dropped its remaining fields while unwinding. Writing over it
        // neither leaks nor drops anything twice.
        unsafe { std::ptr::write(slot, stage) };
        dropped
    }

    /// Stores the output and publishes it; wakes the `JoinHandle`. The future, if still
    /// there, is dropped first; a panic from that drop is swallowed (the task's outcome is
    /// the output it returned, or the panic it raised while polled).
    ///
    /// # Safety
    ///
    /// The caller holds `RUNNING` and `COMPLETE` is clear.
    unsafe fn complete(&self, output: Result<F::Output, JoinError>) {
        // SAFETY: forwarded from this function's contract (S1).
        if let Err(payload) = unsafe { self.set_stage(Stage::Finished(output)) } {
            callback::release(payload);
        }
        let state = &self.header.state;
        let prev = state.transition_to_complete();
        if !prev.is_join_interested() {
            // SAFETY: S3 (on the owner thread for a local task, L2): COMPLETE is set and the
            // JoinHandle was gone before it was (JOIN_INTEREST is never set again), so no
            // one else will ever touch the stage.
            unsafe { self.drop_output() };
        }
        // SAFETY: this thread just completed the task, and `prev` is what that returned.
        unsafe { self.join.wake_after_complete(state, prev) };
    }

    /// Drops the future and completes the task: as cancelled, or, when the future's
    /// destructor panics, as panicked with that payload.
    ///
    /// # Safety
    ///
    /// The caller holds `RUNNING` and `COMPLETE` is clear.
    unsafe fn cancel(&self) {
        // Drop the future first so its destructor runs before the handle hears of it.
        // SAFETY: forwarded from this function's contract (S1).
        let error = match unsafe { self.set_stage(Stage::Consumed) } {
            Ok(()) => JoinError::cancelled(self.header.id),
            Err(payload) => JoinError::panic(self.header.id, payload),
        };
        // SAFETY: as above.
        unsafe { self.complete(Err(error)) };
    }

    /// Drops a finished task's output that no `JoinHandle` will read, now rather than when
    /// the last waker of the task goes (which may be never, if the output holds one). A
    /// panic from that drop is swallowed: this runs in `Drop` or on a worker.
    ///
    /// # Safety
    ///
    /// `COMPLETE` is set and the caller owns the stage: it is the completing thread and the
    /// `JoinHandle` was already dropped (S3), or it is the `JoinHandle`'s `Drop` (S2).
    unsafe fn drop_output(&self) {
        // SAFETY: forwarded from this function's contract.
        let output = unsafe { self.replace_stage(Stage::Consumed) };
        let _current = IdGuard::enter(Some(self.header.id));
        callback::release(output);
    }

    fn poll_future(self: &Arc<Self>) -> Poll<Result<F::Output, JoinError>> {
        let waker = waker_ref(self);
        let mut cx = Context::from_waker(&waker);
        // RUNNING is ours (won in `run`): this thread alone writes the dump bookkeeping.
        self.header.start_poll();
        let polled = {
            let _current = IdGuard::enter(Some(self.header.id));
            catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: S1: this thread won RUNNING in `run`, so it alone touches the stage;
                // for a local task, `run` checked first that this is the owner thread (L1).
                let stage = unsafe { &mut *self.stage.get() };
                let Stage::Running(future) = stage else {
                    unreachable!("a task is polled only while its future is present")
                };
                // SAFETY: the future lives inside the Arc allocation and is never moved out of
                // it; `set_stage` drops it in place.
                let future = unsafe { Pin::new_unchecked(future) };
                coop::budget(|| future.poll(&mut cx))
            }))
        };
        if matches!(polled, Ok(Poll::Pending)) {
            self.header.parked();
        }
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(payload) => {
                // Reported (and maybe kept) by the scheduler before anyone hears of it.
                let payload = self.scheduler.panicked(&self.header, payload);
                Poll::Ready(Err(JoinError::panic(self.header.id, payload)))
            }
        }
    }

    /// Queues the task (this, its `NOTIFIED` reference) on its scheduler. On a thread that
    /// runs the scheduler's own queue the reference just moves there, with no count
    /// traffic. Anywhere else another thread may run and free the task as soon as it is
    /// queued, so a second reference keeps the scheduler (inside this cell) alive until the
    /// call returns.
    fn schedule(self: Arc<Self>, reason: Reason) {
        if self.scheduler.runs_here() {
            S::schedule_here(self, reason);
        } else {
            let keep = self.clone();
            keep.scheduler.schedule(self, reason);
        }
    }

    /// The task is done: its scheduler forgets it.
    fn release(&self) {
        self.scheduler.release(&self.header);
    }
}

impl<F, S, H> Runnable for Cell<F, S, H>
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
    H: Home,
    Self: Send + Sync,
{
    fn header(&self) -> &Header {
        &self.header
    }

    fn run(self: Arc<Self>) {
        if !self.home.is_here() {
            // L1: a local task popped on another thread: back to its owner, untouched. It
            // keeps its NOTIFIED reference (this one), so it is queued once, as before.
            self.schedule(Reason::Wake);
            return;
        }
        match self.header.state.transition_to_running() {
            Run::Skip => return,
            Run::Cancel => {
                // SAFETY: transition_to_running gave this thread RUNNING; COMPLETE is clear.
                unsafe { self.cancel() };
                self.release();
                return;
            }
            Run::Poll => {}
        }
        match self.poll_future() {
            Poll::Pending => match self.header.state.transition_to_idle() {
                AfterPoll::Wait => {}
                AfterPoll::Reschedule => self.schedule(Reason::Yield),
                AfterPoll::Cancel => {
                    // SAFETY: transition_to_idle left RUNNING with us; COMPLETE is clear.
                    unsafe { self.cancel() };
                    self.release();
                }
            },
            Poll::Ready(output) => {
                // SAFETY: RUNNING is still ours (won in transition_to_running).
                unsafe { self.complete(output) };
                self.release();
            }
        }
    }

    fn shutdown(&self) {
        if !self.home.is_here() {
            // L1: only the owner may drop a local task's future; its owner shuts it down.
            return;
        }
        if self.header.state.transition_to_shutdown() {
            // SAFETY: transition_to_shutdown gave this thread RUNNING; COMPLETE is clear; a
            // local task's owner was checked above (L1).
            unsafe { self.cancel() };
        }
    }

    fn abort(self: Arc<Self>) {
        if self.header.state.transition_to_cancelled() == Submit::Yes {
            self.schedule(Reason::Yield);
        }
    }
}

impl<F, S, H> Join<F::Output> for Cell<F, S, H>
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
    H: Home,
    Self: Send + Sync,
{
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Option<Result<F::Output, JoinError>>> {
        // SAFETY: only the JoinHandle calls `poll_join`, through `&mut self`.
        if unsafe { self.join.register(&self.header.state, cx.waker()) }.is_pending() {
            return Poll::Pending;
        }
        // SAFETY: S2 (and L2 for a `!Send` output: the handle is on the owner thread):
        // `register` saw COMPLETE (with Acquire), so the stage belongs to the JoinHandle
        // alone.
        match unsafe { self.replace_stage(Stage::Consumed) } {
            Stage::Finished(output) => Poll::Ready(Some(output)),
            _ => Poll::Ready(None),
        }
    }

    fn drop_join_handle(&self) {
        // SAFETY: the JoinHandle calls this once, from its `Drop`.
        let prev = unsafe { self.join.drop_handle(&self.header.state) };
        if prev.is_complete() {
            // SAFETY: S2 (and L2, as in `poll_join`): COMPLETE was set while JOIN_INTEREST
            // was still ours, so the stage belongs to the JoinHandle, which is being
            // dropped: no one else touches it.
            unsafe { self.drop_output() };
        }
    }
}

impl<F, S, H> ArcWake for Cell<F, S, H>
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
    H: Home,
    Self: Send + Sync,
{
    fn wake_by_ref(arc_self: &Arc<Self>) {
        if arc_self.header.state.transition_to_notified() == Submit::Yes {
            arc_self.clone().schedule(Reason::Wake);
        }
    }

    fn wake(self: Arc<Self>) {
        if self.header.state.transition_to_notified() == Submit::Yes {
            self.schedule(Reason::Wake);
        }
    }
}

/// Where `header`'s task waited when its last poll returned `Pending` (any thread), for
/// `Handle::dump`. The header keeps it as a raw pointer (`Header::wait_site`), so that the
/// one `unsafe` it takes to read it back lives here with the others.
pub(crate) fn waiting_at(header: &Header) -> Option<&'static std::panic::Location<'static>> {
    let at = header.wait_site();
    // SAFETY: `at` is null or came from a `&'static Location<'static>` in `Header::parked`,
    // its only writer; the location is immutable and lives for the whole program, so any
    // thread may read it, whenever, without synchronising with the writer.
    unsafe { at.as_ref() }
}

impl<F: Future, S, H: Home> Drop for Cell<F, S, H> {
    fn drop(&mut self) {
        if self.home.is_here() {
            // An ordinary task everywhere (a constant), a local one on its owner thread:
            // the fields drop as usual.
            return;
        }
        // L3: the last reference of a local task went on another thread.
        match self.stage.get_mut() {
            Stage::Consumed => {}
            Stage::Finished(_) => {
                // A forgotten `JoinHandle` left the output: leak it rather than drop a
                // `!Send` value here.
                std::mem::forget(std::mem::replace(self.stage.get_mut(), Stage::Consumed));
            }
            Stage::Running(_) => {
                // Unreachable while the owner's list keeps unfinished local tasks alive
                // (L3); if it ever is, neither dropping the future here nor freeing it
                // undropped is sound.
                eprintln!(
                    "flywheel: a local task's future outlived its owner thread's task list; \
                     aborting rather than drop it on another thread"
                );
                std::process::abort();
            }
        }
    }
}

/// The join-waker slot and its hand-over between the `JoinHandle` and the thread that
/// completes the task (rules J1-J5 in the module docs). The caller passes the task's state
/// word; each method is for one side only, which its `# Safety` section names.
pub(crate) struct JoinWaker {
    slot: crate::sync::UnsafeCell<Option<Waker>>,
}

impl JoinWaker {
    pub(crate) fn new() -> JoinWaker {
        JoinWaker {
            slot: crate::sync::UnsafeCell::new(None),
        }
    }

    /// The `JoinHandle` stores `waker` to be woken at completion. `Pending`: it is
    /// registered; `Ready`: the task is complete, the handle may read the output (S2).
    ///
    /// # Safety
    ///
    /// Only the task's `JoinHandle` calls it (one thread at a time), while it lives.
    pub(crate) unsafe fn register(&self, state: &State, waker: &Waker) -> Poll<()> {
        let snapshot = state.load();
        if snapshot.is_complete() {
            return Poll::Ready(());
        }
        if snapshot.is_join_waker_set() {
            let same = self.slot.with(|slot| {
                // SAFETY: J2: JOIN_WAKER is set, so nobody writes the slot; we may read it.
                let current = unsafe { &*slot };
                current.as_ref().is_some_and(|w| w.will_wake(waker))
            });
            if same {
                return Poll::Pending;
            }
            if state.unset_join_waker().is_err() {
                return Poll::Ready(());
            }
        }
        let old = self.slot.with_mut(|slot| {
            // SAFETY: J1: JOIN_WAKER is clear (or we just cleared it, J4): the slot is ours.
            let slot = unsafe { &mut *slot };
            slot.replace(waker.clone())
        });
        callback::release(old);
        match state.set_join_waker() {
            Ok(()) => Poll::Pending,
            // J3: completed first; the slot stays ours, the handle reads the output.
            Err(_) => Poll::Ready(()),
        }
    }

    /// The completing thread wakes the handle's waker, if one is registered, then hands the
    /// slot back (J5), dropping the waker itself if the handle is gone.
    ///
    /// # Safety
    ///
    /// The caller is the thread that completed the task, and `prev` is what its
    /// `transition_to_complete` returned.
    pub(crate) unsafe fn wake_after_complete(&self, state: &State, prev: Snapshot) {
        if !prev.is_join_waker_set() {
            // Never registered, or J4: the handle took its waker back when it was dropped.
            return;
        }
        self.slot.with(|slot| {
            // SAFETY: J2: JOIN_WAKER is set and we completed the task: we may read the slot.
            let waker = unsafe { &*slot };
            if let Some(waker) = waker {
                callback::wake_by_ref(waker);
            }
        });
        if !state.unset_join_waker_after_complete().is_join_interested() {
            let waker = self.slot.with_mut(|slot| {
                // SAFETY: J5: the handle was dropped while we held the slot, and left the
                // waker to us.
                unsafe { (*slot).take() }
            });
            callback::release(waker);
        }
    }

    /// The `JoinHandle` is dropped: gives up join interest and releases its waker now,
    /// unless the completing thread is waking it (which then drops it, J5). Returns the
    /// state just before: when `COMPLETE`, the output is the handle's to drop (S2).
    ///
    /// # Safety
    ///
    /// Only the task's `JoinHandle` calls it, once, from its `Drop`.
    pub(crate) unsafe fn drop_handle(&self, state: &State) -> Snapshot {
        let prev = state.drop_join_handle();
        if !(prev.is_complete() && prev.is_join_waker_set()) {
            let waker = self.slot.with_mut(|slot| {
                // SAFETY: J1/J4: JOIN_WAKER is clear now (we cleared it before COMPLETE, or
                // the completing thread handed the slot back), so the slot is ours.
                unsafe { (*slot).take() }
            });
            callback::release(waker);
        }
        prev
    }
}

/// The join-waker hand-over on its own, for the loom models (`loom_join.rs`,
/// `loom_ready.rs`): the real `State` and `JoinWaker`, around an output that is a number.
/// The two sides are owned halves, the `JoinHandle` polling through `&mut self`, so "one
/// handle, one completing thread" holds by construction and the models need no `unsafe`.
/// `complete` and the handle's drop follow `Cell::complete` and `Cell::drop_join_handle`
/// line for line.
#[cfg(all(test, flywheel_loom))]
pub(crate) mod model {
    use std::task::{Poll, Waker};

    use loom::sync::atomic::AtomicUsize;
    use loom::sync::atomic::Ordering::Relaxed;
    use loom::sync::Arc;

    use super::JoinWaker;
    use crate::sync::UnsafeCell;
    use crate::task::state::{Run, State};

    struct Task {
        state: State,
        join: JoinWaker,
        /// The stage: `Some(output)` between completion and whoever takes or drops it.
        output: UnsafeCell<Option<usize>>,
        /// Outputs dropped (not handed to the handle).
        dropped: AtomicUsize,
    }

    /// The `JoinHandle`'s half.
    pub(crate) struct Joiner(Arc<Task>);

    /// The completing thread's half.
    pub(crate) struct Runner(Arc<Task>);

    /// Looks at the task once both halves are gone.
    pub(crate) struct Probe(Arc<Task>);

    /// A task just spawned (queued, with a handle).
    pub(crate) fn task() -> (Joiner, Runner, Probe) {
        let task = Arc::new(Task {
            state: State::new(),
            join: JoinWaker::new(),
            output: UnsafeCell::new(None),
            dropped: AtomicUsize::new(0),
        });
        (Joiner(task.clone()), Runner(task.clone()), Probe(task))
    }

    impl Joiner {
        /// `JoinHandle::poll` with `waker`.
        pub(crate) fn poll(&mut self, waker: &Waker) -> Poll<usize> {
            let task = &*self.0;
            // SAFETY: `Joiner` is the one JoinHandle of the task, polled through `&mut`.
            if unsafe { task.join.register(&task.state, waker) }.is_pending() {
                return Poll::Pending;
            }
            // SAFETY: S2: `register` saw COMPLETE; the stage is the handle's.
            let output = task.output.with_mut(|slot| unsafe { (*slot).take() });
            Poll::Ready(output.expect("a complete task has its output until taken"))
        }

        /// Drops the handle; `true` when the task was complete by then.
        pub(crate) fn drop_handle(self) -> bool {
            let task = &*self.0;
            // SAFETY: the one JoinHandle, once, as it goes.
            let prev = unsafe { task.join.drop_handle(&task.state) };
            if prev.is_complete() {
                // SAFETY: S2.
                let output = task.output.with_mut(|slot| unsafe { (*slot).take() });
                if output.is_some() {
                    task.dropped.fetch_add(1, Relaxed);
                }
            }
            prev.is_complete()
        }
    }

    impl Runner {
        /// Runs the task to completion with `output`.
        pub(crate) fn complete(self, output: usize) {
            let task = &*self.0;
            assert_eq!(task.state.transition_to_running(), Run::Poll);
            // SAFETY: S1: RUNNING is ours.
            task.output.with_mut(|slot| unsafe { *slot = Some(output) });
            let prev = task.state.transition_to_complete();
            if !prev.is_join_interested() {
                // SAFETY: S3.
                let output = task.output.with_mut(|slot| unsafe { (*slot).take() });
                assert!(output.is_some());
                task.dropped.fetch_add(1, Relaxed);
            }
            // SAFETY: this thread just completed the task; `prev` is what that returned.
            unsafe { task.join.wake_after_complete(&task.state, prev) };
        }
    }

    impl Probe {
        /// Once both halves are gone: whether the join-waker slot is empty, and how many
        /// outputs were dropped rather than handed out.
        pub(crate) fn finish(self) -> (bool, usize) {
            assert_eq!(Arc::strong_count(&self.0), 1, "a half is still alive");
            let task = &*self.0;
            // SAFETY: no other reference to the task exists.
            let empty = task.join.slot.with(|slot| unsafe { (*slot).is_none() });
            (empty, task.dropped.load(Relaxed))
        }
    }
}
