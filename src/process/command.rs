//! `Command`: std's process builder, plus `kill_on_drop`, spawning children whose exit and
//! streams are on the reactor; `status` and `output` run one to completion.
//! (`status` and `output` are in output.rs.)

use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::path::Path;

use crate::process::exit;
use crate::process::{Child, Stdio};

/// A process to spawn: program, arguments, environment, working directory and standard
/// streams, as in [`std::process::Command`], plus [`kill_on_drop`](Command::kill_on_drop).
///
/// Builder methods take `&mut self` and return `&mut Self`, so calls chain and one
/// `Command` can spawn several processes.
///
/// # Examples
///
/// ```
/// use flywheel::process::Command;
///
/// flywheel::run(async {
///     let status = Command::new("sh")
///         .args(["-c", "test \"$GREETING\" = hello"])
///         .env("GREETING", "hello")
///         .status()
///         .await?;
///     assert!(status.success());
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct Command {
    pub(super) std: std::process::Command,
    kill_on_drop: bool,
    /// Whether the caller chose each stream: `output` only applies its defaults to the rest.
    pub(super) stdin_set: bool,
    pub(super) stdout_set: bool,
    pub(super) stderr_set: bool,
    /// False only in tests of the SIGCHLD path.
    prefer_pidfd: bool,
}

impl Command {
    /// A command that runs `program` (looked up in `PATH` when it has no `/`), with no
    /// arguments, the parent's environment and working directory, and the spawn defaults
    /// for the streams (inherited).
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     assert!(flywheel::process::Command::new("true").status().await?.success());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command::from(std::process::Command::new(program))
    }

    /// Adds an argument.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let out = flywheel::process::Command::new("echo").arg("-n").arg("x").output().await?;
    ///     assert_eq!(out.stdout, b"x");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds several arguments.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let out = flywheel::process::Command::new("echo").args(["a", "b"]).output().await?;
    ///     assert_eq!(out.stdout, b"a b\n");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable of the child.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let out = flywheel::process::Command::new("sh")
    ///         .args(["-c", "echo $COLOUR"])
    ///         .env("COLOUR", "teal")
    ///         .output()
    ///         .await?;
    ///     assert_eq!(out.stdout, b"teal\n");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, value);
        self
    }

    /// Sets several environment variables of the child.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let out = flywheel::process::Command::new("sh")
    ///         .args(["-c", "echo $A$B"])
    ///         .envs([("A", "1"), ("B", "2")])
    ///         .output()
    ///         .await?;
    ///     assert_eq!(out.stdout, b"12\n");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let out = flywheel::process::Command::new("sh")
    ///         .args(["-c", "echo \"${HOME:-unset}\""])
    ///         .env_remove("HOME")
    ///         .output()
    ///         .await?;
    ///     assert_eq!(out.stdout, b"unset\n");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (plus what [`env`](Command::env) adds).
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let out = flywheel::process::Command::new("/bin/sh")
    ///         .args(["-c", "echo \"${PATH:-none}\""])
    ///         .env_clear()
    ///         .output()
    ///         .await?;
    ///     assert_ne!(out.stdout, std::env::var("PATH").unwrap_or_default().as_bytes());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Sets the child's working directory.
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let out = flywheel::process::Command::new("pwd").current_dir("/").output().await?;
    ///     assert_eq!(out.stdout, b"/\n");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// Sets the child's stdin: [`Stdio::piped`] makes [`Child::stdin`] a writer on the
    /// reactor. Default: inherited, or nothing (end of file) for [`output`](Command::output).
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::process::{Command, Stdio};
    ///
    /// flywheel::run(async {
    ///     let status = Command::new("cat").stdin(Stdio::null()).status().await?;
    ///     assert!(status.success());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self.stdin_set = true;
        self
    }

    /// Sets the child's stdout: [`Stdio::piped`] makes [`Child::stdout`] a reader on the
    /// reactor. Default: inherited, or captured for [`output`](Command::output).
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::process::{Command, Stdio};
    ///
    /// flywheel::run(async {
    ///     let out = Command::new("echo").arg("hidden").stdout(Stdio::null()).output().await?;
    ///     assert!(out.stdout.is_empty());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self.stdout_set = true;
        self
    }

    /// Sets the child's stderr: [`Stdio::piped`] makes [`Child::stderr`] a reader on the
    /// reactor. Default: inherited, or captured for [`output`](Command::output).
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::process::{Command, Stdio};
    ///
    /// flywheel::run(async {
    ///     let out = Command::new("sh")
    ///         .args(["-c", "echo e >&2"])
    ///         .stderr(Stdio::null())
    ///         .output()
    ///         .await?;
    ///     assert!(out.stderr.is_empty());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self.stderr_set = true;
        self
    }

    /// Whether dropping the [`Child`] (before it was reaped) sends it SIGKILL. Default:
    /// false, as in std — the child runs on, and is reaped when it exits.
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::process::Command;
    ///
    /// flywheel::run(async {
    ///     let child = Command::new("sleep").arg("30").kill_on_drop(true).spawn()?;
    ///     drop(child); // `sleep` is killed here, and reaped in the background.
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// The std command inside, for settings not mirrored here (`uid`, `process_group`, ...).
    ///
    /// # Examples
    ///
    /// ```
    /// let cmd = flywheel::process::Command::new("echo");
    /// assert_eq!(cmd.as_std().get_program(), "echo");
    /// ```
    pub fn as_std(&self) -> &std::process::Command {
        &self.std
    }

    /// The std command inside, mutably. Streams set through it count as unset for
    /// [`output`](Command::output), which then captures stdout and stderr anyway.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::process::CommandExt;
    ///
    /// flywheel::run(async {
    ///     let mut cmd = flywheel::process::Command::new("true");
    ///     cmd.as_std_mut().process_group(0);
    ///     assert!(cmd.status().await?.success());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// Starts the process and returns its [`Child`], whose piped streams and exit are on
    /// the current runtime's reactor.
    ///
    /// # Errors
    ///
    /// Outside a runtime; when the program cannot be started (not found, not executable);
    /// when the OS refuses a descriptor for the exit watch or the pipes (the child is then
    /// killed and reaped).
    ///
    /// # Examples
    ///
    /// ```
    /// flywheel::run(async {
    ///     let mut child = flywheel::process::Command::new("true").spawn()?;
    ///     assert!(child.wait().await?.success());
    ///
    ///     let missing = flywheel::process::Command::new("no-such-program-here").spawn();
    ///     assert_eq!(missing.unwrap_err().kind(), std::io::ErrorKind::NotFound);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn spawn(&mut self) -> io::Result<Child> {
        // Refuse before starting a process nothing could wait for.
        if crate::Handle::try_current().is_err() {
            return Err(io::Error::other(
                "flywheel::process needs a runtime: call spawn, status or output inside \
                 flywheel::run, Runtime::block_on or a spawned task",
            ));
        }
        exit::reap_orphans();
        let inner = self.std.spawn()?;
        Child::new(inner, self.kill_on_drop, self.prefer_pidfd)
    }

    /// Makes children wait for SIGCHLD even where pidfds work, to test that path.
    #[cfg(test)]
    pub(crate) fn watch_sigchld(&mut self) -> &mut Command {
        self.prefer_pidfd = false;
        self
    }
}

impl From<std::process::Command> for Command {
    /// Wraps a std command; its streams count as unset for [`Command::output`].
    fn from(std: std::process::Command) -> Command {
        Command {
            std,
            kill_on_drop: false,
            stdin_set: false,
            stdout_set: false,
            stderr_set: false,
            prefer_pidfd: true,
        }
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field("std", &self.std)
            .field("kill_on_drop", &self.kill_on_drop)
            .finish_non_exhaustive()
    }
}
