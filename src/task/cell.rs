//! The task cell: the one heap allocation behind every spawned task.
//!
//! A task is an `Arc<Cell<F>>`. Run queues hold it as `Task = Arc<dyn Runnable>`, the
//! `JoinHandle<T>` as `Arc<dyn Join<T>>`, and every `Waker` is the same `Arc` through
//! futures-task's `ArcWake` (cloning a waker bumps the count; it never allocates).
//!
//! Fields and who may touch them:
//! - `header.state`: anyone, atomically (see `state.rs`).
//! - `header.handle`, `header.blocking`: immutable after spawn.
//! - `header.owned_key`: written once by the spawner before the task is first queued (the
//!   queue push publishes it), read by the thread that completes it.
//! - `stage`: the future, then its output. Only the thread holding `RUNNING` may touch it
//!   while `COMPLETE` is clear; once `COMPLETE` is set only the `JoinHandle` may (it is not
//!   `Clone` and polls through `&mut self`, so one thread at a time), or, when the handle
//!   was already gone at completion (`JOIN_INTEREST` clear), the completing thread, which
//!   drops the output at once so that wakers outliving the task do not keep it alive.
//! - `join_waker`: while `JOIN_WAKER` is clear only the `JoinHandle` may write it; while it
//!   is set both the handle and the completing thread may only read it (`wake_by_ref`,
//!   `will_wake`). It is dropped with the cell.
//!
//! This is the only module allowed `unsafe`: each block relies on one of the rules above.
#![allow(unsafe_code)]

use std::cell::UnsafeCell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures_task::{waker_ref, ArcWake};

use crate::runtime::scheduler::{schedule, Kind};
use crate::runtime::{coop, Handle};
use crate::task::error::JoinError;
use crate::task::state::{Idle, Run, State, Submit};

/// `owned_key` of a task that is not in a runtime's owned set (blocking tasks).
pub(crate) const NOT_OWNED: usize = usize::MAX;

/// A queued task, type-erased.
pub(crate) type Task = Arc<dyn Runnable>;

/// The part of a task that does not depend on its future's type.
pub(crate) struct Header {
    pub(crate) state: State,
    /// The runtime that runs it.
    pub(crate) handle: Handle,
    /// Runs once on the blocking pool instead of the scheduler.
    pub(crate) blocking: bool,
    /// Its slot in the runtime's owned set, or `NOT_OWNED`.
    pub(crate) owned_key: AtomicUsize,
}

enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

/// The allocation: header, stage and join waker.
pub(crate) struct Cell<F: Future> {
    header: Header,
    stage: UnsafeCell<Stage<F>>,
    join_waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the stage and join waker are only reached under the RUNNING / COMPLETE / JOIN_WAKER
// rules in the module docs, which give one writer at a time; F and its output are Send, so
// whichever thread holds those rights may own them.
unsafe impl<F: Future + Send> Sync for Cell<F> where F::Output: Send {}

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

/// What a `JoinHandle<T>` sees of a task.
pub(crate) trait Join<T>: Runnable {
    /// Takes the output once the task is complete; registers the waker otherwise.
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>>;
    /// The `JoinHandle` is dropped: gives up join interest, and drops the output if the task
    /// is already complete.
    fn drop_join_handle(&self);
}

impl<F> Cell<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    /// Allocates a task; it starts `NOTIFIED` and with join interest.
    pub(crate) fn new(future: F, handle: Handle, blocking: bool) -> Arc<Cell<F>> {
        Arc::new(Cell {
            header: Header {
                state: State::new(),
                handle,
                blocking,
                owned_key: AtomicUsize::new(NOT_OWNED),
            },
            stage: UnsafeCell::new(Stage::Running(future)),
            join_waker: UnsafeCell::new(None),
        })
    }

    /// Replaces the stage, dropping the future (or the output) in place; a panic from that
    /// drop is swallowed so the runtime keeps going.
    ///
    /// # Safety
    ///
    /// The caller holds `RUNNING` and `COMPLETE` is clear.
    unsafe fn set_stage(&self, stage: Stage<F>) {
        let result = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: the caller holds RUNNING before COMPLETE (this function's contract),
            // so no other thread reads or writes the stage.
            let slot = unsafe { &mut *self.stage.get() };
            *slot = stage;
        }));
        if let Err(payload) = result {
            // The old value is gone either way; keep the stage consistent.
            // SAFETY: as above, RUNNING is still ours.
            let slot = unsafe { &mut *self.stage.get() };
            if !matches!(slot, Stage::Finished(_)) {
                *slot = Stage::Finished(Err(JoinError::panic(payload)));
            }
        }
    }

    /// Stores the output and publishes it; wakes the `JoinHandle`.
    ///
    /// # Safety
    ///
    /// The caller holds `RUNNING` and `COMPLETE` is clear.
    unsafe fn complete(&self, output: Result<F::Output, JoinError>) {
        // SAFETY: forwarded from this function's contract.
        unsafe { self.set_stage(Stage::Finished(output)) };
        let prev = self.header.state.transition_to_complete();
        if !prev.is_join_interested() {
            // SAFETY: COMPLETE is set and the JoinHandle was gone before it was (JOIN_INTEREST
            // is never set again), so no one else will ever touch the stage.
            unsafe { self.drop_output() };
        } else if prev.is_join_waker_set() {
            // SAFETY: JOIN_WAKER was set when COMPLETE was: the handle may no longer write
            // the slot, and both sides only read it from now on.
            let waker = unsafe { &*self.join_waker.get() };
            if let Some(waker) = waker {
                waker.wake_by_ref();
            }
        }
    }

    /// Drops the future and completes the task as cancelled.
    ///
    /// # Safety
    ///
    /// The caller holds `RUNNING` and `COMPLETE` is clear.
    unsafe fn cancel(&self) {
        // Drop the future first so its destructor runs before the handle hears of it.
        // SAFETY: forwarded from this function's contract.
        unsafe { self.set_stage(Stage::Consumed) };
        // SAFETY: as above.
        unsafe { self.complete(Err(JoinError::cancelled())) };
    }

    /// Drops a finished task's output that no `JoinHandle` will read, now rather than when
    /// the last waker of the task goes (which may be never, if the output holds one). A
    /// panic from that drop is swallowed: this runs in `Drop` or on a worker.
    ///
    /// # Safety
    ///
    /// `COMPLETE` is set and the caller alone may touch the stage: it is the completing thread
    /// and the `JoinHandle` was already dropped, or it is the `JoinHandle`'s `Drop`.
    unsafe fn drop_output(&self) {
        // SAFETY: the caller alone touches the stage (this function's contract).
        let stage = unsafe { &mut *self.stage.get() };
        let output = std::mem::replace(stage, Stage::Consumed);
        let _ = catch_unwind(AssertUnwindSafe(move || drop(output)));
    }

    fn poll_future(self: &Arc<Self>) -> Poll<Result<F::Output, JoinError>> {
        let waker = waker_ref(self);
        let mut cx = Context::from_waker(&waker);
        let polled = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: this thread won RUNNING in `run`, so it alone touches the stage.
            let stage = unsafe { &mut *self.stage.get() };
            let Stage::Running(future) = stage else {
                unreachable!("a task is polled only while its future is present")
            };
            // SAFETY: the future lives inside the Arc allocation and is never moved out of
            // it; it is dropped in place by `set_stage`.
            let future = unsafe { Pin::new_unchecked(future) };
            coop::budget(|| future.poll(&mut cx))
        }));
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(payload) => Poll::Ready(Err(JoinError::panic(payload))),
        }
    }

    fn release(&self) {
        let key = self.header.owned_key.load(Ordering::Relaxed);
        if key != NOT_OWNED {
            self.header.handle.shared.owned.remove(key);
        }
    }
}

impl<F> Runnable for Cell<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn header(&self) -> &Header {
        &self.header
    }

    fn run(self: Arc<Self>) {
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
                Idle::Ok => {}
                Idle::Reschedule => schedule(self, Kind::Yield),
                Idle::Cancel => {
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
        if self.header.state.transition_to_shutdown() {
            // SAFETY: transition_to_shutdown gave this thread RUNNING; COMPLETE is clear.
            unsafe { self.cancel() };
        }
    }

    fn abort(self: Arc<Self>) {
        if self.header.state.transition_to_cancelled() == Submit::Yes {
            schedule(self, Kind::Yield);
        }
    }
}

impl<F> Join<F::Output> for Cell<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<F::Output, JoinError>> {
        let state = &self.header.state;
        let snapshot = state.load();
        if !snapshot.is_complete() {
            let registered = if !snapshot.is_join_waker_set() {
                // SAFETY: JOIN_WAKER is clear, so the handle (us) alone owns the slot.
                unsafe { *self.join_waker.get() = Some(cx.waker().clone()) };
                state.set_join_waker().is_ok()
            } else {
                // SAFETY: JOIN_WAKER is set: shared reads only.
                let current = unsafe { &*self.join_waker.get() };
                if current.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    true
                } else if state.unset_join_waker().is_ok() {
                    // SAFETY: we just cleared JOIN_WAKER: the slot is ours again.
                    unsafe { *self.join_waker.get() = Some(cx.waker().clone()) };
                    state.set_join_waker().is_ok()
                } else {
                    false
                }
            };
            if registered {
                return Poll::Pending;
            }
        }
        // SAFETY: COMPLETE is set (observed with Acquire above or by a failed join-waker
        // transition), so the stage belongs to the JoinHandle alone.
        let stage = unsafe { &mut *self.stage.get() };
        match std::mem::replace(stage, Stage::Consumed) {
            Stage::Finished(output) => Poll::Ready(output),
            _ => panic!(
                "JoinHandle polled after it returned Ready; a JoinHandle yields its output once"
            ),
        }
    }

    fn drop_join_handle(&self) {
        if self.header.state.drop_join_handle().is_complete() {
            // SAFETY: COMPLETE was set while JOIN_INTEREST was still ours, so the stage
            // belongs to the JoinHandle, which is being dropped: no one else touches it.
            unsafe { self.drop_output() };
        }
    }
}

impl<F> ArcWake for Cell<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn wake_by_ref(arc_self: &Arc<Self>) {
        if arc_self.header.state.transition_to_notified() == Submit::Yes {
            schedule(arc_self.clone(), Kind::Wake);
        }
    }

    fn wake(self: Arc<Self>) {
        if self.header.state.transition_to_notified() == Submit::Yes {
            schedule(self, Kind::Wake);
        }
    }
}
