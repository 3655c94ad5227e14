//! Stable runtime metrics: `Handle::metrics()` and the counters behind it.
//!
//! Names and meanings follow tokio's `RuntimeMetrics`. Each per-worker counter is written
//! only by the thread that owns the worker, with relaxed atomics, in its own cache line
//! (`WorkerStats`); busy time is flushed when the worker parks. Reading never takes a lock
//! that a worker takes on its scheduling path: counters and queue lengths are atomic loads.
//! The blocking pool numbers take the pool's lock (taken by `spawn_blocking`, not by the
//! scheduler loop), and `num_timers` the timer wheel's lock for one length read.
//!
//! Invariants: `park_unparks` is odd exactly while the worker is parked; `busy_since` is
//! only meaningful while it is even (the worker is busy).

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use crate::runtime::scheduler::Scheduler;
use crate::runtime::Handle;

mod stats;

use stats::stats;
pub(crate) use stats::{count_forced_yield, SchedulerStats, WorkerStats};

/// A view of a runtime's metrics, from [`Handle::metrics`]: counters that only grow, and
/// gauges read at the moment of the call.
///
/// The names and meanings are tokio's (`tokio::runtime::RuntimeMetrics`), all stable here.
/// Reading a metric never blocks a worker. Per-worker numbers take a worker index below
/// [`num_workers`](RuntimeMetrics::num_workers); on a current-thread runtime there is one
/// worker, index 0: the thread driving `block_on`.
///
/// # Examples
///
/// ```
/// let rt = flywheel::Builder::new_current_thread().build().unwrap();
/// let metrics = rt.handle().metrics();
/// rt.block_on(async {
///     let tasks: Vec<_> = (0..10).map(|i| flywheel::spawn(async move { i })).collect();
///     for task in tasks {
///         task.await.unwrap();
///     }
/// });
/// assert_eq!(metrics.num_workers(), 1);
/// assert_eq!(metrics.spawned_tasks_count(), 10);
/// assert_eq!(metrics.num_alive_tasks(), 0);
/// assert!(metrics.worker_poll_count(0) >= 10);
/// ```
#[derive(Clone, Debug)]
pub struct RuntimeMetrics {
    handle: Handle,
}

impl Handle {
    /// The runtime's metrics: task counts, queue depths and per-worker counters.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let metrics = flywheel::Handle::current().metrics();
    ///     assert!(metrics.num_workers() >= 1);
    /// });
    /// ```
    pub fn metrics(&self) -> RuntimeMetrics {
        RuntimeMetrics {
            handle: self.clone(),
        }
    }
}

impl RuntimeMetrics {
    fn stats(&self) -> &SchedulerStats {
        stats(&self.handle)
    }

    #[track_caller]
    fn worker(&self, worker: usize) -> &WorkerStats {
        let workers = &self.stats().workers;
        assert!(
            worker < workers.len(),
            "worker index {worker} out of range: the runtime has {} workers (see num_workers)",
            workers.len()
        );
        &workers[worker]
    }

    /// Number of worker threads (1 on a current-thread runtime).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    /// assert_eq!(rt.handle().metrics().num_workers(), 2);
    /// ```
    pub fn num_workers(&self) -> usize {
        self.stats().workers.len()
    }

    /// Number of tasks spawned and not yet finished (or dropped by shutdown). Blocking
    /// jobs are not counted. On a multi-thread runtime a worker removes the finished tasks
    /// that other threads spawned in batches of up to 32, and all of them before it sleeps:
    /// until then they still count here.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_current_thread().build().unwrap();
    /// let task = rt.spawn(async {});
    /// assert_eq!(rt.handle().metrics().num_alive_tasks(), 1);
    /// rt.block_on(task).unwrap();
    /// assert_eq!(rt.handle().metrics().num_alive_tasks(), 0);
    /// ```
    pub fn num_alive_tasks(&self) -> usize {
        self.handle.shared.owned.num_alive() + self.local_counts().0
    }

    /// Local tasks (`spawn_local`) live in their threads' own lists: (alive, ever spawned).
    fn local_counts(&self) -> (usize, u64) {
        let locals = self.handle.shared.locals.lock().clone();
        locals
            .iter()
            .filter_map(std::sync::Weak::upgrade)
            .map(|local| local.counts())
            .fold((0, 0), |(a, s), (alive, spawned)| (a + alive, s + spawned))
    }

    /// Total number of tasks spawned on this runtime since it was built (blocking jobs
    /// excluded).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Runtime::new().unwrap();
    /// rt.block_on(rt.spawn(async {})).unwrap();
    /// assert_eq!(rt.handle().metrics().spawned_tasks_count(), 1);
    /// ```
    pub fn spawned_tasks_count(&self) -> u64 {
        self.handle.shared.owned.num_spawned() + self.local_counts().1
    }

    /// Number of tasks waiting in the shared (injection) queue: spawned or woken from
    /// outside the runtime's threads and not yet taken by a worker.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_current_thread().build().unwrap();
    /// let _task = rt.spawn(async {});
    /// assert_eq!(rt.handle().metrics().global_queue_depth(), 1);
    /// ```
    pub fn global_queue_depth(&self) -> usize {
        match &self.handle.shared.scheduler {
            Scheduler::CurrentThread(ct) => ct.injector_len(),
            Scheduler::MultiThread(mt) => mt.injector_len(),
        }
    }

    /// Number of task polls worker `worker` has done.
    ///
    /// # Panics
    ///
    /// When `worker >= num_workers()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_current_thread().build().unwrap();
    /// rt.block_on(async { flywheel::spawn(async {}).await.unwrap() });
    /// assert!(rt.handle().metrics().worker_poll_count(0) >= 1);
    /// ```
    #[track_caller]
    pub fn worker_poll_count(&self, worker: usize) -> u64 {
        self.worker(worker).polls.load(Relaxed)
    }

    /// Number of times worker `worker` went to sleep for lack of work.
    ///
    /// # Panics
    ///
    /// When `worker >= num_workers()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_current_thread().build().unwrap();
    /// rt.block_on(flywheel::time::sleep(std::time::Duration::from_millis(1)));
    /// assert!(rt.handle().metrics().worker_park_count(0) >= 1);
    /// ```
    #[track_caller]
    pub fn worker_park_count(&self, worker: usize) -> u64 {
        self.worker(worker).parks.load(Relaxed)
    }

    /// Number of times worker `worker` parked plus the number of times it woke up: odd
    /// while it is parked, even while it runs.
    ///
    /// # Panics
    ///
    /// When `worker >= num_workers()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_current_thread().build().unwrap();
    /// rt.block_on(flywheel::time::sleep(std::time::Duration::from_millis(1)));
    /// // Not inside `block_on` any more: every park was followed by its unpark.
    /// assert_eq!(rt.handle().metrics().worker_park_unpark_count(0) % 2, 0);
    /// ```
    #[track_caller]
    pub fn worker_park_unpark_count(&self, worker: usize) -> u64 {
        self.worker(worker).park_unparks.load(Relaxed)
    }

    /// Number of tasks worker `worker` stole from other workers' queues, and from the LIFO
    /// slots of workers stuck in a long poll (always 0 on a current-thread runtime).
    ///
    /// # Panics
    ///
    /// When `worker >= num_workers()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_current_thread().build().unwrap();
    /// assert_eq!(rt.handle().metrics().worker_steal_count(0), 0);
    /// ```
    #[track_caller]
    pub fn worker_steal_count(&self, worker: usize) -> u64 {
        self.worker(worker).steals.load(Relaxed)
    }

    /// Total time worker `worker` spent running (not parked), up to its last park.
    ///
    /// # Panics
    ///
    /// When `worker >= num_workers()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = flywheel::Builder::new_current_thread().build().unwrap();
    /// rt.block_on(async { std::thread::sleep(Duration::from_millis(5)) });
    /// assert!(rt.handle().metrics().worker_total_busy_duration(0) >= Duration::from_millis(5));
    /// ```
    #[track_caller]
    pub fn worker_total_busy_duration(&self, worker: usize) -> Duration {
        Duration::from_nanos(self.worker(worker).busy_ns.load(Relaxed))
    }

    /// Number of tasks in worker `worker`'s local run queue (the LIFO slot and yielded
    /// tasks waiting for their turn excluded).
    ///
    /// # Panics
    ///
    /// When `worker >= num_workers()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_current_thread().build().unwrap();
    /// let metrics = rt.handle().metrics();
    /// rt.block_on(async move {
    ///     let _a = flywheel::spawn(async {});
    ///     let _b = flywheel::spawn(async {});
    ///     assert_eq!(metrics.worker_local_queue_depth(0), 2);
    /// });
    /// ```
    #[track_caller]
    pub fn worker_local_queue_depth(&self, worker: usize) -> usize {
        let stats = self.worker(worker);
        match &self.handle.shared.scheduler {
            Scheduler::CurrentThread(_) => stats.local_depth.load(Relaxed),
            Scheduler::MultiThread(mt) => mt.local_queue_len(worker),
        }
    }

    /// Number of times the cooperative budget ran out and forced a task to yield.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_current_thread().build().unwrap();
    /// assert_eq!(rt.handle().metrics().budget_forced_yield_count(), 0);
    /// ```
    pub fn budget_forced_yield_count(&self) -> u64 {
        self.stats().forced_yields.load(Relaxed)
    }

    /// Number of ready events the I/O driver has dispatched.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_current_thread().build().unwrap();
    /// assert_eq!(rt.handle().metrics().io_driver_ready_count(), 0);
    /// ```
    pub fn io_driver_ready_count(&self) -> u64 {
        self.handle.io().ready_count()
    }

    /// Number of timers (sleeps, timeouts, intervals) waiting in the timer wheel.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_current_thread().build().unwrap();
    /// assert_eq!(rt.handle().metrics().num_timers(), 0);
    /// ```
    pub fn num_timers(&self) -> usize {
        self.handle.time().num_timers()
    }

    /// Number of threads the blocking pool has, busy or idle.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Runtime::new().unwrap();
    /// rt.block_on(rt.spawn_blocking(|| ())).unwrap();
    /// assert!(rt.handle().metrics().num_blocking_threads() >= 1);
    /// ```
    pub fn num_blocking_threads(&self) -> usize {
        self.handle.shared.blocking.counts().threads
    }

    /// Number of blocking pool threads waiting for a job.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Runtime::new().unwrap();
    /// let metrics = rt.handle().metrics();
    /// assert!(metrics.num_idle_blocking_threads() <= metrics.num_blocking_threads());
    /// ```
    pub fn num_idle_blocking_threads(&self) -> usize {
        self.handle.shared.blocking.counts().idle
    }

    /// Number of blocking jobs queued and not yet started by a pool thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Runtime::new().unwrap();
    /// assert_eq!(rt.handle().metrics().blocking_queue_depth(), 0);
    /// ```
    pub fn blocking_queue_depth(&self) -> usize {
        self.handle.shared.blocking.counts().queued
    }
}
