//! Time: a hierarchical timer wheel driving sleeps, timeouts and intervals.

pub(crate) mod driver;
