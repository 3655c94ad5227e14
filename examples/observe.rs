//! Looking inside a running runtime: a warning naming a task that blocks its worker, a dump
//! of what each task is doing and where it waits, and the runtime's metrics.
//!
//! A small workload: a ticker sleeping in a loop, a server waiting for a client that never
//! writes, a task waiting on another's `JoinHandle`, one waiting on a `JoinSet`, and a "hog"
//! that blocks its worker inside a poll (a `std::thread::sleep`, the classic mistake) — the
//! dump shows it as running while the others are idle at their `.await` lines, and the
//! long-poll watchdog prints one line on stderr naming it (id, name, spawn line, how long).
//!
//! Run with `cargo run --example observe`.

use std::io;
use std::time::Duration;

use flywheel::net::{TcpListener, TcpStream};
use flywheel::task::{Builder, JoinSet};
use flywheel::time::sleep;
use flywheel::Handle;

fn main() -> io::Result<()> {
    let rt = flywheel::Builder::new_multi_thread()
        .worker_threads(2)
        // Any poll longer than this is reported once, while it still runs.
        .warn_long_polls(Duration::from_millis(100))
        .build()?;
    rt.block_on(async {
        let ticker = Builder::new().name("ticker").spawn(async {
            loop {
                sleep(Duration::from_millis(20)).await;
            }
        })?;

        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = Builder::new().name("server").spawn(async move {
            let (conn, _) = listener.accept().await?;
            conn.readable().await // the client never writes
        })?;
        let client = TcpStream::connect(addr).await?;

        let waiter = Builder::new().name("waiter").spawn(async move {
            let _ = ticker.await;
        })?;

        let group = Builder::new().name("group").spawn(async {
            let mut set = JoinSet::new();
            for i in 0..3 {
                set.spawn(sleep(Duration::from_secs(60 + i)));
            }
            while set.join_next().await.is_some() {}
        })?;

        let (started, hog_started) = futures::channel::oneshot::channel();
        let hog = Builder::new().name("hog").spawn(async move {
            let _ = started.send(());
            // Blocks the worker: never do this in a task (use spawn_blocking).
            std::thread::sleep(Duration::from_millis(500));
        })?;

        // Let every task reach its wait, with the hog inside its poll long enough to be
        // reported.
        let _ = hog_started.await;
        sleep(Duration::from_millis(150)).await;

        let handle = Handle::current();
        println!("{}", handle.dump());

        let metrics = handle.metrics();
        println!("workers:        {}", metrics.num_workers());
        println!("alive tasks:    {}", metrics.num_alive_tasks());
        println!("spawned tasks:  {}", metrics.spawned_tasks_count());
        println!("timers:         {}", metrics.num_timers());
        for worker in 0..metrics.num_workers() {
            println!(
                "worker {worker}: {} polls, busy {:?}, parked {} times",
                metrics.worker_poll_count(worker),
                metrics.worker_total_busy_duration(worker),
                metrics.worker_park_count(worker),
            );
        }

        hog.await.map_err(io::Error::other)?;
        for task in [waiter, group] {
            task.abort();
        }
        server.abort();
        drop(client);
        Ok(())
    })
}
