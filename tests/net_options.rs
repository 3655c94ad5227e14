//! Socket options and std / descriptor conversions of the net types, on both runtime
//! flavours.

mod common;

use std::io::{self, Read};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant};

use common::FLAVOURS;
use flywheel::net::{TcpListener, TcpStream, UdpSocket, UnixListener, UnixStream};
use futures::{AsyncReadExt, AsyncWriteExt};

async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (b, _) = listener.accept().await.unwrap();
    (a, b)
}

/// A std socket handed back by `into_std` must block again: a read with a timeout and
/// nothing to read waits out the timeout instead of failing at once.
fn assert_blocks(read: impl FnOnce() -> io::Result<usize>) {
    let start = Instant::now();
    let err = read().unwrap_err();
    assert!(
        matches!(
            err.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ),
        "{err}"
    );
    assert!(
        start.elapsed() >= Duration::from_millis(90),
        "returned after {:?}: the socket is still non-blocking",
        start.elapsed()
    );
}

const READ_TIMEOUT: Option<Duration> = Some(Duration::from_millis(100));

#[test]
fn tcp_stream_ttl_linger_and_take_error() {
    for (name, rt) in FLAVOURS {
        common::watchdog(move || {
            rt().block_on(async {
                let (a, mut b) = tcp_pair().await;
                a.set_ttl(33).unwrap();
                assert_eq!(a.ttl().unwrap(), 33, "{name}");
                assert!(a.set_ttl(0).is_err(), "{name}: a TTL of 0 is invalid");
                assert_eq!(a.linger().unwrap(), None);
                a.set_linger(Some(Duration::from_secs(5))).unwrap();
                assert_eq!(a.linger().unwrap(), Some(Duration::from_secs(5)));
                assert!(a.take_error().unwrap().is_none());

                // A zero linger makes close reset the connection: the peer sees a reset,
                // not an orderly end of file.
                a.set_linger(Some(Duration::ZERO)).unwrap();
                assert_eq!(a.linger().unwrap(), Some(Duration::ZERO));
                drop(a);
                let mut buf = [0; 4];
                let err = b.read(&mut buf).await.unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{name}: {err}");
            });
        });
    }
}

#[test]
fn udp_take_error_reports_an_unreachable_peer() {
    for (name, rt) in FLAVOURS {
        common::watchdog(move || {
            rt().block_on(async {
                let closed = std::net::UdpSocket::bind("127.0.0.1:0")
                    .unwrap()
                    .local_addr()
                    .unwrap();
                let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                assert!(socket.take_error().unwrap().is_none());
                socket.connect(closed).await.unwrap();
                socket.send(b"anyone?").await.unwrap();
                // The ICMP answer arrives asynchronously: poll for it (the watchdog bounds
                // the loop).
                let err = loop {
                    if let Some(err) = socket.take_error().unwrap() {
                        break err;
                    }
                    flywheel::time::sleep(Duration::from_millis(1)).await;
                };
                assert_eq!(
                    err.kind(),
                    io::ErrorKind::ConnectionRefused,
                    "{name}: {err}"
                );
                // Taking it cleared it.
                assert!(socket.take_error().unwrap().is_none(), "{name}");
            });
        });
    }
}

#[test]
fn udp_broadcast_ttl_and_multicast_loop() {
    for (name, rt) in FLAVOURS {
        common::watchdog(move || {
            rt().block_on(async {
                let socket = UdpSocket::bind("0.0.0.0:0").await.unwrap();
                let target: SocketAddr = "255.255.255.255:9".parse().unwrap();
                // Without SO_BROADCAST the kernel refuses a broadcast datagram...
                assert!(!socket.broadcast().unwrap());
                let err = socket.send_to(b"all", target).await.unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::PermissionDenied, "{name}: {err}");
                // ...with it, that refusal is gone (the send may still fail for lack of a
                // route, depending on the machine's network).
                socket.set_broadcast(true).unwrap();
                assert!(socket.broadcast().unwrap());
                if let Err(err) = socket.send_to(b"all", target).await {
                    assert_ne!(err.kind(), io::ErrorKind::PermissionDenied, "{name}: {err}");
                }

                socket.set_ttl(9).unwrap();
                assert_eq!(socket.ttl().unwrap(), 9);
                assert!(socket.multicast_loop_v4().unwrap());
                socket.set_multicast_loop_v4(false).unwrap();
                assert!(!socket.multicast_loop_v4().unwrap());
            });
        });
    }
}

/// Joins and leaves a group, or accepts the machine's refusal when it has no multicast
/// route (containers often lack one). Whatever the network, leaving a group that was not
/// joined and joining a non-multicast address fail.
#[test]
fn udp_multicast_membership() {
    for (name, rt) in FLAVOURS {
        common::watchdog(move || {
            rt().block_on(async {
                let v4 = UdpSocket::bind("0.0.0.0:0").await.unwrap();
                let group = Ipv4Addr::new(224, 0, 0, 123);
                let any = Ipv4Addr::UNSPECIFIED;
                assert!(
                    v4.join_multicast_v4(Ipv4Addr::LOCALHOST, any).is_err(),
                    "{name}"
                );
                assert!(v4.leave_multicast_v4(group, any).is_err(), "{name}");
                match v4.join_multicast_v4(group, any) {
                    Ok(()) => {
                        // Joined: a datagram to the group comes back through multicast
                        // loopback (on by default), unless the machine cannot send it.
                        let port = v4.local_addr().unwrap().port();
                        let sender = UdpSocket::bind("0.0.0.0:0").await.unwrap();
                        match sender.send_to(b"group", (group, port)).await {
                            Ok(_) => {
                                let mut buf = [0; 8];
                                let (n, _) = v4.recv_from(&mut buf).await.unwrap();
                                assert_eq!(&buf[..n], b"group", "{name}");
                            }
                            Err(err) => eprintln!("{name}: cannot send to {group}: {err}"),
                        }
                        let again = v4.join_multicast_v4(group, any).unwrap_err();
                        assert_eq!(again.kind(), io::ErrorKind::AddrInUse, "{name}: {again}");
                        v4.leave_multicast_v4(group, any).unwrap();
                        assert!(v4.leave_multicast_v4(group, any).is_err(), "{name}");
                    }
                    Err(err) => eprintln!("{name}: no IPv4 multicast here: {err}"),
                }

                let v6 = UdpSocket::bind("[::]:0").await.unwrap();
                let group: Ipv6Addr = "ff02::123".parse().unwrap();
                assert!(
                    v6.join_multicast_v6(&Ipv6Addr::LOCALHOST, 0).is_err(),
                    "{name}"
                );
                assert!(v6.leave_multicast_v6(&group, 0).is_err(), "{name}");
                match v6.join_multicast_v6(&group, 0) {
                    Ok(()) => {
                        v6.leave_multicast_v6(&group, 0).unwrap();
                        assert!(v6.leave_multicast_v6(&group, 0).is_err(), "{name}");
                    }
                    Err(err) => eprintln!("{name}: no IPv6 multicast here: {err}"),
                }
                // An IPv4 socket cannot join an IPv6 group.
                assert!(v4.join_multicast_v6(&group, 0).is_err(), "{name}");
            });
        });
    }
}

#[test]
fn tcp_types_convert_to_std_and_back() {
    for (name, rt) in FLAVOURS {
        common::watchdog(move || {
            rt().block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let raw = listener.as_raw_fd();
                assert_eq!(listener.as_fd().as_raw_fd(), raw);
                let std_listener = listener.into_std().unwrap();
                assert_eq!(std_listener.as_raw_fd(), raw, "{name}: same descriptor");
                let listener = TcpListener::try_from(std_listener).unwrap();

                let mut client = TcpStream::connect(addr).await.unwrap();
                let (server, _) = listener.accept().await.unwrap();
                let raw = server.as_raw_fd();
                let mut std_server = server.into_std().unwrap();
                assert_eq!(std_server.as_raw_fd(), raw);
                std_server.set_read_timeout(READ_TIMEOUT).unwrap();
                assert_blocks(|| std_server.read(&mut [0; 4]));

                // Back again, and still connected to the same client.
                let mut server = TcpStream::try_from(std_server).unwrap();
                client.write_all(b"back").await.unwrap();
                let mut buf = [0; 4];
                server.read_exact(&mut buf).await.unwrap();
                assert_eq!(&buf, b"back", "{name}");

                let std_listener = listener.into_std().unwrap();
                std_listener.set_nonblocking(false).unwrap();
            });
        });
    }
}

#[test]
fn udp_socket_converts_to_std_and_back() {
    for (name, rt) in FLAVOURS {
        common::watchdog(move || {
            rt().block_on(async {
                let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let raw = a.as_raw_fd();
                assert_eq!(a.as_fd().as_raw_fd(), raw);
                let std_a = a.into_std().unwrap();
                assert_eq!(std_a.as_raw_fd(), raw);
                std_a.set_read_timeout(READ_TIMEOUT).unwrap();
                assert_blocks(|| std_a.recv(&mut [0; 4]));

                let a = UdpSocket::try_from(std_a).unwrap();
                let b =
                    UdpSocket::from_std(std::net::UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
                b.send_to(b"udp", a.local_addr().unwrap()).await.unwrap();
                let mut buf = [0; 8];
                let (n, from) = a.recv_from(&mut buf).await.unwrap();
                assert_eq!(
                    (&buf[..n], from),
                    (&b"udp"[..], b.local_addr().unwrap()),
                    "{name}"
                );
            });
        });
    }
}

#[test]
fn unix_types_convert_to_std_and_back() {
    for (name, rt) in FLAVOURS {
        common::watchdog(move || {
            let path = std::env::temp_dir().join(format!(
                "flywheel-net-options-{}-{name}.sock",
                std::process::id()
            ));
            let _ = std::fs::remove_file(&path);
            rt().block_on(async {
                let listener = UnixListener::bind(&path).unwrap();
                let raw = listener.as_raw_fd();
                assert_eq!(listener.as_fd().as_raw_fd(), raw);
                let std_listener = listener.into_std().unwrap();
                assert_eq!(std_listener.as_raw_fd(), raw);
                let listener = UnixListener::try_from(std_listener).unwrap();

                let mut client = UnixStream::connect(&path).await.unwrap();
                let (server, _) = listener.accept().await.unwrap();
                let raw = server.as_raw_fd();
                let mut std_server = server.into_std().unwrap();
                assert_eq!(std_server.as_raw_fd(), raw);
                std_server.set_read_timeout(READ_TIMEOUT).unwrap();
                assert_blocks(|| std_server.read(&mut [0; 4]));

                let mut server = UnixStream::try_from(std_server).unwrap();
                client.write_all(b"unix").await.unwrap();
                let mut buf = [0; 4];
                server.read_exact(&mut buf).await.unwrap();
                assert_eq!(&buf, b"unix", "{name}");
            });
            std::fs::remove_file(&path).unwrap();
        });
    }
}
