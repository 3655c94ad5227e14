//! The worker threads: starting them, the loop each one runs (its next task, its deferred
//! tasks, the driver, the search, parking) and handing a worker's core on to a new thread
//! in `block_in_place`. The order in which a worker looks for work is in the docs of
//! `worker`; the `Core` methods behind it are in `queues.rs`.

use std::sync::atomic::Ordering::{Acquire, Relaxed};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;

use crate::runtime::context;
use crate::runtime::local::LocalQueue;
use crate::runtime::park::{self, Parker};
use crate::runtime::scheduler;
use crate::runtime::scheduler::idle::Parking;
use crate::runtime::scheduler::owned::Released;
use crate::runtime::scheduler::queue::Worker;
use crate::runtime::scheduler::rescue::{LifoSlot, PATROL_TICK};
use crate::runtime::thread::ThreadConfig;
use crate::runtime::watchdog::Beat;
use crate::runtime::{driver, Handle};
use crate::task::cell::Task;

use super::{Core, Launch, MultiThread, DEFER_ROUNDS, DRIVER_POLL_GAP, SEARCH_SPIN_ROUNDS};

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
