#[flywheel::test(crate = "my crate::flywheel")]
async fn spaced() {}

fn main() {}
