#[flywheel::test(unhandled_panic = ignore)]
async fn panicky() {}

fn main() {}
