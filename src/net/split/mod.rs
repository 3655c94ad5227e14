//! Read and write halves of a byte stream, without a lock: `TcpStream::split` /
//! `into_split` here, and the same for `UnixStream` (unix_split.rs), both written once by
//! `split_halves!`.
//!
//! Why no lock is needed: every read and write of a stream goes through `&Stream` (the
//! stream implements `AsyncRead` / `AsyncWrite` for a shared reference), and the reactor
//! keeps the read and the write direction's waiters apart. So a half is just a shared
//! reference (borrowed halves) or an `Arc` (owned halves) that only ever reads, or only
//! ever writes. Invariant of the owned halves: exactly two `Arc`s exist, one in each half,
//! until one half is dropped; `reunite` relies on it to take the stream back.
//!
//! The macro is split by role: `split_halves!` (here) adds `split` / `into_split` to the
//! stream and calls the others; borrowed.rs defines the borrowed `ReadHalf` / `WriteHalf`,
//! owned.rs the owned halves with `reunite`, `forget` and `ReuniteError`, and direction.rs
//! what every half does in its direction (`AsyncRead` / `AsyncWrite`, readiness, `try_*`).

#[macro_use]
mod borrowed;
#[macro_use]
mod direction;
#[macro_use]
mod owned;

/// Defines `ReadHalf`, `WriteHalf`, `OwnedReadHalf`, `OwnedWriteHalf` and `ReuniteError`
/// for `$stream`, and `$stream::split` / `into_split`.
///
/// `$setup` is doctest code that binds two connected streams `a` and `b`; `$addr` is the
/// stream's address type.
macro_rules! split_halves {
    ($stream:ident, $addr:ty, $setup:literal) => {
        use std::fmt;
        use std::io::{self, IoSlice, IoSliceMut};
        use std::net::Shutdown;
        use std::pin::Pin;
        use std::sync::Arc;
        use std::task::{Context, Poll};

        use futures_io::{AsyncRead, AsyncWrite};

        use crate::net::$stream;

        impl $stream {
            #[doc = concat!("Splits the stream into a read half and a write half that borrow it, \
                so one future may read while another writes (for example in `join!`).")]
            ///
            /// The halves are references: no lock, no allocation. Each half implements the
            /// `futures_io` trait of its direction. To move the halves into separate tasks,
            /// use [`into_split`](Self::into_split).
            ///
            /// With `futures::AsyncReadExt` in scope, `stream.split()` calls that trait's
            #[doc = concat!("`split(self)` instead (it takes the stream by value and adds a lock): \
                write `", stringify!($stream), "::split(&mut stream)` to get these halves.")]
            ///
            /// # Examples
            ///
            /// ```
            /// use futures::{AsyncReadExt, AsyncWriteExt};
            #[doc = concat!("use flywheel::net::", stringify!($stream), ";")]
            ///
            /// flywheel::run(async {
            #[doc = $setup]
            ///     let (mut a, mut b) = (a, b);
            #[doc = concat!("    let (mut read, mut write) = ", stringify!($stream), "::split(&mut b);")]
            ///     a.write_all(b"ping").await?;
            ///     let mut buf = [0; 4];
            ///     read.read_exact(&mut buf).await?;
            ///     write.write_all(&buf).await?;
            ///     a.read_exact(&mut buf).await?;
            ///     assert_eq!(&buf, b"ping");
            ///     Ok::<(), std::io::Error>(())
            /// })
            /// .unwrap();
            /// ```
            pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
                (ReadHalf(self), WriteHalf(self))
            }

            /// Splits the stream into owned halves, which may move into different tasks.
            ///
            /// No lock: the halves share the stream in an `Arc`, one only reads and the
            /// other only writes. Dropping the [`OwnedWriteHalf`] shuts down the writing
            /// side (the peer reads end of file), unless it was
            /// [`forget`](OwnedWriteHalf::forget)-ed; the socket closes when both halves
            /// are gone. [`OwnedReadHalf::reunite`] puts the stream back together.
            ///
            /// # Examples
            ///
            /// ```
            /// use futures::{AsyncReadExt, AsyncWriteExt};
            ///
            /// flywheel::run(async {
            #[doc = $setup]
            ///     let mut a = a;
            ///     let (mut read, mut write) = b.into_split();
            ///     let echo = flywheel::spawn(async move {
            ///         futures::io::copy(&mut read, &mut write).await
            ///     });
            ///     a.write_all(b"echo").await?;
            ///     let mut buf = [0; 4];
            ///     a.read_exact(&mut buf).await?;
            ///     assert_eq!(&buf, b"echo");
            ///     a.close().await?; // the copy ends and drops the write half
            ///     assert_eq!(echo.await.unwrap()?, 4);
            ///     assert_eq!(a.read(&mut buf).await?, 0);
            ///     Ok::<(), std::io::Error>(())
            /// })
            /// .unwrap();
            /// ```
            pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
                let shared = Arc::new(self);
                (
                    OwnedReadHalf {
                        inner: shared.clone(),
                    },
                    OwnedWriteHalf {
                        inner: shared,
                        shutdown_on_drop: true,
                    },
                )
            }
        }

        split_borrowed!($stream, $setup);
        split_owned!($stream, $addr, $setup);

        split_direction!(@read ReadHalf<'_>, |h| h.0);
        split_direction!(@read OwnedReadHalf, |h| &*h.inner);
        split_direction!(@write WriteHalf<'_>, |h| h.0);
        split_direction!(@write OwnedWriteHalf, |h| &*h.inner);
        split_direction!(@ready_read ReadHalf<'_>, $stream, $setup,
            concat!("    let mut b = b;\n    let (read, _write) = ", stringify!($stream), "::split(&mut b);"));
        split_direction!(@ready_read OwnedReadHalf, $stream, $setup,
            concat!("    let (read, _write) = ", stringify!($stream), "::into_split(b);"));
        split_direction!(@ready_write WriteHalf<'_>, $stream, $setup,
            concat!("    let mut b = b;\n    let (_read, write) = ", stringify!($stream), "::split(&mut b);"));
        split_direction!(@ready_write OwnedWriteHalf, $stream, $setup,
            concat!("    let (_read, write) = ", stringify!($stream), "::into_split(b);"));
    };
}

split_halves!(
    TcpStream,
    std::net::SocketAddr,
    "    let listener = flywheel::net::TcpListener::bind(\"127.0.0.1:0\").await?;
    let a = flywheel::net::TcpStream::connect(listener.local_addr()?).await?;
    let (b, _) = listener.accept().await?;"
);
