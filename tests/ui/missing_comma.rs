#[flywheel::test(flavor = "multi_thread" worker_threads = 2)]
async fn no_comma() {}

fn main() {}
