//! Polling a `block_on` future on a thread that does not run the scheduler: the caller of a
//! multi-thread `block_on`, and a current-thread `block_on` caller while another thread
//! holds that runtime's core.
//!
//! Such a thread polls its future when it is woken and sleeps otherwise. Its waker is a
//! `ThreadWaker`: a flag plus `Thread::unpark`, one per thread (a thread is inside at most
//! one `block_on`). The future is polled under the cooperative budget, as tasks are, so a
//! future that loops on an always-ready source returns `Pending` now and then.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Release, SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread::{self, Thread};

use futures_task::{waker_ref, ArcWake};

use crate::runtime::{park, Handle};
use crate::task::coop;

/// Rounds of `park::spin` a `block_on` thread does before it sleeps.
const BLOCK_ON_SPIN_ROUNDS: u32 = 64;

/// Wakes a thread blocked in `block_on` without the scheduler.
pub(crate) struct ThreadWaker {
    thread: Thread,
    woken: AtomicBool,
    /// Set while the thread sleeps with nothing to do: a paused clock may then auto-advance
    /// (when `woken` is clear too).
    idle: AtomicBool,
}

impl ThreadWaker {
    fn new() -> Arc<ThreadWaker> {
        Arc::new(ThreadWaker {
            thread: thread::current(),
            woken: AtomicBool::new(false),
            idle: AtomicBool::new(false),
        })
    }

    /// The `block_on` future neither runs nor waits to be polled.
    pub(crate) fn is_idle(&self) -> bool {
        self.idle.load(SeqCst) && !self.woken.load(SeqCst)
    }

    /// Marks the future as woken: it is polled at the next turn.
    pub(crate) fn set_woken(&self) {
        self.woken.store(true, Release);
    }

    /// Takes the wake-up flag.
    fn take_woken(&self) -> bool {
        self.woken.swap(false, AcqRel)
    }

    /// Sleeps until woken: spins a little first (a wake-up that lands then costs one store),
    /// then parks the thread.
    fn sleep(&self, handle: &Handle) {
        if park::spin(BLOCK_ON_SPIN_ROUNDS, || self.woken.load(Acquire)) {
            return;
        }
        // Idle first, then re-check `woken`: a paused clock must never see this thread idle
        // while a wake-up is pending.
        self.idle.store(true, SeqCst);
        if !self.woken.load(SeqCst) {
            handle.shared.driver_handle.notify_idle();
            thread::park();
        }
        self.idle.store(false, SeqCst);
    }
}

impl ArcWake for ThreadWaker {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.woken.store(true, Release);
        arc_self.thread.unpark();
    }
}

thread_local! {
    static THREAD_WAKER: Arc<ThreadWaker> = ThreadWaker::new();
}

/// This thread's `ThreadWaker`. A fresh one while the thread's locals are being destroyed.
pub(crate) fn thread_waker() -> Arc<ThreadWaker> {
    THREAD_WAKER
        .try_with(Arc::clone)
        .unwrap_or_else(|_| ThreadWaker::new())
}

/// Why `poll_until` stopped.
pub(crate) enum Until<T, S> {
    /// The future finished.
    Ready(T),
    /// `stop` returned something (a current-thread core became free).
    Stopped(S),
}

/// Polls `future` on this thread each time it is woken, sleeping in between, until it is
/// ready or `stop` (asked before each poll) returns `Some`.
pub(crate) fn poll_until<F: Future + ?Sized, S>(
    handle: &Handle,
    thread_waker: &Arc<ThreadWaker>,
    mut future: Pin<&mut F>,
    mut stop: impl FnMut() -> Option<S>,
) -> Until<F::Output, S> {
    let waker = waker_ref(thread_waker);
    let mut cx = Context::from_waker(&waker);
    thread_waker.set_woken();
    loop {
        if let Some(s) = stop() {
            return Until::Stopped(s);
        }
        if thread_waker.take_woken() {
            if let Poll::Ready(output) = coop::budget(|| future.as_mut().poll(&mut cx)) {
                return Until::Ready(output);
            }
        } else {
            thread_waker.sleep(handle);
        }
    }
}
