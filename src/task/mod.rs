//! Tasks: handles to spawned work, their ids and errors, yielding, and task groups.
//!
//! Task groups are the Rust counterparts of asyncio's: [`JoinSet`] (`TaskGroup` and
//! `create_task`), [`wait`] with [`ReturnWhen`] (`asyncio.wait`), [`join_all`] and
//! [`try_join_all`] (`gather`), [`as_completed`], and [`select`] / [`select_all`].
//!
//! [`Builder`] spawns a task with a name, which `Handle::dump` shows.

mod as_completed;
pub(crate) mod builder;
pub(crate) mod callback;
pub(crate) mod cell;
pub(crate) mod coop;
mod error;
mod gather;
mod group;
pub(crate) mod id;
mod join_handle;
mod join_set;
mod local;
#[cfg(all(test, flywheel_loom))]
mod loom_join;
#[cfg(all(test, flywheel_loom))]
mod loom_ready;
#[cfg(all(test, flywheel_loom))]
mod loom_state;
mod ready;
pub(crate) mod schedule;
mod select;
pub(crate) mod state;
mod wait;
mod yield_now;

pub use crate::runtime::block_in_place;
pub use as_completed::{as_completed, AsCompleted};
pub use builder::Builder;
pub use error::JoinError;
pub use gather::{join_all, try_join_all, JoinAll, TryJoinAll, TryJoinError};
pub use id::{id, try_id, Id};
pub use join_handle::{AbortHandle, JoinHandle};
pub use join_set::{JoinNext, JoinNextWithId, JoinSet, JoinSetWait, Shutdown};
pub use local::spawn_local;
pub use select::{select, select_all, Either};
pub use wait::{wait, Outcome, ReturnWhen, Wait, Waited};
pub use yield_now::{yield_now, YieldNow};
