//! asyncio.wait in Rust: downloads of different lengths, waited on with FirstCompleted, then
//! with a timeout, then AllCompleted; a second batch in which one download fails shows
//! FirstError.
//!
//! The Python being mirrored:
//!
//! ```python
//! tasks = [asyncio.create_task(download(name, secs)) for name, secs in FILES]
//! done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
//! done, pending = await asyncio.wait(pending, timeout=0.2)
//! done, pending = await asyncio.wait(pending)                  # ALL_COMPLETED
//!
//! tasks = [asyncio.create_task(download(n, s, fail)) for n, s, fail in FLAKY]
//! done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
//! for task in pending:
//!     task.cancel()
//! ```
//!
//! Run it with `cargo run --example wait`.

use std::time::{Duration, Instant};

use flywheel::task::{wait, JoinError, JoinHandle, ReturnWhen, Waited};
use flywheel::time::sleep;

/// A finished download.
#[derive(Debug)]
struct File {
    name: &'static str,
    bytes: usize,
}

/// Pretends to download `name`, taking `millis`; fails instead when `fails` is set.
async fn download(name: &'static str, millis: u64, fails: bool) -> Result<File, String> {
    sleep(Duration::from_millis(millis)).await;
    if fails {
        return Err(format!("{name}: connection reset by peer"));
    }
    Ok(File {
        name,
        bytes: name.len() * 1024 * millis as usize,
    })
}

fn start(files: &[(&'static str, u64, bool)]) -> Vec<JoinHandle<Result<File, String>>> {
    files
        .iter()
        .map(|&(name, millis, fails)| flywheel::spawn(download(name, millis, fails)))
        .collect()
}

fn report(stage: &str, since: Instant, waited: &Waited<Result<File, String>>) {
    println!(
        "{stage} (after {} ms): {} done, {} pending",
        since.elapsed().as_millis(),
        waited.done.len(),
        waited.pending.len()
    );
    for result in &waited.done {
        print_result(result);
    }
}

fn print_result(result: &Result<Result<File, String>, JoinError>) {
    match result {
        Ok(Ok(file)) => println!("    done   {:<12} {:>7} bytes", file.name, file.bytes),
        Ok(Err(reason)) => println!("    failed {reason}"),
        Err(join_error) => println!("    failed {join_error}"),
    }
}

fn main() {
    flywheel::run(async {
        let t0 = Instant::now();
        let files = [
            ("notes.txt", 50, false),
            ("photo.jpg", 150, false),
            ("talk.mp4", 400, false),
            ("backup.zip", 600, false),
        ];
        let tasks = start(&files);

        let waited = wait(tasks, ReturnWhen::FirstCompleted, None).await;
        report("FirstCompleted", t0, &waited);

        let waited = wait(
            waited.pending,
            ReturnWhen::AllCompleted,
            Some(Duration::from_millis(200)),
        )
        .await;
        report("timeout of 200 ms", t0, &waited);
        println!("    the pending downloads were not cancelled; they keep going");

        let waited = wait(waited.pending, ReturnWhen::AllCompleted, None).await;
        report("AllCompleted", t0, &waited);

        println!();
        let t1 = Instant::now();
        let flaky = [
            ("index.html", 50, false),
            ("style.css", 120, true),
            ("huge.iso", 5_000, false),
        ];
        let waited = wait(start(&flaky), ReturnWhen::FirstError, None).await;
        report("FirstError", t1, &waited);
        for task in waited.pending {
            task.abort();
            match task.await {
                Err(err) if err.is_cancelled() => println!("    cancelled a pending download"),
                other => print_result(&other),
            }
        }
    });
}
