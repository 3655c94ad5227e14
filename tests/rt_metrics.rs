//! `Handle::metrics()`: each metric's meaning, on both flavours.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::watchdog;
use flywheel::{Builder, Runtime, RuntimeMetrics};

/// Both flavours: a current-thread runtime and a two-worker one.
fn runtimes() -> Vec<Runtime> {
    vec![
        Builder::new_current_thread().build().unwrap(),
        Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap(),
    ]
}

fn sum(m: &RuntimeMetrics, f: impl Fn(&RuntimeMetrics, usize) -> u64) -> u64 {
    (0..m.num_workers()).map(|i| f(m, i)).sum()
}

/// Waits (on a plain thread, polling) until `cond` holds; the watchdog bounds the wait.
fn wait_until(mut cond: impl FnMut() -> bool) {
    while !cond() {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Waits inside the runtime, yielding, until `cond` holds.
async fn yield_until(mut cond: impl FnMut() -> bool) {
    while !cond() {
        flywheel::task::yield_now().await;
    }
}

#[test]
fn num_workers_is_one_on_current_thread_and_the_worker_count_otherwise() {
    watchdog(|| {
        let counts: Vec<usize> = runtimes()
            .iter()
            .map(|rt| rt.handle().metrics().num_workers())
            .collect();
        assert_eq!(counts, [1, 2]);
    });
}

#[test]
fn spawned_grows_and_alive_returns_to_the_start() {
    watchdog(|| {
        for rt in runtimes() {
            let m = rt.handle().metrics();
            let (spawned, alive) = (m.spawned_tasks_count(), m.num_alive_tasks());
            let tasks: Vec<_> = (0..10)
                .map(|_| rt.spawn(flywheel::time::sleep(Duration::from_secs(3600))))
                .collect();
            assert_eq!(m.spawned_tasks_count(), spawned + 10);
            assert_eq!(m.num_alive_tasks(), alive + 10);
            let m2 = m.clone();
            rt.block_on(async move {
                for task in &tasks {
                    task.abort();
                }
                for task in tasks {
                    assert!(task.await.unwrap_err().is_cancelled());
                }
                yield_until(|| m2.num_alive_tasks() == alive).await;
            });
            assert_eq!(m.spawned_tasks_count(), spawned + 10);
            assert_eq!(m.num_alive_tasks(), alive);
        }
    });
}

#[test]
fn poll_count_counts_task_polls() {
    watchdog(|| {
        for rt in runtimes() {
            let m = rt.handle().metrics();
            let before = sum(&m, RuntimeMetrics::worker_poll_count);
            rt.block_on(async {
                let tasks: Vec<_> = (0..10).map(|i| flywheel::spawn(async move { i })).collect();
                for task in tasks {
                    task.await.unwrap();
                }
            });
            assert!(sum(&m, RuntimeMetrics::worker_poll_count) >= before + 10);
        }
    });
}

#[test]
fn park_counts_grow_and_park_unpark_is_odd_while_parked() {
    watchdog(|| {
        let ct = Builder::new_current_thread().build().unwrap();
        let m = ct.handle().metrics();
        let (parks, both) = (m.worker_park_count(0), m.worker_park_unpark_count(0));
        ct.block_on(flywheel::time::sleep(Duration::from_millis(2)));
        assert!(m.worker_park_count(0) > parks);
        assert!(m.worker_park_unpark_count(0) > both);
        assert_eq!(m.worker_park_unpark_count(0) % 2, 0, "not parked any more");

        let mt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let m = mt.handle().metrics();
        // Idle workers park: both are seen parked (odd) with their parks counted. (With
        // one still searching, that one could take the task below without any unpark.)
        wait_until(|| (0..2).all(|i| m.worker_park_unpark_count(i) % 2 == 1));
        assert!(sum(&m, RuntimeMetrics::worker_park_count) >= 2);
        let both = sum(&m, RuntimeMetrics::worker_park_unpark_count);
        // A task wakes a parked worker: its unpark is counted.
        mt.block_on(mt.spawn(async {})).unwrap();
        assert!(sum(&m, RuntimeMetrics::worker_park_unpark_count) > both);
    });
}

#[test]
fn busy_duration_covers_a_blocking_poll() {
    watchdog(|| {
        for rt in runtimes() {
            let m = rt.handle().metrics();
            let before: Duration = (0..m.num_workers())
                .map(|i| m.worker_total_busy_duration(i))
                .sum();
            rt.block_on(async {
                flywheel::spawn(async { std::thread::sleep(Duration::from_millis(30)) })
                    .await
                    .unwrap();
            });
            // Flushed when the worker parks (or, on current-thread, leaves `block_on`).
            wait_until(|| {
                let busy: Duration = (0..m.num_workers())
                    .map(|i| m.worker_total_busy_duration(i))
                    .sum();
                busy >= before + Duration::from_millis(30)
            });
        }
    });
}

#[test]
fn current_thread_queue_depths() {
    watchdog(|| {
        let rt = Builder::new_current_thread().build().unwrap();
        let m = rt.handle().metrics();
        let remote: Vec<_> = (0..3).map(|_| rt.spawn(async {})).collect();
        assert_eq!(m.global_queue_depth(), 3);
        assert_eq!(m.worker_local_queue_depth(0), 0);
        let m2 = m.clone();
        rt.block_on(async move {
            for task in remote {
                task.await.unwrap();
            }
            assert_eq!(m2.global_queue_depth(), 0);
            let local: Vec<_> = (0..4).map(|_| flywheel::spawn(async {})).collect();
            assert_eq!(m2.worker_local_queue_depth(0), 4);
            for task in local {
                task.await.unwrap();
            }
            assert_eq!(m2.worker_local_queue_depth(0), 0);
        });
    });
}

#[test]
fn multi_thread_queue_depths_while_both_workers_are_blocked() {
    watchdog(|| {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let m = rt.handle().metrics();
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let (release_a_tx, release_a_rx) = mpsc::channel::<()>();
        let (release_b_tx, release_b_rx) = mpsc::channel::<()>();
        let (b_started_tx, b_started_rx) = mpsc::channel::<()>();
        // B blocks its worker first; then A, on the other worker, spawns 5 tasks (nobody can
        // steal them: B's worker is blocked) and blocks too. The last one spawned waits in
        // the LIFO slot, which the local queue depth does not count (as in tokio).
        let started = started_tx.clone();
        let b = rt.spawn(async move {
            b_started_tx.send(()).unwrap();
            started.send(()).unwrap();
            release_b_rx.recv().unwrap();
        });
        b_started_rx.recv().unwrap();
        let a = rt.spawn(async move {
            let local: Vec<_> = (0..5).map(|_| flywheel::spawn(async {})).collect();
            started_tx.send(()).unwrap();
            release_a_rx.recv().unwrap();
            local
        });
        started_rx.recv().unwrap();
        started_rx.recv().unwrap();
        let remote: Vec<_> = (0..5).map(|_| rt.spawn(async {})).collect();
        assert_eq!(m.global_queue_depth(), 5);
        let local_depth: usize = (0..2).map(|i| m.worker_local_queue_depth(i)).sum();
        assert_eq!(local_depth, 4);
        release_a_tx.send(()).unwrap();
        release_b_tx.send(()).unwrap();
        rt.block_on(async move {
            b.await.unwrap();
            for task in a.await.unwrap() {
                task.await.unwrap();
            }
            for task in remote {
                task.await.unwrap();
            }
        });
        assert_eq!(m.global_queue_depth(), 0);
    });
}

#[test]
fn steal_count_counts_tasks_taken_from_a_blocked_worker() {
    watchdog(|| {
        let ct = Builder::new_current_thread().build().unwrap();
        ct.block_on(async { flywheel::spawn(async {}).await.unwrap() });
        assert_eq!(ct.handle().metrics().worker_steal_count(0), 0);

        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let m = rt.handle().metrics();
        let before = sum(&m, RuntimeMetrics::worker_steal_count);
        // The task queues 4 tasks on its own worker and blocks it until all 4 have run: only
        // the other worker can run them, by stealing them (3 from the queue, the last from
        // the LIFO slot when the patrol rescues it).
        rt.block_on(rt.spawn(async {
            let (done_tx, done_rx) = mpsc::channel::<()>();
            for _ in 0..4 {
                let done = done_tx.clone();
                drop(flywheel::spawn(async move { done.send(()).unwrap() }));
            }
            for _ in 0..4 {
                done_rx.recv().unwrap();
            }
        }))
        .unwrap();
        assert!(sum(&m, RuntimeMetrics::worker_steal_count) >= before + 4);
    });
}

#[test]
fn blocking_pool_numbers() {
    watchdog(|| {
        for flavor in [false, true] {
            let mut builder = if flavor {
                Builder::new_multi_thread()
            } else {
                Builder::new_current_thread()
            };
            let rt = builder.max_blocking_threads(1).build().unwrap();
            let m = rt.handle().metrics();
            assert_eq!(
                (m.num_blocking_threads(), m.num_idle_blocking_threads()),
                (0, 0)
            );
            let (started_tx, started_rx) = mpsc::channel::<()>();
            let (release_tx, release_rx) = mpsc::channel::<()>();
            let first = rt.spawn_blocking(move || {
                started_tx.send(()).unwrap();
                release_rx.recv().unwrap();
            });
            started_rx.recv().unwrap();
            let second = rt.spawn_blocking(|| ());
            assert_eq!(m.num_blocking_threads(), 1);
            assert_eq!(m.num_idle_blocking_threads(), 0);
            assert_eq!(
                m.blocking_queue_depth(),
                1,
                "the second job waits for the thread"
            );
            release_tx.send(()).unwrap();
            rt.block_on(async {
                first.await.unwrap();
                second.await.unwrap();
            });
            wait_until(|| m.num_idle_blocking_threads() == 1);
            assert_eq!(m.blocking_queue_depth(), 0);
            assert_eq!(m.num_blocking_threads(), 1);
        }
    });
}

#[test]
fn a_loop_past_the_budget_counts_forced_yields() {
    watchdog(|| {
        for rt in runtimes() {
            let m = rt.handle().metrics();
            let before = m.budget_forced_yield_count();
            // Each readiness check of a writable socket spends one unit of budget: 300 of them
            // run out of it (128 per poll) at least twice.
            rt.block_on(rt.spawn(async {
                let socket = flywheel::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
                for _ in 0..300 {
                    socket.writable().await.unwrap();
                }
            }))
            .unwrap();
            assert!(m.budget_forced_yield_count() >= before + 2);
        }
    });
}

#[test]
fn a_socket_made_ready_counts_io_events() {
    watchdog(|| {
        for rt in runtimes() {
            let m = rt.handle().metrics();
            let before = m.io_driver_ready_count();
            rt.block_on(rt.spawn(async {
                let socket = flywheel::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let addr = socket.local_addr().unwrap();
                let receiver = flywheel::spawn(async move {
                    let mut buf = [0; 8];
                    socket.recv_from(&mut buf).await.unwrap().0
                });
                let sender = flywheel::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
                sender.send_to(b"ping", addr).await.unwrap();
                assert_eq!(receiver.await.unwrap(), 4);
            }))
            .unwrap();
            assert!(m.io_driver_ready_count() > before);
        }
    });
}

#[test]
fn num_timers_counts_waiting_sleeps() {
    watchdog(|| {
        for flavor in [false, true] {
            let mut builder = if flavor {
                Builder::new_multi_thread()
            } else {
                Builder::new_current_thread()
            };
            let rt = builder.start_paused(true).build().unwrap();
            let m = rt.handle().metrics();
            assert_eq!(m.num_timers(), 0);
            rt.block_on(async move {
                let sleeps: Vec<_> = (1..=3)
                    .map(|s| flywheel::spawn(flywheel::time::sleep(Duration::from_secs(s))))
                    .collect();
                yield_until(|| m.num_timers() == 3).await;
                for sleep in &sleeps {
                    sleep.abort();
                }
                for sleep in sleeps {
                    let _ = sleep.await;
                }
                yield_until(|| m.num_timers() == 0).await;
            });
        }
    });
}

/// Local tasks (`spawn_local`) live in their thread's own list: they are counted too.
#[test]
fn local_tasks_are_counted() {
    common::watchdog(|| {
        let rt = flywheel::Builder::new_current_thread()
            .build_local()
            .unwrap();
        let metrics = rt.handle().metrics();
        let (alive, spawned) = (metrics.num_alive_tasks(), metrics.spawned_tasks_count());
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let rc = std::rc::Rc::new(());
                rt.spawn_local(async move {
                    let _keep = rc;
                    std::future::pending::<()>().await
                })
            })
            .collect();
        assert_eq!(metrics.num_alive_tasks(), alive + 3);
        assert_eq!(metrics.spawned_tasks_count(), spawned + 3);
        for task in &tasks {
            task.abort();
        }
        rt.block_on(async {
            for task in tasks {
                assert!(task.await.unwrap_err().is_cancelled());
            }
        });
        assert_eq!(metrics.num_alive_tasks(), alive);
        assert_eq!(metrics.spawned_tasks_count(), spawned + 3);
    });
}
