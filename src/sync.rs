//! The synchronisation primitives the task code uses: std's (and parking_lot's) normally,
//! loom's when the crate's own unit tests are built with `--cfg flywheel_loom`, so the state
//! word, the join-waker hand-over and a task group's ready list can be model-checked (see
//! `task/loom_state.rs` for the command). Only test builds use loom (it is a
//! dev-dependency): a plain build, the doctests and the integration tests keep the real
//! primitives even under that cfg.
//!
//! Each item has the same API in both variants, so the code using it does not change.

#[cfg(not(all(test, flywheel_loom)))]
pub(crate) use std::sync::atomic;

#[cfg(all(test, flywheel_loom))]
pub(crate) use loom::sync::atomic;

/// A mutex: parking_lot's, or loom's behind parking_lot's API (`lock` returns the guard).
#[cfg(not(all(test, flywheel_loom)))]
pub(crate) use parking_lot::Mutex;

#[cfg(all(test, flywheel_loom))]
pub(crate) use self::loom_mutex::Mutex;

#[cfg(all(test, flywheel_loom))]
mod loom_mutex {
    /// loom's mutex with parking_lot's API: no poisoning.
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Mutex<T> {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
            // A model thread that panicked while holding the lock fails the model anyway.
            self.0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        }
    }
}

/// A cell for data whose exclusive access is proven by a protocol rather than by the type
/// system. It hands out raw pointers only; dereferencing them is `unsafe` and happens in
/// `task/cell.rs` alone. Under loom every access is checked against the model's
/// happens-before order, so a protocol that lets two threads touch it at once fails the model.
#[cfg(not(all(test, flywheel_loom)))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(all(test, flywheel_loom)))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> UnsafeCell<T> {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// Runs `f` with a pointer the caller may read through.
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` with a pointer the caller may write through.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

#[cfg(all(test, flywheel_loom))]
pub(crate) use loom::cell::UnsafeCell;
