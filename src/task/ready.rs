//! The ready list of a task group: which members' tasks have finished, and the waker of the
//! task waiting on the group.
//!
//! Each member gets an `Entry`, which the group uses as the waker when it polls the
//! member's `JoinHandle`, so the task cell keeps it as its join waker and fires it once, when
//! the task completes. Firing pushes the member's slot index onto the shared list and wakes
//! whoever waits on the group. The group pops indices with [`ReadyList::next`] and polls only
//! those members: the cost per completion is O(1), whatever the size of the group.
//!
//! Invariants:
//! - An index on the list is a hint, never a promise: the slot may be vacant or hold a newer
//!   member by the time it is popped. Polling a member whose task is not finished is harmless
//!   (it re-registers the same waker), so stale indices cost one poll.
//! - `Entry::queued` is true while the index is listed (or the entry is retired); a firing
//!   entry only pushes when it flips it from false to true, so a member is listed at most
//!   once. The group clears it (`rearm`) *before* polling the member, so a completion racing
//!   with the poll lists the member again rather than being lost.
//! - A new member starts listed on the group's private batch, so its first poll registers
//!   the entry with the task.
//! - A member removed without finishing (detached, handed back as pending, or left in a
//!   dropped group) has its entry retired (`queued` stuck at true): its task keeps the
//!   entry but never lists it again.
//! - The lock guards the list and the waiting task's waker only. Nothing is woken or dropped
//!   under it: a waker's `wake` or `Drop` may run anything, even this group's members
//!   (whose completion takes the lock), so a replaced or released waker leaves the lock
//!   first, and panics in it are contained (`task::callback`).
//!
//! The loom model in `loom_ready.rs` checks these rules against a member completing while
//! the group waits, re-registers or is dropped.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Waker};

use futures_task::ArcWake;

use crate::sync::atomic::AtomicBool;
use crate::sync::atomic::Ordering::{AcqRel, Release};
use crate::sync::Mutex;
use crate::task::callback;

/// The group's side of the ready list: the shared part, plus a private batch of indices
/// taken from it in one go (or queued at insert), consumed from `cursor` on, so the lock is
/// taken once per batch, not once per member.
pub(crate) struct ReadyList {
    shared: Arc<ReadyShared>,
    local: Vec<usize>,
    cursor: usize,
}

/// What the members' entries share with the group.
struct ReadyShared {
    ready: Mutex<Ready>,
}

struct Ready {
    /// Indices of members whose task fired its entry, in firing order.
    list: Vec<usize>,
    /// The waker of the task waiting on the group; taken by the first entry that fires.
    waker: Option<Waker>,
}

/// A member's waker.
pub(crate) struct Entry {
    shared: Arc<ReadyShared>,
    index: usize,
    queued: AtomicBool,
}

impl Entry {
    /// The group is about to poll the member: a completion from now on lists it again.
    pub(crate) fn rearm(&self) {
        self.queued.store(false, Release);
    }

    /// The member left the group: its task may keep the entry, but it never lists it again.
    pub(crate) fn retire(&self) {
        self.queued.store(true, Release);
    }
}

impl ArcWake for Entry {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        if arc_self.queued.swap(true, AcqRel) {
            return;
        }
        let waker = {
            let mut ready = arc_self.shared.ready.lock();
            ready.list.push(arc_self.index);
            ready.waker.take()
        };
        if let Some(waker) = waker {
            callback::wake(waker);
        }
    }
}

impl ReadyList {
    pub(crate) fn new() -> ReadyList {
        ReadyList {
            shared: Arc::new(ReadyShared {
                ready: Mutex::new(Ready {
                    list: Vec::new(),
                    waker: None,
                }),
            }),
            local: Vec::new(),
            cursor: 0,
        }
    }

    /// The entry of a new member at slot `index`; the member starts listed (on the private
    /// batch), so that its first poll registers the entry with its task.
    pub(crate) fn entry(&mut self, index: usize) -> Arc<Entry> {
        self.local.push(index);
        Arc::new(Entry {
            shared: self.shared.clone(),
            index,
            queued: AtomicBool::new(true),
        })
    }

    /// Pops a listed index, refilling the private batch from the shared list when needed.
    /// With `cx`, an empty shared list stores its waker (under the same lock a firing entry
    /// takes, so no completion slips between the check and the store); the waker it
    /// replaces is dropped after the lock is released.
    pub(crate) fn next(&mut self, cx: Option<&Context<'_>>) -> Option<usize> {
        if self.cursor == self.local.len() {
            self.local.clear();
            self.cursor = 0;
            let replaced = {
                let mut ready = self.shared.ready.lock();
                if ready.list.is_empty() {
                    match cx {
                        Some(cx)
                            if !ready
                                .waker
                                .as_ref()
                                .is_some_and(|w| w.will_wake(cx.waker())) =>
                        {
                            ready.waker.replace(cx.waker().clone())
                        }
                        _ => None,
                    }
                } else {
                    std::mem::swap(&mut ready.list, &mut self.local);
                    None
                }
            };
            if replaced.is_some() {
                callback::release(replaced);
            }
            if self.local.is_empty() {
                return None;
            }
        }
        let index = self.local[self.cursor];
        self.cursor += 1;
        Some(index)
    }

    /// Forgets the private batch (the group dropped every member).
    pub(crate) fn clear_batch(&mut self) {
        self.local.clear();
        self.cursor = 0;
    }
}

impl Drop for ReadyList {
    fn drop(&mut self) {
        // Let go of the waiting task's waker, which would otherwise live as long as the
        // slowest member's task; dropped unlocked, like every waker here.
        let waker = self.shared.ready.lock().waker.take();
        callback::release(waker);
    }
}

impl fmt::Debug for ReadyList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadyList")
            .field("batch", &(self.local.len() - self.cursor))
            .finish_non_exhaustive()
    }
}
