//! `UdpSocket`'s `poll_*` I/O calls, for hand-written futures and `poll_fn`: send,
//! receive or peek now if the socket is ready, else store the waker in the direction's
//! polled slot (only the task that polled last is woken) and return `Pending`.

use std::io;
use std::net::SocketAddr;

use super::UdpSocket;
use crate::io::registration::Direction;

impl UdpSocket {
    /// Polls to send one datagram to the connected peer; `Ready` with the bytes sent, or
    /// `Pending` with the waker stored (only the task that polled last is woken).
    ///
    /// # Errors
    ///
    /// As for [`send`](UdpSocket::send).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// flywheel::run(async {
    ///     let a = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.connect(b.local_addr()?).await?;
    ///     assert_eq!(poll_fn(|cx| a.poll_send(cx, b"hey")).await?, 3);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_send(
        &self,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Write, |s| s.send(buf))
    }

    /// Polls to receive one datagram from the connected peer into `buf`; `Ready` with its
    /// length (a longer datagram is truncated), or `Pending` with the waker stored (only
    /// the task that polled last is woken).
    ///
    /// Unlike tokio's, which fills a `ReadBuf`, this takes a plain slice and returns the
    /// length, as the `futures_io` traits do.
    ///
    /// # Errors
    ///
    /// As for [`recv`](UdpSocket::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// flywheel::run(async {
    ///     let a = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     b.connect(a.local_addr()?).await?;
    ///     a.send_to(b"hi", b.local_addr()?).await?;
    ///     let mut buf = [0; 8];
    ///     let n = poll_fn(|cx| b.poll_recv(cx, &mut buf)).await?;
    ///     assert_eq!(&buf[..n], b"hi");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_recv(
        &self,
        cx: &mut std::task::Context<'_>,
        buf: &mut [u8],
    ) -> std::task::Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Read, |s| s.recv(buf))
    }

    /// Polls to send one datagram to `target`; `Ready` with the bytes sent, or `Pending`
    /// with the waker stored (only the task that polled last is woken).
    ///
    /// # Errors
    ///
    /// When the OS refuses the datagram, or once the runtime the socket was registered with
    /// has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// flywheel::run(async {
    ///     let a = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let target = b.local_addr()?;
    ///     assert_eq!(poll_fn(|cx| a.poll_send_to(cx, b"four", target)).await?, 4);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_send_to(
        &self,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> std::task::Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Direction::Write, |s| s.send_to(buf, target))
    }

    /// Polls to receive one datagram into `buf`; `Ready` with its length and sender, or
    /// `Pending` with the waker stored (only the task that polled last is woken). Takes a
    /// plain slice, unlike tokio's `ReadBuf`.
    ///
    /// # Errors
    ///
    /// As for [`recv_from`](UdpSocket::recv_from).
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
    ///     let mut buf = [0; 8];
    ///     let (n, from) = poll_fn(|cx| b.poll_recv_from(cx, &mut buf)).await?;
    ///     assert_eq!((n, from), (1, a.local_addr()?));
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_recv_from(
        &self,
        cx: &mut std::task::Context<'_>,
        buf: &mut [u8],
    ) -> std::task::Poll<io::Result<(usize, SocketAddr)>> {
        self.io.poll_io(cx, Direction::Read, |s| s.recv_from(buf))
    }

    /// Polls to peek at the next datagram: like [`peek_from`](UdpSocket::peek_from), with
    /// the waker stored when nothing is queued (only the task that polled last is woken).
    ///
    /// # Errors
    ///
    /// As for [`recv_from`](UdpSocket::recv_from).
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
    ///     let mut buf = [0; 8];
    ///     let (n, from) = poll_fn(|cx| b.poll_peek_from(cx, &mut buf)).await?;
    ///     assert_eq!((n, from), (1, a.local_addr()?));
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_peek_from(
        &self,
        cx: &mut std::task::Context<'_>,
        buf: &mut [u8],
    ) -> std::task::Poll<io::Result<(usize, SocketAddr)>> {
        self.io.poll_io(cx, Direction::Read, |s| s.peek_from(buf))
    }
}
