//! The schedulers' queues: the shared `Injector` (a ring behind a lock, both flavours), and
//! the only code that touches crossbeam-deque (each worker's local queue): `Steal::Retry`
//! is handled here so the worker loop reads as plain `Option`s.
//!
//! Under `--cfg flywheel_loom` (the crate's unit tests only) the local queues' `Worker` and
//! `Stealer` are replaced by the `Injector` itself, which loom can model (`loom_queue`
//! below). It keeps what the wake-up protocol relies on from crossbeam's memory orderings:
//! a push publishes the new length with a plain release store (no read-modify-write, no
//! SeqCst), and `is_empty` reads it without taking the lock, so a lost wake-up caused by a
//! weak "is anybody asleep?" check after a push is visible to loom as it is on real
//! hardware.

#[cfg(not(all(test, flywheel_loom)))]
pub(crate) use crossbeam_deque::{Stealer, Worker};
#[cfg(all(test, flywheel_loom))]
pub(crate) use loom_queue::{Stealer, Worker};

use std::collections::VecDeque;

use crate::sync::atomic::AtomicUsize;
use crate::sync::atomic::Ordering::{Acquire, Release, SeqCst};
use crate::sync::{atomic, StdMutex};

/// Most tasks one worker takes from the injector at once. crossbeam's local queue starts
/// with 64 slots; a batch that outgrew them would cost an allocation (and a shrink later).
pub(crate) const INJECTOR_BATCH: usize = 32;
/// An empty injector whose ring grew past this many slots gives the memory back.
const KEEP_CAPACITY: usize = 4096;

/// The shared queue of both schedulers (remote spawns and wakes): a ring behind a lock, with
/// its length mirrored in an atomic so emptiness checks take no lock.
///
/// Not crossbeam's `Injector`: that one is a list of 63-slot blocks, allocated by the
/// pushing thread and freed by the worker that empties them. With glibc's allocator, that
/// free takes the lock of the spawning thread's arena, the same lock its next task
/// allocation takes; a spawning thread that met it there slept in the kernel, and on a
/// machine whose cores the workers keep busy it waited a whole time slice (3-4 ms) to run
/// again, about once per 10 000 spawns (`spawn_many_remote_busy`). This ring allocates only
/// when it grows, and its lock is taken for a push or a batch of `INJECTOR_BATCH` moves.
pub(crate) struct Injector<T> {
    items: StdMutex<VecDeque<T>>,
    /// `items.len()`, stored under the lock (a plain release store, no read-modify-write,
    /// as crossbeam's queues publish a push); read without it.
    len: AtomicUsize,
}

impl<T> Injector<T> {
    pub(crate) fn new() -> Injector<T> {
        Injector {
            items: StdMutex::new(VecDeque::new()),
            len: AtomicUsize::new(0),
        }
    }

    pub(crate) fn push(&self, item: T) {
        let mut items = self.items.lock();
        items.push_back(item);
        self.len.store(items.len(), Release);
    }

    /// Takes the task at the front.
    pub(crate) fn pop(&self) -> Option<T> {
        // A limit of 1: nothing goes to the sink.
        self.pop_batch(1, 1, drop)
    }

    /// Takes the task at the front and hands up to `limit - 1` more to `sink` (under the
    /// lock: keep it to a push): no more than a fair share, the queue's length over
    /// `takers`, so one worker does not take everything while the others look for work.
    pub(crate) fn pop_batch(
        &self,
        limit: usize,
        takers: usize,
        mut sink: impl FnMut(T),
    ) -> Option<T> {
        // No fence here: a push this misses is found at the next look, or by `is_empty`
        // before the worker sleeps.
        if self.len.load(Acquire) == 0 {
            return None;
        }
        let mut items = self.items.lock();
        let first = items.pop_front()?;
        let share = items.len() / takers.max(1) + 1;
        let take = share.min(limit.saturating_sub(1)).min(items.len());
        items.drain(..take).for_each(&mut sink);
        self.emptied(&mut items);
        Some(first)
    }

    /// Takes every queued task out (they are dropped by the caller, outside the lock).
    pub(crate) fn take_all(&self) -> VecDeque<T> {
        let mut items = self.items.lock();
        self.len.store(0, Release);
        std::mem::take(&mut *items)
    }

    /// Publishes the new length after a pop; an empty ring that grew large is freed.
    fn emptied(&self, items: &mut VecDeque<T>) {
        self.len.store(items.len(), Release);
        if items.is_empty() && items.capacity() > KEEP_CAPACITY {
            *items = VecDeque::new();
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        // As crossbeam's `is_empty`: a SeqCst fence, so a worker that announced it is going
        // to sleep (a SeqCst read-modify-write) and then looks here sees an earlier push.
        atomic::fence(SeqCst);
        self.len.load(Acquire) == 0
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Acquire)
    }
}

/// Takes one task from the shared queue, moving up to `limit - 1` more into `local`.
pub(crate) fn steal_injector<T>(
    injector: &Injector<T>,
    local: &Worker<T>,
    limit: usize,
    workers: usize,
) -> Option<T> {
    injector.pop_batch(limit, workers, |task| local.push(task))
}

/// Steals half of another worker's queue into `local`, returning one task to run.
pub(crate) fn steal_from<T>(stealer: &Stealer<T>, local: &Worker<T>) -> Option<T> {
    loop {
        match stealer.steal_batch_and_pop(local) {
            Steal::Success(task) => return Some(task),
            Steal::Empty => return None,
            Steal::Retry => std::hint::spin_loop(),
        }
    }
}

/// Takes the one task at the front of another worker's queue (its LIFO slot, in `rescue.rs`).
pub(crate) fn steal_one<T>(stealer: &Stealer<T>) -> Option<T> {
    loop {
        match stealer.steal() {
            Steal::Success(task) => return Some(task),
            Steal::Empty => return None,
            Steal::Retry => std::hint::spin_loop(),
        }
    }
}

/// One round of a searching worker: every other worker's queue, starting at `start` so the
/// searchers do not all rob the same victim, then the injector. `me` is the searcher's own
/// index in `stealers`; with `more_than > 0`, only queues longer than that are robbed.
/// `stolen` is set to the number of tasks taken from other workers.
pub(crate) fn steal_any<T>(
    stealers: &[Stealer<T>],
    me: usize,
    start: usize,
    more_than: usize,
    local: &Worker<T>,
    injector: &Injector<T>,
    stolen: &mut usize,
) -> Option<T> {
    let n = stealers.len();
    let before = local.len();
    (0..n)
        .map(|i| (start + i) % n)
        .filter(|&victim| victim != me)
        .filter(|&victim| more_than == 0 || stealers[victim].len() > more_than)
        .find_map(|victim| steal_from(&stealers[victim], local))
        .map(|task| {
            *stolen = (local.len() + 1).saturating_sub(before);
            task
        })
        .or_else(|| steal_injector(injector, local, INJECTOR_BATCH, n))
}

#[cfg(not(all(test, flywheel_loom)))]
use crossbeam_deque::Steal;
#[cfg(all(test, flywheel_loom))]
use loom_queue::Steal;

/// crossbeam-deque's local-queue API subset over `Injector`, for the loom models.
#[cfg(all(test, flywheel_loom))]
mod loom_queue {
    use super::Injector;
    use crate::sync::Arc;

    /// crossbeam's three-way steal result (these queues never ask to retry).
    pub(crate) enum Steal<T> {
        Empty,
        Success(T),
        #[allow(dead_code)]
        Retry,
    }

    impl<T> From<Option<T>> for Steal<T> {
        fn from(item: Option<T>) -> Steal<T> {
            item.map_or(Steal::Empty, Steal::Success)
        }
    }

    /// A worker's local queue (FIFO).
    pub(crate) struct Worker<T>(Arc<Injector<T>>);

    /// Another worker's handle on it.
    pub(crate) struct Stealer<T>(Arc<Injector<T>>);

    impl<T> Worker<T> {
        pub(crate) fn new_fifo() -> Worker<T> {
            Worker(Arc::new(Injector::new()))
        }
        pub(crate) fn stealer(&self) -> Stealer<T> {
            Stealer(self.0.clone())
        }
        pub(crate) fn push(&self, item: T) {
            self.0.push(item);
        }
        pub(crate) fn pop(&self) -> Option<T> {
            self.0.pop()
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.len()
        }
    }

    impl<T> Stealer<T> {
        /// Half of the queue, as crossbeam's: one returned, the rest moved into `dest`.
        pub(crate) fn steal_batch_and_pop(&self, dest: &Worker<T>) -> Steal<T> {
            self.0
                .pop_batch(usize::MAX, 2, |item| dest.push(item))
                .into()
        }
        pub(crate) fn steal(&self) -> Steal<T> {
            self.0.pop().into()
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.len()
        }
    }
}

#[cfg(all(test, not(flywheel_loom)))]
mod tests {
    use super::{Injector, Worker, KEEP_CAPACITY};

    #[test]
    fn a_batch_is_a_fair_share_capped_by_the_limit() {
        let injector = Injector::new();
        (0..10).for_each(|i| injector.push(i));
        let local = Worker::new_fifo();
        // One of 10 is taken, and half of the 9 left (rounded up) goes to the local queue.
        assert_eq!(
            injector.pop_batch(32, 2, |i| local.push(i)),
            Some(0),
            "the front task is returned"
        );
        assert_eq!(local.len(), 5);
        assert_eq!(injector.len(), 4);
        // The limit caps it: the front one plus 1 more.
        assert_eq!(injector.pop_batch(2, 1, |i| local.push(i)), Some(6));
        assert_eq!((local.len(), injector.len()), (6, 2));
        let taken: Vec<_> = std::iter::from_fn(|| local.pop()).collect();
        assert_eq!(taken, [1, 2, 3, 4, 5, 7], "FIFO order is kept");
        assert_eq!(injector.pop(), Some(8));
        assert_eq!(injector.pop(), Some(9));
        assert_eq!(injector.pop(), None);
        assert_eq!(
            injector.pop_batch(32, 2, |_| panic!("nothing to move")),
            None
        );
        assert!(injector.is_empty());
    }

    #[test]
    fn an_emptied_large_ring_gives_its_memory_back() {
        let injector = Injector::new();
        (0..2 * KEEP_CAPACITY).for_each(|i| injector.push(i));
        assert!(injector.items.lock().capacity() > KEEP_CAPACITY);
        while injector.pop_batch(64, 1, drop).is_some() {}
        assert_eq!(injector.items.lock().capacity(), 0);
        // A small one keeps its ring: the next burst allocates nothing.
        (0..10).for_each(|i| injector.push(i));
        while injector.pop().is_some() {}
        assert!(injector.items.lock().capacity() >= 10);
    }

    #[test]
    fn take_all_empties_it() {
        let injector = Injector::new();
        (0..3).for_each(|i| injector.push(i));
        assert_eq!(injector.take_all(), [0, 1, 2]);
        assert!(injector.is_empty());
        assert_eq!(injector.len(), 0);
        assert_eq!(injector.pop(), None);
    }
}
