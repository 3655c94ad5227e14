//! The same HTTP/1.1 "Hello, World!" server as examples/http_hello.rs, on tokio through
//! hyper-util's glue: the baseline benches/http_load.sh compares flywheel with.
//!
//! ```sh
//! cargo run --release --example http_hello_tokio -- 8081
//! ```

use std::convert::Infallible;
use std::io;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

async fn hello(_: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, World!",
    ))))
}

fn port_from_args() -> u16 {
    match std::env::args().nth(1) {
        None => 8080,
        Some(arg) => arg.parse().unwrap_or_else(|_| {
            eprintln!("usage: http_hello_tokio [PORT]  (got {arg:?}, not a port number)");
            std::process::exit(2)
        }),
    }
}

#[tokio::main]
async fn main() -> io::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port_from_args())).await?;
    println!(
        "tokio + hyper listening on http://{}",
        listener.local_addr()?
    );
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("accept: {e}");
                continue;
            }
        };
        stream.set_nodelay(true)?;
        tokio::spawn(async move {
            let served = http1::Builder::new()
                .timer(TokioTimer::new())
                .serve_connection(TokioIo::new(stream), service_fn(hello))
                .await;
            if let Err(e) = served {
                if !e.is_incomplete_message() && !e.is_closed() {
                    eprintln!("connection: {e}");
                }
            }
        });
    }
}
