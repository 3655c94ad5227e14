//! The counters behind `RuntimeMetrics`: one `WorkerStats` per worker, each written only by
//! its worker's thread (relaxed atomics, its own cache line), grouped in `SchedulerStats`.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::Arc;
use std::time::Instant;

use crate::runtime::scheduler::Scheduler;
use crate::runtime::Handle;

/// Counters of one worker (on current-thread: the thread driving `block_on`).
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct WorkerStats {
    pub(super) polls: AtomicU64,
    pub(super) parks: AtomicU64,
    pub(super) park_unparks: AtomicU64,
    pub(super) steals: AtomicU64,
    pub(super) busy_ns: AtomicU64,
    /// Nanoseconds after `SchedulerStats::epoch` when the current busy period began.
    pub(super) busy_since: AtomicU64,
    /// Length of the local run queue, stored by the owner (current-thread only: the
    /// multi-thread queue reports its own length).
    pub(super) local_depth: AtomicUsize,
}

/// The counters of one scheduler: one `WorkerStats` per worker, plus runtime-wide ones.
#[derive(Debug)]
pub(crate) struct SchedulerStats {
    pub(super) epoch: Instant,
    /// Shared so a current-thread `Core` can hold its own without a lookup per task.
    pub(super) workers: Box<[Arc<WorkerStats>]>,
    pub(super) forced_yields: AtomicU64,
}

impl SchedulerStats {
    pub(crate) fn new(num_workers: usize) -> SchedulerStats {
        SchedulerStats {
            epoch: Instant::now(),
            workers: (0..num_workers).map(|_| Arc::default()).collect(),
            forced_yields: AtomicU64::new(0),
        }
    }

    pub(crate) fn worker(&self, index: usize) -> &WorkerStats {
        &self.workers[index]
    }

    /// Worker `index`'s counters, for a core to keep.
    pub(crate) fn worker_arc(&self, index: usize) -> Arc<WorkerStats> {
        self.workers[index].clone()
    }

    fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    /// Worker `index` is about to park: counts it and ends its busy period.
    pub(crate) fn park(&self, index: usize) {
        let w = &self.workers[index];
        self.end_busy(index);
        w.parks.store(w.parks.load(Relaxed) + 1, Relaxed);
        w.park_unparks
            .store(w.park_unparks.load(Relaxed) + 1, Relaxed);
    }

    /// Worker `index` is back from parking: counts it and starts a busy period.
    pub(crate) fn unpark(&self, index: usize) {
        let w = &self.workers[index];
        w.park_unparks
            .store(w.park_unparks.load(Relaxed) + 1, Relaxed);
        self.start_busy(index);
    }

    /// Worker `index` starts running tasks (after an unpark, or entering `block_on`).
    pub(crate) fn start_busy(&self, index: usize) {
        self.workers[index].busy_since.store(self.now_ns(), Relaxed);
    }

    /// Worker `index` stops running tasks: adds the busy period to its total.
    pub(crate) fn end_busy(&self, index: usize) {
        let w = &self.workers[index];
        let spent = self.now_ns().saturating_sub(w.busy_since.load(Relaxed));
        w.busy_ns.store(w.busy_ns.load(Relaxed) + spent, Relaxed);
    }

    /// A cooperative budget ran out and made a task yield.
    pub(crate) fn forced_yield(&self) {
        self.forced_yields.fetch_add(1, Relaxed);
    }
}

impl WorkerStats {
    /// One task poll by this worker (only the owner calls it).
    #[inline]
    pub(crate) fn poll(&self) {
        self.polls.store(self.polls.load(Relaxed) + 1, Relaxed);
    }

    /// Polls started so far. The rescue patrol (`scheduler/rescue.rs`) reads it as the
    /// worker's heartbeat: it must keep changing at every poll.
    pub(crate) fn poll_count(&self) -> u64 {
        self.polls.load(Relaxed)
    }

    /// Whether the worker is parked (`park_unparks` is odd).
    pub(crate) fn is_parked(&self) -> bool {
        self.park_unparks.load(Relaxed) % 2 == 1
    }

    /// `n` tasks stolen from other workers' queues.
    pub(crate) fn stole(&self, n: usize) {
        self.steals
            .store(self.steals.load(Relaxed) + n as u64, Relaxed);
    }

    /// The owner's local run queue now holds `n` tasks.
    #[inline]
    pub(crate) fn set_local_depth(&self, n: usize) {
        self.local_depth.store(n, Relaxed);
    }
}

/// Counts a cooperative budget running out, on the runtime entered on this thread.
pub(crate) fn count_forced_yield() {
    crate::runtime::context::with_current(|handle| {
        if let Some(handle) = handle {
            stats(handle).forced_yield();
        }
    });
}

pub(super) fn stats(handle: &Handle) -> &SchedulerStats {
    match &handle.shared.scheduler {
        Scheduler::CurrentThread(ct) => &ct.stats,
        Scheduler::MultiThread(mt) => &mt.stats,
    }
}
