//! Seeded scheduling: how a current-thread runtime built with `Builder::seed` picks what to
//! poll next, and the seeds of `#[flywheel::test(seed = .., runs = ..)]`.
//!
//! A seeded core keeps a `Seeded`: a small PRNG (splitmix64, written here: no dependency)
//! and one flag. Every choice the scheduler makes between things that are runnable at the
//! same time goes through it, and nothing else does:
//! - the next task is drawn uniformly from the run queue (`pick`: a swap-remove, O(1));
//!   tasks woken together — by the same timer tick, by one completion waking several
//!   `JoinHandle`s, by a channel — are all in that queue, so the draw is what orders them;
//! - the `block_on` future, when woken, is one more candidate of the same draw
//!   (`yield_to_main`, `defer_main`): it may run before, between or after the tasks.
//!
//! Everything else the scheduler does is a function of the program's own steps, so it
//! replays exactly: yielded tasks wait behind the runnable ones as on any runtime
//! (`yield_now` keeps its meaning), the injector and the driver are looked at every so many
//! polls (counted, not timed), the cooperative budget counts operations, the paused clock
//! moves only when the runtime is idle, and the timer wheel hands out a tick's timers in
//! the order of its slab. An unseeded runtime never calls into this module.
//!
//! Invariant: the PRNG lives in the core, which one thread at a time holds; it is drawn
//! from only by that thread, so the sequence of draws is the sequence of scheduling
//! decisions.

use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};

/// The environment variable that replays one seed in `#[flywheel::test(seed/runs)]`.
pub(crate) const SEED_ENV: &str = "FLYWHEEL_SEED";

/// splitmix64 (Steele, Lea and Flood): one add and three xor-shift-multiplies per draw,
/// every seed (0 included) gives a full-period stream, and nearby seeds give unrelated ones.
#[derive(Clone, Debug)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`), by multiply-shift: no division, and a bias of at most
    /// n / 2^64, far below anything a test can see.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0);
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

/// The seeded part of a current-thread core.
#[derive(Debug)]
pub(crate) struct Seeded {
    rng: Rng,
    /// What the last draw between the woken `block_on` future and the tasks chose, until
    /// the loop acts on it: it is not drawn again meanwhile.
    drawn: Drawn,
}

/// The outcome of a draw between the woken `block_on` future and the runnable tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Drawn {
    /// No draw pending: the next decision draws.
    Nothing,
    /// The future goes next.
    Main,
    /// A task goes next.
    Task,
}

impl Seeded {
    pub(crate) fn new(seed: u64) -> Seeded {
        Seeded {
            rng: Rng::new(seed),
            drawn: Drawn::Nothing,
        }
    }

    /// Takes a task drawn uniformly from `queue`. Swap-remove: the last task takes the
    /// drawn one's place, so the order left behind is scrambled, which is fine — every pick
    /// is a fresh draw over the whole queue.
    #[inline]
    pub(crate) fn pick<T>(&mut self, queue: &mut VecDeque<T>) -> Option<T> {
        if queue.is_empty() {
            return None;
        }
        let index = self.rng.below(queue.len());
        queue.swap_remove_back(index)
    }

    /// Before a task is drawn: whether the woken `block_on` future goes first instead, one
    /// chance in `runnable + 1`. `true` means "stop and poll it"; the `defer_main` that
    /// follows then agrees without drawing again.
    #[inline]
    pub(crate) fn yield_to_main(&mut self, main_woken: bool, runnable: usize) -> bool {
        match std::mem::replace(&mut self.drawn, Drawn::Nothing) {
            Drawn::Task => false,
            Drawn::Main => true,
            Drawn::Nothing if !main_woken => false,
            Drawn::Nothing => {
                let main = self.draw_main(runnable);
                if main {
                    self.drawn = Drawn::Main;
                }
                main
            }
        }
    }

    /// The loop is about to poll the woken `block_on` future: `true` when a task goes
    /// first, `runnable` tasks against one future (the future stays woken, and the next
    /// task drawn runs without a second draw between them).
    pub(crate) fn defer_main(&mut self, runnable: usize) -> bool {
        match std::mem::replace(&mut self.drawn, Drawn::Nothing) {
            Drawn::Main => false,
            // Stale (the task it was for was not there after all): draw afresh.
            Drawn::Task | Drawn::Nothing => {
                let task = !self.draw_main(runnable);
                if task {
                    self.drawn = Drawn::Task;
                }
                task
            }
        }
    }

    /// One chance in `runnable + 1` for the `block_on` future; certain when no task is
    /// runnable.
    fn draw_main(&mut self, runnable: usize) -> bool {
        runnable == 0 || self.rng.below(runnable + 1) == runnable
    }
}

/// Reads `FLYWHEEL_SEED`: `None` when unset or empty.
///
/// # Panics
///
/// When it is set to anything but a `u64`, saying what is expected.
fn seed_from_env(value: Option<std::ffi::OsString>) -> Option<u64> {
    let value = value?;
    let text = value.to_str().map(str::trim);
    if text == Some("") {
        return None;
    }
    match text.and_then(|t| t.parse::<u64>().ok()) {
        Some(seed) => Some(seed),
        None => panic!(
            "{SEED_ENV} must be a seed: an unsigned 64-bit decimal integer such as the one a \
             failed run printed (e.g. {SEED_ENV}=12345), got {value:?}; unset it to draw \
             random seeds"
        ),
    }
}

/// A seed nobody chose: from std's per-process random hash keys and the clock.
fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    if let Ok(since) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        hasher.write_u128(since.as_nanos());
    }
    hasher.finish()
}

/// The seeds of the runs of one test: `FLYWHEEL_SEED` alone when it is set (a replay);
/// otherwise `runs` seeds starting at `fixed` (or a random one), each next one drawn from
/// the previous, so `seed = N, runs = M` is itself reproducible.
pub(crate) fn test_seeds(
    env: Option<std::ffi::OsString>,
    fixed: Option<u64>,
    runs: u32,
) -> Vec<u64> {
    if let Some(seed) = seed_from_env(env) {
        return vec![seed];
    }
    let first = fixed.unwrap_or_else(random_seed);
    let mut seeds = Vec::with_capacity(runs as usize);
    let mut rng = Rng::new(first);
    let mut seed = first;
    for _ in 0..runs.max(1) {
        seeds.push(seed);
        seed = rng.next_u64();
    }
    seeds
}

/// The command that replays `seed` of the test at `path` (`module_path!()::name`).
fn replay_command(path: &str, seed: u64) -> String {
    // Test names as `cargo test` filters them leave out the crate's own name.
    let name = path.split_once("::").map_or(path, |(_, rest)| rest);
    format!("{SEED_ENV}={seed} cargo test {name}")
}

/// The body of a `#[flywheel::test]` with `seed` or `runs`: calls `run` once per seed, each
/// time on a fresh runtime it builds with that seed. `run` returns the test's output and
/// whether it is a failure (an `Err`). The first failing run — a panic or an `Err` — is
/// reported with its seed and the command that replays it, then ends the test: the panic
/// is resumed, the `Err` returned.
pub(crate) fn run_test<T>(
    path: &str,
    fixed: Option<u64>,
    runs: u32,
    mut run: impl FnMut(u64) -> (T, bool),
) -> T {
    let seeds = test_seeds(std::env::var_os(SEED_ENV), fixed, runs);
    let total = seeds.len();
    let mut last = None;
    for (i, seed) in seeds.into_iter().enumerate() {
        let report = |what: &str| {
            eprintln!(
                "{path} {what} with seed {seed} (run {} of {total}); replay it with: {}",
                i + 1,
                replay_command(path, seed)
            );
        };
        match panic::catch_unwind(AssertUnwindSafe(|| run(seed))) {
            Ok((output, false)) => last = Some(output),
            Ok((output, true)) => {
                report("returned an error");
                return output;
            }
            Err(payload) => {
                report("panicked");
                panic::resume_unwind(payload);
            }
        }
    }
    last.expect("test_seeds returns at least one seed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_is_a_function_of_the_seed() {
        let draw = |seed| {
            let mut rng = Rng::new(seed);
            (0..8).map(|_| rng.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        // Known first output of splitmix64 for seed 0.
        assert_eq!(draw(0)[0], 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn draws_cover_the_range_and_stay_in_it() {
        let mut rng = Rng::new(1);
        let mut seen = [0u32; 5];
        for _ in 0..5000 {
            seen[rng.below(5)] += 1;
        }
        assert!(seen.iter().all(|&n| n > 800), "{seen:?}");
        assert_eq!(rng.below(1), 0);
    }

    #[test]
    fn pick_takes_every_task_once() {
        let mut seeded = Seeded::new(3);
        let mut queue: VecDeque<u32> = (0..10).collect();
        let mut taken = Vec::new();
        while let Some(n) = seeded.pick(&mut queue) {
            taken.push(n);
        }
        assert_ne!(
            taken,
            (0..10).collect::<Vec<_>>(),
            "seed 3 reorders ten tasks"
        );
        taken.sort_unstable();
        assert_eq!(taken, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn a_drawn_main_future_is_polled_without_a_second_draw() {
        let mut seeded = Seeded::new(0);
        assert!(
            !seeded.yield_to_main(false, 3),
            "a future not woken is no candidate"
        );
        assert!(!seeded.defer_main(0), "nothing else to run");
        assert!(seeded.yield_to_main(true, 0), "nothing else to run");
        assert!(!seeded.defer_main(0));
        // With three tasks the future wins one draw in four: find one it wins, and one
        // it loses; neither is drawn again by the step that acts on it.
        while !seeded.yield_to_main(true, 3) {}
        assert!(!seeded.defer_main(3), "the draw already chose the future");
        while !seeded.defer_main(3) {}
        let before = seeded.rng.clone().next_u64();
        assert!(
            !seeded.yield_to_main(true, 3),
            "the draw already chose a task"
        );
        assert_eq!(seeded.rng.next_u64(), before, "and did not draw again");
    }

    #[test]
    fn the_environment_replays_one_seed() {
        assert_eq!(test_seeds(Some("42".into()), Some(1), 200), [42]);
        assert_eq!(test_seeds(Some(" 9 ".into()), None, 1), [9]);
        let seeds = test_seeds(None, Some(5), 4);
        assert_eq!(seeds.len(), 4);
        assert_eq!(seeds[0], 5);
        assert_eq!(seeds, test_seeds(Some("".into()), Some(5), 4));
        assert_eq!(test_seeds(None, None, 0).len(), 1);
    }

    #[test]
    #[should_panic(expected = "FLYWHEEL_SEED must be a seed: an unsigned 64-bit")]
    fn a_bad_seed_in_the_environment_says_what_is_expected() {
        test_seeds(Some("0x1f".into()), None, 1);
    }

    #[test]
    fn the_replay_command_names_the_test_without_its_crate() {
        assert_eq!(
            replay_command("rt_seed::tests::race", 17),
            "FLYWHEEL_SEED=17 cargo test tests::race"
        );
        assert_eq!(replay_command("race", 1), "FLYWHEEL_SEED=1 cargo test race");
    }
}
