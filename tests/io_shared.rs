//! Sockets shared by many waiting tasks, wakers that panic, and runtimes that go away while
//! something still waits on one of their sockets.
//!
//! Every test here failed (hung into the watchdog, or lost a worker) before the reactor kept
//! a list of waiters per direction, woke them with panics contained, and failed every wait
//! once its runtime had shut down.
#![cfg(unix)]

mod common;

use std::future::Future;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use flywheel::io::Async;
use flywheel::net::{TcpListener, TcpStream, UdpSocket, UnixListener};
use flywheel::task::JoinHandle;
use flywheel::Runtime;
use futures::task::ArcWake;
use futures::{AsyncReadExt, AsyncWriteExt};

/// Polls `inner`, and sends on `polled` once the first poll has returned (so the caller
/// knows the future has registered its interest).
struct SignalPolled<F> {
    inner: Pin<Box<F>>,
    polled: Option<futures::channel::oneshot::Sender<()>>,
}

impl<F: Future> Future for SignalPolled<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let out = self.inner.as_mut().poll(cx);
        if let Some(tx) = self.polled.take() {
            let _ = tx.send(());
        }
        out
    }
}

/// Spawns `future` and returns once it has been polled (and is waiting, for a socket wait
/// whose event has not come yet).
async fn spawn_polled<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (tx, rx) = futures::channel::oneshot::channel();
    let handle = flywheel::spawn(SignalPolled {
        inner: Box::pin(future),
        polled: Some(tx),
    });
    rx.await.expect("the task was polled");
    handle
}

/// Aborts `handle` and waits until the task is gone (its future dropped).
async fn abort_and_wait<T: Send + 'static>(handle: JoinHandle<T>) {
    handle.abort();
    let err = handle
        .await
        .err()
        .expect("the task was waiting, not finished");
    assert!(err.is_cancelled(), "{err}");
}

fn one_worker() -> Runtime {
    flywheel::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap()
}

fn socket_path(name: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "flywheel-shared-{name}-{}.sock",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    path
}

// ---------------------------------------------------------------------------------------
// Many tasks waiting on one socket.

#[test]
fn aborting_a_later_accept_does_not_strand_the_first() {
    common::watchdog(|| {
        for (name, build) in common::FLAVOURS {
            build().block_on(async {
                let listener = Arc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
                let addr = listener.local_addr().unwrap();
                let l = listener.clone();
                let first = spawn_polled(async move { l.accept().await.map(|(_, a)| a) }).await;
                let l = listener.clone();
                let later = spawn_polled(async move { l.accept().await.map(|(_, a)| a) }).await;
                abort_and_wait(later).await;
                let client = std::net::TcpStream::connect(addr).unwrap();
                let peer = first.await.unwrap().unwrap();
                assert_eq!(peer, client.local_addr().unwrap(), "{name}");
            });
        }
    });
}

#[test]
fn aborting_a_later_unix_accept_does_not_strand_the_first() {
    common::watchdog(|| {
        for (name, build) in common::FLAVOURS {
            let path = socket_path(name);
            build().block_on(async {
                let listener = Arc::new(UnixListener::bind(&path).unwrap());
                let l = listener.clone();
                let first = spawn_polled(async move { l.accept().await.map(|_| ()) }).await;
                let l = listener.clone();
                let later = spawn_polled(async move { l.accept().await.map(|_| ()) }).await;
                abort_and_wait(later).await;
                let _client = std::os::unix::net::UnixStream::connect(&path).unwrap();
                first.await.unwrap().unwrap();
            });
            std::fs::remove_file(&path).unwrap();
        }
    });
}

#[test]
fn aborting_a_later_udp_recv_does_not_strand_the_first() {
    common::watchdog(|| {
        for (name, build) in common::FLAVOURS {
            build().block_on(async {
                let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
                let addr = socket.local_addr().unwrap();
                let s = socket.clone();
                let first = spawn_polled(async move {
                    let mut buf = [0u8; 16];
                    let (n, _) = s.recv_from(&mut buf).await?;
                    Ok::<_, io::Error>(buf[..n].to_vec())
                })
                .await;
                let s = socket.clone();
                let later = spawn_polled(async move {
                    let mut buf = [0u8; 16];
                    s.recv_from(&mut buf).await
                })
                .await;
                abort_and_wait(later).await;
                let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                sender.send_to(b"ping", addr).unwrap();
                assert_eq!(first.await.unwrap().unwrap(), b"ping", "{name}");
            });
        }
    });
}

#[test]
fn aborting_a_later_readable_does_not_strand_the_first() {
    common::watchdog(|| {
        for (name, build) in common::FLAVOURS {
            build().block_on(async {
                let (a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
                a.set_nonblocking(true).unwrap();
                let a = Arc::new(Async::new(a).unwrap());
                let r = a.clone();
                let first = spawn_polled(async move { r.readable().await }).await;
                let r = a.clone();
                let later = spawn_polled(async move { r.readable().await }).await;
                abort_and_wait(later).await;
                b.write_all(b"!").unwrap();
                first.await.unwrap().unwrap();
                // The same for writers: fill the buffer, then let a write that would block
                // clear the stale writable bit, so both waiters below must wait.
                loop {
                    match a.get_ref().write(&[0u8; 4096]) {
                        Ok(_) => continue,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => panic!("{e}"),
                    }
                }
                assert!(futures::poll!((&*a).write(&[0u8; 4096])).is_pending());
                let w = a.clone();
                let first = spawn_polled(async move { w.writable().await }).await;
                let w = a.clone();
                let later = spawn_polled(async move { w.writable().await }).await;
                abort_and_wait(later).await;
                let mut sink = vec![0u8; 1 << 20];
                b.set_nonblocking(true).unwrap();
                while b.read(&mut sink).is_ok() {}
                first.await.unwrap().unwrap();
                let _ = name;
            });
        }
    });
}

/// `TASKS` tasks each accept `PER_TASK` connections on one listener; all are served.
#[test]
fn many_tasks_on_one_listener_are_all_served() {
    const TASKS: usize = 8;
    const PER_TASK: usize = 4;
    common::watchdog(|| {
        for (name, build) in common::FLAVOURS {
            build().block_on(async {
                let listener = Arc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
                let addr = listener.local_addr().unwrap();
                let mut tasks = Vec::new();
                for _ in 0..TASKS {
                    let l = listener.clone();
                    tasks.push(
                        spawn_polled(async move {
                            let mut conns = Vec::new();
                            for _ in 0..PER_TASK {
                                conns.push(l.accept().await.unwrap().0);
                            }
                            conns
                        })
                        .await,
                    );
                }
                let clients = std::thread::spawn(move || {
                    (0..TASKS * PER_TASK)
                        .map(|_| std::net::TcpStream::connect(addr).unwrap())
                        .collect::<Vec<_>>()
                });
                let mut served = 0;
                for task in tasks {
                    served += task.await.unwrap().len();
                }
                assert_eq!(served, TASKS * PER_TASK, "{name}");
                drop(clients.join().unwrap());
            });
        }
    });
}

/// The same with datagrams: `TASKS` tasks each receive `PER_TASK` datagrams on one socket.
#[test]
fn many_tasks_on_one_udp_socket_are_all_served() {
    const TASKS: usize = 8;
    const PER_TASK: usize = 4;
    common::watchdog(|| {
        for (name, build) in common::FLAVOURS {
            build().block_on(async {
                let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
                let addr = socket.local_addr().unwrap();
                let mut tasks = Vec::new();
                for _ in 0..TASKS {
                    let s = socket.clone();
                    tasks.push(
                        spawn_polled(async move {
                            let mut buf = [0u8; 8];
                            for _ in 0..PER_TASK {
                                s.recv(&mut buf).await.unwrap();
                            }
                        })
                        .await,
                    );
                }
                let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                for i in 0..TASKS * PER_TASK {
                    sender.send_to(&[i as u8], addr).unwrap();
                }
                for task in tasks {
                    task.await.unwrap();
                }
                let _ = name;
            });
        }
    });
}

/// Waiters are aborted in every state a wait can be in (not yet polled, registered, woken
/// but not yet re-polled, finished); the survivors are all served, round after round.
#[test]
fn waiters_aborted_at_every_point_never_strand_the_others() {
    const WAITERS: usize = 6;
    common::watchdog_for(Duration::from_secs(30), || {
        let rounds = common::iterations(200);
        for (name, build) in common::FLAVOURS {
            let rt = build();
            rt.block_on(async {
                let listener = Arc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
                let addr = listener.local_addr().unwrap();
                let mut clients = Vec::new();
                for round in 0..rounds {
                    let mut waiters = Vec::new();
                    for i in 0..WAITERS {
                        let l = listener.clone();
                        let wait = async move { l.accept().await.map(|_| ()) };
                        // Some are only spawned (aborted before their first poll).
                        let handle = if (round + i) % 3 == 0 {
                            flywheel::spawn(wait)
                        } else {
                            spawn_polled(wait).await
                        };
                        waiters.push(handle);
                    }
                    // Abort a different subset each round (never all of them).
                    let pattern = (round * 7 + 1) % ((1 << WAITERS) - 1);
                    let (doomed, survivors): (Vec<_>, Vec<_>) = waiters
                        .into_iter()
                        .enumerate()
                        .partition(|(i, _)| pattern & (1 << i) != 0);
                    // Half the rounds: the connection arrives first, so aborted waiters may
                    // already be woken (or even have accepted) when the abort lands.
                    let early = round % 2 == 0;
                    if early {
                        clients.push(std::net::TcpStream::connect(addr).unwrap());
                        flywheel::task::yield_now().await;
                    }
                    let mut accepted_by_doomed = 0;
                    for (_, handle) in doomed {
                        handle.abort();
                        if let Ok(result) = handle.await {
                            result.unwrap();
                            accepted_by_doomed += 1;
                        }
                    }
                    let owed = survivors.len() + accepted_by_doomed - usize::from(early);
                    for _ in 0..owed {
                        clients.push(std::net::TcpStream::connect(addr).unwrap());
                    }
                    for (_, handle) in survivors {
                        handle.await.unwrap().unwrap();
                    }
                    clients.clear();
                }
            });
            let _ = name;
        }
    });
}

// ---------------------------------------------------------------------------------------
// A waker that panics when the reactor wakes it.

/// A waker that panics whenever it is woken.
struct PanickingWaker {
    wakes: AtomicUsize,
}

impl ArcWake for PanickingWaker {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.wakes.fetch_add(1, Ordering::SeqCst);
        panic!("this waker panics on purpose");
    }
}

#[test]
fn a_panicking_readiness_waker_does_not_stop_the_runtime() {
    common::watchdog(|| {
        for (name, build) in [
            ("current_thread", common::current_thread as fn() -> Runtime),
            ("one worker", one_worker),
        ] {
            let rt = build();
            let (a, mut a_peer) = std::os::unix::net::UnixStream::pair().unwrap();
            let (b, mut b_peer) = std::os::unix::net::UnixStream::pair().unwrap();
            a.set_nonblocking(true).unwrap();
            b.set_nonblocking(true).unwrap();
            let panicking = Arc::new(PanickingWaker {
                wakes: AtomicUsize::new(0),
            });
            rt.block_on(async {
                let a = Async::new(a).unwrap();
                let b = Arc::new(Async::new(b).unwrap());
                // A hand-polled wait on `a`, registered with the panicking waker.
                let waker = futures::task::waker(panicking.clone());
                let mut wait_a = Box::pin(a.readable());
                let mut cx = Context::from_waker(&waker);
                assert!(wait_a.as_mut().poll(&mut cx).is_pending());
                // A normal task waits on `b`.
                let b2 = b.clone();
                let normal = spawn_polled(async move { b2.readable().await }).await;
                // Both become readable at once: one reactor turn sees both events.
                a_peer.write_all(b"a").unwrap();
                b_peer.write_all(b"b").unwrap();
                normal.await.unwrap().unwrap();
                // The runtime still serves sockets afterwards.
                let again = spawn_polled({
                    let b = b.clone();
                    async move {
                        let mut buf = [0u8; 8];
                        (&*b).read(&mut buf).await
                    }
                })
                .await;
                assert_eq!(again.await.unwrap().unwrap(), 1, "{name}");
                // This read has to wait for a new event.
                let late = spawn_polled({
                    let b = b.clone();
                    async move {
                        let mut buf = [0u8; 8];
                        (&*b).read(&mut buf).await
                    }
                })
                .await;
                b_peer.write_all(b"c").unwrap();
                assert_eq!(late.await.unwrap().unwrap(), 1, "{name}");
                drop(wait_a);
            });
            assert_eq!(panicking.wakes.load(Ordering::SeqCst), 1, "{name}");
        }
    });
}

// ---------------------------------------------------------------------------------------
// Nothing waits for a runtime that is gone.

fn assert_shut_down(err: &io::Error) {
    assert!(
        err.to_string().contains("shut down"),
        "unexpected error: {err}"
    );
}

/// A plain thread inside a multi-thread `Handle::block_on(listener.accept())` gets an error
/// once the runtime is dropped, although the thread still holds a `Handle`.
#[test]
fn accept_in_handle_block_on_fails_when_the_runtime_is_dropped() {
    common::watchdog(|| {
        let rt = common::multi_thread();
        let handle = rt.handle().clone();
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind");
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let result = handle.block_on(async {
                let mut accept = Box::pin(listener.accept());
                futures::future::poll_fn(|cx| {
                    let poll = accept.as_mut().poll(cx);
                    let _ = tx.send(());
                    poll
                })
                .await
            });
            (result.map(|_| ()), handle)
        });
        rx.recv().unwrap();
        drop(rt);
        let (result, _handle) = thread.join().unwrap();
        assert_shut_down(&result.unwrap_err());
    });
}

/// A read polled by a foreign executor on another thread ends with an error when the
/// runtime that owns the socket is dropped; so do later waits, and new sockets fail.
#[test]
fn a_read_on_a_foreign_executor_fails_when_the_runtime_is_dropped() {
    common::watchdog(|| {
        for (name, build) in common::FLAVOURS {
            let rt = build();
            let handle = rt.handle().clone();
            let (stream, _peer) = rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let client = TcpStream::connect(listener.local_addr().unwrap());
                let (client, accepted) = futures::join!(client, listener.accept());
                (client.unwrap(), accepted.unwrap().0)
            });
            let (tx, rx) = mpsc::channel();
            let reader = std::thread::spawn(move || {
                let mut stream = stream;
                let mut buf = [0u8; 8];
                let result = futures::executor::block_on(async {
                    let mut read = stream.read(&mut buf);
                    futures::future::poll_fn(|cx| {
                        let poll = Pin::new(&mut read).poll(cx);
                        let _ = tx.send(());
                        poll
                    })
                    .await
                });
                (result, stream)
            });
            rx.recv().unwrap();
            drop(rt);
            let (result, stream) = reader.join().unwrap();
            assert_shut_down(&result.unwrap_err());
            // Later waits fail at once, too.
            futures::executor::block_on(async {
                assert_shut_down(&stream.readable().await.unwrap_err());
                assert_shut_down(&stream.writable().await.unwrap_err());
            });
            drop(handle);
            let _ = name;
        }
    });
}

/// A socket created on one runtime and waited on from a task of another runtime: the wait
/// ends with an error when the socket's runtime is dropped, and the other runtime goes on.
#[test]
fn a_socket_used_from_another_runtime_fails_when_its_runtime_is_dropped() {
    common::watchdog(|| {
        let home = common::current_thread();
        let socket = home.block_on(UdpSocket::bind("127.0.0.1:0")).unwrap();
        let away = common::multi_thread();
        let (tx, rx) = mpsc::channel();
        let task = away.spawn(async move {
            let mut buf = [0u8; 8];
            let mut recv = Box::pin(socket.recv(&mut buf));
            futures::future::poll_fn(|cx| {
                let poll = recv.as_mut().poll(cx);
                let _ = tx.send(());
                poll
            })
            .await
        });
        rx.recv().unwrap();
        drop(home);
        let result = away.block_on(task).unwrap();
        assert_shut_down(&result.unwrap_err());
        assert_eq!(away.block_on(async { 1 + 1 }), 2);
    });
}
