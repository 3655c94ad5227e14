//! `Builder` setters that tune the schedulers and the blocking pool: how often a thread
//! looks at the shared queue and at the driver, how many I/O events a poll takes, and the
//! cap on blocking-pool threads.

use super::Builder;

impl Builder {
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
}
