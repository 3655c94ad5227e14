//! `flywheel::signal`: deliveries reach every listener on every runtime, coalesce between
//! `recv` calls, end with the runtime; forbidden signals are refused.
//!
//! The tests of this file share one process and its signals, so they take `LOCK` in turn:
//! a signal raised by one test would otherwise count as a delivery in another.

mod common;

use std::io;
use std::sync::{mpsc, Arc, Barrier};
use std::time::Duration;

use common::{watchdog, FLAVOURS};
use flywheel::signal::unix::{signal, Signal, SignalKind};
use futures::StreamExt;
use parking_lot::Mutex;

static LOCK: Mutex<()> = parking_lot::const_mutex(());

/// How long a listener must stay quiet to count as "saw nothing" (one-sided: a wrong
/// delivery would arrive at once).
const QUIET: Duration = Duration::from_millis(150);

/// Raises `kind` on this thread: the handler has run when this returns.
fn raise(kind: SignalKind) {
    signal_hook::low_level::raise(kind.as_raw_value()).expect("raise a signal");
}

/// Sends `kind` to this process with the `kill` command: a process-directed signal that
/// any thread may take.
fn kill_self(kind: SignalKind) -> io::Result<()> {
    let status = std::process::Command::new("kill")
        .arg(format!("-{}", kind.as_raw_value()))
        .arg(std::process::id().to_string())
        .status()?;
    assert!(status.success(), "kill failed: {status}");
    Ok(())
}

#[test]
fn recv_sees_every_delivery_after_the_last_one() {
    let _serial = LOCK.lock();
    watchdog(|| {
        for (name, build) in FLAVOURS {
            build().block_on(async {
                let mut winch = signal(SignalKind::window_change()).unwrap();
                for round in 0..3 {
                    raise(SignalKind::window_change());
                    assert_eq!(winch.recv().await, Some(()), "{name}, raise {round}");
                    kill_self(SignalKind::window_change()).unwrap();
                    assert_eq!(winch.recv().await, Some(()), "{name}, kill {round}");
                }
            });
        }
    });
}

#[test]
fn every_listener_sees_each_delivery() {
    let _serial = LOCK.lock();
    watchdog(|| {
        for (name, build) in FLAVOURS {
            build().block_on(async {
                const LISTENERS: usize = 32;
                let tasks: Vec<_> = (0..LISTENERS)
                    .map(|_| {
                        let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
                        flywheel::spawn(async move { usr2.recv().await })
                    })
                    .collect();
                // Let the tasks park before the delivery, so wake-ups (not only the fast
                // path) are exercised.
                for _ in 0..4 {
                    flywheel::task::yield_now().await;
                }
                raise(SignalKind::user_defined2());
                for task in tasks {
                    assert_eq!(task.await.unwrap(), Some(()), "{name}");
                }
            });
        }
    });
}

#[test]
fn each_runtime_in_the_process_is_woken() {
    let _serial = LOCK.lock();
    watchdog(|| {
        let ready = Arc::new(Barrier::new(FLAVOURS.len() + 1));
        let (done_tx, done_rx) = mpsc::channel();
        for (name, build) in FLAVOURS {
            let (ready, done_tx) = (ready.clone(), done_tx.clone());
            std::thread::spawn(move || {
                build().block_on(async {
                    let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
                    ready.wait();
                    done_tx.send((name, usr1.recv().await)).unwrap();
                })
            });
        }
        ready.wait();
        kill_self(SignalKind::user_defined1()).unwrap();
        let mut seen: Vec<_> = (0..FLAVOURS.len())
            .map(|_| done_rx.recv().unwrap())
            .collect();
        seen.sort();
        assert_eq!(
            seen,
            [("current_thread", Some(())), ("multi_thread", Some(()))]
        );
    });
}

#[test]
fn deliveries_between_two_recv_calls_coalesce() {
    let _serial = LOCK.lock();
    watchdog(|| {
        for (name, build) in FLAVOURS {
            build().block_on(async {
                let mut winch = signal(SignalKind::window_change()).unwrap();
                for _ in 0..5 {
                    raise(SignalKind::window_change());
                }
                assert_eq!(winch.recv().await, Some(()), "{name}");
                let second = flywheel::time::timeout(QUIET, winch.recv()).await;
                assert!(second.is_err(), "{name}: five raises reported twice");
            });
        }
    });
}

#[test]
fn a_listener_sees_nothing_from_before_it_existed() {
    let _serial = LOCK.lock();
    watchdog(|| {
        for (name, build) in FLAVOURS {
            build().block_on(async {
                let mut early = signal(SignalKind::window_change()).unwrap();
                raise(SignalKind::window_change());
                let mut late = signal(SignalKind::window_change()).unwrap();
                assert_eq!(early.recv().await, Some(()), "{name}");
                let stale = flywheel::time::timeout(QUIET, late.recv()).await;
                assert!(stale.is_err(), "{name}: a delivery from before creation");
                raise(SignalKind::window_change());
                assert_eq!(late.recv().await, Some(()), "{name}");
            });
        }
    });
}

#[test]
fn a_signal_listened_to_again_after_all_listeners_dropped_works() {
    let _serial = LOCK.lock();
    watchdog(|| {
        for (name, build) in FLAVOURS {
            build().block_on(async {
                for round in 0..3 {
                    let mut hup = signal(SignalKind::hangup()).unwrap();
                    raise(SignalKind::hangup());
                    assert_eq!(hup.recv().await, Some(()), "{name}, round {round}");
                }
            });
        }
    });
}

#[test]
fn forbidden_and_invalid_signals_are_refused() {
    watchdog(|| {
        flywheel::run(async {
            for (raw, name) in [
                (9, "SIGKILL"),
                (19, "SIGSTOP"),
                (11, "SIGSEGV"),
                (4, "SIGILL"),
                (8, "SIGFPE"),
            ] {
                let err = signal(SignalKind::from_raw(raw)).unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{name}");
                assert!(err.to_string().contains(name), "{name}: {err}");
            }
            for raw in [0, -3] {
                let err = signal(SignalKind::from_raw(raw)).unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{raw}");
            }
            assert!(signal(SignalKind::from_raw(1000)).is_err());
        });
    });
}

#[test]
fn ctrl_c_returns_on_sigint() {
    let _serial = LOCK.lock();
    watchdog(|| {
        for (_name, build) in FLAVOURS {
            build()
                .block_on(async {
                    let mut ctrl_c = std::pin::pin!(flywheel::signal::ctrl_c());
                    let first = futures::poll!(ctrl_c.as_mut());
                    assert!(first.is_pending());
                    raise(SignalKind::interrupt());
                    ctrl_c.await
                })
                .unwrap();
        }
    });
}

#[test]
fn recv_ends_once_the_runtime_is_dropped() {
    let _serial = LOCK.lock();
    watchdog(|| {
        for (name, build) in FLAVOURS {
            let rt = build();
            let mut winch = rt
                .block_on(async { signal(SignalKind::window_change()) })
                .unwrap();
            let mut other = rt
                .block_on(async { signal(SignalKind::window_change()) })
                .unwrap();
            let waiter = rt.spawn(async move { other.recv().await });
            rt.block_on(flywheel::task::yield_now());
            drop(rt);
            // The task waiting in the runtime was dropped with it.
            assert!(futures::executor::block_on(waiter).is_err(), "{name}");
            assert_eq!(futures::executor::block_on(winch.recv()), None, "{name}");
            assert_eq!(futures::executor::block_on(winch.recv()), None, "{name}");
        }
    });
}

#[test]
fn signal_is_a_stream_of_deliveries() {
    let _serial = LOCK.lock();
    watchdog(|| {
        flywheel::run(async {
            let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
            raise(SignalKind::user_defined1());
            assert_eq!(usr1.next().await, Some(()));
            raise(SignalKind::user_defined1());
            assert_eq!(usr1.next().await, Some(()));
        });
    });
}

#[test]
fn signal_outside_a_runtime_is_an_error() {
    let err = signal(SignalKind::window_change()).unwrap_err();
    assert!(err.to_string().contains("runtime"), "{err}");
}

#[test]
fn signal_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Signal>();
    send_sync::<SignalKind>();
    fn send<T: Send>(_: &T) {}
    send(&flywheel::signal::ctrl_c());
}
