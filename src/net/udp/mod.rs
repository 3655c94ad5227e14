//! UDP: `UdpSocket` itself — the type, `bind` and `connect`, its addresses, `Debug`, and
//! the conversions from and to std and to descriptors.
//!
//! The methods that move datagrams are split by how they wait, one file each:
//! `datagram.rs` holds the async `send` / `recv` / `peek` family, `ready.rs` the readiness
//! waits and polls, `poll.rs` the `poll_*` I/O calls and `try_io.rs` the non-blocking
//! `try_*` calls. Socket options (broadcast, TTL, multicast) are in `net/options.rs`.

mod datagram;
mod poll;
mod ready;
mod try_io;

use std::fmt;
use std::io;
use std::net::SocketAddr;

use crate::io::poll_evented::PollEvented;
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
