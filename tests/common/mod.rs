//! Helpers shared by the integration tests: a watchdog that turns a hang into a failure,
//! and counters bumped from `Drop` and `poll`.
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// How long a test body may run before the watchdog fails it.
pub const DEFAULT_LIMIT: Duration = Duration::from_secs(10);

/// Runs `body` on its own thread and fails the test if it has not returned within `limit`.
/// A panic in `body` is re-raised here, so assertions fail the test as usual.
#[track_caller]
pub fn watchdog_for<T: Send + 'static>(
    limit: Duration,
    body: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("test-body".into())
        .spawn(move || {
            let out = body();
            let _ = tx.send(());
            out
        })
        .expect("spawn the test body thread");
    match rx.recv_timeout(limit) {
        Ok(()) => thread
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p)),
        Err(RecvTimeoutError::Disconnected) => match thread.join() {
            Ok(out) => out,
            Err(p) => std::panic::resume_unwind(p),
        },
        Err(RecvTimeoutError::Timeout) => {
            panic!("watchdog: the test did not finish within {limit:?}; it probably hangs")
        }
    }
}

/// `watchdog_for` with `DEFAULT_LIMIT`.
#[track_caller]
pub fn watchdog<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    watchdog_for(DEFAULT_LIMIT, body)
}

/// Counts how many times guards made from it were dropped.
#[derive(Clone, Default)]
pub struct DropCounter(Arc<AtomicUsize>);

impl DropCounter {
    pub fn new() -> DropCounter {
        DropCounter::default()
    }
    pub fn guard(&self) -> DropGuard {
        DropGuard(self.0.clone())
    }
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Bumps its counter when dropped; move it into a future to count that future's drops.
pub struct DropGuard(Arc<AtomicUsize>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A future that counts its polls and never completes.
pub struct CountPolls(pub Arc<AtomicUsize>);

impl Future for CountPolls {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Poll::Pending
    }
}

/// Iterations for stress loops: fewer in debug builds.
pub const fn iterations(release: usize) -> usize {
    if cfg!(debug_assertions) {
        release / 10
    } else {
        release
    }
}

/// A current-thread runtime.
pub fn current_thread() -> flywheel::Runtime {
    flywheel::Builder::new_current_thread()
        .build()
        .expect("build a current-thread runtime")
}

/// A multi-thread runtime with two workers.
pub fn multi_thread() -> flywheel::Runtime {
    flywheel::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("build a multi-thread runtime")
}

/// A flavour's name and how to build it.
pub type Flavour = (&'static str, fn() -> flywheel::Runtime);

/// Both runtime flavours, for tests that must hold on each.
pub const FLAVOURS: [Flavour; 2] = [
    ("current_thread", current_thread),
    ("multi_thread", multi_thread),
];

/// Where the panic raised by `f` (on this thread) says it comes from.
pub fn panic_location(f: impl FnOnce()) -> (String, u32) {
    use std::cell::RefCell;
    use std::sync::Once;
    thread_local! {
        static CAUGHT: RefCell<Option<(String, u32)>> = const { RefCell::new(None) };
        static CATCHING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CATCHING.with(|c| c.get()) {
                let location = info.location().map(|l| (l.file().to_owned(), l.line()));
                CAUGHT.with(|c| *c.borrow_mut() = location);
            } else {
                previous(info);
            }
        }));
    });
    CATCHING.with(|c| c.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(false));
    assert!(result.is_err(), "expected a panic");
    CAUGHT
        .with(|c| c.borrow_mut().take())
        .expect("the hook saw the panic")
}

/// Aborts the process unless dropped within `limit`: a watchdog for bodies that must run on
/// the test's own thread (`#[flywheel::test]` functions), where `watchdog` cannot move them.
pub struct Deadline(Option<mpsc::Sender<()>>);

impl Deadline {
    pub fn arm(limit: Duration) -> Deadline {
        let (tx, rx) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            if let Err(RecvTimeoutError::Timeout) = rx.recv_timeout(limit) {
                eprintln!("deadline: a #[flywheel::test] body did not finish within {limit:?}");
                std::process::abort();
            }
        });
        Deadline(Some(tx))
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        // Dropping the sender ends the deadline thread's wait with `Disconnected`.
        self.0.take();
    }
}
