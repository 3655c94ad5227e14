//! The waiters of one direction of one I/O source: the task that last polled through a
//! `poll_*` method, and a slab of slots for waiting futures.
//!
//! A future takes a slot when it first has to wait, keeps it across polls (so a poll does not
//! allocate once the slab has grown to the number of concurrent waiters) and gives it back
//! when it is dropped. Slot indices are owned: from `register` (which hands the index out)
//! until `remove`, only that future names the index, so no generation is needed. Waking
//! takes the wakers out but leaves the slots taken: the woken future polls again through the
//! same slot, or frees it when dropped.
//!
//! The list has no lock of its own: `ScheduledIo` keeps both directions' lists behind one.

use std::mem;
use std::task::Waker;

/// Marks the end of the free-slot chain.
const NO_SLOT: usize = usize::MAX;

/// One slot of a waiter list.
#[derive(Debug)]
enum Slot {
    /// Free; holds the index of the next free slot (or `NO_SLOT`).
    Vacant { next: usize },
    /// Owned by a waiting future: its waker, or `None` once woken (until it polls again).
    Taken(Option<Waker>),
}

/// The waiters of one direction of one source.
#[derive(Debug)]
pub(super) struct WaiterList {
    /// The task that last polled through a `poll_*` method.
    polled: Option<Waker>,
    /// Slots of waiting futures; a future owns its index from `register` until `remove`.
    slots: Vec<Slot>,
    /// First free slot, or `NO_SLOT`.
    next_free: usize,
    /// Slots that hold a waker: a wake scans `slots` only when this is not zero.
    waiting: usize,
}

impl WaiterList {
    pub(super) fn new() -> WaiterList {
        WaiterList {
            polled: None,
            slots: Vec::new(),
            next_free: NO_SLOT,
            waiting: 0,
        }
    }

    /// Stores `waker` as the polled slot's; returns the waker it replaced.
    pub(super) fn register_polled(&mut self, waker: &Waker) -> Option<Waker> {
        match &self.polled {
            Some(stored) if stored.will_wake(waker) => None,
            _ => self.polled.replace(waker.clone()),
        }
    }

    /// Stores `waker` in the slot `key` names, taking a slot first when `key` is `None`;
    /// returns the waker it replaced.
    pub(super) fn register(&mut self, key: &mut Option<usize>, waker: &Waker) -> Option<Waker> {
        if let Some(index) = *key {
            if let Some(Slot::Taken(stored)) = self.slots.get_mut(index) {
                return match stored {
                    Some(old) if old.will_wake(waker) => None,
                    Some(old) => Some(mem::replace(old, waker.clone())),
                    None => {
                        *stored = Some(waker.clone());
                        self.waiting += 1;
                        None
                    }
                };
            }
            debug_assert!(false, "a waiter's slot {index} was freed under it");
        }
        let slot = Slot::Taken(Some(waker.clone()));
        let index = match self.slots.get(self.next_free) {
            Some(&Slot::Vacant { next }) => {
                let index = mem::replace(&mut self.next_free, next);
                self.slots[index] = slot;
                index
            }
            _ => {
                self.slots.push(slot);
                self.slots.len() - 1
            }
        };
        self.waiting += 1;
        *key = Some(index);
        None
    }

    /// Frees slot `index`; returns its waker, if it still held one.
    pub(super) fn remove(&mut self, index: usize) -> Option<Waker> {
        let Some(slot) = self.slots.get_mut(index) else {
            debug_assert!(false, "no waiter slot {index}");
            return None;
        };
        match mem::replace(
            slot,
            Slot::Vacant {
                next: self.next_free,
            },
        ) {
            Slot::Taken(waker) => {
                self.next_free = index;
                if waker.is_some() {
                    self.waiting -= 1;
                }
                waker
            }
            vacant @ Slot::Vacant { .. } => {
                debug_assert!(false, "waiter slot {index} freed twice");
                *slot = vacant;
                None
            }
        }
    }

    /// Moves every stored waker into `wakers`; the futures keep their slots.
    pub(super) fn take_all(&mut self, wakers: &mut Vec<Waker>) {
        wakers.extend(self.polled.take());
        if self.waiting == 0 {
            return;
        }
        for slot in &mut self.slots {
            if let Slot::Taken(stored) = slot {
                wakers.extend(stored.take());
            }
        }
        self.waiting = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use futures_task::ArcWake;

    struct Nothing;

    impl ArcWake for Nothing {
        fn wake_by_ref(_: &Arc<Self>) {}
    }

    #[test]
    fn slots_are_reused_and_woken_slots_stay_taken() {
        let waker = futures_task::waker(Arc::new(Nothing));
        let mut list = WaiterList::new();
        let mut keys = [None; 3];
        for key in &mut keys {
            assert!(list.register(key, &waker).is_none());
        }
        assert_eq!(keys, [Some(0), Some(1), Some(2)]);
        // Polling again with the same waker neither allocates nor replaces anything.
        assert!(list.register(&mut keys[0], &waker).is_none());
        assert_eq!(list.slots.len(), 3);
        assert!(list.remove(1).is_some());
        let mut woken = Vec::new();
        list.take_all(&mut woken);
        assert_eq!(woken.len(), 2);
        assert_eq!(list.waiting, 0);
        // A woken future keeps its slot and re-registers in it.
        assert!(list.register(&mut keys[2], &waker).is_none());
        assert_eq!((keys[2], list.waiting), (Some(2), 1));
        assert!(list.remove(0).is_none(), "slot 0 was woken: no waker left");
        // Freed slots are handed out again, most recently freed first.
        let mut new = [None; 3];
        for key in &mut new {
            list.register(key, &waker);
        }
        assert_eq!(new, [Some(0), Some(1), Some(3)]);
        assert_eq!(list.waiting, 4);
    }
}
