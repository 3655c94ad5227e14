//! The set of a runtime's live tasks, so shutdown can drop every future exactly once —
//! including tasks that sit idle with their wakers held elsewhere.
//!
//! Sharded by the task's address so spawns and completions on different threads rarely take
//! the same lock; a task's slot key is kept in its header.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU64, AtomicUsize};
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
    /// Per shard, written under its lock: (alive, spawned) for `Handle::metrics`.
    counts: Box<[ShardCounts]>,
}

/// A shard's task counts, in their own cache line; only the shard's lock holder writes.
#[derive(Default)]
#[repr(align(128))]
struct ShardCounts {
    alive: AtomicUsize,
    spawned: AtomicU64,
}

impl OwnedTasks {
    pub(crate) fn new() -> OwnedTasks {
        OwnedTasks {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            counts: (0..SHARDS).map(|_| ShardCounts::default()).collect(),
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
        self.counts[shard_index].added();
        true
    }

    /// Removes a completed task.
    pub(crate) fn remove(&self, key: usize) {
        let task = {
            let mut shard = self.shards[key % SHARDS].lock();
            let task = shard.slots.get_mut(key / SHARDS).and_then(Option::take);
            if task.is_some() {
                shard.free.push(key / SHARDS);
                self.counts[key % SHARDS].removed(1);
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
        // Closed and drained: no `insert` or `remove` changes a count any more.
        self.counts.iter().for_each(|c| c.alive.store(0, Relaxed));
        all
    }

    /// Tasks spawned and not yet removed (for `RuntimeMetrics::num_alive_tasks`).
    pub(crate) fn num_alive(&self) -> usize {
        self.counts.iter().map(|c| c.alive.load(Relaxed)).sum()
    }

    /// Tasks ever inserted (for `RuntimeMetrics::spawned_tasks_count`).
    pub(crate) fn num_spawned(&self) -> u64 {
        self.counts.iter().map(|c| c.spawned.load(Relaxed)).sum()
    }
}

impl ShardCounts {
    /// A task joined the shard; the caller holds the shard's lock.
    fn added(&self) {
        self.alive.store(self.alive.load(Relaxed) + 1, Relaxed);
        self.spawned.store(self.spawned.load(Relaxed) + 1, Relaxed);
    }

    /// `n` tasks left the shard; the caller holds the shard's lock.
    fn removed(&self, n: usize) {
        self.alive.store(self.alive.load(Relaxed) - n, Relaxed);
    }
}
