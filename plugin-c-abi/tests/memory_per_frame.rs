//! Memory the plugin keeps per frame (the stored results of `Session`), measured with a
//! counting allocator over a `kudoscope-sim big` OSCORE capture; the analyzer's own state is measured
//! separately (it is bounded by live exchanges, not by the capture). Prints the figures and
//! fails when the stored result grows past a generous bound.
//! `cargo test --release -p plugin-c-abi --test memory_per_frame -- --nocapture`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;

use analyzer_core::analysis::{Analyzer, AnalyzerConfig};
use analyzer_core::capture::CaptureReader;
use kudoscope_wireshark::session::{Session, Stored, load_keys};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);
static BLOCKS: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator, counting bytes and blocks.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Relaxed);
        BLOCKS.fetch_add(1, Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Relaxed);
        BLOCKS.fetch_sub(1, Relaxed);
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static A: Counting = Counting;

#[test]
fn stored_bytes_per_frame() {
    const N: u64 = 20_000;
    let dir = std::env::temp_dir().join(format!("kudoscope-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cap = dir.join("big.pcapng");
    let keys = support::write_big_capture(&cap, N);
    let keys = std::fs::read_to_string(&keys).unwrap();
    let keys_path = dir.join("big.keys.toml");
    std::fs::write(&keys_path, keys).unwrap();
    let frames: Vec<_> = {
        let mut r = CaptureReader::open(&cap).unwrap();
        std::iter::from_fn(|| r.next_frame().and_then(Result::ok)).collect()
    };
    assert_eq!(frames.len() as u64, N);
    let keys = keys_path.to_str().unwrap();

    // The analyzer alone (records dropped at once), its tables (reserved when it is made)
    // included, as in the session below.
    let (b0, k0) = (LIVE.load(Relaxed), BLOCKS.load(Relaxed));
    let (store, _) = load_keys(Some(keys));
    let mut a = Analyzer::with_contexts(AnalyzerConfig::default(), store);
    for f in &frames {
        drop(a.process(f));
    }
    let analyzer = (LIVE.load(Relaxed) - b0) / N as isize;
    let analyzer_blocks = (BLOCKS.load(Relaxed) - k0) / N as isize;
    drop(a);

    // The session: analyzer + stored results.
    let (b0, k0) = (LIVE.load(Relaxed), BLOCKS.load(Relaxed));
    let mut s = Session::new(Some(keys));
    for f in &frames {
        s.process(f);
    }
    let session = (LIVE.load(Relaxed) - b0) / N as isize;
    std::fs::remove_dir_all(&dir).unwrap();
    let session_blocks = (BLOCKS.load(Relaxed) - k0) / N as isize;
    assert_eq!(s.stored_frames() as u64, N);
    assert!(s.get(N).unwrap().plaintext().is_some(), "decrypted");
    let stored = session - analyzer;
    println!(
        "analyzer state {analyzer} B/frame ({analyzer_blocks} blocks; bounded by live exchanges: all {N} \
         messages are within EXCHANGE_LIFETIME here); stored results {stored} B/frame ({} blocks); \
         in-line sizes: Stored {} B, CoapRecord {} B, OscoreRecord {} B, ExchangeInfo {} B, Message {} B",
        session_blocks - analyzer_blocks,
        size_of::<Stored>(),
        size_of::<analyzer_core::analysis::CoapRecord>(),
        size_of::<analyzer_core::oscore::engine::OscoreRecord>(),
        size_of::<analyzer_core::coap::exchange::ExchangeInfo>(),
        size_of::<analyzer_core::coap::message::Message>(),
    );
    assert!(stored < 3 * 1024, "{stored} B stored per frame");
}
