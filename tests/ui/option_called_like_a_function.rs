#[flywheel::test(flavor("multi_thread"))]
async fn called() {}

fn main() {}
