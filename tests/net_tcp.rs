//! TCP behaviour on real loopback sockets, on both runtime flavours.

mod common;

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use flywheel::net::{TcpListener, TcpStream};
use flywheel::Runtime;
use futures::{AsyncReadExt, AsyncWriteExt};

fn current_thread() -> Runtime {
    flywheel::Builder::new_current_thread().build().unwrap()
}

fn multi_thread() -> Runtime {
    flywheel::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

/// Accepts forever, echoing every connection until its peer half-closes.
async fn echo_server(listener: TcpListener) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(conn) => conn,
            Err(_) => continue,
        };
        flywheel::spawn(async move {
            let _ = futures::io::copy(&stream, &mut &stream).await;
            let _ = stream.shutdown(Shutdown::Write);
        });
    }
}

/// The byte pattern a client sends: differs per connection and per position.
fn pattern(conn: usize, len: usize) -> Vec<u8> {
    // A block of odd length repeated: a lost, duplicated or reordered chunk shows up, and
    // building 200 MiB stays cheap in debug builds.
    let block: Vec<u8> = (0..4093).map(|i| (i * 31 + conn * 7) as u8).collect();
    let mut data = Vec::with_capacity(len);
    while data.len() < len {
        let n = block.len().min(len - data.len());
        data.extend_from_slice(&block[..n]);
    }
    data
}

/// One client: writes `data` from one task while reading the echo in another, through a
/// shared `&TcpStream`.
async fn echo_client(addr: SocketAddr, data: Vec<u8>) -> io::Result<()> {
    let stream = Arc::new(TcpStream::connect(addr).await?);
    let writer = {
        let stream = stream.clone();
        let data = data.clone();
        flywheel::spawn(async move {
            (&*stream).write_all(&data).await?;
            (&*stream).close().await
        })
    };
    // Check the echo chunk by chunk as it arrives rather than collecting it with
    // `read_to_end`: that zero-fills its growing buffer byte by byte, which in a debug build
    // cost ~90% of this test's CPU time (perf), more than the sockets and the runtime.
    let mut buf = vec![0u8; 64 * 1024];
    let mut echoed = 0;
    loop {
        let n = (&*stream).read(&mut buf).await?;
        if n == 0 {
            break;
        }
        assert!(
            echoed + n <= data.len() && buf[..n] == data[echoed..echoed + n],
            "echo differs in the {n} bytes after the first {echoed}"
        );
        echoed += n;
    }
    writer.await??;
    assert_eq!(echoed, data.len(), "echo is short");
    Ok(())
}

fn many_connections_echo(rt: Runtime) {
    const CONNECTIONS: usize = 200;
    const BYTES: usize = 1 << 20;
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        flywheel::spawn(echo_server(listener));
        let clients: Vec<_> = (0..CONNECTIONS)
            .map(|conn| flywheel::spawn(echo_client(addr, pattern(conn, BYTES))))
            .collect();
        for client in clients {
            client.await.unwrap().unwrap();
        }
    });
}

#[test]
fn echo_one_mib_over_200_connections_multi_thread() {
    common::watchdog_for(Duration::from_secs(60), || {
        many_connections_echo(multi_thread())
    });
}

#[test]
fn echo_one_mib_over_200_connections_current_thread() {
    common::watchdog_for(Duration::from_secs(60), || {
        many_connections_echo(current_thread())
    });
}

fn half_close(rt: Runtime) {
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        client.write_all(b"last words").await.unwrap();
        client.close().await.unwrap();
        let mut got = Vec::new();
        server.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"last words");
        // The other direction still works after the half-close.
        server.write_all(b"reply").await.unwrap();
        server.close().await.unwrap();
        let mut reply = Vec::new();
        client.read_to_end(&mut reply).await.unwrap();
        assert_eq!(reply, b"reply");
    });
}

#[test]
fn half_close_gives_eof_to_the_peer() {
    common::watchdog(|| {
        half_close(current_thread());
        half_close(multi_thread());
    });
}

#[test]
fn connect_to_a_closed_port_is_refused() {
    common::watchdog(|| {
        // A port that was just free: bind, learn it, close.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        for rt in [current_thread(), multi_thread()] {
            let err = rt.block_on(TcpStream::connect(addr)).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
        }
    });
}

#[test]
fn connect_resolves_host_names_off_the_worker() {
    common::watchdog(|| {
        let rt = multi_thread();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let stream = flywheel::spawn(TcpStream::connect(format!("localhost:{port}")))
                .await
                .unwrap();
            // "localhost" may resolve to ::1 first, where nothing listens: then 127.0.0.1.
            let stream = stream.unwrap();
            assert_eq!(stream.peer_addr().unwrap().port(), port);
        });
    });
}

fn peer_reset(rt: Runtime) {
    rt.block_on(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (mut server, _) = listener.accept().unwrap();
        // The server sends a little, then closes with unread data in its receive buffer:
        // the kernel answers with RST instead of FIN.
        client.write_all(b"unread").await.unwrap();
        server.write_all(b"partial").unwrap();
        let reader = flywheel::spawn(async move {
            let mut buf = [0u8; 64];
            let mut total = 0;
            loop {
                match client.read(&mut buf).await {
                    Ok(0) => return Ok(total),
                    Ok(n) => total += n,
                    Err(e) => return Err(e),
                }
            }
        });
        // Make sure "unread" reached the server before it closes.
        server
            .set_read_timeout(Some(Duration::from_millis(1)))
            .unwrap();
        let mut peek = [0u8; 1];
        while server.peek(&mut peek).is_err() {}
        drop(server);
        match reader.await.unwrap() {
            Ok(n) => assert!(n <= 7, "read {n} bytes"),
            Err(e) => assert!(
                matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
                ),
                "{e}"
            ),
        }
    });
}

#[test]
fn peer_reset_mid_read_is_an_error_or_eof() {
    common::watchdog(|| {
        peer_reset(current_thread());
        peer_reset(multi_thread());
    });
}

#[test]
fn reader_and_writer_tasks_share_one_stream() {
    common::watchdog(|| {
        let rt = multi_thread();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let peer = std::thread::spawn(move || {
                // A plain std peer: echo byte by byte until EOF.
                let mut s = std::net::TcpStream::connect(addr).unwrap();
                let mut buf = [0u8; 4096];
                loop {
                    let n = s.read(&mut buf).unwrap();
                    if n == 0 {
                        break;
                    }
                    s.write_all(&buf[..n]).unwrap();
                }
            });
            let (stream, _) = listener.accept().await.unwrap();
            echo_client_over(stream, pattern(3, 256 * 1024)).await;
            peer.join().unwrap();
        });
    });
}

async fn echo_client_over(stream: TcpStream, data: Vec<u8>) {
    let stream = Arc::new(stream);
    let writer = {
        let (stream, data) = (stream.clone(), data.clone());
        flywheel::spawn(async move {
            (&*stream).write_all(&data).await.unwrap();
            stream.shutdown(Shutdown::Write).unwrap();
        })
    };
    let mut got = Vec::new();
    (&*stream).read_to_end(&mut got).await.unwrap();
    writer.await.unwrap();
    assert!(got == data);
}

/// Echo round trips made while a task hogs a worker, in the two tests below. A driver that
/// nobody takes over stalls the first of them until the spinner's deadline, so a few are
/// enough; each costs about one scheduler time slice (2-5 ms, up to tens of ms on a loaded
/// machine), because the hog leaves two busy threads for the other core.
const ROUND_TRIPS: u64 = 20;

/// Runs `round` `common::iterations(200)` times, or fewer once 5 s have passed (at least two
/// rounds). A round with the hog costs ~0.05 s on an idle machine but up to 1-2 s at load 16+
/// on 2 cores; a stalled driver fails the first round at the spinner's 8 s deadline.
fn for_a_while(mut round: impl FnMut()) {
    let start = Instant::now();
    for i in 0..common::iterations(200) {
        if i >= 2 && start.elapsed() > Duration::from_secs(5) {
            break;
        }
        round();
    }
}

/// A task spins without ever yielding; the other worker must still serve sockets.
fn starved_socket_is_served(spawn_spinner_from_io_task: bool) {
    let rt = multi_thread();
    let done = Arc::new(AtomicBool::new(false));
    let spun = {
        let done = done.clone();
        move || {
            let deadline = Instant::now() + Duration::from_secs(8);
            while !done.load(Ordering::Acquire) && Instant::now() < deadline {
                std::hint::spin_loop();
            }
            done.load(Ordering::Acquire)
        }
    };
    let served = rt.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let spinner = if spawn_spinner_from_io_task {
            None
        } else {
            let spun = spun.clone();
            Some(flywheel::spawn(async move { spun() }))
        };
        let server = flywheel::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            // Spawned from a task the reactor just woke.
            let spinner = spinner.or_else(|| Some(flywheel::spawn(async move { spun() })));
            for _ in 0..ROUND_TRIPS {
                let mut buf = [0u8; 8];
                stream.read_exact(&mut buf).await.unwrap();
                stream.write_all(&buf).await.unwrap();
            }
            spinner
        });
        let client = flywheel::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            for i in 0..ROUND_TRIPS {
                stream.write_all(&i.to_le_bytes()).await.unwrap();
                let mut buf = [0u8; 8];
                stream.read_exact(&mut buf).await.unwrap();
                assert_eq!(u64::from_le_bytes(buf), i);
            }
        });
        client.await.unwrap();
        done.store(true, Ordering::Release);
        server.await.unwrap().unwrap().await.unwrap()
    });
    assert!(
        served,
        "the spinner hit its deadline: the socket was not served"
    );
}

#[test]
fn a_task_that_never_yields_does_not_stop_other_sockets() {
    common::watchdog_for(Duration::from_secs(20), || {
        for_a_while(|| {
            starved_socket_is_served(false);
            starved_socket_is_served(true);
        })
    });
}

/// The task the reactor wakes is itself the one that never yields: the worker that ran
/// the driver leaves it for good, and another worker must take the driver over.
fn io_woken_task_spins() -> bool {
    let rt = multi_thread();
    let done = Arc::new(AtomicBool::new(false));
    let spinner_done = done.clone();
    rt.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = flywheel::spawn(async move {
            let (mut hog, _) = listener.accept().await.unwrap();
            let spinner = flywheel::spawn(async move {
                let mut byte = [0u8; 1];
                hog.read_exact(&mut byte).await.unwrap();
                // Woken by the reactor; now never yields.
                let deadline = Instant::now() + Duration::from_secs(8);
                while !spinner_done.load(Ordering::Acquire) && Instant::now() < deadline {
                    std::hint::spin_loop();
                }
                spinner_done.load(Ordering::Acquire)
            });
            let (mut stream, _) = listener.accept().await.unwrap();
            for _ in 0..ROUND_TRIPS {
                let mut buf = [0u8; 8];
                stream.read_exact(&mut buf).await.unwrap();
                stream.write_all(&buf).await.unwrap();
            }
            spinner.await.unwrap()
        });
        let mut hog = TcpStream::connect(addr).await.unwrap();
        hog.write_all(b"!").await.unwrap();
        let mut stream = TcpStream::connect(addr).await.unwrap();
        for i in 0..ROUND_TRIPS {
            stream.write_all(&i.to_le_bytes()).await.unwrap();
            let mut buf = [0u8; 8];
            stream.read_exact(&mut buf).await.unwrap();
            assert_eq!(u64::from_le_bytes(buf), i);
        }
        done.store(true, Ordering::Release);
        server.await.unwrap()
    })
}

#[test]
fn a_task_woken_by_io_that_never_yields_does_not_stop_other_sockets() {
    common::watchdog_for(Duration::from_secs(20), || {
        for_a_while(|| assert!(io_woken_task_spins(), "the spinner hit its deadline"))
    });
}

fn drop_runtime_with_blocked_tasks(rt: Runtime) {
    const TASKS: usize = 16;
    let drops = common::DropCounter::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = std::thread::spawn(move || {
        (0..TASKS)
            .map(|_| listener.accept().unwrap().0)
            .collect::<Vec<_>>()
    });
    let (tx, mut rx) = futures::channel::mpsc::unbounded();
    for _ in 0..TASKS {
        let guard = drops.guard();
        let tx = tx.clone();
        rt.spawn(async move {
            let _guard = guard;
            let mut stream = TcpStream::connect(addr).await.unwrap();
            tx.unbounded_send(()).unwrap();
            let mut buf = [0u8; 1];
            // Nobody ever writes: this blocks until the runtime drops the task.
            let _ = stream.read(&mut buf).await;
            unreachable!("the peer never writes");
        });
    }
    rt.block_on(async {
        use futures::StreamExt;
        for _ in 0..TASKS {
            rx.next().await.unwrap();
        }
        // Let the tasks reach their read (they are about to, right after the send).
        for _ in 0..10 {
            flywheel::task::yield_now().await;
        }
    });
    let peers = acceptor.join().unwrap();
    drop(rt);
    assert_eq!(
        drops.count(),
        TASKS,
        "every blocked task dropped exactly once"
    );
    for mut peer in peers {
        peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 1];
        assert_eq!(
            peer.read(&mut buf).unwrap(),
            0,
            "socket closed with its task"
        );
    }
}

#[test]
fn dropping_the_runtime_drops_tasks_blocked_on_sockets() {
    common::watchdog(|| {
        drop_runtime_with_blocked_tasks(current_thread());
        drop_runtime_with_blocked_tasks(multi_thread());
    });
}

#[test]
fn from_std_listener_and_stream_work() {
    common::watchdog(|| {
        let rt = current_thread();
        rt.block_on(async {
            let listener =
                TcpListener::from_std(std::net::TcpListener::bind("127.0.0.1:0").unwrap()).unwrap();
            let addr = listener.local_addr().unwrap();
            let std_stream = std::net::TcpStream::connect(addr).unwrap();
            let mut client = TcpStream::from_std(std_stream).unwrap();
            let (mut server, peer) = listener.accept().await.unwrap();
            assert_eq!(peer, client.local_addr().unwrap());
            client.set_nodelay(true).unwrap();
            assert!(client.nodelay().unwrap());
            server.write_all(b"hi").await.unwrap();
            client.readable().await.unwrap();
            let mut buf = [0u8; 2];
            client.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"hi");
            server.writable().await.unwrap();
        });
    });
}

#[test]
fn io_outside_a_runtime_is_an_error() {
    common::watchdog(|| {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let err = TcpListener::from_std(std_listener).unwrap_err();
        assert!(err.to_string().contains("runtime"), "{err}");
    });
}

/// The I/O types can move between and be shared by tasks on any worker.
#[allow(dead_code)]
fn io_types_are_send_sync_unpin() {
    fn check<T: Send + Sync + Unpin>() {}
    check::<TcpListener>();
    check::<TcpStream>();
    check::<flywheel::net::UdpSocket>();
    check::<flywheel::net::UnixListener>();
    check::<flywheel::net::UnixStream>();
    check::<flywheel::io::Async<std::os::unix::net::UnixStream>>();
    fn check_send<T: Send>(_: &T) {}
    let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
    check_send(&TcpStream::connect(addr));
    check_send(&TcpListener::bind("127.0.0.1:0"));
}

#[test]
fn a_hot_socket_yields_to_other_tasks() {
    common::watchdog(|| {
        let rt = current_thread();
        rt.block_on(async {
            const BYTES: usize = 16 * 1024;
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            // Everything is buffered before the reader starts: its socket stays ready.
            client.write_all(&[1u8; BYTES]).await.unwrap();
            client.close().await.unwrap();
            let reader = flywheel::spawn(async move {
                let mut byte = [0u8; 1];
                let mut got = server.read(&mut byte).await.unwrap();
                // From here on every read finds data at once. Spawn another task behind us:
                // it can only run if the reads make this task yield.
                let other_ran = Arc::new(AtomicBool::new(false));
                let flag = other_ran.clone();
                let other = flywheel::spawn(async move { flag.store(true, Ordering::SeqCst) });
                let mut ran_while_reading = false;
                while got < BYTES {
                    got += server.read(&mut byte).await.unwrap();
                    ran_while_reading |= other_ran.load(Ordering::SeqCst);
                }
                other.await.unwrap();
                ran_while_reading
            });
            assert!(
                reader.await.unwrap(),
                "the reader never yielded to the other task"
            );
        });
    });
}

#[test]
fn accept_keeps_serving_after_clients_leave_early() {
    common::watchdog(|| {
        for rt in [current_thread(), multi_thread()] {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let server = flywheel::spawn(async move {
                    let mut served = 0;
                    loop {
                        let Ok((mut stream, _)) = listener.accept().await else {
                            continue;
                        };
                        let mut buf = [0u8; 4];
                        match stream.read_exact(&mut buf).await {
                            Ok(()) => {
                                stream.write_all(&buf).await.unwrap();
                                return served;
                            }
                            // A client that left before sending anything.
                            Err(_) => served += 1,
                        }
                    }
                });
                for _ in 0..50 {
                    // Connect (the handshake completes in the kernel) and leave at once.
                    drop(std::net::TcpStream::connect(addr).unwrap());
                }
                let mut client = TcpStream::connect(addr).await.unwrap();
                client.write_all(b"ping").await.unwrap();
                let mut buf = [0u8; 4];
                client.read_exact(&mut buf).await.unwrap();
                assert_eq!(&buf, b"ping");
                assert_eq!(server.await.unwrap(), 50);
            });
        }
    });
}
