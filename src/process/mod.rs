//! Child processes on the runtime's reactor: [`Command`] (like `std::process::Command`)
//! spawns a [`Child`] whose exit and standard streams are awaited without blocking a worker.
//!
//! ```
//! use flywheel::process::Command;
//!
//! flywheel::run(async {
//!     let output = Command::new("echo").arg("hello").output().await?;
//!     assert!(output.status.success());
//!     assert_eq!(output.stdout, b"hello\n");
//!     Ok::<(), std::io::Error>(())
//! })
//! .unwrap();
//! ```
//!
//! # How exits are noticed
//!
//! On Linux 5.3+ each child gets a pidfd registered with the reactor: it turns readable when
//! the child exits, like a socket with data. Elsewhere (or where a seccomp filter refuses
//! `pidfd_open`), SIGCHLD, through [`crate::signal`], wakes the waiters, and each asks the OS
//! about its own child. Either way nothing polls on a timer and no thread blocks in
//! `waitpid`.
//!
//! # No zombies
//!
//! A process that exited stays a zombie until its parent reaps it. `wait` and `try_wait`
//! reap; a [`Child`] dropped earlier is reaped in the background when it exits — by a small
//! task on the current runtime, or, with no runtime, at the next `spawn` or `Child` drop.
//! [`Command::kill_on_drop`] kills the child when its `Child` is dropped.
//!
//! # Files
//!
//! flywheel has no file layer of its own: regular files are always "ready" to epoll, so
//! every runtime (tokio's `fs` too) reads them on threads. Either wrap `std::fs` in
//! [`spawn_blocking`](crate::spawn_blocking), or use `async-fs`, which runs on its own thread
//! pool and works inside flywheel as is (it only needs wakers):
//!
//! ```
//! # let dir = std::env::temp_dir().join(format!("flywheel-doc-fs-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! let path = dir.join("greeting.txt");
//! flywheel::run(async {
//!     let blocking_path = path.clone();
//!     flywheel::spawn_blocking(move || std::fs::write(blocking_path, "hello"))
//!         .await
//!         .expect("the job did not panic")?;
//!     assert_eq!(async_fs::read_to_string(&path).await?, "hello");
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), std::io::Error>(())
//! ```

mod child;
mod command;
mod exit;
mod output;
mod pipe;

pub use child::Child;
pub use command::Command;
pub use pipe::{ChildStderr, ChildStdin, ChildStdout};
pub use std::process::{ExitStatus, Output, Stdio};
