#[flywheel::test(runs = 0)]
async fn never_runs() {}

fn main() {}
