//! A timer as the futures see it: a deadline, and once it has been polled while not yet due,
//! a registration in the runtime's wheel.
//!
//! States:
//! - *unregistered* (`key` is `None`, `fired` false): created, reset, or not yet polled. Costs
//!   nothing but its fields; `timeout(d, ready_future)` never leaves this state.
//! - *registered* (`key` is `Some`): the wheel holds a clone of the task's waker, and
//!   `waker` holds another so a re-poll with the same waker takes no lock.
//! - *fired* (`fired` true): the deadline passed; the wheel no longer holds anything for us.
//!
//! Completion is read from the driver's published `elapsed` tick (one atomic load), never by
//! reading the clock. Dropping a registered entry cancels it: O(1), and its slab node is
//! reused by the next timer.
//!
//! After the runtime has shut down (the driver publishes `SHUT_DOWN` as its elapsed tick,
//! which every timer takes for "due" on its fast path), a timer whose deadline has really
//! passed on the runtime's clock still completes; any other panics with `RUNTIME_GONE` at
//! its next poll, as tokio's do. It cannot complete honestly (it would fire early, and a
//! loop of sleeps would spin), and waiting would be waiting for ever.

use std::task::{Context, Poll, Waker};

use crate::runtime::{context, Handle};
use crate::task::callback;
use crate::time::driver::{Registered, SHUT_DOWN};
use crate::time::wheel::{Key, MAX_DELAY};
use crate::time::Instant;

/// Told to users who poll a timer outside a runtime.
const NO_RUNTIME: &str = "a flywheel timer (sleep, timeout or interval) was polled outside a \
    flywheel runtime: await it inside `flywheel::run`, `Runtime::block_on` or a task spawned \
    on a flywheel runtime";

/// Told to users who poll a timer whose runtime has shut down.
const RUNTIME_GONE: &str = "a flywheel timer (sleep, timeout or interval) was polled after \
    its runtime shut down, so it can never fire: keep the `Runtime` alive while its timers \
    are awaited, or drop them (and the futures that own them) before the runtime";

pub(crate) struct Entry {
    /// The runtime whose wheel this timer uses; found at creation or at the first poll.
    handle: Option<Handle>,
    deadline: Instant,
    /// `deadline` as a wheel tick (rounded up); computed when first needed.
    tick: Option<u64>,
    key: Option<Key>,
    waker: Option<Waker>,
    fired: bool,
    /// Registered further out than `LONG`: the wheel may have clamped the deadline and fire
    /// early, so a re-poll always checks the registration under the lock.
    long: bool,
}

/// Ticks beyond which a registration may have been clamped to the wheel's horizon (half of
/// it, so the wheel's and the published elapsed ticks may differ freely).
const LONG: u64 = MAX_DELAY / 2;

/// The current runtime, if any, and its clock's time (std's clock outside one).
pub(crate) fn now_and_handle() -> (Instant, Option<Handle>) {
    match context::try_current() {
        Some(handle) => (handle.time().clock.now(), Some(handle)),
        None => (Instant::from_std(std::time::Instant::now()), None),
    }
}

impl Entry {
    pub(crate) fn new(handle: Option<Handle>, deadline: Instant) -> Entry {
        Entry {
            handle,
            deadline,
            tick: None,
            key: None,
            waker: None,
            fired: false,
            long: false,
        }
    }

    pub(crate) fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The runtime's handle, found now if not known yet.
    #[track_caller]
    fn handle(&mut self) -> &Handle {
        // No closure here: the panic must report our caller's caller, not this file.
        if self.handle.is_none() {
            match context::try_current() {
                Some(handle) => self.handle = Some(handle),
                None => panic!("{NO_RUNTIME}"),
            }
        }
        self.handle.as_ref().expect("found just above")
    }

    /// The runtime clock's time (the runtime is looked up if not known yet).
    #[track_caller]
    pub(crate) fn clock_now(&mut self) -> Instant {
        self.handle().time().clock.now()
    }

    fn tick(&mut self) -> u64 {
        let deadline = self.deadline;
        match self.tick {
            Some(tick) => tick,
            None => {
                let tick = self.handle().time().clock.deadline_to_tick(deadline);
                self.tick = Some(tick);
                tick
            }
        }
    }

    fn complete(&mut self) -> Poll<()> {
        self.fired = true;
        // An entry still in the wheel is being fired by `process` right now; it frees it.
        self.key = None;
        self.waker = None;
        Poll::Ready(())
    }

    /// The driver's elapsed tick reached ours: the timer is due, or the driver shut down.
    #[track_caller]
    fn due_or_gone(&mut self, elapsed: u64) -> Poll<()> {
        if elapsed == SHUT_DOWN {
            self.runtime_gone()
        } else {
            self.complete()
        }
    }

    /// The runtime shut down before the timer fired (the wheel let go of it).
    #[track_caller]
    fn runtime_gone(&mut self) -> Poll<()> {
        self.key = None;
        self.waker = None;
        if self.clock_now() >= self.deadline {
            return self.complete();
        }
        panic!("{RUNTIME_GONE}")
    }

    /// Ready once the deadline has passed; registers the waker otherwise.
    #[track_caller]
    pub(crate) fn poll_elapsed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.fired {
            return Poll::Ready(());
        }
        let tick = self.tick();
        let driver = self
            .handle
            .as_ref()
            .expect("tick() found the runtime")
            .driver();
        let elapsed = driver.time.elapsed_tick();
        if elapsed >= tick {
            return self.due_or_gone(elapsed);
        }
        if let Some(key) = self.key {
            if !self.long && self.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                // A shutdown after the load above wakes this waker, so we are polled again.
                return Poll::Pending;
            }
            if driver.time.set_waker(key, cx.waker()) {
                let old = self.waker.replace(cx.waker().clone());
                callback::release(old);
                return Poll::Pending;
            }
            let elapsed = driver.time.elapsed_tick();
            if elapsed >= tick {
                // Fired (or shut down) between the check above and the lock.
                return self.due_or_gone(elapsed);
            }
            // Fired at the wheel's clamped horizon, before our deadline: register again.
            self.key = None;
        }
        match driver.time.register(tick, cx.waker().clone()) {
            Registered::Elapsed(_) => self.complete(),
            Registered::ShutDown(_) => self.runtime_gone(),
            Registered::Waiting { key, unpark } => {
                if unpark {
                    driver.unpark();
                }
                self.key = Some(key);
                self.waker = Some(cx.waker().clone());
                self.long = tick - driver.time.elapsed_tick().min(tick) > LONG;
                Poll::Pending
            }
        }
    }

    /// Whether the timer has fired (the runtime's clock passed the deadline and the driver
    /// noticed). Outside a runtime, compares the deadline with `Instant::now()`; after the
    /// runtime shut down, with its clock.
    pub(crate) fn is_elapsed(&self) -> bool {
        if self.fired {
            return true;
        }
        match &self.handle {
            Some(handle) => {
                let time = handle.time();
                let tick = self
                    .tick
                    .unwrap_or_else(|| time.clock.deadline_to_tick(self.deadline));
                match time.elapsed_tick() {
                    SHUT_DOWN => time.clock.now() >= self.deadline,
                    elapsed => elapsed >= tick,
                }
            }
            None => Instant::now() >= self.deadline,
        }
    }

    /// Moves the deadline. A registered timer is re-registered at once with the waker it
    /// had, so the task waiting on it is woken at the new deadline even if it is not polled
    /// before then.
    pub(crate) fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
        self.tick = None;
        self.fired = false;
        let Some(key) = self.key.take() else {
            self.waker = None;
            return;
        };
        let Some(handle) = self.handle.clone() else {
            return;
        };
        let driver = handle.driver();
        let Some(waker) = driver.time.cancel(key) else {
            // It fired meanwhile (or the runtime shut down): the next poll registers afresh.
            self.waker = None;
            return;
        };
        let tick = self.tick();
        match driver.time.register(tick, waker) {
            Registered::Elapsed(waker) => {
                // Already due: wake the waiting task so it polls and completes.
                self.fired = true;
                self.waker = None;
                callback::wake(waker);
            }
            Registered::ShutDown(waker) => {
                // Its next poll finds the runtime gone.
                self.waker = None;
                callback::wake(waker);
            }
            Registered::Waiting { key, unpark } => {
                if unpark {
                    driver.unpark();
                }
                self.key = Some(key);
                self.long = tick - driver.time.elapsed_tick().min(tick) > LONG;
            }
        }
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        if let (Some(key), Some(handle)) = (self.key, &self.handle) {
            // Dropping the returned waker is all cancelling takes (never a panic: this is
            // a `Drop`).
            callback::release(handle.time().cancel(key));
        }
        callback::release(self.waker.take());
    }
}
