//! `spawn_blocking`: where jobs run, that async tasks keep running meanwhile, the thread cap,
//! and shutdown while a job is still running.

mod common;

use common::FLAVOURS;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use common::watchdog;
use flywheel::Builder;

#[test]
fn jobs_run_off_the_runtime_threads() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let caller = thread::current().id();
            let (runtime_ids, job_id) = rt.block_on(async {
                let mut ids = vec![thread::current().id()];
                for _ in 0..20 {
                    ids.push(
                        flywheel::spawn(async { thread::current().id() })
                            .await
                            .unwrap(),
                    );
                }
                let job = flywheel::spawn_blocking(|| thread::current().id());
                (ids, job.await.unwrap())
            });
            assert_ne!(job_id, caller, "{name}: a job ran on the block_on thread");
            assert!(
                !runtime_ids.contains(&job_id),
                "{name}: a job ran on a runtime thread"
            );
        });
    }
}

#[test]
fn async_tasks_keep_running_while_jobs_block() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            rt.block_on(async {
                // Each job blocks until an async task spawned after it has run: if jobs ran
                // on the runtime's threads (or starved them), this would hang.
                let mut jobs = Vec::new();
                let mut senders = Vec::new();
                for i in 0..4 {
                    let (tx, rx) = mpsc::channel::<u32>();
                    jobs.push(flywheel::spawn_blocking(move || rx.recv().unwrap() + i));
                    senders.push(tx);
                }
                let tasks: Vec<_> = senders
                    .into_iter()
                    .map(|tx| {
                        flywheel::spawn(async move {
                            flywheel::task::yield_now().await;
                            tx.send(10).unwrap();
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
                let mut sum = 0;
                for j in jobs {
                    sum += j.await.unwrap();
                }
                assert_eq!(sum, 46, "{name}");
            });
        });
    }
}

#[test]
fn max_blocking_threads_caps_concurrent_jobs() {
    watchdog(|| {
        const CAP: usize = 3;
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(CAP)
            .build()
            .unwrap();
        let running = Arc::new(AtomicUsize::new(0));
        let high_water = Arc::new(AtomicUsize::new(0));
        let threads = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
        // The first CAP jobs meet at a barrier, so CAP of them do run at once; the cap says
        // no more than that ever do.
        let barrier = Arc::new(Barrier::new(CAP));
        let started = Arc::new(AtomicUsize::new(0));
        let jobs: Vec<_> = (0..24)
            .map(|_| {
                let (running, high_water, threads) =
                    (running.clone(), high_water.clone(), threads.clone());
                let (barrier, started) = (barrier.clone(), started.clone());
                rt.spawn_blocking(move || {
                    let now = running.fetch_add(1, SeqCst) + 1;
                    high_water.fetch_max(now, SeqCst);
                    threads.lock().unwrap().insert(thread::current().id());
                    if started.fetch_add(1, SeqCst) < CAP {
                        barrier.wait();
                    }
                    for _ in 0..10_000 {
                        std::hint::spin_loop();
                    }
                    running.fetch_sub(1, SeqCst);
                })
            })
            .collect();
        rt.block_on(async {
            for j in jobs {
                j.await.unwrap();
            }
        });
        assert_eq!(high_water.load(SeqCst), CAP);
        assert!(threads.lock().unwrap().len() <= CAP);
    });
}

#[test]
fn queued_jobs_wait_for_a_free_thread() {
    watchdog(|| {
        let rt = Builder::new_current_thread()
            .max_blocking_threads(1)
            .build()
            .unwrap();
        let (tx, rx) = mpsc::channel::<()>();
        let first = rt.spawn_blocking(move || rx.recv().unwrap());
        let second = rt.spawn_blocking(|| 2);
        let second_done = rt.block_on(async {
            for _ in 0..20 {
                flywheel::task::yield_now().await;
            }
            second.is_finished()
        });
        assert!(
            !second_done,
            "ran a second job beside the first with a cap of 1"
        );
        tx.send(()).unwrap();
        rt.block_on(first).unwrap();
        assert_eq!(rt.block_on(second).unwrap(), 2);
    });
}

#[test]
fn a_panicking_job_is_a_join_error() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let err = rt
                .block_on(rt.spawn_blocking(|| panic!("job failed")))
                .unwrap_err();
            assert!(err.is_panic(), "{name}");
            // The pool still works afterwards.
            assert_eq!(rt.block_on(rt.spawn_blocking(|| 1)).unwrap(), 1, "{name}");
        });
    }
}

#[test]
fn jobs_see_their_runtime() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let out = rt.block_on(async {
                let inner = flywheel::spawn_blocking(|| {
                    let handle = flywheel::Handle::try_current().expect("runtime in a job");
                    handle.spawn(async { 5 })
                })
                .await
                .unwrap();
                inner.await.unwrap()
            });
            assert_eq!(out, 5, "{name}");
        });
    }
}

#[test]
fn shutdown_timeout_returns_while_a_job_sleeps() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let (tx, rx) = mpsc::channel();
            let _job = rt.spawn_blocking(move || {
                tx.send(()).unwrap();
                thread::sleep(Duration::from_secs(3));
            });
            rx.recv().unwrap();
            let start = Instant::now();
            rt.shutdown_timeout(Duration::from_millis(50));
            let took = start.elapsed();
            assert!(took < Duration::from_secs(1), "{name}: took {took:?}");
        });
    }
}

#[test]
fn jobs_not_started_at_shutdown_are_cancelled() {
    watchdog(|| {
        let rt = Builder::new_current_thread()
            .max_blocking_threads(1)
            .build()
            .unwrap();
        let (started_tx, started_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let running = rt.spawn_blocking(move || {
            started_tx.send(()).unwrap();
            let _ = release_rx.recv_timeout(Duration::from_secs(5));
        });
        let queued = rt.spawn_blocking(|| 1);
        let queued_state = queued.abort_handle();
        started_rx.recv().unwrap();
        let releaser = thread::spawn(move || {
            // The queued job can only start once the running one returns (cap 1): release
            // the running one only after shutdown has cancelled the queued one.
            while !queued_state.is_finished() {
                thread::yield_now();
            }
            let _ = release_tx.send(());
        });
        drop(rt);
        releaser.join().unwrap();
        let queued = futures::executor::block_on(queued);
        assert!(queued.unwrap_err().is_cancelled());
        // The running one finished normally.
        assert!(futures::executor::block_on(running).is_ok());
    });
}

#[test]
fn drop_with_idle_blocking_threads_is_prompt() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            // Start a few pool threads, let them finish and sit idle (they would linger
            // for seconds waiting for more work).
            rt.block_on(async {
                let jobs: Vec<_> = (0..4)
                    .map(|i| flywheel::spawn_blocking(move || i))
                    .collect();
                for j in jobs {
                    j.await.unwrap();
                }
            });
            let start = Instant::now();
            drop(rt);
            let took = start.elapsed();
            assert!(took < Duration::from_secs(1), "{name}: drop took {took:?}");
        });
    }
}

#[test]
fn bursts_of_jobs_reuse_idle_threads_without_losing_any() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            rt.block_on(async {
                for round in 0..common::iterations(300) {
                    let jobs: Vec<_> = (0..8)
                        .map(|i| flywheel::spawn_blocking(move || round * 8 + i))
                        .collect();
                    let mut sum = 0;
                    for j in jobs {
                        sum += j.await.unwrap();
                    }
                    assert_eq!(sum, round * 64 + 28, "{name}");
                }
            });
        });
    }
}

#[test]
fn aborting_a_queued_job_cancels_it_before_it_runs() {
    watchdog(|| {
        let rt = Builder::new_current_thread()
            .max_blocking_threads(1)
            .build()
            .unwrap();
        let (started_tx, started_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let busy = rt.spawn_blocking(move || {
            started_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            "busy"
        });
        started_rx.recv().unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        let queued = rt.spawn_blocking(move || r.fetch_add(1, SeqCst));
        queued.abort();
        // Aborting a running job does nothing: it cannot be interrupted.
        busy.abort();
        release_tx.send(()).unwrap();
        assert_eq!(rt.block_on(busy).unwrap(), "busy");
        assert!(rt.block_on(queued).unwrap_err().is_cancelled());
        assert_eq!(ran.load(SeqCst), 0, "an aborted job ran");
    });
}

/// Dropping a runtime inside one of its own blocking jobs must not wait for that job's
/// thread (it is the one waiting), as dropping it inside one of its tasks does not.
#[test]
fn dropping_a_runtime_inside_its_own_blocking_job_does_not_deadlock() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let other = rt.spawn_blocking(|| thread::sleep(Duration::from_millis(20)));
            let (tx, rx) = mpsc::channel();
            drop(rt.handle().clone().spawn_blocking(move || {
                let start = Instant::now();
                drop(rt);
                tx.send(start.elapsed()).unwrap();
            }));
            let took = rx
                .recv_timeout(Duration::from_secs(3))
                .unwrap_or_else(|_| panic!("{name}: the runtime's drop never returned"));
            assert!(took < Duration::from_secs(1), "{name}: drop took {took:?}");
            // The other running job was waited for, as a drop outside the pool does.
            assert!(futures::executor::block_on(other).is_ok(), "{name}");
        });
    }
}
