//! Rescue: the tasks waiting behind a worker stuck in one long poll are taken over by the
//! other workers, so one blocking task cannot strand others (tokio#4730, #6315).
//!
//! What waits behind a worker: its local queue and its LIFO slot. The local queue was always
//! stealable, and every push to it wakes a parked worker when nobody searches. The LIFO slot
//! was private: the task a poll wakes or spawns waited there, unseen, until that poll
//! returned — two seconds if it blocked for two seconds. Two things fix that.
//!
//! 1. `LifoSlot` is a one-task crossbeam queue with a `Stealer`, instead of an `Option`.
//!    Its owner pays one read-modify-write to take the task back (the FIFO pop of a
//!    crossbeam `Worker`; the push is a plain release store), as for a task of its local
//!    queue; the `Option` cost none. That is the whole cost on the hot path; the
//!    exactly-once hand-over between the owner's pop and a thief's steal is crossbeam's.
//!
//! 2. Only the patrol steals from it, and only from a worker that started no poll for a
//!    whole patrol tick. Searching workers never do: a task in the slot normally runs
//!    within the same poll's end, hot in its owner's cache, and waking a sleeper or
//!    stealing it for each wake would spoil message ping-pong (tokio made its slot
//!    stealable with such wake-ups in 1.51 and reverted it for the cost, tokio#8065). So
//!    nobody is woken when a task enters a slot; instead, while some worker runs, one parked
//!    worker is on patrol: it parks with a timeout of `PATROL_TICK` instead of for good, and
//!    at each wake-up compares every running worker's poll count (the metrics counter, a
//!    relaxed store per poll that exists anyway) with the one it saw a tick earlier. The
//!    same count means one poll has lasted a tick or more: the patrol takes that worker's
//!    LIFO task and half its queue into its own queue, leaves the parked state as a worker
//!    woken with work does (waking another sleeper, who takes the patrol over), and runs
//!    them. A task woken behind a stuck worker so waits at most two ticks plus a wake-up.
//!
//! # Who patrols
//!
//! `patrol` is a token: a worker going to sleep takes it when it is free and some worker
//! is unparked (`!Idle::all_parked`), and gives it back at every wake-up before patrolling,
//! so at most one worker wakes every tick, and none while the whole runtime sleeps. A
//! worker that sleeps without the token (nobody was running, or another held it) is not
//! needed on patrol: a worker starting to run later was woken by a notifier or by its own
//! driver events, and the last searcher to stop (`idle.rs`) or the worker leaving the driver
//! then wakes a sleeper, which finds nothing, sleeps again, sees the runner and takes the
//! free token. The token is given back before the waker looks at the idle counts, and
//! taken with a read-modify-write after them, all SeqCst, so a sleeper that failed to take
//! it saw it held by one that has not yet released it and will look again. The loom model
//! below checks the hand-over of the stranded task itself.
//!
//! A current-thread runtime has no other thread: there is nothing to rescue to.

use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

use parking_lot::Mutex;

use crate::runtime::metrics::SchedulerStats;
use crate::runtime::scheduler::queue::{steal_from, steal_one, Stealer, Worker};

/// How long the patrol sleeps between two looks at the running workers.
pub(crate) const PATROL_TICK: Duration = Duration::from_millis(2);

/// A worker's LIFO slot: at most one task, the one it woke last.
pub(crate) struct LifoSlot<T> {
    slot: Worker<T>,
}

impl<T> LifoSlot<T> {
    /// A slot, and the handle through which the patrol may steal from it.
    pub(crate) fn new() -> (LifoSlot<T>, Stealer<T>) {
        let slot = Worker::new_fifo();
        let stealer = slot.stealer();
        (LifoSlot { slot }, stealer)
    }

    /// Takes the task out, if there is one.
    #[inline]
    pub(crate) fn take(&mut self) -> Option<T> {
        self.slot.pop()
    }

    /// Puts `task` in and returns the one it replaces.
    #[inline]
    pub(crate) fn replace(&mut self, task: T) -> Option<T> {
        let prev = self.slot.pop();
        self.slot.push(task);
        prev
    }

    pub(crate) fn is_some(&self) -> bool {
        !self.slot.is_empty()
    }
}

/// The patrol's shared state.
pub(crate) struct Rescue<T> {
    /// Every worker's LIFO slot.
    lifo: Box<[Stealer<T>]>,
    /// Held by the worker on patrol.
    patrol: AtomicBool,
    /// Each worker's poll count at the last patrol round; only the patrol touches it.
    seen: Mutex<Vec<u64>>,
}

impl<T> Rescue<T> {
    pub(crate) fn new(lifo: Vec<Stealer<T>>) -> Rescue<T> {
        let n = lifo.len();
        Rescue {
            lifo: lifo.into_boxed_slice(),
            patrol: AtomicBool::new(false),
            seen: Mutex::new(vec![u64::MAX; n]),
        }
    }

    /// A worker is going to sleep while `others_run`: whether it goes on patrol (then it
    /// must sleep at most `PATROL_TICK`, and call `end_patrol` when it wakes).
    pub(crate) fn start_patrol(&self, others_run: bool) -> bool {
        others_run && !self.patrol.swap(true, SeqCst)
    }

    /// The patrol woke up: gives the token back (see the module docs for the order).
    pub(crate) fn end_patrol(&self) {
        self.patrol.store(false, SeqCst);
    }

    /// One patrol round by worker `me`: takes the LIFO task and half the queue of every
    /// worker whose poll count did not move since the last round, into `local`. Returns
    /// whether it took anything.
    pub(crate) fn patrol(
        &self,
        me: usize,
        stats: &SchedulerStats,
        queues: &[Stealer<T>],
        local: &Worker<T>,
    ) -> bool {
        let mut seen = self.seen.lock();
        let before = local.len();
        let mut took = false;
        for (worker, seen) in seen.iter_mut().enumerate() {
            let stats = stats.worker(worker);
            let polls = stats.poll_count();
            let stuck = worker != me && polls == *seen && !stats.is_parked();
            *seen = polls;
            if !stuck {
                continue;
            }
            if let Some(task) = steal_one(&self.lifo[worker]) {
                local.push(task);
                took = true;
            }
            if let Some(task) = steal_from(&queues[worker], local) {
                local.push(task);
                took = true;
            }
        }
        // Rescued tasks count as stolen (`RuntimeMetrics::worker_steal_count`). Other
        // workers may have stolen from `local` meanwhile: a count, never an underflow.
        stats.worker(me).stole(local.len().saturating_sub(before));
        took
    }
}

/// Loom model of the hand-over of a task stranded in a stuck worker's LIFO slot: the owner
/// takes it back when its poll returns while the patrol steals it; it must run exactly once
/// and never be lost, whoever wins.
///
/// ```text
/// LOOM_MAX_PREEMPTIONS=3 RUSTFLAGS="--cfg flywheel_loom" CARGO_TARGET_DIR=target/loom \
///     cargo test --release --lib loom_rescue
/// ```
#[cfg(all(test, flywheel_loom))]
mod loom_rescue {
    use loom::thread;

    use super::LifoSlot;
    use crate::runtime::scheduler::queue::steal_one;
    use crate::sync::atomic::AtomicUsize;
    use crate::sync::atomic::Ordering::{Acquire, Release, SeqCst};
    use crate::sync::Arc;

    /// The owner wakes a task into its slot, "polls" (bumps its count), and takes the slot
    /// back; the patrol, seeing the count unchanged since its last look, steals. Every task
    /// put in is run once, by one of them.
    #[test]
    fn loom_rescue_lifo_runs_once() {
        loom::model(|| {
            let (mut slot, stealer) = LifoSlot::new();
            let polls = Arc::new(AtomicUsize::new(0));
            let runs = Arc::new(AtomicUsize::new(0));

            let patrol = {
                let (polls, runs) = (polls.clone(), runs.clone());
                thread::spawn(move || {
                    let seen = polls.load(Acquire);
                    // A second look a "tick" later: stuck if the count did not move.
                    if polls.load(Acquire) == seen {
                        if let Some(task) = steal_one(&stealer) {
                            let task: usize = task;
                            runs.fetch_add(task, SeqCst);
                        }
                    }
                })
            };

            // The owner's poll wakes task 1 into the slot, then a second wake replaces it
            // (task 1 goes to where others may take it: here, the owner runs it).
            assert!(slot.replace(1).is_none());
            if let Some(prev) = slot.replace(1) {
                runs.fetch_add(prev, SeqCst);
            }
            polls.store(1, Release);
            if let Some(task) = slot.take() {
                runs.fetch_add(task, SeqCst);
            }
            patrol.join().unwrap();
            assert!(slot.take().is_none());
            assert_eq!(runs.load(SeqCst), 2, "each task runs exactly once");
        });
    }
}
