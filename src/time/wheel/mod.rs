//! A hierarchical timing wheel: a pure data structure driven by an integer millisecond count.
//!
//! Six levels of 64 slots. A slot at level `l` covers `64^l` ms, so level 0 resolves single
//! milliseconds and level 5 spans about two years; deadlines further out are clamped to
//! [`MAX_DELAY`]: such an entry fires at the horizon, early, and its owner (see
//! `time::entry`) notices the deadline has not come and registers again.
//!
//! An entry is placed at the lowest level whose slot width still separates its deadline from
//! the wheel's elapsed time (the highest bit where the two differ picks the level). As time
//! advances the wheel processes slots in deadline order: a level-0 slot's entries are due; a
//! higher slot's entries are *cascaded*, re-inserted relative to the new elapsed time, which
//! puts each one at a lower level, until it reaches level 0 and fires.
//!
//! Storage: entries live in one slab (`Vec<Node>` plus a free list), keyed by index and a
//! generation that changes each time a node is freed, so a stale [`Key`] (a timer that already
//! fired) is recognised and ignored. The generation is 64 bits: a hot `timeout` loop reuses
//! one node millions of times a second, which would wrap 32 bits within minutes and let an
//! old key held by a slow task cancel someone else's timer; 64 bits never wrap. Slots are doubly linked lists threaded through the slab by
//! index, so insert and cancel are O(1) and need no allocation once the slab has grown to the
//! peak number of concurrent timers. The slab never shrinks.
//!
//! Entries due in the slot being processed are moved to a `pending` list and handed out one
//! by one by [`Wheel::poll`]; a cancel meanwhile unlinks them from there just as from a slot.

mod level;

use level::{Expiration, Level, NIL, SLOTS, SLOT_BITS};

/// Number of levels.
const LEVELS: usize = 6;
/// The longest delay the wheel represents, in ms (about 2 years). Kept a top-level slot short
/// of the full range so a wrapped top-level slot is never the current one.
pub(crate) const MAX_DELAY: u64 =
    (1 << (SLOT_BITS as u64 * LEVELS as u64)) - (1 << (SLOT_BITS as u64 * (LEVELS as u64 - 1))) - 1;

/// Identifies an entry: its slab index and the generation it was inserted under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key {
    index: u32,
    generation: u64,
}

/// Where a node is linked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// On the free list (`next` is the next free node).
    Free,
    /// In a slot list.
    Slot { level: u8, slot: u8 },
    /// Due; waiting to be returned by `poll`.
    Pending,
}

struct Node<T> {
    value: Option<T>,
    deadline: u64,
    generation: u64,
    prev: u32,
    next: u32,
    place: Place,
}

/// The wheel. `T` is what a timer carries (the driver stores the task's `Waker`).
pub(crate) struct Wheel<T> {
    /// Milliseconds processed so far: every entry with a deadline at or before this fired.
    elapsed: u64,
    levels: [Level; LEVELS],
    nodes: Vec<Node<T>>,
    /// Head of the free list.
    free: u32,
    /// Head of the list of due entries not yet returned by `poll`.
    pending: u32,
    len: usize,
}

impl<T> Wheel<T> {
    pub(crate) fn new() -> Wheel<T> {
        Wheel {
            elapsed: 0,
            levels: std::array::from_fn(|l| Level::new(l as u32)),
            nodes: Vec::new(),
            free: NIL,
            pending: NIL,
            len: 0,
        }
    }

    /// Milliseconds processed so far.
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Number of live entries.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Number of slab nodes ever allocated (live or free).
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.nodes.len()
    }

    /// Inserts an entry due at `deadline` ms. A deadline already reached fires on the next
    /// `poll`; one beyond `elapsed + MAX_DELAY` is clamped to that.
    pub(crate) fn insert(&mut self, deadline: u64, value: T) -> Key {
        let deadline = deadline.clamp(self.elapsed, self.elapsed + MAX_DELAY);
        let index = if self.free == NIL {
            let index = u32::try_from(self.nodes.len()).expect("fewer than 4 billion timers");
            assert!(index != NIL, "fewer than 4 billion timers");
            self.nodes.push(Node {
                value: None,
                deadline: 0,
                generation: 0,
                prev: NIL,
                next: NIL,
                place: Place::Free,
            });
            index
        } else {
            let index = self.free;
            self.free = self.nodes[index as usize].next;
            index
        };
        let node = &mut self.nodes[index as usize];
        node.value = Some(value);
        node.deadline = deadline;
        let generation = node.generation;
        self.len += 1;
        self.link(index);
        Key { index, generation }
    }

    /// Cancels an entry and returns its value; `None` when it already fired or was removed.
    pub(crate) fn remove(&mut self, key: Key) -> Option<T> {
        self.node_mut(key)?;
        self.unlink(key.index);
        Some(self.free_node(key.index))
    }

    /// Removes every entry, due or not, and returns their values (the time driver shutting
    /// down). Their keys go stale, as when they fire.
    pub(crate) fn drain(&mut self) -> Vec<T> {
        let mut values = Vec::with_capacity(self.len);
        for index in 0..self.nodes.len() {
            if self.nodes[index].place != Place::Free {
                let index = index as u32;
                self.unlink(index);
                values.push(self.free_node(index));
            }
        }
        values
    }

    /// The value of a live entry.
    pub(crate) fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        self.node_mut(key)?.value.as_mut()
    }

    /// The ms at which `poll` next returns something: `elapsed` when entries are already
    /// due, `None` when the wheel is empty.
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        if self.pending != NIL {
            return Some(self.elapsed);
        }
        self.next_slot().map(|exp| exp.deadline)
    }

    /// Returns one entry due at or before `now`, removing it; `None` when none is left, after
    /// which `elapsed` is `now`.
    pub(crate) fn poll(&mut self, now: u64) -> Option<T> {
        loop {
            if self.pending != NIL {
                let index = self.pending;
                self.unlink(index);
                return Some(self.free_node(index));
            }
            match self.next_slot() {
                Some(exp) if exp.deadline <= now => self.process_slot(exp, now),
                _ => {
                    self.elapsed = self.elapsed.max(now);
                    return None;
                }
            }
        }
    }

    fn next_slot(&self) -> Option<Expiration> {
        // Entries at a lower level always come before those at a higher one.
        self.levels
            .iter()
            .find_map(|level| level.next_expiration(self.elapsed))
    }

    /// Empties a slot: due entries go to `pending`, the rest cascade to lower levels.
    fn process_slot(&mut self, exp: Expiration, now: u64) {
        debug_assert!(exp.deadline >= self.elapsed);
        self.elapsed = exp.deadline;
        let level = &mut self.levels[exp.level];
        let mut index = level.head(exp.slot);
        level.set_head(exp.slot, NIL);
        while index != NIL {
            let node = &mut self.nodes[index as usize];
            let next = node.next;
            if node.deadline <= now {
                self.push_front_pending(index);
            } else {
                self.link(index);
            }
            index = next;
        }
    }

    fn node_mut(&mut self, key: Key) -> Option<&mut Node<T>> {
        self.nodes
            .get_mut(key.index as usize)
            .filter(|node| node.generation == key.generation && node.place != Place::Free)
    }

    /// Links a node into the slot for its deadline.
    fn link(&mut self, index: u32) {
        let deadline = self.nodes[index as usize].deadline.max(self.elapsed);
        let level = level_for(self.elapsed, deadline);
        let slot = self.levels[level].slot_for(deadline);
        let head = self.levels[level].head(slot);
        self.push_front(index, head);
        self.levels[level].set_head(slot, index);
        self.nodes[index as usize].place = Place::Slot {
            level: level as u8,
            slot: slot as u8,
        };
    }

    fn push_front_pending(&mut self, index: u32) {
        let head = self.pending;
        self.push_front(index, head);
        self.pending = index;
        self.nodes[index as usize].place = Place::Pending;
    }

    /// Makes `index` the node before `head` (the caller stores the new head).
    fn push_front(&mut self, index: u32, head: u32) {
        let node = &mut self.nodes[index as usize];
        node.prev = NIL;
        node.next = head;
        if head != NIL {
            self.nodes[head as usize].prev = index;
        }
    }

    /// Takes a node out of whichever list holds it.
    fn unlink(&mut self, index: u32) {
        let node = &self.nodes[index as usize];
        let (prev, next, place) = (node.prev, node.next, node.place);
        if next != NIL {
            self.nodes[next as usize].prev = prev;
        }
        if prev != NIL {
            self.nodes[prev as usize].next = next;
        } else {
            match place {
                Place::Slot { level, slot } => {
                    self.levels[level as usize].set_head(slot as usize, next)
                }
                Place::Pending => self.pending = next,
                Place::Free => unreachable!("unlinking a free node"),
            }
        }
    }

    /// Returns an unlinked node to the free list, bumping its generation.
    fn free_node(&mut self, index: u32) -> T {
        let node = &mut self.nodes[index as usize];
        node.generation = node.generation.wrapping_add(1);
        node.place = Place::Free;
        node.next = self.free;
        self.free = index;
        self.len -= 1;
        node.value.take().expect("a live node holds a value")
    }
}

/// The level for an entry due at `deadline` while the wheel stands at `elapsed`: the one
/// whose slot width covers the highest bit where the two differ.
fn level_for(elapsed: u64, deadline: u64) -> usize {
    let masked = (elapsed ^ deadline) | (SLOTS as u64 - 1);
    let significant = 63 - masked.leading_zeros();
    ((significant / SLOT_BITS) as usize).min(LEVELS - 1)
}

#[cfg(test)]
impl<T> Wheel<T> {
    /// Advances the generation of a free node as `times` insert-and-remove cycles would.
    fn reuse(&mut self, index: u32, times: u64) {
        let node = &mut self.nodes[index as usize];
        assert_eq!(node.place, Place::Free);
        node.generation = node.generation.wrapping_add(times);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
