//! The paused clock on both flavours: hours of timers in milliseconds, deterministic order,
//! `advance` by hand, and no jump while something can still run.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flywheel::time::{advance, interval, sleep, timeout};
use flywheel::{Builder, Runtime};

const SEC: Duration = Duration::from_secs(1);

fn current_thread() -> Runtime {
    Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap()
}

fn multi_thread() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .start_paused(true)
        .build()
        .unwrap()
}

fn both() -> [Runtime; 2] {
    [current_thread(), multi_thread()]
}

/// An hour of one-second ticks in `block_on`'s own future.
fn hour_of_intervals(rt: &Runtime) {
    let real = Instant::now();
    rt.block_on(async {
        let mut ticker = interval(SEC);
        let zero = ticker.tick().await;
        for i in 1..=3600u32 {
            let t = ticker.tick().await;
            assert_eq!(t - zero, SEC * i);
        }
    });
    assert!(
        real.elapsed() < Duration::from_secs(5),
        "an hour of virtual time took {:?}",
        real.elapsed()
    );
}

#[test]
fn an_hour_of_intervals_runs_in_milliseconds_current_thread() {
    common::watchdog(|| hour_of_intervals(&current_thread()));
}

#[test]
fn an_hour_of_intervals_runs_in_milliseconds_multi_thread() {
    common::watchdog(|| hour_of_intervals(&multi_thread()));
}

#[test]
fn an_hour_of_intervals_in_spawned_tasks() {
    common::watchdog(|| {
        for rt in both() {
            let real = Instant::now();
            rt.block_on(async {
                let tasks: Vec<_> = (1..=4u32)
                    .map(|k| {
                        flywheel::spawn(async move {
                            let mut ticker = interval(SEC * k);
                            let zero = ticker.tick().await;
                            let n = 3600 / k;
                            let mut last = zero;
                            for _ in 0..n {
                                last = ticker.tick().await;
                            }
                            last - zero
                        })
                    })
                    .collect();
                for (k, task) in (1..=4u32).zip(tasks) {
                    assert_eq!(task.await.unwrap(), SEC * k * (3600 / k));
                }
            });
            assert!(
                real.elapsed() < Duration::from_secs(5),
                "{:?}",
                real.elapsed()
            );
        }
    });
}

#[test]
fn timers_fire_in_deadline_order_every_time() {
    common::watchdog(|| {
        for rt in both() {
            for _ in 0..3 {
                let order = Arc::new(Mutex::new(Vec::new()));
                rt.block_on(async {
                    let tasks: Vec<_> = (0..50u64)
                        .map(|i| {
                            let order = order.clone();
                            // Distinct deadlines, spawned in a scrambled order.
                            let secs = (i * 37) % 50 + 1;
                            flywheel::spawn(async move {
                                sleep(SEC * secs as u32 * 60).await;
                                order.lock().unwrap().push(secs);
                            })
                        })
                        .collect();
                    for t in tasks {
                        t.await.unwrap();
                    }
                });
                let order = order.lock().unwrap().clone();
                assert_eq!(order, (1..=50).collect::<Vec<u64>>());
            }
        }
    });
}

#[test]
fn advance_moves_the_clock_by_hand() {
    common::watchdog(|| {
        for rt in both() {
            rt.block_on(async {
                let alarm = sleep(10 * SEC);
                let due = alarm.deadline();
                let alarm = flywheel::spawn(alarm);
                advance(4 * SEC).await;
                assert!(!alarm.is_finished());
                advance(6 * SEC).await;
                alarm.await.unwrap();
                // The clock stands exactly where it was advanced to.
                assert_eq!(sleep(Duration::ZERO).deadline(), due);
            });
        }
    });
}

#[test]
fn a_long_timeout_elapses_at_once_when_nothing_else_can_happen() {
    common::watchdog(|| {
        for rt in both() {
            let real = Instant::now();
            let r = rt.block_on(timeout(24 * 3600 * SEC, std::future::pending::<()>()));
            assert!(r.is_err());
            assert!(real.elapsed() < Duration::from_secs(5));
        }
    });
}

#[test]
fn a_running_blocking_job_holds_the_clock() {
    common::watchdog(|| {
        for rt in both() {
            rt.block_on(async {
                let job = flywheel::spawn_blocking(|| {
                    std::thread::sleep(Duration::from_millis(30));
                    "done"
                });
                // Were the clock to jump while the job runs, this would be Elapsed.
                let r = timeout(3600 * SEC, job).await;
                assert_eq!(r.unwrap().unwrap(), "done");
            });
        }
    });
}

#[test]
fn a_busy_worker_holds_the_clock() {
    common::watchdog(|| {
        let rt = multi_thread();
        rt.block_on(async {
            let busy = flywheel::spawn(async {
                // A task that hogs its worker for a while (deliberately blocking).
                std::thread::sleep(Duration::from_millis(30));
                7
            });
            let r = timeout(3600 * SEC, busy).await;
            assert_eq!(r.unwrap().unwrap(), 7);
        });
    });
}

#[test]
fn pause_and_resume_by_hand() {
    common::watchdog(|| {
        let rt = Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            flywheel::time::pause();
            let real = Instant::now();
            let nap = sleep(3600 * SEC);
            let due = nap.deadline();
            nap.await;
            assert!(real.elapsed() < Duration::from_secs(5));
            flywheel::time::resume();
            // Real time again: from the virtual instant reached, 20 ms take 20 ms.
            let start = Instant::now();
            let s = sleep(Duration::from_millis(20));
            assert!(s.deadline() >= due + Duration::from_millis(20));
            s.await;
            assert!(start.elapsed() >= Duration::from_millis(20));
        });
    });
}

#[test]
#[should_panic(expected = "needs a paused clock")]
fn advance_on_a_running_clock_panics() {
    common::watchdog(|| {
        let rt = Builder::new_current_thread().build().unwrap();
        rt.block_on(async { advance(SEC).await });
    });
}

#[test]
fn sleeps_beyond_the_wheel_horizon_complete_on_time() {
    common::watchdog(|| {
        for rt in both() {
            rt.block_on(async {
                // The wheel spans about two years; five years is re-registered at the horizon.
                let years = 5 * 365 * 24 * 3600 * SEC;
                let start = sleep(Duration::ZERO).deadline();
                let long = sleep(years);
                let due = long.deadline();
                long.await;
                let now = sleep(Duration::ZERO).deadline();
                assert!(now >= due, "woke {:?} early", due - now);
                assert!(now - start < years + SEC);
            });
        }
    });
}

#[test]
fn advancing_by_the_largest_duration_neither_panics_nor_hangs() {
    common::watchdog(|| {
        for rt in both() {
            rt.block_on(async {
                let alarm = flywheel::spawn(sleep(3600 * SEC));
                advance(Duration::MAX).await;
                alarm.await.unwrap();
                // Again, at the end of time, and with every kind of timer.
                advance(Duration::MAX).await;
                advance(Duration::from_secs(u64::MAX / 2)).await;
                sleep(SEC).await;
                sleep(Duration::MAX).await;
                assert_eq!(timeout(Duration::MAX, async { 1 }).await, Ok(1));
                let never = std::future::pending::<()>();
                assert!(timeout(Duration::MAX, never).await.is_err());
                let mut ticker = interval(Duration::MAX);
                ticker.tick().await;
                ticker.tick().await;
                // A clock that was paused at the end of time runs on from there.
                flywheel::time::resume();
                flywheel::time::pause();
                sleep(SEC).await;
            });
        }
    });
}

#[test]
fn huge_but_representable_advances_keep_timers_working() {
    common::watchdog(|| {
        for rt in both() {
            rt.block_on(async {
                // Far beyond the wheel's span, within what an Instant can hold.
                let far = Duration::from_secs(1 << 40);
                advance(far).await;
                let nap = sleep(10 * SEC);
                let due = nap.deadline();
                let alarm = flywheel::spawn(nap);
                advance(4 * SEC).await;
                assert!(!alarm.is_finished(), "fired early");
                advance(6 * SEC).await;
                alarm.await.unwrap();
                assert!(sleep(Duration::ZERO).deadline() >= due);
            });
        }
    });
}

#[test]
fn time_misuse_panics_point_at_the_caller() {
    common::watchdog(|| {
        let here = |line| (file!().to_owned(), line);
        let line = line!() + 1;
        let at = common::panic_location(|| flywheel::time::pause());
        assert_eq!(at, here(line), "pause");
        let line = line!() + 1;
        let at = common::panic_location(|| flywheel::time::resume());
        assert_eq!(at, here(line), "resume");
        let line = line!() + 1;
        let at = common::panic_location(|| drop(advance(SEC)));
        assert_eq!(at, here(line), "advance");
        let line = line!() + 1;
        let at = common::panic_location(|| drop(interval(Duration::ZERO)));
        assert_eq!(at, here(line), "interval(ZERO)");
        let mut ticker = interval(SEC);
        let line = line!() + 1;
        let at = common::panic_location(|| ticker.reset());
        assert_eq!(at, here(line), "Interval::reset outside a runtime");
    });
}
