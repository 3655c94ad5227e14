//! I/O: the reactor that turns OS readiness into task wake-ups.

pub(crate) mod reactor;
