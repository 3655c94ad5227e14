#[flywheel::test(unhandled_panic = "abort")]
async fn panicky() {}

fn main() {}
