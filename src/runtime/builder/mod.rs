//! `Builder`: the type, the default of every setting, and [`Intervals`] (which the
//! schedulers take by this path).
//!
//! Its methods live next door, one file per role:
//! - `constructor.rs`: the two constructors (one per flavour), starting from the defaults;
//! - `threading.rs`: worker count, thread names and stack size, the thread hooks;
//! - `tuning.rs`: scheduler intervals, the I/O event budget, the blocking-pool cap;
//! - `determinism.rs`: the paused clock and the seeded schedule, for reproducible runs;
//! - `fault.rs`: what happens when a task panics or blocks its worker (long polls);
//! - `build.rs`: `build`/`build_local`, which turn the settings into a running runtime.

// Declared in the order above, which is the order rustdoc lists `Builder`'s methods in.
mod constructor;

mod threading;

mod tuning;

mod determinism;

mod fault;

mod build;

use std::fmt;
use std::time::Duration;

use crate::runtime::panic::{PanicHook, UnhandledPanic};
use crate::runtime::thread::ThreadConfig;
use crate::runtime::watchdog;
use crate::runtime::RuntimeFlavor;
// Named only by the docs' links.
#[cfg(doc)]
use crate::runtime::Runtime;

/// How often a scheduler looks at its shared queue and at the driver, in ticks (polls).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Intervals {
    pub(crate) global_queue: u32,
    pub(crate) event: u32,
}

/// Default cap on blocking-pool threads.
const DEFAULT_MAX_BLOCKING_THREADS: usize = 512;

/// Default ticks between checks of the shared queue before the local one, per flavour
/// (tokio's defaults).
const DEFAULT_GLOBAL_QUEUE_INTERVAL_MULTI: u32 = 61;
const DEFAULT_GLOBAL_QUEUE_INTERVAL_CURRENT: u32 = 31;

/// Default ticks between two non-blocking looks at I/O and timers by a busy thread.
const DEFAULT_EVENT_INTERVAL: u32 = 61;

/// Default capacity of the reactor's event buffer: most I/O events taken per poll.
const DEFAULT_MAX_IO_EVENTS_PER_TICK: usize = 1024;

/// The environment variable that overrides the default worker count of multi-thread
/// runtimes (tokio's is `TOKIO_WORKER_THREADS`).
const WORKER_THREADS_ENV: &str = "FLYWHEEL_WORKER_THREADS";

/// Builds a [`Runtime`] with chosen settings. Methods take `&mut self` and return
/// `&mut Self`, so calls chain and the builder can be reused.
///
/// I/O and timers are always on.
///
/// # Examples
///
/// ```
/// let rt = flywheel::Builder::new_multi_thread()
///     .worker_threads(2)
///     .thread_name("my-app-worker")
///     .build()
///     .unwrap();
/// let name = rt.block_on(rt.spawn(async {
///     std::thread::current().name().unwrap().to_owned()
/// }));
/// assert_eq!(name.unwrap(), "my-app-worker");
/// ```
pub struct Builder {
    flavor: RuntimeFlavor,
    worker_threads: Option<usize>,
    max_blocking_threads: usize,
    start_paused: bool,
    threads: ThreadConfig,
    global_queue_interval: Option<u32>,
    event_interval: u32,
    max_io_events_per_tick: usize,
    unhandled_panic: UnhandledPanic,
    on_task_panic: Option<PanicHook>,
    seed: Option<u64>,
    /// `warn_long_polls`: the threshold, when set on the builder.
    long_poll_threshold: Option<Duration>,
    /// `on_long_poll`: replaces the default report on stderr.
    on_long_poll: Option<watchdog::Report>,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("flavor", &self.flavor)
            .field("worker_threads", &self.worker_threads)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("start_paused", &self.start_paused)
            .field("threads", &self.threads)
            .field("global_queue_interval", &self.global_queue_interval)
            .field("event_interval", &self.event_interval)
            .field("max_io_events_per_tick", &self.max_io_events_per_tick)
            .field("unhandled_panic", &self.unhandled_panic)
            .field("on_task_panic", &self.on_task_panic.is_some())
            .field("seed", &self.seed)
            .field("long_poll_threshold", &self.long_poll_threshold)
            .field("on_long_poll", &self.on_long_poll.is_some())
            .finish()
    }
}
