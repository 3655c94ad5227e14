//! Timers: many concurrent sleeps, timeouts around ready futures, timeouts around futures
//! that are pending once. flywheel, tokio and smol side by side, same workload, current-thread
//! and 2-worker flavours.
//!
//! - `timers`: 100 000 concurrent sleeps spread over 1–50 ms, each in its own task; total
//!   time. The mean lateness past the deadlines is printed once per runtime before measuring.
//! - `timeout_churn`: 1 000 000 `timeout(1 s, ready future)` in one task: should cost next
//!   to nothing.
//! - `timeout_pending`: 100 000 `timeout(1 s, yield_now())` in one task: a real timer insert
//!   and cancel each.
//!
//! smol has no timeout combinator: its version races the future against an
//! `async_io::Timer` with `or`, which is what a smol user writes. flywheel's and tokio's
//! timeouts are mapped to the same `Option` with a combinator (no extra async block).

#[macro_use]
mod common;

use std::future::Future;
use std::hint::black_box;
use std::time::{Duration, Instant};

use common::{Flywheel, Rt, Smol, Tokio};
use criterion::{criterion_group, criterion_main, Criterion};
use futures::FutureExt as _;
use futures_lite::FutureExt as _;

/// Concurrent sleeps in `timers`.
const SLEEPS: usize = 100_000;
/// Timeouts per `timeout_churn` iteration.
const CHURN: usize = 1_000_000;
/// Timeouts per `timeout_pending` iteration.
const PENDING: usize = 100_000;
/// The timeout every `timeout_*` workload sets (never reached).
const LIMIT: Duration = Duration::from_secs(1);

/// The timer half of a runtime.
trait Timers: Rt {
    /// Sleeps until `deadline`.
    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send + 'static;
    /// `future`'s output, or `None` if `limit` passed first.
    fn timeout<F>(limit: Duration, future: F) -> impl Future<Output = Option<F::Output>> + Send
    where
        F: Future + Send;
}

impl Timers for Flywheel {
    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send + 'static {
        flywheel::time::sleep_until(deadline.into())
    }
    fn timeout<F>(limit: Duration, future: F) -> impl Future<Output = Option<F::Output>> + Send
    where
        F: Future + Send,
    {
        flywheel::time::timeout(limit, future).map(Result::ok)
    }
}

impl Timers for Tokio {
    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send + 'static {
        tokio::time::sleep_until(deadline.into())
    }
    fn timeout<F>(limit: Duration, future: F) -> impl Future<Output = Option<F::Output>> + Send
    where
        F: Future + Send,
    {
        tokio::time::timeout(limit, future).map(Result::ok)
    }
}

impl Timers for Smol {
    async fn sleep_until(deadline: Instant) {
        smol::Timer::at(deadline).await;
    }
    fn timeout<F>(limit: Duration, future: F) -> impl Future<Output = Option<F::Output>> + Send
    where
        F: Future + Send,
    {
        async move { Some(future.await) }.or(async move {
            smol::Timer::after(limit).await;
            None
        })
    }
}

/// 100 000 tasks, each sleeping 1–50 ms; returns the total lateness past the deadlines.
fn sleeps<R: Timers>(rt: &R) -> Duration {
    let spawner = rt.clone();
    rt.block_on(async move {
        let tasks: Vec<_> = (0..SLEEPS)
            .map(|i| {
                spawner.spawn(async move {
                    let deadline = Instant::now() + Duration::from_millis(1 + (i % 50) as u64);
                    R::sleep_until(deadline).await;
                    Instant::now().saturating_duration_since(deadline)
                })
            })
            .collect();
        let mut late = Duration::ZERO;
        for task in tasks {
            late += task.await;
        }
        late
    })
}

fn timers<R: Timers>(rt: &R) {
    black_box(sleeps(rt));
}

fn timeout_churn<R: Timers>(rt: &R) {
    rt.block_on(rt.spawn(async {
        for i in 0..CHURN {
            let r = R::timeout(LIMIT, async { i }).await;
            black_box(r.expect("a ready future beats a 1 s timeout"));
        }
    }));
}

fn timeout_pending<R: Timers>(rt: &R) {
    rt.block_on(rt.spawn(async {
        for _ in 0..PENDING {
            let r = R::timeout(LIMIT, R::yield_now()).await;
            black_box(r).expect("one yield beats a 1 s timeout");
        }
    }));
}

/// Prints each runtime's mean lateness in `timers`, once, before the timing runs.
fn print_lateness<A: Timers, B: Timers, C: Timers>(flavor: &str, rts: (&A, &B, &C)) {
    let (fw, tk, sm) = rts;
    for (name, late) in [
        ("flywheel", sleeps(fw)),
        ("tokio", sleeps(tk)),
        ("smol", sleeps(sm)),
    ] {
        println!(
            "timers/{flavor}/{name}: mean lateness {:?}",
            late / SLEEPS as u32
        );
    }
}

fn multi_thread(c: &mut Criterion) {
    let rts = (&Flywheel::multi(), &Tokio::multi(), &Smol::multi());
    print_lateness("multi", rts);
    side_by_side!(c, "multi", rts, [timers, timeout_churn, timeout_pending]);
}

fn current_thread(c: &mut Criterion) {
    let rts = (&Flywheel::current(), &Tokio::current(), &Smol::current());
    print_lateness("current", rts);
    side_by_side!(c, "current", rts, [timers, timeout_churn, timeout_pending]);
}

criterion_group! {
    name = benches;
    config = common::config().sample_size(10);
    targets = multi_thread, current_thread
}
criterion_main!(benches);
