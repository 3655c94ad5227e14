//! Tasks and their `JoinHandle`s: outputs that come back, a task that is aborted, and a
//! task whose panic is caught and reported instead of taking the program down.
//!
//! Run it with `cargo run --example tasks`. The panicking task also makes Rust's default
//! panic hook print a line to stderr; the program itself carries on.

use std::any::Any;

use flywheel::task::{yield_now, JoinError};

async fn square(n: u64) -> u64 {
    yield_now().await; // give the other tasks a turn, as real work would
    n * n
}

/// The text of a panic payload (`panic!` gives a `&str` or a `String`).
fn panic_text(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("<not a string>")
}

fn report(name: &str, result: Result<u64, JoinError>) {
    match result {
        Ok(value) => println!("{name:<10} succeeded, returned {value}"),
        Err(err) if err.is_cancelled() => println!("{name:<10} was aborted ({err})"),
        Err(err) => {
            let payload = err.into_panic();
            println!(
                "{name:<10} panicked, caught: {:?}",
                panic_text(payload.as_ref())
            );
        }
    }
}

fn main() {
    flywheel::run(async {
        // Tasks that succeed: awaiting a JoinHandle gives back the task's output.
        let squares: Vec<_> = (1..=3).map(|n| (n, flywheel::spawn(square(n)))).collect();

        // A task that would wait forever, aborted through its JoinHandle.
        let forever = flywheel::spawn(async {
            std::future::pending::<()>().await;
            0
        });
        forever.abort();

        // A task that panics: the runtime catches it and hands it to the JoinHandle.
        let faulty = flywheel::spawn(async {
            if square(2).await == 4 {
                panic!("the disk is on fire");
            }
            0
        });

        for (n, handle) in squares {
            report(&format!("square({n})"), handle.await);
        }
        report("forever", forever.await);
        report("faulty", faulty.await);

        // The panic did not hurt the runtime: new tasks still run. An AbortHandle outlives
        // its JoinHandle; aborting a task that already finished changes nothing.
        let after = flywheel::spawn(square(12));
        let abort = after.abort_handle();
        report("square(12)", after.await);
        abort.abort();
        println!(
            "aborting square(12) after it finished changed nothing (finished: {})",
            abort.is_finished()
        );
    });
}
