#[flywheel::test(flavor = "current_thread", worker_threads = 2)]
async fn two_workers_on_one_thread() {}

fn main() {}
