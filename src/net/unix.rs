//! Unix domain sockets.
