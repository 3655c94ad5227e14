//! `#[flywheel::main]` and `#[flywheel::test]`: what they build, what they keep of the
//! function, and (through trybuild) the compile errors they give on misuse.
//!
//! A `#[flywheel::test]` function is itself the test, so it cannot run inside
//! `common::watchdog`; those bodies arm a [`Deadline`] instead, which aborts the test binary
//! if the body hangs.
mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::Deadline;

#[flywheel::test]
async fn test_runs_on_the_test_thread_by_default() {
    let _deadline = Deadline::arm(common::DEFAULT_LIMIT);
    let here = thread::current().id();
    let there = flywheel::spawn(async { thread::current().id() })
        .await
        .unwrap();
    assert_eq!(
        here, there,
        "a current-thread runtime runs tasks on the test thread"
    );
}

#[flywheel::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_multi_thread_runs_tasks_on_workers() {
    let _deadline = Deadline::arm(common::DEFAULT_LIMIT);
    let test_thread = thread::current().id();
    let (id, name) = flywheel::spawn(async {
        let me = thread::current();
        (me.id(), me.name().map(str::to_owned))
    })
    .await
    .unwrap();
    assert_ne!(
        id, test_thread,
        "a multi-thread runtime runs tasks on its workers"
    );
    assert_eq!(name.as_deref(), Some("flywheel-worker"));
}

#[flywheel::test]
async fn test_keeps_the_return_type() -> Result<(), std::num::ParseIntError> {
    let _deadline = Deadline::arm(common::DEFAULT_LIMIT);
    let n: u32 = flywheel::spawn(async { "41" }).await.unwrap().parse()?;
    assert_eq!(n + 1, 42);
    Ok(())
}

#[flywheel::test]
#[should_panic(expected = "boom from the body")]
async fn test_keeps_other_attributes() {
    let _deadline = Deadline::arm(common::DEFAULT_LIMIT);
    panic!("boom from the body");
}

#[flywheel::test]
async fn test_early_return_leaves_the_body() {
    let _deadline = Deadline::arm(common::DEFAULT_LIMIT);
    for i in 0.. {
        if i == 3 {
            return;
        }
        flywheel::task::yield_now().await;
    }
    unreachable!("the loop returns at i == 3");
}

#[flywheel::test(start_paused = true)]
async fn test_start_paused_jumps_over_idle_time() {
    let _deadline = Deadline::arm(common::DEFAULT_LIMIT);
    let real = Instant::now();
    let start = flywheel::time::sleep(Duration::ZERO).deadline();
    let nap = flywheel::time::sleep(Duration::from_secs(3600));
    let end = nap.deadline();
    nap.await;
    assert_eq!(end - start, Duration::from_secs(3600));
    assert!(
        real.elapsed() < Duration::from_secs(5),
        "an hour passed in virtual time only"
    );
}

#[flywheel::test]
async fn test_clock_runs_in_real_time_by_default() {
    let _deadline = Deadline::arm(common::DEFAULT_LIMIT);
    let real = Instant::now();
    flywheel::time::sleep(Duration::from_millis(20)).await;
    assert!(
        real.elapsed() >= Duration::from_millis(20),
        "the clock is not paused"
    );
}

#[test]
fn main_is_multi_thread_by_default() {
    common::watchdog(|| {
        #[flywheel::main]
        async fn run() -> (thread::ThreadId, Option<String>) {
            flywheel::spawn(async {
                let me = thread::current();
                (me.id(), me.name().map(str::to_owned))
            })
            .await
            .unwrap()
        }
        let (id, name) = run();
        assert_ne!(id, thread::current().id());
        assert_eq!(name.as_deref(), Some("flywheel-worker"));
    });
}

#[test]
fn main_current_thread_runs_on_the_caller() {
    common::watchdog(|| {
        #[flywheel::main(flavor = "current_thread")]
        async fn run() -> thread::ThreadId {
            flywheel::spawn(async { thread::current().id() })
                .await
                .unwrap()
        }
        assert_eq!(run(), thread::current().id());
    });
}

#[test]
fn main_each_call_builds_a_fresh_runtime() {
    common::watchdog(|| {
        #[flywheel::main(flavor = "current_thread")]
        async fn inside_a_runtime() -> bool {
            flywheel::Handle::try_current().is_ok()
        }
        assert!(inside_a_runtime(), "the body runs inside a runtime");
        assert!(
            flywheel::Handle::try_current().is_err(),
            "the runtime is gone once the function returns"
        );
        assert!(inside_a_runtime());
    });
}

/// What a crate that wraps flywheel offers its users: flywheel under a path of its own.
mod reexport {
    pub use flywheel as rt;
}

#[reexport::rt::test(crate = "reexport::rt")]
async fn test_crate_option_through_a_reexport() {
    let _deadline = Deadline::arm(common::DEFAULT_LIMIT);
    let here = thread::current().id();
    let there = reexport::rt::spawn(async { thread::current().id() })
        .await
        .unwrap();
    assert_eq!(here, there, "still a current-thread runtime by default");
}

#[reexport::rt::test(crate = "reexport::rt", flavor = "multi_thread", worker_threads = 2)]
async fn test_crate_option_keeps_the_other_options() {
    let _deadline = Deadline::arm(common::DEFAULT_LIMIT);
    let name = reexport::rt::spawn(async { thread::current().name().map(str::to_owned) })
        .await
        .unwrap();
    assert_eq!(name.as_deref(), Some("flywheel-worker"));
}

/// Stands where a re-export of flywheel would be and counts the builders made through it, so
/// a test can tell that the generated code names the `crate = ".."` path and not
/// `::flywheel` (which also resolves in this crate).
mod counting {
    use std::sync::atomic::{AtomicUsize, Ordering};

    pub static BUILDERS: AtomicUsize = AtomicUsize::new(0);

    pub struct Builder;

    impl Builder {
        pub fn new_current_thread() -> flywheel::Builder {
            BUILDERS.fetch_add(1, Ordering::SeqCst);
            flywheel::Builder::new_current_thread()
        }

        pub fn new_multi_thread() -> flywheel::Builder {
            BUILDERS.fetch_add(1, Ordering::SeqCst);
            flywheel::Builder::new_multi_thread()
        }
    }
}

#[test]
fn main_builds_the_runtime_through_the_crate_path() {
    use std::sync::atomic::Ordering;
    common::watchdog(|| {
        #[flywheel::main(crate = "counting", flavor = "current_thread")]
        async fn on_one_thread() -> bool {
            flywheel::Handle::try_current().is_ok()
        }
        #[flywheel::main(crate = "counting", worker_threads = 2)]
        async fn on_workers() -> Option<String> {
            flywheel::spawn(async { thread::current().name().map(str::to_owned) })
                .await
                .unwrap()
        }
        // Only this test uses `counting`, so the count moves only here.
        let before = counting::BUILDERS.load(Ordering::SeqCst);
        assert!(on_one_thread(), "the body runs inside a runtime");
        assert_eq!(counting::BUILDERS.load(Ordering::SeqCst), before + 1);
        assert_eq!(on_workers().as_deref(), Some("flywheel-worker"));
        assert_eq!(counting::BUILDERS.load(Ordering::SeqCst), before + 2);
    });
}

/// The `pass` cases build and run: worker counts are checked there, each in a process of
/// its own. Misuse fails to compile with a message pointing at the offending tokens; the expected
/// messages are the `.stderr` files beside each case in tests/ui/.
#[test]
fn misuse_is_a_compile_error() {
    // Compiling the cases takes a while the first time (it builds flywheel for them).
    common::watchdog_for(Duration::from_secs(600), || {
        let cases = trybuild::TestCases::new();
        cases.compile_fail("tests/ui/*.rs");
        // Run as processes of their own, so no other test's runtime adds to the threads
        // they count.
        cases.pass("tests/ui/pass/*.rs");
    });
}
