//! Stress tests: storms of spawns, wakes and aborts from many threads, tasks contending on
//! shared sockets, timers churned while runtimes start and stop, and runtimes dropped at
//! random points while other threads still hold their handles.
//!
//! Each test repeats randomised rounds until its time budget is spent and checks, in every
//! round, that each task ran exactly once or was cancelled, that each future was dropped
//! exactly once and that each `JoinHandle` resolved; across rounds, that no file descriptor
//! leaks (a runtime that is never freed keeps its poller and waker open).
//!
//! They are `#[ignore]`d; CI (`.ci/run`) runs them in release:
//!
//! ```text
//! FLYWHEEL_STRESS_SECS=20 cargo test --release --test stress -- --ignored --test-threads=1
//! ```
//!
//! - `FLYWHEEL_STRESS_SECS`: each test's budget in seconds (default 2; at least 2 rounds).
//! - `FLYWHEEL_STRESS_SEED`: the seed of the random choices, printed by a failing test, to
//!   replay its choices (thread timing differs, of course).
//! - `FLYWHEEL_STRESS_ROUND_SECS`: how long one round may take before the watchdog calls it
//!   a hang (default `ROUND_LIMIT`); raise it to attach a debugger to a hung round.

mod common;

use std::future::Future;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{iterations, watchdog_for, DropCounter, FLAVOURS};
use flywheel::net::{TcpListener, UdpSocket};
use flywheel::task::{yield_now, AbortHandle, JoinError, JoinHandle, JoinSet};
use flywheel::time::{interval, sleep, timeout};
use flywheel::Runtime;

/// Longest one round may take before the watchdog calls it a hang (the rounds take
/// milliseconds to a second or so).
const ROUND_LIMIT: Duration = Duration::from_secs(30);
/// Each test's budget when `FLYWHEEL_STRESS_SECS` is not set.
const DEFAULT_SECS: f64 = 2.0;
/// Open file descriptors a test may gain over its rounds: a few runtimes whose last threads
/// are still exiting (after `shutdown_timeout` or a drop from inside a task).
const FD_SLACK: usize = 32;
/// How long a socket test waits for progress before it calls the tasks stranded.
const STALL_LIMIT: Duration = Duration::from_secs(5);

/// One stress test at a time, even under the default parallel harness: each wants the
/// machine, and the file descriptor check must not see another test's sockets.
static SERIAL: Mutex<()> = Mutex::new(());

/// Seconds from the environment variable `name`, or `default`.
fn secs_from_env(name: &str, default: Duration) -> Duration {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map_or(default, Duration::from_secs_f64)
}

fn budget() -> Duration {
    secs_from_env(
        "FLYWHEEL_STRESS_SECS",
        Duration::from_secs_f64(DEFAULT_SECS),
    )
}

fn master_seed() -> u64 {
    let from_env = std::env::var("FLYWHEEL_STRESS_SEED").ok().and_then(|s| {
        let s = s.trim();
        match s.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => s.parse().ok(),
        }
    });
    from_env.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    })
}

/// xorshift64*: small, seedable, good enough to pick actions.
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // Never zero (xorshift's fixed point).
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15 | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    /// A new generator for another thread.
    fn fork(&mut self) -> Rng {
        Rng::new(self.next())
    }
}

/// Open file descriptors of this process (Linux); `None` elsewhere.
fn open_fds() -> Option<usize> {
    std::fs::read_dir("/proc/self/fd").ok().map(|d| d.count())
}

/// What the open file descriptors are, counted by kind ("anon_inode:[eventpoll]: 3, ...").
fn fd_kinds() -> String {
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    for entry in std::fs::read_dir("/proc/self/fd")
        .into_iter()
        .flatten()
        .flatten()
    {
        let target = std::fs::read_link(entry.path())
            .map(|t| t.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "?".into());
        // "socket:[1234]" -> "socket"; paths and anon inodes stay whole.
        let kind = match target.split_once(":[") {
            Some((kind, _)) if !target.starts_with("anon_inode") => kind.to_owned(),
            _ => target,
        };
        *kinds.entry(kind).or_default() += 1;
    }
    kinds
        .iter()
        .map(|(kind, n)| format!("{kind}: {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Says which round failed, with the seed to replay, when the test thread unwinds.
struct RoundReport {
    test: &'static str,
    round: u64,
    seed: u64,
}

impl Drop for RoundReport {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!(
                "{}: round {} failed; replay with FLYWHEEL_STRESS_SEED={:#x}",
                self.test, self.round, self.seed
            );
        }
    }
}

/// Keeps the expected panic of `Handle::block_on` on a runtime that is gone out of the
/// output; every other panic is reported as usual.
fn quiet_expected_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let msg = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("");
            if !msg.contains("was shut down") {
                report(info);
            }
        }));
    });
}

/// Runs `round` again and again, each under its own watchdog, until the budget is spent
/// (at least twice). Between rounds, checks that no file descriptor leaked (failing early,
/// before a leak starves the tests that follow).
fn stress(test: &'static str, round: impl Fn(Rng) + Send + Sync + 'static) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    quiet_expected_panics();
    let seed = master_seed();
    let mut master = Rng::new(seed);
    let round = Arc::new(round);
    let budget = budget();
    let round_limit = secs_from_env("FLYWHEEL_STRESS_ROUND_SECS", ROUND_LIMIT);
    let start = Instant::now();
    let mut fds_after_first = None;
    let mut rounds = 0;
    while rounds < 2 || start.elapsed() < budget {
        let report = RoundReport {
            test,
            round: rounds,
            seed,
        };
        let round = round.clone();
        let rng = master.fork();
        watchdog_for(round_limit, move || round(rng));
        std::mem::forget(report);
        rounds += 1;
        let now = open_fds();
        let before = *fds_after_first.get_or_insert(now);
        if let (Some(before), Some(now)) = (before, now) {
            assert!(
                now <= before + FD_SLACK,
                "{test}: open file descriptors grew from {before} to {now} in {rounds} rounds: \
                 something (a runtime, a socket) is never freed; open now: {}; seed {seed:#x}",
                fd_kinds()
            );
        }
    }
    eprintln!(
        "{test}: {rounds} rounds in {:.1?} (seed {seed:#x})",
        start.elapsed()
    );
}

/// What a storm task does before it returns its index.
#[derive(Clone, Copy, Debug)]
enum Act {
    /// Returns at once.
    Ready,
    /// Yields this many times first.
    Yield(u8),
    /// Waits for a oneshot completed by another thread (a cross-thread wake).
    Remote,
    /// Spawns a child task from inside the runtime and awaits it.
    Child,
    /// Never returns: always aborted.
    Forever,
}

impl Act {
    fn pick(rng: &mut Rng) -> Act {
        match rng.below(10) {
            0 | 1 => Act::Ready,
            2..=4 => Act::Yield(rng.below(4) as u8 + 1),
            5..=7 => Act::Remote,
            8 => Act::Child,
            _ => Act::Forever,
        }
    }
}

/// What a storm needs to check every task: one slot per task counting how often its
/// future reached the end, and one counter for all drops.
struct Ledger {
    finished: Vec<AtomicU8>,
    drops: DropCounter,
    /// Futures created (tasks and children).
    futures: AtomicUsize,
}

impl Ledger {
    fn new(tasks: usize) -> Arc<Ledger> {
        Arc::new(Ledger {
            finished: (0..tasks).map(|_| AtomicU8::new(0)).collect(),
            drops: DropCounter::new(),
            futures: AtomicUsize::new(0),
        })
    }

    /// Checks one task's outcome: its own index, once; or cancelled, and then only if it was
    /// aborted and never finished.
    fn check(&self, i: usize, act: Act, aborted: bool, outcome: Result<usize, JoinError>) {
        let finished = self.finished[i].load(SeqCst);
        match outcome {
            Ok(v) => {
                assert_eq!(v, i, "task {i} ({act:?}) returned another task's output");
                assert!(!matches!(act, Act::Forever), "task {i} never returns");
                assert_eq!(finished, 1, "task {i} ({act:?}) finished {finished} times");
            }
            Err(e) => {
                assert!(e.is_cancelled(), "task {i} ({act:?}) failed: {e}");
                assert!(aborted, "task {i} ({act:?}) cancelled without an abort");
                assert_eq!(finished, 0, "task {i} ({act:?}) finished yet is cancelled");
            }
        }
    }
}

/// The future of storm task `i`.
fn storm_task(
    i: usize,
    act: Act,
    ledger: Arc<Ledger>,
    remote: &mpsc::Sender<futures_channel::oneshot::Sender<()>>,
) -> impl Future<Output = usize> + Send + 'static {
    ledger.futures.fetch_add(1, SeqCst);
    let guard = ledger.drops.guard();
    let rx = match act {
        Act::Remote => {
            let (tx, rx) = futures_channel::oneshot::channel();
            remote
                .send(tx)
                .expect("the waker thread runs until the round ends");
            Some(rx)
        }
        _ => None,
    };
    async move {
        let _guard = guard;
        match act {
            Act::Ready => {}
            Act::Yield(n) => {
                for _ in 0..n {
                    yield_now().await;
                }
            }
            Act::Remote => {
                let _ = rx.expect("made above").await;
            }
            Act::Child => {
                ledger.futures.fetch_add(1, SeqCst);
                let child_guard = ledger.drops.guard();
                let child = flywheel::spawn(async move {
                    let _guard = child_guard;
                    yield_now().await;
                    i
                });
                assert_eq!(child.await.expect("the child is never aborted"), i);
            }
            Act::Forever => std::future::pending().await,
        }
        ledger.finished[i].fetch_add(1, SeqCst);
        i
    }
}

/// A storm task's handle on its way to whoever awaits it.
type Pending = (usize, Act, bool, JoinHandle<usize>);

/// One storm round: spawner threads spawn tasks through the handle (cross-thread spawns),
/// some tasks are woken from another thread, some spawn children (local spawns), some are
/// aborted from the spawner or from an aborter thread; handles are awaited on the spawner
/// threads (a foreign executor), inside `block_on`, or dropped (detached).
fn storm_round(make: fn() -> Runtime, mut rng: Rng) {
    const SPAWNERS: usize = 3;
    let per_spawner = iterations(1000);
    let rt = make();
    let ledger = Ledger::new(SPAWNERS * per_spawner);

    let (remote_tx, remote_rx) = mpsc::channel::<futures_channel::oneshot::Sender<()>>();
    let waker = thread::spawn(move || {
        // Completes each oneshot, sometimes in batches so several wakes land at once.
        // Flushed when idle for a moment too: a spawner may be waiting for one of them.
        let mut batch = Vec::new();
        let mut rng = Rng::new(7);
        loop {
            let flush = match remote_rx.recv_timeout(Duration::from_micros(300)) {
                Ok(tx) => {
                    batch.push(tx);
                    rng.chance(30)
                }
                Err(mpsc::RecvTimeoutError::Timeout) => true,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            if flush {
                for tx in batch.drain(..) {
                    let _ = tx.send(());
                }
            }
        }
        for tx in batch {
            let _ = tx.send(());
        }
    });
    let (abort_tx, abort_rx) = mpsc::channel::<AbortHandle>();
    let aborter = thread::spawn(move || {
        for handle in abort_rx {
            handle.abort();
        }
    });
    let (joined_tx, joined_rx) = async_channel::unbounded::<Pending>();

    let spawners: Vec<_> = (0..SPAWNERS)
        .map(|s| {
            let handle = rt.handle().clone();
            let ledger = ledger.clone();
            let remote_tx = remote_tx.clone();
            let abort_tx = abort_tx.clone();
            let joined_tx = joined_tx.clone();
            let mut rng = rng.fork();
            thread::spawn(move || {
                let mut later = Vec::new();
                for j in 0..per_spawner {
                    let i = s * per_spawner + j;
                    let act = Act::pick(&mut rng);
                    let task = handle.spawn(storm_task(i, act, ledger.clone(), &remote_tx));
                    let aborted = matches!(act, Act::Forever) || rng.chance(10);
                    if aborted {
                        if rng.chance(50) {
                            task.abort();
                        } else {
                            abort_tx.send(task.abort_handle()).unwrap();
                        }
                    }
                    match rng.below(10) {
                        0 => drop(task), // detached: only the drop count checks it
                        1..=3 => joined_tx.send_blocking((i, act, aborted, task)).unwrap(),
                        4 if !aborted || rng.chance(50) => {
                            let outcome = futures::executor::block_on(task);
                            ledger.check(i, act, aborted, outcome);
                        }
                        _ => later.push((i, act, aborted, task)),
                    }
                }
                for (i, act, aborted, task) in later {
                    let outcome = futures::executor::block_on(task);
                    ledger.check(i, act, aborted, outcome);
                }
            })
        })
        .collect();
    drop((remote_tx, abort_tx, joined_tx));

    // Some handles are awaited inside the runtime; this also drives a current-thread one.
    let inside = ledger.clone();
    let in_tasks = rng.chance(50);
    rt.block_on(async move {
        let mut joiners = Vec::new();
        while let Ok((i, act, aborted, task)) = joined_rx.recv().await {
            if in_tasks {
                // Awaited by another task, so the join waker is a task's.
                let ledger = inside.clone();
                joiners.push(flywheel::spawn(async move {
                    ledger.check(i, act, aborted, task.await);
                }));
            } else {
                inside.check(i, act, aborted, task.await);
            }
        }
        for joiner in joiners {
            joiner.await.expect("a joiner task failed its check");
        }
    });
    for spawner in spawners {
        if let Err(panic) = spawner.join() {
            std::panic::resume_unwind(panic);
        }
    }
    // Detached tasks may still run (or wait for a wake); they finish before this returns, or
    // are cancelled by the drop.
    rt.block_on(async {
        for _ in 0..16 {
            yield_now().await;
        }
    });
    drop(rt);
    waker.join().unwrap();
    aborter.join().unwrap();
    let futures = ledger.futures.load(SeqCst);
    assert_eq!(
        ledger.drops.count(),
        futures,
        "every future (tasks and children) is dropped exactly once"
    );
}

#[test]
#[ignore = "stress: run in release by .ci/run"]
fn spawn_wake_abort_storm_current_thread() {
    stress("spawn_wake_abort_storm_current_thread", |rng| {
        storm_round(FLAVOURS[0].1, rng)
    });
}

#[test]
#[ignore = "stress: run in release by .ci/run"]
fn spawn_wake_abort_storm_multi_thread() {
    stress("spawn_wake_abort_storm_multi_thread", |rng| {
        storm_round(FLAVOURS[1].1, rng)
    });
}

/// Tasks that come and go in a `JoinSet`: spawned from inside tasks, aborted one by one or
/// all at once, the set dropped with tasks still running.
fn join_set_round(make: fn() -> Runtime, mut rng: Rng) {
    let rt = make();
    let drops = DropCounter::new();
    let futures = Arc::new(AtomicUsize::new(0));
    let sets = iterations(200);
    let (drops2, futures2) = (drops.clone(), futures.clone());
    rt.block_on(async move {
        for _ in 0..sets {
            let mut set = JoinSet::new();
            let mut aborts = Vec::new();
            let n = rng.below(20) + 1;
            for k in 0..n {
                futures2.fetch_add(1, SeqCst);
                let guard = drops2.guard();
                let forever = rng.chance(20);
                let yields = rng.below(3);
                let abort = set.spawn(async move {
                    let _guard = guard;
                    for _ in 0..yields {
                        yield_now().await;
                    }
                    if forever {
                        std::future::pending::<()>().await;
                    }
                    k
                });
                if forever || rng.chance(10) {
                    aborts.push(abort);
                }
            }
            let forevers = aborts.len();
            match rng.below(4) {
                // Drain it: every task comes back once, finished or cancelled.
                0 | 1 => {
                    aborts.iter().for_each(AbortHandle::abort);
                    let mut seen = vec![false; n];
                    let mut count = 0;
                    while let Some(outcome) = set.join_next().await {
                        count += 1;
                        match outcome {
                            Ok(k) => {
                                assert!(!seen[k], "task {k} came back twice");
                                seen[k] = true;
                            }
                            Err(e) => assert!(e.is_cancelled(), "{e}"),
                        }
                    }
                    assert_eq!(count, n, "join_next returned each task once");
                }
                // Abort all, then drain.
                2 => {
                    set.abort_all();
                    let mut count = 0;
                    while set.join_next().await.is_some() {
                        count += 1;
                    }
                    assert_eq!(count, n);
                }
                // Drop it with tasks still running: they are aborted.
                _ => {
                    if forevers == 0 && rng.chance(50) {
                        yield_now().await;
                    }
                    drop(set);
                }
            }
        }
        // Let the aborted tasks of dropped sets be cancelled.
        for _ in 0..16 {
            yield_now().await;
        }
    });
    drop(rt);
    assert_eq!(drops.count(), futures.load(SeqCst));
}

#[test]
#[ignore = "stress: run in release by .ci/run"]
fn join_set_churn_current_thread() {
    stress("join_set_churn_current_thread", |rng| {
        join_set_round(FLAVOURS[0].1, rng)
    });
}

#[test]
#[ignore = "stress: run in release by .ci/run"]
fn join_set_churn_multi_thread() {
    stress("join_set_churn_multi_thread", |rng| {
        join_set_round(FLAVOURS[1].1, rng)
    });
}

/// Waits until `done()` holds, checking every millisecond, for at most `STALL_LIMIT`.
async fn wait_until(done: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > STALL_LIMIT {
            return false;
        }
        sleep(Duration::from_millis(1)).await;
    }
    true
}

/// Blocks this (non-runtime) thread until `done()` holds, for at most `STALL_LIMIT`.
fn block_until(done: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > STALL_LIMIT {
            return false;
        }
        thread::sleep(Duration::from_micros(200));
    }
    true
}

/// Several tasks accept on one `Arc<TcpListener>` while a client thread connects; acceptors
/// are aborted at random points (the newest one often) and new ones spawned. Every
/// connection must be accepted: an aborted waiter must not strand the others.
fn shared_accept_round(make: fn() -> Runtime, mut rng: Rng) {
    let connections = iterations(500);
    let rt = make();
    let accepted = Arc::new(AtomicUsize::new(0));
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let addr = std_listener.local_addr().unwrap();

    let (tick_tx, tick_rx) = async_channel::unbounded::<()>();
    let (stall_tx, stall_rx) = futures_channel::oneshot::channel::<Option<usize>>();
    let client = {
        let accepted = accepted.clone();
        thread::spawn(move || {
            let mut streams = Vec::new();
            for k in 0..connections {
                // Keep at most 32 waiting in the backlog (it holds 128).
                if !block_until(|| accepted.load(SeqCst) + 32 > k) {
                    let _ = stall_tx.send(Some(k));
                    return;
                }
                match std::net::TcpStream::connect(addr) {
                    Ok(stream) if k % 2 == 0 => streams.push(stream),
                    Ok(_) => {} // closed at once: still a connection to accept
                    Err(e) => panic!("connect {k}: {e}"),
                }
                let _ = tick_tx.send_blocking(());
            }
            let _ = stall_tx.send(None);
            drop(tick_tx);
            // Hold the open ones until they are all accepted.
            block_until(|| accepted.load(SeqCst) >= connections);
            drop(streams);
        })
    };

    rt.block_on(async move {
        let listener = Arc::new(TcpListener::from_std(std_listener).unwrap());
        let spawn_acceptor = || {
            let listener = listener.clone();
            let accepted = accepted.clone();
            flywheel::spawn(async move {
                loop {
                    match listener.accept().await {
                        // Counted in the same poll that took it: an abort cannot lose it.
                        Ok(_) => accepted.fetch_add(1, SeqCst),
                        Err(e) => panic!("accept: {e}"),
                    };
                }
            })
        };
        let mut acceptors: Vec<JoinHandle<()>> = (0..4).map(|_| spawn_acceptor()).collect();
        while tick_rx.recv().await.is_ok() {
            if acceptors.len() > 1 && rng.chance(20) {
                // The newest registered last: aborting it is what strands the others when
                // a socket keeps one waker per direction.
                let victim = if rng.chance(50) {
                    acceptors.len() - 1
                } else {
                    rng.below(acceptors.len())
                };
                acceptors.swap_remove(victim).abort();
            }
            if acceptors.len() < 6 && rng.chance(15) {
                acceptors.push(spawn_acceptor());
            }
            if rng.chance(30) {
                yield_now().await;
            }
        }
        let alive = acceptors.len();
        let stalled = stall_rx.await.expect("the client thread reports");
        let all = wait_until(|| accepted.load(SeqCst) >= connections).await;
        let got = accepted.load(SeqCst);
        assert!(
            stalled.is_none() && all,
            "accepted only {got} of {connections} connections (client stalled at {stalled:?}) \
             with {alive} acceptors alive: aborted waiters stranded the others"
        );
        assert_eq!(got, connections, "a connection was accepted twice");
        for acceptor in acceptors {
            acceptor.abort();
            let e = acceptor.await.unwrap_err();
            assert!(e.is_cancelled(), "acceptor: {e}");
        }
    });
    client.join().unwrap();
}

#[test]
#[ignore = "stress: run in release by .ci/run"]
fn shared_listener_accept_storm() {
    stress("shared_listener_accept_storm", |mut rng| {
        for (_, make) in FLAVOURS {
            shared_accept_round(make, rng.fork());
        }
    });
}

/// Several tasks receive on one `Arc<UdpSocket>` while a thread sends numbered datagrams;
/// receivers are aborted at random points and new ones spawned. Every datagram must be
/// received exactly once (a window of 32 in flight keeps loopback from dropping any).
fn shared_udp_round(make: fn() -> Runtime, mut rng: Rng) {
    let datagrams = iterations(2000);
    let rt = make();
    let seen: Arc<Vec<AtomicU8>> = Arc::new((0..datagrams).map(|_| AtomicU8::new(0)).collect());
    let received = Arc::new(AtomicUsize::new(0));

    let sender = rt.block_on(async move {
        let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let addr: SocketAddr = socket.local_addr().unwrap();
        let (tick_tx, tick_rx) = async_channel::unbounded::<()>();
        let (stall_tx, stall_rx) = futures_channel::oneshot::channel::<Option<usize>>();
        let sender = {
            let received = received.clone();
            thread::spawn(move || {
                let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                for k in 0..datagrams {
                    if !block_until(|| received.load(SeqCst) + 32 > k) {
                        let _ = stall_tx.send(Some(k));
                        return;
                    }
                    socket.send_to(&(k as u32).to_le_bytes(), addr).unwrap();
                    if k % 8 == 0 {
                        let _ = tick_tx.send_blocking(());
                    }
                }
                let _ = stall_tx.send(None);
            })
        };
        let spawn_receiver = || {
            let socket = socket.clone();
            let seen = seen.clone();
            let received = received.clone();
            flywheel::spawn(async move {
                let mut buf = [0u8; 16];
                loop {
                    let (n, _) = socket.recv_from(&mut buf).await.expect("recv_from");
                    assert_eq!(n, 4);
                    let k = u32::from_le_bytes(buf[..4].try_into().unwrap()) as usize;
                    // Counted in the same poll that took it: an abort cannot lose it.
                    let times = seen[k].fetch_add(1, SeqCst) + 1;
                    assert_eq!(times, 1, "datagram {k} received twice");
                    received.fetch_add(1, SeqCst);
                }
            })
        };
        let mut receivers: Vec<JoinHandle<()>> = (0..4).map(|_| spawn_receiver()).collect();
        while tick_rx.recv().await.is_ok() {
            if receivers.len() > 1 && rng.chance(20) {
                let victim = if rng.chance(50) {
                    receivers.len() - 1
                } else {
                    rng.below(receivers.len())
                };
                receivers.swap_remove(victim).abort();
            }
            if receivers.len() < 6 && rng.chance(15) {
                receivers.push(spawn_receiver());
            }
        }
        let alive = receivers.len();
        let stalled = stall_rx.await.expect("the sender thread reports");
        let all = wait_until(|| received.load(SeqCst) >= datagrams).await;
        let got = received.load(SeqCst);
        assert!(
            stalled.is_none() && all,
            "received only {got} of {datagrams} datagrams (sender stalled at {stalled:?}) \
             with {alive} receivers alive: aborted waiters stranded the others"
        );
        for receiver in receivers {
            receiver.abort();
            let e = receiver.await.unwrap_err();
            assert!(e.is_cancelled(), "receiver: {e}");
        }
        sender
    });
    sender.join().unwrap();
}

#[test]
#[ignore = "stress: run in release by .ci/run"]
fn shared_udp_socket_recv_storm() {
    stress("shared_udp_socket_recv_storm", |mut rng| {
        for (_, make) in FLAVOURS {
            shared_udp_round(make, rng.fork());
        }
    });
}

/// One timer operation of a churning task; each checks that nothing fires early.
async fn timer_op(rng: &mut Rng) {
    let ms = |n: usize| Duration::from_millis(n as u64);
    let start = Instant::now();
    match rng.below(7) {
        0 => {
            let d = ms(rng.below(4));
            sleep(d).await;
            assert!(start.elapsed() >= d, "sleep({d:?}) fired early");
        }
        1 => {
            let (limit, work) = (ms(rng.below(4)), ms(rng.below(4)));
            match timeout(limit, sleep(work)).await {
                Ok(()) => assert!(start.elapsed() >= work, "inner sleep fired early"),
                Err(_) => assert!(start.elapsed() >= limit, "timeout fired early"),
            }
        }
        2 => {
            // The inner future is polled first: a yield always wins.
            let limit = ms(rng.below(3) + 1);
            assert!(timeout(limit, yield_now()).await.is_ok());
        }
        3 => {
            // Armed far away, polled, then pulled in.
            let mut s = sleep(Duration::from_secs(3600));
            assert!(futures::poll!(&mut s).is_pending());
            let deadline = flywheel::time::Instant::now() + ms(rng.below(4));
            Pin::new(&mut s).reset(deadline);
            s.await;
            let now = flywheel::time::Instant::now();
            assert!(now >= deadline, "reset sleep fired early");
        }
        4 => {
            // Registered, then dropped before it fires.
            let mut s = pin!(sleep(ms(rng.below(50) + 1)));
            let _ = futures::poll!(s.as_mut());
        }
        5 => {
            let period = ms(rng.below(2) + 1);
            let ticks = rng.below(3) + 2;
            let mut iv = interval(period);
            for _ in 0..ticks {
                iv.tick().await;
            }
            assert!(
                start.elapsed() >= period * (ticks as u32 - 1),
                "interval ticked early"
            );
        }
        _ => {
            // A sleeping child aborted mid-sleep, or not.
            let child = flywheel::spawn(sleep(ms(rng.below(3))));
            yield_now().await;
            if rng.chance(50) {
                child.abort();
            }
            if let Err(e) = child.await {
                assert!(e.is_cancelled(), "{e}");
            }
        }
    }
}

/// A runtime of either flavour full of tasks churning timers; awaited to the end, or
/// dropped mid-flight (here or on another thread) while handles are awaited elsewhere.
fn timer_churn(mut rng: Rng) {
    let make = FLAVOURS[rng.below(2)].1;
    let rt = make();
    let tasks = iterations(300);
    let drops = DropCounter::new();
    let handles: Vec<JoinHandle<()>> = (0..tasks)
        .map(|_| {
            let mut task_rng = rng.fork();
            let ops = task_rng.below(4) + 1;
            let guard = drops.guard();
            rt.spawn(async move {
                let _guard = guard;
                for _ in 0..ops {
                    timer_op(&mut task_rng).await;
                }
            })
        })
        .collect();
    let check = |outcome: Result<(), JoinError>, may_cancel: bool| match outcome {
        Ok(()) => {}
        Err(e) if e.is_cancelled() && may_cancel => {}
        Err(e) => panic!("timer task: {e}"),
    };
    match rng.below(3) {
        0 => {
            rt.block_on(async {
                for handle in handles {
                    check(handle.await, false);
                }
            });
            drop(rt);
        }
        1 => {
            let yields = rng.below(100);
            rt.block_on(async {
                for _ in 0..yields {
                    yield_now().await;
                }
            });
            drop(rt);
            for handle in handles {
                check(futures::executor::block_on(handle), true);
            }
        }
        _ => {
            // Awaited on one thread while another runs the runtime a little, then drops it.
            let waiter = thread::spawn(move || {
                for handle in handles {
                    check(futures::executor::block_on(handle), true);
                }
            });
            let wait = Duration::from_millis(rng.below(4) as u64);
            let dropper_thread = rng.chance(50);
            rt.block_on(sleep(wait));
            if dropper_thread {
                thread::spawn(move || drop(rt)).join().unwrap();
            } else {
                drop(rt);
            }
            if let Err(panic) = waiter.join() {
                std::panic::resume_unwind(panic);
            }
        }
    }
    assert_eq!(
        drops.count(),
        tasks,
        "every timer task dropped exactly once"
    );
}

#[test]
#[ignore = "stress: run in release by .ci/run"]
fn timers_churned_while_runtimes_start_and_stop() {
    stress("timers_churned_while_runtimes_start_and_stop", |mut rng| {
        // Two runtimes at a time, on two threads, each started and stopped in turn.
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let mut rng = rng.fork();
                thread::spawn(move || {
                    for _ in 0..3 {
                        timer_churn(rng.fork());
                    }
                })
            })
            .collect();
        for t in threads {
            if let Err(panic) = t.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
}

/// What a thread holding a handle does to a runtime that may be dropped meanwhile.
fn handle_user(handle: flywheel::Handle, mut rng: Rng, ledger: Arc<DropLedger>, ops: usize) {
    let mut later = Vec::new();
    for _ in 0..ops {
        ledger.spawned.fetch_add(1, SeqCst);
        let dropped_before = ledger.dropped.load(SeqCst);
        match rng.below(6) {
            // A future that never ends: only the runtime's drop cancels it.
            0 => {
                let task = handle.spawn(ledger.future(None));
                later.push((task, true));
            }
            // `block_on` through the handle: may race with the drop. It leaves a task that
            // yields on behind it, still queued on the scheduler core when `block_on` returns.
            1 => {
                let future = ledger.future(Some(rng.below(3)));
                let yielder = ledger.future(Some(rng.below(64) + 1));
                let inner = AssertUnwindSafe(&handle);
                let out = catch_unwind(move || {
                    inner.block_on(async move {
                        drop(flywheel::spawn(yielder));
                        flywheel::spawn(future).await
                    })
                });
                match out {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        assert!(e.is_cancelled(), "{e}");
                        assert!(ledger.dropped.load(SeqCst), "cancelled before the drop");
                    }
                    // Refused: the runtime is gone (documented panic).
                    Err(_) => assert!(ledger.dropped.load(SeqCst), "block_on panicked"),
                }
            }
            // Spawn and wait right here, from a foreign executor.
            2 if ledger.is_multi_thread => {
                let task = handle.spawn(ledger.future(Some(rng.below(3))));
                match futures::executor::block_on(task) {
                    Ok(()) => {}
                    Err(e) => {
                        assert!(e.is_cancelled(), "{e}");
                        assert!(ledger.dropped.load(SeqCst), "cancelled before the drop");
                    }
                }
            }
            _ => {
                let task = handle.spawn(ledger.future(Some(rng.below(3))));
                later.push((task, false));
            }
        }
        if dropped_before && rng.chance(20) {
            break;
        }
    }
    for (task, forever) in later {
        match futures::executor::block_on(task) {
            Ok(()) => assert!(!forever, "a never-ending future returned"),
            Err(e) => assert!(e.is_cancelled(), "{e}"),
        }
    }
}

/// Drop accounting for the runtime-drop storm.
struct DropLedger {
    drops: DropCounter,
    futures: AtomicUsize,
    spawned: AtomicUsize,
    dropped: AtomicBool,
    is_multi_thread: bool,
}

impl DropLedger {
    /// A counted future: yields `Some(n)` times and returns, or (`None`) never returns.
    fn future(&self, yields: Option<usize>) -> impl Future<Output = ()> + Send + 'static {
        self.futures.fetch_add(1, SeqCst);
        let guard = self.drops.guard();
        async move {
            let _guard = guard;
            match yields {
                Some(n) => {
                    for _ in 0..n {
                        yield_now().await;
                    }
                }
                None => std::future::pending().await,
            }
        }
    }
}

/// A runtime dropped at a random point (on this thread, on another, by `shutdown_timeout`, or
/// from inside one of its tasks) while threads keep spawning through its handle, blocking
/// on it and awaiting its tasks.
fn runtime_drop_round(make: fn() -> Runtime, is_multi_thread: bool, mut rng: Rng) {
    const USERS: usize = 3;
    let ops = iterations(300);
    let rt = make();
    let ledger = Arc::new(DropLedger {
        drops: DropCounter::new(),
        futures: AtomicUsize::new(0),
        spawned: AtomicUsize::new(0),
        dropped: AtomicBool::new(false),
        is_multi_thread,
    });
    let users: Vec<_> = (0..USERS)
        .map(|_| {
            let handle = rt.handle().clone();
            let rng = rng.fork();
            let ledger = ledger.clone();
            thread::spawn(move || handle_user(handle, rng, ledger, ops))
        })
        .collect();
    // Drop once the users have done a random share of their work.
    let at = rng.below(USERS * ops);
    while ledger.spawned.load(SeqCst) < at && !users.iter().all(|u| u.is_finished()) {
        thread::yield_now();
    }
    ledger.dropped.store(true, SeqCst);
    match rng.below(4) {
        0 => drop(rt),
        1 => thread::spawn(move || drop(rt)).join().unwrap(),
        2 => rt.shutdown_timeout(Duration::from_millis(rng.below(20) as u64)),
        _ if is_multi_thread => {
            // From inside one of its own tasks.
            let (tx, rx) = mpsc::channel();
            let slot = Arc::new(Mutex::new(Some(rt)));
            let handle = slot.lock().unwrap().as_ref().unwrap().handle().clone();
            drop(handle.spawn(async move {
                let rt = slot.lock().unwrap().take();
                drop(rt);
                let _ = tx.send(());
            }));
            rx.recv().expect("the dropping task ran");
        }
        _ => drop(rt),
    }
    for user in users {
        if let Err(panic) = user.join() {
            std::panic::resume_unwind(panic);
        }
    }
    // A `shutdown_timeout` that gave up (its timeout may be 0) leaves the future a worker
    // was polling to that worker, dropped when the poll returns (`Runtime`'s docs): wait
    // for it, a bounded while, so a late drop passes and a lost one still fails.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while ledger.drops.count() < ledger.futures.load(SeqCst) && std::time::Instant::now() < deadline
    {
        thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(
        ledger.drops.count(),
        ledger.futures.load(SeqCst),
        "every future dropped exactly once"
    );
}

#[test]
#[ignore = "stress: run in release by .ci/run"]
fn runtime_dropped_with_handles_alive_current_thread() {
    stress("runtime_dropped_with_handles_alive_current_thread", |rng| {
        runtime_drop_round(FLAVOURS[0].1, false, rng)
    });
}

#[test]
#[ignore = "stress: run in release by .ci/run"]
fn runtime_dropped_with_handles_alive_multi_thread() {
    stress("runtime_dropped_with_handles_alive_multi_thread", |rng| {
        runtime_drop_round(FLAVOURS[1].1, true, rng)
    });
}
