//! Loom model of the owned set against shutdown: a spawn racing `close_and_take_all` is
//! either taken by it or refused, a completed task batched by a worker is removed once (by
//! the batch or by shutdown, never both), and nothing stays in the set afterwards.
//!
//! Run with:
//!
//! ```text
//! LOOM_MAX_PREEMPTIONS=3 RUSTFLAGS="--cfg flywheel_loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test --release --lib loom_owned
//! ```
//!
//! The model runs the production `Set` (shards, keys, `remove_all` of a worker's batch,
//! `close_and_take_all`) with two shards, over items that count how often they were taken
//! out. Each spawned item is "live" until the model marks it complete; shutdown "drops" the
//! future of every live item it takes, exactly as `Runtime::shutdown` cancels the tasks it
//! takes (an item already complete is skipped, as `transition_to_shutdown` skips it).

use loom::thread;

use super::owned::Set;
use crate::sync::atomic::AtomicUsize;
use crate::sync::atomic::Ordering::{AcqRel, Acquire};
use crate::sync::Arc;

/// A task as the owned set sees it.
struct Item {
    /// Bit 0: complete; bit 1: its future was dropped by shutdown.
    state: AtomicUsize,
    /// Times it was taken out of the set.
    taken: AtomicUsize,
}

const COMPLETE: usize = 1;
const SHUT_DOWN: usize = 2;

impl Item {
    fn new() -> Arc<Item> {
        Arc::new(Item {
            state: AtomicUsize::new(0),
            taken: AtomicUsize::new(0),
        })
    }

    /// The worker finishes it, unless shutdown dropped it first.
    fn complete(&self) -> bool {
        self.state.fetch_or(COMPLETE, AcqRel) & SHUT_DOWN == 0
    }

    /// Shutdown drops its future, unless it completed first.
    fn shut_down(&self) {
        let _ = self.state.fetch_or(SHUT_DOWN, AcqRel);
    }

    fn took(&self) {
        self.taken.fetch_add(1, AcqRel);
    }
}

/// A spawner on the remote shard, a worker completing a task of its home shard (batched, as
/// a foreign removal would be), and shutdown.
#[test]
fn loom_owned_spawn_complete_shutdown() {
    loom::model(|| {
        let set = Arc::new(Set::<Arc<Item>>::with_shards(2));
        // A task the worker spawned on its shard before the race.
        let running = Item::new();
        let running_key = set.insert(&running, 0).expect("not closed yet");

        let worker = {
            let set = set.clone();
            let running = running.clone();
            thread::spawn(move || {
                if running.complete() {
                    let mut keys = vec![running_key];
                    let mut out = Vec::new();
                    set.remove_all(&mut keys, &mut out);
                    for item in out {
                        item.took();
                    }
                }
            })
        };
        let spawned = Item::new();
        let spawner = {
            let set = set.clone();
            let spawned = spawned.clone();
            thread::spawn(move || set.insert(&spawned, 1).is_some())
        };

        for item in set.close_and_take_all() {
            item.took();
            if item.state.load(Acquire) & COMPLETE == 0 {
                item.shut_down();
            }
        }
        worker.join().unwrap();
        let accepted = spawner.join().unwrap();

        // Nothing is left in the set, and nothing was taken twice.
        assert!(set.close_and_take_all().is_empty());
        assert_eq!(Arc::strong_count(&running), 1);
        assert_eq!(Arc::strong_count(&spawned), 1);
        assert_eq!(running.taken.load(Acquire), 1);
        // An accepted spawn was taken by shutdown and its future dropped; a refused one
        // was never in the set (the caller cancels it).
        let spawned_state = spawned.state.load(Acquire);
        if accepted {
            assert_eq!(spawned.taken.load(Acquire), 1);
            assert_eq!(spawned_state, SHUT_DOWN);
        } else {
            assert_eq!(spawned.taken.load(Acquire), 0);
            assert_eq!(spawned_state, 0);
        }
        // The running task ends exactly one way: completed, or dropped by shutdown.
        let running_state = running.state.load(Acquire);
        assert!(running_state == COMPLETE || running_state & SHUT_DOWN != 0);
    });
}
