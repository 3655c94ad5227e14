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

        #[doc = concat!("The reading half of a [`", stringify!($stream), "`], from [`", stringify!($stream), "::split`].")]
        ///
        /// Implements [`AsyncRead`]; borrows the stream.
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
        #[doc = concat!("    let (mut read, _write) = ", stringify!($stream), "::split(&mut b);")]
        ///     a.write_all(b"x").await?;
        ///     let mut buf = [0; 1];
        ///     read.read_exact(&mut buf).await?;
        ///     Ok::<(), std::io::Error>(())
        /// })
        /// .unwrap();
        /// ```
        #[derive(Debug)]
        pub struct ReadHalf<'a>(&'a $stream);

        #[doc = concat!("The writing half of a [`", stringify!($stream), "`], from [`", stringify!($stream), "::split`].")]
        ///
        /// Implements [`AsyncWrite`]; borrows the stream. Closing it (`AsyncWriteExt::close`)
        /// shuts down the writing side; dropping it does not.
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
        #[doc = concat!("    let (_read, mut write) = ", stringify!($stream), "::split(&mut b);")]
        ///     write.write_all(b"x").await?;
        ///     write.close().await?;
        ///     let mut got = Vec::new();
        ///     a.read_to_end(&mut got).await?;
        ///     assert_eq!(got, b"x");
        ///     Ok::<(), std::io::Error>(())
        /// })
        /// .unwrap();
        /// ```
        #[derive(Debug)]
        pub struct WriteHalf<'a>(&'a $stream);

        #[doc = concat!("The owned reading half of a [`", stringify!($stream), "`], from [`", stringify!($stream), "::into_split`].")]
        ///
        /// Implements [`AsyncRead`]; may move to another task than the write half.
        ///
        /// # Examples
        ///
        /// ```
        /// use futures::{AsyncReadExt, AsyncWriteExt};
        ///
        /// flywheel::run(async {
        #[doc = $setup]
        ///     let mut a = a;
        ///     let (mut read, _write) = b.into_split();
        ///     let reader = flywheel::spawn(async move {
        ///         let mut buf = [0; 2];
        ///         read.read_exact(&mut buf).await.map(|()| buf)
        ///     });
        ///     a.write_all(b"hi").await?;
        ///     assert_eq!(&reader.await.unwrap()?, b"hi");
        ///     Ok::<(), std::io::Error>(())
        /// })
        /// .unwrap();
        /// ```
        #[derive(Debug)]
        pub struct OwnedReadHalf {
            inner: Arc<$stream>,
        }

        #[doc = concat!("The owned writing half of a [`", stringify!($stream), "`], from [`", stringify!($stream), "::into_split`].")]
        ///
        /// Implements [`AsyncWrite`]. Dropping it shuts down the writing side of the stream
        /// (the peer reads end of file) unless [`forget`](OwnedWriteHalf::forget) was
        /// called; closing it (`AsyncWriteExt::close`) does so at once.
        ///
        /// # Examples
        ///
        /// ```
        /// use futures::{AsyncReadExt, AsyncWriteExt};
        ///
        /// flywheel::run(async {
        #[doc = $setup]
        ///     let mut a = a;
        ///     let (_read, mut write) = b.into_split();
        ///     flywheel::spawn(async move { write.write_all(b"bye").await }).await.unwrap()?;
        ///     // The task dropped the write half: the writing side is shut down.
        ///     let mut got = Vec::new();
        ///     a.read_to_end(&mut got).await?;
        ///     assert_eq!(got, b"bye");
        ///     Ok::<(), std::io::Error>(())
        /// })
        /// .unwrap();
        /// ```
        #[derive(Debug)]
        pub struct OwnedWriteHalf {
            inner: Arc<$stream>,
            /// Cleared by `forget`, `reunite` and a successful close.
            shutdown_on_drop: bool,
        }

        /// The two halves given to `reunite` came from different streams; both are handed
        /// back unchanged.
        ///
        /// # Examples
        ///
        /// ```
        /// flywheel::run(async {
        #[doc = $setup]
        ///     let (a_read, _a_write) = a.into_split();
        ///     let (_b_read, b_write) = b.into_split();
        ///     let err = a_read.reunite(b_write).unwrap_err();
        ///     assert!(err.to_string().contains("not from the same"));
        ///     let (_a_read, _b_write) = (err.0, err.1);
        ///     Ok::<(), std::io::Error>(())
        /// })
        /// .unwrap();
        /// ```
        #[derive(Debug)]
        pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

        impl fmt::Display for ReuniteError {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "tried to reunite halves that are not from the same {}",
                    stringify!($stream)
                )
            }
        }

        impl std::error::Error for ReuniteError {}

        impl OwnedReadHalf {
            /// Puts the stream back together from its two halves.
            ///
            /// # Errors
            ///
            /// [`ReuniteError`], holding both halves, when they come from different streams.
            ///
            /// # Examples
            ///
            /// ```
            /// flywheel::run(async {
            #[doc = $setup]
            ///     let _b = b;
            ///     let addr = format!("{:?}", a.local_addr()?);
            ///     let (read, write) = a.into_split();
            ///     let a = read.reunite(write).expect("halves of one stream");
            ///     assert_eq!(format!("{:?}", a.local_addr()?), addr);
            ///     Ok::<(), std::io::Error>(())
            /// })
            /// .unwrap();
            /// ```
            pub fn reunite(self, other: OwnedWriteHalf) -> Result<$stream, ReuniteError> {
                if !Arc::ptr_eq(&self.inner, &other.inner) {
                    return Err(ReuniteError(self, other));
                }
                let mut other = other;
                other.shutdown_on_drop = false;
                drop(other);
                // Only the two halves ever hold the Arc, and the other one is gone.
                Ok(Arc::try_unwrap(self.inner)
                    .expect("the write half was the only other owner of the stream"))
            }

            /// The address of the remote end.
            ///
            /// # Errors
            ///
            /// When the socket is not connected any more.
            ///
            /// # Examples
            ///
            /// ```
            /// flywheel::run(async {
            #[doc = $setup]
            ///     let expected = b.local_addr()?;
            ///     let (read, _write) = a.into_split();
            ///     assert_eq!(format!("{:?}", read.peer_addr()?), format!("{expected:?}"));
            ///     Ok::<(), std::io::Error>(())
            /// })
            /// .unwrap();
            /// ```
            pub fn peer_addr(&self) -> io::Result<$addr> {
                self.inner.peer_addr()
            }

            /// The local address of this end.
            ///
            /// # Errors
            ///
            /// When the OS cannot tell (rare).
            ///
            /// # Examples
            ///
            /// ```
            /// flywheel::run(async {
            #[doc = $setup]
            ///     let _b = b;
            ///     let expected = a.local_addr()?;
            ///     let (read, _write) = a.into_split();
            ///     assert_eq!(format!("{:?}", read.local_addr()?), format!("{expected:?}"));
            ///     Ok::<(), std::io::Error>(())
            /// })
            /// .unwrap();
            /// ```
            pub fn local_addr(&self) -> io::Result<$addr> {
                self.inner.local_addr()
            }
        }

        impl OwnedWriteHalf {
            /// Puts the stream back together from its two halves; see
            /// [`OwnedReadHalf::reunite`].
            ///
            /// # Errors
            ///
            /// [`ReuniteError`], holding both halves, when they come from different streams.
            ///
            /// # Examples
            ///
            /// ```
            /// flywheel::run(async {
            #[doc = $setup]
            ///     let _b = b;
            ///     let (read, write) = a.into_split();
            ///     let _a = write.reunite(read).expect("halves of one stream");
            ///     Ok::<(), std::io::Error>(())
            /// })
            /// .unwrap();
            /// ```
            pub fn reunite(self, other: OwnedReadHalf) -> Result<$stream, ReuniteError> {
                other.reunite(self)
            }

            /// Drops the half without shutting down the writing side: the peer sees end of
            /// file only when the socket closes (both halves gone).
            ///
            /// # Examples
            ///
            /// ```
            /// flywheel::run(async {
            #[doc = $setup]
            ///     let _b = b;
            ///     let (_read, write) = a.into_split();
            ///     write.forget();
            ///     Ok::<(), std::io::Error>(())
            /// })
            /// .unwrap();
            /// ```
            pub fn forget(mut self) {
                self.shutdown_on_drop = false;
            }

            /// The address of the remote end.
            ///
            /// # Errors
            ///
            /// When the socket is not connected any more.
            ///
            /// # Examples
            ///
            /// ```
            /// flywheel::run(async {
            #[doc = $setup]
            ///     let expected = b.local_addr()?;
            ///     let (_read, write) = a.into_split();
            ///     assert_eq!(format!("{:?}", write.peer_addr()?), format!("{expected:?}"));
            ///     Ok::<(), std::io::Error>(())
            /// })
            /// .unwrap();
            /// ```
            pub fn peer_addr(&self) -> io::Result<$addr> {
                self.inner.peer_addr()
            }

            /// The local address of this end.
            ///
            /// # Errors
            ///
            /// When the OS cannot tell (rare).
            ///
            /// # Examples
            ///
            /// ```
            /// flywheel::run(async {
            #[doc = $setup]
            ///     let _b = b;
            ///     let expected = a.local_addr()?;
            ///     let (_read, write) = a.into_split();
            ///     assert_eq!(format!("{:?}", write.local_addr()?), format!("{expected:?}"));
            ///     Ok::<(), std::io::Error>(())
            /// })
            /// .unwrap();
            /// ```
            pub fn local_addr(&self) -> io::Result<$addr> {
                self.inner.local_addr()
            }
        }

        impl Drop for OwnedWriteHalf {
            fn drop(&mut self) {
                if self.shutdown_on_drop {
                    // The peer may be gone already: nothing to report from a destructor.
                    let _ = self.inner.shutdown(Shutdown::Write);
                }
            }
        }

        split_halves!(@read ReadHalf<'_>, |h| h.0);
        split_halves!(@read OwnedReadHalf, |h| &*h.inner);
        split_halves!(@write WriteHalf<'_>, |h| h.0);
        split_halves!(@write OwnedWriteHalf, |h| &*h.inner);
        split_halves!(@ready_read ReadHalf<'_>, $stream, $setup,
            concat!("    let mut b = b;\n    let (read, _write) = ", stringify!($stream), "::split(&mut b);"));
        split_halves!(@ready_read OwnedReadHalf, $stream, $setup,
            concat!("    let (read, _write) = ", stringify!($stream), "::into_split(b);"));
        split_halves!(@ready_write WriteHalf<'_>, $stream, $setup,
            concat!("    let mut b = b;\n    let (_read, write) = ", stringify!($stream), "::split(&mut b);"));
        split_halves!(@ready_write OwnedWriteHalf, $stream, $setup,
            concat!("    let (_read, write) = ", stringify!($stream), "::into_split(b);"));

        impl AsRef<$stream> for ReadHalf<'_> {
            fn as_ref(&self) -> &$stream {
                self.0
            }
        }

        impl AsRef<$stream> for WriteHalf<'_> {
            fn as_ref(&self) -> &$stream {
                self.0
            }
        }

        impl AsRef<$stream> for OwnedReadHalf {
            fn as_ref(&self) -> &$stream {
                &self.inner
            }
        }

        impl AsRef<$stream> for OwnedWriteHalf {
            fn as_ref(&self) -> &$stream {
                &self.inner
            }
        }

        impl WriteHalf<'_> {
            /// After `close`: nothing to remember.
            fn closed(&mut self, result: io::Result<()>) -> io::Result<()> {
                result
            }
        }

        impl OwnedWriteHalf {
            /// After `close`: shut down once, so not again on drop.
            fn closed(&mut self, result: io::Result<()>) -> io::Result<()> {
                if result.is_ok() {
                    self.shutdown_on_drop = false;
                }
                result
            }
        }
    };
    (@ready_read $half:ty, $stream:ident, $setup:literal, $make:expr) => {
        /// Readiness and non-blocking reads, as on the stream itself (several tasks may wait).
        impl $half {
            #[doc = concat!("Waits until the stream may be readable, like [`", stringify!($stream), "::readable`].")]
            ///
            /// # Examples
            ///
            /// ```
            /// use futures::AsyncWriteExt;
            #[doc = concat!("use flywheel::net::", stringify!($stream), ";")]
            ///
            /// flywheel::run(async {
            #[doc = $setup]
            ///     let mut a = a;
            #[doc = $make]
            ///     a.write_all(b"x").await?;
            ///     let mut buf = [0; 1];
            ///     let n = loop {
            ///         read.readable().await?;
            ///         match read.try_read(&mut buf) {
            ///             Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            ///             other => break other?,
            ///         }
            ///     };
            ///     assert_eq!(&buf[..n], b"x");
            ///     Ok::<(), std::io::Error>(())
            /// })
            /// .unwrap();
            /// ```
            pub async fn readable(&self) -> io::Result<()> {
                AsRef::<$stream>::as_ref(self).readable().await
            }

            #[doc = concat!("Waits for any direction of `interest`, like [`", stringify!($stream), "::ready`];")]
            /// see [`readable`](Self::readable) for an example.
            pub async fn ready(
                &self,
                interest: crate::io::Interest,
            ) -> io::Result<crate::io::Ready> {
                AsRef::<$stream>::as_ref(self).ready(interest).await
            }

            #[doc = concat!("Reads without waiting, like [`", stringify!($stream), "::try_read`];")]
            /// see [`readable`](Self::readable) for an example.
            pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
                AsRef::<$stream>::as_ref(self).try_read(buf)
            }

            #[doc = concat!("Reads into several buffers without waiting, like [`", stringify!($stream), "::try_read_vectored`].")]
            pub fn try_read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
                AsRef::<$stream>::as_ref(self).try_read_vectored(bufs)
            }
        }
    };
    (@ready_write $half:ty, $stream:ident, $setup:literal, $make:expr) => {
        /// Readiness and non-blocking writes, as on the stream itself.
        impl $half {
            #[doc = concat!("Waits until the stream may be writable, like [`", stringify!($stream), "::writable`].")]
            ///
            /// # Examples
            ///
            /// ```
            /// use futures::AsyncReadExt;
            #[doc = concat!("use flywheel::net::", stringify!($stream), ";")]
            ///
            /// flywheel::run(async {
            #[doc = $setup]
            ///     let mut a = a;
            #[doc = $make]
            ///     let n = loop {
            ///         write.writable().await?;
            ///         match write.try_write(b"x") {
            ///             Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            ///             other => break other?,
            ///         }
            ///     };
            ///     let mut buf = [0; 1];
            ///     a.read_exact(&mut buf[..n]).await?;
            ///     assert_eq!(&buf, b"x");
            ///     Ok::<(), std::io::Error>(())
            /// })
            /// .unwrap();
            /// ```
            pub async fn writable(&self) -> io::Result<()> {
                AsRef::<$stream>::as_ref(self).writable().await
            }

            #[doc = concat!("Waits for any direction of `interest`, like [`", stringify!($stream), "::ready`];")]
            /// see [`writable`](Self::writable) for an example.
            pub async fn ready(
                &self,
                interest: crate::io::Interest,
            ) -> io::Result<crate::io::Ready> {
                AsRef::<$stream>::as_ref(self).ready(interest).await
            }

            #[doc = concat!("Writes without waiting, like [`", stringify!($stream), "::try_write`];")]
            /// see [`writable`](Self::writable) for an example.
            pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
                AsRef::<$stream>::as_ref(self).try_write(buf)
            }

            #[doc = concat!("Writes from several buffers without waiting, like [`", stringify!($stream), "::try_write_vectored`].")]
            pub fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
                AsRef::<$stream>::as_ref(self).try_write_vectored(bufs)
            }
        }
    };
    (@read $half:ty, |$h:ident| $stream_ref:expr) => {
        impl AsyncRead for $half {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                let $h = self.get_mut();
                Pin::new(&mut $stream_ref).poll_read(cx, buf)
            }

            fn poll_read_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &mut [IoSliceMut<'_>],
            ) -> Poll<io::Result<usize>> {
                let $h = self.get_mut();
                Pin::new(&mut $stream_ref).poll_read_vectored(cx, bufs)
            }
        }
    };
    (@write $half:ty, |$h:ident| $stream_ref:expr) => {
        impl AsyncWrite for $half {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                let $h = self.get_mut();
                Pin::new(&mut $stream_ref).poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                let $h = self.get_mut();
                Pin::new(&mut $stream_ref).poll_write_vectored(cx, bufs)
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                let $h = self.get_mut();
                Pin::new(&mut $stream_ref).poll_flush(cx)
            }

            fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                let $h = self.get_mut();
                let result = $stream_ref.shutdown(Shutdown::Write);
                Poll::Ready($h.closed(result))
            }
        }
    };
}

split_halves!(
    TcpStream,
    std::net::SocketAddr,
    "    let listener = flywheel::net::TcpListener::bind(\"127.0.0.1:0\").await?;
    let a = flywheel::net::TcpStream::connect(listener.local_addr()?).await?;
    let (b, _) = listener.accept().await?;"
);
