//! The set of a runtime's live tasks, so shutdown can drop every future exactly once —
//! including tasks that sit idle with their wakers held elsewhere.
//!
//! Sharded by the task's address so spawns and completions on different threads rarely take
//! the same lock; a task's slot key is kept in its header.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::task::cell::Task;

/// Number of shards (a power of two).
const SHARDS: usize = 16;

#[derive(Default)]
struct Shard {
    slots: Vec<Option<Task>>,
    free: Vec<usize>,
    closed: bool,
}

/// The owned set.
pub(crate) struct OwnedTasks {
    shards: Box<[Mutex<Shard>]>,
}

impl OwnedTasks {
    pub(crate) fn new() -> OwnedTasks {
        OwnedTasks {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
        }
    }

    /// Adds a task that was just spawned. `false` when the runtime is shut down: the caller
    /// must cancel it instead of queueing it.
    pub(crate) fn insert(&self, task: &Task) -> bool {
        // Bits 6.. of the address differ between allocations; lower ones are alignment.
        let shard_index = (Arc::as_ptr(task) as *const () as usize >> 6) & (SHARDS - 1);
        let mut shard = self.shards[shard_index].lock();
        if shard.closed {
            return false;
        }
        let slot = match shard.free.pop() {
            Some(slot) => {
                shard.slots[slot] = Some(task.clone());
                slot
            }
            None => {
                shard.slots.push(Some(task.clone()));
                shard.slots.len() - 1
            }
        };
        task.header()
            .owned_key
            .store(slot * SHARDS + shard_index, Relaxed);
        true
    }

    /// Removes a completed task.
    pub(crate) fn remove(&self, key: usize) {
        let task = {
            let mut shard = self.shards[key % SHARDS].lock();
            let task = shard.slots.get_mut(key / SHARDS).and_then(Option::take);
            if task.is_some() {
                shard.free.push(key / SHARDS);
            }
            task
        };
        // Dropped outside the lock: the last reference may run arbitrary destructors.
        drop(task);
    }

    /// Refuses new tasks from now on and returns every live one.
    pub(crate) fn close_and_take_all(&self) -> Vec<Task> {
        let mut all = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = shard.lock();
            shard.closed = true;
            shard.free.clear();
            all.extend(shard.slots.drain(..).flatten());
        }
        all
    }
}
