//! The driver: the I/O reactor and the timer wheel behind one `park(timeout)`.
//!
//! One `Driver` exists per runtime, behind a mutex in the runtime's shared state. The idle
//! thread that manages to lock it blocks in `park` (mio's `Poll::poll` with the next timer
//! deadline as the timeout); everything else talks to the `DriverHandle`, which is `Sync`:
//! registering sources, inserting timers, and `unpark` to interrupt a blocked `park`.

use std::io;
use std::time::Duration;

use crate::io::reactor;
use crate::runtime::context;
use crate::runtime::scheduler::Scheduler;
use crate::time::driver as time;

/// The part of the driver that only the parked thread uses.
pub(crate) struct Driver {
    io: reactor::Reactor,
}

/// The shared part of the driver.
pub(crate) struct DriverHandle {
    pub(crate) io: reactor::IoHandle,
    pub(crate) time: time::TimeHandle,
}

impl Driver {
    /// `max_events`: the most I/O events taken from the OS per poll.
    pub(crate) fn new(start_paused: bool, max_events: usize) -> io::Result<(Driver, DriverHandle)> {
        let (io, io_handle) = reactor::Reactor::new(max_events)?;
        let time = time::TimeHandle::new(start_paused);
        Ok((
            Driver { io },
            DriverHandle {
                io: io_handle,
                time,
            },
        ))
    }

    /// Blocks until an I/O event, a due timer, `timeout` or an `unpark`, then wakes the
    /// tasks whose events or deadlines arrived. `Some(Duration::ZERO)` only polls.
    pub(crate) fn park(&mut self, handle: &DriverHandle, timeout: Option<Duration>) {
        let timeout = handle.time.park_timeout(timeout, runtime_is_idle);
        self.io.turn(&handle.io, timeout);
        handle.time.process_after_park();
    }
}

impl Driver {
    /// Dispatches whatever I/O events and due timers are there, without blocking. Used by
    /// busy or searching threads, which are not parked: it leaves park states alone.
    pub(crate) fn poll(&mut self, handle: &DriverHandle) {
        self.park(handle, Some(Duration::ZERO));
    }
}

impl DriverHandle {
    /// Shuts the drivers down once the runtime's scheduler has stopped: every I/O wait on a
    /// source of this runtime fails from then on (waiters are woken to see it), and every
    /// timer of it ends (see `time::driver`), even while handles, join handles or wakers of
    /// the runtime live on.
    pub(crate) fn shutdown(&self) {
        self.io.shutdown();
        self.time.shutdown();
    }

    /// Interrupts a thread blocked in `Driver::park`.
    pub(crate) fn unpark(&self) {
        self.io.unpark();
    }

    /// Called when a thread of the runtime goes idle. With a paused clock, wakes the thread
    /// in the driver so it re-checks whether the whole runtime is idle and the clock may
    /// jump to the next timer; otherwise does nothing (one atomic load).
    pub(crate) fn notify_idle(&self) {
        if self.time.clock.is_paused() {
            self.unpark();
        }
    }
}

/// Whether nothing in the parking thread's runtime can run: no runnable or queued task, no
/// blocking job running, no `block_on` future woken. Only asked when the clock is paused.
fn runtime_is_idle() -> bool {
    let Some(handle) = context::try_current() else {
        return false;
    };
    let shared = &handle.shared;
    let schedulers_idle = match &shared.scheduler {
        Scheduler::CurrentThread(ct) => ct.is_idle(),
        Scheduler::MultiThread(mt) => mt.is_idle(),
    };
    schedulers_idle && shared.blocking.num_busy() == 0
}
