//! A TCP echo server, a client that measures it, and a self-test that runs both.
//!
//! ```text
//! cargo run --release --example echo                         # serve on 127.0.0.1:7000
//! cargo run --release --example echo -- 0.0.0.0:9000         # serve elsewhere
//! cargo run --release --example echo -- client               # drive 127.0.0.1:7000
//! cargo run --release --example echo -- client ADDR CONNS MSGS
//! cargo run --release --example echo -- selftest             # server + client, then exit
//! ```
//!
//! The server spawns one task per connection and copies what it reads back to the peer
//! (`futures::io::copy` over a shared `&TcpStream`). The client opens CONNS connections
//! (default 50); each sends MSGS messages of 64 bytes (default 2 000), waiting for every echo
//! before sending the next, and the client prints round trips per second.

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::time::Instant;

use flywheel::net::{TcpListener, TcpStream};
use futures::{AsyncReadExt, AsyncWriteExt};

/// Bytes per message in client mode.
const MESSAGE_LEN: usize = 64;

/// Accepts connections forever, echoing each one on its own task.
async fn serve(listener: TcpListener) -> io::Result<()> {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(conn) => conn,
            // A client that reset before we accepted it, or a moment without free file
            // descriptors: report it and keep serving.
            Err(e) => {
                eprintln!("accept failed: {e}");
                continue;
            }
        };
        flywheel::spawn(async move {
            let _ = stream.set_nodelay(true);
            if let Err(e) = futures::io::copy(&stream, &mut &stream).await {
                eprintln!("{peer}: {e}");
            }
            let _ = stream.shutdown(Shutdown::Write);
        });
    }
}

/// One client connection: `messages` round trips of `MESSAGE_LEN` bytes, checked.
async fn ping(addr: SocketAddr, messages: usize) -> io::Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut out = [0u8; MESSAGE_LEN];
    let mut back = [0u8; MESSAGE_LEN];
    for i in 0..messages {
        out.fill(i as u8);
        stream.write_all(&out).await?;
        stream.read_exact(&mut back).await?;
        if back != out {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "echo differs"));
        }
    }
    stream.close().await
}

/// Drives the server at `addr` with `connections` concurrent clients and prints the rate.
async fn client(addr: SocketAddr, connections: usize, messages: usize) -> io::Result<()> {
    let start = Instant::now();
    let clients: Vec<_> = (0..connections)
        .map(|_| flywheel::spawn(ping(addr, messages)))
        .collect();
    for client in clients {
        client.await??;
    }
    let elapsed = start.elapsed();
    let round_trips = connections * messages;
    println!(
        "{connections} connections x {messages} round trips of {MESSAGE_LEN} B in {elapsed:.2?}: \
         {:.0} round trips/s, {:.1} MB/s each way",
        round_trips as f64 / elapsed.as_secs_f64(),
        (round_trips * MESSAGE_LEN) as f64 / elapsed.as_secs_f64() / 1e6,
    );
    Ok(())
}

fn parse_addr(arg: Option<&String>) -> SocketAddr {
    let text = arg.map(String::as_str).unwrap_or("127.0.0.1:7000");
    text.parse()
        .unwrap_or_else(|e| panic!("{text:?} is not an address like 127.0.0.1:7000: {e}"))
}

fn parse_count(arg: Option<&String>, default: usize) -> usize {
    arg.map(|s| s.parse().expect("counts are whole numbers"))
        .unwrap_or(default)
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    flywheel::run(async {
        match args.first().map(String::as_str) {
            Some("client") => {
                let addr = parse_addr(args.get(1));
                client(
                    addr,
                    parse_count(args.get(2), 50),
                    parse_count(args.get(3), 2_000),
                )
                .await
            }
            Some("selftest") => {
                let listener = TcpListener::bind("127.0.0.1:0").await?;
                let addr = listener.local_addr()?;
                let server = flywheel::spawn(serve(listener));
                client(
                    addr,
                    parse_count(args.get(1), 50),
                    parse_count(args.get(2), 200),
                )
                .await?;
                server.abort();
                Ok(())
            }
            arg => {
                let addr = parse_addr(arg.map(|_| &args[0]));
                let listener = TcpListener::bind(addr).await?;
                println!("echo server on {}", listener.local_addr()?);
                serve(listener).await
            }
        }
    })
}
