//! Running a non-blocking operation against a source's readiness: `poll_io` waits and retries
//! on `WouldBlock`, `try_io` runs once now; both clear only the readiness the operation used.

use std::io;
use std::task::{ready, Context, Poll};

use super::{gone, Direction, ScheduledIo};

impl ScheduledIo {
    /// Waits until `direction` is ready (storing the waker as `poll_ready` does), runs the
    /// non-blocking `op`, and on `WouldBlock` clears the readiness `op` was given and waits
    /// again. `drained(&output)` says a successful `op` used the readiness up too. Fails
    /// once the source is shut down.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut key: Option<&mut Option<usize>>,
        mut op: impl FnMut() -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        loop {
            let key = key.as_deref_mut();
            let event = ready!(self.poll_ready(cx, direction, key));
            if event.is_shutdown() {
                return Poll::Ready(Err(gone()));
            }
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.clear_readiness(event, direction);
                }
                Ok(output) => {
                    if drained(&output) {
                        self.clear_readiness(event, direction);
                    }
                    return Poll::Ready(Ok(output));
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl ScheduledIo {
    /// Runs the non-blocking `op` once, now, if `direction` is ready; for the `try_*`
    /// methods. Never waits and never stores a waker.
    ///
    /// Without readiness it returns `WouldBlock` without calling `op` (the reactor has not
    /// reported the direction ready since the last `WouldBlock`). When `op` returns
    /// `WouldBlock`, or `drained(&output)` says it used the readiness up, the readiness
    /// observed *before* `op` is cleared, unless an event with a newer tick arrived
    /// meanwhile: the next wait then sleeps until the OS reports something new, and an event
    /// that raced with `op` is kept. Fails once the source is shut down.
    pub(crate) fn try_io<R>(
        &self,
        direction: Direction,
        op: impl FnOnce() -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> io::Result<R> {
        let Some(event) = self.ready_event(direction) else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        if event.is_shutdown() {
            return Err(gone());
        }
        match op() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear_readiness(event, direction);
                Err(e)
            }
            Ok(output) => {
                if drained(&output) {
                    self.clear_readiness(event, direction);
                }
                Ok(output)
            }
            Err(e) => Err(e),
        }
    }
}
