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
//! Run it with `cargo run --example greet`.

async fn greet(name: &'static str) {
    println!("Hello, {name}");
}

fn main() {
    flywheel::run(async {
        let alice = flywheel::spawn(greet("Alice"));
        let bob = flywheel::spawn(greet("Bob"));
        alice.await.expect("greet(\"Alice\") panicked");
        bob.await.expect("greet(\"Bob\") panicked");
    });
}
