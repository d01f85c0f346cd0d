//! Throughput of `NetDecoder::decode` on the common paths. Ignored by default (timing); run:
//! `cargo test --release -p analyzer-core --test net_throughput -- --ignored --nocapture`.
//! In a release build it asserts well above 2 M frames/s for Ethernet/IPv4/UDP.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod net_support;

use analyzer_core::capture::LinkType;
use analyzer_core::net::{NetConfig, NetDecoder};
use analyzer_core::time::Timestamp;
use net_support::*;
use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::Instant;

fn measure(name: &str, lt: LinkType, frames: &[Vec<u8>], cfg: NetConfig, n: usize) -> f64 {
    let mut dec = NetDecoder::new(cfg);
    let start = Instant::now();
    let mut bytes = 0usize;
    for i in 0..n {
        let f = &frames[i % frames.len()];
        let d = dec.decode(lt, black_box(f), i as u64 + 1, Timestamp::new(i as i64 / 1000, 0));
        bytes += d.datagram.map_or(0, |g| g.payload.len());
    }
    let secs = start.elapsed().as_secs_f64();
    black_box(bytes);
    let rate = n as f64 / secs;
    eprintln!("net_throughput: {name:<40} {:>7.2} M frames/s ({n} frames in {secs:.3} s)", rate / 1e6);
    rate
}

#[test]
#[ignore = "timing measurement; run in release with --ignored"]
fn throughput() {
    let mut r = Rng(1);
    let (s, d) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2));
    let eth: Vec<Vec<u8>> = (0..64)
        .map(|i| {
            let pl = coap(&mut r, 20 + i);
            ethernet(
                &[],
                0x0800,
                &ipv4(s, d, 17, i as u16, 64, false, 0, &udp(&Ips::V4(s, d), 5683, 5683, &pl)),
            )
        })
        .collect();
    let n = 5_000_000;
    let rate =
        measure("Ethernet/IPv4/UDP (no checksum check)", LinkType::ETHERNET, &eth, NetConfig::default(), n);
    measure(
        "Ethernet/IPv4/UDP (checksums verified)",
        LinkType::ETHERNET,
        &eth,
        NetConfig { verify_checksums: true, ..NetConfig::default() },
        n,
    );
    let wpan: Vec<Vec<u8>> = (0..64)
        .map(|i| {
            let pl = coap(&mut r, 20 + i % 30);
            let mut f = mac_header(1, 1, true, Some(i as u8), 0xabcd, &Addr::Short(1), 0, &Addr::Ext([2; 8]));
            f.extend_from_slice(&[0x7e, 0x33, 0xf0, 0x16, 0x33, 0x16, 0x33, 0, 0]);
            f.extend_from_slice(&pl);
            let fcs = fcs16(&f);
            f.extend_from_slice(&fcs.to_le_bytes());
            f
        })
        .collect();
    measure(
        "802.15.4+FCS/6LoWPAN IPHC/UDP NHC",
        LinkType::IEEE802_15_4_WITHFCS,
        &wpan,
        NetConfig::default(),
        n,
    );
    if !cfg!(debug_assertions) {
        assert!(
            rate > 2e6,
            "Ethernet/IPv4/UDP decoding at {:.2} M frames/s, expected well above 2 M",
            rate / 1e6
        );
    }
}
