//! `UnixDatagram`'s non-blocking `try_*` calls: one send or receive now, never a wait or a
//! stored waker. A `WouldBlock` clears the readiness it consumed (unless a newer event
//! arrived meanwhile), so "await `readable`, try, on `WouldBlock` await again" sleeps
//! between datagrams instead of spinning.

use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use super::UnixDatagram;
use crate::io::registration::Direction;

impl UnixDatagram {
    /// Sends one datagram to the connected peer now, without waiting; returns the bytes
    /// sent.
    ///
    /// Returns `WouldBlock` when the peer's queue is full, or when the reactor has not
    /// reported the socket writable since the last `WouldBlock` (await
    /// [`writable`](UnixDatagram::writable) first); a `WouldBlock` clears the write
    /// readiness it consumed.
    ///
    /// # Errors
    ///
    /// `WouldBlock` as above, the errors of [`send`](UnixDatagram::send), or an error once
    /// the runtime the socket was registered with has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let (a, _b) = flywheel::net::UnixDatagram::pair()?;
    ///     a.writable().await?;
    ///     assert_eq!(a.try_send(b"now")?, 3);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Write, |s| s.send(buf))
    }

    /// Receives one datagram now, without waiting; returns its length (a longer datagram
    /// is truncated).
    ///
    /// Returns `WouldBlock` when no datagram is queued, or when the reactor has not reported
    /// the socket readable since the last `WouldBlock` (await
    /// [`readable`](UnixDatagram::readable) first); a `WouldBlock` clears the read
    /// readiness it consumed, so the next `readable()` sleeps until a datagram arrives.
    ///
    /// # Errors
    ///
    /// `WouldBlock` as above, the OS's error, or an error once the runtime the socket was
    /// registered with has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    ///
    /// flywheel::run(async {
    ///     let (a, b) = flywheel::net::UnixDatagram::pair()?;
    ///     b.send(b"hi").await?;
    ///     let mut buf = [0; 8];
    ///     let n = loop {
    ///         a.readable().await?;
    ///         match a.try_recv(&mut buf) {
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

    /// Sends one datagram to the socket bound at `path` now, without waiting; returns the
    /// bytes sent. A `WouldBlock` clears the write readiness it consumed, as in
    /// [`try_send`](UnixDatagram::try_send).
    ///
    /// # Errors
    ///
    /// `WouldBlock` (see [`try_send`](UnixDatagram::try_send)), the errors of
    /// [`send_to`](UnixDatagram::send_to), or an error once the runtime the socket was
    /// registered with has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let path = std::env::temp_dir()
    ///         .join(format!("flywheel-doc-dgram-try-send-to-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let _server = flywheel::net::UnixDatagram::bind(&path)?;
    ///     let client = flywheel::net::UnixDatagram::unbound()?;
    ///     client.writable().await?;
    ///     assert_eq!(client.try_send_to(b"four", &path)?, 4);
    ///     std::fs::remove_file(&path)
    /// })
    /// .unwrap();
    /// ```
    pub fn try_send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        let path = path.as_ref();
        self.io.try_io(Direction::Write, |s| s.send_to(buf, path))
    }

    /// Receives one datagram now, without waiting; returns its length and sender. A
    /// `WouldBlock` clears the read readiness it consumed, as in
    /// [`try_recv`](UnixDatagram::try_recv).
    ///
    /// # Errors
    ///
    /// `WouldBlock` (see [`try_recv`](UnixDatagram::try_recv)), the OS's error, or an error
    /// once the runtime the socket was registered with has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let (a, b) = flywheel::net::UnixDatagram::pair()?;
    ///     b.send(b"x").await?;
    ///     a.readable().await?;
    ///     let mut buf = [0; 8];
    ///     let (n, from) = a.try_recv_from(&mut buf)?;
    ///     assert_eq!(n, 1);
    ///     assert!(from.is_unnamed());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Direction::Read, |s| s.recv_from(buf))
    }
}
