//! Unix signals: [`signal`] creates a [`Signal`] listener for a [`SignalKind`].
//!
//! See the [module docs](super) for how deliveries reach the runtime and coalesce.

use std::fmt;
use std::io;
use std::os::raw::c_int;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use signal_hook::consts::signal as sig;

use crate::signal::hub::Hub;

/// A kind of Unix signal, by number.
///
/// # Examples
///
/// ```
/// use flywheel::signal::unix::SignalKind;
///
/// assert_eq!(SignalKind::terminate(), SignalKind::from_raw(15));
/// assert_eq!(SignalKind::interrupt().as_raw_value(), 2);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(c_int);

impl SignalKind {
    /// Any signal, by its number (for the real-time signals, say). Numbers that are not
    /// signals are refused by [`signal`], not here.
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::from_raw(10).as_raw_value(), 10);
    /// ```
    pub const fn from_raw(signum: c_int) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal's number.
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::hangup().as_raw_value(), 1);
    /// ```
    pub const fn as_raw_value(&self) -> c_int {
        self.0
    }

    /// SIGINT: Ctrl-C in a terminal.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(flywheel::signal::unix::SignalKind::interrupt().as_raw_value(), 2);
    /// ```
    pub const fn interrupt() -> SignalKind {
        SignalKind(sig::SIGINT)
    }

    /// SIGTERM: the polite request to stop (Kubernetes, systemd, `kill PID`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(flywheel::signal::unix::SignalKind::terminate().as_raw_value(), 15);
    /// ```
    pub const fn terminate() -> SignalKind {
        SignalKind(sig::SIGTERM)
    }

    /// SIGHUP: the terminal went away; daemons often take it as "reload the configuration".
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(flywheel::signal::unix::SignalKind::hangup().as_raw_value(), 1);
    /// ```
    pub const fn hangup() -> SignalKind {
        SignalKind(sig::SIGHUP)
    }

    /// SIGQUIT: Ctrl-\ in a terminal.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(flywheel::signal::unix::SignalKind::quit().as_raw_value(), 3);
    /// ```
    pub const fn quit() -> SignalKind {
        SignalKind(sig::SIGQUIT)
    }

    /// SIGCHLD: a child process stopped or exited.
    ///
    /// # Examples
    ///
    /// ```
    /// let child = flywheel::signal::unix::SignalKind::child();
    /// assert_ne!(child, flywheel::signal::unix::SignalKind::terminate());
    /// ```
    pub const fn child() -> SignalKind {
        SignalKind(sig::SIGCHLD)
    }

    /// SIGUSR1, free for the application's own use.
    ///
    /// # Examples
    ///
    /// ```
    /// let usr1 = flywheel::signal::unix::SignalKind::user_defined1();
    /// assert_ne!(usr1, flywheel::signal::unix::SignalKind::user_defined2());
    /// ```
    pub const fn user_defined1() -> SignalKind {
        SignalKind(sig::SIGUSR1)
    }

    /// SIGUSR2, free for the application's own use.
    ///
    /// # Examples
    ///
    /// ```
    /// let usr2 = flywheel::signal::unix::SignalKind::user_defined2();
    /// assert_ne!(usr2, flywheel::signal::unix::SignalKind::user_defined1());
    /// ```
    pub const fn user_defined2() -> SignalKind {
        SignalKind(sig::SIGUSR2)
    }

    /// SIGWINCH: the terminal changed size. Ignored by default, so sending it to a process
    /// that does not listen is harmless.
    ///
    /// # Examples
    ///
    /// ```
    /// let winch = flywheel::signal::unix::SignalKind::window_change();
    /// assert_ne!(winch, flywheel::signal::unix::SignalKind::hangup());
    /// ```
    pub const fn window_change() -> SignalKind {
        SignalKind(sig::SIGWINCH)
    }
}

impl fmt::Debug for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match signal_hook::low_level::signal_name(self.0) {
            Some(name) => write!(f, "SignalKind({name})"),
            None => write!(f, "SignalKind({})", self.0),
        }
    }
}

/// Starts listening for `kind` on the current runtime.
///
/// Every listener sees every delivery that happens after it was created; deliveries that
/// arrive while the listener is not waiting coalesce (see the [module docs](super)).
///
/// # Errors
///
/// - `InvalidInput` for signals that cannot or must not be handled: KILL and STOP (the OS
///   never delivers them to a handler), ILL, FPE and SEGV (handling them would hide a crash),
///   and numbers that are not signals.
/// - Outside a runtime, or when the OS refuses the self-pipe or the handler.
///
/// # Examples
///
/// ```
/// use flywheel::signal::unix::{signal, SignalKind};
///
/// flywheel::run(async {
///     let mut hangup = signal(SignalKind::hangup())?;
///     std::process::Command::new("kill")
///         .args(["-HUP", &std::process::id().to_string()])
///         .status()?;
///     assert_eq!(hangup.recv().await, Some(()));
///
///     let refused = signal(SignalKind::from_raw(9)).unwrap_err();
///     assert_eq!(refused.kind(), std::io::ErrorKind::InvalidInput);
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    check(kind.0)?;
    let hub = Hub::get(kind.0)?;
    let key = hub.attach();
    let mut signal = Signal {
        kind,
        hub,
        key,
        seen: 0,
        closed: false,
    };
    // Deliveries still in the pipe arrived before this listener existed: count them for the
    // listeners that did exist, then start from there.
    signal.hub.drain_now();
    signal.seen = signal.hub.deliveries();
    Ok(signal)
}

/// Refuses signals that cannot or must not be handled, naming them.
fn check(signum: c_int) -> io::Result<()> {
    let name = signal_hook::low_level::signal_name(signum);
    let refuse = |why: &str| {
        let shown = match name {
            Some(name) => format!("{name} ({signum})"),
            None => signum.to_string(),
        };
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("flywheel::signal: cannot listen for signal {shown}: {why}"),
        ))
    };
    if signum <= 0 {
        return refuse("not a signal number");
    }
    if signum == sig::SIGKILL || signum == sig::SIGSTOP {
        return refuse("the OS never lets a process catch KILL or STOP");
    }
    if signal_hook::consts::FORBIDDEN.contains(&signum) {
        return refuse(
            "ILL, FPE and SEGV report a fault in the program itself; handling them would \
             hide the crash (listen for TERM, INT, HUP, USR1 or USR2 instead)",
        );
    }
    Ok(())
}

/// A listener for one kind of signal, created by [`signal`].
///
/// Also a [`Stream`] of `()`, one item per (coalesced) delivery, ending when the runtime
/// shuts down. Dropping the last listener of a signal on a runtime closes its self-pipe; the
/// signal stays handled (see the [module docs](super)).
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
/// use flywheel::signal::unix::{signal, SignalKind};
///
/// flywheel::run(async {
///     let mut usr1 = signal(SignalKind::user_defined1())?;
///     std::process::Command::new("kill")
///         .args(["-USR1", &std::process::id().to_string()])
///         .status()?;
///     assert_eq!(usr1.next().await, Some(()));
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct Signal {
    kind: SignalKind,
    hub: Arc<Hub>,
    /// This listener's slot in the hub.
    key: usize,
    /// The hub's delivery count when this listener last reported one.
    seen: u64,
    /// Set once the runtime was found gone: `recv` returns `None` from then on.
    closed: bool,
}

impl Signal {
    /// Waits for the next delivery; `None` once the runtime has shut down.
    ///
    /// Several deliveries since the last call return once (they coalesce).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a delivery that arrives while the future is dropped is reported by the
    /// next call.
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::signal::unix::{signal, SignalKind};
    ///
    /// flywheel::run(async {
    ///     let mut usr2 = signal(SignalKind::user_defined2())?;
    ///     for _ in 0..3 {
    ///         std::process::Command::new("kill")
    ///             .args(["-USR2", &std::process::id().to_string()])
    ///             .status()?;
    ///     }
    ///     // At least one, at most three recv calls return: deliveries may coalesce.
    ///     assert_eq!(usr2.recv().await, Some(()));
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn recv(&mut self) -> Option<()> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next delivery: `Ready(Some(()))` if one happened since the last one
    /// reported, `Ready(None)` once the runtime has shut down, and otherwise `Pending` with
    /// `cx`'s waker stored to be woken by the next delivery.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::task::Poll;
    /// use flywheel::signal::unix::{signal, SignalKind};
    ///
    /// flywheel::run(async {
    ///     let mut winch = signal(SignalKind::window_change())?;
    ///     assert!(poll_fn(|cx| Poll::Ready(winch.poll_recv(cx))).await.is_pending());
    ///     std::process::Command::new("kill")
    ///         .args(["-WINCH", &std::process::id().to_string()])
    ///         .status()?;
    ///     assert_eq!(poll_fn(|cx| winch.poll_recv(cx)).await, Some(()));
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        if let Some(ready) = self.take_delivery() {
            return ready;
        }
        // Park first: the pump leaves the reactor a waker that wakes parked listeners only.
        self.hub.park(self.key, cx.waker());
        if self.hub.pump().is_err() {
            self.closed = true;
        }
        self.take_delivery().unwrap_or(Poll::Pending)
    }

    /// `Some(Ready(..))` when there is something to report: a new delivery, or the end.
    fn take_delivery(&mut self) -> Option<Poll<Option<()>>> {
        let deliveries = self.hub.deliveries();
        if deliveries != self.seen {
            self.seen = deliveries;
            return Some(Poll::Ready(Some(())));
        }
        self.closed.then_some(Poll::Ready(None))
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        self.hub.detach(self.key);
    }
}

impl Stream for Signal {
    type Item = ();

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.get_mut().poll_recv(cx)
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal")
            .field("kind", &self.kind)
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}
