//! Parse throughput on typical 20..=60-byte messages (the real captures' datagrams of that
//! size plus RFC examples). Ignored by default; run in release:
//! `cargo test -p analyzer-core --release --test coap_throughput -- --ignored --nocapture`

// Test code (helpers outside #[test] fns included): panics are the failure mode.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod coap_common;

use analyzer_core::coap::exchange::ExchangeConfig;
use analyzer_core::coap::{ExchangeTracker, Message, MsgMeta};
use std::hint::black_box;
use std::time::{Duration, Instant};

#[test]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
fn parse_throughput() {
    let mut corpus: Vec<coap_common::Datagram> = ["d01_aiocoap_aiocoap", "d02_libcoap_libcoap"]
        .iter()
        .flat_map(|n| coap_common::read_capture(n))
        .filter(|d| (20..=60).contains(&d.payload.len()))
        .collect();
    for hex_msg in [
        "40017d34bb74656d7065726174757265",
        "44015d1f00003974396c6f63616c686f737483747631",
        "44025d1f00003974396c6f63616c686f7374620914ff612f1092f1776f1c1668b3825e",
        "64445d1f0000397490ffdbaad1e9a7e7b2a813d3c31524378303cdafae119106",
    ] {
        let mut d = corpus[0].clone();
        d.payload = analyzer_core::hex::decode(hex_msg).unwrap();
        corpus.push(d);
    }
    let bytes: usize = corpus.iter().map(|d| d.payload.len()).sum();
    let avg_len = bytes as f64 / corpus.len() as f64;
    let avg_opts = corpus.iter().map(|d| Message::parse(&d.payload).options.len()).sum::<usize>() as f64
        / corpus.len() as f64;

    let run = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < Duration::from_secs(2) {
            for _ in 0..1000 {
                f();
            }
            n += 1000 * corpus.len() as u64;
        }
        n as f64 / start.elapsed().as_secs_f64()
    };
    let parse = run(&mut || {
        for d in &corpus {
            black_box(Message::parse(black_box(&d.payload)));
        }
    });
    // The tracker sees fresh exchanges each round: the client port and the MIDs change, so
    // nothing is a retransmission and the tables churn (expiry + eviction at max_live).
    let mut tracker = ExchangeTracker::new(ExchangeConfig { max_live: 4096, ..ExchangeConfig::default() });
    let mut frame = 0u64;
    let mut round = 0u16;
    let mut buf = Vec::new();
    let track = run(&mut || {
        round = round.wrapping_add(1);
        for d in &corpus {
            frame += 1;
            buf.clear();
            buf.extend_from_slice(&d.payload);
            buf[2] ^= (round >> 8) as u8;
            buf[3] ^= round as u8;
            let (mut src, mut dst) = (d.src, d.dst);
            if src.port != 5683 {
                src.port = 10000 + round % 50000;
            } else {
                dst.port = 10000 + round % 50000;
            }
            let m = Message::parse(black_box(&buf));
            let meta = MsgMeta { frame, ts: d.ts, src, dst };
            black_box(tracker.observe(&meta, &m));
        }
    });
    println!(
        "corpus: {} messages, average {avg_len:.1} bytes, {avg_opts:.1} options; Message::parse {:.2} M msg/s ({:.0} MB/s); parse + ExchangeTracker::observe {:.2} M msg/s",
        corpus.len(),
        parse / 1e6,
        parse * avg_len / 1e6,
        track / 1e6
    );
}
