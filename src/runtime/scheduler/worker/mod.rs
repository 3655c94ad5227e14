//! The multi-thread scheduler: one worker thread per core, each with a local queue.
//!
//! Where a worker looks for its next task, in order:
//! 1. every `GLOBAL_QUEUE_INTERVAL` ticks, the shared injector first (so remote spawns are
//!    never starved by a busy local queue);
//! 2. its LIFO slot: the task it just woke or spawned, so message ping-pong and chains of
//!    spawns stay hot in cache, at most `LIFO_LIMIT` times in a row;
//! 3. its local queue, then a batch from the injector;
//! 4. its deferred tasks (below), after a steal from another worker's queue if it is longer
//!    than the deferred list, and a look at the driver;
//! 5. searching: half of another worker's queue, then the injector again;
//! 6. parking: in the driver when it is free, on a condvar otherwise.
//!
//! Yielding: a task that yields (or was woken during its own poll, or ran out of coop budget)
//! is not queued but *deferred*: it waits in the worker's `deferred` list until the local
//! queue and the injector are empty, and then the driver is polled (timers, I/O; skipped if
//! this worker polled it less than `DRIVER_POLL_GAP` ago) before it goes back to the local
//! queue. So tasks that yield in a loop never overtake remote spawns,
//! timers or sockets: a busy worker empties the injector in batches and looks at the driver
//! at least once per round of its yielders, which bounds the latency of remote spawns, timers
//! and I/O by one such round instead of `GLOBAL_QUEUE_INTERVAL` or `EVENT_INTERVAL` polls.
//! So that a steady stream of other work cannot starve them, deferred tasks that waited
//! `DEFER_LIMIT` ticks go back to the local queue at the next maintenance tick (also right
//! after a driver poll). tokio defers yielded tasks too, but wakes them at every maintenance
//! tick; async-executor sends every wake-up through its global queue (a shared-queue push
//! per yield) — both run yielders and remote work in turns; this keeps the yielders off the
//! worker until the remote work is done, for at most `DEFER_LIMIT` ticks.
//!
//! Waking: a task pushed to a local queue (or the injector) wakes one parked worker, and only
//! when no worker is searching already (`idle.rs`). A task entering the LIFO slot wakes
//! nobody: this worker runs it next, and only the one it bumps to the queue is worth another
//! worker. (A spawn went to the queue and woke a sleeper for each link of a spawn chain:
//! chained_spawn/multi was 1.07-1.10 of tokio, 0.78-0.80 since.) If the poll that put it
//! there does not end, the rescue patrol takes it (`rescue.rs`). A searching worker that
//! finds work wakes the next one if it was the last searcher, so work spreads without a
//! thundering herd.
//!
//! Hand-off: `block_in_place` takes the `Core` (queues, LIFO slot, parker) out of the
//! thread-local context and starts a new worker thread on it (`hand_off`, and the design
//! note in `runtime/block_in_place.rs`); the old thread finds no core when its poll returns
//! and leaves the loop.
//!
//! Shutdown: `is_shutdown` is set and every worker unparked; each drops the references in its
//! queues (its `Core`'s `Drop` drains them: the buffer outlives the worker, shared with its
//! stealer) and exits. The runtime then cancels every owned task on the dropping thread and
//! empties the injector; a task queued remotely after that empties it again itself
//! (`schedule_remote`), so no queue keeps a task — and through it the runtime — alive.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{Acquire, SeqCst};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::runtime::block_on::{self, ThreadWaker, Until};
use crate::runtime::builder::Intervals;
use crate::runtime::context;
use crate::runtime::local::LocalQueue;
use crate::runtime::metrics::SchedulerStats;
use crate::runtime::park::Parker;
use crate::runtime::scheduler::idle::Idle;
use crate::runtime::scheduler::owned::Released;
use crate::runtime::scheduler::queue::{Injector, Stealer, Worker};
use crate::runtime::scheduler::rescue::{LifoSlot, Rescue};
use crate::runtime::watchdog::Beats;
use crate::runtime::{driver, Handle};
use crate::task::cell::Task;

mod queues;
mod run;

pub(crate) use run::{hand_off, launch, HandOff};

// `GLOBAL_QUEUE_INTERVAL` (ticks between checks of the injector before the local queue,
// default 61 like tokio's) and `EVENT_INTERVAL` (ticks between non-blocking polls of the
// driver by a busy worker, default 61) are `Builder` settings, kept in each `Core`.
/// Rounds of `park::spin` a searching worker keeps stealing before it parks.
const SEARCH_SPIN_ROUNDS: u32 = 64;
/// `DEFER_LIMIT`, the ticks a yielded task may wait in the deferred list while there is
/// other work before a maintenance tick sends it back to the local queue, is this many
/// `EVENT_INTERVAL`s.
const DEFER_ROUNDS: u32 = 4;
/// A worker whose only work is deferred tasks polls the driver before running them again,
/// unless it did so less than this long ago: a lone task yielding in a loop then costs a
/// clock read per round instead of a syscall, and timers and sockets still wait at most this
/// long (plus one round) for a yielding worker.
const DRIVER_POLL_GAP: Duration = Duration::from_micros(50);
/// Consecutive polls from the LIFO slot before it yields to the queue.
const LIFO_LIMIT: u8 = 3;
/// Most deferred tasks `flush_deferred` moves into the local queue at once; the rest follow
/// as it empties. crossbeam's deque starts with 64 slots: a flush that grew it past them made
/// it shrink again as it emptied, an allocation, a copy and an epoch flush each way, once per
/// round of the yielders (8.6% of yield_many's instructions on 2 workers).
const FLUSH_ROOM: usize = 64;

/// The multi-thread scheduler: what its workers share.
pub(crate) struct MultiThread {
    injector: Injector<Task>,
    stealers: Box<[Stealer<Task>]>,
    idle: Idle,
    is_shutdown: AtomicBool,
    /// Worker threads still running, and the condvar the shutdown waits on.
    alive: Mutex<usize>,
    exited: Condvar,
    threads: Mutex<Vec<thread::JoinHandle<()>>>,
    /// Threads inside `block_on` on this runtime, for the paused clock's idle check.
    block_on_threads: Mutex<Vec<Arc<ThreadWaker>>>,
    intervals: Intervals,
    /// Counters for `Handle::metrics`, one `WorkerStats` per worker.
    pub(crate) stats: SchedulerStats,
    /// One poll beat per worker, sampled by the long-poll watchdog; `None` when it is off.
    beats: Option<Arc<Beats>>,
    /// The LIFO slots, and the patrol that empties those of stuck workers (`rescue.rs`).
    rescue: Rescue<Task>,
}

/// What one worker thread owns, kept in its thread-local context.
pub(crate) struct Core {
    /// Address of the runtime's shared state, to recognise its own tasks.
    runtime: usize,
    index: usize,
    queue: Worker<Task>,
    lifo: LifoSlot<Task>,
    lifo_polls: u8,
    /// Tasks that yielded, waiting for the next driver poll (see the module docs). Only this
    /// worker touches it; empty whenever the worker searches or parks.
    deferred: Vec<Task>,
    /// `tick` when `deferred` last became non-empty.
    deferred_since: u32,
    /// How many tasks at the front of `deferred` are flushed already (the driver was polled
    /// after they yielded) and wait only for room in the local queue (`FLUSH_ROOM`).
    flushed: usize,
    /// When this worker last polled the driver before flushing `deferred`.
    driver_polled: Instant,
    tick: u32,
    /// `GLOBAL_QUEUE_INTERVAL`, `EVENT_INTERVAL` and `DEFER_LIMIT` of this runtime.
    global_queue_interval: u32,
    event_interval: u32,
    defer_limit: u32,
    /// Ticks left until the next injector check and the next maintenance (`countdown`).
    until_global_queue: u32,
    until_event: u32,
    searching: bool,
    /// Set while the worker parks. Tasks its own driver turn wakes then go to the stealable
    /// queue, not the LIFO slot: other threads cannot see the slot, and a paused clock whose
    /// idle check missed them would jump past their deadline order.
    parked: bool,
    rand: u32,
    handle: Handle,
    /// This worker's parker: it moves with the core when `block_in_place` hands it on.
    parker: Arc<Parker>,
    /// Completed tasks of other owned-set shards, removed in batches (`owned.rs`).
    released: Released,
    /// Local tasks pinned to this worker's thread (`runtime/local/`); never stolen.
    pub(crate) local: LocalQueue,
}

/// The per-worker pieces made before the threads start.
pub(crate) struct Launch {
    workers: Vec<(Worker<Task>, LifoSlot<Task>, Parker)>,
}

impl MultiThread {
    pub(crate) fn new(
        num_workers: usize,
        intervals: Intervals,
        beats: Option<Arc<Beats>>,
    ) -> (MultiThread, Launch) {
        let (idle, parkers) = Idle::new(num_workers);
        let mut workers = Vec::with_capacity(num_workers);
        let mut stealers = Vec::with_capacity(num_workers);
        let mut lifo_stealers = Vec::with_capacity(num_workers);
        for parker in parkers {
            // FIFO: a yielded task or one bumped from the LIFO slot goes behind the tasks
            // already queued. (A LIFO deque would pop it straight back and starve them.)
            let queue = Worker::new_fifo();
            stealers.push(queue.stealer());
            let (lifo, lifo_stealer) = LifoSlot::new();
            lifo_stealers.push(lifo_stealer);
            workers.push((queue, lifo, parker));
        }
        let shared = MultiThread {
            injector: Injector::new(),
            stealers: stealers.into_boxed_slice(),
            idle,
            is_shutdown: AtomicBool::new(false),
            alive: Mutex::new(0),
            exited: Condvar::new(),
            threads: Mutex::new(Vec::new()),
            block_on_threads: Mutex::new(Vec::new()),
            intervals,
            stats: SchedulerStats::new(num_workers),
            beats,
            rescue: Rescue::new(lifo_stealers),
        };
        (shared, Launch { workers })
    }

    /// Wakes worker `index` for a local task queued in its inbox.
    pub(crate) fn unpark_worker(&self, index: usize, driver: &driver::DriverHandle) {
        self.idle.unpark_worker(index, driver);
    }

    /// Queues a task from a thread that is not one of this runtime's workers.
    pub(crate) fn schedule_remote(&self, task: Task, handle: &Handle) {
        self.injector.push(task);
        if self.is_shutdown.load(SeqCst) {
            // Shutdown may have drained the injector already: drop what we added.
            drop(self.injector.take_all());
            return;
        }
        self.notify_parked(&handle.shared.driver_handle);
    }

    /// Wakes one parked worker if the idle accounting says one should wake.
    fn notify_parked(&self, driver: &driver::DriverHandle) {
        self.idle.notify_one(driver);
    }

    fn has_queued_work(&self) -> bool {
        !self.injector.is_empty() || self.stealers.iter().any(|s| !s.is_empty())
    }

    /// Stops every worker and waits for them to exit, until `deadline` if one is given.
    /// Returns `false` when some worker is still running at the deadline (a task blocks it).
    pub(crate) fn shutdown(
        &self,
        driver: &driver::DriverHandle,
        deadline: Option<Instant>,
    ) -> bool {
        self.is_shutdown.store(true, SeqCst);
        self.idle.unpark_all(driver);
        let mut alive = self.alive.lock();
        while *alive > 0 {
            match deadline {
                Some(deadline) => {
                    if self.exited.wait_until(&mut alive, deadline).timed_out() {
                        return false;
                    }
                }
                None => self.exited.wait(&mut alive),
            }
        }
        drop(alive);
        for thread in self.threads.lock().drain(..) {
            // A worker that panicked outside a task already reported it; nothing to add.
            let _ = thread.join();
        }
        true
    }

    /// True when nothing can run: every worker parked, no task queued, every `block_on`
    /// thread asleep and not woken. The paused clock auto-advances only then.
    pub(crate) fn is_idle(&self) -> bool {
        self.idle.all_parked()
            && !self.has_queued_work()
            && self.block_on_threads.lock().iter().all(|t| t.is_idle())
    }

    /// Lists a `block_on` thread until the guard drops.
    pub(crate) fn register_block_on(&self, waker: &Arc<ThreadWaker>) -> BlockOnGuard<'_> {
        self.block_on_threads.lock().push(waker.clone());
        BlockOnGuard {
            shared: self,
            waker: waker.clone(),
        }
    }

    /// Wakes every thread inside `block_on` on this runtime (a task panic shut it down: they
    /// must look), outside the lock.
    pub(crate) fn wake_block_on_threads(&self) {
        let threads = self.block_on_threads.lock().clone();
        for thread in &threads {
            futures_task::ArcWake::wake_by_ref(thread);
        }
    }

    /// Whether this thread is one of the runtime's worker threads, or one that left the
    /// worker role in `block_in_place` and has not ended.
    pub(crate) fn is_worker_thread(&self) -> bool {
        let me = thread::current().id();
        self.threads.lock().iter().any(|t| t.thread().id() == me)
    }

    /// Tasks in the injector (`RuntimeMetrics::global_queue_depth`).
    pub(crate) fn injector_len(&self) -> usize {
        self.injector.len()
    }

    /// Tasks in worker `index`'s local queue (`RuntimeMetrics::worker_local_queue_depth`).
    pub(crate) fn local_queue_len(&self, index: usize) -> usize {
        self.stealers[index].len()
    }

    /// Whether `shutdown` has begun.
    pub(crate) fn is_shut_down(&self) -> bool {
        self.is_shutdown.load(Acquire)
    }

    /// Drops every task reference still queued in the injector.
    pub(crate) fn drain_injector(&self) {
        drop(self.injector.take_all());
    }
}

/// Takes a `block_on` thread off the list when its `block_on` returns.
pub(crate) struct BlockOnGuard<'a> {
    shared: &'a MultiThread,
    waker: Arc<ThreadWaker>,
}

impl Drop for BlockOnGuard<'_> {
    fn drop(&mut self) {
        let mut threads = self.shared.block_on_threads.lock();
        if let Some(pos) = threads.iter().position(|t| Arc::ptr_eq(t, &self.waker)) {
            threads.swap_remove(pos);
        }
    }
}

/// `block_on` for the multi-thread flavour: polls `future` on this thread, sleeping between
/// wake-ups, while the workers run the tasks.
#[track_caller]
pub(crate) fn block_on<F: Future>(handle: &Handle, future: F) -> F::Output {
    crate::runtime::panic::check(handle);
    if handle.multi_thread().is_shut_down() {
        // No worker is left to drive I/O and timers: the future could wait for ever.
        panic!("{}", context::SHUT_DOWN_BLOCK_ON);
    }
    let _enter = context::enter_runtime(handle);
    let future = pin!(future);
    let thread_waker = block_on::thread_waker();
    let _registered = handle.multi_thread().register_block_on(&thread_waker);
    // A task panic that shuts the runtime down is resumed here (`runtime/panic.rs`).
    let panicked = || handle.shared.panics.has_shut_down().then_some(());
    match block_on::poll_until(handle, &thread_waker, future, panicked) {
        Until::Ready(output) => output,
        Until::Stopped(()) => crate::runtime::panic::resume(handle),
    }
}
