//! Unit tests of the state word: single-threaded sequences of transitions and the decision
//! each returns (the concurrent interleavings are in `loom_state.rs`).

use super::*;

#[test]
fn first_run_polls_and_pending_goes_idle() {
    let s = State::new();
    assert_eq!(s.transition_to_running(), Run::Poll);
    assert_eq!(s.transition_to_idle(), AfterPoll::Wait);
    assert!(!s.load().is_running());
}

#[test]
fn wake_while_idle_submits_once() {
    let s = State::new();
    assert_eq!(s.transition_to_running(), Run::Poll);
    assert_eq!(s.transition_to_idle(), AfterPoll::Wait);
    assert_eq!(s.transition_to_notified(), Submit::Yes);
    assert_eq!(s.transition_to_notified(), Submit::No);
}

#[test]
fn wake_while_running_reschedules_exactly_once() {
    let s = State::new();
    assert_eq!(s.transition_to_running(), Run::Poll);
    assert_eq!(s.transition_to_notified(), Submit::No);
    assert_eq!(s.transition_to_notified(), Submit::No);
    assert_eq!(s.transition_to_idle(), AfterPoll::Reschedule);
    assert!(s.load().is_notified());
    assert_eq!(s.transition_to_running(), Run::Poll);
}

#[test]
fn wake_after_complete_does_nothing() {
    let s = State::new();
    assert_eq!(s.transition_to_running(), Run::Poll);
    let prev = s.transition_to_complete();
    assert!(prev.is_running());
    assert_eq!(s.transition_to_notified(), Submit::No);
    assert_eq!(s.transition_to_cancelled(), Submit::No);
    assert!(!s.transition_to_shutdown());
}

#[test]
fn abort_idle_task_submits_it_for_cancellation() {
    let s = State::new();
    assert_eq!(s.transition_to_running(), Run::Poll);
    assert_eq!(s.transition_to_idle(), AfterPoll::Wait);
    assert_eq!(s.transition_to_cancelled(), Submit::Yes);
    assert_eq!(s.transition_to_running(), Run::Cancel);
}

#[test]
fn abort_while_running_cancels_after_poll() {
    let s = State::new();
    assert_eq!(s.transition_to_running(), Run::Poll);
    assert_eq!(s.transition_to_cancelled(), Submit::No);
    assert_eq!(s.transition_to_idle(), AfterPoll::Cancel);
    assert!(s.load().is_running());
}

#[test]
fn abort_queued_task_cancels_on_run() {
    let s = State::new();
    assert_eq!(s.transition_to_cancelled(), Submit::No);
    assert_eq!(s.transition_to_running(), Run::Cancel);
}

#[test]
fn shutdown_takes_idle_and_queued_tasks_but_not_running_ones() {
    let s = State::new();
    assert!(s.transition_to_shutdown());
    let _ = s.transition_to_complete();
    assert_eq!(s.transition_to_running(), Run::Skip);

    let r = State::new();
    assert_eq!(r.transition_to_running(), Run::Poll);
    assert!(!r.transition_to_shutdown());
    // The runner drops the future after its poll.
    assert_eq!(r.transition_to_idle(), AfterPoll::Cancel);
}

#[test]
fn join_waker_handshake() {
    let s = State::new();
    assert!(s.set_join_waker().is_ok());
    assert!(s.unset_join_waker().is_ok());
    assert!(s.set_join_waker().is_ok());
    assert_eq!(s.transition_to_running(), Run::Poll);
    let prev = s.transition_to_complete();
    assert!(prev.is_join_waker_set() && prev.is_join_interested());
    assert!(s.unset_join_waker().is_err());
}

#[test]
fn exactly_one_side_owns_the_output_of_a_detached_task() {
    // Handle dropped first: the completing thread sees no interest and drops the output.
    let s = State::new();
    assert_eq!(s.transition_to_running(), Run::Poll);
    assert!(!s.drop_join_handle().is_complete());
    assert!(!s.transition_to_complete().is_join_interested());

    // Task completed first: the completing thread leaves it, the handle's drop takes it.
    let s = State::new();
    assert_eq!(s.transition_to_running(), Run::Poll);
    assert!(s.transition_to_complete().is_join_interested());
    assert!(s.drop_join_handle().is_complete());
}

#[test]
fn a_dropped_handle_takes_its_waker_back_unless_the_completer_holds_it() {
    // Dropped before completion: JOIN_WAKER goes with JOIN_INTEREST; the completer
    // then sees neither and leaves the slot alone.
    let s = State::new();
    assert!(s.set_join_waker().is_ok());
    let prev = s.drop_join_handle();
    assert!(prev.is_join_waker_set() && !prev.is_complete());
    assert!(!s.load().is_join_waker_set());
    assert_eq!(s.transition_to_running(), Run::Poll);
    let prev = s.transition_to_complete();
    assert!(!prev.is_join_waker_set() && !prev.is_join_interested());

    // Dropped while the completer wakes it: JOIN_WAKER stays, and the completer learns
    // when it hands the slot back that the waker is its to drop.
    let s = State::new();
    assert!(s.set_join_waker().is_ok());
    assert_eq!(s.transition_to_running(), Run::Poll);
    assert!(s.transition_to_complete().is_join_waker_set());
    let prev = s.drop_join_handle();
    assert!(prev.is_complete() && prev.is_join_waker_set());
    assert!(!s.unset_join_waker_after_complete().is_join_interested());

    // Dropped after the completer handed the slot back: the handle drops the waker.
    let s = State::new();
    assert!(s.set_join_waker().is_ok());
    assert_eq!(s.transition_to_running(), Run::Poll);
    let _ = s.transition_to_complete();
    assert!(s.unset_join_waker_after_complete().is_join_interested());
    let prev = s.drop_join_handle();
    assert!(prev.is_complete() && !prev.is_join_waker_set());
}

#[test]
fn set_join_waker_fails_after_complete() {
    let s = State::new();
    assert_eq!(s.transition_to_running(), Run::Poll);
    let _ = s.transition_to_complete();
    assert!(s.set_join_waker().unwrap_err().is_complete());
    s.drop_join_handle();
    assert!(!s.load().is_join_interested());
}
