//! Timers of a runtime that is gone: every `Sleep`, `Timeout` and `Interval` waiting on it
//! ends (with a panic that says why) soon after the runtime shuts down, even while a
//! `Handle`, a `JoinHandle` or a waker of that runtime keeps its shared state alive; one
//! made after the shutdown ends at its first poll; so does a multi-thread
//! `Handle::block_on` running on a plain thread.

mod common;

use std::any::Any;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::mpsc;
use std::task::Poll;
use std::thread;
use std::time::Duration;

use common::{watchdog, FLAVOURS};
use flywheel::time::{interval, sleep, timeout};
use flywheel::{Builder, Runtime};

const HOUR: Duration = Duration::from_secs(3600);

fn message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

fn assert_says_shut_down(what: &str, payload: Box<dyn Any + Send>) {
    let msg = message(payload.as_ref());
    assert!(msg.contains("shut down"), "{what}: {msg:?}");
    assert!(
        msg.contains("Runtime"),
        "{what} says what to keep alive: {msg:?}"
    );
}

/// Runs `future` to completion on a new plain thread (a foreign executor); the receiver
/// hears once it has been polled for the first time and is waiting.
fn wait_elsewhere<F>(
    future: F,
) -> (
    mpsc::Receiver<()>,
    thread::JoinHandle<thread::Result<F::Output>>,
)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let thread = thread::spawn(move || {
        let mut future = Box::pin(future);
        let mut first = Some(tx);
        catch_unwind(AssertUnwindSafe(|| {
            futures::executor::block_on(poll_fn(|cx| {
                let polled = future.as_mut().poll(cx);
                if let Some(tx) = first.take() {
                    let _ = tx.send(());
                }
                polled
            }))
        }))
    });
    (rx, thread)
}

/// Polls `future` once inside `rt` (so it is registered with its wheel); it must be pending.
fn arm<F: Future + Unpin>(rt: &Runtime, future: &mut F) {
    rt.block_on(poll_fn(|cx| {
        assert!(Pin::new(&mut *future).poll(cx).is_pending());
        Poll::Ready(())
    }));
}

/// Runs `make` inside `rt` (so the timers it makes belong to `rt`) and returns its result.
fn inside<T>(rt: &Runtime, make: impl FnOnce() -> T) -> T {
    let mut make = Some(make);
    rt.block_on(poll_fn(
        |_| Poll::Ready(make.take().expect("polled once")()),
    ))
}

/// Things that keep a runtime's shared state alive after the `Runtime` is dropped.
struct KeepAlive {
    _handle: flywheel::Handle,
    _join: flywheel::task::JoinHandle<()>,
    _waker: std::task::Waker,
}

fn keep_alive(rt: &Runtime) -> KeepAlive {
    let join = rt.spawn(std::future::pending::<()>());
    let waker = rt.block_on(poll_fn(|cx| Poll::Ready(cx.waker().clone())));
    KeepAlive {
        _handle: rt.handle().clone(),
        _join: join,
        _waker: waker,
    }
}

#[test]
fn timers_waiting_elsewhere_end_when_their_runtime_shuts_down() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let alive = keep_alive(&rt);

            let mut nap = Box::pin(inside(&rt, || sleep(HOUR)));
            arm(&rt, &mut nap);
            let mut bounded = Box::pin(inside(&rt, || timeout(HOUR, std::future::pending::<()>())));
            arm(&rt, &mut bounded);
            let mut ticker = inside(&rt, || interval(HOUR));
            rt.block_on(ticker.tick());

            let (nap_polled, nap) = wait_elsewhere(nap);
            let (bounded_polled, bounded) = wait_elsewhere(bounded);
            let (ticker_polled, ticker) = wait_elsewhere(async move { ticker.tick().await });
            for polled in [nap_polled, bounded_polled, ticker_polled] {
                polled.recv().unwrap();
            }

            drop(rt);
            assert_says_shut_down(name, nap.join().unwrap().unwrap_err());
            assert_says_shut_down(name, bounded.join().unwrap().unwrap_err());
            assert_says_shut_down(name, ticker.join().unwrap().unwrap_err());
            drop(alive);
        });
    }
}

#[test]
fn a_timer_first_polled_after_shutdown_ends_at_once() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let alive = keep_alive(&rt);
            let nap = inside(&rt, || sleep(HOUR));
            let mut ticker = inside(&rt, || interval(HOUR));
            rt.block_on(ticker.tick());
            drop(rt);

            let err = catch_unwind(AssertUnwindSafe(|| futures::executor::block_on(nap)));
            assert_says_shut_down(name, err.unwrap_err());
            let err = catch_unwind(AssertUnwindSafe(|| {
                futures::executor::block_on(ticker.tick())
            }));
            assert_says_shut_down(name, err.unwrap_err());
            // A deadline that really passed is still just that.
            let rt2 = make();
            let done = inside(&rt2, || sleep(Duration::ZERO));
            drop(rt2);
            futures::executor::block_on(done);
            drop(alive);
        });
    }
}

#[test]
fn a_multi_thread_block_on_waiting_on_a_timer_ends_when_the_runtime_is_dropped() {
    for workers in [1, 2] {
        watchdog(move || {
            let rt = Builder::new_multi_thread()
                .worker_threads(workers)
                .build()
                .unwrap();
            let handle = rt.handle().clone();
            let (tx, rx) = mpsc::channel();
            let blocked = thread::spawn(move || {
                catch_unwind(AssertUnwindSafe(|| {
                    handle.block_on(async move {
                        let mut nap = Box::pin(sleep(HOUR));
                        poll_fn(|cx| {
                            let polled = nap.as_mut().poll(cx);
                            let _ = tx.send(());
                            polled
                        })
                        .await
                    })
                }))
            });
            rx.recv().unwrap();
            drop(rt);
            let err = blocked.join().unwrap().unwrap_err();
            assert_says_shut_down("block_on", err);
        });
    }
}
