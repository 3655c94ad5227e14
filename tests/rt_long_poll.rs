//! Long polls: the watchdog reports them (once each, with the right task and worker, never
//! for short polls), stops with its runtime, and the other workers rescue the tasks waiting
//! behind a stuck one.

mod common;

use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use common::{watchdog, DropCounter};
use flywheel::{Builder, LongPoll};

/// A callback that sends every report into a channel.
fn collect() -> (
    impl Fn(&LongPoll) + Send + Sync + 'static,
    mpsc::Receiver<LongPoll>,
) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    (
        move |poll: &LongPoll| {
            let _ = tx.lock().unwrap().send(poll.clone());
        },
        rx,
    )
}

/// Blocks the calling thread (a worker, inside a poll) for `d`.
fn block_for(d: Duration) {
    std::thread::sleep(d);
}

#[test]
fn each_long_poll_is_reported_once_with_its_task_and_worker() {
    watchdog(|| {
        let (report, reports) = collect();
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .warn_long_polls(Duration::from_millis(40))
            .on_long_poll(report)
            .build()
            .unwrap();
        // Two tasks stuck at once, one per worker.
        let both = Arc::new(Barrier::new(2));
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let both = both.clone();
                rt.spawn(async move {
                    both.wait();
                    block_for(Duration::from_millis(300));
                })
            })
            .collect();
        let mut ids: Vec<_> = tasks.iter().map(|t| t.id()).collect();
        for task in tasks {
            rt.block_on(task).unwrap();
        }
        drop(rt);
        let got: Vec<LongPoll> = reports.try_iter().collect();
        assert_eq!(got.len(), 2, "one report per long poll: {got:?}");
        let mut workers: Vec<_> = got.iter().map(LongPoll::worker).collect();
        workers.sort_unstable();
        assert_eq!(workers, [0, 1]);
        let mut reported: Vec<_> = got.iter().map(|p| p.id().unwrap()).collect();
        reported.sort_unstable();
        ids.sort_unstable();
        assert_eq!(reported, ids);
        for poll in &got {
            assert!(poll.elapsed() >= Duration::from_millis(40), "{poll:?}");
            let at = poll.location().expect("a task's spawn location is known");
            assert!(at.file().ends_with("rt_long_poll.rs"), "{at}");
            let line = poll.to_string();
            assert!(line.contains(&poll.id().unwrap().to_string()), "{line}");
            assert!(line.contains("rt_long_poll.rs"), "{line}");
        }
    });
}

#[test]
fn short_polls_and_idle_workers_are_not_reported() {
    watchdog(|| {
        let (report, reports) = collect();
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .warn_long_polls(Duration::from_millis(100))
            .on_long_poll(report)
            .build()
            .unwrap();
        rt.block_on(async {
            // Many short blocking polls in a row, well past the threshold in total.
            for _ in 0..30 {
                flywheel::spawn(async { block_for(Duration::from_millis(10)) })
                    .await
                    .unwrap();
            }
            // Idle workers, parked for longer than the threshold.
            flywheel::time::sleep(Duration::from_millis(250)).await;
        });
        drop(rt);
        let got: Vec<LongPoll> = reports.try_iter().collect();
        assert!(got.is_empty(), "{got:?}");
    });
}

#[test]
fn current_thread_reports_tasks_and_the_block_on_future() {
    watchdog(|| {
        let (report, reports) = collect();
        let rt = Builder::new_current_thread()
            .warn_long_polls(Duration::from_millis(30))
            .on_long_poll(report)
            .build()
            .unwrap();
        let id = rt.block_on(async {
            let task = flywheel::spawn(async { block_for(Duration::from_millis(200)) });
            let id = task.id();
            task.await.unwrap();
            // Now the block_on future itself.
            block_for(Duration::from_millis(200));
            id
        });
        drop(rt);
        let got: Vec<LongPoll> = reports.try_iter().collect();
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].id(), Some(id));
        assert_eq!(got[1].id(), None);
        assert_eq!(got[1].location(), None);
        assert!(got[0].location().is_some());
        assert!(got.iter().all(|p| p.worker() == 0));
        assert!(got[1].to_string().contains("block_on"));
    });
}

#[test]
fn a_panicking_callback_does_not_stop_the_watchdog() {
    watchdog(|| {
        let (report, reports) = collect();
        let calls = Arc::new(Mutex::new(0));
        let counted = calls.clone();
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .warn_long_polls(Duration::from_millis(30))
            .on_long_poll(move |poll| {
                let first = {
                    let mut calls = counted.lock().unwrap();
                    *calls += 1;
                    *calls == 1
                };
                if first {
                    panic!("a report callback that panics (on purpose)");
                }
                report(poll);
            })
            .build()
            .unwrap();
        for _ in 0..2 {
            rt.block_on(rt.spawn(async { block_for(Duration::from_millis(200)) }))
                .unwrap();
        }
        drop(rt);
        assert_eq!(*calls.lock().unwrap(), 2);
        assert_eq!(reports.try_iter().count(), 1);
    });
}

#[test]
fn the_watchdog_thread_ends_with_its_runtime() {
    watchdog(|| {
        let drops = DropCounter::new();
        let guard = drops.guard();
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .warn_long_polls(Duration::from_millis(10))
            .on_long_poll(move |_| {
                let _keep = &guard;
            })
            .build()
            .unwrap();
        rt.block_on(async { flywheel::time::sleep(Duration::from_millis(30)).await });
        assert_eq!(
            drops.count(),
            0,
            "the watchdog holds its callback while it runs"
        );
        let start = Instant::now();
        drop(rt);
        // The thread was joined, and so let go of the callback, before `drop` returned.
        assert_eq!(drops.count(), 1);
        assert!(start.elapsed() < Duration::from_secs(2));
    });
}

#[test]
fn the_environment_variable_turns_the_watchdog_on() {
    watchdog(|| {
        // The only test here that sets it; the others set `warn_long_polls` themselves,
        // which wins over it.
        std::env::set_var("FLYWHEEL_WARN_LONG_POLLS", "30ms");
        let (report, reports) = collect();
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .on_long_poll(report)
            .build()
            .unwrap();
        let task = rt.spawn(async { block_for(Duration::from_millis(200)) });
        let id = task.id();
        rt.block_on(task).unwrap();
        drop(rt);
        let got: Vec<LongPoll> = reports.try_iter().collect();
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].id(), Some(id));

        // A bad value is ignored (with one warning on stderr): no watchdog.
        std::env::set_var("FLYWHEEL_WARN_LONG_POLLS", "soon");
        let (report, reports) = collect();
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .on_long_poll(report)
            .build()
            .unwrap();
        std::env::remove_var("FLYWHEEL_WARN_LONG_POLLS");
        rt.block_on(rt.spawn(async { block_for(Duration::from_millis(200)) }))
            .unwrap();
        drop(rt);
        assert_eq!(reports.try_iter().count(), 0);
    });
}

/// How long a task woken (or queued) behind a stuck worker may wait for another worker.
/// The stuck poll lasts 2 s; a rescue takes a few milliseconds (generous for a noisy VM).
const RESCUE_BOUND: Duration = Duration::from_millis(200);
const STUCK: Duration = Duration::from_secs(2);

/// A task that waits on `rx`, tells `ready` once its first poll is pending (so it is idle,
/// its waker stored), and returns when it ran again.
async fn wait_then_stamp(
    rx: tokio::sync::oneshot::Receiver<()>,
    ready: mpsc::Sender<()>,
) -> Instant {
    let mut rx = rx;
    let mut ready = Some(ready);
    std::future::poll_fn(|cx| {
        let poll = std::pin::Pin::new(&mut rx).poll(cx);
        if poll.is_pending() {
            if let Some(ready) = ready.take() {
                let _ = ready.send(());
            }
        }
        poll
    })
    .await
    .unwrap();
    Instant::now()
}

use std::future::Future;

/// Runs the rescue scenario: `waiters` tasks wait, then one task wakes them all from a
/// worker and blocks that worker for `STUCK`. Returns how long each waiter waited after the
/// wake-up. The first one woken ends in the stuck worker's queue, the last in its LIFO slot.
fn woken_behind_a_stuck_worker(waiters: usize, watch: bool) -> Vec<Duration> {
    let mut builder = Builder::new_multi_thread();
    builder.worker_threads(2);
    if watch {
        builder
            .warn_long_polls(Duration::from_millis(50))
            .on_long_poll(|_| {});
    }
    let rt = builder.build().unwrap();
    let (ready_tx, ready_rx) = mpsc::channel();
    let mut senders = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..waiters {
        let (tx, rx) = tokio::sync::oneshot::channel();
        senders.push(tx);
        tasks.push(rt.spawn(wait_then_stamp(rx, ready_tx.clone())));
    }
    for _ in 0..waiters {
        ready_rx.recv().unwrap();
    }
    let blocker = rt.spawn(async move {
        for tx in senders {
            tx.send(()).unwrap();
        }
        let woke = Instant::now();
        block_for(STUCK);
        woke
    });
    let ran: Vec<Instant> = tasks.into_iter().map(|t| rt.block_on(t).unwrap()).collect();
    let woke = rt.block_on(blocker).unwrap();
    ran.iter()
        .map(|at| at.saturating_duration_since(woke))
        .collect()
}

#[test]
fn a_task_woken_into_a_stuck_workers_lifo_slot_is_rescued() {
    watchdog(|| {
        for watch in [false, true] {
            let waited = woken_behind_a_stuck_worker(1, watch);
            assert!(waited[0] < RESCUE_BOUND, "watch {watch}: {waited:?}");
        }
    });
}

#[test]
fn tasks_queued_behind_a_stuck_worker_are_rescued() {
    watchdog(|| {
        let waited = woken_behind_a_stuck_worker(4, false);
        assert!(waited.iter().all(|w| *w < RESCUE_BOUND), "{waited:?}");
        // Spawned (not woken) behind it: one task (it waits in the LIFO slot, and its spawn
        // woke nobody), or three (two of them in the queue).
        for count in [1, 3] {
            let rt = Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap();
            let (tx, rx) = mpsc::channel();
            let blocker = rt.spawn(async move {
                let spawned = Instant::now();
                let tasks: Vec<_> = (0..count)
                    .map(|_| flywheel::spawn(async { Instant::now() }))
                    .collect();
                tx.send(tasks).unwrap();
                block_for(STUCK);
                spawned
            });
            let tasks = rx.recv().unwrap();
            let ran: Vec<Instant> = tasks.into_iter().map(|t| rt.block_on(t).unwrap()).collect();
            let spawned = rt.block_on(blocker).unwrap();
            for at in ran {
                let waited = at.saturating_duration_since(spawned);
                assert!(
                    waited < RESCUE_BOUND,
                    "{count} spawned: one waited {waited:?}"
                );
            }
        }
    });
}
