//! Read throughput of the capture reader on generated 1,000,000-frame files (small frames).
//! Not a timed assertion: it prints the figures. Run in release:
//! `cargo test --release -p analyzer-core --test capture_throughput -- --ignored --nocapture`

// Test code throughout: lets clippy apply its in-test allowances (unwrap, indexing) here.
#![cfg(test)]

mod capture_writer;

use analyzer_core::capture::CaptureReader;
use capture_writer::{Iface, NgBlock, PcapFile, Rec, Section, pcap, pcapng};
use std::time::Instant;

const FRAMES: usize = 1_000_000;
/// Ethernet + IPv4 + UDP + a small CoAP message.
const FRAME_LEN: usize = 64;

fn frame(i: usize) -> Vec<u8> {
    (0..FRAME_LEN).map(|j| (i + j) as u8).collect()
}

fn measure(label: &str, bytes: &[u8]) {
    let path = std::env::temp_dir().join(format!("capture_throughput_{}_{label}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    for run in 0..3 {
        let t = Instant::now();
        let mut r = CaptureReader::open(&path).unwrap();
        let (mut n, mut sum) = (0u64, 0u64);
        for f in r.by_ref() {
            let f = f.unwrap();
            n += 1;
            sum = sum.wrapping_add(u64::from(f.data[0])).wrapping_add(f.ts.nanos.into());
        }
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(n, FRAMES as u64);
        println!(
            "{label} run {run}: {n} frames, {} bytes in {:.3} s = {:.2} M frames/s, {:.0} MB/s (checksum {sum})",
            bytes.len(),
            secs,
            n as f64 / secs / 1e6,
            bytes.len() as f64 / secs / 1e6
        );
    }
    std::fs::remove_file(&path).unwrap();
}

#[test]
#[ignore = "throughput figure; run in release with --ignored --nocapture"]
fn read_one_million_small_frames() {
    let records = (0..FRAMES)
        .map(|i| Rec {
            secs: 1_700_000_000 + (i / 1000) as u32,
            frac: (i % 1000) as u32 * 1000,
            orig_len: FRAME_LEN as u32,
            data: frame(i),
        })
        .collect();
    let (bytes, _) = pcap(&PcapFile { big_endian: false, nanos: false, snaplen: 262_144, link: 1, records });
    measure("pcap", &bytes);
    drop(bytes);
    let mut blocks =
        vec![NgBlock::Idb(Iface { link: 1, snaplen: 262_144, tsresol: Some(9), tsoffset: None })];
    blocks.extend((0..FRAMES).map(|i| NgBlock::Epb {
        iface: 0,
        units: 1_700_000_000_000_000_000 + i as u64 * 1000,
        orig_len: FRAME_LEN as u32,
        data: frame(i),
    }));
    let (bytes, _) = pcapng(&[Section { big_endian: false, blocks }]);
    measure("pcapng", &bytes);
}
