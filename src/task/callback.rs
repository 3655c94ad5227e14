//! Calling code the runtime does not control — a `Waker`'s `wake` and `drop`, a value's
//! destructor — so that a panic in it stays there.
//!
//! Wakers come from anywhere: a foreign executor polling a `JoinHandle`, a test's hand-made
//! waker, a user's `Drop`. When one of the runtime's own threads calls them (a worker
//! completing a task, the thread firing a batch of timers, a runtime shutting down), an
//! unwinding panic would kill that thread or skip the rest of its work. Every such call goes
//! through this module: the panic is caught (the panic hook has already reported it) and the
//! caller carries on. The callers also hold no lock while calling these, since the callback
//! may re-enter the runtime.
//!
//! `catch_unwind` costs nothing measurable when nothing panics: it is a call through a
//! landing pad, not a setjmp.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::Waker;

/// Wakes `waker` (and so drops it), containing a panic from either.
pub(crate) fn wake(waker: Waker) {
    // The waker is moved in: if `wake` panics, the unwinding drops what is left of it inside
    // the guard too.
    contain(move || waker.wake());
}

/// Wakes `waker` without consuming it, containing a panic.
pub(crate) fn wake_by_ref(waker: &Waker) {
    contain(|| waker.wake_by_ref());
}

/// Drops `value` (a waker, a task's output), containing a panic from its destructor.
pub(crate) fn release<T>(value: T) {
    contain(move || drop(value));
}

fn contain(f: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
        // The payload is a user's value too, and its destructor may panic as well: then it
        // is leaked rather than let unwind.
        if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
            std::mem::forget(payload);
        }
    }
}
