//! The two schedulers, and how a runtime's `Handle` queues its tasks for them.
//!
//! `Handle::schedule` (the `Schedule` seam of `task/`) is called on spawn, wake, yield and
//! abort. On a thread that runs the task's own runtime (a worker, or the thread inside a
//! current-thread `block_on`) the task goes to that thread's local queue; from anywhere
//! else it goes to the runtime's shared queue and one sleeping thread is woken if needed.
//! A task that panics is reported through `Handle::panicked` (`runtime/panic.rs`).

pub(crate) mod current_thread;
mod idle;
#[cfg(all(test, flywheel_loom))]
mod loom_idle;
#[cfg(all(test, flywheel_loom))]
mod loom_owned;
pub(crate) mod owned;
mod queue;
mod rescue;
pub(crate) mod seeded;
pub(crate) mod worker;

use std::any::Any;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use crate::runtime::{context, Handle};
pub(crate) use crate::task::schedule::Reason;
use crate::task::schedule::{Header, Schedule, Task, NOT_OWNED};

/// The scheduler-specific part of a runtime.
pub(crate) enum Scheduler {
    CurrentThread(current_thread::CurrentThread),
    MultiThread(worker::MultiThread),
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

/// A runtime's tasks are scheduled through its `Handle`: from one of its own threads to that
/// thread's local queue, from anywhere else to its shared queue. A task completes by leaving
/// the runtime's owned set.
impl Schedule for Handle {
    fn schedule(&self, task: Task, reason: Reason) {
        let runtime = Arc::as_ptr(&self.shared);
        let task = context::with_core(move |core| match core {
            Some(Core::MultiThread(core)) if core.runs(runtime) => {
                core.schedule_local(task, reason)
            }
            Some(Core::CurrentThread(core)) if core.runs(runtime) => {
                core.schedule_local(task, reason)
            }
            _ => Some(task),
        });
        if let Some(task) = task {
            // `self` outlives the push (a worker may run and free the task at once): the
            // caller holds a reference to the task, which holds the runtime, or to the
            // runtime itself.
            match &self.shared.scheduler {
                Scheduler::CurrentThread(ct) => ct.schedule_remote(task, self),
                Scheduler::MultiThread(mt) => mt.schedule_remote(task, self),
            }
        }
    }

    fn runs_here(&self) -> bool {
        let runtime = Arc::as_ptr(&self.shared);
        context::with_core(|core| match core {
            Some(Core::MultiThread(core)) => core.runs(runtime),
            Some(Core::CurrentThread(core)) => core.runs(runtime),
            None => false,
        })
    }

    fn schedule_here(task: Task, reason: Reason) {
        let rest = context::with_core(move |core| match core {
            Some(Core::MultiThread(core)) => core.schedule_local(task, reason),
            Some(Core::CurrentThread(core)) => core.schedule_local(task, reason),
            None => Some(task),
        });
        // Local queues always take the task; the core was there a moment ago.
        assert!(
            rest.is_none(),
            "schedule_here without a core on this thread"
        );
    }

    fn release(&self, task: &Header) {
        let key = task.owned_key.load(Relaxed);
        if key != NOT_OWNED {
            self.shared.owned.remove(key);
        }
    }

    fn panicked(&self, task: &Header, payload: Box<dyn Any + Send>) -> Box<dyn Any + Send> {
        crate::runtime::panic::task_panicked(self, task, payload)
    }
}
