//! `net::ToSocketAddrs` and `lookup_host`: borrowed addresses compile and work, literal IPs
//! never wait for the blocking pool, host names go through it; on both runtime flavours.

mod common;

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::mpsc;
use std::time::Duration;

use common::FLAVOURS;
use flywheel::net::{lookup_host, TcpListener, TcpStream, UdpSocket};

// The calls people write, with borrowed addresses. Each is a compile test first: they did
// not compile when the address had to be `Send + 'static`.

#[allow(clippy::ptr_arg)] // `&String` on purpose: what people write
async fn connect_to(addr: &String) -> io::Result<TcpStream> {
    TcpStream::connect(addr).await
}

#[allow(clippy::ptr_arg)] // `&String` on purpose: what people write
async fn bind_str(addr: &String) -> io::Result<TcpListener> {
    TcpListener::bind(addr.as_str()).await
}

async fn send_to_peer(socket: &UdpSocket, peer: &SocketAddr) -> io::Result<usize> {
    socket.send_to(b"hi", peer).await
}

async fn udp_with_borrowed(local: &str, peer: &(String, u16)) -> io::Result<UdpSocket> {
    let socket = UdpSocket::bind(local).await?;
    socket.connect(peer).await?;
    Ok(socket)
}

fn assert_send<T: Send>(value: T) -> T {
    value
}

#[test]
fn borrowed_addresses_work_and_their_futures_are_send() {
    for (name, rt) in FLAVOURS {
        common::watchdog(move || {
            rt().block_on(async {
                let text = String::from("127.0.0.1:0");
                let listener = assert_send(bind_str(&text)).await.unwrap();
                let server = listener.local_addr().unwrap().to_string();
                // Spawned: the future borrowing `&String` must be `Send`.
                let stream = flywheel::spawn(async move { connect_to(&server).await })
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(stream.peer_addr().unwrap(), listener.local_addr().unwrap());

                let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let b_addr = {
                    let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                    let addr = b.local_addr().unwrap();
                    let peer = (addr.ip().to_string(), addr.port());
                    let c = udp_with_borrowed("127.0.0.1:0", &peer).await.unwrap();
                    assert_eq!(c.peer_addr().unwrap(), addr, "{name}");
                    (b, addr)
                };
                assert_eq!(send_to_peer(&a, &b_addr.1).await.unwrap(), 2);
                let mut buf = [0; 4];
                let (n, from) = b_addr.0.recv_from(&mut buf).await.unwrap();
                assert_eq!((&buf[..n], from), (&b"hi"[..], a.local_addr().unwrap()));
            });
        });
    }
}

#[test]
fn every_address_form_connects() {
    for (name, rt) in FLAVOURS {
        common::watchdog(move || {
            rt().block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let port = addr.port();
                let v4 = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
                let text = addr.to_string();
                let slice = [addr];
                let peers = vec![
                    TcpStream::connect(addr).await,
                    TcpStream::connect(&addr).await,
                    TcpStream::connect(v4).await,
                    TcpStream::connect(&v4).await,
                    TcpStream::connect((IpAddr::V4(Ipv4Addr::LOCALHOST), port)).await,
                    TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await,
                    TcpStream::connect(("127.0.0.1", port)).await,
                    TcpStream::connect((String::from("127.0.0.1"), port)).await,
                    TcpStream::connect(&("127.0.0.1", port)).await,
                    TcpStream::connect(text.as_str()).await,
                    TcpStream::connect(&text).await,
                    TcpStream::connect(&&text).await,
                    TcpStream::connect(text.clone()).await,
                    TcpStream::connect(&slice[..]).await,
                ];
                for (i, peer) in peers.into_iter().enumerate() {
                    let peer = peer.unwrap_or_else(|e| panic!("{name}: form {i}: {e}"));
                    assert_eq!(peer.peer_addr().unwrap(), addr, "{name}: form {i}");
                }
            });
        });
    }
}

#[test]
fn a_slice_of_addresses_is_tried_in_turn() {
    for (name, rt) in FLAVOURS {
        common::watchdog(move || {
            rt().block_on(async {
                // 198.51.100.77 (TEST-NET-2, documentation only) is no local address: binding it fails first.
                let addrs: [SocketAddr; 2] = [
                    "198.51.100.77:0".parse().unwrap(),
                    "127.0.0.1:0".parse().unwrap(),
                ];
                let listener = TcpListener::bind(&addrs[..]).await.unwrap();
                assert!(listener.local_addr().unwrap().ip().is_loopback(), "{name}");
                let err = TcpListener::bind(&addrs[..1]).await.unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::AddrNotAvailable, "{name}: {err}");
                let empty: &[SocketAddr] = &[];
                let err = UdpSocket::bind(empty).await.unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{name}: {err}");
            });
        });
    }
}

/// Builds a runtime with one blocking thread, and keeps that thread busy until the returned
/// sender is dropped or sent to.
fn busy_blocking_pool(multi: bool) -> (flywheel::Runtime, mpsc::Sender<()>) {
    let mut builder = if multi {
        flywheel::Builder::new_multi_thread()
    } else {
        flywheel::Builder::new_current_thread()
    };
    if multi {
        builder.worker_threads(2);
    }
    let rt = builder.max_blocking_threads(1).build().unwrap();
    let (release, wait) = mpsc::channel::<()>();
    let (started, is_started) = mpsc::channel();
    rt.spawn_blocking(move || {
        started.send(()).unwrap();
        let _ = wait.recv();
    });
    is_started.recv().unwrap();
    (rt, release)
}

#[test]
fn literal_ips_resolve_without_the_blocking_pool() {
    for multi in [false, true] {
        common::watchdog(move || {
            let (rt, release) = busy_blocking_pool(multi);
            rt.block_on(async {
                // The only blocking thread is busy: any trip to the pool would hang here
                // (and the watchdog would fail the test).
                let text = String::from("127.0.0.1:0");
                let listener = TcpListener::bind(&text).await.unwrap();
                let addr = listener.local_addr().unwrap();
                let port = addr.port();
                let text = addr.to_string();
                TcpStream::connect(&text).await.unwrap();
                TcpStream::connect(text.as_str()).await.unwrap();
                TcpStream::connect(("127.0.0.1", port)).await.unwrap();
                TcpStream::connect(&(String::from("127.0.0.1"), port))
                    .await
                    .unwrap();
                let udp = UdpSocket::bind(("127.0.0.1", 0)).await.unwrap();
                let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let peer_text = peer.local_addr().unwrap().to_string();
                udp.send_to(b"x", peer_text.as_str()).await.unwrap();
                udp.connect(&peer_text).await.unwrap();
                let found: Vec<_> = lookup_host(&text).await.unwrap().collect();
                assert_eq!(found, [addr], "multi = {multi}");
            });
            drop(release);
        });
    }
}

#[test]
fn host_names_are_looked_up_on_the_blocking_pool() {
    for multi in [false, true] {
        common::watchdog(move || {
            let (rt, release) = busy_blocking_pool(multi);
            rt.block_on(async {
                // With the pool busy, a name cannot be looked up...
                let name = String::from("localhost:80");
                let waiting =
                    flywheel::time::timeout(Duration::from_millis(100), lookup_host(&name));
                assert!(
                    waiting.await.is_err(),
                    "multi = {multi}: looked up without the pool"
                );
                // ...and once the pool is free it is.
                release.send(()).unwrap();
                let found: Vec<_> = lookup_host(&name).await.unwrap().collect();
                assert!(!found.is_empty(), "multi = {multi}");
                assert!(found.iter().all(|a| a.ip().is_loopback() && a.port() == 80));
            });
        });
    }
}

#[test]
fn lookup_host_outside_a_runtime() {
    common::watchdog(|| {
        // A literal needs no runtime; a name does, and says so.
        let found: Vec<_> = futures::executor::block_on(lookup_host("127.0.0.1:9"))
            .unwrap()
            .collect();
        assert_eq!(found, ["127.0.0.1:9".parse::<SocketAddr>().unwrap()]);
        let err = futures::executor::block_on(lookup_host(("localhost", 9)))
            .map(|_| ())
            .unwrap_err();
        assert!(err.to_string().contains("runtime"), "{err}");
    });
}

#[test]
fn unresolvable_names_are_errors() {
    for (name, rt) in FLAVOURS {
        common::watchdog(move || {
            rt().block_on(async {
                // ".invalid" never resolves (RFC 6761); no port at all is a parse error.
                let err = TcpStream::connect("no-such-host.invalid:80")
                    .await
                    .unwrap_err();
                assert_ne!(
                    err.kind(),
                    io::ErrorKind::ConnectionRefused,
                    "{name}: {err}"
                );
                assert!(lookup_host("no port").await.is_err(), "{name}");
            });
        });
    }
}
