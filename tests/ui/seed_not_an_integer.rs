#[flywheel::test(seed = "42")]
async fn seeded() {}

fn main() {}
