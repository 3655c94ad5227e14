//! The time driver: the runtime's clock and timer wheel, advanced by whichever thread parks.
//!
//! One wheel per runtime, behind a `parking_lot` mutex that only timer registration, cancel
//! and the parked thread take (never a plain poll of a waiting `Sleep`). The wheel stores each
//! timer's `Waker`; firing removes the entry and wakes it.
//!
//! Two numbers are published outside the lock:
//! - `elapsed`: the tick the last `process` fired up to. A timer whose tick is at or before
//!   it is due and complete (its entry is removed within that same `process`), so a `Sleep`
//!   checks completion with one atomic load and no clock read.
//! - under the lock, `parked_until`: the tick the thread blocked in the driver will wake at by
//!   itself (`NOT_PARKED` when no thread waits on timers). A new timer only interrupts that
//!   thread when it is due earlier, and clears the field so a burst of inserts wakes it once.
//!
//! With a paused clock the parked thread, instead of sleeping, moves the clock to the next
//! deadline when the whole runtime is idle (see `park_timeout`); otherwise it waits for a
//! kick (`runtime::driver::DriverHandle::notify_idle`) or, at most, `PAUSED_RECHECK`.
//!
//! Timers due at the same tick fire in the wheel's order, which depends only on the
//! program's own steps (the order of registrations and cancels). A seeded runtime (`Builder::seed`) does not reorder them here: the
//! tasks they wake all land in its run queue, and its draw picks which runs first (see
//! `runtime::scheduler::seeded`).
//!
//! Wakers are user code: they are woken and dropped after the lock is released, and a panic
//! in one is contained (`task::callback`), so one bad waker never costs the rest of its
//! batch or the thread that fires it.
//!
//! Shutdown: when its runtime shuts down, `shutdown` stores `SHUT_DOWN` as the elapsed
//! tick (above every real tick, so every timer looks due at its next poll, without a new
//! check on the fast path), empties the wheel and wakes every entry. A timer polled after
//! that finds its runtime gone (see `time::entry`), and nothing can register any more: no
//! timer waits for a runtime that will never fire it, whoever still holds its handle.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::task::Waker;
use std::time::Duration;

use parking_lot::Mutex;

use crate::task::callback;
use crate::time::clock::Clock;
use crate::time::wheel::{Key, Wheel};

/// `parked_until` when no thread sleeps waiting for a timer.
const NOT_PARKED: u64 = 0;
/// The elapsed tick of a shut-down driver: beyond every tick the clock can reach.
pub(crate) const SHUT_DOWN: u64 = u64::MAX;
/// Wakers fired per lock hold: bounds how long a big expiry keeps the wheel locked.
const FIRE_BATCH: usize = 32;
/// With a paused clock and a runtime that is not idle, how long the parked thread waits for a
/// kick before it checks again (a blocking job finishing does not kick it).
const PAUSED_RECHECK: Duration = Duration::from_millis(1);

/// The shared half of the time driver.
pub(crate) struct TimeHandle {
    pub(crate) clock: Clock,
    inner: Mutex<Inner>,
    /// The tick `process` fires up to; stored before it fires.
    elapsed: AtomicU64,
}

struct Inner {
    wheel: Wheel<Waker>,
    parked_until: u64,
}

/// What registering a timer did.
pub(crate) enum Registered {
    /// The deadline has passed already (the wheel processed its tick): nothing was stored,
    /// and the waker is handed back.
    Elapsed(Waker),
    /// Stored under this key; `unpark` says the parked thread must be woken to see it.
    Waiting { key: Key, unpark: bool },
    /// The driver has shut down: nothing was stored, and the waker is handed back.
    ShutDown(Waker),
}

impl TimeHandle {
    pub(crate) fn new(start_paused: bool) -> TimeHandle {
        TimeHandle {
            clock: Clock::new(start_paused),
            inner: Mutex::new(Inner {
                wheel: Wheel::new(),
                parked_until: NOT_PARKED,
            }),
            elapsed: AtomicU64::new(0),
        }
    }

    /// Timers waiting in the wheel (`RuntimeMetrics::num_timers`; one lock hold).
    pub(crate) fn num_timers(&self) -> usize {
        self.inner.lock().wheel.len()
    }

    /// The last tick whose timers all fired; `SHUT_DOWN` once the driver has shut down.
    pub(crate) fn elapsed_tick(&self) -> u64 {
        self.elapsed.load(Acquire)
    }

    /// Stores a timer for `tick`, unless the wheel is already past it (or shut down).
    pub(crate) fn register(&self, tick: u64, waker: Waker) -> Registered {
        let mut inner = self.inner.lock();
        // Stored under this lock by `shutdown`, so this load sees it.
        if self.elapsed.load(Acquire) == SHUT_DOWN {
            return Registered::ShutDown(waker);
        }
        if tick <= inner.wheel.elapsed() {
            return Registered::Elapsed(waker);
        }
        let key = inner.wheel.insert(tick, waker);
        let unpark = tick < inner.parked_until;
        if unpark {
            inner.parked_until = NOT_PARKED;
        }
        Registered::Waiting { key, unpark }
    }

    /// Replaces a waiting timer's waker. `false` when the timer already fired.
    pub(crate) fn set_waker(&self, key: Key, waker: &Waker) -> bool {
        let mut inner = self.inner.lock();
        let Some(stored) = inner.wheel.get_mut(key) else {
            return false;
        };
        let old = std::mem::replace(stored, waker.clone());
        drop(inner);
        // Dropped unlocked: it may be the last reference to a task whose future owns a
        // timer of this wheel, and would cancel it.
        callback::release(old);
        true
    }

    /// Cancels a timer; returns its waker if it had not fired yet. The caller drops it
    /// (through `task::callback`), after the lock is released here.
    pub(crate) fn cancel(&self, key: Key) -> Option<Waker> {
        self.inner.lock().wheel.remove(key)
    }

    /// The runtime has shut down: marks the driver so (see the module docs), empties the
    /// wheel and wakes every timer, so that each one's next poll finds its runtime gone.
    pub(crate) fn shutdown(&self) {
        let wakers = {
            let mut inner = self.inner.lock();
            self.elapsed.store(SHUT_DOWN, Release);
            inner.parked_until = NOT_PARKED;
            inner.wheel.drain()
        };
        for waker in wakers {
            callback::wake(waker);
        }
    }

    /// The timeout the parked thread may block for: `timeout`, shortened to the next timer
    /// deadline. Records that deadline so registrations know whether to interrupt the wait.
    ///
    /// With a paused clock, when `is_idle` says nothing in the runtime can run, the clock
    /// jumps to the next deadline and the wait becomes a poll; `is_idle` is only called then.
    pub(crate) fn park_timeout(
        &self,
        timeout: Option<Duration>,
        is_idle: impl FnOnce() -> bool,
    ) -> Option<Duration> {
        if timeout == Some(Duration::ZERO) {
            // A busy thread only polls: it is not waiting for timers.
            return timeout;
        }
        if self.clock.is_paused() {
            return self.paused_park_timeout(timeout, is_idle());
        }
        let mut inner = self.inner.lock();
        let Some(tick) = inner.wheel.next_expiration() else {
            inner.parked_until = u64::MAX;
            return timeout;
        };
        inner.parked_until = tick;
        drop(inner);
        // The clock may run ahead of std's `Instant::now()` (resumed after a pause), at real
        // speed.
        let until = self
            .clock
            .instant_of(tick)
            .saturating_duration_since(self.clock.now());
        Some(timeout.map_or(until, |t| t.min(until)))
    }

    fn paused_park_timeout(&self, timeout: Option<Duration>, idle: bool) -> Option<Duration> {
        let mut inner = self.inner.lock();
        match inner.wheel.next_expiration() {
            Some(tick) if idle => {
                self.clock.advance_to_tick(tick);
                inner.parked_until = NOT_PARKED;
                Some(Duration::ZERO)
            }
            Some(_) => {
                // Virtual time stands still while we wait: only a kick (someone going idle)
                // or new work can make progress. Recheck now and then for what does not kick.
                inner.parked_until = u64::MAX;
                Some(timeout.map_or(PAUSED_RECHECK, |t| t.min(PAUSED_RECHECK)))
            }
            None => {
                inner.parked_until = u64::MAX;
                timeout
            }
        }
    }

    /// Called by the parked thread once it wakes: fires every due timer, and records that no
    /// thread waits on the wheel any more.
    pub(crate) fn process_after_park(&self) {
        self.fire_due(true);
    }

    /// Fires every timer whose deadline the clock has reached. Any thread may call it
    /// (`advance` does); it leaves the parked thread's record alone.
    pub(crate) fn process(&self) {
        self.fire_due(false);
    }

    fn fire_due(&self, after_park: bool) {
        let now = self.clock.instant_to_tick(self.clock.now());
        // Published first: a `Sleep` polled from here on completes by itself, even if its
        // entry is still waiting in the wheel (it is removed below and woken spuriously).
        self.elapsed.fetch_max(now, Release);
        let mut batch: [Option<Waker>; FIRE_BATCH] = Default::default();
        loop {
            let mut inner = self.inner.lock();
            if after_park {
                inner.parked_until = NOT_PARKED;
            }
            let mut n = 0;
            while n < FIRE_BATCH {
                match inner.wheel.poll(now) {
                    Some(waker) => {
                        batch[n] = Some(waker);
                        n += 1;
                    }
                    None => break,
                }
            }
            drop(inner);
            for waker in batch[..n].iter_mut() {
                if let Some(waker) = waker.take() {
                    callback::wake(waker);
                }
            }
            if n < FIRE_BATCH {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::time::{sleep, timeout};

    /// (live timers, slab nodes ever made) of the current runtime's wheel.
    fn wheel_usage() -> (usize, usize) {
        let handle = crate::Handle::current();
        let inner = handle.time().inner.lock();
        (inner.wheel.len(), inner.wheel.capacity())
    }

    #[test]
    fn a_timeout_around_a_ready_future_never_touches_the_wheel() {
        let rt = crate::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            for i in 0..1000 {
                assert_eq!(timeout(Duration::from_secs(1), async { i }).await, Ok(i));
            }
            assert_eq!(wheel_usage(), (0, 0));
        });
    }

    #[test]
    fn shutdown_empties_the_wheel_and_refuses_new_timers() {
        use std::future::Future;
        use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
        use std::sync::Arc;
        use std::task::{Context, Wake, Waker};

        struct Count(AtomicUsize);
        impl Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, SeqCst);
            }
        }
        let woken = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(woken.clone());
        let rt = crate::Builder::new_current_thread().build().unwrap();
        // Made inside the runtime, so each knows its wheel.
        let mut sleeps: Vec<_> = rt.block_on(std::future::poll_fn(|_| {
            let sleeps = (1..=3).map(|s| Box::pin(sleep(Duration::from_secs(s))));
            std::task::Poll::Ready(sleeps.collect::<Vec<_>>())
        }));
        for sleep in &mut sleeps {
            let polled = sleep.as_mut().poll(&mut Context::from_waker(&waker));
            assert!(polled.is_pending());
        }
        let time = rt.handle().time();
        time.shutdown();
        assert_eq!(woken.0.load(SeqCst), 3, "every timer woken");
        assert_eq!(time.inner.lock().wheel.len(), 0);
        assert_eq!(time.elapsed_tick(), super::SHUT_DOWN);
        match time.register(1, waker.clone()) {
            super::Registered::ShutDown(_) => {}
            _ => panic!("registered on a shut-down driver"),
        }
    }

    #[test]
    fn dropped_sleeps_free_their_entry_for_the_next_timer() {
        let rt = crate::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            for _ in 0..1000 {
                let r = timeout(Duration::from_secs(1), crate::task::yield_now()).await;
                assert!(r.is_ok());
            }
            // One node, registered and freed a thousand times.
            assert_eq!(wheel_usage(), (0, 1));
            let unpolled: Vec<_> = (0..10).map(|_| sleep(Duration::from_secs(1))).collect();
            assert_eq!(wheel_usage(), (0, 1), "a sleep costs nothing until polled");
            drop(unpolled);
        });
    }
}
