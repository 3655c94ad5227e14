#[flywheel::main(crate = flywheel)]
async fn main() {}
