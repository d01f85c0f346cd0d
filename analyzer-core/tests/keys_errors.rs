//! Bad keys files (tests/data/keys/bad/) give an error naming the file, line, column and field,
//! and no error or Debug/Display output ever contains a master secret.

// Test helpers outside #[test] functions may unwrap and panic (clippy.toml only covers #[test]).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use analyzer_core::keys::*;
use std::path::{Path, PathBuf};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/keys").join(rel)
}

/// The d01 master secret (also present in some bad files).
const D01_SECRET: &str = "2b9dc18059e139220fb99e7df5abfaf0";

fn load_err(rel: &str) -> (String, KeysError) {
    let p = data(rel);
    let e = KeySet::load(&[&p]).expect_err(rel);
    let msg = e.to_string();
    assert!(!msg.contains(D01_SECRET), "{msg}");
    assert!(!format!("{e:?}").contains(D01_SECRET), "{e:?}");
    (p.display().to_string(), e)
}

#[test]
fn toml_errors_are_located() {
    let cases: &[(&str, &str)] = &[
        ("bad/bad_hex.toml", "4:17: field \"master_secret\": invalid hex digit 'g' at position 3"),
        ("bad/missing_secret.toml", "7:1: field \"master_secret\": missing"),
        ("bad/unknown_field.toml", "9:1: field \"limits.w\": unknown field (expected one of: q, v, l)"),
        (
            "bad/id_too_long.toml",
            "5:24: field \"server.sender_id\": 2 bytes, but AES-CCM-64-64-128 allows at most 1 bytes for \
             Sender/Recipient IDs (RFC 8613 §3.3)",
        ),
        ("bad/unknown_alg.toml", "3:8: field \"aead\": unknown AEAD algorithm \"AES-CCM-16-64-129\""),
        (
            "bad/bad_endpoint.toml",
            "3:61: field \"client.endpoints\": invalid endpoint \"localhost:5683\" (expected IP, IP:port or [IPv6]:port)",
        ),
        ("bad/zero_limit.toml", "5:16: field \"limits.q\": must be a positive integer"),
        (
            "bad/mixed_orientation.toml",
            "4:8: field \"peer\": a context has either client + server or local + peer, not both",
        ),
        ("bad/syntax.toml", "2:20: syntax error: invalid basic string, expected `\"`"),
        ("bad/bootstrap_dangling.toml", "1: field \"bootstrap_for\": no context named \"nowhere\""),
    ];
    for (rel, want) in cases {
        let (p, e) = load_err(rel);
        assert_eq!(e.to_string(), format!("{p}:{want}"), "{rel}");
    }
}

#[test]
fn duplicate_names_in_one_file_point_at_the_second_name() {
    let (p, e) = load_err("bad/dup_names.toml");
    assert_eq!(
        e.to_string(),
        format!("{p}:8:8: field \"name\": duplicate context name \"gw\" (first defined at {p}:1)")
    );
    assert_eq!(e.location, Some(Location::at(8, 8)));
    assert_eq!(e.field.as_deref(), Some("name"));
}

#[test]
fn unknown_field_names_the_field() {
    let (_, e) = load_err("bad/unknown_field.toml");
    assert!(matches!(e.kind, KeysErrorKind::UnknownField { .. }));
    assert_eq!(e.line(), Some(9));
    assert_eq!(e.field.as_deref(), Some("limits.w"));
}

#[test]
fn uat_errors() {
    let (p, e) = load_err("bad/uat_5_fields");
    assert_eq!(e.to_string(), format!("{p}:2:1: expected 6 fields, found 5"));
    let (p, e) = load_err("bad/uat_bad_alg");
    let line = std::fs::read_to_string(data("bad/uat_bad_alg")).unwrap().lines().nth(2).unwrap().to_string();
    let col = line.find("\"AES-GCM\"").unwrap() + 1;
    assert_eq!(
        e.to_string(),
        format!("{p}:3:{col}: field \"Algorithm\": unknown AEAD algorithm \"AES-GCM\"")
    );
}

#[test]
fn libcoap_errors() {
    let (p, e) = load_err("bad/libcoap_unknown.conf");
    assert_eq!(
        e.to_string(),
        format!(
            "{p}:6:1: field \"aead_algorithm\": unknown field (expected one of: master_secret, master_salt, \
             id_context, sender_id, recipient_id, replay_window, ssn_freq, aead_alg, hkdf_alg, rfc8613_b_1_2, \
             rfc8613_b_2, break_sender_key, break_recipient_key, complex_sender, complex_recipient)"
        )
    );
    let (p, e) = load_err("bad/libcoap_encoding.conf");
    assert_eq!(
        e.to_string(),
        format!(
            "{p}:2:13: field \"master_salt\": unknown encoding \"base64\"; expected ascii, hex, integer, \
             unsigned64, text, bool or config"
        )
    );
}

#[test]
fn aiocoap_errors() {
    let (p, e) = load_err("bad/aiocoap_badhex");
    assert_eq!(
        e.to_string(),
        format!("{p}/settings.json:4:23: field \"recipient-id_hex\": invalid hex digit 'x' at position 2")
    );
}

#[test]
fn secrets_never_in_debug_or_display() {
    for rel in [
        "d01/d01.keys.toml",
        "d01/wireshark/oscore_contexts",
        "d01/aiocoap-client",
        "d01/libcoap-client.conf",
    ] {
        let set = KeySet::load(&[data(rel)]).unwrap();
        let c = &set.contexts()[0];
        // The secret as hex (either case) or as a Debug byte list never appears.
        let bytes = analyzer_core::hex::decode(D01_SECRET).unwrap();
        let as_list = format!("{bytes:?}");
        let as_list = as_list.trim_start_matches('[').trim_end_matches(']');
        for shown in [
            format!("{c}"),
            format!("{c:?}"),
            format!("{c:#?}"),
            format!("{set:?}"),
            format!("{:?}", c.params(PeerSlot::A)),
            c.summary(false).to_string(),
            format!("{:?}", c.summary(false)),
            serde_json::to_string(&c.summary(false)).unwrap(),
        ] {
            assert!(!shown.to_lowercase().contains(D01_SECRET), "{rel}: {shown}");
            assert!(!shown.contains(as_list), "{rel}: {shown}");
        }
        // ... except when asked for.
        assert!(c.summary(true).to_string().contains(D01_SECRET));
    }
}

#[test]
fn malformed_secret_lines_are_not_echoed() {
    let base = std::fs::read_to_string(data("d01/d01.keys.toml")).unwrap();
    let quoted = format!("\"{D01_SECRET}\"");
    for replacement in [
        D01_SECRET.to_string(),                       // unquoted: TOML syntax error
        format!("'{D01_SECRET}"),                     // unterminated literal string
        format!("\"{D01_SECRET}"),                    // unterminated basic string
        format!("[\"{D01_SECRET}\"]"),                // an array
        format!("{{ v = \"{D01_SECRET}\" }}"),        // a table
        "1234567890123456789012345678".into(),        // an integer out of range
        format!("\"{D01_SECRET}\" \"{D01_SECRET}\""), // trailing garbage
        format!("\"{D01_SECRET}zz\""),                // bad hex at the end
        format!("\"\\q{D01_SECRET}\""),               // bad escape
    ] {
        let text = base.replacen(&quoted, &replacement, 1);
        assert_ne!(text, base);
        let e = parse_toml(&text, Path::new("k.toml")).unwrap_err();
        let msg = format!("{e} {e:?}");
        assert!(!msg.contains(D01_SECRET) && !msg.contains("1234567890123"), "{msg}");
        assert_eq!(e.line(), Some(4), "{msg}");
    }
}
