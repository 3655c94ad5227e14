//! How the runtime starts its threads: the name, stack size and lifecycle hooks chosen on
//! the `Builder`, shared by the workers (and their `block_in_place` replacements) and the
//! blocking pool.
//!
//! Every hook is optional and checked where it would run (thread start and exit, park and
//! unpark), never per poll: an unset hook costs one `Option` test per park.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::thread;

/// A hook the user registered on the `Builder`.
pub(crate) type Callback = Arc<dyn Fn() + Send + Sync>;

/// Makes the name of each new thread.
pub(crate) type NameFn = Arc<dyn Fn() -> String + Send + Sync>;

/// Thread settings of one runtime.
#[derive(Clone)]
pub(crate) struct ThreadConfig {
    pub(crate) name: NameFn,
    pub(crate) stack_size: Option<usize>,
    pub(crate) on_start: Option<Callback>,
    pub(crate) on_stop: Option<Callback>,
    pub(crate) on_park: Option<Callback>,
    pub(crate) on_unpark: Option<Callback>,
}

impl ThreadConfig {
    /// Starts a runtime thread running `body`, between the start and stop hooks.
    pub(crate) fn spawn(
        &self,
        body: impl FnOnce() + Send + 'static,
    ) -> io::Result<thread::JoinHandle<()>> {
        let mut builder = thread::Builder::new().name((self.name)());
        if let Some(size) = self.stack_size {
            builder = builder.stack_size(size);
        }
        let on_start = self.on_start.clone();
        let on_stop = self.on_stop.clone();
        builder.spawn(move || {
            if let Some(hook) = on_start {
                hook();
            }
            body();
            if let Some(hook) = on_stop {
                hook();
            }
        })
    }

    /// Runs `park` between the park and unpark hooks, when they are set.
    #[inline]
    pub(crate) fn parked<R>(&self, park: impl FnOnce() -> R) -> R {
        if let Some(hook) = &self.on_park {
            hook();
        }
        let out = park();
        if let Some(hook) = &self.on_unpark {
            hook();
        }
        out
    }
}

impl fmt::Debug for ThreadConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadConfig")
            .field("stack_size", &self.stack_size)
            .field("on_start", &self.on_start.is_some())
            .field("on_stop", &self.on_stop.is_some())
            .field("on_park", &self.on_park.is_some())
            .field("on_unpark", &self.on_unpark.is_some())
            .finish_non_exhaustive()
    }
}
