//! The atomics the task state word uses: std's normally, loom's when the crate's own unit
//! tests are built with `--cfg flywheel_loom`, so the state machine can be model-checked
//! (see `task/loom_state.rs` for the command). Only test builds use loom (it is a
//! dev-dependency): a plain build, the doctests and the integration tests keep std's atomics
//! even under that cfg.

#[cfg(not(all(test, flywheel_loom)))]
pub(crate) use std::sync::atomic;

#[cfg(all(test, flywheel_loom))]
pub(crate) use loom::sync::atomic;

/// The lock of an I/O source's waiter lists (`io/registration.rs`): parking_lot's normally,
/// a loom mutex with the same `lock()` signature in loom models (`io/loom_readiness.rs`).
#[cfg(not(all(test, flywheel_loom)))]
pub(crate) use parking_lot::Mutex;

#[cfg(all(test, flywheel_loom))]
pub(crate) use self::loom_mutex::Mutex;

#[cfg(all(test, flywheel_loom))]
mod loom_mutex {
    /// loom's mutex behind parking_lot's interface: `lock` returns the guard itself.
    #[derive(Debug, Default)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Mutex<T> {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
            // Poisoning needs a panic while locked, and a panicking model has failed already.
            self.0
                .lock()
                .expect("no thread of a loom model panics while holding the lock")
        }
    }
}
