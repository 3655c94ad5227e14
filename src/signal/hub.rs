//! The hub of one (runtime, signal) pair: its self-pipe, its handler, and its listeners.
//!
//! ```text
//!  signal handler ──writes a byte──▶ pipe ──readable──▶ reactor ──wakes──▶ Fanout waker
//!  (signal-hook)                                                              │
//!        listener.poll_recv ◀── wake every parked listener ◀──────────────────┘
//!          └─ pump(): drain the pipe; if it held bytes, deliveries += 1 and wake all
//! ```
//!
//! Invariants:
//! - The pipe's reactor registration only ever holds the `Fanout` waker, never a listener's,
//!   so any number of listeners (and tasks) can share one pipe whatever the registration
//!   keeps per direction. The `Fanout` does not own the pipe, so the waker stored in the
//!   reactor keeps no hub alive.
//! - `deliveries` only grows, and only after bytes were drained from the pipe. A listener
//!   remembers the count it last reported; a larger count means "at least one delivery
//!   since" (several coalesce into one).
//! - A listener parks its waker *before* it pumps: a reactor wake-up that lands between the
//!   pump and the park would otherwise find no waker and be lost (the wake-up itself does
//!   not count deliveries; only a pump does).
//! - Wakers are taken under the listeners lock and woken after it is released.
//! - `HUBS` holds hubs weakly: the last listener of a hub drops it, which unregisters the
//!   handler action (closing the pipe's writing end) and then deregisters the reading end.

use std::io::{self, Read};
use std::os::raw::c_int;
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};

use futures_io::AsyncRead;
use futures_task::{waker_ref, ArcWake};
use parking_lot::Mutex;
use signal_hook::SigId;

use crate::io::Async;
use crate::runtime::{context, RuntimeShared};

/// Bytes drained from the pipe per read; a burst of deliveries larger than this takes more
/// reads, all in one pump.
const DRAIN_CHUNK: usize = 64;

/// Every live hub of the process, weakly; dead entries are pruned on each lookup.
static HUBS: Mutex<Vec<Weak<Hub>>> = parking_lot::const_mutex(Vec::new());

/// The error of a listener whose runtime has shut down.
pub(crate) fn runtime_gone() -> io::Error {
    io::Error::other("the flywheel runtime this signal listener belongs to has shut down")
}

/// One (runtime, signal) pair's self-pipe and handler, shared by its listeners.
pub(super) struct Hub {
    /// The runtime whose reactor watches the pipe, weakly (it identifies the hub and keeps
    /// the address unique while the hub lives).
    runtime: Weak<RuntimeShared>,
    signal: c_int,
    /// The reading end, registered with that runtime's reactor.
    pipe: Async<UnixStream>,
    /// The handler action that owns (and on unregister closes) the writing end.
    action: SigId,
    fanout: Arc<Fanout>,
}

/// The listeners of a hub, and the waker the pipe's registration holds to reach them.
struct Fanout {
    /// How many times the pipe was found holding bytes.
    deliveries: AtomicU64,
    listeners: Mutex<Listeners>,
}

/// A slot per listener, reused after the listener drops.
#[derive(Default)]
struct Listeners {
    wakers: Vec<Option<Waker>>,
    free: Vec<usize>,
}

impl Hub {
    /// The hub of `signal` on the current runtime, created (pipe, handler) if it has none.
    pub(super) fn get(signal: c_int) -> io::Result<Arc<Hub>> {
        let runtime = context::try_current().ok_or_else(|| {
            io::Error::other(format!(
                "flywheel::signal needs a runtime: {}",
                context::NO_RUNTIME
            ))
        })?;
        let runtime = Arc::downgrade(&runtime.shared);
        let mut hubs = HUBS.lock();
        hubs.retain(|hub| hub.strong_count() > 0);
        let existing = hubs
            .iter()
            .filter_map(Weak::upgrade)
            .find(|hub| hub.signal == signal && Weak::ptr_eq(&hub.runtime, &runtime));
        if let Some(hub) = existing {
            return Ok(hub);
        }
        let hub = Arc::new(Hub::new(runtime, signal)?);
        hubs.push(Arc::downgrade(&hub));
        Ok(hub)
    }

    fn new(runtime: Weak<RuntimeShared>, signal: c_int) -> io::Result<Hub> {
        let (read, write) = UnixStream::pair()?;
        read.set_nonblocking(true)?;
        // signal-hook sends with MSG_DONTWAIT, so the writing end may stay blocking; a full
        // pipe just drops the byte, and the bytes already there wake the reader anyway.
        let pipe = Async::new(read)?;
        let action = signal_hook::low_level::pipe::register(signal, write)?;
        Ok(Hub {
            runtime,
            signal,
            pipe,
            action,
            fanout: Arc::new(Fanout {
                deliveries: AtomicU64::new(0),
                listeners: Mutex::new(Listeners::default()),
            }),
        })
    }

    /// A new listener slot.
    pub(super) fn attach(&self) -> usize {
        let mut listeners = self.fanout.listeners.lock();
        match listeners.free.pop() {
            Some(key) => key,
            None => {
                listeners.wakers.push(None);
                listeners.wakers.len() - 1
            }
        }
    }

    /// Frees the slot of a dropped listener.
    pub(super) fn detach(&self, key: usize) {
        let waker = {
            let mut listeners = self.fanout.listeners.lock();
            let waker = listeners.wakers.get_mut(key).and_then(Option::take);
            listeners.free.push(key);
            waker
        };
        // Dropped outside the lock, like every waker.
        drop(waker);
    }

    /// Drains what the pipe holds right now, without waiting for the reactor to report it
    /// (it may not have polled since the byte arrived); counts one delivery if it held any.
    pub(super) fn drain_now(&self) {
        let mut buf = [0; DRAIN_CHUNK];
        let mut drained = false;
        loop {
            match self.pipe.get_ref().read(&mut buf) {
                Ok(0) => break,
                Ok(_) => drained = true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // WouldBlock: empty. Any other error shows up again in the next pump.
                Err(_) => break,
            }
        }
        if drained {
            self.fanout.deliveries.fetch_add(1, SeqCst);
            self.fanout.wake_all();
        }
    }

    /// The number of deliveries counted so far.
    pub(super) fn deliveries(&self) -> u64 {
        self.fanout.deliveries.load(SeqCst)
    }

    /// Stores `waker` in the listener's slot, to be woken by the next delivery.
    pub(super) fn park(&self, key: usize, waker: &Waker) {
        let old = {
            let mut listeners = self.fanout.listeners.lock();
            let slot = &mut listeners.wakers[key];
            match slot {
                Some(stored) if stored.will_wake(waker) => None,
                _ => slot.replace(waker.clone()),
            }
        };
        drop(old);
    }

    /// Drains the pipe; if it held bytes, counts one delivery and wakes every listener.
    /// Leaves the `Fanout` waker with the reactor, so the next byte wakes the listeners.
    ///
    /// # Errors
    ///
    /// When the runtime has shut down (nothing will drain the pipe again) or the pipe fails.
    pub(super) fn pump(&self) -> io::Result<()> {
        let waker = waker_ref(&self.fanout);
        let mut cx = Context::from_waker(&waker);
        let mut buf = [0; DRAIN_CHUNK];
        let mut drained = false;
        let result = loop {
            match Pin::new(&mut &self.pipe).poll_read(&mut cx, &mut buf) {
                Poll::Ready(Ok(0)) => break Err(runtime_gone()),
                Poll::Ready(Ok(_)) => drained = true,
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => break Err(e),
                Poll::Pending => break Ok(()),
            }
        };
        if drained {
            self.fanout.deliveries.fetch_add(1, SeqCst);
            self.fanout.wake_all();
        }
        result
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        // The handler stays installed (signal-hook never restores the default action), but
        // this hub's action goes, closing the pipe's writing end; `pipe` then deregisters.
        signal_hook::low_level::unregister(self.action);
    }
}

impl Fanout {
    fn wake_all(&self) {
        let wakers: Vec<Waker> = {
            let mut listeners = self.listeners.lock();
            listeners
                .wakers
                .iter_mut()
                .filter_map(Option::take)
                .collect()
        };
        for waker in wakers {
            waker.wake();
        }
    }
}

impl ArcWake for Fanout {
    /// The pipe became readable (or the reactor shut down): every listener pumps or learns.
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.wake_all();
    }
}
