//! `Builder`: the runtime's flavour and thread settings.

use std::fmt;
use std::io;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::runtime::scheduler::owned::OwnedTasks;
use crate::runtime::scheduler::{current_thread, worker, Scheduler};
use crate::runtime::thread::ThreadConfig;
use crate::runtime::{
    blocking, driver, Handle, LocalRuntime, Runtime, RuntimeFlavor, RuntimeShared,
};

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
        let name: String = name.into();
        self.threads.name = Arc::new(move || name.clone());
        self
    }

    /// Sets a function that names each new thread of the runtime (workers and blocking
    /// pool); it replaces [`thread_name`](Builder::thread_name).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// let rt = flywheel::Builder::new_multi_thread()
    ///     .worker_threads(1)
    ///     .thread_name_fn(|| {
    ///         static ID: AtomicUsize = AtomicUsize::new(0);
    ///         format!("app-{}", ID.fetch_add(1, Ordering::Relaxed))
    ///     })
    ///     .build()
    ///     .unwrap();
    /// let name = rt.block_on(rt.spawn(async {
    ///     std::thread::current().name().unwrap().to_owned()
    /// }));
    /// assert!(name.unwrap().starts_with("app-"));
    /// ```
    pub fn thread_name_fn<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn() -> String + Send + Sync + 'static,
    {
        self.threads.name = Arc::new(f);
        self
    }

    /// Sets the stack size, in bytes, of the runtime's threads (workers and blocking pool).
    ///
    /// The default is std's (2 MiB unless `RUST_MIN_STACK` says otherwise). The OS may round
    /// the size up to its page size or minimum.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_multi_thread()
    ///     .thread_stack_size(8 * 1024 * 1024)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1);
    /// ```
    pub fn thread_stack_size(&mut self, bytes: usize) -> &mut Self {
        self.threads.stack_size = Some(bytes);
        self
    }

    /// Runs `f` on each new thread of the runtime (workers and blocking pool) before it
    /// does anything else.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let started = Arc::new(AtomicUsize::new(0));
    /// let counter = started.clone();
    /// let rt = flywheel::Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .on_thread_start(move || {
    ///         counter.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()
    ///     .unwrap();
    /// drop(rt);
    /// assert_eq!(started.load(Ordering::SeqCst), 2);
    /// ```
    pub fn on_thread_start<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.threads.on_start = Some(Arc::new(f));
        self
    }

    /// Runs `f` on each thread of the runtime (workers and blocking pool) just before it
    /// exits.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let stopped = Arc::new(AtomicUsize::new(0));
    /// let counter = stopped.clone();
    /// let rt = flywheel::Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .on_thread_stop(move || {
    ///         counter.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()
    ///     .unwrap();
    /// drop(rt); // joins the workers
    /// assert_eq!(stopped.load(Ordering::SeqCst), 2);
    /// ```
    pub fn on_thread_stop<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.threads.on_stop = Some(Arc::new(f));
        self
    }

    /// Runs `f` on a worker (or the thread driving a current-thread runtime) each time it
    /// is about to sleep for lack of work.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let parks = Arc::new(AtomicUsize::new(0));
    /// let counter = parks.clone();
    /// let rt = flywheel::Builder::new_current_thread()
    ///     .on_thread_park(move || {
    ///         counter.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(flywheel::time::sleep(std::time::Duration::from_millis(5)));
    /// assert!(parks.load(Ordering::SeqCst) >= 1);
    /// ```
    pub fn on_thread_park<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.threads.on_park = Some(Arc::new(f));
        self
    }

    /// Runs `f` on a worker (or the thread driving a current-thread runtime) each time it
    /// wakes from the sleep [`on_thread_park`](Builder::on_thread_park) announced.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let unparks = Arc::new(AtomicUsize::new(0));
    /// let counter = unparks.clone();
    /// let rt = flywheel::Builder::new_current_thread()
    ///     .on_thread_unpark(move || {
    ///         counter.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(flywheel::time::sleep(std::time::Duration::from_millis(5)));
    /// assert!(unparks.load(Ordering::SeqCst) >= 1);
    /// ```
    pub fn on_thread_unpark<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.threads.on_unpark = Some(Arc::new(f));
        self
    }

    /// Sets how many tasks a thread runs between two looks at the runtime's shared queue
    /// (remote spawns and wake-ups) before its own queue: default 61 on a multi-thread
    /// runtime, 31 on a current-thread one.
    ///
    /// Smaller values start remotely queued tasks sooner when a thread is busy with local
    /// ones, at the cost of more contention on the shared queue; 1 looks there before
    /// every task.
    ///
    /// # Panics
    ///
    /// When `ticks` is zero: the interval is a count of tasks, at least 1.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_multi_thread().global_queue_interval(31).build().unwrap();
    /// assert_eq!(rt.block_on(rt.spawn(async { 2 })).unwrap(), 2);
    /// ```
    #[track_caller]
    pub fn global_queue_interval(&mut self, ticks: u32) -> &mut Self {
        assert!(
            ticks > 0,
            "global_queue_interval must be at least 1 (1 checks the shared queue before every \
             task); leave it unset for the default"
        );
        self.global_queue_interval = Some(ticks);
        self
    }

    /// Sets how many tasks a busy thread runs between two non-blocking looks at I/O events
    /// and timers (default 61).
    ///
    /// Smaller values deliver I/O readiness and timer expiries sooner while threads are
    /// busy, at the cost of more system calls; 1 looks after every task.
    ///
    /// # Panics
    ///
    /// When `ticks` is zero: the interval is a count of tasks, at least 1.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_current_thread().event_interval(11).build().unwrap();
    /// rt.block_on(flywheel::time::sleep(std::time::Duration::from_millis(1)));
    /// ```
    #[track_caller]
    pub fn event_interval(&mut self, ticks: u32) -> &mut Self {
        assert!(
            ticks > 0,
            "event_interval must be at least 1 (1 polls I/O and timers after every task); \
             leave it unset for the default of 61"
        );
        self.event_interval = ticks;
        self
    }

    /// Sets the most I/O events taken from the OS per poll of the reactor (default 1024).
    /// Events beyond it wait for the next poll.
    ///
    /// # Panics
    ///
    /// When `n` is zero: a poll must be able to take at least one event.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_multi_thread().max_io_events_per_tick(256).build().unwrap();
    /// rt.block_on(async {
    ///     let listener = flywheel::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(listener.local_addr().is_ok());
    /// });
    /// ```
    #[track_caller]
    pub fn max_io_events_per_tick(&mut self, n: usize) -> &mut Self {
        assert!(
            n > 0,
            "max_io_events_per_tick must be at least 1; leave it unset for the default of 1024"
        );
        self.max_io_events_per_tick = n;
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
        let (driver, driver_handle) =
            driver::Driver::new(self.start_paused, self.max_io_events_per_tick)?;
        let blocking = blocking::Pool::new(self.max_blocking_threads);
        let (scheduler, launch) = match self.flavor {
            RuntimeFlavor::CurrentThread => {
                let intervals = Intervals {
                    global_queue: self
                        .global_queue_interval
                        .unwrap_or(DEFAULT_GLOBAL_QUEUE_INTERVAL_CURRENT),
                    event: self.event_interval,
                };
                let shared = current_thread::CurrentThread::new(intervals);
                (Scheduler::CurrentThread(shared), None)
            }
            RuntimeFlavor::MultiThread => {
                let n = match self.worker_threads {
                    Some(n) => n,
                    None => default_worker_threads(std::env::var_os(WORKER_THREADS_ENV))?,
                };
                let intervals = Intervals {
                    global_queue: self
                        .global_queue_interval
                        .unwrap_or(DEFAULT_GLOBAL_QUEUE_INTERVAL_MULTI),
                    event: self.event_interval,
                };
                let (shared, launch) = worker::MultiThread::new(n, intervals);
                (Scheduler::MultiThread(shared), Some(launch))
            }
        };
        let shared = Arc::new(RuntimeShared {
            scheduler,
            owned: OwnedTasks::new(),
            blocking,
            driver: Mutex::new(driver),
            driver_handle,
            threads: self.threads.clone(),
        });
        let handle = Handle { shared };
        let runtime = Runtime::from_handle(handle.clone());
        match launch {
            None => handle
                .shared
                .current_thread()
                .install_core(Arc::as_ptr(&handle.shared)),
            // On failure, dropping `runtime` stops the workers already started.
            Some(launch) => worker::launch(launch, &handle)?,
        }
        Ok(runtime)
    }
}

impl Builder {
    /// Builds a [`LocalRuntime`]: a current-thread runtime owned by the calling thread, for
    /// futures that are not `Send` ([`spawn_local`](crate::task::spawn_local)).
    ///
    /// # Errors
    ///
    /// When the builder is not `new_current_thread()` (`InvalidInput`: a local runtime runs
    /// on one thread), or when the OS refuses the poller.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_current_thread().build_local()?;
    /// let rc = std::rc::Rc::new(1);
    /// assert_eq!(rt.block_on(async { *rc + 1 }), 2);
    /// assert!(flywheel::Builder::new_multi_thread().build_local().is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn build_local(&mut self) -> io::Result<LocalRuntime> {
        if self.flavor != RuntimeFlavor::CurrentThread {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "build_local builds a current-thread runtime: start from \
                 `Builder::new_current_thread()` (on a multi-thread runtime, call \
                 `spawn_local` from a task to pin it to its worker)",
            ));
        }
        Ok(LocalRuntime::new(self.build()?))
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
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("start_paused", &self.start_paused)
            .field("threads", &self.threads)
            .field("global_queue_interval", &self.global_queue_interval)
            .field("event_interval", &self.event_interval)
            .field("max_io_events_per_tick", &self.max_io_events_per_tick)
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
