//! hyper on flywheel (`flywheel::compat::hyper`): hyper's own client talking to a hyper
//! server, both driven by flywheel in-process over loopback, on both flavours.
mod common;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use flywheel::compat::hyper::{FlywheelExecutor, FlywheelIo, FlywheelTimer};
use flywheel::net::{TcpListener, TcpStream};
use futures::{AsyncReadExt, AsyncWriteExt};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};

type Body = Full<Bytes>;

/// Answers `GET` with "Hello, World!" and echoes the body of anything else.
async fn handle(request: Request<Incoming>) -> Result<Response<Body>, hyper::Error> {
    if request.method() == hyper::Method::GET {
        return Ok(Response::new(Full::new(Bytes::from_static(
            b"Hello, World!",
        ))));
    }
    let body = request.into_body().collect().await?.to_bytes();
    Ok(Response::new(Full::new(body)))
}

/// Which protocol a test server speaks.
#[derive(Clone, Copy)]
enum Protocol {
    Http1,
    Http2,
}

/// Binds 127.0.0.1:0 and serves every accepted connection on its own task; counts the
/// connections accepted.
async fn start_server(protocol: Protocol) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    flywheel::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            let io = FlywheelIo::new(stream);
            let service = hyper::service::service_fn(handle);
            flywheel::spawn(async move {
                let _ = match protocol {
                    Protocol::Http1 => {
                        hyper::server::conn::http1::Builder::new()
                            .timer(FlywheelTimer::new())
                            .serve_connection(io, service)
                            .await
                    }
                    Protocol::Http2 => {
                        hyper::server::conn::http2::Builder::new(FlywheelExecutor::new())
                            .timer(FlywheelTimer::new())
                            .serve_connection(io, service)
                            .await
                    }
                };
            });
        }
    });
    (addr, accepted)
}

/// An HTTP/1 client connection to `addr`, its connection task spawned.
async fn connect_http1(addr: SocketAddr) -> hyper::client::conn::http1::SendRequest<Body> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, connection) = hyper::client::conn::http1::handshake(FlywheelIo::new(stream))
        .await
        .unwrap();
    flywheel::spawn(connection);
    sender
}

fn get(path: &str) -> Request<Body> {
    Request::get(path)
        .header(hyper::header::HOST, "localhost")
        .body(Full::new(Bytes::new()))
        .unwrap()
}

async fn body_of(response: Response<Incoming>) -> Bytes {
    response.into_body().collect().await.unwrap().to_bytes()
}

/// Runs the workload on a current-thread and on a two-worker runtime, under the watchdog.
fn on_both_flavours<F, Fut>(make: F)
where
    F: Fn() -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let builders: [fn() -> flywheel::Builder; 2] = [flywheel::Builder::new_current_thread, || {
        let mut builder = flywheel::Builder::new_multi_thread();
        builder.worker_threads(2);
        builder
    }];
    for builder in builders {
        let make = make.clone();
        common::watchdog(move || {
            let rt = builder().build().expect("build the runtime");
            rt.block_on(make());
        });
    }
}

#[test]
fn http1_keep_alive_serves_many_requests_on_one_connection() {
    on_both_flavours(|| async {
        let (addr, accepted) = start_server(Protocol::Http1).await;
        let mut sender = connect_http1(addr).await;
        for i in 0..20 {
            sender.ready().await.unwrap();
            let response = sender.send_request(get(&format!("/{i}"))).await.unwrap();
            assert_eq!(response.status(), hyper::StatusCode::OK);
            assert_eq!(body_of(response).await, "Hello, World!");
        }
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            1,
            "every request reused the connection"
        );
    });
}

#[test]
fn http1_large_bodies_round_trip() {
    on_both_flavours(|| async {
        let (addr, _) = start_server(Protocol::Http1).await;
        let mut sender = connect_http1(addr).await;
        // Several times hyper's read buffer and FlywheelIo's scratch buffer.
        let payload: Bytes = (0..2 * 1024 * 1024).map(|i| (i % 253) as u8).collect();
        let request = Request::post("/echo")
            .header(hyper::header::HOST, "localhost")
            .body(Full::new(payload.clone()))
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        let echoed = body_of(response).await;
        assert_eq!(echoed.len(), payload.len());
        assert!(
            echoed == payload,
            "the echoed body differs from the sent one"
        );
    });
}

#[test]
fn http1_many_concurrent_clients() {
    on_both_flavours(|| async {
        let (addr, accepted) = start_server(Protocol::Http1).await;
        let clients = 16;
        let per_client = common::iterations(100);
        let tasks: Vec<_> = (0..clients)
            .map(|_| {
                flywheel::spawn(async move {
                    let mut sender = connect_http1(addr).await;
                    for _ in 0..per_client {
                        sender.ready().await.unwrap();
                        let response = sender.send_request(get("/")).await.unwrap();
                        assert_eq!(body_of(response).await, "Hello, World!");
                    }
                    per_client
                })
            })
            .collect();
        let mut answered = 0;
        for task in tasks {
            answered += task.await.unwrap();
        }
        assert_eq!(answered, clients * per_client);
        assert_eq!(accepted.load(Ordering::SeqCst), clients);
    });
}

#[test]
fn http2_uses_the_executor_for_streams() {
    on_both_flavours(|| async {
        let (addr, _) = start_server(Protocol::Http2).await;
        let stream = TcpStream::connect(addr).await.unwrap();
        let (sender, connection) =
            hyper::client::conn::http2::handshake(FlywheelExecutor::new(), FlywheelIo::new(stream))
                .await
                .unwrap();
        flywheel::spawn(connection);
        // Concurrent requests multiplexed on one connection, each on a task of its own.
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let mut sender = sender.clone();
                flywheel::spawn(async move {
                    let request = Request::post("http://localhost/echo")
                        .body(Full::new(Bytes::from(format!("request {i}"))))
                        .unwrap();
                    let response = sender.send_request(request).await.unwrap();
                    body_of(response).await
                })
            })
            .collect();
        for (i, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await.unwrap(), format!("request {i}"));
        }
    });
}

/// hyper's `header_read_timeout` runs on `FlywheelTimer`: a client that never finishes its
/// headers is disconnected, and with a paused clock that happens without waiting for real.
#[test]
fn header_read_timeout_fires_on_the_paused_clock() {
    common::watchdog(|| {
        let rt = flywheel::Builder::new_current_thread()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = flywheel::spawn(async move {
                let (stream, _) = listener.accept().await?;
                hyper::server::conn::http1::Builder::new()
                    .timer(FlywheelTimer::new())
                    .header_read_timeout(Duration::from_secs(60))
                    .serve_connection(FlywheelIo::new(stream), hyper::service::service_fn(handle))
                    .await
                    .map_err(io::Error::other)
            });
            let mut client = TcpStream::connect(addr).await.unwrap();
            client
                .write_all(b"GET / HTTP/1.1\r\nHost: loc")
                .await
                .unwrap();
            let start = flywheel::time::sleep(Duration::ZERO).deadline();
            let mut rest = Vec::new();
            // The server gives up on us and closes: read_to_end ends (EOF, maybe after a
            // 408 response) instead of hanging.
            let _ = client.read_to_end(&mut rest).await;
            let end = flywheel::time::sleep(Duration::ZERO).deadline();
            assert!(
                end - start >= Duration::from_secs(60),
                "closed after {:?} of virtual time, before the timeout",
                end - start
            );
            let outcome = server.await.unwrap();
            assert!(
                outcome.is_err(),
                "the server reports the timeout: {outcome:?}"
            );
        });
    });
}

#[test]
fn timer_reset_moves_the_sleep_in_place() {
    use hyper::rt::Timer;

    common::watchdog(|| {
        let rt = flywheel::Builder::new_current_thread()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async {
            let timer = FlywheelTimer::new();
            let start = timer.now();
            let mut sleep = timer.sleep(Duration::from_secs(3600));
            let before: *const () = (&*sleep as *const dyn hyper::rt::Sleep).cast();
            timer.reset(&mut sleep, start + Duration::from_secs(2));
            let after: *const () = (&*sleep as *const dyn hyper::rt::Sleep).cast();
            assert_eq!(before, after, "reset reused the boxed flywheel Sleep");
            sleep.await;
            let slept = timer.now() - start;
            assert!(
                slept >= Duration::from_secs(2) && slept < Duration::from_secs(3600),
                "woke after {slept:?} of virtual time, not at the new deadline"
            );
        });
    });
}

#[test]
fn adapters_are_send_sync_and_unpin() {
    fn check<T: Send + Sync + Unpin + 'static>() {}
    common::watchdog(|| {
        check::<FlywheelIo<TcpStream>>();
        check::<FlywheelExecutor>();
        check::<FlywheelTimer>();
    });
}
