//! `UnixDatagram`'s `poll_*` I/O calls, for hand-written futures and `poll_fn`: send or
//! receive now if the socket is ready, else store the waker in the direction's polled slot
//! (only the task that polled last is woken) and return `Pending`.

use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::task::{Context, Poll};

use super::UnixDatagram;
use crate::io::registration::Direction;

impl UnixDatagram {
    /// Polls to send one datagram to the connected peer; `Ready` with the bytes sent, or
    /// `Pending` with the waker stored (only the task that polled last is woken).
    ///
    /// # Errors
    ///
    /// As for [`send`](UnixDatagram::send).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// flywheel::run(async {
    ///     let (a, _b) = flywheel::net::UnixDatagram::pair()?;
    ///     assert_eq!(poll_fn(|cx| a.poll_send(cx, b"hey")).await?, 3);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Write, |s| s.send(buf))
    }

    /// Polls to receive one datagram into `buf`; `Ready` with its length (a longer datagram
    /// is truncated), or `Pending` with the waker stored (only the task that polled last is
    /// woken). Takes a plain slice, unlike tokio's `ReadBuf`.
    ///
    /// # Errors
    ///
    /// As for [`recv`](UnixDatagram::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// flywheel::run(async {
    ///     let (a, b) = flywheel::net::UnixDatagram::pair()?;
    ///     b.send(b"hi").await?;
    ///     let mut buf = [0; 8];
    ///     let n = poll_fn(|cx| a.poll_recv(cx, &mut buf)).await?;
    ///     assert_eq!(&buf[..n], b"hi");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Read, |s| s.recv(buf))
    }

    /// Polls to send one datagram to the socket bound at `path`; `Ready` with the bytes
    /// sent, or `Pending` with the waker stored (only the task that polled last is woken).
    ///
    /// # Errors
    ///
    /// As for [`send_to`](UnixDatagram::send_to).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// flywheel::run(async {
    ///     let path = std::env::temp_dir()
    ///         .join(format!("flywheel-doc-dgram-poll-send-to-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let _server = flywheel::net::UnixDatagram::bind(&path)?;
    ///     let client = flywheel::net::UnixDatagram::unbound()?;
    ///     assert_eq!(poll_fn(|cx| client.poll_send_to(cx, b"four", &path)).await?, 4);
    ///     std::fs::remove_file(&path)
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_send_to<P: AsRef<Path>>(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        path: P,
    ) -> Poll<io::Result<usize>> {
        let path = path.as_ref();
        self.io
            .poll_io(cx, Direction::Write, |s| s.send_to(buf, path))
    }

    /// Polls to receive one datagram into `buf`; `Ready` with its length and sender, or
    /// `Pending` with the waker stored (only the task that polled last is woken).
    ///
    /// # Errors
    ///
    /// As for [`recv_from`](UnixDatagram::recv_from).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// flywheel::run(async {
    ///     let (a, b) = flywheel::net::UnixDatagram::pair()?;
    ///     b.send(b"x").await?;
    ///     let mut buf = [0; 8];
    ///     let (n, from) = poll_fn(|cx| a.poll_recv_from(cx, &mut buf)).await?;
    ///     assert_eq!(n, 1);
    ///     assert!(from.is_unnamed());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io.poll_io(cx, Direction::Read, |s| s.recv_from(buf))
    }
}
