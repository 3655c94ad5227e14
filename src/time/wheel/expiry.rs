//! Advancing the wheel: finding the next slot due, emptying it (firing due entries, cascading
//! the rest to lower levels) and handing due entries out one by one through `pending`.

use super::level::{Expiration, NIL};
use super::{Place, Wheel};

impl<T> Wheel<T> {
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

    fn push_front_pending(&mut self, index: u32) {
        let head = self.pending;
        self.push_front(index, head);
        self.pending = index;
        self.nodes[index as usize].place = Place::Pending;
    }
}
