//! Runtimes dropped while other threads still use them through a `Handle`: whatever those
//! threads are doing, they finish (with a result, a cancellation or the documented panic)
//! instead of waiting for a runtime that is gone.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::Duration;

use common::{current_thread, watchdog};

/// Threads queued in `Handle::block_on` behind the one that runs a current-thread runtime
/// must all wake up when that runtime is dropped. It once woke only one of them: the owner
/// of the scheduler core handed it back and woke one waiter, the drop took the core before
/// that waiter ran, and every other waiter slept for ever.
#[test]
fn block_on_waiters_of_a_dropped_current_thread_runtime_all_return() {
    const WAITERS: usize = 3;
    watchdog(|| {
        for _ in 0..20 {
            let rt = current_thread();
            let handle = rt.handle().clone();
            let ready = Arc::new(Barrier::new(WAITERS + 1));
            let (done_tx, done_rx) = mpsc::channel();
            let waiters: Vec<_> = (0..WAITERS)
                .map(|_| {
                    let handle = handle.clone();
                    let ready = ready.clone();
                    let done_tx = done_tx.clone();
                    thread::spawn(move || {
                        ready.wait();
                        // Returns 1, or panics because the runtime is gone: both are fine.
                        let out = catch_unwind(AssertUnwindSafe(|| handle.block_on(async { 1 })));
                        done_tx.send(out.is_ok()).unwrap();
                    })
                })
                .collect();
            // This thread holds the core while the waiters queue up behind it...
            rt.block_on(async {
                ready.wait();
                // No event says "they are waiting now": give them time to get there (if they
                // are late, this round checks less, never wrongly).
                thread::sleep(Duration::from_millis(20));
            });
            // ...then drops the runtime the moment it hands the core back.
            drop(rt);
            for _ in 0..WAITERS {
                done_rx
                    .recv_timeout(Duration::from_secs(5))
                    .expect("a thread in Handle::block_on never returned after the drop");
            }
            for waiter in waiters {
                waiter.join().unwrap();
            }
        }
    });
}
