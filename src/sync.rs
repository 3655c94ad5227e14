//! The synchronisation primitives that loom models check: std's atomics and `Arc`, and
//! parking_lot's locks, normally; loom's when the crate's own unit tests are built with
//! `--cfg flywheel_loom`, so the state machines built on them can be model-checked (see
//! `task/loom_state.rs`, `task/loom_join.rs`, `task/loom_ready.rs`,
//! `runtime/scheduler/loom_idle.rs` and `io/loom_readiness.rs`; `cargo test --release --lib
//! loom_` under that cfg runs them all). Only test builds use loom (it is a dev-dependency):
//! a plain build, the doctests and the integration tests keep std's and parking_lot's types
//! even under that cfg.
//!
//! The locks keep parking_lot's API (`lock()` returns the guard, `Condvar::wait` takes
//! `&mut guard`) under loom too, so the code using them reads the same in both builds.

#[cfg(not(all(test, flywheel_loom)))]
pub(crate) use std::sync::atomic;

#[cfg(all(test, flywheel_loom))]
pub(crate) use loom::sync::atomic;

#[cfg(all(test, flywheel_loom))]
pub(crate) use loom_lock::Mutex as StdMutex;
#[cfg(not(all(test, flywheel_loom)))]
pub(crate) use parking_lot::{Condvar, Mutex};
#[cfg(not(all(test, flywheel_loom)))]
pub(crate) use std::sync::Arc;
#[cfg(not(all(test, flywheel_loom)))]
pub(crate) use std_lock::StdMutex;

#[cfg(all(test, flywheel_loom))]
pub(crate) use loom::sync::Arc;
#[cfg(all(test, flywheel_loom))]
pub(crate) use loom_lock::{Condvar, Mutex};

/// std's mutex behind parking_lot's API, for the locks a spawning thread shares with the
/// workers (the injector, the owned-set shards). When such a lock is taken, parking_lot
/// spins and then calls `sched_yield`; on a machine with more runnable threads than cores
/// (busy workers and a spawner) that yield hands the core to a busy worker for a whole
/// time slice, 3-4 ms, while the holder was done after a microsecond. std's lock spins, then
/// sleeps on a futex that the holder's unlock wakes at once.
#[cfg(not(all(test, flywheel_loom)))]
mod std_lock {
    /// See the module docs above.
    #[derive(Debug, Default)]
    pub(crate) struct StdMutex<T>(std::sync::Mutex<T>);

    impl<T> StdMutex<T> {
        pub(crate) const fn new(value: T) -> StdMutex<T> {
            StdMutex(std::sync::Mutex::new(value))
        }

        /// The guard. The data stays usable after a panic under the lock (as parking_lot's
        /// does): the code under these locks leaves the data consistent at every step.
        pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, T> {
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        }
    }
}

/// loom's lock and condvar behind parking_lot's API.
#[cfg(all(test, flywheel_loom))]
mod loom_lock {
    use std::ops::{Deref, DerefMut};

    /// A loom mutex that hands out its guard directly, like parking_lot's.
    #[derive(Debug, Default)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    /// Its guard; `None` only inside `Condvar::wait`.
    pub(crate) struct MutexGuard<'a, T>(Option<loom::sync::MutexGuard<'a, T>>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Mutex<T> {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            MutexGuard(Some(self.0.lock().expect("loom mutex poisoned")))
        }
    }

    impl<T> Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            self.0.as_ref().expect("guard present outside wait")
        }
    }

    impl<T> DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            self.0.as_mut().expect("guard present outside wait")
        }
    }

    /// A loom condvar waited on through `&mut guard`, like parking_lot's.
    pub(crate) struct Condvar(loom::sync::Condvar);

    impl Condvar {
        pub(crate) fn new() -> Condvar {
            Condvar(loom::sync::Condvar::new())
        }

        pub(crate) fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
            let inner = guard.0.take().expect("guard present outside wait");
            guard.0 = Some(self.0.wait(inner).expect("loom mutex poisoned"));
        }

        /// loom does not model time. A timed wait may end at any moment (a timeout, or a
        /// spurious wake-up), and its callers must cope with that; the harshest case, which
        /// this returns, is that it ends at once, without waiting for anything.
        pub(crate) fn wait_for<T>(
            &self,
            _guard: &mut MutexGuard<'_, T>,
            _timeout: std::time::Duration,
        ) {
        }

        pub(crate) fn notify_one(&self) {
            self.0.notify_one();
        }

        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
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
