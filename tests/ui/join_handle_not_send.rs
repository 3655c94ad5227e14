// A local task's `JoinHandle<T>` is `Send` only when `T` is: a handle to an `Rc` output
// stays on the thread that spawned the task.
fn require_send<T: Send>(_: T) {}

fn main() {
    let rt = flywheel::Builder::new_current_thread().build_local().unwrap();
    let handle = rt.spawn_local(async { std::rc::Rc::new(1) });
    require_send(handle);
}
