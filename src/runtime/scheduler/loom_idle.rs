//! Loom models of the multi-thread scheduler's push / search / park handshake: a task queued
//! while workers go to sleep is always run, and no worker stays asleep while it sits in a
//! queue (a lost wake-up shows up as a deadlock: every thread blocked).
//!
//! Run with:
//!
//! ```text
//! LOOM_MAX_PREEMPTIONS=3 RUSTFLAGS="--cfg flywheel_loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test --release --lib loom_idle
//! ```
//!
//! The models run the production `Idle` (counts, sleepers, `notify_one`, `park`,
//! `start_searching`, `stop_searching`), the production `Parker`, and the production steal
//! functions of `queue.rs` over its loom stand-in queues, whose `is_empty` reads a length
//! published with a plain release store, as crossbeam's local queue does. Only the worker
//! loop around them is the model's own: the same order as `worker/run.rs` (own queue, search,
//! park) without the LIFO slot, ticks and driver polls, which do not take part in the
//! handshake. The driver is the stand-in of `park.rs`'s models, whose `park_idle` blocks
//! until `unpark_driver` (kept if it comes first, like mio's `Waker`).

use std::ops::{Deref, DerefMut};

use loom::thread;

use super::idle::{Idle, Parking};
use super::queue::{steal_any, Injector, Stealer, Worker};
use crate::runtime::park::loom_park::{Driver, DriverHandle};
use crate::runtime::park::Parker;
use crate::sync::atomic::AtomicBool;
use crate::sync::atomic::AtomicUsize;
use crate::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use crate::sync::{Arc, Condvar, Mutex};

/// The driver's lock, reduced to what the parker does with it: `try_lock`. (loom's own
/// `Mutex::try_lock` marks every other thread trying it as blocked for as long as the holder
/// keeps it, which a thread parked in the driver does for ever: a false deadlock.)
struct DriverLock {
    held: AtomicBool,
}

/// Holds `DriverLock` until dropped.
struct DriverGuard<'a> {
    lock: &'a DriverLock,
    driver: Driver,
}

impl DriverLock {
    fn try_lock(&self) -> Option<DriverGuard<'_>> {
        self.held
            .compare_exchange(false, true, Acquire, Relaxed)
            .ok()
            .map(|_| DriverGuard {
                lock: self,
                driver: Driver,
            })
    }
}

impl Deref for DriverGuard<'_> {
    type Target = Driver;
    fn deref(&self) -> &Driver {
        &self.driver
    }
}

impl DerefMut for DriverGuard<'_> {
    fn deref_mut(&mut self) -> &mut Driver {
        &mut self.driver
    }
}

impl Drop for DriverGuard<'_> {
    fn drop(&mut self) {
        self.lock.held.store(false, Release);
    }
}

/// A job is an id; what running it does is up to each model.
type Job = usize;

/// The model runtime: the scheduler's shared state.
struct Rt {
    idle: Idle,
    injector: Injector<Job>,
    stealers: Vec<Stealer<Job>>,
    driver: DriverLock,
    driver_handle: DriverHandle,
    is_shutdown: AtomicBool,
    /// Jobs run so far, and a condvar for whoever waits on them.
    ran: Mutex<usize>,
    ran_changed: Condvar,
    /// The worker that runs this many-th job shuts the runtime down (the models whose main
    /// thread waits for jobs do it themselves: `usize::MAX`).
    shutdown_after: usize,
    /// Plain data: jobs run, counted without read-modify-writes so that a job run twice, or
    /// a run that does not see an earlier one, is caught.
    runs: AtomicUsize,
}

impl Rt {
    fn new(workers: usize, shutdown_after: usize) -> (Arc<Rt>, Vec<(Worker<Job>, Parker)>) {
        let (idle, parkers) = Idle::new(workers);
        let locals: Vec<_> = parkers
            .into_iter()
            .map(|p| (Worker::new_fifo(), p))
            .collect();
        let rt = Rt {
            idle,
            injector: Injector::new(),
            stealers: locals.iter().map(|(w, _)| w.stealer()).collect(),
            driver: DriverLock {
                held: AtomicBool::new(false),
            },
            driver_handle: DriverHandle::new(),
            is_shutdown: AtomicBool::new(false),
            ran: Mutex::new(0),
            ran_changed: Condvar::new(),
            shutdown_after,
            runs: AtomicUsize::new(0),
        };
        (Arc::new(rt), locals)
    }

    /// Runs a job: counts it and tells the waiters, or shuts down after the last one.
    fn run_job(&self) {
        self.runs.store(self.runs.load(Acquire) + 1, Release);
        if self.shutdown_after == usize::MAX {
            let mut ran = self.ran.lock();
            *ran += 1;
            self.ran_changed.notify_all();
        } else if self.runs.load(Acquire) == self.shutdown_after {
            self.shutdown();
        }
    }

    /// Blocks until `n` jobs ran.
    fn wait_for_runs(&self, n: usize) {
        let mut ran = self.ran.lock();
        while *ran < n {
            self.ran_changed.wait(&mut ran);
        }
    }

    /// `worker::MultiThread::schedule_remote`: queue on the injector, wake a sleeper.
    fn schedule_remote(&self, job: Job) {
        self.injector.push(job);
        self.idle.notify_one(&self.driver_handle);
    }

    /// `worker::Core::schedule_local` for a spawn: own queue, wake a sleeper.
    fn schedule_local(&self, local: &Worker<Job>, job: Job) {
        local.push(job);
        self.idle.notify_one(&self.driver_handle);
    }

    /// `worker::MultiThread::shutdown`'s first half: flag, then unpark everyone.
    fn shutdown(&self) {
        self.is_shutdown.store(true, SeqCst);
        self.idle.unpark_all(&self.driver_handle);
    }
}

/// One worker as `Idle::park` sees it.
struct Site<'a> {
    rt: &'a Rt,
    local: &'a Worker<Job>,
}

impl Parking for Site<'_> {
    type Driver = DriverHandle;
    fn driver(&self) -> &DriverHandle {
        &self.rt.driver_handle
    }
    fn sleep(&self, parker: &Parker) {
        parker.park_with(|| self.rt.driver.try_lock(), &self.rt.driver_handle);
    }
    fn has_queued_work(&self) -> bool {
        !self.rt.injector.is_empty() || self.rt.stealers.iter().any(|s| !s.is_empty())
    }
    fn has_own_work(&self) -> bool {
        !self.local.is_empty()
    }
    fn is_shutdown(&self) -> bool {
        self.rt.is_shutdown.load(Acquire)
    }
}

/// The worker loop of `worker/run.rs`, reduced to the handshake: own queue, search, park.
fn run_worker(rt: &Rt, index: usize, local: &Worker<Job>, parker: &Parker) {
    let mut searching = false;
    while !rt.is_shutdown.load(Acquire) {
        if local.pop().is_some() {
            rt.idle.stop_searching(&mut searching, &rt.driver_handle);
            rt.run_job();
            continue;
        }
        if rt.idle.start_searching(&mut searching)
            && steal_any(&rt.stealers, index, 0, 0, local, &rt.injector, &mut 0).is_some()
        {
            rt.idle.stop_searching(&mut searching, &rt.driver_handle);
            rt.run_job();
            continue;
        }
        let site = Site { rt, local };
        searching = rt.idle.park(index, searching, parker, &site);
    }
}

/// Spawns worker `index` running `run_worker`.
fn spawn_worker(
    rt: &Arc<Rt>,
    index: usize,
    local: Worker<Job>,
    parker: Parker,
) -> thread::JoinHandle<()> {
    let rt = rt.clone();
    thread::spawn(move || run_worker(&rt, index, &local, &parker))
}

/// A task running on worker 0 spawns another onto worker 0's own queue and then blocks until
/// it has run (as a poll waiting on a channel would). Only worker 1 can run it: worker 1,
/// going idle at the same time, must either see it queued or be woken for it. This is the
/// race of `notify_one` reading the idle state with a plain load (issue 9, item 5).
#[test]
fn loom_idle_local_push_is_seen_or_wakes_a_sleeper() {
    loom::model(|| {
        let (rt, mut locals) = Rt::new(2, usize::MAX);
        let (local1, parker1) = locals.pop().expect("two workers");
        let (local0, _parker0) = locals.pop().expect("two workers");
        let worker1 = spawn_worker(&rt, 1, local1, parker1);

        // Worker 0, inside a task's poll.
        rt.schedule_local(&local0, 7);
        rt.wait_for_runs(1);
        rt.shutdown();

        worker1.join().expect("worker 1");
        assert_eq!(rt.runs.load(Acquire), 1);
        assert!(local0.pop().is_none());
    });
}

/// A plain thread queues a task on the injector while both workers go idle: one of them runs
/// it, and then shuts the runtime down, which wakes and stops the other.
#[test]
fn loom_idle_remote_push_is_seen_or_wakes_a_sleeper() {
    loom::model(|| {
        let (rt, locals) = Rt::new(2, 1);
        let workers: Vec<_> = locals
            .into_iter()
            .enumerate()
            .map(|(index, (local, parker))| spawn_worker(&rt, index, local, parker))
            .collect();

        rt.schedule_remote(1);

        for worker in workers {
            worker.join().expect("worker");
        }
        assert_eq!(rt.runs.load(Acquire), 1);
    });
}

/// Two tasks queued from outside, one after the other, while the single worker goes idle
/// between them: the second wake-up is not swallowed by the first (the parker's UNPARKED
/// state and the sleepers list stay consistent over two rounds).
#[test]
fn loom_idle_one_worker_two_rounds() {
    loom::model(|| {
        let (rt, mut locals) = Rt::new(1, usize::MAX);
        let (local, parker) = locals.pop().expect("one worker");
        let worker = spawn_worker(&rt, 0, local, parker);

        rt.schedule_remote(1);
        rt.wait_for_runs(1);
        rt.schedule_remote(2);
        rt.wait_for_runs(2);
        rt.shutdown();

        worker.join().expect("worker");
        assert_eq!(rt.runs.load(Acquire), 2);
    });
}
