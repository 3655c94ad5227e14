//! `flywheel::process`: spawning, waiting without polling, piped streams on the reactor,
//! kill and kill_on_drop, hundreds of concurrent children, and no zombies left behind.

mod common;

use std::collections::HashSet;
use std::future::Future;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use common::{watchdog, watchdog_for, FLAVOURS};
use flywheel::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command, Stdio};
use futures::{AsyncReadExt, AsyncWriteExt};

/// How long a child may take to be reaped (or killed) before the test fails.
const REAP_LIMIT: Duration = Duration::from_secs(5);

/// What /proc says about `pid`, if it is a child of this process.
#[derive(Debug, PartialEq)]
enum Kin {
    /// No such process, or not our child (reaped, possibly reused).
    Gone,
    /// Our child, exited and not reaped.
    Zombie,
    /// Our child, running.
    Running,
}

fn kin(pid: u32) -> Kin {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Kin::Gone;
    };
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    let after_comm = &stat[stat.rfind(')').expect("stat has a comm") + 2..];
    let mut fields = after_comm.split(' ');
    let state = fields.next().expect("stat has a state");
    let ppid: u32 = fields.next().expect("stat has a ppid").parse().unwrap();
    match (ppid == std::process::id(), state) {
        (false, _) => Kin::Gone,
        (true, "Z") => Kin::Zombie,
        (true, _) => Kin::Running,
    }
}

/// How many of `pids` are zombies of this process.
fn zombies(pids: &[u32]) -> usize {
    pids.iter().filter(|&&pid| kin(pid) == Kin::Zombie).count()
}

/// Waits (on flywheel's timer) until `done()` holds, failing after `REAP_LIMIT`.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < REAP_LIMIT,
            "not within {REAP_LIMIT:?}: {what}"
        );
        flywheel::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The same, blocking the thread (for checks outside a runtime).
fn eventually_blocking(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < REAP_LIMIT,
            "not within {REAP_LIMIT:?}: {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn sh(script: &str) -> Command {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", script]);
    cmd
}

#[test]
fn status_and_output_report_exit_codes_and_streams() {
    watchdog(|| {
        for (name, build) in FLAVOURS {
            build().block_on(async {
                let status = sh("exit 5").status().await.unwrap();
                assert_eq!(status.code(), Some(5), "{name}");
                let out = sh("echo out; echo err >&2; exit 2").output().await.unwrap();
                assert_eq!(out.status.code(), Some(2), "{name}");
                assert_eq!(out.stdout, b"out\n", "{name}");
                assert_eq!(out.stderr, b"err\n", "{name}");
                // output's defaults do not stick to the Command: spawn inherits again.
                let mut cmd = Command::new("true");
                cmd.output().await.unwrap();
                let child = cmd.spawn().unwrap();
                assert!(child.stdout.is_none() && child.stderr.is_none(), "{name}");
            });
        }
    });
}

#[test]
fn output_reads_both_streams_past_the_pipe_buffers() {
    watchdog(|| {
        for (name, build) in FLAVOURS {
            build().block_on(async {
                // 300 kB on each stream: read one after the other, the child would block
                // on the full stderr pipe while we wait for stdout's end of file.
                let out = sh("head -c 300000 /dev/zero; head -c 300000 /dev/zero >&2")
                    .output()
                    .await
                    .unwrap();
                assert!(out.status.success(), "{name}");
                assert_eq!((out.stdout.len(), out.stderr.len()), (300_000, 300_000));
            });
        }
    });
}

#[test]
fn piped_stdin_and_stdout_stream_through_the_reactor() {
    watchdog(|| {
        for (name, build) in FLAVOURS {
            build().block_on(async {
                let mut child = Command::new("cat")
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap();
                let mut stdin = child.stdin.take().unwrap();
                let mut stdout = child.stdout.take().unwrap();
                // 1 MiB, far more than a pipe holds: the writer must yield while the reader
                // drains, on a current-thread runtime too.
                let data: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
                let expected = data.clone();
                let writer = flywheel::spawn(async move {
                    stdin.write_all(&data).await?;
                    stdin.close().await?;
                    assert!(stdin.write(b"late").await.is_err());
                    io::Result::Ok(())
                });
                let mut echoed = Vec::new();
                stdout.read_to_end(&mut echoed).await.unwrap();
                writer.await.unwrap().unwrap();
                assert!(echoed == expected, "{name}: cat echoed other bytes");
                assert!(child.wait().await.unwrap().success(), "{name}");
            });
        }
    });
}

/// Counts the polls of the future it wraps.
struct Counted<F> {
    future: Pin<Box<F>>,
    polls: Arc<AtomicUsize>,
}

impl<F: Future> Future for Counted<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        self.future.as_mut().poll(cx)
    }
}

#[test]
fn wait_sleeps_until_the_exit_instead_of_polling() {
    watchdog(|| {
        for (name, build) in FLAVOURS {
            build().block_on(async {
                let mut child = Command::new("sleep").arg("0.3").spawn().unwrap();
                let polls = Arc::new(AtomicUsize::new(0));
                let waited = Counted {
                    future: Box::pin(child.wait()),
                    polls: polls.clone(),
                }
                .await
                .unwrap();
                assert!(waited.success(), "{name}");
                // One poll to start, one when the exit wakes it; a little slack for spurious
                // wake-ups, none for a timer-driven poll loop (which would take dozens).
                let polls = polls.load(Ordering::SeqCst);
                assert!(polls <= 4, "{name}: wait was polled {polls} times");
            });
        }
    });
}

#[test]
fn hundreds_of_concurrent_children() {
    const CHILDREN: usize = 256;
    watchdog_for(Duration::from_secs(30), || {
        for (name, build) in FLAVOURS {
            build().block_on(async {
                // Every child blocks reading its stdin, so all of them are alive at once.
                let mut stdins = Vec::new();
                let mut waits = Vec::new();
                for i in 0..CHILDREN {
                    let mut child = sh(&format!("read line; exit {}", i % 100))
                        .stdin(Stdio::piped())
                        .spawn()
                        .unwrap();
                    stdins.push(child.stdin.take().unwrap());
                    waits.push(flywheel::spawn(async move { child.wait().await }));
                }
                drop(stdins);
                for (i, wait) in waits.into_iter().enumerate() {
                    let status = wait.await.unwrap().unwrap();
                    assert_eq!(status.code(), Some((i % 100) as i32), "{name}: child {i}");
                }
            });
        }
    });
}

#[test]
fn dropped_children_are_reaped_and_leave_no_zombie() {
    watchdog(|| {
        for (name, build) in FLAVOURS {
            build().block_on(async {
                let mut pids = Vec::new();
                for i in 0..40 {
                    let script = if i % 2 == 0 { "exit 0" } else { "sleep 0.1" };
                    let child = sh(script).spawn().unwrap();
                    pids.push(child.id().unwrap());
                    drop(child);
                }
                eventually(&format!("{name}: zombies among {pids:?}"), || {
                    pids.iter().all(|&pid| kin(pid) == Kin::Gone)
                })
                .await;
                assert_eq!(zombies(&pids), 0);
            });
        }
    });
}

#[test]
fn a_child_dropped_outside_any_runtime_is_reaped_by_the_next_spawn() {
    watchdog(|| {
        let rt = common::current_thread();
        let child = rt
            .block_on(async { Command::new("sleep").arg("0.05").spawn() })
            .unwrap();
        let pid = child.id().unwrap();
        // No runtime on this thread: the child goes to the orphan list, still running.
        drop(child);
        // (Another test's spawn may reap it first: the orphan list is process-wide.)
        eventually_blocking("the orphan exits", || kin(pid) != Kin::Running);
        rt.block_on(async { Command::new("true").status().await })
            .unwrap();
        assert_eq!(kin(pid), Kin::Gone, "the next spawn reaps the orphan");
    });
}

#[test]
fn kill_on_drop_kills_and_reaps_the_child() {
    watchdog(|| {
        for (name, build) in FLAVOURS {
            build().block_on(async {
                let child = Command::new("sleep")
                    .arg("30")
                    .kill_on_drop(true)
                    .spawn()
                    .unwrap();
                let pid = child.id().unwrap();
                assert_eq!(kin(pid), Kin::Running, "{name}");
                drop(child);
                eventually(&format!("{name}: sleep {pid} killed and reaped"), || {
                    kin(pid) == Kin::Gone
                })
                .await;
            });
        }
    });
}

#[test]
fn without_kill_on_drop_the_child_runs_on_and_is_reaped_when_it_exits() {
    watchdog(|| {
        for (name, build) in FLAVOURS {
            build().block_on(async {
                let child = Command::new("sleep").arg("30").spawn().unwrap();
                let pid = child.id().unwrap();
                drop(child);
                flywheel::time::sleep(Duration::from_millis(50)).await;
                assert_eq!(kin(pid), Kin::Running, "{name}: dropping killed it");
                let killed = std::process::Command::new("kill")
                    .args(["-9", &pid.to_string()])
                    .status()
                    .unwrap();
                assert!(killed.success());
                eventually(&format!("{name}: {pid} reaped after kill"), || {
                    kin(pid) == Kin::Gone
                })
                .await;
            });
        }
    });
}

#[test]
fn kill_start_kill_try_wait_and_id() {
    watchdog(|| {
        for (name, build) in FLAVOURS {
            build().block_on(async {
                let mut child = Command::new("sleep").arg("30").spawn().unwrap();
                assert!(child.try_wait().unwrap().is_none(), "{name}");
                assert!(child.id().is_some());
                child.kill().await.unwrap();
                let status = child.try_wait().unwrap().expect("kill waits");
                assert_eq!(status.signal(), Some(9), "{name}");
                assert_eq!(child.id(), None, "{name}: a reaped child has no pid");
                // Killing a reaped child does nothing; waiting again repeats the status.
                child.start_kill().unwrap();
                assert_eq!(child.wait().await.unwrap(), status);

                let mut child = Command::new("sleep").arg("30").spawn().unwrap();
                child.start_kill().unwrap();
                assert_eq!(child.wait().await.unwrap().signal(), Some(9), "{name}");
            });
        }
    });
}

#[test]
fn wait_fails_once_the_runtime_is_gone() {
    watchdog(|| {
        for (name, build) in FLAVOURS {
            let rt = build();
            let mut child = rt
                .block_on(async { Command::new("sleep").arg("30").kill_on_drop(true).spawn() })
                .unwrap();
            let pid = child.id().unwrap();
            drop(rt);
            let waited = futures::executor::block_on(child.wait());
            assert!(waited.is_err(), "{name}: {waited:?}");
            drop(child);
            // Killed on drop; with no runtime left it is reaped from the orphan list.
            eventually_blocking("the killed child exits", || kin(pid) != Kin::Running);
            let rt = build();
            rt.block_on(async { Command::new("true").status().await })
                .unwrap();
            assert_eq!(kin(pid), Kin::Gone, "{name}");
        }
    });
}

#[test]
fn spawn_errors() {
    watchdog(|| {
        let outside = Command::new("true").spawn().unwrap_err();
        assert!(outside.to_string().contains("runtime"), "{outside}");
        flywheel::run(async {
            let missing = Command::new("/no/such/program").spawn().unwrap_err();
            assert_eq!(missing.kind(), io::ErrorKind::NotFound);
        });
    });
}

#[test]
fn children_of_different_runtimes_do_not_mix() {
    watchdog(|| {
        let pids: Vec<HashSet<u32>> = std::thread::scope(|scope| {
            let threads: Vec<_> = FLAVOURS
                .iter()
                .map(|(_, build)| {
                    scope.spawn(move || {
                        build().block_on(async {
                            let mut pids = HashSet::new();
                            for _ in 0..20 {
                                let mut child = Command::new("true").spawn().unwrap();
                                pids.insert(child.id().unwrap());
                                assert!(child.wait().await.unwrap().success());
                            }
                            pids
                        })
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        assert!(pids.iter().all(|set| set.len() == 20));
    });
}

#[test]
fn process_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Command>();
    send_sync::<Child>();
    send_sync::<ChildStdin>();
    send_sync::<ChildStdout>();
    send_sync::<ChildStderr>();
    fn send<T: Send>(_: &T) {}
    let mut cmd = Command::new("true");
    send(&cmd.status());
    send(&cmd.output());
}
