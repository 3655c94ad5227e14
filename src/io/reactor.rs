//! The reactor: one `mio::Poll` per runtime, the slab of registrations, and the
//! `mio::Waker` that interrupts a blocked poll.
//!
//! `Reactor` (the `Poll` and its event buffer) is owned by the driver and turned only by the
//! idle thread holding the driver lock. `IoHandle` is shared: any thread registers sources
//! through its `mio::Registry` (epoll is thread-safe) and its slab.
//!
//! After `IoHandle::shutdown` (the runtime shut down) no source registers any more and every
//! registered one is marked shut down and its waiters woken, so nothing waits for events
//! that nobody will deliver. The same happens, at the latest, when the handle is dropped.
//!
//! A mio `Token` carries a slab index (low `INDEX_BITS` bits) and the slot's generation
//! (the other bits). A freed slot bumps its generation, so an event still queued for a
//! dropped source never reaches a new source that reuses the slot.

use std::io;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use std::task::Waker;

use mio::{Events, Interest, Poll};
use parking_lot::Mutex;

pub(crate) use mio::Token;

use crate::io::scheduled_io::{
    self, ScheduledIo, ERROR, READABLE, READ_CLOSED, WRITABLE, WRITE_CLOSED,
};

/// The token of the `mio::Waker`; never handed to a registration.
const WAKER_TOKEN: Token = Token(usize::MAX);
/// Bits of a token that hold the slab index.
const INDEX_BITS: u32 = 24;
/// Extracts the slab index from a token.
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;
/// Most slots the slab holds; the last index is kept out so no token equals `WAKER_TOKEN`.
const MAX_SLOTS: usize = INDEX_MASK;

/// The owned half: polled by the one thread that parks on the driver.
pub(crate) struct Reactor {
    poll: Poll,
    events: Events,
    /// Counts turns; stamped on readiness so stale clears are ignored.
    tick: u16,
    /// Sources that got an event this turn; reused so a turn does not allocate.
    ready: Vec<(Arc<ScheduledIo>, usize)>,
    /// Wakers to wake at the end of this turn, once no lock is held; reused likewise.
    wakers: Vec<Waker>,
}

/// The shared half.
pub(crate) struct IoHandle {
    waker: mio::Waker,
    registry: mio::Registry,
    slab: Mutex<Slab>,
    /// Ready events dispatched so far (`RuntimeMetrics::io_driver_ready_count`).
    ready_count: AtomicU64,
}

struct Slot {
    generation: usize,
    io: Option<Arc<ScheduledIo>>,
}

#[derive(Default)]
struct Slab {
    slots: Vec<Slot>,
    free: Vec<usize>,
    /// Set by `IoHandle::shutdown`; no source registers after it.
    shut_down: bool,
}

impl Slab {
    fn insert(&mut self, io: Arc<ScheduledIo>) -> io::Result<Token> {
        if self.shut_down {
            return Err(scheduled_io::gone());
        }
        let index = match self.free.pop() {
            Some(index) => index,
            None if self.slots.len() < MAX_SLOTS => {
                self.slots.push(Slot {
                    generation: 0,
                    io: None,
                });
                self.slots.len() - 1
            }
            None => {
                return Err(io::Error::other(
                    "flywheel reactor: too many registered I/O sources",
                ))
            }
        };
        let slot = &mut self.slots[index];
        debug_assert!(slot.io.is_none());
        slot.io = Some(io);
        Ok(make_token(index, slot.generation))
    }

    fn get(&self, token: Token) -> Option<&Arc<ScheduledIo>> {
        let (index, generation) = split_token(token);
        let slot = self.slots.get(index)?;
        if slot.generation != generation {
            return None;
        }
        slot.io.as_ref()
    }

    fn remove(&mut self, token: Token) -> Option<Arc<ScheduledIo>> {
        let (index, generation) = split_token(token);
        let slot = self.slots.get_mut(index)?;
        if slot.generation != generation {
            return None;
        }
        let io = slot.io.take()?;
        slot.generation = (slot.generation + 1) & (usize::MAX >> INDEX_BITS);
        self.free.push(index);
        Some(io)
    }
}

fn make_token(index: usize, generation: usize) -> Token {
    Token((generation << INDEX_BITS) | index)
}

fn split_token(token: Token) -> (usize, usize) {
    (token.0 & INDEX_MASK, token.0 >> INDEX_BITS)
}

/// The readiness bits an event stands for.
fn readiness_of(event: &mio::event::Event) -> usize {
    let mut ready = 0;
    if event.is_readable() {
        ready |= READABLE;
    }
    if event.is_writable() {
        ready |= WRITABLE;
    }
    if event.is_read_closed() {
        ready |= READ_CLOSED;
    }
    if event.is_write_closed() {
        ready |= WRITE_CLOSED;
    }
    if event.is_error() {
        ready |= ERROR;
    }
    ready
}

impl Reactor {
    /// `max_events`: the most events taken per poll (`Builder::max_io_events_per_tick`).
    pub(crate) fn new(max_events: usize) -> io::Result<(Reactor, IoHandle)> {
        let poll = Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), WAKER_TOKEN)?;
        let registry = poll.registry().try_clone()?;
        Ok((
            Reactor {
                poll,
                events: Events::with_capacity(max_events),
                tick: 0,
                ready: Vec::new(),
                wakers: Vec::new(),
            },
            IoHandle {
                waker,
                registry,
                slab: Mutex::new(Slab::default()),
                ready_count: AtomicU64::new(0),
            },
        ))
    }

    /// Waits for events (at most `timeout`) and wakes the tasks waiting on them.
    pub(crate) fn turn(&mut self, handle: &IoHandle, timeout: Option<Duration>) {
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            // A signal interrupted the wait: the caller re-checks its queues anyway.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return,
            Err(e) => panic!("flywheel: the OS poller failed: {e}"),
        }
        self.tick = self.tick.wrapping_add(1);
        {
            // Look the sources up under one lock, then wake with the lock released (a
            // woken task may register or drop sources at once on another thread).
            let slab = handle.slab.lock();
            for event in self.events.iter() {
                if event.token() == WAKER_TOKEN {
                    continue;
                }
                if let Some(io) = slab.get(event.token()) {
                    self.ready.push((io.clone(), readiness_of(event)));
                }
            }
        }
        handle
            .ready_count
            .fetch_add(self.ready.len() as u64, Relaxed);
        for (io, ready) in self.ready.drain(..) {
            io.set_readiness(ready, self.tick, &mut self.wakers);
        }
        // Panic-contained: a waker that panics loses neither this turn nor the others.
        scheduled_io::wake_all(&mut self.wakers);
    }
}

impl IoHandle {
    /// Ready events dispatched so far.
    pub(crate) fn ready_count(&self) -> u64 {
        self.ready_count.load(Relaxed)
    }

    pub(crate) fn unpark(&self) {
        // Failing to write the eventfd only happens when it is full, which already means a
        // wake-up is pending.
        let _ = self.waker.wake();
    }

    /// Adds `source` to the slab and the OS poller (edge-triggered, reads and writes).
    pub(crate) fn register(
        &self,
        source: &mut impl mio::event::Source,
    ) -> io::Result<(Token, Arc<ScheduledIo>)> {
        let io = Arc::new(ScheduledIo::new());
        let token = self.slab.lock().insert(io.clone())?;
        if let Err(e) =
            self.registry
                .register(source, token, Interest::READABLE | Interest::WRITABLE)
        {
            self.release(token);
            return Err(e);
        }
        Ok((token, io))
    }

    /// Removes `source` from the OS poller.
    pub(crate) fn deregister(&self, source: &mut impl mio::event::Source) -> io::Result<()> {
        self.registry.deregister(source)
    }

    /// Frees the slab slot of `token`; later events carrying it are ignored.
    pub(crate) fn release(&self, token: Token) {
        let io = self.slab.lock().remove(token);
        // Dropped outside the lock: it may hold the last reference to a waker.
        drop(io);
    }

    /// Shuts the reactor down for good: refuses new sources, marks every registered one
    /// shut down (its waits fail from now on) and wakes all their waiters so they see it.
    /// Idempotent.
    pub(crate) fn shutdown(&self) {
        let sources: Vec<Arc<ScheduledIo>> = {
            let mut slab = self.slab.lock();
            if std::mem::replace(&mut slab.shut_down, true) {
                return;
            }
            slab.slots
                .iter()
                .filter_map(|slot| slot.io.clone())
                .collect()
        };
        // A source registered before the flag is in `sources`; one that tries after it is
        // refused. Every waiter stored before `io.shutdown` is woken by it, and every poll
        // after it sees the flag.
        let mut wakers = Vec::new();
        for io in &sources {
            io.shutdown(&mut wakers);
        }
        scheduled_io::wake_all(&mut wakers);
    }
}

impl Drop for IoHandle {
    fn drop(&mut self) {
        // Normally done already by the runtime's shutdown; this covers every other way the
        // reactor can go away.
        self.shutdown();
    }
}

#[cfg(all(test, not(flywheel_loom)))]
mod tests {
    use super::*;

    #[test]
    fn stale_token_misses_reused_slot() {
        let mut slab = Slab::default();
        let first = slab.insert(Arc::new(ScheduledIo::new())).unwrap();
        assert!(slab.get(first).is_some());
        assert!(slab.remove(first).is_some());
        let second = slab.insert(Arc::new(ScheduledIo::new())).unwrap();
        assert_eq!(split_token(first).0, split_token(second).0, "slot reused");
        assert_ne!(first, second);
        assert!(slab.get(first).is_none());
        assert!(slab.remove(first).is_none());
        assert!(slab.get(second).is_some());
    }

    #[test]
    fn a_shut_down_slab_refuses_new_sources() {
        let mut slab = Slab {
            shut_down: true,
            ..Slab::default()
        };
        let err = slab.insert(Arc::new(ScheduledIo::new())).unwrap_err();
        assert!(err.to_string().contains("shut down"), "{err}");
    }

    #[test]
    fn tokens_never_equal_the_waker_token() {
        let generation = usize::MAX >> INDEX_BITS;
        assert_ne!(make_token(MAX_SLOTS - 1, generation), WAKER_TOKEN);
        assert_eq!(split_token(make_token(5, 9)), (5, 9));
    }
}
