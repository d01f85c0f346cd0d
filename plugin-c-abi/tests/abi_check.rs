//! The hand-written Wireshark 4.0 ABI (src/ws40.rs) against the C compiler: abi-check/run.sh
//! compiles abi-check/abi_check.c with the installed headers and prints every size, offset
//! and constant the plugin relies on; each must equal `ws40::ABI_TABLE`, and the committed
//! abi-check/ws40.txt must be what the headers say today.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use kudoscope_wireshark::ws40::ABI_TABLE;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn parse(text: &str) -> BTreeMap<String, i64> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap_or_else(|| panic!("bad line {l:?}"));
            (k.to_string(), v.trim().parse().unwrap())
        })
        .collect()
}

#[test]
fn ws40_layouts_and_constants_match_the_installed_headers() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("abi-check");
    let out = Command::new("sh").arg(dir.join("run.sh")).output().expect("run abi-check/run.sh");
    assert!(
        out.status.success(),
        "abi-check/run.sh failed (needs cc and libwireshark-dev):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c = parse(&String::from_utf8(out.stdout).unwrap());
    let committed = parse(&std::fs::read_to_string(dir.join("ws40.txt")).unwrap());
    assert_eq!(
        c, committed,
        "abi-check/ws40.txt is stale: regenerate it with abi-check/run.sh > abi-check/ws40.txt"
    );
    let rust: BTreeMap<String, i64> = ABI_TABLE.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    assert_eq!(rust.len(), ABI_TABLE.len(), "duplicate names in ABI_TABLE");
    assert_eq!(rust, c, "src/ws40.rs disagrees with the C headers");
}
