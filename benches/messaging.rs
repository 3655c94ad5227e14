//! Scheduling under message passing: tasks yielding in a loop, and pairs of tasks
//! ping-ponging through oneshot channels. flywheel, tokio and smol side by side.

#[macro_use]
mod common;

use common::{Flywheel, Rt, Smol, Tokio};
use criterion::{criterion_group, criterion_main, Criterion};
use futures_channel::oneshot;

/// Tasks in yield_many.
const YIELD_TASKS: usize = 200;
/// Yields per task in yield_many.
const YIELDS: usize = 1_000;
/// Pairs in ping_pong.
const PAIRS: usize = 1_000;

/// 200 tasks each yielding 1 000 times.
fn yield_many<R: Rt>(rt: &R) {
    let spawner = rt.clone();
    rt.block_on(async move {
        let handles: Vec<_> = (0..YIELD_TASKS)
            .map(|_| {
                spawner.spawn(async {
                    for _ in 0..YIELDS {
                        R::yield_now().await;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await;
        }
    });
}

/// 1 000 pairs: each pinger spawns a ponger, sends it a oneshot "ping", gets "pong" back.
fn ping_pong<R: Rt>(rt: &R) {
    let spawner = rt.clone();
    rt.block_on(async move {
        let handles: Vec<_> = (0..PAIRS)
            .map(|i| {
                let inner = spawner.clone();
                spawner.spawn(async move {
                    let (ping_tx, ping_rx) = oneshot::channel::<usize>();
                    let (pong_tx, pong_rx) = oneshot::channel::<usize>();
                    let ponger = inner.spawn(async move {
                        let n = ping_rx.await.unwrap();
                        pong_tx.send(n + 1).unwrap();
                    });
                    ping_tx.send(i).unwrap();
                    assert_eq!(pong_rx.await.unwrap(), i + 1);
                    ponger.await;
                })
            })
            .collect();
        for handle in handles {
            handle.await;
        }
    });
}

fn multi_thread(c: &mut Criterion) {
    let rts = (&Flywheel::multi(), &Tokio::multi(), &Smol::multi());
    side_by_side!(c, "multi", rts, [yield_many, ping_pong]);
}

fn current_thread(c: &mut Criterion) {
    let rts = (&Flywheel::current(), &Tokio::current(), &Smol::current());
    side_by_side!(c, "current", rts, [yield_many, ping_pong]);
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = multi_thread, current_thread
}
criterion_main!(benches);
