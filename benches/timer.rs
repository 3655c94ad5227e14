//! Timer workloads on flywheel, tokio and smol side by side, current-thread and 2 workers.
//!
//! - `timers`: 100 000 concurrent sleeps spread over 1–50 ms; total time (mean lateness past
//!   each deadline is printed once per runtime before measuring).
//! - `timeout_churn`: 1 000 000 `timeout(1 s, ready future)` in one task: should cost next
//!   to nothing.
//! - `timeout_pending`: 100 000 `timeout(1 s, yield_now())` in one task: a real timer insert
//!   and cancel each.
//!
//! Run: `cargo bench --bench timer`. smol has no timeout combinator: its version races the
//! future against an `async_io::Timer` with `or`, which is what a smol user writes.

use std::future::Future;
use std::hint::black_box;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use smol::future::FutureExt as _;

const SLEEPS: usize = 100_000;
const CHURN: usize = 1_000_000;
const PENDING: usize = 100_000;
const WORKERS: usize = 2;

/// A way to run futures: the three runtimes, each in two flavours, behind one interface.
trait Bench {
    fn name(&self) -> String;
    /// Runs the `timers` workload; returns the total lateness past the deadlines.
    fn timers(&self) -> Duration;
    fn timeout_churn(&self);
    fn timeout_pending(&self);
}

fn sleep_ms(i: usize) -> Duration {
    Duration::from_millis(1 + (i % 50) as u64)
}

struct Flywheel {
    rt: flywheel::Runtime,
    flavor: &'static str,
}

impl Bench for Flywheel {
    fn name(&self) -> String {
        format!("flywheel/{}", self.flavor)
    }

    fn timers(&self) -> Duration {
        self.rt.block_on(async {
            let tasks: Vec<_> = (0..SLEEPS)
                .map(|i| {
                    flywheel::spawn(async move {
                        let s = flywheel::time::sleep(sleep_ms(i));
                        let deadline = s.deadline();
                        s.await;
                        Instant::now().saturating_duration_since(deadline)
                    })
                })
                .collect();
            let mut late = Duration::ZERO;
            for t in tasks {
                late += t.await.unwrap();
            }
            late
        })
    }

    fn timeout_churn(&self) {
        self.rt.block_on(async {
            flywheel::spawn(async {
                for i in 0..CHURN {
                    let r = flywheel::time::timeout(Duration::from_secs(1), async { i }).await;
                    black_box(r).unwrap();
                }
            })
            .await
            .unwrap()
        })
    }

    fn timeout_pending(&self) {
        self.rt.block_on(async {
            flywheel::spawn(async {
                for _ in 0..PENDING {
                    let r = flywheel::time::timeout(
                        Duration::from_secs(1),
                        flywheel::task::yield_now(),
                    )
                    .await;
                    black_box(r).unwrap();
                }
            })
            .await
            .unwrap()
        })
    }
}

struct Tokio {
    rt: tokio::runtime::Runtime,
    flavor: &'static str,
}

impl Bench for Tokio {
    fn name(&self) -> String {
        format!("tokio/{}", self.flavor)
    }

    fn timers(&self) -> Duration {
        self.rt.block_on(async {
            let tasks: Vec<_> = (0..SLEEPS)
                .map(|i| {
                    tokio::spawn(async move {
                        let s = tokio::time::sleep(sleep_ms(i));
                        let deadline = s.deadline().into_std();
                        s.await;
                        Instant::now().saturating_duration_since(deadline)
                    })
                })
                .collect();
            let mut late = Duration::ZERO;
            for t in tasks {
                late += t.await.unwrap();
            }
            late
        })
    }

    fn timeout_churn(&self) {
        self.rt.block_on(async {
            tokio::spawn(async {
                for i in 0..CHURN {
                    let r = tokio::time::timeout(Duration::from_secs(1), async { i }).await;
                    black_box(r).unwrap();
                }
            })
            .await
            .unwrap()
        })
    }

    fn timeout_pending(&self) {
        self.rt.block_on(async {
            tokio::spawn(async {
                for _ in 0..PENDING {
                    let r = tokio::time::timeout(Duration::from_secs(1), tokio::task::yield_now())
                        .await;
                    black_box(r).unwrap();
                }
            })
            .await
            .unwrap()
        })
    }
}

/// smol: a `LocalExecutor` on the calling thread, or an `Executor` run by `WORKERS` threads.
enum Smol {
    Local,
    Multi {
        ex: Arc<smol::Executor<'static>>,
        stop: smol::channel::Sender<()>,
        threads: Vec<thread::JoinHandle<()>>,
    },
}

impl Smol {
    fn multi() -> Smol {
        let ex = Arc::new(smol::Executor::new());
        let (stop, stopped) = smol::channel::unbounded::<()>();
        let threads = (0..WORKERS)
            .map(|_| {
                let ex = ex.clone();
                let stopped = stopped.clone();
                thread::spawn(move || {
                    let _ = smol::block_on(ex.run(stopped.recv()));
                })
            })
            .collect();
        Smol::Multi { ex, stop, threads }
    }

    /// Spawns `f` and waits for it, on whichever executor this is.
    fn run<T: Send + 'static>(&self, f: impl Future<Output = T> + Send + 'static) -> T {
        match self {
            Smol::Local => {
                let ex = smol::LocalExecutor::new();
                smol::block_on(ex.run(ex.spawn(f)))
            }
            Smol::Multi { ex, .. } => smol::block_on(ex.spawn(f)),
        }
    }
}

impl Drop for Smol {
    fn drop(&mut self) {
        if let Smol::Multi { stop, threads, .. } = self {
            stop.close();
            for t in threads.drain(..) {
                let _ = t.join();
            }
        }
    }
}

/// Spawns onto the smol executor of the current `Smol::run` (local or shared).
async fn smol_timers(spawn: impl Fn(usize) -> smol::Task<Duration>) -> Duration {
    let tasks: Vec<_> = (0..SLEEPS).map(spawn).collect();
    let mut late = Duration::ZERO;
    for t in tasks {
        late += t.await;
    }
    late
}

async fn smol_sleep(i: usize) -> Duration {
    let d = sleep_ms(i);
    let deadline = Instant::now() + d;
    smol::Timer::at(deadline).await;
    Instant::now().saturating_duration_since(deadline)
}

async fn smol_churn() {
    for i in 0..CHURN {
        let r = async { Ok(i) }
            .or(async {
                smol::Timer::after(Duration::from_secs(1)).await;
                Err(())
            })
            .await;
        black_box(r).unwrap();
    }
}

async fn smol_pending() {
    for _ in 0..PENDING {
        let r = async {
            smol::future::yield_now().await;
            Ok(())
        }
        .or(async {
            smol::Timer::after(Duration::from_secs(1)).await;
            Err(())
        })
        .await;
        black_box(r).unwrap();
    }
}

impl Bench for Smol {
    fn name(&self) -> String {
        match self {
            Smol::Local => "smol/current_thread".into(),
            Smol::Multi { .. } => "smol/multi_thread".into(),
        }
    }

    fn timers(&self) -> Duration {
        match self {
            Smol::Local => {
                let ex = smol::LocalExecutor::new();
                smol::block_on(ex.run(smol_timers(|i| ex.spawn(smol_sleep(i)))))
            }
            Smol::Multi { ex, .. } => smol::block_on(smol_timers(|i| ex.spawn(smol_sleep(i)))),
        }
    }

    fn timeout_churn(&self) {
        self.run(smol_churn())
    }

    fn timeout_pending(&self) {
        self.run(smol_pending())
    }
}

fn runtimes() -> Vec<Box<dyn Bench>> {
    vec![
        Box::new(Flywheel {
            rt: flywheel::Builder::new_current_thread().build().unwrap(),
            flavor: "current_thread",
        }),
        Box::new(Tokio {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            flavor: "current_thread",
        }),
        Box::new(Smol::Local),
        Box::new(Flywheel {
            rt: flywheel::Builder::new_multi_thread()
                .worker_threads(WORKERS)
                .build()
                .unwrap(),
            flavor: "multi_thread",
        }),
        Box::new(Tokio {
            rt: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(WORKERS)
                .enable_all()
                .build()
                .unwrap(),
            flavor: "multi_thread",
        }),
        Box::new(Smol::multi()),
    ]
}

fn timers(c: &mut Criterion) {
    let runtimes = runtimes();
    for rt in &runtimes {
        let late = rt.timers();
        println!(
            "timers/{}: mean lateness {:?}",
            rt.name(),
            late / SLEEPS as u32
        );
    }
    let mut group = c.benchmark_group("timers");
    group.sample_size(10);
    for rt in &runtimes {
        group.bench_function(BenchmarkId::from_parameter(rt.name()), |b| {
            b.iter(|| black_box(rt.timers()))
        });
    }
    group.finish();
}

fn timeout_churn(c: &mut Criterion) {
    let runtimes = runtimes();
    let mut group = c.benchmark_group("timeout_churn");
    group.sample_size(10);
    for rt in &runtimes {
        group.bench_function(BenchmarkId::from_parameter(rt.name()), |b| {
            b.iter(|| rt.timeout_churn())
        });
    }
    group.finish();
}

fn timeout_pending(c: &mut Criterion) {
    let runtimes = runtimes();
    let mut group = c.benchmark_group("timeout_pending");
    group.sample_size(10);
    for rt in &runtimes {
        group.bench_function(BenchmarkId::from_parameter(rt.name()), |b| {
            b.iter(|| rt.timeout_pending())
        });
    }
    group.finish();
}

criterion_group!(benches, timers, timeout_churn, timeout_pending);
criterion_main!(benches);
