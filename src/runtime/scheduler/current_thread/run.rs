//! `block_on` on a current-thread runtime: the thread that gets the core runs the tasks
//! and the future in turns, parking in the driver when nothing is ready; a thread that
//! finds the core taken waits for it, polling its own future meanwhile.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_task::waker_ref;

use crate::runtime::block_on::{self, ThreadWaker, Until};
use crate::runtime::scheduler;
use crate::runtime::{context, Handle};
use crate::task::coop;

use super::{Core, CurrentThread};

/// Gives the core back when `block_on` returns or unwinds.
struct CoreGuard<'a> {
    ct: &'a CurrentThread,
}

impl Drop for CoreGuard<'_> {
    fn drop(&mut self) {
        if let Some(scheduler::Core::CurrentThread(mut core)) = context::set_core(None) {
            // The next holder may be another thread: it must not take the owner's inbox.
            core.local = None;
            self.ct.stats.end_busy(0);
            self.ct.put_core(core);
        }
    }
}

/// Takes a waiting `block_on` thread off the list when it stops waiting.
struct WaiterGuard<'a> {
    ct: &'a CurrentThread,
    waker: &'a Arc<ThreadWaker>,
}

impl Drop for WaiterGuard<'_> {
    fn drop(&mut self) {
        let removed = {
            let mut waiters = self.ct.waiters.lock();
            waiters
                .iter()
                .position(|w| Arc::ptr_eq(w, self.waker))
                .map(|pos| waiters.swap_remove(pos))
        };
        drop(removed);
    }
}

fn with_core<R>(f: impl FnOnce(&mut Core) -> R) -> R {
    context::with_core(|core| match core {
        Some(scheduler::Core::CurrentThread(core)) => f(core),
        _ => unreachable!("the block_on thread holds the core"),
    })
}

/// Runs `future` to completion on this thread, running the runtime's tasks meanwhile — or,
/// while another thread does that, polling only `future` until the core is free.
#[track_caller]
pub(crate) fn block_on<F: Future>(handle: &Handle, future: F) -> F::Output {
    let _enter = context::enter_runtime(handle);
    crate::runtime::panic::check(handle);
    let ct = handle.shared.current_thread();
    let mut future = pin!(future);
    let core = match ct.take_core() {
        Some(core) => core,
        None if ct.is_shutdown.load(Acquire) => panic!("{}", context::SHUT_DOWN_BLOCK_ON),
        None => match wait_for_core(handle, ct, future.as_mut()) {
            Until::Ready(output) => return output,
            Until::Stopped(core) => core,
        },
    };
    run(handle, core, future)
}

/// Polls `future` on this thread while another one holds the core, until it finishes or the
/// core is handed back.
fn wait_for_core<F: Future>(
    handle: &Handle,
    ct: &CurrentThread,
    future: Pin<&mut F>,
) -> Until<F::Output, Core> {
    let waker = block_on::thread_waker();
    // Listed before looking for the core again: `put_core` wakes whoever is listed.
    ct.waiters.lock().push(waker.clone());
    let _listed = WaiterGuard { ct, waker: &waker };
    block_on::poll_until(handle, &waker, future, || {
        crate::runtime::panic::check(handle);
        ct.take_core()
    })
}

/// The core holder's loop (see the module docs for the order).
fn run<F: Future>(handle: &Handle, mut core: Core, mut future: Pin<&mut F>) -> F::Output {
    let shared = &handle.shared;
    let ct = shared.current_thread();
    core.local = ct.local.lock().clone().filter(|local| local.is_owner());
    let prev = context::set_core(Some(scheduler::Core::CurrentThread(core)));
    debug_assert!(prev.is_none(), "enter_runtime refuses a second core");
    let _guard = CoreGuard { ct };
    ct.stats.start_busy(0);

    let waker = waker_ref(shared);
    let mut cx = Context::from_waker(&waker);
    ct.woken.store(true, Release);
    // Polls (of tasks and of the `block_on` future) since the driver was last looked at.
    // Both count: a future that keeps waking itself never lets this thread run out of work,
    // yet the timer it waits for must still fire.
    let mut since_driver = 0;
    let beat = ct.beats.as_ref().map(|beats| beats.worker(0));

    loop {
        if main_due(ct) {
            since_driver += 1;
            if let Some(beat) = beat {
                beat.poll_block_on();
            }
            if let Poll::Ready(output) = coop::budget(|| future.as_mut().poll(&mut cx)) {
                return output;
            }
        }
        let mut ran = 0;
        let event_interval = ct.intervals.event;
        while ran < event_interval {
            let Some(task) = with_core(|core| core.next_task(ct, since_driver + ran)) else {
                break;
            };
            ct.stats.worker(0).poll();
            if let Some(beat) = beat {
                beat.poll(task.header().owned_key.load(Relaxed));
            }
            task.run();
            // A task panic that shuts the runtime down is resumed at once (`runtime/panic.rs`).
            crate::runtime::panic::check(handle);
            ran += 1;
        }
        since_driver += ran;
        let nothing_left = ran < event_interval
            && !ct.woken.load(Acquire)
            && with_core(|core| core.deferred.is_empty());
        if let Some(beat) = beat {
            beat.idle();
        }
        if nothing_left {
            since_driver = 0;
            ct.stats.park(0);
            shared
                .threads
                .parked(|| ct.parker.park(&shared.driver, &shared.driver_handle));
            ct.stats.unpark(0);
        } else if since_driver >= event_interval {
            // Busy (the run queue never emptied, only yielded tasks are left, or only the
            // `block_on` future keeps waking itself): look at I/O and timers, and let the
            // yielded tasks queue up again.
            since_driver = 0;
            poll_driver(shared);
            with_core(Core::release_deferred);
        }
        // Otherwise the `block_on` future was woken: poll it first.
    }
}

/// Whether to poll the `block_on` future now: it was woken and, on a seeded runtime, the
/// draw does not let a task go first (it then stays woken for the next draw).
#[inline]
fn main_due(ct: &CurrentThread) -> bool {
    if !ct.woken.swap(false, AcqRel) {
        return false;
    }
    if ct.seed.is_some() && with_core(Core::defer_main) {
        ct.woken.store(true, Release);
        return false;
    }
    true
}

/// Looks at I/O and timers without blocking.
fn poll_driver(shared: &crate::runtime::RuntimeShared) {
    if let Some(mut driver) = shared.driver.try_lock() {
        driver.poll(&shared.driver_handle);
    }
}
