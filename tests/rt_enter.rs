//! `Runtime::enter` / `Handle::enter`: spawning, `Handle::current`, timers and sockets from
//! synchronous code while a guard lives; nesting; out-of-order drops.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use common::{watchdog, FLAVOURS};
use flywheel::{Builder, Handle, Runtime};

fn named(name: &str) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(name)
        .build()
        .expect("build a multi-thread runtime")
}

/// The name of the worker that runs a task spawned with `flywheel::spawn` here, i.e. which
/// runtime is current.
fn current_name(rt_to_wait_on: &Runtime) -> String {
    let task = flywheel::spawn(async { std::thread::current().name().unwrap().to_owned() });
    rt_to_wait_on.block_on(task).unwrap()
}

#[test]
fn spawn_and_handle_current_work_under_a_guard_on_both_flavours() {
    watchdog(|| {
        for (name, make) in FLAVOURS {
            let rt = make();
            assert!(Handle::try_current().is_err(), "{name}");
            let task = {
                let _guard = rt.enter();
                let handle = Handle::current();
                assert_eq!(handle.runtime_flavor(), rt.handle().runtime_flavor());
                flywheel::spawn(async { 40 + 2 })
            };
            assert!(Handle::try_current().is_err(), "{name}: the guard is gone");
            assert_eq!(rt.block_on(task).unwrap(), 42, "{name}");
        }
    });
}

#[test]
fn timers_and_sockets_are_made_under_a_guard() {
    watchdog(|| {
        for (_, make) in FLAVOURS {
            let rt = make();
            let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            std_listener.set_nonblocking(true).unwrap();
            let addr = std_listener.local_addr().unwrap();
            let (nap, listener) = {
                let _guard = rt.handle().enter();
                let nap = flywheel::time::sleep(Duration::from_millis(5));
                let listener = flywheel::net::TcpListener::from_std(std_listener)
                    .expect("a socket constructor needs a current runtime");
                (nap, listener)
            };
            rt.block_on(async move {
                nap.await;
                let client = std::thread::spawn(move || std::net::TcpStream::connect(addr));
                let (_stream, _) = listener.accept().await.unwrap();
                client.join().unwrap().unwrap();
            });
        }
    });
}

#[test]
fn a_guard_on_another_thread_enters_through_a_handle() {
    watchdog(|| {
        let rt = named("enter-remote");
        let handle = rt.handle().clone();
        let name = std::thread::spawn(move || {
            let _guard = handle.enter();
            let task = flywheel::spawn(async { std::thread::current().name().unwrap().to_owned() });
            handle.block_on(task).unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(name, "enter-remote");
    });
}

#[test]
fn guards_nest_and_the_outer_runtime_comes_back() {
    watchdog(|| {
        let a = named("enter-a");
        let b = named("enter-b");
        let guard_a = a.enter();
        assert_eq!(current_name(&a), "enter-a");
        {
            let _guard_b = b.enter();
            assert_eq!(current_name(&b), "enter-b");
            {
                let _again_a = a.enter();
                assert_eq!(current_name(&a), "enter-a");
            }
            assert_eq!(current_name(&b), "enter-b");
        }
        assert_eq!(current_name(&a), "enter-a");
        drop(guard_a);
        assert!(Handle::try_current().is_err());
    });
}

#[test]
fn dropping_guards_out_of_order_panics_with_advice() {
    watchdog(|| {
        let a = named("order-a");
        let b = named("order-b");
        let guard_a = a.enter();
        let guard_b = b.enter();
        let panic = catch_unwind(AssertUnwindSafe(move || drop(guard_a))).unwrap_err();
        let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(message.contains("out of order"), "{message}");
        assert!(message.contains("reverse order"), "{message}");
        // The late inner guard is stale: dropping it neither panics nor brings `b` back.
        drop(guard_b);
        assert!(Handle::try_current().is_err());
        // The thread's context still works.
        {
            let _guard = b.enter();
            assert_eq!(current_name(&b), "order-b");
        }
        assert!(Handle::try_current().is_err());
    });
}

#[test]
fn a_guard_inside_block_on_is_undone_before_block_on_returns() {
    watchdog(|| {
        let a = named("inside-a");
        let b = named("inside-b");
        a.block_on(async {
            {
                let _guard = b.enter();
                let task =
                    flywheel::spawn(async { std::thread::current().name().map(str::to_owned) });
                drop(task);
                assert_eq!(
                    Handle::current().runtime_flavor(),
                    flywheel::RuntimeFlavor::MultiThread
                );
            }
            let here = flywheel::spawn(async { std::thread::current().name().unwrap().to_owned() });
            assert_eq!(here.await.unwrap(), "inside-a");
        });
        assert!(Handle::try_current().is_err());
    });
}

#[test]
fn enter_guard_is_debug() {
    let rt = common::current_thread();
    let guard = rt.enter();
    assert!(format!("{guard:?}").contains("EnterGuard"));
}
