//! The two schedulers and the hook through which a task gets (re)queued.
//!
//! `schedule` is called by the task cell on spawn, wake, yield and abort. On a thread that
//! runs the task's own runtime (a worker, or the thread inside a current-thread `block_on`)
//! the task goes to that thread's local queue; from anywhere else it goes to the runtime's
//! shared queue and one sleeping thread is woken if needed.

pub(crate) mod current_thread;
mod idle;
#[cfg(all(test, flywheel_loom))]
mod loom_idle;
#[cfg(all(test, flywheel_loom))]
mod loom_owned;
pub(crate) mod owned;
mod queue;
pub(crate) mod worker;

use std::sync::Arc;

use crate::runtime::context;
use crate::task::cell::Task;

/// Why a task is being queued; decides where in the local queue it goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A new task: back of the queue.
    Spawn,
    /// Woken by another task or an event: the LIFO slot, to run next while its data is hot.
    Wake,
    /// Yielded or woken during its own poll: back of the queue, behind everything else.
    Yield,
}

/// The scheduler-specific part of a runtime.
pub(crate) enum Flavor {
    CurrentThread(current_thread::Shared),
    MultiThread(worker::Shared),
}

/// The scheduler core a thread runs, kept in its thread-local context.
pub(crate) enum Core {
    CurrentThread(current_thread::Core),
    MultiThread(worker::Core),
}

/// Counts one tick down `left`; true, restarting it at `interval`, every `interval`-th
/// call: the `tick % interval == 0` of a `Builder` interval without a division per poll.
#[inline]
pub(crate) fn countdown(left: &mut u32, interval: u32) -> bool {
    *left -= 1;
    if *left == 0 {
        *left = interval;
        return true;
    }
    false
}

/// Queues `task` on its runtime.
pub(crate) fn schedule(task: Task, kind: Kind) {
    let handle = &task.header().handle;
    if task.header().blocking {
        let handle = handle.clone();
        handle.shared.blocking.schedule(task, &handle);
        return;
    }
    let runtime = Arc::as_ptr(&handle.shared);
    let task = context::with_core(move |core| match core {
        Some(Core::MultiThread(core)) if core.runs(runtime) => core.schedule_local(task, kind),
        Some(Core::CurrentThread(core)) if core.runs(runtime) => core.schedule_local(task, kind),
        _ => Some(task),
    });
    if let Some(task) = task {
        // The runtime must outlive the push (a worker may run and free the task at once):
        // hold the task, which holds the runtime, rather than clone the handle. The task's
        // count sits in its own, freshly touched, cache line; the handle's is shared by every
        // task of the runtime and bounces between the threads that spawn and complete them.
        let keep = task.clone();
        let handle = &keep.header().handle;
        match &handle.shared.flavor {
            Flavor::CurrentThread(ct) => ct.schedule_remote(task, handle),
            Flavor::MultiThread(mt) => mt.schedule_remote(task, handle),
        }
    }
}
