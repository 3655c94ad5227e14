//! `Ready`: the readiness a socket's `ready()` observed.
//!
//! A plain set of four bits. It is a snapshot for the caller to act on, not a promise: the
//! next non-blocking call may still return `WouldBlock` (another task may have taken the
//! data, or the event was spurious), and that call then clears the readiness it consumed.

use std::fmt;
use std::ops::{BitOr, BitOrAssign, Sub};

/// The readiness of a socket, as returned by `ready()`.
///
/// The same type and names as tokio's `Ready`. [`is_readable`](Ready::is_readable) is also
/// true when the read half is closed (a read then returns end of file without blocking),
/// and [`is_writable`](Ready::is_writable) when the write half is closed (a write then fails
/// without blocking). An error reported by the OS shows as readable and writable, for
/// whichever directions were asked for: the next call in that direction returns it.
///
/// # Examples
///
/// ```
/// use flywheel::io::{Interest, Ready};
///
/// flywheel::run(async {
///     let (a, _b) = flywheel::net::UnixStream::pair()?;
///     let ready: Ready = a.ready(Interest::WRITABLE).await?;
///     assert!(ready.is_writable() && !ready.is_write_closed());
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
///
/// let closed = Ready::READ_CLOSED;
/// assert!(closed.is_readable() && closed.is_read_closed() && !closed.is_writable());
/// assert!(Ready::EMPTY.is_empty());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ready(u8);

/// The readable bit.
const READABLE: u8 = 1 << 0;
/// The writable bit.
const WRITABLE: u8 = 1 << 1;
/// The read-closed bit.
const READ_CLOSED: u8 = 1 << 2;
/// The write-closed bit.
const WRITE_CLOSED: u8 = 1 << 3;

impl Ready {
    /// Nothing is ready.
    pub const EMPTY: Ready = Ready(0);

    /// The socket can be read.
    pub const READABLE: Ready = Ready(READABLE);

    /// The socket can be written.
    pub const WRITABLE: Ready = Ready(WRITABLE);

    /// The peer closed its writing half: reads return end of file.
    pub const READ_CLOSED: Ready = Ready(READ_CLOSED);

    /// The writing half is closed: writes fail.
    pub const WRITE_CLOSED: Ready = Ready(WRITE_CLOSED);

    /// Whether nothing is set.
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::io::Ready;
    ///
    /// assert!(Ready::EMPTY.is_empty());
    /// assert!(!Ready::READABLE.is_empty());
    /// ```
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether a read would not block: readable, or the read half closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::io::Ready;
    ///
    /// assert!(Ready::READABLE.is_readable());
    /// assert!(Ready::READ_CLOSED.is_readable());
    /// assert!(!Ready::WRITABLE.is_readable());
    /// ```
    pub fn is_readable(self) -> bool {
        self.0 & (READABLE | READ_CLOSED) != 0
    }

    /// Whether a write would not block: writable, or the write half closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::io::Ready;
    ///
    /// assert!(Ready::WRITABLE.is_writable());
    /// assert!(Ready::WRITE_CLOSED.is_writable());
    /// assert!(!Ready::READABLE.is_writable());
    /// ```
    pub fn is_writable(self) -> bool {
        self.0 & (WRITABLE | WRITE_CLOSED) != 0
    }

    /// Whether the peer closed its writing half (reads return end of file).
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::io::{Interest, Ready};
    ///
    /// flywheel::run(async {
    ///     let (a, b) = flywheel::net::UnixStream::pair()?;
    ///     drop(b);
    ///     let ready = a.ready(Interest::READABLE).await?;
    ///     assert!(ready.is_read_closed());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// assert!(!Ready::READABLE.is_read_closed());
    /// ```
    pub fn is_read_closed(self) -> bool {
        self.0 & READ_CLOSED != 0
    }

    /// Whether the writing half is closed (writes fail).
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::io::Ready;
    ///
    /// assert!(Ready::WRITE_CLOSED.is_write_closed());
    /// assert!(!Ready::WRITABLE.is_write_closed());
    /// ```
    pub fn is_write_closed(self) -> bool {
        self.0 & WRITE_CLOSED != 0
    }

    /// The public bits for the reactor's readiness bits `bits` observed while waiting to
    /// read (`read` true) or to write.
    pub(crate) fn from_reactor(bits: usize, read: bool) -> Ready {
        use crate::io::scheduled_io as word;
        let mut ready = Ready::EMPTY;
        if read {
            if bits & (word::READABLE | word::ERROR) != 0 {
                ready |= Ready::READABLE;
            }
            if bits & word::READ_CLOSED != 0 {
                ready |= Ready::READ_CLOSED;
            }
        } else {
            if bits & (word::WRITABLE | word::ERROR) != 0 {
                ready |= Ready::WRITABLE;
            }
            if bits & word::WRITE_CLOSED != 0 {
                ready |= Ready::WRITE_CLOSED;
            }
        }
        ready
    }
}

impl BitOr for Ready {
    type Output = Ready;

    fn bitor(self, other: Ready) -> Ready {
        Ready(self.0 | other.0)
    }
}

impl BitOrAssign for Ready {
    fn bitor_assign(&mut self, other: Ready) {
        self.0 |= other.0;
    }
}

impl Sub for Ready {
    type Output = Ready;

    /// The bits of `self` that are not in `other`.
    fn sub(self, other: Ready) -> Ready {
        Ready(self.0 & !other.0)
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ready")
            .field("is_readable", &self.is_readable())
            .field("is_writable", &self.is_writable())
            .field("is_read_closed", &self.is_read_closed())
            .field("is_write_closed", &self.is_write_closed())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::scheduled_io as word;

    #[test]
    fn reactor_bits_map_per_direction() {
        let all = word::READABLE | word::WRITABLE | word::READ_CLOSED | word::WRITE_CLOSED;
        assert_eq!(
            Ready::from_reactor(all, true),
            Ready::READABLE | Ready::READ_CLOSED
        );
        assert_eq!(
            Ready::from_reactor(all, false),
            Ready::WRITABLE | Ready::WRITE_CLOSED
        );
        assert_eq!(Ready::from_reactor(word::ERROR, true), Ready::READABLE);
        assert_eq!(Ready::from_reactor(word::ERROR, false), Ready::WRITABLE);
        assert!(Ready::from_reactor(word::WRITABLE, true).is_empty());
        let both = Ready::READABLE | Ready::WRITABLE;
        assert_eq!(both - Ready::WRITABLE, Ready::READABLE);
    }
}
