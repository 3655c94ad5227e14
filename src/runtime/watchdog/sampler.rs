//! The watchdog's moving parts: the per-worker `Beat` words the workers store as they poll,
//! and the thread that samples them and reports each poll past the threshold once.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Weak};
use std::thread;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::runtime::RuntimeShared;
use crate::task::callback;

use super::{print_report, LongPoll, Report, BLOCK_ON, IDLE, MAX_PERIOD, MIN_PERIOD, UNKNOWN};

/// One beat per worker (one in all on a current-thread runtime).
pub(crate) struct Beats {
    beats: Box<[Beat]>,
}

/// One worker's poll word: `sequence << 32 | key`, written only by that worker.
#[repr(align(128))]
pub(crate) struct Beat(AtomicU64);

impl Beats {
    pub(crate) fn new(num_workers: usize) -> Arc<Beats> {
        Arc::new(Beats {
            beats: (0..num_workers)
                .map(|_| Beat(AtomicU64::new(u64::from(IDLE))))
                .collect(),
        })
    }

    pub(crate) fn worker(&self, index: usize) -> &Beat {
        &self.beats[index]
    }
}

impl Beat {
    /// The worker starts polling the task whose owned-set key is `key`.
    #[inline]
    pub(crate) fn poll(&self, key: usize) {
        self.store(u32::try_from(key).unwrap_or(UNKNOWN).min(UNKNOWN));
    }

    /// The thread starts polling its current-thread `block_on` future.
    #[inline]
    pub(crate) fn poll_block_on(&self) {
        self.store(BLOCK_ON);
    }

    /// The worker is not polling anything: it parks or looks at the driver.
    #[inline]
    pub(crate) fn idle(&self) {
        self.store(IDLE);
    }

    /// A new word with the next sequence number. Load and store, not a read-modify-write:
    /// only the owner writes, and the line is in its cache.
    #[inline]
    fn store(&self, key: u32) {
        let sequence = (self.0.load(Relaxed) >> 32).wrapping_add(1);
        self.0.store(sequence << 32 | u64::from(key), Relaxed);
    }

    fn sample(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// What the watchdog was told to do, from the `Builder`.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) threshold: Duration,
    pub(crate) report: Option<Report>,
}

/// The running watchdog thread of one runtime; stopping (or dropping) it joins the thread.
pub(crate) struct Watchdog {
    shared: Arc<Shared>,
    thread: Option<thread::JoinHandle<()>>,
}

/// What the watchdog thread and the runtime share.
struct Shared {
    stop: Mutex<bool>,
    wake: Condvar,
}

/// What only the watchdog thread uses.
struct Sampler {
    threshold: Duration,
    report: Report,
    beats: Arc<Beats>,
    runtime: Weak<RuntimeShared>,
    /// Per worker: the word last seen, when it was first seen, and whether it was reported.
    seen: Vec<Seen>,
}

#[derive(Clone, Copy)]
struct Seen {
    word: u64,
    since: Instant,
    reported: bool,
}

impl Watchdog {
    /// Starts the watchdog thread of the runtime at `runtime`, whose workers write `beats`.
    pub(crate) fn start(
        config: &Config,
        beats: Arc<Beats>,
        runtime: &Arc<RuntimeShared>,
    ) -> std::io::Result<Watchdog> {
        let shared = Arc::new(Shared {
            stop: Mutex::new(false),
            wake: Condvar::new(),
        });
        let period = (config.threshold / 4).clamp(MIN_PERIOD, MAX_PERIOD);
        let now = Instant::now();
        let mut sampler = Sampler {
            threshold: config.threshold,
            report: config
                .report
                .clone()
                .unwrap_or_else(|| Arc::new(print_report)),
            seen: (0..beats.beats.len())
                .map(|_| Seen {
                    word: u64::from(IDLE),
                    since: now,
                    reported: false,
                })
                .collect(),
            beats,
            runtime: Arc::downgrade(runtime),
        };
        let theirs = shared.clone();
        let thread = thread::Builder::new()
            .name("flywheel-watchdog".to_owned())
            .spawn(move || {
                let mut stop = theirs.stop.lock();
                while !*stop {
                    if theirs.wake.wait_for(&mut stop, period).timed_out() && !*stop {
                        // Not under the lock: the report runs user code.
                        parking_lot::MutexGuard::unlocked(&mut stop, || sampler.sample());
                    }
                }
            })?;
        Ok(Watchdog {
            shared,
            thread: Some(thread),
        })
    }

    /// Stops the thread and waits for it, unless this is the watchdog thread itself (a
    /// report callback dropping the runtime): it then ends after the callback returns.
    pub(crate) fn stop(&mut self) {
        *self.shared.stop.lock() = true;
        self.shared.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            if thread.thread().id() != thread::current().id() {
                // A panic there was contained already; nothing else can end it badly.
                let _ = thread.join();
            }
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop();
    }
}

impl fmt::Debug for Watchdog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watchdog").finish_non_exhaustive()
    }
}

impl Sampler {
    /// Looks at every beat once, and reports the polls that crossed the threshold.
    fn sample(&mut self) {
        let now = Instant::now();
        for worker in 0..self.seen.len() {
            let word = self.beats.worker(worker).sample();
            let seen = &mut self.seen[worker];
            if word != seen.word {
                *seen = Seen {
                    word,
                    since: now,
                    reported: false,
                };
                continue;
            }
            let elapsed = now.saturating_duration_since(seen.since);
            if seen.reported || key(word) == IDLE || elapsed < self.threshold {
                continue;
            }
            seen.reported = true;
            if let Some(poll) = self.describe(worker, word, elapsed) {
                let report = &self.report;
                // The callback is the user's: a panic in it loses this report only (the
                // panic hook has printed it already).
                let _ = catch_unwind(AssertUnwindSafe(|| report(&poll)));
            }
        }
    }

    /// The report for worker `worker` stuck in the poll that wrote `word`; `None` when the
    /// runtime is gone or the poll ended while the task was looked up.
    fn describe(&self, worker: usize, word: u64, elapsed: Duration) -> Option<LongPoll> {
        let key = key(word);
        let mut poll = LongPoll {
            worker,
            block_on: key == BLOCK_ON,
            id: None,
            name: None,
            location: None,
            elapsed,
        };
        if key == BLOCK_ON || key == UNKNOWN {
            return Some(poll);
        }
        let runtime = self.runtime.upgrade()?;
        let task = runtime.owned.get(key as usize);
        drop(runtime);
        if let Some(task) = &task {
            // The key names the polled task only while that poll lasts: after it, the task
            // may complete and its slot go to a new one. Still the same word, so still the
            // same poll.
            if self.beats.worker(worker).sample() == word {
                let header = task.header();
                poll.id = Some(header.id);
                poll.name = header.name().map(str::to_owned);
                poll.location = Some(header.location());
            }
        }
        // The last reference may be ours now: its destructor is user code.
        callback::release(task);
        Some(poll)
    }
}

fn key(word: u64) -> u32 {
    word as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beats_change_at_every_poll_and_keep_the_key() {
        let beats = Beats::new(1);
        let beat = beats.worker(0);
        beat.poll(5);
        let first = beat.sample();
        beat.poll(5);
        assert_ne!(
            beat.sample(),
            first,
            "a second poll of the same task is a new word"
        );
        assert_eq!(key(beat.sample()), 5);
        beat.poll(usize::MAX);
        assert_eq!(key(beat.sample()), UNKNOWN);
        beat.poll_block_on();
        assert_eq!(key(beat.sample()), BLOCK_ON);
        beat.idle();
        assert_eq!(key(beat.sample()), IDLE);
    }
}
