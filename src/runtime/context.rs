//! The thread-local context: which runtime `spawn` uses here, and which scheduler core this
//! thread runs.
//!
//! Also home of the misuse panics, so their wording lives in one place.

use std::cell::{Cell, RefCell};

use crate::runtime::scheduler::Core;
use crate::runtime::Handle;

/// Told to users who call `spawn` (or `Handle::current`) outside a runtime.
pub(crate) const NO_RUNTIME: &str = "there is no flywheel runtime on this thread: call this \
    from inside `flywheel::run`, `Runtime::block_on` or a spawned task, or spawn through a \
    `Handle` (`Runtime::handle()`); `Handle::try_current()` checks without panicking";

/// Told to users who call `block_on` from a thread that already runs a runtime.
pub(crate) const NESTED_BLOCK_ON: &str = "cannot call `block_on` from inside a flywheel \
    runtime (a worker thread or another `block_on`): that would stall the threads driving \
    your tasks. `.await` the future instead, spawn it with `flywheel::spawn`, or run the \
    blocking part in `flywheel::spawn_blocking`";

/// Told to users who call `block_on` from a thread-local's destructor.
pub(crate) const TLS_DESTROYED_BLOCK_ON: &str = "cannot call `block_on` while this thread's \
    thread-locals are being destroyed (from a thread-local's destructor): flywheel keeps the \
    running scheduler in one. Finish the work before the thread exits, or hand it to a \
    runtime through a `Handle::spawn`";

/// Told to users who drop the guards of `Runtime::enter` / `Handle::enter` out of order.
pub(crate) const ENTER_OUT_OF_ORDER: &str = "`EnterGuard`s dropped out of order: the guards \
    returned by `Runtime::enter` and `Handle::enter` must be dropped in the reverse order \
    they were made (and not kept past the `block_on` or task they were made in); keep each \
    guard in its own scope, or enter the runtimes one at a time";

/// Told to users who call `block_in_place` where no worker can hand its tasks on.
pub(crate) const BLOCK_IN_PLACE_NOT_WORKER: &str = "`block_in_place` can only be called \
    on a multi-thread runtime: on a current-thread runtime no other thread could run \
    the tasks it would stall. Run the \
    blocking code with `flywheel::spawn_blocking(f).await` instead";

/// Told to users who call `Handle::block_on` on a runtime that was dropped.
pub(crate) const SHUT_DOWN_BLOCK_ON: &str = "cannot `block_on` this runtime: \
    it was shut down (its `Runtime` was dropped), so nothing can run its tasks or timers; \
    keep the `Runtime` alive for as long as you call `Handle::block_on`, or build a new one";

struct Context {
    handle: RefCell<Option<Handle>>,
    core: RefCell<Option<Core>>,
    in_runtime: Cell<bool>,
    /// How many enter guards are alive on this thread: each remembers its depth, so one
    /// dropped out of order is caught.
    depth: Cell<usize>,
    /// Set once a worker thread handed its core on in `block_in_place`.
    left_worker: Cell<bool>,
}

thread_local! {
    /// Whether `CONTEXT.core` holds a core: a thread-local without a destructor, read in one
    /// load, so the threads that run no core (a remote spawner, a `block_on` thread of a
    /// multi-thread runtime) skip the destructor-state check and the borrow of `CONTEXT`.
    static HAS_CORE: Cell<bool> = const { Cell::new(false) };
    static CONTEXT: Context = const {
        Context {
            handle: RefCell::new(None),
            core: RefCell::new(None),
            in_runtime: Cell::new(false),
            depth: Cell::new(0),
            left_worker: Cell::new(false),
        }
    };
}

/// The runtime entered on this thread, if any.
pub(crate) fn try_current() -> Option<Handle> {
    CONTEXT
        .try_with(|c| c.handle.borrow().clone())
        .ok()
        .flatten()
}

/// Runs `f` with the runtime entered on this thread, without cloning its handle.
///
/// The slot stays borrowed while `f` runs, so `f` must not run user code: a destructor
/// that enters a runtime (drops one, or calls `block_on`) would find it borrowed and panic.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Handle>) -> R) -> R {
    let mut f = Some(f);
    let result = CONTEXT.try_with(|c| match c.handle.try_borrow() {
        Ok(handle) => (f.take().expect("called once"))(handle.as_ref()),
        Err(_) => (f.take().expect("called once"))(None),
    });
    match result {
        Ok(r) => r,
        Err(_) => (f.take().expect("called once"))(None),
    }
}

/// Whether this thread already drives a runtime (a worker, or inside `block_on`).
pub(crate) fn in_runtime() -> bool {
    CONTEXT.try_with(|c| c.in_runtime.get()).unwrap_or(false)
}

/// Restores the previous current runtime when dropped.
#[must_use]
pub(crate) struct EnterGuard {
    prev: Option<Handle>,
    was_in_runtime: bool,
    /// The thread's guard count once this one was made; 0 when nothing was entered.
    depth: usize,
}

impl EnterGuard {
    /// Whether a guard made after this one on this thread is still alive: dropping this
    /// one now is out of order.
    pub(crate) fn has_inner_guards(&self) -> bool {
        self.depth != 0
            && CONTEXT
                .try_with(|c| c.depth.get() > self.depth)
                .unwrap_or(false)
    }
}

/// Sets `in_runtime` for the duration of a `block_in_place` closure and restores it after,
/// even when the closure panics.
pub(crate) struct InRuntimeReset(bool);

/// Marks this thread as not driving a runtime until the returned value drops.
pub(crate) fn exit_runtime() -> InRuntimeReset {
    InRuntimeReset(
        CONTEXT
            .try_with(|c| c.in_runtime.replace(false))
            .unwrap_or(false),
    )
}

impl Drop for InRuntimeReset {
    fn drop(&mut self) {
        let was = self.0;
        let _ = CONTEXT.try_with(|c| c.in_runtime.set(was));
    }
}

/// Records that this thread gave its worker core away (`block_in_place`): it finishes the
/// poll it is in and exits.
pub(crate) fn mark_left_worker() {
    let _ = CONTEXT.try_with(|c| c.left_worker.set(true));
}

/// Whether this thread gave its worker core away.
pub(crate) fn left_worker() -> bool {
    CONTEXT.try_with(|c| c.left_worker.get()).unwrap_or(false)
}

/// Makes `handle` the current runtime of this thread until the guard drops.
///
/// While the thread's locals are being destroyed (a runtime kept in a thread-local, dropped
/// at thread exit) there is no context to enter: the guard then does nothing, and code
/// run meanwhile sees no current runtime.
pub(crate) fn enter(handle: &Handle) -> EnterGuard {
    let entered = CONTEXT.try_with(|c| EnterGuard {
        prev: c.handle.replace(Some(handle.clone())),
        was_in_runtime: c.in_runtime.get(),
        depth: push_depth(c),
    });
    // Built only when needed: an unused guard would "restore" an empty context on drop.
    entered.unwrap_or_else(|_| EnterGuard {
        prev: None,
        was_in_runtime: false,
        depth: 0,
    })
}

fn push_depth(c: &Context) -> usize {
    let depth = c.depth.get() + 1;
    c.depth.set(depth);
    depth
}

/// Like `enter`, for a thread that is about to drive a runtime (a worker or `block_on`).
///
/// # Panics
///
/// When this thread already drives a runtime, or when its thread-locals are being destroyed
/// (`block_on` called from a thread-local's destructor: the scheduler keeps its state in one).
#[track_caller]
pub(crate) fn enter_runtime(handle: &Handle) -> EnterGuard {
    let entered = CONTEXT.try_with(|c| {
        if c.in_runtime.replace(true) {
            return None;
        }
        Some(EnterGuard {
            prev: c.handle.replace(Some(handle.clone())),
            was_in_runtime: false,
            depth: push_depth(c),
        })
    });
    match entered {
        Ok(Some(guard)) => guard,
        Ok(None) => panic!("{}", NESTED_BLOCK_ON),
        Err(_) => panic!("{}", TLS_DESTROYED_BLOCK_ON),
    }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        if self.depth == 0 {
            return;
        }
        let prev = self.prev.take();
        let was = self.was_in_runtime;
        let depth = self.depth;
        let old = CONTEXT.try_with(|c| {
            // A guard made before this one was dropped first (out of order, which panicked
            // there) and already restored what was current before it: nothing to undo.
            if c.depth.get() < depth {
                return prev;
            }
            // Also when guards made after this one are still alive (this drop is the out of
            // order one): back to the state before this guard, and those become stale.
            c.in_runtime.set(was);
            c.depth.set(depth - 1);
            c.handle.replace(prev)
        });
        // Dropped outside the borrow: it may be the last reference to a runtime.
        drop(old);
    }
}

/// Installs the scheduler core this thread runs; returns the previous one. While the
/// thread's locals are being destroyed nothing can be installed: `core` is handed back.
pub(crate) fn set_core(core: Option<Core>) -> Option<Core> {
    let mut core = Some(core);
    let installs = core.as_ref().is_some_and(Option::is_some);
    let replaced = CONTEXT.try_with(|c| {
        let prev = c.core.replace(core.take().expect("taken once"));
        HAS_CORE.set(installs);
        prev
    });
    match replaced {
        Ok(prev) => prev,
        Err(_) => core.take().expect("not taken: the closure did not run"),
    }
}

/// Runs `f` with this thread's scheduler core. `None` when the thread runs none, or when
/// the core is already borrowed further up the stack (the caller then takes the remote path).
pub(crate) fn with_core<R>(f: impl FnOnce(Option<&mut Core>) -> R) -> R {
    if !HAS_CORE.get() {
        return f(None);
    }
    let mut f = Some(f);
    let result = CONTEXT.try_with(|c| match c.core.try_borrow_mut() {
        Ok(mut core) => (f.take().expect("called once"))(core.as_mut()),
        Err(_) => (f.take().expect("called once"))(None),
    });
    match result {
        Ok(r) => r,
        // The thread-local is being destroyed: there is no core any more.
        Err(_) => (f.take().expect("called once"))(None),
    }
}
