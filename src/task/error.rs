//! `JoinError`: why a task produced no output.

use std::any::Any;
use std::fmt;

use parking_lot::Mutex;

use crate::task::Id;

/// The reason a task did not return its output: it was cancelled, or it panicked.
///
/// Returned by awaiting a [`JoinHandle`](crate::task::JoinHandle). It names the task it comes
/// from: [`id`](JoinError::id), and the id in its `Display` (`task 7 was cancelled`) and
/// `Debug` (`JoinError::Cancelled(Id(7))`) forms.
///
/// # Examples
///
/// ```
/// flywheel::run(async {
///     let err = flywheel::spawn(async { panic!("boom") }).await.unwrap_err();
///     assert!(err.is_panic());
///     let payload = err.into_panic();
///     assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
/// });
/// ```
pub struct JoinError {
    id: Id,
    repr: Repr,
}

enum Repr {
    Cancelled,
    /// Behind a lock only so that `JoinError` is `Sync` (the payload is merely `Send`), which
    /// lets it become a `Box<dyn Error + Send + Sync>`; it is locked only to format it.
    Panic(Mutex<Box<dyn Any + Send + 'static>>),
}

impl JoinError {
    pub(crate) fn cancelled(id: Id) -> JoinError {
        JoinError {
            id,
            repr: Repr::Cancelled,
        }
    }

    pub(crate) fn panic(id: Id, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            id,
            repr: Repr::Panic(Mutex::new(payload)),
        }
    }

    /// The [`Id`] of the task that failed, the one its
    /// [`JoinHandle::id`](crate::task::JoinHandle::id) returned.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let handle = flywheel::spawn(async { panic!("boom") });
    ///     let id = handle.id();
    ///     assert_eq!(handle.await.unwrap_err().id(), id);
    /// });
    /// ```
    pub fn id(&self) -> Id {
        self.id
    }

    /// True when the task was aborted, or dropped by a runtime shutting down, and dropping
    /// its future did not panic (that makes it a panic: see [`is_panic`](JoinError::is_panic)).
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let handle = flywheel::spawn(std::future::pending::<()>());
    ///     handle.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// True when the task panicked: while polled, or, for a task that was aborted or shut
    /// down, while its future was being dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let err = flywheel::spawn(async { panic!("oops") }).await.unwrap_err();
    ///     assert!(err.is_panic());
    /// });
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The panic payload, to inspect or to re-raise with `std::panic::resume_unwind`.
    ///
    /// # Panics
    ///
    /// Panics when the task was cancelled rather than panicking; check [`is_panic`] first or
    /// use [`try_into_panic`].
    ///
    /// [`is_panic`]: JoinError::is_panic
    /// [`try_into_panic`]: JoinError::try_into_panic
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let err = flywheel::spawn(async { panic!("{}", 7) }).await.unwrap_err();
    ///     let payload = err.into_panic();
    ///     assert_eq!(payload.downcast_ref::<String>().unwrap(), "7");
    /// });
    /// ```
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        match self.repr {
            Repr::Panic(payload) => payload.into_inner(),
            Repr::Cancelled => panic!(
                "JoinError::into_panic called on a cancelled task; check is_panic() or use \
                 try_into_panic()"
            ),
        }
    }

    /// The panic payload, or the error itself when the task was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let handle = flywheel::spawn(std::future::pending::<()>());
    ///     handle.abort();
    ///     let err = handle.await.unwrap_err();
    ///     assert!(err.try_into_panic().is_err());
    /// });
    /// ```
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(payload) => Ok(payload.into_inner()),
            Repr::Cancelled => Err(self),
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "task {} was cancelled", self.id),
            Repr::Panic(p) => match panic_message(p.lock().as_ref()) {
                Some(msg) => write!(f, "task {} panicked with message {msg:?}", self.id),
                None => write!(f, "task {} panicked", self.id),
            },
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "JoinError::Cancelled({:?})", self.id),
            Repr::Panic(p) => match panic_message(p.lock().as_ref()) {
                Some(msg) => write!(f, "JoinError::Panic({:?}, {msg:?}, ...)", self.id),
                None => write!(f, "JoinError::Panic({:?}, ...)", self.id),
            },
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(err: JoinError) -> std::io::Error {
        std::io::Error::other(err.to_string())
    }
}
