//! Idle accounting of the multi-thread scheduler and the sleep/wake protocol built on it:
//! how many workers are searching for work and which ones are parked, so a new task wakes at
//! most one sleeper, and none while some worker is already searching (it will find the task,
//! and wake another if it finds more).
//!
//! `state` packs the searching count (low 16 bits) and the unparked count (the rest); the
//! sleepers list is behind a lock that only the park/unpark paths take.
//!
//! # No lost wake-up
//!
//! A producer queues a task, then asks `notify_one` whether to wake a sleeper. A worker going
//! to sleep records itself in `state` (`transition_worker_to_parked`), then looks at the
//! queues once more. One of the two must see the other: either the producer sees the worker
//! parked (and wakes it), or the worker sees the task (and wakes someone for it). Every access
//! to `state` on these paths is a SeqCst read-modify-write, so they are totally ordered on
//! `state`; whichever comes second reads what the first wrote, and since an RMW is both an
//! acquire and a release, the worker that comes second also sees the producer's push. A plain
//! load in `notify_one` would not do: it writes nothing, so nothing orders it after the
//! worker's RMW, and it may be satisfied before the producer's (non-SeqCst) push is visible
//! to the worker — each then sees the other's old state, the task sits queued and the worker
//! sleeps (on x86 the push store and the load really do reorder). The same holds for the last
//! searcher, which parks or stops searching with an RMW too. `loom_idle.rs` model-checks it.
//!
//! # Protocol functions
//!
//! `notify_one`, `park`, `start_searching` and `stop_searching` are the whole protocol; the
//! worker loop (`worker/run.rs`) and the loom model call them, so the model checks this code.

use crate::runtime::park::{Parker, UnparkDriver, Unparker};
use crate::sync::atomic::AtomicUsize;
use crate::sync::atomic::Ordering::SeqCst;
use crate::sync::Mutex;

/// Width of the searching count in `state`.
const UNPARK_SHIFT: usize = 16;
/// Mask of the searching count.
const SEARCH_MASK: usize = (1 << UNPARK_SHIFT) - 1;
/// One unparked worker in `state`.
const UNPARK_ONE: usize = 1 << UNPARK_SHIFT;

pub(crate) struct Idle {
    state: AtomicUsize,
    sleepers: Mutex<Vec<usize>>,
    num_workers: usize,
    unparkers: Box<[Unparker]>,
}

/// What `Idle::park` needs from the worker that parks and from its runtime.
pub(crate) trait Parking {
    /// The driver handle through which a worker blocked in the driver is woken.
    type Driver: UnparkDriver;
    fn driver(&self) -> &Self::Driver;
    /// Sleeps in `parker`: in the driver when it is free, on the condvar otherwise.
    fn sleep(&self, parker: &Parker);
    /// A task sits where another worker could take it (the injector, a local queue).
    fn has_queued_work(&self) -> bool;
    /// A task sits in this worker's own queue or LIFO slot (woken by the driver it ran).
    fn has_own_work(&self) -> bool;
    fn is_shutdown(&self) -> bool;
    /// Called when this worker was the last one to park.
    fn all_parked(&self) {}
}

fn searching(state: usize) -> usize {
    state & SEARCH_MASK
}

fn unparked(state: usize) -> usize {
    state >> UNPARK_SHIFT
}

impl Idle {
    /// All workers start unparked and not searching. Returns each worker's `Parker`.
    pub(crate) fn new(num_workers: usize) -> (Idle, Vec<Parker>) {
        let (parkers, unparkers): (Vec<_>, Vec<_>) =
            (0..num_workers).map(|_| Parker::new()).unzip();
        let idle = Idle {
            state: AtomicUsize::new(num_workers << UNPARK_SHIFT),
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            num_workers,
            unparkers: unparkers.into_boxed_slice(),
        };
        (idle, parkers)
    }

    /// Called after a task was queued where any worker may take it: wakes one parked worker
    /// if the counts say one should wake.
    pub(crate) fn notify_one(&self, driver: &impl UnparkDriver) {
        // Leave the worker that blocks in the driver there: it watches I/O and timers.
        if let Some(worker) = self.worker_to_notify(|w| !self.unparkers[w].is_in_driver()) {
            self.unparkers[worker].unpark(driver);
        }
    }

    /// Unparks worker `worker` whatever the counts say: work only it may run (a local task)
    /// was queued for it. Parked, it finds that work through `Parking::has_own_work`.
    pub(crate) fn unpark_worker(&self, worker: usize, driver: &impl UnparkDriver) {
        self.unparkers[worker].unpark(driver);
    }

    /// Unparks every worker (shutdown).
    pub(crate) fn unpark_all(&self, driver: &impl UnparkDriver) {
        for unparker in self.unparkers.iter() {
            unparker.unpark(driver);
        }
    }

    /// Worker `index` has nothing to do: parks it until it has. Returns whether it comes back
    /// counted as searching (a notifier chose it) rather than with work of its own. Returns
    /// at once, in either state, once `site.is_shutdown()`.
    pub(crate) fn park(
        &self,
        index: usize,
        searching: bool,
        parker: &Parker,
        site: &impl Parking,
    ) -> bool {
        if self.transition_worker_to_parked(index, searching) && site.has_queued_work() {
            // The last searcher is leaving: a task queued meanwhile may have counted on it.
            self.notify_one(site.driver());
        }
        if self.all_parked() {
            site.all_parked();
        }
        loop {
            // Checked before sleeping too: shutdown's unpark may have landed while this
            // worker was still running or searching.
            if site.is_shutdown() {
                return false;
            }
            site.sleep(parker);
            if site.is_shutdown() {
                return false;
            }
            if !self.is_parked(index) {
                // A notifier took us off the sleepers list and counted us as searching.
                return true;
            }
            if site.has_own_work() {
                // The driver woke tasks into our own queue.
                let searching = !self.unpark_worker_by_id(index);
                // We leave the driver to run them, and one of them may not yield for a long
                // time: wake a sleeper, which takes the driver over if it finds nothing to
                // do, so sockets keep being served.
                self.notify_one(site.driver());
                return searching;
            }
        }
    }

    /// A worker with nothing to run wants to steal: `*searching` becomes true unless too many
    /// workers search already. Returns `*searching`.
    pub(crate) fn start_searching(&self, searching: &mut bool) -> bool {
        if !*searching {
            *searching = self.transition_worker_to_searching();
        }
        *searching
    }

    /// A worker found work: it no longer searches. The last searcher to stop wakes another
    /// worker, since there may be more work to spread.
    pub(crate) fn stop_searching(&self, searching: &mut bool, driver: &impl UnparkDriver) {
        if std::mem::take(searching) && self.transition_worker_from_searching() {
            self.notify_one(driver);
        }
    }

    /// The worker to wake for a new task, if one should be: none when a worker is already
    /// searching or none is parked. The chosen worker counts as unparked and searching.
    /// `prefer` ranks sleepers (a worker blocked in the driver should stay there: it
    /// watches I/O).
    fn worker_to_notify(&self, prefer: impl Fn(usize) -> bool) -> Option<usize> {
        if !self.should_notify() {
            return None;
        }
        let mut sleepers = self.sleepers.lock();
        if !self.should_notify() {
            return None;
        }
        let pos = sleepers
            .iter()
            .rposition(|&w| prefer(w))
            .unwrap_or(sleepers.len() - 1);
        let worker = sleepers.swap_remove(pos);
        self.state.fetch_add(UNPARK_ONE | 1, SeqCst);
        Some(worker)
    }

    fn should_notify(&self) -> bool {
        // A read-modify-write, not a load: see "No lost wake-up" above.
        let state = self.state.fetch_add(0, SeqCst);
        searching(state) == 0 && unparked(state) < self.num_workers
    }

    /// Refused when half the workers already search, so an idle runtime does not burn every
    /// core looking for one task.
    fn transition_worker_to_searching(&self) -> bool {
        let state = self.state.load(SeqCst);
        if 2 * searching(state) >= self.num_workers {
            return false;
        }
        self.state.fetch_add(1, SeqCst);
        true
    }

    /// `true` when it was the last searcher.
    fn transition_worker_from_searching(&self) -> bool {
        let prev = self.state.fetch_sub(1, SeqCst);
        debug_assert!(searching(prev) > 0);
        searching(prev) == 1
    }

    /// The worker goes to sleep. `true` when it was the last searcher: it must re-check the
    /// queues, since a task queued meanwhile may have counted on it.
    fn transition_worker_to_parked(&self, worker: usize, is_searching: bool) -> bool {
        let mut sleepers = self.sleepers.lock();
        debug_assert!(!sleepers.contains(&worker));
        let dec = UNPARK_ONE + usize::from(is_searching);
        let prev = self.state.fetch_sub(dec, SeqCst);
        sleepers.push(worker);
        is_searching && searching(prev) == 1
    }

    /// A parked worker woke up with work of its own (an I/O event, a timer). `true` when it
    /// was still listed as parked and is now unparked, not searching; `false` when a
    /// notifier already took it off the list (it is then searching).
    fn unpark_worker_by_id(&self, worker: usize) -> bool {
        let mut sleepers = self.sleepers.lock();
        match sleepers.iter().position(|&w| w == worker) {
            Some(pos) => {
                sleepers.swap_remove(pos);
                self.state.fetch_add(UNPARK_ONE, SeqCst);
                true
            }
            None => false,
        }
    }

    /// Whether `worker` is still on the sleepers list.
    fn is_parked(&self, worker: usize) -> bool {
        self.sleepers.lock().contains(&worker)
    }

    /// True when every worker is parked.
    pub(crate) fn all_parked(&self) -> bool {
        unparked(self.state.load(SeqCst)) == 0
    }
}

#[cfg(all(test, not(flywheel_loom)))]
mod tests {
    use super::*;

    #[test]
    fn no_one_to_notify_while_all_work() {
        let (idle, _parkers) = Idle::new(2);
        assert_eq!(idle.worker_to_notify(|_| true), None);
    }

    #[test]
    fn notify_wakes_one_sleeper_and_marks_it_searching() {
        let (idle, _parkers) = Idle::new(2);
        assert!(!idle.transition_worker_to_parked(0, false));
        assert!(!idle.transition_worker_to_parked(1, false));
        assert_eq!(idle.worker_to_notify(|_| true), Some(1));
        // Worker 1 is searching now: a second task does not wake worker 0.
        assert_eq!(idle.worker_to_notify(|_| true), None);
        assert!(idle.transition_worker_from_searching());
        assert_eq!(idle.worker_to_notify(|_| true), Some(0));
    }

    #[test]
    fn notify_prefers_the_ranked_sleeper() {
        let (idle, _parkers) = Idle::new(3);
        for w in 0..3 {
            let _ = idle.transition_worker_to_parked(w, false);
        }
        assert_eq!(idle.worker_to_notify(|w| w == 0), Some(0));
    }

    #[test]
    fn at_most_half_the_workers_search() {
        let (idle, _parkers) = Idle::new(4);
        assert!(idle.transition_worker_to_searching());
        assert!(idle.transition_worker_to_searching());
        assert!(!idle.transition_worker_to_searching());
    }

    #[test]
    fn last_searcher_parking_is_reported() {
        let (idle, _parkers) = Idle::new(2);
        assert!(idle.transition_worker_to_searching());
        assert!(idle.transition_worker_to_parked(0, true));
        assert!(idle.is_parked(0));
        assert!(idle.unpark_worker_by_id(0));
        assert!(!idle.unpark_worker_by_id(0));
        assert!(!idle.all_parked());
    }
}
