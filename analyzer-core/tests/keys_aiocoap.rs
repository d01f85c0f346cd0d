//! Cross-check of the aiocoap importer against aiocoap itself: the directories under
//! tests/data/keys/aiocoap_cases/ were loaded by aiocoap 0.4.17's FilesystemSecurityContext
//! (script aio_dump.py in that directory, output expected.json). For each case we must accept
//! exactly what aiocoap accepts, read the same IDs, ID Context (absent vs empty), AEAD and
//! hash, and, deriving the Sender Key as RFC 8613 §3.2.1 says from what we loaded, get the same
//! key as aiocoap (compared by the first 4 bytes of its SHA-256).

// Test helpers outside #[test] functions may unwrap and panic (clippy.toml only covers #[test]).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use analyzer_core::hex;
use analyzer_core::keys::*;
use analyzer_core::oscore::{ContextParams, HkdfAlg};
use serde_json::Value;
use sha2::Digest;
use std::path::{Path, PathBuf};

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/keys/aiocoap_cases")
}

/// CBOR head for major type `major` and a small length/value (< 65536).
fn cbor_head(major: u8, n: usize) -> Vec<u8> {
    let m = major << 5;
    match n {
        0..=23 => vec![m | n as u8],
        24..=255 => vec![m | 24, n as u8],
        _ => vec![m | 25, (n >> 8) as u8, n as u8],
    }
}

fn cbor_int(v: i64) -> Vec<u8> {
    if v >= 0 { cbor_head(0, v as usize) } else { cbor_head(1, (-1 - v) as usize) }
}

fn cbor_bstr(b: &[u8]) -> Vec<u8> {
    let mut o = cbor_head(2, b.len());
    o.extend_from_slice(b);
    o
}

/// RFC 8613 §3.2.1: Sender Key = HKDF(salt = Master Salt, IKM = Master Secret,
/// info = [id, id_context, alg_aead, "Key", L], L).
fn sender_key(p: &ContextParams) -> Vec<u8> {
    let mut info = cbor_head(4, 5);
    info.extend(cbor_bstr(&p.sender_id));
    match &p.id_context {
        None => info.push(0xf6),
        Some(c) => info.extend(cbor_bstr(c)),
    }
    info.extend(cbor_int(p.aead.cose_id()));
    info.extend(cbor_head(3, 3));
    info.extend_from_slice(b"Key");
    info.extend(cbor_int(p.aead.key_len() as i64));
    let mut okm = vec![0u8; p.aead.key_len()];
    let salt = Some(p.master_salt.as_slice());
    let ikm = p.master_secret.expose();
    match p.hkdf {
        HkdfAlg::Sha256 => hkdf::Hkdf::<sha2::Sha256>::new(salt, ikm).expand(&info, &mut okm).unwrap(),
        HkdfAlg::Sha384 => hkdf::Hkdf::<sha2::Sha384>::new(salt, ikm).expand(&info, &mut okm).unwrap(),
        HkdfAlg::Sha512 => hkdf::Hkdf::<sha2::Sha512>::new(salt, ikm).expand(&info, &mut okm).unwrap(),
    }
    okm
}

#[test]
fn rfc8613_c1_1_sender_key() {
    // The derivation above reproduces RFC 8613 Appendix C.1.1 (client): Sender Key
    // f0910ed7295e6ad4b54fc793154302ff.
    let p = ContextParams {
        master_secret: analyzer_core::oscore::Secret::new(
            hex::decode("0102030405060708090a0b0c0d0e0f10").unwrap(),
        ),
        master_salt: hex::decode("9e7ca92223786340").unwrap(),
        id_context: None,
        sender_id: vec![],
        recipient_id: vec![1],
        aead: analyzer_core::oscore::AeadAlg::AesCcm16_64_128,
        hkdf: HkdfAlg::Sha256,
    };
    assert_eq!(hex::encode(&sender_key(&p)), "f0910ed7295e6ad4b54fc793154302ff");
}

#[test]
fn same_as_aiocoap() {
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(cases_dir().join("expected.json")).unwrap()).unwrap();
    let cases = expected["cases"].as_object().unwrap();
    assert_eq!(cases.len(), 8);
    for (name, want) in cases {
        let got = detect_and_load(&cases_dir().join(name));
        if !want["ok"].as_bool().unwrap() {
            let e = got.expect_err(name);
            eprintln!("{name}: aiocoap: {}; kudoscope: {e}", want["error"]);
            continue;
        }
        let got = got.unwrap_or_else(|e| panic!("{name}: {e}"));
        let c = &got.contexts[0];
        assert_eq!(c.orientation, Orientation::LocalPeer, "{name}");
        let p = c.params(PeerSlot::A);
        assert_eq!(hex::encode(&p.sender_id), want["sender_id"].as_str().unwrap(), "{name}");
        assert_eq!(hex::encode(&p.recipient_id), want["recipient_id"].as_str().unwrap(), "{name}");
        assert_eq!(
            p.id_context.as_deref().map(hex::encode).as_deref(),
            want["id_context"].as_str(),
            "{name}"
        );
        assert_eq!(p.aead.cose_id(), want["aead_cose_id"].as_i64().unwrap(), "{name}");
        assert_eq!(Some(p.hkdf), HkdfAlg::parse(want["hkdf"].as_str().unwrap()), "{name}");
        let fp = hex::encode(&sha2::Sha256::digest(sender_key(&p))[..4]);
        assert_eq!(fp, want["sender_key_sha256_4"].as_str().unwrap(), "{name}: derived Sender Key differs");
    }
}

#[test]
fn specific_errors() {
    let e = detect_and_load(&cases_dir().join("duplicate_key")).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("salt_hex"));
    assert!(e.path.ends_with("settings.json"));
    let e = detect_and_load(&cases_dir().join("missing_recipient")).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{}: field \"recipient-id_hex\": missing", cases_dir().join("missing_recipient").display())
    );
    let e = detect_and_load(&cases_dir().join("ccm64_long_id")).unwrap_err();
    assert!(matches!(e.kind, KeysErrorKind::IdTooLong { len: 2, max: 1, .. }), "{e}");
}
