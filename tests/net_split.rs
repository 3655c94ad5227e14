//! `split` / `into_split` on `TcpStream` and `UnixStream`: halves used from two tasks at
//! once, shutdown on drop of the owned write half, `reunite`; on both runtime flavours.

mod common;

use std::io;

use common::FLAVOURS;
use flywheel::net::{TcpListener, TcpStream, UnixStream};
// In scope on purpose: `TcpStream::split(&mut s)` must still reach the inherent method.
use futures::{AsyncReadExt, AsyncWriteExt};

/// More than the socket buffers usually hold: writing it all before reading anything back
/// would stall, so reader and writer must really run at once.
const BYTES: usize = 2 << 20;

/// The data-heavy tests move a few MiB through debug builds on a loaded 2-core machine.
const HEAVY: std::time::Duration = std::time::Duration::from_secs(30);

fn data() -> Vec<u8> {
    (0..BYTES).map(|i| (i % 251) as u8).collect()
}

async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (b, _) = listener.accept().await.unwrap();
    (a, b)
}

/// Echoes everything `peer` sends until it half-closes, then half-closes too.
fn spawn_echo<S>(peer: S) -> flywheel::task::JoinHandle<io::Result<u64>>
where
    S: futures::AsyncRead + futures::AsyncWrite + Unpin + Send + 'static,
{
    flywheel::spawn(async move {
        let (mut read, mut write) = peer.split(); // futures' locked split: fine for the peer
        let n = futures::io::copy(&mut read, &mut write).await?;
        write.close().await?;
        Ok(n)
    })
}

macro_rules! owned_halves_in_two_tasks {
    ($pair:expr) => {{
        let (a, b) = $pair;
        let echo = spawn_echo(b);
        let (mut read, mut write) = a.into_split();
        let sent = data();
        let expected = sent.clone();
        let writer = flywheel::spawn(async move {
            write.write_all(&sent).await?;
            write.close().await
        });
        let reader = flywheel::spawn(async move {
            let mut got = Vec::with_capacity(BYTES);
            read.read_to_end(&mut got).await.map(|_| got)
        });
        writer.await.unwrap().unwrap();
        let got = reader.await.unwrap().unwrap();
        assert!(got == expected, "echo differs ({} bytes back)", got.len());
        assert_eq!(echo.await.unwrap().unwrap(), BYTES as u64);
    }};
}

#[test]
fn owned_halves_work_from_two_tasks_at_once() {
    for (_, rt) in FLAVOURS {
        common::watchdog_for(HEAVY, move || {
            rt().block_on(async {
                owned_halves_in_two_tasks!(tcp_pair().await);
                owned_halves_in_two_tasks!(UnixStream::pair().unwrap());
            });
        });
    }
}

macro_rules! borrowed_halves_at_once {
    ($ty:ident, $pair:expr) => {{
        let (mut a, b) = $pair;
        let echo = spawn_echo(b);
        let (mut read, mut write) = $ty::split(&mut a);
        let sent = data();
        let mut got = Vec::with_capacity(BYTES);
        let (written, read_back) = futures::join!(
            async {
                write.write_all(&sent).await?;
                write.close().await
            },
            read.read_to_end(&mut got)
        );
        written.unwrap();
        assert_eq!(read_back.unwrap(), BYTES);
        assert!(got == sent, "echo differs");
        echo.await.unwrap().unwrap();
        // The halves were borrows: the stream is still usable.
        assert!(a.local_addr().is_ok());
    }};
}

#[test]
fn borrowed_halves_read_and_write_at_once() {
    for (_, rt) in FLAVOURS {
        common::watchdog_for(HEAVY, move || {
            rt().block_on(async {
                borrowed_halves_at_once!(TcpStream, tcp_pair().await);
                borrowed_halves_at_once!(UnixStream, UnixStream::pair().unwrap());
            });
        });
    }
}

macro_rules! drop_shuts_down_and_forget_does_not {
    ($pair:expr) => {{
        // Dropping the owned write half: the peer reads end of file, while the read half
        // still works.
        let (a, mut b) = $pair;
        let (mut read, write) = a.into_split();
        drop(write);
        let mut buf = [0; 8];
        assert_eq!(b.read(&mut buf).await.unwrap(), 0, "drop did not shut down");
        b.write_all(b"still").await.unwrap();
        read.read_exact(&mut buf[..5]).await.unwrap();
        assert_eq!(&buf[..5], b"still");

        // `forget`: no shutdown; the peer only sees end of file once both halves are gone.
        let (a, mut b) = $pair;
        let (read, mut write) = a.into_split();
        write.write_all(b"x").await.unwrap();
        write.forget();
        b.read_exact(&mut buf[..1]).await.unwrap();
        let pending =
            flywheel::time::timeout(std::time::Duration::from_millis(50), b.read(&mut buf)).await;
        assert!(pending.is_err(), "forget shut the stream down: {pending:?}");
        drop(read);
        assert_eq!(b.read(&mut buf).await.unwrap(), 0);
    }};
}

#[test]
fn dropping_the_owned_write_half_shuts_down_writes() {
    for (_, rt) in FLAVOURS {
        common::watchdog(move || {
            rt().block_on(async {
                drop_shuts_down_and_forget_does_not!(tcp_pair().await);
                drop_shuts_down_and_forget_does_not!(UnixStream::pair().unwrap());
            });
        });
    }
}

macro_rules! reunite {
    ($pair:expr) => {{
        let (a, mut b) = $pair;
        let (c, _d) = $pair;
        let (read, write) = a.into_split();
        let (c_read, c_write) = c.into_split();

        // Mismatched halves come back unchanged, in both directions.
        let err = read.reunite(c_write).unwrap_err();
        assert!(err.to_string().contains("not from the same"), "{err}");
        let (read, c_write) = (err.0, err.1);
        let err = write.reunite(c_read).unwrap_err();
        let (c_read, write) = (err.0, err.1);
        drop((c_read, c_write));

        // Matching halves give the stream back, without shutting its writes down.
        let mut a = read.reunite(write).unwrap();
        a.write_all(b"whole").await.unwrap();
        let mut buf = [0; 5];
        b.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"whole");
        b.write_all(b"again").await.unwrap();
        a.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"again");
    }};
}

#[test]
fn halves_reunite_only_with_their_own() {
    for (_, rt) in FLAVOURS {
        common::watchdog(move || {
            rt().block_on(async {
                reunite!(tcp_pair().await);
                reunite!(UnixStream::pair().unwrap());
            });
        });
    }
}

#[test]
fn halves_are_send_sync_and_expose_the_stream() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<flywheel::net::tcp::OwnedReadHalf>();
    send_sync::<flywheel::net::tcp::OwnedWriteHalf>();
    send_sync::<flywheel::net::tcp::ReadHalf<'static>>();
    send_sync::<flywheel::net::tcp::WriteHalf<'static>>();
    send_sync::<flywheel::net::tcp::ReuniteError>();
    send_sync::<flywheel::net::unix::OwnedReadHalf>();
    send_sync::<flywheel::net::unix::OwnedWriteHalf>();
    send_sync::<flywheel::net::unix::ReadHalf<'static>>();
    send_sync::<flywheel::net::unix::WriteHalf<'static>>();
    send_sync::<flywheel::net::unix::ReuniteError>();
    for (_, rt) in FLAVOURS {
        common::watchdog(move || {
            rt().block_on(async {
                let (a, b) = tcp_pair().await;
                let (read, write) = a.into_split();
                assert_eq!(read.peer_addr().unwrap(), b.local_addr().unwrap());
                assert_eq!(write.local_addr().unwrap(), b.peer_addr().unwrap());
                let stream: &TcpStream = read.as_ref();
                assert_eq!(stream.peer_addr().unwrap(), b.local_addr().unwrap());
            });
        });
    }
}

/// Echo through owned halves in two tasks using only `readable` / `try_read` on one half and
/// `writable` / `try_write` on the other: every byte arrives, in order.
macro_rules! readiness_on_halves {
    ($pair:expr) => {{
        let (a, b) = $pair;
        let echo = spawn_echo(b);
        let (read, write) = a.into_split();
        let sent: Vec<u8> = data()[..256 << 10].to_vec();
        let expected = sent.clone();
        let writer = flywheel::spawn(async move {
            let mut rest = &sent[..];
            while !rest.is_empty() {
                write.writable().await?;
                match write.try_write(rest) {
                    Ok(n) => rest = &rest[n..],
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(e) => return Err(e),
                }
            }
            Ok::<_, io::Error>(write)
        });
        let reader = flywheel::spawn(async move {
            let mut got = Vec::new();
            let mut buf = [0; 4096];
            while got.len() < 256 << 10 {
                read.readable().await?;
                match read.try_read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(e) => return Err(e),
                }
            }
            Ok::<_, io::Error>((read, got))
        });
        let write = writer.await.unwrap().unwrap();
        let (read, got) = reader.await.unwrap().unwrap();
        assert!(
            got == expected,
            "echo through readiness calls lost or reordered data"
        );
        drop(read.reunite(write).unwrap());
        echo.await.unwrap().unwrap();
    }};
}

#[test]
fn halves_wait_for_readiness_and_try_io() {
    for (_, rt) in FLAVOURS {
        common::watchdog_for(HEAVY, move || {
            rt().block_on(async {
                readiness_on_halves!(tcp_pair().await);
                readiness_on_halves!(UnixStream::pair().unwrap());
            });
        });
    }
}
