//! `Handle::dump`: what every live task of a runtime is doing, read without stopping it.
//!
//! A dump reads what the runtime keeps anyway. The owned set lists every live task; it is
//! walked one shard lock at a time, and under each lock the dump only copies fields out of
//! the task headers: the id, name and spawn location (immutable after spawn), the state
//! word, the poll count and the wait point (relaxed atomics written only by the thread that
//! holds the task's `RUNNING` bit). Nothing is polled, woken, cloned or dropped there, so a
//! worker waits at most one shard's copy to spawn or release a task. Blocking-pool jobs are
//! not owned: the pool lists them under its own lock, the running ones as
//! [`TaskState::Blocking`].
//!
//! A dump is a sketch of a moving system, not an atomic snapshot: tasks spawned or finished
//! while it walks may or may not appear, and a task's fields are read one by one (its poll
//! count may be one behind its state).

use std::fmt;
use std::panic::Location;

use crate::runtime::Handle;
use crate::task::schedule::Header;
use crate::task::Id;

/// What every live task of a runtime is doing, from [`Handle::dump`].
///
/// One [`TaskDump`] per task that has not finished: the tasks of the runtime and the jobs of
/// its blocking pool, ordered by id. `Display` prints them as an aligned table, one row per
/// task; [`tasks`](Dump::tasks) gives them as data.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let rt = flywheel::Runtime::new().unwrap();
/// let sleeper = rt.spawn(flywheel::time::sleep(Duration::from_secs(60)));
/// let dump = rt.handle().dump();
/// assert!(dump.tasks().iter().any(|task| task.id() == sleeper.id()));
/// println!("{dump}");
/// ```
#[derive(Clone, Debug)]
pub struct Dump {
    tasks: Vec<TaskDump>,
}

/// One task in a [`Dump`]: who it is, where it was spawned, what it is doing and where it
/// waits.
///
/// # Examples
///
/// ```
/// use flywheel::runtime::TaskState;
///
/// let rt = flywheel::Runtime::new().unwrap();
/// let task = flywheel::task::Builder::new()
///     .name("forever")
///     .spawn_on(std::future::pending::<()>(), rt.handle())
///     .unwrap();
/// let dump = rt.handle().dump();
/// let entry = dump.tasks().iter().find(|t| t.id() == task.id()).unwrap();
/// assert_eq!(entry.name(), Some("forever"));
/// assert_eq!(entry.spawned_at().file(), file!());
/// assert!(matches!(entry.state(), TaskState::Idle | TaskState::Scheduled | TaskState::Running));
/// ```
#[derive(Clone, Debug)]
pub struct TaskDump {
    id: Id,
    name: Option<Box<str>>,
    spawned_at: &'static Location<'static>,
    state: TaskState,
    polls: u64,
    waiting_on: Option<&'static str>,
    waiting_at: Option<&'static Location<'static>>,
}

/// What a task was doing when a [`Dump`] looked at it.
///
/// # Examples
///
/// ```
/// use flywheel::runtime::TaskState;
///
/// assert_eq!(TaskState::Idle.to_string(), "idle");
/// assert_eq!(TaskState::Blocking.to_string(), "blocking");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskState {
    /// Waiting for a wake-up: its last poll returned `Pending` and nothing has woken it.
    Idle,
    /// Woken (or just spawned) and queued to be polled.
    Scheduled,
    /// Being polled by a thread right now.
    Running,
    /// A `spawn_blocking` job running on a blocking-pool thread.
    Blocking,
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            TaskState::Idle => "idle",
            TaskState::Scheduled => "scheduled",
            TaskState::Running => "running",
            TaskState::Blocking => "blocking",
        })
    }
}

impl TaskDump {
    /// The entry for the task behind `header`, or `None` once it has completed.
    /// `blocking_job` says it is a blocking-pool job (running ones show as `Blocking`).
    fn of(header: &Header, blocking_job: bool) -> Option<TaskDump> {
        let snapshot = header.state.load();
        if snapshot.is_complete() {
            return None;
        }
        let state = if snapshot.is_running() {
            if blocking_job {
                TaskState::Blocking
            } else {
                TaskState::Running
            }
        } else if snapshot.is_notified() {
            TaskState::Scheduled
        } else {
            TaskState::Idle
        };
        // A running task's last wait is over; an idle or queued one resumes from it.
        let waiting = match state {
            TaskState::Idle | TaskState::Scheduled => header.waiting(),
            TaskState::Running | TaskState::Blocking => None,
        };
        Some(TaskDump {
            id: header.id,
            name: header.spawned.name.clone(),
            spawned_at: header.location(),
            state,
            polls: header.polls(),
            waiting_on: waiting.map(|leaf| leaf.name()),
            waiting_at: waiting.and_then(|_| crate::task::cell::waiting_at(header)),
        })
    }

    /// The task's [`Id`], the same as its `JoinHandle::id`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Runtime::new().unwrap();
    /// let task = rt.spawn(std::future::pending::<()>());
    /// assert!(rt.handle().dump().tasks().iter().any(|t| t.id() == task.id()));
    /// ```
    pub fn id(&self) -> Id {
        self.id
    }

    /// The name given with [`task::Builder::name`](crate::task::Builder::name), if any.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Runtime::new().unwrap();
    /// let task = rt.spawn(std::future::pending::<()>());
    /// let dump = rt.handle().dump();
    /// let entry = dump.tasks().iter().find(|t| t.id() == task.id()).unwrap();
    /// assert_eq!(entry.name(), None);
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The source location of the call that spawned the task.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Runtime::new().unwrap();
    /// let task = rt.spawn(std::future::pending::<()>()); let line = line!();
    /// let dump = rt.handle().dump();
    /// let entry = dump.tasks().iter().find(|t| t.id() == task.id()).unwrap();
    /// assert_eq!(entry.spawned_at().line(), line);
    /// ```
    pub fn spawned_at(&self) -> &'static Location<'static> {
        self.spawned_at
    }

    /// What the task was doing when the dump looked.
    ///
    /// # Examples
    ///
    /// ```
    /// use flywheel::runtime::TaskState;
    ///
    /// let rt = flywheel::Builder::new_current_thread().build().unwrap();
    /// // Nothing runs the tasks of a current-thread runtime outside `block_on`.
    /// let task = rt.spawn(async {});
    /// let dump = rt.handle().dump();
    /// let entry = dump.tasks().iter().find(|t| t.id() == task.id()).unwrap();
    /// assert_eq!(entry.state(), TaskState::Scheduled);
    /// ```
    pub fn state(&self) -> TaskState {
        self.state
    }

    /// How many times the task has been polled so far (a blocking job: once, when it
    /// started).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Builder::new_current_thread().build().unwrap();
    /// let task = rt.spawn(async {});
    /// let dump = rt.handle().dump();
    /// assert_eq!(dump.tasks().iter().find(|t| t.id() == task.id()).unwrap().polls(), 0);
    /// ```
    pub fn polls(&self) -> u64 {
        self.polls
    }

    /// The kind of flywheel future the task waits on (`"sleep"`, `"read"`, `"JoinHandle"`,
    /// `"JoinSet"`, `"wait"`, ...), for an idle or scheduled task whose last poll ended
    /// there; `None` when it waits on something else (a channel of another crate) or is
    /// running.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = flywheel::Runtime::new().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let task = rt.spawn(async move {
    ///     let nap = flywheel::time::sleep(Duration::from_secs(60));
    ///     tx.send(()).unwrap();
    ///     nap.await;
    /// });
    /// rx.recv().unwrap();
    /// loop {
    ///     let dump = rt.handle().dump();
    ///     let entry = dump.tasks().iter().find(|t| t.id() == task.id()).unwrap();
    ///     if let Some(what) = entry.waiting_on() {
    ///         break assert_eq!(what, "sleep");
    ///     }
    ///     std::thread::yield_now();
    /// }
    /// ```
    pub fn waiting_on(&self) -> Option<&'static str> {
        self.waiting_on
    }

    /// Where in the user's code the task waits: the source location of the `.await` (or of
    /// the call that made the future) it is parked on, when known. Sleeps, timeouts,
    /// intervals' `tick`, `readable`/`writable`/`ready`, `JoinHandle`s, `JoinSet` methods,
    /// `wait`, `join_all` and `yield_now` know it (combinators such as `select` show the
    /// flywheel future inside them that waits); a read through
    /// `futures::AsyncReadExt` does not (its future is another crate's: `waiting_on` says
    /// `"read"`, and this is `None`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = flywheel::Runtime::new().unwrap();
    /// let task = rt.spawn(async {
    ///     flywheel::time::sleep(Duration::from_secs(60)).await; // this line is recorded
    /// });
    /// let line = line!() - 2;
    /// loop {
    ///     let dump = rt.handle().dump();
    ///     let entry = dump.tasks().iter().find(|t| t.id() == task.id()).unwrap();
    ///     if let Some(at) = entry.waiting_at() {
    ///         break assert_eq!(at.line(), line);
    ///     }
    ///     std::thread::yield_now();
    /// }
    /// ```
    pub fn waiting_at(&self) -> Option<&'static Location<'static>> {
        self.waiting_at
    }
}

impl Dump {
    /// Reads the tasks of the runtime behind `handle` (see the module docs).
    pub(crate) fn take(handle: &Handle) -> Dump {
        let shared = &handle.shared;
        let mut tasks = Vec::with_capacity(shared.owned.num_alive());
        shared.owned.for_each(|task| {
            tasks.extend(TaskDump::of(task.header(), false));
        });
        // Local tasks live in their threads' own lists. Taken out of the lock first: reading
        // a list takes its own lock, and a list is created (and registered) under this one.
        let locals: Vec<_> = shared.locals.lock().clone();
        for local in locals.iter().filter_map(std::sync::Weak::upgrade) {
            local.for_each(|task| tasks.extend(TaskDump::of(task.header(), false)));
        }
        shared.blocking.for_each_job(|task, _running| {
            tasks.extend(TaskDump::of(task.header(), true));
        });
        tasks.sort_unstable_by_key(|task| task.id);
        Dump { tasks }
    }

    /// The tasks, ordered by id.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Runtime::new().unwrap();
    /// let a = rt.spawn(std::future::pending::<()>());
    /// let b = rt.spawn(std::future::pending::<()>());
    /// let dump = rt.handle().dump();
    /// let ids: Vec<_> = dump.tasks().iter().map(|t| t.id()).collect();
    /// assert!(ids.contains(&a.id()) && ids.contains(&b.id()));
    /// assert!(ids.windows(2).all(|w| w[0] < w[1]));
    /// ```
    pub fn tasks(&self) -> &[TaskDump] {
        &self.tasks
    }

    /// How many tasks the dump lists.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Runtime::new().unwrap();
    /// assert_eq!(rt.handle().dump().len(), 0);
    /// let _task = rt.spawn(std::future::pending::<()>());
    /// assert_eq!(rt.handle().dump().len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// True when no task was alive.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = flywheel::Runtime::new().unwrap();
    /// assert!(rt.handle().dump().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }
}

/// Column headings of the table, in order.
const HEADINGS: [&str; 6] = ["id", "state", "polls", "name", "spawned at", "waiting"];

impl fmt::Display for Dump {
    /// One aligned row per task under a heading row: id, state, polls, name (`-` if none),
    /// spawn location, and what it waits on with the location (`-` if nothing known).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<[String; 6]> = self
            .tasks
            .iter()
            .map(|task| {
                let waiting = match (task.waiting_on, task.waiting_at) {
                    (Some(what), Some(at)) => format!("{what} at {at}"),
                    (Some(what), None) => what.to_owned(),
                    (None, _) => "-".to_owned(),
                };
                [
                    task.id.to_string(),
                    task.state.to_string(),
                    task.polls.to_string(),
                    task.name.as_deref().unwrap_or("-").to_owned(),
                    task.spawned_at.to_string(),
                    waiting,
                ]
            })
            .collect();
        let mut widths = HEADINGS.map(str::len);
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let headings = HEADINGS.map(str::to_owned);
        for row in std::iter::once(&headings).chain(&rows) {
            // Numbers right-aligned, text left-aligned; no padding after the last column.
            write!(f, "{:>w$}  ", row[0], w = widths[0])?;
            write!(f, "{:<w$}  ", row[1], w = widths[1])?;
            write!(f, "{:>w$}  ", row[2], w = widths[2])?;
            write!(f, "{:<w$}  ", row[3], w = widths[3])?;
            write!(f, "{:<w$}  ", row[4], w = widths[4])?;
            writeln!(f, "{}", row[5])?;
        }
        Ok(())
    }
}
