//! The time driver: the timer wheel the parked thread consults and advances.

use std::time::Duration;

/// The shared half of the time driver.
pub(crate) struct Handle {}

impl Handle {
    pub(crate) fn new(_start_paused: bool) -> Handle {
        Handle {}
    }

    /// The timeout the parked thread may block for: `timeout`, shortened to the next timer
    /// deadline.
    pub(crate) fn park_timeout(&self, timeout: Option<Duration>) -> Option<Duration> {
        timeout
    }

    /// Fires every timer whose deadline has passed.
    pub(crate) fn process(&self) {}
}
