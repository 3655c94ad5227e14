//! The current-thread scheduler: every task runs on the thread inside `block_on`.
//!
//! Tasks spawned or woken on that thread go to a plain local queue; from any other thread
//! they go to the injector and the `block_on` thread is unparked. Between batches of tasks
//! the thread polls its own future when it was woken and, when nothing is runnable, parks in
//! the driver. Tasks spawned while nobody is in `block_on` wait for the next `block_on`.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Release, SeqCst};
use std::task::{Context, Poll};

use crossbeam_deque::Injector;
use futures_task::waker_ref;
use parking_lot::{Condvar, Mutex};

use crate::runtime::context;
use crate::runtime::park::{Parker, Unparker};
use crate::runtime::scheduler;
use crate::runtime::scheduler::queue::pop_injector;
use crate::runtime::Handle;
use crate::task::cell::Task;

/// Ticks between checks of the injector before the local queue.
const GLOBAL_QUEUE_INTERVAL: u32 = 31;
/// Tasks run between two looks at the driver and at the `block_on` future.
const EVENT_INTERVAL: u32 = 61;

/// Shared state of the current-thread scheduler.
pub(crate) struct Shared {
    injector: Injector<Task>,
    parker: Parker,
    unparker: Unparker,
    /// The core, while no thread is inside `block_on`.
    core: Mutex<Option<Core>>,
    core_free: Condvar,
    /// The `block_on` future was woken.
    woken: AtomicBool,
    is_shutdown: AtomicBool,
}

/// What the thread inside `block_on` owns.
pub(crate) struct Core {
    runtime: usize,
    queue: VecDeque<Task>,
    tick: u32,
}

impl Shared {
    pub(crate) fn new() -> Shared {
        let (parker, unparker) = Parker::new();
        Shared {
            injector: Injector::new(),
            parker,
            unparker,
            core: Mutex::new(None),
            core_free: Condvar::new(),
            woken: AtomicBool::new(false),
            is_shutdown: AtomicBool::new(false),
        }
    }

    /// Makes the core, once the runtime's address is known.
    pub(crate) fn install_core(&self, runtime: *const crate::runtime::Shared) {
        *self.core.lock() = Some(Core {
            runtime: runtime as usize,
            queue: VecDeque::new(),
            tick: 0,
        });
    }

    pub(crate) fn schedule_remote(&self, task: Task, handle: &Handle) {
        self.injector.push(task);
        if self.is_shutdown.load(SeqCst) {
            while pop_injector(&self.injector).is_some() {}
            return;
        }
        self.unparker.unpark(&handle.shared.driver_handle);
    }

    /// Wakes the `block_on` future.
    pub(crate) fn wake_main(&self, handle: &crate::runtime::Shared) {
        self.woken.store(true, Release);
        self.unparker.unpark(&handle.driver_handle);
    }

    /// True when, seen from the parking `block_on` thread (whose local queue is empty),
    /// nothing can run: the paused clock may auto-advance.
    pub(crate) fn is_idle(&self) -> bool {
        !self.woken.load(SeqCst) && self.injector.is_empty()
    }

    /// Stops accepting work and drops every queued reference (the runtime then cancels the
    /// owned tasks).
    pub(crate) fn shutdown(&self) {
        self.is_shutdown.store(true, SeqCst);
        let core = self.core.lock().take();
        drop(core);
        while pop_injector(&self.injector).is_some() {}
    }
}

impl Core {
    pub(crate) fn runs(&self, runtime: *const crate::runtime::Shared) -> bool {
        self.runtime == runtime as usize
    }

    /// Queues a task on the `block_on` thread. Always succeeds (returns `None`).
    pub(crate) fn schedule_local(&mut self, task: Task) -> Option<Task> {
        self.queue.push_back(task);
        None
    }

    fn next_task(&mut self, ct: &Shared) -> Option<Task> {
        self.tick = self.tick.wrapping_add(1);
        if self.tick % GLOBAL_QUEUE_INTERVAL == 0 {
            if let Some(task) = pop_injector(&ct.injector) {
                return Some(task);
            }
        }
        self.queue
            .pop_front()
            .or_else(|| pop_injector(&ct.injector))
    }
}

/// Gives the core back when `block_on` returns or unwinds.
struct CoreGuard<'a> {
    ct: &'a Shared,
}

impl Drop for CoreGuard<'_> {
    fn drop(&mut self) {
        if let Some(scheduler::Core::CurrentThread(core)) = context::set_core(None) {
            *self.ct.core.lock() = Some(core);
            self.ct.core_free.notify_one();
        }
    }
}

fn with_core<R>(f: impl FnOnce(&mut Core) -> R) -> R {
    context::with_core(|core| match core {
        Some(scheduler::Core::CurrentThread(core)) => f(core),
        _ => unreachable!("the block_on thread holds the core"),
    })
}

/// Runs `future` to completion on this thread, running the runtime's tasks meanwhile.
pub(crate) fn block_on<F: Future>(handle: &Handle, future: F) -> F::Output {
    let _enter = context::enter_runtime(handle);
    let shared = &handle.shared;
    let ct = shared.current_thread();

    let core = {
        let mut slot = ct.core.lock();
        loop {
            if let Some(core) = slot.take() {
                break core;
            }
            if ct.is_shutdown.load(Acquire) {
                panic!("{}", context::SHUT_DOWN_BLOCK_ON);
            }
            // Another thread is inside block_on: wait for it to hand the core back.
            ct.core_free.wait(&mut slot);
        }
    };
    context::set_core(Some(scheduler::Core::CurrentThread(core)));
    let _guard = CoreGuard { ct };

    let mut future = pin!(future);
    let waker = waker_ref(shared);
    let mut cx = Context::from_waker(&waker);
    ct.woken.store(true, Release);
    // Polls of the `block_on` future and of tasks since the driver was last looked at. Both
    // count: a future that keeps waking itself (a `yield_now` loop waiting for a flag) never
    // lets this thread run out of work, yet the timer that sets the flag must still fire.
    let mut since_driver = 0;

    loop {
        if ct.woken.swap(false, AcqRel) {
            since_driver += 1;
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
        }
        let mut ran = 0;
        while ran < EVENT_INTERVAL {
            let Some(task) = with_core(|core| core.next_task(ct)) else {
                break;
            };
            task.run();
            ran += 1;
            if ct.woken.load(Acquire) {
                break;
            }
        }
        since_driver += ran;
        if since_driver >= EVENT_INTERVAL {
            since_driver = 0;
            // Busy: look at I/O and timers without blocking.
            if let Some(mut driver) = shared.driver.try_lock() {
                driver.poll(&shared.driver_handle);
            }
        } else if ran == 0 && !ct.woken.load(Acquire) {
            since_driver = 0;
            ct.parker.park(&shared.driver, &shared.driver_handle);
        }
    }
}
