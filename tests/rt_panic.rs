//! What a runtime does with a task panic: `Builder::unhandled_panic` (Ignore, ShutdownRuntime)
//! and `Builder::on_task_panic`, on both flavours, and the `#[flywheel::test]` default.
mod common;

use std::any::Any;
use std::future::{pending, Future};
use std::panic::{catch_unwind, panic_any, AssertUnwindSafe};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll};
use std::thread::{self, ThreadId};
use std::time::Duration;

use common::{watchdog, DropCounter};
use flywheel::task::{Id, JoinError, JoinHandle};
use flywheel::{Builder, Runtime, UnhandledPanic};

/// A payload that is not a string, to tell the original apart from any stand-in.
#[derive(Debug, PartialEq)]
struct Payload(u32);

/// A builder of each flavour (two workers for multi-thread).
fn builders() -> [(&'static str, Builder); 2] {
    let mut multi = Builder::new_multi_thread();
    multi.worker_threads(2);
    [
        ("current_thread", Builder::new_current_thread()),
        ("multi_thread", multi),
    ]
}

fn shutting_down(mut builder: Builder) -> Runtime {
    builder
        .unhandled_panic(UnhandledPanic::ShutdownRuntime)
        .build()
        .expect("build a runtime")
}

/// Polls a `JoinHandle` once outside any runtime: its task is complete by then.
fn try_join<T>(handle: JoinHandle<T>) -> Result<T, JoinError> {
    let mut handle = pin!(handle);
    match handle
        .as_mut()
        .poll(&mut Context::from_waker(futures::task::noop_waker_ref()))
    {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the task is not complete"),
    }
}

/// The text of a `panic!` payload (`&str` or `String`: which one depends on whether the
/// message needed formatting at run time).
fn text(payload: &(dyn Any + Send)) -> Option<&str> {
    match payload.downcast_ref::<&'static str>() {
        Some(text) => Some(text),
        None => payload.downcast_ref::<String>().map(String::as_str),
    }
}

/// Runs `f`, which must panic, and returns the payload.
fn payload_of(f: impl FnOnce()) -> Box<dyn Any + Send> {
    catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic")
}

#[test]
fn shutdown_runtime_resumes_the_original_payload_from_block_on() {
    watchdog(|| {
        for (flavour, builder) in builders() {
            let rt = shutting_down(builder);
            let panicking = rt.spawn(async { panic_any(Payload(7)) });
            let payload = payload_of(|| rt.block_on(pending::<()>()));
            assert_eq!(
                payload.downcast_ref::<Payload>(),
                Some(&Payload(7)),
                "{flavour}: block_on resumes the task's own payload"
            );
            // The JoinHandle gets a panic too, whose payload is the message (none here).
            let err = try_join(panicking).unwrap_err();
            assert!(err.is_panic(), "{flavour}");
            let stand_in = err.into_panic();
            assert_eq!(
                stand_in.downcast_ref::<String>().map(String::as_str),
                Some("Box<dyn Any>"),
                "{flavour}"
            );
        }
    });
}

#[test]
fn the_join_handle_of_the_panicking_task_gets_its_message() {
    watchdog(|| {
        for (flavour, builder) in builders() {
            let rt = shutting_down(builder);
            let disk = 3;
            let panicking = rt.spawn(async move { panic!("disk {disk} is full") });
            let payload = payload_of(|| rt.block_on(pending::<()>()));
            assert_eq!(
                payload.downcast_ref::<String>().map(String::as_str),
                Some("disk 3 is full"),
                "{flavour}: the original String"
            );
            let err = try_join(panicking).unwrap_err();
            assert_eq!(
                err.into_panic()
                    .downcast_ref::<String>()
                    .map(String::as_str),
                Some("disk 3 is full"),
                "{flavour}"
            );
        }
    });
}

#[test]
fn a_panic_counts_even_when_its_join_handle_is_awaited() {
    watchdog(|| {
        for (flavour, builder) in builders() {
            let rt = shutting_down(builder);
            let payload = payload_of(|| {
                let _ =
                    rt.block_on(async { flywheel::spawn(async { panic_any(Payload(1)) }).await });
            });
            assert_eq!(
                payload.downcast_ref::<Payload>(),
                Some(&Payload(1)),
                "{flavour}"
            );
        }
    });
}

#[test]
fn shutdown_runtime_drops_the_other_tasks_and_stops_the_workers() {
    watchdog(|| {
        for (flavour, mut builder) in builders() {
            let started = Arc::new(AtomicUsize::new(0));
            let stopped = Arc::new(AtomicUsize::new(0));
            let (on_start, on_stop) = (started.clone(), stopped.clone());
            builder
                .on_thread_start(move || {
                    on_start.fetch_add(1, SeqCst);
                })
                .on_thread_stop(move || {
                    on_stop.fetch_add(1, SeqCst);
                });
            let rt = shutting_down(builder);
            let drops = DropCounter::new();
            let (ready_tx, ready_rx) = mpsc::channel();
            for _ in 0..4 {
                let guard = drops.guard();
                let ready = ready_tx.clone();
                rt.spawn(async move {
                    let _guard = guard;
                    ready.send(()).unwrap();
                    pending::<()>().await
                });
            }
            // Queued and never polled: dropped too.
            let idle = drops.guard();
            let payload = payload_of(|| {
                rt.block_on(async move {
                    for _ in 0..4 {
                        while ready_rx.try_recv().is_err() {
                            flywheel::task::yield_now().await;
                        }
                    }
                    let _never_run = flywheel::spawn(async move {
                        let _idle = idle;
                    });
                    flywheel::spawn(async { panic_any(Payload(2)) });
                    pending::<()>().await
                })
            });
            assert_eq!(payload.downcast_ref::<Payload>(), Some(&Payload(2)));
            // Before the runtime is dropped: the panic shut it down already.
            assert_eq!(drops.count(), 5, "{flavour}: every other task was dropped");
            assert_eq!(
                stopped.load(SeqCst),
                started.load(SeqCst),
                "{flavour}: every worker exited before block_on resumed the panic"
            );
            // A later spawn is cancelled at once, a later block_on says why it cannot run.
            let late = rt.spawn(async { 1 });
            assert!(try_join(late).unwrap_err().is_cancelled(), "{flavour}");
            let again = payload_of(|| rt.block_on(async {}));
            let message = text(&*again).expect("a message");
            assert!(message.contains("panicked"), "{flavour}: {message}");
            drop(rt);
            assert_eq!(stopped.load(SeqCst), started.load(SeqCst), "{flavour}");
        }
    });
}

#[test]
fn ignore_keeps_the_runtime_running() {
    watchdog(|| {
        for (flavour, mut builder) in builders() {
            let rt = builder
                .unhandled_panic(UnhandledPanic::Ignore)
                .build()
                .unwrap();
            let out = rt.block_on(async {
                let detached = flywheel::spawn(async { panic!("detached") });
                drop(detached);
                let err = flywheel::spawn(async { panic!("joined") })
                    .await
                    .unwrap_err();
                assert!(err.is_panic());
                flywheel::spawn(async { 5 }).await.unwrap()
            });
            assert_eq!(out, 5, "{flavour}");
            // And the default is Ignore.
            let rt = common::FLAVOURS[usize::from(flavour == "multi_thread")].1();
            let err = rt
                .block_on(rt.spawn(async { panic!("default") }))
                .unwrap_err();
            assert!(err.is_panic(), "{flavour}");
            assert_eq!(rt.block_on(async { 6 }), 6, "{flavour}");
        }
    });
}

#[test]
fn abort_and_blocking_panics_do_not_shut_the_runtime_down() {
    watchdog(|| {
        for (flavour, builder) in builders() {
            let rt = shutting_down(builder);
            let out = rt.block_on(async {
                let aborted = flywheel::spawn(pending::<()>());
                aborted.abort();
                assert!(aborted.await.unwrap_err().is_cancelled());
                let blocking = flywheel::spawn_blocking(|| panic!("blocking job"));
                assert!(blocking.await.unwrap_err().is_panic());
                flywheel::spawn(async { 8 }).await.unwrap()
            });
            assert_eq!(out, 8, "{flavour}");
        }
    });
}

#[test]
fn a_panic_with_no_block_on_running_is_resumed_by_the_next_one() {
    watchdog(|| {
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .unhandled_panic(UnhandledPanic::ShutdownRuntime)
            .on_thread_stop(move || tx.lock().unwrap().send(()).unwrap())
            .build()
            .unwrap();
        let drops = DropCounter::new();
        let guard = drops.guard();
        rt.spawn(async move {
            let _guard = guard;
            pending::<()>().await
        });
        rt.spawn(async { panic_any(Payload(3)) });
        // Both workers stop by themselves.
        for _ in 0..2 {
            rx.recv_timeout(Duration::from_secs(5))
                .expect("a worker stops after the panic");
        }
        assert_eq!(drops.count(), 1, "the other task was dropped");
        let payload = payload_of(|| rt.block_on(async {}));
        assert_eq!(payload.downcast_ref::<Payload>(), Some(&Payload(3)));
    });
}

/// What `on_task_panic` and the task's awaiter saw, in order.
#[derive(Debug, PartialEq)]
enum Event {
    Hook {
        id: Id,
        file: String,
        line: u32,
        message: Option<String>,
        thread: ThreadId,
    },
    Joined(Id),
}

#[test]
fn on_task_panic_sees_the_task_on_its_thread_before_the_join_handle() {
    watchdog(|| {
        for (flavour, mut builder) in builders() {
            let events = Arc::new(Mutex::new(Vec::new()));
            let record = events.clone();
            let rt = builder
                .on_task_panic(move |p| {
                    record.lock().unwrap().push(Event::Hook {
                        id: p.id(),
                        file: p.location().file().to_owned(),
                        line: p.location().line(),
                        message: p.message().map(str::to_owned),
                        thread: thread::current().id(),
                    });
                    assert!(p.name().is_none());
                    assert!(format!("{p:?}").contains("TaskPanic"));
                })
                .build()
                .unwrap();
            let log = events.clone();
            let (id, line, thread) = rt.block_on(async move {
                let (tx, rx) = mpsc::channel();
                #[rustfmt::skip]
                let (task, line) = (flywheel::spawn(async move { tx.send(thread::current().id()).unwrap(); panic!("hook {}", 1) }), line!());
                let id = task.id();
                let err = task.await.unwrap_err();
                log.lock().unwrap().push(Event::Joined(err.id()));
                (id, line, rx.recv().unwrap())
            });
            let expected = [
                Event::Hook {
                    id,
                    file: file!().to_owned(),
                    line,
                    message: Some("hook 1".to_owned()),
                    thread,
                },
                Event::Joined(id),
            ];
            assert_eq!(*events.lock().unwrap(), expected, "{flavour}");
            if flavour == "multi_thread" {
                assert_ne!(thread, thread::current().id(), "ran on a worker");
            }
        }
    });
}

#[test]
fn a_panicking_on_task_panic_is_contained() {
    watchdog(|| {
        for (flavour, mut builder) in builders() {
            let stopped = Arc::new(AtomicUsize::new(0));
            let on_stop = stopped.clone();
            let calls = Arc::new(AtomicUsize::new(0));
            let counted = calls.clone();
            // One worker: if the hook's panic killed it, nothing would run after.
            let rt = builder
                .worker_threads(1)
                .on_thread_stop(move || {
                    on_stop.fetch_add(1, SeqCst);
                })
                .on_task_panic(move |_| {
                    counted.fetch_add(1, SeqCst);
                    panic!("the hook panics too");
                })
                .build()
                .unwrap();
            let out = rt.block_on(async {
                for _ in 0..3 {
                    let err = flywheel::spawn(async { panic!("task") }).await.unwrap_err();
                    assert!(err.is_panic());
                }
                flywheel::spawn(async { 9 }).await.unwrap()
            });
            assert_eq!(out, 9, "{flavour}");
            assert_eq!(calls.load(SeqCst), 3, "{flavour}");
            assert_eq!(stopped.load(SeqCst), 0, "{flavour}: no worker died");
        }
    });
}

// `#[flywheel::test]` defaults to ShutdownRuntime. These functions are the tests themselves,
// so a `Deadline` bounds them instead of `common::watchdog`.

use common::Deadline;

#[flywheel::test]
#[should_panic(expected = "spawned task failed")]
async fn the_test_macro_fails_a_test_whose_task_panics() {
    let _deadline = Deadline::arm(common::DEFAULT_LIMIT);
    flywheel::spawn(async { panic!("spawned task failed") });
    // Without the shutdown this would wait for ever.
    pending::<()>().await
}

#[flywheel::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "worker task failed")]
async fn the_test_macro_fails_a_multi_thread_test_whose_task_panics() {
    let _deadline = Deadline::arm(common::DEFAULT_LIMIT);
    flywheel::spawn(async { panic!("worker task failed") });
    pending::<()>().await
}

#[flywheel::test(unhandled_panic = "shutdown_runtime")]
#[should_panic(expected = "said explicitly")]
async fn the_test_macro_accepts_shutdown_runtime_explicitly() {
    let _deadline = Deadline::arm(common::DEFAULT_LIMIT);
    let _ = flywheel::spawn(async { panic!("said explicitly") }).await;
}

#[flywheel::test(unhandled_panic = "ignore")]
async fn the_test_macro_opt_out_lets_a_task_panic() {
    let _deadline = Deadline::arm(common::DEFAULT_LIMIT);
    let err = flywheel::spawn(async { panic!("expected") })
        .await
        .unwrap_err();
    assert!(err.is_panic());
    assert_eq!(flywheel::spawn(async { 4 }).await.unwrap(), 4);
}

/// A task spawned with a name (`task::Builder`) is reported under it.
#[test]
fn on_task_panic_names_a_named_task() {
    watchdog(|| {
        for (flavour, mut builder) in builders() {
            let seen = Arc::new(Mutex::new(Vec::new()));
            let record = seen.clone();
            let rt = builder
                .on_task_panic(move |p| {
                    let name = p.name().map(str::to_owned);
                    record.lock().unwrap().push((name, p.location().line()));
                })
                .build()
                .unwrap();
            let (task, line) = (
                flywheel::task::Builder::new()
                    .name("parser")
                    .spawn_on(async { panic!("bad") }, rt.handle())
                    .unwrap(),
                line!() - 2,
            );
            assert!(rt.block_on(task).unwrap_err().is_panic(), "{flavour}");
            let seen = seen.lock().unwrap().clone();
            assert_eq!(seen, [(Some("parser".to_owned()), line)], "{flavour}");
        }
    });
}
