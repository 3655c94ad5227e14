//! Task ids: unique per process, seen from inside the task (while polled and while its
//! future or output is dropped), on handles, on join errors and out of `JoinSet`.

mod common;

use std::collections::HashSet;
use std::future::Future;
use std::panic::catch_unwind;
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll};

use common::{watchdog, FLAVOURS};
use flywheel::task::{self, Id, JoinSet};
use futures::channel::oneshot;

/// Records `task::try_id()` as seen from its own `Drop`.
struct RecordIdOnDrop(mpsc::Sender<Option<Id>>);

impl Drop for RecordIdOnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(task::try_id());
    }
}

#[test]
fn ids_are_unique_across_ten_thousand_spawns_from_several_threads() {
    watchdog(|| {
        for (name, build) in FLAVOURS {
            let rt = build();
            const THREADS: usize = 4;
            const PER_THREAD: usize = 2_500;
            let barrier = Arc::new(Barrier::new(THREADS));
            let spawners: Vec<_> = (0..THREADS)
                .map(|t| {
                    let handle = rt.handle().clone();
                    let barrier = barrier.clone();
                    std::thread::spawn(move || {
                        barrier.wait();
                        (0..PER_THREAD)
                            .map(|i| {
                                // Mix in blocking tasks: they draw from the same counter.
                                if (t + i) % 50 == 0 {
                                    handle.spawn_blocking(task::id)
                                } else {
                                    handle.spawn(async { task::id() })
                                }
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let mut seen = HashSet::new();
            for spawner in spawners {
                for handle in spawner.join().unwrap() {
                    let id = handle.id();
                    assert!(seen.insert(id), "{name}: id {id} handed out twice");
                    let inside = rt.block_on(handle).unwrap();
                    assert_eq!(
                        inside, id,
                        "{name}: the task saw another id than its handle"
                    );
                }
            }
            assert_eq!(seen.len(), THREADS * PER_THREAD, "{name}");
        }
    });
}

#[test]
fn ids_are_unique_across_runtimes() {
    watchdog(|| {
        let (a, b) = (common::current_thread(), common::multi_thread());
        let mut seen = HashSet::new();
        for _ in 0..100 {
            assert!(seen.insert(a.spawn(async {}).id()));
            assert!(seen.insert(b.spawn(async {}).id()));
        }
    });
}

#[test]
fn id_inside_the_task_equals_the_handle_ids() {
    watchdog(|| {
        for (name, build) in FLAVOURS {
            let rt = build();
            rt.block_on(async {
                let (tx, rx) = oneshot::channel::<()>();
                let handle = flywheel::spawn(async move {
                    let before = task::id();
                    rx.await.unwrap(); // a second poll, maybe on another worker
                    assert_eq!(task::try_id(), Some(before));
                    before
                });
                let abort = handle.abort_handle();
                assert_eq!(abort.id(), handle.id(), "{name}");
                let id = handle.id();
                tx.send(()).unwrap();
                assert_eq!(handle.await.unwrap(), id, "{name}");

                let blocking = flywheel::spawn_blocking(task::try_id);
                let id = blocking.id();
                assert_eq!(blocking.await.unwrap(), Some(id), "{name}: blocking task");
            });
        }
    });
}

#[test]
fn try_id_is_none_outside_a_task_and_in_block_on_future() {
    watchdog(|| {
        assert_eq!(task::try_id(), None);
        for (name, build) in FLAVOURS {
            let rt = build();
            rt.block_on(async {
                assert_eq!(task::try_id(), None, "{name}");
                // On a current-thread runtime this thread polls the task in between: its
                // id must not stay behind.
                let child = flywheel::spawn(async { task::id() });
                assert!(child.await.is_ok());
                assert_eq!(task::try_id(), None, "{name}: after a task ran");
            });
            // block_on on the blocking pool, whose closure is a task: its future is not.
            let handle = rt.handle().clone();
            let (outer, in_block_on, after) = rt
                .block_on(rt.spawn_blocking(move || {
                    let outer = task::try_id();
                    let in_block_on = handle.block_on(async { task::try_id() });
                    (outer, in_block_on, task::try_id())
                }))
                .unwrap();
            assert!(outer.is_some(), "{name}");
            assert_eq!(in_block_on, None, "{name}: block_on inside spawn_blocking");
            assert_eq!(after, outer, "{name}: restored after block_on");
        }
        assert_eq!(task::try_id(), None);
    });
}

#[test]
fn id_panics_outside_a_task_and_says_to_use_try_id() {
    watchdog(|| {
        let payload = catch_unwind(task::id).unwrap_err();
        let message = payload.downcast_ref::<&str>().copied().unwrap_or_default();
        assert!(message.contains("try_id"), "message: {message:?}");

        let rt = common::current_thread();
        let payload = rt.block_on(async { catch_unwind(task::id) }).unwrap_err();
        let message = payload.downcast_ref::<&str>().copied().unwrap_or_default();
        assert!(message.contains("block_on"), "message: {message:?}");
    });
}

#[test]
fn id_is_set_while_the_future_is_dropped_on_abort() {
    watchdog(|| {
        for (name, build) in FLAVOURS {
            let rt = build();
            let (tx, rx) = mpsc::channel();
            rt.block_on(async move {
                let recorder = RecordIdOnDrop(tx);
                let handle = flywheel::spawn(async move {
                    let _recorder = recorder;
                    std::future::pending::<()>().await
                });
                let id = handle.id();
                task::yield_now().await;
                handle.abort();
                let err = handle.await.unwrap_err();
                assert!(err.is_cancelled(), "{name}");
                assert_eq!(err.id(), id, "{name}");
                assert_eq!(rx.recv().unwrap(), Some(id), "{name}");
                assert_eq!(task::try_id(), None, "{name}: restored after the drop");
            });
        }
    });
}

#[test]
fn id_is_set_while_the_future_is_dropped_on_runtime_shutdown() {
    watchdog(|| {
        for (name, build) in FLAVOURS {
            let rt = build();
            let (tx, rx) = mpsc::channel();
            let (started_tx, started_rx) = mpsc::channel();
            let recorder = RecordIdOnDrop(tx);
            let handle = rt.spawn(async move {
                let _recorder = recorder;
                started_tx.send(()).unwrap();
                std::future::pending::<()>().await
            });
            let id = handle.id();
            // Polled once, so the drop below is of a started future on every flavour.
            rt.block_on(async {
                while started_rx.try_recv().is_err() {
                    task::yield_now().await;
                }
            });
            drop(rt);
            assert_eq!(rx.recv().unwrap(), Some(id), "{name}");
            assert_eq!(task::try_id(), None, "{name}");
            drop(handle);
        }
    });
}

#[test]
fn id_is_set_while_the_output_is_dropped() {
    watchdog(|| {
        for (name, build) in FLAVOURS {
            let rt = build();
            rt.block_on(async {
                // Dropped by the JoinHandle, itself dropped inside another task: the guard
                // nests, and the outer task's id comes back.
                let (tx, rx) = mpsc::channel();
                let inner = flywheel::spawn(async move { RecordIdOnDrop(tx) });
                let inner_id = inner.id();
                let outer = flywheel::spawn(async move {
                    while !inner.is_finished() {
                        task::yield_now().await;
                    }
                    drop(inner);
                    task::try_id()
                });
                let outer_id = outer.id();
                assert_eq!(outer.await.unwrap(), Some(outer_id), "{name}: restored");
                assert_eq!(rx.recv().unwrap(), Some(inner_id), "{name}: output drop");

                // Dropped by the thread that completes a detached task.
                let (tx, rx) = mpsc::channel();
                let (go_tx, go_rx) = oneshot::channel::<()>();
                let detached = flywheel::spawn(async move {
                    go_rx.await.unwrap();
                    RecordIdOnDrop(tx)
                });
                let id = detached.id();
                drop(detached);
                go_tx.send(()).unwrap();
                while let Err(mpsc::TryRecvError::Empty) = rx.try_recv().map(|seen| {
                    assert_eq!(seen, Some(id), "{name}: detached output drop");
                }) {
                    task::yield_now().await;
                }
            });
        }
    });
}

/// A future that is ready at once and holds a recorder, dropped with the future itself.
struct ReadyHolding {
    _recorder: RecordIdOnDrop,
}

impl Future for ReadyHolding {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Ready(())
    }
}

#[test]
fn id_is_set_while_a_finished_future_is_dropped() {
    watchdog(|| {
        for (name, build) in FLAVOURS {
            let rt = build();
            let (tx, rx) = mpsc::channel();
            let handle = rt.spawn(ReadyHolding {
                _recorder: RecordIdOnDrop(tx),
            });
            let id = handle.id();
            rt.block_on(handle).unwrap();
            assert_eq!(rx.recv().unwrap(), Some(id), "{name}");
        }
    });
}

#[test]
fn join_error_carries_the_id_of_panicked_and_cancelled_tasks() {
    watchdog(|| {
        for (name, build) in FLAVOURS {
            let rt = build();
            rt.block_on(async {
                let panicked = flywheel::spawn(async { panic!("boom") });
                let id = panicked.id();
                let err = panicked.await.unwrap_err();
                assert!(err.is_panic(), "{name}");
                assert_eq!(err.id(), id, "{name}");

                let cancelled = flywheel::spawn(std::future::pending::<()>());
                let id = cancelled.id();
                cancelled.abort();
                let err = cancelled.await.unwrap_err();
                assert!(err.is_cancelled(), "{name}");
                assert_eq!(err.id(), id, "{name}");

                let blocking = flywheel::spawn_blocking(|| panic!("blocking boom"));
                let id = blocking.id();
                assert_eq!(blocking.await.unwrap_err().id(), id, "{name}");
            });
        }
    });
}

#[test]
fn join_next_with_id_pairs_ids_with_results() {
    watchdog(|| {
        for (name, build) in FLAVOURS {
            let rt = build();
            rt.block_on(async {
                let mut set = JoinSet::new();
                let mut spawned = HashSet::new();
                for _ in 0..20 {
                    spawned.insert(set.spawn(async { task::id() }).id());
                }
                let failing = set.spawn(async { panic!("member fails") }).id();
                let aborted = set.spawn(std::future::pending()).id();
                set.abort_all();
                let mut joined = HashSet::new();
                while let Some(result) = set.join_next_with_id().await {
                    match result {
                        Ok((id, inside)) => {
                            assert_eq!(id, inside, "{name}: id paired with another's output");
                            assert!(spawned.contains(&id), "{name}");
                            assert!(joined.insert(id), "{name}");
                        }
                        Err(err) => {
                            // The abort may land before the others run: they then fail too.
                            let id = err.id();
                            assert!(
                                id == failing || id == aborted || spawned.contains(&id),
                                "{name}: unknown id {id}"
                            );
                            assert!(joined.insert(id), "{name}");
                        }
                    }
                }
                assert!(
                    joined.contains(&failing) && joined.contains(&aborted),
                    "{name}"
                );
                assert_eq!(joined.len(), 22, "{name}");
            });
        }
    });
}

#[test]
fn try_join_next_with_id_pairs_ids_with_results() {
    watchdog(|| {
        for (name, build) in FLAVOURS {
            let rt = build();
            rt.block_on(async {
                let mut set = JoinSet::new();
                assert!(set.try_join_next_with_id().is_none(), "{name}: empty");
                let id = set.spawn(async { task::id() }).id();
                let (joined, inside) = loop {
                    match set.try_join_next_with_id() {
                        Some(result) => break result.unwrap(),
                        None => task::yield_now().await,
                    }
                };
                assert_eq!((joined, inside), (id, id), "{name}");

                let id = set.spawn(async { panic!("no") }).id();
                let err = loop {
                    match set.try_join_next_with_id() {
                        Some(result) => break result.unwrap_err(),
                        None => task::yield_now().await,
                    }
                };
                assert_eq!(err.id(), id, "{name}");
                assert!(set.is_empty(), "{name}");
            });
        }
    });
}

#[test]
fn id_and_join_error_formats() {
    watchdog(|| {
        let rt = common::current_thread();
        rt.block_on(async {
            let handle = flywheel::spawn(async {});
            let id = handle.id();
            let n: u64 = id
                .to_string()
                .parse()
                .expect("Display prints a bare number");
            assert!(n > 0);
            assert_eq!(format!("{id:?}"), format!("Id({n})"));
            assert!(format!("{handle:?}").contains(&format!("Id({n})")));
            assert!(format!("{:?}", handle.abort_handle()).contains(&format!("Id({n})")));
            handle.await.unwrap();

            let handle = flywheel::spawn(std::future::pending::<()>());
            let id = handle.id();
            handle.abort();
            let err = handle.await.unwrap_err();
            assert_eq!(err.to_string(), format!("task {id} was cancelled"));
            assert_eq!(format!("{err:?}"), format!("JoinError::Cancelled({id:?})"));

            let handle = flywheel::spawn(async { panic!("boom") });
            let id = handle.id();
            let err = handle.await.unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("task {id} panicked with message \"boom\"")
            );
            assert_eq!(
                format!("{err:?}"),
                format!("JoinError::Panic({id:?}, \"boom\", ...)")
            );

            let handle = flywheel::spawn(async { std::panic::panic_any(7u8) });
            let id = handle.id();
            let err = handle.await.unwrap_err();
            assert_eq!(err.to_string(), format!("task {id} panicked"));
            assert_eq!(format!("{err:?}"), format!("JoinError::Panic({id:?}, ...)"));
        });
    });
}

#[test]
fn a_panic_in_a_task_does_not_leave_its_id_behind() {
    watchdog(|| {
        let rt = common::current_thread();
        rt.block_on(async {
            let err = flywheel::spawn(async { panic!("unwinds through the guard") })
                .await
                .unwrap_err();
            assert!(err.is_panic());
            // The current-thread runtime polled the task on this very thread.
            assert_eq!(task::try_id(), None);
        });
    });
}

#[test]
fn id_is_copy_hash_and_ordered() {
    fn assert_traits<T: Copy + Eq + Ord + std::hash::Hash + Send + Sync + 'static>() {}
    fn assert_send_sync<T: Send + Sync>() {}
    assert_traits::<Id>();
    assert_send_sync::<flywheel::task::JoinNextWithId<'static, u8>>();
    watchdog(|| {
        let rt = common::current_thread();
        let mut ids: Vec<Id> = (0..3).map(|_| rt.spawn(async {}).id()).collect();
        let copy = ids[0];
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 3);
        assert!(ids.contains(&copy));
    });
}
