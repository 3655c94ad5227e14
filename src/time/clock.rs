//! The runtime's clock: real time, or virtual time that only moves when told to (a paused
//! clock, for tests).
//!
//! Timer deadlines are whole milliseconds ("ticks") since the clock's `origin`. A deadline is
//! rounded *up* to its tick and a tick is reached when the clock has passed it, so a timer
//! never fires before its `Instant`, and on average half a millisecond after it.
//!
//! While the clock was never paused, `now` is `Instant::now()` with no lock. After a pause it
//! reads `base_virtual + (Instant::now() - base_real)` when running and `base_virtual` when
//! paused, behind a small lock; only tests take that path.

use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Nanoseconds per tick.
const NANOS_PER_TICK: u128 = 1_000_000;

pub(crate) struct Clock {
    /// Tick 0.
    origin: Instant,
    /// Set once the clock has been paused: `now` must consult `state`.
    is_virtual: AtomicBool,
    state: Mutex<State>,
}

struct State {
    paused: bool,
    /// The clock's time at `base_real`.
    base_virtual: Instant,
    base_real: Instant,
}

impl Clock {
    pub(crate) fn new(start_paused: bool) -> Clock {
        let origin = Instant::now();
        Clock {
            origin,
            is_virtual: AtomicBool::new(start_paused),
            state: Mutex::new(State {
                paused: start_paused,
                base_virtual: origin,
                base_real: origin,
            }),
        }
    }

    /// The clock's current time.
    pub(crate) fn now(&self) -> Instant {
        if !self.is_virtual.load(Acquire) {
            return Instant::now();
        }
        let state = self.state.lock();
        if state.paused {
            state.base_virtual
        } else {
            state.base_virtual + state.base_real.elapsed()
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.is_virtual.load(Acquire) && self.state.lock().paused
    }

    /// Freezes the clock at its current time. Returns `false` if it was already paused.
    pub(crate) fn pause(&self) -> bool {
        let mut state = self.state.lock();
        if state.paused {
            return false;
        }
        let now = Instant::now();
        let ran = now.saturating_duration_since(state.base_real);
        state.base_virtual += ran;
        state.base_real = now;
        state.paused = true;
        self.is_virtual.store(true, Release);
        true
    }

    /// Lets a paused clock run again from where it stands. Returns `false` if it was not
    /// paused.
    pub(crate) fn resume(&self) -> bool {
        let mut state = self.state.lock();
        if !state.paused {
            return false;
        }
        state.base_real = Instant::now();
        state.paused = false;
        true
    }

    /// Moves a paused clock forward. Returns `false` if it is not paused.
    pub(crate) fn advance(&self, by: Duration) -> bool {
        let mut state = self.state.lock();
        if !state.paused {
            return false;
        }
        state.base_virtual += by;
        true
    }

    /// Moves a paused clock forward to the start of `tick` if it is behind it.
    pub(crate) fn advance_to_tick(&self, tick: u64) {
        let target = self.instant_of(tick);
        let mut state = self.state.lock();
        if state.paused && state.base_virtual < target {
            state.base_virtual = target;
        }
    }

    /// The first tick at or after `instant`: a timer due at `instant` fires at this tick.
    pub(crate) fn deadline_to_tick(&self, instant: Instant) -> u64 {
        let nanos = instant.saturating_duration_since(self.origin).as_nanos();
        let ticks = nanos.div_ceil(NANOS_PER_TICK);
        u64::try_from(ticks).unwrap_or(u64::MAX)
    }

    /// The last tick the clock has reached at `instant`.
    pub(crate) fn instant_to_tick(&self, instant: Instant) -> u64 {
        let nanos = instant.saturating_duration_since(self.origin).as_nanos();
        u64::try_from(nanos / NANOS_PER_TICK).unwrap_or(u64::MAX)
    }

    /// When `tick` begins.
    pub(crate) fn instant_of(&self, tick: u64) -> Instant {
        self.origin
            .checked_add(Duration::from_millis(tick))
            .unwrap_or_else(|| far_future(self.origin))
    }
}

/// An instant about 30 years after `from`: what "never" means for a deadline.
pub(crate) fn far_future(from: Instant) -> Instant {
    from + Duration::from_secs(86_400 * 365 * 30)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_round_up_and_now_rounds_down() {
        let clock = Clock::new(false);
        let t = clock.origin + Duration::from_micros(2_300);
        assert_eq!(clock.deadline_to_tick(t), 3);
        assert_eq!(clock.instant_to_tick(t), 2);
        let exact = clock.origin + Duration::from_millis(4);
        assert_eq!(clock.deadline_to_tick(exact), 4);
        assert_eq!(clock.instant_to_tick(exact), 4);
        assert_eq!(
            clock.deadline_to_tick(clock.origin - Duration::from_millis(1)),
            0
        );
    }

    #[test]
    fn a_paused_clock_moves_only_when_advanced() {
        let clock = Clock::new(true);
        let a = clock.now();
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(clock.now(), a);
        assert!(clock.advance(Duration::from_secs(3600)));
        assert_eq!(clock.now(), a + Duration::from_secs(3600));
        assert!(clock.resume());
        assert!(!clock.advance(Duration::from_secs(1)));
        assert!(clock.now() >= a + Duration::from_secs(3600));
        assert!(clock.pause());
        assert!(!clock.pause());
    }
}
