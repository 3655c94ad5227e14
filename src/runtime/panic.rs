//! What a runtime does when one of its tasks panics: report it (`Builder::on_task_panic`),
//! and, under `UnhandledPanic::ShutdownRuntime`, shut the runtime down and hand the panic to
//! `block_on`'s caller.
//!
//! The task cell catches a panic raised while polling a task and calls
//! `Schedule::panicked` (for a runtime's tasks: `task_panicked` below) on the thread that
//! polled it, before the future is dropped and the `JoinHandle` woken. Blocking-pool jobs
//! never get here: their scheduler keeps the default, so a panicking `spawn_blocking`
//! closure reaches its `JoinHandle` only (as in tokio). A panic from a future's destructor
//! (an aborted task, or one dropped at shutdown) is not a task panic either: it only makes
//! that task's `JoinError` a panic.
//!
//! Shutting down on a panic, in order:
//! 1. the first panicking thread wins `triggered` and keeps the payload in `payload`; the
//!    task's `JoinError` gets a `String` with the panic's message instead;
//! 2. it stops the scheduler (workers leave their loop after their current poll; a
//!    current-thread runtime's queue runs no further task), closes the owned set and cancels
//!    every task in it, as `Runtime`'s drop does;
//! 3. it sets `shut_down` and wakes every thread inside `block_on`.
//!
//! A thread inside `block_on` checks `shut_down` before each poll of its future (the core
//! holder of a current-thread runtime also after each task), waits for the workers to exit,
//! takes the payload and resumes it with `resume_unwind`. With no `block_on` running at the
//! time, the payload waits for the next one. Only one caller gets it; any other or later
//! `block_on` panics with `PANICKED_BLOCK_ON`. A payload nobody took is dropped with the
//! runtime (its destructor contained).
//!
//! Nothing here runs on the hot path: the cost when no task panics is one relaxed load per
//! current-thread task poll and one per `block_on` poll.

use std::any::Any;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe, Location};
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;

use crate::runtime::scheduler::Scheduler;
use crate::runtime::Handle;
use crate::task::callback;
use crate::task::schedule::Header;
use crate::task::Id;

/// Told to a `block_on` caller on a runtime that shut down after a task panicked, once an
/// earlier `block_on` has resumed that panic.
const PANICKED_BLOCK_ON: &str = "cannot `block_on` this runtime: it shut down because one of \
    its tasks panicked (it was built with `UnhandledPanic::ShutdownRuntime`), and an earlier \
    `block_on` already resumed that panic; build a new runtime, or build this one with \
    `UnhandledPanic::Ignore` and handle task panics through their `JoinHandle`s";

/// What std prints for a panic whose payload is neither `&str` nor `String`.
const NOT_A_STRING: &str = "Box<dyn Any>";

/// What a runtime does when one of its tasks panics and the panic is not otherwise handled;
/// set with [`Builder::unhandled_panic`](crate::Builder::unhandled_panic).
///
/// A task panic counts whether or not its [`JoinHandle`](crate::task::JoinHandle) is
/// awaited. A task that is aborted, or cancelled by shutdown, has not panicked (even when
/// its future's destructor panics), and neither has a panicking
/// [`spawn_blocking`](crate::spawn_blocking) closure: those reach their `JoinHandle` only.
///
/// # Examples
///
/// ```
/// use flywheel::UnhandledPanic;
///
/// let rt = flywheel::Builder::new_current_thread()
///     .unhandled_panic(UnhandledPanic::ShutdownRuntime)
///     .build()
///     .unwrap();
/// let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
///     rt.block_on(async {
///         flywheel::spawn(async { panic!("boom") });
///         std::future::pending::<()>().await // would wait for ever
///     })
/// }));
/// let payload = caught.unwrap_err();
/// assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UnhandledPanic {
    /// The panic reaches the task's `JoinHandle` as a [`JoinError`](crate::task::JoinError)
    /// whose `is_panic()` is true, and the runtime carries on. The default of
    /// [`Builder`](crate::Builder); `#[flywheel::test(unhandled_panic = "ignore")]`.
    #[default]
    Ignore,
    /// The first task panic shuts the runtime down, as dropping the `Runtime` would: no
    /// task runs any more, every unfinished task is cancelled, the worker threads exit,
    /// and `block_on` resumes that panic on its caller, with the task's own payload, as soon
    /// as the workers are gone (at once if one is running, else from the next `block_on`;
    /// only one caller gets it, any other `block_on` panics with a message saying why).
    ///
    /// The task's `JoinHandle` gets a `JoinError` whose `is_panic()` is true and whose
    /// payload is a `String` with the panic's message (`"Box<dyn Any>"` when the payload
    /// was not a string). After the shutdown, new tasks are cancelled at once, as on a
    /// dropped runtime. The default of `#[flywheel::test]`, so that a panicking task fails
    /// the test instead of leaving it waiting.
    ShutdownRuntime,
}

/// A task's panic, as [`Builder::on_task_panic`](crate::Builder::on_task_panic) sees it:
/// which task, where it was spawned, and what it panicked with.
///
/// # Examples
///
/// ```
/// use std::sync::mpsc;
///
/// let (tx, rx) = mpsc::channel();
/// let tx = std::sync::Mutex::new(tx);
/// let rt = flywheel::Builder::new_current_thread()
///     .on_task_panic(move |p: &flywheel::TaskPanic<'_>| {
///         let line = format!("{} at {}: {:?}", p.id(), p.location(), p.message());
///         tx.lock().unwrap().send(line).unwrap();
///     })
///     .build()
///     .unwrap();
/// let err = rt.block_on(rt.spawn(async { panic!("no config") })).unwrap_err();
/// assert!(err.is_panic());
/// let line = rx.recv().unwrap();
/// assert!(line.contains("Some(\"no config\")"), "{line}");
/// ```
pub struct TaskPanic<'a> {
    id: Id,
    name: Option<&'a str>,
    location: &'static Location<'static>,
    payload: &'a (dyn Any + Send),
}

impl<'a> TaskPanic<'a> {
    /// The id of the task that panicked (what its `JoinHandle::id` returns).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// let seen = Arc::new(Mutex::new(None));
    /// let record = seen.clone();
    /// let rt = flywheel::Builder::new_current_thread()
    ///     .on_task_panic(move |p| *record.lock().unwrap() = Some(p.id()))
    ///     .build()
    ///     .unwrap();
    /// let task = rt.spawn(async { panic!("boom") });
    /// let id = task.id();
    /// let _ = rt.block_on(task);
    /// assert_eq!(*seen.lock().unwrap(), Some(id));
    /// ```
    pub fn id(&self) -> Id {
        self.id
    }

    /// The task's name, when it was given one at spawn.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_current_thread()
    ///     .on_task_panic(|p| eprintln!("task {} panicked", p.name().unwrap_or("(unnamed)")))
    ///     .build()
    ///     .unwrap();
    /// let _ = rt.block_on(rt.spawn(async { panic!("boom") }));
    /// ```
    pub fn name(&self) -> Option<&'a str> {
        self.name
    }

    /// Where the task was spawned: the user's call to a spawn function.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_current_thread()
    ///     .on_task_panic(|p| assert!(p.location().file().ends_with(".rs")))
    ///     .build()
    ///     .unwrap();
    /// let _ = rt.block_on(rt.spawn(async { panic!("boom") }));
    /// ```
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// The panic's message: the payload when it is a `&str` or a `String` (what `panic!`
    /// makes), `None` otherwise (`std::panic::panic_any` with another type).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_current_thread()
    ///     .on_task_panic(|p| assert_eq!(p.message(), Some("disk 3 is full")))
    ///     .build()
    ///     .unwrap();
    /// let disk = 3;
    /// let _ = rt.block_on(rt.spawn(async move { panic!("disk {disk} is full") }));
    /// ```
    pub fn message(&self) -> Option<&'a str> {
        message(self.payload)
    }

    /// The panic's payload, as `std::panic::catch_unwind` would return it, by reference.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_current_thread()
    ///     .on_task_panic(|p| assert_eq!(p.payload().downcast_ref::<u32>(), Some(&7)))
    ///     .build()
    ///     .unwrap();
    /// let _ = rt.block_on(rt.spawn(async { std::panic::panic_any(7u32) }));
    /// ```
    pub fn payload(&self) -> &'a (dyn Any + Send) {
        self.payload
    }
}

impl fmt::Debug for TaskPanic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskPanic")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("location", &self.location)
            .field("message", &self.message())
            .finish()
    }
}

/// The message of a panic payload made by `panic!` (a `&'static str` or a `String`).
fn message(payload: &(dyn Any + Send)) -> Option<&str> {
    if let Some(text) = payload.downcast_ref::<&'static str>() {
        return Some(text);
    }
    payload.downcast_ref::<String>().map(String::as_str)
}

/// The hook set with `Builder::on_task_panic`.
pub(crate) type PanicHook = Arc<dyn Fn(&TaskPanic<'_>) + Send + Sync>;

/// A runtime's panic policy and, under `ShutdownRuntime`, the panic it keeps for
/// `block_on` (see the module docs).
pub(crate) struct TaskPanics {
    policy: UnhandledPanic,
    hook: Option<PanicHook>,
    /// Won by the first panic that shuts the runtime down.
    triggered: AtomicBool,
    /// Set once the runtime is stopped and the payload kept: `block_on` must resume it.
    shut_down: AtomicBool,
    /// The first panic's payload, until a `block_on` takes it.
    payload: Mutex<Option<Box<dyn Any + Send>>>,
}

impl TaskPanics {
    pub(crate) fn new(policy: UnhandledPanic, hook: Option<PanicHook>) -> TaskPanics {
        TaskPanics {
            policy,
            hook,
            triggered: AtomicBool::new(false),
            shut_down: AtomicBool::new(false),
            payload: Mutex::new(None),
        }
    }

    /// Whether a task panic shut the runtime down.
    #[inline]
    pub(crate) fn has_shut_down(&self) -> bool {
        // Acquire pairs with the Release store: the payload is there when this is true.
        self.shut_down.load(Acquire)
    }
}

impl Drop for TaskPanics {
    fn drop(&mut self) {
        // Nobody resumed it: its destructor is user code, and Drop never panics.
        callback::release(self.payload.get_mut().take());
    }
}

impl fmt::Debug for TaskPanics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskPanics")
            .field("policy", &self.policy)
            .field("on_task_panic", &self.hook.is_some())
            .field("shut_down", &self.shut_down.load(Relaxed))
            .finish()
    }
}

/// A task of `handle`'s runtime panicked while polled, on this thread: runs the hook and
/// applies the policy. Returns the payload for the task's `JoinError`.
#[cold]
pub(crate) fn task_panicked(
    handle: &Handle,
    task: &Header,
    payload: Box<dyn Any + Send>,
) -> Box<dyn Any + Send> {
    let panics = &handle.shared.panics;
    if let Some(hook) = &panics.hook {
        let info = TaskPanic {
            id: task.id,
            name: task.name(),
            location: task.location(),
            payload: &*payload,
        };
        // User code: a panic in it is reported by the panic hook and goes no further.
        if let Err(inner) = catch_unwind(AssertUnwindSafe(|| hook(&info))) {
            callback::release(inner);
        }
    }
    if panics.policy != UnhandledPanic::ShutdownRuntime || panics.triggered.swap(true, AcqRel) {
        return payload;
    }
    let stand_in: Box<dyn Any + Send> =
        Box::new(message(&*payload).unwrap_or(NOT_A_STRING).to_owned());
    *panics.payload.lock() = Some(payload);
    stop(handle);
    panics.shut_down.store(true, Release);
    if let Scheduler::MultiThread(mt) = &handle.shared.scheduler {
        mt.wake_block_on_threads();
    }
    stand_in
}

/// Stops the scheduler and cancels every task, as `Runtime`'s drop does, without waiting
/// for anything: this thread may be a worker, inside a task's poll.
fn stop(handle: &Handle) {
    let shared = &handle.shared;
    match &shared.scheduler {
        // A deadline of now: set the flag and wake the workers, but do not wait for them.
        Scheduler::MultiThread(mt) => {
            let _ = mt.shutdown(&shared.driver_handle, Some(Instant::now()));
        }
        Scheduler::CurrentThread(ct) => ct.shutdown(),
    }
    // The panicking task is running: its shutdown only marks it, and it completes with its
    // panic as usual.
    for task in shared.owned.close_and_take_all() {
        task.shutdown();
    }
    if let Scheduler::MultiThread(mt) = &shared.scheduler {
        mt.drain_injector();
    }
}

/// Called by `block_on` before each poll of its future: when a task panic shut the runtime
/// down, waits for its workers to exit and resumes that panic (or panics with
/// `PANICKED_BLOCK_ON` when another `block_on` took it already). Returns otherwise.
#[inline]
#[track_caller]
pub(crate) fn check(handle: &Handle) {
    if handle.shared.panics.has_shut_down() {
        resume(handle);
    }
}

/// `check` once the runtime is known to have shut down on a task panic.
#[cold]
#[track_caller]
pub(crate) fn resume(handle: &Handle) -> ! {
    let shared = &handle.shared;
    if let Scheduler::MultiThread(mt) = &shared.scheduler {
        // The workers stop after their current poll; `block_on`'s caller then sees a runtime
        // that no longer runs anything. A thread that left the worker role in
        // `block_in_place` still counts as a worker until it returns: it cannot wait for
        // itself.
        let deadline = mt.is_worker_thread().then(Instant::now);
        let _ = mt.shutdown(&shared.driver_handle, deadline);
    }
    let payload = shared.panics.payload.lock().take();
    match payload {
        Some(payload) => std::panic::resume_unwind(payload),
        None => panic!("{PANICKED_BLOCK_ON}"),
    }
}

#[cfg(test)]
mod tests {
    use super::message;

    #[test]
    fn the_message_is_read_from_str_and_string_payloads() {
        assert_eq!(message(&"static"), Some("static"));
        assert_eq!(message(&String::from("owned")), Some("owned"));
        assert_eq!(message(&7u32), None);
    }
}
