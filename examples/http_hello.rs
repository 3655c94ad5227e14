//! An HTTP/1.1 server answering "Hello, World!" to every request, with keep-alive: hyper
//! driven by flywheel through `flywheel::compat::hyper`.
//!
//! ```sh
//! cargo run --release --features hyper --example http_hello -- 8080
//! curl http://127.0.0.1:8080/
//! ```
//!
//! The port is the first argument (default 8080). benches/http_load.sh runs it under wrk
//! next to examples/http_hello_tokio.rs, the same server on tokio.

use std::convert::Infallible;
use std::io;

use bytes::Bytes;
use flywheel::compat::hyper::{FlywheelIo, FlywheelTimer};
use flywheel::net::TcpListener;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};

async fn hello(_: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, World!",
    ))))
}

fn port_from_args() -> u16 {
    match std::env::args().nth(1) {
        None => 8080,
        Some(arg) => arg.parse().unwrap_or_else(|_| {
            eprintln!("usage: http_hello [PORT]  (got {arg:?}, not a port number)");
            std::process::exit(2)
        }),
    }
}

#[flywheel::main]
async fn main() -> io::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port_from_args())).await?;
    println!(
        "flywheel + hyper listening on http://{}",
        listener.local_addr()?
    );
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            // Out of file descriptors and the like: the listener itself is fine.
            Err(e) => {
                eprintln!("accept: {e}");
                continue;
            }
        };
        stream.set_nodelay(true)?;
        flywheel::spawn(async move {
            let served = http1::Builder::new()
                .timer(FlywheelTimer::new())
                .serve_connection(FlywheelIo::new(stream), service_fn(hello))
                .await;
            if let Err(e) = served {
                // A client closing mid-request is routine under a load generator.
                if !e.is_incomplete_message() && !e.is_closed() {
                    eprintln!("connection: {e}");
                }
            }
        });
    }
}
