//! Signals on the runtime's own reactor: [`ctrl_c`] and, on Unix, [`unix::signal`].
//!
//! Kubernetes stops a pod with SIGTERM (and SIGKILL after the grace period); a terminal sends
//! SIGINT on Ctrl-C. A program that wants to finish its work first listens for them here:
//!
//! ```
//! use flywheel::signal::unix::{signal, SignalKind};
//!
//! flywheel::run(async {
//!     let mut terminate = signal(SignalKind::terminate())?;
//!     // Kubernetes, systemd or `kill PID` would send this; here we send it ourselves.
//!     std::process::Command::new("kill")
//!         .args(["-TERM", &std::process::id().to_string()])
//!         .status()?;
//!     terminate.recv().await;
//!     println!("draining, then exiting");
//!     Ok::<(), std::io::Error>(())
//! })
//! .unwrap();
//! ```
//!
//! # How it works
//!
//! The process-wide handler is [signal-hook]'s, which multiplexes one `sigaction` handler
//! between every library that asks (tokio and async-signal use the same registry). For each
//! (runtime, signal) pair that has listeners, flywheel opens one self-pipe (a Unix socket
//! pair), hands its writing end to `signal_hook::low_level::pipe::register` — whose handler
//! only writes a byte, which is async-signal-safe — and registers the reading end with that
//! runtime's reactor like any socket. No thread is started and no second reactor runs: a
//! delivery wakes the listening tasks exactly as a readable socket would.
//!
//! - Every listener of a signal sees every delivery (not one of them chosen at random).
//! - Several runtimes in one process each get their own pipe, so each is woken.
//! - Deliveries coalesce: a listener that was not waiting (between two
//!   [`recv`](unix::Signal::recv) calls) when the signal arrived several times sees one
//!   delivery, not several. The OS coalesces pending standard signals as well. Count events
//!   in your own state if you need them all.
//! - A listener sees deliveries that happen after it was created, none from before.
//!
//! # Caveats
//!
//! Once a listener for a signal was created, the signal stays handled for the rest of the
//! process's life: its default action (terminating the process, for SIGINT and SIGTERM)
//! does not come back when the listeners are dropped, and deliveries while no listener
//! exists are lost. Keep one [`Signal`](unix::Signal) and call `recv` in a loop rather than
//! creating a listener per delivery.
//!
//! KILL and STOP cannot be caught, and flywheel refuses ILL, FPE and SEGV (handling them
//! would hide a crash): [`unix::signal`] returns an `InvalidInput` error for them.
//!
//! [signal-hook]: https://docs.rs/signal-hook

pub(crate) mod hub;
pub mod unix;

use std::io;

/// Waits for the next Ctrl-C (SIGINT).
///
/// The listener is created when the returned future is first polled, so a SIGINT before that
/// is not seen — and, because no listener existed yet, terminates the process as usual. Keep
/// a [`unix::signal`]`(SignalKind::interrupt())` listener to handle every Ctrl-C of a long
/// run; see the [module docs](self) for what installing the handler changes.
///
/// # Errors
///
/// Outside a runtime; when the OS refuses the self-pipe or the handler; when the runtime
/// shuts down before a Ctrl-C arrives.
///
/// # Cancel safety
///
/// Cancel safe, but a delivery that arrives while no `ctrl_c` future (or other SIGINT
/// listener) exists is lost.
///
/// # Examples
///
/// ```
/// use std::future::Future;
/// use std::pin::pin;
/// use std::task::Poll;
///
/// flywheel::run(async {
///     let mut ctrl_c = pin!(flywheel::signal::ctrl_c());
///     // Poll once, so the listener exists before the signal is sent.
///     let first = std::future::poll_fn(|cx| Poll::Ready(ctrl_c.as_mut().poll(cx))).await;
///     assert!(first.is_pending());
///     std::process::Command::new("kill")
///         .args(["-INT", &std::process::id().to_string()])
///         .status()?;
///     ctrl_c.await
/// })
/// .unwrap();
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    let mut interrupt = unix::signal(unix::SignalKind::interrupt())?;
    match interrupt.recv().await {
        Some(()) => Ok(()),
        None => Err(hub::runtime_gone()),
    }
}
