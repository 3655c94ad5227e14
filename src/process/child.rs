//! `Child`: a spawned process, its standard streams, and waiting for its exit.
//!
//! Invariants:
//! - `inner` is `Some` until `Drop`; `status` is `Some` once std reaped the child (after
//!   which its pid may belong to another process, so `id()` and `start_kill` stop using it).
//! - `exit` (the watch) is dropped as soon as the child is reaped, releasing its pidfd or
//!   SIGCHLD listener early; `Drop` hands an unreaped child and its watch to the reaper.

use std::fmt;
use std::io;
use std::process::ExitStatus;

use crate::process::exit::{self, ExitWatch};
use crate::process::pipe::{ChildStderr, ChildStdin, ChildStdout};

/// A child process spawned by [`Command::spawn`](super::Command::spawn).
///
/// Dropping a `Child` does not wait for or kill the process (unless
/// [`kill_on_drop`](super::Command::kill_on_drop) was set), but flywheel still reaps it in
/// the background when it exits, so it never lingers as a zombie: on a reaper task of the
/// current runtime, or, without one, during the next `spawn` or `Child` drop.
///
/// # Examples
///
/// ```
/// flywheel::run(async {
///     let mut child = flywheel::process::Command::new("sh").args(["-c", "exit 3"]).spawn()?;
///     assert!(child.id().is_some());
///     let status = child.wait().await?;
///     assert_eq!(status.code(), Some(3));
///     assert_eq!(child.id(), None);
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct Child {
    /// The child's stdin when it was [`Stdio::piped`](super::Stdio::piped); take it to write.
    pub stdin: Option<ChildStdin>,
    /// The child's stdout when it was [`Stdio::piped`](super::Stdio::piped); take it to read.
    pub stdout: Option<ChildStdout>,
    /// The child's stderr when it was [`Stdio::piped`](super::Stdio::piped); take it to read.
    pub stderr: Option<ChildStderr>,
    inner: Option<std::process::Child>,
    status: Option<ExitStatus>,
    exit: Option<ExitWatch>,
    kill_on_drop: bool,
}

impl Child {
    /// Wraps a freshly spawned std child. On error the child has been killed and handed to
    /// the reaper, so the caller only reports the error.
    pub(super) fn new(
        mut inner: std::process::Child,
        kill_on_drop: bool,
        prefer_pidfd: bool,
    ) -> io::Result<Child> {
        let parts = (|| {
            let exit = ExitWatch::new(inner.id(), prefer_pidfd)?;
            let stdin = inner.stdin.take().map(ChildStdin::new).transpose()?;
            let stdout = inner.stdout.take().map(ChildStdout::new).transpose()?;
            let stderr = inner.stderr.take().map(ChildStderr::new).transpose()?;
            Ok::<_, io::Error>((exit, stdin, stdout, stderr))
        })();
        match parts {
            Ok((exit, stdin, stdout, stderr)) => Ok(Child {
                stdin,
                stdout,
                stderr,
                inner: Some(inner),
                status: None,
                exit: Some(exit),
                kill_on_drop,
            }),
            Err(e) => {
                let _ = inner.kill();
                exit::orphan(inner, None);
                Err(e)
            }
        }
    }

    /// The OS's process id of the child, or `None` once it has been reaped (by
    /// [`wait`](Child::wait) or [`try_wait`](Child::try_wait)): from then on the number may
    /// name another process.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let mut child = flywheel::process::Command::new("true").spawn()?;
    ///     let pid = child.id().expect("not reaped yet");
    ///     assert!(pid > 0);
    ///     child.wait().await?;
    ///     assert_eq!(child.id(), None);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn id(&self) -> Option<u32> {
        match (&self.inner, self.status) {
            (Some(inner), None) => Some(inner.id()),
            _ => None,
        }
    }

    /// Waits for the child to exit, reaps it, and returns its status. Returns the same
    /// status again if called after that.
    ///
    /// The exit is noticed without polling: the child's pidfd on Linux, SIGCHLD elsewhere.
    /// Close (drop) a piped stdin first if the child reads it to the end, or it waits for
    /// more input forever.
    ///
    /// # Errors
    ///
    /// When the runtime shuts down first, or when the OS fails `waitpid`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses nothing; wait again, or drop the `Child` and
    /// the process is reaped in the background.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let status = flywheel::process::Command::new("true").spawn()?.wait().await?;
    ///     assert!(status.success());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        let mut woken_before = false;
        loop {
            if let Some(status) = self.try_wait()? {
                return Ok(status);
            }
            let exit = self
                .exit
                .as_mut()
                .expect("a child not yet reaped keeps its watch");
            exit.changed(woken_before).await?;
            woken_before = true;
        }
    }

    /// Reaps the child if it has exited, without waiting: `Ok(None)` while it runs.
    ///
    /// # Errors
    ///
    /// When the OS fails `waitpid`.
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::process::{Command, Stdio};
    ///
    /// flywheel::run(async {
    ///     // `cat` runs until its stdin closes.
    ///     let mut child = Command::new("cat").stdin(Stdio::piped()).spawn()?;
    ///     assert!(child.try_wait()?.is_none());
    ///     drop(child.stdin.take());
    ///     child.wait().await?;
    ///     assert!(child.try_wait()?.is_some());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        let inner = self.inner.as_mut().expect("present until drop");
        let status = inner.try_wait()?;
        if status.is_some() {
            self.status = status;
            // The pidfd or SIGCHLD listener is of no further use.
            self.exit = None;
        }
        Ok(status)
    }

    /// Sends SIGKILL to the child, without waiting for it to exit. Does nothing if it has
    /// already been reaped.
    ///
    /// # Errors
    ///
    /// When the OS refuses the signal.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::process::ExitStatusExt;
    ///
    /// flywheel::run(async {
    ///     let mut child = flywheel::process::Command::new("sleep").arg("10").spawn()?;
    ///     child.start_kill()?;
    ///     assert_eq!(child.wait().await?.signal(), Some(9));
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn start_kill(&mut self) -> io::Result<()> {
        if self.status.is_some() {
            return Ok(());
        }
        // Not reaped, so the pid is still this child's (a zombie's pid is not reused).
        self.inner.as_mut().expect("present until drop").kill()
    }

    /// Kills the child with SIGKILL and waits for it to exit.
    ///
    /// # Errors
    ///
    /// As [`start_kill`](Child::start_kill) and [`wait`](Child::wait).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the signal is sent on the first poll; dropping the future afterwards
    /// leaves the dying child to be reaped like any dropped one.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let mut child = flywheel::process::Command::new("sleep").arg("10").spawn()?;
    ///     child.kill().await?;
    ///     assert!(!child.try_wait()?.expect("reaped by kill").success());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await.map(drop)
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let Some(mut inner) = self.inner.take() else {
            return;
        };
        if self.status.is_none() {
            if self.kill_on_drop {
                let _ = inner.kill();
            }
            match inner.try_wait() {
                Ok(None) => exit::orphan(inner, self.exit.take()),
                // Reaped now, or not ours to reap any more.
                Ok(Some(_)) | Err(_) => exit::reap_orphans(),
            }
        }
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("id", &self.id())
            .field("status", &self.status)
            .field("exit_watch", &self.exit.as_ref().map(ExitWatch::name))
            .field("kill_on_drop", &self.kill_on_drop)
            .field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .finish()
    }
}
