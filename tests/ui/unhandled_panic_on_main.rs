#[flywheel::main(flavor = "current_thread", unhandled_panic = "ignore")]
async fn main() {}
