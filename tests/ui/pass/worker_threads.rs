//! `worker_threads = 3` starts exactly three workers; counted from /proc in a process that
//! runs nothing else.

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

#[flywheel::main(worker_threads = 3)]
async fn main() {
    assert_eq!(worker_threads(3), 3);
}
