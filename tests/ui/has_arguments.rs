#[flywheel::test]
async fn takes_an_argument(n: u32, name: &str) {
    println!("{n} {name}");
}

fn main() {}
