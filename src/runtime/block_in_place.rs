//! `block_in_place`: run blocking code on a worker thread after handing the worker's role
//! to a new thread, so that no task waits behind it.
//!
//! Design: a worker's role is its scheduler `Core` (local queue, LIFO slot, deferred tasks,
//! parker and idle index), kept in the thread-local context between polls. `block_in_place`
//! takes it out and starts a fresh worker thread that runs the ordinary worker loop with it;
//! the calling thread runs `f`, finishes the poll it is in, and then, finding no core, leaves
//! the worker loop and exits. tokio does the same hand-off but starts its workers on the
//! blocking pool, so its old worker thread returns to that pool; flywheel's workers are
//! dedicated threads counted by the multi-thread scheduler (`alive`, join handles), which
//! keeps shutdown's accounting in one place, at the price of one thread start per call
//! (tens of microseconds: small next to a blocking section worth moving off a worker).
//! Taking the core back after `f` would need the replacement to give it up mid-loop; not
//! worth it for a call that is meant to block for a long time.
//!
//! While `f` runs the thread counts as outside the runtime (the runtime stays current), so
//! `Handle::current().block_on(..)` works inside it, as in tokio.

use crate::runtime::context;
use crate::runtime::scheduler::worker::{self, HandOff};

/// Runs the blocking closure `f` on this thread, first handing this worker's queued tasks
/// and its place in the runtime to another thread so that nothing waits for `f`.
///
/// Called from a task of a multi-thread runtime, the worker's local queue and the task it
/// would have run next move to a newly started worker thread at once; this thread runs `f`,
/// then finishes the current poll of the calling task and exits, so the runtime keeps its
/// number of workers. Inside `f` the runtime is still current but the thread no longer
/// drives it: [`Handle::block_on`](crate::Handle::block_on) may be used there to wait for
/// async work. Other tasks keep running meanwhile, and so does the rest of the calling
/// task's future once `f` returns.
///
/// Prefer [`spawn_blocking`](crate::spawn_blocking) when the blocking code does not need to
/// borrow from the task: `block_in_place` costs a thread start per call, and it also
/// blocks the calling task (and anything it was polling, such as the other branches of a
/// `select`) until `f` returns. Outside any runtime, or when this thread already left its
/// worker role, `f` simply runs. When the runtime is shutting down, or the OS refuses a new
/// thread, `f` runs in place and this worker's queued tasks wait for it.
///
/// # Panics
///
/// On a current-thread runtime, in its tasks or its `block_on` future (no other thread
/// could run what `f` would stall): use `spawn_blocking(f).await` there instead. Directly
/// inside a multi-thread runtime's `block_on` future, `f` simply runs: that thread is not a
/// worker, and the workers keep going without it. A panic in
/// `f` propagates to the caller like any panic in the task; the worker role was already
/// handed on.
///
/// # Examples
///
/// ```
/// let rt = flywheel::Builder::new_multi_thread().worker_threads(2).build().unwrap();
/// let sum = rt.block_on(rt.spawn(async {
///     let data = vec![1u64, 2, 3];
///     // Borrows `data` from the task: `spawn_blocking` would need it moved in.
///     flywheel::task::block_in_place(|| data.iter().sum::<u64>())
/// }));
/// assert_eq!(sum.unwrap(), 6);
/// ```
#[track_caller]
pub fn block_in_place<F, R>(f: F) -> R
where
    F: FnOnce() -> R,
{
    match worker::hand_off() {
        HandOff::Refused => panic!("{}", context::BLOCK_IN_PLACE_NOT_WORKER),
        HandOff::Outside => f(),
        HandOff::Done => {
            // Restores `in_runtime` after `f`, even when it panics.
            let _outside = context::exit_runtime();
            f()
        }
    }
}
