// The generated code names the given path: a path that does not lead to flywheel is reported
// at the string.
#[flywheel::main(crate = "no_such_module::rt", flavor = "current_thread")]
async fn main() {}
