//! Shutting a runtime down: dropping it or `shutdown_timeout` drops every remaining task's
//! future exactly once (never-polled and idle tasks included), returns promptly, and leaves
//! outstanding wakers and handles harmless.

mod common;

use common::current_thread;
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

/// Dropping a runtime from inside one of its own tasks (a worker thread, or the thread in a
/// current-thread `block_on`) must not wait for that very thread.
#[test]
fn dropping_a_runtime_inside_its_own_task_does_not_deadlock() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let drops = DropCounter::new();
            let slot = Arc::new(Mutex::new(Some(make())));
            let handle = slot.lock().unwrap().as_ref().unwrap().handle().clone();
            let other_guard = drops.guard();
            let other = handle.spawn(async move {
                let _guard = other_guard;
                std::future::pending::<()>().await;
            });
            let (tx, rx) = mpsc::channel();
            let s = slot.clone();
            let dropper = handle.spawn(async move {
                let rt = s.lock().unwrap().take();
                let start = Instant::now();
                drop(rt);
                tx.send(start.elapsed()).unwrap();
                // Cancelled at its next scheduling point: the runtime is gone.
                flywheel::task::yield_now().await;
            });
            let result = if name == "current_thread" {
                // The task runs (and drops the runtime) inside this block_on.
                handle.block_on(dropper)
            } else {
                futures::executor::block_on(dropper)
            };
            assert!(result.unwrap_err().is_cancelled(), "{name}");
            let took = rx.recv().unwrap();
            assert!(took < Duration::from_secs(1), "{name}: drop took {took:?}");
            assert!(
                futures::executor::block_on(other)
                    .unwrap_err()
                    .is_cancelled(),
                "{name}"
            );
            assert_eq!(drops.count(), 1, "{name}");
        });
    }
}

/// A destructor run at shutdown may spawn a task that owns another runtime. The spawn is
/// cancelled at once, dropping that runtime inside `flywheel::spawn`; its shutdown must
/// still run (it once hit a RefCell borrowed by `spawn` and left the runtime running).
#[test]
fn a_runtime_dropped_by_a_spawn_refused_at_shutdown_still_shuts_down() {
    struct SpawnOnDrop(Option<Runtime>);
    impl Drop for SpawnOnDrop {
        fn drop(&mut self) {
            let inner = self.0.take();
            drop(flywheel::spawn(async move {
                let _inner = inner;
            }));
        }
    }
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let outer = make();
            let inner = multi_thread();
            let drops = DropCounter::new();
            let guard = drops.guard();
            drop(inner.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            }));
            let owner = SpawnOnDrop(Some(inner));
            drop(outer.spawn(async move {
                let _owner = owner;
                std::future::pending::<()>().await;
            }));
            drop(outer);
            assert_eq!(
                drops.count(),
                1,
                "{name}: the inner runtime dropped its task"
            );
        });
    }
}

/// Open file descriptors of this process (every runtime holds an epoll fd and an eventfd).
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("list /proc/self/fd")
        .count()
}

/// Dropping a current-thread runtime while another thread is inside `Handle::block_on`
/// frees it once that `block_on` returns. The core (and the task references queued in it)
/// used to be handed back after shutdown, a cycle runtime -> core -> task -> runtime that
/// leaked the runtime with its reactor: two file descriptors per round.
#[test]
fn dropping_a_current_thread_runtime_during_a_handle_block_on_frees_it() {
    fn round() {
        let rt = current_thread();
        let handle = rt.handle().clone();
        // Always queued (it yields in a loop), so the core holds a reference to it.
        let busy = rt.spawn(async {
            loop {
                flywheel::task::yield_now().await;
            }
        });
        let (inside_tx, inside_rx) = mpsc::channel();
        let (release_tx, release_rx) = futures_channel::oneshot::channel::<()>();
        let thread = thread::spawn(move || {
            handle.block_on(async move {
                // Let the busy task run first, so it is queued on the core.
                flywheel::task::yield_now().await;
                inside_tx.send(()).unwrap();
                let _ = release_rx.await;
            })
        });
        inside_rx.recv().unwrap();
        drop(rt);
        release_tx.send(()).unwrap();
        thread.join().unwrap();
        assert!(futures::executor::block_on(busy)
            .unwrap_err()
            .is_cancelled());
    }
    watchdog_for(Duration::from_secs(30), || {
        // Warm up: lazily opened descriptors (std, the test harness) are opened by now.
        for _ in 0..10 {
            round();
        }
        let before = open_fds();
        const ROUNDS: usize = 100;
        for _ in 0..ROUNDS {
            round();
        }
        let after = open_fds();
        // A leak costs two descriptors a round (200); other tests running meanwhile open a
        // few of their own.
        assert!(
            after < before + ROUNDS / 2,
            "{} descriptors more after {ROUNDS} rounds ({before} -> {after})",
            after.saturating_sub(before)
        );
    });
}

/// `shutdown_timeout(Duration::MAX)` is "no deadline", not an overflow panic.
#[test]
fn shutdown_timeout_accepts_the_longest_duration() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let drops = DropCounter::new();
            let guard = drops.guard();
            drop(rt.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            }));
            let job = rt.spawn_blocking(|| 7);
            assert_eq!(rt.block_on(job).unwrap(), 7, "{name}");
            rt.shutdown_timeout(Duration::MAX);
            assert_eq!(drops.count(), 1, "{name}");
        });
    }
}

/// Environment variable that makes this test binary run one scenario of
/// `a_runtime_in_a_thread_local_shuts_down_quietly_at_thread_exit` instead of the test.
const TLS_SCENARIO: &str = "FLYWHEEL_TEST_TLS_SCENARIO";

/// A runtime kept in a thread-local is dropped when its thread exits, possibly after
/// flywheel's own thread-local is gone. Shutdown must not touch that one then: it used to,
/// and the thread-local panicked in its destructor, which aborts the process. Each scenario
/// runs in a child process (this binary, re-executed), so an abort fails the test instead
/// of killing the test run.
#[test]
fn a_runtime_in_a_thread_local_shuts_down_quietly_at_thread_exit() {
    const TEST: &str = "a_runtime_in_a_thread_local_shuts_down_quietly_at_thread_exit";
    if let Ok(scenario) = std::env::var(TLS_SCENARIO) {
        runtime_in_a_thread_local(&scenario);
        println!("scenario {scenario} done");
        return;
    }
    watchdog_for(Duration::from_secs(60), || {
        for flavour in ["current_thread", "multi_thread"] {
            // Both orders of destruction: flywheel's thread-local first, or the runtime's.
            for first in ["flywheel", "runtime"] {
                let scenario = format!("{flavour}/{first}");
                let mut child = std::process::Command::new(std::env::current_exe().unwrap())
                    .args([TEST, "--exact", "--nocapture", "--test-threads=1"])
                    .env(TLS_SCENARIO, &scenario)
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("re-run the test binary");
                let deadline = Instant::now() + Duration::from_secs(20);
                while child.try_wait().unwrap().is_none() {
                    if Instant::now() > deadline {
                        let _ = child.kill();
                        panic!("{scenario}: the child process hangs");
                    }
                    thread::sleep(Duration::from_millis(10));
                }
                let out = child.wait_with_output().unwrap();
                let stdout = String::from_utf8_lossy(&out.stdout);
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert!(
                    out.status.success() && stdout.contains(&format!("scenario {scenario} done")),
                    "{scenario}: {}\n{stdout}\n{stderr}",
                    out.status
                );
                assert!(!stderr.contains("panicked"), "{scenario}: {stderr}");
            }
        }
    });
}

fn runtime_in_a_thread_local(scenario: &str) {
    thread_local! {
        static RUNTIME: std::cell::RefCell<Option<Runtime>> =
            const { std::cell::RefCell::new(None) };
    }
    let (flavour, first) = scenario.split_once('/').expect("flavour/first");
    let make = match flavour {
        "current_thread" => current_thread,
        _ => multi_thread,
    };
    let flywheel_first = first == "flywheel";
    let drops = DropCounter::new();
    let guard = drops.guard();
    thread::spawn(move || {
        if flywheel_first {
            // Thread-locals are destroyed in reverse order of first use: using flywheel's
            // now makes the runtime's slot (first used below) go first.
            assert!(flywheel::Handle::try_current().is_err());
        }
        RUNTIME.with(|slot| *slot.borrow_mut() = Some(make()));
        RUNTIME.with(|slot| {
            let slot = slot.borrow();
            let rt = slot.as_ref().unwrap();
            // A task left pending, and the runtime used from this thread (which sets up
            // flywheel's thread-local after the runtime's, unless done above).
            drop(rt.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            }));
            assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1);
            assert_eq!(rt.block_on(rt.spawn_blocking(|| 2)).unwrap(), 2);
        });
    })
    .join()
    .expect("the thread exits cleanly");
    assert_eq!(
        drops.count(),
        1,
        "the pending task was dropped at thread exit"
    );
}

/// Records, when dropped, the thread it was dropped on.
struct DroppedOn(Arc<Mutex<Vec<thread::ThreadId>>>);

impl Drop for DroppedOn {
    fn drop(&mut self) {
        self.0.lock().unwrap().push(thread::current().id());
    }
}

/// What `Runtime`'s docs promise about where futures are dropped: dropped from a thread
/// outside the runtime, every remaining future (idle, queued, never polled) is dropped on
/// that thread before `drop` returns.
#[test]
fn futures_are_dropped_on_the_dropping_thread_before_drop_returns() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let dropped = Arc::new(Mutex::new(Vec::new()));
            let wakers = Arc::new(Mutex::new(Vec::new()));
            let polls = Arc::new(AtomicUsize::new(0));
            let drops = DropCounter::new();
            for _ in 0..10 {
                let on = DroppedOn(dropped.clone());
                drop(rt.spawn(async move {
                    let _on = on;
                    flywheel::task::yield_now().await;
                    std::future::pending::<()>().await;
                }));
                drop(rt.spawn(Parked {
                    slot: wakers.clone(),
                    polls: polls.clone(),
                    _guard: drops.guard(),
                }));
            }
            rt.block_on(async {
                while wakers.lock().unwrap().len() < 10 {
                    flywheel::task::yield_now().await;
                }
            });
            // Queued (on current-thread never polled), or idle if a worker got to them.
            for _ in 0..10 {
                let on = DroppedOn(dropped.clone());
                drop(rt.spawn(async move {
                    let _on = on;
                    std::future::pending::<()>().await;
                }));
            }
            let here = thread::current().id();
            drop(rt);
            let dropped = dropped.lock().unwrap();
            assert_eq!(dropped.len(), 20, "{name}");
            assert!(dropped.iter().all(|&t| t == here), "{name}: {dropped:?}");
            assert_eq!(drops.count(), 10, "{name}");
        });
    }
}

/// Dropped from inside one of its own tasks, a runtime drops the other tasks' futures on
/// that thread before `drop` returns, and the dropping task's own future when its poll
/// returns, on the thread that polled it.
#[test]
fn a_runtime_dropped_in_its_own_task_drops_that_task_after_its_poll() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let slot = Arc::new(Mutex::new(Some(make())));
            let handle = slot.lock().unwrap().as_ref().unwrap().handle().clone();
            let others = Arc::new(Mutex::new(Vec::new()));
            for _ in 0..5 {
                let on = DroppedOn(others.clone());
                drop(handle.spawn(async move {
                    let _on = on;
                    std::future::pending::<()>().await;
                }));
            }
            let own = Arc::new(Mutex::new(Vec::new()));
            let on = DroppedOn(own.clone());
            let (seen_tx, seen_rx) = mpsc::channel();
            let s = slot.clone();
            let (others2, own2) = (others.clone(), own.clone());
            let dropper = handle.spawn(async move {
                let _on = on;
                // The other tasks run first, so they are idle when the runtime goes.
                for _ in 0..3 {
                    flywheel::task::yield_now().await;
                }
                let rt = s.lock().unwrap().take();
                drop(rt);
                let here = thread::current().id();
                let others: Vec<_> = others2.lock().unwrap().clone();
                let own_now = own2.lock().unwrap().len();
                seen_tx.send((here, others, own_now)).unwrap();
                flywheel::task::yield_now().await;
            });
            let result = if name == "current_thread" {
                handle.block_on(dropper)
            } else {
                futures::executor::block_on(dropper)
            };
            assert!(result.unwrap_err().is_cancelled(), "{name}");
            let (dropping_thread, others, own_at_drop) = seen_rx.recv().unwrap();
            assert_eq!(
                others.len(),
                5,
                "{name}: others dropped before drop returned"
            );
            assert!(others.iter().all(|&t| t == dropping_thread), "{name}");
            assert_eq!(own_at_drop, 0, "{name}: own future dropped during its poll");
            assert_eq!(*own.lock().unwrap(), [dropping_thread], "{name}");
        });
    }
}

/// A task that a current-thread runtime's other `block_on` thread is polling when the
/// runtime is dropped is dropped by that thread when the poll returns; the rest on the
/// dropping thread before `drop` returns.
#[test]
fn a_task_in_its_poll_at_drop_is_dropped_by_the_polling_thread() {
    watchdog(|| {
        let rt = current_thread();
        let handle = rt.handle().clone();
        let polling = Arc::new(Mutex::new(Vec::new()));
        let idle = Arc::new(Mutex::new(Vec::new()));
        let on = DroppedOn(idle.clone());
        drop(rt.spawn(async move {
            let _on = on;
            std::future::pending::<()>().await;
        }));
        let (in_poll_tx, in_poll_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let on = DroppedOn(polling.clone());
        let stuck = rt.spawn(async move {
            let _on = on;
            in_poll_tx.send(thread::current().id()).unwrap();
            release_rx.recv().unwrap();
            std::future::pending::<()>().await;
        });
        let (done_tx, done_rx) = futures_channel::oneshot::channel::<()>();
        let other = thread::spawn(move || {
            handle.block_on(async move {
                let _ = done_rx.await;
            })
        });
        let poller = in_poll_rx.recv().unwrap();
        let start = Instant::now();
        drop(rt);
        assert!(start.elapsed() < Duration::from_secs(2));
        assert_eq!(*idle.lock().unwrap(), [thread::current().id()]);
        assert!(
            polling.lock().unwrap().is_empty(),
            "dropped during its poll"
        );
        release_tx.send(()).unwrap();
        assert!(futures::executor::block_on(stuck)
            .unwrap_err()
            .is_cancelled());
        assert_eq!(*polling.lock().unwrap(), [poller]);
        drop(done_tx);
        other.join().unwrap();
    });
}

/// After `shutdown_timeout` gave up on a worker stuck in a poll, that task's future is
/// dropped by the worker, when the poll returns; the idle ones on the calling thread.
#[test]
fn shutdown_timeout_leaves_a_stuck_task_to_its_worker() {
    watchdog(|| {
        let rt = multi_thread();
        let idle = Arc::new(Mutex::new(Vec::new()));
        let on = DroppedOn(idle.clone());
        let (idle_tx, idle_rx) = mpsc::channel();
        drop(rt.spawn(async move {
            let _on = on;
            idle_tx.send(()).unwrap();
            std::future::pending::<()>().await;
        }));
        idle_rx.recv().unwrap();
        let stuck_on = Arc::new(Mutex::new(Vec::new()));
        let on = DroppedOn(stuck_on.clone());
        let (started_tx, started_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let stuck = rt.spawn(async move {
            let _on = on;
            started_tx.send(thread::current().id()).unwrap();
            release_rx.recv().unwrap();
            std::future::pending::<()>().await;
        });
        let worker = started_rx.recv().unwrap();
        rt.shutdown_timeout(Duration::from_millis(50));
        assert_eq!(*idle.lock().unwrap(), [thread::current().id()]);
        assert!(
            stuck_on.lock().unwrap().is_empty(),
            "dropped during its poll"
        );
        release_tx.send(()).unwrap();
        assert!(futures::executor::block_on(stuck)
            .unwrap_err()
            .is_cancelled());
        assert_eq!(*stuck_on.lock().unwrap(), [worker]);
    });
}

/// A task that stays runnable: it yields for ever, so it sits in some worker's queue.
async fn yield_forever(_guard: DropGuard) {
    loop {
        flywheel::task::yield_now().await;
    }
}

/// `yield_forever` that reports on `started` once it runs.
async fn yield_forever_after(started: mpsc::Sender<()>, guard: DropGuard) {
    let _ = started.send(());
    yield_forever(guard).await;
}

/// Fds a leak-free loop may still gain: runtimes other tests of this file hold at the time.
#[cfg(target_os = "linux")]
const FD_SLACK: usize = 64;

/// A multi-thread runtime dropped right after tasks were spawned into it from outside is
/// freed: nothing (a task left in a worker's queue, which holds the runtime's handle) keeps
/// its shared state — poller, queues — alive. Each leaked runtime keeps two fds open, so 200
/// rounds of a leak show up as hundreds of fds. Half the rounds drop the runtime at once,
/// half once the spawned tasks run (and so sit in the workers' own queues).
#[cfg(target_os = "linux")]
#[test]
fn a_multi_thread_runtime_dropped_after_remote_spawns_is_freed() {
    watchdog_for(Duration::from_secs(60), || {
        let drops = DropCounter::new();
        let rounds = 200;
        let before = open_fds();
        for round in 0..rounds {
            let rt = multi_thread();
            let (started_tx, started_rx) = mpsc::channel();
            for _ in 0..2 {
                drop(rt.spawn(std::future::pending::<()>()));
                drop(rt.spawn(yield_forever_after(started_tx.clone(), drops.guard())));
            }
            if round % 2 == 0 {
                for _ in 0..2 {
                    started_rx.recv().unwrap();
                }
            }
            drop(rt);
        }
        let after = open_fds();
        assert_eq!(drops.count(), 2 * rounds, "a future was not dropped once");
        assert!(
            after < before + FD_SLACK,
            "{} fds gained over {rounds} runtimes: dropped runtimes are not freed",
            after.saturating_sub(before)
        );
    });
}

/// Spawns from another thread race against the drop: every future is dropped once (those
/// that arrive while shutdown drains the queues too), and once the spawning thread lets go
/// of its handle the runtime is freed. Both flavours: each has its own injector.
#[cfg(target_os = "linux")]
#[test]
fn spawns_racing_a_runtime_drop_are_dropped_and_do_not_keep_it_alive() {
    watchdog_for(Duration::from_secs(60), || {
        let drops = DropCounter::new();
        let rounds = 100;
        let before = open_fds();
        let mut spawned = 0;
        for round in 0..rounds {
            let (_, build) = FLAVOURS[round % FLAVOURS.len()];
            let rt = build();
            let handle = rt.handle().clone();
            let (ready_tx, ready_rx) = mpsc::channel();
            let counter = drops.clone();
            let spawner = thread::spawn(move || {
                let mut spawned = 0;
                loop {
                    let task = handle.spawn(yield_forever(counter.guard()));
                    spawned += 1;
                    if spawned == 4 {
                        ready_tx.send(()).unwrap();
                    }
                    // Refused: the runtime is shut down.
                    if spawned > 4 && task.is_finished() {
                        return spawned;
                    }
                }
            });
            ready_rx.recv().unwrap();
            drop(rt);
            spawned += spawner.join().unwrap();
        }
        let after = open_fds();
        assert_eq!(
            drops.count(),
            spawned,
            "a future was not dropped exactly once"
        );
        assert!(
            after < before + FD_SLACK,
            "{} fds gained over {rounds} runtimes: dropped runtimes are not freed",
            after.saturating_sub(before)
        );
    });
}
