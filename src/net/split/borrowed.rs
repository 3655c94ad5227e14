//! The borrowed halves, `ReadHalf` and `WriteHalf`, from `split`: each is a shared
//! reference to the stream, so they cost nothing and cannot outlive it; closing the write
//! half shuts down the writing side, dropping it does not.

/// Defines `ReadHalf` and `WriteHalf` for `$stream`; `$setup` as in `split_halves!`.
macro_rules! split_borrowed {
    ($stream:ident, $setup:literal) => {
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

        impl WriteHalf<'_> {
            /// After `close`: nothing to remember.
            fn closed(&mut self, result: io::Result<()>) -> io::Result<()> {
                result
            }
        }
    };
}
