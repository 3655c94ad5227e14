//! join_set: 100 000 tasks spawned into a group and all joined, for flywheel's `JoinSet`,
//! tokio's `JoinSet` and smol (async-executor tasks in a `FuturesUnordered`), on one thread
//! and on two worker threads. Runtimes are built once, outside `b.iter`.
//!
//! Run with `cargo bench --bench join_set`.

use std::hint::black_box;
use std::thread;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures::StreamExt;

/// Tasks per iteration.
const TASKS: usize = 100_000;
/// Worker threads of the multi-thread flavours.
const WORKERS: usize = 2;

async fn flywheel_workload() -> usize {
    let mut set = flywheel::task::JoinSet::new();
    for i in 0..TASKS {
        set.spawn(async move { black_box(i) });
    }
    let mut joined = 0;
    while let Some(result) = set.join_next().await {
        black_box(result.unwrap());
        joined += 1;
    }
    joined
}

async fn tokio_workload() -> usize {
    let mut set = tokio::task::JoinSet::new();
    for i in 0..TASKS {
        set.spawn(async move { black_box(i) });
    }
    let mut joined = 0;
    while let Some(result) = set.join_next().await {
        black_box(result.unwrap());
        joined += 1;
    }
    joined
}

async fn smol_workload(ex: &async_executor::Executor<'static>) -> usize {
    let tasks: futures::stream::FuturesUnordered<_> = (0..TASKS)
        .map(|i| ex.spawn(async move { black_box(i) }))
        .collect();
    tasks
        .fold(0, |joined, out| async move {
            black_box(out);
            joined + 1
        })
        .await
}

fn join_set(c: &mut Criterion) {
    let mut group = c.benchmark_group("join_set");
    group.throughput(Throughput::Elements(TASKS as u64));
    group.sample_size(10);

    // current thread
    let rt = flywheel::Builder::new_current_thread().build().unwrap();
    group.bench_function(BenchmarkId::new("flywheel", "current_thread"), |b| {
        b.iter(|| assert_eq!(rt.block_on(flywheel_workload()), TASKS))
    });
    drop(rt);

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    group.bench_function(BenchmarkId::new("tokio", "current_thread"), |b| {
        b.iter(|| assert_eq!(rt.block_on(tokio_workload()), TASKS))
    });
    drop(rt);

    let ex: &'static async_executor::Executor<'static> =
        Box::leak(Box::new(async_executor::Executor::new()));
    group.bench_function(BenchmarkId::new("smol", "current_thread"), |b| {
        b.iter(|| assert_eq!(smol::block_on(ex.run(smol_workload(ex))), TASKS))
    });

    // multi thread: the joining future runs on the calling thread, tasks on the workers
    let rt = flywheel::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .build()
        .unwrap();
    group.bench_function(BenchmarkId::new("flywheel", "multi_thread"), |b| {
        b.iter(|| assert_eq!(rt.block_on(flywheel_workload()), TASKS))
    });
    drop(rt);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .build()
        .unwrap();
    group.bench_function(BenchmarkId::new("tokio", "multi_thread"), |b| {
        b.iter(|| assert_eq!(rt.block_on(tokio_workload()), TASKS))
    });
    drop(rt);

    let ex: &'static async_executor::Executor<'static> =
        Box::leak(Box::new(async_executor::Executor::new()));
    let (stop, stopped) = smol::channel::bounded::<()>(1);
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let stopped = stopped.clone();
            thread::spawn(move || smol::block_on(ex.run(stopped.recv())))
        })
        .collect();
    group.bench_function(BenchmarkId::new("smol", "multi_thread"), |b| {
        b.iter(|| assert_eq!(smol::block_on(smol_workload(ex)), TASKS))
    });
    drop(stop);
    for worker in workers {
        let _ = worker.join();
    }

    group.finish();
}

criterion_group!(benches, join_set);
criterion_main!(benches);
