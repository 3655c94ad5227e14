//! A worker's `Core`: where it queues its own tasks (LIFO slot, local queue, deferred
//! yielders) and where it looks for the next one, stealing included, in the order the docs
//! of `worker` give.

use std::sync::Arc;

use crate::runtime::local::LocalTasks;
use crate::runtime::scheduler::owned::OwnedTasks;
use crate::runtime::scheduler::queue::{steal_any, steal_injector, INJECTOR_BATCH};
use crate::runtime::scheduler::{self, Reason};
use crate::task::cell::Task;

use super::{Core, MultiThread, FLUSH_ROOM, LIFO_LIMIT};

impl Core {
    /// Whether this core belongs to the runtime whose shared state is at `runtime`.
    pub(crate) fn runs(&self, runtime: *const crate::runtime::RuntimeShared) -> bool {
        self.runtime == runtime as usize
    }

    /// This worker's local tasks (`spawn_local`), made on first use.
    pub(crate) fn local_tasks(&mut self) -> Arc<LocalTasks> {
        self.local.tasks(&self.handle, self.index)
    }

    /// This worker's index, if `owned` is its runtime's owned set.
    pub(crate) fn worker_of(&self, owned: &OwnedTasks) -> Option<usize> {
        std::ptr::eq(&self.handle.shared.owned, owned).then_some(self.index)
    }

    /// Removes a completed task of another owned-set shard, in a batch with others.
    pub(crate) fn release_owned(&mut self, key: usize) {
        self.released.push(key, &self.handle.shared.owned);
    }

    /// Queues a task on this worker. Always succeeds (returns `None`).
    pub(crate) fn schedule_local(&mut self, task: Task, reason: Reason) -> Option<Task> {
        match reason {
            Reason::Wake | Reason::Spawn if self.parked => self.push_stealable(task),
            Reason::Wake | Reason::Spawn => {
                if let Some(prev) = self.lifo.replace(task) {
                    self.push_stealable(prev);
                }
            }
            Reason::Yield => {
                if self.deferred.len() == self.flushed {
                    self.deferred_since = self.tick;
                }
                self.deferred.push(task);
            }
        }
        None
    }

    /// Queues a task where idle workers can steal it, and wakes one if needed.
    pub(super) fn push_stealable(&mut self, task: Task) {
        self.queue.push(task);
        let shared = &self.handle.shared;
        shared.multi_thread().notify_parked(&shared.driver_handle);
    }

    /// Moves the deferred tasks to the local queue; the caller has just polled the driver.
    pub(super) fn flush_deferred(&mut self, mt: &MultiThread) {
        self.flushed = self.deferred.len();
        self.refill(mt);
    }

    /// Moves flushed tasks into the local queue while it has fewer than `FLUSH_ROOM`.
    /// Returns whether it moved any.
    pub(super) fn refill(&mut self, mt: &MultiThread) -> bool {
        let room = FLUSH_ROOM.saturating_sub(self.queue.len());
        let n = self.flushed.min(room);
        if n == 0 {
            return false;
        }
        for task in self.deferred.drain(..n) {
            self.queue.push(task);
        }
        self.flushed -= n;
        mt.notify_parked(&self.handle.shared.driver_handle);
        true
    }

    /// The next task to run, and whether it is time to poll the driver.
    pub(super) fn next_task(&mut self, mt: &MultiThread) -> (Option<Task>, bool) {
        self.tick = self.tick.wrapping_add(1);
        let maintenance = scheduler::countdown(&mut self.until_event, self.event_interval);
        if scheduler::countdown(&mut self.until_global_queue, self.global_queue_interval) {
            if let Some(task) = mt.injector.pop() {
                // The LIFO task waits behind this one, which may not yield for long: put it
                // where other workers can steal it.
                if let Some(woken) = self.lifo.take() {
                    self.push_stealable(woken);
                }
                return (Some(task), maintenance);
            }
        }
        // Local tasks (pinned here) get every other tick, and any tick with nothing else.
        if self.local.is_active() && self.tick & 1 == 0 {
            if let Some(task) = self.local.next() {
                return (Some(task), maintenance);
            }
        }
        if let Some(task) = self.lifo.take() {
            if self.lifo_polls < LIFO_LIMIT {
                self.lifo_polls += 1;
                return (Some(task), maintenance);
            }
            self.queue.push(task);
        }
        self.lifo_polls = 0;
        if let Some(task) = self.queue.pop() {
            return (Some(task), maintenance);
        }
        // Flushed tasks were queued before anything the injector holds now.
        if self.refill(mt) {
            return (self.queue.pop(), maintenance);
        }
        let task = steal_injector(&mt.injector, &self.queue, INJECTOR_BATCH, mt.stealers.len());
        (task.or_else(|| self.local.next()), maintenance)
    }

    /// Steals from the other workers, then the injector; gives up when too many workers
    /// search already.
    pub(super) fn search(&mut self, mt: &MultiThread) -> Option<Task> {
        if !mt.idle.start_searching(&mut self.searching) {
            return None;
        }
        let found = self.steal(mt, 0);
        if found.is_some() {
            self.stop_searching(mt);
        }
        found
    }

    /// Takes half of another worker's queue (one longer than `more_than`, if not 0), else a
    /// batch from the injector, starting at a random victim; counts what it took for the
    /// metrics.
    pub(super) fn steal(&mut self, mt: &MultiThread, more_than: usize) -> Option<Task> {
        // xorshift: a cheap varying start so workers do not all rob the same victim.
        self.rand ^= self.rand << 13;
        self.rand ^= self.rand >> 17;
        self.rand ^= self.rand << 5;
        let start = self.rand as usize % mt.stealers.len();
        let mut stolen = 0;
        let found = steal_any(
            &mt.stealers,
            self.index,
            start,
            more_than,
            &self.queue,
            &mt.injector,
            &mut stolen,
        );
        mt.stats.worker(self.index).stole(stolen);
        found
    }

    /// Takes half of another worker's queue (or a batch from the injector), without
    /// counting as searching: for a worker that has work of its own (yielded tasks) and so
    /// never searches, but must not leave tasks stranded behind a worker that stopped.
    /// Only from a queue longer than this worker's own yielded tasks: between workers that both
    /// run yielders in rounds, a steal at every round's end only moved tasks away from the
    /// cache that held them.
    pub(super) fn steal_queued(&mut self, mt: &MultiThread) -> Option<Task> {
        let found = self.steal(mt, self.deferred.len());
        if found.is_some() && !self.queue.is_empty() {
            // The rest of the stolen half is stealable here now: spread it if anyone sleeps.
            mt.notify_parked(&self.handle.shared.driver_handle);
        }
        found
    }

    /// This worker found work: it no longer searches (and wakes another worker if it was the
    /// last searcher, since there may be more work to spread).
    pub(super) fn stop_searching(&mut self, mt: &MultiThread) {
        mt.idle
            .stop_searching(&mut self.searching, &self.handle.shared.driver_handle);
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        // The local queue's buffer is shared with its `Stealer` in `MultiThread`, so dropping
        // the `Worker` half frees nothing: a task left in it would hold the runtime's handle, and
        // the runtime would hold the task, for ever. Only this worker pushes to its own queue
        // and it is exiting, so once drained it stays empty.
        drop(self.lifo.take());
        self.deferred.clear();
        self.flushed = 0;
        while self.queue.pop().is_some() {}
    }
}

#[cfg(all(test, not(flywheel_loom)))]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    use std::sync::Arc;

    use super::FLUSH_ROOM;

    /// More yielders than `FLUSH_ROOM` on one worker: each round enters the local queue a
    /// part at a time, so crossbeam's buffer never grows past its first 64 slots.
    #[test]
    fn a_long_round_of_yielders_is_queued_a_part_at_a_time() {
        let rt = crate::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .expect("a runtime");
        let metrics = rt.handle().metrics();
        let deepest = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let tasks: Vec<_> = (0..3 * FLUSH_ROOM)
                .map(|_| {
                    let (metrics, deepest) = (metrics.clone(), deepest.clone());
                    crate::spawn(async move {
                        for _ in 0..10 {
                            deepest.fetch_max(metrics.worker_local_queue_depth(0), Relaxed);
                            crate::task::yield_now().await;
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("the task ran");
            }
        });
        let deepest = deepest.load(Relaxed);
        assert!(deepest > 0, "the yielders were queued locally");
        assert!(deepest <= FLUSH_ROOM, "local queue {deepest} deep");
    }
}
