//! Fairness: on one thread (current-thread, or a single worker, where a second worker
//! cannot hide starvation by stealing) no task can starve the others - not a yielding loop,
//! not a message ping-pong through the LIFO slot, not against remote spawns.

mod common;

use common::current_thread;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;

use common::watchdog;
use flywheel::task::yield_now;
use flywheel::{Builder, Runtime};

/// A flavour's name and how to build it.
type Flavour = (&'static str, fn() -> Runtime);

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

/// The cooperative budget belongs to one task poll. A poll that panics must not leave its
/// leftover budget to the `block_on` future on the same thread, which is unconstrained:
/// spent down to zero there, every budgeted operation would yield for ever with no task
/// left to refill it.
#[test]
fn a_panicking_task_does_not_leave_its_budget_to_block_on() {
    watchdog(|| {
        let rt = current_thread();
        rt.block_on(async {
            let crashed = flywheel::spawn(async { panic!("boom") }).await;
            assert!(crashed.unwrap_err().is_panic());
            for _ in 0..1_000 {
                flywheel::time::sleep(std::time::Duration::ZERO).await;
            }
        });
    });
}
