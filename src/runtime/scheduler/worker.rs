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
//! there does not end, the rescue patrol takes it (`rescue.rs`). A searching worker that finds work wakes
//! the next one if it was the last searcher, so work spreads without a thundering herd.
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
use std::sync::atomic::Ordering::{Acquire, Relaxed, SeqCst};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::runtime::block_on::{self, ThreadWaker, Until};
use crate::runtime::builder::Intervals;
use crate::runtime::context;
use crate::runtime::local::{LocalQueue, LocalTasks};
use crate::runtime::metrics::SchedulerStats;
use crate::runtime::park::{self, Parker};
use crate::runtime::scheduler::idle::{Idle, Parking};
use crate::runtime::scheduler::owned::{OwnedTasks, Released};
use crate::runtime::scheduler::queue::{
    steal_any, steal_injector, Injector, Stealer, Worker, INJECTOR_BATCH,
};
use crate::runtime::scheduler::rescue::{LifoSlot, Rescue, PATROL_TICK};
use crate::runtime::scheduler::{self, Reason};
use crate::runtime::thread::ThreadConfig;
use crate::runtime::watchdog::{Beat, Beats};
use crate::runtime::{driver, Handle};
use crate::task::cell::Task;

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
    /// Local tasks pinned to this worker's thread (`runtime/local.rs`); never stolen.
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

/// Starts the worker threads.
pub(crate) fn launch(launch: Launch, handle: &Handle) -> std::io::Result<()> {
    let mt = handle.multi_thread();
    let threads = &handle.shared.threads;
    for (index, (queue, lifo, parker)) in launch.workers.into_iter().enumerate() {
        let worker = handle.clone();
        start_thread(mt, threads, move || run(worker, index, queue, lifo, parker))?;
    }
    Ok(())
}

/// Starts a worker thread running `body`, counted in `alive` until it ends.
fn start_thread(
    mt: &MultiThread,
    threads: &ThreadConfig,
    body: impl FnOnce() + Send + 'static,
) -> std::io::Result<()> {
    *mt.alive.lock() += 1;
    match threads.spawn(body) {
        Ok(thread) => {
            let mut threads = mt.threads.lock();
            // Threads that left the worker role in `block_in_place` have ended: forget
            // them, so a program calling it in a loop does not pile up join handles.
            threads.retain(|t| !t.is_finished());
            threads.push(thread);
            Ok(())
        }
        Err(err) => {
            *mt.alive.lock() -= 1;
            Err(err)
        }
    }
}

/// What `block_in_place` may do on this thread.
pub(crate) enum HandOff {
    /// This thread is no worker (any more): run the closure outside the runtime.
    Done,
    /// Not in a runtime: just run the closure.
    Outside,
    /// A current-thread runtime or a `block_on` thread: nobody could take over.
    Refused,
}

/// Hands this worker's core to a new worker thread (see `runtime/block_in_place.rs`).
pub(crate) fn hand_off() -> HandOff {
    let core = context::with_core(|core| match core {
        // A worker with unfinished local tasks keeps its thread (they are pinned to it) and
        // runs `f` in place; one without forgets its finished ones before the core moves.
        Some(scheduler::Core::MultiThread(core)) if core.local.has_tasks() => Ok(false),
        Some(scheduler::Core::MultiThread(core)) => Ok(!core.handle.multi_thread().is_shut_down()),
        Some(scheduler::Core::CurrentThread(_)) => Err(HandOff::Refused),
        None => Err(if context::left_worker() {
            HandOff::Done
        } else if context::in_runtime() {
            // Inside `block_on`: no worker role to hand on. A multi-thread runtime's workers
            // keep running without this thread, so `f` may block it (as in tokio); a
            // current-thread runtime would stall.
            let multi = context::with_current(|h| {
                h.is_some_and(|h| h.runtime_flavor() == crate::RuntimeFlavor::MultiThread)
            });
            if multi {
                HandOff::Done
            } else {
                HandOff::Refused
            }
        } else {
            HandOff::Outside
        }),
    });
    match core {
        Err(other) => return other,
        // Shutting down: this worker exits after the poll anyway, with nothing to hand on.
        Ok(false) => return HandOff::Done,
        Ok(true) => {}
    }
    let Some(scheduler::Core::MultiThread(mut core)) = context::set_core(None) else {
        unreachable!("the core was there a moment ago");
    };
    drop(core.local.detach());
    let handle = core.handle.clone();
    // The thread takes the core from this slot, so that it stays here if no thread starts.
    let slot = Arc::new(Mutex::new(Some(core)));
    let theirs = slot.clone();
    let worker = handle.clone();
    let started = start_thread(handle.multi_thread(), &handle.shared.threads, move || {
        if let Some(core) = theirs.lock().take() {
            run_core(worker, core);
        }
    });
    if started.is_err() {
        // No thread to take over: keep the role, and the queued tasks wait for `f`.
        let core = slot.lock().take().expect("no thread took it");
        context::set_core(Some(scheduler::Core::MultiThread(core)));
        return HandOff::Done;
    }
    context::mark_left_worker();
    HandOff::Done
}

/// Decrements `alive` when the worker thread ends, even by a panic.
struct ExitGuard<'a>(&'a MultiThread);

impl Drop for ExitGuard<'_> {
    fn drop(&mut self) {
        let mut alive = self.0.alive.lock();
        *alive -= 1;
        self.0.exited.notify_all();
    }
}

fn with_core<R>(f: impl FnOnce(&mut Core) -> R) -> R {
    context::with_core(|core| match core {
        Some(scheduler::Core::MultiThread(core)) => f(core),
        _ => unreachable!("a worker thread always has its core"),
    })
}

fn run(handle: Handle, index: usize, queue: Worker<Task>, lifo: LifoSlot<Task>, parker: Parker) {
    let mt = handle.multi_thread();
    let core = Core {
        runtime: Arc::as_ptr(&handle.shared) as usize,
        index,
        queue,
        lifo,
        lifo_polls: 0,
        deferred: Vec::new(),
        deferred_since: 0,
        flushed: 0,
        driver_polled: Instant::now(),
        tick: 0,
        global_queue_interval: mt.intervals.global_queue,
        event_interval: mt.intervals.event,
        defer_limit: mt.intervals.event.saturating_mul(DEFER_ROUNDS),
        until_global_queue: mt.intervals.global_queue,
        until_event: mt.intervals.event,
        searching: false,
        parked: false,
        rand: 0x9E37_79B9 ^ (index as u32 + 1).wrapping_mul(0x85EB_CA6B),
        handle: handle.clone(),
        parker: Arc::new(parker),
        released: Released::default(),
        local: LocalQueue::default(),
    };
    run_core(handle, core);
}

/// The worker loop, on a new thread or one that took over from a `block_in_place`.
fn run_core(handle: Handle, core: Core) {
    let mt = handle.multi_thread();
    let _exit = ExitGuard(mt);
    let _enter = context::enter_runtime(&handle);
    let (index, parker) = (core.index, core.parker.clone());
    let stats = mt.stats.worker(index);
    let beat = mt.beats.as_ref().map(|beats| beats.worker(index));
    let prev = context::set_core(Some(scheduler::Core::MultiThread(core)));
    debug_assert!(prev.is_none());

    while !mt.is_shutdown.load(Acquire) {
        // No core: the last task handed it on in `block_in_place`; this thread is done.
        let Some((task, maintenance)) = context::with_core(|core| {
            let Some(scheduler::Core::MultiThread(core)) = core else {
                return None;
            };
            let next = core.next_task(mt);
            if next.0.is_some() {
                // A worker woken to search may find its work here (the injector) rather
                // than in `search`: it must stop counting as searching, or no parked worker
                // is ever woken for the tasks it spawns next.
                core.stop_searching(mt);
            }
            Some(next)
        }) else {
            break;
        };
        if maintenance {
            mark_idle(beat);
            poll_driver(&handle);
            with_core(|core| {
                if core.tick.wrapping_sub(core.deferred_since) >= core.defer_limit {
                    core.flush_deferred(mt);
                }
            });
            // The poll may have woken a task into this worker's LIFO slot, which nobody can
            // steal. With nothing else to run, look again; otherwise make it stealable (and
            // wake a sleeper for it), since `task` may not yield for a long time.
            if task.is_none() {
                continue;
            }
            with_core(|core| {
                if let Some(woken) = core.lifo.take() {
                    core.push_stealable(woken);
                }
            });
        }
        if let Some(task) = task {
            stats.poll();
            mark_poll(beat, &task);
            task.run();
            continue;
        }
        // Nothing else to run here: the yielded tasks go again, after the driver (unless it
        // was polled a moment ago).
        if with_core(|core| !core.deferred.is_empty()) {
            // First take what another worker queued and has not started: it may be
            // preempted, or stuck in a long poll, and a worker with yielders never searches.
            if let Some(task) = with_core(|core| core.steal_queued(mt)) {
                stats.poll();
                mark_poll(beat, &task);
                task.run();
                continue;
            }
            let now = Instant::now();
            if with_core(|core| now.duration_since(core.driver_polled) >= DRIVER_POLL_GAP) {
                mark_idle(beat);
                poll_driver(&handle);
                with_core(|core| core.driver_polled = now);
            }
            with_core(|core| core.flush_deferred(mt));
            continue;
        }
        if let Some(task) = with_core(|core| core.search(mt)) {
            stats.poll();
            mark_poll(beat, &task);
            task.run();
            continue;
        }
        if let Some(task) = keep_searching(mt, &handle) {
            stats.poll();
            mark_poll(beat, &task);
            task.run();
            continue;
        }
        park(mt, &handle, index, &parker);
    }

    // Drop queued references outside the thread-local borrow.
    let core = context::set_core(None);
    drop(core);
}

/// Tells the long-poll watchdog (when on) that this worker starts polling `task`.
#[inline]
fn mark_poll(beat: Option<&Beat>, task: &Task) {
    if let Some(beat) = beat {
        beat.poll(task.header().owned_key.load(Relaxed));
    }
}

/// Tells the long-poll watchdog (when on) that this worker polls no task for now.
fn mark_idle(beat: Option<&Beat>) {
    if let Some(beat) = beat {
        beat.idle();
    }
}

/// Dispatches whatever I/O events and due timers are there, unless another thread holds the
/// driver (it is then blocked in it, and dispatches them itself as they come).
fn poll_driver(handle: &Handle) {
    if let Some(mut driver) = handle.shared.driver.try_lock() {
        driver.poll(&handle.shared.driver_handle);
    }
}

/// The searching worker found nothing: it keeps looking for a few tens of microseconds
/// before it parks, polling the driver too (it may be the only idle thread, so I/O events
/// would otherwise wait for it to park). While it searches, new tasks wake nobody
/// (`idle.rs`), so a producer that briefly outpaces it costs an atomic load per task instead
/// of a wake-up of a parked worker (a syscall, and 15-45 us on a VM) each time it gave up.
fn keep_searching(mt: &MultiThread, handle: &Handle) -> Option<Task> {
    if !with_core(|core| core.searching) {
        return None;
    }
    let mut found = None;
    park::spin(SEARCH_SPIN_ROUNDS, || {
        poll_driver(handle);
        found = with_core(|core| {
            let task = core.lifo.take().or_else(|| core.queue.pop());
            match task {
                Some(task) => {
                    core.stop_searching(mt);
                    Some(task)
                }
                None => core.search(mt),
            }
        });
        found.is_some() || mt.is_shutdown.load(Acquire)
    });
    found
}

fn park(mt: &MultiThread, handle: &Handle, index: usize, parker: &Parker) {
    mark_idle(mt.beats.as_ref().map(|beats| beats.worker(index)));
    let searching = with_core(|core| {
        core.released.flush(&core.handle.shared.owned);
        core.parked = true;
        std::mem::take(&mut core.searching)
    });
    let site = Site { mt, handle };
    mt.stats.park(index);
    let searching = handle
        .shared
        .threads
        .parked(|| mt.idle.park(index, searching, parker, &site));
    mt.stats.unpark(index);
    with_core(|core| {
        core.parked = false;
        core.searching = searching;
    });
}

/// A worker of this runtime, as `Idle::park` sees it.
struct Site<'a> {
    mt: &'a MultiThread,
    handle: &'a Handle,
}

impl Parking for Site<'_> {
    type Driver = driver::DriverHandle;

    fn driver(&self) -> &driver::DriverHandle {
        &self.handle.shared.driver_handle
    }

    fn sleep(&self, parker: &Parker) {
        let shared = &self.handle.shared;
        // While some worker runs, one sleeper patrols for stuck ones (`rescue.rs`).
        if !self.mt.rescue.start_patrol(!self.mt.idle.all_parked()) {
            parker.park(&shared.driver, &shared.driver_handle);
            return;
        }
        parker.park_timeout(&shared.driver, &shared.driver_handle, PATROL_TICK);
        self.mt.rescue.end_patrol();
        // What it takes lands in this worker's queue: `has_own_work` then wakes it up.
        with_core(|core| {
            let mt = self.mt;
            mt.rescue
                .patrol(core.index, &mt.stats, &mt.stealers, &core.queue)
        });
    }

    fn has_queued_work(&self) -> bool {
        self.mt.has_queued_work()
    }

    fn has_own_work(&self) -> bool {
        with_core(|core| {
            core.lifo.is_some()
                || !core.queue.is_empty()
                || !core.deferred.is_empty()
                || core.local.has_work()
        })
    }

    fn is_shutdown(&self) -> bool {
        self.mt.is_shutdown.load(Acquire)
    }

    fn all_parked(&self) {
        // A paused clock may auto-advance now; the worker in the driver re-checks.
        self.handle.shared.driver_handle.notify_idle();
    }
}

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
    fn push_stealable(&mut self, task: Task) {
        self.queue.push(task);
        let shared = &self.handle.shared;
        shared.multi_thread().notify_parked(&shared.driver_handle);
    }

    /// Moves the deferred tasks to the local queue; the caller has just polled the driver.
    fn flush_deferred(&mut self, mt: &MultiThread) {
        self.flushed = self.deferred.len();
        self.refill(mt);
    }

    /// Moves flushed tasks into the local queue while it has fewer than `FLUSH_ROOM`.
    /// Returns whether it moved any.
    fn refill(&mut self, mt: &MultiThread) -> bool {
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
    fn next_task(&mut self, mt: &MultiThread) -> (Option<Task>, bool) {
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
    fn search(&mut self, mt: &MultiThread) -> Option<Task> {
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
    fn steal(&mut self, mt: &MultiThread, more_than: usize) -> Option<Task> {
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
    fn steal_queued(&mut self, mt: &MultiThread) -> Option<Task> {
        let found = self.steal(mt, self.deferred.len());
        if found.is_some() && !self.queue.is_empty() {
            // The rest of the stolen half is stealable here now: spread it if anyone sleeps.
            mt.notify_parked(&self.handle.shared.driver_handle);
        }
        found
    }

    /// This worker found work: it no longer searches (and wakes another worker if it was the
    /// last searcher, since there may be more work to spread).
    fn stop_searching(&mut self, mt: &MultiThread) {
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
