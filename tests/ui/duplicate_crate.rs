#[flywheel::main(crate = "flywheel", crate = "flywheel")]
async fn main() {}
