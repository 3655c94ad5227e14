//! `TcpSocket` and its descriptor: lend it (`AsFd`, `AsRawFd`), give it up (`IntoRawFd`,
//! `From<TcpSocket> for OwnedFd`) or take one over (`From<OwnedFd>`, `FromRawFd`, the one
//! `unsafe` impl outside src/task/cell.rs).

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};

use super::TcpSocket;

impl AsFd for TcpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl IntoRawFd for TcpSocket {
    fn into_raw_fd(self) -> RawFd {
        self.fd.into_raw_fd()
    }
}

impl From<OwnedFd> for TcpSocket {
    /// Takes over a TCP socket descriptor (the safe form of `FromRawFd`).
    fn from(fd: OwnedFd) -> TcpSocket {
        TcpSocket { fd }
    }
}

impl From<TcpSocket> for OwnedFd {
    fn from(socket: TcpSocket) -> OwnedFd {
        socket.fd
    }
}

// The one `unsafe` outside src/task/cell.rs: `FromRawFd` is an unsafe trait method by
// definition (tokio's `TcpSocket` has it); the caller's promise is passed on unchanged.
#[allow(unsafe_code)]
impl FromRawFd for TcpSocket {
    /// Takes ownership of `fd`.
    ///
    /// # Safety
    ///
    /// `fd` must be an open TCP socket that nothing else owns or will close.
    unsafe fn from_raw_fd(fd: RawFd) -> TcpSocket {
        // SAFETY: the caller promises `fd` is open and owned by nobody else, which is
        // exactly `OwnedFd::from_raw_fd`'s contract.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        TcpSocket { fd }
    }
}
