//! Seeded scheduling (`Builder::seed`, `Handle::seed`, `#[flywheel::test(seed, runs)]`):
//! the same seed replays the same poll order, other seeds explore other orders, and an
//! unseeded runtime keeps its FIFO order.
//!
//! Poll orders are recorded as spawn indices (task ids are process-global counters, so two
//! runs never share them). A `#[flywheel::test]` function is itself the test, so it cannot
//! run inside `common::watchdog`; those bodies arm a [`Deadline`] instead.
mod common;

#[allow(dead_code)] // Only its functions are used here, not its `main`.
#[path = "../examples/seeded.rs"]
mod example;

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use flywheel::task::yield_now;
use flywheel::time::{sleep, Instant};
use flywheel::{Builder, Handle};

/// Every poll of a recorded future, as the index it was given.
type Log = Arc<Mutex<Vec<usize>>>;

/// The index the `block_on` future is recorded under.
const MAIN: usize = 99;

/// `future`, recording `index` in `log` each time it is polled.
fn recorded<F>(index: usize, log: &Log, future: F) -> impl Future<Output = F::Output> + Send
where
    F: Future + Send + 'static,
{
    let log = log.clone();
    let mut future = Box::pin(future);
    std::future::poll_fn(move |cx| {
        log.lock().unwrap().push(index);
        future.as_mut().poll(cx)
    })
}

/// A runtime with `seed`, or a plain one with a paused clock (so both see the same timers).
fn runtime(seed: Option<u64>) -> flywheel::Runtime {
    let mut builder = Builder::new_current_thread();
    match seed {
        Some(seed) => builder.seed(seed),
        None => builder.start_paused(true),
    };
    builder.build().expect("build a current-thread runtime")
}

/// A program with tasks that yield, sleep (four of them until the same tick), wait on a
/// channel and on each other's `JoinHandle`s; returns every poll in order.
fn poll_order(seed: Option<u64>) -> Vec<usize> {
    let rt = runtime(seed);
    let log = Log::default();
    let main_log = log.clone();
    rt.block_on(recorded(MAIN, &log, async move {
        let log = main_log;
        let (tx, mut rx) = futures_channel::mpsc::unbounded::<usize>();
        let mut handles = Vec::new();
        for i in 0..3 {
            handles.push(flywheel::spawn(recorded(i, &log, async {
                for _ in 0..3 {
                    yield_now().await;
                }
            })));
        }
        for i in 3..7 {
            handles.push(flywheel::spawn(recorded(i, &log, async {
                // Four timers due at the same tick.
                sleep(Duration::from_millis(10)).await;
                yield_now().await;
            })));
        }
        for i in 7..9 {
            let tx = tx.clone();
            handles.push(flywheel::spawn(recorded(i, &log, async move {
                sleep(Duration::from_millis(5)).await;
                tx.unbounded_send(i).unwrap();
            })));
        }
        drop(tx);
        let receiver = flywheel::spawn(recorded(9, &log, async move {
            let mut got = 0;
            while let Some(_i) = futures_lite::StreamExt::next(&mut rx).await {
                got += 1;
            }
            got
        }));
        let first = handles.remove(0);
        let joiner = flywheel::spawn(recorded(10, &log, async move {
            first.await.unwrap();
        }));
        for handle in handles {
            handle.await.unwrap();
        }
        assert_eq!(receiver.await.unwrap(), 2);
        joiner.await.unwrap();
    }));
    let order = log.lock().unwrap().clone();
    order
}

#[test]
fn the_same_seed_replays_the_same_poll_order() {
    common::watchdog(|| {
        for seed in [0, 1, 42, u64::MAX] {
            let first = poll_order(Some(seed));
            let second = poll_order(Some(seed));
            assert_eq!(first, second, "seed {seed} gave two different runs");
            // Every task was polled, and the `block_on` future more than once.
            for i in 0..=10 {
                assert!(first.contains(&i), "seed {seed}: task {i} never polled");
            }
            assert!(first.iter().filter(|&&i| i == MAIN).count() > 1);
        }
    });
}

#[test]
fn different_seeds_explore_different_orders() {
    common::watchdog(|| {
        let orders: HashSet<Vec<usize>> = (0..20).map(|seed| poll_order(Some(seed))).collect();
        assert!(
            orders.len() >= 10,
            "20 seeds gave only {} different orders",
            orders.len()
        );
        // The plain order is one of many, not what every seed falls back to.
        assert!(orders.len() > 1 && !orders.iter().all(|o| *o == poll_order(None)));
        // The woken `block_on` future takes part in the draw: it is polled again after
        // more or fewer task polls depending on the seed.
        let second_main: HashSet<Option<usize>> = orders
            .iter()
            .map(|order| order.iter().skip(1).position(|&i| i == MAIN))
            .collect();
        assert!(second_main.len() > 1, "{second_main:?}");
    });
}

#[test]
fn an_unseeded_runtime_keeps_its_fifo_order() {
    common::watchdog(|| {
        let rt = runtime(None);
        let log = Log::default();
        let main_log = log.clone();
        rt.block_on(recorded(MAIN, &log, async move {
            let handles: Vec<_> = (0..5)
                .map(|i| {
                    flywheel::spawn(recorded(i, &main_log, async {
                        yield_now().await;
                        yield_now().await;
                    }))
                })
                .collect();
            for handle in handles {
                handle.await.unwrap();
            }
        }));
        // The `block_on` future, then each task in spawn order, round after round; the
        // future polled again once its first JoinHandle is done.
        let mut expected = vec![MAIN];
        for _ in 0..3 {
            expected.extend(0..5);
        }
        let order = log.lock().unwrap().clone();
        assert_eq!(order[..expected.len()], expected[..], "{order:?}");
        assert!(order[expected.len()..].iter().all(|&i| i == MAIN));
        // And the same every time, like the seeded runs.
        assert_eq!(poll_order(None), poll_order(None));
    });
}

/// Spawns `n` tasks that sleep until the same tick, and returns the order in which they ran
/// after the timer fired.
fn wake_order_after_one_tick(seed: Option<u64>, n: usize) -> Vec<usize> {
    let rt = runtime(seed);
    rt.block_on(async move {
        let woken = Arc::new(Mutex::new(Vec::new()));
        let deadline = Instant::now() + Duration::from_millis(7);
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let woken = woken.clone();
                flywheel::spawn(async move {
                    flywheel::time::sleep_until(deadline).await;
                    woken.lock().unwrap().push(i);
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
        let order = woken.lock().unwrap().clone();
        order
    })
}

#[test]
fn timers_firing_in_one_tick_run_in_the_order_the_seed_draws() {
    common::watchdog(|| {
        let n = 6;
        let orders: HashSet<Vec<usize>> = (0..20)
            .map(|seed| {
                let order = wake_order_after_one_tick(Some(seed), n);
                assert_eq!(order, wake_order_after_one_tick(Some(seed), n));
                order
            })
            .collect();
        assert!(orders.len() > 5, "only {} orders of 6 timers", orders.len());
        assert_eq!(
            wake_order_after_one_tick(None, n),
            (0..n).collect::<Vec<_>>()
        );
    });
}

#[test]
fn a_multi_thread_runtime_refuses_a_seed() {
    common::watchdog(|| {
        let err = Builder::new_multi_thread()
            .worker_threads(1)
            .seed(3)
            .build()
            .expect_err("a seeded multi-thread runtime is refused");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        let message = err.to_string();
        assert!(message.contains("new_current_thread"), "{message}");
    });
}

#[test]
fn the_handle_tells_the_seed() {
    common::watchdog(|| {
        let seeded = runtime(Some(77));
        assert_eq!(seeded.handle().seed(), Some(77));
        assert_eq!(
            seeded.block_on(async { Handle::current().seed() }),
            Some(77)
        );
        assert_eq!(runtime(None).handle().seed(), None);
        let multi = Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        assert_eq!(multi.handle().seed(), None);
    });
}

#[test]
fn a_seeded_runtime_starts_with_a_paused_clock() {
    common::watchdog(|| {
        let real = std::time::Instant::now();
        let rt = Builder::new_current_thread().seed(5).build().unwrap();
        rt.block_on(async {
            let start = Instant::now();
            sleep(Duration::from_secs(3600)).await;
            assert_eq!(Instant::now() - start, Duration::from_secs(3600));
        });
        assert!(real.elapsed() < Duration::from_secs(5));
    });
}

#[test]
fn the_example_race_is_found_and_replays() {
    common::watchdog(|| {
        for _ in 0..50 {
            let plain = example::run_bank(None);
            assert!(plain.balance >= 0, "a plain run overdrew: {plain:?}");
        }
        let seed = example::find_overdraft(300).expect("a seed below 300 overdraws");
        let first = example::run_bank(Some(seed));
        assert!(first.balance < 0);
        for _ in 0..10 {
            assert_eq!(example::run_bank(Some(seed)), first);
        }
    });
}

use common::Deadline;

/// The seed `FLYWHEEL_SEED` replays, when it is set (then every seeded test runs once,
/// with it).
fn seed_from_env() -> Option<u64> {
    std::env::var("FLYWHEEL_SEED").ok()?.trim().parse().ok()
}

#[flywheel::test(seed = 42)]
async fn test_with_a_seed_runs_on_a_seeded_paused_runtime() {
    let _deadline = Deadline::arm(common::DEFAULT_LIMIT);
    assert_eq!(
        Handle::current().seed(),
        Some(seed_from_env().unwrap_or(42))
    );
    let start = Instant::now();
    sleep(Duration::from_secs(60)).await;
    assert_eq!(Instant::now() - start, Duration::from_secs(60));
}

thread_local! {
    /// The seeds `runs_record_their_seeds` ran with, on this thread.
    static SEEDS_SEEN: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[flywheel::test(runs = 20)]
async fn runs_record_their_seeds() {
    let _deadline = Deadline::arm(common::DEFAULT_LIMIT);
    let seed = Handle::current().seed().expect("a seeded runtime");
    SEEDS_SEEN.with(|seen| seen.borrow_mut().push(seed));
}

#[test]
fn runs_use_a_fresh_runtime_and_seed_each() {
    common::watchdog(|| {
        // The generated function runs its body on the calling thread: call it here.
        runs_record_their_seeds();
        let seen = SEEDS_SEEN.with(|seen| seen.take());
        match seed_from_env() {
            Some(seed) => assert_eq!(seen, [seed]),
            None => {
                assert_eq!(seen.len(), 20);
                let distinct: HashSet<_> = seen.iter().collect();
                assert_eq!(distinct.len(), 20, "{seen:?}");
            }
        }
    });
}

#[flywheel::test(seed = 7, runs = 3)]
async fn runs_keep_the_return_type() -> Result<(), std::num::ParseIntError> {
    let n: u32 = flywheel::spawn(async { "41" }).await.unwrap().parse()?;
    assert_eq!(n + 1, 42);
    Ok(())
}

thread_local! {
    /// Runs of `errs_on_its_third_run` on this thread.
    static RUNS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

#[flywheel::test(seed = 3, runs = 10)]
#[ignore = "fails on purpose; called by an_err_run_ends_the_runs"]
async fn errs_on_its_third_run() -> Result<(), String> {
    let run = RUNS.with(|runs| {
        runs.set(runs.get() + 1);
        runs.get()
    });
    if run == 3 {
        return Err(format!("run {run} failed"));
    }
    Ok(())
}

#[test]
fn an_err_run_ends_the_runs() {
    common::watchdog(|| {
        let result = errs_on_its_third_run();
        if seed_from_env().is_none() {
            assert_eq!(result, Err("run 3 failed".to_owned()));
            assert_eq!(
                RUNS.with(|runs| runs.get()),
                3,
                "no run after the failing one"
            );
        }
    });
}

/// Fails on some of its runs: the example's race under the test attribute. Run by
/// `a_failing_run_names_its_seed_and_replays`, in a process of its own.
#[flywheel::test(seed = 1, runs = 300)]
#[ignore = "fails on purpose; run by a_failing_run_names_its_seed_and_replays"]
async fn overdraws_on_some_seed() {
    let outcome = example::bank().await;
    assert!(outcome.balance >= 0, "overdrawn: {:?}", outcome.events);
}

/// Runs `overdraws_on_some_seed` in a child test process; returns its stderr.
fn run_failing_test(seed: Option<u64>) -> String {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "overdraws_on_some_seed",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env_remove("FLYWHEEL_SEED")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    if let Some(seed) = seed {
        command.env("FLYWHEEL_SEED", seed.to_string());
    }
    let output = command.output().expect("run the test binary");
    assert!(!output.status.success(), "the run was meant to fail");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The seed the failure report names, and that report's line.
fn reported_seed(stderr: &str) -> (u64, String) {
    let line = stderr
        .lines()
        .find(|l| l.contains("panicked with seed"))
        .unwrap_or_else(|| panic!("no seed reported in:\n{stderr}"));
    let seed = line
        .split("with seed ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no seed in {line:?}"));
    (seed, line.to_owned())
}

#[test]
fn a_failing_run_names_its_seed_and_replays() {
    common::watchdog_for(Duration::from_secs(60), || {
        let stderr = run_failing_test(None);
        let (seed, line) = reported_seed(&stderr);
        assert!(
            line.contains(&format!(
                "FLYWHEEL_SEED={seed} cargo test overdraws_on_some_seed"
            )),
            "{line}"
        );
        assert!(stderr.contains("overdrawn: "), "{stderr}");
        let overdraft = |stderr: &str| {
            stderr
                .lines()
                .find(|l| l.contains("overdrawn: "))
                .map(str::to_owned)
        };
        let first = overdraft(&stderr);
        // Replayed: one run, with that seed, failing the same way.
        for _ in 0..2 {
            let replay = run_failing_test(Some(seed));
            let (again, line) = reported_seed(&replay);
            assert_eq!(again, seed);
            assert!(line.contains("(run 1 of 1)"), "{line}");
            assert_eq!(overdraft(&replay), first);
        }
    });
}

/// The poll order of local (`!Send`) tasks on a seeded `LocalRuntime`.
fn local_poll_order(seed: u64) -> Vec<usize> {
    use std::cell::RefCell;
    use std::rc::Rc;
    let rt = Builder::new_current_thread()
        .seed(seed)
        .build_local()
        .unwrap();
    assert_eq!(rt.handle().seed(), Some(seed));
    let log = Rc::new(RefCell::new(Vec::new()));
    rt.block_on(async {
        let tasks: Vec<_> = (0..6)
            .map(|i| {
                let log = log.clone();
                flywheel::task::spawn_local(async move {
                    for _ in 0..3 {
                        log.borrow_mut().push(i);
                        yield_now().await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    let order = log.borrow().clone();
    order
}

/// A seed carries over to a `LocalRuntime`: local tasks replay, and other seeds reorder them.
#[test]
fn a_seeded_local_runtime_replays_its_local_tasks() {
    common::watchdog(|| {
        assert_eq!(local_poll_order(7), local_poll_order(7));
        let orders: HashSet<_> = (0..10).map(local_poll_order).collect();
        assert!(orders.len() > 1, "10 seeds gave one order");
    });
}
