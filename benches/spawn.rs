//! Spawning: many tasks from inside a task, many from outside the runtime, and a chain of
//! tasks each spawning the next. flywheel, tokio and smol side by side, same workload.

#[macro_use]
mod common;

use common::{Flywheel, Rt, Smol, Tokio};
use criterion::{criterion_group, criterion_main, Criterion};

/// Tasks per spawn_many iteration.
const SPAWN_COUNT: usize = 10_000;
/// Depth of chained_spawn.
const CHAIN_DEPTH: usize = 1_000;

/// 10 000 tasks spawned from one task, all awaited.
fn spawn_many_local<R: Rt>(rt: &R) {
    let spawner = rt.clone();
    rt.block_on(rt.spawn(async move {
        let handles: Vec<_> = (0..SPAWN_COUNT)
            .map(|i| spawner.spawn(async move { i }))
            .collect();
        let mut sum = 0;
        for handle in handles {
            sum += handle.await;
        }
        assert_eq!(sum, SPAWN_COUNT * (SPAWN_COUNT - 1) / 2);
    }));
}

/// 10 000 tasks spawned from the benchmark thread (outside the runtime), then awaited.
fn spawn_many_remote<R: Rt>(rt: &R) {
    let handles: Vec<_> = (0..SPAWN_COUNT)
        .map(|i| rt.spawn(async move { i }))
        .collect();
    rt.block_on(async move {
        let mut sum = 0;
        for handle in handles {
            sum += handle.await;
        }
        assert_eq!(sum, SPAWN_COUNT * (SPAWN_COUNT - 1) / 2);
    });
}

/// Each task spawns the next, `CHAIN_DEPTH` deep; the last one reports back.
fn chained_spawn<R: Rt>(rt: &R) {
    fn link<R: Rt>(rt: R, left: usize, done: futures_channel::oneshot::Sender<()>) {
        if left == 0 {
            let _ = done.send(());
            return;
        }
        let next = rt.clone();
        rt.spawn_detached(async move { link(next, left - 1, done) });
    }
    let (tx, rx) = futures_channel::oneshot::channel();
    let start = rt.clone();
    rt.block_on(async move {
        link(start, CHAIN_DEPTH, tx);
        rx.await.unwrap();
    });
}

fn multi_thread(c: &mut Criterion) {
    let rts = (&Flywheel::multi(), &Tokio::multi(), &Smol::multi());
    side_by_side!(
        c,
        "multi",
        rts,
        [spawn_many_local, spawn_many_remote, chained_spawn]
    );
}

fn current_thread(c: &mut Criterion) {
    let rts = (&Flywheel::current(), &Tokio::current(), &Smol::current());
    side_by_side!(
        c,
        "current",
        rts,
        [spawn_many_local, spawn_many_remote, chained_spawn]
    );
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = multi_thread, current_thread
}
criterion_main!(benches);
