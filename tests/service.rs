//! examples/service.rs as a black box: the built example runs as a child process (through
//! `flywheel::process`), hyper clients on flywheel drive it over loopback, and SIGTERM /
//! SIGINT stop it. Checks the drain contract of issue 14: every request the service handled
//! got a complete response, every accepted job finished or was reported, exit code 0,
//! within the deadline; /healthz says 503 while draining; a second signal exits at once.

mod common;

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::watchdog_for;
use flywheel::compat::hyper::FlywheelIo;
use flywheel::net::TcpStream;
use flywheel::process::{Child, Command, ExitStatus, Stdio};
use futures::{AsyncBufReadExt, AsyncReadExt};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode};

/// Bound of each test body (building the example is bounded separately).
const LIMIT: Duration = Duration::from_secs(30);

/// The example's binary, built (or found up to date) once per test run with the cargo and
/// profile that built this test.
fn service_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            watchdog_for(Duration::from_secs(300), || {
                let exe = std::env::current_exe().expect("the test's own path");
                // target/<profile>/deps/service-<hash>
                let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
                let target_dir = profile_dir.parent().unwrap();
                let binary = profile_dir.join("examples").join("service");
                if let Some(cargo) = std::env::var_os("CARGO") {
                    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
                        Some("debug") | None => "dev",
                        Some(other) => other,
                    };
                    let built = std::process::Command::new(cargo)
                        .args(["build", "--quiet", "--features", "hyper"])
                        .args(["--example", "service", "--profile", profile])
                        .arg("--manifest-path")
                        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
                        .arg("--target-dir")
                        .arg(target_dir)
                        .status()
                        .expect("run cargo");
                    assert!(built.success(), "building examples/service.rs failed");
                }
                assert!(
                    binary.exists(),
                    "{} is missing: cargo build --features hyper --example service",
                    binary.display()
                );
                binary
            })
        })
        .clone()
}

/// The service, running.
struct Service {
    child: Child,
    pid: i32,
    addr: SocketAddr,
    stderr: flywheel::task::JoinHandle<io::Result<String>>,
}

impl Service {
    async fn start(args: &[&str], env: &[(&str, &str)]) -> Service {
        let mut child = Command::new(service_binary())
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the service");
        let mut stdout = futures::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).await.unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .parse()
            .unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let stderr = flywheel::spawn(async move {
            let mut text = String::new();
            stderr.read_to_string(&mut text).await?;
            Ok(text)
        });
        flywheel::spawn(async move {
            let mut rest = String::new();
            let _ = stdout.read_to_string(&mut rest).await;
        });
        let pid = child.id().unwrap() as i32;
        Service {
            child,
            pid,
            addr,
            stderr,
        }
    }

    fn send(&self, signal: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_raw(self.pid).unwrap();
        rustix::process::kill_process(pid, signal).expect("signal the service");
    }

    /// Waits for the exit; returns its status and everything the service wrote on stderr.
    async fn exit(mut self) -> (ExitStatus, String) {
        let status = self.child.wait().await.unwrap();
        let stderr = self.stderr.await.unwrap().unwrap();
        (status, stderr)
    }
}

/// A keep-alive HTTP/1.1 connection.
struct Client {
    sender: SendRequest<Full<Bytes>>,
}

impl Client {
    async fn connect(addr: SocketAddr) -> io::Result<Client> {
        let stream = TcpStream::connect(addr).await?;
        let (sender, connection) = hyper::client::conn::http1::handshake(FlywheelIo::new(stream))
            .await
            .map_err(io::Error::other)?;
        flywheel::spawn(connection);
        Ok(Client { sender })
    }

    /// One request; the status and the whole body, or an error if either did not arrive.
    async fn request(
        &mut self,
        method: Method,
        path: &str,
        body: &str,
    ) -> io::Result<(StatusCode, Bytes)> {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "service")
            .body(Full::new(Bytes::from(body.to_owned())))
            .unwrap();
        self.sender.ready().await.map_err(io::Error::other)?;
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(io::Error::other)?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(io::Error::other)?
            .to_bytes();
        Ok((status, body))
    }
}

/// The `{"id":N}` of a 202.
fn job_id(body: &[u8]) -> u64 {
    let text = std::str::from_utf8(body).unwrap();
    text.trim_start_matches("{\"id\":")
        .trim_end_matches('}')
        .parse()
        .unwrap_or_else(|_| panic!("not a job id: {text}"))
}

/// `key=value` from the service's summary line.
fn summary(stderr: &str, key: &str) -> u64 {
    let line = stderr
        .lines()
        .find(|line| line.starts_with("summary:"))
        .unwrap_or_else(|| panic!("no summary on stderr:\n{stderr}"));
    line.split_whitespace()
        .find_map(|field| field.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key} in {line}"))
        .parse()
        .unwrap()
}

fn runtime() -> flywheel::Runtime {
    common::multi_thread()
}

#[test]
fn drains_accepted_work_on_sigterm_under_concurrent_load() {
    const CLIENTS: usize = 16;
    /// Jobs accepted before SIGTERM: enough that the queue is long when the drain starts.
    const ACCEPTED_BEFORE_STOP: usize = 150;
    const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
    service_binary();
    watchdog_for(LIMIT, || {
        runtime().block_on(async {
            let service = Service::start(
                &["--workers", "4", "--drain-timeout", "10"],
                &[("FLYWHEEL_WORKER_THREADS", "3")],
            )
            .await;
            let addr = service.addr;

            // The runtime followed FLYWHEEL_WORKER_THREADS through #[flywheel::main]. A new
            // thread names itself once it first runs (until then it shows its parent's
            // name), which on a loaded machine may be after the service listens: look again
            // for a while before counting it missing.
            let count_workers = || {
                std::fs::read_dir(format!("/proc/{}/task", service.pid))
                    .unwrap()
                    .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
                    .filter(|comm| comm.trim() == "flywheel-worker")
                    .count()
            };
            let named_by = Instant::now() + Duration::from_secs(5);
            let mut workers = count_workers();
            while workers < 3 && Instant::now() < named_by {
                flywheel::time::sleep(Duration::from_millis(10)).await;
                workers = count_workers();
            }
            assert_eq!(workers, 3, "worker threads of the service");

            let accepted_ids = Arc::new(Mutex::new(Vec::new()));
            let complete = Arc::new(AtomicUsize::new(0));
            let posts_refused = Arc::new(AtomicUsize::new(0));
            let clients: Vec<_> = (0..CLIENTS)
                .map(|c| {
                    let (ids, complete, refused) = (
                        accepted_ids.clone(),
                        complete.clone(),
                        posts_refused.clone(),
                    );
                    flywheel::spawn(async move {
                        let mut sent = 0;
                        // Reconnect while the service accepts connections.
                        while let Ok(mut client) = Client::connect(addr).await {
                            loop {
                                let body = format!("client {c} job {sent}");
                                sent += 1;
                                match client.request(Method::POST, "/jobs?ms=20", &body).await {
                                    Ok((status, body)) => {
                                        complete.fetch_add(1, Ordering::SeqCst);
                                        match status {
                                            StatusCode::ACCEPTED => {
                                                ids.lock().unwrap().push(job_id(&body))
                                            }
                                            StatusCode::SERVICE_UNAVAILABLE => {
                                                refused.fetch_add(1, Ordering::SeqCst);
                                            }
                                            other => panic!("POST /jobs answered {other}"),
                                        }
                                    }
                                    // The connection closed: the request was not handled
                                    // (counted on the service's side if it was).
                                    Err(_) => break,
                                }
                            }
                        }
                    })
                })
                .collect();

            // A readiness probe on its own keep-alive connection.
            let stop_probe = Arc::new(AtomicBool::new(false));
            let probe = {
                let (complete, stop) = (complete.clone(), stop_probe.clone());
                flywheel::spawn(async move {
                    let mut seen = Vec::new();
                    let Ok(mut client) = Client::connect(addr).await else {
                        return seen;
                    };
                    while !stop.load(Ordering::SeqCst) {
                        match client.request(Method::GET, "/healthz", "").await {
                            Ok((status, _)) => {
                                complete.fetch_add(1, Ordering::SeqCst);
                                if seen.last() != Some(&status) {
                                    seen.push(status);
                                }
                            }
                            Err(_) => break,
                        }
                        flywheel::time::sleep(Duration::from_millis(5)).await;
                    }
                    seen
                })
            };

            while accepted_ids.lock().unwrap().len() < ACCEPTED_BEFORE_STOP {
                flywheel::time::sleep(Duration::from_millis(2)).await;
            }
            let stopped_at = Instant::now();
            service.send(rustix::process::Signal::TERM);

            // Once the drain has begun, new connections are refused.
            let mut refused_connect = false;
            for _ in 0..400 {
                if TcpStream::connect(addr).await.is_err() {
                    refused_connect = true;
                    break;
                }
                flywheel::time::sleep(Duration::from_millis(5)).await;
            }

            let (status, stderr) = service.exit().await;
            let drain = stopped_at.elapsed();
            stop_probe.store(true, Ordering::SeqCst);
            for client in clients {
                client.await.unwrap();
            }
            let probe_saw = probe.await.unwrap();

            assert_eq!(status.code(), Some(0), "exit status; stderr:\n{stderr}");
            assert!(drain < DRAIN_TIMEOUT, "the drain took {drain:?}");
            assert!(
                refused_connect,
                "connections were still accepted while draining"
            );
            let ids = accepted_ids.lock().unwrap().clone();
            let accepted = summary(&stderr, "jobs_accepted");
            assert_eq!(
                accepted,
                ids.len() as u64,
                "accepted jobs: service vs clients"
            );
            assert_eq!(
                summary(&stderr, "jobs_finished"),
                accepted,
                "every accepted job finished:\n{stderr}"
            );
            assert!(!stderr.contains("unfinished"), "{stderr}");
            assert_eq!(
                summary(&stderr, "requests_handled"),
                complete.load(Ordering::SeqCst) as u64,
                "every request the service handled got a complete response"
            );
            assert_eq!(
                probe_saw,
                [StatusCode::OK, StatusCode::SERVICE_UNAVAILABLE],
                "/healthz while running, then while draining"
            );
            let mut unique = ids.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(unique.len(), ids.len(), "job ids are unique");
            println!(
                "{} jobs accepted, {} POSTs refused while draining; SIGTERM to exit: {drain:?}",
                ids.len(),
                posts_refused.load(Ordering::SeqCst)
            );
        });
    });
}

#[test]
fn jobs_still_queued_at_the_deadline_are_reported() {
    service_binary();
    watchdog_for(LIMIT, || {
        runtime().block_on(async {
            let service = Service::start(&["--workers", "1", "--drain-timeout", "0.5"], &[]).await;
            let mut client = Client::connect(service.addr).await.unwrap();
            let mut ids = Vec::new();
            for i in 0..4 {
                let (status, body) = client
                    .request(Method::POST, "/jobs?ms=20000", &format!("slow {i}"))
                    .await
                    .unwrap();
                assert_eq!(status, StatusCode::ACCEPTED);
                ids.push(job_id(&body));
            }
            // The one worker has taken the first job once it reports "running".
            loop {
                let (_, body) = client
                    .request(Method::GET, &format!("/jobs/{}", ids[0]), "")
                    .await
                    .unwrap();
                if body.ends_with(b"\"status\":\"running\"}") {
                    break;
                }
                flywheel::time::sleep(Duration::from_millis(5)).await;
            }
            let stopped_at = Instant::now();
            service.send(rustix::process::Signal::TERM);
            let (status, stderr) = service.exit().await;
            let drain = stopped_at.elapsed();
            assert_eq!(status.code(), Some(0), "{stderr}");
            let expected = format!(
                "unfinished jobs: running=[{}] queued=[{}, {}, {}]",
                ids[0], ids[1], ids[2], ids[3]
            );
            assert!(
                stderr.contains(&expected),
                "expected {expected:?} in:\n{stderr}"
            );
            assert_eq!(summary(&stderr, "jobs_finished"), 0);
            // The deadline, then at most a second of grace for the connections.
            assert!(
                drain >= Duration::from_millis(500),
                "left before the deadline"
            );
            assert!(drain < Duration::from_secs(5), "the drain took {drain:?}");
        });
    });
}

#[test]
fn a_second_signal_exits_at_once_with_a_failure_code() {
    service_binary();
    watchdog_for(LIMIT, || {
        runtime().block_on(async {
            let service = Service::start(&["--workers", "1", "--drain-timeout", "60"], &[]).await;
            let mut client = Client::connect(service.addr).await.unwrap();
            let (status, _) = client
                .request(Method::POST, "/jobs?ms=30000", "long")
                .await
                .unwrap();
            assert_eq!(status, StatusCode::ACCEPTED);
            service.send(rustix::process::Signal::TERM);
            // Draining, on the connection that stays open meanwhile.
            loop {
                let (status, _) = client.request(Method::GET, "/healthz", "").await.unwrap();
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    break;
                }
                flywheel::time::sleep(Duration::from_millis(5)).await;
            }
            let second_at = Instant::now();
            service.send(rustix::process::Signal::INT);
            let (status, stderr) = service.exit().await;
            assert_eq!(status.code(), Some(130), "{stderr}");
            assert!(stderr.contains("SIGINT during the drain"), "{stderr}");
            assert!(second_at.elapsed() < Duration::from_secs(5));
        });
    });
}

#[test]
fn rest_endpoints() {
    service_binary();
    watchdog_for(LIMIT, || {
        runtime().block_on(async {
            let service = Service::start(&["--workers", "2"], &[]).await;
            let mut client = Client::connect(service.addr).await.unwrap();
            let (status, body) = client.request(Method::GET, "/healthz", "").await.unwrap();
            assert_eq!((status, &body[..]), (StatusCode::OK, &b"ok\n"[..]));

            let (status, body) = client
                .request(Method::POST, "/jobs?ms=1", "hello")
                .await
                .unwrap();
            assert_eq!(status, StatusCode::ACCEPTED);
            let id = job_id(&body);
            // FNV-1a of "hello", computed here independently of the service.
            let checksum = b"hello".iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
            let done =
                format!("{{\"id\":{id},\"status\":\"done\",\"result\":\"{checksum:016x}\"}}");
            loop {
                let (status, body) = client
                    .request(Method::GET, &format!("/jobs/{id}"), "")
                    .await
                    .unwrap();
                assert_eq!(status, StatusCode::OK);
                if body == done.as_bytes() {
                    break;
                }
                flywheel::time::sleep(Duration::from_millis(2)).await;
            }

            for (method, path, expected) in [
                (Method::GET, "/jobs/999999", StatusCode::NOT_FOUND),
                (Method::GET, "/jobs/abc", StatusCode::NOT_FOUND),
                (Method::GET, "/nowhere", StatusCode::NOT_FOUND),
                (Method::DELETE, "/healthz", StatusCode::METHOD_NOT_ALLOWED),
                (Method::GET, "/jobs", StatusCode::METHOD_NOT_ALLOWED),
                (Method::POST, "/jobs?ms=soon", StatusCode::BAD_REQUEST),
            ] {
                let (status, _) = client.request(method.clone(), path, "").await.unwrap();
                assert_eq!(status, expected, "{method} {path}");
            }

            service.send(rustix::process::Signal::INT);
            let (status, stderr) = service.exit().await;
            assert_eq!(status.code(), Some(0), "{stderr}");
            assert!(stderr.starts_with("SIGINT: draining"), "{stderr}");
        });
    });
}
