//! `flywheel::io::Async` over non-blocking descriptors, and wake-ups that reach a runtime
//! idling in the reactor.
#![cfg(unix)]

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use flywheel::io::Async;
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

fn nonblocking_pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (a, b)
}

#[test]
fn async_pipe_carries_a_large_stream() {
    common::watchdog(|| {
        for rt in runtimes() {
            rt.block_on(async {
                let (a, b) = nonblocking_pair();
                let (mut a, mut b) = (Async::new(a).unwrap(), Async::new(b).unwrap());
                let data: Vec<u8> = (0..2 << 20).map(|i: u32| (i % 253) as u8).collect();
                let expected = data.clone();
                let writer = flywheel::spawn(async move {
                    a.write_all(&data).await.unwrap();
                    a.flush().await.unwrap();
                    // Dropping closes the write end: the reader sees EOF.
                });
                let mut got = Vec::new();
                b.read_to_end(&mut got).await.unwrap();
                writer.await.unwrap();
                assert!(got == expected, "{} bytes arrived", got.len());
            });
        }
    });
}

#[test]
fn shared_reference_reads_and_writes_concurrently() {
    common::watchdog(|| {
        let [_, rt] = runtimes();
        rt.block_on(async {
            let (a, b) = nonblocking_pair();
            let a = Arc::new(Async::new(a).unwrap());
            // A plain thread echoes whatever it gets.
            let b = std::thread::spawn(move || {
                b.set_nonblocking(false).unwrap();
                let mut b = b;
                let mut buf = [0u8; 4096];
                loop {
                    match b.read(&mut buf).unwrap() {
                        0 => break,
                        n => b.write_all(&buf[..n]).unwrap(),
                    }
                }
            });
            let writer = {
                let a = a.clone();
                flywheel::spawn(async move {
                    (&*a).write_all(&[7u8; 300_000]).await.unwrap();
                    a.get_ref().shutdown(std::net::Shutdown::Write).unwrap();
                })
            };
            let mut got = Vec::new();
            (&*a).read_to_end(&mut got).await.unwrap();
            writer.await.unwrap();
            b.join().unwrap();
            assert_eq!(got.len(), 300_000);
            assert!(got.iter().all(|&x| x == 7));
        });
    });
}

#[test]
fn into_inner_gives_the_descriptor_back() {
    common::watchdog(|| {
        let [rt, _] = runtimes();
        rt.block_on(async {
            let (a, mut b) = nonblocking_pair();
            let a = Async::new(a).unwrap();
            a.writable().await.unwrap();
            let mut a = a.into_inner().unwrap();
            a.write_all(b"raw").unwrap();
            b.set_nonblocking(false).unwrap();
            let mut buf = [0u8; 3];
            b.read_exact(&mut buf).unwrap();
            assert_eq!(&buf, b"raw");
        });
    });
}

#[test]
fn a_regular_file_is_refused() {
    common::watchdog(|| {
        let [rt, _] = runtimes();
        rt.block_on(async {
            let file = std::fs::File::open("/proc/self/exe")
                .or_else(|_| std::fs::File::open("Cargo.toml"));
            assert!(
                Async::new(file.unwrap()).is_err(),
                "epoll cannot watch regular files"
            );
        });
    });
}

/// A plain std thread pokes the runtime while every runtime thread idles; the wake-up must
/// arrive promptly (generous bound: 500 ms).
#[test]
fn wake_from_a_std_thread_reaches_an_idle_runtime() {
    common::watchdog(|| {
        for rt in runtimes() {
            // Through the reactor: bytes written by the thread make a socket readable.
            let (a, mut b) = nonblocking_pair();
            let elapsed = rt.block_on(async move {
                let a = Async::new(a).unwrap();
                let (tx, rx) = std::sync::mpsc::channel();
                let poker = std::thread::spawn(move || {
                    // Let the runtime settle into the reactor first.
                    std::thread::sleep(Duration::from_millis(50));
                    tx.send(Instant::now()).unwrap();
                    b.write_all(b"!").unwrap();
                });
                let waiting = flywheel::spawn(async move {
                    a.readable().await.unwrap();
                    Instant::now()
                });
                let woke = waiting.await.unwrap();
                poker.join().unwrap();
                woke - rx.recv().unwrap()
            });
            assert!(elapsed < Duration::from_millis(500), "{elapsed:?}");

            // Through a waker: a channel completed by the thread.
            let (tx, rx) = futures::channel::oneshot::channel::<Instant>();
            let elapsed = rt.block_on(async move {
                let poker = std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(50));
                    tx.send(Instant::now()).unwrap();
                });
                let task = flywheel::spawn(async move {
                    let sent = rx.await.unwrap();
                    sent.elapsed()
                });
                let elapsed = task.await.unwrap();
                poker.join().unwrap();
                elapsed
            });
            assert!(elapsed < Duration::from_millis(500), "{elapsed:?}");
        }
    });
}

#[test]
fn async_outside_a_runtime_is_an_error() {
    common::watchdog(|| {
        let (a, _b) = nonblocking_pair();
        let err = Async::new(a).unwrap_err();
        assert!(err.to_string().contains("runtime"), "{err}");
    });
}

/// The loop "wait for `readable`, read by hand, on `WouldBlock` wait again" on a
/// current-thread runtime: after the first message the readable bit stays set (nothing
/// clears it), so each `readable()` returns at once. It must still let the other task run
/// (the cooperative budget makes it yield), and it ends once the second message arrives.
#[test]
fn a_hand_written_readable_loop_does_not_wedge_a_current_thread_runtime() {
    common::watchdog(|| {
        let [rt, _] = runtimes();
        rt.block_on(async {
            let (a, mut b) = nonblocking_pair();
            let a = Async::new(a).unwrap();
            b.write_all(b"1").unwrap();
            let (tx, rx) = futures::channel::oneshot::channel::<()>();
            let writer = flywheel::spawn(async move {
                // Runs only if the reader yields.
                rx.await.unwrap();
                b.write_all(b"2").unwrap();
                b
            });
            let reader = flywheel::spawn(async move {
                let mut tx = Some(tx);
                let mut got = Vec::new();
                while got.len() < 2 {
                    a.readable().await.unwrap();
                    let mut buf = [0u8; 8];
                    match a.get_ref().read(&mut buf) {
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            if let Some(tx) = tx.take() {
                                tx.send(()).unwrap();
                            }
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
                got
            });
            assert_eq!(reader.await.unwrap(), b"12");
            drop(writer.await.unwrap());
        });
    });
}

/// The same two reads through `read_with`: a `WouldBlock` clears readiness, so the task
/// sleeps until the second message instead of calling its closure again and again.
#[test]
fn read_with_sleeps_until_the_next_event() {
    common::watchdog(|| {
        for rt in runtimes() {
            rt.block_on(async {
                let (a, mut b) = nonblocking_pair();
                let a = Arc::new(Async::new(a).unwrap());
                b.write_all(b"1").unwrap();
                let (tx, rx) = futures::channel::oneshot::channel::<()>();
                let writer = flywheel::spawn(async move {
                    rx.await.unwrap();
                    b.write_all(b"2").unwrap();
                    b
                });
                let reader = flywheel::spawn(async move {
                    let mut tx = Some(tx);
                    let mut calls = 0;
                    let mut got = Vec::new();
                    while got.len() < 2 {
                        let mut buf = [0u8; 8];
                        let n = a
                            .read_with(|mut s| {
                                calls += 1;
                                let result = s.read(&mut buf);
                                if matches!(&result, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
                                {
                                    if let Some(tx) = tx.take() {
                                        tx.send(()).unwrap();
                                    }
                                }
                                result
                            })
                            .await
                            .unwrap();
                        got.extend_from_slice(&buf[..n]);
                    }
                    (got, calls)
                });
                let (got, calls) = reader.await.unwrap();
                assert_eq!(got, b"12");
                // Read "1", WouldBlock, read "2"; one spare call for a spurious wake-up.
                assert!(calls <= 4, "the closure ran {calls} times");
                drop(writer.await.unwrap());
            });
        }
    });
}

/// `write_with_mut` on a full buffer waits for the peer to drain it, then writes;
/// `read_with_mut` takes the bytes back.
#[test]
fn write_with_mut_waits_for_room() {
    common::watchdog(|| {
        for rt in runtimes() {
            rt.block_on(async {
                let (a, b) = nonblocking_pair();
                let (mut a, mut b) = (Async::new(a).unwrap(), Async::new(b).unwrap());
                let mut filled = 0;
                loop {
                    match a.get_ref().write(&[1u8; 4096]) {
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                        Err(e) => panic!("{e}"),
                    }
                }
                let drain = flywheel::spawn(async move {
                    let mut total = 0;
                    let mut buf = vec![0u8; 1 << 16];
                    while total < filled + 1 {
                        total += b.read_with_mut(|s| s.read(&mut buf)).await.unwrap();
                    }
                    total
                });
                let mut calls = 0;
                let n = a
                    .write_with_mut(|s| {
                        calls += 1;
                        s.write(&[2u8])
                    })
                    .await
                    .unwrap();
                assert_eq!(n, 1);
                assert_eq!(drain.await.unwrap(), filled + 1);
                // A few `WouldBlock`s at most: each is followed by a real wait.
                assert!(calls <= 4, "the closure ran {calls} times");
            });
        }
    });
}
