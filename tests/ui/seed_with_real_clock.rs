#[flywheel::test(seed = 1, start_paused = false)]
async fn seeded_real_clock() {}

fn main() {}
