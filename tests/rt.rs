//! The runtime: where tasks and `block_on` futures run on each flavour, spawning from
//! inside and outside, and what dropping or shutting a runtime down does to its tasks.

mod common;

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use common::{watchdog, watchdog_for, DropCounter, DropGuard};
use flywheel::{Builder, Runtime};

const WORKER_NAME: &str = "rt-test-worker";

fn current_thread() -> Runtime {
    Builder::new_current_thread()
        .build()
        .expect("build a current-thread runtime")
}

fn multi_thread() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(WORKER_NAME)
        .build()
        .expect("build a multi-thread runtime")
}

/// Both flavours, by name, for tests that apply to each.
/// A flavour's name and how to build it.
type Flavour = (&'static str, fn() -> Runtime);

const FLAVOURS: [Flavour; 2] = [
    ("current_thread", current_thread),
    ("multi_thread", multi_thread),
];

/// A future that parks its waker in `slot` and stays pending forever; counts its polls.
struct Parked {
    slot: Arc<Mutex<Vec<Waker>>>,
    polls: Arc<AtomicUsize>,
    _guard: DropGuard,
}

impl Future for Parked {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polls.fetch_add(1, SeqCst);
        self.slot.lock().unwrap().push(cx.waker().clone());
        Poll::Pending
    }
}

#[test]
fn run_returns_the_output() {
    watchdog(|| {
        let out = flywheel::run(async {
            let a = flywheel::spawn(async { 40 });
            a.await.unwrap() + 2
        });
        assert_eq!(out, 42);
    });
}

#[test]
fn spawn_from_inside_block_on_and_tasks() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let out = rt.block_on(async {
                let outer = flywheel::spawn(async {
                    // Spawn from inside a task, through both entry points.
                    let a = flywheel::spawn(async { 1 });
                    let b = flywheel::Handle::current().spawn(async { 2 });
                    a.await.unwrap() + b.await.unwrap()
                });
                outer.await.unwrap() + flywheel::spawn(async { 3 }).await.unwrap()
            });
            assert_eq!(out, 6, "{name}");
        });
    }
}

#[test]
fn spawn_from_outside_through_runtime_and_handle() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let direct = rt.spawn(async { "runtime" });
            let handle = rt.handle().clone();
            let from_thread = thread::spawn(move || handle.spawn(async { "handle" }))
                .join()
                .unwrap();
            assert_eq!(rt.block_on(direct).unwrap(), "runtime", "{name}");
            assert_eq!(rt.block_on(from_thread).unwrap(), "handle", "{name}");
        });
    }
}

#[test]
fn handle_current_and_try_current_inside() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            assert!(flywheel::Handle::try_current().is_err());
            rt.block_on(async {
                assert!(flywheel::Handle::try_current().is_ok(), "{name}: block_on");
                flywheel::spawn(async {
                    assert!(flywheel::Handle::try_current().is_ok());
                    flywheel::Handle::current();
                })
                .await
                .unwrap();
            });
            // Leaving block_on restores "no runtime".
            assert!(flywheel::Handle::try_current().is_err(), "{name}");
        });
    }
}

#[test]
fn current_thread_remote_spawn_runs_during_next_block_on() {
    watchdog(|| {
        let rt = current_thread();
        let ran = Arc::new(AtomicBool::new(false));
        let handle = rt.handle().clone();
        let flag = ran.clone();
        let task = thread::spawn(move || {
            handle.spawn(async move {
                flag.store(true, SeqCst);
                thread::current().id()
            })
        })
        .join()
        .unwrap();
        // Nobody is inside block_on: nothing can have run it.
        assert!(
            !ran.load(SeqCst),
            "a current-thread task ran outside block_on"
        );
        let ran_on = rt.block_on(task).unwrap();
        assert_eq!(ran_on, thread::current().id());
    });
}

#[test]
fn current_thread_remote_spawn_wakes_a_blocked_block_on() {
    watchdog(|| {
        let rt = current_thread();
        let handle = rt.handle().clone();
        let (tx, rx) = futures_channel::oneshot::channel();
        let spawner = thread::spawn(move || {
            handle.spawn(async move {
                tx.send(thread::current().id()).unwrap();
            });
        });
        // block_on parks until the remote spawn arrives, then runs it here.
        let ran_on = rt.block_on(rx).unwrap();
        spawner.join().unwrap();
        assert_eq!(ran_on, thread::current().id());
    });
}

#[test]
fn current_thread_runs_every_task_on_the_block_on_thread() {
    watchdog(|| {
        let rt = current_thread();
        let here = thread::current().id();
        let ids = rt.block_on(async {
            let mut tasks = Vec::new();
            for _ in 0..50 {
                tasks.push(flywheel::spawn(async {
                    flywheel::task::yield_now().await;
                    let inner = flywheel::spawn(async { thread::current().id() });
                    (thread::current().id(), inner.await.unwrap())
                }));
            }
            let blocking_parent = flywheel::spawn_blocking(|| {
                // A task spawned from a blocking thread still runs on the block_on thread.
                flywheel::spawn(async { thread::current().id() })
            })
            .await
            .unwrap();
            let mut ids = vec![blocking_parent.await.unwrap()];
            for task in tasks {
                let (a, b) = task.await.unwrap();
                ids.extend([a, b]);
            }
            ids
        });
        assert_eq!(ids.len(), 101);
        assert!(ids.iter().all(|id| *id == here));
    });
}

#[test]
fn multi_thread_runs_tasks_on_workers_and_block_on_on_the_caller() {
    watchdog(|| {
        let rt = multi_thread();
        let caller = thread::current().id();
        let (block_on_thread, names) = rt.block_on(async {
            let mut tasks = Vec::new();
            for _ in 0..20 {
                tasks.push(flywheel::spawn(async {
                    let t = thread::current();
                    (t.id(), t.name().map(str::to_owned))
                }));
            }
            let mut names = Vec::new();
            for task in tasks {
                names.push(task.await.unwrap());
            }
            (thread::current().id(), names)
        });
        assert_eq!(block_on_thread, caller, "block_on future left the caller");
        for (id, name) in names {
            assert_ne!(id, caller, "a task ran on the block_on thread");
            assert_eq!(name.as_deref(), Some(WORKER_NAME));
        }
    });
}

/// Drops the runtime (or shuts it down) with tasks in every condition: queued and never
/// polled, idle with their wakers held outside, and finished. Each future is dropped once.
fn drop_runtime_drops_each_future_once(shutdown: fn(Runtime)) {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let drops = DropCounter::new();
            let polls = Arc::new(AtomicUsize::new(0));
            let wakers = Arc::new(Mutex::new(Vec::new()));

            // Idle tasks whose wakers are held elsewhere.
            let idle: Vec<_> = (0..10)
                .map(|_| {
                    rt.spawn(Parked {
                        slot: wakers.clone(),
                        polls: polls.clone(),
                        _guard: drops.guard(),
                    })
                })
                .collect();
            // Let them all be polled once (their wakers stored).
            rt.block_on(async {
                while wakers.lock().unwrap().len() < 10 {
                    flywheel::task::yield_now().await;
                }
            });
            // A finished task: its future was dropped when it completed.
            let guard = drops.guard();
            let done = rt.block_on(rt.spawn(async move { drop(guard) }));
            assert!(done.is_ok());
            assert_eq!(drops.count(), 1, "{name}");

            // Never polled: on current-thread nothing runs them outside block_on.
            let never_polls = Arc::new(AtomicUsize::new(0));
            let queued: Vec<_> = (0..10)
                .map(|_| {
                    rt.spawn(Parked {
                        slot: Arc::new(Mutex::new(Vec::new())),
                        polls: never_polls.clone(),
                        _guard: drops.guard(),
                    })
                })
                .collect();

            shutdown(rt);
            assert_eq!(
                drops.count(),
                21,
                "{name}: every future dropped at shutdown"
            );
            if name == "current_thread" {
                assert_eq!(
                    never_polls.load(SeqCst),
                    0,
                    "queued tasks ran outside block_on"
                );
            }
            assert_eq!(polls.load(SeqCst), 10, "{name}: idle tasks polled again");

            // The wakers outlive the runtime: waking and dropping them is harmless.
            let held: Vec<Waker> = std::mem::take(&mut *wakers.lock().unwrap());
            for w in &held {
                w.wake_by_ref();
                let clone = w.clone();
                clone.wake();
            }
            drop(held);
            assert_eq!(drops.count(), 21, "{name}: a future was dropped twice");
            assert_eq!(polls.load(SeqCst), 10, "{name}: polled after shutdown");

            // Their JoinHandles report cancellation.
            for handle in idle.into_iter().chain(queued) {
                assert!(handle.is_finished());
                let err = futures::executor::block_on(handle).unwrap_err();
                assert!(err.is_cancelled(), "{name}: {err:?}");
            }
        });
    }
}

#[test]
fn dropping_a_runtime_drops_each_future_once() {
    drop_runtime_drops_each_future_once(drop);
}

#[test]
fn shutdown_timeout_drops_each_future_once() {
    drop_runtime_drops_each_future_once(|rt| rt.shutdown_timeout(Duration::from_secs(5)));
}

#[test]
fn futures_dropped_at_shutdown_see_their_runtime() {
    // A destructor that spawns (e.g. a cleanup task) must not panic during shutdown.
    struct SpawnOnDrop(Arc<AtomicBool>);
    impl Drop for SpawnOnDrop {
        fn drop(&mut self) {
            let handle = flywheel::Handle::try_current();
            self.0.store(handle.is_ok(), SeqCst);
            if let Ok(handle) = handle {
                // The runtime is closed: this is cancelled at once, not a hang or a panic.
                drop(handle.spawn(async {}));
            }
        }
    }
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let saw_runtime = Arc::new(AtomicBool::new(false));
            let guard = SpawnOnDrop(saw_runtime.clone());
            drop(rt.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            }));
            drop(rt);
            assert!(saw_runtime.load(SeqCst), "{name}");
        });
    }
}

#[test]
fn spawning_through_a_handle_after_drop_is_cancelled() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let handle = rt.handle().clone();
            drop(rt);
            let drops = DropCounter::new();
            let guard = drops.guard();
            let task = handle.spawn(async move {
                let _guard = guard;
                1
            });
            assert_eq!(drops.count(), 1, "{name}: the future was not dropped");
            assert!(task.is_finished());
            let err = futures::executor::block_on(task).unwrap_err();
            assert!(err.is_cancelled(), "{name}: {err}");

            let job = handle.spawn_blocking(|| 2);
            let err = futures::executor::block_on(job).unwrap_err();
            assert!(err.is_cancelled(), "{name}: {err}");

            // From another thread as well.
            let task = thread::spawn(move || handle.spawn(async { 3 }))
                .join()
                .unwrap();
            assert!(futures::executor::block_on(task)
                .unwrap_err()
                .is_cancelled());
        });
    }
}

#[test]
fn runtime_drop_is_prompt_even_hundreds_of_times() {
    watchdog_for(Duration::from_secs(60), || {
        for (name, make) in FLAVOURS {
            let start = Instant::now();
            for i in 0..300 {
                let rt = make();
                if i % 10 == 0 {
                    assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1);
                }
                drop(rt);
            }
            let elapsed = start.elapsed();
            assert!(
                elapsed < Duration::from_secs(10),
                "{name}: 300 build+drop took {elapsed:?}"
            );
        }
    });
}

#[test]
fn idle_runtime_drop_while_workers_are_parked() {
    watchdog(|| {
        let rt = multi_thread();
        // Workers ran something and went back to sleep.
        rt.block_on(async {
            for _ in 0..10 {
                flywheel::spawn(async {}).await.unwrap();
            }
        });
        let start = Instant::now();
        drop(rt);
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "drop took {:?}",
            start.elapsed()
        );
    });
}

#[test]
fn block_on_many_times_and_from_several_threads() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = Arc::new(make());
            for i in 0..20 {
                assert_eq!(rt.block_on(async move { i }), i, "{name}");
            }
            // Several threads block_on the same runtime (current-thread: one at a time).
            let threads: Vec<_> = (0..4)
                .map(|i| {
                    let rt = rt.clone();
                    thread::spawn(move || {
                        rt.block_on(async move { flywheel::spawn(async move { i * 2 }).await })
                    })
                })
                .collect();
            let sum: i32 = threads
                .into_iter()
                .map(|t| t.join().unwrap().unwrap())
                .sum();
            assert_eq!(sum, 12, "{name}");
        });
    }
}

#[test]
fn wake_from_outside_reaches_the_task() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let (tx, rx) = mpsc::channel::<futures_channel::oneshot::Sender<u32>>();
            let waiter = rt.spawn(async move {
                let (otx, orx) = futures_channel::oneshot::channel();
                tx.send(otx).unwrap();
                orx.await.unwrap()
            });
            let out = rt.block_on(async move {
                // Answer from a plain thread while the task is parked.
                let otx = flywheel::spawn_blocking(move || rx.recv().unwrap())
                    .await
                    .unwrap();
                thread::spawn(move || otx.send(9).unwrap()).join().unwrap();
                waiter.await.unwrap()
            });
            assert_eq!(out, 9, "{name}");
        });
    }
}

#[test]
fn tasks_from_many_threads_all_run() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let handles: Vec<_> = (0..4)
                .map(|t| {
                    let handle = rt.handle().clone();
                    thread::spawn(move || {
                        (0..common::iterations(1000))
                            .map(|i| handle.spawn(async move { t * 100_000 + i }))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let tasks: Vec<_> = handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect();
            let n = tasks.len();
            let seen: HashSet<usize> = rt.block_on(async move {
                let mut seen = HashSet::new();
                for task in tasks {
                    seen.insert(task.await.unwrap());
                }
                seen
            });
            assert_eq!(seen.len(), n, "{name}");
        });
    }
}

#[test]
#[allow(clippy::async_yields_async)] // the task hands out a JoinHandle on purpose
fn spawn_onto_another_runtime_from_a_task() {
    for (name, make) in FLAVOURS {
        for (other_name, make_other) in FLAVOURS {
            watchdog(move || {
                let rt = make();
                let other = make_other();
                let other_handle = other.handle().clone();
                let task = rt.block_on(async move {
                    flywheel::spawn(async move { other_handle.spawn(async { 7 }) })
                        .await
                        .unwrap()
                });
                // It belongs to `other`: on a current-thread `other` it runs in its block_on.
                assert_eq!(other.block_on(task).unwrap(), 7, "{name} -> {other_name}");
            });
        }
    }
}

/// A future whose drop wakes another task (it owns the sender of a channel the other task
/// waits on), so shutdown wakes tasks while it is dropping them.
#[test]
fn wakes_from_destructors_during_shutdown_are_harmless() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let drops = DropCounter::new();
            let mut tasks = Vec::new();
            let (first_tx, mut rx) = futures_channel::oneshot::channel::<()>();
            for _ in 0..20 {
                let (tx, next_rx) = futures_channel::oneshot::channel::<()>();
                let guard = drops.guard();
                tasks.push(rt.spawn(async move {
                    let _guard = guard;
                    let _tx = tx; // dropped with this future: wakes the next task
                    let _ = rx.await;
                    std::future::pending::<()>().await;
                }));
                rx = next_rx;
            }
            // Let them all start waiting.
            rt.block_on(async {
                for _ in 0..50 {
                    flywheel::task::yield_now().await;
                }
            });
            drop(rt);
            assert_eq!(drops.count(), 20, "{name}");
            for t in tasks {
                assert!(futures::executor::block_on(t).unwrap_err().is_cancelled());
            }
            // The first receiver and the last sender were dropped with their tasks.
            assert!(first_tx.is_canceled(), "{name}");
            assert!(rx.try_recv().is_err(), "{name}");
        });
    }
}

/// CPU time (in clock ticks) used so far by this process's threads named `name`.
#[cfg(target_os = "linux")]
fn cpu_ticks_of_threads(name: &str) -> (usize, u64) {
    let mut threads = 0;
    let mut ticks = 0;
    for entry in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let dir = entry.path();
        let Ok(comm) = std::fs::read_to_string(dir.join("comm")) else {
            continue;
        };
        if comm.trim_end() != name {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(dir.join("stat")) else {
            continue;
        };
        // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = rest.split(' ').collect();
        ticks += fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        threads += 1;
    }
    (threads, ticks)
}

#[cfg(target_os = "linux")]
#[test]
fn an_idle_runtime_uses_no_cpu() {
    watchdog(|| {
        const NAME: &str = "fw-idle-probe"; // < 16 bytes: fits in /proc's comm
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(NAME)
            .build()
            .unwrap();
        rt.block_on(async {
            let tasks: Vec<_> = (0..100)
                .map(|i| flywheel::spawn(async move { i }))
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        // A worker names itself when it first gets the CPU, which on a loaded machine may
        // not have happened yet: wait for both names to appear.
        let before = loop {
            match cpu_ticks_of_threads(NAME) {
                (2, ticks) => break ticks,
                (n, _) => {
                    assert!(n < 2, "{n} threads named {NAME}");
                    thread::yield_now();
                }
            }
        };
        // Measuring idleness takes a wait: this sleep is the measurement, not a sync.
        thread::sleep(Duration::from_millis(500));
        let (_, after) = cpu_ticks_of_threads(NAME);
        // Clock ticks are usually 10 ms: allow a couple for wake-up noise.
        assert!(
            after - before <= 2,
            "idle workers used {} ticks in 500 ms",
            after - before
        );
    });
}

#[test]
fn shutdown_timeout_with_a_stuck_worker_still_drops_the_other_tasks() {
    watchdog(|| {
        let rt = multi_thread();
        let drops = DropCounter::new();
        let wakers = Arc::new(Mutex::new(Vec::new()));
        let polls = Arc::new(AtomicUsize::new(0));
        let idle: Vec<_> = (0..10)
            .map(|_| {
                rt.spawn(Parked {
                    slot: wakers.clone(),
                    polls: polls.clone(),
                    _guard: drops.guard(),
                })
            })
            .collect();
        rt.block_on(async {
            while wakers.lock().unwrap().len() < 10 {
                flywheel::task::yield_now().await;
            }
        });
        // A task that blocks its worker thread (which it should not do) until released.
        let (started_tx, started_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let stuck_guard = drops.guard();
        let stuck = rt.spawn(async move {
            let _guard = stuck_guard;
            started_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            std::future::pending::<()>().await;
        });
        started_rx.recv().unwrap();

        let start = Instant::now();
        rt.shutdown_timeout(Duration::from_millis(100));
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(
            drops.count(),
            10,
            "the idle tasks' futures were not dropped"
        );
        for t in idle {
            assert!(futures::executor::block_on(t).unwrap_err().is_cancelled());
        }

        // Once its poll returns, the stuck task is cancelled too, by its own worker.
        release_tx.send(()).unwrap();
        assert!(futures::executor::block_on(stuck)
            .unwrap_err()
            .is_cancelled());
        assert_eq!(drops.count(), 11);
    });
}

#[test]
fn a_panic_inside_block_on_leaves_the_runtime_usable() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let pending = rt.spawn(async {
                flywheel::task::yield_now().await;
                1
            });
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                rt.block_on(async {
                    flywheel::task::yield_now().await;
                    panic!("block_on future failed");
                })
            }));
            assert!(caught.is_err(), "{name}");
            // The thread is no longer "inside" the runtime, and the runtime still runs tasks.
            assert!(flywheel::Handle::try_current().is_err(), "{name}");
            assert_eq!(rt.block_on(pending).unwrap(), 1, "{name}");
            assert_eq!(rt.block_on(rt.spawn(async { 2 })).unwrap(), 2, "{name}");
        });
    }
}
