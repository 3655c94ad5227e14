//! The set of a runtime's live tasks, so shutdown can drop every future exactly once —
//! including tasks that sit idle with their wakers held elsewhere.
//!
//! Sharded by the thread that spawns: worker `i` inserts into its home shard
//! `i % HOME_SHARDS`, any other thread into the remote shards in turn, `RELEASE_BATCH`
//! spawns in each before the next (each thread starting at another one). A task's key
//! (shard and slot) is kept in its header. So a spawn takes a lock nobody else wants, whose
//! lines stay in the spawner's cache, and a task that completes on the worker that spawned
//! it is removed the same way. (A remote thread that kept one shard met the workers removing
//! its earlier tasks there: 3% of a remote spawn burst's cycles went to that lock.) A worker that completes a task of another shard does
//! not take that shard's lock for it: it collects the key in its `Released` list and removes
//! `RELEASE_BATCH` of them at a time (and all of them before it parks), one lock per shard,
//! so a spawner and the workers that run its tasks bounce a shard's lock and slot lines once
//! per batch instead of once per task. A released key's slot is not reused before its batch
//! is removed, so a key never names another task.
//!
//! Shutdown closes every shard under its lock and takes what is left (some of it may be
//! complete and waiting in a `Released` list: shutting such a task down does nothing); an
//! insert that finds its shard closed is refused, so a spawn racing shutdown is either taken
//! by it or refused, never lost. Tasks are dropped outside the locks.
//!
//! `Handle::dump` walks the set the same way shutdown does, one shard lock at a time, but
//! only reads each task's header under it (no clone, no drop, no user code).

use std::cell::Cell;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU64, AtomicUsize};

use crate::runtime::context;
use crate::runtime::scheduler::Core;
use crate::sync::StdMutex as Mutex;
use crate::task::cell::Task;

/// Shards for the runtime's workers (worker `i` uses `i % HOME_SHARDS`).
const HOME_SHARDS: usize = 16;
/// Shards for every other thread (each thread takes them in turn).
const REMOTE_SHARDS: usize = 16;
/// Bits of a key that name its shard; the slot is in the others.
const SHARD_BITS: u32 = 5;
/// Mask of the shard bits of a key.
const SHARD_MASK: usize = (1 << SHARD_BITS) - 1;
/// Removals of other shards' tasks a worker collects before it takes their locks.
const RELEASE_BATCH: usize = 32;

const _: () = assert!(HOME_SHARDS + REMOTE_SHARDS == 1 << SHARD_BITS);

/// Numbers the threads that spawn from outside a runtime's workers.
static NEXT_REMOTE: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's remote spawns, plus an offset so that threads start at different
    /// shards; the shard is `HOME_SHARDS + turn / RELEASE_BATCH % REMOTE_SHARDS`.
    static REMOTE_TURN: Cell<usize> =
        Cell::new(NEXT_REMOTE.fetch_add(1, Relaxed).wrapping_mul(RELEASE_BATCH));
}

/// The remote shard of this thread's next spawn.
fn remote_shard() -> usize {
    let turn = REMOTE_TURN
        .try_with(|turn| {
            let now = turn.get();
            turn.set(now.wrapping_add(1));
            now
        })
        // A spawn from a thread-local destructor, after this one is gone.
        .unwrap_or(0);
    HOME_SHARDS + turn / RELEASE_BATCH % REMOTE_SHARDS
}

/// A value alone on its cache lines (two: the adjacent-line prefetcher pairs them), so that
/// shards used by different threads do not share one.
#[repr(align(128))]
struct Padded<T>(T);

struct Shard<T> {
    slots: Vec<Option<T>>,
    free: Vec<usize>,
    closed: bool,
}

/// The sharded slot table, generic so the loom model can fill it with counters.
pub(crate) struct Set<T> {
    shards: Box<[Padded<Locked<T>>]>,
}

/// A shard and its counts for `Handle::metrics`. Only the lock holder writes the counts
/// (plain load + store), so they cost no read-modify-write; readers never take the lock.
struct Locked<T> {
    shard: Mutex<Shard<T>>,
    /// Items in the shard.
    alive: AtomicUsize,
    /// Items ever inserted.
    spawned: AtomicU64,
}

impl<T> Locked<T> {
    /// `n` items left the shard; the caller holds its lock.
    fn removed(&self, n: usize) {
        if n > 0 {
            self.alive.store(self.alive.load(Relaxed) - n, Relaxed);
        }
    }
}

impl<T: Clone> Set<T> {
    pub(crate) fn new() -> Set<T> {
        Set::with_shards(SHARD_MASK + 1)
    }

    /// A set with only `count` shards (at most `SHARD_MASK + 1`): the loom model uses two.
    pub(crate) fn with_shards(count: usize) -> Set<T> {
        debug_assert!(count <= SHARD_MASK + 1);
        Set {
            shards: (0..count)
                .map(|_| {
                    Padded(Locked {
                        shard: Mutex::new(Shard {
                            slots: Vec::new(),
                            free: Vec::new(),
                            closed: false,
                        }),
                        alive: AtomicUsize::new(0),
                        spawned: AtomicU64::new(0),
                    })
                })
                .collect(),
        }
    }

    /// Stores a clone of `item` in `shard`; its key, or `None` once the set is closed.
    pub(crate) fn insert(&self, item: &T, shard: usize) -> Option<usize> {
        let locked = &self.shards[shard].0;
        let mut guard = locked.shard.lock();
        if guard.closed {
            return None;
        }
        let slot = match guard.free.pop() {
            Some(slot) => {
                guard.slots[slot] = Some(item.clone());
                slot
            }
            None => {
                guard.slots.push(Some(item.clone()));
                guard.slots.len() - 1
            }
        };
        locked.alive.store(locked.alive.load(Relaxed) + 1, Relaxed);
        locked
            .spawned
            .store(locked.spawned.load(Relaxed) + 1, Relaxed);
        Some(slot << SHARD_BITS | shard)
    }

    /// Takes the item under `key` out (`None` when shutdown took it already). The caller
    /// drops it, outside the lock.
    pub(crate) fn remove(&self, key: usize) -> Option<T> {
        let locked = &self.shards[key & SHARD_MASK].0;
        let mut shard = locked.shard.lock();
        let item = take_slot(&mut shard, key >> SHARD_BITS);
        locked.removed(usize::from(item.is_some()));
        item
    }

    /// Takes the items under `keys` out into `out`, one lock per shard; empties `keys`.
    pub(crate) fn remove_all(&self, keys: &mut Vec<usize>, out: &mut Vec<T>) {
        keys.sort_unstable_by_key(|key| key & SHARD_MASK);
        let mut rest = &keys[..];
        while let Some(&first) = rest.first() {
            let shard_index = first & SHARD_MASK;
            let run = rest
                .iter()
                .position(|key| key & SHARD_MASK != shard_index)
                .unwrap_or(rest.len());
            let locked = &self.shards[shard_index].0;
            let mut shard = locked.shard.lock();
            let before = out.len();
            out.extend(
                rest[..run]
                    .iter()
                    .filter_map(|key| take_slot(&mut shard, key >> SHARD_BITS)),
            );
            locked.removed(out.len() - before);
            drop(shard);
            rest = &rest[run..];
        }
        keys.clear();
    }

    /// A clone of the item under `key`, if it is still there (the long-poll watchdog looks
    /// up the task a stuck worker is polling).
    pub(crate) fn get(&self, key: usize) -> Option<T> {
        let locked = &self.shards.get(key & SHARD_MASK)?.0;
        let shard = locked.shard.lock();
        shard.slots.get(key >> SHARD_BITS)?.clone()
    }

    /// Refuses new items from now on and returns every one still there.
    pub(crate) fn close_and_take_all(&self) -> Vec<T> {
        let mut all = Vec::new();
        for locked in self.shards.iter() {
            let mut shard = locked.0.shard.lock();
            shard.closed = true;
            shard.free.clear();
            all.extend(shard.slots.drain(..).flatten());
            locked.0.alive.store(0, Relaxed);
        }
        all
    }

    /// Calls `f` on every item, shard by shard, holding one shard's lock at a time (for
    /// `Handle::dump`). `f` runs under that lock: it must only read (no user code, no wake,
    /// no other lock of this set). A spawn or a removal on a shard waits for at most one
    /// shard's worth of `f`; items inserted or removed meanwhile may or may not be seen.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&T)) {
        for locked in self.shards.iter() {
            let shard = locked.0.shard.lock();
            shard.slots.iter().flatten().for_each(&mut f);
        }
    }

    /// Items inserted and not yet removed. Completed tasks a worker holds in its `Released`
    /// batch still count until the batch is removed (at the latest when the worker parks).
    pub(crate) fn num_alive(&self) -> usize {
        self.shards.iter().map(|s| s.0.alive.load(Relaxed)).sum()
    }

    /// Items ever inserted.
    pub(crate) fn num_spawned(&self) -> u64 {
        self.shards.iter().map(|s| s.0.spawned.load(Relaxed)).sum()
    }
}

fn take_slot<T>(shard: &mut Shard<T>, slot: usize) -> Option<T> {
    let item = shard.slots.get_mut(slot).and_then(Option::take);
    if item.is_some() {
        shard.free.push(slot);
    }
    item
}

/// The owned set of a runtime.
pub(crate) struct OwnedTasks {
    set: Set<Task>,
}

impl OwnedTasks {
    pub(crate) fn new() -> OwnedTasks {
        OwnedTasks { set: Set::new() }
    }

    /// Adds a task that was just spawned. `false` when the runtime is shut down: the caller
    /// must cancel it instead of queueing it.
    pub(crate) fn insert(&self, task: &Task) -> bool {
        let home = context::with_core(|core| match core {
            Some(Core::MultiThread(core)) => core.worker_of(self),
            _ => None,
        });
        let shard = match home {
            Some(worker) => worker % HOME_SHARDS,
            None => remote_shard(),
        };
        match self.set.insert(task, shard) {
            Some(key) => {
                task.header().owned_key.store(key, Relaxed);
                true
            }
            None => false,
        }
    }

    /// Removes a completed task: at once, unless a worker of this runtime completed it and
    /// another thread spawned it (the worker then batches it, see the module docs).
    pub(crate) fn remove(&self, key: usize) {
        let batched = context::with_core(|core| match core {
            Some(Core::MultiThread(core)) => match core.worker_of(self) {
                Some(worker) if worker % HOME_SHARDS != key & SHARD_MASK => {
                    core.release_owned(key);
                    true
                }
                _ => false,
            },
            _ => false,
        });
        if !batched {
            // Dropped outside the lock: the last reference may run arbitrary destructors.
            drop(self.set.remove(key));
        }
    }

    /// The task under `key`, while it is in the set. The caller drops it outside every lock.
    pub(crate) fn get(&self, key: usize) -> Option<Task> {
        self.set.get(key)
    }

    /// Refuses new tasks from now on and returns every live one.
    pub(crate) fn close_and_take_all(&self) -> Vec<Task> {
        self.set.close_and_take_all()
    }

    /// Calls `f` on every live task, one shard lock at a time (see `Set::for_each`); tasks
    /// that completed but are still in a worker's `Released` batch are passed too.
    pub(crate) fn for_each(&self, f: impl FnMut(&Task)) {
        self.set.for_each(f);
    }

    /// Tasks spawned and not yet removed (for `RuntimeMetrics::num_alive_tasks`).
    pub(crate) fn num_alive(&self) -> usize {
        self.set.num_alive()
    }

    /// Tasks ever inserted (for `RuntimeMetrics::spawned_tasks_count`).
    pub(crate) fn num_spawned(&self) -> u64 {
        self.set.num_spawned()
    }
}

/// A worker's keys of completed tasks of other shards, not yet removed.
#[derive(Default)]
pub(crate) struct Released {
    keys: Vec<usize>,
    /// Tasks just taken out, dropped once every lock is released; kept for its capacity.
    taken: Vec<Task>,
}

impl Released {
    /// Adds `key`; removes the whole batch from `owned` when it is full.
    pub(crate) fn push(&mut self, key: usize, owned: &OwnedTasks) {
        self.keys.push(key);
        if self.keys.len() >= RELEASE_BATCH {
            self.flush(owned);
        }
    }

    /// Removes every collected key from `owned` (a worker does it before it parks, so an
    /// idle runtime keeps no completed task).
    pub(crate) fn flush(&mut self, owned: &OwnedTasks) {
        if self.keys.is_empty() {
            return;
        }
        owned.set.remove_all(&mut self.keys, &mut self.taken);
        self.taken.clear();
    }
}

#[cfg(all(test, not(flywheel_loom)))]
mod tests {
    use super::{remote_shard, HOME_SHARDS, RELEASE_BATCH, REMOTE_SHARDS};

    /// A plain thread fills a remote shard with `RELEASE_BATCH` spawns, then moves on to the
    /// next, so the workers releasing its earlier tasks do not take the lock it spawns under.
    #[test]
    fn a_remote_thread_takes_the_remote_shards_in_turn() {
        std::thread::spawn(|| {
            let shards: Vec<usize> = (0..RELEASE_BATCH * (REMOTE_SHARDS + 1))
                .map(|_| remote_shard())
                .collect();
            assert!(shards
                .iter()
                .all(|s| (HOME_SHARDS..HOME_SHARDS + REMOTE_SHARDS).contains(s)));
            let runs: Vec<&[usize]> = shards.chunk_by(|a, b| a == b).collect();
            // The first run may be cut short by the thread's start offset; none is longer.
            assert!(runs.iter().all(|run| run.len() <= RELEASE_BATCH));
            assert!(runs[1..runs.len() - 1]
                .iter()
                .all(|run| run.len() == RELEASE_BATCH));
            let mut distinct = shards.clone();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(
                distinct.len(),
                REMOTE_SHARDS,
                "every remote shard gets a turn"
            );
        })
        .join()
        .expect("the spawning thread");
    }
}
