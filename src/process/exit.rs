//! Noticing that a child exited without polling for it, and reaping the children nobody
//! waits for.
//!
//! - On Linux 5.3+ a child's exit is a pidfd (`pidfd_open`, through rustix) becoming
//!   readable; the pidfd is an [`Async`] on the runtime's reactor like any socket.
//! - Elsewhere, or where `pidfd_open` is refused (an old kernel, a seccomp filter), every
//!   SIGCHLD wakes the waiters through [`crate::signal`] and each checks its own child with
//!   `waitpid(pid, WNOHANG)` (std's `try_wait`). SIGCHLD coalesces, so a waiter never trusts
//!   the signal to name its child: it always asks.
//!
//! Invariant: a waiter creates its watch (pidfd or SIGCHLD listener) and only then asks
//! `try_wait`, so an exit before the watch existed is seen by that first `try_wait`, and an
//! exit after it wakes the watch.
//!
//! Orphans: a `Child` dropped before it was reaped hands its `std::process::Child` to a
//! detached reaper task on the current runtime, which waits on the same watch and reaps it.
//! Without a runtime (or when that runtime shuts down first) the child goes to `ORPHANS`,
//! which every `spawn` and every `Child` drop sweeps with `try_wait`. So no zombie outlives
//! the next process operation, and none is left while a runtime runs.

use std::io;
#[cfg(target_os = "linux")]
use std::os::fd::OwnedFd;
#[cfg(target_os = "linux")]
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use parking_lot::Mutex;

#[cfg(target_os = "linux")]
use crate::io::Async;
use crate::signal::unix::{signal, Signal, SignalKind};

/// Children dropped unreaped with no runtime to reap them; swept by `reap_orphans`.
static ORPHANS: Mutex<Vec<std::process::Child>> = parking_lot::const_mutex(Vec::new());

/// Set once `pidfd_open` failed, so later spawns go straight to SIGCHLD.
#[cfg(target_os = "linux")]
static NO_PIDFD: AtomicBool = AtomicBool::new(false);

/// The errors of `pidfd_open` that mean "never on this system" (ENOSYS, EPERM, EACCES).
#[cfg(target_os = "linux")]
const PIDFD_UNSUPPORTED: [i32; 3] = [
    rustix::io::Errno::NOSYS.raw_os_error(),
    rustix::io::Errno::PERM.raw_os_error(),
    rustix::io::Errno::ACCESS.raw_os_error(),
];

/// How a child's exit (or any state change worth a `try_wait`) reaches its waiter.
pub(super) enum ExitWatch {
    /// Readable once the child has exited (and stays readable).
    #[cfg(target_os = "linux")]
    Pidfd(Async<OwnedFd>),
    /// Fires on every SIGCHLD of the process, for any child.
    Sigchld(Signal),
}

impl ExitWatch {
    /// A watch for the child `pid`: its pidfd when the OS offers one and `prefer_pidfd`,
    /// otherwise a SIGCHLD listener.
    ///
    /// # Errors
    ///
    /// When neither can be had (outside a runtime, or out of descriptors).
    pub(super) fn new(pid: u32, prefer_pidfd: bool) -> io::Result<ExitWatch> {
        #[cfg(target_os = "linux")]
        if prefer_pidfd && !NO_PIDFD.load(Relaxed) {
            match pidfd(pid) {
                Ok(watch) => return Ok(watch),
                // An old kernel, or a seccomp filter: pidfds will not work later either.
                Err(e) if matches!(e.raw_os_error(), Some(code) if PIDFD_UNSUPPORTED.contains(&code)) => {
                    NO_PIDFD.store(true, Relaxed)
                }
                // Out of descriptors and the like: SIGCHLD for this child only.
                Err(_) => {}
            }
        }
        let _ = (pid, prefer_pidfd);
        Ok(ExitWatch::Sigchld(signal(SignalKind::child())?))
    }

    /// Waits until the child may have changed state. `woken_before` says this watch already
    /// fired once for this waiter: a pidfd stays readable, so the caller is told to yield
    /// rather than spin on it.
    ///
    /// # Errors
    ///
    /// When the runtime the watch is registered with has shut down.
    pub(super) async fn changed(&mut self, woken_before: bool) -> io::Result<()> {
        match self {
            #[cfg(target_os = "linux")]
            ExitWatch::Pidfd(fd) => {
                if woken_before {
                    // Readable but not yet reapable: give the exit a moment to complete.
                    crate::task::yield_now().await;
                }
                fd.readable().await
            }
            ExitWatch::Sigchld(sigchld) => match sigchld.recv().await {
                Some(()) => Ok(()),
                None => Err(crate::signal::hub::runtime_gone()),
            },
        }
    }

    /// Which mechanism this is, for `Debug`.
    pub(super) fn name(&self) -> &'static str {
        match self {
            #[cfg(target_os = "linux")]
            ExitWatch::Pidfd(_) => "pidfd",
            ExitWatch::Sigchld(_) => "sigchld",
        }
    }
}

#[cfg(target_os = "linux")]
fn pidfd(pid: u32) -> io::Result<ExitWatch> {
    let pid = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
        .ok_or_else(|| io::Error::other("child pid out of range"))?;
    let fd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::NONBLOCK)?;
    Ok(ExitWatch::Pidfd(Async::new(fd)?))
}

/// Reaps `child` in the background: on a reaper task of the current runtime when there is
/// one, else through `ORPHANS`.
pub(super) fn orphan(child: std::process::Child, watch: Option<ExitWatch>) {
    let orphan = Orphan { child: Some(child) };
    match (crate::Handle::try_current(), watch) {
        (Ok(handle), Some(watch)) => {
            // Detached: if the runtime shuts down first, dropping the task's future hands
            // the child to `ORPHANS`.
            drop(handle.spawn(reap(orphan, watch)));
        }
        _ => drop(orphan),
    }
    reap_orphans();
}

/// Tries once to reap each child in `ORPHANS`, forgetting those that are done.
pub(super) fn reap_orphans() {
    let mut orphans = ORPHANS.lock();
    // An error means the child is no longer ours to wait for (someone reaped it).
    orphans.retain_mut(|child| matches!(child.try_wait(), Ok(None)));
}

/// An unreaped child; dropped unreaped, it goes to `ORPHANS`.
struct Orphan {
    child: Option<std::process::Child>,
}

impl Orphan {
    /// Reaps the child if it has exited; true when there is nothing left to wait for.
    fn try_reap(&mut self) -> bool {
        let done = match &mut self.child {
            Some(child) => !matches!(child.try_wait(), Ok(None)),
            None => true,
        };
        if done {
            self.child = None;
        }
        done
    }
}

impl Drop for Orphan {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            ORPHANS.lock().push(child);
        }
    }
}

/// The reaper task's body: wait on the watch until the child can be reaped.
async fn reap(mut orphan: Orphan, mut watch: ExitWatch) {
    let mut woken_before = false;
    while !orphan.try_reap() {
        if watch.changed(woken_before).await.is_err() {
            return;
        }
        woken_before = true;
    }
}

/// The SIGCHLD path, forced where pidfds work (the public API always prefers pidfds).
#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use crate::process::{Command, Stdio};

    /// Fails the test if `body` has not finished within a few seconds.
    fn watchdog(body: impl FnOnce() + Send + 'static) {
        let (done, finished) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            body();
            let _ = done.send(());
        });
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
            finished.recv_timeout(Duration::from_secs(10))
        {
            panic!("watchdog: the test did not finish within 10 s; it probably hangs");
        }
        if let Err(panic) = thread.join() {
            std::panic::resume_unwind(panic);
        }
    }

    fn flavours() -> [crate::Runtime; 2] {
        [
            crate::Builder::new_current_thread().build().unwrap(),
            crate::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap(),
        ]
    }

    /// Whether `pid` is still a child of this process (running or zombie).
    fn is_our_child(pid: u32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            let after_comm = &stat[stat.rfind(')').unwrap() + 2..];
            let ppid = after_comm.split(' ').nth(1).unwrap();
            ppid == std::process::id().to_string()
        })
    }

    #[test]
    fn sigchld_wakes_every_waiter_of_concurrent_children() {
        watchdog(|| {
            for rt in flavours() {
                rt.block_on(async {
                    let mut stdins = Vec::new();
                    let mut waits = Vec::new();
                    for i in 0..32 {
                        let mut child = Command::new("sh")
                            .args(["-c", &format!("read line; exit {i}")])
                            .stdin(Stdio::piped())
                            .watch_sigchld()
                            .spawn()
                            .unwrap();
                        assert!(format!("{child:?}").contains("sigchld"));
                        stdins.push(child.stdin.take().unwrap());
                        waits.push(crate::spawn(async move { child.wait().await }));
                    }
                    drop(stdins);
                    for (i, wait) in waits.into_iter().enumerate() {
                        assert_eq!(wait.await.unwrap().unwrap().code(), Some(i as i32));
                    }
                });
            }
        });
    }

    #[test]
    fn sigchld_reaps_dropped_children() {
        watchdog(|| {
            for rt in flavours() {
                rt.block_on(async {
                    let pids: Vec<u32> = (0..8)
                        .map(|_| {
                            let child = Command::new("sleep")
                                .arg("0.05")
                                .watch_sigchld()
                                .spawn()
                                .unwrap();
                            child.id().unwrap()
                        })
                        .collect();
                    let start = Instant::now();
                    while pids.iter().any(|&pid| is_our_child(pid)) {
                        assert!(start.elapsed() < Duration::from_secs(5), "not reaped");
                        crate::time::sleep(Duration::from_millis(5)).await;
                    }
                });
            }
        });
    }
}
