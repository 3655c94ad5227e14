//! Idle accounting of the multi-thread scheduler: how many workers are searching for work
//! and which ones are parked, so a new task wakes at most one sleeper, and none while some
//! worker is already searching (it will find the task, and wake another if it finds more).
//!
//! `state` packs the searching count (low 16 bits) and the unparked count (the rest); the
//! sleepers list is behind a lock that only the park/unpark paths take.

use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;

use parking_lot::Mutex;

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
}

fn searching(state: usize) -> usize {
    state & SEARCH_MASK
}

fn unparked(state: usize) -> usize {
    state >> UNPARK_SHIFT
}

impl Idle {
    /// All workers start unparked and not searching.
    pub(crate) fn new(num_workers: usize) -> Idle {
        Idle {
            state: AtomicUsize::new(num_workers << UNPARK_SHIFT),
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            num_workers,
        }
    }

    /// The worker to wake for a new task, if one should be: none when a worker is already
    /// searching or none is parked. The chosen worker counts as unparked and searching.
    /// `prefer` ranks sleepers (a worker blocked in the driver should stay there: it
    /// watches I/O).
    pub(crate) fn worker_to_notify(&self, prefer: impl Fn(usize) -> bool) -> Option<usize> {
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
        let state = self.state.load(SeqCst);
        searching(state) == 0 && unparked(state) < self.num_workers
    }

    /// A worker with nothing to run wants to steal. Refused when half the workers already
    /// search, so an idle runtime does not burn every core looking for one task.
    pub(crate) fn transition_worker_to_searching(&self) -> bool {
        let state = self.state.load(SeqCst);
        if 2 * searching(state) >= self.num_workers {
            return false;
        }
        self.state.fetch_add(1, SeqCst);
        true
    }

    /// A searching worker found work. `true` when it was the last searcher: it should wake
    /// another worker, since there may be more work to spread.
    pub(crate) fn transition_worker_from_searching(&self) -> bool {
        let prev = self.state.fetch_sub(1, SeqCst);
        debug_assert!(searching(prev) > 0);
        searching(prev) == 1
    }

    /// The worker goes to sleep. `true` when it was the last searcher: it must re-check the
    /// queues, since a task queued meanwhile may have counted on it.
    pub(crate) fn transition_worker_to_parked(&self, worker: usize, is_searching: bool) -> bool {
        let mut sleepers = self.sleepers.lock();
        let dec = UNPARK_ONE + usize::from(is_searching);
        let prev = self.state.fetch_sub(dec, SeqCst);
        sleepers.push(worker);
        is_searching && searching(prev) == 1
    }

    /// A parked worker woke up with work of its own (an I/O event, a timer). `true` when it
    /// was still listed as parked and is now unparked, not searching; `false` when a
    /// notifier already took it off the list (it is then searching).
    pub(crate) fn unpark_worker_by_id(&self, worker: usize) -> bool {
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
    pub(crate) fn is_parked(&self, worker: usize) -> bool {
        self.sleepers.lock().contains(&worker)
    }

    /// True when every worker is parked.
    pub(crate) fn all_parked(&self) -> bool {
        unparked(self.state.load(SeqCst)) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_one_to_notify_while_all_work() {
        let idle = Idle::new(2);
        assert_eq!(idle.worker_to_notify(|_| true), None);
    }

    #[test]
    fn notify_wakes_one_sleeper_and_marks_it_searching() {
        let idle = Idle::new(2);
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
        let idle = Idle::new(3);
        for w in 0..3 {
            let _ = idle.transition_worker_to_parked(w, false);
        }
        assert_eq!(idle.worker_to_notify(|w| w == 0), Some(0));
    }

    #[test]
    fn at_most_half_the_workers_search() {
        let idle = Idle::new(4);
        assert!(idle.transition_worker_to_searching());
        assert!(idle.transition_worker_to_searching());
        assert!(!idle.transition_worker_to_searching());
    }

    #[test]
    fn last_searcher_parking_is_reported() {
        let idle = Idle::new(2);
        assert!(idle.transition_worker_to_searching());
        assert!(idle.transition_worker_to_parked(0, true));
        assert!(idle.is_parked(0));
        assert!(idle.unpark_worker_by_id(0));
        assert!(!idle.unpark_worker_by_id(0));
        assert!(!idle.all_parked());
    }
}
