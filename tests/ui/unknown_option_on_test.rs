#[flywheel::test(crate = "flywheel", timeout = 5)]
async fn with_timeout() {}

fn main() {}
