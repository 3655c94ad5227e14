//! `Builder`: the runtime's flavour and thread settings.
//!
//! The build path, which turns the settings into a running runtime, is in `build.rs`.

mod build;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::runtime::panic::{PanicHook, TaskPanic, UnhandledPanic};
use crate::runtime::thread::ThreadConfig;
use crate::runtime::watchdog::{self, LongPoll};
use crate::runtime::RuntimeFlavor;
// Named only by the docs' links.
#[cfg(doc)]
use crate::runtime::{Handle, Runtime};

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

    /// Sets what the runtime does when a task panics: carry on
    /// ([`UnhandledPanic::Ignore`], the default), or shut down and resume the panic from
    /// `block_on` ([`UnhandledPanic::ShutdownRuntime`], on both flavours). See
    /// [`UnhandledPanic`] for which panics count and what happens to the runtime after.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::panic::{catch_unwind, AssertUnwindSafe};
    /// use flywheel::UnhandledPanic;
    ///
    /// let rt = flywheel::Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .unhandled_panic(UnhandledPanic::ShutdownRuntime)
    ///     .build()
    ///     .unwrap();
    /// let caught = catch_unwind(AssertUnwindSafe(|| {
    ///     rt.block_on(async {
    ///         flywheel::spawn(async { panic!("worker task failed") });
    ///         std::future::pending::<()>().await
    ///     })
    /// }));
    /// let payload = caught.unwrap_err();
    /// assert_eq!(payload.downcast_ref::<&str>(), Some(&"worker task failed"));
    /// // The runtime is shut down: a later block_on panics, saying why.
    /// assert!(catch_unwind(AssertUnwindSafe(|| rt.block_on(async {}))).is_err());
    /// ```
    pub fn unhandled_panic(&mut self, behavior: UnhandledPanic) -> &mut Self {
        self.unhandled_panic = behavior;
        self
    }

    /// Runs `f` each time a task panics while polled, with the task's id, name, spawn
    /// location and the panic's message and payload ([`TaskPanic`]).
    ///
    /// `f` runs on the thread where the task panicked (a worker, or the thread inside a
    /// current-thread `block_on`), right after the panic and before the task's future is
    /// dropped and its `JoinHandle` sees the panic; it holds no lock of the runtime. It runs
    /// under either [`UnhandledPanic`] policy, for tasks only (not for `spawn_blocking`
    /// closures). A panic inside `f` is reported by the panic hook and goes no further: the
    /// worker carries on.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let record = seen.clone();
    /// let rt = flywheel::Builder::new_multi_thread()
    ///     .worker_threads(1)
    ///     .on_task_panic(move |p| {
    ///         let message = p.message().unwrap_or("(not a string)").to_owned();
    ///         record.lock().unwrap().push(message);
    ///     })
    ///     .build()
    ///     .unwrap();
    /// let err = rt.block_on(rt.spawn(async { panic!("bad input") })).unwrap_err();
    /// assert!(err.is_panic());
    /// assert_eq!(*seen.lock().unwrap(), ["bad input"]);
    /// ```
    pub fn on_task_panic<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn(&TaskPanic<'_>) + Send + Sync + 'static,
    {
        self.on_task_panic = Some(Arc::new(f));
        self
    }

    /// Makes a current-thread runtime schedule its tasks in an order drawn from `seed`, so
    /// that a run can be replayed, and other orders explored with other seeds.
    ///
    /// Whenever more than one thing could run next, a small PRNG seeded with `seed` draws
    /// it: the next task, uniformly among the runnable ones (however they became runnable:
    /// spawned, woken by a channel or a `JoinHandle`, or by timers firing in the same tick),
    /// and whether the woken `block_on` future goes before them. A seeded runtime starts
    /// with its clock paused (as with [`start_paused(true)`](Builder::start_paused)): timers
    /// fire when the runtime is idle, in virtual time.
    ///
    /// So a program that only uses the runtime's tasks, timers and in-memory
    /// synchronisation runs the same way — same poll order, same output — every time it is
    /// run with the same seed, and in another interleaving with another seed. A loop over
    /// seeds (or `#[flywheel::test(runs = 200)]`) finds orderings a plain run never shows,
    /// such as a check-then-act race across an `.await`; see `examples/seeded.rs`.
    ///
    /// What is *not* deterministic, because the seed cannot order it:
    /// - real I/O (sockets, pipes, signals, child processes): when the OS reports
    ///   readiness depends on the world outside;
    /// - the blocking pool (`spawn_blocking`) and any other thread, including other threads
    ///   waking tasks or spawning onto the runtime: they run in parallel, and their wakes
    ///   arrive when they arrive (once they have, the draw orders them like the rest);
    /// - the real clock: `std::time::Instant::now()` and `SystemTime` (read
    ///   [`time::Instant::now`](crate::time::Instant::now), which is virtual here), and
    ///   [`time::resume`](crate::time::resume), which restarts real time;
    /// - randomness in the program itself (`HashMap` iteration order, random numbers): seed
    ///   it from [`Handle::seed`] to make it part of the replay;
    /// - task ids ([`task::Id`](crate::task::Id)): they count every task of the process, so
    ///   a second run in the same process numbers its tasks differently (compare tasks by
    ///   what they are, not by id).
    ///
    /// Without a seed nothing changes: tasks run in the order they were queued.
    ///
    /// A multi-thread runtime cannot be seeded: [`build`](Builder::build) refuses it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// fn poll_order(seed: u64) -> Vec<usize> {
    ///     let rt = flywheel::Builder::new_current_thread().seed(seed).build().unwrap();
    ///     let order = Arc::new(Mutex::new(Vec::new()));
    ///     rt.block_on(async {
    ///         let tasks: Vec<_> = (0..8)
    ///             .map(|i| {
    ///                 let order = order.clone();
    ///                 flywheel::spawn(async move { order.lock().unwrap().push(i) })
    ///             })
    ///             .collect();
    ///         for task in tasks {
    ///             task.await.unwrap();
    ///         }
    ///     });
    ///     let order = order.lock().unwrap().clone();
    ///     order
    /// }
    ///
    /// assert_eq!(poll_order(1), poll_order(1));
    /// assert!((2..10).any(|seed| poll_order(seed) != poll_order(1)));
    /// ```
    pub fn seed(&mut self, seed: u64) -> &mut Self {
        self.seed = Some(seed);
        self
    }

    /// Reports every poll that runs longer than `threshold`: a task that blocks its worker
    /// (a synchronous sleep, a lock held across I/O, a long computation) instead of
    /// awaiting or moving the work to [`spawn_blocking`](crate::spawn_blocking).
    ///
    /// This starts one watchdog thread for the runtime. Workers do not read the clock for
    /// it: each stores one word (relaxed, in its own cache line) as it starts a poll, and the
    /// watchdog samples those words every quarter `threshold`; a word that stays the same
    /// while its worker is not parked is one poll still running. Each such poll is reported
    /// once, while it still runs, with the worker, the task's id, name and spawn location
    /// and how long it has run (a [`LongPoll`]): by default as one line on stderr, or to
    /// the function given to [`on_long_poll`](Builder::on_long_poll). On a current-thread
    /// runtime the future given to `block_on` is watched too (reported without a task id).
    /// Without this setting (or `FLYWHEEL_WARN_LONG_POLLS`) there is no watchdog thread and
    /// no cost per poll.
    ///
    /// The environment variable `FLYWHEEL_WARN_LONG_POLLS` turns the watchdog on for every
    /// runtime built without this call, without recompiling: `100ms`, `2s`, `500us` or a
    /// plain number of milliseconds. A value that does not parse is reported on stderr and
    /// ignored.
    ///
    /// Long polls are reported, not interrupted. On a multi-thread runtime the tasks waiting
    /// behind a stuck worker (its queue and the task it just woke) are taken over by the
    /// other workers, with or without this setting; a current-thread runtime has no other
    /// thread to hand them to, so they wait for the poll to return.
    ///
    /// # Panics
    ///
    /// When `threshold` is zero: every poll would be long. Pick a duration well above your
    /// longest healthy poll (tens of milliseconds or more).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = flywheel::Builder::new_multi_thread()
    ///     .warn_long_polls(Duration::from_millis(100))
    ///     .build()
    ///     .unwrap();
    /// // Prints "flywheel: worker .. is stuck polling task .." on stderr, once.
    /// rt.block_on(rt.spawn(async { std::thread::sleep(Duration::from_millis(150)) }))
    ///     .unwrap();
    /// ```
    #[track_caller]
    pub fn warn_long_polls(&mut self, threshold: Duration) -> &mut Self {
        assert!(
            !threshold.is_zero(),
            "warn_long_polls needs a threshold above zero (every poll would be long); pick \
             one well above your longest healthy poll, e.g. Duration::from_millis(100)"
        );
        self.long_poll_threshold = Some(threshold);
        self
    }

    /// Calls `f` for each long poll instead of printing it on stderr.
    ///
    /// `f` runs on the watchdog thread, while the poll is still running; it should return
    /// quickly (the watchdog samples no worker meanwhile). A panic in `f` is contained:
    /// that report is lost, the watchdog goes on. This sets no threshold: long polls are
    /// watched only with [`warn_long_polls`](Builder::warn_long_polls) or
    /// `FLYWHEEL_WARN_LONG_POLLS`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    ///
    /// let reports = Arc::new(AtomicUsize::new(0));
    /// let counter = reports.clone();
    /// let rt = flywheel::Builder::new_current_thread()
    ///     .warn_long_polls(Duration::from_millis(10))
    ///     .on_long_poll(move |poll| {
    ///         assert_eq!(poll.id(), None); // the block_on future is not a task
    ///         counter.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async { std::thread::sleep(Duration::from_millis(60)) });
    /// drop(rt); // stops the watchdog
    /// assert_eq!(reports.load(Ordering::SeqCst), 1);
    /// ```
    pub fn on_long_poll<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn(&LongPoll) + Send + Sync + 'static,
    {
        self.on_long_poll = Some(Arc::new(f));
        self
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
            .field("unhandled_panic", &self.unhandled_panic)
            .field("on_task_panic", &self.on_task_panic.is_some())
            .field("seed", &self.seed)
            .field("long_poll_threshold", &self.long_poll_threshold)
            .field("on_long_poll", &self.on_long_poll.is_some())
            .finish()
    }
}
