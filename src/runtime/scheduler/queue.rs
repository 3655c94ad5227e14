//! The only code that touches crossbeam-deque: `Steal::Retry` is handled here so the worker
//! loop reads as plain `Option`s.

use crossbeam_deque::{Injector, Steal, Stealer, Worker};

/// Most tasks one worker takes from the injector at once (crossbeam caps it at one block).
const INJECTOR_BATCH: usize = 128;

/// Takes one task from the shared queue, moving a batch into `local` when there is more.
pub(crate) fn steal_injector<T>(injector: &Injector<T>, local: &Worker<T>) -> Option<T> {
    loop {
        match injector.steal_batch_with_limit_and_pop(local, INJECTOR_BATCH) {
            Steal::Success(task) => return Some(task),
            Steal::Empty => return None,
            Steal::Retry => std::hint::spin_loop(),
        }
    }
}

/// Takes one task from the shared queue without touching any local queue.
pub(crate) fn pop_injector<T>(injector: &Injector<T>) -> Option<T> {
    loop {
        match injector.steal() {
            Steal::Success(task) => return Some(task),
            Steal::Empty => return None,
            Steal::Retry => std::hint::spin_loop(),
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
