//! `Interest`: which directions of a socket a task wants to wait for.
//!
//! A set of two bits, never empty: `READABLE`, `WRITABLE` or both. The constructors are
//! the two constants; `add` / `|` make the union and `remove` gives `None` rather than an
//! empty set, so every `Interest` names something to wait for.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

/// The directions of a socket to wait for in `ready()`: readable, writable, or both.
///
/// The same type and names as tokio's `Interest` (without its platform-specific
/// `PRIORITY` / `ERROR` interests: an error wakes every waiter of the socket anyway).
///
/// # Examples
///
/// ```
/// use flywheel::io::Interest;
///
/// let both = Interest::READABLE | Interest::WRITABLE;
/// assert!(both.is_readable() && both.is_writable());
/// assert_eq!(Interest::READABLE.add(Interest::WRITABLE), both);
/// assert_eq!(both.remove(Interest::WRITABLE), Some(Interest::READABLE));
/// assert_eq!(Interest::READABLE.remove(Interest::READABLE), None);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interest(u8);

/// The read bit of an `Interest`.
const READ: u8 = 1 << 0;
/// The write bit of an `Interest`.
const WRITE: u8 = 1 << 1;

impl Interest {
    /// Interest in reading: data, end of file or an error is there.
    pub const READABLE: Interest = Interest(READ);

    /// Interest in writing: there is room in the send buffer, or the writing half closed.
    pub const WRITABLE: Interest = Interest(WRITE);

    /// Whether the set includes [`READABLE`](Interest::READABLE).
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::io::Interest;
    ///
    /// assert!(Interest::READABLE.is_readable());
    /// assert!(!Interest::WRITABLE.is_readable());
    /// ```
    pub const fn is_readable(self) -> bool {
        self.0 & READ != 0
    }

    /// Whether the set includes [`WRITABLE`](Interest::WRITABLE).
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::io::Interest;
    ///
    /// assert!(Interest::WRITABLE.is_writable());
    /// assert!(!Interest::READABLE.is_writable());
    /// ```
    pub const fn is_writable(self) -> bool {
        self.0 & WRITE != 0
    }

    /// The union of `self` and `other`; usable in `const` contexts, unlike `|`.
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::io::Interest;
    ///
    /// const BOTH: Interest = Interest::READABLE.add(Interest::WRITABLE);
    /// assert!(BOTH.is_readable() && BOTH.is_writable());
    /// ```
    #[must_use = "`add` returns the union; it does not change `self`"]
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// `self` without the directions of `other`, or `None` if nothing is left.
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::io::Interest;
    ///
    /// let both = Interest::READABLE | Interest::WRITABLE;
    /// assert_eq!(both.remove(Interest::READABLE), Some(Interest::WRITABLE));
    /// assert_eq!(Interest::WRITABLE.remove(both), None);
    /// ```
    #[must_use = "`remove` returns the difference; it does not change `self`"]
    pub fn remove(self, other: Interest) -> Option<Interest> {
        let left = self.0 & !other.0;
        (left != 0).then_some(Interest(left))
    }
}

impl BitOr for Interest {
    type Output = Interest;

    fn bitor(self, other: Interest) -> Interest {
        self.add(other)
    }
}

impl BitOrAssign for Interest {
    fn bitor_assign(&mut self, other: Interest) {
        *self = self.add(other);
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.is_readable(), self.is_writable()) {
            (true, true) => f.write_str("READABLE | WRITABLE"),
            (true, false) => f.write_str("READABLE"),
            // Never empty: `remove` gives `None` instead.
            _ => f.write_str("WRITABLE"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_removal_and_debug() {
        let mut interest = Interest::READABLE;
        interest |= Interest::WRITABLE;
        assert_eq!(format!("{interest:?}"), "READABLE | WRITABLE");
        assert_eq!(format!("{:?}", Interest::WRITABLE), "WRITABLE");
        assert_eq!(
            interest.remove(Interest::READABLE),
            Some(Interest::WRITABLE)
        );
        assert_eq!(interest.remove(interest), None);
    }
}
