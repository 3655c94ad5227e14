//! Socket options on connected and bound sockets: TTL, `SO_LINGER`, pending errors on
//! `TcpStream`; broadcast, TTL, multicast membership and loopback on `UdpSocket`.
//!
//! Each goes through the socket's descriptor (`AsFd`) with rustix's safe `setsockopt`
//! wrappers, so this file needs nothing from the types but their descriptor. None of them
//! waits or touches readiness.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::AsFd;
use std::time::Duration;

use rustix::net::sockopt;

use crate::net::{TcpStream, UdpSocket};

/// `SO_ERROR` as std reports it: the pending error, if any, cleared by reading it.
fn take_error(fd: impl AsFd) -> io::Result<Option<io::Error>> {
    Ok(sockopt::socket_error(fd)?.err().map(io::Error::from))
}

impl TcpStream {
    /// Sets `IP_TTL`, the time-to-live of outgoing packets.
    ///
    /// # Errors
    ///
    /// When the OS refuses the value (0, or above 255).
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let listener = flywheel::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = flywheel::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     stream.set_ttl(42)?;
    ///     assert_eq!(stream.ttl()?, 42);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        Ok(sockopt::set_ip_ttl(self, ttl)?)
    }

    /// The time-to-live of outgoing packets (`IP_TTL`).
    ///
    /// # Errors
    ///
    /// When the OS cannot tell (rare).
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let listener = flywheel::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = flywheel::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     assert!(stream.ttl()? > 0);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn ttl(&self) -> io::Result<u32> {
        Ok(sockopt::ip_ttl(self)?)
    }

    /// Sets `SO_LINGER`. `Some(time)`: dropping the stream blocks the dropping thread up
    /// to `time` while unsent data goes out — on a worker, that stalls every task queued on
    /// it, so prefer `Some(Duration::ZERO)` (reset the connection at once) or `None` (the
    /// default: the kernel sends the rest in the background).
    ///
    /// # Errors
    ///
    /// When the OS refuses the option.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// flywheel::run(async {
    ///     let listener = flywheel::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = flywheel::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     stream.set_linger(Some(Duration::ZERO))?;
    ///     assert_eq!(stream.linger()?, Some(Duration::ZERO));
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        Ok(sockopt::set_socket_linger(self, linger)?)
    }

    /// The `SO_LINGER` setting; see [`set_linger`](TcpStream::set_linger).
    ///
    /// # Errors
    ///
    /// When the OS cannot tell (rare).
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let listener = flywheel::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = flywheel::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     assert_eq!(stream.linger()?, None);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        Ok(sockopt::socket_linger(self)?)
    }

    /// Takes the socket's pending error (`SO_ERROR`), clearing it: `Ok(None)` when there
    /// is none.
    ///
    /// # Errors
    ///
    /// When the OS cannot tell (rare); the pending error itself is the `Ok` value.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let listener = flywheel::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = flywheel::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     assert!(stream.take_error()?.is_none());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        take_error(self)
    }
}

impl UdpSocket {
    /// Sets `SO_BROADCAST`: allow sending to a broadcast address.
    ///
    /// # Errors
    ///
    /// When the OS refuses the option.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let socket = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     socket.set_broadcast(true)?;
    ///     assert!(socket.broadcast()?);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        Ok(sockopt::set_socket_broadcast(self, on)?)
    }

    /// Whether `SO_BROADCAST` is set.
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
    ///     assert!(!socket.broadcast()?);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn broadcast(&self) -> io::Result<bool> {
        Ok(sockopt::socket_broadcast(self)?)
    }

    /// Sets `IP_TTL`, the time-to-live of outgoing datagrams.
    ///
    /// # Errors
    ///
    /// When the OS refuses the value (0, or above 255).
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let socket = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     socket.set_ttl(7)?;
    ///     assert_eq!(socket.ttl()?, 7);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        Ok(sockopt::set_ip_ttl(self, ttl)?)
    }

    /// The time-to-live of outgoing datagrams (`IP_TTL`).
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
    ///     assert!(socket.ttl()? > 0);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn ttl(&self) -> io::Result<u32> {
        Ok(sockopt::ip_ttl(self)?)
    }

    /// Joins the IPv4 multicast group `multiaddr` on the interface with address
    /// `interface` (`Ipv4Addr::UNSPECIFIED`: let the OS choose).
    ///
    /// # Errors
    ///
    /// When `multiaddr` is not a multicast address, the interface does not exist or has no
    /// multicast route (`ENODEV`, common in containers), or the group is joined already.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    ///
    /// flywheel::run(async {
    ///     let socket = flywheel::net::UdpSocket::bind("0.0.0.0:0").await?;
    ///     // Not a multicast address: refused whatever the network.
    ///     assert!(socket.join_multicast_v4(Ipv4Addr::LOCALHOST, Ipv4Addr::UNSPECIFIED).is_err());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        Ok(sockopt::set_ip_add_membership(
            self, &multiaddr, &interface,
        )?)
    }

    /// Leaves an IPv4 multicast group joined with
    /// [`join_multicast_v4`](UdpSocket::join_multicast_v4).
    ///
    /// # Errors
    ///
    /// When the group was not joined on that interface.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    ///
    /// flywheel::run(async {
    ///     let socket = flywheel::net::UdpSocket::bind("0.0.0.0:0").await?;
    ///     let group = Ipv4Addr::new(239, 255, 0, 1);
    ///     assert!(socket.leave_multicast_v4(group, Ipv4Addr::UNSPECIFIED).is_err());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        Ok(sockopt::set_ip_drop_membership(
            self, &multiaddr, &interface,
        )?)
    }

    /// Joins the IPv6 multicast group `multiaddr` on the interface with index `interface`
    /// (0: let the OS choose).
    ///
    /// # Errors
    ///
    /// When `multiaddr` is not a multicast address, the interface does not exist or has no
    /// multicast route, or the socket is IPv4.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::Ipv6Addr;
    ///
    /// flywheel::run(async {
    ///     let socket = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     // An IPv4 socket cannot join an IPv6 group.
    ///     let group: Ipv6Addr = "ff02::1:3".parse().unwrap();
    ///     assert!(socket.join_multicast_v6(&group, 0).is_err());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        Ok(sockopt::set_ipv6_add_membership(
            self, multiaddr, interface,
        )?)
    }

    /// Leaves an IPv6 multicast group joined with
    /// [`join_multicast_v6`](UdpSocket::join_multicast_v6).
    ///
    /// # Errors
    ///
    /// When the group was not joined on that interface.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::Ipv6Addr;
    ///
    /// flywheel::run(async {
    ///     let socket = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let group: Ipv6Addr = "ff02::1:3".parse().unwrap();
    ///     assert!(socket.leave_multicast_v6(&group, 0).is_err());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        Ok(sockopt::set_ipv6_drop_membership(
            self, multiaddr, interface,
        )?)
    }

    /// Sets `IP_MULTICAST_LOOP`: whether this host's own IPv4 multicast datagrams are
    /// delivered back to its sockets that joined the group (on by default).
    ///
    /// # Errors
    ///
    /// When the OS refuses the option.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let socket = flywheel::net::UdpSocket::bind("0.0.0.0:0").await?;
    ///     socket.set_multicast_loop_v4(false)?;
    ///     assert!(!socket.multicast_loop_v4()?);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        Ok(sockopt::set_ip_multicast_loop(self, on)?)
    }

    /// Whether `IP_MULTICAST_LOOP` is set.
    ///
    /// # Errors
    ///
    /// When the OS cannot tell (rare).
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let socket = flywheel::net::UdpSocket::bind("0.0.0.0:0").await?;
    ///     assert!(socket.multicast_loop_v4()?);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        Ok(sockopt::ip_multicast_loop(self)?)
    }

    /// Takes the socket's pending error (`SO_ERROR`), clearing it: `Ok(None)` when there
    /// is none. On a connected socket, an ICMP "port unreachable" for an earlier datagram
    /// shows up here as `ConnectionRefused`.
    ///
    /// # Errors
    ///
    /// When the OS cannot tell (rare); the pending error itself is the `Ok` value.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let socket = flywheel::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert!(socket.take_error()?.is_none());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        take_error(self)
    }
}
