//! `Builder` settings for reproducible runs: a clock that starts paused (virtual time),
//! and a seed that draws the order in which a current-thread runtime polls its tasks.

// Named only by the docs' links.
#[cfg(doc)]
use crate::runtime::Handle;

use super::Builder;

impl Builder {
    /// Starts the runtime with its clock paused: time is virtual, for testing timing code.
    ///
    /// While paused, the clock does not move by itself. Instead, whenever the whole runtime is
    /// idle — no task runnable or queued, no blocking job running, the `block_on` future not
    /// woken (and, on a multi-thread runtime, every worker parked) — it jumps straight to the
    /// next timer deadline and fires it. A test of an hour of intervals therefore runs in
    /// milliseconds and always sees the same sequence of instants.
    /// [`time::advance`](crate::time::advance) moves the clock by hand, and
    /// [`time::resume`](crate::time::resume) returns to real time.
    ///
    /// The virtual clock is the one [`time::Instant::now`](crate::time::Instant::now) reads on
    /// every thread inside the runtime (tasks, `block_on`, `spawn_blocking` jobs), so
    /// `Instant::now() - start` after a one-hour sleep is an hour, and agrees with
    /// `Sleep::deadline` and `Interval::tick`; only `std::time::Instant::now()` still reads
    /// the real clock. I/O does
    /// not hold the clock back: a runtime waiting only on a socket and a timer jumps to the
    /// timer. A running `spawn_blocking` job does hold it (it may be about to wake a task),
    /// so a job that itself waits on a flywheel timer needs
    /// [`time::advance`](crate::time::advance) to finish.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use flywheel::time::{sleep, Instant};
    ///
    /// let rt = flywheel::Builder::new_current_thread().start_paused(true).build().unwrap();
    /// let real = std::time::Instant::now();
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     let nap = sleep(Duration::from_secs(8 * 3600));
    ///     let end = nap.deadline();
    ///     nap.await;
    ///     assert_eq!(end - start, Duration::from_secs(8 * 3600));
    ///     assert_eq!(Instant::now(), end);
    /// });
    /// assert!(real.elapsed() < Duration::from_secs(60));
    /// ```
    pub fn start_paused(&mut self, paused: bool) -> &mut Self {
        self.start_paused = paused;
        self
    }

    /// Makes a current-thread runtime schedule its tasks in an order drawn from `seed`, so
    /// that a run can be replayed, and other orders explored with other seeds.
    ///
    /// Whenever more than one thing could run next, a small PRNG seeded with `seed` draws
    /// it: the next task, uniformly among the runnable ones (however they became runnable:
    /// spawned, woken by a channel or a `JoinHandle`, or by timers firing in the same tick),
    /// and whether the woken `block_on` future goes before them. A seeded runtime starts
    /// with its clock paused (as with [`start_paused(true)`](Builder::start_paused)): timers
    /// fire when the runtime is idle, in virtual time.
    ///
    /// So a program that only uses the runtime's tasks, timers and in-memory
    /// synchronisation runs the same way — same poll order, same output — every time it is
    /// run with the same seed, and in another interleaving with another seed. A loop over
    /// seeds (or `#[flywheel::test(runs = 200)]`) finds orderings a plain run never shows,
    /// such as a check-then-act race across an `.await`; see `examples/seeded.rs`.
    ///
    /// What is *not* deterministic, because the seed cannot order it:
    /// - real I/O (sockets, pipes, signals, child processes): when the OS reports
    ///   readiness depends on the world outside;
    /// - the blocking pool (`spawn_blocking`) and any other thread, including other threads
    ///   waking tasks or spawning onto the runtime: they run in parallel, and their wakes
    ///   arrive when they arrive (once they have, the draw orders them like the rest);
    /// - the real clock: `std::time::Instant::now()` and `SystemTime` (read
    ///   [`time::Instant::now`](crate::time::Instant::now), which is virtual here), and
    ///   [`time::resume`](crate::time::resume), which restarts real time;
    /// - randomness in the program itself (`HashMap` iteration order, random numbers): seed
    ///   it from [`Handle::seed`] to make it part of the replay;
    /// - task ids ([`task::Id`](crate::task::Id)): they count every task of the process, so
    ///   a second run in the same process numbers its tasks differently (compare tasks by
    ///   what they are, not by id).
    ///
    /// Without a seed nothing changes: tasks run in the order they were queued.
    ///
    /// A multi-thread runtime cannot be seeded: [`build`](Builder::build) refuses it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// fn poll_order(seed: u64) -> Vec<usize> {
    ///     let rt = flywheel::Builder::new_current_thread().seed(seed).build().unwrap();
    ///     let order = Arc::new(Mutex::new(Vec::new()));
    ///     rt.block_on(async {
    ///         let tasks: Vec<_> = (0..8)
    ///             .map(|i| {
    ///                 let order = order.clone();
    ///                 flywheel::spawn(async move { order.lock().unwrap().push(i) })
    ///             })
    ///             .collect();
    ///         for task in tasks {
    ///             task.await.unwrap();
    ///         }
    ///     });
    ///     let order = order.lock().unwrap().clone();
    ///     order
    /// }
    ///
    /// assert_eq!(poll_order(1), poll_order(1));
    /// assert!((2..10).any(|seed| poll_order(seed) != poll_order(1)));
    /// ```
    pub fn seed(&mut self, seed: u64) -> &mut Self {
        self.seed = Some(seed);
        self
    }
}
