//! What each half does in its direction, for borrowed and owned halves alike: `AsyncRead`
//! or `AsyncWrite` (closing a write half shuts down the writing side, then calls the
//! half's `closed`), and readiness plus non-blocking `try_*` calls, all forwarded to the
//! stream the half refers to.

/// Implements one direction for one half: `@read` / `@write` the `futures_io` trait, given
/// how to reach the stream from the half; `@ready_read` / `@ready_write` the readiness and
/// `try_*` methods, with `$make` the doctest line that makes the half from stream `b`.
macro_rules! split_direction {
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
