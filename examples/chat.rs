//! A line-based broadcast chat server: every line a client sends reaches all the others.
//!
//! ```text
//! cargo run --example chat                  # serve on 127.0.0.1:7001
//! cargo run --example chat -- ADDR          # serve elsewhere
//! nc 127.0.0.1 7001                         # in two or more terminals: type lines
//! cargo run --example chat -- selftest      # two clients talk through a server, then exit
//! ```
//!
//! Tasks share state through channels (async-channel), not locks: one broker task owns the
//! list of clients; each connection has a reader task that sends its lines to the broker and
//! a writer task that drains the connection's own outbox. A slow client only fills its own
//! bounded outbox; when that is full, lines for it are dropped rather than stalling the room.

use std::collections::HashMap;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;

use async_channel::{Receiver, Sender};
use flywheel::net::{TcpListener, TcpStream};
use futures::io::BufReader;
use futures::{AsyncBufReadExt, AsyncWriteExt, StreamExt};

/// Lines waiting for one slow client before further lines to it are dropped.
const OUTBOX_LEN: usize = 256;

/// What connections tell the broker.
enum Event {
    Join {
        peer: SocketAddr,
        outbox: Sender<Arc<str>>,
    },
    Line {
        peer: SocketAddr,
        text: String,
    },
    Leave {
        peer: SocketAddr,
    },
}

/// Owns the room: forwards every line to every other client.
async fn broker(events: Receiver<Event>) {
    let mut clients: HashMap<SocketAddr, Sender<Arc<str>>> = HashMap::new();
    while let Ok(event) = events.recv().await {
        let (from, text): (SocketAddr, Arc<str>) = match event {
            Event::Join { peer, outbox } => {
                let _ =
                    outbox.try_send(format!("* welcome, {peer}; {} here\n", clients.len()).into());
                clients.insert(peer, outbox);
                (peer, format!("* {peer} joined\n").into())
            }
            Event::Line { peer, text } => (peer, format!("{peer}: {text}\n").into()),
            Event::Leave { peer } => {
                clients.remove(&peer);
                (peer, format!("* {peer} left\n").into())
            }
        };
        for (peer, outbox) in &clients {
            if *peer != from {
                // Full (a slow reader) or closed (leaving): skip rather than wait.
                let _ = outbox.try_send(text.clone());
            }
        }
    }
}

/// Serves one connection until the client hangs up.
async fn client(stream: TcpStream, peer: SocketAddr, events: Sender<Event>) -> io::Result<()> {
    let stream = Arc::new(stream);
    let (outbox, inbox) = async_channel::bounded::<Arc<str>>(OUTBOX_LEN);
    let writer = {
        let stream = stream.clone();
        flywheel::spawn(async move {
            while let Ok(line) = inbox.recv().await {
                if (&*stream).write_all(line.as_bytes()).await.is_err() {
                    break;
                }
            }
        })
    };
    let _ = events.send(Event::Join { peer, outbox }).await;
    let mut lines = BufReader::new(&*stream).lines();
    let result = loop {
        match lines.next().await {
            Some(Ok(text)) => {
                let text = text.trim_end_matches('\r').to_owned();
                if !text.is_empty() {
                    let _ = events.send(Event::Line { peer, text }).await;
                }
            }
            Some(Err(e)) => break Err(e),
            None => break Ok(()),
        }
    };
    // Leaving drops our outbox in the broker, which ends the writer.
    let _ = events.send(Event::Leave { peer }).await;
    let _ = writer.await;
    let _ = stream.shutdown(Shutdown::Both);
    result
}

async fn serve(listener: TcpListener) {
    let (events, broker_events) = async_channel::unbounded();
    flywheel::spawn(broker(broker_events));
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let events = events.clone();
                flywheel::spawn(async move {
                    if let Err(e) = client(stream, peer, events).await {
                        eprintln!("{peer}: {e}");
                    }
                });
            }
            Err(e) => eprintln!("accept failed: {e}"),
        }
    }
}

/// Reads lines from `lines` until one contains `needle`.
async fn wait_for<R: futures::AsyncBufRead + Unpin>(
    lines: &mut futures::io::Lines<R>,
    needle: &str,
) -> io::Result<String> {
    while let Some(line) = lines.next().await {
        let line = line?;
        if line.contains(needle) {
            return Ok(line);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("no line with {needle:?}"),
    ))
}

/// Two clients join a server on a free port; each line one says reaches the other.
async fn selftest() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = flywheel::spawn(serve(listener));

    let alice = TcpStream::connect(addr).await?;
    let mut alice_lines = BufReader::new(&alice).lines();
    wait_for(&mut alice_lines, "welcome").await?;
    let bob = TcpStream::connect(addr).await?;
    let mut bob_lines = BufReader::new(&bob).lines();
    wait_for(&mut bob_lines, "welcome").await?;
    // Alice hears Bob join, so the broker knows them both.
    wait_for(&mut alice_lines, "joined").await?;

    (&alice).write_all(b"hello bob\n").await?;
    println!(
        "bob got:   {}",
        wait_for(&mut bob_lines, "hello bob").await?
    );
    (&bob).write_all(b"hi alice\n").await?;
    println!(
        "alice got: {}",
        wait_for(&mut alice_lines, "hi alice").await?
    );

    drop(bob_lines);
    drop(bob);
    println!("alice got: {}", wait_for(&mut alice_lines, "left").await?);
    server.abort();
    Ok(())
}

fn main() -> io::Result<()> {
    let arg = std::env::args().nth(1);
    flywheel::run(async {
        if arg.as_deref() == Some("selftest") {
            return selftest().await;
        }
        let addr = arg.unwrap_or_else(|| "127.0.0.1:7001".to_owned());
        let listener = TcpListener::bind(addr).await?;
        println!(
            "chat on {}: connect with `nc {}`",
            listener.local_addr()?,
            {
                let a = listener.local_addr()?;
                format!("{} {}", a.ip(), a.port())
            }
        );
        serve(listener).await;
        Ok(())
    })
}
