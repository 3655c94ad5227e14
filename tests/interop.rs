//! Crates of the futures ecosystem on flywheel: futures-util's combinators and streams,
//! futures-channel, async-channel and async-lock, and futures' I/O utilities on flywheel's
//! TCP streams. None of them knows about flywheel; they only rely on the `Waker` contract
//! (and `futures_io`'s traits), which is what these tests exercise, on both flavours.
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
