//! `task::Builder`: spawn a task with a name, which dumps, long-poll reports, panic reports
//! and the handles' `Debug` show next to its spawn location.
//!
//! The builder only fills the task's `Spawned` record (the name, and the caller's location
//! through `#[track_caller]`) and hands it to the same spawn paths as `flywheel::spawn`.
//! The name is copied into the task's header once, at spawn.

use std::fmt;
use std::future::Future;
use std::io;
use std::panic::Location;

use crate::runtime::blocking::shut_down_error;
use crate::runtime::{context, Handle};
use crate::task::schedule::Spawned;
use crate::task::JoinHandle;

/// Spawns a task with options: for now, a name.
///
/// The name appears in [`Handle::dump`](crate::Handle::dump) and in the `Debug` output of
/// the task's [`JoinHandle`] and [`AbortHandle`](crate::task::AbortHandle), next to the
/// source location of the spawn call (which every spawn records, named or not).
///
/// Unlike [`flywheel::spawn`](crate::spawn), the spawn methods return an
/// [`io::Result`]: a runtime that has shut down refuses the task with an error (the
/// future is dropped at once) instead of handing back an already-cancelled handle.
///
/// # Examples
///
/// ```
/// flywheel::run(async {
///     let task = flywheel::task::Builder::new()
///         .name("fetch")
///         .spawn(async { 200 })
///         .unwrap();
///     assert!(format!("{task:?}").contains("\"fetch\""));
///     assert_eq!(task.await.unwrap(), 200);
/// });
/// ```
#[derive(Clone, Copy, Default)]
#[must_use = "a task::Builder does nothing until one of its spawn methods is called"]
pub struct Builder<'a> {
    name: Option<&'a str>,
}

impl<'a> Builder<'a> {
    /// A builder for an unnamed task.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let task = flywheel::task::Builder::new().spawn(async { 1 }).unwrap();
    ///     assert_eq!(task.await.unwrap(), 1);
    /// });
    /// ```
    pub fn new() -> Builder<'a> {
        Builder { name: None }
    }

    /// Names the task. The name is copied at spawn; names need not be unique.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Runtime::new().unwrap();
    /// let task = flywheel::task::Builder::new()
    ///     .name("worker-1")
    ///     .spawn_on(std::future::pending::<()>(), rt.handle())
    ///     .unwrap();
    /// let dump = rt.handle().dump();
    /// assert!(dump.tasks().iter().any(|t| t.id() == task.id() && t.name() == Some("worker-1")));
    /// ```
    pub fn name(self, name: &'a str) -> Builder<'a> {
        Builder { name: Some(name) }
    }

    /// The task's `Spawned` record, with the user's location (every caller up to the user
    /// is `#[track_caller]`).
    #[track_caller]
    fn spawned(&self) -> Spawned {
        Spawned {
            name: self.name.map(Box::from),
            location: Location::caller(),
        }
    }

    /// Spawns the task onto the current runtime, like [`flywheel::spawn`](crate::spawn).
    ///
    /// # Errors
    ///
    /// When the runtime has shut down (it is being dropped): the future is dropped, never
    /// polled.
    ///
    /// # Panics
    ///
    /// Outside a runtime: call it from `flywheel::run`, `block_on` or a task, or use
    /// [`spawn_on`](Builder::spawn_on) with a [`Handle`].
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let task = flywheel::task::Builder::new()
    ///         .name("answer")
    ///         .spawn(async { 42 })?;
    ///     assert_eq!(task.await.unwrap(), 42);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let spawned = self.spawned();
        let spawn = |handle: Option<&Handle>| handle.map(|h| h.spawn_or_refuse(future, spawned));
        match context::with_current(spawn) {
            Some(spawned) => refused_to_error(spawned),
            None => panic!("{}", context::NO_RUNTIME),
        }
    }

    /// Spawns the task onto the runtime behind `handle`, like [`Handle::spawn`].
    ///
    /// # Errors
    ///
    /// When that runtime has shut down: the future is dropped, never polled.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Runtime::new().unwrap();
    /// let task = flywheel::task::Builder::new()
    ///     .name("remote")
    ///     .spawn_on(async { "ok" }, rt.handle())
    ///     .unwrap();
    /// assert_eq!(rt.block_on(task).unwrap(), "ok");
    ///
    /// let handle = rt.handle().clone();
    /// drop(rt);
    /// assert!(flywheel::task::Builder::new().spawn_on(async {}, &handle).is_err());
    /// ```
    #[track_caller]
    pub fn spawn_on<F>(self, future: F, handle: &Handle) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        refused_to_error(handle.spawn_or_refuse(future, self.spawned()))
    }

    /// Spawns a task whose future need not be `Send` on the calling thread, like
    /// [`task::spawn_local`](crate::task::spawn_local): it is pinned to this thread (a
    /// multi-thread worker, or the thread driving a current-thread runtime).
    ///
    /// # Errors
    ///
    /// When the runtime is shut down: the future is dropped without being polled.
    ///
    /// # Panics
    ///
    /// Where `spawn_local` panics: outside a runtime thread that may own local tasks.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    ///
    /// let rt = flywheel::Builder::new_current_thread().build_local()?;
    /// let out = rt.block_on(async {
    ///     let shared = Rc::new(21);
    ///     let task = flywheel::task::Builder::new()
    ///         .name("doubler")
    ///         .spawn_local(async move { *shared * 2 })?;
    ///     task.await.map_err(std::io::Error::other)
    /// })?;
    /// assert_eq!(out, 42);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn spawn_local<F>(self, future: F) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let spawned = self.spawned();
        let tasks = crate::runtime::local::current_local_tasks();
        refused_to_error(tasks.spawn_or_refuse(future, spawned))
    }

    /// Runs a blocking closure on the current runtime's blocking pool, like
    /// [`flywheel::spawn_blocking`](crate::spawn_blocking). While it runs, a dump shows it
    /// as [`TaskState::Blocking`](crate::runtime::TaskState::Blocking) under its name.
    ///
    /// # Errors
    ///
    /// When the runtime has shut down, or when the pool has no thread and the OS refuses
    /// one: the closure is dropped, never run.
    ///
    /// # Panics
    ///
    /// Outside a runtime: use [`spawn_blocking_on`](Builder::spawn_blocking_on) with a
    /// [`Handle`].
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let job = flywheel::task::Builder::new()
    ///         .name("hash")
    ///         .spawn_blocking(|| (1..=5u32).product::<u32>())
    ///         .unwrap();
    ///     assert_eq!(job.await.unwrap(), 120);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F, R>(self, f: F) -> io::Result<JoinHandle<R>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let spawned = self.spawned();
        let (join, scheduled) = Handle::current().try_spawn_blocking(f, spawned);
        scheduled.map(|()| join)
    }

    /// Runs a blocking closure on the blocking pool of the runtime behind `handle`, like
    /// [`Handle::spawn_blocking`].
    ///
    /// # Errors
    ///
    /// As [`spawn_blocking`](Builder::spawn_blocking).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Runtime::new().unwrap();
    /// let job = flywheel::task::Builder::new()
    ///     .name("io")
    ///     .spawn_blocking_on(|| 7, rt.handle())
    ///     .unwrap();
    /// assert_eq!(rt.block_on(job).unwrap(), 7);
    /// ```
    #[track_caller]
    pub fn spawn_blocking_on<F, R>(self, f: F, handle: &Handle) -> io::Result<JoinHandle<R>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let (join, scheduled) = handle.try_spawn_blocking(f, self.spawned());
        scheduled.map(|()| join)
    }
}

/// A spawn's result as the builder returns it: a refused task is cancelled here, outside
/// the thread-local borrow `spawn` holds (dropping the future may enter a runtime).
fn refused_to_error<T>(
    (join, refused): (JoinHandle<T>, Option<crate::task::cell::Task>),
) -> io::Result<JoinHandle<T>> {
    match refused {
        None => Ok(join),
        Some(task) => {
            task.shutdown();
            Err(shut_down_error())
        }
    }
}

impl fmt::Debug for Builder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder").field("name", &self.name).finish()
    }
}
