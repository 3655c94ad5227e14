//! Tasks: work stealing, the polling guarantees of the task cell (never two polls at once,
//! one re-poll per wake during a poll, nothing after completion), panics, and a stress mix.
//! Abort and JoinHandle behaviour live in `task_join.rs`, fairness in `task_fairness.rs`.

mod common;

use common::{multi_thread, FLAVOURS};
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Barrier, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;

use common::{watchdog, DropCounter};
use flywheel::task::yield_now;
use flywheel::Builder;

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
                assert_eq!(err.to_string(), format!("task {} panicked", err.id()));
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

/// Every spawn function records the user's call site (shown by the handles' `Debug`), not a
/// line inside flywheel.
#[test]
fn handles_name_the_line_that_spawned_the_task() {
    fn spawned_at(debug: String) -> String {
        let start = debug.find("spawned_at: ").expect("Debug shows spawned_at") + 12;
        let rest = &debug[start..];
        rest[..rest.find(',').unwrap()].to_owned()
    }
    fn here(line: u32) -> String {
        format!("{}:{line}", file!())
    }
    watchdog(|| {
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let handle = rt.handle().clone();
        let (a, line_a) = (rt.spawn(async {}), line!());
        let (b, line_b) = (handle.spawn(async {}), line!());
        let (c, line_c) = (rt.spawn_blocking(|| {}), line!());
        let (d, line_d) = (handle.spawn_blocking(|| {}), line!());
        let found = rt.block_on(async move {
            let (e, line_e) = (flywheel::spawn(async {}), line!());
            let (f, line_f) = (flywheel::spawn_blocking(|| {}), line!());
            let mut set = flywheel::task::JoinSet::new();
            let (g, line_g) = (set.spawn(async {}), line!());
            let (h, line_h) = (set.spawn_on(async {}, &handle), line!());
            let (i, line_i) = (set.spawn_blocking(|| {}), line!());
            let found = vec![
                (spawned_at(format!("{e:?}")), line_e),
                (spawned_at(format!("{f:?}")), line_f),
                (spawned_at(format!("{g:?}")), line_g),
                (spawned_at(format!("{h:?}")), line_h),
                (spawned_at(format!("{i:?}")), line_i),
            ];
            while set.join_next().await.is_some() {}
            e.await.unwrap();
            f.await.unwrap();
            found
        });
        let mut all = vec![
            (spawned_at(format!("{a:?}")), line_a),
            (spawned_at(format!("{b:?}")), line_b),
            (spawned_at(format!("{c:?}")), line_c),
            (spawned_at(format!("{d:?}")), line_d),
        ];
        all.extend(found);
        for (at, line) in all {
            assert!(at.starts_with(&here(line)), "{at} should be {}", here(line));
        }
    });
}
