//! The engine behind `JoinSet`, `wait`, `join_all`, `try_join_all` and `as_completed`: a slab
//! of `JoinHandle`s in which only the members whose task finished are polled.
//!
//! Each member is a `JoinHandle` plus an `Entry` of the group's ready list (see `ready.rs`):
//! the group polls a member's handle with its entry as the waker, so the member's completion
//! lists it, and `poll_next` polls only listed members.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_task::waker_ref;

use crate::task::ready::{Entry, ReadyList};
use crate::task::{Id, JoinError, JoinHandle};

/// A member that finished: its slot index, its task's id and its result.
pub(crate) type Finished<T> = (usize, Id, Result<T, JoinError>);

/// A set of join handles, polled in completion order.
pub(crate) struct Group<T> {
    slots: Vec<Option<Member<T>>>,
    /// Vacant slot indices, reused before the slab grows.
    free: Vec<usize>,
    len: usize,
    ready: ReadyList,
}

struct Member<T> {
    handle: JoinHandle<T>,
    entry: Arc<Entry>,
}

impl<T> Group<T> {
    pub(crate) fn new() -> Group<T> {
        Group {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
            ready: ReadyList::new(),
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
        let entry = self.ready.entry(index);
        let member = Some(Member { handle, entry });
        if index == self.slots.len() {
            self.slots.push(member);
        } else {
            self.slots[index] = member;
        }
        self.len += 1;
        index
    }

    /// Takes the member at `index` out of the group, retiring its waker.
    fn remove(&mut self, index: usize) -> Option<JoinHandle<T>> {
        let member = self.slots.get_mut(index)?.take()?;
        member.entry.retire();
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
        self.ready.clear_batch();
        handles
    }

    /// Aborts every member; their results (cancelled, or finished just before) still come
    /// out of `poll_next`.
    pub(crate) fn abort_all(&self) {
        for handle in self.handles() {
            handle.abort();
        }
    }

    /// The next finished member, `None` when the group is empty.
    ///
    /// With `cx`, `Pending` means its waker is stored and fires when a member finishes.
    /// Without, `Pending` only means that no member is known to be finished.
    pub(crate) fn poll_next(&mut self, cx: Option<&Context<'_>>) -> Poll<Option<Finished<T>>> {
        loop {
            if self.len == 0 {
                return Poll::Ready(None);
            }
            let Some(index) = self.ready.next(cx) else {
                return Poll::Pending;
            };
            let Some(Some(member)) = self.slots.get_mut(index) else {
                continue;
            };
            member.entry.rearm();
            let waker = waker_ref(&member.entry);
            let mut member_cx = Context::from_waker(&waker);
            if let Poll::Ready(result) = Pin::new(&mut member.handle).poll(&mut member_cx) {
                let id = member.handle.id();
                self.slots[index] = None;
                self.free.push(index);
                self.len -= 1;
                return Poll::Ready(Some((index, id, result)));
            }
        }
    }
}

impl<T> Drop for Group<T> {
    fn drop(&mut self) {
        // Members' tasks outlive the group and keep their entries (as their join wakers):
        // retire the entries so finishing tasks skip the lock. The ready list, dropped
        // next, lets go of the waiting task's waker.
        for member in self.slots.iter().flatten() {
            member.entry.retire();
        }
    }
}

impl<T> fmt::Debug for Group<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Group").field("len", &self.len).finish()
    }
}
