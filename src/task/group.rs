//! The engine behind `JoinSet`, `wait`, `join_all`, `try_join_all` and `as_completed`: a slab
//! of `JoinHandle`s in which only the members whose task finished are polled.
//!
//! Each member is a `JoinHandle` plus an `Arc<Entry>`. The group polls a member's handle
//! with the entry as its waker, so the task cell keeps that waker and fires it once, when
//! the task completes. Firing it pushes the member's slot index onto the shared ready list
//! and wakes whoever waits on the group. `poll_next` pops indices and polls only those
//! handles: the cost per completion is O(1), whatever the size of the group.
//!
//! Invariants:
//! - An index on a ready list is a hint, never a promise: the slot may be vacant or hold a
//!   newer member by the time it is popped. Polling a member whose task is not finished is
//!   harmless (it re-registers the same waker), so stale indices cost one poll.
//! - `Entry::queued` is true while the index is on a ready list (or the entry is retired);
//!   a wake only pushes when it flips it from false to true, so a member is listed at most
//!   once. The group clears it *before* polling the handle, so a completion racing with the
//!   poll lists the member again rather than being lost.
//! - A new member starts queued on the group's private list, so its first poll registers
//!   the entry's waker with the task.
//! - A member removed without finishing (detached, handed back as pending, or left in a
//!   dropped group) has its entry retired (`queued` stuck at true): its task keeps the
//!   waker but never lists it again.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{AcqRel, Release};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures_task::{waker_ref, ArcWake};
use parking_lot::Mutex;

use crate::task::{JoinError, JoinHandle};

/// A set of join handles, polled in completion order.
pub(crate) struct Group<T> {
    slots: Vec<Option<Member<T>>>,
    /// Vacant slot indices, reused before the slab grows.
    free: Vec<usize>,
    len: usize,
    shared: Arc<Shared>,
    /// Ready indices this group took from `shared` in one batch (or queued itself at insert),
    /// consumed from `cursor` on; swapped with the shared list when used up, so the lock is
    /// taken once per batch, not once per member.
    local: Vec<usize>,
    cursor: usize,
}

struct Member<T> {
    handle: JoinHandle<T>,
    entry: Arc<Entry>,
}

/// What the members' wakers share with the group.
struct Shared {
    ready: Mutex<Ready>,
}

struct Ready {
    /// Indices of members whose task fired its waker, in firing order.
    list: Vec<usize>,
    /// The waker of the task waiting on the group; taken by the first member that fires.
    waker: Option<Waker>,
}

/// A member's waker.
struct Entry {
    shared: Arc<Shared>,
    index: usize,
    queued: AtomicBool,
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
            waker.wake();
        }
    }
}

impl<T> Group<T> {
    pub(crate) fn new() -> Group<T> {
        Group {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
            shared: Arc::new(Shared {
                ready: Mutex::new(Ready {
                    list: Vec::new(),
                    waker: None,
                }),
            }),
            local: Vec::new(),
            cursor: 0,
        }
    }

    /// A group holding `handles`, at slot indices 0, 1, 2... in iteration order.
    pub(crate) fn from_handles(handles: impl IntoIterator<Item = JoinHandle<T>>) -> Group<T> {
        let mut group = Group::new();
        let handles = handles.into_iter();
        group.slots.reserve(handles.size_hint().0);
        for handle in handles {
            group.insert(handle);
        }
        group
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Adds a member and returns its slot index.
    pub(crate) fn insert(&mut self, handle: JoinHandle<T>) -> usize {
        let index = self.free.pop().unwrap_or(self.slots.len());
        let entry = Arc::new(Entry {
            shared: self.shared.clone(),
            index,
            queued: AtomicBool::new(true),
        });
        let member = Some(Member { handle, entry });
        if index == self.slots.len() {
            self.slots.push(member);
        } else {
            self.slots[index] = member;
        }
        self.local.push(index);
        self.len += 1;
        index
    }

    /// Takes the member at `index` out of the group, retiring its waker.
    fn remove(&mut self, index: usize) -> Option<JoinHandle<T>> {
        let member = self.slots.get_mut(index)?.take()?;
        member.entry.queued.store(true, Release);
        self.free.push(index);
        self.len -= 1;
        Some(member.handle)
    }

    /// Every member, by slot index: for aborting them.
    pub(crate) fn handles(&self) -> impl Iterator<Item = &JoinHandle<T>> {
        self.slots.iter().flatten().map(|member| &member.handle)
    }

    /// Takes every member out, in slot order; their tasks keep running.
    pub(crate) fn drain(&mut self) -> Vec<JoinHandle<T>> {
        let handles: Vec<JoinHandle<T>> = (0..self.slots.len())
            .filter_map(|index| self.remove(index))
            .collect();
        self.slots.clear();
        self.free.clear();
        self.local.clear();
        self.cursor = 0;
        handles
    }

    /// Aborts every member; their results (cancelled, or finished just before) still come
    /// out of `poll_next`.
    pub(crate) fn abort_all(&self) {
        for handle in self.handles() {
            handle.abort();
        }
    }

    /// The next finished member as `(slot index, result)`, `None` when the group is empty.
    ///
    /// With `cx`, `Pending` means its waker is stored and fires when a member finishes.
    /// Without, `Pending` only means that no member is known to be finished.
    pub(crate) fn poll_next(
        &mut self,
        cx: Option<&Context<'_>>,
    ) -> Poll<Option<(usize, Result<T, JoinError>)>> {
        loop {
            if self.len == 0 {
                return Poll::Ready(None);
            }
            let Some(index) = self.next_ready(cx) else {
                return Poll::Pending;
            };
            let Some(Some(member)) = self.slots.get_mut(index) else {
                continue;
            };
            member.entry.queued.store(false, Release);
            let waker = waker_ref(&member.entry);
            let mut member_cx = Context::from_waker(&waker);
            if let Poll::Ready(result) = Pin::new(&mut member.handle).poll(&mut member_cx) {
                self.slots[index] = None;
                self.free.push(index);
                self.len -= 1;
                return Poll::Ready(Some((index, result)));
            }
        }
    }

    /// Pops a ready index, refilling the private batch from the shared list when needed.
    /// With `cx`, an empty shared list stores its waker (under the same lock a member's wake
    /// takes, so no completion slips between the check and the store).
    fn next_ready(&mut self, cx: Option<&Context<'_>>) -> Option<usize> {
        if self.cursor == self.local.len() {
            self.local.clear();
            self.cursor = 0;
            let mut ready = self.shared.ready.lock();
            if ready.list.is_empty() {
                if let Some(cx) = cx {
                    match &ready.waker {
                        Some(waker) if waker.will_wake(cx.waker()) => {}
                        _ => ready.waker = Some(cx.waker().clone()),
                    }
                }
                return None;
            }
            std::mem::swap(&mut ready.list, &mut self.local);
        }
        let index = self.local[self.cursor];
        self.cursor += 1;
        Some(index)
    }
}

impl<T> Drop for Group<T> {
    fn drop(&mut self) {
        // Members' tasks outlive the group and keep their entries (as their join wakers):
        // retire the entries so finishing tasks skip the lock, and let go of the waiting
        // task's waker, which would otherwise stay alive as long as the slowest member.
        for member in self.slots.iter().flatten() {
            member.entry.queued.store(true, Release);
        }
        self.shared.ready.lock().waker = None;
    }
}

impl<T> fmt::Debug for Group<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Group").field("len", &self.len).finish()
    }
}
