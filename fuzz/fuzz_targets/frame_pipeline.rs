//! The whole per-frame path: link layer -> IP (+ reassembly across frames) -> UDP -> CoAP ->
//! exchanges -> dissection tree, over a sequence of frames cut from the input.
//!
//! Input layout: byte 0 picks the link type; then records of [len: u8][frame bytes], so one
//! input exercises stateful reassembly and exchange tracking across several frames.
#![no_main]

use analyzer_core::analysis::{Analyzer, AnalyzerConfig};
use analyzer_core::capture::{LinkType, RawFrame};
use analyzer_core::keys::{parse_toml, KeyContext};
use analyzer_core::oscore::store::ContextStore;
use analyzer_core::time::Timestamp;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// Contexts so that OSCORE, KUDOS derivation and the audits run: the RFC 8613 C.1 context
/// (PROTOCOLS.md §3.10 KUDOS vectors use it) with a KUDOS bootstrap, and a ChaCha20 context.
const KEYS: &str = r#"
[[context]]
name = "c1"
master_secret = "0102030405060708090a0b0c0d0e0f10"
master_salt = "9e7ca92223786340"
client = { sender_id = "" }
server = { sender_id = "01" }
limits = { q = 4, v = 2 }

[[context]]
name = "c1-bootstrap"
role = "kudos-bootstrap"
bootstrap_for = "c1"
master_secret = "0f0e0d0c0b0a09080706050403020100"
client = { sender_id = "" }
server = { sender_id = "01" }

[[context]]
name = "chacha"
aead = 24
master_secret = "0102030405060708090a0b0c0d0e0f100102030405060708090a0b0c0d0e0f10"
id_context = "37cbf3210017a2d3"
client = { sender_id = "00" }
server = { sender_id = "01" }
"#;

fn keys() -> &'static [KeyContext] {
    static K: OnceLock<Vec<KeyContext>> = OnceLock::new();
    K.get_or_init(|| parse_toml(KEYS, std::path::Path::new("fuzz.keys.toml")).map(|l| l.contexts).unwrap_or_default())
}

const LINK_TYPES: [u32; 11] = [0, 1, 101, 108, 113, 195, 228, 229, 230, 276, 147];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, mut rest)) = data.split_first() else { return };
    let link_type = LinkType(LINK_TYPES[usize::from(sel) % LINK_TYPES.len()]);
    let mut config = AnalyzerConfig::default();
    config.net.verify_checksums = sel & 0x80 != 0;
    let store = ContextStore::load(keys()).unwrap_or_default();
    let mut analyzer = Analyzer::with_contexts(config, store);
    let mut number = 0u64;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len).min(tail.len());
        let (frame, next) = tail.split_at(len);
        rest = next;
        number += 1;
        let raw = RawFrame {
            number,
            ts: Timestamp::new(1_767_225_600 + number as i64, 0),
            link_type,
            interface: 0,
            orig_len: frame.len() as u32,
            data: frame.to_vec(),
            file_offset: 0,
        };
        let record = analyzer.process(&raw);
        let tree = analyzer_core::dissect::dissect(&record);
        let _ = tree.render_text();
        let _ = analyzer_core::analysis::info(&record);
        // Hand the buffers back as the CLI does (every other frame: both paths run).
        if number % 2 == 0 {
            analyzer.recycle(record);
        }
    }
    let _ = analyzer.finish();
});
