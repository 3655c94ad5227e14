//! Loom models of a local task's cross-thread protocol (`runtime/local/`): another thread
//! wakes or aborts a task that only its owner thread may poll and drop, while the owner
//! runs it or parks.
//!
//! They run the real state word (`task/state/`) and the real `Parker` (with the stand-in
//! driver of `park.rs`'s models), around a model of the owner's loop: take a task from its
//! own queue or its inbox, run it as `Cell::run` does (the same transitions, in the same
//! order), park when there is nothing to run. The inbox is a loom mutex standing in for the
//! lock-free injector (a push then a pop, each atomic). The foreign side does what
//! `LocalScheduler::schedule` does: push to the inbox, then unpark the owner. A lost wake-up
//! shows as a loom deadlock (the owner parked for ever); every poll and every drop of the
//! future asserts it runs on the owner thread (rule L1 of `task/cell.rs`).
//!
//! ```text
//! LOOM_MAX_PREEMPTIONS=3 RUSTFLAGS="--cfg flywheel_loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test --release --lib loom_local
//! ```

use loom::sync::atomic::{AtomicBool, AtomicUsize};
use loom::sync::Arc;
use loom::thread;
use std::sync::atomic::Ordering::{Acquire, Release, SeqCst};

use crate::runtime::park::loom_park::{Driver, DriverHandle};
use crate::runtime::park::{Parker, Unparker};
use crate::sync::Mutex;
use crate::task::state::{AfterPoll, Run, State, Submit};

/// A queued reference to the one task (the `NOTIFIED` reference of the model).
struct Notified;

/// The task and the owner's cross-thread half.
struct Local {
    state: State,
    /// Tasks other threads queued for the owner.
    inbox: Mutex<Vec<Notified>>,
    /// What the future waits for: set by the foreign thread before it wakes the task.
    event: AtomicBool,
    polls: AtomicUsize,
    /// Times the future was dropped (cancelled, or after completing).
    drops: AtomicUsize,
    owner: thread::ThreadId,
}

impl Local {
    fn new() -> Arc<Local> {
        Arc::new(Local {
            state: State::new(),
            inbox: Mutex::new(Vec::new()),
            event: AtomicBool::new(false),
            polls: AtomicUsize::new(0),
            drops: AtomicUsize::new(0),
            owner: thread::current().id(),
        })
    }

    /// `LocalScheduler::schedule` from a foreign thread.
    fn schedule_remote(&self, unparker: &Unparker, driver: &DriverHandle) {
        self.inbox.lock().push(Notified);
        unparker.unpark(driver);
    }

    fn on_owner(&self) {
        assert_eq!(
            thread::current().id(),
            self.owner,
            "L1: only the owner touches it"
        );
    }

    /// The future: ready once the event is set.
    fn poll(&self) -> bool {
        self.on_owner();
        self.polls.fetch_add(1, SeqCst);
        self.event.load(Acquire)
    }

    fn drop_future(&self) {
        self.on_owner();
        self.drops.fetch_add(1, SeqCst);
    }

    /// `Cell::run` on the owner thread; returns the reference to queue again, if any.
    fn run(&self, task: Notified) -> Option<Notified> {
        match self.state.transition_to_running() {
            Run::Skip => return None,
            Run::Cancel => {
                self.drop_future();
                let _ = self.state.transition_to_complete();
                return None;
            }
            Run::Poll => {}
        }
        if self.poll() {
            self.drop_future();
            let _ = self.state.transition_to_complete();
            return None;
        }
        match self.state.transition_to_idle() {
            AfterPoll::Wait => None,
            AfterPoll::Reschedule => Some(task),
            AfterPoll::Cancel => {
                self.drop_future();
                let _ = self.state.transition_to_complete();
                None
            }
        }
    }

    /// The owner's loop until the task is complete: its own queue first, then the inbox,
    /// else park. The task starts queued (spawned) in its own queue.
    fn owner_loop(&self, parker: &Parker, driver: &DriverHandle) {
        let mut own: Vec<Notified> = vec![Notified];
        let mut in_driver = false;
        loop {
            let next = own.pop().or_else(|| self.inbox.lock().pop());
            if let Some(task) = next {
                own.extend(self.run(task));
                continue;
            }
            if self.state.load().is_complete() {
                return;
            }
            parker.park_with(|| in_driver.then(|| Box::new(Driver)), driver);
            in_driver = !in_driver;
        }
    }
}

/// A foreign thread fires the event and wakes the task while the owner polls it, puts it
/// back, or parks: the owner always polls it again and completes it, on its own thread.
#[test]
fn loom_local_foreign_wake_vs_owner_run_and_park() {
    loom::model(|| {
        let local = Local::new();
        let (parker, unparker) = Parker::new();
        let driver = Arc::new(DriverHandle::new());

        let waker = {
            let (local, driver) = (local.clone(), driver.clone());
            thread::spawn(move || {
                local.event.store(true, Release);
                if local.state.transition_to_notified() == Submit::Yes {
                    local.schedule_remote(&unparker, &driver);
                }
            })
        };
        local.owner_loop(&parker, &driver);
        waker.join().expect("waker");

        assert!(local.state.load().is_complete());
        assert_eq!(
            local.drops.load(SeqCst),
            1,
            "the future is dropped exactly once"
        );
        assert!(local.polls.load(SeqCst) >= 1);
        // A reference left in the inbox is only ever a completed task (skipped when run).
        let left = local.inbox.lock().len();
        assert!(left <= 1);
    });
}

/// A foreign thread aborts the task (`AbortHandle::abort` from anywhere) while the owner
/// polls it or parks: the future is dropped exactly once, by the owner, which is woken for
/// it if the task was idle.
#[test]
fn loom_local_abort_from_another_thread_vs_owner_poll() {
    loom::model(|| {
        let local = Local::new();
        let (parker, unparker) = Parker::new();
        let driver = Arc::new(DriverHandle::new());

        let aborter = {
            let (local, driver) = (local.clone(), driver.clone());
            thread::spawn(move || {
                if local.state.transition_to_cancelled() == Submit::Yes {
                    local.schedule_remote(&unparker, &driver);
                }
            })
        };
        local.owner_loop(&parker, &driver);
        aborter.join().expect("aborter");

        assert!(local.state.load().is_complete());
        assert_eq!(
            local.drops.load(SeqCst),
            1,
            "the future is dropped exactly once"
        );
        assert!(
            local.polls.load(SeqCst) <= 1,
            "never polled after the abort is seen"
        );
    });
}

/// The owner shuts its local tasks down (closes the inbox, then drains it) while a foreign
/// thread queues a reference (pushes, then drains itself if it finds the inbox closed): one
/// of the two drains it, so no reference stays in a closed inbox.
#[test]
fn loom_local_foreign_push_vs_owner_shutdown() {
    loom::model(|| {
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let closed = Arc::new(AtomicBool::new(false));

        let pusher = {
            let (inbox, closed) = (inbox.clone(), closed.clone());
            thread::spawn(move || {
                inbox.lock().push(Notified);
                if closed.load(SeqCst) {
                    inbox.lock().clear();
                }
            })
        };
        closed.store(true, SeqCst);
        inbox.lock().clear();
        pusher.join().expect("pusher");
        assert!(
            inbox.lock().is_empty(),
            "a reference stayed in a closed inbox"
        );
    });
}
