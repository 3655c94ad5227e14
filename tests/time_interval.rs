//! `interval`: the first tick at once, a steady period, and each `MissedTickBehavior` after a
//! deliberate stall (exact on a paused clock, one-sided bounds on the real one).

mod common;

use std::time::Duration;

use flywheel::time::{advance, interval, interval_at, Instant, MissedTickBehavior};
use flywheel::{Builder, Runtime};

const MS: Duration = Duration::from_millis(1);

fn paused_runtimes() -> [Runtime; 2] {
    [
        Builder::new_current_thread()
            .start_paused(true)
            .build()
            .unwrap(),
        Builder::new_multi_thread()
            .worker_threads(2)
            .start_paused(true)
            .build()
            .unwrap(),
    ]
}

#[test]
fn first_tick_is_immediate_then_one_period_apart() {
    common::watchdog(|| {
        let rt = Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let start = Instant::now();
            let mut ticker = interval(10 * MS);
            let first = ticker.tick().await;
            assert!(start.elapsed() < Duration::from_secs(1));
            let mut prev = first;
            for _ in 0..5 {
                let t = ticker.tick().await;
                assert_eq!(t - prev, 10 * MS);
                assert!(Instant::now() >= t, "tick completed before its instant");
                prev = t;
            }
            assert!(start.elapsed() >= 50 * MS);
        });
    });
}

#[test]
fn interval_at_starts_at_the_given_instant() {
    common::watchdog(|| {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        rt.block_on(async {
            let start = Instant::now() + 15 * MS;
            let mut ticker = interval_at(start, 5 * MS);
            assert_eq!(ticker.tick().await, start);
            assert!(Instant::now() >= start);
            assert_eq!(ticker.tick().await, start + 5 * MS);
        });
    });
}

/// Ticks at 0, then stalls 35 ms (period 10), then records the next four ticks relative to
/// the first one, on a paused clock.
async fn after_stall(behavior: MissedTickBehavior) -> Vec<Duration> {
    let mut ticker = interval(10 * MS);
    ticker.set_missed_tick_behavior(behavior);
    let zero = ticker.tick().await;
    advance(35 * MS).await;
    let mut out = Vec::new();
    for _ in 0..4 {
        out.push(ticker.tick().await - zero);
    }
    out
}

#[test]
fn burst_catches_up_on_missed_ticks() {
    common::watchdog(|| {
        for rt in paused_runtimes() {
            let ticks = rt.block_on(after_stall(MissedTickBehavior::Burst));
            assert_eq!(ticks, [10 * MS, 20 * MS, 30 * MS, 40 * MS]);
        }
    });
}

#[test]
fn delay_restarts_the_period_from_the_late_tick() {
    common::watchdog(|| {
        for rt in paused_runtimes() {
            let ticks = rt.block_on(after_stall(MissedTickBehavior::Delay));
            // The missed tick (due at 10) completes at 35; the next ones follow from 35.
            assert_eq!(ticks, [10 * MS, 45 * MS, 55 * MS, 65 * MS]);
        }
    });
}

#[test]
fn skip_drops_missed_ticks_and_keeps_the_phase() {
    common::watchdog(|| {
        for rt in paused_runtimes() {
            let ticks = rt.block_on(after_stall(MissedTickBehavior::Skip));
            assert_eq!(ticks, [10 * MS, 40 * MS, 50 * MS, 60 * MS]);
        }
    });
}

#[test]
fn missed_tick_behaviors_on_the_real_clock_after_a_stall() {
    common::watchdog(|| {
        let rt = Builder::new_current_thread().build().unwrap();
        for behavior in [
            MissedTickBehavior::Burst,
            MissedTickBehavior::Delay,
            MissedTickBehavior::Skip,
        ] {
            rt.block_on(async {
                let period = 10 * MS;
                // The first tick must itself be on time (polled within the interval's 5 ms
                // tolerance), or Delay and Skip rightly treat it as missed and the schedule
                // below shifts: on a loaded machine the thread can be descheduled that long
                // between `interval` and the poll. Then start again with a fresh one.
                let mut attempts = 0;
                let (mut ticker, zero) = loop {
                    let mut ticker = interval(period);
                    ticker.set_missed_tick_behavior(behavior);
                    let zero = ticker.tick().await;
                    if Instant::now() - zero < 4 * MS {
                        break (ticker, zero);
                    }
                    attempts += 1;
                    assert!(
                        attempts < 50,
                        "{behavior:?}: never polled a first tick on time"
                    );
                };
                // A deliberate stall: block the thread for three and a half periods.
                std::thread::sleep(35 * MS);
                let late = ticker.tick().await;
                assert_eq!(
                    late - zero,
                    period,
                    "{behavior:?}: the missed tick comes first"
                );
                let stalled_until = Instant::now();
                let next = ticker.tick().await;
                assert!(Instant::now() >= next);
                match behavior {
                    MissedTickBehavior::Burst => assert_eq!(next - zero, 2 * period),
                    MissedTickBehavior::Delay => {
                        assert!(next >= zero + 35 * MS + period);
                        assert!(next <= stalled_until + period);
                    }
                    MissedTickBehavior::Skip => {
                        let phase = (next - zero).as_nanos() % period.as_nanos();
                        assert_eq!(phase, 0, "Skip keeps the original grid");
                        assert!(next >= zero + 40 * MS);
                    }
                }
            });
        }
    });
}

#[test]
fn reset_restarts_from_now() {
    common::watchdog(|| {
        for rt in paused_runtimes() {
            rt.block_on(async {
                let mut ticker = interval(100 * MS);
                let zero = ticker.tick().await;
                advance(30 * MS).await;
                ticker.reset();
                assert_eq!(ticker.tick().await - zero, 130 * MS);
            });
        }
    });
}

#[test]
fn reset_at_after_and_immediately_move_the_next_tick() {
    common::watchdog(|| {
        for rt in paused_runtimes() {
            rt.block_on(async {
                let period = 100 * MS;
                let mut ticker = interval(period);
                let zero = ticker.tick().await;
                // Later than the schedule, then earlier.
                ticker.reset_at(zero + 250 * MS);
                assert_eq!(ticker.tick().await, zero + 250 * MS);
                assert_eq!(Instant::now(), zero + 250 * MS);
                ticker.reset_at(zero + 260 * MS);
                assert_eq!(ticker.tick().await, zero + 260 * MS);
                assert_eq!(ticker.tick().await, zero + 360 * MS);
                // A deadline in the past ticks at once, reporting that deadline.
                ticker.reset_at(zero);
                assert_eq!(ticker.tick().await, zero);
                assert_eq!(Instant::now(), zero + 360 * MS);
                let now = Instant::now();
                ticker.reset_after(30 * MS);
                assert_eq!(ticker.tick().await, now + 30 * MS);
                assert_eq!(ticker.tick().await, now + 130 * MS);
                advance(40 * MS).await;
                ticker.reset_immediately();
                let now = Instant::now();
                assert_eq!(ticker.tick().await, now);
                assert_eq!(ticker.tick().await, now + period);
            });
        }
    });
}

#[test]
fn dropping_a_tick_future_loses_no_tick() {
    common::watchdog(|| {
        for rt in paused_runtimes() {
            rt.block_on(async {
                let mut ticker = interval(10 * MS);
                let zero = ticker.tick().await;
                let cut = flywheel::time::timeout(5 * MS, ticker.tick()).await;
                assert!(cut.is_err());
                assert_eq!(ticker.tick().await - zero, 10 * MS);
            });
        }
    });
}

#[test]
#[should_panic(expected = "greater than zero")]
fn zero_period_panics() {
    common::watchdog(|| drop(interval(Duration::ZERO)));
}

#[test]
fn interval_is_send_sync_unpin() {
    common::watchdog(|| {
        fn check<T: Send + Sync + Unpin + std::fmt::Debug>(_: &T) {}
        check(&interval(MS));
    });
}

/// Beyond the wheel's span (about two years), well within what an `Instant` holds.
const YEARS: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

#[test]
fn huge_periods_and_late_ticks_do_not_overflow() {
    common::watchdog(|| {
        for rt in paused_runtimes() {
            rt.block_on(async {
                for behavior in [
                    MissedTickBehavior::Burst,
                    MissedTickBehavior::Delay,
                    MissedTickBehavior::Skip,
                ] {
                    for period in [Duration::MAX, YEARS, MS] {
                        let mut ticker = interval(period);
                        ticker.set_missed_tick_behavior(behavior);
                        let first = ticker.tick().await;
                        // Late by far more than the wheel spans.
                        advance(Duration::from_secs(1 << 36)).await;
                        let second = ticker.tick().await;
                        assert!(second >= first, "{behavior:?} {period:?}");
                        ticker.reset();
                        let mut other = interval_at(Instant::now(), period);
                        other.tick().await;
                    }
                }
            });
        }
    });
}
