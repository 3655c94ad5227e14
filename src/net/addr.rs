//! `ToSocketAddrs`: the addresses the net types accept, and `lookup_host`.
//!
//! An address is turned into socket addresses in two steps. First, synchronously and
//! while the caller's borrow is alive, `ToSocketAddrsPriv::to_resolve` either answers at
//! once (socket addresses, IP/port pairs, strings holding a literal IP) or copies the host
//! name into an owned `Resolve`. Then, only for a host name, `resolve` sends that owned copy to the blocking pool, where std's resolver may block
//! for as long as it likes. So a borrowed address (`&String`, `&str`) works, and a
//! literal IP never costs a trip to the blocking pool.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::{option, vec};

use crate::runtime::context;

/// Anything that names one or more socket addresses: what `TcpStream::connect`,
/// `TcpListener::bind`, `UdpSocket::bind` / `connect` / `send_to` and [`lookup_host`]
/// accept.
///
/// Implemented for [`SocketAddr`], [`SocketAddrV4`], [`SocketAddrV6`], `(IpAddr, u16)`,
/// `(Ipv4Addr, u16)`, `(Ipv6Addr, u16)`, `(&str, u16)`, `(String, u16)`, `str`,
/// [`String`], `[SocketAddr]`, and for a reference to any of these (so `&String`, `&str`,
/// `&[SocketAddr]` and `&SocketAddr` all work). Strings are `"host:port"`; a literal IP
/// (`"127.0.0.1:8080"`, `"[::1]:80"`) is parsed at once, anything else is a host name,
/// looked up on the blocking pool so a slow DNS server never stalls a worker.
///
/// The trait is sealed: its method is private to flywheel, so it cannot be implemented
/// outside the crate (std's `ToSocketAddrs` may block, which flywheel must not do on a
/// worker). Convert other types to one of the above first.
///
/// # Examples
///
/// A borrowed address works, and the future stays `Send` when the address is:
///
/// ```
/// use flywheel::net::{TcpListener, TcpStream};
///
/// async fn dial(addr: &String) -> std::io::Result<TcpStream> {
///     TcpStream::connect(addr).await
/// }
///
/// flywheel::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?.to_string();
///     let stream = flywheel::spawn(async move { dial(&addr).await }).await??;
///     assert_eq!(stream.peer_addr()?, listener.local_addr()?);
///     Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// })
/// .unwrap();
/// ```
pub trait ToSocketAddrs: sealed::ToSocketAddrsPriv {}

pub(crate) mod sealed {
    //! The private half of [`ToSocketAddrs`](super::ToSocketAddrs).

    use super::*;

    /// What an address turns into before any blocking: the answer, or a host name to look
    /// up.
    #[derive(Debug)]
    pub enum Resolve {
        /// Resolved without blocking.
        Ready(io::Result<Addrs>),
        /// `"host:port"`, to look up on the blocking pool.
        Text(String),
        /// A host and a port, to look up on the blocking pool.
        HostPort(String, u16),
    }

    /// The private method of [`ToSocketAddrs`](super::ToSocketAddrs).
    pub trait ToSocketAddrsPriv {
        /// Resolves at once, or copies what must be looked up into an owned value.
        fn to_resolve(&self) -> Resolve;
    }
}

use sealed::{Resolve, ToSocketAddrsPriv};

/// Socket addresses from a resolved [`ToSocketAddrs`]: one without allocating, or several.
#[derive(Debug)]
pub struct Addrs {
    inner: AddrsInner,
}

#[derive(Debug)]
enum AddrsInner {
    One(option::IntoIter<SocketAddr>),
    Many(vec::IntoIter<SocketAddr>),
}

impl Addrs {
    fn one(addr: SocketAddr) -> Addrs {
        Addrs {
            inner: AddrsInner::One(Some(addr).into_iter()),
        }
    }

    fn many(addrs: Vec<SocketAddr>) -> Addrs {
        Addrs {
            inner: AddrsInner::Many(addrs.into_iter()),
        }
    }
}

impl Iterator for Addrs {
    type Item = SocketAddr;

    fn next(&mut self) -> Option<SocketAddr> {
        match &mut self.inner {
            AddrsInner::One(it) => it.next(),
            AddrsInner::Many(it) => it.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.inner {
            AddrsInner::One(it) => it.size_hint(),
            AddrsInner::Many(it) => it.size_hint(),
        }
    }
}

/// Resolves an address: at once when [`to_resolve`](ToSocketAddrsPriv::to_resolve) could,
/// on the blocking pool for a host name. Callers call `to_resolve` themselves before the
/// first await, so their future holds no borrow of the address across it.
pub(crate) async fn resolve(resolve: Resolve) -> io::Result<Addrs> {
    let lookup: Box<dyn FnOnce() -> io::Result<Vec<SocketAddr>> + Send> = match resolve {
        Resolve::Ready(addrs) => return addrs,
        Resolve::Text(text) => {
            Box::new(move || std::net::ToSocketAddrs::to_socket_addrs(&text).map(Iterator::collect))
        }
        Resolve::HostPort(host, port) => Box::new(move || {
            std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port)).map(Iterator::collect)
        }),
    };
    let handle = context::try_current().ok_or_else(|| {
        io::Error::other(format!(
            "resolving a host name needs a flywheel runtime: {}",
            context::NO_RUNTIME
        ))
    })?;
    let addrs = handle
        .spawn_blocking(lookup)
        .await
        .map_err(io::Error::from)??;
    Ok(Addrs::many(addrs))
}

/// Looks up the socket addresses of `host`, a `"host:port"` string or anything else that
/// implements [`ToSocketAddrs`].
///
/// A literal IP is answered at once; a host name is looked up by the system resolver on the
/// blocking pool, never on a worker.
///
/// # Errors
///
/// When the name does not resolve, or when a name must be looked up outside a runtime.
///
/// # Examples
///
/// ```
/// flywheel::run(async {
///     let addrs: Vec<_> = flywheel::net::lookup_host("localhost:80").await?.collect();
///     assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 80));
///     let literal: Vec<_> = flywheel::net::lookup_host("10.1.2.3:53").await?.collect();
///     assert_eq!(literal, ["10.1.2.3:53".parse().unwrap()]);
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub async fn lookup_host<T: ToSocketAddrs>(
    host: T,
) -> io::Result<impl Iterator<Item = SocketAddr>> {
    resolve(host.to_resolve()).await
}

/// Tries `f` on each address in turn; the first success wins, else the last error.
pub(crate) async fn each_addr<T, F, Fut>(addrs: Addrs, mut f: F) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let mut last_err = None;
    for addr in addrs {
        match f(addr).await {
            Ok(value) => return Ok(value),
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        )
    }))
}

fn ready(addr: SocketAddr) -> Resolve {
    Resolve::Ready(Ok(Addrs::one(addr)))
}

macro_rules! to_socket_addrs {
    ($($ty:ty => |$this:ident| $body:expr;)*) => {$(
        impl ToSocketAddrs for $ty {}

        impl ToSocketAddrsPriv for $ty {
            fn to_resolve(&self) -> Resolve {
                let $this = self;
                $body
            }
        }
    )*};
}

to_socket_addrs! {
    SocketAddr => |a| ready(*a);
    SocketAddrV4 => |a| ready(SocketAddr::V4(*a));
    SocketAddrV6 => |a| ready(SocketAddr::V6(*a));
    (IpAddr, u16) => |a| ready(SocketAddr::new(a.0, a.1));
    (Ipv4Addr, u16) => |a| ready(SocketAddr::new(IpAddr::V4(a.0), a.1));
    (Ipv6Addr, u16) => |a| ready(SocketAddr::new(IpAddr::V6(a.0), a.1));
    (&str, u16) => |a| host_port(a.0, a.1);
    (String, u16) => |a| host_port(&a.0, a.1);
    str => |a| text(a);
    String => |a| text(a);
    [SocketAddr] => |a| Resolve::Ready(Ok(Addrs::many(a.to_vec())));
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrsPriv for &T {
    fn to_resolve(&self) -> Resolve {
        (**self).to_resolve()
    }
}

/// `"ip:port"` at once; anything else is a name to look up.
fn text(text: &str) -> Resolve {
    match text.parse::<SocketAddr>() {
        Ok(addr) => ready(addr),
        Err(_) => Resolve::Text(text.to_owned()),
    }
}

/// A literal IP at once; anything else is a host name to look up.
fn host_port(host: &str, port: u16) -> Resolve {
    match host.parse::<IpAddr>() {
        Ok(ip) => ready(SocketAddr::new(ip, port)),
        Err(_) => Resolve::HostPort(host.to_owned(), port),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inline<A: ToSocketAddrs + ?Sized>(addr: &A) -> Option<Vec<SocketAddr>> {
        match addr.to_resolve() {
            Resolve::Ready(addrs) => Some(addrs.unwrap().collect()),
            Resolve::Text(_) | Resolve::HostPort(..) => None,
        }
    }

    #[test]
    fn literals_resolve_inline_and_names_do_not() {
        let v4: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        assert_eq!(inline(&v4).unwrap(), [v4]);
        assert_eq!(inline("127.0.0.1:80").unwrap(), [v4]);
        assert_eq!(inline(&"[::1]:80").unwrap(), [v6]);
        assert_eq!(inline(&String::from("127.0.0.1:80")).unwrap(), [v4]);
        assert_eq!(inline(&&String::from("127.0.0.1:80")).unwrap(), [v4]);
        assert_eq!(inline(&("127.0.0.1", 80)).unwrap(), [v4]);
        assert_eq!(inline(&(String::from("::1"), 80)).unwrap(), [v6]);
        assert_eq!(inline(&(Ipv4Addr::LOCALHOST, 80)).unwrap(), [v4]);
        assert_eq!(inline(&(Ipv6Addr::LOCALHOST, 80)).unwrap(), [v6]);
        assert_eq!(
            inline(&(IpAddr::V4(Ipv4Addr::LOCALHOST), 80)).unwrap(),
            [v4]
        );
        assert_eq!(
            inline(&SocketAddrV4::new(Ipv4Addr::LOCALHOST, 80)).unwrap(),
            [v4]
        );
        assert_eq!(inline(&[v4, v6][..]).unwrap(), [v4, v6]);
        assert!(inline("localhost:80").is_none());
        assert!(inline(&("localhost", 80)).is_none());
        assert!(inline(&(String::from("localhost"), 80)).is_none());
    }
}
