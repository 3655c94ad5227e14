#[flywheel::test(start_paused = , flavor = "current_thread")]
async fn paused() {}

fn main() {}
