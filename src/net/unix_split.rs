//! Read and write halves of a `UnixStream`: `split` / `into_split`, defined by the same
//! `split_halves!` as the TCP ones (see split/mod.rs for why they need no lock).

split_halves!(
    UnixStream,
    std::os::unix::net::SocketAddr,
    "    let (a, b) = flywheel::net::UnixStream::pair()?;"
);
