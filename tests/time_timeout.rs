//! `timeout` and `timeout_at`: Ok when the future wins, Elapsed (and the future dropped)
//! when the deadline does, never early.

mod common;

use std::error::Error;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use flywheel::time::{sleep, timeout, timeout_at, Elapsed, Instant};
use flywheel::{Builder, Runtime};

fn runtimes() -> [Runtime; 2] {
    [
        Builder::new_current_thread().build().unwrap(),
        Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap(),
    ]
}

#[test]
fn ready_future_is_ok() {
    common::watchdog(|| {
        for rt in runtimes() {
            rt.block_on(async {
                assert_eq!(timeout(Duration::from_secs(1), async { 1 }).await, Ok(1));
                assert_eq!(timeout(Duration::ZERO, async { 2 }).await, Ok(2));
                // A passed deadline still polls the future first.
                let past = Instant::now() - Duration::from_secs(1);
                assert_eq!(timeout_at(past, async { 3 }).await, Ok(3));
            });
        }
    });
}

#[test]
fn future_finishing_before_the_deadline_is_ok() {
    common::watchdog(|| {
        for rt in runtimes() {
            rt.block_on(async {
                let slow_enough = async {
                    sleep(Duration::from_millis(5)).await;
                    "done"
                };
                assert_eq!(
                    timeout(Duration::from_secs(5), slow_enough).await,
                    Ok("done")
                );
                let spawned = flywheel::spawn(async {
                    sleep(Duration::from_millis(2)).await;
                    9
                });
                let joined = timeout(Duration::from_secs(5), spawned).await;
                assert_eq!(joined.unwrap().unwrap(), 9);
            });
        }
    });
}

#[test]
fn elapsed_when_the_deadline_comes_first_and_never_early() {
    common::watchdog(|| {
        for rt in runtimes() {
            rt.block_on(async {
                let drops = common::DropCounter::new();
                let polls = Arc::new(AtomicUsize::new(0));
                let guard = drops.guard();
                let never = {
                    let polls = polls.clone();
                    async move {
                        let _guard = guard;
                        common::CountPolls(polls).await
                    }
                };
                let d = Duration::from_millis(15);
                let start = Instant::now();
                let result = timeout(d, never).await;
                let err: Elapsed = result.unwrap_err();
                assert_eq!(err.to_string(), "deadline has elapsed");
                assert!(start.elapsed() >= d, "gave up after {:?}", start.elapsed());
                assert_eq!(drops.count(), 1, "the future is dropped with the timeout");
                assert!(polls.load(Ordering::SeqCst) >= 1);

                let deadline = Instant::now() + Duration::from_millis(10);
                let result = timeout_at(deadline, std::future::pending::<()>()).await;
                assert!(result.is_err());
                assert!(Instant::now() >= deadline);

                assert!(timeout(Duration::ZERO, std::future::pending::<()>())
                    .await
                    .is_err());
            });
        }
    });
}

#[test]
fn many_pending_timeouts_that_succeed_leave_no_timer_behind() {
    common::watchdog(|| {
        for rt in runtimes() {
            rt.block_on(async {
                for _ in 0..common::iterations(100_000) {
                    let r = timeout(Duration::from_secs(1), flywheel::task::yield_now()).await;
                    assert!(r.is_ok());
                }
                // Nothing left to fire: a short sleep is not delayed by a crowded wheel.
                let start = Instant::now();
                sleep(Duration::from_millis(2)).await;
                assert!(start.elapsed() < Duration::from_secs(1));
            });
        }
    });
}

#[test]
fn elapsed_is_an_error_with_a_message() {
    common::watchdog(|| {
        let rt = Builder::new_current_thread().build().unwrap();
        let err = rt
            .block_on(timeout(
                Duration::from_millis(1),
                std::future::pending::<()>(),
            ))
            .unwrap_err();
        assert_eq!(err.to_string(), "deadline has elapsed");
        assert!(format!("{err:?}").contains("Elapsed"));
        let boxed: Box<dyn Error + Send + Sync> = Box::new(err);
        assert!(boxed.source().is_none());
    });
}

#[test]
fn timeout_is_send_when_its_future_is() {
    common::watchdog(|| {
        fn check<T: Send>(_: &T) {}
        let t = timeout(Duration::from_secs(1), async { 1 });
        check(&t);
        assert_eq!(flywheel::run(t.into_inner()), 1);
    });
}

#[test]
fn the_future_is_dropped_with_the_timeout_not_when_time_runs_out() {
    common::watchdog(|| {
        for rt in runtimes() {
            rt.block_on(async {
                let drops = common::DropCounter::new();
                let guard = drops.guard();
                let bounded = timeout(Duration::from_millis(2), async move {
                    let _guard = guard;
                    std::future::pending::<()>().await
                });
                let mut bounded = std::pin::pin!(bounded);
                assert!(bounded.as_mut().await.is_err());
                assert_eq!(drops.count(), 0, "still held by the Timeout");
            });
            // Elapsed, and still there to take back.
            let drops = common::DropCounter::new();
            let guard = drops.guard();
            let inner = async move {
                let _guard = guard;
                std::future::pending::<()>().await
            };
            let mut bounded = Box::pin(timeout(Duration::from_millis(2), inner));
            assert!(rt.block_on(bounded.as_mut()).is_err());
            assert_eq!(drops.count(), 0);
            drop(bounded);
            assert_eq!(drops.count(), 1, "dropped with the Timeout, exactly once");
        }
    });
}

#[test]
fn extreme_durations_are_neither_an_overflow_nor_a_hang() {
    common::watchdog(|| {
        for rt in runtimes() {
            rt.block_on(async {
                assert_eq!(timeout(Duration::MAX, async { 3 }).await, Ok(3));
                let slow = sleep(Duration::from_millis(2));
                assert_eq!(timeout(Duration::MAX, slow).await, Ok(()));
                let far = Instant::now() + Duration::from_secs(1 << 40);
                assert_eq!(timeout_at(far, async { 4 }).await, Ok(4));
                let mut nap = Box::pin(sleep(Duration::MAX));
                let polled = std::future::poll_fn(|cx| {
                    std::task::Poll::Ready(nap.as_mut().poll(cx).is_pending())
                });
                assert!(polled.await);
                let soon = Instant::now() + Duration::from_millis(2);
                nap.as_mut().reset(soon);
                nap.await;
            });
        }
    });
}
