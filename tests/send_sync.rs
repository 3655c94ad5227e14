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
