//! The field registry (`analyzer_core::fields`) covers the dissection tree: every frame of every
//! capture under samples/ (analysed with its default keys file, when there is one) plus the
//! KUDOS messages of PROTOCOLS.md §3.10 is dissected, and every field the tree produces must be
//! registered with the type of its value; every finding kind must be in `FindingKind::ALL`.
//! A new tree field that is not added to the registry fails here (and would be missing from
//! the Wireshark plugin's `kudoscope.*` fields).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use analyzer_core::analysis::{Analyzer, AnalyzerConfig};
use analyzer_core::capture::{CaptureReader, LinkType, RawFrame};
use analyzer_core::dissect::{FieldValue, dissect, dissect_fields};
use analyzer_core::fields;
use analyzer_core::keys::{self, KeySet};
use analyzer_core::oscore::store::ContextStore;
use analyzer_core::{FindingKind, Timestamp};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples")
}

fn captures(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            captures(&p, out);
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("pcap" | "pcapng")) {
            out.push(p);
        }
    }
}

fn store_for(capture: &Path) -> ContextStore {
    match keys::find_default_keys(capture) {
        Some(k) => ContextStore::load(KeySet::load(&[k]).unwrap().contexts()).unwrap(),
        None => ContextStore::new(),
    }
}

#[derive(Default)]
struct Seen {
    /// field -> (value type, example location)
    fields: BTreeMap<String, BTreeSet<&'static str>>,
    problems: Vec<String>,
    kinds: BTreeSet<&'static str>,
    frames: usize,
}

fn kind_of(v: &FieldValue) -> &'static str {
    match v {
        FieldValue::Uint(_) => "uint",
        FieldValue::Int(_) => "int",
        FieldValue::Bool(_) => "bool",
        FieldValue::Bytes(_) => "bytes",
        FieldValue::Str(_) => "string",
    }
}

impl Seen {
    fn check(&mut self, what: &str, analyzer: &mut Analyzer, frame: &RawFrame) {
        let record = analyzer.process(frame);
        self.frames += 1;
        let tree = dissect(&record);
        // The label-less walk (filters, tshark -T fields) yields exactly the same fields.
        if dissect_fields(&record).fields() != tree.fields() {
            self.problems.push(format!("{what} frame {}: dissect_fields differs from dissect", frame.number));
        }
        for (name, value) in tree.fields() {
            self.fields.entry(name.to_string()).or_default().insert(kind_of(value));
            match fields::lookup(name) {
                None => {
                    self.problems.push(format!("{what} frame {}: {name} is not registered", frame.number))
                }
                Some(f) if !f.accepts(value) => self.problems.push(format!(
                    "{what} frame {}: {name} = {value:?} does not fit the registered type {}",
                    frame.number,
                    f.ty.as_str()
                )),
                Some(_) => {}
            }
        }
        for f in record.findings.iter().chain(record.earlier_findings.iter().map(|(_, f)| f)) {
            self.kinds.insert(f.kind.as_str());
            if !FindingKind::ALL.contains(&f.kind) {
                self.problems.push(format!("{what}: finding kind {} missing from FindingKind::ALL", f.kind));
            }
        }
    }
}

/// IPv4 + UDP (checksum 0) around `payload` (RFC 791, RFC 768), for LINKTYPE_IPV4.
fn ipv4_udp(src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let total = 20 + 8 + payload.len();
    let mut v = vec![0x45, 0, (total >> 8) as u8, total as u8, 0, 1, 0x40, 0, 64, 17, 0, 0];
    v.extend_from_slice(&[192, 0, 2, 1, 192, 0, 2, 2]);
    let udp_len = 8 + payload.len();
    v.extend_from_slice(&src_port.to_be_bytes());
    v.extend_from_slice(&dst_port.to_be_bytes());
    v.extend_from_slice(&[(udp_len >> 8) as u8, udp_len as u8, 0, 0]);
    v.extend_from_slice(payload);
    v
}

fn raw(number: u64, data: Vec<u8>) -> RawFrame {
    RawFrame {
        number,
        ts: Timestamp::new(1_700_000_000, number as u32),
        link_type: LinkType::IPV4,
        interface: 0,
        orig_len: data.len() as u32,
        data,
        file_offset: 0,
    }
}

#[test]
fn every_field_in_the_samples_is_registered_with_its_type() {
    let mut files = Vec::new();
    captures(&samples_dir(), &mut files);
    assert!(files.len() >= 30, "samples/ holds {} captures", files.len());
    let mut seen = Seen::default();
    for path in &files {
        let mut analyzer = Analyzer::with_contexts(AnalyzerConfig::default(), store_for(path));
        let Ok(mut reader) = CaptureReader::open(path) else { continue };
        let what = path.strip_prefix(samples_dir()).unwrap().display().to_string();
        while let Some(Ok(frame)) = reader.next_frame() {
            seen.check(&what, &mut analyzer, &frame);
        }
        let (late, _) = analyzer.finish();
        for (_, f) in late {
            assert!(FindingKind::ALL.contains(&f.kind), "{what}: {} missing from FindingKind::ALL", f.kind);
        }
    }

    // PROTOCOLS.md §3.10: a KUDOS request (OSCORE option with the d flag, x and nonce N1) and
    // response, not in any capture yet; without keys they still dissect the option.
    let req = analyzer_core::hex::decode(
        "44025d1f000039749c89010007018a278f7faab55affeba8aa1783f5a7ae1e4130301bc3bfb80899bae3e7715af783dc40",
    )
    .unwrap();
    let resp =
        analyzer_core::hex::decode("64445d1f000039749c8101004725a8991cd700ac01ff2c20888857a8dcacbd").unwrap();
    let mut analyzer = Analyzer::new(AnalyzerConfig::default());
    seen.check("kudos", &mut analyzer, &raw(1, ipv4_udp(40000, 5683, &req)));
    seen.check("kudos", &mut analyzer, &raw(2, ipv4_udp(5683, 40000, &resp)));
    // With the RFC 8613 C.1 context the exchange opens (CTX_TEMP, then CTX_NEW g1) and the
    // KUDOS procedure produces events.
    let c1 = analyzer_core::keys::parse_toml(
        "[[context]]\nname = \"c1\"\nmaster_secret = \"0102030405060708090a0b0c0d0e0f10\"\n\
         master_salt = \"9e7ca92223786340\"\nclient = { sender_id = \"\" }\nserver = { sender_id = \"01\" }\n",
        Path::new("c1.keys.toml"),
    )
    .unwrap();
    let store = ContextStore::load(&c1.contexts).unwrap();
    let mut analyzer = Analyzer::with_contexts(AnalyzerConfig::default(), store);
    seen.check("kudos+keys", &mut analyzer, &raw(1, ipv4_udp(40000, 5683, &req)));
    seen.check("kudos+keys", &mut analyzer, &raw(2, ipv4_udp(5683, 40000, &resp)));

    assert!(seen.problems.is_empty(), "{}", seen.problems.join("\n"));
    // The walk really covered the layers the registry describes (a test that cannot fail is
    // not a test): decrypted inner messages, KUDOS bytes, findings, every link layer.
    for must in [
        "oscore.inner.code",
        "oscore.inner.opt.uri_path",
        "oscore.status",
        "oscore.kid",
        "kudos.nonce",
        "kudos.z",
        "kudos.event",
        "finding.kind",
        "coap.opt.block2",
        "coap.response_to",
        "wpan.src",
        "6lowpan.frag.tag",
        "sll.pkttype",
        "ipv6.fragment.id",
        "vlan.id",
    ] {
        assert!(seen.fields.contains_key(must), "no frame produced {must}");
    }
    assert!(seen.frames > 250, "{} frames", seen.frames);
    assert!(seen.kinds.len() >= 10, "{:?}", seen.kinds);
}
