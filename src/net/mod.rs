//! Networking: TCP, UDP and Unix sockets on the reactor.
