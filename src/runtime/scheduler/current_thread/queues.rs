//! The current-thread `Core`: its run queue and deferred yielders, and the order in which
//! the thread inside `block_on` picks its next task (the docs of `current_thread`).

use std::sync::atomic::Ordering::Acquire;

use crate::runtime::scheduler::{self, Reason};
use crate::task::cell::Task;

use super::{Core, CurrentThread, INJECTOR_BATCH};

impl Core {
    pub(crate) fn runs(&self, runtime: *const crate::runtime::RuntimeShared) -> bool {
        self.runtime == runtime as usize
    }

    /// Queues a task on the `block_on` thread. Always succeeds (returns `None`).
    #[inline]
    pub(crate) fn schedule_local(&mut self, task: Task, reason: Reason) -> Option<Task> {
        match reason {
            Reason::Yield => self.deferred.push_back(task),
            Reason::Spawn | Reason::Wake => self.queue.push_back(task),
        }
        self.stats.set_local_depth(self.queue.len());
        None
    }

    /// The next task to run, `since_driver` polls after the driver was last looked at.
    /// `None` when the thread should look at the driver (only yielded tasks are left, and
    /// the driver is due) or park (nothing is left).
    pub(super) fn next_task(&mut self, ct: &CurrentThread, since_driver: u32) -> Option<Task> {
        if let Some(seeded) = &mut self.seeded {
            if seeded.yield_to_main(ct.woken.load(Acquire), self.queue.len()) {
                return None;
            }
        }
        self.tick = self.tick.wrapping_add(1);
        // Stored before the pop below, so one more than left while tasks remain; 0 at idle.
        self.stats
            .set_local_depth(self.queue.len().saturating_sub(1));
        let global_queue_due =
            scheduler::countdown(&mut self.until_global_queue, ct.intervals.global_queue);
        if let Some(local) = &self.local {
            if global_queue_due || self.queue.is_empty() {
                local.take_inbox(&mut self.queue);
            }
        }
        if global_queue_due || self.queue.is_empty() {
            if let Some(task) = self.take_injector_batch(ct) {
                return Some(task);
            }
        }
        if let Some(task) = self.pop() {
            return Some(task);
        }
        if self.deferred.is_empty() || since_driver >= ct.intervals.event {
            return None;
        }
        self.release_deferred();
        self.pop()
    }

    /// Takes the next task of the run queue: the first, or a drawn one when seeded.
    #[inline]
    fn pop(&mut self) -> Option<Task> {
        match &mut self.seeded {
            None => self.queue.pop_front(),
            Some(seeded) => seeded.pick(&mut self.queue),
        }
    }

    /// Seeded: whether a task goes before the woken `block_on` future (see `seeded`).
    pub(super) fn defer_main(&mut self) -> bool {
        let runnable = self.queue.len();
        self.seeded
            .as_mut()
            .is_some_and(|seeded| seeded.defer_main(runnable))
    }

    /// Takes a task from the injector, and up to `INJECTOR_BATCH - 1` more into the queue.
    #[inline(never)]
    fn take_injector_batch(&mut self, ct: &CurrentThread) -> Option<Task> {
        let queue = &mut self.queue;
        let first = ct
            .injector
            .pop_batch(INJECTOR_BATCH, 1, |task| queue.push_back(task))?;
        if self.seeded.is_some() {
            // The batch joins the runnable tasks, and the draw is over all of them.
            self.queue.push_back(first);
            return self.pop();
        }
        Some(first)
    }

    /// Moves the yielded tasks to the run queue, behind what is there.
    pub(super) fn release_deferred(&mut self) {
        if self.queue.is_empty() {
            // The usual case (every task yielded): no copying.
            std::mem::swap(&mut self.queue, &mut self.deferred);
        } else {
            self.queue.append(&mut self.deferred);
        }
    }
}
