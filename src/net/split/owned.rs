//! The owned halves, `OwnedReadHalf` and `OwnedWriteHalf`, from `into_split`, and
//! `ReuniteError`. Invariant: exactly two `Arc`s to the stream exist, one in each half,
//! until one half is dropped; `reunite` relies on it to take the stream back. The write
//! half shuts down the writing side on drop unless `forget`, `reunite` or a successful
//! close already settled it (`shutdown_on_drop`).

/// Defines `OwnedReadHalf`, `OwnedWriteHalf` and `ReuniteError` for `$stream`; `$addr` and
/// `$setup` as in `split_halves!`.
macro_rules! split_owned {
    ($stream:ident, $addr:ty, $setup:literal) => {
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
}
