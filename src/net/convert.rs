//! The descriptor and std conversions every socket type shares, written once:
//! `TryFrom<std type>` (through the type's `from_std`), `AsFd` and `AsRawFd`.
//!
//! `impl_socket_conversions!` is expanded inside each type's own file, where its `io`
//! field (a `PollEvented`) is visible. The descriptor stays owned by the socket: the
//! borrowed forms only let options be read and set, and `into_std` (written per type)
//! deregisters it before giving it away.

/// Implements `TryFrom<$std>`, `AsFd` and `AsRawFd` for `$ty`, which has an `io:
/// PollEvented<_>` field and a `from_std($std)` constructor.
macro_rules! impl_socket_conversions {
    ($ty:ident, $std:ty) => {
        impl TryFrom<$std> for $ty {
            type Error = std::io::Error;

            /// Same as `from_std`: sets the socket non-blocking and registers it with the
            /// current runtime.
            fn try_from(socket: $std) -> std::io::Result<$ty> {
                $ty::from_std(socket)
            }
        }

        impl std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.io.get_ref().as_fd()
            }
        }

        impl std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                self.io.get_ref().as_raw_fd()
            }
        }
    };
}
