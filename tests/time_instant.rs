//! `flywheel::time::Instant` follows the runtime's clock: virtual under a paused clock (on
//! workers, in `block_on`, on the blocking pool), real otherwise and outside any runtime;
//! its arithmetic is checked at the edges; timers take and report these instants.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use flywheel::time::{
    advance, interval, interval_at, pause, resume, sleep, sleep_until, timeout_at, Instant,
};
use flywheel::{Builder, Runtime};

const SEC: Duration = Duration::from_secs(1);
const HOUR: Duration = Duration::from_secs(3600);

fn paused_current_thread() -> Runtime {
    Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap()
}

fn paused_multi_thread() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .start_paused(true)
        .build()
        .unwrap()
}

fn paused_both() -> [Runtime; 2] {
    [paused_current_thread(), paused_multi_thread()]
}

fn real_both() -> [Runtime; 2] {
    [common::current_thread(), common::multi_thread()]
}

#[test]
fn now_moves_with_a_paused_sleep() {
    common::watchdog(|| {
        for rt in paused_both() {
            let real = std::time::Instant::now();
            rt.block_on(async {
                let start = Instant::now();
                sleep(HOUR).await;
                let slept = Instant::now() - start;
                assert!(slept >= HOUR, "Instant::now() moved by {slept:?} only");
                assert!(slept < HOUR + SEC, "moved by {slept:?}");
            });
            assert!(real.elapsed() < Duration::from_secs(5));
        }
    });
}

#[test]
fn advance_moves_now_by_exactly_its_duration() {
    common::watchdog(|| {
        for rt in paused_both() {
            rt.block_on(async {
                let start = Instant::now();
                advance(HOUR).await;
                assert_eq!(Instant::now(), start + HOUR);
                advance(Duration::from_millis(1)).await;
                assert_eq!(Instant::now() - start, HOUR + Duration::from_millis(1));
            });
        }
    });
}

#[test]
fn elapsed_under_a_paused_clock_is_virtual() {
    common::watchdog(|| {
        for rt in paused_both() {
            rt.block_on(async {
                let start = Instant::now();
                std::thread::sleep(Duration::from_millis(5));
                assert_eq!(start.elapsed(), Duration::ZERO, "the paused clock moved");
                sleep(90 * SEC).await;
                let elapsed = start.elapsed();
                assert!(elapsed >= 90 * SEC && elapsed < 91 * SEC, "{elapsed:?}");
            });
        }
    });
}

#[test]
fn tasks_and_blocking_jobs_read_the_same_paused_clock() {
    common::watchdog(|| {
        for rt in paused_both() {
            rt.block_on(async {
                let start = Instant::now();
                advance(HOUR).await;
                let in_task = flywheel::spawn(async { Instant::now() }).await.unwrap();
                let in_pool = flywheel::spawn_blocking(Instant::now).await.unwrap();
                assert_eq!(in_task, start + HOUR);
                assert_eq!(in_pool, start + HOUR);
            });
        }
    });
}

#[test]
fn outside_a_runtime_now_tracks_the_real_clock() {
    common::watchdog(|| {
        let before = std::time::Instant::now();
        let ours = Instant::now().into_std();
        let after = std::time::Instant::now();
        assert!(before <= ours && ours <= after);

        // A thread that only holds a handle has not entered the runtime: real time, even
        // though that runtime's clock is an hour ahead.
        let rt = paused_multi_thread();
        rt.block_on(async { advance(HOUR).await });
        let handle = rt.handle().clone();
        let on_plain_thread = std::thread::spawn(move || {
            let before = std::time::Instant::now();
            let ours = Instant::now().into_std();
            drop(handle);
            (before, ours, std::time::Instant::now())
        })
        .join()
        .unwrap();
        let (before, ours, after) = on_plain_thread;
        assert!(before <= ours && ours <= after);
    });
}

#[test]
fn an_unpaused_runtime_reads_the_real_clock() {
    common::watchdog(|| {
        for rt in real_both() {
            rt.block_on(async {
                let before = std::time::Instant::now();
                let ours = flywheel::spawn(async { Instant::now() }).await.unwrap();
                let ours = std::time::Instant::from(ours);
                let after = std::time::Instant::now();
                assert!(before <= ours && ours <= after);
            });
        }
    });
}

#[test]
fn a_resumed_clock_runs_on_from_where_it_stood() {
    common::watchdog(|| {
        for rt in real_both() {
            rt.block_on(async {
                pause();
                let paused_at = Instant::now();
                advance(HOUR).await;
                resume();
                let resumed = Instant::now();
                assert!(resumed >= paused_at + HOUR, "went back after resume");
                let mut last = resumed;
                for _ in 0..1000 {
                    let now = Instant::now();
                    assert!(now >= last, "not monotonic: {now:?} < {last:?}");
                    last = now;
                }
                // It runs at real speed again, still an hour ahead.
                sleep(Duration::from_millis(5)).await;
                assert!(Instant::now() - resumed >= Duration::from_millis(5));
                assert!(Instant::now() - paused_at < HOUR + Duration::from_secs(60));
            });
        }
    });
}

#[test]
fn instants_order_and_hash_by_time() {
    common::watchdog(|| {
        let a = Instant::now();
        let b = a + Duration::from_nanos(1);
        let c = a + SEC;
        assert!(a < b && b < c);
        assert_eq!(a.max(c), c);
        let mut sorted = vec![c, a, b, a];
        sorted.sort();
        assert_eq!(sorted, [a, a, b, c]);
        let set: HashSet<Instant> = [a, b, a, c, c - SEC].into_iter().collect();
        assert_eq!(set.len(), 3);
        assert!(set.contains(&(b - Duration::from_nanos(1))));
    });
}

#[test]
fn checked_arithmetic_at_the_edges() {
    common::watchdog(|| {
        let now = Instant::now();
        assert_eq!(now.checked_add(Duration::MAX), None);
        assert_eq!(now.checked_sub(Duration::MAX), None);
        assert_eq!(now.checked_add(SEC), Some(now + SEC));
        assert_eq!(now.checked_add(Duration::ZERO), Some(now));
        let later = now + SEC;
        assert_eq!(later.checked_sub(SEC), Some(now));
        assert_eq!(later.checked_duration_since(now), Some(SEC));
        assert_eq!(now.checked_duration_since(later), None);
        assert_eq!(now.saturating_duration_since(later), Duration::ZERO);
        assert_eq!(later.duration_since(now), SEC);
        assert_eq!(now.duration_since(later), Duration::ZERO);
        assert_eq!(later - now, SEC);
        assert_eq!(now - later, Duration::ZERO);
        let mut moving = now;
        moving += SEC;
        assert_eq!(moving, later);
        moving -= SEC;
        assert_eq!(moving, now);
    });
}

#[test]
fn overflowing_operators_panic_and_point_to_the_checked_ones() {
    common::watchdog(|| {
        let now = Instant::now();
        let message = |f: Box<dyn FnOnce() + std::panic::UnwindSafe>| {
            let payload = std::panic::catch_unwind(f).expect_err("overflow must panic");
            payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        };
        let add = message(Box::new(move || {
            let _sum = now + Duration::MAX;
        }));
        assert!(add.contains("checked_add"), "{add}");
        let sub = message(Box::new(move || {
            let _difference = now - Duration::MAX;
        }));
        assert!(sub.contains("checked_sub"), "{sub}");
        let add_assign = message(Box::new(move || {
            let mut t = now;
            t += Duration::MAX;
        }));
        assert!(add_assign.contains("checked_add"), "{add_assign}");
        let sub_assign = message(Box::new(move || {
            let mut t = now;
            t -= Duration::MAX;
        }));
        assert!(sub_assign.contains("checked_sub"), "{sub_assign}");
    });
}

#[test]
fn sleeps_report_the_instant_they_were_given() {
    common::watchdog(|| {
        for rt in paused_both() {
            rt.block_on(async {
                let start = Instant::now();
                let at = start + 90 * SEC;
                let mut nap = Box::pin(sleep_until(at));
                assert_eq!(nap.deadline(), at);
                assert_eq!(sleep(HOUR).deadline(), start + HOUR);
                let sooner = start + 30 * SEC;
                nap.as_mut().reset(sooner);
                assert_eq!(nap.deadline(), sooner);
                nap.await;
                assert_eq!(Instant::now(), sooner);
            });
        }
    });
}

#[test]
fn timeout_at_expires_at_its_instant_on_the_virtual_clock() {
    common::watchdog(|| {
        for rt in paused_both() {
            rt.block_on(async {
                let deadline = Instant::now() + HOUR;
                let result = timeout_at(deadline, std::future::pending::<()>()).await;
                assert!(result.is_err());
                assert_eq!(Instant::now(), deadline);
            });
        }
    });
}

#[test]
fn interval_ticks_are_a_period_apart_in_virtual_time() {
    common::watchdog(|| {
        for rt in paused_both() {
            rt.block_on(async {
                let period = 10 * SEC;
                let mut ticker = interval(period);
                let first = ticker.tick().await;
                assert_eq!(first, Instant::now());
                for k in 1..=100u32 {
                    let tick = ticker.tick().await;
                    assert_eq!(tick, first + period * k);
                    assert_eq!(Instant::now(), tick, "the clock stands at the tick");
                }
                let start = Instant::now() + HOUR;
                let mut later = interval_at(start, period);
                assert_eq!(later.tick().await, start);
                assert_eq!(Instant::now(), start);
                assert_eq!(later.tick().await, start + period);
            });
        }
    });
}

#[test]
fn std_instants_convert_both_ways_unchanged() {
    common::watchdog(|| {
        let std_now = std::time::Instant::now();
        let ours = Instant::from_std(std_now);
        assert_eq!(ours.into_std(), std_now);
        assert_eq!(Instant::from(std_now), ours);
        assert_eq!(std::time::Instant::from(ours + SEC), std_now + SEC);
        let back: std::time::Instant = (ours - SEC).into();
        assert_eq!(back, std_now - SEC);
        // Debug shows the same point in time as std's.
        assert_eq!(format!("{ours:?}"), format!("{std_now:?}"));
    });
}

#[test]
fn instant_is_a_plain_value() {
    fn assert_value<T: Copy + Send + Sync + Unpin + std::hash::Hash + Ord + std::fmt::Debug>() {}
    assert_value::<Instant>();
    assert_eq!(
        std::mem::size_of::<Instant>(),
        std::mem::size_of::<std::time::Instant>()
    );
}
