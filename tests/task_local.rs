//! Local tasks: `spawn_local` on a current-thread runtime, a `LocalRuntime` and a
//! multi-thread worker; wakes and aborts from other threads; where the futures are polled
//! and dropped; misuse panics; `JoinHandle` Send-ness.

mod common;

use std::cell::RefCell;
use std::future::poll_fn;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread::{self, ThreadId};

use common::watchdog;
use flywheel::task::{spawn_local, JoinHandle};
use flywheel::{Builder, LocalRuntime};

/// A `!Send` value that records the thread that drops it.
struct DropRecorder {
    dropped_on: Arc<Mutex<Vec<ThreadId>>>,
    _not_send: PhantomData<*const ()>,
}

impl DropRecorder {
    fn new(dropped_on: &Arc<Mutex<Vec<ThreadId>>>) -> DropRecorder {
        DropRecorder {
            dropped_on: dropped_on.clone(),
            _not_send: PhantomData,
        }
    }
}

impl Drop for DropRecorder {
    fn drop(&mut self) {
        self.dropped_on.lock().unwrap().push(thread::current().id());
    }
}

/// A flag another thread sets and wakes: `Gate::wait` completes once it is open.
#[derive(Clone, Default)]
struct Gate {
    open: Arc<AtomicBool>,
    waker: Arc<Mutex<Option<Waker>>>,
}

impl Gate {
    fn open(&self) {
        self.open.store(true, SeqCst);
        if let Some(waker) = self.waker.lock().unwrap().take() {
            waker.wake();
        }
    }

    async fn wait(&self) {
        poll_fn(|cx| {
            *self.waker.lock().unwrap() = Some(cx.waker().clone());
            if self.open.load(SeqCst) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }
}

fn local_runtime() -> LocalRuntime {
    Builder::new_current_thread().build_local().unwrap()
}

fn multi_thread(workers: usize) -> flywheel::Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => payload
            .downcast::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}

#[test]
fn spawn_local_on_a_current_thread_runtime() {
    watchdog(|| {
        let rt = common::current_thread();
        let out = rt.block_on(async {
            let state = Rc::new(RefCell::new(Vec::new()));
            let mut handles = Vec::new();
            for i in 0..4 {
                let state = state.clone();
                handles.push(spawn_local(async move {
                    flywheel::task::yield_now().await;
                    state.borrow_mut().push(i);
                    thread::current().id()
                }));
            }
            for handle in handles {
                assert_eq!(handle.await.unwrap(), thread::current().id());
            }
            let mut out = state.borrow().clone();
            out.sort();
            out
        });
        assert_eq!(out, [0, 1, 2, 3]);
    });
}

#[test]
fn local_runtime_shares_one_queue() {
    watchdog(|| {
        let rt = local_runtime();
        let log = Rc::new(RefCell::new(Vec::new()));
        let first = {
            let log = log.clone();
            rt.spawn_local(async move { log.borrow_mut().push("outside") })
        };
        let send = rt.spawn(async { thread::current().id() });
        let me = thread::current().id();
        rt.block_on(async {
            first.await.unwrap();
            assert_eq!(send.await.unwrap(), me);
            let log2 = log.clone();
            spawn_local(async move { log2.borrow_mut().push("inside") })
                .await
                .unwrap();
        });
        assert_eq!(*log.borrow(), ["outside", "inside"]);
    });
}

#[test]
fn spawn_local_on_a_worker_stays_on_that_worker() {
    watchdog(|| {
        let rt = multi_thread(2);
        let (spawner, ran_on) = rt.block_on(async {
            flywheel::spawn(async {
                let spawner = thread::current().id();
                let rc = Rc::new(());
                let ran_on = spawn_local(async move {
                    let _rc = rc;
                    let mut seen = Vec::new();
                    for _ in 0..50 {
                        seen.push(thread::current().id());
                        flywheel::task::yield_now().await;
                    }
                    seen
                })
                .await
                .unwrap();
                (spawner, ran_on)
            })
            .await
            .unwrap()
        });
        assert!(ran_on.iter().all(|&id| id == spawner));
    });
}

/// Local tasks on one worker, while the other worker has nothing to do and plenty of
/// ordinary tasks would be worth stealing: none runs anywhere but on its worker.
#[test]
fn local_tasks_are_never_stolen_under_load() {
    watchdog(|| {
        let rt = multi_thread(2);
        let polls = Arc::new(AtomicUsize::new(0));
        let bad = rt.block_on(async {
            flywheel::spawn(async {
                let spawner = thread::current().id();
                let mut locals = Vec::new();
                let mut others = Vec::new();
                for _ in 0..16 {
                    locals.push(spawn_local(async {
                        let mut seen = Vec::new();
                        for _ in 0..100 {
                            seen.push(thread::current().id());
                            flywheel::task::yield_now().await;
                        }
                        seen
                    }));
                    others.push(flywheel::spawn(async {
                        for _ in 0..100 {
                            flywheel::task::yield_now().await;
                        }
                        thread::current().id()
                    }));
                }
                let mut bad = 0;
                for local in locals {
                    bad += local
                        .await
                        .unwrap()
                        .into_iter()
                        .filter(|&id| id != spawner)
                        .count();
                }
                for other in others {
                    other.await.unwrap();
                }
                bad
            })
            .await
            .unwrap()
        });
        polls.fetch_add(1, SeqCst);
        assert_eq!(bad, 0, "local tasks ran on another worker");
    });
}

/// A local task is woken from a plain thread on each kind of runtime, and its output (Send)
/// is awaited from wherever.
#[test]
fn woken_from_another_thread() {
    watchdog(|| {
        fn wake_later(gate: &Gate) -> thread::JoinHandle<()> {
            let gate = gate.clone();
            thread::spawn(move || gate.open())
        }
        async fn local_waits(gate: Gate) -> ThreadId {
            let gate2 = gate.clone();
            let task = spawn_local(async move {
                let rc = Rc::new(());
                gate2.wait().await;
                drop(rc);
                thread::current().id()
            });
            let waker = wake_later(&gate);
            let ran_on = task.await.unwrap();
            waker.join().unwrap();
            ran_on
        }

        let rt = common::current_thread();
        let me = thread::current().id();
        assert_eq!(rt.block_on(local_waits(Gate::default())), me);

        let rt = local_runtime();
        assert_eq!(rt.block_on(local_waits(Gate::default())), me);

        let rt = multi_thread(2);
        let (ran_on, worker) = rt.block_on(async {
            flywheel::spawn(async {
                let worker = thread::current().id();
                (local_waits(Gate::default()).await, worker)
            })
            .await
            .unwrap()
        });
        assert_eq!(ran_on, worker);
    });
}

/// Many wakes from other threads while the owner runs or parks: every one gets through.
#[test]
fn many_wakes_from_other_threads() {
    watchdog(|| {
        const ROUNDS: usize = 200;
        let rt = local_runtime();
        rt.block_on(async {
            for _ in 0..ROUNDS {
                let gate = Gate::default();
                let task = {
                    let gate = gate.clone();
                    spawn_local(async move { gate.wait().await })
                };
                let opener = thread::spawn(move || gate.open());
                task.await.unwrap();
                opener.join().unwrap();
            }
        });
    });
}

/// `block_in_place` on a worker that has unfinished local tasks runs its closure in place:
/// the worker keeps its thread, so the local tasks still run there afterwards.
#[test]
fn block_in_place_keeps_a_worker_with_local_tasks() {
    watchdog(|| {
        let rt = multi_thread(2);
        let (before, inside, after) = rt.block_on(async {
            flywheel::spawn(async {
                let gate = Gate::default();
                let task = {
                    let gate = gate.clone();
                    spawn_local(async move {
                        let rc = Rc::new(thread::current().id());
                        gate.wait().await;
                        (*rc, thread::current().id())
                    })
                };
                // No `.await` since `spawn_local`: still on the local task's worker.
                let inside = flywheel::task::block_in_place(|| thread::current().id());
                gate.open();
                let (before, after) = task.await.unwrap();
                (before, inside, after)
            })
            .await
            .unwrap()
        });
        assert_eq!(before, after);
        assert_eq!(inside, after);
    });
}

#[test]
fn panics_outside_a_runtime() {
    watchdog(|| {
        let err = std::panic::catch_unwind(|| {
            drop(spawn_local(async {}));
        })
        .unwrap_err();
        let message = panic_message(err);
        assert!(message.contains("spawn_local"), "{message}");
        assert!(message.contains("LocalRuntime"), "{message}");
    });
}

#[test]
fn panics_on_a_blocking_pool_thread_and_in_multi_thread_block_on() {
    watchdog(|| {
        let rt = multi_thread(1);
        let message = rt
            .block_on(rt.spawn_blocking(|| {
                std::panic::catch_unwind(|| drop(spawn_local(async {}))).map_err(panic_message)
            }))
            .unwrap()
            .unwrap_err();
        assert!(message.contains("spawn_blocking"), "{message}");
        let message = rt
            .block_on(async {
                std::panic::catch_unwind(|| drop(spawn_local(async {}))).map_err(panic_message)
            })
            .unwrap_err();
        assert!(message.contains("block_on"), "{message}");
        // The misuse left the runtime working.
        assert_eq!(rt.block_on(rt.spawn(async { 3 })).unwrap(), 3);
    });
}

/// A plain current-thread runtime driven by a second thread: the first thread's local
/// tasks wait for it, and the second thread cannot spawn local tasks there.
#[test]
// The first `block_on` only spawns: the task must not run before the other thread drives.
#[allow(clippy::async_yields_async)]
fn current_thread_local_tasks_belong_to_one_thread() {
    watchdog(|| {
        let rt = Arc::new(common::current_thread());
        let polled_on = Arc::new(Mutex::new(Vec::new()));
        let gate = Gate::default();
        let task = {
            let polled_on = polled_on.clone();
            let gate = gate.clone();
            rt.block_on(async move {
                spawn_local(async move {
                    let rc = Rc::new(());
                    loop {
                        polled_on.lock().unwrap().push(thread::current().id());
                        if gate.open.load(SeqCst) {
                            break;
                        }
                        gate.wait().await;
                    }
                    drop(rc);
                    7
                })
            })
        };
        let other = {
            let rt = rt.clone();
            let gate = gate.clone();
            thread::spawn(move || {
                rt.block_on(async {
                    gate.open();
                    // Runs the queue a few times on this thread.
                    for _ in 0..10 {
                        flywheel::task::yield_now().await;
                    }
                    std::panic::catch_unwind(|| drop(spawn_local(async {}))).map_err(panic_message)
                })
            })
        };
        let message = other.join().unwrap().unwrap_err();
        assert!(message.contains("another thread"), "{message}");
        assert_eq!(rt.block_on(task).unwrap(), 7);
        let me = thread::current().id();
        assert!(polled_on.lock().unwrap().iter().all(|&id| id == me));
    });
}

#[test]
fn shutdown_drops_local_futures_on_their_owner_thread() {
    watchdog(|| {
        let me = thread::current().id();
        // A local runtime, with a task never polled and one waiting.
        let dropped_on = Arc::new(Mutex::new(Vec::new()));
        let rt = local_runtime();
        let recorder = DropRecorder::new(&dropped_on);
        drop(rt.spawn_local(async move {
            let _r = recorder;
        }));
        let recorder = DropRecorder::new(&dropped_on);
        rt.block_on(async move {
            drop(spawn_local(async move {
                let _r = recorder;
                std::future::pending::<()>().await
            }));
            flywheel::task::yield_now().await;
        });
        drop(rt);
        assert_eq!(*dropped_on.lock().unwrap(), [me, me]);

        // A plain current-thread runtime dropped by its local tasks' thread.
        let dropped_on = Arc::new(Mutex::new(Vec::new()));
        let rt = common::current_thread();
        let recorder = DropRecorder::new(&dropped_on);
        rt.block_on(async move {
            drop(spawn_local(async move {
                let _r = recorder;
                std::future::pending::<()>().await
            }));
        });
        drop(rt);
        assert_eq!(*dropped_on.lock().unwrap(), [me]);

        // Workers: each drops its own local futures as it exits.
        let dropped_on = Arc::new(Mutex::new(Vec::new()));
        let rt = multi_thread(2);
        let (tx, rx) = mpsc::channel();
        for _ in 0..4 {
            let dropped_on = dropped_on.clone();
            let tx = tx.clone();
            rt.spawn(async move {
                let recorder = DropRecorder::new(&dropped_on);
                drop(spawn_local(async move {
                    let _r = recorder;
                    std::future::pending::<()>().await
                }));
                tx.send(thread::current().id()).unwrap();
            });
        }
        let mut owners: Vec<ThreadId> = (0..4).map(|_| rx.recv().unwrap()).collect();
        drop(rt);
        let mut dropped = dropped_on.lock().unwrap().clone();
        owners.sort_by_key(|id| format!("{id:?}"));
        dropped.sort_by_key(|id| format!("{id:?}"));
        assert_eq!(dropped, owners);
        assert!(!dropped.contains(&me));
    });
}

#[test]
fn a_local_task_that_panics() {
    watchdog(|| {
        let rt = local_runtime();
        let dropped_on = Arc::new(Mutex::new(Vec::new()));
        let recorder = DropRecorder::new(&dropped_on);
        let err = rt
            .block_on(spawn_local_in(&rt, async move {
                let _r = recorder;
                panic!("boom in a local task");
            }))
            .unwrap_err();
        assert!(err.is_panic());
        assert_eq!(*dropped_on.lock().unwrap(), [thread::current().id()]);
        // The runtime goes on.
        assert_eq!(rt.block_on(rt.spawn_local(async { 1 })).unwrap(), 1);
    });
}

fn spawn_local_in<F: std::future::Future + 'static>(
    rt: &LocalRuntime,
    future: F,
) -> JoinHandle<F::Output> {
    rt.spawn_local(future)
}

#[test]
fn abort_from_another_thread() {
    watchdog(|| {
        let me = thread::current().id();
        let dropped_on = Arc::new(Mutex::new(Vec::new()));
        let rt = local_runtime();
        let recorder = DropRecorder::new(&dropped_on);
        let started = Gate::default();
        let task = {
            let started = started.clone();
            rt.spawn_local(async move {
                let _r = recorder;
                started.open();
                std::future::pending::<()>().await
            })
        };
        let abort = task.abort_handle();
        let err = rt.block_on(async move {
            started.wait().await;
            let aborter = thread::spawn(move || abort.abort());
            let err = task.await.unwrap_err();
            aborter.join().unwrap();
            err
        });
        assert!(err.is_cancelled());
        assert_eq!(*dropped_on.lock().unwrap(), [me]);

        // On a worker, the JoinHandle (of a Send output) itself crosses threads.
        let rt = multi_thread(2);
        let dropped_on = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let recorded = dropped_on.clone();
        rt.spawn(async move {
            let recorder = DropRecorder::new(&recorded);
            let handle = spawn_local(async move {
                let _r = recorder;
                std::future::pending::<u8>().await
            });
            tx.send((handle, thread::current().id())).unwrap();
        });
        let (handle, worker) = rx.recv().unwrap();
        handle.abort();
        assert!(rt.block_on(handle).unwrap_err().is_cancelled());
        assert_eq!(*dropped_on.lock().unwrap(), [worker]);
    });
}

/// `JoinHandle<T>` is `Send` when `T` is, whatever the future (tests/ui has the `!Send`
/// case, which does not compile).
#[test]
fn join_handle_is_send_when_its_output_is() {
    fn send<T: Send>(_: &T) {}
    fn sync<T: Sync>(_: &T) {}
    watchdog(|| {
        let rt = local_runtime();
        let handle = rt.spawn_local(async {
            let rc = Rc::new(5u8);
            *rc
        });
        send(&handle);
        sync(&handle);
        let out = thread::scope(|s| s.spawn(|| handle).join().unwrap());
        assert_eq!(rt.block_on(out).unwrap(), 5);
    });
}

use common::Deadline;

#[flywheel::test(flavor = "local")]
async fn test_attribute_with_the_local_flavor() {
    let _deadline = Deadline::arm(common::DEFAULT_LIMIT);
    // The body itself is not `Send`: it holds an `Rc` across an `.await`.
    let rc = Rc::new(RefCell::new(0));
    let rc2 = rc.clone();
    spawn_local(async move { *rc2.borrow_mut() += 1 })
        .await
        .unwrap();
    flywheel::task::yield_now().await;
    assert_eq!(*rc.borrow(), 1);
    let mut set = flywheel::task::JoinSet::new();
    for i in 0..3 {
        set.spawn_local(async move { Rc::new(i) });
    }
    let mut sum = 0;
    while let Some(out) = set.join_next().await {
        sum += *out.unwrap();
    }
    assert_eq!(sum, 3);
}
