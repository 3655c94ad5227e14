//! `task::Builder`: named tasks through every spawn method, where the name and the spawn
//! location show, and the error of a refused spawn.

mod common;

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{watchdog, DropCounter, FLAVOURS};
use flywheel::task::{Builder, Id};
use flywheel::Handle;

/// The dump entry of task `id`: its name and spawn line.
fn named(handle: &Handle, id: Id) -> Option<(Option<String>, u32)> {
    let dump = handle.dump();
    let entry = dump.tasks().iter().find(|t| t.id() == id)?;
    assert_eq!(entry.spawned_at().file(), file!());
    Some((entry.name().map(str::to_owned), entry.spawned_at().line()))
}

#[test]
fn spawn_names_the_task_in_the_dump_and_in_debug() {
    watchdog(|| {
        for (flavour, build) in FLAVOURS {
            let rt = build();
            let (release, released) = futures::channel::oneshot::channel::<()>();
            let (task, line) = rt.block_on(async {
                let task = Builder::new().name("fetch").spawn(async {
                    let _ = released.await;
                    "fetched"
                });
                (task.unwrap(), line!() - 4)
            });
            let debug = format!("{task:?}");
            assert!(debug.contains("name: \"fetch\""), "{flavour}: {debug}");
            assert!(
                debug.contains(&format!("{}:{line}", file!())),
                "{flavour}: {debug}"
            );
            let abort = format!("{:?}", task.abort_handle());
            assert!(abort.contains("name: \"fetch\""), "{flavour}: {abort}");
            assert_eq!(
                named(rt.handle(), task.id()),
                Some((Some("fetch".to_owned()), line)),
                "{flavour}"
            );
            release.send(()).unwrap();
            assert_eq!(rt.block_on(task).unwrap(), "fetched");
        }
    });
}

#[test]
fn spawn_on_names_the_task_and_records_the_caller() {
    watchdog(|| {
        for (flavour, build) in FLAVOURS {
            let rt = build();
            let task = Builder::new()
                .name("remote")
                .spawn_on(std::future::pending::<()>(), rt.handle())
                .unwrap();
            let line = line!() - 2;
            assert_eq!(
                named(rt.handle(), task.id()),
                Some((Some("remote".to_owned()), line)),
                "{flavour}"
            );
            task.abort();
            assert!(rt.block_on(task).unwrap_err().is_cancelled());
        }
    });
}

#[test]
fn an_unnamed_builder_task_has_no_name() {
    watchdog(|| {
        let rt = common::multi_thread();
        let task = Builder::new()
            .spawn_on(std::future::pending::<()>(), rt.handle())
            .unwrap();
        let line = line!() - 2;
        assert_eq!(named(rt.handle(), task.id()), Some((None, line)));
        assert!(!format!("{task:?}").contains("name"));
    });
}

#[test]
fn spawn_blocking_and_spawn_blocking_on_name_the_job() {
    watchdog(|| {
        for (flavour, build) in FLAVOURS {
            let rt = build();
            let (started_tx, started) = std::sync::mpsc::channel();
            let (release, released) = std::sync::mpsc::channel::<()>();
            let job = rt.block_on(async move {
                Builder::new().name("crunch").spawn_blocking(move || {
                    started_tx.send(()).unwrap();
                    released.recv().unwrap();
                    6 * 7
                })
            });
            let job = job.unwrap();
            let line = line!() - 7;
            started.recv().unwrap();
            assert_eq!(
                named(rt.handle(), job.id()),
                Some((Some("crunch".to_owned()), line)),
                "{flavour}"
            );
            assert!(format!("{job:?}").contains("\"crunch\""));
            release.send(()).unwrap();
            assert_eq!(rt.block_on(job).unwrap(), 42);

            let job = Builder::new()
                .name("io")
                .spawn_blocking_on(|| "done", rt.handle())
                .unwrap();
            assert!(format!("{job:?}").contains("\"io\""), "{flavour}");
            assert_eq!(rt.block_on(job).unwrap(), "done");
        }
    });
}

#[test]
fn a_shut_down_runtime_refuses_with_an_error_and_drops_the_future_unpolled() {
    watchdog(|| {
        for (flavour, build) in FLAVOURS {
            let rt = build();
            let handle = rt.handle().clone();
            drop(rt);

            let drops = DropCounter::new();
            let polls = Arc::new(AtomicUsize::new(0));
            let guard = drops.guard();
            let counted = polls.clone();
            let refused = Builder::new().name("late").spawn_on(
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    drop(guard);
                },
                &handle,
            );
            let err: io::Error = refused.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::Other, "{flavour}");
            assert!(err.to_string().contains("shut down"), "{flavour}: {err}");
            assert_eq!(drops.count(), 1, "{flavour}");
            assert_eq!(polls.load(Ordering::SeqCst), 0, "{flavour}");

            let guard = drops.guard();
            let refused = Builder::new().spawn_blocking_on(move || drop(guard), &handle);
            assert!(refused.unwrap_err().to_string().contains("shut down"));
            assert_eq!(drops.count(), 2, "{flavour}");
        }
    });
}

#[test]
fn spawn_outside_a_runtime_panics_with_advice() {
    watchdog(|| {
        let caught = std::panic::catch_unwind(|| Builder::new().spawn(async {}));
        let payload = caught.unwrap_err();
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(message.contains("Handle"), "{message}");
    });
}

#[test]
fn the_builder_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Builder<'static>>();
}

/// `Builder::spawn_local` names a local task and records the user's line.
#[test]
fn spawn_local_names_a_local_task() {
    common::watchdog(|| {
        let rt = flywheel::Builder::new_current_thread()
            .build_local()
            .unwrap();
        rt.block_on(async {
            let rc = std::rc::Rc::new(5);
            let (task, line) = (
                flywheel::task::Builder::new()
                    .name("local-one")
                    .spawn_local(async move { *rc })
                    .unwrap(),
                line!() - 2,
            );
            let debug = format!("{task:?}");
            assert!(debug.contains("local-one"), "{debug}");
            assert!(debug.contains(&format!("{}:{line}", file!())), "{debug}");
            assert_eq!(task.await.unwrap(), 5);
        });
    });
}
