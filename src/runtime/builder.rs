//! `Builder`: the runtime's flavour and thread settings.

use std::fmt;
use std::io;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::runtime::scheduler::owned::OwnedTasks;
use crate::runtime::scheduler::{current_thread, worker, Scheduler};
use crate::runtime::{blocking, driver, Handle, Runtime, RuntimeShared};

/// Default cap on blocking-pool threads.
const DEFAULT_MAX_BLOCKING_THREADS: usize = 512;

/// The environment variable that overrides the default worker count of multi-thread
/// runtimes (tokio's is `TOKIO_WORKER_THREADS`).
const WORKER_THREADS_ENV: &str = "FLYWHEEL_WORKER_THREADS";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavor {
    CurrentThread,
    MultiThread,
}

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
    flavor: Flavor,
    worker_threads: Option<usize>,
    thread_name: String,
    max_blocking_threads: usize,
    start_paused: bool,
}

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
        Builder::new(Flavor::MultiThread)
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
        Builder::new(Flavor::CurrentThread)
    }

    fn new(flavor: Flavor) -> Builder {
        Builder {
            flavor,
            worker_threads: None,
            thread_name: "flywheel-worker".to_owned(),
            max_blocking_threads: DEFAULT_MAX_BLOCKING_THREADS,
            start_paused: false,
        }
    }

    /// Sets the number of worker threads of a multi-thread runtime (ignored by
    /// current-thread runtimes).
    ///
    /// # Panics
    ///
    /// When `n` is zero: a multi-thread runtime needs at least one worker (use
    /// [`Builder::new_current_thread`] for none).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_multi_thread().worker_threads(1).build().unwrap();
    /// assert_eq!(rt.block_on(async { 3 }), 3);
    /// ```
    #[track_caller]
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        assert!(
            n > 0,
            "worker_threads must be at least 1; use Builder::new_current_thread() for a runtime \
             without worker threads"
        );
        self.worker_threads = Some(n);
        self
    }

    /// Sets the name of the runtime's threads (workers and blocking pool).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_multi_thread().thread_name("io").build().unwrap();
    /// let job = rt.spawn_blocking(|| std::thread::current().name().unwrap().to_owned());
    /// assert_eq!(rt.block_on(job).unwrap(), "io");
    /// ```
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        self.thread_name = name.into();
        self
    }

    /// Caps the blocking pool at `n` threads (default 512).
    ///
    /// # Panics
    ///
    /// When `n` is zero: `spawn_blocking` jobs would never run.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_multi_thread().max_blocking_threads(4).build().unwrap();
    /// assert_eq!(rt.block_on(rt.spawn_blocking(|| 9)).unwrap(), 9);
    /// ```
    #[track_caller]
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Self {
        assert!(n > 0, "max_blocking_threads must be at least 1");
        self.max_blocking_threads = n;
        self
    }

    /// Starts the runtime with its clock paused: time is virtual, for testing timing code.
    ///
    /// While paused, the clock does not move by itself. Instead, whenever the whole runtime is
    /// idle — no task runnable or queued, no blocking job running, the `block_on` future not
    /// woken (and, on a multi-thread runtime, every worker parked) — it jumps straight to the
    /// next timer deadline and fires it. A test of an hour of intervals therefore runs in
    /// milliseconds and always sees the same sequence of instants.
    /// [`time::advance`](crate::time::advance) moves the clock by hand, and
    /// [`time::resume`](crate::time::resume) returns to real time.
    ///
    /// The virtual clock is the one [`time::Instant::now`](crate::time::Instant::now) reads on
    /// every thread inside the runtime (tasks, `block_on`, `spawn_blocking` jobs), so
    /// `Instant::now() - start` after a one-hour sleep is an hour, and agrees with
    /// `Sleep::deadline` and `Interval::tick`; only `std::time::Instant::now()` still reads
    /// the real clock. I/O does
    /// not hold the clock back: a runtime waiting only on a socket and a timer jumps to the
    /// timer. A running `spawn_blocking` job does hold it (it may be about to wake a task),
    /// so a job that itself waits on a flywheel timer needs
    /// [`time::advance`](crate::time::advance) to finish.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use flywheel::time::{sleep, Instant};
    ///
    /// let rt = flywheel::Builder::new_current_thread().start_paused(true).build().unwrap();
    /// let real = std::time::Instant::now();
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     let nap = sleep(Duration::from_secs(8 * 3600));
    ///     let end = nap.deadline();
    ///     nap.await;
    ///     assert_eq!(end - start, Duration::from_secs(8 * 3600));
    ///     assert_eq!(Instant::now(), end);
    /// });
    /// assert!(real.elapsed() < Duration::from_secs(60));
    /// ```
    pub fn start_paused(&mut self, paused: bool) -> &mut Self {
        self.start_paused = paused;
        self
    }

    /// Builds the runtime and starts its threads.
    ///
    /// # Errors
    ///
    /// When the OS refuses the poller (epoll) or a worker thread, or when
    /// `FLYWHEEL_WORKER_THREADS` is set to something other than a positive integer (see
    /// [`new_multi_thread`](Builder::new_multi_thread)).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_current_thread().build()?;
    /// rt.block_on(async {});
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn build(&mut self) -> io::Result<Runtime> {
        let (driver, driver_handle) = driver::Driver::new(self.start_paused)?;
        let blocking = blocking::Pool::new(self.max_blocking_threads, self.thread_name.clone());
        let (scheduler, launch) = match self.flavor {
            Flavor::CurrentThread => (
                Scheduler::CurrentThread(current_thread::CurrentThread::new()),
                None,
            ),
            Flavor::MultiThread => {
                let n = match self.worker_threads {
                    Some(n) => n,
                    None => default_worker_threads(std::env::var_os(WORKER_THREADS_ENV))?,
                };
                let (shared, launch) = worker::MultiThread::new(n);
                (Scheduler::MultiThread(shared), Some(launch))
            }
        };
        let shared = Arc::new(RuntimeShared {
            scheduler,
            owned: OwnedTasks::new(),
            blocking,
            driver: Mutex::new(driver),
            driver_handle,
        });
        let handle = Handle { shared };
        let runtime = Runtime::from_handle(handle.clone());
        match launch {
            None => handle
                .shared
                .current_thread()
                .install_core(Arc::as_ptr(&handle.shared)),
            // On failure, dropping `runtime` stops the workers already started.
            Some(launch) => worker::launch(launch, &handle, &self.thread_name)?,
        }
        Ok(runtime)
    }
}

/// The worker count of a multi-thread runtime built without `worker_threads(n)`: `env` (the
/// value of `FLYWHEEL_WORKER_THREADS`) when set, else one per available core.
fn default_worker_threads(env: Option<std::ffi::OsString>) -> io::Result<usize> {
    let Some(value) = env else {
        return Ok(std::thread::available_parallelism().map_or(1, |n| n.get()));
    };
    match value.to_str().and_then(|v| v.trim().parse::<usize>().ok()) {
        Some(n) if n > 0 => Ok(n),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{WORKER_THREADS_ENV} must be a positive integer (a worker count), got {value:?}; \
                 unset it to get one worker per available core"
            ),
        )),
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("flavor", &self.flavor)
            .field("worker_threads", &self.worker_threads)
            .field("thread_name", &self.thread_name)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("start_paused", &self.start_paused)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::default_worker_threads;

    #[test]
    fn the_environment_overrides_the_core_count() {
        assert_eq!(default_worker_threads(Some("3".into())).unwrap(), 3);
        assert_eq!(default_worker_threads(Some(" 7 ".into())).unwrap(), 7);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(default_worker_threads(None).unwrap(), cores);
    }

    #[test]
    fn a_worker_count_that_is_not_positive_is_refused() {
        for bad in ["0", "-2", "many", ""] {
            let err = default_worker_threads(Some(bad.into())).unwrap_err();
            assert!(
                err.to_string().contains("FLYWHEEL_WORKER_THREADS"),
                "{bad}: {err}"
            );
        }
    }
}
