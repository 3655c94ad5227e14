//! `Builder` setters for the runtime's threads: how many workers, what they are called,
//! their stack size, and the hooks run as each thread starts, stops, parks and unparks.
//!
//! These apply to the workers and, except the worker count and the park hooks, to the
//! blocking pool's threads too.

use std::sync::Arc;

use super::Builder;

impl Builder {
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
}
