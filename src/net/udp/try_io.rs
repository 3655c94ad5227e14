//! `UdpSocket`'s non-blocking `try_*` calls: one send, receive or peek now, never a wait
//! or a stored waker. A `WouldBlock` clears the readiness it consumed (unless a newer event
//! arrived meanwhile), so "await `readable`, try, on `WouldBlock` await again" sleeps
//! between datagrams instead of spinning.

use std::io;
use std::net::SocketAddr;

use super::UdpSocket;
use crate::io::registration::Direction;

impl UdpSocket {
    /// Sends one datagram to the connected peer now, without waiting; returns the bytes
    /// sent.
    ///
    /// Returns `WouldBlock` when the send buffer is full, or when the reactor has not
    /// reported the socket writable since the last `WouldBlock` (await
    /// [`writable`](UdpSocket::writable) first); a `WouldBlock` clears the write readiness
    /// it consumed.
    ///
    /// # Errors
    ///
    /// `WouldBlock` as above, the errors of [`send`](UdpSocket::send), or an error once the
    /// runtime the socket was registered with has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let a = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.connect(b.local_addr()?).await?;
    ///     a.writable().await?;
    ///     assert_eq!(a.try_send(b"now")?, 3);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Write, |s| s.send(buf))
    }

    /// Receives one datagram from the connected peer now, without waiting; returns its
    /// length (a longer datagram is truncated).
    ///
    /// Returns `WouldBlock` when no datagram is queued, or when the reactor has not reported
    /// the socket readable since the last `WouldBlock` (await
    /// [`readable`](UdpSocket::readable) first); a `WouldBlock` clears the read readiness it
    /// consumed, so the next `readable()` sleeps until a datagram arrives.
    ///
    /// # Errors
    ///
    /// `WouldBlock` as above, the errors of [`recv`](UdpSocket::recv), or an error once the
    /// runtime the socket was registered with has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    ///
    /// flywheel::run(async {
    ///     let a = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     b.connect(a.local_addr()?).await?;
    ///     a.send_to(b"hi", b.local_addr()?).await?;
    ///     let mut buf = [0; 8];
    ///     let n = loop {
    ///         b.readable().await?;
    ///         match b.try_recv(&mut buf) {
    ///             Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
    ///             r => break r?,
    ///         }
    ///     };
    ///     assert_eq!(&buf[..n], b"hi");
    ///     Ok::<(), io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Read, |s| s.recv(buf))
    }

    /// Sends one datagram to `target` now, without waiting; returns the bytes sent. A
    /// `WouldBlock` clears the write readiness it consumed, as in
    /// [`try_send`](UdpSocket::try_send).
    ///
    /// # Errors
    ///
    /// `WouldBlock` (see [`try_send`](UdpSocket::try_send)), the OS's error, or an error
    /// once the runtime the socket was registered with has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let a = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.writable().await?;
    ///     assert_eq!(a.try_send_to(b"four", b.local_addr()?)?, 4);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io.try_io(Direction::Write, |s| s.send_to(buf, target))
    }

    /// Receives one datagram now, without waiting; returns its length and sender. A
    /// `WouldBlock` clears the read readiness it consumed, as in
    /// [`try_recv`](UdpSocket::try_recv).
    ///
    /// # Errors
    ///
    /// `WouldBlock` (see [`try_recv`](UdpSocket::try_recv)), the OS's error, or an error
    /// once the runtime the socket was registered with has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    ///
    /// flywheel::run(async {
    ///     let a = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.send_to(b"x", b.local_addr()?).await?;
    ///     let mut buf = [0; 8];
    ///     let (n, from) = loop {
    ///         b.readable().await?;
    ///         match b.try_recv_from(&mut buf) {
    ///             Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
    ///             r => break r?,
    ///         }
    ///     };
    ///     assert_eq!((n, from), (1, a.local_addr()?));
    ///     Ok::<(), io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Direction::Read, |s| s.recv_from(buf))
    }

    /// Peeks at the next datagram from the connected peer now, without waiting or taking
    /// it; returns its length. A `WouldBlock` clears the read readiness it consumed, as in
    /// [`try_recv`](UdpSocket::try_recv).
    ///
    /// # Errors
    ///
    /// `WouldBlock` (see [`try_recv`](UdpSocket::try_recv)), the OS's error, or an error
    /// once the runtime the socket was registered with has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let a = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     b.connect(a.local_addr()?).await?;
    ///     a.send_to(b"hi", b.local_addr()?).await?;
    ///     b.readable().await?;
    ///     let mut buf = [0; 8];
    ///     assert_eq!(b.try_peek(&mut buf)?, 2);
    ///     assert_eq!(b.try_recv(&mut buf)?, 2);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn try_peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Read, |s| s.peek(buf))
    }

    /// Peeks at the next datagram now, without waiting or taking it; returns its length and
    /// sender. A `WouldBlock` clears the read readiness it consumed.
    ///
    /// # Errors
    ///
    /// `WouldBlock` (see [`try_recv`](UdpSocket::try_recv)), the OS's error, or an error
    /// once the runtime the socket was registered with has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let a = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.send_to(b"x", b.local_addr()?).await?;
    ///     b.readable().await?;
    ///     let mut buf = [0; 8];
    ///     assert_eq!(b.try_peek_from(&mut buf)?, (1, a.local_addr()?));
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Direction::Read, |s| s.peek_from(buf))
    }
}
