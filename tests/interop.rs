//! Crates of the futures ecosystem on flywheel: futures-util's combinators and streams,
//! futures-channel, async-channel and async-lock, and futures' I/O utilities on flywheel's
//! TCP streams; then tokio's own `sync` primitives with no tokio runtime, and tokio's I/O
//! traits over flywheel's streams through tokio-util's compat layer (with `tokio::io::copy`
//! and a `Framed` codec). None of them knows about flywheel; they only rely on the `Waker`
//! contract (and `futures_io`'s traits), which is what these tests exercise, on both flavours.
mod common;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use flywheel::net::{TcpListener, TcpStream};
use futures::channel::{mpsc, oneshot};
use futures::stream::{FuturesUnordered, StreamExt};
use futures::{AsyncReadExt, AsyncWriteExt, FutureExt, SinkExt};

/// Runs the workload built by `make` on a current-thread and on a two-worker runtime, each
/// under the watchdog.
fn on_both_flavours<F, Fut>(make: F)
where
    F: Fn() -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = ()>,
{
    let builders: [fn() -> flywheel::Builder; 2] = [flywheel::Builder::new_current_thread, || {
        let mut builder = flywheel::Builder::new_multi_thread();
        builder.worker_threads(2);
        builder
    }];
    for builder in builders {
        let make = make.clone();
        common::watchdog(move || {
            let rt = builder().build().expect("build the runtime");
            rt.block_on(make());
        });
    }
}

#[test]
fn join_macro_waits_for_every_branch() {
    on_both_flavours(|| async {
        let (tx, rx) = oneshot::channel::<u32>();
        let sender = flywheel::spawn(async move {
            flywheel::task::yield_now().await;
            tx.send(5).expect("the receiver is alive");
            "sent"
        });
        let computed = flywheel::spawn(async { 6 * 7 });
        let (sent, received, computed) = futures::join!(sender, rx, computed);
        assert_eq!(sent.unwrap(), "sent");
        assert_eq!(received.unwrap(), 5);
        assert_eq!(computed.unwrap(), 42);
    });
}

#[test]
fn select_macro_takes_the_ready_branch_and_leaves_the_other() {
    on_both_flavours(|| async {
        let (fast_tx, fast_rx) = oneshot::channel::<&str>();
        let (_never_tx, never_rx) = oneshot::channel::<&str>();
        let sender = flywheel::spawn(async move { fast_tx.send("fast").unwrap() });
        let mut fast = fast_rx.fuse();
        let mut never = never_rx.fuse();
        let winner = futures::select! {
            value = fast => value.unwrap(),
            value = never => value.unwrap(),
        };
        assert_eq!(winner, "fast");
        sender.await.unwrap();
        // The losing branch was only polled, not consumed: it is still pending.
        assert!(futures::poll!(&mut never).is_pending());
    });
}

#[test]
fn futures_unordered_yields_join_handles_in_completion_order() {
    on_both_flavours(|| async {
        // Task i waits for the go-ahead on gates[i]; we open them in reverse, so the
        // completion order is the reverse of the spawn order.
        let count = 8;
        let mut gates = Vec::new();
        let mut tasks = FuturesUnordered::new();
        for i in 0..count {
            let (tx, rx) = oneshot::channel::<()>();
            gates.push(tx);
            tasks.push(flywheel::spawn(async move {
                rx.await.expect("the gate is opened, not dropped");
                i
            }));
        }
        let mut order = Vec::new();
        for gate in gates.into_iter().rev() {
            gate.send(()).unwrap();
            order.push(tasks.next().await.unwrap().unwrap());
        }
        assert!(tasks.next().await.is_none());
        assert_eq!(order, (0..count).rev().collect::<Vec<_>>());
    });
}

#[test]
fn stream_ext_combinators_over_a_channel() {
    on_both_flavours(|| async {
        let (mut tx, rx) = mpsc::channel::<u64>(4);
        let producer = flywheel::spawn(async move {
            for i in 1..=100 {
                tx.send(i).await.expect("the receiver is alive");
            }
        });
        let evens: Vec<u64> = rx
            .filter(|n| std::future::ready(n % 2 == 0))
            .map(|n| n * 10)
            .take(5)
            .collect()
            .await;
        assert_eq!(evens, [20, 40, 60, 80, 100]);
        // `take(5)` dropped the receiver: the producer sees the error and stops; a panic
        // there would show up here.
        let _ = producer.await;
    });
}

#[test]
fn futures_mpsc_many_producers_one_consumer_with_backpressure() {
    on_both_flavours(|| async {
        let producers = 4;
        let per_producer = common::iterations(2_000) as u64;
        // A buffer far smaller than the traffic: senders park until the consumer drains.
        let (tx, mut rx) = mpsc::channel::<u64>(1);
        let handles: Vec<_> = (0..producers)
            .map(|p| {
                let mut tx = tx.clone();
                flywheel::spawn(async move {
                    for i in 0..per_producer {
                        tx.send(p * per_producer + i).await.unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let mut sum = 0;
        let mut received = 0;
        while let Some(n) = rx.next().await {
            sum += n;
            received += 1;
        }
        for handle in handles {
            handle.await.unwrap();
        }
        let total = producers * per_producer;
        assert_eq!(received, total);
        assert_eq!(sum, total * (total - 1) / 2);
    });
}

#[test]
fn futures_mpsc_unbounded_ping_pong() {
    on_both_flavours(|| async {
        let rounds = common::iterations(5_000);
        let (ping_tx, mut ping_rx) = mpsc::unbounded::<usize>();
        let (pong_tx, mut pong_rx) = mpsc::unbounded::<usize>();
        let echo = flywheel::spawn(async move {
            while let Some(n) = ping_rx.next().await {
                pong_tx.unbounded_send(n + 1).unwrap();
            }
        });
        let mut n = 0;
        for _ in 0..rounds {
            ping_tx.unbounded_send(n).unwrap();
            n = pong_rx.next().await.unwrap();
        }
        assert_eq!(n, rounds);
        drop(ping_tx);
        echo.await.unwrap();
        assert!(
            pong_rx.next().await.is_none(),
            "the echo task dropped its sender"
        );
    });
}

#[test]
fn oneshot_reports_a_dropped_sender_and_a_dropped_receiver() {
    on_both_flavours(|| async {
        let (tx, rx) = oneshot::channel::<()>();
        flywheel::spawn(async move { drop(tx) }).await.unwrap();
        assert_eq!(rx.await, Err(oneshot::Canceled));

        let (mut tx, rx) = oneshot::channel::<u8>();
        let waiter = flywheel::spawn(async move {
            tx.cancellation().await;
            tx.send(1)
        });
        drop(rx);
        assert_eq!(
            waiter.await.unwrap(),
            Err(1),
            "the value comes back to the sender"
        );
    });
}

#[test]
fn async_channel_many_consumers_share_the_work() {
    on_both_flavours(|| async {
        let items = common::iterations(10_000);
        let (tx, rx) = async_channel::bounded::<usize>(16);
        let consumers: Vec<_> = (0..4)
            .map(|_| {
                let rx = rx.clone();
                flywheel::spawn(async move {
                    let (mut count, mut sum) = (0, 0);
                    while let Ok(n) = rx.recv().await {
                        count += 1;
                        sum += n;
                    }
                    (count, sum)
                })
            })
            .collect();
        drop(rx);
        for i in 0..items {
            tx.send(i).await.unwrap();
        }
        tx.close();
        let (mut count, mut sum) = (0, 0);
        for consumer in consumers {
            let (c, s) = consumer.await.unwrap();
            count += c;
            sum += s;
        }
        assert_eq!(count, items, "every item is received exactly once");
        assert_eq!(sum, items * (items - 1) / 2);
    });
}

#[test]
fn async_lock_mutex_serialises_increments_across_tasks() {
    on_both_flavours(|| async {
        let tasks = 8;
        let per_task = common::iterations(1_000);
        let counter = Arc::new(async_lock::Mutex::new(0usize));
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let counter = counter.clone();
                flywheel::spawn(async move {
                    for _ in 0..per_task {
                        let mut guard = counter.lock().await;
                        let seen = *guard;
                        // Give others a chance to run while the lock is held: they must wait.
                        flywheel::task::yield_now().await;
                        *guard = seen + 1;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
        assert_eq!(*counter.lock().await, tasks * per_task);
    });
}

#[test]
fn async_lock_semaphore_bounds_concurrency() {
    on_both_flavours(|| async {
        let permits = 3;
        let semaphore = Arc::new(async_lock::Semaphore::new(permits));
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let (semaphore, inside, most) = (semaphore.clone(), inside.clone(), most.clone());
                flywheel::spawn(async move {
                    let _permit = semaphore.acquire().await;
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    for _ in 0..10 {
                        flywheel::task::yield_now().await;
                    }
                    inside.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
        let most = most.load(Ordering::SeqCst);
        assert!(most <= permits, "{most} tasks held a permit at once");
        assert!(most >= 1);
    });
}

#[test]
fn async_lock_rwlock_and_barrier() {
    on_both_flavours(|| async {
        let parties = 4;
        let barrier = Arc::new(async_lock::Barrier::new(parties));
        let table = Arc::new(async_lock::RwLock::new(Vec::new()));
        let handles: Vec<_> = (0..parties)
            .map(|i| {
                let (barrier, table) = (barrier.clone(), table.clone());
                flywheel::spawn(async move {
                    table.write().await.push(i);
                    // Nobody reads before everyone has written.
                    let leader = barrier.wait().await.is_leader();
                    let seen = table.read().await.len();
                    (leader, seen)
                })
            })
            .collect();
        let mut leaders = 0;
        for handle in handles {
            let (leader, seen) = handle.await.unwrap();
            assert_eq!(seen, parties);
            leaders += usize::from(leader);
        }
        assert_eq!(leaders, 1, "exactly one task is the barrier's leader");
    });
}

#[test]
fn futures_io_copy_relays_between_two_tcp_streams() {
    on_both_flavours(|| async {
        // writer -> (source, source_peer) -> copy -> (sink, sink_peer) -> reader
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut source = TcpStream::connect(addr).await.unwrap();
        let (source_peer, _) = listener.accept().await.unwrap();
        let mut sink = TcpStream::connect(addr).await.unwrap();
        let (mut sink_peer, _) = listener.accept().await.unwrap();

        // Larger than the socket buffers, so every hop has to wait for the next one.
        let payload: Vec<u8> = (0..4 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
        let expected = payload.clone();
        let writer = flywheel::spawn(async move {
            source.write_all(&payload).await?;
            source.close().await
        });
        let relay = flywheel::spawn(async move {
            let copied = futures::io::copy(source_peer, &mut sink).await?;
            sink.close().await?;
            Ok::<u64, std::io::Error>(copied)
        });
        let mut received = Vec::new();
        sink_peer.read_to_end(&mut received).await.unwrap();
        writer.await.unwrap().unwrap();
        assert_eq!(relay.await.unwrap().unwrap(), expected.len() as u64);
        assert!(
            received == expected,
            "the relayed bytes differ from the sent ones"
        );
    });
}

// Files: flywheel has no file layer. async-fs (smol's, on the `blocking` crate's own thread
// pool) and `spawn_blocking` around `std::fs` both work on it unchanged.

/// A fresh directory under the system's temporary one, removed when dropped.
struct ScratchDir(std::path::PathBuf);

impl ScratchDir {
    fn new(test: &str) -> ScratchDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("flywheel-{test}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create a scratch directory");
        ScratchDir(dir)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn async_fs_reads_and_writes_files_on_its_own_pool() {
    on_both_flavours(|| async {
        let dir = ScratchDir::new("async-fs");
        let path = dir.0.join("notes.txt");
        async_fs::write(&path, b"first line\n").await.unwrap();
        let mut file = async_fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .await
            .unwrap();
        file.write_all(b"second line\n").await.unwrap();
        file.sync_all().await.unwrap();
        drop(file);
        let text = async_fs::read_to_string(&path).await.unwrap();
        assert_eq!(text, "first line\nsecond line\n");
        assert_eq!(async_fs::metadata(&path).await.unwrap().len(), 23);
        let mut entries = async_fs::read_dir(&dir.0).await.unwrap();
        let entry = entries.next().await.unwrap().unwrap();
        assert_eq!(entry.file_name(), "notes.txt");
        async_fs::remove_file(&path).await.unwrap();
        assert!(async_fs::metadata(&path).await.is_err());
    });
}

#[test]
fn spawn_blocking_around_std_fs() {
    on_both_flavours(|| async {
        let dir = ScratchDir::new("std-fs");
        let path = dir.0.join("data.bin");
        let payload: Vec<u8> = (0..256 * 1024).map(|i| (i % 253) as u8).collect();
        let expected = payload.clone();
        let written = path.clone();
        flywheel::spawn_blocking(move || std::fs::write(written, payload))
            .await
            .unwrap()
            .unwrap();
        // Several reads at once: each blocks a pool thread, never a worker.
        let reads: Vec<_> = (0..4)
            .map(|_| {
                let path = path.clone();
                flywheel::spawn_blocking(move || std::fs::read(path))
            })
            .collect();
        for read in reads {
            assert!(read.await.unwrap().unwrap() == expected);
        }
        let listed = flywheel::spawn_blocking({
            let dir = dir.0.clone();
            move || -> std::io::Result<Vec<_>> {
                std::fs::read_dir(dir)?
                    .map(|entry| entry.map(|e| e.file_name()))
                    .collect()
            }
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(listed, ["data.bin"]);
    });
}

// tokio's synchronisation primitives. `tokio::sync` only relies on wakers, so it works on
// flywheel with no tokio runtime anywhere (a program would add tokio with only its `sync`
// feature; the dev-dependency here has more features, which these tests do not use). Each
// test also checks that no tokio runtime is reachable from inside the flywheel tasks.

/// Fails if a tokio runtime is reachable from here: the primitives under test must work on
/// flywheel alone.
fn assert_no_tokio_runtime() {
    assert!(
        tokio::runtime::Handle::try_current().is_err(),
        "no tokio runtime may be involved"
    );
    assert!(
        flywheel::Handle::try_current().is_ok(),
        "on a flywheel runtime"
    );
}

#[test]
fn tokio_oneshot_across_tasks() {
    on_both_flavours(|| async {
        assert_no_tokio_runtime();
        let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
        let sender = flywheel::spawn(async move {
            assert_no_tokio_runtime();
            flywheel::task::yield_now().await;
            tx.send(7).expect("the receiver is alive");
        });
        assert_eq!(rx.await, Ok(7));
        sender.await.unwrap();

        // A dropped sender wakes the receiver with an error.
        let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
        flywheel::spawn(async move { drop(tx) }).await.unwrap();
        assert!(rx.await.is_err());

        // The sender can wait for the receiver to go away.
        let (mut tx, rx) = tokio::sync::oneshot::channel::<u32>();
        let waiter = flywheel::spawn(async move {
            tx.closed().await;
            tx.is_closed()
        });
        drop(rx);
        assert!(waiter.await.unwrap());
    });
}

#[test]
fn tokio_mpsc_bounded_applies_backpressure() {
    on_both_flavours(|| async {
        use tokio::sync::mpsc::error::TrySendError;

        // Full: try_send refuses and a reservation waits until the receiver makes room.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<u32>(2);
        tx.send(1).await.unwrap();
        tx.send(2).await.unwrap();
        assert_eq!(tx.capacity(), 0);
        assert!(matches!(tx.try_send(3), Err(TrySendError::Full(3))));
        let mut reserve = std::pin::pin!(tx.reserve());
        assert!(
            futures::poll!(&mut reserve).is_pending(),
            "the channel is full"
        );
        assert_eq!(rx.recv().await, Some(1));
        // The receive woke the waiting reservation (or the watchdog fails the test).
        reserve.await.unwrap().send(3);
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, Some(3));

        // Many producers through a one-slot buffer: each send parks until the consumer drains.
        let producers = 4u64;
        let per_producer = common::iterations(2_000) as u64;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(1);
        let handles: Vec<_> = (0..producers)
            .map(|p| {
                let tx = tx.clone();
                flywheel::spawn(async move {
                    assert_no_tokio_runtime();
                    for i in 0..per_producer {
                        tx.send(p * per_producer + i).await.unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let (mut received, mut sum) = (0, 0);
        while let Some(n) = rx.recv().await {
            received += 1;
            sum += n;
        }
        for handle in handles {
            handle.await.unwrap();
        }
        let total = producers * per_producer;
        assert_eq!(received, total);
        assert_eq!(sum, total * (total - 1) / 2);
    });
}

#[test]
fn tokio_mutex_serialises_increments_across_tasks() {
    on_both_flavours(|| async {
        let tasks = 8;
        let per_task = common::iterations(1_000);
        let counter = Arc::new(tokio::sync::Mutex::new(0usize));
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let counter = counter.clone();
                flywheel::spawn(async move {
                    assert_no_tokio_runtime();
                    for _ in 0..per_task {
                        let mut guard = counter.lock().await;
                        let seen = *guard;
                        // Held across an await: the others must wait for it.
                        flywheel::task::yield_now().await;
                        *guard = seen + 1;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
        assert_eq!(*counter.lock().await, tasks * per_task);
    });
}

#[test]
fn tokio_rwlock_shares_reads_and_excludes_writes() {
    on_both_flavours(|| async {
        let lock = Arc::new(tokio::sync::RwLock::new(0u32));
        let read = lock.read().await;
        // A second reader gets in while the first one holds its guard.
        let reader = flywheel::spawn({
            let lock = lock.clone();
            async move {
                assert_no_tokio_runtime();
                *lock.read().await
            }
        });
        assert_eq!(reader.await.unwrap(), 0);
        assert!(lock.try_write().is_err(), "a writer waits for the reader");
        let writer = flywheel::spawn({
            let lock = lock.clone();
            async move { *lock.write().await += 1 }
        });
        drop(read);
        // Dropping the last read guard woke the writer.
        writer.await.unwrap();
        assert_eq!(*lock.read().await, 1);
    });
}

#[test]
fn tokio_semaphore_bounds_concurrency() {
    on_both_flavours(|| async {
        let permits = 3;
        let semaphore = Arc::new(tokio::sync::Semaphore::new(permits));
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let (semaphore, inside, most) = (semaphore.clone(), inside.clone(), most.clone());
                flywheel::spawn(async move {
                    assert_no_tokio_runtime();
                    let _permit = semaphore.acquire_owned().await.unwrap();
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    for _ in 0..10 {
                        flywheel::task::yield_now().await;
                    }
                    inside.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
        let most = most.load(Ordering::SeqCst);
        assert!(most <= permits, "{most} tasks held a permit at once");
        assert!(most >= 1);
        assert_eq!(semaphore.available_permits(), permits);
    });
}

#[test]
fn tokio_notify_one_and_notify_waiters() {
    on_both_flavours(|| async {
        let notify = Arc::new(tokio::sync::Notify::new());
        // notify_one with nobody waiting stores a permit for the next waiter.
        notify.notify_one();
        notify.notified().await;

        // notify_one wakes a task that waits.
        let waiter = flywheel::spawn({
            let notify = notify.clone();
            async move {
                assert_no_tokio_runtime();
                notify.notified().await;
                "woken"
            }
        });
        flywheel::task::yield_now().await;
        notify.notify_one();
        assert_eq!(waiter.await.unwrap(), "woken");

        // notify_waiters wakes every task already registered (and stores no permit).
        let waiters = 4;
        let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(waiters);
        let handles: Vec<_> = (0..waiters)
            .map(|_| {
                let (notify, ready_tx) = (notify.clone(), ready_tx.clone());
                flywheel::spawn(async move {
                    let notified = notify.notified();
                    let mut notified = std::pin::pin!(notified);
                    // Registered from here on, before anyone calls notify_waiters.
                    notified.as_mut().enable();
                    ready_tx.send(()).await.unwrap();
                    notified.await;
                })
            })
            .collect();
        for _ in 0..waiters {
            ready_rx.recv().await.unwrap();
        }
        notify.notify_waiters();
        for handle in handles {
            handle.await.unwrap();
        }
    });
}

#[test]
fn tokio_watch_delivers_the_latest_value() {
    on_both_flavours(|| async {
        let (tx, mut rx) = tokio::sync::watch::channel(0u32);
        let (step_tx, mut step_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        let observer = flywheel::spawn(async move {
            assert_no_tokio_runtime();
            let mut seen = Vec::new();
            while rx.changed().await.is_ok() {
                seen.push(*rx.borrow_and_update());
                step_tx.send(()).unwrap();
            }
            seen
        });
        for value in 1..=3 {
            tx.send(value).unwrap();
            // Wait until the observer has seen it, so no value is skipped.
            step_rx.recv().await.unwrap();
        }
        // A receiver that does not look between two sends sees only the latest value.
        let mut late = tx.subscribe();
        assert!(!late.has_changed().unwrap(), "subscribing marks 3 as seen");
        tx.send_replace(10);
        tx.send_replace(11);
        late.changed().await.unwrap();
        assert_eq!(*late.borrow_and_update(), 11);
        assert!(!late.has_changed().unwrap());
        // Dropping the sender ends the observer's loop (after it saw 11, maybe 10 first).
        drop(tx);
        let seen = observer.await.unwrap();
        assert_eq!(seen[..3], [1, 2, 3]);
        assert_eq!(seen.last(), Some(&11));
        assert!(seen.len() <= 5, "{seen:?}");
    });
}

#[test]
fn tokio_broadcast_reaches_every_receiver() {
    on_both_flavours(|| async {
        use tokio::sync::broadcast::error::RecvError;

        let messages = 50u64;
        let (tx, _) = tokio::sync::broadcast::channel::<u64>(64);
        let receivers: Vec<_> = (0..3)
            .map(|_| {
                let mut rx = tx.subscribe();
                flywheel::spawn(async move {
                    assert_no_tokio_runtime();
                    let mut sum = 0;
                    loop {
                        match rx.recv().await {
                            Ok(n) => sum += n,
                            Err(RecvError::Closed) => return sum,
                            Err(RecvError::Lagged(n)) => panic!("lagged by {n} with room for all"),
                        }
                    }
                })
            })
            .collect();
        for n in 0..messages {
            tx.send(n).unwrap();
            flywheel::task::yield_now().await;
        }
        drop(tx);
        for receiver in receivers {
            assert_eq!(receiver.await.unwrap(), messages * (messages - 1) / 2);
        }

        // A receiver that falls more than the capacity behind is told how much it missed.
        let (tx, mut rx) = tokio::sync::broadcast::channel::<u64>(2);
        for n in 0..5 {
            tx.send(n).unwrap();
        }
        assert_eq!(rx.recv().await, Err(RecvError::Lagged(3)));
        assert_eq!(rx.recv().await, Ok(3));
        assert_eq!(rx.recv().await, Ok(4));
    });
}

#[test]
fn tokio_util_cancellation_token_stops_tasks() {
    on_both_flavours(|| async {
        use tokio_util::sync::CancellationToken;

        let token = CancellationToken::new();
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let token = token.child_token();
                flywheel::spawn(async move {
                    assert_no_tokio_runtime();
                    // Parked on the token until `cancel` wakes it.
                    token.cancelled().await;
                    "stopped"
                })
            })
            .collect();
        flywheel::task::yield_now().await;
        token.cancel();
        for worker in workers {
            // Each worker returns once it sees the cancellation (or the watchdog fails).
            assert_eq!(worker.await.unwrap(), "stopped");
        }
        assert!(token.is_cancelled());
    });
}

// tokio's I/O traits. flywheel's sockets implement futures-io's `AsyncRead` / `AsyncWrite`;
// tokio-util's compat layer wraps them into tokio's traits (and tokio's types into
// futures-io's), so tokio's `io::copy`, `AsyncReadExt` and tokio-util's codecs work on them.

/// A connected loopback pair: (client, server).
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let client = TcpStream::connect(addr).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

#[test]
fn tokio_io_copy_over_compat_tcp_streams() {
    on_both_flavours(|| async {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        use tokio_util::compat::FuturesAsyncReadCompatExt;

        // writer -> (source, source_peer) -> tokio::io::copy -> (sink, sink_peer) -> reader
        let (source, source_peer) = tcp_pair().await;
        let (sink, sink_peer) = tcp_pair().await;
        // Larger than the socket buffers, so every hop has to wait for the next one.
        let payload: Vec<u8> = (0..2 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
        let expected = payload.clone();
        let writer = flywheel::spawn(async move {
            assert_no_tokio_runtime();
            let mut source = source.compat();
            source.write_all(&payload).await?;
            source.shutdown().await
        });
        let relay = flywheel::spawn(async move {
            let (mut from, mut to) = (source_peer.compat(), sink.compat());
            let copied = tokio::io::copy(&mut from, &mut to).await?;
            to.shutdown().await?;
            Ok::<u64, std::io::Error>(copied)
        });
        let mut received = Vec::new();
        sink_peer.compat().read_to_end(&mut received).await.unwrap();
        writer.await.unwrap().unwrap();
        assert_eq!(relay.await.unwrap().unwrap(), expected.len() as u64);
        assert!(
            received == expected,
            "the relayed bytes differ from the sent ones"
        );
    });
}

#[test]
fn tokio_duplex_into_a_flywheel_socket_through_compat() {
    on_both_flavours(|| async {
        use tokio::io::AsyncWriteExt as _;
        use tokio_util::compat::TokioAsyncReadCompatExt;

        // The other direction: a tokio type read through futures-io's traits.
        let (mut tokio_side, duplex_end) = tokio::io::duplex(64);
        let (mut client, server) = tcp_pair().await;
        let feeder = flywheel::spawn(async move {
            for line in 0..100 {
                tokio_side
                    .write_all(format!("line {line}\n").as_bytes())
                    .await?;
            }
            tokio_side.shutdown().await
        });
        let pump = flywheel::spawn(async move {
            let copied = futures::io::copy(duplex_end.compat(), &mut client).await?;
            client.close().await?;
            Ok::<u64, std::io::Error>(copied)
        });
        let mut text = String::new();
        let mut server = server;
        server.read_to_string(&mut text).await.unwrap();
        feeder.await.unwrap().unwrap();
        assert_eq!(pump.await.unwrap().unwrap(), text.len() as u64);
        assert_eq!(text.lines().count(), 100);
        assert_eq!(text.lines().last(), Some("line 99"));
    });
}

#[test]
fn tokio_util_framed_lines_over_a_compat_tcp_stream() {
    on_both_flavours(|| async {
        use tokio_util::codec::{Framed, LinesCodec};
        use tokio_util::compat::FuturesAsyncReadCompatExt;

        let (client, server) = tcp_pair().await;
        // An upper-casing line echo server.
        let echo = flywheel::spawn(async move {
            assert_no_tokio_runtime();
            let mut lines = Framed::new(server.compat(), LinesCodec::new());
            while let Some(line) = lines.next().await {
                lines.send(line?.to_uppercase()).await?;
            }
            Ok::<(), tokio_util::codec::LinesCodecError>(())
        });
        let mut lines = Framed::new(client.compat(), LinesCodec::new());
        for word in ["tokio", "flywheel", "compat"] {
            lines.send(word).await.unwrap();
            assert_eq!(lines.next().await.unwrap().unwrap(), word.to_uppercase());
        }
        drop(lines);
        echo.await.unwrap().unwrap();
    });
}
