//! The current-thread scheduler: every task runs on the thread inside `block_on`.
//!
//! The `Core` (the run queue) is held by one `block_on` thread at a time, in its
//! thread-local context. Tasks spawned or woken on that thread go to its queue; from any
//! other thread they go to the injector and the core's thread is unparked. Another thread
//! calling `block_on` meanwhile polls its own future on its own thread whenever it is woken
//! (so the two futures may wait on each other), and takes the core when it is handed back.
//!
//! Where the core's thread looks for work, in order:
//! 1. its `block_on` future, when woken (under the cooperative budget, like a task);
//! 2. every `GLOBAL_QUEUE_INTERVAL` ticks, a batch from the injector first;
//! 3. the run queue, then a batch from the injector;
//! 4. tasks that yielded: they wait in `deferred` until the run queue and the injector are
//!    empty, and go back to the run queue after a look at the driver if it was polled
//!    `EVENT_INTERVAL` or more ticks ago. So a task that keeps yielding never delays remote
//!    spawns, and timers and I/O wait at most `EVENT_INTERVAL` polls (tokio polls the driver
//!    before every round of yielded tasks; a lone task yielding in a loop would then pay an
//!    `epoll_wait` per yield);
//! 5. parking in the driver.
//!
//! Every `EVENT_INTERVAL` ticks (task polls and `block_on` polls) it also polls the driver
//! without blocking and releases the deferred tasks.
//!
//! Seeded (`Builder::seed`): the run queue is drawn from at random instead of popped in
//! order, and a woken `block_on` future takes part in the draw (step 1 may let tasks go
//! first). Everything else above is unchanged, and deterministic; see `seeded`.
//!
//! Shutdown: the core is dropped — at once when it is free, otherwise by the thread holding
//! it when its `block_on` returns — never put back, so no task reference outlives the
//! runtime in it (a task holds its runtime: that would be a cycle).

use std::collections::VecDeque;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{AcqRel, SeqCst};
use std::sync::Arc;

use futures_task::ArcWake;
use parking_lot::Mutex;

use crate::runtime::block_on::ThreadWaker;
use crate::runtime::builder::Intervals;
use crate::runtime::local::{self, LocalTasks};
use crate::runtime::metrics::{SchedulerStats, WorkerStats};
use crate::runtime::park::{Parker, Unparker};
use crate::runtime::scheduler;
use crate::runtime::scheduler::queue::Injector;
use crate::runtime::scheduler::seeded::Seeded;
use crate::runtime::watchdog::Beats;
use crate::runtime::{context, Handle};
use crate::task::cell::Task;

mod queues;
mod run;

pub(crate) use run::block_on;

/// Most tasks moved from the injector to the run queue at once.
const INJECTOR_BATCH: usize = 64;

/// The current-thread scheduler: what the threads calling `block_on` share.
pub(crate) struct CurrentThread {
    injector: Injector<Task>,
    parker: Parker,
    unparker: Unparker,
    /// The core, while no thread is inside `block_on` with it.
    core: Mutex<Option<Core>>,
    /// `block_on` threads waiting for the core (polling their own futures meanwhile).
    waiters: Mutex<Vec<Arc<ThreadWaker>>>,
    /// The core holder's `block_on` future was woken.
    woken: AtomicBool,
    is_shutdown: AtomicBool,
    /// Ticks between checks of the injector before the run queue (`GLOBAL_QUEUE_INTERVAL`),
    /// and between two non-blocking polls of the driver by a busy thread (`EVENT_INTERVAL`):
    /// `Builder::global_queue_interval` and `Builder::event_interval`.
    intervals: Intervals,
    /// `Builder::seed`: the core draws the next task with a PRNG seeded with it.
    seed: Option<u64>,
    /// Counters for `Handle::metrics`; worker 0 is the thread holding the core.
    pub(crate) stats: SchedulerStats,
    /// The poll beat of the thread holding the core, sampled by the long-poll watchdog;
    /// `None` when it is off.
    beats: Option<Arc<Beats>>,
    /// The runtime's local tasks, once a thread spawned one (or built a `LocalRuntime`):
    /// they belong to that thread (`runtime/local/`).
    local: Mutex<Option<Arc<LocalTasks>>>,
}

/// What the thread inside `block_on` owns.
pub(crate) struct Core {
    runtime: usize,
    queue: VecDeque<Task>,
    /// Tasks that yielded (or were woken during their own poll), waiting for their turn.
    deferred: VecDeque<Task>,
    tick: u32,
    /// Ticks left until the next injector check (`scheduler::countdown`).
    until_global_queue: u32,
    /// This thread's counters (worker 0 of `CurrentThread::stats`).
    stats: Arc<WorkerStats>,
    /// The PRNG of a seeded runtime; `None` takes the queue in order.
    seeded: Option<Seeded>,
    /// The runtime's local tasks while their owner holds the core: it takes their inbox.
    local: Option<Arc<LocalTasks>>,
}

impl CurrentThread {
    pub(crate) fn new(intervals: Intervals, beats: Option<Arc<Beats>>) -> CurrentThread {
        let (parker, unparker) = Parker::new();
        CurrentThread {
            injector: Injector::new(),
            parker,
            unparker,
            core: Mutex::new(None),
            waiters: Mutex::new(Vec::new()),
            woken: AtomicBool::new(false),
            is_shutdown: AtomicBool::new(false),
            intervals,
            seed: None,
            stats: SchedulerStats::new(1),
            beats,
            local: Mutex::new(None),
        }
    }

    /// Makes this a seeded scheduler (`Builder::seed`); before `install_core`.
    pub(crate) fn with_seed(mut self, seed: Option<u64>) -> CurrentThread {
        self.seed = seed;
        self
    }

    /// The seed it draws tasks with (`Handle::seed`).
    pub(crate) fn seed(&self) -> Option<u64> {
        self.seed
    }

    /// Makes the core, once the runtime's address is known.
    pub(crate) fn install_core(&self, runtime: *const crate::runtime::RuntimeShared) {
        *self.core.lock() = Some(Core {
            runtime: runtime as usize,
            queue: VecDeque::new(),
            deferred: VecDeque::new(),
            tick: 0,
            until_global_queue: self.intervals.global_queue,
            stats: self.stats.worker_arc(0),
            seeded: self.seed.map(Seeded::new),
            local: None,
        });
    }

    pub(crate) fn schedule_remote(&self, task: Task, handle: &Handle) {
        self.injector.push(task);
        if self.is_shutdown.load(SeqCst) {
            drop(self.injector.take_all());
            return;
        }
        self.unparker.unpark(&handle.shared.driver_handle);
    }

    /// Tasks in the injector (`RuntimeMetrics::global_queue_depth`).
    pub(crate) fn injector_len(&self) -> usize {
        self.injector.len()
    }

    /// Wakes the core holder's `block_on` future.
    pub(crate) fn wake_main(&self, handle: &crate::runtime::RuntimeShared) {
        // Only the wake that sets the flag unparks: the holder clears it before each poll
        // and checks it before it parks, so later ones would only repeat the unpark.
        if !self.woken.swap(true, AcqRel) {
            self.unparker.unpark(&handle.driver_handle);
        }
    }

    /// True when, seen from the parking core holder (whose queues are empty), nothing can
    /// run: the paused clock may auto-advance.
    pub(crate) fn is_idle(&self) -> bool {
        !self.woken.load(SeqCst)
            && self.injector.is_empty()
            && !self.local.lock().as_ref().is_some_and(|l| l.has_inbox())
            && self.waiters.lock().iter().all(|w| w.is_idle())
    }

    /// Stops accepting work and drops every queued reference (the runtime then cancels the
    /// owned tasks). A core held by a thread inside `block_on` is dropped by that thread.
    pub(crate) fn shutdown(&self) {
        self.is_shutdown.store(true, SeqCst);
        let core = self.core.lock().take();
        drop(core);
        // On their owner thread, the local futures are dropped here; elsewhere they leak.
        let local = self.local.lock().clone();
        if let Some(local) = local {
            local.shutdown();
        }
        drop(self.injector.take_all());
        // Waiters will never get the core: let them re-poll their futures, which end as the
        // drivers shut down.
        self.wake_waiters();
    }

    /// Unparks the core holder (a local task was queued for its owner).
    pub(crate) fn unpark_core(&self, runtime: &crate::runtime::RuntimeShared) {
        self.unparker.unpark(&runtime.driver_handle);
    }

    /// The runtime's local tasks, for `spawn_local` on this thread: made on first use by
    /// the thread holding the core; refused to other threads once made.
    pub(crate) fn local_tasks(&self, handle: &Handle) -> Result<Arc<LocalTasks>, &'static str> {
        let mut slot = self.local.lock();
        match &*slot {
            Some(tasks) if tasks.is_owner() => Ok(tasks.clone()),
            Some(_) => Err(local::SPAWN_LOCAL_OTHER_THREAD),
            None => {
                let runtime = Arc::as_ptr(&handle.shared);
                let made = context::with_core(|core| match core {
                    Some(scheduler::Core::CurrentThread(core)) if core.runs(runtime) => {
                        let tasks = LocalTasks::new(handle, local::Target::CurrentThread);
                        core.local = Some(tasks.clone());
                        Some(tasks)
                    }
                    _ => None,
                });
                let tasks = made.ok_or(local::SPAWN_LOCAL_OUTSIDE)?;
                *slot = Some(tasks.clone());
                Ok(tasks)
            }
        }
    }

    /// Gives the runtime's local tasks to the calling thread (`LocalRuntime`).
    pub(crate) fn bind_local_tasks(&self, handle: &Handle) -> Arc<LocalTasks> {
        let tasks = LocalTasks::new(handle, local::Target::CurrentThread);
        *self.local.lock() = Some(tasks.clone());
        tasks
    }

    /// Takes the core if no thread holds it.
    fn take_core(&self) -> Option<Core> {
        self.core.lock().take()
    }

    /// Hands the core back when `block_on` returns, or drops it when the runtime was shut
    /// down meanwhile, and wakes the threads waiting for it.
    fn put_core(&self, core: Core) {
        let mut slot = self.core.lock();
        // Checked under the lock: `shutdown` sets the flag before it takes the slot, so
        // either it sees the core here, or this sees the flag.
        let dropped = if self.is_shutdown.load(SeqCst) {
            Some(core)
        } else {
            *slot = Some(core);
            None
        };
        drop(slot);
        drop(dropped);
        self.wake_waiters();
    }

    fn wake_waiters(&self) {
        let waiters: Vec<Arc<ThreadWaker>> = self.waiters.lock().clone();
        for waiter in &waiters {
            ArcWake::wake_by_ref(waiter);
        }
    }
}

/// The waker of a current-thread `block_on` future: the runtime itself, so it costs no
/// allocation.
impl ArcWake for crate::runtime::RuntimeShared {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.current_thread().wake_main(arc_self);
    }
}
