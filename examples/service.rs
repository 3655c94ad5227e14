//! A REST + job-queue microservice that drains gracefully on SIGTERM, the way a pod in
//! Kubernetes should: hyper over flywheel, an async-channel queue, a pool of worker tasks.
//!
//! ```sh
//! cargo run --release --features hyper --example service -- --addr 127.0.0.1:8080 --workers 4
//! curl -i -X POST 'http://127.0.0.1:8080/jobs?ms=500' -d 'some input'   # 202, {"id":1}
//! curl http://127.0.0.1:8080/jobs/1      # {"id":1,"status":"running"} ... "done","result":..
//! curl -i http://127.0.0.1:8080/healthz  # 200 ok (503 draining once a stop was asked)
//! kill -TERM <pid>                       # or Ctrl-C: drain, then exit 0
//! ```
//!
//! Endpoints:
//! - `GET /healthz`: `200 ok`, or `503 draining` once shutdown began (readiness probes then
//!   take the pod out of the load balancer).
//! - `POST /jobs[?ms=N]`: enqueues the request body as a job that takes `N` ms of simulated
//!   work (default 100) and then records a checksum of the body; answers `202` with
//!   `{"id":N}` and a `Location`, or `503` when the queue is full or the service is draining.
//! - `GET /jobs/{id}`: `{"id":..,"status":"queued"|"running"|"done"[,"result":".."]}`, or 404.
//!   (Results stay in memory for the life of the process: this is a demo, not a store.)
//!
//! Options: `--addr HOST:PORT` (default 127.0.0.1:8080), `--workers N` job workers (default
//! 4), `--drain-timeout SECS` (default 10). The runtime's worker threads follow the CPU
//! quota of the container, or `FLYWHEEL_WORKER_THREADS`.
//!
//! On the first SIGTERM or SIGINT the service:
//! 1. reports `503` on `/healthz` and refuses new jobs with `503`;
//! 2. closes its listening socket (new connections are refused), while open connections
//!    keep being answered — clients can still poll `GET /jobs/{id}`;
//! 3. lets the workers finish every job already accepted, until the drain deadline;
//! 4. closes the connections gracefully (requests in flight are answered first);
//! 5. prints a summary on stderr — the ids of jobs still queued or running at the deadline,
//!    so none is lost silently — and exits 0.
//!
//! A second signal during the drain exits at once with 128 + the signal number (130 for
//! SIGINT, 143 for SIGTERM), as a shell would report it.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use flywheel::compat::hyper::{FlywheelIo, FlywheelTimer};
use flywheel::net::{TcpListener, TcpStream};
use flywheel::signal::unix::{signal, Signal, SignalKind};
use flywheel::task::{select, Either, JoinSet};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};

/// Jobs waiting for a worker, at most; beyond that `POST /jobs` sheds load with 503.
const QUEUE_CAPACITY: usize = 4096;
/// Largest job body accepted.
const MAX_BODY: usize = 64 * 1024;
/// Simulated work of a job without `?ms=`.
const DEFAULT_WORK_MS: u64 = 100;
/// Longest simulated work a job may ask for.
const MAX_WORK_MS: u64 = 60_000;
/// Time left for in-flight requests once the connections are told to close, when the
/// drain deadline has already passed.
const CONNECTION_GRACE: Duration = Duration::from_secs(1);

struct Config {
    addr: String,
    workers: usize,
    drain_timeout: Duration,
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "service: {problem}\nusage: service [--addr HOST:PORT] [--workers N] [--drain-timeout SECS]"
    );
    std::process::exit(2)
}

fn parse_args() -> Config {
    let mut config = Config {
        addr: "127.0.0.1:8080".to_owned(),
        workers: 4,
        drain_timeout: Duration::from_secs(10),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--addr" => config.addr = value(),
            "--workers" => match value().parse() {
                Ok(n) if n > 0 => config.workers = n,
                _ => usage("--workers takes a positive integer"),
            },
            "--drain-timeout" => match value().parse::<f64>() {
                Ok(secs) if secs >= 0.0 && secs.is_finite() => {
                    config.drain_timeout = Duration::from_secs_f64(secs)
                }
                _ => usage("--drain-timeout takes a number of seconds"),
            },
            "-h" | "--help" => usage("a REST + job-queue service that drains on SIGTERM"),
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    config
}

#[derive(Clone, Copy, PartialEq)]
enum Stage {
    Queued,
    Running,
    Done,
}

struct JobRecord {
    stage: Stage,
    result: Option<String>,
}

struct Job {
    id: u64,
    work: Duration,
    input: Bytes,
}

/// What the handlers and workers share.
struct App {
    jobs: Mutex<HashMap<u64, JobRecord>>,
    next_id: AtomicU64,
    draining: AtomicBool,
    queue: async_channel::Sender<Job>,
    accepted: AtomicU64,
    finished: AtomicU64,
    requests: AtomicU64,
}

impl App {
    fn set_stage(&self, id: u64, stage: Stage, result: Option<String>) {
        let mut jobs = self
            .jobs
            .lock()
            .expect("no handler panics holding the lock");
        if let Some(record) = jobs.get_mut(&id) {
            record.stage = stage;
            record.result = result;
        }
    }

    fn ids_in(&self, stage: Stage) -> Vec<u64> {
        let jobs = self
            .jobs
            .lock()
            .expect("no handler panics holding the lock");
        let mut ids: Vec<u64> = jobs
            .iter()
            .filter(|(_, record)| record.stage == stage)
            .map(|(&id, _)| id)
            .collect();
        ids.sort_unstable();
        ids
    }
}

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Reply {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
}

fn json(status: StatusCode, body: String) -> Reply {
    let mut response = reply(status, body);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

/// `?ms=N` from the query string, clamped.
fn work_from_query(query: Option<&str>) -> Result<Duration, &'static str> {
    let ms = query
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("ms="))
        .map(|v| v.parse::<u64>().map_err(|_| "ms must be an integer"))
        .transpose()?
        .unwrap_or(DEFAULT_WORK_MS);
    Ok(Duration::from_millis(ms.min(MAX_WORK_MS)))
}

async fn handle(app: Arc<App>, request: Request<Incoming>) -> Result<Reply, Infallible> {
    app.requests.fetch_add(1, Ordering::Relaxed);
    let draining = app.draining.load(Ordering::SeqCst);
    let path = request.uri().path().to_owned();
    let reply = match (request.method(), path.as_str()) {
        (&Method::GET, "/healthz") if draining => {
            reply(StatusCode::SERVICE_UNAVAILABLE, "draining\n")
        }
        (&Method::GET, "/healthz") => reply(StatusCode::OK, "ok\n"),
        (&Method::POST, "/jobs") if draining => reply(
            StatusCode::SERVICE_UNAVAILABLE,
            "draining: not accepting jobs\n",
        ),
        (&Method::POST, "/jobs") => submit(&app, request).await,
        (&Method::GET, p) if p.starts_with("/jobs/") => status_of(&app, &p["/jobs/".len()..]),
        (_, "/healthz" | "/jobs") => reply(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n"),
        _ => reply(StatusCode::NOT_FOUND, "not found\n"),
    };
    Ok(reply)
}

async fn submit(app: &App, request: Request<Incoming>) -> Reply {
    let work = match work_from_query(request.uri().query()) {
        Ok(work) => work,
        Err(problem) => return reply(StatusCode::BAD_REQUEST, format!("{problem}\n")),
    };
    let input = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return reply(StatusCode::PAYLOAD_TOO_LARGE, "body too large or cut\n"),
    };
    let id = app.next_id.fetch_add(1, Ordering::Relaxed);
    app.jobs.lock().expect("no panics holding the lock").insert(
        id,
        JobRecord {
            stage: Stage::Queued,
            result: None,
        },
    );
    // Fails when the queue is full, or closed because the drain began since the check.
    match app.queue.try_send(Job { id, work, input }) {
        Ok(()) => {
            app.accepted.fetch_add(1, Ordering::SeqCst);
            let mut response = json(StatusCode::ACCEPTED, format!("{{\"id\":{id}}}"));
            if let Ok(location) = format!("/jobs/{id}").parse() {
                response
                    .headers_mut()
                    .insert(hyper::header::LOCATION, location);
            }
            response
        }
        Err(refused) => {
            app.jobs
                .lock()
                .expect("no panics holding the lock")
                .remove(&id);
            let why = if refused.is_closed() {
                "draining: not accepting jobs\n"
            } else {
                "queue full, retry later\n"
            };
            reply(StatusCode::SERVICE_UNAVAILABLE, why)
        }
    }
}

fn status_of(app: &App, id: &str) -> Reply {
    let Ok(id) = id.parse::<u64>() else {
        return reply(StatusCode::NOT_FOUND, "no such job\n");
    };
    let jobs = app.jobs.lock().expect("no panics holding the lock");
    match jobs.get(&id) {
        None => reply(StatusCode::NOT_FOUND, "no such job\n"),
        Some(record) => {
            let stage = match record.stage {
                Stage::Queued => "queued",
                Stage::Running => "running",
                Stage::Done => "done",
            };
            let result = match &record.result {
                Some(result) => format!(",\"result\":\"{result}\""),
                None => String::new(),
            };
            json(
                StatusCode::OK,
                format!("{{\"id\":{id},\"status\":\"{stage}\"{result}}}"),
            )
        }
    }
}

/// A job worker: takes jobs until the queue is closed and empty.
async fn work(app: Arc<App>, queue: async_channel::Receiver<Job>) {
    while let Ok(job) = queue.recv().await {
        app.set_stage(job.id, Stage::Running, None);
        if !job.work.is_zero() {
            flywheel::time::sleep(job.work).await;
        }
        // FNV-1a: the "result" of the job.
        let checksum = job.input.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        app.set_stage(job.id, Stage::Done, Some(format!("{checksum:016x}")));
        app.finished.fetch_add(1, Ordering::SeqCst);
    }
}

/// Serves one connection until the client leaves or `stop` is closed; then finishes the
/// request in flight and closes.
async fn serve(app: Arc<App>, stream: TcpStream, stop: async_channel::Receiver<()>) {
    let service = service_fn(move |request| handle(app.clone(), request));
    let connection = http1::Builder::new()
        .timer(FlywheelTimer::new())
        .serve_connection(FlywheelIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    let served = match select(connection.as_mut(), stop.recv()).await {
        Either::Left(served) => served,
        Either::Right(_closed) => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = served {
        // A client closing mid-request (or before our shutdown) is routine under load.
        if !e.is_incomplete_message() && !e.is_closed() && !e.is_shutdown() {
            eprintln!("connection: {e}");
        }
    }
}

/// The next SIGTERM or SIGINT; its name and exit code for a forced exit.
async fn next_signal(terminate: &mut Signal, interrupt: &mut Signal) -> (&'static str, u8) {
    match select(terminate.recv(), interrupt.recv()).await {
        Either::Left(_) => ("SIGTERM", 128 + 15),
        Either::Right(_) => ("SIGINT", 128 + 2),
    }
}

#[flywheel::main]
async fn main() -> io::Result<ExitCode> {
    let config = parse_args();
    // Listen for signals before announcing the address: a stop right after start is handled.
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let listener = TcpListener::bind(config.addr.clone()).await?;
    println!("listening on http://{}", listener.local_addr()?);
    io::stdout().flush()?;

    let (queue, jobs) = async_channel::bounded(QUEUE_CAPACITY);
    let app = Arc::new(App {
        jobs: Mutex::new(HashMap::new()),
        next_id: AtomicU64::new(1),
        draining: AtomicBool::new(false),
        queue,
        accepted: AtomicU64::new(0),
        finished: AtomicU64::new(0),
        requests: AtomicU64::new(0),
    });
    let workers: Vec<_> = (0..config.workers)
        .map(|_| flywheel::spawn(work(app.clone(), jobs.clone())))
        .collect();
    // Closed (never sent on) to tell every connection to wind down.
    let (stop_connections, stop) = async_channel::bounded::<()>(1);
    let mut connections = JoinSet::new();

    let first = loop {
        let accepted = match select(
            listener.accept(),
            next_signal(&mut terminate, &mut interrupt),
        )
        .await
        {
            Either::Left(accepted) => accepted,
            Either::Right(signal) => break signal,
        };
        match accepted {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                connections.spawn(serve(app.clone(), stream, stop.clone()));
            }
            // Out of descriptors and the like: the listener itself is fine; pause rather
            // than spin until a connection closes.
            Err(e) => {
                eprintln!("accept: {e}");
                flywheel::time::sleep(Duration::from_millis(10)).await;
            }
        }
        while connections.try_join_next().is_some() {}
    };

    // Drain.
    let started = Instant::now();
    let deadline = started + config.drain_timeout;
    app.draining.store(true, Ordering::SeqCst);
    drop(listener);
    app.queue.close();
    while connections.try_join_next().is_some() {}
    eprintln!(
        "{}: draining: {} jobs queued, {} running, {} connections open; deadline {:?}",
        first.0,
        jobs.len(),
        app.ids_in(Stage::Running).len(),
        connections.len(),
        config.drain_timeout,
    );
    flywheel::spawn(async move {
        let (name, code) = next_signal(&mut terminate, &mut interrupt).await;
        eprintln!("{name} during the drain: exiting at once with {code}");
        std::process::exit(i32::from(code));
    });

    let all_done = flywheel::task::join_all(workers);
    let left = deadline.saturating_duration_since(Instant::now());
    let finished_in_time = flywheel::time::timeout(left, all_done).await.is_ok();
    if !finished_in_time {
        let queued: Vec<u64> = std::iter::from_fn(|| jobs.try_recv().ok())
            .map(|job| job.id)
            .collect();
        let running = app.ids_in(Stage::Running);
        eprintln!("drain deadline passed: unfinished jobs: running={running:?} queued={queued:?}");
    }

    stop_connections.close();
    let grace = deadline
        .saturating_duration_since(Instant::now())
        .max(CONNECTION_GRACE);
    let open = connections.len();
    let all_closed = async { while connections.join_next().await.is_some() {} };
    if flywheel::time::timeout(grace, all_closed).await.is_err() {
        eprintln!("{open} connections did not close within {grace:?}; dropping them");
    }
    eprintln!(
        "summary: jobs_accepted={} jobs_finished={} requests_handled={} drain_ms={}",
        app.accepted.load(Ordering::SeqCst),
        app.finished.load(Ordering::SeqCst),
        app.requests.load(Ordering::SeqCst),
        started.elapsed().as_millis(),
    );
    Ok(ExitCode::SUCCESS)
}
