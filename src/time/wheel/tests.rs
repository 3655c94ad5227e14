//! Unit tests of the wheel, driven by explicit millisecond counts, and the test-only hook
//! that ages a slab node.

use super::*;

impl<T> Wheel<T> {
    /// Advances the generation of a free node as `times` insert-and-remove cycles would.
    fn reuse(&mut self, index: u32, times: u64) {
        let node = &mut self.nodes[index as usize];
        assert_eq!(node.place, Place::Free);
        node.generation = node.generation.wrapping_add(times);
    }
}

/// Drains everything due at `now`, sorted.
fn drain(wheel: &mut Wheel<u64>, now: u64) -> Vec<u64> {
    let mut out = Vec::new();
    while let Some(v) = wheel.poll(now) {
        out.push(v);
    }
    out.sort_unstable();
    out
}

/// Steps the wheel one ms at a time the way a driver would (jumping to each
/// `next_expiration`), recording when each value fires.
fn run_until(wheel: &mut Wheel<u64>, end: u64) -> Vec<(u64, u64)> {
    let mut fired = Vec::new();
    while let Some(next) = wheel.next_expiration() {
        if next > end {
            break;
        }
        while let Some(v) = wheel.poll(next) {
            fired.push((next, v));
        }
    }
    fired
}

#[test]
fn insert_and_fire_at_the_deadline_not_before() {
    let mut wheel = Wheel::new();
    wheel.insert(5, 5);
    assert_eq!(wheel.next_expiration(), Some(5));
    assert_eq!(drain(&mut wheel, 4), Vec::<u64>::new());
    assert_eq!(wheel.elapsed(), 4);
    assert_eq!(drain(&mut wheel, 5), vec![5]);
    assert_eq!(wheel.len(), 0);
    assert_eq!(wheel.next_expiration(), None);
}

#[test]
fn past_deadlines_fire_on_the_next_poll() {
    let mut wheel = Wheel::new();
    assert_eq!(drain(&mut wheel, 100), Vec::<u64>::new());
    wheel.insert(3, 3);
    assert_eq!(wheel.next_expiration(), Some(100));
    assert_eq!(drain(&mut wheel, 100), vec![3]);
}

#[test]
fn cancel_frees_the_entry_and_stale_keys_do_nothing() {
    let mut wheel = Wheel::new();
    let a = wheel.insert(10, 1);
    let b = wheel.insert(10, 2);
    assert_eq!(wheel.remove(a), Some(1));
    assert_eq!(wheel.remove(a), None);
    // The freed node is reused under a new generation; the old key stays dead.
    let c = wheel.insert(20, 3);
    assert_eq!(c.index, a.index);
    assert_eq!(wheel.remove(a), None);
    assert_eq!(wheel.get_mut(c), Some(&mut 3));
    assert_eq!(drain(&mut wheel, 10), vec![2]);
    assert_eq!(wheel.remove(b), None, "fired entries cannot be cancelled");
    assert_eq!(wheel.remove(c), Some(3));
    assert_eq!(wheel.len(), 0);
    assert_eq!(wheel.next_expiration(), None);
}

#[test]
fn a_stale_key_stays_dead_however_often_its_node_is_reused() {
    let mut wheel = Wheel::new();
    let stale = wheel.insert(10, 0);
    assert_eq!(wheel.remove(stale), Some(0));
    // As if 2^32 - 2 more timers had used the node since (a hot `timeout` loop does
    // that in minutes): 2^32 - 1 frees so far.
    wheel.reuse(stale.index, (1 << 32) - 2);
    let newer = wheel.insert(10, 1);
    assert_eq!(newer.index, stale.index);
    assert_eq!(wheel.remove(newer), Some(1));
    // The 2^32-th reuse of the node.
    let live = wheel.insert(10, 2);
    assert_eq!(live.index, stale.index);
    assert_eq!(
        wheel.get_mut(stale),
        None,
        "a stale key reached a newer timer"
    );
    assert_eq!(
        wheel.remove(stale),
        None,
        "a stale key cancelled a newer timer"
    );
    assert_eq!(wheel.remove(live), Some(2));
}

#[test]
fn drain_takes_every_entry_and_leaves_an_empty_wheel() {
    let mut wheel = Wheel::new();
    let deadlines = [1, 1, 70, 5000, 1 << 30, u64::MAX];
    let keys: Vec<Key> = deadlines.map(|d| wheel.insert(d, d)).to_vec();
    // Two are due at 1: `poll` hands out one and leaves the other pending.
    let first = wheel.poll(1).expect("due");
    let mut all = wheel.drain();
    all.push(first);
    all.sort_unstable();
    assert_eq!(all, deadlines);
    assert_eq!(wheel.len(), 0);
    assert_eq!(wheel.next_expiration(), None);
    for key in keys {
        assert_eq!(wheel.remove(key), None);
    }
    // Reusable afterwards.
    wheel.insert(3, 3);
    assert_eq!(drain(&mut wheel, 3), vec![3]);
}

#[test]
fn cascades_across_every_level_boundary() {
    // A deadline on each side of each level boundary, fired exactly on time.
    let mut deadlines = Vec::new();
    for level in 1..LEVELS as u32 {
        let boundary = 1u64 << (SLOT_BITS * level);
        deadlines.extend([boundary - 1, boundary, boundary + 1, 3 * boundary + 7]);
    }
    deadlines.retain(|&d| d <= MAX_DELAY);
    let mut wheel = Wheel::new();
    for &d in &deadlines {
        wheel.insert(d, d);
    }
    let fired = run_until(&mut wheel, u64::MAX);
    assert_eq!(fired.len(), deadlines.len());
    for (at, value) in fired {
        assert_eq!(at, value, "fired at {at}, due at {value}");
    }
}

#[test]
fn cascades_from_a_non_zero_start() {
    let mut wheel = Wheel::new();
    assert_eq!(drain(&mut wheel, 4_000_000_123), Vec::<u64>::new());
    let start = wheel.elapsed();
    let offsets = [
        1,
        63,
        64,
        65,
        4095,
        4096,
        262_143,
        262_144,
        16_777_217,
        1 << 30,
    ];
    for off in offsets {
        wheel.insert(start + off, start + off);
    }
    let fired = run_until(&mut wheel, u64::MAX);
    let got: Vec<u64> = fired
        .iter()
        .map(|&(at, v)| {
            assert_eq!(at, v);
            v - start
        })
        .collect();
    assert_eq!(got, offsets);
}

#[test]
fn far_deadlines_are_clamped_and_still_fire() {
    let mut wheel = Wheel::new();
    wheel.insert(u64::MAX, 1);
    assert_eq!(wheel.next_expiration().map(|d| d <= MAX_DELAY), Some(true));
    let fired = run_until(&mut wheel, u64::MAX);
    assert_eq!(fired, vec![(MAX_DELAY, 1)]);
}

#[test]
fn top_level_wraps_into_the_next_block() {
    let mut wheel = Wheel::new();
    let start = (1u64 << 36) - 10;
    drain(&mut wheel, start);
    wheel.insert(start + 20, 1);
    wheel.insert(start + (1 << 31), 2);
    let fired = run_until(&mut wheel, u64::MAX);
    assert_eq!(fired, vec![(start + 20, 1), (start + (1 << 31), 2)]);
}

#[test]
fn many_entries_in_one_slot() {
    let mut wheel = Wheel::new();
    let keys: Vec<Key> = (0..10_000).map(|i| wheel.insert(5000, i)).collect();
    for key in keys.iter().step_by(2) {
        assert!(wheel.remove(*key).is_some());
    }
    let fired = drain(&mut wheel, 5000);
    assert_eq!(
        fired,
        (0..10_000).filter(|i| i % 2 == 1).collect::<Vec<_>>()
    );
    assert_eq!(wheel.len(), 0);
}

#[test]
fn cancel_while_the_slot_is_being_processed() {
    let mut wheel = Wheel::new();
    let keys: Vec<Key> = (0..3).map(|i| wheel.insert(7, i)).collect();
    let first = wheel.poll(7).expect("three are due");
    // The other two now wait in `pending`; cancel one of them.
    let victim = keys
        .iter()
        .copied()
        .find(|&k| wheel.get_mut(k).is_some())
        .unwrap();
    let cancelled = wheel.remove(victim).unwrap();
    let last = wheel.poll(7).expect("one is left");
    assert_eq!(wheel.poll(7), None);
    let mut all = vec![first, cancelled, last];
    all.sort_unstable();
    assert_eq!(all, vec![0, 1, 2]);
    assert_ne!(last, cancelled);
}

#[test]
fn random_deadlines_fire_in_order_and_on_time() {
    let mut wheel = Wheel::new();
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut expected = Vec::new();
    for i in 0..5000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let d = x % (1 << (6 * (i % 5 + 1)));
        wheel.insert(d, d);
        expected.push(d);
    }
    expected.sort_unstable();
    let fired = run_until(&mut wheel, u64::MAX);
    for &(at, v) in &fired {
        assert_eq!(at, v);
    }
    let mut got: Vec<u64> = fired.into_iter().map(|(_, v)| v).collect();
    let sorted = {
        let mut s = got.clone();
        s.sort_unstable();
        s
    };
    assert_eq!(got, sorted, "fired in deadline order");
    got.sort_unstable();
    assert_eq!(got, expected);
}
