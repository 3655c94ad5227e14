//! Compile-time checks that the public types are `Send`/`Sync`/`Unpin` as documented, and
//! that the futures the crate returns can be awaited inside `flywheel::spawn`.
//!
//! Nothing here needs to run: the test fails by not compiling.

#![allow(dead_code)]

mod common;

use std::future::Future;

use flywheel::task::{AbortHandle, JoinError, JoinHandle, YieldNow};
use flywheel::{Builder, Handle, Runtime, TryCurrentError};

fn send<T: Send>() {}
fn sync<T: Sync>() {}
fn unpin<T: Unpin>() {}
fn send_future<F: Future + Send + 'static>(_: &F)
where
    F::Output: Send,
{
}

#[test]
fn runtime_types() {
    common::watchdog(|| {
        send::<Runtime>();
        sync::<Runtime>();
        send::<Handle>();
        sync::<Handle>();
        send::<Builder>();
        sync::<Builder>();
        send::<TryCurrentError>();
        sync::<TryCurrentError>();
    });
}

#[test]
fn task_types() {
    common::watchdog(|| {
        send::<JoinHandle<u32>>();
        sync::<JoinHandle<u32>>();
        unpin::<JoinHandle<u32>>();
        // A JoinHandle is Unpin whatever its output is.
        unpin::<JoinHandle<std::marker::PhantomPinned>>();
        send::<AbortHandle>();
        sync::<AbortHandle>();
        send::<JoinError>();
        sync::<JoinError>();
        send::<YieldNow>();
        sync::<YieldNow>();
        unpin::<YieldNow>();
    });
}

#[test]
fn join_error_is_a_standard_error() {
    common::watchdog(|| {
        fn boxed(e: JoinError) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            Box::new(e)
        }
        let _ = boxed;
    });
}

#[test]
fn futures_that_await_crate_futures_can_be_spawned() {
    common::watchdog(|| {
        let rt = Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let outer = async {
                let inner: JoinHandle<u8> = flywheel::spawn(async { 1 });
                flywheel::task::yield_now().await;
                let blocking = flywheel::spawn_blocking(|| 2u8);
                inner.await.unwrap() + blocking.await.unwrap()
            };
            send_future(&outer);
            assert_eq!(flywheel::spawn(outer).await.unwrap(), 3);
        });
    });
}

/// `JoinHandle<T>` is `Send` and `Sync` for every output spawning allows (`T: Send`), even
/// when `T` itself is not `Sync`.
fn join_handle_of<T: Send + 'static>() {
    send::<JoinHandle<T>>();
    sync::<JoinHandle<T>>();
}

#[test]
fn join_handle_generic() {
    common::watchdog(|| {
        join_handle_of::<String>();
        join_handle_of::<Vec<u8>>();
        // Only Send, not Sync, as outputs go:
        join_handle_of::<std::cell::Cell<u8>>();
    });
}

#[test]
fn task_group_and_time_types() {
    use flywheel::task::{
        AsCompleted, JoinAll, JoinNext, JoinSet, JoinSetWait, Shutdown, TryJoinAll, TryJoinError,
        Wait, Waited,
    };
    use flywheel::time::{Elapsed, Interval, Sleep, Timeout};
    common::watchdog(|| {
        send::<JoinSet<u32>>();
        sync::<JoinSet<u32>>();
        send::<JoinNext<'static, u32>>();
        send::<Shutdown<'static, u32>>();
        send::<JoinSetWait<'static, u32>>();
        send::<Wait<u32>>();
        send::<Waited<u32>>();
        send::<JoinAll<u32>>();
        send::<TryJoinAll<u32, String>>();
        send::<TryJoinError<String>>();
        send::<AsCompleted<u32>>();
        send::<Sleep>();
        sync::<Sleep>();
        send::<Timeout<Sleep>>();
        send::<Interval>();
        send::<Elapsed>();
        sync::<Elapsed>();
    });
}

#[test]
fn futures_of_task_groups_and_timers_can_be_spawned() {
    common::watchdog(|| {
        let rt = Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            use std::time::Duration;
            let outer = async {
                let mut set = flywheel::task::JoinSet::new();
                set.spawn(async { 1u8 });
                let first = set.join_next().await.unwrap().unwrap();
                set.spawn(async { 1u8 });
                let _ = set
                    .wait(flywheel::task::ReturnWhen::AllCompleted, None)
                    .await;
                set.shutdown().await;
                let handles = vec![flywheel::spawn(async { 1u8 })];
                let waited =
                    flywheel::task::wait(handles, flywheel::task::ReturnWhen::FirstError, None)
                        .await;
                let gathered = flywheel::task::join_all(vec![flywheel::spawn(async { 1u8 })]).await;
                let raced =
                    flywheel::task::select(flywheel::time::sleep(Duration::ZERO), async { 1u8 })
                        .await;
                let (any, _) = flywheel::task::select_all(vec![async { 1u8 }]).await;
                let timed = flywheel::time::timeout(Duration::from_secs(1), async { 1u8 }).await;
                let mut ticker = flywheel::time::interval(Duration::from_millis(1));
                ticker.tick().await;
                let _ = raced;
                first + waited.done.len() as u8 + gathered[0] + any + timed.unwrap()
            };
            send_future(&outer);
            assert_eq!(flywheel::spawn(outer).await.unwrap(), 5);
        });
    });
}

/// `T` can be made from `S` the way tokio's types are (`TryFrom<std type>`).
fn try_from<S, T: TryFrom<S, Error = std::io::Error>>() {}

#[test]
fn types_tokio_users_reach_for() {
    use flywheel::io::{Interest, Ready};
    use flywheel::net::{tcp, unix, TcpListener, TcpSocket, TcpStream, UdpSocket};
    use flywheel::net::{UnixDatagram, UnixListener, UnixStream};
    use flywheel::task::{Id, JoinNextWithId};
    use flywheel::time::Instant;
    use flywheel::RuntimeFlavor;
    common::watchdog(|| {
        send::<Instant>();
        sync::<Instant>();
        send::<Interest>();
        sync::<Ready>();
        send::<Id>();
        sync::<Id>();
        send::<RuntimeFlavor>();
        send::<JoinNextWithId<'static, u32>>();
        send::<TcpSocket>();
        sync::<TcpSocket>();
        send::<UnixDatagram>();
        sync::<UnixDatagram>();
        send::<tcp::OwnedReadHalf>();
        send::<tcp::OwnedWriteHalf>();
        send::<tcp::ReadHalf<'static>>();
        send::<unix::OwnedReadHalf>();
        send::<unix::WriteHalf<'static>>();
        try_from::<std::net::TcpStream, TcpStream>();
        try_from::<std::net::TcpListener, TcpListener>();
        try_from::<std::net::UdpSocket, UdpSocket>();
        try_from::<std::os::unix::net::UnixStream, UnixStream>();
        try_from::<std::os::unix::net::UnixListener, UnixListener>();
        try_from::<std::os::unix::net::UnixDatagram, UnixDatagram>();
    });
}

#[test]
fn readiness_futures_can_be_spawned() {
    common::watchdog(|| {
        let rt = Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let (a, b) = flywheel::net::UnixDatagram::pair().unwrap();
            let outer = async move {
                a.writable().await.unwrap();
                a.try_send(b"x").unwrap();
                let ready = b.ready(flywheel::io::Interest::READABLE).await.unwrap();
                let mut buf = [0; 1];
                (ready.is_readable(), b.try_recv(&mut buf).unwrap())
            };
            send_future(&outer);
            assert_eq!(flywheel::spawn(outer).await.unwrap(), (true, 1));
        });
    });
}
