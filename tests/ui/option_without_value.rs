#[flywheel::main(flavor)]
async fn main() {}
