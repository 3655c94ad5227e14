//! `UnixDatagram`'s async datagram calls: `send` / `recv` to and from the connected peer,
//! `send_to` a path and `recv_from` anyone. Each waits for readiness in a waiter slot of
//! its own, so any number of tasks may wait on one socket at once; `WouldBlock` never
//! reaches the caller.

use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use super::UnixDatagram;
use crate::io::registration::Direction;

impl UnixDatagram {
    /// Sends one datagram to the connected peer; returns the bytes sent.
    ///
    /// # Errors
    ///
    /// `NotConnected` when the socket has no peer, `ConnectionRefused` once the peer is gone,
    /// or an error once the runtime the socket was registered with has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a datagram is either sent whole or not at all.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let (a, _b) = flywheel::net::UnixDatagram::pair()?;
    ///     assert_eq!(a.send(b"hey").await?, 3);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.io(Direction::Write, |s| s.send(buf)).await
    }

    /// Receives one datagram (from the connected peer, if any) into `buf`; returns its
    /// length. A datagram longer than `buf` is truncated.
    ///
    /// # Errors
    ///
    /// The OS's error, or an error once the runtime the socket was registered with has shut
    /// down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a datagram is only taken when the future returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let (a, b) = flywheel::net::UnixDatagram::pair()?;
    ///     a.send(b"hi").await?;
    ///     let mut buf = [0; 8];
    ///     let n = b.recv(&mut buf).await?;
    ///     assert_eq!(&buf[..n], b"hi");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Direction::Read, |s| s.recv(buf)).await
    }

    /// Sends one datagram to the socket bound at `path`; returns the bytes sent.
    ///
    /// # Errors
    ///
    /// `NotFound` when nothing exists at `path`, `ConnectionRefused` when no socket is bound
    /// there, or an error once the runtime the socket was registered with has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a datagram is either sent whole or not at all.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let dir = std::env::temp_dir();
    ///     let path = dir.join(format!("flywheel-doc-dgram-send-to-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let _server = flywheel::net::UnixDatagram::bind(&path)?;
    ///     let client = flywheel::net::UnixDatagram::unbound()?;
    ///     assert_eq!(client.send_to(b"four", &path).await?, 4);
    ///     std::fs::remove_file(&path)
    /// })
    /// .unwrap();
    /// ```
    pub async fn send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        let path = path.as_ref();
        self.io.io(Direction::Write, |s| s.send_to(buf, path)).await
    }

    /// Receives one datagram into `buf`; returns its length and the sender's address
    /// (unnamed for an unbound or paired sender). A longer datagram is truncated.
    ///
    /// # Errors
    ///
    /// The OS's error, or an error once the runtime the socket was registered with has shut
    /// down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a datagram is only taken when the future returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let (a, b) = flywheel::net::UnixDatagram::pair()?;
    ///     a.send(b"x").await?;
    ///     let mut buf = [0; 8];
    ///     let (n, from) = b.recv_from(&mut buf).await?;
    ///     assert_eq!(n, 1);
    ///     assert!(from.is_unnamed());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.io(Direction::Read, |s| s.recv_from(buf)).await
    }
}
