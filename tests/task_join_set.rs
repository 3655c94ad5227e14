//! JoinSet: completion order, abort, drop, shutdown, join_all, the fail-fast group, scale.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use common::{iterations, watchdog, DropCounter};
use flywheel::task::{yield_now, JoinSet, TryJoinError};
use flywheel::{Builder, Runtime};
use futures::channel::oneshot;

/// Both flavours, so every behaviour is checked with and without worker threads.
fn runtimes() -> Vec<Runtime> {
    vec![
        Builder::new_current_thread().build().unwrap(),
        Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap(),
    ]
}

/// Yields until every abort handle reports its task finished.
async fn until_finished(handles: &[flywheel::task::AbortHandle]) {
    while !handles.iter().all(|h| h.is_finished()) {
        yield_now().await;
    }
}

#[test]
fn join_next_returns_results_in_completion_order() {
    watchdog(|| {
        for rt in runtimes() {
            rt.block_on(async {
                let mut set = JoinSet::new();
                let mut releases = Vec::new();
                for i in 0..8usize {
                    let (tx, rx) = oneshot::channel::<()>();
                    releases.push(Some(tx));
                    set.spawn(async move {
                        rx.await.unwrap();
                        i
                    });
                }
                // Release one task at a time, in an order unrelated to spawn order.
                for i in [5, 2, 7, 0, 3, 6, 1, 4] {
                    releases[i].take().unwrap().send(()).unwrap();
                    assert_eq!(set.join_next().await.unwrap().unwrap(), i);
                }
                assert!(set.join_next().await.is_none());
                assert!(set.is_empty());
            });
        }
    });
}

#[test]
fn abort_all_yields_cancelled_errors() {
    watchdog(|| {
        for rt in runtimes() {
            rt.block_on(async {
                let mut set = JoinSet::new();
                for _ in 0..10 {
                    set.spawn(std::future::pending::<()>());
                }
                set.abort_all();
                assert_eq!(set.len(), 10);
                let mut cancelled = 0;
                while let Some(result) = set.join_next().await {
                    assert!(result.unwrap_err().is_cancelled());
                    cancelled += 1;
                }
                assert_eq!(cancelled, 10);
            });
        }
    });
}

#[test]
fn abort_handle_from_spawn_aborts_only_that_task() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let mut set = JoinSet::new();
            let (tx, rx) = oneshot::channel::<()>();
            set.spawn(async move {
                rx.await.unwrap();
                "kept"
            });
            let doomed = set.spawn(std::future::pending());
            doomed.abort();
            assert!(set.join_next().await.unwrap().unwrap_err().is_cancelled());
            tx.send(()).unwrap();
            assert_eq!(set.join_next().await.unwrap().unwrap(), "kept");
        });
    });
}

#[test]
fn dropping_the_set_aborts_every_member() {
    watchdog(|| {
        for rt in runtimes() {
            rt.block_on(async {
                let drops = DropCounter::new();
                let mut set = JoinSet::new();
                let mut aborts = Vec::new();
                for _ in 0..50 {
                    let guard = drops.guard();
                    aborts.push(set.spawn(async move {
                        let _guard = guard;
                        std::future::pending::<()>().await;
                    }));
                }
                // Let some of them start, so both queued and idle tasks are aborted.
                yield_now().await;
                drop(set);
                until_finished(&aborts).await;
                assert_eq!(drops.count(), 50);
            });
        }
    });
}

#[test]
fn detach_all_lets_members_run_on() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (tx, rx) = std::sync::mpsc::channel();
            let (go_tx, go_rx) = oneshot::channel::<()>();
            let mut set = JoinSet::new();
            set.spawn(async move {
                go_rx.await.unwrap();
                tx.send("ran to the end").unwrap();
            });
            set.detach_all();
            assert!(set.is_empty());
            drop(set);
            go_tx.send(()).unwrap();
            let msg = flywheel::spawn_blocking(move || rx.recv().unwrap())
                .await
                .unwrap();
            assert_eq!(msg, "ran to the end");
        });
    });
}

#[test]
fn shutdown_returns_after_every_member_is_gone() {
    watchdog(|| {
        for rt in runtimes() {
            rt.block_on(async {
                let drops = DropCounter::new();
                let mut set = JoinSet::new();
                for _ in 0..20 {
                    let guard = drops.guard();
                    set.spawn(async move {
                        let _guard = guard;
                        std::future::pending::<()>().await;
                    });
                }
                yield_now().await;
                set.shutdown().await;
                assert_eq!(
                    drops.count(),
                    20,
                    "shutdown returned before the futures dropped"
                );
                assert!(set.is_empty());
                assert!(set.join_next().await.is_none());
            });
        }
    });
}

#[test]
fn try_join_next_never_waits() {
    watchdog(|| {
        let rt = Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let mut set = JoinSet::new();
            set.spawn(async { 1 });
            // Nothing has run yet on this thread.
            assert!(set.try_join_next().is_none());
            let value = loop {
                if let Some(result) = set.try_join_next() {
                    break result.unwrap();
                }
                yield_now().await;
            };
            assert_eq!(value, 1);
            assert!(set.try_join_next().is_none());
            assert!(set.is_empty());
        });
    });
}

#[test]
fn spawn_blocking_members_join_like_the_others() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let mut set = JoinSet::new();
            set.spawn_blocking(|| 2 + 2);
            set.spawn(async { 5 });
            let mut all = set.join_all().await;
            all.sort();
            assert_eq!(all, [4, 5]);
        });
    });
}

#[test]
fn join_all_reraises_a_panic_after_aborting_the_rest() {
    watchdog(|| {
        for rt in runtimes() {
            let drops = DropCounter::new();
            let sibling_drops = drops.clone();
            let caught = catch_unwind(AssertUnwindSafe(|| {
                rt.block_on(async move {
                    let mut set = JoinSet::new();
                    for _ in 0..5 {
                        let guard = sibling_drops.guard();
                        set.spawn(async move {
                            let _guard = guard;
                            std::future::pending::<u32>().await
                        });
                    }
                    set.spawn(async { panic!("member exploded") });
                    set.join_all().await
                })
            }));
            let payload = caught.expect_err("join_all should re-raise the panic");
            assert_eq!(payload.downcast_ref::<&str>(), Some(&"member exploded"));
            assert_eq!(
                drops.count(),
                5,
                "siblings still alive after join_all panicked"
            );
        }
    });
}

#[test]
fn fail_fast_group_returns_the_first_error_and_aborts_siblings() {
    watchdog(|| {
        for rt in runtimes() {
            rt.block_on(async {
                let drops = DropCounter::new();
                let (tx, rx) = oneshot::channel::<()>();
                let mut group = JoinSet::new();
                for _ in 0..5 {
                    let guard = drops.guard();
                    group.spawn(async move {
                        let _guard = guard;
                        std::future::pending::<Result<u32, String>>().await
                    });
                }
                group.spawn(async { Ok(1) });
                group.spawn(async move {
                    rx.await.unwrap();
                    Err("quota exceeded".to_string())
                });
                tx.send(()).unwrap();
                match group.try_join_all().await {
                    Err(TryJoinError::Task(e)) => assert_eq!(e, "quota exceeded"),
                    other => panic!("expected the task's Err, got {other:?}"),
                }
                assert_eq!(drops.count(), 5);
            });
        }
    });
}

#[test]
fn fail_fast_group_reports_a_panic_as_join_error() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let mut group: JoinSet<Result<(), String>> = JoinSet::new();
            group.spawn(std::future::pending());
            group.spawn(async { panic!("no") });
            match group.try_join_all().await {
                Err(TryJoinError::Join(e)) => assert!(e.is_panic()),
                other => panic!("expected a JoinError, got {other:?}"),
            }
        });
    });
}

#[test]
fn fail_fast_group_returns_every_value_when_none_fails() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let mut group = JoinSet::new();
            for i in 0..10u32 {
                group.spawn(async move { Ok::<_, String>(i) });
            }
            let mut values = group.try_join_all().await.unwrap();
            values.sort();
            assert_eq!(values, (0..10).collect::<Vec<_>>());
        });
    });
}

#[test]
fn a_hundred_thousand_members() {
    watchdog(|| {
        for rt in runtimes() {
            let n = iterations(100_000);
            rt.block_on(async move {
                let mut set = JoinSet::new();
                for i in 0..n {
                    set.spawn(async move { i as u64 });
                }
                assert_eq!(set.len(), n);
                let mut sum = 0;
                let mut count = 0;
                while let Some(result) = set.join_next().await {
                    sum += result.unwrap();
                    count += 1;
                }
                assert_eq!(count, n);
                assert_eq!(sum, (n as u64) * (n as u64 - 1) / 2);
            });
        }
    });
}

#[test]
fn join_next_does_not_scan_pending_members() {
    // 100 000 members that never finish, then one task at a time that does. Were join_next
    // to look at every member per call this would be ~10^8 polls and trip the watchdog.
    watchdog(|| {
        let rt = Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let mut set = JoinSet::new();
            for _ in 0..100_000 {
                set.spawn(async { std::future::pending::<usize>().await });
            }
            let rounds = iterations(10_000);
            let start = Instant::now();
            for i in 0..rounds {
                set.spawn(async move { i });
                assert_eq!(set.join_next().await.unwrap().unwrap(), i);
            }
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "{rounds} joins next to 100 000 idle members took {:?}",
                start.elapsed()
            );
            assert_eq!(set.len(), 100_000);
        });
    });
}

#[test]
fn join_next_is_cancel_safe() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let mut set = JoinSet::new();
            let (tx, rx) = oneshot::channel::<()>();
            set.spawn(async move {
                rx.await.unwrap();
                7
            });
            // Poll join_next once and drop it, while the task is still blocked.
            let polled = futures::FutureExt::now_or_never(set.join_next());
            assert!(polled.is_none());
            tx.send(()).unwrap();
            assert_eq!(set.join_next().await.unwrap().unwrap(), 7);
        });
    });
}

#[test]
fn set_and_its_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<JoinSet<String>>();
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let mut set: JoinSet<Result<u8, String>> = JoinSet::new();
            assert_send(&set.join_next());
            assert_send(&set.shutdown());
            assert_send(&set.wait(flywheel::task::ReturnWhen::FirstCompleted, None));
            let other: JoinSet<u8> = JoinSet::new();
            assert_send(&other.join_all());
            assert_send(&set.try_join_all());
        });
    });
}
