#[flywheel::test(flavor = "multi_thread", runs = 10)]
async fn seeded_on_threads() {}

fn main() {}
