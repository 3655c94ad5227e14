//! `Command::status` and `Command::output`: run a child to completion.
//!
//! `output` applies its stream defaults (stdin null, stdout and stderr captured) only to the
//! streams the caller left unset, and puts the `spawn` default back afterwards, so one
//! `Command` behaves the same whichever method ran before. It reads both streams and waits
//! for the exit at once: reading them one after the other would deadlock on a child that
//! fills the other pipe.

use std::future::{poll_fn, Future};
use std::io;
use std::pin::{pin, Pin};
use std::task::Poll;

use futures_io::AsyncRead;

use crate::process::{Child, Command, ExitStatus, Output, Stdio};

impl Command {
    /// Runs the process to completion and returns its exit status. The streams are
    /// inherited unless set; a piped stdin is closed at once.
    ///
    /// # Errors
    ///
    /// As [`spawn`](Command::spawn) and [`Child::wait`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future leaves the process running (or kills it, with
    /// [`kill_on_drop`](Command::kill_on_drop)); it is reaped in the background either way.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let status = flywheel::process::Command::new("sh").args(["-c", "exit 7"]).status().await?;
    ///     assert_eq!(status.code(), Some(7));
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        let mut child = self.spawn()?;
        drop(child.stdin.take());
        child.wait().await
    }

    /// Runs the process to completion, capturing its stdout and stderr (unless set
    /// otherwise), with stdin at end of file (unless set otherwise).
    ///
    /// # Errors
    ///
    /// As [`spawn`](Command::spawn) and [`Child::wait`], or when reading a stream fails.
    ///
    /// # Cancel safety
    ///
    /// As [`status`](Command::status): the output read so far is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let out = flywheel::process::Command::new("sh")
    ///         .args(["-c", "echo out; echo err >&2; exit 1"])
    ///         .output()
    ///         .await?;
    ///     assert_eq!(out.status.code(), Some(1));
    ///     assert_eq!((out.stdout.as_slice(), out.stderr.as_slice()), (&b"out\n"[..], &b"err\n"[..]));
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn output(&mut self) -> io::Result<Output> {
        let mut child = self.spawn_with_output_defaults()?;
        drop(child.stdin.take());
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let mut stdout = pin!(read_to_end(stdout));
        let mut stderr = pin!(read_to_end(stderr));
        let mut status = pin!(child.wait());
        let (mut out, mut err, mut exit) = (None, None, None);
        let (stdout, stderr, status) = poll_fn(|cx| {
            if out.is_none() {
                out = poll_some(stdout.as_mut().poll(cx));
            }
            if err.is_none() {
                err = poll_some(stderr.as_mut().poll(cx));
            }
            if exit.is_none() {
                exit = poll_some(status.as_mut().poll(cx));
            }
            match (out.take(), err.take(), exit.take()) {
                (Some(o), Some(e), Some(s)) => Poll::Ready((o, e, s)),
                (o, e, s) => {
                    (out, err, exit) = (o, e, s);
                    Poll::Pending
                }
            }
        })
        .await;
        Ok(Output {
            status: status?,
            stdout: stdout?,
            stderr: stderr?,
        })
    }

    /// Spawns with `output`'s defaults for the streams the caller did not set, then puts
    /// back the `spawn` default (inherit) so a later `spawn` is unaffected.
    fn spawn_with_output_defaults(&mut self) -> io::Result<Child> {
        let (stdin_set, stdout_set, stderr_set) =
            (self.stdin_set, self.stdout_set, self.stderr_set);
        if !stdin_set {
            self.std.stdin(Stdio::null());
        }
        if !stdout_set {
            self.std.stdout(Stdio::piped());
        }
        if !stderr_set {
            self.std.stderr(Stdio::piped());
        }
        let child = self.spawn();
        if !stdin_set {
            self.std.stdin(Stdio::inherit());
        }
        if !stdout_set {
            self.std.stdout(Stdio::inherit());
        }
        if !stderr_set {
            self.std.stderr(Stdio::inherit());
        }
        child
    }
}

fn poll_some<T>(poll: Poll<T>) -> Option<T> {
    match poll {
        Poll::Ready(value) => Some(value),
        Poll::Pending => None,
    }
}

/// Reads `pipe` to end of file; nothing when there is no pipe.
async fn read_to_end(pipe: Option<impl AsyncRead + Unpin>) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let Some(mut pipe) = pipe else {
        return Ok(bytes);
    };
    let mut chunk = [0; 8 * 1024];
    loop {
        let n = poll_fn(|cx| Pin::new(&mut pipe).poll_read(cx, &mut chunk)).await;
        match n {
            Ok(0) => return Ok(bytes),
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
