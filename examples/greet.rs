//! The Rust twin of Python's asyncio greet example: two greetings run as concurrent tasks.
//!
//! ```python
//! async def greet(name):
//!     print(f"Hello, {name}")
//!
//! async def main():
//!     await asyncio.gather(greet("Alice"), greet("Bob"))
//!
//! asyncio.run(main())
//! ```
//!
//! `#[flywheel::main]` plays `asyncio.run(main())`: it builds the runtime and runs
//! `async fn main` on it. Run it with `cargo run --example greet`.

async fn greet(name: &'static str) {
    println!("Hello, {name}");
}

#[flywheel::main]
async fn main() {
    let alice = flywheel::spawn(greet("Alice"));
    let bob = flywheel::spawn(greet("Bob"));
    alice.await.expect("greet(\"Alice\") panicked");
    bob.await.expect("greet(\"Bob\") panicked");
}
