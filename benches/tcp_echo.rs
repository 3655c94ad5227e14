//! Loopback TCP, side by side: flywheel, tokio and smol (async-executor + async-io).
//!
//! - `tcp_echo`: 50 concurrent connections, each doing 2 000 round trips of 64 bytes
//!   (write, then read the echo back); throughput is round trips.
//! - `tcp_accept`: 100 sequential cycles of connect + accept + close, where the client waits
//!   for the server's close (EOF) so every cycle is complete; throughput is cycles.
//!
//! Each runs on a multi-thread runtime with 2 workers and on a current-thread runtime. The
//! runtimes and the servers are built once, outside `b.iter`; each iteration opens its own
//! connections. Run: `cargo bench --bench tcp_echo` (a few minutes); a quick check:
//! `cargo bench --bench tcp_echo -- --warm-up-time 1 --measurement-time 2`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};

/// Concurrent connections in `tcp_echo`.
const CONNECTIONS: usize = 50;
/// Round trips per connection in `tcp_echo`.
const ROUND_TRIPS: usize = 2_000;
/// Bytes per message.
const MESSAGE_LEN: usize = 64;
/// Connect + accept + close cycles per iteration of `tcp_accept`.
const ACCEPTS: usize = 100;

/// A runtime under test, with its echo and accept servers running; each method runs one
/// iteration of a workload on it.
trait Bench {
    fn echo_round(&self);
    fn accept_round(&self);
}

mod fly {
    use super::*;
    use flywheel::net::{TcpListener, TcpStream};
    use futures::{AsyncReadExt, AsyncWriteExt};

    pub(super) struct Fly {
        rt: flywheel::Runtime,
        echo: SocketAddr,
        accept: SocketAddr,
    }

    async fn echo_server(listener: TcpListener) {
        while let Ok((mut stream, _)) = listener.accept().await {
            flywheel::spawn(async move {
                let _ = stream.set_nodelay(true);
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 || stream.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    }

    async fn accept_server(listener: TcpListener) {
        while let Ok((stream, _)) = listener.accept().await {
            drop(stream);
        }
    }

    async fn client(addr: SocketAddr) {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let mut buf = [7u8; MESSAGE_LEN];
        for _ in 0..ROUND_TRIPS {
            stream.write_all(&buf).await.unwrap();
            stream.read_exact(&mut buf).await.unwrap();
        }
    }

    impl Fly {
        pub(super) fn new(builder: &mut flywheel::Builder) -> Fly {
            let rt = builder.build().unwrap();
            let (echo, accept) = rt.block_on(async {
                let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let accept = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addrs = (echo.local_addr().unwrap(), accept.local_addr().unwrap());
                flywheel::spawn(echo_server(echo));
                flywheel::spawn(accept_server(accept));
                addrs
            });
            Fly { rt, echo, accept }
        }
    }

    impl Bench for Fly {
        fn echo_round(&self) {
            let addr = self.echo;
            self.rt.block_on(async move {
                let clients: Vec<_> = (0..CONNECTIONS)
                    .map(|_| flywheel::spawn(client(addr)))
                    .collect();
                for c in clients {
                    c.await.unwrap();
                }
            });
        }
        fn accept_round(&self) {
            let addr = self.accept;
            let run = self.rt.spawn(async move {
                for _ in 0..ACCEPTS {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    let mut buf = [0u8; 1];
                    assert_eq!(stream.read(&mut buf).await.unwrap(), 0);
                }
            });
            self.rt.block_on(run).unwrap();
        }
    }
}

mod tok {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    pub(super) struct Tok {
        rt: tokio::runtime::Runtime,
        echo: SocketAddr,
        accept: SocketAddr,
    }

    async fn echo_server(listener: TcpListener) {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = stream.set_nodelay(true);
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 || stream.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    }

    async fn accept_server(listener: TcpListener) {
        while let Ok((stream, _)) = listener.accept().await {
            drop(stream);
        }
    }

    async fn client(addr: SocketAddr) {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let mut buf = [7u8; MESSAGE_LEN];
        for _ in 0..ROUND_TRIPS {
            stream.write_all(&buf).await.unwrap();
            stream.read_exact(&mut buf).await.unwrap();
        }
    }

    impl Tok {
        pub(super) fn new(mut builder: tokio::runtime::Builder) -> Tok {
            let rt = builder.enable_all().build().unwrap();
            let (echo, accept) = rt.block_on(async {
                let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let accept = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addrs = (echo.local_addr().unwrap(), accept.local_addr().unwrap());
                tokio::spawn(echo_server(echo));
                tokio::spawn(accept_server(accept));
                addrs
            });
            Tok { rt, echo, accept }
        }
    }

    impl Bench for Tok {
        fn echo_round(&self) {
            let addr = self.echo;
            self.rt.block_on(async move {
                let clients: Vec<_> = (0..CONNECTIONS)
                    .map(|_| tokio::spawn(client(addr)))
                    .collect();
                for c in clients {
                    c.await.unwrap();
                }
            });
        }
        fn accept_round(&self) {
            let addr = self.accept;
            let run = self.rt.spawn(async move {
                for _ in 0..ACCEPTS {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    let mut buf = [0u8; 1];
                    assert_eq!(stream.read(&mut buf).await.unwrap(), 0);
                }
            });
            self.rt.block_on(run).unwrap();
        }
    }
}

mod smo {
    use super::*;
    use smol::io::{AsyncReadExt, AsyncWriteExt};
    use smol::net::{TcpListener, TcpStream};
    use smol::Executor;

    /// async-executor run by `threads` threads (0: by the calling thread only, inside
    /// `block_on`, which is smol's current-thread arrangement).
    pub(super) struct Smo {
        ex: Arc<Executor<'static>>,
        threads: Vec<thread::JoinHandle<()>>,
        stop: Option<smol::channel::Sender<()>>,
        echo: SocketAddr,
        accept: SocketAddr,
    }

    async fn echo_server(ex: Arc<Executor<'static>>, listener: TcpListener) {
        while let Ok((mut stream, _)) = listener.accept().await {
            ex.spawn(async move {
                let _ = stream.set_nodelay(true);
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 || stream.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            })
            .detach();
        }
    }

    async fn accept_server(listener: TcpListener) {
        while let Ok((stream, _)) = listener.accept().await {
            drop(stream);
        }
    }

    async fn client(addr: SocketAddr) {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let mut buf = [7u8; MESSAGE_LEN];
        for _ in 0..ROUND_TRIPS {
            stream.write_all(&buf).await.unwrap();
            stream.read_exact(&mut buf).await.unwrap();
        }
    }

    impl Smo {
        pub(super) fn new(workers: usize) -> Smo {
            let ex = Arc::new(Executor::new());
            let (stop, stopped) = smol::channel::unbounded::<()>();
            let threads = (0..workers)
                .map(|_| {
                    let (ex, stopped) = (ex.clone(), stopped.clone());
                    thread::spawn(move || {
                        let _ = smol::block_on(ex.run(stopped.recv()));
                    })
                })
                .collect();
            let (echo, accept) = smol::block_on(async {
                let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let accept = TcpListener::bind("127.0.0.1:0").await.unwrap();
                (echo, accept)
            });
            let addrs = (echo.local_addr().unwrap(), accept.local_addr().unwrap());
            ex.spawn(echo_server(ex.clone(), echo)).detach();
            ex.spawn(accept_server(accept)).detach();
            Smo {
                ex,
                threads,
                stop: Some(stop),
                echo: addrs.0,
                accept: addrs.1,
            }
        }

        fn run<T: Send + 'static>(&self, fut: impl Future<Output = T> + Send + 'static) -> T {
            let task = self.ex.spawn(fut);
            if self.threads.is_empty() {
                smol::block_on(self.ex.run(task))
            } else {
                smol::block_on(task)
            }
        }
    }

    impl Drop for Smo {
        fn drop(&mut self) {
            drop(self.stop.take());
            for t in self.threads.drain(..) {
                let _ = t.join();
            }
        }
    }

    impl Bench for Smo {
        fn echo_round(&self) {
            let addr = self.echo;
            let ex = self.ex.clone();
            self.run(async move {
                let clients: Vec<_> = (0..CONNECTIONS).map(|_| ex.spawn(client(addr))).collect();
                for c in clients {
                    c.await;
                }
            });
        }
        fn accept_round(&self) {
            let addr = self.accept;
            self.run(async move {
                for _ in 0..ACCEPTS {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    let mut buf = [0u8; 1];
                    assert_eq!(stream.read(&mut buf).await.unwrap(), 0);
                }
            });
        }
    }
}

/// The three runtimes in one flavour.
fn runtimes(multi_thread: bool) -> Vec<(&'static str, Box<dyn Bench>)> {
    if multi_thread {
        let mut tokio = tokio::runtime::Builder::new_multi_thread();
        tokio.worker_threads(2);
        vec![
            (
                "flywheel",
                Box::new(fly::Fly::new(
                    flywheel::Builder::new_multi_thread().worker_threads(2),
                )) as Box<dyn Bench>,
            ),
            ("tokio", Box::new(tok::Tok::new(tokio))),
            ("smol", Box::new(smo::Smo::new(2))),
        ]
    } else {
        vec![
            (
                "flywheel",
                Box::new(fly::Fly::new(&mut flywheel::Builder::new_current_thread()))
                    as Box<dyn Bench>,
            ),
            (
                "tokio",
                Box::new(tok::Tok::new(tokio::runtime::Builder::new_current_thread())),
            ),
            ("smol", Box::new(smo::Smo::new(0))),
        ]
    }
}

fn tcp_echo(c: &mut Criterion) {
    for (flavor, multi) in [("multi_thread_2", true), ("current_thread", false)] {
        let mut group = c.benchmark_group(format!("tcp_echo/{flavor}"));
        group
            .sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .throughput(Throughput::Elements((CONNECTIONS * ROUND_TRIPS) as u64));
        for (name, rt) in runtimes(multi) {
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.iter(|| rt.echo_round())
            });
        }
        group.finish();
    }
}

fn tcp_accept(c: &mut Criterion) {
    for (flavor, multi) in [("multi_thread_2", true), ("current_thread", false)] {
        let mut group = c.benchmark_group(format!("tcp_accept/{flavor}"));
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(3))
            .throughput(Throughput::Elements(ACCEPTS as u64));
        for (name, rt) in runtimes(multi) {
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.iter(|| rt.accept_round())
            });
        }
        group.finish();
    }
}

criterion_group!(benches, tcp_echo, tcp_accept);
criterion_main!(benches);
