//! Unix domain stream sockets.
#![cfg(unix)]

mod common;

use std::path::PathBuf;

use flywheel::net::{UnixListener, UnixStream};
use flywheel::Runtime;
use futures::{AsyncReadExt, AsyncWriteExt};

fn runtimes() -> [Runtime; 2] {
    [
        flywheel::Builder::new_current_thread().build().unwrap(),
        flywheel::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap(),
    ]
}

fn socket_path(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("flywheel-{}-{name}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn unix_stream_echo() {
    common::watchdog(|| {
        for (i, rt) in runtimes().into_iter().enumerate() {
            let path = socket_path(&format!("echo{i}"));
            rt.block_on(async {
                let listener = UnixListener::bind(&path).unwrap();
                flywheel::spawn(async move {
                    loop {
                        let (stream, _) = listener.accept().await.unwrap();
                        flywheel::spawn(async move {
                            futures::io::copy(&stream, &mut &stream).await.unwrap();
                            stream.shutdown(std::net::Shutdown::Write).unwrap();
                        });
                    }
                });
                let clients: Vec<_> = (0..20)
                    .map(|c| {
                        let path = path.clone();
                        flywheel::spawn(async move {
                            let stream = UnixStream::connect(&path).await.unwrap();
                            let data: Vec<u8> = (0..64 * 1024).map(|i| (i * 7 + c) as u8).collect();
                            let (mut reader, mut writer) = (&stream, &stream);
                            let write = async {
                                writer.write_all(&data).await.unwrap();
                                writer.close().await.unwrap();
                            };
                            let read = async {
                                let mut got = Vec::new();
                                reader.read_to_end(&mut got).await.unwrap();
                                got
                            };
                            let ((), got) = futures::join!(write, read);
                            assert!(got == data);
                        })
                    })
                    .collect();
                for client in clients {
                    client.await.unwrap();
                }
            });
            std::fs::remove_file(&path).unwrap();
        }
    });
}

#[test]
fn connect_to_a_missing_path_fails() {
    common::watchdog(|| {
        let [rt, _] = runtimes();
        let err = rt
            .block_on(UnixStream::connect(socket_path("missing")))
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    });
}

#[test]
fn pair_and_from_std_carry_bytes_both_ways() {
    common::watchdog(|| {
        let [_, rt] = runtimes();
        rt.block_on(async {
            let (mut a, b) = UnixStream::pair().unwrap();
            let (c, d) = std::os::unix::net::UnixStream::pair().unwrap();
            let mut c = UnixStream::from_std(c).unwrap();
            drop(d);
            let mut buf = [0u8; 1];
            assert_eq!(c.read(&mut buf).await.unwrap(), 0, "peer closed: EOF");
            a.write_all(b"x").await.unwrap();
            b.readable().await.unwrap();
            let mut b = b;
            b.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"x");
        });
    });
}
