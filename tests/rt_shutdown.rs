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

/// Open file descriptors of this process (each live runtime holds its poller's and its
/// waker's).
#[cfg(target_os = "linux")]
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("list /proc/self/fd")
        .count()
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
/// of its handle the runtime is freed.
#[cfg(target_os = "linux")]
#[test]
fn spawns_racing_a_runtime_drop_are_dropped_and_do_not_keep_it_alive() {
    watchdog_for(Duration::from_secs(60), || {
        let drops = DropCounter::new();
        let rounds = 100;
        let before = open_fds();
        let mut spawned = 0;
        for _ in 0..rounds {
            let rt = multi_thread();
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
