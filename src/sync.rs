//! The atomics the task state word uses: std's normally, loom's when the crate's own unit
//! tests are built with `--cfg flywheel_loom`, so the state machine can be model-checked
//! (see `task/loom_state.rs` for the command). Only test builds use loom (it is a
//! dev-dependency): a plain build, the doctests and the integration tests keep std's atomics
//! even under that cfg.

#[cfg(not(all(test, flywheel_loom)))]
pub(crate) use std::sync::atomic;

#[cfg(all(test, flywheel_loom))]
pub(crate) use loom::sync::atomic;
