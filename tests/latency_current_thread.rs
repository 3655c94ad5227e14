//! Bounded latency on a saturated current-thread runtime: while tasks yield in a loop (each
//! spinning 10 µs per turn, so the thread never runs out of work), remote spawns still start,
//! timers still fire and sockets are still served within milliseconds, and a `block_on`
//! future that loops on an always-ready source lets the tasks run.
//!
//! The bounds are one-sided and generous (a noisy, shared 2-core VM): each is far above
//! what the runtime needs and far below what starvation costs.

mod common;

use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use common::{current_thread, watchdog_for};
use flywheel::task::yield_now;
use flywheel::time::sleep;
use flywheel::{Handle, Runtime};

/// Tasks that yield in a loop.
const BUSY_TASKS: usize = 2;
/// How long each busy task spins between two yields.
const SPIN: Duration = Duration::from_micros(10);
/// How late anything may be. Starvation costs seconds here (or for ever); a busy shared VM
/// can deschedule the runtime's thread for tens of milliseconds.
const BOUND: Duration = Duration::from_millis(100);
/// Time limit of each test.
const LIMIT: Duration = Duration::from_secs(30);

/// Held by each test while its runtime is saturated: two spinning runtimes on a 2-core
/// machine would measure each other, not the scheduler.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A current-thread runtime driven by a thread of its own, inside `block_on`, saturated by
/// `BUSY_TASKS` tasks that yield in a loop. Dropping it stops everything.
struct Saturated {
    _one_at_a_time: MutexGuard<'static, ()>,
    rt: Option<Runtime>,
    stop: Arc<AtomicBool>,
    stop_tx: Option<futures_channel::oneshot::Sender<()>>,
    driver: Option<thread::JoinHandle<()>>,
}

impl Saturated {
    fn new() -> Saturated {
        // A test that failed while holding the lock poisons it; the next one may still run.
        let one_at_a_time = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let rt = current_thread();
        let stop = Arc::new(AtomicBool::new(false));
        let (running_tx, running_rx) = mpsc::channel();
        for _ in 0..BUSY_TASKS {
            let stop = stop.clone();
            let running_tx = running_tx.clone();
            drop(rt.spawn(async move {
                let _ = running_tx.send(());
                while !stop.load(SeqCst) {
                    yield_now().await;
                    let start = Instant::now();
                    while start.elapsed() < SPIN {
                        std::hint::spin_loop();
                    }
                }
            }));
        }
        let (stop_tx, stop_rx) = futures_channel::oneshot::channel::<()>();
        let handle = rt.handle().clone();
        let driver = thread::spawn(move || {
            handle.block_on(async move {
                let _ = stop_rx.await;
            })
        });
        for _ in 0..BUSY_TASKS {
            running_rx.recv().unwrap();
        }
        Saturated {
            _one_at_a_time: one_at_a_time,
            rt: Some(rt),
            stop,
            stop_tx: Some(stop_tx),
            driver: Some(driver),
        }
    }

    fn handle(&self) -> &Handle {
        self.rt.as_ref().unwrap().handle()
    }
}

impl Drop for Saturated {
    fn drop(&mut self) {
        self.stop.store(true, SeqCst);
        drop(self.stop_tx.take());
        if let Some(driver) = self.driver.take() {
            let _ = driver.join();
        }
        drop(self.rt.take());
    }
}

/// A burst of tasks spawned from a plain thread: each starts within `BOUND` of its spawn.
/// The injector used to yield one task every 31 polls of the busy tasks (~0.3 ms each).
#[test]
fn remote_spawns_start_promptly_on_a_saturated_runtime() {
    watchdog_for(LIMIT, || {
        const N: usize = 1000;
        let rt = Saturated::new();
        let (tx, rx) = mpsc::channel();
        for i in 0..N {
            let tx = tx.clone();
            let spawned = Instant::now();
            drop(rt.handle().spawn(async move {
                tx.send((i, spawned.elapsed())).unwrap();
            }));
        }
        let mut worst = Duration::ZERO;
        for _ in 0..N {
            let (_, waited) = rx.recv().unwrap();
            worst = worst.max(waited);
        }
        println!("worst remote spawn start: {worst:?}");
        assert!(worst < BOUND, "a remote spawn waited {worst:?} to start");
    });
}

/// `sleep(1 ms)` fires within `BOUND` of its deadline, never early.
#[test]
fn timers_fire_promptly_on_a_saturated_runtime() {
    watchdog_for(LIMIT, || {
        let rt = Saturated::new();
        let lateness = rt.handle().spawn(async {
            let mut worst = Duration::ZERO;
            for _ in 0..20 {
                let start = Instant::now();
                sleep(Duration::from_millis(1)).await;
                let took = start.elapsed();
                assert!(took >= Duration::from_millis(1), "fired early: {took:?}");
                worst = worst.max(took - Duration::from_millis(1));
            }
            worst
        });
        let worst = futures::executor::block_on(lateness).unwrap();
        println!("worst 1 ms sleep lateness: {worst:?}");
        assert!(worst < BOUND, "a 1 ms sleep fired {worst:?} late");
    });
}

/// A datagram sent from a plain thread is received by a task within `BOUND`.
#[test]
fn sockets_are_served_promptly_on_a_saturated_runtime() {
    watchdog_for(LIMIT, || {
        const ROUNDS: usize = 20;
        let rt = Saturated::new();
        let (addr_tx, addr_rx) = mpsc::channel();
        let (got_tx, got_rx) = mpsc::channel();
        let receiver = rt.handle().spawn(async move {
            let socket = flywheel::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(socket.local_addr().unwrap()).unwrap();
            let mut buf = [0; 16];
            for _ in 0..ROUNDS {
                let n = socket.recv(&mut buf).await.unwrap();
                got_tx.send((n, Instant::now())).unwrap();
            }
        });
        let addr = addr_rx.recv().unwrap();
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut worst = Duration::ZERO;
        for _ in 0..ROUNDS {
            let sent = Instant::now();
            sender.send_to(b"ping", addr).unwrap();
            let (n, at) = got_rx.recv().unwrap();
            assert_eq!(n, 4);
            worst = worst.max(at.duration_since(sent));
        }
        futures::executor::block_on(receiver).unwrap();
        println!("worst datagram delivery: {worst:?}");
        assert!(worst < BOUND, "a readable socket waited {worst:?}");
    });
}

/// A `block_on` body that loops on an always-ready source (a sleep that has fired: each
/// poll spends budget and returns at once) yields to the runtime's tasks: the spawned task
/// that ends the loop gets to run. Without the budget this never ended.
#[test]
fn a_busy_block_on_future_lets_spawned_tasks_run() {
    watchdog_for(LIMIT, || {
        let rt = current_thread();
        let started = Instant::now();
        let spins = rt.block_on(async {
            let done = Arc::new(AtomicBool::new(false));
            let mut fired = pin!(sleep(Duration::from_millis(1)));
            fired.as_mut().await;
            let flag = done.clone();
            drop(flywheel::spawn(async move { flag.store(true, SeqCst) }));
            let mut spins = 0u64;
            while !done.load(SeqCst) {
                fired.as_mut().await;
                spins += 1;
            }
            spins
        });
        let took = started.elapsed();
        assert!(spins > 0, "the task ran before the loop started");
        assert!(took < Duration::from_secs(5), "the task waited {took:?}");
    });
}
