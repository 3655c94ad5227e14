//! Networking: TCP, UDP and Unix (stream and datagram) sockets on the reactor.
//!
//! Every type here is registered with the runtime that was current when it was created and
//! implements the `futures_io` traits where they apply, so the futures ecosystem
//! (`AsyncReadExt`, `io::copy`, codecs) works on it.
//!
//! - [`TcpStream`] / [`TcpListener`], and [`TcpSocket`] to set options (`SO_REUSEADDR`,
//!   buffer sizes, ...) before connecting or listening.
//! - [`UdpSocket`], with broadcast and multicast options.
//! - [`UnixStream`] / [`UnixListener`].
//! - Streams split into a read and a write half without a lock: borrowed with
//!   [`TcpStream::split`], owned (for two tasks) with [`TcpStream::into_split`]; the halves'
//!   types are in [`tcp`] and [`unix`].
//! - Every socket converts from and to its std type (`from_std`, `into_std`, `TryFrom`) and
//!   lends its descriptor (`AsFd`, `AsRawFd`).
//!
//! Addresses are anything that implements this module's [`ToSocketAddrs`]: a
//! [`SocketAddr`](std::net::SocketAddr), an `(ip, port)` pair, `"host:port"` as a `&str` or
//! `String`, `(&str, u16)`, a slice of socket addresses, or a reference to any of these, so
//! `TcpStream::connect(&addr)` and `TcpListener::bind(addr.as_str())` work. Resolving a host
//! name may block for a long time, so it never happens on a worker: socket addresses, IP/port
//! pairs and strings holding a literal IP are resolved inline, while a host name such as
//! `"localhost:80"` is copied and looked up on the blocking pool (also by [`lookup_host`]).
//! The futures are `Send` whenever the address is.
//!
//! ```
//! use flywheel::net::{TcpListener, TcpStream};
//!
//! flywheel::run(async {
//!     let addr = String::from("127.0.0.1:0");
//!     let listener = TcpListener::bind(addr.as_str()).await?;
//!     let server = listener.local_addr()?;
//!     let stream = TcpStream::connect(&server).await?;
//!     assert_eq!(stream.peer_addr()?, server);
//!     Ok::<(), std::io::Error>(())
//! })
//! .unwrap();
//! ```

mod addr;
#[macro_use]
mod convert;
#[macro_use]
mod split;
#[macro_use]
mod stream_io;
mod options;
mod tcp_listener;
mod tcp_socket;
mod tcp_stream;
mod udp;
#[cfg(unix)]
mod unix_datagram;
#[cfg(unix)]
mod unix_listener;
#[cfg(unix)]
mod unix_split;
#[cfg(unix)]
mod unix_stream;

/// The halves of a split [`TcpStream`]: see [`TcpStream::split`] and
/// [`TcpStream::into_split`].
pub mod tcp {
    pub use super::split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
}

/// The halves of a split [`UnixStream`]: see [`UnixStream::split`] and
/// [`UnixStream::into_split`].
#[cfg(unix)]
pub mod unix {
    pub use super::unix_split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
}

pub use addr::{lookup_host, ToSocketAddrs};
pub use tcp_listener::TcpListener;
pub use tcp_socket::TcpSocket;
pub use tcp_stream::TcpStream;
pub use udp::UdpSocket;
#[cfg(unix)]
pub use unix_datagram::UnixDatagram;
#[cfg(unix)]
pub use unix_listener::UnixListener;
#[cfg(unix)]
pub use unix_stream::UnixStream;

pub(crate) use addr::{each_addr, resolve};
