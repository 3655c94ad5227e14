//! JoinHandle, AbortHandle and JoinError: abort in every state, detaching by dropping the
//! handle, awaiting from elsewhere, and the error's traits.

mod common;

use common::{current_thread, multi_thread, FLAVOURS};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::task::Context;
use std::thread;

use common::{panic_location, watchdog, DropCounter};
use flywheel::task::{yield_now, JoinError};

#[test]
fn join_error_traits() {
    watchdog(|| {
        let rt = current_thread();
        let cancelled = rt.block_on(async {
            let t = flywheel::spawn(std::future::pending::<()>());
            t.abort();
            t.await.unwrap_err()
        });
        assert!(cancelled.is_cancelled() && !cancelled.is_panic());
        assert!(cancelled.to_string().contains("cancelled"), "{cancelled}");
        assert!(format!("{cancelled:?}").contains("Cancelled"));
        let as_error: Box<dyn std::error::Error + Send + Sync> = Box::new(cancelled);
        assert!(as_error.source().is_none());
        let io: std::io::Error = rt
            .block_on(async {
                let t = flywheel::spawn(std::future::pending::<()>());
                t.abort();
                t.await.unwrap_err()
            })
            .into();
        assert!(io.to_string().contains("cancelled"));
        let back: Result<_, JoinError> = rt
            .block_on(async { flywheel::spawn(async { panic!("p") }).await.unwrap_err() })
            .try_into_panic();
        assert!(back.is_ok());
    });
}

#[test]
fn abort_a_pending_task_drops_its_future() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let drops = DropCounter::new();
            let polls = Arc::new(AtomicUsize::new(0));
            let guard = drops.guard();
            let p = polls.clone();
            let (tx, rx) = futures_channel::oneshot::channel::<()>();
            let task = rt.spawn(async move {
                let _guard = guard;
                p.fetch_add(1, SeqCst);
                let _ = rx.await;
                p.fetch_add(1, SeqCst);
            });
            rt.block_on(async {
                while polls.load(SeqCst) == 0 {
                    yield_now().await;
                }
            });
            assert!(!task.is_finished());
            task.abort();
            let err = rt.block_on(task).unwrap_err();
            assert!(err.is_cancelled(), "{name}: {err:?}");
            assert_eq!(drops.count(), 1, "{name}");
            assert_eq!(polls.load(SeqCst), 1, "{name}: ran on after abort");
            // The sender sees the receiver gone.
            assert!(tx.send(()).is_err());
        });
    }
}

#[test]
fn abort_before_the_first_poll() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let drops = DropCounter::new();
            let polled = Arc::new(AtomicBool::new(false));
            let (guard, p) = (drops.guard(), polled.clone());
            // On a multi-thread runtime a worker might reach it first; current-thread cannot.
            let task = rt.spawn(async move {
                let _guard = guard;
                p.store(true, SeqCst);
                std::future::pending::<()>().await;
            });
            task.abort();
            assert!(rt.block_on(task).unwrap_err().is_cancelled(), "{name}");
            assert_eq!(drops.count(), 1, "{name}");
            if name == "current_thread" {
                assert!(!polled.load(SeqCst), "aborted task was polled");
            }
        });
    }
}

#[test]
fn abort_from_another_thread_and_from_within() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let (tx, rx) = mpsc::channel();
            let task = rt.spawn(std::future::pending::<()>());
            let abort = task.abort_handle();
            thread::spawn(move || {
                abort.abort();
                tx.send(()).unwrap();
            });
            rx.recv().unwrap();
            assert!(rt.block_on(task).unwrap_err().is_cancelled(), "{name}");

            // A task that aborts itself stops at its next scheduling point.
            let after = Arc::new(AtomicBool::new(false));
            let (htx, hrx) = futures_channel::oneshot::channel::<flywheel::task::AbortHandle>();
            let a = after.clone();
            let task = rt.spawn(async move {
                let me = hrx.await.unwrap();
                me.abort();
                assert!(!me.is_finished());
                yield_now().await;
                a.store(true, SeqCst);
            });
            htx.send(task.abort_handle()).unwrap();
            assert!(rt.block_on(task).unwrap_err().is_cancelled(), "{name}");
            assert!(!after.load(SeqCst), "{name}: ran past its scheduling point");
        });
    }
}

#[test]
fn aborting_a_finished_task_changes_nothing() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let task = rt.spawn(async { 11 });
            let abort = task.abort_handle();
            rt.block_on(async {
                while !task.is_finished() {
                    yield_now().await;
                }
            });
            assert!(abort.is_finished());
            task.abort();
            abort.abort();
            assert_eq!(rt.block_on(task).unwrap(), 11, "{name}");
            abort.abort();
            assert!(abort.is_finished());
        });
    }
}

#[test]
fn dropping_a_join_handle_detaches_the_task() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let drops = DropCounter::new();
            let guard = drops.guard();
            let (go_tx, go_rx) = futures_channel::oneshot::channel::<u32>();
            let (out_tx, out_rx) = futures_channel::oneshot::channel::<u32>();
            drop(rt.spawn(async move {
                let _guard = guard;
                let n = go_rx.await.unwrap();
                flywheel::task::yield_now().await;
                out_tx.send(n + 1).unwrap();
            }));
            go_tx.send(1).unwrap();
            assert_eq!(rt.block_on(out_rx).unwrap(), 2, "{name}");
            rt.block_on(async {
                while drops.count() == 0 {
                    yield_now().await;
                }
            });
            assert_eq!(drops.count(), 1, "{name}");
            // A detached task's output is dropped too.
            let out_drops = DropCounter::new();
            let g = out_drops.guard();
            drop(rt.spawn(async move { g }));
            rt.block_on(async {
                while out_drops.count() == 0 {
                    yield_now().await;
                }
            });
        });
    }
}

#[test]
fn join_handle_is_awaitable_from_another_runtime_and_thread() {
    watchdog(|| {
        let a = multi_thread();
        let b = current_thread();
        let (tx, rx) = futures_channel::oneshot::channel::<u8>();
        let task = a.spawn(async move { rx.await.unwrap() * 2 });
        let waiter = thread::spawn(move || b.block_on(task).unwrap());
        tx.send(21).unwrap();
        assert_eq!(waiter.join().unwrap(), 42);
    });
}

#[test]
fn join_handle_rewakes_a_new_waker() {
    // Poll a JoinHandle with one waker, then await it with another: the second is woken.
    watchdog(|| {
        let rt = multi_thread();
        let (tx, rx) = futures_channel::oneshot::channel::<u8>();
        let mut task = rt.spawn(async move { rx.await.unwrap() });
        let noop = futures::task::noop_waker();
        let mut cx = Context::from_waker(&noop);
        assert!(Pin::new(&mut task).poll(&mut cx).is_pending());
        tx.send(3).unwrap();
        assert_eq!(rt.block_on(task).unwrap(), 3);
    });
}

/// Yields until `counter` reaches `n` or `limit` has passed; returns the count. (The drop
/// happens after the task's future returned, so the task itself cannot signal it.)
async fn yield_until(counter: &DropCounter, n: usize, limit: std::time::Duration) -> usize {
    let start = std::time::Instant::now();
    while counter.count() < n && start.elapsed() < limit {
        yield_now().await;
    }
    counter.count()
}

#[test]
fn a_detached_output_is_dropped_even_while_a_waker_of_the_task_lives() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            // A waker of the task kept elsewhere (a channel, a timer, a sibling) must not
            // keep the output of a detached task alive: here the output would hold it forever.
            let stash = Arc::new(std::sync::Mutex::new(None));

            // Handle dropped before the task finishes.
            let out_drops = DropCounter::new();
            let guard = out_drops.guard();
            let keep = stash.clone();
            drop(rt.spawn(async move {
                std::future::poll_fn(|cx| {
                    *keep.lock().unwrap() = Some(cx.waker().clone());
                    std::task::Poll::Ready(())
                })
                .await;
                guard
            }));
            let dropped = rt.block_on(yield_until(
                &out_drops,
                1,
                std::time::Duration::from_secs(5),
            ));
            assert_eq!(
                dropped, 1,
                "{name}: output dropped when its detached task finished"
            );

            // Handle dropped after the task finished, without reading the output.
            let out_drops = DropCounter::new();
            let guard = out_drops.guard();
            let keep = stash.clone();
            let handle = rt.spawn(async move {
                std::future::poll_fn(|cx| {
                    *keep.lock().unwrap() = Some(cx.waker().clone());
                    std::task::Poll::Ready(())
                })
                .await;
                guard
            });
            rt.block_on(async {
                while !handle.is_finished() {
                    yield_now().await;
                }
            });
            drop(handle);
            assert_eq!(
                out_drops.count(),
                1,
                "{name}: output dropped with its JoinHandle"
            );
            drop(stash);
        });
    }
}

/// A waker that counts nothing but its own drop.
struct CountedWaker(#[allow(dead_code)] common::DropGuard);

impl std::task::Wake for CountedWaker {
    fn wake(self: Arc<Self>) {}
}

#[test]
fn a_dropped_join_handle_releases_its_waker_at_once() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let (tx, rx) = futures_channel::oneshot::channel::<()>();
            let mut task = rt.spawn(async move {
                let _ = rx.await;
            });
            let drops = DropCounter::new();
            let waker = std::task::Waker::from(Arc::new(CountedWaker(drops.guard())));
            let polled = Pin::new(&mut task).poll(&mut Context::from_waker(&waker));
            assert!(polled.is_pending(), "{name}");
            drop(waker);
            assert_eq!(drops.count(), 0, "{name}: the task holds the join waker");

            // Re-polling with another waker releases the first one...
            let other = DropCounter::new();
            let waker = std::task::Waker::from(Arc::new(CountedWaker(other.guard())));
            let polled = Pin::new(&mut task).poll(&mut Context::from_waker(&waker));
            assert!(polled.is_pending(), "{name}");
            drop(waker);
            assert_eq!(drops.count(), 1, "{name}: the replaced waker was released");

            // ...and dropping the handle releases the current one, while the task runs on.
            drop(task);
            assert_eq!(
                other.count(),
                1,
                "{name}: the dropped JoinHandle's waker is still held by the task"
            );
            tx.send(()).unwrap();
        });
    }
}

#[test]
fn a_join_handle_dropped_after_completion_releases_its_waker() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let (tx, rx) = futures_channel::oneshot::channel::<()>();
            let mut task = rt.spawn(async move {
                let _ = rx.await;
            });
            let drops = DropCounter::new();
            let waker = std::task::Waker::from(Arc::new(CountedWaker(drops.guard())));
            let polled = Pin::new(&mut task).poll(&mut Context::from_waker(&waker));
            assert!(polled.is_pending(), "{name}");
            drop(waker);
            tx.send(()).unwrap();
            rt.block_on(async {
                while !task.is_finished() {
                    yield_now().await;
                }
            });
            drop(task);
            assert_eq!(drops.count(), 1, "{name}");
        });
    }
}

/// Panics when dropped, with a known payload.
struct PanicOnDrop;

const DROP_PANIC: &str = "PanicOnDrop: dropped (on purpose)";

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("{}", DROP_PANIC);
    }
}

/// Spawns a task that holds a `PanicOnDrop` across an await that never finishes, and waits
/// until it is there.
fn spawn_panicking_on_drop(rt: &flywheel::Runtime) -> flywheel::task::JoinHandle<()> {
    let (tx, rx) = mpsc::channel();
    let task = rt.spawn(async move {
        let _guard = PanicOnDrop;
        tx.send(()).unwrap();
        std::future::pending::<()>().await;
    });
    rt.block_on(async {
        while rx.try_recv().is_err() {
            yield_now().await;
        }
    });
    task
}

fn assert_drop_panic(name: &str, err: JoinError) {
    assert!(err.is_panic() && !err.is_cancelled(), "{name}: {err:?}");
    let payload = err.into_panic();
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some(DROP_PANIC),
        "{name}: the payload of the drop's panic"
    );
}

#[test]
fn an_aborted_task_whose_future_panics_on_drop_reports_the_panic() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let task = spawn_panicking_on_drop(&rt);
            task.abort();
            let err = rt.block_on(task).unwrap_err();
            assert_drop_panic(name, err);
            assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1, "{name}");
        });
    }
}

#[test]
fn a_task_cancelled_by_shutdown_whose_future_panics_on_drop_reports_the_panic() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let rt = make();
            let task = spawn_panicking_on_drop(&rt);
            drop(rt);
            let err = futures::executor::block_on(task).unwrap_err();
            assert_drop_panic(name, err);
        });
    }
}

#[test]
fn misuse_panics_point_at_the_caller() {
    use flywheel::task::select_all;
    use std::future::Ready;
    watchdog(|| {
        let here = |line| (file!().to_owned(), line);
        let rt = current_thread();
        let task = rt.spawn(std::future::pending::<()>());
        task.abort();
        let err = rt.block_on(task).unwrap_err();
        let line = line!() + 1;
        let at = panic_location(|| drop(err.into_panic()));
        assert_eq!(at, here(line), "JoinError::into_panic");

        let mut task = rt.spawn(async {});
        rt.block_on(&mut task).unwrap();
        let noop = futures::task::noop_waker();
        let mut cx = Context::from_waker(&noop);
        let line = line!() + 1;
        let at = panic_location(|| drop(Pin::new(&mut task).poll(&mut cx)));
        assert_eq!(at, here(line), "JoinHandle polled after Ready");

        let line = line!() + 1;
        let at = panic_location(|| drop(select_all(Vec::<Ready<()>>::new())));
        assert_eq!(at, here(line), "select_all of nothing");
    });
}

/// Remembers where it was last polled and checks, when dropped, that it is still there: a
/// spawned future is pinned, so the runtime must drop it in place. (It is `Unpin` only so
/// the test needs no `unsafe`; the runtime cannot tell.)
struct StaysPut {
    polled_at: usize,
    polls_left: usize,
    first_poll: Option<mpsc::Sender<()>>,
    moved: Arc<AtomicBool>,
}

impl Future for StaysPut {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> std::task::Poll<()> {
        let this = self.get_mut();
        this.polled_at = this as *const StaysPut as usize;
        if let Some(tx) = this.first_poll.take() {
            let _ = tx.send(());
        }
        if this.polls_left == 0 {
            return std::task::Poll::Ready(());
        }
        this.polls_left -= 1;
        _cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

impl Drop for StaysPut {
    fn drop(&mut self) {
        if self.polled_at != 0 && self.polled_at != self as *const StaysPut as usize {
            self.moved.store(true, SeqCst);
        }
    }
}

/// A polled future is dropped where it was polled, whether it completes, is aborted, or is
/// cancelled by the runtime's shutdown (a future moved before its drop breaks futures that
/// point into themselves, such as a socket wait).
#[test]
fn a_polled_future_is_dropped_in_place() {
    for (name, make) in FLAVOURS {
        watchdog(move || {
            let moved = Arc::new(AtomicBool::new(false));
            let rt = make();
            let stays = |polls_left, first_poll| StaysPut {
                polled_at: 0,
                polls_left,
                first_poll,
                moved: moved.clone(),
            };
            // Completes after a few polls.
            rt.block_on(rt.spawn(stays(3, None))).unwrap();
            // Aborted between polls.
            let aborted = rt.block_on(async {
                let task = flywheel::spawn(stays(usize::MAX, None));
                yield_now().await;
                task.abort();
                task.await.unwrap_err()
            });
            assert!(aborted.is_cancelled(), "{name}");
            // Cancelled by shutdown after its first poll.
            let (tx, rx) = mpsc::channel();
            let task = rt.spawn(stays(usize::MAX, Some(tx)));
            if name == "current_thread" {
                rt.block_on(async {
                    while rx.try_recv().is_err() {
                        yield_now().await
                    }
                });
            } else {
                rx.recv().unwrap();
            }
            drop(rt);
            drop(task);
            assert!(
                !moved.load(SeqCst),
                "{name}: a pinned future was moved before its drop"
            );
        });
    }
}
