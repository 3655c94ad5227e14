//! Readiness on `UdpSocket`: `ready`, `readable` and `writable` wait without doing any
//! I/O, and `poll_recv_ready` / `poll_send_ready` poll for it. The impl block's doc states
//! the rules shared with the `poll_*` (`poll.rs`) and `try_*` (`try_io.rs`) calls.

use std::io;

use super::UdpSocket;
use crate::io::registration::Direction;

/// Readiness, `poll_*` and non-blocking calls, with tokio's names and semantics.
///
/// `ready` / `readable` / `writable` wait without doing any I/O and may be awaited by any
/// number of tasks at once. The `poll_*` methods keep one waker per direction: only the
/// task that polled last is woken. The `try_*` methods do one non-blocking call now and
/// never wait or store a waker. A `try_*` call that returns `WouldBlock` clears the
/// readiness it consumed (unless a newer event arrived meanwhile), so "wait, try, on
/// `WouldBlock` wait again" sleeps between datagrams instead of spinning.
impl UdpSocket {
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
    ///     let socket = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let ready = socket.ready(Interest::READABLE | Interest::WRITABLE).await?;
    ///     assert!(ready.is_writable());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn ready(&self, interest: crate::io::Interest) -> io::Result<crate::io::Ready> {
        self.io.ready_for(interest).await
    }

    /// Waits until a datagram may be there to receive. Does no I/O and clears nothing: a
    /// [`try_recv`](UdpSocket::try_recv) (or `try_recv_from`, `try_peek*`) that returns
    /// `WouldBlock` does. Any number of tasks may wait at once.
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
    ///     let a = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.send_to(b"x", b.local_addr()?).await?;
    ///     b.readable().await?;
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
    ///     let socket = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     socket.writable().await?;
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
    ///     let a = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.send_to(b"x", b.local_addr()?).await?;
    ///     poll_fn(|cx| b.poll_recv_ready(cx)).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_recv_ready(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Read).map_ok(|_| ())
    }

    /// Polls for send readiness; the sending twin of
    /// [`poll_recv_ready`](UdpSocket::poll_recv_ready).
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
    ///     let socket = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     poll_fn(|cx| socket.poll_send_ready(cx)).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_send_ready(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Write).map_ok(|_| ())
    }
}
