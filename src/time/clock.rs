//! The runtime's clock: real time, or virtual time that only moves when told to (a paused
//! clock, for tests).
//!
//! Timer deadlines are whole milliseconds ("ticks") since the clock's `origin`. A deadline is
//! rounded *up* to its tick and a tick is reached when the clock has passed it, so a timer
//! never fires before its `Instant`, and on average half a millisecond after it.
//!
//! While the clock was never paused, `now` is std's `Instant::now()` with no lock. After a
//! pause it reads `base_virtual + (std_now - base_real)` when running and `base_virtual` when
//! paused, behind a small lock; only tests take that path. Either way it never goes back:
//! `pause` freezes the time `now` would have read, `advance` only adds, and `resume` runs on
//! from the frozen time. (At the very moment of a pause, a reader on another thread that
//! passed the `is_virtual` check just before may still return a real time a little past the
//! frozen one: the one place the clock, seen across threads, can step back, by the length
//! of a race.)
//!
//! Inside, instants are std's; the crate talks to the clock in `time::Instant`s, which wrap
//! them at no cost.
//!
//! The clock has an end: `HORIZON_TICKS` (about 146 million years) after its origin. Moving
//! it further (`advance(Duration::MAX)`) leaves it there, and a deadline beyond it counts
//! as that tick, so a paused clock advanced to the end of time fires every timer. Every
//! `Instant + Duration` here is checked; the tick arithmetic of the wheel stays far from
//! `u64::MAX` because no tick exceeds the horizon.

use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::time::{Duration, Instant as StdInstant};

use parking_lot::Mutex;

use crate::time::Instant;

/// Nanoseconds per tick.
const NANOS_PER_TICK: u128 = 1_000_000;
/// The last tick of the clock: no time or deadline maps beyond it. About 146 million years,
/// yet far enough from `u64::MAX` that tick sums never overflow.
const HORIZON_TICKS: u64 = 1 << 62;

pub(crate) struct Clock {
    /// Tick 0.
    origin: Instant,
    /// The instant of `horizon_ticks`: the clock never reads later than this.
    horizon: Instant,
    /// `HORIZON_TICKS`, or less where an `Instant` cannot hold that much.
    horizon_ticks: u64,
    /// Set once the clock has been paused: `now` must consult `state`.
    is_virtual: AtomicBool,
    state: Mutex<State>,
}

struct State {
    paused: bool,
    /// The clock's time at `base_real`.
    base_virtual: Instant,
    /// Read from std's clock only: `time::Instant::now` would ask this clock.
    base_real: StdInstant,
}

impl Clock {
    pub(crate) fn new(start_paused: bool) -> Clock {
        let origin = Instant::from_std(StdInstant::now());
        // Every platform flywheel runs on holds 2^62 ms in an Instant; the fallbacks only
        // keep the clock consistent (horizon == instant_of(horizon_ticks)) if one does not.
        let (horizon_ticks, horizon) = [HORIZON_TICKS, 1 << 42, 1 << 36]
            .into_iter()
            .find_map(|ticks| Some((ticks, origin.checked_add(Duration::from_millis(ticks))?)))
            .unwrap_or((0, origin));
        Clock {
            origin,
            horizon,
            horizon_ticks,
            is_virtual: AtomicBool::new(start_paused),
            state: Mutex::new(State {
                paused: start_paused,
                base_virtual: origin,
                base_real: origin.into_std(),
            }),
        }
    }

    /// The clock's current time.
    pub(crate) fn now(&self) -> Instant {
        if !self.is_virtual.load(Acquire) {
            return Instant::from_std(StdInstant::now());
        }
        let state = self.state.lock();
        if state.paused {
            state.base_virtual
        } else {
            self.add(state.base_virtual, state.base_real.elapsed())
        }
    }

    /// `instant + by`, stopping at the horizon.
    fn add(&self, instant: Instant, by: Duration) -> Instant {
        instant
            .checked_add(by)
            .map_or(self.horizon, |sum| sum.min(self.horizon))
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
        let now = StdInstant::now();
        let ran = now.saturating_duration_since(state.base_real);
        state.base_virtual = self.add(state.base_virtual, ran);
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
        state.base_real = StdInstant::now();
        state.paused = false;
        true
    }

    /// Moves a paused clock forward, at most to its horizon. Returns `false` if it is not
    /// paused.
    pub(crate) fn advance(&self, by: Duration) -> bool {
        let mut state = self.state.lock();
        if !state.paused {
            return false;
        }
        state.base_virtual = self.add(state.base_virtual, by);
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
    /// Beyond the horizon: the horizon.
    pub(crate) fn deadline_to_tick(&self, instant: Instant) -> u64 {
        let nanos = instant.saturating_duration_since(self.origin).as_nanos();
        let ticks = nanos.div_ceil(NANOS_PER_TICK);
        u64::try_from(ticks).map_or(self.horizon_ticks, |t| t.min(self.horizon_ticks))
    }

    /// The last tick the clock has reached at `instant` (at most the horizon).
    pub(crate) fn instant_to_tick(&self, instant: Instant) -> u64 {
        let nanos = instant.saturating_duration_since(self.origin).as_nanos();
        u64::try_from(nanos / NANOS_PER_TICK)
            .map_or(self.horizon_ticks, |t| t.min(self.horizon_ticks))
    }

    /// When `tick` begins (ticks beyond the horizon: the horizon).
    pub(crate) fn instant_of(&self, tick: u64) -> Instant {
        self.add(self.origin, Duration::from_millis(tick))
    }
}

/// An instant about 30 years after `from`: what "never" means for a deadline (`from` itself
/// in the unlikely case an `Instant` cannot hold that).
pub(crate) fn far_future(from: Instant) -> Instant {
    from.checked_add(Duration::from_secs(86_400 * 365 * 30))
        .unwrap_or(from)
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
    fn the_clock_stops_at_its_horizon() {
        let clock = Clock::new(true);
        assert!(clock.advance(Duration::MAX));
        assert_eq!(clock.now(), clock.horizon);
        assert_eq!(clock.instant_to_tick(clock.now()), HORIZON_TICKS);
        assert!(clock.advance(Duration::from_secs(1)));
        assert_eq!(clock.now(), clock.horizon);
        // Deadlines beyond it count as the horizon; instants of ticks beyond it too.
        let later = clock.now() + Duration::from_secs(1);
        assert_eq!(clock.deadline_to_tick(later), HORIZON_TICKS);
        assert_eq!(clock.instant_of(u64::MAX), clock.horizon);
        // Running again from there stays there.
        assert!(clock.resume());
        assert_eq!(clock.now(), clock.horizon);
        assert!(clock.pause());
        assert_eq!(clock.now(), clock.horizon);
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
