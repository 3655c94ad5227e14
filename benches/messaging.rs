//! Scheduling under message passing: tasks yielding in a loop, and pairs of tasks
//! ping-ponging through oneshot channels. flywheel, tokio and smol side by side.

#[macro_use]
mod common;

use common::workloads::{ping_pong, yield_many};
use common::{Flywheel, Smol, Tokio};
use criterion::{criterion_group, criterion_main, Criterion};

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
