//! Finding a race with seeded scheduling, then replaying it.
//!
//! Two withdrawals of 70 share an account holding 100. Each one is approved by a fraud
//! check spawned just before it, and does: check the balance, `.await` the approval, debit.
//! The check and the debit are split by an `.await`, so another withdrawal may check the
//! same balance in between, and both debit: an overdraft.
//!
//! A plain runtime runs tasks in the order they were queued, and there the approval is
//! always done by the time the withdrawal awaits it: the race never shows, however often
//! the program runs. A seeded runtime (`Builder::seed`) draws the next task at random from
//! the runnable ones, so a loop over seeds tries other interleavings and finds one that
//! overdraws within a few runs; replaying that seed overdraws the same way every time.
//!
//! ```text
//! cargo run --example seeded
//! ```
//!
//! The fix is to check after the `.await` (or to hold a lock across it).

use std::sync::{Arc, Mutex};

use flywheel::task::JoinHandle;

/// What one run of the bank did: the events in order, and the final balance.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub events: Vec<String>,
    pub balance: i64,
}

/// The starting balance, and what each of the two withdrawals asks for.
const OPENING: i64 = 100;
const AMOUNT: i64 = 70;

/// Runs the bank once: on a plain current-thread runtime when `seed` is `None`, on a
/// seeded one otherwise.
pub fn run_bank(seed: Option<u64>) -> Outcome {
    let mut builder = flywheel::Builder::new_current_thread();
    if let Some(seed) = seed {
        builder.seed(seed);
    }
    let rt = builder.build().expect("build a current-thread runtime");
    rt.block_on(bank())
}

/// The program under test: two withdrawals, each with its fraud check spawned ahead of it.
pub async fn bank() -> Outcome {
    let balance = Arc::new(Mutex::new(OPENING));
    let events = Arc::new(Mutex::new(Vec::new()));
    let mut withdrawals = Vec::new();
    for who in ["alice", "bob"] {
        let approval = flywheel::spawn(fraud_check(AMOUNT));
        withdrawals.push(flywheel::spawn(withdraw(
            who,
            approval,
            balance.clone(),
            events.clone(),
        )));
    }
    for withdrawal in withdrawals {
        withdrawal.await.expect("a withdrawal does not panic");
    }
    let balance = *balance.lock().unwrap();
    let events = std::mem::take(&mut *events.lock().unwrap());
    Outcome { events, balance }
}

/// Approves any amount below 1000.
async fn fraud_check(amount: i64) -> bool {
    amount < 1000
}

/// Check, await, act: the bug this example is about.
async fn withdraw(
    who: &'static str,
    approval: JoinHandle<bool>,
    balance: Arc<Mutex<i64>>,
    events: Arc<Mutex<Vec<String>>>,
) {
    let seen = *balance.lock().unwrap();
    if seen < AMOUNT {
        events
            .lock()
            .unwrap()
            .push(format!("{who}: refused, balance {seen}"));
        return;
    }
    // The balance may change while this waits: the check above is stale after it.
    let approved = approval.await.expect("the fraud check does not panic");
    if approved {
        let mut balance = balance.lock().unwrap();
        *balance -= AMOUNT;
        events
            .lock()
            .unwrap()
            .push(format!("{who}: debited {AMOUNT}, balance {}", *balance));
    }
}

/// Tries seeds `0..limit` and returns the first whose run overdraws the account.
pub fn find_overdraft(limit: u64) -> Option<u64> {
    (0..limit).find(|&seed| run_bank(Some(seed)).balance < 0)
}

#[allow(dead_code)] // `tests/rt_seed.rs` includes this file for its functions only.
fn main() {
    for _ in 0..100 {
        let plain = run_bank(None);
        assert!(plain.balance >= 0, "a plain run never overdraws: {plain:?}");
    }
    println!("100 plain runs: never overdrawn");

    let Some(seed) = find_overdraft(500) else {
        println!("no seed below 500 overdraws");
        return;
    };
    let first = run_bank(Some(seed));
    println!("seed {seed} overdraws:");
    for event in &first.events {
        println!("  {event}");
    }
    for _ in 0..10 {
        assert_eq!(run_bank(Some(seed)), first, "a seed replays the same run");
    }
    println!("replayed seed {seed} ten times: the same events and balance each time");
}
