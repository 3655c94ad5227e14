//! wait (asyncio.wait), join_all / try_join_all (gather), as_completed and select.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use common::{watchdog, DropCounter};
use flywheel::task::{
    as_completed, join_all, select, select_all, try_join_all, wait, Either, JoinHandle, JoinSet,
    ReturnWhen, TryJoinError, Waited,
};
use flywheel::{Builder, Runtime};
use futures::channel::oneshot;
use futures::StreamExt;

fn runtimes() -> Vec<Runtime> {
    vec![
        Builder::new_current_thread().build().unwrap(),
        Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap(),
    ]
}

/// A task that returns `value` once released through the returned sender.
fn gated<T: Send + 'static>(value: T) -> (oneshot::Sender<()>, JoinHandle<T>) {
    let (tx, rx) = oneshot::channel::<()>();
    let handle = flywheel::spawn(async move {
        let _ = rx.await;
        value
    });
    (tx, handle)
}

#[test]
fn first_completed_leaves_the_rest_running_and_awaitable() {
    watchdog(|| {
        for rt in runtimes() {
            rt.block_on(async {
                let (release_b, b) = gated("b");
                let (release_c, c) = gated("c");
                let a = flywheel::spawn(async { "a" });
                let Waited { done, pending } =
                    wait(vec![b, a, c], ReturnWhen::FirstCompleted, None).await;
                assert_eq!(done.len(), 1);
                assert_eq!(*done[0].as_ref().unwrap(), "a");
                assert_eq!(pending.len(), 2);
                assert!(pending.iter().all(|h| !h.is_finished()));
                // Not cancelled: released, they finish with their own outputs.
                release_c.send(()).unwrap();
                release_b.send(()).unwrap();
                let mut pending = pending.into_iter();
                assert_eq!(pending.next().unwrap().await.unwrap(), "b");
                assert_eq!(pending.next().unwrap().await.unwrap(), "c");
            });
        }
    });
}

#[test]
fn waiting_again_on_the_pending_handles_works() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let gates: Vec<_> = (0..4u32).map(gated).collect();
            let (mut releases, mut pending): (Vec<_>, Vec<_>) = gates.into_iter().unzip();
            let mut seen = Vec::new();
            // Release in reverse; each round must report exactly the released task.
            while let Some(release) = releases.pop() {
                release.send(()).unwrap();
                let waited = wait(pending, ReturnWhen::FirstCompleted, None).await;
                assert_eq!(waited.done.len(), 1);
                seen.push(*waited.done[0].as_ref().unwrap());
                pending = waited.pending;
            }
            assert!(pending.is_empty());
            assert_eq!(seen, [3, 2, 1, 0]);
        });
    });
}

#[test]
fn first_error_returns_at_a_panic() {
    watchdog(|| {
        for rt in runtimes() {
            rt.block_on(async {
                let (release, slow) = gated(1u32);
                let ok = flywheel::spawn(async { 2u32 });
                let (fail, go) = oneshot::channel::<()>();
                let crashing = flywheel::spawn(async move {
                    go.await.unwrap();
                    panic!("download crashed")
                });
                // Let the good task finish first, so done holds more than the failure.
                while !ok.is_finished() {
                    flywheel::task::yield_now().await;
                }
                fail.send(()).unwrap();
                let waited = wait(vec![slow, ok, crashing], ReturnWhen::FirstError, None).await;
                assert_eq!(waited.done.len(), 2);
                assert!(waited.done.iter().any(|r| matches!(r, Ok(2))));
                assert!(waited
                    .done
                    .iter()
                    .any(|r| r.as_ref().is_err_and(|e| e.is_panic())));
                assert_eq!(waited.pending.len(), 1);
                release.send(()).unwrap();
                let slow = waited.pending.into_iter().next().unwrap();
                assert_eq!(slow.await.unwrap(), 1);
            });
        }
    });
}

#[test]
fn first_error_returns_at_an_err_output() {
    watchdog(|| {
        for rt in runtimes() {
            rt.block_on(async {
                let (release, slow) = gated(Ok::<u64, String>(10));
                let bad = flywheel::spawn(async { Err::<u64, String>("404".to_string()) });
                let waited = wait(vec![slow, bad], ReturnWhen::FirstError, None).await;
                assert_eq!(waited.done.len(), 1);
                assert_eq!(
                    waited.done[0].as_ref().unwrap().as_ref().unwrap_err(),
                    "404"
                );
                assert_eq!(waited.pending.len(), 1);
                release.send(()).unwrap();
                let slow = waited.pending.into_iter().next().unwrap();
                assert_eq!(slow.await.unwrap().unwrap(), 10);
            });
        }
    });
}

#[test]
fn first_error_returns_at_a_cancellation() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (_keep, slow) = gated(0u8);
            let doomed = flywheel::spawn(std::future::pending::<u8>());
            doomed.abort();
            let waited = wait(vec![slow, doomed], ReturnWhen::FirstError, None).await;
            assert!(waited.done[0].as_ref().unwrap_err().is_cancelled());
            assert_eq!(waited.pending.len(), 1);
            waited.pending[0].abort();
        });
    });
}

#[test]
fn first_error_without_failures_waits_for_all() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let gates: Vec<_> = (0..3).map(|i| gated(Ok::<i32, String>(i))).collect();
            let (releases, handles): (Vec<_>, Vec<_>) = gates.into_iter().unzip();
            let waiter = flywheel::spawn(wait(handles, ReturnWhen::FirstError, None));
            for release in releases {
                release.send(()).unwrap();
            }
            let waited = waiter.await.unwrap();
            assert_eq!(waited.done.len(), 3);
            assert!(waited.pending.is_empty());
        });
    });
}

#[test]
fn all_completed_collects_everything() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (release_first, first) = gated(1);
            let (release_second, second) = gated(2);
            let waiter = flywheel::spawn(wait(vec![first, second], ReturnWhen::AllCompleted, None));
            release_second.send(()).unwrap();
            release_first.send(()).unwrap();
            let waited = waiter.await.unwrap();
            let mut values: Vec<i32> = waited.done.into_iter().map(Result::unwrap).collect();
            values.sort();
            assert_eq!(values, [1, 2]);
            assert!(waited.pending.is_empty());
        });
    });
}

#[test]
fn timeout_returns_what_is_done_and_leaves_the_rest_running() {
    watchdog(|| {
        for rt in runtimes() {
            rt.block_on(async {
                let (release, slow) = gated("slow");
                let fast = flywheel::spawn(async { "fast" });
                let limit = Duration::from_millis(50);
                let start = Instant::now();
                let waited = wait(vec![slow, fast], ReturnWhen::AllCompleted, Some(limit)).await;
                let elapsed = start.elapsed();
                assert!(elapsed >= limit, "returned early, after {elapsed:?}");
                assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
                assert_eq!(waited.done.len(), 1);
                assert_eq!(*waited.done[0].as_ref().unwrap(), "fast");
                assert_eq!(waited.pending.len(), 1);
                release.send(()).unwrap();
                let slow = waited.pending.into_iter().next().unwrap();
                assert_eq!(slow.await.unwrap(), "slow");
            });
        }
    });
}

#[test]
fn timeout_with_nothing_done_returns_everything_pending() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let handles: Vec<_> = (0..3)
                .map(|_| flywheel::spawn(std::future::pending::<()>()))
                .collect();
            let waited = wait(
                handles,
                ReturnWhen::FirstCompleted,
                Some(Duration::from_millis(20)),
            )
            .await;
            assert!(waited.done.is_empty());
            assert_eq!(waited.pending.len(), 3);
            for handle in waited.pending {
                handle.abort();
                assert!(handle.await.unwrap_err().is_cancelled());
            }
        });
    });
}

#[test]
fn zero_timeout_and_empty_input_return_at_once() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let none: Vec<JoinHandle<()>> = Vec::new();
            let waited = wait(none, ReturnWhen::AllCompleted, None).await;
            assert!(waited.done.is_empty() && waited.pending.is_empty());

            let (_keep, slow) = gated(());
            let waited = wait(vec![slow], ReturnWhen::AllCompleted, Some(Duration::ZERO)).await;
            assert!(waited.done.is_empty());
            assert_eq!(waited.pending.len(), 1);
            waited.pending[0].abort();
        });
    });
}

#[test]
fn join_set_wait_keeps_pending_members_in_the_set() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let mut set = JoinSet::new();
            let (tx, rx) = oneshot::channel::<()>();
            set.spawn(async move {
                rx.await.unwrap();
                Ok::<_, String>("late")
            });
            set.spawn(async { Err("early failure".to_string()) });
            let done = set.wait(ReturnWhen::FirstError, None).await;
            assert_eq!(done.len(), 1);
            assert!(done[0].as_ref().unwrap().is_err());
            assert_eq!(set.len(), 1);
            tx.send(()).unwrap();
            let done = set.wait(ReturnWhen::AllCompleted, None).await;
            assert_eq!(*done[0].as_ref().unwrap().as_ref().unwrap(), "late");
            assert!(set.is_empty());
        });
    });
}

#[test]
fn join_all_keeps_input_order() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let gates: Vec<_> = (0..5).map(gated).collect();
            let (releases, handles): (Vec<_>, Vec<_>) = gates.into_iter().unzip();
            let gather = flywheel::spawn(join_all(handles));
            for release in releases.into_iter().rev() {
                release.send(()).unwrap();
            }
            assert_eq!(gather.await.unwrap(), [0, 1, 2, 3, 4]);
        });
    });
}

#[test]
fn join_all_reraises_a_panic() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        let drops = DropCounter::new();
        let guard = drops.guard();
        let caught = catch_unwind(AssertUnwindSafe(|| {
            rt.block_on(async move {
                let sibling = flywheel::spawn(async move {
                    let _guard = guard;
                    std::future::pending::<i32>().await
                });
                let crashing = flywheel::spawn(async { panic!("gather saw this") });
                join_all(vec![sibling, crashing]).await
            })
        }));
        let payload = caught.expect_err("join_all should re-raise the panic");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"gather saw this"));
        assert_eq!(drops.count(), 1, "the sibling was not aborted");
    });
}

#[test]
fn try_join_all_aborts_the_rest_on_the_first_err() {
    watchdog(|| {
        for rt in runtimes() {
            rt.block_on(async {
                let drops = DropCounter::new();
                let mut handles = Vec::new();
                for _ in 0..4 {
                    let guard = drops.guard();
                    handles.push(flywheel::spawn(async move {
                        let _guard = guard;
                        std::future::pending::<Result<u8, String>>().await
                    }));
                }
                handles.insert(2, flywheel::spawn(async { Err("checksum".to_string()) }));
                match try_join_all(handles).await {
                    Err(TryJoinError::Task(e)) => assert_eq!(e, "checksum"),
                    other => panic!("expected the Err, got {other:?}"),
                }
                assert_eq!(drops.count(), 4, "siblings still alive after try_join_all");
            });
        }
    });
}

#[test]
fn try_join_all_returns_values_in_input_order() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let gates: Vec<_> = (0..4).map(|i| gated(Ok::<i32, String>(i))).collect();
            let (releases, handles): (Vec<_>, Vec<_>) = gates.into_iter().unzip();
            let gather = flywheel::spawn(try_join_all(handles));
            for release in releases.into_iter().rev() {
                release.send(()).unwrap();
            }
            assert_eq!(gather.await.unwrap().unwrap(), [0, 1, 2, 3]);
        });
    });
}

#[test]
fn as_completed_yields_in_completion_order() {
    watchdog(|| {
        for rt in runtimes() {
            rt.block_on(async {
                let gates: Vec<_> = (0..5usize).map(gated).collect();
                let (mut releases, handles): (Vec<_>, Vec<_>) =
                    gates.into_iter().map(|(tx, h)| (Some(tx), h)).unzip();
                let mut stream = as_completed(handles);
                assert_eq!(futures::Stream::size_hint(&stream), (5, Some(5)));
                for i in [3, 0, 4, 1, 2] {
                    releases[i].take().unwrap().send(()).unwrap();
                    assert_eq!(stream.next().await.unwrap().unwrap(), i);
                }
                assert!(stream.next().await.is_none());
            });
        }
    });
}

#[test]
fn select_drops_the_loser_before_returning() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let drops = DropCounter::new();
            let guard = drops.guard();
            let loser = async move {
                let _guard = guard;
                std::future::pending::<u8>().await
            };
            let out = select(loser, async { "winner" }).await;
            assert_eq!(out, Either::Right("winner"));
            assert_eq!(drops.count(), 1);
        });
    });
}

#[test]
fn select_all_returns_the_winner_and_drops_the_others() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let drops = DropCounter::new();
            let (tx, rx) = oneshot::channel::<()>();
            let mut rx = Some(rx);
            let racers: Vec<_> = (0..4usize)
                .map(|i| {
                    let guard = drops.guard();
                    let gate = if i == 2 { rx.take() } else { None };
                    async move {
                        let _guard = guard;
                        match gate {
                            Some(gate) => gate.await.unwrap(),
                            None => std::future::pending().await,
                        }
                        i * 10
                    }
                })
                .collect();
            let race = flywheel::spawn(select_all(racers));
            tx.send(()).unwrap();
            assert_eq!(race.await.unwrap(), (20, 2));
            assert_eq!(drops.count(), 4);
        });
    });
}

#[test]
fn returned_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let handles = || vec![flywheel::spawn(async { Ok::<u8, String>(1) })];
            assert_send(&wait(handles(), ReturnWhen::FirstError, None));
            assert_send(&join_all(handles()));
            assert_send(&try_join_all(handles()));
            assert_send(&as_completed(handles()));
            assert_send(&select(async { 1 }, async { 2 }));
            assert_send(&select_all((0..2).map(|i| async move { i })));
        });
    });
}
