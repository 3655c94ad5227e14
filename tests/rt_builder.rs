//! `Builder` options, each tested for what it means: thread hooks (counted), thread names
//! and stack size (seen from inside the runtime), the scheduler intervals and the I/O event
//! budget (seen as fairness on a busy worker), argument validation, and the flavour.
//!
//! The fairness tests run a *chain* on a one-worker runtime: each link spawns the next
//! before finishing, so the worker's local queue never empties and it looks at the shared
//! queue and the driver only when its intervals say so.

mod common;

use std::collections::HashSet;
use std::io::Write;
use std::panic::catch_unwind;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use common::watchdog;
use flywheel::{Builder, Runtime, RuntimeFlavor};
use futures::AsyncReadExt;

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

#[test]
fn start_and_stop_hooks_run_once_per_worker_and_blocking_thread() {
    thread_local! {
        /// Set by the start hook on the thread it runs on.
        static HOOKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    watchdog(|| {
        let (started, stopped) = (counter(), counter());
        let (s, t) = (started.clone(), stopped.clone());
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .on_thread_start(move || {
                HOOKED.with(|h| h.set(true));
                s.fetch_add(1, SeqCst);
            })
            .on_thread_stop(move || {
                t.fetch_add(1, SeqCst);
            })
            .build()
            .unwrap();
        // The hook ran on the thread before the task could, and before a blocking job. (The
        // other worker may not have started yet: only totals after shutdown are exact.)
        let seen = rt.block_on(rt.spawn(async { HOOKED.with(|h| h.get()) }));
        assert!(
            seen.unwrap(),
            "a task ran on a worker before its start hook"
        );
        let blocking = rt.block_on(rt.spawn_blocking(|| HOOKED.with(|h| h.get())));
        assert!(
            blocking.unwrap(),
            "a blocking job ran before its thread's start hook"
        );
        assert_eq!(stopped.load(SeqCst), 0);
        drop(rt);
        assert_eq!(
            started.load(SeqCst),
            3,
            "two workers and one blocking thread"
        );
        assert_eq!(
            stopped.load(SeqCst),
            3,
            "every thread stops once, before drop returns"
        );
    });
}

#[test]
fn park_and_unpark_hooks_are_balanced_on_both_flavours() {
    watchdog(|| {
        for multi in [false, true] {
            let (parks, unparks) = (counter(), counter());
            let (p, u) = (parks.clone(), unparks.clone());
            let mut builder = if multi {
                let mut b = Builder::new_multi_thread();
                b.worker_threads(2);
                b
            } else {
                Builder::new_current_thread()
            };
            let rt = builder
                .on_thread_park(move || {
                    p.fetch_add(1, SeqCst);
                })
                .on_thread_unpark(move || {
                    u.fetch_add(1, SeqCst);
                })
                .build()
                .unwrap();
            rt.block_on(async {
                for _ in 0..3 {
                    flywheel::spawn(flywheel::time::sleep(Duration::from_millis(2)))
                        .await
                        .unwrap();
                }
            });
            drop(rt);
            let (parks, unparks) = (parks.load(SeqCst), unparks.load(SeqCst));
            assert!(parks >= 1, "multi {multi}: an idle thread parks");
            assert_eq!(
                parks, unparks,
                "multi {multi}: every park is followed by an unpark"
            );
        }
    });
}

#[test]
fn thread_name_fn_names_workers_and_blocking_threads() {
    watchdog(|| {
        let next = counter();
        let names = Arc::new(Mutex::new(HashSet::new()));
        let seen = names.clone();
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name_fn(move || format!("named-{}", next.fetch_add(1, SeqCst)))
            .on_thread_start(move || {
                let name = std::thread::current().name().unwrap().to_owned();
                seen.lock().unwrap().insert(name);
            })
            .build()
            .unwrap();
        let in_task = rt
            .block_on(rt.spawn(async { std::thread::current().name().unwrap().to_owned() }))
            .unwrap();
        let in_job = rt
            .block_on(rt.spawn_blocking(|| std::thread::current().name().unwrap().to_owned()))
            .unwrap();
        assert!(in_task == "named-0" || in_task == "named-1", "{in_task}");
        assert_eq!(in_job, "named-2");
        drop(rt);
        let names = names.lock().unwrap();
        let expected: HashSet<String> = (0..3).map(|i| format!("named-{i}")).collect();
        assert_eq!(*names, expected);
    });
}

/// Recurses `depth` frames of about 1 KiB; returns how far apart the deepest and the
/// shallowest frames are, in bytes.
#[inline(never)]
fn deep(depth: usize, top: usize) -> usize {
    let frame = [depth as u8; 1024];
    let here = std::hint::black_box(&frame) as *const _ as usize;
    let used = if depth == 0 {
        top.abs_diff(here)
    } else {
        deep(depth - 1, top)
    };
    std::hint::black_box(&frame);
    used
}

fn stack_top() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const _ as usize
}

#[test]
fn thread_stack_size_lets_deep_recursion_run_on_workers_and_blocking_threads() {
    watchdog(|| {
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .thread_stack_size(16 * 1024 * 1024)
            .build()
            .unwrap();
        // About 6 MiB of stack: three times std's default of 2 MiB, which would overflow
        // (and abort the process) without the setting.
        const DEPTH: usize = 6 * 1024;
        let in_task = rt.block_on(rt.spawn(async { deep(DEPTH, stack_top()) }));
        let used = in_task.unwrap();
        assert!(used > 4 * 1024 * 1024, "the recursion used {used} bytes");
        let in_job = rt.block_on(rt.spawn_blocking(|| deep(DEPTH, stack_top())));
        assert!(in_job.unwrap() > 4 * 1024 * 1024);
    });
}

#[test]
fn zero_intervals_and_budgets_are_refused_with_advice() {
    let message = |f: fn()| {
        let panic = catch_unwind(f).unwrap_err();
        panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap()
    };
    let m = message(|| {
        Builder::new_multi_thread().global_queue_interval(0);
    });
    assert!(
        m.contains("global_queue_interval must be at least 1"),
        "{m}"
    );
    let m = message(|| {
        Builder::new_current_thread().event_interval(0);
    });
    assert!(m.contains("event_interval must be at least 1"), "{m}");
    let m = message(|| {
        Builder::new_multi_thread().max_io_events_per_tick(0);
    });
    assert!(
        m.contains("max_io_events_per_tick must be at least 1"),
        "{m}"
    );
}

#[test]
fn runtime_flavor_matches_the_builder() {
    let ct = Builder::new_current_thread().build().unwrap();
    assert_eq!(ct.handle().runtime_flavor(), RuntimeFlavor::CurrentThread);
    let mt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    assert_eq!(mt.handle().runtime_flavor(), RuntimeFlavor::MultiThread);
    let inside = mt.block_on(mt.spawn(async { flywheel::Handle::current().runtime_flavor() }));
    assert_eq!(inside.unwrap(), RuntimeFlavor::MultiThread);
}

/// Links in a chain: enough for ten trips around the default intervals.
const LINKS: usize = 2000;
/// The link at which the tests act, once the chain runs steadily.
const ACT_AT: usize = 100;

type Hook = Arc<dyn Fn(usize) + Send + Sync>;

/// Spawns link `k` of the chain: it records itself in `step`, spawns link `k + 1` (onto
/// this thread's local queue), then runs `hook(k)`; the last link also calls `hook(LINKS)`.
fn link(k: usize, step: Arc<AtomicUsize>, hook: Hook) {
    drop(flywheel::spawn(async move {
        step.store(k, SeqCst);
        if k + 1 < LINKS {
            link(k + 1, step.clone(), hook.clone());
        }
        hook(k);
        if k + 1 == LINKS {
            hook(LINKS);
        }
    }));
}

/// Runs a chain on `rt` (one worker) with `hook`, from the worker; returns when it ends.
fn run_chain(rt: &Runtime, step: &Arc<AtomicUsize>, hook: Hook) {
    let (done_tx, done_rx) = mpsc::channel();
    let step = step.clone();
    let hook: Hook = Arc::new(move |k| {
        hook(k);
        if k == LINKS {
            let _ = done_tx.send(());
        }
    });
    drop(rt.spawn(async move { link(0, step, hook) }));
    done_rx
        .recv_timeout(Duration::from_secs(8))
        .expect("the chain ends");
}

/// Injects ten tasks while link `ACT_AT` waits; returns the links at which they ran.
fn injected_task_steps(global_queue_interval: Option<u32>) -> Vec<usize> {
    let mut builder = Builder::new_multi_thread();
    builder.worker_threads(1);
    if let Some(n) = global_queue_interval {
        builder.global_queue_interval(n);
    }
    let rt = builder.build().unwrap();
    let handle = rt.handle().clone();
    let step = counter();
    let ran = Arc::new(Mutex::new(Vec::new()));
    let hook: Hook = {
        let (step, ran) = (step.clone(), ran.clone());
        Arc::new(move |k| {
            if k != ACT_AT {
                return;
            }
            // From another thread, so they go to the shared queue; this link waits for
            // them to be queued, so all ten are there at link ACT_AT.
            let (handle, step, ran) = (handle.clone(), step.clone(), ran.clone());
            std::thread::spawn(move || {
                for _ in 0..10 {
                    let (step, ran) = (step.clone(), ran.clone());
                    drop(handle.spawn(async move { ran.lock().unwrap().push(step.load(SeqCst)) }));
                }
            })
            .join()
            .unwrap();
        })
    };
    run_chain(&rt, &step, hook);
    drop(rt);
    let steps = ran.lock().unwrap().clone();
    assert_eq!(steps.len(), 10);
    steps
}

#[test]
fn global_queue_interval_one_runs_injected_tasks_before_the_local_chain_goes_on() {
    watchdog(|| {
        let eager = injected_task_steps(Some(1));
        let last = eager.iter().max().unwrap() - ACT_AT;
        assert!(
            last <= 2,
            "interval 1: all ran right after link {ACT_AT}: {eager:?}"
        );
        // Against the default (61): one injected task per 61 polls while the chain goes on.
        let default = injected_task_steps(None);
        let last = default.iter().max().unwrap() - ACT_AT;
        assert!(
            last >= 400,
            "default: the last ran {last} links later: {default:?}"
        );
    });
}

/// Readers waiting on `n` sockets; at link `ACT_AT` (or, with `one_at_a_time`, each time the
/// previous reader ran) the chain writes to the next socket. Returns, per reader, how many
/// links ran between the write and the reader.
fn io_lags(builder: &mut Builder, n: usize, one_at_a_time: bool) -> Vec<usize> {
    let rt = builder.worker_threads(1).build().unwrap();
    let step = counter();
    let acked = counter();
    let lags = Arc::new(Mutex::new(vec![usize::MAX; n]));
    let written_at = Arc::new(Mutex::new(Vec::new()));
    let mut writers = Vec::new();
    {
        let _guard = rt.enter();
        for i in 0..n {
            let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
            theirs.set_nonblocking(true).unwrap();
            let mut theirs = flywheel::net::UnixStream::from_std(theirs).unwrap();
            writers.push(ours);
            let (step, acked, lags, written_at) = (
                step.clone(),
                acked.clone(),
                lags.clone(),
                written_at.clone(),
            );
            drop(flywheel::spawn(async move {
                let mut byte = [0u8];
                theirs.read_exact(&mut byte).await.unwrap();
                let at: usize = written_at.lock().unwrap()[i];
                lags.lock().unwrap()[i] = step.load(SeqCst) - at;
                acked.fetch_add(1, SeqCst);
            }));
        }
    }
    // The readers were queued first, so they run (and register) before the chain starts.
    let writers = Arc::new(Mutex::new(writers));
    let hook: Hook = {
        let (acked, written_at) = (acked.clone(), written_at.clone());
        Arc::new(move |k| {
            if !(ACT_AT..LINKS).contains(&k) {
                return;
            }
            let mut written = written_at.lock().unwrap();
            let due = if one_at_a_time {
                written.len() < n && written.len() == acked.load(SeqCst)
            } else {
                written.is_empty()
            };
            if !due {
                return;
            }
            let first = written.len();
            let last = if one_at_a_time { first + 1 } else { n };
            for i in first..last {
                written.push(k);
                writers.lock().unwrap()[i].write_all(b"x").unwrap();
            }
        })
    };
    run_chain(&rt, &step, hook);
    drop(rt);
    let lags = lags.lock().unwrap().clone();
    assert!(
        lags.iter().all(|&l| l != usize::MAX),
        "every reader ran: {lags:?}"
    );
    lags
}

#[test]
fn event_interval_one_delivers_io_to_a_busy_worker_at_once() {
    watchdog(|| {
        let eager = io_lags(Builder::new_multi_thread().event_interval(1), 10, true);
        let total: usize = eager.iter().sum();
        assert!(
            total <= 40,
            "interval 1: each reader ran within a few links: {eager:?}"
        );
        // The default (61): the driver is polled every 61 polls, which is about when the
        // next write lands after the reader before it ran.
        let default = io_lags(&mut Builder::new_multi_thread(), 10, true);
        let total: usize = default.iter().skip(1).sum();
        assert!(
            total >= 300,
            "default: readers waited for the next poll: {default:?}"
        );
    });
}

#[test]
fn max_io_events_per_tick_spreads_readiness_over_driver_polls() {
    watchdog(|| {
        let one = io_lags(
            Builder::new_multi_thread().max_io_events_per_tick(1),
            5,
            false,
        );
        let spread = one.iter().max().unwrap() - one.iter().min().unwrap();
        assert!(
            spread >= 150,
            "one event per poll, a poll every 61 polls: {one:?}"
        );
        let all = io_lags(&mut Builder::new_multi_thread(), 5, false);
        let spread = all.iter().max().unwrap() - all.iter().min().unwrap();
        assert!(spread <= 20, "default: one poll takes all five: {all:?}");
    });
}

/// A current-thread runtime runs a chain inside `block_on` while another thread injects
/// tasks one at a time (each once the one before ran); returns how many links each waited.
fn injected_lags_current_thread(global_queue_interval: Option<u32>) -> Vec<usize> {
    let mut builder = Builder::new_current_thread();
    if let Some(n) = global_queue_interval {
        builder.global_queue_interval(n);
    }
    let rt = builder.build().unwrap();
    let handle = rt.handle().clone();
    let step = counter();
    let lags = Arc::new(Mutex::new(Vec::new()));
    let injected_at = Arc::new(Mutex::new(Vec::<usize>::new()));
    let (done_tx, done_rx) = futures::channel::oneshot::channel::<()>();
    let done_tx = Mutex::new(Some(done_tx));
    let hook: Hook = {
        let (step, lags) = (step.clone(), lags.clone());
        Arc::new(move |k| {
            if k == LINKS {
                if let Some(tx) = done_tx.lock().unwrap().take() {
                    let _ = tx.send(());
                }
                return;
            }
            let mut injected = injected_at.lock().unwrap();
            let ran = lags.lock().unwrap().len();
            if k < ACT_AT || injected.len() == 10 || injected.len() != ran {
                return;
            }
            injected.push(k);
            let (handle, step, lags) = (handle.clone(), step.clone(), lags.clone());
            // From another thread, so it goes to the shared queue, before this link ends.
            std::thread::spawn(move || {
                drop(handle.spawn(async move {
                    lags.lock().unwrap().push(step.load(SeqCst) - k);
                }));
            })
            .join()
            .unwrap();
        })
    };
    rt.block_on(async move {
        link(0, step, hook);
        done_rx.await.unwrap();
    });
    drop(rt);
    let lags = lags.lock().unwrap().clone();
    assert_eq!(lags.len(), 10, "{lags:?}");
    lags
}

#[test]
fn global_queue_interval_one_also_holds_on_a_current_thread_runtime() {
    watchdog(|| {
        let eager = injected_lags_current_thread(Some(1));
        let total: usize = eager.iter().sum();
        assert!(
            total <= 20,
            "interval 1: each ran within a link or two: {eager:?}"
        );
        // The default (31): each injected task waits for the next check.
        let default = injected_lags_current_thread(None);
        let total: usize = default.iter().skip(1).sum();
        assert!(
            total >= 150,
            "default: each waited for the next check: {default:?}"
        );
    });
}
