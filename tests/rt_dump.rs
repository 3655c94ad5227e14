//! `Handle::dump()`: every live task with its state, polls and where it waits, on both
//! flavours, taken from outside the runtime while it runs.

mod common;

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::{watchdog, FLAVOURS};
use flywheel::runtime::{Dump, TaskDump, TaskState};
use flywheel::task::{Id, JoinSet, ReturnWhen};
use flywheel::Handle;

/// Runs `body` with the handle of a runtime of each flavour that is running: a thread sits
/// in `block_on` (which is what runs a current-thread runtime's tasks) until `body` returns.
fn on_each_flavour(body: impl Fn(&'static str, &Handle) + Send + Sync + 'static) {
    watchdog(move || {
        for (flavour, build) in FLAVOURS {
            let rt = build();
            let handle = rt.handle().clone();
            let (stop, stopped) = futures::channel::oneshot::channel::<()>();
            let driver = thread::spawn(move || {
                rt.block_on(async {
                    let _ = stopped.await;
                });
            });
            body(flavour, &handle);
            let _ = stop.send(());
            driver.join().unwrap();
        }
    });
}

/// The entry of task `id`, if the dump lists it.
fn find(dump: &Dump, id: Id) -> Option<TaskDump> {
    dump.tasks().iter().find(|t| t.id() == id).cloned()
}

/// Dumps until task `id`'s entry satisfies `cond` (the watchdog bounds the wait); returns it.
fn wait_for(handle: &Handle, id: Id, cond: impl Fn(&TaskDump) -> bool) -> TaskDump {
    loop {
        if let Some(entry) = find(&handle.dump(), id) {
            if cond(&entry) {
                return entry;
            }
        }
        thread::sleep(Duration::from_millis(1));
    }
}

/// Dumps until task `id` waits on `what`; returns its entry.
fn wait_until_parked_on(handle: &Handle, id: Id, what: &str) -> TaskDump {
    wait_for(handle, id, |t| {
        t.state() == TaskState::Idle && t.waiting_on() == Some(what)
    })
}

/// Asserts that `entry` waits at `line` of this file.
fn assert_waits_at(flavour: &str, entry: &TaskDump, line: u32) {
    let at = entry
        .waiting_at()
        .unwrap_or_else(|| panic!("{flavour}: no wait location in {entry:?}"));
    assert_eq!(
        (at.file(), at.line()),
        (file!(), line),
        "{flavour}: {entry:?}"
    );
}

#[test]
fn a_sleeping_task_shows_the_line_of_its_sleep() {
    on_each_flavour(|flavour, handle| {
        let task = handle.spawn(async {
            flywheel::time::sleep(Duration::from_secs(60)).await;
        });
        let line = line!() - 2;
        let entry = wait_until_parked_on(handle, task.id(), "sleep");
        assert_waits_at(flavour, &entry, line);
        assert_eq!(entry.spawned_at().file(), file!());
        assert_eq!(entry.spawned_at().line(), line - 1);
        assert!(entry.polls() >= 1, "{flavour}: {entry:?}");
        assert_eq!(entry.name(), None);
        // The table names it too.
        let table = handle.dump().to_string();
        assert!(
            table.contains(&format!("sleep at {}:{line}", file!())),
            "{table}"
        );
        task.abort();
    });
}

#[test]
fn a_task_waiting_on_a_join_handle_shows_its_await() {
    on_each_flavour(|flavour, handle| {
        let inner = handle.spawn(std::future::pending::<()>());
        let outer = handle.spawn(async move {
            let _ = inner.await;
        });
        let line = line!() - 2;
        let entry = wait_until_parked_on(handle, outer.id(), "JoinHandle");
        assert_waits_at(flavour, &entry, line);
        outer.abort();
    });
}

#[test]
fn a_task_waiting_on_a_join_set_shows_its_await() {
    on_each_flavour(|flavour, handle| {
        let task = handle.spawn(async {
            let mut set = JoinSet::new();
            set.spawn(std::future::pending::<()>());
            let _ = set.join_next().await;
        });
        let line = line!() - 2;
        let entry = wait_until_parked_on(handle, task.id(), "JoinSet");
        assert_waits_at(flavour, &entry, line);
        task.abort();
    });
}

#[test]
fn a_task_waiting_in_task_wait_shows_its_await() {
    on_each_flavour(|flavour, handle| {
        let task = handle.spawn(async {
            let pending = vec![flywheel::spawn(std::future::pending::<()>())];
            let _ = flywheel::task::wait(pending, ReturnWhen::AllCompleted, None).await;
        });
        let line = line!() - 2;
        let entry = wait_until_parked_on(handle, task.id(), "wait");
        assert_waits_at(flavour, &entry, line);
        task.abort();
    });
}

#[test]
fn a_task_waiting_on_a_tcp_read_shows_it() {
    on_each_flavour(|flavour, handle| {
        let (addr_tx, addr_rx) = mpsc::channel();
        // Waits with `readable()`, whose line is known.
        let readable = handle.spawn(async move {
            let listener = flywheel::net::TcpListener::bind("127.0.0.1:0").await?;
            let client = flywheel::net::TcpStream::connect(listener.local_addr()?).await?;
            let (server, _) = listener.accept().await?;
            addr_tx.send(server.local_addr()?).unwrap();
            server.readable().await?;
            drop(client);
            Ok::<(), std::io::Error>(())
        });
        let line = line!() - 4;
        let addr = addr_rx.recv().unwrap();
        let entry = wait_until_parked_on(handle, readable.id(), "read");
        assert_waits_at(flavour, &entry, line);

        // Reads through `futures::AsyncReadExt`: the kind is known, the line is not (the
        // future that polls the stream is the futures crate's).
        let read = handle.spawn(async move {
            use futures::AsyncReadExt;
            let mut stream = flywheel::net::TcpStream::connect(addr).await?;
            let mut buf = [0; 8];
            stream.read(&mut buf).await
        });
        let entry = wait_until_parked_on(handle, read.id(), "read");
        assert_eq!(entry.waiting_at(), None, "{flavour}: {entry:?}");
        readable.abort();
        read.abort();
    });
}

#[test]
fn a_task_blocking_in_a_poll_shows_running_and_a_queued_one_scheduled() {
    on_each_flavour(|flavour, handle| {
        // Block every thread that runs tasks: the block_on thread of a current-thread
        // runtime, both workers of a multi-thread one.
        let threads = if flavour == "multi_thread" { 2 } else { 1 };
        let (started_tx, started) = mpsc::channel();
        let mut releases = Vec::new();
        let mut blockers = Vec::new();
        for _ in 0..threads {
            let (release, released) = mpsc::channel::<()>();
            let started_tx = started_tx.clone();
            blockers.push(handle.spawn(async move {
                started_tx.send(()).unwrap();
                let _ = released.recv(); // blocks the thread, inside the poll
            }));
            releases.push(release);
        }
        for _ in 0..threads {
            started.recv().unwrap();
        }
        let queued = handle.spawn(async {});
        let dump = handle.dump();
        for blocker in &blockers {
            let entry = find(&dump, blocker.id()).expect("a blocked task is alive");
            assert_eq!(entry.state(), TaskState::Running, "{flavour}: {dump}");
            assert_eq!(entry.polls(), 1, "{flavour}: {dump}");
            assert_eq!(entry.waiting_on(), None, "{flavour}: {dump}");
        }
        let entry = find(&dump, queued.id()).expect("a queued task is alive");
        assert_eq!(entry.state(), TaskState::Scheduled, "{flavour}: {dump}");
        assert_eq!(entry.polls(), 0, "{flavour}: {dump}");
        for release in releases {
            release.send(()).unwrap();
        }
        for blocker in blockers {
            handle.block_on(blocker).unwrap();
        }
        handle.block_on(queued).unwrap();
    });
}

#[test]
fn poll_counts_grow() {
    on_each_flavour(|flavour, handle| {
        let task = handle.spawn(async {
            loop {
                flywheel::time::sleep(Duration::from_millis(1)).await;
            }
        });
        let first = wait_for(handle, task.id(), |t| t.polls() >= 1).polls();
        let later = wait_for(handle, task.id(), |t| t.polls() >= first + 3).polls();
        assert!(later > first, "{flavour}");
        task.abort();
    });
}

#[test]
fn a_completed_task_leaves_the_dump() {
    on_each_flavour(|flavour, handle| {
        let (release, released) = futures::channel::oneshot::channel::<()>();
        let task = handle.spawn(async {
            let _ = released.await;
        });
        let id = task.id();
        assert!(find(&handle.dump(), id).is_some(), "{flavour}");
        release.send(()).unwrap();
        handle.block_on(task).unwrap();
        assert!(find(&handle.dump(), id).is_none(), "{flavour}");
    });
}

#[test]
fn a_running_blocking_job_shows_as_blocking() {
    on_each_flavour(|flavour, handle| {
        let (started_tx, started) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let job = flywheel::task::Builder::new()
            .name("crunch")
            .spawn_blocking_on(
                move || {
                    started_tx.send(()).unwrap();
                    let _ = released.recv();
                },
                handle,
            )
            .unwrap();
        started.recv().unwrap();
        let dump = handle.dump();
        let entry = find(&dump, job.id()).expect("a running job is listed");
        assert_eq!(entry.state(), TaskState::Blocking, "{flavour}: {dump}");
        assert_eq!(entry.name(), Some("crunch"));
        assert!(dump.to_string().contains("blocking"), "{dump}");
        let id = job.id();
        release.send(()).unwrap();
        handle.block_on(job).unwrap();
        assert!(find(&handle.dump(), id).is_none(), "{flavour}");
    });
}

#[test]
fn a_dump_from_other_threads_while_the_workers_are_busy() {
    watchdog(|| {
        let rt = common::multi_thread();
        let handle = rt.handle().clone();
        let busy: Vec<_> = (0..8)
            .map(|_| {
                rt.spawn(async {
                    loop {
                        flywheel::task::yield_now().await;
                    }
                })
            })
            .collect();
        let ids: Vec<Id> = busy.iter().map(|t| t.id()).collect();
        let dumpers: Vec<_> = (0..2)
            .map(|_| {
                let handle = handle.clone();
                let ids = ids.clone();
                thread::spawn(move || {
                    for _ in 0..200 {
                        let dump = handle.dump();
                        for id in &ids {
                            let entry = find(&dump, *id).expect("a busy task is alive");
                            assert_ne!(entry.state(), TaskState::Blocking);
                        }
                        let _ = dump.to_string();
                    }
                })
            })
            .collect();
        for dumper in dumpers {
            dumper.join().unwrap();
        }
        // The workers kept running meanwhile.
        let polls =
            |dump: &Dump| -> u64 { ids.iter().map(|id| find(dump, *id).unwrap().polls()).sum() };
        let before = polls(&handle.dump());
        while polls(&handle.dump()) <= before {
            thread::sleep(Duration::from_millis(1));
        }
        for task in busy {
            task.abort();
        }
    });
}

#[test]
fn dump_types_are_send_sync_and_static() {
    fn check<T: Send + Sync + 'static>() {}
    check::<Dump>();
    check::<TaskDump>();
    check::<TaskState>();
}

/// Local (`!Send`) tasks live in their thread's own list, not the shared one: the dump
/// lists them too.
#[test]
fn a_local_task_is_in_the_dump() {
    on_each_flavour(|flavour, handle| {
        let (sent, local) = mpsc::channel();
        let spawner = handle.spawn(async move {
            let rc = std::rc::Rc::new(());
            let task = flywheel::task::spawn_local(async move {
                let _keep = rc;
                flywheel::time::sleep(Duration::from_secs(60)).await;
            });
            sent.send((task.abort_handle(), line!() - 2)).unwrap();
            let _ = task.await;
        });
        let (task, line) = local.recv().unwrap();
        let entry = wait_until_parked_on(handle, task.id(), "sleep");
        assert_waits_at(flavour, &entry, line);
        task.abort();
        while !spawner.is_finished() {
            thread::sleep(Duration::from_millis(1));
        }
        assert!(find(&handle.dump(), task.id()).is_none(), "{flavour}");
    });
}

/// A handle outlives its runtime: its dump is empty (shutdown cancelled every task and the
/// blocking pool is gone), and it neither blocks nor panics.
#[test]
fn a_dump_after_the_runtime_dropped_is_empty() {
    watchdog(|| {
        for (flavour, build) in FLAVOURS {
            let rt = build();
            let handle = rt.handle().clone();
            let (_hold, held) = futures::channel::oneshot::channel::<()>();
            let idle = handle.spawn(async {
                let _ = held.await;
            });
            let blocking = handle.spawn_blocking(|| thread::sleep(Duration::from_millis(20)));
            assert!(find(&handle.dump(), idle.id()).is_some(), "{flavour}");
            drop(rt);
            let dump = handle.dump();
            assert!(dump.tasks().is_empty(), "{flavour}: {dump}");
            drop((idle, blocking));
        }
    });
}

/// A task's destructor takes a dump while shutdown cancels the tasks (under no lock of the
/// owned set, so it must not deadlock); the tasks not yet dropped may be listed or not.
#[test]
fn a_dump_from_a_destructor_during_shutdown_returns() {
    struct DumpOnDrop(Handle, mpsc::Sender<usize>);
    impl Drop for DumpOnDrop {
        fn drop(&mut self) {
            let _ = self.1.send(self.0.dump().tasks().len());
        }
    }
    watchdog(|| {
        for (flavour, build) in FLAVOURS {
            let rt = build();
            let (tx, rx) = mpsc::channel();
            for _ in 0..3 {
                let guard = DumpOnDrop(rt.handle().clone(), tx.clone());
                drop(rt.spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await;
                }));
            }
            drop(tx);
            drop(rt);
            let sizes: Vec<usize> = rx.iter().collect();
            assert_eq!(sizes.len(), 3, "{flavour}: every destructor ran once");
            assert!(sizes.iter().all(|&n| n <= 3), "{flavour}: {sizes:?}");
        }
    });
}
