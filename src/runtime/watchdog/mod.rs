//! The long-poll watchdog: notices a task poll (or a current-thread `block_on` poll) that has
//! run longer than a threshold, and reports it once.
//!
//! Nothing on the hot path reads the clock. Each worker owns a `Beat`: one word it stores
//! (relaxed, in its own cache line) as it starts a poll — a sequence number that changes at
//! every poll, and the owned-set key of the task polled (or `BLOCK_ON`) — and that it sets to
//! `IDLE` before it parks or polls the driver. The watchdog thread wakes every
//! `threshold / 4` and samples every beat, Go-sysmon style: a word that stayed the same for
//! `threshold` or more, and is not `IDLE`, is one poll still running. The first time a given
//! word crosses the threshold is reported; the same word is never reported again, so each long
//! poll gives one report however long it lasts. A poll shorter than the threshold cannot be
//! reported: the word it wrote was first seen after the poll began, and is gone when it ends.
//!
//! While the watchdog is off nothing of this exists: a runtime built without
//! `warn_long_polls` (and without `FLYWHEEL_WARN_LONG_POLLS`) has no `Beats`, and its workers
//! skip the store on an `Option` they test per poll.
//!
//! The watchdog thread holds the runtime weakly and upgrades it only to look a stuck task up
//! in the owned set (for its id, name and spawn location), so it never keeps a runtime alive;
//! `Runtime`'s shutdown stops and joins it. The report callback runs under `catch_unwind`: a
//! panicking callback loses that one report, never the watchdog.

use std::fmt;
use std::panic::Location;
use std::sync::Arc;
use std::time::Duration;

use crate::task::Id;

mod sampler;

pub(crate) use sampler::{Beat, Beats, Config, Watchdog};

/// The environment variable that turns the watchdog on for every runtime built without
/// [`Builder::warn_long_polls`](crate::Builder::warn_long_polls).
pub(crate) const ENV: &str = "FLYWHEEL_WARN_LONG_POLLS";

/// Key of a beat whose worker is not polling (parked, or looking at the driver).
const IDLE: u32 = u32::MAX;
/// Key of a beat whose thread polls its current-thread `block_on` future.
const BLOCK_ON: u32 = u32::MAX - 1;
/// Key of a task whose owned-set key does not fit in 32 bits (or that is not owned).
const UNKNOWN: u32 = u32::MAX - 2;

/// Shortest and longest pause between two samples of the beats.
const MIN_PERIOD: Duration = Duration::from_millis(1);
const MAX_PERIOD: Duration = Duration::from_secs(1);

/// What the user asked to run on each long poll.
pub(crate) type Report = Arc<dyn Fn(&LongPoll) + Send + Sync>;

/// One poll that has been running longer than the threshold given to
/// [`Builder::warn_long_polls`](crate::Builder::warn_long_polls), as passed to
/// [`Builder::on_long_poll`](crate::Builder::on_long_poll).
///
/// It is reported once per poll, while the poll still runs: [`elapsed`](LongPoll::elapsed)
/// says how long it had run when the watchdog noticed (at least the threshold, and at most
/// a quarter of it more, since the watchdog samples the workers every quarter threshold).
/// More accessors may be added; the type cannot be built outside flywheel.
///
/// `Display` prints the line the default report writes to stderr.
///
/// # Examples
///
/// ```
/// use std::sync::mpsc;
/// use std::time::Duration;
///
/// let (tx, rx) = mpsc::channel();
/// let tx = std::sync::Mutex::new(tx);
/// let rt = flywheel::Builder::new_multi_thread()
///     .worker_threads(2)
///     .warn_long_polls(Duration::from_millis(20))
///     .on_long_poll(move |poll| {
///         let _ = tx.lock().unwrap().send((poll.worker(), poll.id(), poll.elapsed()));
///     })
///     .build()
///     .unwrap();
/// let task = rt.spawn(async { std::thread::sleep(Duration::from_millis(100)) });
/// let id = task.id();
/// rt.block_on(task).unwrap();
/// let (worker, reported, elapsed) = rx.recv().unwrap();
/// assert!(worker < 2);
/// assert_eq!(reported, Some(id));
/// assert!(elapsed >= Duration::from_millis(20));
/// ```
#[derive(Clone, Debug)]
pub struct LongPoll {
    worker: usize,
    /// The poll is of the current-thread `block_on` future, not of a task.
    block_on: bool,
    id: Option<Id>,
    name: Option<String>,
    location: Option<&'static Location<'static>>,
    elapsed: Duration,
}

impl LongPoll {
    /// The index of the worker stuck in the poll (below
    /// [`RuntimeMetrics::num_workers`](crate::RuntimeMetrics::num_workers); always 0 on a
    /// current-thread runtime).
    ///
    /// # Examples
    ///
    /// See [`LongPoll`].
    pub fn worker(&self) -> usize {
        self.worker
    }

    /// The id of the task being polled, or `None` when the long poll is the future given to
    /// a current-thread `block_on`, which is not a task (or, rarely, when the task could not
    /// be looked up: the runtime was shutting down).
    ///
    /// # Examples
    ///
    /// See [`LongPoll`].
    pub fn id(&self) -> Option<Id> {
        self.id
    }

    /// The task's name, if it was given one (`None` for the `block_on` future too).
    ///
    /// # Examples
    ///
    /// ```
    /// # let poll: Option<flywheel::LongPoll> = None;
    /// if let Some(poll) = poll {
    ///     println!("{}", poll.name().unwrap_or("<unnamed>"));
    /// }
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where the task was spawned: the user's call to a spawn function (`None` for the
    /// `block_on` future, and in the rare report of a task that could not be looked up).
    ///
    /// # Examples
    ///
    /// ```
    /// # let poll: Option<flywheel::LongPoll> = None;
    /// if let Some(at) = poll.and_then(|p| p.location()) {
    ///     println!("spawned at {}:{}", at.file(), at.line());
    /// }
    /// ```
    pub fn location(&self) -> Option<&'static Location<'static>> {
        self.location
    }

    /// How long the poll had been running when the watchdog reported it.
    ///
    /// # Examples
    ///
    /// See [`LongPoll`].
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }
}

impl fmt::Display for LongPoll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "flywheel: worker {} is stuck polling ", self.worker)?;
        match self.id {
            Some(id) => write!(f, "task {id}")?,
            None if self.block_on => f.write_str("the block_on future")?,
            None => f.write_str("a task")?,
        }
        if let Some(name) = &self.name {
            write!(f, " {name:?}")?;
        }
        if let Some(at) = self.location {
            write!(f, " (spawned at {at})")?;
        }
        write!(
            f,
            ": running for {:?} without returning; move blocking work to spawn_blocking",
            self.elapsed
        )
    }
}

/// The default report: one line on stderr.
fn print_report(poll: &LongPoll) {
    eprintln!("{poll}");
}

/// Parses a threshold as `FLYWHEEL_WARN_LONG_POLLS` writes it: `100ms`, `2s`, `500us`, or a
/// plain number of milliseconds.
pub(crate) fn parse_threshold(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let bad = || {
        format!(
            "flywheel: ignoring {ENV}={value:?}: expected a positive duration such as 100ms, 2s, \
             500us or 100 (milliseconds)"
        )
    };
    let n: u64 = number.parse().map_err(|_| bad())?;
    let threshold = match unit.trim() {
        "" | "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "us" | "µs" => Duration::from_micros(n),
        _ => return Err(bad()),
    };
    if threshold.is_zero() {
        return Err(bad());
    }
    Ok(threshold)
}

/// The threshold `FLYWHEEL_WARN_LONG_POLLS` asks for, if it is set and valid; a bad value
/// is reported once on stderr and ignored.
pub(crate) fn threshold_from_env() -> Option<Duration> {
    let value = std::env::var_os(ENV)?;
    let parsed = match value.to_str() {
        Some(text) => parse_threshold(text),
        None => Err(format!("flywheel: ignoring {ENV}: not valid UTF-8")),
    };
    match parsed {
        Ok(threshold) => Some(threshold),
        Err(warning) => {
            eprintln!("{warning}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_parse_with_units_or_as_milliseconds() {
        assert_eq!(parse_threshold("100ms"), Ok(Duration::from_millis(100)));
        assert_eq!(parse_threshold("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_threshold("500us"), Ok(Duration::from_micros(500)));
        assert_eq!(parse_threshold(" 250 "), Ok(Duration::from_millis(250)));
        assert_eq!(parse_threshold("7 ms"), Ok(Duration::from_millis(7)));
    }

    #[test]
    fn bad_thresholds_are_refused_with_a_clear_message() {
        for bad in ["", "ms", "fast", "-5ms", "10min", "1.5s", "0", "0ms"] {
            let err = parse_threshold(bad).unwrap_err();
            assert!(err.contains(ENV) && err.contains("100ms"), "{bad}: {err}");
        }
    }
}
