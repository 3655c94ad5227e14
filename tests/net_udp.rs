//! UDP behaviour on real loopback sockets.

mod common;

use std::sync::Arc;

use flywheel::net::UdpSocket;
use flywheel::Runtime;

fn runtimes() -> [Runtime; 2] {
    [
        flywheel::Builder::new_current_thread().build().unwrap(),
        flywheel::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap(),
    ]
}

#[test]
fn many_datagrams_round_trip() {
    common::watchdog(|| {
        let datagrams = common::iterations(20_000);
        for rt in runtimes() {
            rt.block_on(async {
                let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let server_addr = server.local_addr().unwrap();
                let echo = flywheel::spawn(async move {
                    let mut buf = [0u8; 1500];
                    for _ in 0..datagrams {
                        let (n, from) = server.recv_from(&mut buf).await.unwrap();
                        server.send_to(&buf[..n], from).await.unwrap();
                    }
                });
                let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                client.connect(server_addr).await.unwrap();
                assert_eq!(client.peer_addr().unwrap(), server_addr);
                let mut buf = [0u8; 1500];
                for i in 0..datagrams {
                    let len = 1 + i % 1400;
                    let payload: Vec<u8> = (0..len).map(|b| (b + i) as u8).collect();
                    assert_eq!(client.send(&payload).await.unwrap(), len);
                    let n = client.recv(&mut buf).await.unwrap();
                    assert_eq!(&buf[..n], &payload[..], "datagram {i}");
                }
                echo.await.unwrap();
            });
        }
    });
}

#[test]
fn one_task_receives_while_another_sends() {
    common::watchdog(|| {
        let [_, rt] = runtimes();
        rt.block_on(async {
            let a = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
            let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let b_addr = b.local_addr().unwrap();
            let a_addr = a.local_addr().unwrap();
            // b bounces every datagram back to a.
            flywheel::spawn(async move {
                let mut buf = [0u8; 64];
                loop {
                    let (n, from) = b.recv_from(&mut buf).await.unwrap();
                    b.send_to(&buf[..n], from).await.unwrap();
                }
            });
            let count = common::iterations(2_000) as u32;
            const WINDOW: u32 = 16;
            // The receiver acknowledges every window, so at most WINDOW datagrams are in
            // flight and none is dropped for lack of buffer space.
            let (ack_tx, mut ack_rx) = futures::channel::mpsc::unbounded::<()>();
            let receiver = {
                let a = a.clone();
                flywheel::spawn(async move {
                    let mut buf = [0u8; 64];
                    for seen in 1..=count {
                        let (n, from) = a.recv_from(&mut buf).await.unwrap();
                        assert_eq!((n, from), (4, b_addr));
                        if seen % WINDOW == 0 {
                            ack_tx.unbounded_send(()).unwrap();
                        }
                    }
                })
            };
            for i in 0..count {
                a.send_to(&i.to_le_bytes(), b_addr).await.unwrap();
                if i % WINDOW == WINDOW - 1 {
                    futures::StreamExt::next(&mut ack_rx).await.unwrap();
                }
            }
            receiver.await.unwrap();
            assert_ne!(a_addr, b_addr);
        });
    });
}

#[test]
fn send_to_a_closed_port_reports_refused_on_a_connected_socket() {
    common::watchdog(|| {
        let [rt, _] = runtimes();
        rt.block_on(async {
            let closed = std::net::UdpSocket::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap();
            let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            socket.connect(closed).await.unwrap();
            socket.send(b"anyone?").await.unwrap();
            let mut buf = [0u8; 16];
            let err = socket.recv(&mut buf).await.unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
        });
    });
}
