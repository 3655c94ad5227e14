//! `UnixDatagram` on both runtime flavours: pairs, bound and unbound sockets, connect,
//! readiness and the `try_*` / `poll_*` calls, std conversions, and the error paths.

mod common;

use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::path::PathBuf;
use std::sync::Arc;

use futures::channel::mpsc;
use futures::{FutureExt, StreamExt};

use flywheel::io::Interest;
use flywheel::net::UnixDatagram;

// Compile-time: the socket can be shared between tasks and moved across threads.
const _: fn() = || {
    fn send_sync_unpin<T: Send + Sync + Unpin>() {}
    send_sync_unpin::<UnixDatagram>();
};

fn is_would_block<T>(r: &io::Result<T>) -> bool {
    matches!(r, Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

/// A socket path unique to this process, test and flavour; removed when dropped.
struct TempPath(PathBuf);

impl TempPath {
    fn new(test: &str, flavour: &str) -> TempPath {
        let path = std::env::temp_dir().join(format!(
            "flywheel-dgram-{}-{test}-{flavour}.sock",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        TempPath(path)
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn pair_round_trips_every_way() {
    common::watchdog(|| {
        for (name, build) in common::FLAVOURS {
            build().block_on(async {
                let (a, b) = UnixDatagram::pair().unwrap();
                assert!(a.local_addr().unwrap().is_unnamed(), "{name}");
                assert!(a.peer_addr().unwrap().is_unnamed(), "{name}");
                let mut buf = [0; 32];

                a.send(b"async").await.unwrap();
                assert_eq!(b.recv(&mut buf).await.unwrap(), 5, "{name}");
                assert_eq!(&buf[..5], b"async");

                // Nothing queued: `WouldBlock`, and waiting really waits.
                assert!(is_would_block(&b.try_recv(&mut buf)), "{name}");
                assert!(b.readable().now_or_never().is_none(), "{name}: still ready");

                a.writable().await.unwrap();
                assert_eq!(a.try_send(b"try").unwrap(), 3);
                let n = loop {
                    b.readable().await.unwrap();
                    match b.try_recv(&mut buf) {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                        r => break r.unwrap(),
                    }
                };
                assert_eq!(&buf[..n], b"try", "{name}");

                assert_eq!(poll_fn(|cx| b.poll_send(cx, b"poll")).await.unwrap(), 4);
                poll_fn(|cx| a.poll_recv_ready(cx)).await.unwrap();
                assert_eq!(poll_fn(|cx| a.poll_recv(cx, &mut buf)).await.unwrap(), 4);
                poll_fn(|cx| a.poll_send_ready(cx)).await.unwrap();
                a.send(b"from").await.unwrap();
                let (n, from) = poll_fn(|cx| b.poll_recv_from(cx, &mut buf)).await.unwrap();
                assert_eq!((n, from.is_unnamed()), (4, true), "{name}");
                a.send(b"x").await.unwrap();
                b.readable().await.unwrap();
                let (n, from) = b.try_recv_from(&mut buf).unwrap();
                assert_eq!((n, from.is_unnamed()), (1, true), "{name}");

                // Readiness stays until a call returns `WouldBlock`.
                assert!(is_would_block(&a.try_recv(&mut buf)), "{name}");
                let ready = a
                    .ready(Interest::READABLE | Interest::WRITABLE)
                    .await
                    .unwrap();
                assert!(ready.is_writable(), "{name}: {ready:?}");
                if ready.is_readable() {
                    // A late event of an earlier tick may mark it readable again (readiness
                    // is a hint); nothing is there to read.
                    assert!(is_would_block(&a.try_recv(&mut buf)), "{name}");
                }

                // A datagram longer than the buffer is cut, and the rest is gone.
                a.send(&[9; 64]).await.unwrap();
                a.send(b"next").await.unwrap();
                assert_eq!(b.recv(&mut buf).await.unwrap(), 32, "{name}");
                assert_eq!(b.recv(&mut buf).await.unwrap(), 4, "{name}");
                assert_eq!(&buf[..4], b"next");
            });
        }
    });
}

#[test]
fn bound_and_unbound_sockets_address_each_other() {
    common::watchdog(|| {
        for (name, build) in common::FLAVOURS {
            build().block_on(async {
                let server_path = TempPath::new("bound-server", name);
                let client_path = TempPath::new("bound-client", name);
                let server = UnixDatagram::bind(&server_path.0).unwrap();
                assert_eq!(
                    server.local_addr().unwrap().as_pathname(),
                    Some(server_path.0.as_path()),
                    "{name}"
                );
                let mut buf = [0; 16];

                // An unbound sender cannot be answered: its address is unnamed.
                let anonymous = UnixDatagram::unbound().unwrap();
                anonymous.send_to(b"anon", &server_path.0).await.unwrap();
                let (n, from) = server.recv_from(&mut buf).await.unwrap();
                assert_eq!(
                    (&buf[..n], from.is_unnamed()),
                    (&b"anon"[..], true),
                    "{name}"
                );

                // A bound one can.
                let client = UnixDatagram::bind(&client_path.0).unwrap();
                client.writable().await.unwrap();
                client.try_send_to(b"ping", &server_path.0).unwrap();
                let (n, from) = server.recv_from(&mut buf).await.unwrap();
                assert_eq!(&buf[..n], b"ping", "{name}");
                let reply_to = from.as_pathname().unwrap().to_owned();
                assert_eq!(reply_to, client_path.0, "{name}");
                poll_fn(|cx| server.poll_send_to(cx, b"pong", &reply_to))
                    .await
                    .unwrap();
                let n = client.recv(&mut buf).await.unwrap();
                assert_eq!(&buf[..n], b"pong", "{name}");

                // Connected: `send` goes to the peer, `peer_addr` names it.
                anonymous.connect(&server_path.0).unwrap();
                assert_eq!(
                    anonymous.peer_addr().unwrap().as_pathname(),
                    Some(server_path.0.as_path()),
                    "{name}"
                );
                anonymous.send(b"conn").await.unwrap();
                let n = server.recv(&mut buf).await.unwrap();
                assert_eq!(&buf[..n], b"conn", "{name}");
            });
        }
    });
}

#[test]
fn error_paths() {
    common::watchdog(|| {
        for (name, build) in common::FLAVOURS {
            build().block_on(async {
                let path = TempPath::new("errors", name);
                let missing = TempPath::new("errors-missing", name);
                let _bound = UnixDatagram::bind(&path.0).unwrap();
                let err = UnixDatagram::bind(&path.0).unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{name}");

                let socket = UnixDatagram::unbound().unwrap();
                assert_eq!(
                    socket.peer_addr().unwrap_err().kind(),
                    io::ErrorKind::NotConnected,
                    "{name}"
                );
                let err = socket.send_to(b"x", &missing.0).await.unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::NotFound, "{name}");
                let err = socket.connect(&missing.0).unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::NotFound, "{name}");
                socket.writable().await.unwrap();
                let err = socket.try_send(b"nowhere").unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::NotConnected, "{name}");
                assert!(socket.take_error().unwrap().is_none(), "{name}");

                // The peer of a pair is gone: sending fails, receiving sees nothing.
                let (a, b) = UnixDatagram::pair().unwrap();
                drop(b);
                let err = a.send(b"gone").await.unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{name}");

                // Shut down for sending: `send` fails at once.
                let (c, _d) = UnixDatagram::pair().unwrap();
                c.shutdown(std::net::Shutdown::Write).unwrap();
                let err = c.send(b"late").await.unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{name}");
            });
        }
    });
}

#[test]
fn std_conversions_and_descriptors() {
    common::watchdog(|| {
        for (name, build) in common::FLAVOURS {
            build().block_on(async {
                let (std_a, std_b) = std::os::unix::net::UnixDatagram::pair().unwrap();
                let raw = std_a.as_raw_fd();
                let a = UnixDatagram::from_std(std_a).unwrap();
                assert_eq!(a.as_raw_fd(), raw, "{name}");
                assert_eq!(a.as_fd().as_raw_fd(), raw, "{name}");
                std_b.send(b"in").unwrap();
                let mut buf = [0; 8];
                assert_eq!(a.recv(&mut buf).await.unwrap(), 2, "{name}");

                // Out again: still the same descriptor, non-blocking, and off the reactor.
                let std_a = a.into_std().unwrap();
                assert_eq!(std_a.as_raw_fd(), raw, "{name}");
                let err = std_a.recv(&mut buf).unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "{name}");
                // Registering it again works: into_std deregistered it.
                let a = UnixDatagram::from_std(std_a).unwrap();
                std_b.send(b"again").unwrap();
                assert_eq!(a.recv(&mut buf).await.unwrap(), 5, "{name}");
            });
        }
    });
}

/// Several tasks wait to receive on one socket: each datagram goes to exactly one, and the
/// others keep waiting.
#[test]
fn tasks_sharing_a_socket_each_receive_once() {
    common::watchdog(|| {
        const TASKS: usize = 3;
        const DATAGRAMS: usize = 30;
        for (name, build) in common::FLAVOURS {
            build().block_on(async {
                let (a, b) = UnixDatagram::pair().unwrap();
                let b = Arc::new(b);
                let (tx, mut rx) = mpsc::unbounded::<u8>();
                let tasks: Vec<_> = (0..TASKS)
                    .map(|i| {
                        let (b, tx) = (b.clone(), tx.clone());
                        flywheel::spawn(async move {
                            let mut buf = [0; 1];
                            loop {
                                // Half use the async call, half the readable + try loop.
                                let got = if i % 2 == 0 {
                                    b.recv(&mut buf).await.unwrap();
                                    buf[0]
                                } else {
                                    b.readable().await.unwrap();
                                    match b.try_recv(&mut buf) {
                                        Ok(_) => buf[0],
                                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                                        Err(e) => panic!("{e}"),
                                    }
                                };
                                if got == u8::MAX {
                                    return;
                                }
                                tx.unbounded_send(got).unwrap();
                            }
                        })
                    })
                    .collect();
                drop(tx);
                let mut seen = [false; DATAGRAMS];
                for i in 0..DATAGRAMS {
                    a.send(&[i as u8]).await.unwrap();
                    let got = rx.next().await.unwrap() as usize;
                    assert!(
                        !std::mem::replace(&mut seen[got], true),
                        "{name}: {got} twice"
                    );
                }
                for _ in 0..TASKS {
                    a.send(&[u8::MAX]).await.unwrap();
                }
                for task in tasks {
                    task.await.unwrap();
                }
                assert!(seen.iter().all(|&s| s), "{name}");
            });
        }
    });
}

/// Once the runtime is gone, waits and `try_*` calls fail with an error instead of
/// panicking or hanging; creating a socket outside a runtime is an error too.
#[test]
fn after_the_runtime_is_dropped_everything_fails_cleanly() {
    common::watchdog(|| {
        for (name, build) in common::FLAVOURS {
            let rt = build();
            let (a, b) = rt.block_on(async {
                let (a, b) = UnixDatagram::pair().unwrap();
                b.send(b"queued").await.unwrap();
                a.readable().await.unwrap();
                (a, b)
            });
            drop(rt);
            let mut buf = [0; 8];
            let err = a.try_recv(&mut buf).unwrap_err();
            assert!(err.to_string().contains("shut down"), "{name}: {err}");
            assert!(b.try_send(b"x").is_err(), "{name}");
            assert!(
                futures::executor::block_on(a.recv(&mut buf)).is_err(),
                "{name}"
            );
            assert!(futures::executor::block_on(a.readable()).is_err(), "{name}");
        }
        let err = UnixDatagram::unbound().unwrap_err();
        assert!(err.to_string().contains("runtime"), "{err}");
    });
}
