//! The cost of the long-poll watchdog on the scheduler's hot path: yield_many,
//! spawn_many_local and ping_pong on flywheel with `warn_long_polls` off and on, with tokio
//! in the same group for the ratio. The threshold (1 s) is never reached, so what is
//! measured is the per-poll store and the sampling thread, not a report.

#[allow(unused_macros)] // side_by_side: this file compares flywheel with itself too
mod common;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use std::pin::Pin;
use std::task::{Context, Poll};

use common::{Rt, Tokio, WORKERS};
use criterion::{criterion_group, criterion_main, Criterion};
use futures_channel::oneshot;

/// Tasks in yield_many.
const YIELD_TASKS: usize = 200;
/// Yields per task in yield_many.
const YIELDS: usize = 1_000;
/// Tasks per spawn_many_local iteration.
const SPAWN_COUNT: usize = 10_000;
/// Pairs in ping_pong.
const PAIRS: usize = 1_000;

/// A flywheel runtime built here, so the watchdog can be turned on.
#[derive(Clone)]
struct Fw(Arc<flywheel::Runtime>);

impl Fw {
    fn multi(watch: bool) -> Fw {
        let mut builder = flywheel::Builder::new_multi_thread();
        builder.worker_threads(WORKERS);
        if watch {
            builder.warn_long_polls(Duration::from_secs(1));
        }
        Fw(Arc::new(builder.build().unwrap()))
    }

    fn current(watch: bool) -> Fw {
        let mut builder = flywheel::Builder::new_current_thread();
        if watch {
            builder.warn_long_polls(Duration::from_secs(1));
        }
        Fw(Arc::new(builder.build().unwrap()))
    }
}

impl Rt for Fw {
    type Join<T: Send + 'static> = Joined<T>;
    type Yield = flywheel::task::YieldNow;

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }
    fn spawn<F>(&self, future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Joined(self.0.spawn(future))
    }
    fn yield_now() -> Self::Yield {
        flywheel::task::yield_now()
    }
}

/// A flywheel `JoinHandle` whose output is unwrapped (a panic in a bench task is a bug).
struct Joined<T>(flywheel::task::JoinHandle<T>);

impl<T> Future for Joined<T> {
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.expect("bench task failed"))
    }
}

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

/// 1 000 pairs: each pinger spawns a ponger, sends it a oneshot "ping", gets "pong" back
/// (the LIFO slot's workload).
fn ping_pong<R: Rt>(rt: &R) {
    let spawner = rt.clone();
    rt.block_on(async move {
        let handles: Vec<_> = (0..PAIRS)
            .map(|_| {
                let inner = spawner.clone();
                spawner.spawn(async move {
                    let (ping_tx, ping_rx) = oneshot::channel::<()>();
                    let (pong_tx, pong_rx) = oneshot::channel::<()>();
                    inner.spawn_detached(async move {
                        ping_rx.await.unwrap();
                        pong_tx.send(()).unwrap();
                    });
                    ping_tx.send(()).unwrap();
                    pong_rx.await.unwrap();
                })
            })
            .collect();
        for handle in handles {
            handle.await;
        }
    });
}

/// One group per workload: flywheel without and with the watchdog, and tokio.
macro_rules! off_on {
    ($c:expr, $flavor:expr, $rts:expr, [$($work:ident),*]) => {{
        let (off, on, tk) = $rts;
        $(
            // Its own group names: the plain rows of spawn.rs and messaging.rs keep theirs.
            let name = format!("long_poll_{}/{}", stringify!($work), $flavor);
            let mut group = $c.benchmark_group(name);
            group.bench_function("flywheel", |b| b.iter(|| $work(off)));
            group.bench_function("flywheel_watched", |b| b.iter(|| $work(on)));
            group.bench_function("tokio", |b| b.iter(|| $work(tk)));
            group.finish();
        )*
    }};
}

fn multi_thread(c: &mut Criterion) {
    let rts = (&Fw::multi(false), &Fw::multi(true), &Tokio::multi());
    off_on!(c, "multi", rts, [yield_many, spawn_many_local, ping_pong]);
}

fn current_thread(c: &mut Criterion) {
    let rts = (&Fw::current(false), &Fw::current(true), &Tokio::current());
    off_on!(c, "current", rts, [yield_many, spawn_many_local]);
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = multi_thread, current_thread
}
criterion_main!(benches);
