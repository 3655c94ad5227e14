//! Controlling a paused clock: `pause`, `resume` and `advance`.
//!
//! A runtime built with [`Builder::start_paused(true)`](crate::Builder::start_paused) starts
//! with its clock paused. While paused, time does not pass by itself: it moves when a task
//! calls [`advance`], or — the usual way — on its own whenever the whole runtime is idle, by
//! jumping straight to the next timer deadline (see `Builder::start_paused`).
//! `time::Instant::now()` reads the same clock, so it moves exactly as the timers see time
//! move; resuming runs the clock on from where it stands, never back.

use std::time::Duration;

use crate::runtime::Handle;

/// Tells users of these functions where they work.
const NEEDS_RUNTIME: &str = "flywheel::time::{pause, resume, advance} control the clock of \
    the current runtime: call them from inside `flywheel::run`, `Runtime::block_on` or a task";

#[track_caller]
fn current() -> Handle {
    match Handle::try_current() {
        Ok(handle) => handle,
        Err(_) => panic!("{NEEDS_RUNTIME}"),
    }
}

/// Pauses the current runtime's clock: from now on time moves only through [`advance`] or
/// the runtime's auto-advance when every task is idle.
///
/// Meant for tests. The paused clock is the runtime's: its timers and
/// [`Instant::now`](crate::time::Instant::now) (on any thread inside the runtime) follow it;
/// only `std::time::Instant::now()` keeps reading the real clock.
///
/// # Panics
///
/// Outside a runtime, or when the clock is already paused.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use flywheel::time::Instant;
///
/// flywheel::Builder::new_current_thread().build().unwrap().block_on(async {
///     flywheel::time::pause();
///     let real = std::time::Instant::now();
///     let start = Instant::now();
///     // Nothing else runs, so the clock jumps to the deadline at once.
///     flywheel::time::sleep(Duration::from_secs(3600)).await;
///     assert!(start.elapsed() >= Duration::from_secs(3600));
///     assert!(real.elapsed() < Duration::from_secs(60));
/// });
/// ```
#[track_caller]
pub fn pause() {
    assert!(
        current().time().clock.pause(),
        "flywheel::time::pause: the clock is already paused; call `flywheel::time::resume()` \
         first (a runtime built with `Builder::start_paused(true)` starts paused)"
    );
}

/// Lets the current runtime's paused clock run in real time again, from where it stands.
///
/// The clock does not catch up with the real one: [`Instant::now`](crate::time::Instant::now)
/// goes on from the paused time at real speed, never back, and stays as far ahead of (or
/// behind) the real clock as `advance` (or the pause) left it.
///
/// # Panics
///
/// Outside a runtime, or when the clock is not paused.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use flywheel::time::Instant;
///
/// let rt = flywheel::Builder::new_current_thread().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     flywheel::time::advance(Duration::from_secs(10)).await;
///     flywheel::time::resume();
///     flywheel::time::sleep(Duration::from_millis(1)).await;
///     assert!(start.elapsed() >= Duration::from_secs(10) + Duration::from_millis(1));
/// });
/// ```
#[track_caller]
pub fn resume() {
    assert!(
        current().time().clock.resume(),
        "flywheel::time::resume: the clock is not paused; only a clock stopped by \
         `flywheel::time::pause()` or `Builder::start_paused(true)` can resume"
    );
}

/// Moves the current runtime's paused clock forward by `duration`, fires the timers that
/// became due, and yields so the tasks they woke can run.
///
/// The clock moves when `advance` is called, before the returned future is awaited:
/// [`Instant::now`](crate::time::Instant::now) reads `duration` later from then on.
///
/// Any duration is accepted: the clock stops at its horizon, about 146 million years after
/// the runtime started, where every timer is due (`advance(Duration::MAX)` fires them all).
///
/// # Panics
///
/// Outside a runtime, or when the clock is not paused (build the runtime with
/// [`Builder::start_paused`](crate::Builder::start_paused) or call [`pause`] first).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use flywheel::time::{advance, sleep};
///
/// let rt = flywheel::Builder::new_current_thread().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let start = flywheel::time::Instant::now();
///     let alarm = flywheel::spawn(sleep(Duration::from_secs(60)));
///     advance(Duration::from_secs(60)).await;
///     assert!(alarm.is_finished());
///     assert_eq!(start.elapsed(), Duration::from_secs(60));
/// });
/// ```
#[track_caller]
pub fn advance(duration: Duration) -> impl std::future::Future<Output = ()> {
    let handle = current();
    let time = handle.time();
    assert!(
        time.clock.advance(duration),
        "flywheel::time::advance needs a paused clock: build the runtime with \
         `Builder::start_paused(true)` or call `flywheel::time::pause()` first"
    );
    time.process();
    crate::task::yield_now()
}
