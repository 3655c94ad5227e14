//! UDP: `UdpSocket`.

use std::fmt;
use std::io;
use std::net::SocketAddr;

use crate::io::poll_evented::PollEvented;
use crate::io::registration::Direction;
use crate::net::{each_addr, resolve, ToSocketAddrs};

/// A UDP socket.
///
/// Send to any address with [`send_to`](UdpSocket::send_to), or
/// [`connect`](UdpSocket::connect) it to one peer and use [`send`](UdpSocket::send) /
/// [`recv`](UdpSocket::recv). All methods take `&self`, so tasks can share a socket in an
/// `Arc`: any number of them may wait to receive (each datagram goes to one of them) or to
/// send at once. Once the runtime the socket was created on has shut down, every wait on
/// it fails with an error.
///
/// # Examples
///
/// ```
/// use flywheel::net::UdpSocket;
///
/// flywheel::run(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await?;
///     let b = UdpSocket::bind("127.0.0.1:0").await?;
///     a.send_to(b"ping", b.local_addr()?).await?;
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await?;
///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr()?));
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct UdpSocket {
    io: PollEvented<mio::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds a socket to `addr`, trying each resolved address in turn.
    ///
    /// # Errors
    ///
    /// When no address resolves or none can be bound, or outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let socket = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert_ne!(socket.local_addr()?.port(), 0);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn bind<A>(addr: A) -> io::Result<UdpSocket>
    where
        A: ToSocketAddrs,
    {
        let addrs = resolve(addr.to_resolve()).await?;
        each_addr(addrs, |addr| async move {
            Ok(UdpSocket {
                io: PollEvented::new(mio::net::UdpSocket::bind(addr)?)?,
            })
        })
        .await
    }

    /// Sets the default peer: `send` goes there and `recv` only accepts datagrams from it.
    /// Tries each resolved address in turn.
    ///
    /// # Errors
    ///
    /// When no address resolves or none is accepted.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let a = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.connect(b.local_addr()?).await?;
    ///     assert_eq!(a.peer_addr()?, b.local_addr()?);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn connect<A>(&self, addr: A) -> io::Result<()>
    where
        A: ToSocketAddrs,
    {
        let addrs = resolve(addr.to_resolve()).await?;
        let socket = self.io.get_ref();
        each_addr(addrs, |addr| async move { socket.connect(addr) }).await
    }

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

    /// The address the socket is bound to.
    ///
    /// # Errors
    ///
    /// When the OS cannot tell (rare).
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let socket = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert!(socket.local_addr()?.ip().is_loopback());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    ///
    /// `NotConnected` before [`connect`](UdpSocket::connect).
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let socket = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert!(socket.peer_addr().is_err());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}

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

// Conversions from and to std and to descriptors.
impl UdpSocket {
    /// Takes over a std socket: sets it non-blocking and registers it with the current
    /// runtime.
    ///
    /// # Errors
    ///
    /// Outside a runtime, or when the OS refuses the mode change or the registration.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let std_socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    ///     let socket = flywheel::net::UdpSocket::from_std(std_socket)?;
    ///     assert!(socket.local_addr()?.ip().is_loopback());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        Ok(UdpSocket {
            io: PollEvented::new(mio::net::UdpSocket::from_std(socket))?,
        })
    }

    /// Deregisters the socket and returns it as a std socket, in blocking mode again.
    ///
    /// # Errors
    ///
    /// When the OS refuses the deregistration or the mode change.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let a = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?.into_std()?;
    ///     a.send_to(b"std", b.local_addr()?).await?;
    ///     let mut buf = [0; 8];
    ///     let n = b.recv(&mut buf)?; // blocking receive
    ///     assert_eq!(&buf[..n], b"std");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        let socket = std::net::UdpSocket::from(self.io.into_inner()?);
        socket.set_nonblocking(false)?;
        Ok(socket)
    }
}

impl_socket_conversions!(UdpSocket, std::net::UdpSocket);
