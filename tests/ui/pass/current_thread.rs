//! `flavor = "current_thread"` starts no worker: tasks run on the main thread.

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

#[flywheel::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(worker_threads(0), 0);
    let here = std::thread::current().id();
    let there = flywheel::spawn(async { std::thread::current().id() }).await.unwrap();
    assert_eq!(here, there);
}
