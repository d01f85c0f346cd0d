//! The whole per-frame path: link layer -> IP (+ reassembly across frames) -> UDP -> CoAP ->
//! exchanges -> dissection tree, over a sequence of frames cut from the input.
//!
//! Input layout: byte 0 picks the link type; then records of [len: u8][frame bytes], so one
//! input exercises stateful reassembly and exchange tracking across several frames.
#![no_main]

use analyzer_core::analysis::{Analyzer, AnalyzerConfig};
use analyzer_core::capture::{LinkType, RawFrame};
use analyzer_core::time::Timestamp;
use libfuzzer_sys::fuzz_target;

const LINK_TYPES: [u32; 11] = [0, 1, 101, 108, 113, 195, 228, 229, 230, 276, 147];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, mut rest)) = data.split_first() else { return };
    let link_type = LinkType(LINK_TYPES[usize::from(sel) % LINK_TYPES.len()]);
    let mut config = AnalyzerConfig::default();
    config.net.verify_checksums = sel & 0x80 != 0;
    let mut analyzer = Analyzer::new(config);
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
    }
    let _ = analyzer.finish();
});
