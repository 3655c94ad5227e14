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
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_task::{waker_ref, ArcWake};
use parking_lot::Mutex;

use crate::runtime::block_on::{self, ThreadWaker, Until};
use crate::runtime::builder::Intervals;
use crate::runtime::local::{self, LocalTasks};
use crate::runtime::metrics::{SchedulerStats, WorkerStats};
use crate::runtime::park::{Parker, Unparker};
use crate::runtime::scheduler::queue::Injector;
use crate::runtime::scheduler::seeded::Seeded;
use crate::runtime::scheduler::{self, Reason};
use crate::runtime::watchdog::Beats;
use crate::runtime::{context, Handle};
use crate::task::cell::Task;
use crate::task::coop;

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
    /// they belong to that thread (`runtime/local.rs`).
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
    fn next_task(&mut self, ct: &CurrentThread, since_driver: u32) -> Option<Task> {
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
    fn defer_main(&mut self) -> bool {
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
    fn release_deferred(&mut self) {
        if self.queue.is_empty() {
            // The usual case (every task yielded): no copying.
            std::mem::swap(&mut self.queue, &mut self.deferred);
        } else {
            self.queue.append(&mut self.deferred);
        }
    }
}

/// Gives the core back when `block_on` returns or unwinds.
struct CoreGuard<'a> {
    ct: &'a CurrentThread,
}

impl Drop for CoreGuard<'_> {
    fn drop(&mut self) {
        if let Some(scheduler::Core::CurrentThread(mut core)) = context::set_core(None) {
            // The next holder may be another thread: it must not take the owner's inbox.
            core.local = None;
            self.ct.stats.end_busy(0);
            self.ct.put_core(core);
        }
    }
}

/// Takes a waiting `block_on` thread off the list when it stops waiting.
struct WaiterGuard<'a> {
    ct: &'a CurrentThread,
    waker: &'a Arc<ThreadWaker>,
}

impl Drop for WaiterGuard<'_> {
    fn drop(&mut self) {
        let removed = {
            let mut waiters = self.ct.waiters.lock();
            waiters
                .iter()
                .position(|w| Arc::ptr_eq(w, self.waker))
                .map(|pos| waiters.swap_remove(pos))
        };
        drop(removed);
    }
}

fn with_core<R>(f: impl FnOnce(&mut Core) -> R) -> R {
    context::with_core(|core| match core {
        Some(scheduler::Core::CurrentThread(core)) => f(core),
        _ => unreachable!("the block_on thread holds the core"),
    })
}

/// Runs `future` to completion on this thread, running the runtime's tasks meanwhile — or,
/// while another thread does that, polling only `future` until the core is free.
#[track_caller]
pub(crate) fn block_on<F: Future>(handle: &Handle, future: F) -> F::Output {
    let _enter = context::enter_runtime(handle);
    crate::runtime::panic::check(handle);
    let ct = handle.shared.current_thread();
    let mut future = pin!(future);
    let core = match ct.take_core() {
        Some(core) => core,
        None if ct.is_shutdown.load(Acquire) => panic!("{}", context::SHUT_DOWN_BLOCK_ON),
        None => match wait_for_core(handle, ct, future.as_mut()) {
            Until::Ready(output) => return output,
            Until::Stopped(core) => core,
        },
    };
    run(handle, core, future)
}

/// Polls `future` on this thread while another one holds the core, until it finishes or the
/// core is handed back.
fn wait_for_core<F: Future>(
    handle: &Handle,
    ct: &CurrentThread,
    future: Pin<&mut F>,
) -> Until<F::Output, Core> {
    let waker = block_on::thread_waker();
    // Listed before looking for the core again: `put_core` wakes whoever is listed.
    ct.waiters.lock().push(waker.clone());
    let _listed = WaiterGuard { ct, waker: &waker };
    block_on::poll_until(handle, &waker, future, || {
        crate::runtime::panic::check(handle);
        ct.take_core()
    })
}

/// The core holder's loop (see the module docs for the order).
fn run<F: Future>(handle: &Handle, mut core: Core, mut future: Pin<&mut F>) -> F::Output {
    let shared = &handle.shared;
    let ct = shared.current_thread();
    core.local = ct.local.lock().clone().filter(|local| local.is_owner());
    let prev = context::set_core(Some(scheduler::Core::CurrentThread(core)));
    debug_assert!(prev.is_none(), "enter_runtime refuses a second core");
    let _guard = CoreGuard { ct };
    ct.stats.start_busy(0);

    let waker = waker_ref(shared);
    let mut cx = Context::from_waker(&waker);
    ct.woken.store(true, Release);
    // Polls (of tasks and of the `block_on` future) since the driver was last looked at.
    // Both count: a future that keeps waking itself never lets this thread run out of work,
    // yet the timer it waits for must still fire.
    let mut since_driver = 0;
    let beat = ct.beats.as_ref().map(|beats| beats.worker(0));

    loop {
        if main_due(ct) {
            since_driver += 1;
            if let Some(beat) = beat {
                beat.poll_block_on();
            }
            if let Poll::Ready(output) = coop::budget(|| future.as_mut().poll(&mut cx)) {
                return output;
            }
        }
        let mut ran = 0;
        let event_interval = ct.intervals.event;
        while ran < event_interval {
            let Some(task) = with_core(|core| core.next_task(ct, since_driver + ran)) else {
                break;
            };
            ct.stats.worker(0).poll();
            if let Some(beat) = beat {
                beat.poll(task.header().owned_key.load(Relaxed));
            }
            task.run();
            // A task panic that shuts the runtime down is resumed at once (`runtime/panic.rs`).
            crate::runtime::panic::check(handle);
            ran += 1;
        }
        since_driver += ran;
        let nothing_left = ran < event_interval
            && !ct.woken.load(Acquire)
            && with_core(|core| core.deferred.is_empty());
        if let Some(beat) = beat {
            beat.idle();
        }
        if nothing_left {
            since_driver = 0;
            ct.stats.park(0);
            shared
                .threads
                .parked(|| ct.parker.park(&shared.driver, &shared.driver_handle));
            ct.stats.unpark(0);
        } else if since_driver >= event_interval {
            // Busy (the run queue never emptied, only yielded tasks are left, or only the
            // `block_on` future keeps waking itself): look at I/O and timers, and let the
            // yielded tasks queue up again.
            since_driver = 0;
            poll_driver(shared);
            with_core(Core::release_deferred);
        }
        // Otherwise the `block_on` future was woken: poll it first.
    }
}

/// Whether to poll the `block_on` future now: it was woken and, on a seeded runtime, the
/// draw does not let a task go first (it then stays woken for the next draw).
#[inline]
fn main_due(ct: &CurrentThread) -> bool {
    if !ct.woken.swap(false, AcqRel) {
        return false;
    }
    if ct.seed.is_some() && with_core(Core::defer_main) {
        ct.woken.store(true, Release);
        return false;
    }
    true
}

/// Looks at I/O and timers without blocking.
fn poll_driver(shared: &crate::runtime::RuntimeShared) {
    if let Some(mut driver) = shared.driver.try_lock() {
        driver.poll(&shared.driver_handle);
    }
}
