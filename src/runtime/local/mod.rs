//! Local tasks (`spawn_local`): futures that are not `Send`, each pinned to the thread that
//! spawned it, and `LocalRuntime`, the current-thread runtime built to run them.
//!
//! One thread's local tasks on one runtime share a `LocalTasks`: it is the scheduler their
//! cells hold (`LocalScheduler`, the `Schedule` seam of `task/`), and it keeps:
//! - `list`: every unfinished local task, so its owner can drop each future on its own
//!   thread at shutdown. This list's reference is what keeps an unfinished local task's
//!   allocation alive wherever its other references go (rule L3 in `task/cell.rs`); only
//!   the owner thread removes a task from it, once the task completed or was cancelled there.
//! - `inbox`: tasks woken (or aborted) on other threads. A foreign thread never runs a local
//!   task: it pushes it here and unparks the owner (its worker, or the current-thread
//!   runtime's parker); the owner moves the inbox into its own run queue.
//!
//! Where the runnable local tasks wait on the owner thread:
//! - on a current-thread runtime, in the core's one run queue, with `block_on` and the
//!   ordinary tasks (so they are polled in the same order as the others). The runtime's
//!   local tasks belong to one thread: the first to spawn one while it drives the runtime
//!   (for a `LocalRuntime`, the thread that built it). Another thread may still drive the
//!   runtime later (`Handle::block_on`): it runs the ordinary tasks; a local task it finds in
//!   the queue goes back to the owner's inbox untouched (the cell checks, L1) and waits for
//!   the owner's next `block_on`, and `spawn_local` there panics;
//! - on a multi-thread worker, in the worker's `LocalQueue`, which no other worker can
//!   steal from: the worker takes a local task on every other tick and whenever it has
//!   nothing else, so local and ordinary tasks share it fairly.
//!
//! Shutdown: the owner drops the futures (`LocalTasks::shutdown`): a worker when it exits,
//! a current-thread runtime when it is dropped on the owner thread — always so for a
//! `LocalRuntime`, which is `!Send`. A plain current-thread runtime dropped on another
//! thread cannot drop them there: the tasks, their futures and their `LocalTasks` are
//! leaked (never dropped, never freed), which is safe, and said in `spawn_local`'s docs.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::{Arc, Weak};

use crossbeam_deque::{Injector, Steal};
use parking_lot::Mutex;

use crate::runtime::scheduler::Core;
use crate::runtime::{context, Handle, RuntimeShared};
use crate::task::cell::{Cell, Home, Owner, Task};
use crate::task::schedule::{Header, Reason, Schedule, Spawned, NOT_OWNED};
use crate::task::JoinHandle;

mod queue;
mod runtime;

pub(crate) use queue::{current_local_tasks, LocalQueue};
pub use runtime::LocalRuntime;

/// Told to users who call `spawn_local` where no thread of theirs runs local tasks.
pub(crate) const SPAWN_LOCAL_OUTSIDE: &str = "`spawn_local` must be called on a thread \
    that runs a flywheel runtime's tasks: inside `block_on` of a current-thread runtime or a \
    `LocalRuntime`, or in a task on a multi-thread runtime's worker. It cannot be called \
    outside a runtime, in a multi-thread runtime's `block_on` future or in a \
    `spawn_blocking` closure: there, build a `LocalRuntime` \
    (`Builder::new_current_thread().build_local()`) and spawn on it, or use \
    `flywheel::spawn` for futures that are `Send`";

/// Told to users who call `spawn_local` on a current-thread runtime whose local tasks belong
/// to another thread.
pub(crate) const SPAWN_LOCAL_OTHER_THREAD: &str = "`spawn_local` called on a current-thread \
    runtime whose local tasks belong to another thread (the first one that spawned a local \
    task on it, or built its `LocalRuntime`): a runtime's local tasks all run on one thread. \
    Spawn them from that thread, or give this thread a `LocalRuntime` of its own";

/// Whose thread the owner of a `LocalTasks` is: how a foreign wake gets its attention.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Target {
    /// Worker `index` of a multi-thread runtime.
    Worker(usize),
    /// Whichever thread holds a current-thread runtime's core.
    CurrentThread,
}

/// One thread's local tasks on one runtime (see the module docs).
pub(crate) struct LocalTasks {
    /// The thread that owns them.
    owner: Owner,
    /// The runtime, to wake the owner; weak so that leaked tasks do not leak the runtime.
    runtime: Weak<RuntimeShared>,
    /// The runtime's address, to recognise its scheduler core on this thread.
    runtime_addr: usize,
    target: Target,
    /// Tasks queued by other threads, for the owner to take.
    inbox: Injector<Task>,
    /// Unfinished local tasks; changed by the owner thread only (the lock is there because
    /// the struct is shared, and for `Handle::dump`, which reads headers under it).
    list: Mutex<List>,
    /// Set by the owner's `shutdown`: the inbox takes no more tasks.
    closed: AtomicBool,
    /// `list.len` and the tasks ever spawned here, for `RuntimeMetrics`: written by the
    /// owner under the list's lock (plain stores), read relaxed without it.
    alive: AtomicUsize,
    spawned: AtomicU64,
}

#[derive(Default)]
struct List {
    slots: Vec<Option<Task>>,
    free: Vec<usize>,
    len: usize,
    closed: bool,
}

/// A local task's scheduler, stored in its cell.
#[derive(Clone)]
pub(crate) struct LocalScheduler(Arc<LocalTasks>);

impl LocalTasks {
    /// The calling thread's local tasks on the runtime of `handle`.
    pub(crate) fn new(handle: &Handle, target: Target) -> Arc<LocalTasks> {
        let tasks = Arc::new(LocalTasks {
            owner: Owner::here(),
            runtime: Arc::downgrade(&handle.shared),
            runtime_addr: Arc::as_ptr(&handle.shared) as usize,
            target,
            inbox: Injector::new(),
            list: Mutex::new(List::default()),
            closed: AtomicBool::new(false),
            alive: AtomicUsize::new(0),
            spawned: AtomicU64::new(0),
        });
        let mut locals = handle.shared.locals.lock();
        locals.retain(|tasks| tasks.strong_count() > 0);
        locals.push(Arc::downgrade(&tasks));
        drop(locals);
        tasks
    }

    /// Unfinished local tasks, and local tasks ever spawned (any thread, relaxed).
    pub(crate) fn counts(&self) -> (usize, u64) {
        (self.alive.load(Relaxed), self.spawned.load(Relaxed))
    }

    /// Calls `f` with every unfinished local task, under the list's lock: `f` must only
    /// read (`Handle::dump` copies header fields).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Task)) {
        let list = self.list.lock();
        for task in list.slots.iter().flatten() {
            f(task);
        }
    }

    /// Whether the calling thread owns these tasks.
    pub(crate) fn is_owner(&self) -> bool {
        self.owner.is_here()
    }

    /// Spawns a local task; called on the owner thread.
    pub(crate) fn spawn<F>(self: &Arc<Self>, future: F, spawned: Spawned) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let (join, refused) = self.spawn_or_refuse(future, spawned);
        if let Some(task) = refused {
            // Shut down already: cancelled before it ever runs, here on the owner thread.
            task.shutdown();
        }
        join
    }

    /// Spawns a local task, or, when the runtime is shut down, hands it back un-run: the
    /// caller must `shutdown()` it (on this, the owner thread).
    pub(crate) fn spawn_or_refuse<F>(
        self: &Arc<Self>,
        future: F,
        spawned: Spawned,
    ) -> (JoinHandle<F::Output>, Option<Task>)
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        debug_assert!(self.is_owner(), "local tasks are spawned by their owner");
        let scheduler = LocalScheduler(self.clone());
        let (task, join) = Cell::new_local(future, scheduler.clone(), spawned);
        let inserted = {
            let mut list = self.list.lock();
            if list.closed {
                false
            } else {
                let key = list.free.pop().unwrap_or(list.slots.len());
                if key == list.slots.len() {
                    list.slots.push(Some(task.clone()));
                } else {
                    list.slots[key] = Some(task.clone());
                }
                list.len += 1;
                self.alive.store(list.len, Relaxed);
                self.spawned.store(self.spawned.load(Relaxed) + 1, Relaxed);
                task.header().owned_key.store(key, Relaxed);
                true
            }
        };
        if inserted {
            scheduler.schedule_task(task, Reason::Spawn);
            (join, None)
        } else {
            (join, Some(task))
        }
    }

    /// Moves the tasks other threads queued to the owner's `queue`; true if there were any.
    pub(crate) fn take_inbox(&self, queue: &mut VecDeque<Task>) -> bool {
        if self.inbox.is_empty() {
            return false;
        }
        let mut took = false;
        loop {
            match self.inbox.steal() {
                Steal::Success(task) => {
                    queue.push_back(task);
                    took = true;
                }
                Steal::Empty => return took,
                Steal::Retry => {}
            }
        }
    }

    /// Whether other threads queued tasks for the owner.
    pub(crate) fn has_inbox(&self) -> bool {
        !self.inbox.is_empty()
    }

    /// Whether some local task is unfinished.
    pub(crate) fn has_tasks(&self) -> bool {
        self.list.lock().len > 0
    }

    /// The owner stops running these tasks: refuses new ones and drops every unfinished
    /// future, here (a task being polled further up this thread's stack is dropped by its
    /// poller when the poll returns). Elsewhere it does nothing (the tasks are leaked).
    pub(crate) fn shutdown(&self) {
        if !self.is_owner() {
            return;
        }
        let tasks: Vec<Task> = {
            let mut list = self.list.lock();
            list.closed = true;
            list.len = 0;
            self.alive.store(0, Relaxed);
            list.free.clear();
            std::mem::take(&mut list.slots)
                .into_iter()
                .flatten()
                .collect()
        };
        self.closed.store(true, SeqCst);
        for task in &tasks {
            task.shutdown();
        }
        drop(tasks);
        self.drain_inbox();
    }

    fn drain_inbox(&self) {
        let mut queue = VecDeque::new();
        while self.take_inbox(&mut queue) {
            queue.clear();
        }
    }

    /// Whether this thread runs the core of these tasks' runtime.
    fn core_is_here(&self) -> bool {
        let runtime = self.runtime_addr as *const RuntimeShared;
        context::with_core(|core| match core {
            Some(Core::MultiThread(core)) => core.runs(runtime),
            Some(Core::CurrentThread(core)) => core.runs(runtime),
            None => false,
        })
    }

    /// Wakes the owner for a task pushed to the inbox.
    fn wake_owner(&self) {
        let Some(runtime) = self.runtime.upgrade() else {
            return;
        };
        match self.target {
            Target::Worker(index) => runtime
                .multi_thread()
                .unpark_worker(index, &runtime.driver_handle),
            Target::CurrentThread => runtime.current_thread().unpark_core(&runtime),
        }
    }
}

impl LocalScheduler {
    fn schedule_task(&self, task: Task, reason: Reason) {
        if self.runs_here() {
            LocalScheduler::schedule_here(task, reason);
        } else {
            self.schedule(task, reason);
        }
    }
}

impl Schedule for LocalScheduler {
    /// From a thread that is not the owner (or an owner outside its runtime): the inbox.
    fn schedule(&self, task: Task, _reason: Reason) {
        let tasks = &self.0;
        tasks.inbox.push(task);
        if tasks.closed.load(SeqCst) {
            // The owner has shut down and may have drained the inbox already: nobody will
            // run what was just added. Its tasks are complete; dropping a reference to one
            // here drops no future (L1, L3).
            tasks.drain_inbox();
            return;
        }
        tasks.wake_owner();
    }

    fn runs_here(&self) -> bool {
        self.0.is_owner() && self.0.core_is_here()
    }

    fn schedule_here(task: Task, reason: Reason) {
        let rest = context::with_core(move |core| match core {
            Some(Core::MultiThread(core)) => {
                core.local.push(task);
                None
            }
            Some(Core::CurrentThread(core)) => core.schedule_local(task, reason),
            None => Some(task),
        });
        assert!(
            rest.is_none(),
            "schedule_here without a core on this thread"
        );
    }

    fn release(&self, task: &Header) {
        let key = task.owned_key.load(Relaxed);
        if key == NOT_OWNED {
            return;
        }
        let removed = {
            let mut list = self.0.list.lock();
            let removed = list.slots.get_mut(key).and_then(Option::take);
            if removed.is_some() {
                list.free.push(key);
                list.len -= 1;
                self.0.alive.store(list.len, Relaxed);
            }
            removed
        };
        // Outside the lock; never the last reference (the caller is running the task).
        drop(removed);
    }
}
