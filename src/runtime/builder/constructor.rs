//! `Builder`'s constructors, one per flavour, each starting from the defaults defined in
//! `mod.rs`.

use std::sync::Arc;

use crate::runtime::panic::UnhandledPanic;
use crate::runtime::thread::ThreadConfig;
use crate::runtime::RuntimeFlavor;
// Named only by the docs' links.
#[cfg(doc)]
use crate::runtime::Runtime;

use super::{
    Builder, DEFAULT_EVENT_INTERVAL, DEFAULT_MAX_BLOCKING_THREADS, DEFAULT_MAX_IO_EVENTS_PER_TICK,
};

impl Builder {
    /// A builder for a multi-thread, work-stealing runtime (one worker per core unless
    /// [`worker_threads`](Builder::worker_threads) says otherwise).
    ///
    /// The default worker count is, in order: the `FLYWHEEL_WORKER_THREADS` environment
    /// variable when it is set (a positive integer; anything else makes
    /// [`build`](Builder::build) fail), or else
    /// [`std::thread::available_parallelism`], which already follows the CPU quota of a
    /// container (cgroup v1 and v2) and the process's affinity mask. The variable is read by
    /// `build`, so it applies to [`Runtime::new`], [`run`](crate::run) and
    /// `#[flywheel::main]` alike; an explicit `worker_threads(n)` wins over it.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_multi_thread().build().unwrap();
    /// assert_eq!(rt.block_on(async { 1 }), 1);
    /// ```
    pub fn new_multi_thread() -> Builder {
        Builder::new(RuntimeFlavor::MultiThread)
    }

    /// A builder for a runtime that runs every task on the thread that calls `block_on`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_current_thread().build().unwrap();
    /// let here = std::thread::current().id();
    /// let there = rt.block_on(async {
    ///     flywheel::spawn(async { std::thread::current().id() }).await.unwrap()
    /// });
    /// assert_eq!(here, there);
    /// ```
    pub fn new_current_thread() -> Builder {
        Builder::new(RuntimeFlavor::CurrentThread)
    }

    fn new(flavor: RuntimeFlavor) -> Builder {
        Builder {
            flavor,
            worker_threads: None,
            max_blocking_threads: DEFAULT_MAX_BLOCKING_THREADS,
            start_paused: false,
            threads: ThreadConfig {
                name: Arc::new(|| "flywheel-worker".to_owned()),
                stack_size: None,
                on_start: None,
                on_stop: None,
                on_park: None,
                on_unpark: None,
            },
            global_queue_interval: None,
            event_interval: DEFAULT_EVENT_INTERVAL,
            max_io_events_per_tick: DEFAULT_MAX_IO_EVENTS_PER_TICK,
            unhandled_panic: UnhandledPanic::Ignore,
            on_task_panic: None,
            seed: None,
            long_poll_threshold: None,
            on_long_poll: None,
        }
    }
}
