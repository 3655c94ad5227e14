//! The only code that touches crossbeam-deque: `Steal::Retry` is handled here so the worker
//! loop reads as plain `Option`s.
//!
//! Under `--cfg flywheel_loom` (the crate's unit tests only) the multi-thread scheduler's
//! `Injector`, `Worker` and `Stealer` are replaced by a mutex-protected queue that loom can
//! model (`loom_queue` below). It keeps what the wake-up protocol relies on from crossbeam's
//! memory orderings: a push to a worker's local queue publishes the new length with a plain
//! release store (no read-modify-write, no SeqCst), and `is_empty` reads it without taking the
//! lock, so a lost wake-up caused by a weak "is anybody asleep?" check after a push is
//! visible to loom as it is on real hardware.

#[cfg(not(all(test, flywheel_loom)))]
pub(crate) use crossbeam_deque::{Injector, Stealer, Worker};
#[cfg(all(test, flywheel_loom))]
pub(crate) use loom_queue::{Injector, Stealer, Worker};

/// Most tasks one worker takes from the injector at once (crossbeam caps it at one block).
pub(crate) const INJECTOR_BATCH: usize = 128;

/// Takes one task from the shared queue, moving up to `limit - 1` more into `local`.
pub(crate) fn steal_injector<T>(
    injector: &Injector<T>,
    local: &Worker<T>,
    limit: usize,
) -> Option<T> {
    loop {
        match injector.steal_batch_with_limit_and_pop(local, limit) {
            Steal::Success(task) => return Some(task),
            Steal::Empty => return None,
            Steal::Retry => std::hint::spin_loop(),
        }
    }
}

/// Takes one task from the shared queue without touching any local queue.
pub(crate) fn pop_injector<T>(injector: &impl PopOne<T>) -> Option<T> {
    injector.pop_one()
}

/// A shared queue `pop_injector` takes from: crossbeam's injector (the current-thread
/// scheduler's, in every build) or the scheduler's `Injector` (the loom stand-in under loom).
pub(crate) trait PopOne<T> {
    fn pop_one(&self) -> Option<T>;
}

impl<T> PopOne<T> for crossbeam_deque::Injector<T> {
    fn pop_one(&self) -> Option<T> {
        loop {
            match self.steal() {
                crossbeam_deque::Steal::Success(task) => return Some(task),
                crossbeam_deque::Steal::Empty => return None,
                crossbeam_deque::Steal::Retry => std::hint::spin_loop(),
            }
        }
    }
}

#[cfg(all(test, flywheel_loom))]
impl<T> PopOne<T> for Injector<T> {
    fn pop_one(&self) -> Option<T> {
        match self.steal() {
            Steal::Success(task) => Some(task),
            _ => None,
        }
    }
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
            *stolen = local.len() + 1 - before;
            task
        })
        .or_else(|| steal_injector(injector, local, INJECTOR_BATCH))
}

#[cfg(not(all(test, flywheel_loom)))]
use crossbeam_deque::Steal;
#[cfg(all(test, flywheel_loom))]
use loom_queue::Steal;

/// Mutex queues with crossbeam-deque's API subset, for the loom models.
#[cfg(all(test, flywheel_loom))]
mod loom_queue {
    use std::collections::VecDeque;

    use crate::sync::atomic::AtomicUsize;
    use crate::sync::atomic::Ordering::{Acquire, Release, SeqCst};
    use crate::sync::{atomic, Arc, Mutex};

    /// crossbeam's three-way steal result (these queues never ask to retry).
    pub(crate) enum Steal<T> {
        Empty,
        Success(T),
        #[allow(dead_code)]
        Retry,
    }

    struct Inner<T> {
        items: Mutex<VecDeque<T>>,
        /// `items.len()`, stored (never read-modify-written) under the lock; read without it.
        len: AtomicUsize,
    }

    impl<T> Inner<T> {
        fn new() -> Inner<T> {
            Inner {
                items: Mutex::new(VecDeque::new()),
                len: AtomicUsize::new(0),
            }
        }

        fn push(&self, item: T) {
            let mut items = self.items.lock();
            items.push_back(item);
            // crossbeam's `Worker::push`: a release fence, then a relaxed store of `back`.
            self.len.store(items.len(), Release);
        }

        fn pop(&self) -> Option<T> {
            let mut items = self.items.lock();
            let item = items.pop_front();
            self.len.store(items.len(), Release);
            item
        }

        /// Moves up to `limit` items into `dest` and pops one of them.
        fn steal_batch_and_pop(&self, dest: &Worker<T>, limit: usize) -> Steal<T> {
            let mut items = self.items.lock();
            let Some(first) = items.pop_front() else {
                return Steal::Empty;
            };
            let take = items.len().div_ceil(2).min(limit.saturating_sub(1));
            for _ in 0..take {
                if let Some(item) = items.pop_front() {
                    dest.push(item);
                }
            }
            self.len.store(items.len(), Release);
            Steal::Success(first)
        }

        fn len(&self) -> usize {
            self.len.load(Acquire)
        }

        fn is_empty(&self) -> bool {
            // crossbeam's `Stealer::is_empty`: acquire loads around a SeqCst fence.
            atomic::fence(SeqCst);
            self.len.load(Acquire) == 0
        }
    }

    /// A worker's local queue (FIFO).
    pub(crate) struct Worker<T>(Arc<Inner<T>>);

    /// Another worker's handle on it.
    pub(crate) struct Stealer<T>(Arc<Inner<T>>);

    /// The shared queue.
    pub(crate) struct Injector<T>(Inner<T>);

    impl<T> Worker<T> {
        pub(crate) fn new_fifo() -> Worker<T> {
            Worker(Arc::new(Inner::new()))
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
        pub(crate) fn steal_batch_and_pop(&self, dest: &Worker<T>) -> Steal<T> {
            self.0.steal_batch_and_pop(dest, usize::MAX)
        }
        pub(crate) fn steal(&self) -> Steal<T> {
            match self.0.pop() {
                Some(item) => Steal::Success(item),
                None => Steal::Empty,
            }
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.len()
        }
    }

    impl<T> Injector<T> {
        pub(crate) fn new() -> Injector<T> {
            Injector(Inner::new())
        }
        pub(crate) fn push(&self, item: T) {
            self.0.push(item);
        }
        pub(crate) fn steal(&self) -> Steal<T> {
            match self.0.pop() {
                Some(item) => Steal::Success(item),
                None => Steal::Empty,
            }
        }
        pub(crate) fn steal_batch_with_limit_and_pop(
            &self,
            dest: &Worker<T>,
            limit: usize,
        ) -> Steal<T> {
            self.0.steal_batch_and_pop(dest, limit)
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.len()
        }
    }
}
