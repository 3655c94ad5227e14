//! A child's standard streams as futures-io readers and writers on the reactor.
//!
//! Each wraps std's pipe end in an [`Async`] after switching that end (ours only: the
//! child's end is a separate open file and keeps blocking) to non-blocking mode.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsFd, BorrowedFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use crate::io::Async;

/// Puts our end of a pipe on the reactor.
fn nonblocking<T: AsFd>(end: T) -> io::Result<Async<T>> {
    rustix::io::ioctl_fionbio(&end, true)?;
    Async::new(end)
}

/// The writing end of a child's stdin, an [`AsyncWrite`].
///
/// The child sees end of file once this is closed: dropped, or
/// closed with `futures::AsyncWriteExt::close` (after which writes fail with `BrokenPipe`).
///
/// # Examples
///
/// ```
/// use futures::{AsyncReadExt, AsyncWriteExt};
/// use flywheel::process::{Command, Stdio};
///
/// flywheel::run(async {
///     let mut child = Command::new("cat")
///         .stdin(Stdio::piped())
///         .stdout(Stdio::piped())
///         .spawn()?;
///     let mut stdin = child.stdin.take().unwrap();
///     stdin.write_all(b"meow").await?;
///     stdin.close().await?;
///     let mut echoed = String::new();
///     child.stdout.take().unwrap().read_to_string(&mut echoed).await?;
///     assert_eq!(echoed, "meow");
///     assert!(child.wait().await?.success());
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct ChildStdin {
    /// `None` once closed.
    inner: Option<Async<std::process::ChildStdin>>,
}

/// The reading end of a child's stdout, an [`AsyncRead`].
///
/// # Examples
///
/// ```
/// use futures::AsyncReadExt;
/// use flywheel::process::{Command, Stdio};
///
/// flywheel::run(async {
///     let mut child = Command::new("echo").arg("hi").stdout(Stdio::piped()).spawn()?;
///     let mut out = String::new();
///     child.stdout.take().unwrap().read_to_string(&mut out).await?;
///     assert_eq!(out, "hi\n");
///     child.wait().await?;
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct ChildStdout {
    inner: Async<std::process::ChildStdout>,
}

/// The reading end of a child's stderr, an [`AsyncRead`].
///
/// # Examples
///
/// ```
/// use futures::AsyncReadExt;
/// use flywheel::process::{Command, Stdio};
///
/// flywheel::run(async {
///     let mut child = Command::new("sh")
///         .args(["-c", "echo oops >&2"])
///         .stderr(Stdio::piped())
///         .spawn()?;
///     let mut err = String::new();
///     child.stderr.take().unwrap().read_to_string(&mut err).await?;
///     assert_eq!(err, "oops\n");
///     child.wait().await?;
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct ChildStderr {
    inner: Async<std::process::ChildStderr>,
}

impl ChildStdin {
    pub(super) fn new(end: std::process::ChildStdin) -> io::Result<ChildStdin> {
        Ok(ChildStdin {
            inner: Some(nonblocking(end)?),
        })
    }

    fn open(&mut self) -> io::Result<Pin<&mut Async<std::process::ChildStdin>>> {
        match &mut self.inner {
            Some(inner) => Ok(Pin::new(inner)),
            None => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the child's stdin was closed",
            )),
        }
    }
}

impl ChildStdout {
    pub(super) fn new(end: std::process::ChildStdout) -> io::Result<ChildStdout> {
        Ok(ChildStdout {
            inner: nonblocking(end)?,
        })
    }
}

impl ChildStderr {
    pub(super) fn new(end: std::process::ChildStderr) -> io::Result<ChildStderr> {
        Ok(ChildStderr {
            inner: nonblocking(end)?,
        })
    }
}

impl AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().open() {
            Ok(inner) => inner.poll_write(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().open() {
            Ok(inner) => inner.poll_write_vectored(cx, bufs),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    /// Does nothing: writes to a pipe go straight to the kernel, there is no buffer here.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Closes the pipe, so the child reads end of file.
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().inner = None;
        Poll::Ready(Ok(()))
    }
}

/// Both output pipes read the same way: through the reactor-registered stream inside.
macro_rules! impl_async_read {
    ($($pipe:ty),*) => {$(
        impl AsyncRead for $pipe {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
            }

            fn poll_read_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &mut [IoSliceMut<'_>],
            ) -> Poll<io::Result<usize>> {
                Pin::new(&mut self.get_mut().inner).poll_read_vectored(cx, bufs)
            }
        }
    )*};
}

impl_async_read!(ChildStdout, ChildStderr);

impl AsFd for ChildStdout {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.get_ref().as_fd()
    }
}

impl AsFd for ChildStderr {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.get_ref().as_fd()
    }
}

impl fmt::Debug for ChildStdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildStdin")
            .field("open", &self.inner.is_some())
            .finish()
    }
}

impl fmt::Debug for ChildStdout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildStdout").finish_non_exhaustive()
    }
}

impl fmt::Debug for ChildStderr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildStderr").finish_non_exhaustive()
    }
}
