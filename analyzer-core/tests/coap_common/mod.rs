//! Shared helpers for the coap_* integration tests: a minimal reader for the two reference
//! captures (legacy pcap, little-endian, Ethernet, IPv4, UDP), independent of the crate's
//! capture/net modules so that these tests only exercise the CoAP code.

// Test helpers: panics are the failure mode.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![allow(dead_code)]

use analyzer_core::Timestamp;
use analyzer_core::net::Endpoint;
use std::net::{IpAddr, Ipv4Addr};

pub const CAPTURES: &str = "/work/shared/captures";

/// One UDP datagram of a capture.
#[derive(Debug, Clone)]
pub struct Datagram {
    pub frame: u64,
    pub ts: Timestamp,
    pub src: Endpoint,
    pub dst: Endpoint,
    pub payload: Vec<u8>,
}

/// Reads `<CAPTURES>/<name>/<name>.pcap`.
pub fn read_capture(name: &str) -> Vec<Datagram> {
    let path = format!("{CAPTURES}/{name}/{name}.pcap");
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(&data[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "little-endian microsecond pcap");
    assert_eq!(u32::from_le_bytes(data[20..24].try_into().unwrap()), 1, "Ethernet");
    let mut out = Vec::new();
    let mut pos = 24;
    let mut frame = 0;
    while pos + 16 <= data.len() {
        let rd = |o: usize| u32::from_le_bytes(data[pos + o..pos + o + 4].try_into().unwrap());
        let (secs, usecs, incl) = (rd(0), rd(4), rd(8) as usize);
        let pkt = &data[pos + 16..pos + 16 + incl];
        pos += 16 + incl;
        frame += 1;
        assert_eq!(&pkt[12..14], &[0x08, 0x00], "IPv4");
        let ip = &pkt[14..];
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        assert_eq!(ip[9], 17, "UDP");
        let addr = |o: usize| IpAddr::V4(Ipv4Addr::new(ip[o], ip[o + 1], ip[o + 2], ip[o + 3]));
        let udp = &ip[ihl..];
        let port = |o: usize| u16::from_be_bytes([udp[o], udp[o + 1]]);
        let ulen = usize::from(port(4));
        out.push(Datagram {
            frame,
            ts: Timestamp::new(i64::from(secs), usecs * 1000),
            src: Endpoint { addr: addr(12), port: port(0) },
            dst: Endpoint { addr: addr(16), port: port(2) },
            payload: udp[8..ulen].to_vec(),
        });
    }
    out
}
