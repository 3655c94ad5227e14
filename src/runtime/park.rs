//! Parking an idle thread.
//!
//! An idle thread that can lock the driver blocks inside it (mio's poll, so I/O events and
//! timers wake it); any other idle thread sleeps on its own condvar. `Unparker::unpark`
//! knows which of the two the thread is doing and interrupts the right one, and does nothing
//! costly when the thread is not asleep (a notification is kept for the next `park`).
//!
//! The protocol on `state` (every change a SeqCst read-modify-write, so that whoever changes
//! it sees what every earlier unparker did before unparking):
//! - `unpark` swaps in `UNPARKED` and then wakes whatever the old value says is asleep;
//! - `park` consumes an `UNPARKED` and returns at once, or moves `EMPTY` to a `PARKED_*` value
//!   (for the condvar, while holding the mutex that `unpark` takes before notifying, so the
//!   notification cannot fall between the check and the wait) and sleeps until `UNPARKED`.
//!
//! The driver is reached through `ParkDriver` / `UnparkDriver` so that the loom model
//! (`scheduler/loom_idle.rs`) runs this code with a stand-in driver.

use std::ops::DerefMut;

use crate::runtime::driver;
use crate::sync::atomic::AtomicUsize;
use crate::sync::atomic::Ordering::SeqCst;
use crate::sync::{Arc, Condvar, Mutex};

/// Not parked, no notification pending.
const EMPTY: usize = 0;
/// Sleeping on the condvar.
const PARKED_CONDVAR: usize = 1;
/// Blocked in the driver.
const PARKED_DRIVER: usize = 2;
/// An unpark arrived; the next park returns at once.
const UNPARKED: usize = 3;

/// Waits up to `rounds` short rounds for `ready()` without sleeping; `true` if it became
/// ready.
///
/// A thread that is about to sleep spins first because on this kind of machine (a VM) waking
/// a sleeping thread costs the waker a futex call plus an inter-processor interrupt and the
/// sleeper 15-45 us, while a wake-up that lands during the spin costs one atomic store. A
/// round is 32 pause instructions (~0.4 us here; 64 rounds ~24 us), so the spin is bounded by
/// its round count and never calls `sched_yield`: on Linux's EEVDF scheduler each
/// `sched_yield` pushes the thread's deadline back a full slice, and a `block_on` thread that
/// had yielded while 2 workers ran busy tasks waited 10-20 ms for a CPU once woken
/// (spawn_many_remote_busy: the last task done 9 ms into an iteration, `block_on` back at 20).
pub(crate) fn spin(rounds: u32, mut ready: impl FnMut() -> bool) -> bool {
    for _ in 0..rounds {
        for _ in 0..32 {
            std::hint::spin_loop();
        }
        if ready() {
            return true;
        }
    }
    false
}

struct Inner {
    state: AtomicUsize,
    mutex: Mutex<()>,
    condvar: Condvar,
}

/// The parking half, owned by the thread that parks.
pub(crate) struct Parker {
    inner: Arc<Inner>,
}

/// The waking half; any thread may hold one.
#[derive(Clone)]
pub(crate) struct Unparker {
    inner: Arc<Inner>,
}

impl Parker {
    pub(crate) fn new() -> (Parker, Unparker) {
        let inner = Arc::new(Inner {
            state: AtomicUsize::new(EMPTY),
            mutex: Mutex::new(()),
            condvar: Condvar::new(),
        });
        (
            Parker {
                inner: inner.clone(),
            },
            Unparker { inner },
        )
    }

    /// Blocks until `unpark` (or, in the driver, an event or a due timer). Takes the driver
    /// when no other thread holds it.
    pub(crate) fn park(
        &self,
        driver: &parking_lot::Mutex<driver::Driver>,
        handle: &driver::DriverHandle,
    ) {
        self.park_with(|| driver.try_lock(), handle);
    }

    /// `park` with any driver: `try_driver` locks it if it is free.
    pub(crate) fn park_with<G, D>(&self, try_driver: impl FnOnce() -> Option<G>, handle: &D::Unpark)
    where
        G: DerefMut<Target = D>,
        D: ParkDriver,
    {
        if self.take_notification() {
            return;
        }
        match try_driver() {
            Some(mut driver) => self.park_driver(&mut *driver, handle),
            None => self.park_condvar(),
        }
    }

    /// `park`, but for at most about `timeout` (the rescue patrol's tick). An unpark that
    /// lands meanwhile ends it early, or is kept for the next park, as for `park`.
    pub(crate) fn park_timeout(
        &self,
        driver: &parking_lot::Mutex<driver::Driver>,
        handle: &driver::DriverHandle,
        timeout: std::time::Duration,
    ) {
        if self.take_notification() {
            return;
        }
        let Some(mut driver) = driver.try_lock() else {
            self.park_condvar_timeout(timeout);
            return;
        };
        if !self.begin_park(PARKED_DRIVER) {
            return;
        }
        driver.park(handle, Some(timeout));
        // An unpark (UNPARKED), or an event, a timer or the timeout (still PARKED_DRIVER).
        self.consume_notification();
    }

    fn park_condvar_timeout(&self, timeout: std::time::Duration) {
        let mut guard = self.inner.mutex.lock();
        if !self.begin_park(PARKED_CONDVAR) {
            return;
        }
        let _ = self.inner.condvar.wait_for(&mut guard, timeout);
        // Timed out (or woke spuriously: the caller only patrols early): still
        // PARKED_CONDVAR. Otherwise an unparker swapped in UNPARKED and is waiting for the
        // mutex to notify a thread that no longer waits, which is harmless. Under the mutex,
        // so the two cannot interleave otherwise.
        self.consume_notification();
    }

    /// Moves `EMPTY` to `parked` (`PARKED_CONDVAR` or `PARKED_DRIVER`); false when an unpark
    /// came first, which it consumes: the caller returns without sleeping.
    fn begin_park(&self, parked: usize) -> bool {
        match self
            .inner
            .state
            .compare_exchange(EMPTY, parked, SeqCst, SeqCst)
        {
            Ok(_) => true,
            Err(UNPARKED) => {
                self.consume_notification();
                false
            }
            Err(actual) => unreachable!("park state {actual} while parking"),
        }
    }

    fn take_notification(&self) -> bool {
        self.inner
            .state
            .compare_exchange(UNPARKED, EMPTY, SeqCst, SeqCst)
            .is_ok()
    }

    fn park_driver<D: ParkDriver>(&self, driver: &mut D, handle: &D::Unpark) {
        if !self.begin_park(PARKED_DRIVER) {
            return;
        }
        driver.park_idle(handle);
        // Either an unpark (UNPARKED) or an event/timeout (still PARKED_DRIVER).
        self.consume_notification();
    }

    /// Back to `EMPTY` after a wake-up, with a read-modify-write: it reads the last unpark's
    /// `UNPARKED`, so whatever that unparker did before unparking is visible to this thread.
    /// A plain store would read nothing: with two unparks racing a wake-up, the second one's
    /// notification would be overwritten and its data possibly unseen, and the caller could
    /// go back to sleep for good (found by `loom_park_two_unparkers`).
    fn consume_notification(&self) {
        self.inner.state.swap(EMPTY, SeqCst);
    }

    fn park_condvar(&self) {
        let mut guard = self.inner.mutex.lock();
        if !self.begin_park(PARKED_CONDVAR) {
            return;
        }
        loop {
            self.inner.condvar.wait(&mut guard);
            if self
                .inner
                .state
                .compare_exchange(UNPARKED, EMPTY, SeqCst, SeqCst)
                .is_ok()
            {
                return;
            }
            // Spurious wake-up: keep sleeping.
        }
    }
}

impl Unparker {
    /// Wakes the parked thread, or makes its next park return at once.
    pub(crate) fn unpark(&self, driver: &impl UnparkDriver) {
        match self.inner.state.swap(UNPARKED, SeqCst) {
            EMPTY | UNPARKED => {}
            PARKED_CONDVAR => {
                // Taking the lock orders this notify after the sleeper's wait began.
                drop(self.inner.mutex.lock());
                self.inner.condvar.notify_one();
            }
            PARKED_DRIVER => driver.unpark_driver(),
            actual => unreachable!("park state {actual}"),
        }
    }

    /// True while the thread blocks in the driver (so waking it costs a syscall, and it is
    /// the one watching I/O).
    pub(crate) fn is_in_driver(&self) -> bool {
        self.inner.state.load(SeqCst) == PARKED_DRIVER
    }
}

/// What a parked thread blocks in when it holds the driver.
pub(crate) trait ParkDriver {
    /// The shared half, through which `unpark` interrupts the blocked thread.
    type Unpark: UnparkDriver;
    /// Blocks until an event, a due timer or `unpark_driver` (which is kept if it comes
    /// first, so the next `park_idle` returns at once).
    fn park_idle(&mut self, handle: &Self::Unpark);
}

/// Interrupts the thread blocked in a `ParkDriver`.
pub(crate) trait UnparkDriver {
    fn unpark_driver(&self);
}

impl ParkDriver for driver::Driver {
    type Unpark = driver::DriverHandle;
    fn park_idle(&mut self, handle: &driver::DriverHandle) {
        self.park(handle, None);
    }
}

impl UnparkDriver for driver::DriverHandle {
    fn unpark_driver(&self) {
        self.unpark();
    }
}

/// Loom models of the parker: park against unpark, on the condvar and in the driver, with the
/// UNPARKED state kept for a later park. A lost unpark shows up as a deadlock.
///
/// ```text
/// LOOM_MAX_PREEMPTIONS=3 RUSTFLAGS="--cfg flywheel_loom" CARGO_TARGET_DIR=target/loom \
///     cargo test --release --lib loom_park
/// ```
#[cfg(all(test, flywheel_loom))]
pub(crate) mod loom_park {
    use loom::thread;

    use super::{ParkDriver, Parker, UnparkDriver};
    use crate::sync::atomic::AtomicBool;
    use crate::sync::atomic::Ordering::{Acquire, Release};
    use crate::sync::{Arc, Condvar, Mutex};

    /// A stand-in for the I/O driver: `park_idle` blocks until `unpark_driver`, which is kept
    /// if it comes first (like mio's `Waker`). Stateless: the state is in the handle.
    pub(crate) struct Driver;

    /// The stand-in driver's shared half.
    pub(crate) struct DriverHandle {
        woken: Mutex<bool>,
        condvar: Condvar,
    }

    impl DriverHandle {
        pub(crate) fn new() -> DriverHandle {
            DriverHandle {
                woken: Mutex::new(false),
                condvar: Condvar::new(),
            }
        }
    }

    impl ParkDriver for Driver {
        type Unpark = DriverHandle;
        fn park_idle(&mut self, handle: &DriverHandle) {
            let mut woken = handle.woken.lock();
            while !*woken {
                handle.condvar.wait(&mut woken);
            }
            *woken = false;
        }
    }

    impl UnparkDriver for DriverHandle {
        fn unpark_driver(&self) {
            *self.woken.lock() = true;
            self.condvar.notify_one();
        }
    }

    /// Parks once, in the driver or on the condvar.
    fn park(parker: &Parker, in_driver: bool, handle: &DriverHandle) {
        let driver = in_driver.then(|| Box::new(Driver));
        parker.park_with(|| driver, handle);
    }

    /// The parker's contract as its users rely on it: set a flag, unpark; the parked thread
    /// loops on the flag and cannot sleep through the unpark. `first_in_driver` picks where
    /// the first park sleeps; later ones alternate.
    fn flag_then_unpark(first_in_driver: bool) {
        loom::model(move || {
            let (parker, unparker) = Parker::new();
            let handle = Arc::new(DriverHandle::new());
            let flag = Arc::new(AtomicBool::new(false));

            let waker = {
                let (handle, flag) = (handle.clone(), flag.clone());
                thread::spawn(move || {
                    flag.store(true, Release);
                    unparker.unpark(&*handle);
                })
            };
            let mut in_driver = first_in_driver;
            while !flag.load(Acquire) {
                park(&parker, in_driver, &handle);
                in_driver = !in_driver;
            }
            waker.join().expect("waker");
        });
    }

    #[test]
    fn loom_park_condvar_then_unpark() {
        flag_then_unpark(false);
    }

    #[test]
    fn loom_park_driver_then_unpark() {
        flag_then_unpark(true);
    }

    /// The rescue patrol's timed park on the condvar (`park_condvar_timeout`) against an
    /// unpark: the timed wait ends at once (loom's `wait_for` models the timeout that way),
    /// and the unpark must not be lost in the exit — either the parker sees the flag, or
    /// the notification is kept and a plain park after it returns.
    #[test]
    fn loom_park_timeout_keeps_the_unpark() {
        loom::model(|| {
            let (parker, unparker) = Parker::new();
            let handle = Arc::new(DriverHandle::new());
            let flag = Arc::new(AtomicBool::new(false));
            let waker = {
                let (handle, flag) = (handle.clone(), flag.clone());
                thread::spawn(move || {
                    flag.store(true, Release);
                    unparker.unpark(&*handle);
                })
            };
            parker.park_condvar_timeout(std::time::Duration::from_millis(2));
            if !flag.load(Acquire) {
                // A lost unpark would leave this asleep for good: loom reports a deadlock.
                park(&parker, false, &handle);
                assert!(flag.load(Acquire));
            }
            waker.join().expect("waker");
        });
    }

    /// Two unparkers at once (a notifier and shutdown): the parker wakes, no state is left
    /// inconsistent (the `unreachable!` arms would panic), and a UNPARKED left over makes the
    /// next park return at once instead of sleeping.
    #[test]
    fn loom_park_two_unparkers() {
        loom::model(|| {
            let (parker, unparker) = Parker::new();
            let handle = Arc::new(DriverHandle::new());
            let flags = Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);

            let wakers: Vec<_> = (0..2)
                .map(|i| {
                    let (handle, flags, unparker) =
                        (handle.clone(), flags.clone(), unparker.clone());
                    thread::spawn(move || {
                        flags[i].store(true, Release);
                        unparker.unpark(&*handle);
                    })
                })
                .collect();
            let mut in_driver = true;
            while !(flags[0].load(Acquire) && flags[1].load(Acquire)) {
                park(&parker, in_driver, &handle);
                in_driver = !in_driver;
            }
            for waker in wakers {
                waker.join().expect("waker");
            }
        });
    }
}
