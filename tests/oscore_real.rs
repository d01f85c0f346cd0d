//! OSCORE over the two real captures (aiocoap d01, libcoap d02), checked against the frame
//! listings in their READMEs, which an independent Python decoder produced, and the body
//! hashes given there. Runs the core exactly as the CLI does (keys from the TOML file next to
//! the capture, found by default, and from the three other formats).

use analyzer_core::analysis::{Analyzer, AnalyzerConfig, FrameRecord};
use analyzer_core::capture::CaptureReader;
use analyzer_core::keys::{KeySet, find_default_keys};
use analyzer_core::oscore::engine::{EchoRecovery, NonceSource, Status};
use analyzer_core::oscore::store::ContextStore;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn sample(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/real").join(rel)
}

fn analyse(capture: &Path, keys: &[PathBuf]) -> (Vec<FrameRecord>, Analyzer) {
    let set = KeySet::load(keys).expect("keys load");
    let store = ContextStore::load(set.contexts()).expect("contexts derive");
    let mut a = Analyzer::with_contexts(AnalyzerConfig::default(), store);
    let mut records = Vec::new();
    for f in CaptureReader::open(capture).expect("open") {
        records.push(a.process(&f.expect("frame")));
    }
    (records, a)
}

/// (frame, inner code prefix, payload length) rows of a README listing table; rows without an
/// OSCORE option (empty ACKs) are skipped.
fn listing(readme: &Path) -> Vec<(u64, String, usize)> {
    let text = std::fs::read_to_string(readme).unwrap();
    let mut rows = Vec::new();
    for line in text.lines().filter(|l| l.starts_with("| ")) {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        // The per-message listing has 14 columns (other tables are shorter).
        if cols.len() < 16 {
            continue;
        }
        let Ok(frame) = cols[1].parse::<u64>() else { continue };
        let (inner, payload) = (cols[10], cols[12]);
        if inner.is_empty() {
            continue;
        }
        let len = payload.split(' ').next().unwrap().parse::<usize>().unwrap();
        rows.push((frame, inner.to_string(), len));
    }
    rows
}

fn check_against_listing(records: &[FrameRecord], readme: &Path) -> usize {
    let rows = listing(readme);
    assert!(!rows.is_empty());
    for (frame, inner_code, len) in &rows {
        let r = &records[*frame as usize - 1];
        let o = r
            .coap
            .as_ref()
            .and_then(|c| c.oscore.as_ref())
            .unwrap_or_else(|| panic!("frame {frame}: no OSCORE"));
        assert_eq!(o.status, Status::Decrypted, "frame {frame}: {:?}", o.findings);
        let inner = o.inner.as_ref().unwrap();
        let label = analyzer_core::analysis::code_label(inner.code);
        assert!(
            label.starts_with(inner_code.as_str()),
            "frame {frame}: inner {label}, listing says {inner_code}"
        );
        assert_eq!(inner.payload.len(), *len, "frame {frame} payload length");
    }
    rows.len()
}

fn completed_bodies(records: &[FrameRecord]) -> Vec<(u64, String)> {
    records
        .iter()
        .filter_map(|r| {
            let x = r.coap.as_ref()?.oscore.as_ref()?.inner_exchange.as_ref()?;
            let done = x.block.as_ref()?.completed.as_ref()?;
            let body = done.body.as_ref()?;
            Some((done.total_len, analyzer_core::hex::encode(&Sha256::digest(body))))
        })
        .collect()
}

#[test]
fn d01_aiocoap_every_frame_decrypts_as_listed() {
    for capture in ["d01_aiocoap_aiocoap.pcapng", "d01_aiocoap_aiocoap.pcap"] {
        let path = sample(&format!("d01_aiocoap_aiocoap/{capture}"));
        let keys = find_default_keys(&path).expect("default keys file next to the capture");
        let (records, analyzer) = analyse(&path, &[keys]);
        assert_eq!(records.len(), 26);
        let n = check_against_listing(&records, &sample("d01_aiocoap_aiocoap/README.md"));
        assert_eq!(n, 26);
        // README spot checks: nonces of frames 1, 2 (request nonce) and 21 (server's own PIV).
        let o = |f: usize| records[f - 1].coap.as_ref().unwrap().oscore.as_ref().unwrap();
        assert_eq!(analyzer_core::hex::encode(o(1).nonce.as_ref().unwrap()), "7153af21a2b3a9b997b2ff0e4c");
        assert_eq!(o(2).nonce_source, Some(NonceSource::RequestNonce));
        assert_eq!(analyzer_core::hex::encode(o(2).nonce.as_ref().unwrap()), "7153af21a2b3a9b997b2ff0e4c");
        assert_eq!(o(21).nonce_source, Some(NonceSource::OwnPiv));
        assert_eq!(analyzer_core::hex::encode(o(21).nonce.as_ref().unwrap()), "7153af21a2b3a93e97b2ff0e4c");
        assert_eq!(o(21).request_piv.as_deref(), Some(&[0x09][..]));
        assert_eq!(o(21).request_frame, Some(19));
        // The inner Block2 body (README: 2300 bytes, SHA-256 f5024afc...).
        assert_eq!(
            completed_bodies(&records),
            vec![(2300, "f5024afcc73efde94b9681f516bd4adff294500c314da76d82dba7b4fcf1d954".to_string())]
        );
        assert!(records.iter().all(|r| r.findings.is_empty()), "no findings expected in d01");
        let ctx = analyzer.engine().store().iter().next().unwrap();
        assert_eq!(ctx.opened, 26);
        assert_eq!((ctx.usage.a.q, ctx.usage.b.q), (11, 15));
    }
}

#[test]
fn d02_libcoap_every_protected_frame_decrypts_including_empty_tokens() {
    for capture in ["d02_libcoap_libcoap.pcapng", "d02_libcoap_libcoap.pcap"] {
        let path = sample(&format!("d02_libcoap_libcoap/{capture}"));
        let keys = find_default_keys(&path).expect("default keys file");
        let (records, analyzer) = analyse(&path, &[keys]);
        assert_eq!(records.len(), 66);
        assert_eq!(check_against_listing(&records, &sample("d02_libcoap_libcoap/README.md")), 36);
        let o = |f: usize| records[f - 1].coap.as_ref().unwrap().oscore.as_ref().unwrap();
        // The 13 frames tshark 4.0.17 cannot decrypt (all answer zero-length-token requests).
        for f in [2, 9, 29, 41, 45, 49, 50, 54, 55, 59, 61, 63, 65] {
            assert_eq!(o(f).status, Status::Decrypted, "frame {f}");
        }
        // B.1.2: frame 2 is the 4.01 + Echo with the server's own PIV, frame 3 echoes it.
        assert_eq!(o(2).echo_recovery, Some(EchoRecovery::Challenge));
        assert_eq!(o(2).nonce_source, Some(NonceSource::OwnPiv));
        assert_eq!(o(3).echo_recovery, Some(EchoRecovery::Response));
        // Frame 63: final notification without a PIV reuses the registration's nonce (frame 43).
        assert_eq!(o(63).nonce_source, Some(NonceSource::RequestNonce));
        assert_eq!(o(63).request_frame, Some(43));
        assert_eq!(o(63).nonce, o(43).nonce);
        // Notifications 45, 50, 55, 61 carry server PIVs 01..04 and answer frame 43.
        for (f, piv) in [(45, 1u8), (50, 2), (55, 3), (61, 4)] {
            assert_eq!(o(f).request_frame, Some(43), "frame {f}");
            assert_eq!(o(f).opt().unwrap().piv_value(), Some(&[piv][..]), "frame {f}");
        }
        // Block1 upload and Block2 download both reassemble to cfg-b.bin (README).
        let body = "86d8d3f9c394a05470b8274f15712d386717a12a9a968c6faf31a626a53e19c3".to_string();
        assert_eq!(completed_bodies(&records), vec![(1200, body.clone()), (1200, body)]);
        assert!(records.iter().all(|r| r.findings.is_empty()), "no findings expected in d02");
        let ctx = analyzer.engine().store().iter().next().unwrap();
        assert_eq!(ctx.opened, 36);
    }
}

/// The same contexts from every importer decrypt the same frames.
#[test]
fn every_keys_format_opens_the_same_frames() {
    for (dir, capture) in [
        ("d01_aiocoap_aiocoap", "d01_aiocoap_aiocoap.pcapng"),
        ("d02_libcoap_libcoap", "d02_libcoap_libcoap.pcapng"),
    ] {
        let path = sample(&format!("{dir}/{capture}"));
        let mut counts = Vec::new();
        for keys in ["keys/wireshark/oscore_contexts", "keys/aiocoap-client", "keys/libcoap-client.conf"] {
            let (records, _) = analyse(&path, &[sample(&format!("{dir}/{keys}"))]);
            let opened = records
                .iter()
                .filter(|r| {
                    r.coap
                        .as_ref()
                        .and_then(|c| c.oscore.as_ref())
                        .is_some_and(|o| o.status == Status::Decrypted)
                })
                .count();
            counts.push((keys, opened));
        }
        let expected = if dir.starts_with("d01") { 26 } else { 36 };
        assert!(counts.iter().all(|(_, n)| *n == expected), "{dir}: {counts:?}");
    }
}

/// Without keys nothing is decrypted, and every protected request says why.
#[test]
fn without_keys_requests_report_no_context() {
    let path = sample("d01_aiocoap_aiocoap/d01_aiocoap_aiocoap.pcapng");
    let (records, _) = analyse(&path, &[]);
    let o = records[0].coap.as_ref().unwrap().oscore.as_ref().unwrap();
    assert_eq!(o.status, Status::NoContext);
    assert_eq!(records[0].findings[0].kind.as_str(), "oscore.no_context");
    let o2 = records[1].coap.as_ref().unwrap().oscore.as_ref().unwrap();
    assert_eq!(o2.status, Status::NoRequest);
}
