//! Callbacks the runtime does not control: wakers that panic when woken or dropped, wakers
//! whose drop drives a runtime. Wherever the runtime's own threads call them (the join
//! waker of a finished task, a batch of due timers, the parent waker of a `JoinSet`), a
//! panic is contained and every other task keeps running; and no lock is held while they
//! run, so a callback that re-enters the runtime cannot deadlock it.

mod common;

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use common::{current_thread, multi_thread, watchdog, Flavour};
use flywheel::task::{yield_now, JoinSet};
use flywheel::time::sleep_until;
use flywheel::{Builder, Runtime};

fn one_worker() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .expect("build a one-worker runtime")
}

/// Every flavour, and the multi-thread one with a single worker: losing that worker would
/// stop the runtime altogether.
const ALL: [Flavour; 3] = [
    ("current_thread", current_thread),
    ("multi_thread(2)", multi_thread),
    ("multi_thread(1)", one_worker),
];

/// A waker that panics whenever it is woken.
struct PanicOnWake;

impl Wake for PanicOnWake {
    fn wake(self: Arc<Self>) {
        panic!("PanicOnWake: this waker panics when woken (on purpose)");
    }
}

/// A waker whose wake does nothing and whose drop panics (it never panics while unwinding,
/// which would abort the test process).
struct PanicOnDrop {
    woken: Arc<AtomicUsize>,
}

impl Wake for PanicOnDrop {
    fn wake(self: Arc<Self>) {
        self.woken.fetch_add(1, SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.fetch_add(1, SeqCst);
    }
}

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("PanicOnDrop: this waker panics when dropped (on purpose)");
        }
    }
}

/// The runtime still runs new tasks (with one worker: the worker is alive).
fn assert_still_running(name: &str, rt: &Runtime) {
    let out = rt.block_on(async { flywheel::spawn(async { 7 }).await.unwrap() });
    assert_eq!(out, 7, "{name}: the runtime stopped running tasks");
}

#[test]
fn a_join_waker_that_panics_does_not_kill_the_thread_completing_the_task() {
    for (name, make) in ALL {
        watchdog(move || {
            let rt = make();
            let (tx, rx) = futures_channel::oneshot::channel::<()>();
            let mut task = rt.spawn(async move {
                rx.await.unwrap();
                5
            });
            // A foreign executor polls the handle with a waker that panics.
            let waker = Waker::from(Arc::new(PanicOnWake));
            let polled = Pin::new(&mut task).poll(&mut Context::from_waker(&waker));
            assert!(polled.is_pending(), "{name}");
            drop(waker);
            // The runtime completes the task and wakes the panicking waker on its thread.
            tx.send(()).unwrap();
            assert_still_running(name, &rt);
            assert_eq!(rt.block_on(task).unwrap(), 5, "{name}");
            assert_still_running(name, &rt);
        });
    }
}

#[test]
fn a_panicking_timer_waker_does_not_stop_its_batch_or_the_runtime() {
    for (name, make) in ALL {
        watchdog(move || {
            let rt = make();
            rt.block_on(async move {
                let deadline = flywheel::time::Instant::now() + Duration::from_millis(30);
                let mut panicky = Vec::new();
                let mut sleepers = Vec::new();
                // Registered in alternation, all due at the same tick: whatever order the
                // wheel fires them in, a well-behaved one comes after a panicking one.
                for _ in 0..4 {
                    let mut sleep = Box::pin(sleep_until(deadline));
                    let waker = Waker::from(Arc::new(PanicOnWake));
                    let polled = sleep.as_mut().poll(&mut Context::from_waker(&waker));
                    assert!(polled.is_pending());
                    panicky.push(sleep);
                    let sleeper = flywheel::spawn(sleep_until(deadline));
                    // Let it register before the next panicking one.
                    yield_now().await;
                    sleepers.push(sleeper);
                }
                for sleeper in sleepers {
                    sleeper.await.unwrap();
                }
                drop(panicky);
            });
            assert_still_running(name, &rt);
        });
    }
}

#[test]
fn a_panicking_parent_waker_of_a_join_set_does_not_kill_the_worker() {
    for (name, make) in ALL {
        watchdog(move || {
            let rt = make();
            let mut set = JoinSet::new();
            let (tx, rx) = futures_channel::oneshot::channel::<()>();
            set.spawn_on(
                async move {
                    rx.await.unwrap();
                    1
                },
                rt.handle(),
            );
            // A foreign executor waits on the set with a waker that panics.
            let waker = Waker::from(Arc::new(PanicOnWake));
            assert!(set
                .poll_join_next(&mut Context::from_waker(&waker))
                .is_pending());
            drop(waker);
            tx.send(()).unwrap();
            assert_still_running(name, &rt);
            let out = rt.block_on(set.join_next()).unwrap().unwrap();
            assert_eq!(out, 1, "{name}");
            assert_still_running(name, &rt);
        });
    }
}

#[test]
fn a_parent_waker_whose_drop_panics_does_not_kill_the_worker() {
    for (name, make) in ALL {
        watchdog(move || {
            let rt = make();
            let mut set = JoinSet::new();
            let (tx, rx) = futures_channel::oneshot::channel::<()>();
            set.spawn_on(
                async move {
                    rx.await.unwrap();
                    1
                },
                rt.handle(),
            );
            let woken = Arc::new(AtomicUsize::new(0));
            let waker = Waker::from(Arc::new(PanicOnDrop {
                woken: woken.clone(),
            }));
            assert!(set
                .poll_join_next(&mut Context::from_waker(&waker))
                .is_pending());
            // The set holds the last reference now: the member's completion wakes it by
            // value on a runtime thread, which drops it.
            drop(waker);
            tx.send(()).unwrap();
            while woken.load(SeqCst) == 0 {
                rt.block_on(yield_now());
            }
            assert_still_running(name, &rt);
            let out = rt.block_on(set.join_next()).unwrap().unwrap();
            assert_eq!(out, 1, "{name}");
            assert_eq!(woken.load(SeqCst), 1, "{name}");
            assert_still_running(name, &rt);
        });
    }
}

#[test]
fn a_join_handle_dropped_with_a_waker_whose_drop_panics_does_not_panic() {
    for (name, make) in ALL {
        watchdog(move || {
            let rt = make();
            let (tx, rx) = futures_channel::oneshot::channel::<()>();
            let mut task = rt.spawn(async move { rx.await.unwrap() });
            let woken = Arc::new(AtomicUsize::new(0));
            let waker = Waker::from(Arc::new(PanicOnDrop {
                woken: woken.clone(),
            }));
            assert!(Pin::new(&mut task)
                .poll(&mut Context::from_waker(&waker))
                .is_pending());
            drop(waker);
            // Drop never panics, whatever the waker it releases does.
            drop(task);
            tx.send(()).unwrap();
            assert_still_running(name, &rt);
            assert_eq!(
                woken.load(SeqCst),
                0,
                "{name}: a dropped handle's waker was woken"
            );
        });
    }
}

/// A waker that, when its last reference goes, drives the runtime it holds: the tasks it
/// runs complete and wake their `JoinSet`, which must not be holding its lock then.
struct DriveOnDrop {
    rt: Option<Runtime>,
}

impl Wake for DriveOnDrop {
    fn wake(self: Arc<Self>) {}
}

impl Drop for DriveOnDrop {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.block_on(async {
                for _ in 0..3 {
                    yield_now().await;
                }
            });
        }
    }
}

#[test]
fn replacing_the_parent_waker_drops_the_old_one_outside_the_lock() {
    watchdog(|| {
        let rt = current_thread();
        let mut set = JoinSet::new();
        set.spawn_on(async { 42 }, rt.handle());
        // The task has not run (nothing drives a current-thread runtime yet).
        let waker = Waker::from(Arc::new(DriveOnDrop { rt: Some(rt) }));
        assert!(set
            .poll_join_next(&mut Context::from_waker(&waker))
            .is_pending());
        drop(waker);
        // Replacing the stored waker drops the last reference to the old one, which runs
        // the task; its completion wakes the set.
        let noop = futures::task::noop_waker();
        assert!(set
            .poll_join_next(&mut Context::from_waker(&noop))
            .is_pending());
        assert_eq!(set.try_join_next().unwrap().unwrap(), 42);
    });
}

#[test]
fn a_waker_dropped_by_a_join_handle_may_drive_the_runtime() {
    // The handle's drop releases its waker at once; that drop runs the task.
    watchdog(|| {
        let rt = current_thread();
        let handle = rt.handle().clone();
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        let mut task = handle.spawn(async move {
            r.fetch_add(1, SeqCst);
        });
        let waker = Waker::from(Arc::new(DriveOnDrop { rt: Some(rt) }));
        assert!(Pin::new(&mut task)
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        drop(waker);
        drop(task);
        assert_eq!(ran.load(SeqCst), 1, "dropping the handle ran the runtime");
    });
}

#[test]
fn wakers_called_by_the_runtime_may_reenter_it() {
    // A waker that spawns onto the runtime from inside the wake: no runtime lock is held.
    struct SpawnOnWake {
        handle: flywheel::Handle,
        spawned: Arc<AtomicUsize>,
    }
    impl Wake for SpawnOnWake {
        fn wake(self: Arc<Self>) {
            let spawned = self.spawned.clone();
            drop(self.handle.spawn(async move {
                spawned.fetch_add(1, SeqCst);
            }));
        }
    }
    for (name, make) in ALL {
        watchdog(move || {
            let rt = make();
            let spawned = Arc::new(AtomicUsize::new(0));
            let waker = Waker::from(Arc::new(SpawnOnWake {
                handle: rt.handle().clone(),
                spawned: spawned.clone(),
            }));
            let mut task = rt.spawn(yield_now());
            assert!(Pin::new(&mut task)
                .poll(&mut Context::from_waker(&waker))
                .is_pending());
            let mut set = JoinSet::new();
            set.spawn_on(yield_now(), rt.handle());
            assert!(set
                .poll_join_next(&mut Context::from_waker(&waker))
                .is_pending());
            rt.block_on(async {
                let mut sleep = Box::pin(flywheel::time::sleep(Duration::from_millis(5)));
                poll_fn(|_| {
                    let polled = sleep.as_mut().poll(&mut Context::from_waker(&waker));
                    assert!(polled.is_pending());
                    Poll::Ready(())
                })
                .await;
                let start = Instant::now();
                while spawned.load(SeqCst) < 3 && start.elapsed() < Duration::from_secs(5) {
                    yield_now().await;
                }
                drop(sleep);
            });
            assert_eq!(spawned.load(SeqCst), 3, "{name}");
            drop(task);
            drop(set);
        });
    }
}
