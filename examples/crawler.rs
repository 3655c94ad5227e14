//! A crawler with bounded concurrency: a `JoinSet` never holds more than `MAX_IN_FLIGHT`
//! fetches; each time one finishes, its links are queued and the next page starts.
//! Progress is printed in completion order.
//!
//! The site is simulated: a fixed map of pages to links, and a fetch that sleeps for a time
//! derived from the page's name (a few pages are "down" and fail).
//!
//! Run it with `cargo run --example crawler`.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use flywheel::task::JoinSet;
use flywheel::time::sleep;

/// At most this many fetches run at once.
const MAX_IN_FLIGHT: usize = 4;

/// The simulated site: each page and the pages it links to.
const SITE: &[(&str, &[&str])] = &[
    ("/", &["/docs", "/blog", "/about", "/download"]),
    (
        "/docs",
        &["/docs/tour", "/docs/tasks", "/docs/time", "/docs/net"],
    ),
    ("/docs/tour", &["/docs/tasks", "/"]),
    ("/docs/tasks", &["/docs/tasks/join-set", "/docs/tasks/wait"]),
    ("/docs/tasks/join-set", &["/docs/tasks"]),
    ("/docs/tasks/wait", &["/docs/tasks", "/blog/asyncio"]),
    ("/docs/time", &["/docs/time/wheel"]),
    ("/docs/time/wheel", &[]),
    ("/docs/net", &["/docs/net/tcp", "/docs/net/udp"]),
    ("/docs/net/tcp", &[]),
    ("/docs/net/udp", &[]),
    (
        "/blog",
        &["/blog/asyncio", "/blog/release-0.1", "/blog/benchmarks"],
    ),
    ("/blog/asyncio", &["/docs/tasks/wait"]),
    ("/blog/release-0.1", &["/download"]),
    ("/blog/benchmarks", &["/blog/old-server"]),
    ("/about", &["/about/team"]),
    ("/about/team", &[]),
    ("/download", &["/download/mirror"]),
];

/// What one fetch found.
struct Page {
    path: &'static str,
    links: &'static [&'static str],
    took: Duration,
}

/// Pretends to fetch `path`: takes 20-110 ms, fails for pages the site does not have.
async fn fetch(path: &'static str) -> Result<Page, String> {
    let spread = path.bytes().map(u64::from).sum::<u64>() % 90;
    let took = Duration::from_millis(20 + spread);
    sleep(took).await;
    match SITE.iter().find(|(page, _)| *page == path) {
        Some(&(path, links)) => Ok(Page { path, links, took }),
        None => Err(format!("{path}: 404 not found")),
    }
}

fn main() {
    let start = Instant::now();
    let (visited, failed) = flywheel::run(async {
        let mut queue: VecDeque<&'static str> = VecDeque::from(["/"]);
        let mut seen: HashSet<&'static str> = HashSet::from(["/"]);
        let mut in_flight = JoinSet::new();
        let (mut visited, mut failed) = (0, 0);
        let mut most_in_flight = 0;

        loop {
            // Top up to the bound, then wait for one fetch to finish.
            while in_flight.len() < MAX_IN_FLIGHT {
                let Some(path) = queue.pop_front() else { break };
                in_flight.spawn(fetch(path));
            }
            most_in_flight = most_in_flight.max(in_flight.len());
            let Some(result) = in_flight.join_next().await else {
                break; // nothing running and nothing queued: done
            };
            match result.expect("a fetch task panicked") {
                Ok(page) => {
                    visited += 1;
                    let new: Vec<_> = page
                        .links
                        .iter()
                        .copied()
                        .filter(|link| seen.insert(link))
                        .collect();
                    println!(
                        "[{:>4} ms] {:<24} {:>3} ms, {} new link(s), {} in flight, {} queued",
                        start.elapsed().as_millis(),
                        page.path,
                        page.took.as_millis(),
                        new.len(),
                        in_flight.len(),
                        queue.len() + new.len(),
                    );
                    queue.extend(new);
                }
                Err(reason) => {
                    failed += 1;
                    println!("[{:>4} ms] failed: {reason}", start.elapsed().as_millis());
                }
            }
        }
        assert!(most_in_flight <= MAX_IN_FLIGHT);
        (visited, failed)
    });
    println!(
        "crawled {visited} pages ({failed} failed) in {} ms with at most {MAX_IN_FLIGHT} fetches at a time",
        start.elapsed().as_millis()
    );
}
