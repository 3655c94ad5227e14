//! The runtime: where tasks and `block_on` futures run on each flavour, spawning from
//! inside and outside, `Handle::current`, and an idle runtime's CPU use. Shutdown lives in
//! `rt_shutdown.rs`.

mod common;

use common::current_thread;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use common::watchdog;
use flywheel::{Builder, Runtime};

const WORKER_NAME: &str = "rt-test-worker";

fn multi_thread() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(WORKER_NAME)
        .build()
        .expect("build a multi-thread runtime")
}

/// A flavour's name and how to build it.
type Flavour = (&'static str, fn() -> Runtime);

const FLAVOURS: [Flavour; 2] = [
    ("current_thread", current_thread),
    ("multi_thread", multi_thread),
];

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

/// Two threads inside `Handle::block_on` of one current-thread runtime whose futures wait
/// on each other: A (holding the scheduler) waits for B's ping, B for A's pong, A for B's
/// done. The thread without the scheduler must still poll its own future when woken; it
/// used to wait for the scheduler first, so both waited for ever.
#[test]
fn current_thread_block_on_futures_may_wait_on_each_other() {
    use futures_channel::oneshot;
    watchdog(|| {
        for round in 0..20 {
            let rt = current_thread();
            let (ping_tx, ping_rx) = oneshot::channel::<()>();
            let (pong_tx, pong_rx) = oneshot::channel::<()>();
            let (done_tx, done_rx) = oneshot::channel::<()>();
            let (entered_tx, entered_rx) = mpsc::channel();
            let handle = rt.handle().clone();
            let a = thread::spawn(move || {
                handle.block_on(async move {
                    entered_tx.send(()).unwrap();
                    ping_rx.await.unwrap();
                    pong_tx.send(()).unwrap();
                    done_rx.await.unwrap();
                    "a"
                })
            });
            // A holds the scheduler before B arrives.
            entered_rx.recv().unwrap();
            let handle = rt.handle().clone();
            let b = thread::spawn(move || {
                handle.block_on(async move {
                    ping_tx.send(()).unwrap();
                    pong_rx.await.unwrap();
                    done_tx.send(()).unwrap();
                    "b"
                })
            });
            assert_eq!(b.join().unwrap(), "b", "round {round}");
            assert_eq!(a.join().unwrap(), "a", "round {round}");
        }
    });
}

/// The thread waiting for the scheduler takes it over when the other `block_on` returns,
/// and then drives timers and tasks for its own future.
#[test]
fn current_thread_second_block_on_takes_over_the_scheduler() {
    use futures_channel::oneshot;
    watchdog(|| {
        let rt = current_thread();
        let (ping_tx, ping_rx) = oneshot::channel::<()>();
        let (entered_tx, entered_rx) = mpsc::channel();
        let handle = rt.handle().clone();
        let a = thread::spawn(move || {
            handle.block_on(async move {
                entered_tx.send(()).unwrap();
                ping_rx.await.unwrap();
            })
        });
        entered_rx.recv().unwrap();
        let handle = rt.handle().clone();
        let b = thread::spawn(move || {
            handle.block_on(async move {
                // Polled while A holds the scheduler.
                ping_tx.send(()).unwrap();
                // A returns meanwhile: only this thread is left to fire the timer and run
                // the task.
                flywheel::time::sleep(Duration::from_millis(20)).await;
                let task = flywheel::spawn(async { thread::current().id() });
                (task.await.unwrap(), thread::current().id())
            })
        });
        a.join().unwrap();
        let (ran_on, b_thread) = b.join().unwrap();
        assert_eq!(
            ran_on, b_thread,
            "the task ran on the thread inside block_on"
        );
        // The scheduler is free again for a third caller.
        assert_eq!(
            rt.block_on(async { flywheel::spawn(async { 3 }).await })
                .unwrap(),
            3
        );
    });
}

/// The `block_on` future runs under the cooperative budget on both flavours: looping on an
/// always-ready source (a sleep that has fired), it is made to return `Pending` every so
/// many operations, as a task would be, instead of running the whole loop in one poll.
#[test]
fn block_on_futures_run_under_the_cooperative_budget() {
    use std::sync::atomic::AtomicUsize;
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let polls = Arc::new(AtomicUsize::new(0));
            let counted = polls.clone();
            let mut body = Box::pin(async {
                let mut fired = std::pin::pin!(flywheel::time::sleep(Duration::from_millis(1)));
                fired.as_mut().await;
                for _ in 0..1000 {
                    fired.as_mut().await;
                }
            });
            rt.block_on(std::future::poll_fn(move |cx| {
                counted.fetch_add(1, SeqCst);
                std::future::Future::poll(body.as_mut(), cx)
            }));
            // One poll that waits for the sleep, then at least one per budget's worth.
            let polls = polls.load(SeqCst);
            assert!(polls > 1000 / 128, "{name}: {polls} polls");
        });
    }
}
