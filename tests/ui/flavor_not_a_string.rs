#[flywheel::test(flavor = current_thread)]
async fn flavor_is_an_ident() {}

fn main() {}
