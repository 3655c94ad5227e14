//! The `futures_io` traits for the stream types, written once.
//!
//! A stream type has an `io: PollEvented<_>` field over a mio stream and a `shutdown`
//! method; `impl_async_io!` then gives it the `poll_*_priv` methods (on `&self`) and
//! implements `AsyncRead` and `AsyncWrite` for the type and for a shared reference to it.

/// Implements `AsyncRead` and `AsyncWrite` for a stream type and for a shared reference to
/// it, forwarding to its `poll_*_priv` methods. Shared with the Unix stream.
macro_rules! impl_async_io {
    (@traits $target:ty) => {
        impl futures_io::AsyncRead for $target {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.poll_read_priv(cx, buf)
            }

            fn poll_read_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.poll_read_vectored_priv(cx, bufs)
            }
        }

        impl futures_io::AsyncWrite for $target {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.poll_write_priv(cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.poll_write_vectored_priv(cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                // Writes go straight to the socket: nothing is buffered here.
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(self.shutdown(std::net::Shutdown::Write))
            }
        }

    };
    ($ty:ty) => {
        impl $ty {
            fn poll_read_priv(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let len = buf.len();
                self.io.poll_stream_io(
                    cx,
                    $crate::io::registration::Direction::Read,
                    len,
                    |mut s| std::io::Read::read(&mut s, buf),
                )
            }

            fn poll_read_vectored_priv(
                &self,
                cx: &mut std::task::Context<'_>,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let len = bufs.iter().map(|b| b.len()).sum();
                self.io.poll_stream_io(
                    cx,
                    $crate::io::registration::Direction::Read,
                    len,
                    |mut s| std::io::Read::read_vectored(&mut s, bufs),
                )
            }

            fn poll_write_priv(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_stream_io(
                    cx,
                    $crate::io::registration::Direction::Write,
                    buf.len(),
                    |mut s| std::io::Write::write(&mut s, buf),
                )
            }

            fn poll_write_vectored_priv(
                &self,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let len = bufs.iter().map(|b| b.len()).sum();
                self.io.poll_stream_io(
                    cx,
                    $crate::io::registration::Direction::Write,
                    len,
                    |mut s| std::io::Write::write_vectored(&mut s, bufs),
                )
            }
        }

        impl_async_io!(@traits $ty);
        impl_async_io!(@traits &$ty);
    };
}

/// Gives a byte stream (`$ty`, with an `io: PollEvented<_>` field) tokio's readiness and
/// non-blocking calls. `$setup` is doctest code that binds a connected `client` and `server`.
macro_rules! impl_stream_readiness {
    ($ty:ident, $setup:literal) => {
        /// Readiness and non-blocking calls, with tokio's names and semantics.
        ///
        /// `ready` / `readable` / `writable` wait without doing any I/O and may be awaited by any
        /// number of tasks at once; the `try_*` methods do one non-blocking call now and never wait
        /// or store a waker. A `try_*` call that returns `WouldBlock` clears the readiness it
        /// consumed (unless a newer event arrived meanwhile), so "wait, try, on `WouldBlock` wait
        /// again" sleeps between events instead of spinning.
        impl $ty {
            /// Waits until the stream is ready for any direction of `interest`; returns what is ready.
            /// Does no I/O and clears nothing.
            ///
            /// Readiness is a hint: the next `try_*` call may still return `WouldBlock` (and then
            /// clears it). Any number of tasks may wait at once; an event wakes them all.
            ///
            /// # Errors
            ///
            /// When the runtime the stream was registered with has shut down.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe.
            ///
            /// # Examples
            ///
            /// ```
            /// use flywheel::io::Interest;
            /// use std::io;
            ///
            /// flywheel::run(async {
            #[doc = $setup]
            ///     client.writable().await?;
            ///     client.try_write(b"ping")?;
            ///     let mut buf = [0; 4];
            ///     loop {
            ///         let ready = server.ready(Interest::READABLE | Interest::WRITABLE).await?;
            ///         assert!(ready.is_writable() || ready.is_readable());
            ///         if ready.is_readable() {
            ///             match server.try_read(&mut buf) {
            ///                 Ok(n) => break assert_eq!(&buf[..n], b"ping"),
            ///                 Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            ///                 Err(e) => return Err(e),
            ///             }
            ///         }
            ///         // Only writable: a real program would write here; this one waits for data.
            ///         server.readable().await?;
            ///     }
            ///     Ok::<(), io::Error>(())
            /// })
            /// .unwrap();
            /// ```
            #[track_caller]
            pub fn ready(
                &self,
                interest: crate::io::Interest,
            ) -> impl std::future::Future<Output = io::Result<crate::io::Ready>> + '_ {
                // Not an `async fn`, so that a dump can show this call as where the task
                // waits.
                crate::task::id::noted(
                    crate::task::id::Leaf::Ready,
                    std::panic::Location::caller(),
                    self.io.ready_for(interest),
                )
            }

            /// Polls for read readiness: `Ready(Ok(()))` when the stream may be readable, else
            /// stores the waker and returns `Pending`. Does no I/O and clears nothing.
            ///
            /// Only the task that polled last is woken (the waker is kept with those of the
            /// `AsyncRead` implementation): use [`readable`](Self::readable) for several tasks.
            ///
            /// # Errors
            ///
            /// When the runtime the stream was registered with has shut down.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::future::poll_fn;
            ///
            /// flywheel::run(async {
            #[doc = $setup]
            ///     client.writable().await?;
            ///     client.try_write(b"!")?;
            ///     poll_fn(|cx| server.poll_read_ready(cx)).await?;
            ///     Ok::<(), std::io::Error>(())
            /// })
            /// .unwrap();
            /// ```
            pub fn poll_read_ready(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<io::Result<()>> {
                self.io.poll_ready(cx, Direction::Read).map_ok(|_| ())
            }

            /// Polls for write readiness; the writing twin of
            /// [`poll_read_ready`](Self::poll_read_ready), with the same rules.
            ///
            /// # Errors
            ///
            /// When the runtime the stream was registered with has shut down.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::future::poll_fn;
            ///
            /// flywheel::run(async {
            #[doc = $setup]
            ///     poll_fn(|cx| client.poll_write_ready(cx)).await?;
            ///     # drop(server);
            ///     Ok::<(), std::io::Error>(())
            /// })
            /// .unwrap();
            /// ```
            pub fn poll_write_ready(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<io::Result<()>> {
                self.io.poll_ready(cx, Direction::Write).map_ok(|_| ())
            }

            /// Reads what is there into `buf`, now, without waiting; returns the bytes read (0 at
            /// end of file, or when `buf` is empty).
            ///
            /// Returns `WouldBlock` when nothing is there, or when the reactor has not reported the
            /// stream readable since the last `WouldBlock` (so await [`readable`](Self::readable)
            /// first). A `WouldBlock` clears the read readiness it consumed, so the next
            /// `readable()` sleeps until new data arrives; so does a read shorter than `buf`, which
            /// means the socket buffer ran dry.
            ///
            /// # Errors
            ///
            /// `WouldBlock` as above, the OS's error, or an error once the runtime the stream was
            /// registered with has shut down.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::io;
            ///
            /// flywheel::run(async {
            #[doc = $setup]
            ///     client.writable().await?;
            ///     client.try_write(b"hello")?;
            ///     let mut buf = [0; 16];
            ///     let n = loop {
            ///         server.readable().await?;
            ///         match server.try_read(&mut buf) {
            ///             Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            ///             r => break r?,
            ///         }
            ///     };
            ///     assert_eq!(&buf[..n], b"hello");
            ///     Ok::<(), io::Error>(())
            /// })
            /// .unwrap();
            /// ```
            pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
                let len = buf.len();
                self.io
                    .try_stream_io(Direction::Read, len, |mut s| io::Read::read(&mut s, buf))
            }

            /// [`try_read`](Self::try_read) into several buffers, filled in order.
            ///
            /// # Errors
            ///
            /// As for [`try_read`](Self::try_read).
            ///
            /// # Examples
            ///
            /// ```
            /// use std::io::{self, IoSliceMut};
            ///
            /// flywheel::run(async {
            #[doc = $setup]
            ///     client.writable().await?;
            ///     client.try_write(b"headbody")?;
            ///     let mut got: Vec<u8> = Vec::new();
            ///     while got.len() < 8 {
            ///         server.readable().await?;
            ///         let (mut head, mut body) = ([0; 4], [0; 4]);
            ///         let mut bufs = [IoSliceMut::new(&mut head), IoSliceMut::new(&mut body)];
            ///         match server.try_read_vectored(&mut bufs) {
            ///             Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            ///             r => {
            ///                 let n = r?;
            ///                 got.extend(head.iter().chain(&body).take(n));
            ///             }
            ///         }
            ///     }
            ///     assert_eq!(got, b"headbody");
            ///     Ok::<(), io::Error>(())
            /// })
            /// .unwrap();
            /// ```
            pub fn try_read_vectored(&self, bufs: &mut [io::IoSliceMut<'_>]) -> io::Result<usize> {
                let len = bufs.iter().map(|b| b.len()).sum();
                self.io.try_stream_io(Direction::Read, len, |mut s| {
                    io::Read::read_vectored(&mut s, bufs)
                })
            }

            /// Writes as much of `buf` as fits, now, without waiting; returns the bytes written.
            ///
            /// Returns `WouldBlock` when the send buffer is full, or when the reactor has not
            /// reported the stream writable since the last `WouldBlock` (so await
            /// [`writable`](Self::writable) first). A `WouldBlock`, or a write shorter than `buf`,
            /// clears the write readiness it consumed.
            ///
            /// # Errors
            ///
            /// `WouldBlock` as above, the OS's error (`BrokenPipe` once the peer is gone), or an
            /// error once the runtime the stream was registered with has shut down.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::io;
            ///
            /// flywheel::run(async {
            #[doc = $setup]
            ///     let mut rest: &[u8] = b"all of it";
            ///     while !rest.is_empty() {
            ///         client.writable().await?;
            ///         match client.try_write(rest) {
            ///             Ok(n) => rest = &rest[n..],
            ///             Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            ///             Err(e) => return Err(e),
            ///         }
            ///     }
            ///     # drop(server);
            ///     Ok::<(), io::Error>(())
            /// })
            /// .unwrap();
            /// ```
            pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
                self.io.try_stream_io(Direction::Write, buf.len(), |mut s| {
                    io::Write::write(&mut s, buf)
                })
            }

            /// [`try_write`](Self::try_write) from several buffers, taken in order.
            ///
            /// # Errors
            ///
            /// As for [`try_write`](Self::try_write).
            ///
            /// # Examples
            ///
            /// ```
            /// use std::io::IoSlice;
            ///
            /// flywheel::run(async {
            #[doc = $setup]
            ///     client.writable().await?;
            ///     let n = client.try_write_vectored(&[IoSlice::new(b"head"), IoSlice::new(b"body")])?;
            ///     assert_eq!(n, 8);
            ///     # drop(server);
            ///     Ok::<(), std::io::Error>(())
            /// })
            /// .unwrap();
            /// ```
            pub fn try_write_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
                let len = bufs.iter().map(|b| b.len()).sum();
                self.io.try_stream_io(Direction::Write, len, |mut s| {
                    io::Write::write_vectored(&mut s, bufs)
                })
            }
        }
    };
}
