//! Readiness (`ready`, `readable`, `writable`, `poll_*_ready`) and the non-blocking `try_*`
//! calls of `TcpStream`, `UnixStream` and `UdpSocket`, on both runtime flavours.

mod common;

use std::future::{poll_fn, Future};
use std::io::{self, IoSlice, IoSliceMut, Write};
use std::pin::pin;
use std::sync::{mpsc, Arc};
use std::task::Poll;
use std::time::Duration;

use futures::channel::mpsc as async_mpsc;
use futures::{FutureExt, StreamExt};

use flywheel::io::{Interest, Ready};
use flywheel::net::{TcpListener, TcpStream, UdpSocket, UnixStream};

// Compile-time: the new value types are plain data.
const _: fn() = || {
    fn value<T: Send + Sync + Copy + Eq + std::hash::Hash + std::fmt::Debug>() {}
    value::<Interest>();
    value::<Ready>();
};

fn is_would_block<T>(r: &io::Result<T>) -> bool {
    matches!(r, Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

/// Awaits `fut`, sending on `pending` the first time it returns `Pending`: proof that the
/// task really waited (its waker was stored) rather than finding readiness at once.
async fn signal_first_pending<F: Future>(
    fut: F,
    pending: async_mpsc::UnboundedSender<()>,
) -> F::Output {
    let mut fut = pin!(fut);
    let mut told = false;
    poll_fn(|cx| match fut.as_mut().poll(cx) {
        Poll::Pending => {
            if !std::mem::replace(&mut told, true) {
                let _ = pending.unbounded_send(());
            }
            Poll::Pending
        }
        ready => ready,
    })
    .await
}

async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// Bursts the writer thread sends, each after the reader has read the previous one.
const BURSTS: usize = 20;
/// Bytes per burst.
const BURST_LEN: usize = 4096;

/// The loop from tokio's docs, `readable().await` then `try_read` until `WouldBlock`, against
/// a writer that sends in bursts and pauses in between: every byte arrives, and the loop
/// sleeps through the pauses. A `try_read` whose `WouldBlock` left readiness set would make
/// `readable()` return at once for the whole pause, and the `WouldBlock` count would run
/// into the hundreds or thousands.
#[test]
fn try_read_loop_misses_nothing_and_does_not_spin() {
    common::watchdog(|| {
        for (name, build) in common::FLAVOURS {
            let rt = build();
            let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = std_listener.local_addr().unwrap();
            let (ack_tx, ack_rx) = mpsc::channel::<()>();
            let writer = std::thread::spawn(move || {
                let (mut peer, _) = std_listener.accept().unwrap();
                for burst in 0..BURSTS {
                    peer.write_all(&[burst as u8; BURST_LEN]).unwrap();
                    ack_rx.recv().unwrap();
                    // Not synchronisation (the ack is): a pause that a spinning reader
                    // would fill with `WouldBlock`s.
                    std::thread::sleep(Duration::from_millis(2));
                }
                // Dropping `peer` closes the connection: the reader sees end of file.
            });
            let (got, would_blocks) = rt.block_on(async move {
                let reader = flywheel::spawn(async move {
                    let stream = TcpStream::connect(addr).await.unwrap();
                    let mut got = Vec::new();
                    let mut would_blocks = 0;
                    let mut buf = vec![0; 64 * 1024];
                    loop {
                        stream.readable().await.unwrap();
                        match stream.try_read(&mut buf) {
                            Ok(0) => break,
                            Ok(n) => {
                                let before = got.len() / BURST_LEN;
                                got.extend_from_slice(&buf[..n]);
                                for _ in before..got.len() / BURST_LEN {
                                    let _ = ack_tx.send(());
                                }
                            }
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => would_blocks += 1,
                            Err(e) => panic!("read failed: {e}"),
                        }
                    }
                    (got, would_blocks)
                });
                reader.await.unwrap()
            });
            writer.join().unwrap();
            assert_eq!(got.len(), BURSTS * BURST_LEN, "{name}: missed data");
            for (i, chunk) in got.chunks(BURST_LEN).enumerate() {
                assert!(
                    chunk.iter().all(|&b| b == i as u8),
                    "{name}: burst {i} corrupt"
                );
            }
            assert!(
                would_blocks <= 2 * BURSTS + 4,
                "{name}: {would_blocks} WouldBlocks for {BURSTS} bursts: the loop spins"
            );
        }
    });
}

/// After a `try_*` call returned `WouldBlock`, waiting for that direction really waits: the
/// readiness it consumed is gone, on each socket type.
#[test]
fn would_block_clears_the_readiness_it_consumed() {
    common::watchdog(|| {
        for (name, build) in common::FLAVOURS {
            build().block_on(async {
                let (client, server) = tcp_pair().await;
                client.writable().await.unwrap();
                assert_eq!(client.try_write(b"abc").unwrap(), 3);
                server.readable().await.unwrap();
                let mut buf = [0; 3];
                assert_eq!(server.try_read(&mut buf).unwrap(), 3, "{name}");
                let r = server.try_read(&mut buf);
                assert!(is_would_block(&r), "{name}: {r:?}");
                assert!(
                    server.readable().now_or_never().is_none(),
                    "{name}: tcp still ready"
                );
                assert!(
                    server.ready(Interest::READABLE).now_or_never().is_none(),
                    "{name}: tcp ready() still ready"
                );

                let (a, b) = UnixStream::pair().unwrap();
                a.writable().await.unwrap();
                a.try_write(b"xy").unwrap();
                b.readable().await.unwrap();
                // A buffer exactly the size of the data: no short read, so the readiness
                // stays until the `WouldBlock`.
                let mut two = [0; 2];
                assert_eq!(b.try_read(&mut two).unwrap(), 2);
                assert!(
                    b.readable().now_or_never().is_some(),
                    "{name}: cleared too early"
                );
                assert!(is_would_block(&b.try_read(&mut two)));
                assert!(
                    b.readable().now_or_never().is_none(),
                    "{name}: unix still ready"
                );

                let x = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let y = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                x.send_to(b"d", y.local_addr().unwrap()).await.unwrap();
                y.readable().await.unwrap();
                assert_eq!(y.try_recv_from(&mut buf).unwrap().0, 1);
                assert!(is_would_block(&y.try_recv(&mut buf)));
                assert!(
                    y.readable().now_or_never().is_none(),
                    "{name}: udp still ready"
                );
                // A new datagram makes it ready again.
                x.send_to(b"e", y.local_addr().unwrap()).await.unwrap();
                y.readable().await.unwrap();
                assert_eq!(y.try_recv(&mut buf).unwrap(), 1);
            });
        }
    });
}

/// Four tasks wait in `readable()` / `ready()` on one socket; one write wakes them all.
#[test]
fn every_task_waiting_on_one_socket_is_woken() {
    common::watchdog(|| {
        for (name, build) in common::FLAVOURS {
            build().block_on(async {
                let (client, server) = tcp_pair().await;
                let server = Arc::new(server);
                let (pending_tx, mut pending_rx) = async_mpsc::unbounded();
                // Two of each kind of wait, so a kind that kept one waker per socket
                // would strand one of its two.
                let waiters: Vec<_> = (0..4)
                    .map(|i| {
                        let (server, pending) = (server.clone(), pending_tx.clone());
                        flywheel::spawn(async move {
                            if i % 2 == 0 {
                                signal_first_pending(server.readable(), pending)
                                    .await
                                    .unwrap();
                                Ready::READABLE
                            } else {
                                signal_first_pending(server.ready(Interest::READABLE), pending)
                                    .await
                                    .unwrap()
                            }
                        })
                    })
                    .collect();
                for _ in 0..waiters.len() {
                    pending_rx.next().await.unwrap();
                }
                client.writable().await.unwrap();
                client.try_write(b"wake").unwrap();
                for waiter in waiters {
                    assert!(waiter.await.unwrap().is_readable(), "{name}");
                }
            });
        }
    });
}

/// `ready` for both directions returns as soon as either is ready, and reports both when
/// both are.
#[test]
fn ready_for_both_directions() {
    common::watchdog(|| {
        for (name, build) in common::FLAVOURS {
            build().block_on(async {
                let (a, b) = UnixStream::pair().unwrap();
                let both = Interest::READABLE | Interest::WRITABLE;
                let ready = a.ready(both).await.unwrap();
                assert!(
                    ready.is_writable() && !ready.is_readable(),
                    "{name}: {ready:?}"
                );
                b.writable().await.unwrap();
                b.try_write(b"1").unwrap();
                let ready = loop {
                    let ready = a.ready(both).await.unwrap();
                    if ready.is_readable() {
                        break ready;
                    }
                    a.readable().await.unwrap();
                };
                assert!(ready.is_writable(), "{name}: {ready:?}");
                // Only readable wanted: the writability is not reported.
                let ready = a.ready(Interest::READABLE).await.unwrap();
                assert_eq!(ready, Ready::READABLE, "{name}");
            });
        }
    });
}

/// A peer that closes shows as `read_closed` (and the read returns end of file without
/// blocking); a Unix peer that is gone also closes the writing half.
#[test]
fn ready_reports_a_peer_close() {
    common::watchdog(|| {
        for (name, build) in common::FLAVOURS {
            build().block_on(async {
                let (client, server) = tcp_pair().await;
                drop(client);
                let ready = server.ready(Interest::READABLE).await.unwrap();
                assert!(
                    ready.is_read_closed() && ready.is_readable(),
                    "{name}: {ready:?}"
                );
                assert_eq!(server.try_read(&mut [0; 8]).unwrap(), 0, "{name}");
                // Read-closed is never cleared: end of file stays ready.
                assert!(server.readable().now_or_never().is_some(), "{name}");

                let (a, b) = UnixStream::pair().unwrap();
                drop(b);
                // Wait for the read side: on multi-thread the reactor may have seen the new
                // socket writable before `b` was dropped, so "any of both" can be writable
                // alone until the close event arrives.
                a.readable().await.unwrap();
                let ready = a
                    .ready(Interest::READABLE | Interest::WRITABLE)
                    .await
                    .unwrap();
                assert!(ready.is_read_closed(), "{name}: {ready:?}");
                let ready = a.ready(Interest::WRITABLE).await.unwrap();
                assert!(ready.is_write_closed(), "{name}: {ready:?}");
                let err = a.try_write(b"x").unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{name}");
            });
        }
    });
}

/// Vectored `try_*` calls and the `poll_*_ready` methods on streams.
#[test]
fn vectored_try_calls_and_poll_ready() {
    common::watchdog(|| {
        for (name, build) in common::FLAVOURS {
            build().block_on(async {
                let (client, server) = tcp_pair().await;
                poll_fn(|cx| client.poll_write_ready(cx)).await.unwrap();
                let n = client
                    .try_write_vectored(&[IoSlice::new(b"head"), IoSlice::new(b"body")])
                    .unwrap();
                assert_eq!(n, 8, "{name}");
                let mut got: Vec<u8> = Vec::new();
                while got.len() < 8 {
                    poll_fn(|cx| server.poll_read_ready(cx)).await.unwrap();
                    let (mut x, mut y) = ([0; 3], [0; 16]);
                    let mut bufs = [IoSliceMut::new(&mut x), IoSliceMut::new(&mut y)];
                    match server.try_read_vectored(&mut bufs) {
                        Ok(n) => got.extend(x.iter().chain(&y).take(n)),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(e) => panic!("{name}: {e}"),
                    }
                }
                assert_eq!(got, b"headbody", "{name}");

                let (a, b) = UnixStream::pair().unwrap();
                poll_fn(|cx| a.poll_write_ready(cx)).await.unwrap();
                a.try_write_vectored(&[IoSlice::new(b"u"), IoSlice::new(b"v")])
                    .unwrap();
                poll_fn(|cx| b.poll_read_ready(cx)).await.unwrap();
                let mut one = [0; 1];
                let mut two = [0; 1];
                let n = b
                    .try_read_vectored(&mut [IoSliceMut::new(&mut one), IoSliceMut::new(&mut two)])
                    .unwrap();
                assert_eq!((n, one, two), (2, *b"u", *b"v"), "{name}");
            });
        }
    });
}

/// `try_write` until the send buffer is full returns `WouldBlock` and clears writability;
/// the reader draining the buffer makes it writable again.
#[test]
fn try_write_until_full_then_writable_again() {
    common::watchdog(|| {
        for (name, build) in common::FLAVOURS {
            build().block_on(async {
                let (a, b) = UnixStream::pair().unwrap();
                a.writable().await.unwrap();
                let chunk = [7u8; 16 * 1024];
                let mut written = 0;
                loop {
                    match a.try_write(&chunk) {
                        Ok(n) => written += n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => panic!("{name}: {e}"),
                    }
                }
                assert!(written > 0, "{name}");
                assert!(
                    a.writable().now_or_never().is_none(),
                    "{name}: still writable"
                );
                let reader = flywheel::spawn(async move {
                    let mut buf = vec![0; 64 * 1024];
                    let mut read = 0;
                    while read < written {
                        b.readable().await.unwrap();
                        match b.try_read(&mut buf) {
                            Ok(n) => read += n,
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                            Err(e) => panic!("{e}"),
                        }
                    }
                    b
                });
                a.writable().await.unwrap();
                let _b = reader.await.unwrap();
            });
        }
    });
}

/// UDP: `try_send` / `try_recv` / `try_send_to` / `try_recv_from`, the peeks, and the
/// `poll_*` methods.
#[test]
fn udp_try_calls_peek_and_poll() {
    common::watchdog(|| {
        for (name, build) in common::FLAVOURS {
            build().block_on(async {
                let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
                let mut buf = [0; 16];
                // Nothing has arrived: `WouldBlock`, and nothing is waited for.
                assert!(is_would_block(&b.try_recv_from(&mut buf)), "{name}");

                a.writable().await.unwrap();
                assert_eq!(a.try_send_to(b"one", b_addr).unwrap(), 3);
                b.readable().await.unwrap();
                assert_eq!(b.try_peek_from(&mut buf).unwrap(), (3, a_addr), "{name}");
                assert_eq!(b.peek_from(&mut buf).await.unwrap(), (3, a_addr));
                assert_eq!(b.try_recv_from(&mut buf).unwrap(), (3, a_addr));
                assert_eq!(&buf[..3], b"one");

                a.connect(b_addr).await.unwrap();
                b.connect(a_addr).await.unwrap();
                assert_eq!(a.try_send(b"two").unwrap(), 3, "{name}");
                assert_eq!(b.peek(&mut buf).await.unwrap(), 3);
                assert_eq!(b.try_peek(&mut buf).unwrap(), 3);
                assert_eq!(b.try_recv(&mut buf).unwrap(), 3);
                assert_eq!(&buf[..3], b"two");
                assert!(is_would_block(&b.try_recv(&mut buf)), "{name}");

                assert_eq!(poll_fn(|cx| a.poll_send(cx, b"3")).await.unwrap(), 1);
                assert_eq!(
                    poll_fn(|cx| b.poll_peek_from(cx, &mut buf)).await.unwrap(),
                    (1, a_addr)
                );
                assert_eq!(poll_fn(|cx| b.poll_recv(cx, &mut buf)).await.unwrap(), 1);
                poll_fn(|cx| a.poll_send_ready(cx)).await.unwrap();
                assert_eq!(
                    poll_fn(|cx| a.poll_send_to(cx, b"44", b_addr))
                        .await
                        .unwrap(),
                    2
                );
                poll_fn(|cx| b.poll_recv_ready(cx)).await.unwrap();
                assert_eq!(
                    poll_fn(|cx| b.poll_recv_from(cx, &mut buf)).await.unwrap(),
                    (2, a_addr),
                    "{name}"
                );
                // Readiness stays until a call returns `WouldBlock`, which clears it. On
                // multi-thread an event the reactor read before that call can still arrive
                // after it and set a stale readable hint: then the next call clears it again.
                assert!(is_would_block(&b.try_recv_from(&mut buf)), "{name}");
                let mut stale = 0;
                loop {
                    let ready = b
                        .ready(Interest::READABLE | Interest::WRITABLE)
                        .await
                        .unwrap();
                    assert!(ready.is_writable(), "{name}: {ready:?}");
                    if !ready.is_readable() {
                        break;
                    }
                    stale += 1;
                    assert!(stale < 10, "{name}: WouldBlock does not clear readable");
                    assert!(is_would_block(&b.try_recv_from(&mut buf)), "{name}");
                }
            });
        }
    });
}

/// Several tasks wait in `readable()` on one UDP socket and then race with `try_recv`:
/// every datagram is received exactly once and the losers wait again instead of spinning.
#[test]
fn tasks_sharing_a_udp_socket_each_take_datagrams() {
    common::watchdog(|| {
        const TASKS: usize = 3;
        const DATAGRAMS: usize = 30;
        for (name, build) in common::FLAVOURS {
            build().block_on(async {
                let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
                let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let (tx, mut rx) = async_mpsc::unbounded::<u8>();
                let tasks: Vec<_> = (0..TASKS)
                    .map(|_| {
                        let (socket, tx) = (socket.clone(), tx.clone());
                        flywheel::spawn(async move {
                            let mut buf = [0; 4];
                            loop {
                                if socket.readable().await.is_err() {
                                    return;
                                }
                                match socket.try_recv(&mut buf) {
                                    Ok(_) if buf[0] == u8::MAX => return,
                                    Ok(_) => tx.unbounded_send(buf[0]).unwrap(),
                                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                                    Err(e) => panic!("{e}"),
                                }
                            }
                        })
                    })
                    .collect();
                drop(tx);
                let target = socket.local_addr().unwrap();
                let mut seen = [false; DATAGRAMS];
                for i in 0..DATAGRAMS {
                    sender.send_to(&[i as u8], target).await.unwrap();
                    let got = rx.next().await.unwrap() as usize;
                    assert!(
                        !std::mem::replace(&mut seen[got], true),
                        "{name}: {got} twice"
                    );
                }
                for _ in 0..TASKS {
                    sender.send_to(&[u8::MAX], target).await.unwrap();
                }
                for task in tasks {
                    task.await.unwrap();
                }
                assert!(seen.iter().all(|&s| s), "{name}");
            });
        }
    });
}

/// The `try_*` calls need no runtime context of their own: they work from a plain thread
/// while the runtime lives, and fail with an error (no panic) once it is gone.
#[test]
fn try_calls_outside_a_runtime_and_after_it_is_dropped() {
    common::watchdog(|| {
        for (name, build) in common::FLAVOURS {
            let rt = build();
            let (a, b, udp) = rt.block_on(async {
                let (a, b) = UnixStream::pair().unwrap();
                b.writable().await.unwrap();
                b.try_write(b"hi").unwrap();
                a.readable().await.unwrap();
                let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                udp.writable().await.unwrap();
                (a, b, udp)
            });
            // Outside `block_on`, on a thread that is in no runtime.
            let a = std::thread::spawn(move || {
                let mut buf = [0; 8];
                assert_eq!(a.try_read(&mut buf).unwrap(), 2);
                a
            })
            .join()
            .unwrap();
            drop(rt);
            let mut buf = [0; 8];
            let err = a.try_read(&mut buf).unwrap_err();
            assert!(err.to_string().contains("shut down"), "{name}: {err}");
            assert!(b.try_write(b"late").is_err(), "{name}");
            assert!(
                udp.try_send_to(b"x", udp.local_addr().unwrap()).is_err(),
                "{name}"
            );
            assert!(udp.try_recv(&mut buf).is_err(), "{name}");
            assert!(
                futures::executor::block_on(a.ready(Interest::READABLE)).is_err(),
                "{name}"
            );
            assert!(
                futures::executor::block_on(udp.readable()).is_err(),
                "{name}"
            );
        }
    });
}
