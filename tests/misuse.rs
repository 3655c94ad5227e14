//! API misuse panics, and the message says what to do instead.

mod common;

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use common::watchdog;
use flywheel::{Builder, Runtime};

fn message(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => match payload.downcast::<&'static str>() {
            Ok(s) => (*s).to_owned(),
            Err(_) => panic!("panic payload is not a message"),
        },
    }
}

/// Runs `f`, expects it to panic, and returns the panic message.
fn panic_message<R>(f: impl FnOnce() -> R) -> String {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic"),
        Err(payload) => message(payload),
    }
}

fn current_thread() -> Runtime {
    Builder::new_current_thread().build().unwrap()
}

fn multi_thread() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

/// A flavour's name and how to build it.
type Flavour = (&'static str, fn() -> Runtime);

const FLAVOURS: [Flavour; 2] = [
    ("current_thread", current_thread),
    ("multi_thread", multi_thread),
];

fn assert_points_to_a_runtime(msg: &str) {
    assert!(msg.contains("no flywheel runtime"), "{msg}");
    assert!(msg.contains("flywheel::run"), "names the way in: {msg}");
    assert!(msg.contains("Handle"), "names the alternative: {msg}");
}

fn assert_says_await(msg: &str) {
    assert!(msg.contains("block_on"), "{msg}");
    assert!(msg.contains(".await"), "says to await instead: {msg}");
}

#[test]
fn spawn_outside_a_runtime() {
    watchdog(|| {
        let msg = panic_message(|| flywheel::spawn(async {}));
        assert_points_to_a_runtime(&msg);
        let msg = panic_message(|| flywheel::spawn_blocking(|| {}));
        assert_points_to_a_runtime(&msg);
    });
}

#[test]
fn handle_current_outside_a_runtime() {
    watchdog(|| {
        let msg = panic_message(flywheel::Handle::current);
        assert_points_to_a_runtime(&msg);
        assert!(msg.contains("try_current"), "{msg}");
        let err = flywheel::Handle::try_current().unwrap_err();
        assert!(err.to_string().contains("try_current"), "{err}");
    });
}

#[test]
fn block_on_inside_a_task() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let msg = rt.block_on(async {
                flywheel::spawn(async {
                    let handle = flywheel::Handle::current();
                    panic_message(|| handle.block_on(async {}))
                })
                .await
                .unwrap()
            });
            assert_says_await(&msg);
            // The runtime is unharmed.
            assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1, "{name}");
        });
    }
}

#[test]
fn nested_block_on() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let outer = make();
            let other = make();
            let msg = outer.block_on(async {
                // Another runtime, and the same one through its handle.
                let msg = panic_message(|| other.block_on(async {}));
                let same = flywheel::Handle::current();
                let again = panic_message(|| same.block_on(async {}));
                assert_eq!(msg, again);
                msg
            });
            assert_says_await(&msg);
            // Both runtimes still work, and block_on works again once outside.
            assert_eq!(outer.block_on(async { 2 }), 2, "{name}");
            assert_eq!(other.block_on(other.spawn(async { 3 })).unwrap(), 3);
        });
    }
}

#[test]
fn run_inside_a_runtime() {
    watchdog(|| {
        let rt = multi_thread();
        let msg = rt.block_on(async { panic_message(|| flywheel::run(async {})) });
        assert_says_await(&msg);
    });
}

#[test]
fn zero_worker_threads() {
    watchdog(|| {
        let msg = panic_message(|| Builder::new_multi_thread().worker_threads(0).build());
        assert!(msg.contains("at least 1"), "{msg}");
        assert!(msg.contains("new_current_thread"), "{msg}");
        let msg = panic_message(|| Builder::new_multi_thread().max_blocking_threads(0).build());
        assert!(msg.contains("max_blocking_threads"), "{msg}");
    });
}

#[test]
fn into_panic_on_a_cancelled_error() {
    watchdog(|| {
        let rt = current_thread();
        let err = rt.block_on(async {
            let t = flywheel::spawn(std::future::pending::<()>());
            t.abort();
            t.await.unwrap_err()
        });
        let msg = panic_message(|| err.into_panic());
        assert!(
            msg.contains("is_panic") || msg.contains("try_into_panic"),
            "{msg}"
        );
    });
}

#[test]
fn block_on_through_a_handle_of_a_dropped_current_thread_runtime() {
    watchdog(|| {
        let rt = current_thread();
        let handle = rt.handle().clone();
        drop(rt);
        let msg = panic_message(|| handle.block_on(async {}));
        assert!(msg.contains("shut down"), "{msg}");
        assert!(
            msg.contains("keep the `Runtime` alive"),
            "says what to do: {msg}"
        );
    });
}

#[test]
fn block_on_through_a_handle_of_a_dropped_multi_thread_runtime() {
    watchdog(|| {
        let rt = multi_thread();
        let handle = rt.handle().clone();
        drop(rt);
        // Without the check this waited for ever: no worker is left to fire the timer.
        let msg = panic_message(|| {
            handle.block_on(flywheel::time::sleep(std::time::Duration::from_millis(1)))
        });
        assert!(msg.contains("shut down"), "{msg}");
        assert!(
            msg.contains("keep the `Runtime` alive"),
            "says what to do: {msg}"
        );
    });
}

#[test]
fn run_inside_a_runtime_panics_before_starting_threads() {
    watchdog(|| {
        let msg = panic_message(|| flywheel::run(async { flywheel::run(async {}) }));
        assert!(msg.contains("`.await` the future instead"), "{msg}");
    });
}

#[test]
fn pausing_a_paused_clock_and_resuming_a_running_one() {
    watchdog(|| {
        let rt = Builder::new_current_thread()
            .start_paused(true)
            .build()
            .unwrap();
        let msg = panic_message(|| rt.block_on(async { flywheel::time::pause() }));
        assert!(msg.contains("already paused"), "{msg}");
        assert!(msg.contains("resume()"), "says what to do: {msg}");
        rt.block_on(async { flywheel::time::resume() });
        let msg = panic_message(|| rt.block_on(async { flywheel::time::resume() }));
        assert!(msg.contains("not paused"), "{msg}");
        assert!(msg.contains("pause()"), "says what to do: {msg}");
    });
}

thread_local! {
    /// Where the last panic on this thread was raised, as the panic hook saw it.
    static PANIC_AT: std::cell::RefCell<Option<(String, u32)>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `f`, expects it to panic, and returns the file and line the panic reports. The hook
/// records the location of every panic on the panicking thread, then does what the previous
/// hook did (print the message), so other tests running meanwhile are unaffected.
fn panic_location<R>(f: impl FnOnce() -> R) -> (String, u32) {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Some(at) = info.location() {
                let _ = PANIC_AT.try_with(|p| {
                    *p.borrow_mut() = Some((at.file().to_owned(), at.line()));
                });
            }
            previous(info);
        }));
    });
    PANIC_AT.with(|p| p.borrow_mut().take());
    let _ = panic_message(f);
    PANIC_AT
        .with(|p| p.borrow_mut().take())
        .expect("the panic hook saw the panic")
}

/// Asserts that a misuse panic points at the line in this file that called the API.
#[track_caller]
fn assert_points_here((file, line): (String, u32), expected_line: u32) {
    assert_eq!(
        file,
        file!(),
        "the panic points into flywheel, not at the caller"
    );
    assert_eq!(line, expected_line, "the panic points at another line");
}

/// Misuse panics are `#[track_caller]`: the message points at the user's call.
#[test]
fn misuse_panics_point_at_the_caller() {
    watchdog(|| {
        let at = panic_location(|| flywheel::Handle::current());
        assert_points_here(at, line!() - 1);
        let at = panic_location(|| flywheel::spawn(async {}));
        assert_points_here(at, line!() - 1);
        let at = panic_location(|| flywheel::spawn_blocking(|| {}));
        assert_points_here(at, line!() - 1);

        for (name, make) in FLAVOURS {
            let rt = make();
            let other = make();
            let handle = rt.handle().clone();
            let (a, b, c, d) = rt.block_on(async {
                let a = panic_location(|| other.block_on(async {}));
                let b = panic_location(|| handle.block_on(async {}));
                let c = panic_location(|| flywheel::run(async {}));
                let d = panic_location(|| other.handle().block_on(async {}));
                (a, b, c, d)
            });
            let first = line!() - 6;
            assert_points_here(a, first);
            assert_points_here(b, first + 1);
            assert_points_here(c, first + 2);
            assert_points_here(d, first + 3);

            let handle = rt.handle().clone();
            drop(rt);
            let at = panic_location(|| handle.block_on(async {}));
            assert_points_here(at, line!() - 1);
            println!("{name}: every panic points at its caller");
        }

        let at = panic_location(|| Builder::new_multi_thread().worker_threads(0).build());
        assert_points_here(at, line!() - 1);
    });
}
