//! `sleep`, `sleep_until` and `Sleep`: never early, reset both ways, dropped sleeps inert.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use flywheel::time::{sleep, sleep_until, Instant};
use flywheel::{Builder, Runtime};

fn current_thread() -> Runtime {
    Builder::new_current_thread().build().unwrap()
}

fn multi_thread() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

/// Spawns `n` sleeps of 1..=50 ms at once; returns every lateness past its deadline.
fn many_sleeps(rt: &Runtime, n: usize) -> Vec<Duration> {
    let lateness = Arc::new(Mutex::new(Vec::with_capacity(n)));
    rt.block_on(async {
        let mut handles = Vec::with_capacity(n);
        for i in 0..n {
            let lateness = lateness.clone();
            handles.push(flywheel::spawn(async move {
                let s = sleep(Duration::from_millis(1 + (i % 50) as u64));
                let deadline = s.deadline();
                s.await;
                let now = Instant::now();
                assert!(
                    now >= deadline,
                    "sleep {i} completed {:?} early",
                    deadline - now
                );
                lateness.lock().unwrap().push(now - deadline);
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
    });
    let out = std::mem::take(&mut *lateness.lock().unwrap());
    out
}

fn report(name: &str, mut lateness: Vec<Duration>) {
    lateness.sort();
    let n = lateness.len();
    let mean = lateness.iter().sum::<Duration>() / n as u32;
    let p99 = lateness[n * 99 / 100];
    println!("{name}: {n} sleeps, mean lateness {mean:?}, p99 {p99:?}");
    // Generous: 100 000 first polls queue ahead of the earliest wake-ups, and the machine is
    // shared; the point is that nothing is lost, early, or wildly late.
    assert!(mean < Duration::from_secs(1), "mean lateness {mean:?}");
}

#[test]
fn many_concurrent_sleeps_complete_and_none_early_current_thread() {
    common::watchdog_for(Duration::from_secs(30), || {
        let n = common::iterations(100_000);
        let lateness = many_sleeps(&current_thread(), n);
        assert_eq!(lateness.len(), n);
        report("current_thread", lateness);
    });
}

#[test]
fn many_concurrent_sleeps_complete_and_none_early_multi_thread() {
    common::watchdog_for(Duration::from_secs(30), || {
        let n = common::iterations(100_000);
        let lateness = many_sleeps(&multi_thread(), n);
        assert_eq!(lateness.len(), n);
        report("multi_thread", lateness);
    });
}

#[test]
fn sequential_sleeps_are_never_early_and_not_a_tick_late_on_average() {
    common::watchdog(|| {
        for rt in [current_thread(), multi_thread()] {
            rt.block_on(async {
                let mut lateness = Vec::new();
                for i in 0..200u64 {
                    // 0.3 ms to 6.3 ms in uneven steps, so deadlines fall all over a tick.
                    let d = Duration::from_micros(300 + (i * 977) % 6000);
                    let start = Instant::now();
                    sleep(d).await;
                    let took = start.elapsed();
                    assert!(took >= d, "slept {took:?} for {d:?}");
                    lateness.push(took - d);
                }
                lateness.sort();
                let mean = lateness.iter().sum::<Duration>() / lateness.len() as u32;
                let p99 = lateness[lateness.len() * 99 / 100];
                println!("sequential {rt:?}: mean lateness {mean:?}, p99 {p99:?}");
                // Rounding up to the next tick and epoll's ms timeout make ~1 ms expected;
                // the bounds are loose because the machine is shared.
                assert!(mean < Duration::from_millis(20), "mean lateness {mean:?}");
            });
        }
    });
}

#[test]
fn zero_and_past_deadlines_complete_at_once() {
    common::watchdog(|| {
        current_thread().block_on(async {
            sleep(Duration::ZERO).await;
            let past = Instant::now() - Duration::from_millis(5);
            let s = sleep_until(past);
            assert_eq!(s.deadline(), past);
            s.await;
        });
    });
}

#[test]
fn reset_earlier_and_later() {
    common::watchdog(|| {
        for rt in [current_thread(), multi_thread()] {
            rt.block_on(async {
                // Earlier: an hour-long sleep, moved to 10 ms from now, wakes its task.
                let start = Instant::now();
                let mut s = Box::pin(sleep(Duration::from_secs(3600)));
                let waiter = flywheel::spawn(async move {
                    // Register first, so the reset re-arms a waiting timer.
                    std::future::poll_fn(|cx| {
                        assert!(s.as_mut().poll(cx).is_pending());
                        std::task::Poll::Ready(())
                    })
                    .await;
                    let target = Instant::now() + Duration::from_millis(10);
                    s.as_mut().reset(target);
                    assert_eq!(s.deadline(), target);
                    s.await;
                    assert!(Instant::now() >= target);
                });
                waiter.await.unwrap();
                assert!(start.elapsed() < Duration::from_secs(5));

                // Later: a 5 ms sleep moved to 40 ms does not complete at 5 ms.
                let start = Instant::now();
                let mut s = Box::pin(sleep(Duration::from_millis(5)));
                std::future::poll_fn(|cx| {
                    assert!(s.as_mut().poll(cx).is_pending());
                    std::task::Poll::Ready(())
                })
                .await;
                s.as_mut().reset(start + Duration::from_millis(40));
                s.as_mut().await;
                assert!(start.elapsed() >= Duration::from_millis(40));
                assert!(s.is_elapsed());

                // After completion: reset makes it wait again.
                let again = Instant::now() + Duration::from_millis(5);
                s.as_mut().reset(again);
                assert!(!s.is_elapsed());
                s.await;
                assert!(Instant::now() >= again);
            });
        }
    });
}

/// A waker that counts its wakes.
struct CountWakes(AtomicUsize);

impl Wake for CountWakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn dropped_sleeps_never_wake_anyone() {
    common::watchdog(|| {
        for rt in [current_thread(), multi_thread()] {
            rt.block_on(async {
                let dropped = Arc::new(CountWakes(AtomicUsize::new(0)));
                let kept = Arc::new(CountWakes(AtomicUsize::new(0)));
                let dropped_waker = Waker::from(dropped.clone());
                let kept_waker = Waker::from(kept.clone());
                let mut kept_sleeps = Vec::new();
                for i in 0..100u64 {
                    // Each poll spends cooperative budget (block_on's future has one too):
                    // refill it now and then, or the poll told to yield would wake its waker.
                    if i % 32 == 0 {
                        flywheel::task::yield_now().await;
                    }
                    let mut a = sleep(Duration::from_millis(1 + i % 10));
                    let mut b = sleep(Duration::from_millis(1 + i % 10));
                    let mut cx = Context::from_waker(&dropped_waker);
                    assert!(Pin::new(&mut a).poll(&mut cx).is_pending());
                    drop(a);
                    let mut cx = Context::from_waker(&kept_waker);
                    assert!(Pin::new(&mut b).poll(&mut cx).is_pending());
                    kept_sleeps.push(b);
                }
                // Outlive every deadline.
                sleep(Duration::from_millis(40)).await;
                assert_eq!(
                    dropped.0.load(Ordering::SeqCst),
                    0,
                    "a dropped sleep woke its task"
                );
                assert_eq!(
                    kept.0.load(Ordering::SeqCst),
                    100,
                    "each kept sleep wakes once"
                );
                assert!(kept_sleeps.iter().all(|s| s.is_elapsed()));
            });
        }
    });
}

#[test]
fn a_task_waiting_on_a_dropped_sleep_is_not_polled_again() {
    common::watchdog(|| {
        let rt = multi_thread();
        let polls = Arc::new(AtomicUsize::new(0));
        let drops = common::DropCounter::new();
        let (tx, rx) = futures_channel::oneshot::channel::<()>();
        let task = {
            let polls = polls.clone();
            let guard = drops.guard();
            let mut s = Some(sleep(Duration::from_millis(5)));
            let mut rx = rx;
            rt.spawn(std::future::poll_fn(move |cx| {
                let _keep = &guard;
                polls.fetch_add(1, Ordering::SeqCst);
                if let Some(mut sl) = s.take() {
                    assert!(Pin::new(&mut sl).poll(cx).is_pending());
                    // Dropped while registered: the wheel must forget this task.
                }
                Pin::new(&mut rx).poll(cx).map(|_| ())
            }))
        };
        rt.block_on(sleep(Duration::from_millis(30)));
        assert_eq!(polls.load(Ordering::SeqCst), 1, "woken by a dropped sleep");
        tx.send(()).unwrap();
        rt.block_on(task).unwrap();
        assert_eq!(polls.load(Ordering::SeqCst), 2);
        assert_eq!(drops.count(), 1);
    });
}

#[test]
fn sleeps_wake_tasks_on_another_worker_while_one_is_parked() {
    common::watchdog(|| {
        let rt = multi_thread();
        for round in 0..50u64 {
            let start = Instant::now();
            let d = Duration::from_millis(1 + round % 5);
            rt.block_on(rt.spawn(sleep(d))).unwrap();
            assert!(start.elapsed() >= d);
        }
    });
}

#[test]
fn sleep_is_send_sync_and_unpin() {
    common::watchdog(|| {
        fn check<T: Send + Sync + Unpin>(_: &T) {}
        let s = sleep(Duration::from_secs(1));
        check(&s);
        assert!(format!("{s:?}").contains("Sleep"));
    });
}

#[test]
#[should_panic(expected = "outside a flywheel runtime")]
fn polling_outside_a_runtime_panics_with_advice() {
    common::watchdog(|| futures::executor::block_on(sleep(Duration::from_millis(1))));
}

#[test]
fn a_loop_over_due_sleeps_lets_other_tasks_run() {
    common::watchdog(|| {
        let rt = current_thread();
        rt.block_on(async {
            // Let the driver process a tick, so a past deadline is known to be due.
            sleep(Duration::from_millis(2)).await;
            let other_ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let looper = {
                let other_ran = other_ran.clone();
                flywheel::spawn(async move {
                    let past = Instant::now() - Duration::from_secs(1);
                    for i in 0..100_000u32 {
                        sleep_until(past).await;
                        if other_ran.load(Ordering::SeqCst) {
                            return i;
                        }
                    }
                    panic!("the other task never ran while this one looped over due sleeps");
                })
            };
            let other = {
                let other_ran = other_ran.clone();
                flywheel::spawn(async move { other_ran.store(true, Ordering::SeqCst) })
            };
            let spins = looper.await.unwrap();
            other.await.unwrap();
            assert!(spins < 1000, "yielded only after {spins} sleeps");
        });
    });
}

/// A `block_on` future that polls a flag in a `yield_now` loop keeps the thread busy, but
/// timers must still fire: the thread has to look at the driver now and then even though
/// it never runs out of work. (On current-thread it never did: the loop spun for ever.)
#[test]
fn timers_fire_while_the_block_on_future_busy_yields() {
    for (name, make) in [
        ("current_thread", current_thread as fn() -> Runtime),
        ("multi_thread", multi_thread),
    ] {
        common::watchdog(move || {
            let rt = make();
            rt.block_on(async {
                let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
                let flag = done.clone();
                flywheel::spawn(async move {
                    sleep(Duration::from_millis(5)).await;
                    flag.store(true, Ordering::SeqCst);
                });
                let start = Instant::now();
                while !done.load(Ordering::SeqCst) {
                    assert!(
                        start.elapsed() < Duration::from_secs(3),
                        "{name}: the timer never fired"
                    );
                    flywheel::task::yield_now().await;
                }
            });
        });
    }
}
