//! Cost of the display tree per frame: `cargo run --release -p analyzer-core --example dissect_cost CAPTURE`.
#![allow(clippy::expect_used)] // a measurement tool: failing loudly on bad input is right
use analyzer_core::analysis::{Analyzer, AnalyzerConfig};
use analyzer_core::capture::CaptureReader;
use analyzer_core::keys::{KeySet, find_default_keys};
use analyzer_core::oscore::store::ContextStore;
use std::time::Instant;

fn main() {
    let path = std::path::PathBuf::from(std::env::args().nth(1).expect("CAPTURE"));
    let keys: Vec<_> = find_default_keys(&path).into_iter().collect();
    let store = ContextStore::load(KeySet::load(&keys).expect("keys").contexts()).expect("store");
    let mut a = Analyzer::with_contexts(AnalyzerConfig::default(), store);
    let records: Vec<_> =
        CaptureReader::open(&path).expect("open").map(|f| a.process(&f.expect("frame"))).collect();
    let rounds = 200;
    let t = Instant::now();
    let mut fields = 0;
    for _ in 0..rounds {
        for r in &records {
            fields += analyzer_core::dissect::dissect(r).fields().len();
        }
    }
    let n = (rounds * records.len()) as f64;
    println!(
        "{} frames x {rounds}: {:.2} us per frame (full tree), {} fields",
        records.len(),
        t.elapsed().as_secs_f64() * 1e6 / n,
        fields / rounds
    );
    let t = Instant::now();
    let mut fields_only = 0;
    for _ in 0..rounds {
        for r in &records {
            fields_only += analyzer_core::dissect::dissect_fields(r).fields().len();
        }
    }
    assert_eq!(fields, fields_only, "both walks give the same fields");
    println!("fields only: {:.2} us per frame", t.elapsed().as_secs_f64() * 1e6 / n);
}
