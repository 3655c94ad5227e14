//! The build path: `Builder::build` turns the settings into a running [`Runtime`] (driver,
//! blocking pool, scheduler of the chosen flavour, workers launched, watchdog started), and
//! `build_local` wraps a current-thread one in a [`LocalRuntime`].
//!
//! It also resolves what the settings leave open: each flavour's default intervals and the
//! worker count (`FLYWHEEL_WORKER_THREADS`, else one per core).

use std::io;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::runtime::panic::TaskPanics;
use crate::runtime::scheduler::owned::OwnedTasks;
use crate::runtime::scheduler::{current_thread, worker, Scheduler};
use crate::runtime::watchdog::{self, Beats, Watchdog};
use crate::runtime::{
    blocking, driver, Handle, LocalRuntime, Runtime, RuntimeFlavor, RuntimeShared,
};

use super::{
    Builder, Intervals, DEFAULT_GLOBAL_QUEUE_INTERVAL_CURRENT, DEFAULT_GLOBAL_QUEUE_INTERVAL_MULTI,
    WORKER_THREADS_ENV,
};

impl Builder {
    /// Builds the runtime and starts its threads.
    ///
    /// # Errors
    ///
    /// When the OS refuses the poller (epoll) or a worker thread, when
    /// `FLYWHEEL_WORKER_THREADS` is set to something other than a positive integer (see
    /// [`new_multi_thread`](Builder::new_multi_thread)), or when a multi-thread runtime was
    /// given a [`seed`](Builder::seed).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_current_thread().build()?;
    /// rt.block_on(async {});
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn build(&mut self) -> io::Result<Runtime> {
        if let (RuntimeFlavor::MultiThread, Some(seed)) = (self.flavor, self.seed) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "Builder::seed({seed}) needs a current-thread runtime: a multi-thread \
                     runtime's order depends on its threads and cannot be replayed; build it \
                     with Builder::new_current_thread()"
                ),
            ));
        }
        // A seeded runtime's clock is paused: the real one would make runs differ.
        let start_paused = self.start_paused || self.seed.is_some();
        let (driver, driver_handle) =
            driver::Driver::new(start_paused, self.max_io_events_per_tick)?;
        let blocking = blocking::Pool::new(self.max_blocking_threads);
        let long_polls = self
            .long_poll_threshold
            .or_else(watchdog::threshold_from_env)
            .map(|threshold| watchdog::Config {
                threshold,
                report: self.on_long_poll.clone(),
            });
        let (scheduler, launch, beats) = match self.flavor {
            RuntimeFlavor::CurrentThread => {
                let intervals = Intervals {
                    global_queue: self
                        .global_queue_interval
                        .unwrap_or(DEFAULT_GLOBAL_QUEUE_INTERVAL_CURRENT),
                    event: self.event_interval,
                };
                let beats = long_polls.as_ref().map(|_| Beats::new(1));
                let shared = current_thread::CurrentThread::new(intervals, beats.clone())
                    .with_seed(self.seed);
                (Scheduler::CurrentThread(shared), None, beats)
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
                let beats = long_polls.as_ref().map(|_| Beats::new(n));
                let (shared, launch) = worker::MultiThread::new(n, intervals, beats.clone());
                (Scheduler::MultiThread(shared), Some(launch), beats)
            }
        };
        let shared = Arc::new(RuntimeShared {
            scheduler,
            owned: OwnedTasks::new(),
            blocking,
            driver: Mutex::new(driver),
            driver_handle,
            threads: self.threads.clone(),
            panics: TaskPanics::new(self.unhandled_panic, self.on_task_panic.clone()),
            locals: Mutex::new(Vec::new()),
        });
        let handle = Handle { shared };
        let mut runtime = Runtime::from_handle(handle.clone());
        match launch {
            None => handle
                .shared
                .current_thread()
                .install_core(Arc::as_ptr(&handle.shared)),
            // On failure, dropping `runtime` stops the workers already started.
            Some(launch) => worker::launch(launch, &handle)?,
        }
        if let (Some(config), Some(beats)) = (long_polls, beats) {
            runtime.watchdog = Some(Watchdog::start(&config, beats, &handle.shared)?);
        }
        Ok(runtime)
    }
}

impl Builder {
    /// What `#[flywheel::test(seed = .., runs = ..)]` expands to: calls `run` once per seed
    /// (`FLYWHEEL_SEED` alone when set; else `runs` seeds from `seed`, or from a random
    /// one), each time on a fresh runtime it builds with that seed; reports the seed of a
    /// failing run (a panic, or `run` returning `(output, true)`) with the command that
    /// replays it, and ends the test with that failure. Not for use outside the macro.
    #[doc(hidden)]
    pub fn __run_seeded_test<T>(
        test_path: &str,
        seed: Option<u64>,
        runs: u32,
        run: impl FnMut(u64) -> (T, bool),
    ) -> T {
        crate::runtime::scheduler::seeded::run_test(test_path, seed, runs, run)
    }

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
