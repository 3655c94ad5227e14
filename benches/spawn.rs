//! Spawning: many tasks from inside a task, many from outside the runtime (into an idle
//! runtime, and into one whose workers are all kept busy by tasks that yield in a loop), and
//! a chain of tasks each spawning the next. flywheel, tokio and smol side by side, same
//! workload.

#[macro_use]
mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::workloads::{spawn_many_local, SPAWN_COUNT};
use common::{Flywheel, Rt, Smol, Tokio, WORKERS};
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};

/// Depth of chained_spawn.
const CHAIN_DEPTH: usize = 1_000;
/// Busy tasks per worker (the current-thread runtime counts as one worker) in
/// spawn_many_remote_busy.
const BUSY_PER_WORKER: usize = 2;
/// How long a busy task spins between two yields.
const BUSY_SPIN: Duration = Duration::from_micros(10);

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

/// Tasks that keep every worker busy: each loops `yield_now().await; spin BUSY_SPIN` until
/// stopped. Started before a benchmark's samples and stopped (and awaited) after them, so
/// they never run while another runtime is measured.
struct Busy<R: Rt> {
    rt: R,
    stop: Arc<AtomicBool>,
    tasks: Vec<R::Join<()>>,
}

impl<R: Rt> Busy<R> {
    fn start(rt: &R, count: usize) -> Busy<R> {
        let stop = Arc::new(AtomicBool::new(false));
        let started = Arc::new(AtomicUsize::new(0));
        let tasks = (0..count)
            .map(|_| {
                let stop = stop.clone();
                let started = started.clone();
                rt.spawn(async move {
                    started.fetch_add(1, SeqCst);
                    while !stop.load(SeqCst) {
                        R::yield_now().await;
                        let spin = Instant::now();
                        while spin.elapsed() < BUSY_SPIN {
                            std::hint::spin_loop();
                        }
                    }
                })
            })
            .collect();
        // Every busy task is running before the first sample (on a current-thread runtime they
        // only run inside block_on, as do the tasks under measurement).
        rt.block_on(async {
            while started.load(SeqCst) < count {
                R::yield_now().await;
            }
        });
        Busy {
            rt: rt.clone(),
            stop,
            tasks,
        }
    }
}

impl<R: Rt> Drop for Busy<R> {
    fn drop(&mut self) {
        self.stop.store(true, SeqCst);
        let tasks = std::mem::take(&mut self.tasks);
        self.rt.block_on(async move {
            for task in tasks {
                task.await;
            }
        });
    }
}

/// spawn_many_remote while `busy` tasks per worker keep every worker saturated.
fn spawn_many_remote_busy<R: Rt>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    rt: &R,
    busy: usize,
) {
    group.bench_function(name, |b| {
        let busy = Busy::start(rt, busy);
        b.iter(|| spawn_many_remote(rt));
        drop(busy);
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
    busy_side_by_side(c, "multi", rts, WORKERS * BUSY_PER_WORKER);
}

fn current_thread(c: &mut Criterion) {
    let rts = (&Flywheel::current(), &Tokio::current(), &Smol::current());
    side_by_side!(
        c,
        "current",
        rts,
        [spawn_many_local, spawn_many_remote, chained_spawn]
    );
    busy_side_by_side(c, "current", rts, BUSY_PER_WORKER);
}

/// The spawn_many_remote_busy group of one flavour, with `busy` busy tasks in all.
fn busy_side_by_side(
    c: &mut Criterion,
    flavor: &str,
    (fw, tk, sm): (&Flywheel, &Tokio, &Smol),
    busy: usize,
) {
    let mut group = c.benchmark_group(format!("spawn_many_remote_busy/{flavor}"));
    spawn_many_remote_busy(&mut group, "flywheel", fw, busy);
    spawn_many_remote_busy(&mut group, "tokio", tk, busy);
    spawn_many_remote_busy(&mut group, "smol", sm, busy);
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = multi_thread, current_thread
}
criterion_main!(benches);
