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
