//! `task::block_in_place`: the worker's queued tasks (local queue and LIFO slot) run
//! elsewhere while the closure blocks; nesting; panics; shutdown; where it is refused.

mod common;

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use common::watchdog;
use flywheel::task::block_in_place;
use flywheel::{Builder, Handle, Runtime};

fn two_workers() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("build a multi-thread runtime")
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

#[test]
fn tasks_queued_on_the_blocking_worker_run_meanwhile() {
    watchdog(|| {
        let rt = two_workers();
        let (tx, rx) = mpsc::channel::<Duration>();
        // Worker 1 is taken by a task that blocks without `block_in_place`, so nothing
        // could steal the other worker's queue: only a hand-off runs it.
        let (busy_tx, busy_rx) = mpsc::channel();
        let release = Arc::new(AtomicBool::new(false));
        let hog = rt.spawn({
            let release = release.clone();
            async move {
                busy_tx.send(()).unwrap();
                let start = Instant::now();
                while !release.load(SeqCst) && start.elapsed() < Duration::from_secs(3) {
                    thread::sleep(Duration::from_millis(1));
                }
            }
        });
        busy_rx.recv().unwrap();
        let blocker = rt.spawn(async move {
            // A task waiting for a message: the send below wakes it into this worker's
            // LIFO slot, which no other worker can steal from.
            let (wake_tx, wake_rx) = futures::channel::oneshot::channel::<Instant>();
            let woken = {
                let tx = tx.clone();
                flywheel::spawn(async move {
                    let start = wake_rx.await.unwrap();
                    tx.send(start.elapsed()).unwrap();
                })
            };
            flywheel::task::yield_now().await; // let it start waiting
            let start = Instant::now();
            for _ in 0..10 {
                let tx = tx.clone();
                drop(flywheel::spawn(async move {
                    tx.send(start.elapsed()).unwrap();
                }));
            }
            wake_tx.send(start).unwrap();
            block_in_place(|| thread::sleep(Duration::from_millis(500)));
            drop(woken);
        });
        let mut delays = Vec::new();
        for _ in 0..11 {
            delays.push(rx.recv_timeout(Duration::from_secs(5)).unwrap());
        }
        let worst = delays.iter().max().unwrap();
        assert!(
            *worst < Duration::from_millis(150),
            "queued tasks waited for the blocking closure: {delays:?}"
        );
        release.store(true, SeqCst);
        rt.block_on(blocker).unwrap();
        rt.block_on(hog).unwrap();
    });
}

#[test]
fn nested_and_repeated_calls_run_in_place_and_may_block_on_the_runtime() {
    watchdog(|| {
        let rt = two_workers();
        let out = rt.block_on(rt.spawn(async {
            let here = thread::current().id();
            let inner = block_in_place(|| {
                assert_eq!(thread::current().id(), here, "runs on the calling thread");
                let nested = block_in_place(|| 20);
                // The runtime is still current and this thread no longer drives it.
                let handle = Handle::current();
                nested + handle.block_on(async { flywheel::spawn(async { 1 }).await.unwrap() })
            });
            let again = block_in_place(|| 21);
            flywheel::spawn(async {}).await.unwrap();
            inner + again
        }));
        assert_eq!(out.unwrap(), 42);
    });
}

#[test]
fn a_panicking_closure_reaches_the_join_handle_and_workers_survive() {
    watchdog(|| {
        let rt = two_workers();
        for round in 0..5 {
            let err = rt
                .block_on(rt.spawn(async move {
                    block_in_place(|| panic!("blocking closure {round} failed"));
                }))
                .unwrap_err();
            assert!(err.is_panic());
            let message = panic_message(err.into_panic());
            assert!(message.contains("failed"), "{message}");
        }
        // Two tasks that can only finish together: needs both workers.
        let barrier = Arc::new(Barrier::new(2));
        let both: Vec<_> = (0..2)
            .map(|_| {
                let barrier = barrier.clone();
                rt.spawn(async move {
                    barrier.wait();
                })
            })
            .collect();
        for task in both {
            rt.block_on(task).unwrap();
        }
    });
}

struct CountExit(Arc<AtomicUsize>);

impl Drop for CountExit {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

thread_local! {
    static EXIT: RefCell<Option<CountExit>> = const { RefCell::new(None) };
}

#[test]
fn shutdown_during_a_blocking_closure_waits_and_leaks_no_thread() {
    watchdog(|| {
        let started = Arc::new(AtomicUsize::new(0));
        let exited = Arc::new(AtomicUsize::new(0));
        let rt = {
            let (started, exited) = (started.clone(), exited.clone());
            Builder::new_multi_thread()
                .worker_threads(2)
                .on_thread_start(move || {
                    started.fetch_add(1, SeqCst);
                    let guard = CountExit(exited.clone());
                    EXIT.with(|e| *e.borrow_mut() = Some(guard));
                })
                .build()
                .unwrap()
        };
        let (inside_tx, inside_rx) = mpsc::channel();
        let finished = Arc::new(AtomicBool::new(false));
        drop(rt.spawn({
            let finished = finished.clone();
            async move {
                block_in_place(|| {
                    inside_tx.send(()).unwrap();
                    thread::sleep(Duration::from_millis(200));
                    finished.store(true, SeqCst);
                });
                std::future::pending::<()>().await;
            }
        }));
        inside_rx.recv().unwrap();
        drop(rt);
        assert!(finished.load(SeqCst), "drop waited for the closure");
        let started = started.load(SeqCst);
        assert_eq!(started, 3, "two workers and the one that took over");
        assert_eq!(
            exited.load(SeqCst),
            started,
            "every thread ended before drop returned"
        );
    });
}

#[test]
fn dropping_the_runtime_inside_the_closure_does_not_wait_for_itself() {
    watchdog(|| {
        let rt = two_workers();
        let (rt_tx, rt_rx) = mpsc::channel::<Runtime>();
        let (done_tx, done_rx) = mpsc::channel();
        drop(rt.spawn(async move {
            let rt = rt_rx.recv().unwrap();
            block_in_place(move || drop(rt));
            done_tx.send(()).unwrap();
        }));
        rt_tx.send(rt).unwrap();
        done_rx.recv_timeout(Duration::from_secs(5)).unwrap();
    });
}

#[test]
fn refused_on_a_current_thread_runtime_with_advice() {
    watchdog(|| {
        let ct = common::current_thread();
        let err = ct
            .block_on(ct.spawn(async { block_in_place(|| 1) }))
            .unwrap_err();
        let message = panic_message(err.into_panic());
        assert!(message.contains("spawn_blocking"), "{message}");
        let rt = common::current_thread();
        let payload = catch_unwind(AssertUnwindSafe(|| {
            rt.block_on(async { block_in_place(|| 1) })
        }))
        .unwrap_err();
        let message = panic_message(payload);
        assert!(message.contains("spawn_blocking"), "{message}");
    });
}

#[test]
fn in_a_multi_thread_block_on_it_runs_while_the_workers_go_on() {
    watchdog(|| {
        let rt = two_workers();
        let (tx, rx) = std::sync::mpsc::channel();
        let out = rt.block_on(async move {
            let worker = flywheel::spawn(async move { tx.send(()).unwrap() });
            // Blocks the block_on thread only: the spawned task still runs on a worker.
            let got = block_in_place(|| rx.recv_timeout(Duration::from_secs(5)).is_ok());
            worker.await.unwrap();
            // The runtime is still usable from inside `f`, as from block_on itself.
            let nested = block_in_place(|| {
                flywheel::Handle::current().block_on(async { flywheel::spawn(async { 2 }).await })
            });
            (got, nested.unwrap())
        });
        assert_eq!(out, (true, 2));
    });
}

#[test]
fn outside_a_runtime_or_under_an_enter_guard_it_just_runs() {
    watchdog(|| {
        assert_eq!(block_in_place(|| 3), 3);
        let rt = two_workers();
        let _guard = rt.enter();
        assert_eq!(block_in_place(|| 4), 4);
    });
}

#[test]
fn each_call_starts_one_worker_and_every_thread_stops_at_shutdown() {
    watchdog(|| {
        let started = Arc::new(AtomicUsize::new(0));
        let stopped = Arc::new(AtomicUsize::new(0));
        let rt = {
            let (started, stopped) = (started.clone(), stopped.clone());
            Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("bip-worker")
                .on_thread_start(move || {
                    started.fetch_add(1, SeqCst);
                })
                .on_thread_stop(move || {
                    stopped.fetch_add(1, SeqCst);
                })
                .build()
                .unwrap()
        };
        const CALLS: usize = 30;
        for i in 0..CALLS {
            let name = rt
                .block_on(rt.spawn(async move {
                    block_in_place(|| i);
                    // Whichever thread runs this now is a worker of the runtime.
                    flywheel::spawn(async { thread::current().name().unwrap().to_owned() })
                        .await
                        .unwrap()
                }))
                .unwrap();
            assert_eq!(name, "bip-worker");
        }
        // Read after shutdown joined every thread: the last replacement may not have run
        // its start hook yet when the last call returns.
        drop(rt);
        assert_eq!(started.load(SeqCst), 2 + CALLS);
        assert_eq!(stopped.load(SeqCst), 2 + CALLS);
    });
}
