//! `crate = "path"`: a crate that re-exports flywheel hands its users the attribute under
//! its own path, and the generated code names that path instead of `::flywheel`.

mod my_framework {
    pub use flywheel as rt;
}

#[my_framework::rt::main(crate = "my_framework::rt", worker_threads = 2)]
async fn main() {
    let name = my_framework::rt::spawn(async { std::thread::current().name().map(str::to_owned) });
    assert_eq!(name.await.unwrap().as_deref(), Some("flywheel-worker"));
}
