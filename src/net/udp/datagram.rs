//! `UdpSocket`'s async datagram calls: `send` / `recv` to and from the connected peer,
//! `send_to` / `recv_from` any address, and `peek` / `peek_from`, which leave the datagram
//! queued. Each waits for readiness in a waiter slot of its own, so any number of tasks may
//! wait on one socket at once; `WouldBlock` never reaches the caller.

use std::io;
use std::net::SocketAddr;

use super::UdpSocket;
use crate::io::registration::Direction;
use crate::net::{resolve, ToSocketAddrs};

impl UdpSocket {
    /// Sends one datagram to the connected peer; returns the bytes sent.
    ///
    /// # Errors
    ///
    /// When the socket is not connected, the datagram is too large, or the peer reported an
    /// error for an earlier datagram (for example `ConnectionRefused`).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a datagram is either sent whole or not at all.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let a = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.connect(b.local_addr()?).await?;
    ///     assert_eq!(a.send(b"hey").await?, 3);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.io(Direction::Write, |s| s.send(buf)).await
    }

    /// Receives one datagram from the connected peer into `buf`; returns its length. A
    /// datagram longer than `buf` is truncated.
    ///
    /// # Errors
    ///
    /// When the socket is not connected, or the OS reports an error for it.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a datagram is only taken when the future returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let a = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.connect(b.local_addr()?).await?;
    ///     b.connect(a.local_addr()?).await?;
    ///     b.send(b"hi").await?;
    ///     let mut buf = [0; 8];
    ///     let n = a.recv(&mut buf).await?;
    ///     assert_eq!(&buf[..n], b"hi");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Direction::Read, |s| s.recv(buf)).await
    }

    /// Sends one datagram to `target`; returns the bytes sent.
    ///
    /// A host name is resolved on the blocking pool; the first address is used.
    ///
    /// # Errors
    ///
    /// When `target` does not resolve, or the OS refuses the datagram.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a datagram is either sent whole or not at all.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let a = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert_eq!(a.send_to(b"four", b.local_addr()?).await?, 4);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn send_to<A>(&self, buf: &[u8], target: A) -> io::Result<usize>
    where
        A: ToSocketAddrs,
    {
        let target = match resolve(target.to_resolve()).await?.next() {
            Some(addr) => addr,
            None => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "no address to send to",
                ))
            }
        };
        self.io
            .io(Direction::Write, |s| s.send_to(buf, target))
            .await
    }

    /// Receives one datagram into `buf`; returns its length and sender. A datagram longer
    /// than `buf` is truncated.
    ///
    /// # Errors
    ///
    /// When the OS reports an error for the socket.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a datagram is only taken when the future returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let a = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.send_to(b"x", b.local_addr()?).await?;
    ///     let mut buf = [0; 8];
    ///     let (n, from) = b.recv_from(&mut buf).await?;
    ///     assert_eq!((n, from), (1, a.local_addr()?));
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.io(Direction::Read, |s| s.recv_from(buf)).await
    }

    /// Waits for a datagram from the connected peer and copies it into `buf` without taking
    /// it from the queue; returns its length (a longer datagram is truncated in `buf`). The
    /// next receive returns the same datagram.
    ///
    /// # Errors
    ///
    /// As for [`recv`](UdpSocket::recv).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is consumed.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let a = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     b.connect(a.local_addr()?).await?;
    ///     a.send_to(b"twice", b.local_addr()?).await?;
    ///     let mut buf = [0; 8];
    ///     assert_eq!(b.peek(&mut buf).await?, 5);
    ///     assert_eq!(b.recv(&mut buf).await?, 5);
    ///     assert_eq!(&buf[..5], b"twice");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Direction::Read, |s| s.peek(buf)).await
    }

    /// Waits for a datagram and copies it into `buf` without taking it from the queue;
    /// returns its length and sender. The next receive returns the same datagram.
    ///
    /// # Errors
    ///
    /// As for [`recv_from`](UdpSocket::recv_from).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is consumed.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let a = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.send_to(b"x", b.local_addr()?).await?;
    ///     let mut buf = [0; 8];
    ///     let peeked = b.peek_from(&mut buf).await?;
    ///     assert_eq!(peeked, (1, a.local_addr()?));
    ///     assert_eq!(b.recv_from(&mut buf).await?, peeked);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.io(Direction::Read, |s| s.peek_from(buf)).await
    }
}
