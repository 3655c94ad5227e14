//! Parking an idle thread.
//!
//! An idle thread that can lock the driver blocks inside it (mio's poll, so I/O events and
//! timers wake it); any other idle thread sleeps on its own condvar. `Unparker::unpark`
//! knows which of the two the thread is doing and interrupts the right one, and does nothing
//! costly when the thread is not asleep (a notification is kept for the next `park`).

use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

use crate::runtime::driver;

/// Not parked, no notification pending.
const EMPTY: usize = 0;
/// Sleeping on the condvar.
const PARKED_CONDVAR: usize = 1;
/// Blocked in the driver.
const PARKED_DRIVER: usize = 2;
/// An unpark arrived; the next park returns at once.
const NOTIFIED: usize = 3;

/// Waits up to `rounds` short rounds for `ready()` without sleeping; `true` if it became
/// ready.
///
/// A thread that is about to sleep spins first because on this kind of machine (a VM) waking
/// a sleeping thread costs the waker a futex call plus an inter-processor interrupt and the
/// sleeper 15-45 us, while a wake-up that lands during the spin costs one atomic store. A
/// round is 32 pause instructions (well under a microsecond); every 8th round yields the CPU
/// so a spinning thread does not starve a runnable one on a busy machine.
pub(crate) fn spin(rounds: u32, mut ready: impl FnMut() -> bool) -> bool {
    for round in 0..rounds {
        for _ in 0..32 {
            std::hint::spin_loop();
        }
        if ready() {
            return true;
        }
        if round % 8 == 7 {
            std::thread::yield_now();
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
    pub(crate) fn park(&self, driver: &Mutex<driver::Driver>, handle: &driver::Handle) {
        if self.take_notification() {
            return;
        }
        match driver.try_lock() {
            Some(mut driver) => self.park_driver(&mut driver, handle),
            None => self.park_condvar(),
        }
    }

    fn take_notification(&self) -> bool {
        self.inner
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
    }

    fn park_driver(&self, driver: &mut driver::Driver, handle: &driver::Handle) {
        match self
            .inner
            .state
            .compare_exchange(EMPTY, PARKED_DRIVER, SeqCst, SeqCst)
        {
            Ok(_) => {}
            Err(NOTIFIED) => {
                self.inner.state.store(EMPTY, SeqCst);
                return;
            }
            Err(actual) => unreachable!("park state {actual} while parking"),
        }
        driver.park(handle, None);
        // Either an unpark (NOTIFIED) or an event/timeout (still PARKED_DRIVER).
        self.inner.state.store(EMPTY, SeqCst);
    }

    fn park_condvar(&self) {
        let mut guard = self.inner.mutex.lock();
        match self
            .inner
            .state
            .compare_exchange(EMPTY, PARKED_CONDVAR, SeqCst, SeqCst)
        {
            Ok(_) => {}
            Err(NOTIFIED) => {
                self.inner.state.store(EMPTY, SeqCst);
                return;
            }
            Err(actual) => unreachable!("park state {actual} while parking"),
        }
        loop {
            self.inner.condvar.wait(&mut guard);
            if self
                .inner
                .state
                .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
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
    pub(crate) fn unpark(&self, handle: &driver::Handle) {
        match self.inner.state.swap(NOTIFIED, SeqCst) {
            EMPTY | NOTIFIED => {}
            PARKED_CONDVAR => {
                // Taking the lock orders this notify after the sleeper's wait began.
                drop(self.inner.mutex.lock());
                self.inner.condvar.notify_one();
            }
            PARKED_DRIVER => handle.unpark(),
            actual => unreachable!("park state {actual}"),
        }
    }

    /// True while the thread blocks in the driver (so waking it costs a syscall, and it is
    /// the one watching I/O).
    pub(crate) fn is_in_driver(&self) -> bool {
        self.inner.state.load(SeqCst) == PARKED_DRIVER
    }
}
