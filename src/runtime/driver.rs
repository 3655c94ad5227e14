//! The driver: the I/O reactor and the timer wheel behind one `park(timeout)`.
//!
//! One `Driver` exists per runtime, behind a mutex in the runtime's shared state. The idle
//! thread that manages to lock it blocks in `park` (mio's `Poll::poll` with the next timer
//! deadline as the timeout); everything else talks to the `Handle`, which is `Sync`:
//! registering sources, inserting timers, and `unpark` to interrupt a blocked `park`.

use std::io;
use std::time::Duration;

use crate::io::reactor;
use crate::time::driver as time;

/// The part of the driver that only the parked thread uses.
pub(crate) struct Driver {
    io: reactor::Reactor,
}

/// The shared part of the driver.
pub(crate) struct Handle {
    pub(crate) io: reactor::Handle,
    pub(crate) time: time::Handle,
}

impl Driver {
    pub(crate) fn new(start_paused: bool) -> io::Result<(Driver, Handle)> {
        let (io, io_handle) = reactor::Reactor::new()?;
        let time = time::Handle::new(start_paused);
        Ok((
            Driver { io },
            Handle {
                io: io_handle,
                time,
            },
        ))
    }

    /// Blocks until an I/O event, a due timer, `timeout` or an `unpark`, then wakes the
    /// tasks whose events or deadlines arrived. `Some(Duration::ZERO)` only polls.
    pub(crate) fn park(&mut self, handle: &Handle, timeout: Option<Duration>) {
        let timeout = handle.time.park_timeout(timeout);
        self.io.turn(&handle.io, timeout);
        handle.time.process();
    }
}

impl Handle {
    /// Interrupts a thread blocked in `Driver::park`.
    pub(crate) fn unpark(&self) {
        self.io.unpark();
    }
}
