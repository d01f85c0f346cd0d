//! Rough timings of the OSCORE crypto layer (no assertions on time). Run in release:
//! `cargo test --release -p analyzer-core --test oscore_bench -- --ignored --nocapture`

// Test code: helpers outside #[test] fns may unwrap and index too (clippy.toml covers only
// the test fns themselves).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use analyzer_core::oscore::context::DerivedContext;
use analyzer_core::oscore::kudos::{self, LabelEncoding};
use analyzer_core::oscore::{AeadAlg, AeadKey, ContextParams, HkdfAlg, Secret};
use std::hint::black_box;
use std::time::Instant;

fn params(aead: AeadAlg, hkdf: HkdfAlg) -> ContextParams {
    ContextParams {
        master_secret: Secret::new((1..=16).collect()),
        master_salt: vec![0x9e, 0x7c, 0xa9, 0x22, 0x23, 0x78, 0x63, 0x40],
        id_context: None,
        sender_id: vec![],
        recipient_id: vec![1],
        aead,
        hkdf,
    }
}

fn time<T>(label: &str, iters: u32, mut f: impl FnMut() -> T) {
    for _ in 0..iters / 10 {
        black_box(f());
    }
    // Best of 5 rounds: the machine is shared, the minimum is the least disturbed figure.
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..iters {
            black_box(f());
        }
        best = best.min(t.elapsed().as_secs_f64() / f64::from(iters));
    }
    println!("{label:<52} {:>8.3} µs", best * 1e6);
}

#[test]
#[ignore = "timing report, run with --release --ignored --nocapture"]
fn report_timings() {
    for alg in [AeadAlg::AesCcm16_64_128, AeadAlg::A128Gcm, AeadAlg::ChaCha20Poly1305] {
        for hkdf in HkdfAlg::ALL {
            let p = params(alg, hkdf);
            time(&format!("derive context ({alg}, {hkdf})"), 20_000, || {
                DerivedContext::derive(p.clone()).unwrap()
            });
        }
    }
    let old = params(AeadAlg::AesCcm16_64_128, HkdfAlg::Sha256);
    let in1 = kudos::input(0x07, &[1, 0x8a, 0x27, 0x8f, 0x7f, 0xaa, 0xb5, 0x5a]);
    time("KUDOS updateCtx + derive (alg 10, SHA-256)", 20_000, || {
        DerivedContext::derive(kudos::update_ctx(&in1, &[], &old, LabelEncoding::Draft).unwrap()).unwrap()
    });
    for alg in [AeadAlg::AesCcm16_64_128, AeadAlg::A128Gcm, AeadAlg::ChaCha20Poly1305] {
        let key = vec![7u8; alg.key_len()];
        time(&format!("AeadKey::new ({alg})"), 100_000, || AeadKey::new(alg, &key).unwrap());
        let k = AeadKey::new(alg, &key).unwrap();
        let nonce = vec![3u8; alg.nonce_len()];
        let aad = analyzer_core::oscore::context::aad(alg, &[], &[0x14]);
        let ct = k.seal(&nonce, &aad, &[0x5a; 64]).unwrap();
        time(&format!("open 64-byte payload ({alg})"), 200_000, || k.open(&nonce, &aad, &ct).unwrap());
        time(&format!("open 64-byte payload, bad tag ({alg})"), 200_000, || {
            k.open(&nonce, &aad[1..], &ct).unwrap_err()
        });
    }
}
