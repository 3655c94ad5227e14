//! Heap allocations per spawn, wake, poll and waker clone, counted by a global allocator
//! on the thread that runs a current-thread runtime (other threads are not counted, so the
//! test harness cannot disturb the figures).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use common::watchdog;
use flywheel::task::yield_now;

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

fn note_alloc() {
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
        }
    });
}

// SAFETY: forwards every call to the system allocator unchanged; it only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_alloc();
        // SAFETY: the caller upholds `alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_alloc();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_alloc();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made on this thread while `f` runs.
fn count<R>(f: impl FnOnce() -> R) -> (R, usize) {
    ALLOCS.with(|n| n.set(0));
    COUNTING.with(|on| on.set(true));
    let out = f();
    COUNTING.with(|on| on.set(false));
    (out, ALLOCS.with(Cell::get))
}

/// Spawns `n` trivial tasks from inside `block_on` and awaits them all.
async fn spawn_and_join(n: usize, handles: &mut Vec<flywheel::task::JoinHandle<usize>>) {
    for i in 0..n {
        handles.push(flywheel::spawn(async move { i }));
    }
    for h in handles.drain(..) {
        h.await.unwrap();
    }
}

#[test]
fn one_allocation_per_spawned_task() {
    watchdog(|| {
        const N: usize = 1000;
        let rt = flywheel::Builder::new_current_thread().build().unwrap();
        let mut handles = Vec::with_capacity(N);
        // Warm-up: grows the run queue and the owned-task set to N.
        rt.block_on(spawn_and_join(N, &mut handles));
        rt.block_on(spawn_and_join(N, &mut handles));
        let ((), allocs) = count(|| rt.block_on(spawn_and_join(N, &mut handles)));
        assert!(
            (N..=N + N / 50).contains(&allocs),
            "{N} spawned, awaited tasks cost {allocs} allocations"
        );
    });
}

/// Parks its waker once, then counts polls; never finishes.
struct Parked {
    polls: Arc<AtomicUsize>,
    waker: Arc<Mutex<Option<Waker>>>,
}

impl Future for Parked {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polls.fetch_add(1, SeqCst);
        let mut slot = self.waker.lock().unwrap();
        if slot.is_none() {
            *slot = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

#[test]
fn no_allocation_per_wake_poll_or_waker_clone() {
    watchdog(|| {
        const M: usize = 1000;
        let rt = flywheel::Builder::new_current_thread().build().unwrap();
        let polls = Arc::new(AtomicUsize::new(0));
        let waker = Arc::new(Mutex::new(None));
        let task = rt.spawn(Parked {
            polls: polls.clone(),
            waker: waker.clone(),
        });
        let w: Waker = rt.block_on(async {
            loop {
                if let Some(w) = waker.lock().unwrap().clone() {
                    break w;
                }
                yield_now().await;
            }
        });
        let wake_and_poll = || {
            rt.block_on(async {
                for _ in 0..M {
                    let clone = w.clone();
                    clone.wake();
                    w.wake_by_ref();
                    let _another = w.clone();
                    // Let the task run (poll) before the next round.
                    yield_now().await;
                }
            })
        };
        wake_and_poll(); // warm-up
        let before = polls.load(SeqCst);
        let ((), allocs) = count(wake_and_poll);
        let polled = polls.load(SeqCst) - before;
        assert!(
            polled >= M,
            "the task was polled {polled} times for {M} rounds"
        );
        assert_eq!(
            allocs, 0,
            "{M} rounds of wake/clone/poll allocated {allocs} times"
        );
        task.abort();
        assert!(rt.block_on(task).unwrap_err().is_cancelled());
    });
}
