//! Where a worker keeps its runnable local tasks (`LocalQueue`, never stolen from), and how
//! `spawn_local` finds the calling thread's `LocalTasks`.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::runtime::scheduler::Core;
use crate::runtime::{context, Handle, RuntimeFlavor};
use crate::task::cell::Task;

use super::{LocalTasks, Target, SPAWN_LOCAL_OUTSIDE};

/// A worker's runnable local tasks: its own queue, which no other worker steals from.
#[derive(Default)]
pub(crate) struct LocalQueue {
    tasks: Option<Arc<LocalTasks>>,
    queue: VecDeque<Task>,
}

impl LocalQueue {
    /// Whether this worker ever spawned a local task (it then looks at this queue).
    #[inline]
    pub(crate) fn is_active(&self) -> bool {
        self.tasks.is_some()
    }

    /// This worker's local tasks, made on first use.
    pub(crate) fn tasks(&mut self, handle: &Handle, index: usize) -> Arc<LocalTasks> {
        match &self.tasks {
            Some(tasks) if tasks.is_owner() => tasks.clone(),
            _ => {
                let tasks = LocalTasks::new(handle, Target::Worker(index));
                self.tasks = Some(tasks.clone());
                tasks
            }
        }
    }

    pub(crate) fn push(&mut self, task: Task) {
        self.queue.push_back(task);
    }

    /// The next local task to run: first what other threads queued, then in FIFO order.
    pub(crate) fn next(&mut self) -> Option<Task> {
        let tasks = self.tasks.as_ref()?;
        tasks.take_inbox(&mut self.queue);
        self.queue.pop_front()
    }

    /// Whether a local task is ready to run.
    pub(crate) fn has_work(&self) -> bool {
        !self.queue.is_empty() || self.tasks.as_ref().is_some_and(|t| t.has_inbox())
    }

    /// Whether the worker's thread must stay its owner (`block_in_place` then keeps it).
    pub(crate) fn has_tasks(&self) -> bool {
        self.tasks.as_ref().is_some_and(|t| t.has_tasks())
    }

    /// Forgets the (finished) local tasks, before the worker's core moves to another
    /// thread; returns what to drop once out of the thread-local borrow.
    pub(crate) fn detach(&mut self) -> (Option<Arc<LocalTasks>>, VecDeque<Task>) {
        if let Some(tasks) = &self.tasks {
            tasks.shutdown();
        }
        (self.tasks.take(), std::mem::take(&mut self.queue))
    }
}

impl Drop for LocalQueue {
    /// The worker exits (on its own thread): its local futures are dropped here.
    fn drop(&mut self) {
        if let Some(tasks) = &self.tasks {
            tasks.shutdown();
        }
        self.queue.clear();
    }
}

/// The calling thread's local tasks on the runtime it runs, for `spawn_local`.
///
/// # Panics
///
/// Where this thread runs no local tasks (see `SPAWN_LOCAL_OUTSIDE`).
#[track_caller]
pub(crate) fn current_local_tasks() -> Arc<LocalTasks> {
    let worker = context::with_core(|core| match core {
        Some(Core::MultiThread(core)) => Some(core.local_tasks()),
        _ => None,
    });
    if let Some(tasks) = worker {
        return tasks;
    }
    // A current-thread runtime keeps its local tasks itself: this thread must be driving
    // it, or be the owner of its local tasks (a `LocalRuntime` entered outside `block_on`).
    let found = match context::try_current() {
        Some(handle) if handle.runtime_flavor() == RuntimeFlavor::CurrentThread => {
            handle.shared.current_thread().local_tasks(&handle)
        }
        _ => Err(SPAWN_LOCAL_OUTSIDE),
    };
    match found {
        Ok(tasks) => tasks,
        Err(message) => panic!("{message}"),
    }
}
