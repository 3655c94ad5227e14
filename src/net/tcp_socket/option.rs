//! `TcpSocket` options: a setter and a getter for each (`SO_REUSEADDR`, `SO_REUSEPORT`,
//! buffer sizes, `SO_LINGER`, `TCP_NODELAY`, `SO_KEEPALIVE`), written once by
//! `socket_option!` over rustix's safe `sockopt` wrappers on the socket's descriptor.

use std::io;
use std::time::Duration;

use rustix::net::sockopt;

use super::TcpSocket;

/// Defines a setter and a getter for one socket option, with their docs and doctests.
macro_rules! socket_option {
    (
        $(#[$set_doc:meta])* set $set:ident($value:ident: $ty:ty) => $rustix_set:ident($arg:expr);
        $(#[$get_doc:meta])* get $get:ident -> $ret:ty => $rustix_get:ident $(.map($map:expr))?;
    ) => {
        $(#[$set_doc])*
        ///
        /// # Errors
        ///
        /// When the OS refuses the option.
        pub fn $set(&self, $value: $ty) -> io::Result<()> {
            Ok(sockopt::$rustix_set(&self.fd, $arg)?)
        }

        $(#[$get_doc])*
        ///
        /// # Errors
        ///
        /// When the OS cannot tell (rare).
        pub fn $get(&self) -> io::Result<$ret> {
            let value = sockopt::$rustix_get(&self.fd)?;
            $(let value = ($map)(value);)?
            Ok(value)
        }
    };
}

impl TcpSocket {
    socket_option! {
        /// Sets `SO_REUSEADDR`: allow binding a port that still has connections in
        /// `TIME_WAIT` (a server restarting on its port).
        ///
        /// # Examples
        ///
        /// ```
        /// let socket = flywheel::net::TcpSocket::new_v4()?;
        /// socket.set_reuseaddr(true)?;
        /// assert!(socket.reuseaddr()?);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        set set_reuseaddr(reuseaddr: bool) => set_socket_reuseaddr(reuseaddr);
        /// Whether `SO_REUSEADDR` is set.
        ///
        /// # Examples
        ///
        /// ```
        /// assert!(!flywheel::net::TcpSocket::new_v4()?.reuseaddr()?);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        get reuseaddr -> bool => socket_reuseaddr;
    }

    socket_option! {
        /// Sets `SO_REUSEPORT`: several sockets, each with it set, may bind the same
        /// address and port (the kernel spreads connections among the listeners).
        ///
        /// # Examples
        ///
        /// ```
        /// let socket = flywheel::net::TcpSocket::new_v4()?;
        /// socket.set_reuseport(true)?;
        /// assert!(socket.reuseport()?);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        set set_reuseport(reuseport: bool) => set_socket_reuseport(reuseport);
        /// Whether `SO_REUSEPORT` is set.
        ///
        /// # Examples
        ///
        /// ```
        /// assert!(!flywheel::net::TcpSocket::new_v4()?.reuseport()?);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        get reuseport -> bool => socket_reuseport;
    }

    socket_option! {
        /// Sets `SO_SNDBUF`, the size of the send buffer. Linux doubles the value (for its
        /// bookkeeping) and clamps it to its limits.
        ///
        /// # Examples
        ///
        /// ```
        /// let socket = flywheel::net::TcpSocket::new_v4()?;
        /// socket.set_send_buffer_size(64 * 1024)?;
        /// assert!(socket.send_buffer_size()? >= 64 * 1024);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        set set_send_buffer_size(size: u32) => set_socket_send_buffer_size(size as usize);
        /// The size of the send buffer (`SO_SNDBUF`).
        ///
        /// # Examples
        ///
        /// ```
        /// assert!(flywheel::net::TcpSocket::new_v4()?.send_buffer_size()? > 0);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        get send_buffer_size -> u32 => socket_send_buffer_size.map(saturate);
    }

    socket_option! {
        /// Sets `SO_RCVBUF`, the size of the receive buffer. Linux doubles the value (for
        /// its bookkeeping) and clamps it to its limits.
        ///
        /// # Examples
        ///
        /// ```
        /// let socket = flywheel::net::TcpSocket::new_v4()?;
        /// socket.set_recv_buffer_size(64 * 1024)?;
        /// assert!(socket.recv_buffer_size()? >= 64 * 1024);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        set set_recv_buffer_size(size: u32) => set_socket_recv_buffer_size(size as usize);
        /// The size of the receive buffer (`SO_RCVBUF`).
        ///
        /// # Examples
        ///
        /// ```
        /// assert!(flywheel::net::TcpSocket::new_v4()?.recv_buffer_size()? > 0);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        get recv_buffer_size -> u32 => socket_recv_buffer_size.map(saturate);
    }

    socket_option! {
        /// Sets `SO_LINGER`. `Some(time)`: closing the socket waits (blocking the thread
        /// that drops it) up to `time` for unsent data to go out; `Some(Duration::ZERO)`
        /// resets the connection at once. `None` (the default): close returns at once and
        /// the kernel sends the rest in the background.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::time::Duration;
        ///
        /// let socket = flywheel::net::TcpSocket::new_v4()?;
        /// socket.set_linger(Some(Duration::from_secs(1)))?;
        /// assert_eq!(socket.linger()?, Some(Duration::from_secs(1)));
        /// # Ok::<(), std::io::Error>(())
        /// ```
        set set_linger(linger: Option<Duration>) => set_socket_linger(linger);
        /// The `SO_LINGER` setting; see [`set_linger`](TcpSocket::set_linger).
        ///
        /// # Examples
        ///
        /// ```
        /// assert_eq!(flywheel::net::TcpSocket::new_v4()?.linger()?, None);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        get linger -> Option<Duration> => socket_linger;
    }

    socket_option! {
        /// Sets `TCP_NODELAY`: send small writes at once instead of coalescing them.
        ///
        /// # Examples
        ///
        /// ```
        /// let socket = flywheel::net::TcpSocket::new_v4()?;
        /// socket.set_nodelay(true)?;
        /// assert!(socket.nodelay()?);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        set set_nodelay(nodelay: bool) => set_tcp_nodelay(nodelay);
        /// Whether `TCP_NODELAY` is set.
        ///
        /// # Examples
        ///
        /// ```
        /// assert!(!flywheel::net::TcpSocket::new_v4()?.nodelay()?);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        get nodelay -> bool => tcp_nodelay;
    }

    socket_option! {
        /// Sets `SO_KEEPALIVE`: probe an idle connection so a vanished peer is noticed.
        ///
        /// # Examples
        ///
        /// ```
        /// let socket = flywheel::net::TcpSocket::new_v4()?;
        /// socket.set_keepalive(true)?;
        /// assert!(socket.keepalive()?);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        set set_keepalive(keepalive: bool) => set_socket_keepalive(keepalive);
        /// Whether `SO_KEEPALIVE` is set.
        ///
        /// # Examples
        ///
        /// ```
        /// assert!(!flywheel::net::TcpSocket::new_v4()?.keepalive()?);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        get keepalive -> bool => socket_keepalive;
    }
}

/// Buffer sizes as tokio reports them: `u32`.
fn saturate(size: usize) -> u32 {
    u32::try_from(size).unwrap_or(u32::MAX)
}
