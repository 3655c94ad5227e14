//! Timers: a sleep, a timeout that fires and one that does not, and an interval ticker,
//! each line stamped with the milliseconds since the start.
//!
//! Run it with `cargo run --example timers`.

use std::time::{Duration, Instant};

use flywheel::time::{interval, sleep, timeout};

fn main() {
    let start = Instant::now();
    let stamp = move || format!("[{:>5.1} ms]", start.elapsed().as_secs_f64() * 1000.0);

    flywheel::run(async move {
        println!("{} sleeping 50 ms", stamp());
        sleep(Duration::from_millis(50)).await;
        println!("{} awake", stamp());

        let slow = async {
            sleep(Duration::from_secs(10)).await;
            "the slow answer"
        };
        match timeout(Duration::from_millis(30), slow).await {
            Ok(answer) => println!("{} got {answer}", stamp()),
            Err(elapsed) => println!("{} gave up on the slow answer: {elapsed}", stamp()),
        }

        let quick = async {
            sleep(Duration::from_millis(5)).await;
            "the quick answer"
        };
        match timeout(Duration::from_millis(30), quick).await {
            Ok(answer) => println!("{} got {answer}", stamp()),
            Err(elapsed) => println!("{} gave up on the quick answer: {elapsed}", stamp()),
        }

        let mut ticker = interval(Duration::from_millis(20));
        for n in 1..=5 {
            ticker.tick().await;
            println!("{} tick {n}", stamp());
        }
    });
}
