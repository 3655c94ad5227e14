//! `Builder` settings for tasks that go wrong: what a panic in a task does to the runtime
//! and who hears of it, and the watchdog that reports polls blocking their worker.

use std::sync::Arc;
use std::time::Duration;

use crate::runtime::panic::{TaskPanic, UnhandledPanic};
use crate::runtime::watchdog::LongPoll;

use super::Builder;

impl Builder {
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
