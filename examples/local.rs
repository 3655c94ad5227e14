//! Local tasks sharing `Rc<RefCell<_>>` state: a tiny in-memory "chat room" whose members
//! are tasks on one thread, so they share the room without `Arc`, `Mutex` or `Send`.
//!
//! `#[flywheel::main(flavor = "local")]` runs `main` on a `LocalRuntime`; `spawn_local`
//! starts tasks whose futures are not `Send` (they hold the `Rc`). A plain thread feeds
//! the room through a channel: wakes from other threads reach local tasks like any other.
//! Run it with `cargo run --example local`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use flywheel::task::{spawn_local, JoinSet};

/// The shared state: who said how many things, and the transcript.
#[derive(Default)]
struct Room {
    said: BTreeMap<&'static str, usize>,
    transcript: Vec<String>,
}

async fn member(room: Rc<RefCell<Room>>, name: &'static str, lines: usize) -> usize {
    for i in 0..lines {
        {
            // Never held across an `.await`: other members borrow the room meanwhile.
            let mut room = room.borrow_mut();
            *room.said.entry(name).or_default() += 1;
            room.transcript.push(format!("{name}: line {i}"));
        }
        flywheel::time::sleep(Duration::from_millis(1)).await;
    }
    lines
}

#[flywheel::main(flavor = "local")]
async fn main() {
    let room = Rc::new(RefCell::new(Room::default()));

    let mut members = JoinSet::new();
    for (name, lines) in [("ada", 3), ("grace", 2), ("linus", 4)] {
        members.spawn_local(member(room.clone(), name, lines));
    }

    // A message from another OS thread: the local task waiting for it is woken from there.
    let (tx, rx) = futures_channel::oneshot::channel();
    let listener = spawn_local({
        let room = room.clone();
        async move {
            let text: String = rx.await.expect("the sender thread sends once");
            room.borrow_mut().transcript.push(format!("guest: {text}"));
        }
    });
    std::thread::spawn(move || {
        let _ = tx.send("hello from a plain thread".to_string());
    });

    let mut total = 0;
    while let Some(lines) = members.join_next().await {
        total += lines.expect("members do not panic");
    }
    listener.await.expect("the listener does not panic");

    let room = room.borrow();
    for line in &room.transcript {
        println!("{line}");
    }
    println!("{total} lines from {:?}", room.said);
    assert_eq!(total, 9);
    assert_eq!(room.transcript.len(), 10);
}
