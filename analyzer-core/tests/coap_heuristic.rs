//! `looks_like_coap` against random bytes (must rarely accept) and real CoAP (must accept).
//! Run with `--nocapture` to see the measured acceptance rates.

// Test code (helpers outside #[test] fns included): panics are the failure mode.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod coap_common;

use analyzer_core::coap::looks_like_coap;

/// xorshift64*: deterministic, so the measured rate is reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            *b = self.next() as u8;
        }
    }
}

fn rate(samples: u32, mut gen_: impl FnMut(&mut Vec<u8>)) -> f64 {
    let mut buf = Vec::new();
    let mut hits = 0u32;
    for _ in 0..samples {
        gen_(&mut buf);
        if looks_like_coap(&buf) {
            hits += 1;
        }
    }
    f64::from(hits) / f64::from(samples)
}

#[test]
fn random_bytes_are_rarely_taken_for_coap() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let n = 1_000_000;
    let uniform = rate(n, |b| {
        let len = 4 + (rng.next() % 61) as usize; // 4..=64 bytes
        b.resize(len, 0);
        rng.fill(b);
    });
    let mut rng = Rng(7);
    let four = rate(n, |b| {
        b.resize(4, 0);
        rng.fill(b);
    });
    let mut rng = Rng(11);
    let mid = rate(n, |b| {
        let len = 20 + (rng.next() % 41) as usize; // 20..=60 bytes
        b.resize(len, 0);
        rng.fill(b);
    });
    // Worst case for a heuristic: random bytes that already start like CoAP (version 1,
    // TKL <= 8) with a registered request/response code.
    let mut rng = Rng(13);
    let codes = [0x01u8, 0x02, 0x03, 0x04, 0x05, 0x44, 0x45, 0x84];
    let shaped = rate(n, |b| {
        let len = 4 + (rng.next() % 61) as usize;
        b.resize(len, 0);
        rng.fill(b);
        b[0] = 0x40 | (b[0] & 0x30) | (b[0] % 9);
        b[1] = codes[(rng.next() % 8) as usize];
    });
    println!(
        "looks_like_coap acceptance: uniform 4..=64 B {:.4}%, 4 B {:.4}%, 20..=60 B {:.4}%, CoAP-shaped header + random rest {:.2}%",
        uniform * 100.0,
        four * 100.0,
        mid * 100.0,
        shaped * 100.0
    );
    // Measured: 0.0303%, 0.0087%, 0.1918%, 1.44% (1e6 samples each); bounds leave margin.
    assert!(uniform < 0.0006, "uniform rate {uniform}");
    assert!(mid < 0.0003, "20..=60 B rate {mid}");
    assert!(four < 0.004, "4-byte rate {four}");
    assert!(shaped < 0.03, "shaped rate {shaped}");
}

#[test]
fn real_coap_is_accepted() {
    for name in ["d01_aiocoap_aiocoap", "d02_libcoap_libcoap"] {
        for d in coap_common::read_capture(name) {
            assert!(looks_like_coap(&d.payload), "{name} frame {}", d.frame);
        }
    }
    // RFC 7252 Appendix A and RFC 8613 Appendix C messages.
    for hex_msg in [
        "40017d34bb74656d7065726174757265",
        "60457d34ff32322e332043",
        "4145ad7b53ff32322e332043",
        "6000ad7b",
        "7000ad7c",
        "44015d1f00003974396c6f63616c686f737483747631",
        "44025d1f00003974396c6f63616c686f7374620914ff612f1092f1776f1c1668b3825e",
        "64445d1f0000397490ffdbaad1e9a7e7b2a813d3c31524378303cdafae119106",
    ] {
        let b = analyzer_core::hex::decode(hex_msg).unwrap();
        assert!(looks_like_coap(&b), "{hex_msg}");
    }
    // Not CoAP: a DNS query, an NTP request, a DTLS ClientHello record header, zeros.
    for hex_msg in [
        "abcd0100000100000000000003777777076578616d706c6503636f6d0000010001",
        "e30006ec0000000000000000000000000000000000000000000000000000000000000000",
        "16fefd0000000000000000002f010000230000000000000023fefd",
        "000000000000000000000000",
    ] {
        let b = analyzer_core::hex::decode(hex_msg).unwrap();
        assert!(!looks_like_coap(&b), "{hex_msg}");
    }
}
