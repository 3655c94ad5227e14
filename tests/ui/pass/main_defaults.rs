//! Without options `#[flywheel::main]` starts one worker per core, keeps `main`'s return type
//! and lets `?` and `return` work in the body.

use std::time::{Duration, Instant};

/// Threads named `flywheel-worker` once `expected` of them exist (a new thread names itself
/// shortly after it starts), or after two seconds.
fn worker_threads(expected: usize) -> usize {
    let count = || {
        std::fs::read_dir("/proc/self/task")
            .expect("list this process's threads")
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .filter(|name| name.trim_end() == "flywheel-worker")
            .count()
    };
    let start = Instant::now();
    while count() < expected && start.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(1));
    }
    count()
}

#[flywheel::main]
async fn main() -> Result<(), std::num::ParseIntError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(worker_threads(cores), cores);
    let n: i32 = flywheel::spawn(async { "12" }).await.unwrap().parse()?;
    if n == 12 {
        return Ok(());
    }
    unreachable!("n is 12")
}
