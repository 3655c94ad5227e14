//! Networking: TCP, UDP and Unix (stream and datagram) sockets on the reactor.
//!
//! Every type here is registered with the runtime that was current when it was created and
//! implements the `futures_io` traits where they apply, so the futures ecosystem
//! (`AsyncReadExt`, `io::copy`, codecs) works on it.
//!
//! Addresses are std's [`ToSocketAddrs`]. Resolving a host name may block for a long time,
//! so it never happens on a worker: socket addresses, IP/port tuples and strings holding a
//! literal IP are resolved inline; anything else (a host name such as `"localhost:80"`, or a
//! foreign `ToSocketAddrs` type) is resolved on the blocking pool. That is why the address
//! must be `Send + 'static`: pass an owned `String` rather than a borrowed one.

#[macro_use]
mod stream_io;
mod tcp_listener;
mod tcp_stream;
mod udp;
#[cfg(unix)]
mod unix_datagram;
#[cfg(unix)]
mod unix_listener;
#[cfg(unix)]
mod unix_stream;

pub use tcp_listener::TcpListener;
pub use tcp_stream::TcpStream;
pub use udp::UdpSocket;
#[cfg(unix)]
pub use unix_datagram::UnixDatagram;
#[cfg(unix)]
pub use unix_listener::UnixListener;
#[cfg(unix)]
pub use unix_stream::UnixStream;

use std::any::Any;
use std::io;
use std::net::ToSocketAddrs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use crate::runtime::context;

/// Resolves `addr` without blocking the calling worker.
pub(crate) async fn resolve<A>(addr: A) -> io::Result<Vec<SocketAddr>>
where
    A: ToSocketAddrs + Send + 'static,
{
    if let Some(addrs) = resolve_inline(&addr) {
        return addrs;
    }
    let handle = context::try_current().ok_or_else(|| {
        io::Error::other(format!(
            "resolving a host name needs a flywheel runtime: {}",
            context::NO_RUNTIME
        ))
    })?;
    handle
        .spawn_blocking(move || addr.to_socket_addrs().map(Iterator::collect))
        .await
        .map_err(io::Error::from)?
}

/// Resolves `addr` here when that cannot block: std's address types, and strings that hold
/// a literal IP. `None` means "a name, or an unknown type: use the blocking pool".
fn resolve_inline<A: ToSocketAddrs + 'static>(addr: &A) -> Option<io::Result<Vec<SocketAddr>>> {
    let any = addr as &dyn Any;
    let never_blocks = any.is::<SocketAddr>()
        || any.is::<SocketAddrV4>()
        || any.is::<SocketAddrV6>()
        || any.is::<(IpAddr, u16)>()
        || any.is::<(Ipv4Addr, u16)>()
        || any.is::<(Ipv6Addr, u16)>()
        || any.is::<&'static [SocketAddr]>()
        || any.is::<Vec<SocketAddr>>();
    if never_blocks {
        return Some(addr.to_socket_addrs().map(Iterator::collect));
    }
    let text: Option<&str> = any
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| any.downcast_ref::<String>().map(String::as_str));
    if let Some(text) = text {
        return text.parse::<SocketAddr>().ok().map(|a| Ok(vec![a]));
    }
    let host_port: Option<(&str, u16)> = any
        .downcast_ref::<(&'static str, u16)>()
        .copied()
        .or_else(|| {
            any.downcast_ref::<(String, u16)>()
                .map(|(host, port)| (host.as_str(), *port))
        });
    if let Some((host, port)) = host_port {
        return host
            .parse::<IpAddr>()
            .ok()
            .map(|ip| Ok(vec![SocketAddr::new(ip, port)]));
    }
    None
}

/// Tries `f` on each address in turn; the first success wins, else the last error.
pub(crate) async fn each_addr<T, F, Fut>(addrs: Vec<SocketAddr>, mut f: F) -> io::Result<T>
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_resolve_inline_and_names_do_not() {
        let v4: SocketAddr = "127.0.0.1:80".parse().unwrap();
        assert_eq!(resolve_inline(&v4).unwrap().unwrap(), [v4]);
        assert_eq!(resolve_inline(&"127.0.0.1:80").unwrap().unwrap(), [v4]);
        assert_eq!(
            resolve_inline(&String::from("127.0.0.1:80"))
                .unwrap()
                .unwrap(),
            [v4]
        );
        assert_eq!(resolve_inline(&("127.0.0.1", 80)).unwrap().unwrap(), [v4]);
        assert_eq!(
            resolve_inline(&(Ipv4Addr::LOCALHOST, 80)).unwrap().unwrap(),
            [v4]
        );
        assert!(resolve_inline(&"localhost:80").is_none());
        assert!(resolve_inline(&("localhost", 80)).is_none());
    }
}
