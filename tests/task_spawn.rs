//! Tasks: work stealing, the polling guarantees of the task cell, panics, abort and detach.

mod common;

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Barrier, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;

use common::{watchdog, DropCounter};
use flywheel::task::{yield_now, JoinError};
use flywheel::{Builder, Runtime};

fn current_thread() -> Runtime {
    Builder::new_current_thread()
        .build()
        .expect("build a current-thread runtime")
}

fn multi_thread() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("build a multi-thread runtime")
}

/// A flavour's name and how to build it.
type Flavour = (&'static str, fn() -> Runtime);

const FLAVOURS: [Flavour; 2] = [
    ("current_thread", current_thread),
    ("multi_thread", multi_thread),
];

/// Lets the scheduler run everything that is ready (a few rounds of yielding).
async fn settle() {
    for _ in 0..10 {
        yield_now().await;
    }
}

#[test]
fn work_is_stolen_by_the_second_worker() {
    watchdog(|| {
        let rt = multi_thread();
        let ids = rt.block_on(async {
            flywheel::spawn(async {
                // The first two tasks to start wait for each other: if the second worker never
                // stole from the spawner's queue this would hang (and the watchdog fail).
                let barrier = Arc::new(Barrier::new(2));
                let started = Arc::new(AtomicUsize::new(0));
                let tasks: Vec<_> = (0..200)
                    .map(|_| {
                        let (barrier, started) = (barrier.clone(), started.clone());
                        flywheel::spawn(async move {
                            if started.fetch_add(1, SeqCst) < 2 {
                                barrier.wait();
                            }
                            thread::current().id()
                        })
                    })
                    .collect();
                let mut ids = HashSet::new();
                for task in tasks {
                    ids.insert(task.await.unwrap());
                }
                ids
            })
            .await
            .unwrap()
        });
        assert_eq!(ids.len(), 2, "tasks ran on {} worker(s)", ids.len());
    });
}

/// A future that checks nobody else is polling it, and is woken from many threads at once.
struct Exclusive {
    in_poll: Arc<AtomicBool>,
    overlaps: Arc<AtomicUsize>,
    polls: Arc<AtomicUsize>,
    waker: Arc<Mutex<Option<Waker>>>,
    target: usize,
}

impl Future for Exclusive {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.in_poll.swap(true, SeqCst) {
            self.overlaps.fetch_add(1, SeqCst);
        }
        let n = self.polls.fetch_add(1, SeqCst) + 1;
        *self.waker.lock().unwrap() = Some(cx.waker().clone());
        if n % 3 == 0 {
            // Also wake from inside the poll, racing the outside wakers.
            cx.waker().wake_by_ref();
        }
        // Linger so the outside wakers hit the running task.
        for _ in 0..200 {
            std::hint::spin_loop();
        }
        self.in_poll.store(false, SeqCst);
        if n >= self.target {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

#[test]
fn a_task_is_never_polled_by_two_threads_at_once() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let target = common::iterations(20_000);
            let waker = Arc::new(Mutex::new(None::<Waker>));
            let overlaps = Arc::new(AtomicUsize::new(0));
            let polls = Arc::new(AtomicUsize::new(0));
            let done = Arc::new(AtomicBool::new(false));
            let task = rt.spawn(Exclusive {
                in_poll: Arc::new(AtomicBool::new(false)),
                overlaps: overlaps.clone(),
                polls: polls.clone(),
                waker: waker.clone(),
                target,
            });
            let wakers: Vec<_> = (0..3)
                .map(|_| {
                    let (waker, done) = (waker.clone(), done.clone());
                    thread::spawn(move || {
                        while !done.load(SeqCst) {
                            let w = waker.lock().unwrap().clone();
                            match w {
                                Some(w) => w.wake(),
                                None => thread::yield_now(),
                            }
                        }
                    })
                })
                .collect();
            rt.block_on(task).unwrap();
            done.store(true, SeqCst);
            for w in wakers {
                w.join().unwrap();
            }
            assert_eq!(overlaps.load(SeqCst), 0, "{name}: polled concurrently");
            assert_eq!(polls.load(SeqCst), target, "{name}");
        });
    }
}

/// Polls: 1st wakes itself three times, 2nd parks its waker, 3rd completes.
struct WakeSelfThrice {
    polls: Arc<AtomicUsize>,
    waker: Arc<Mutex<Option<Waker>>>,
    second: Option<mpsc::Sender<()>>,
}

impl Future for WakeSelfThrice {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.polls.fetch_add(1, SeqCst) {
            0 => {
                for _ in 0..3 {
                    cx.waker().wake_by_ref();
                }
                Poll::Pending
            }
            1 => {
                *self.waker.lock().unwrap() = Some(cx.waker().clone());
                let _ = self.second.take().unwrap().send(());
                Poll::Pending
            }
            _ => Poll::Ready(()),
        }
    }
}

#[test]
fn a_wake_during_its_own_poll_repolls_exactly_once() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let polls = Arc::new(AtomicUsize::new(0));
            let waker = Arc::new(Mutex::new(None::<Waker>));
            let (tx, rx) = mpsc::channel();
            let task = rt.spawn(WakeSelfThrice {
                polls: polls.clone(),
                waker: waker.clone(),
                second: Some(tx),
            });
            let polls2 = polls.clone();
            rt.block_on(async move {
                // Wait (yielding) for the second poll, then give the scheduler plenty of
                // chances to poll it a third time by mistake.
                while polls2.load(SeqCst) < 2 {
                    yield_now().await;
                }
                for _ in 0..5 {
                    flywheel::spawn(settle()).await.unwrap();
                }
            });
            rx.recv().unwrap();
            assert_eq!(polls.load(SeqCst), 2, "{name}: three wakes in one poll");
            let w = waker.lock().unwrap().take().unwrap();
            w.wake();
            rt.block_on(task).unwrap();
            assert_eq!(polls.load(SeqCst), 3, "{name}");
        });
    }
}

/// Completes on its first poll, leaving a clone of its waker behind.
struct ReadyKeepWaker {
    polls: Arc<AtomicUsize>,
    waker: Arc<Mutex<Option<Waker>>>,
}

impl Future for ReadyKeepWaker {
    type Output = u8;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u8> {
        self.polls.fetch_add(1, SeqCst);
        *self.waker.lock().unwrap() = Some(cx.waker().clone());
        Poll::Ready(5)
    }
}

#[test]
fn a_wake_after_completion_does_nothing() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let polls = Arc::new(AtomicUsize::new(0));
            let waker = Arc::new(Mutex::new(None));
            let task = rt.spawn(ReadyKeepWaker {
                polls: polls.clone(),
                waker: waker.clone(),
            });
            assert_eq!(rt.block_on(task).unwrap(), 5);
            let w = waker.lock().unwrap().take().unwrap();
            rt.block_on(async move {
                for _ in 0..100 {
                    w.wake_by_ref();
                    let clone = w.clone();
                    clone.wake();
                }
                for _ in 0..5 {
                    flywheel::spawn(settle()).await.unwrap();
                }
            });
            assert_eq!(
                polls.load(SeqCst),
                1,
                "{name}: a finished task was polled again"
            );
        });
    }
}

#[test]
fn a_panic_becomes_a_join_error_and_the_runtime_keeps_going() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            rt.block_on(async {
                let err = flywheel::spawn(async { panic!("boom {}", std::hint::black_box(42)) })
                    .await
                    .unwrap_err();
                assert!(err.is_panic() && !err.is_cancelled(), "{name}");
                assert!(err.to_string().contains("boom 42"), "{name}: {err}");
                assert!(format!("{err:?}").contains("Panic"), "{name}: {err:?}");
                let payload = err.into_panic();
                assert_eq!(payload.downcast_ref::<String>().unwrap(), "boom 42");

                let err = flywheel::spawn(async { std::panic::panic_any(7_u32) })
                    .await
                    .unwrap_err();
                assert_eq!(err.to_string(), "task panicked");
                assert_eq!(*err.into_panic().downcast::<u32>().unwrap(), 7);

                // Many panics, then many ordinary tasks: all of them still run.
                let panics: Vec<_> = (0..20)
                    .map(|i| flywheel::spawn(async move { panic!("task {i}") }))
                    .collect();
                for p in panics {
                    assert!(p.await.unwrap_err().is_panic());
                }
                let sum: u32 = {
                    let tasks: Vec<_> =
                        (0..20).map(|i| flywheel::spawn(async move { i })).collect();
                    let mut sum = 0;
                    for t in tasks {
                        sum += t.await.unwrap();
                    }
                    sum
                };
                assert_eq!(sum, 190, "{name}");
            });
        });
    }
}

#[test]
fn a_panicking_task_does_not_kill_its_worker() {
    watchdog(|| {
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let (before, after) = rt.block_on(async {
            let before = flywheel::spawn(async {
                let id = thread::current().id();
                let _ = flywheel::spawn(async { panic!("dies") }).await;
                id
            })
            .await
            .unwrap();
            let after = flywheel::spawn(async { thread::current().id() })
                .await
                .unwrap();
            (before, after)
        });
        assert_eq!(before, after, "the only worker was replaced after a panic");
    });
}

#[test]
fn a_panicking_drop_is_caught_too() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("drop panicked");
        }
    }
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let task = rt.spawn(async {
                let _p = PanicOnDrop;
                std::future::pending::<()>().await;
            });
            task.abort();
            let err = rt.block_on(task).unwrap_err();
            assert!(err.is_panic() || err.is_cancelled(), "{name}: {err:?}");
            assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1, "{name}");
        });
    }
}

#[test]
fn join_error_traits() {
    watchdog(|| {
        let rt = current_thread();
        let cancelled = rt.block_on(async {
            let t = flywheel::spawn(std::future::pending::<()>());
            t.abort();
            t.await.unwrap_err()
        });
        assert!(cancelled.is_cancelled() && !cancelled.is_panic());
        assert!(cancelled.to_string().contains("cancelled"), "{cancelled}");
        assert!(format!("{cancelled:?}").contains("Cancelled"));
        let as_error: Box<dyn std::error::Error + Send + Sync> = Box::new(cancelled);
        assert!(as_error.source().is_none());
        let io: std::io::Error = rt
            .block_on(async {
                let t = flywheel::spawn(std::future::pending::<()>());
                t.abort();
                t.await.unwrap_err()
            })
            .into();
        assert!(io.to_string().contains("cancelled"));
        let back: Result<_, JoinError> = rt
            .block_on(async { flywheel::spawn(async { panic!("p") }).await.unwrap_err() })
            .try_into_panic();
        assert!(back.is_ok());
    });
}

#[test]
fn abort_a_pending_task_drops_its_future() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let drops = DropCounter::new();
            let polls = Arc::new(AtomicUsize::new(0));
            let guard = drops.guard();
            let p = polls.clone();
            let (tx, rx) = futures_channel::oneshot::channel::<()>();
            let task = rt.spawn(async move {
                let _guard = guard;
                p.fetch_add(1, SeqCst);
                let _ = rx.await;
                p.fetch_add(1, SeqCst);
            });
            rt.block_on(async {
                while polls.load(SeqCst) == 0 {
                    yield_now().await;
                }
            });
            assert!(!task.is_finished());
            task.abort();
            let err = rt.block_on(task).unwrap_err();
            assert!(err.is_cancelled(), "{name}: {err:?}");
            assert_eq!(drops.count(), 1, "{name}");
            assert_eq!(polls.load(SeqCst), 1, "{name}: ran on after abort");
            // The sender sees the receiver gone.
            assert!(tx.send(()).is_err());
        });
    }
}

#[test]
fn abort_before_the_first_poll() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let drops = DropCounter::new();
            let polled = Arc::new(AtomicBool::new(false));
            let (guard, p) = (drops.guard(), polled.clone());
            // On a multi-thread runtime a worker might reach it first; current-thread cannot.
            let task = rt.spawn(async move {
                let _guard = guard;
                p.store(true, SeqCst);
                std::future::pending::<()>().await;
            });
            task.abort();
            assert!(rt.block_on(task).unwrap_err().is_cancelled(), "{name}");
            assert_eq!(drops.count(), 1, "{name}");
            if name == "current_thread" {
                assert!(!polled.load(SeqCst), "aborted task was polled");
            }
        });
    }
}

#[test]
fn abort_from_another_thread_and_from_within() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let (tx, rx) = mpsc::channel();
            let task = rt.spawn(std::future::pending::<()>());
            let abort = task.abort_handle();
            thread::spawn(move || {
                abort.abort();
                tx.send(()).unwrap();
            });
            rx.recv().unwrap();
            assert!(rt.block_on(task).unwrap_err().is_cancelled(), "{name}");

            // A task that aborts itself stops at its next scheduling point.
            let after = Arc::new(AtomicBool::new(false));
            let (htx, hrx) = futures_channel::oneshot::channel::<flywheel::task::AbortHandle>();
            let a = after.clone();
            let task = rt.spawn(async move {
                let me = hrx.await.unwrap();
                me.abort();
                assert!(!me.is_finished());
                yield_now().await;
                a.store(true, SeqCst);
            });
            htx.send(task.abort_handle()).unwrap();
            assert!(rt.block_on(task).unwrap_err().is_cancelled(), "{name}");
            assert!(!after.load(SeqCst), "{name}: ran past its scheduling point");
        });
    }
}

#[test]
fn aborting_a_finished_task_changes_nothing() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let task = rt.spawn(async { 11 });
            let abort = task.abort_handle();
            rt.block_on(async {
                while !task.is_finished() {
                    yield_now().await;
                }
            });
            assert!(abort.is_finished());
            task.abort();
            abort.abort();
            assert_eq!(rt.block_on(task).unwrap(), 11, "{name}");
            abort.abort();
            assert!(abort.is_finished());
        });
    }
}

#[test]
fn dropping_a_join_handle_detaches_the_task() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let drops = DropCounter::new();
            let guard = drops.guard();
            let (go_tx, go_rx) = futures_channel::oneshot::channel::<u32>();
            let (out_tx, out_rx) = futures_channel::oneshot::channel::<u32>();
            drop(rt.spawn(async move {
                let _guard = guard;
                let n = go_rx.await.unwrap();
                flywheel::task::yield_now().await;
                out_tx.send(n + 1).unwrap();
            }));
            go_tx.send(1).unwrap();
            assert_eq!(rt.block_on(out_rx).unwrap(), 2, "{name}");
            rt.block_on(async {
                while drops.count() == 0 {
                    yield_now().await;
                }
            });
            assert_eq!(drops.count(), 1, "{name}");
            // A detached task's output is dropped too.
            let out_drops = DropCounter::new();
            let g = out_drops.guard();
            drop(rt.spawn(async move { g }));
            rt.block_on(async {
                while out_drops.count() == 0 {
                    yield_now().await;
                }
            });
        });
    }
}

#[test]
fn join_handle_is_awaitable_from_another_runtime_and_thread() {
    watchdog(|| {
        let a = multi_thread();
        let b = current_thread();
        let (tx, rx) = futures_channel::oneshot::channel::<u8>();
        let task = a.spawn(async move { rx.await.unwrap() * 2 });
        let waiter = thread::spawn(move || b.block_on(task).unwrap());
        tx.send(21).unwrap();
        assert_eq!(waiter.join().unwrap(), 42);
    });
}

#[test]
fn join_handle_rewakes_a_new_waker() {
    // Poll a JoinHandle with one waker, then await it with another: the second is woken.
    watchdog(|| {
        let rt = multi_thread();
        let (tx, rx) = futures_channel::oneshot::channel::<u8>();
        let mut task = rt.spawn(async move { rx.await.unwrap() });
        let noop = futures::task::noop_waker();
        let mut cx = Context::from_waker(&noop);
        assert!(Pin::new(&mut task).poll(&mut cx).is_pending());
        tx.send(3).unwrap();
        assert_eq!(rt.block_on(task).unwrap(), 3);
    });
}

#[test]
fn many_tasks_with_yields_complete() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let n = common::iterations(2000);
            let total = rt.block_on(async move {
                let tasks: Vec<_> = (0..n)
                    .map(|i| {
                        flywheel::spawn(async move {
                            for _ in 0..5 {
                                yield_now().await;
                            }
                            i
                        })
                    })
                    .collect();
                let mut total = 0;
                for t in tasks {
                    total += t.await.unwrap();
                }
                total
            });
            assert_eq!(total, n * (n - 1) / 2, "{name}");
        });
    }
}

/// Runtimes where one thread runs every task, so starvation cannot hide behind a second
/// worker.
fn single_threaded() -> [Flavour; 2] {
    [
        ("current_thread", current_thread),
        ("multi_thread(1)", || {
            Builder::new_multi_thread()
                .worker_threads(1)
                .build()
                .unwrap()
        }),
    ]
}

#[test]
fn a_ping_pong_pair_does_not_starve_other_tasks() {
    use futures::{SinkExt, StreamExt};
    for (name, make) in single_threaded() {
        watchdog(move || {
            let rt = make();
            let stop = Arc::new(AtomicBool::new(false));
            let (mut ping_tx, mut ping_rx) = futures_channel::mpsc::channel::<u32>(1);
            let (mut pong_tx, mut pong_rx) = futures_channel::mpsc::channel::<u32>(1);
            let s = stop.clone();
            let pinger = rt.spawn(async move {
                let mut rounds = 0;
                while !s.load(SeqCst) {
                    ping_tx.send(rounds).await.unwrap();
                    rounds = pong_rx.next().await.unwrap() + 1;
                }
                rounds
            });
            let ponger = rt.spawn(async move {
                while let Some(n) = ping_rx.next().await {
                    if pong_tx.send(n).await.is_err() {
                        break;
                    }
                }
            });
            // Each message wakes the partner (the LIFO slot on a worker): the third task
            // must still get its turn.
            let s = stop.clone();
            let other = rt.spawn(async move {
                yield_now().await;
                s.store(true, SeqCst);
            });
            rt.block_on(other).unwrap();
            let rounds = rt.block_on(pinger).unwrap();
            assert!(rounds > 0, "{name}");
            rt.block_on(ponger).unwrap();
        });
    }
}

#[test]
fn a_yielding_task_does_not_starve_remote_spawns() {
    for (name, make) in single_threaded() {
        watchdog(move || {
            let rt = make();
            let stop = Arc::new(AtomicBool::new(false));
            let s = stop.clone();
            let spinner = rt.spawn(async move {
                let mut turns = 0u64;
                while !s.load(SeqCst) {
                    yield_now().await;
                    turns += 1;
                }
                turns
            });
            let handle = rt.handle().clone();
            let out = rt.block_on(async move {
                // Spawned from a plain thread: it arrives through the shared queue while
                // the spinner keeps the local queue busy.
                let s = stop.clone();
                let remote =
                    thread::spawn(move || handle.spawn(async move { s.store(true, SeqCst) }))
                        .join()
                        .unwrap();
                remote.await.unwrap();
                spinner.await.unwrap()
            });
            assert!(out > 0, "{name}");
        });
    }
}

#[test]
fn yield_now_lets_other_local_tasks_run() {
    for (name, make) in single_threaded() {
        watchdog(move || {
            let rt = make();
            let out = rt.block_on(async {
                flywheel::spawn(async {
                    // Spawned from a task: queued locally behind nothing but the yielder.
                    let flag = Arc::new(AtomicBool::new(false));
                    let f = flag.clone();
                    let other = flywheel::spawn(async move { f.store(true, SeqCst) });
                    let mut turns = 0;
                    while !flag.load(SeqCst) {
                        yield_now().await;
                        turns += 1;
                    }
                    other.await.unwrap();
                    turns
                })
                .await
                .unwrap()
            });
            // The other task runs at the first yield: it was queued before the yielder.
            assert_eq!(out, 1, "{name}: the yielding task ran {out} times in a row");
        });
    }
}

#[test]
fn stress_wakes_aborts_and_completions_across_threads() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let n = common::iterations(2000);
            let drops = DropCounter::new();
            let mut senders = Vec::with_capacity(n);
            let mut handles = Vec::with_capacity(n);
            for i in 0..n {
                let (tx, rx) = futures_channel::oneshot::channel::<usize>();
                let guard = drops.guard();
                handles.push(rt.spawn(async move {
                    let _guard = guard;
                    yield_now().await;
                    rx.await.unwrap_or(usize::MAX) + i
                }));
                senders.push(tx);
            }
            // Every third task is aborted from this thread; the others are completed from two
            // plain threads, racing the runtime's polls.
            let aborts: Vec<_> = handles.iter().map(|h| h.abort_handle()).collect();
            let (odd, even): (Vec<_>, Vec<_>) = senders
                .into_iter()
                .enumerate()
                .partition(|(i, _)| i % 2 == 1);
            let feeders: Vec<_> = [odd, even]
                .into_iter()
                .map(|half| {
                    thread::spawn(move || {
                        for (_, tx) in half {
                            let _ = tx.send(1);
                        }
                    })
                })
                .collect();
            for (i, a) in aborts.iter().enumerate() {
                if i % 3 == 0 {
                    a.abort();
                }
            }
            for f in feeders {
                f.join().unwrap();
            }
            let (ok, cancelled) = rt.block_on(async {
                let (mut ok, mut cancelled) = (0, 0);
                for (i, h) in handles.into_iter().enumerate() {
                    match h.await {
                        Ok(v) => {
                            assert_eq!(v, i + 1);
                            ok += 1;
                        }
                        Err(e) => {
                            assert!(e.is_cancelled() && i % 3 == 0, "{e:?} for task {i}");
                            cancelled += 1;
                        }
                    }
                }
                (ok, cancelled)
            });
            assert_eq!(ok + cancelled, n, "{name}");
            assert!(cancelled <= n.div_ceil(3), "{name}");
            assert_eq!(drops.count(), n, "{name}: each future dropped once");
        });
    }
}
