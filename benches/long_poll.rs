//! The cost of the long-poll watchdog on the scheduler's hot path: yield_many,
//! spawn_many_local and ping_pong on flywheel with `warn_long_polls` off and on, with tokio
//! in the same group for the ratio. The threshold (1 s) is never reached, so what is
//! measured is the per-poll store and the sampling thread, not a report.

#[allow(unused_macros)] // side_by_side: this file compares flywheel with itself too
mod common;

use std::time::Duration;

use common::workloads::{ping_pong, spawn_many_local, yield_many};
use common::{Flywheel, Tokio, WORKERS};
use criterion::{criterion_group, criterion_main, Criterion};

/// A flywheel runtime, with the watchdog on (1 s threshold) or off.
fn flywheel(mut builder: flywheel::Builder, watch: bool) -> Flywheel {
    if watch {
        builder.warn_long_polls(Duration::from_secs(1));
    }
    Flywheel::from_builder(&mut builder)
}

fn multi(watch: bool) -> Flywheel {
    let mut builder = flywheel::Builder::new_multi_thread();
    builder.worker_threads(WORKERS);
    flywheel(builder, watch)
}

fn current(watch: bool) -> Flywheel {
    flywheel(flywheel::Builder::new_current_thread(), watch)
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
    let rts = (&multi(false), &multi(true), &Tokio::multi());
    off_on!(c, "multi", rts, [yield_many, spawn_many_local, ping_pong]);
}

fn current_thread(c: &mut Criterion) {
    let rts = (&current(false), &current(true), &Tokio::current());
    off_on!(c, "current", rts, [yield_many, spawn_many_local]);
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = multi_thread, current_thread
}
criterion_main!(benches);
