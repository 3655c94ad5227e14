//! The blocking pool: threads for `spawn_blocking` closures, never the workers.
//!
//! At most `max_threads` threads; a new one starts only when no idle thread can take the
//! job, and an idle thread exits after `KEEP_ALIVE` without work. Jobs are ordinary tasks
//! (a closure wrapped in a future that is polled once), so their `JoinHandle`s behave like
//! any other. At shutdown, jobs that have not started are cancelled; running ones finish.
//!
//! Jobs are not in the runtime's owned set, so for `Handle::dump` the pool keeps each
//! running job next to its thread (`State::running`): a reference taken under the lock the
//! thread already holds to pop the job, and taken out again under a short lock once the job
//! returns (then dropped outside it). That costs a reference count, a map insert and one
//! uncontended lock per job — a job costs a thread hand-off of tens of microseconds — and
//! nothing anywhere else.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::runtime::{context, Handle};
use crate::task::schedule::{Header, Reason, Schedule, Task};

/// How long an idle blocking thread waits for a job before it exits.
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// The pool.
pub(crate) struct Pool {
    state: Mutex<State>,
    /// Idle threads wait here for jobs.
    work: Condvar,
    /// Shutdown waits here for the threads to exit.
    exited: Condvar,
    max_threads: usize,
}

struct State {
    queue: VecDeque<Task>,
    num_threads: usize,
    num_idle: usize,
    /// Wake-ups handed to idle threads and not yet taken.
    num_notify: usize,
    is_shutdown: bool,
    threads: HashMap<usize, thread::JoinHandle<()>>,
    /// The job each busy thread is running, by thread id.
    running: HashMap<usize, Task>,
    next_id: usize,
}

/// The schedule target of blocking jobs: the pool of a runtime. A job is queued once, when
/// spawned (it completes on its first poll), and is never in the runtime's owned set: a
/// running job is not cancelled at shutdown, and a queued one is cancelled by the pool.
#[derive(Clone)]
pub(crate) struct BlockingSchedule {
    handle: Handle,
}

impl BlockingSchedule {
    pub(crate) fn new(handle: Handle) -> BlockingSchedule {
        BlockingSchedule { handle }
    }
}

impl Schedule for BlockingSchedule {
    fn schedule(&self, task: Task, _reason: Reason) {
        // A refused job is cancelled already: its JoinHandle reports it.
        let _ = self.handle.shared.blocking.schedule(task, &self.handle);
    }

    fn release(&self, _task: &Header) {}

    fn runs_here(&self) -> bool {
        false
    }

    fn schedule_here(_task: Task, _reason: Reason) {
        unreachable!("a blocking task is never queued on a worker (runs_here is false)")
    }
}

/// A snapshot of the pool's numbers (`Pool::counts`).
pub(crate) struct PoolCounts {
    pub(crate) threads: usize,
    pub(crate) idle: usize,
    pub(crate) queued: usize,
}

/// A closure as a future: runs it on its first poll.
pub(crate) struct BlockingTask<F>(Option<F>);

impl<F> BlockingTask<F> {
    pub(crate) fn new(f: F) -> BlockingTask<F> {
        BlockingTask(Some(f))
    }
}

impl<F> Unpin for BlockingTask<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingTask<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self
            .0
            .take()
            .expect("a blocking task is polled once: it completes on its first poll");
        Poll::Ready(f())
    }
}

impl Pool {
    pub(crate) fn new(max_threads: usize) -> Pool {
        Pool {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                num_threads: 0,
                num_idle: 0,
                num_notify: 0,
                is_shutdown: false,
                threads: HashMap::new(),
                running: HashMap::new(),
                next_id: 0,
            }),
            work: Condvar::new(),
            exited: Condvar::new(),
            max_threads,
        }
    }

    /// Queues a job, waking or starting a thread for it.
    ///
    /// # Errors
    ///
    /// When the pool is shut down, or has no thread and the OS refuses one: the job is
    /// cancelled (its `JoinHandle` reports it) and the error says why.
    pub(crate) fn schedule(&self, task: Task, handle: &Handle) -> io::Result<()> {
        let mut state = self.state.lock();
        if state.is_shutdown {
            drop(state);
            task.shutdown();
            return Err(shut_down_error());
        }
        state.queue.push_back(task);
        if state.num_idle > 0 {
            state.num_idle -= 1;
            state.num_notify += 1;
            self.work.notify_one();
            return Ok(());
        }
        if state.num_threads >= self.max_threads {
            // Every thread is busy: the job waits for the first one to free up.
            return Ok(());
        }
        let id = state.next_id;
        state.next_id += 1;
        let thread_handle = handle.clone();
        let spawned = handle.shared.threads.spawn(move || run(thread_handle, id));
        match spawned {
            Ok(thread) => {
                state.num_threads += 1;
                state.threads.insert(id, thread);
                Ok(())
            }
            Err(_) if state.num_threads > 0 => {
                // The OS refused a thread; a running one will take the job later.
                Ok(())
            }
            Err(e) => {
                // No thread can ever run it: cancel it so its JoinHandle does not hang.
                let task = state.queue.pop_back();
                drop(state);
                if let Some(task) = task {
                    task.shutdown();
                }
                Err(e)
            }
        }
    }

    /// Number of blocking threads currently running a job.
    pub(crate) fn num_busy(&self) -> usize {
        let state = self.state.lock();
        state.num_threads - state.num_idle
    }

    /// Thread, idle-thread and queued-job counts, for `Handle::metrics` (takes the pool's
    /// lock, which workers take only in `spawn_blocking`).
    pub(crate) fn counts(&self) -> PoolCounts {
        let state = self.state.lock();
        PoolCounts {
            threads: state.num_threads,
            idle: state.num_idle,
            queued: state.queue.len(),
        }
    }

    /// Calls `f` on every job, under the pool's lock (for `Handle::dump`; `f` only reads):
    /// `true` for a running job, `false` for a queued one.
    pub(crate) fn for_each_job(&self, mut f: impl FnMut(&Task, bool)) {
        let state = self.state.lock();
        state.running.values().for_each(|task| f(task, true));
        state.queue.iter().for_each(|task| f(task, false));
    }

    /// Cancels jobs not yet started and waits (until `deadline`, if given) for the threads
    /// to finish their current job and exit. Threads still busy at the deadline are left
    /// to finish on their own.
    pub(crate) fn shutdown(&self, deadline: Option<Instant>) {
        let mut state = self.state.lock();
        state.is_shutdown = true;
        let queued: Vec<Task> = state.queue.drain(..).collect();
        self.work.notify_all();
        drop(state);
        for task in queued {
            task.shutdown();
        }

        let mut state = self.state.lock();
        // Dropped inside one of its own jobs: this thread cannot wait for itself. It exits
        // when the job returns (the pool is shut down); its join handle is detached below.
        let me = thread::current().id();
        let own = state.threads.values().any(|t| t.thread().id() == me);
        while state.num_threads > usize::from(own) {
            match deadline {
                Some(deadline) => {
                    if self.exited.wait_until(&mut state, deadline).timed_out() {
                        return;
                    }
                }
                None => self.exited.wait(&mut state),
            }
        }
        let threads: Vec<_> = state.threads.drain().map(|(_, t)| t).collect();
        drop(state);
        for thread in threads {
            if thread.thread().id() != me {
                let _ = thread.join();
            }
        }
    }
}

fn run(handle: Handle, id: usize) {
    let _enter = context::enter(&handle);
    let pool = &handle.shared.blocking;
    let mut state = pool.state.lock();
    'outer: loop {
        while let Some(task) = state.queue.pop_front() {
            state.running.insert(id, task.clone());
            drop(state);
            task.run();
            let done = pool.state.lock().running.remove(&id);
            // Dropped outside the lock, like every task reference.
            drop(done);
            state = pool.state.lock();
        }
        if state.is_shutdown {
            break;
        }
        state.num_idle += 1;
        // Checked, like every instant arithmetic: an unrepresentable deadline waits for ever.
        let deadline = Instant::now().checked_add(KEEP_ALIVE);
        loop {
            let timed_out = match deadline {
                Some(deadline) => pool.work.wait_until(&mut state, deadline).timed_out(),
                None => {
                    pool.work.wait(&mut state);
                    false
                }
            };
            if state.num_notify > 0 {
                state.num_notify -= 1;
                continue 'outer;
            }
            if state.is_shutdown || timed_out {
                state.num_idle -= 1;
                if state.is_shutdown {
                    break 'outer;
                }
                // Idle too long: leave, detaching our own join handle.
                state.threads.remove(&id);
                break 'outer;
            }
        }
    }
    state.num_threads -= 1;
    pool.exited.notify_all();
}

/// Why a spawn onto a runtime that has shut down fails.
const SHUT_DOWN: &str = "the runtime is shut down and takes no new tasks: \
    spawn while the `Runtime` is alive";

/// The error of a spawn refused because the runtime shut down (`task::Builder`, and the
/// blocking pool of a runtime that is gone).
pub(crate) fn shut_down_error() -> io::Error {
    io::Error::other(SHUT_DOWN)
}
