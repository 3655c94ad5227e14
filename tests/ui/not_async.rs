#[flywheel::main]
fn main() {
    println!("this main is not async");
}
