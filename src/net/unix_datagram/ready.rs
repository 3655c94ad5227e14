//! Readiness on `UnixDatagram`: `ready`, `readable` and `writable` wait without doing any
//! I/O, and `poll_recv_ready` / `poll_send_ready` poll for it. The impl block's doc states
//! the rules shared with the `poll_*` (`poll.rs`) and `try_*` (`try_io.rs`) calls.

use std::io;
use std::task::{Context, Poll};

use super::UnixDatagram;
use crate::io::registration::Direction;
use crate::io::{Interest, Ready};

/// Readiness, `poll_*` and non-blocking calls, with tokio's names and semantics; the same
/// rules as `UdpSocket`'s.
impl UnixDatagram {
    /// Waits until the socket is ready for any direction of `interest`; returns what is
    /// ready. Does no I/O and clears nothing.
    ///
    /// Readiness is a hint: the next `try_*` call may still return `WouldBlock` (and then
    /// clears it). Any number of tasks may wait at once; an event wakes them all.
    ///
    /// # Errors
    ///
    /// When the runtime the socket was registered with has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::io::Interest;
    ///
    /// flywheel::run(async {
    ///     let (a, b) = flywheel::net::UnixDatagram::pair()?;
    ///     b.send(b"x").await?;
    ///     let ready = a.ready(Interest::READABLE | Interest::WRITABLE).await?;
    ///     assert!(ready.is_writable() || ready.is_readable());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.io.ready_for(interest).await
    }

    /// Waits until a datagram may be there to receive. Does no I/O and clears nothing: a
    /// `try_recv` / `try_recv_from` that returns `WouldBlock` does. Any number of tasks may
    /// wait at once.
    ///
    /// # Errors
    ///
    /// When the runtime the socket was registered with has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let (a, b) = flywheel::net::UnixDatagram::pair()?;
    ///     b.send(b"x").await?;
    ///     a.readable().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(Direction::Read).await
    }

    /// Waits until a datagram may be sent. Does no I/O and clears nothing. Any number of
    /// tasks may wait at once.
    ///
    /// # Errors
    ///
    /// When the runtime the socket was registered with has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let (a, _b) = flywheel::net::UnixDatagram::pair()?;
    ///     a.writable().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready(Direction::Write).await
    }

    /// Polls for receive readiness: `Ready(Ok(()))` when a datagram may be there, else
    /// stores the waker (only the task that polled last is woken) and returns `Pending`.
    ///
    /// # Errors
    ///
    /// When the runtime the socket was registered with has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// flywheel::run(async {
    ///     let (a, b) = flywheel::net::UnixDatagram::pair()?;
    ///     b.send(b"x").await?;
    ///     poll_fn(|cx| a.poll_recv_ready(cx)).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Read).map_ok(|_| ())
    }

    /// Polls for send readiness; the sending twin of
    /// [`poll_recv_ready`](UnixDatagram::poll_recv_ready).
    ///
    /// # Errors
    ///
    /// When the runtime the socket was registered with has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// flywheel::run(async {
    ///     let (a, _b) = flywheel::net::UnixDatagram::pair()?;
    ///     poll_fn(|cx| a.poll_send_ready(cx)).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_send_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Write).map_ok(|_| ())
    }
}
