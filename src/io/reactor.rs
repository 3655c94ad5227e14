//! The reactor: one `mio::Poll` per runtime and the `mio::Waker` that interrupts it.

use std::io;
use std::time::Duration;

use mio::{Events, Poll, Token};

/// The token of the `mio::Waker`; never handed to a registration.
const WAKER_TOKEN: Token = Token(usize::MAX);
/// How many events one `turn` takes from the OS at most.
const EVENTS_CAPACITY: usize = 1024;

/// The owned half: polled by the one thread that parks on the driver.
pub(crate) struct Reactor {
    poll: Poll,
    events: Events,
}

/// The shared half.
pub(crate) struct Handle {
    waker: mio::Waker,
}

impl Reactor {
    pub(crate) fn new() -> io::Result<(Reactor, Handle)> {
        let poll = Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), WAKER_TOKEN)?;
        Ok((
            Reactor {
                poll,
                events: Events::with_capacity(EVENTS_CAPACITY),
            },
            Handle { waker },
        ))
    }

    /// Waits for events (at most `timeout`) and dispatches them.
    pub(crate) fn turn(&mut self, _handle: &Handle, timeout: Option<Duration>) {
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            // A signal interrupted the wait: the caller re-checks its queues anyway.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return,
            Err(e) => panic!("flywheel: the OS poller failed: {e}"),
        }
        for event in self.events.iter() {
            if event.token() == WAKER_TOKEN {
                continue;
            }
        }
    }
}

impl Handle {
    pub(crate) fn unpark(&self) {
        // Failing to write the eventfd only happens when it is full, which already means a
        // wake-up is pending.
        let _ = self.waker.wake();
    }
}
