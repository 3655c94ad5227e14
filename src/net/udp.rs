//! UDP: `UdpSocket`.
