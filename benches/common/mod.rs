//! The runtimes under comparison behind one small trait, so each workload is written once
//! and runs unchanged on flywheel, tokio and smol (async-executor).
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

pub mod workloads;

/// Worker threads of every multi-thread runtime in the benches.
pub const WORKERS: usize = 2;

/// What a workload needs from a runtime. Clone + Send so tasks can spawn more tasks.
pub trait Rt: Clone + Send + Sync + 'static {
    type Join<T: Send + 'static>: Future<Output = T> + Send + Unpin + 'static;
    type Yield: Future<Output = ()> + Send + 'static;

    fn block_on<F: Future>(&self, future: F) -> F::Output;
    fn spawn<F>(&self, future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;
    fn yield_now() -> Self::Yield;

    /// Spawns a task nobody awaits (smol cancels a dropped task, so it detaches instead).
    fn spawn_detached<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(self.spawn(future));
    }
}

/// Unwraps a `Result<T, E>`-returning join handle (a panic in a bench task is a bug).
pub struct Unwrap<J>(J);

impl<J, T, E> Future for Unwrap<J>
where
    J: Future<Output = Result<T, E>> + Unpin,
    E: std::fmt::Debug,
{
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.expect("bench task failed"))
    }
}

// ---------------------------------------------------------------- flywheel

#[derive(Clone)]
pub struct Flywheel {
    rt: Arc<flywheel::Runtime>,
}

impl Flywheel {
    pub fn multi() -> Flywheel {
        let rt = flywheel::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .build()
            .unwrap();
        Flywheel { rt: Arc::new(rt) }
    }
    pub fn current() -> Flywheel {
        let rt = flywheel::Builder::new_current_thread().build().unwrap();
        Flywheel { rt: Arc::new(rt) }
    }
    /// A runtime of a builder set up by the bench (long_poll.rs turns the watchdog on).
    pub fn from_builder(builder: &mut flywheel::Builder) -> Flywheel {
        Flywheel {
            rt: Arc::new(builder.build().unwrap()),
        }
    }
}

impl Rt for Flywheel {
    type Join<T: Send + 'static> = Unwrap<flywheel::task::JoinHandle<T>>;
    type Yield = flywheel::task::YieldNow;

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.rt.block_on(future)
    }
    fn spawn<F>(&self, future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Unwrap(self.rt.spawn(future))
    }
    fn yield_now() -> Self::Yield {
        flywheel::task::yield_now()
    }
}

// ---------------------------------------------------------------- tokio

#[derive(Clone)]
pub struct Tokio {
    rt: Arc<tokio::runtime::Runtime>,
}

impl Tokio {
    pub fn multi() -> Tokio {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .enable_all()
            .build()
            .unwrap();
        Tokio { rt: Arc::new(rt) }
    }
    pub fn current() -> Tokio {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Tokio { rt: Arc::new(rt) }
    }
}

impl Rt for Tokio {
    type Join<T: Send + 'static> = Unwrap<tokio::task::JoinHandle<T>>;
    type Yield = Pin<Box<dyn Future<Output = ()> + Send>>;

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.rt.block_on(future)
    }
    fn spawn<F>(&self, future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Unwrap(self.rt.spawn(future))
    }
    fn yield_now() -> Self::Yield {
        // tokio's yield_now future type is unnameable; the box costs the same for every
        // yield and is small next to a scheduler round trip.
        Box::pin(tokio::task::yield_now())
    }
}

// ---------------------------------------------------------------- smol

/// smol's executor: `WORKERS` threads running it (multi), or only the thread in
/// `block_on` (current).
#[derive(Clone)]
pub struct Smol {
    ex: Arc<async_executor::Executor<'static>>,
    threads: Arc<SmolThreads>,
}

pub struct SmolThreads {
    stop: Option<async_channel::Sender<()>>,
    handles: Vec<std::thread::JoinHandle<()>>,
}

impl Drop for SmolThreads {
    fn drop(&mut self) {
        drop(self.stop.take());
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}

impl Smol {
    pub fn multi() -> Smol {
        Smol::with_threads(WORKERS)
    }
    pub fn current() -> Smol {
        Smol::with_threads(0)
    }
    fn with_threads(n: usize) -> Smol {
        let ex = Arc::new(async_executor::Executor::new());
        let (tx, rx) = async_channel::bounded::<()>(1);
        let handles = (0..n)
            .map(|_| {
                let ex = ex.clone();
                let rx = rx.clone();
                std::thread::spawn(move || {
                    let _ = futures_lite::future::block_on(ex.run(rx.recv()));
                })
            })
            .collect();
        Smol {
            ex,
            threads: Arc::new(SmolThreads {
                stop: Some(tx),
                handles,
            }),
        }
    }
}

impl Rt for Smol {
    type Join<T: Send + 'static> = async_executor::Task<T>;
    type Yield = futures_lite::future::YieldNow;

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        if self.threads.handles.is_empty() {
            futures_lite::future::block_on(self.ex.run(future))
        } else {
            futures_lite::future::block_on(future)
        }
    }
    fn spawn<F>(&self, future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.ex.spawn(future)
    }
    fn yield_now() -> Self::Yield {
        futures_lite::future::yield_now()
    }
    fn spawn_detached<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.ex.spawn(future).detach();
    }
}

/// Criterion settings shared by the benches: short enough that `cargo bench` finishes in
/// minutes on two cores, long enough for a stable median.
pub fn config() -> criterion::Criterion {
    criterion::Criterion::default()
        .sample_size(30)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3))
        .configure_from_args()
}

/// Runs each workload function on flywheel, tokio and smol (`$rts` is a tuple of the three)
/// in one criterion group named `<workload>/<flavor>`.
macro_rules! side_by_side {
    ($c:expr, $flavor:expr, $rts:expr, [$($work:ident),* $(,)?]) => {{
        let (fw, tk, sm) = $rts;
        $(
            let mut group = $c.benchmark_group(format!("{}/{}", stringify!($work), $flavor));
            group.bench_function("flywheel", |b| b.iter(|| $work(fw)));
            group.bench_function("tokio", |b| b.iter(|| $work(tk)));
            group.bench_function("smol", |b| b.iter(|| $work(sm)));
            group.finish();
        )*
    }};
}
