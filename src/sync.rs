//! The atomics the task state word uses: std's normally, loom's under `--cfg flywheel_loom`
//! so the state machine can be model-checked (`tests`/`.ci/run` show the command).

#[cfg(not(flywheel_loom))]
pub(crate) use std::sync::atomic;

#[cfg(flywheel_loom)]
pub(crate) use loom::sync::atomic;
