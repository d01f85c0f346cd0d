//! Differential test against Wireshark's own OSCORE decryption (tshark 4.0.17): the keys are
//! exported with `kudoscope keys export --format wireshark-uat`, and every message tshark
//! decrypts, kudoscope must decrypt to the same inner code and payload length. kudoscope also
//! decrypts what tshark cannot (responses to zero-length-token requests, d02).

mod support;

use analyzer_core::coap::message::Code;
use std::collections::BTreeMap;
use support::{kudoscope, root, tempdir, tshark, tshark_lines};

/// frame -> (inner code label, payload length) for every frame kudoscope decrypted.
fn kudoscope_decrypted(capture: &str, keys: &str) -> BTreeMap<u64, (String, u64)> {
    let out = kudoscope(&["--format", "json", "--keys", keys, capture]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut m = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["oscore"]["status"] == "decrypted" {
            let inner = &v["oscore"]["inner"];
            m.insert(
                v["frame"].as_u64().unwrap(),
                (inner["code"].as_str().unwrap().to_string(), inner["payload_len"].as_u64().unwrap()),
            );
        }
    }
    m
}

/// frame -> (inner code label, payload length) for every frame tshark decrypted (oscore.tag set).
fn tshark_decrypted(capture: &str, keys: &str) -> Option<BTreeMap<u64, (String, u64)>> {
    let tshark = tshark()?;
    let config = tempdir(&format!("uat-{}", capture.replace('/', "_")));
    let export = kudoscope(&["keys", "export", "--format", "wireshark-uat", "--keys", keys]);
    assert!(export.status.success(), "{}", String::from_utf8_lossy(&export.stderr));
    std::fs::write(config.join("oscore_contexts"), &export.stdout).unwrap();
    let lines = tshark_lines(
        &tshark,
        Some(&config),
        &root().join(capture),
        &[
            "-Y",
            "oscore.tag",
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "oscore.code",
            "-e",
            "oscore.payload_length",
        ],
    );
    let mut m = BTreeMap::new();
    for l in lines {
        let cols: Vec<&str> = l.split('\t').collect();
        let code = Code(cols[1].parse::<u8>().unwrap());
        let len = if cols[2].is_empty() { 0 } else { cols[2].parse().unwrap() };
        m.insert(cols[0].parse().unwrap(), (analyzer_core::analysis::code_label(code), len));
    }
    Some(m)
}

fn differential(capture: &str, keys: &str, tshark_count: usize, kudoscope_count: usize) {
    let Some(ts) = tshark_decrypted(capture, keys) else { return };
    let ks = kudoscope_decrypted(capture, keys);
    assert_eq!(ts.len(), tshark_count, "tshark decrypted {:?}", ts.keys().collect::<Vec<_>>());
    assert_eq!(ks.len(), kudoscope_count);
    for (frame, t) in &ts {
        assert_eq!(ks.get(frame), Some(t), "frame {frame}: tshark {t:?}, kudoscope {:?}", ks.get(frame));
    }
    let only_ours: Vec<u64> = ks.keys().filter(|f| !ts.contains_key(f)).copied().collect();
    println!("{capture}: tshark {} frames, kudoscope {} (only kudoscope: {only_ours:?})", ts.len(), ks.len());
}

#[test]
fn d01_aiocoap_same_as_tshark() {
    for c in ["d01_aiocoap_aiocoap.pcapng", "d01_aiocoap_aiocoap.pcap"] {
        differential(
            &format!("samples/real/d01_aiocoap_aiocoap/{c}"),
            "samples/real/d01_aiocoap_aiocoap/d01_aiocoap_aiocoap.keys.toml",
            26,
            26,
        );
    }
}

#[test]
fn d02_libcoap_superset_of_tshark() {
    // tshark decrypts 23 of the 36 protected frames (README); kudoscope all 36.
    differential(
        "samples/real/d02_libcoap_libcoap/d02_libcoap_libcoap.pcapng",
        "samples/real/d02_libcoap_libcoap/d02_libcoap_libcoap.keys.toml",
        23,
        36,
    );
}
