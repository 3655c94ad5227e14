//! One level of the timer wheel: 64 slots, each covering `64^level` milliseconds.
//!
//! A level only knows the head of each slot's list (the nodes live in the wheel's slab) and a
//! bitmask of the occupied slots, so finding the next occupied slot is a rotate and a
//! trailing-zeros count.
//!
//! Invariant kept by the wheel: an entry sits at level `l` only when its deadline agrees with
//! the wheel's elapsed time on every bit above `6 * (l + 1)`, so its slot is always at or after
//! the slot that holds the elapsed time. The top level is the exception: deadlines that cross
//! into the next top-level block wrap around to a slot before the current one.

/// Bits of a deadline that select the slot within one level.
pub(super) const SLOT_BITS: u32 = 6;
/// Slots per level.
pub(super) const SLOTS: usize = 1 << SLOT_BITS;
/// The "no node" link value.
pub(super) const NIL: u32 = u32::MAX;

/// A level: the heads of its 64 slot lists and which of them are non-empty.
pub(super) struct Level {
    /// Which level this is: slot width is `64^level` ms.
    level: u32,
    /// Bit `s` is set when slot `s` holds at least one entry.
    occupied: u64,
    /// Head node of each slot's doubly linked list, `NIL` when empty.
    heads: [u32; SLOTS],
}

/// The next slot to process: at `level`, `slot`, whose range starts at `deadline` ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Expiration {
    pub(super) level: usize,
    pub(super) slot: usize,
    pub(super) deadline: u64,
}

impl Level {
    pub(super) fn new(level: u32) -> Level {
        Level {
            level,
            occupied: 0,
            heads: [NIL; SLOTS],
        }
    }

    /// Milliseconds covered by one slot.
    fn slot_range(&self) -> u64 {
        1 << (SLOT_BITS * self.level)
    }

    /// Milliseconds covered by the whole level.
    fn level_range(&self) -> u64 {
        self.slot_range() << SLOT_BITS
    }

    /// The slot holding `deadline` at this level.
    pub(super) fn slot_for(&self, deadline: u64) -> usize {
        ((deadline >> (SLOT_BITS * self.level)) as usize) & (SLOTS - 1)
    }

    pub(super) fn head(&self, slot: usize) -> u32 {
        self.heads[slot]
    }

    /// Sets a slot's head, keeping the occupancy bit in step.
    pub(super) fn set_head(&mut self, slot: usize, head: u32) {
        self.heads[slot] = head;
        if head == NIL {
            self.occupied &= !(1 << slot);
        } else {
            self.occupied |= 1 << slot;
        }
    }

    /// The first occupied slot at or after the one holding `elapsed`, with the time its
    /// range starts.
    pub(super) fn next_expiration(&self, elapsed: u64) -> Option<Expiration> {
        if self.occupied == 0 {
            return None;
        }
        let current = self.slot_for(elapsed);
        let distance = self.occupied.rotate_right(current as u32).trailing_zeros() as usize;
        let slot = (current + distance) % SLOTS;
        let block_start = elapsed & !(self.level_range() - 1);
        let mut deadline = block_start + slot as u64 * self.slot_range();
        if slot < current {
            // Only the top level wraps: the slot belongs to the next block.
            deadline += self.level_range();
        }
        Some(Expiration {
            level: self.level as usize,
            slot,
            deadline,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_widths_grow_by_64() {
        let l0 = Level::new(0);
        let l2 = Level::new(2);
        assert_eq!(l0.slot_for(65), 1);
        assert_eq!(l2.slot_for(4096 * 3 + 7), 3);
    }

    #[test]
    fn next_expiration_finds_the_first_occupied_slot_from_now() {
        let mut level = Level::new(1);
        level.set_head(5, 0);
        level.set_head(9, 1);
        // Elapsed 64 * 6 + 3: slot 6 of level 1, so slot 9 is next (5 lies behind).
        let exp = level.next_expiration(64 * 6 + 3).unwrap();
        assert_eq!(exp.slot, 9);
        assert_eq!(exp.deadline, 64 * 9);
        level.set_head(9, NIL);
        // Slot 5 is behind the current one: it wraps into the next block.
        let exp = level.next_expiration(64 * 6 + 3).unwrap();
        assert_eq!(exp.deadline, 64 * 64 + 64 * 5);
        level.set_head(5, NIL);
        assert_eq!(level.next_expiration(0), None);
    }
}
