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

mod expiry;
mod level;
#[cfg(test)]
mod tests;

use level::{Level, NIL, SLOTS, SLOT_BITS};

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
