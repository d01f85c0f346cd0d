//! The keys layer on the real key files of captures d01 (aiocoap) and d02 (libcoap), copied
//! from /work/shared/captures/*/keys into tests/data/keys: every format loads to the same
//! context, detection picks the right reader, and the Wireshark export is byte-identical to
//! the shipped oscore_contexts files.

// Test helpers outside #[test] functions may unwrap and panic (clippy.toml only covers #[test]).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use analyzer_core::hex;
use analyzer_core::keys::*;
use analyzer_core::oscore::{AeadAlg, ContextParams, HkdfAlg};
use std::path::{Path, PathBuf};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/keys").join(rel)
}

struct Expected {
    secret: &'static str,
    salt: &'static str,
    id_context: Option<&'static str>,
    client_id: &'static str,
    server_id: &'static str,
}

// Values from each capture's README ("Security context (input parameters)").
const D01: Expected = Expected {
    secret: "2b9dc18059e139220fb99e7df5abfaf0",
    salt: "9642216a141df02c",
    id_context: None,
    client_id: "6e",
    server_id: "e9",
};
const D02: Expected = Expected {
    secret: "23bdccbf309272385249b1b8ddaf695f",
    salt: "a4a26dcd20c451a9",
    id_context: Some("d93c4302b4ff"),
    client_id: "b74f",
    server_id: "2c",
};

fn load_one(p: &Path) -> KeyContext {
    let k = detect_and_load(p).unwrap_or_else(|e| panic!("{e}"));
    assert!(k.warnings.is_empty(), "{:?}", k.warnings);
    assert_eq!(k.contexts.len(), 1, "{}", p.display());
    k.contexts.into_iter().next().unwrap()
}

fn check(c: &KeyContext, e: &Expected) {
    assert_eq!(hex::encode(c.master_secret.expose()), e.secret);
    assert_eq!(hex::encode(&c.master_salt), e.salt);
    assert_eq!(c.id_context.as_deref().map(hex::encode).as_deref(), e.id_context);
    assert_eq!(c.aead, AeadAlg::AesCcm16_64_128);
    assert_eq!(c.hkdf, HkdfAlg::Sha256);
    // All four files are the client's view (or client/server oriented): peer A = client.
    assert_eq!(hex::encode(&c.peer_a.sender_id), e.client_id);
    assert_eq!(hex::encode(&c.peer_b.sender_id), e.server_id);
    assert_eq!(c.role, ContextRole::Initial);
    assert!(c.limits.is_empty());
}

#[test]
fn all_formats_give_the_same_context() {
    for (dir, e) in [("d01", &D01), ("d02", &D02)] {
        let toml = load_one(&data(&format!("{dir}/{dir}.keys.toml")));
        let uat = load_one(&data(&format!("{dir}/wireshark/oscore_contexts")));
        let aiocoap = load_one(&data(&format!("{dir}/aiocoap-client")));
        let libcoap = load_one(&data(&format!("{dir}/libcoap-client.conf")));

        assert_eq!(toml.source.format, KeysFormat::Toml);
        assert_eq!(uat.source.format, KeysFormat::WiresharkUat);
        assert_eq!(aiocoap.source.format, KeysFormat::Aiocoap);
        assert_eq!(libcoap.source.format, KeysFormat::Libcoap);
        assert_eq!(toml.orientation, Orientation::ClientServer);
        assert_eq!(uat.orientation, Orientation::ClientServer);
        assert_eq!(aiocoap.orientation, Orientation::LocalPeer);
        assert_eq!(libcoap.orientation, Orientation::LocalPeer);

        for c in [&toml, &uat, &aiocoap, &libcoap] {
            check(c, e);
            assert!(c.same_context(&toml));
        }
        // Modulo orientation (and provenance, name, endpoint hints) they are equal.
        let strip = |c: &KeyContext| {
            let mut c = c.clone().orient(EndpointRole::Client);
            c.name = String::new();
            c.name_origin = NameOrigin::Derived;
            c.source = toml.source.clone();
            c.peer_a.endpoints.clear();
            c.peer_b.endpoints.clear();
            c
        };
        assert_eq!(strip(&uat), strip(&toml));
        assert_eq!(strip(&aiocoap), strip(&toml));
        assert_eq!(strip(&libcoap), strip(&toml));

        // The client's params: Sender ID = kid of requests.
        let p: ContextParams = toml.client_params().unwrap();
        assert_eq!(hex::encode(&p.sender_id), e.client_id);
        assert_eq!(p, aiocoap.params(PeerSlot::A));
        assert_eq!(toml.server_params().unwrap(), p.reversed());
    }
}

#[test]
fn names_sources_and_hints() {
    let t = load_one(&data("d01/d01.keys.toml"));
    assert_eq!(t.name, "d01");
    assert_eq!(t.name_origin, NameOrigin::File);
    assert_eq!(t.source.line, Some(2));
    assert_eq!(t.client().unwrap().endpoints, vec!["127.0.0.1:42770".parse().unwrap()]);
    assert!(t.server().unwrap().endpoints[0].matches(&"127.0.0.1:5683".parse().unwrap()));

    let p = data("d02/wireshark/oscore_contexts");
    let u = load_one(&p);
    assert_eq!(u.name, format!("{}#1", p.display()));
    assert_eq!(u.source.line, Some(2));
    // A Wireshark configuration directory is detected through its oscore_contexts file.
    let via_dir = load_one(&data("d02/wireshark"));
    assert_eq!(via_dir.source.path, p);
    assert_eq!(via_dir.source.format, KeysFormat::WiresharkUat);

    let l = load_one(&data("d02/libcoap-client.conf"));
    assert_eq!(l.source.line, Some(6), "the recipient_id line");
    let a = load_one(&data("d02/aiocoap-client/"));
    assert_eq!(a.name, format!("{}#1", data("d02/aiocoap-client").display()));
    assert_eq!(a.source.line, None);
    // Naming one of the JSON files also loads the directory.
    assert_eq!(load_one(&data("d02/aiocoap-client/settings.json")).source.path, data("d02/aiocoap-client"));
}

#[test]
fn detection() {
    for (p, f) in [
        ("d01/d01.keys.toml", KeysFormat::Toml),
        ("d01/wireshark/oscore_contexts", KeysFormat::WiresharkUat),
        ("d01/wireshark", KeysFormat::WiresharkUat),
        ("d01/aiocoap-client", KeysFormat::Aiocoap),
        ("d01/aiocoap-client/secret.json", KeysFormat::Aiocoap),
        ("d01/libcoap-client.conf", KeysFormat::Libcoap),
        ("bad/uat_5_fields", KeysFormat::WiresharkUat),
        ("bad/libcoap_unknown.conf", KeysFormat::Libcoap),
        ("example.keys.toml", KeysFormat::Toml),
    ] {
        assert_eq!(detect_format(&data(p)).unwrap().format, f, "{p}");
    }
    // By content, whatever the name.
    for (p, f) in [
        ("d01/wireshark/oscore_contexts", KeysFormat::WiresharkUat),
        ("d01/libcoap-client.conf", KeysFormat::Libcoap),
        ("d01/d01.keys.toml", KeysFormat::Toml),
    ] {
        assert_eq!(sniff_format(&std::fs::read_to_string(data(p)).unwrap()), f, "{p}");
    }
    let e = detect_format(&data("d01")).unwrap_err();
    assert!(matches!(e.kind, KeysErrorKind::NotKeys(_)), "{e}");
    let e = detect_and_load(&data("nonexistent.toml")).unwrap_err();
    assert!(matches!(e.kind, KeysErrorKind::Io { kind: std::io::ErrorKind::NotFound, .. }), "{e}");
}

#[test]
fn wireshark_export_matches_shipped_files_byte_for_byte() {
    for dir in ["d01", "d02"] {
        let shipped = std::fs::read_to_string(data(&format!("{dir}/wireshark/oscore_contexts"))).unwrap();
        // From the TOML file, from the UAT itself, and from the aiocoap directory once its
        // orientation is given.
        let mut from_toml = KeySet::load(&[data(&format!("{dir}/{dir}.keys.toml"))]).unwrap();
        let from_uat = KeySet::load(&[data(&format!("{dir}/wireshark/oscore_contexts"))]).unwrap();
        let aio = load_one(&data(&format!("{dir}/aiocoap-client"))).orient(EndpointRole::Client);
        let mut from_aiocoap = KeySet::new();
        from_aiocoap.insert(aio).unwrap();
        for set in [&from_toml, &from_uat, &from_aiocoap] {
            let out = export_wireshark_uat(set).unwrap();
            assert_eq!(out.text, shipped, "{dir}");
            assert!(out.skipped.is_empty());
        }
        // A local/peer context is skipped with a reason; with nothing left, it is an error.
        let libcoap = KeySet::load(&[data(&format!("{dir}/libcoap-client.conf"))]).unwrap();
        let ExportError::NothingToExport { skipped } = export_wireshark_uat(&libcoap).unwrap_err();
        assert_eq!(skipped.len(), 1);
        assert!(skipped[0].reason.contains("orientation unknown"), "{}", skipped[0]);
        from_toml.extend(detect_and_load(&data(&format!("{dir}/libcoap-client.conf"))).unwrap()).unwrap();
        let out = export_wireshark_uat(&from_toml).unwrap();
        assert_eq!(out.text, shipped);
        assert_eq!(out.skipped.len(), 1);
    }
}

#[test]
fn export_skips_what_wireshark_cannot_use() {
    let set = KeySet::load(&[data("example.keys.toml")]).unwrap();
    let out = export_wireshark_uat(&set).unwrap();
    assert_eq!(
        out.text,
        "# This file is automatically generated, DO NOT MODIFY.\n\
         \"\",\"01\",\"0102030405060708090a0b0c0d0e0f10\",\"9e7ca92223786340\",\"37cbf3210017a2d3\",\"AES-CCM-16-64-128 (CCM*)\"\n"
    );
    let reasons: Vec<String> = out.skipped.iter().map(ToString::to_string).collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons[0].contains("gateway-bootstrap") && reasons[0].contains("KUDOS bootstrap"));
    assert!(reasons[1].contains("ChaCha20/Poly1305"));
    let empty = KeySet::new();
    assert_eq!(
        export_wireshark_uat(&empty).unwrap_err().to_string(),
        "no context can be exported to Wireshark's oscore_contexts (the key set is empty)"
    );
}

#[test]
fn example_file_loads_with_every_field() {
    let set = KeySet::load(&[data("example.keys.toml")]).unwrap();
    assert_eq!(set.len(), 3);
    let gw = set.get("gateway").unwrap();
    assert_eq!(gw.client().unwrap().sender_id, Vec::<u8>::new());
    assert_eq!(gw.client().unwrap().endpoints.len(), 2);
    assert_eq!(gw.server().unwrap().endpoints[0].to_string(), "[2001:db8::1]:5683");
    assert_eq!(gw.limits, KeyLimits { q: Some(1 << 20), v: Some(1 << 14), l: Some(256) });
    assert_eq!(set.bootstrap_for("gateway").unwrap().name, "gateway-bootstrap");
    let third = &set.contexts()[2];
    assert_eq!(third.name, format!("{}#3", data("example.keys.toml").display()));
    assert_eq!(third.id_context, Some(vec![]));
    assert_eq!(third.aead, AeadAlg::ChaCha20Poly1305);
    assert_eq!(third.hkdf, HkdfAlg::Sha512);
    assert_eq!(third.orientation, Orientation::LocalPeer);
    assert_eq!(set.initial_contexts().count(), 2);
}

#[test]
fn several_sources_and_duplicates() {
    let set = KeySet::load(&[
        data("d01/d01.keys.toml"),
        data("d02/d02.keys.toml"),
        data("d01/wireshark/oscore_contexts"),
        data("d02/aiocoap-client"),
    ])
    .unwrap();
    assert_eq!(set.len(), 4);
    assert!(set.get("d01").unwrap().same_context(&set.contexts()[2]));
    // Loading the same file twice gives a duplicate (derived) name.
    let p = data("d01/wireshark/oscore_contexts");
    let e = KeySet::load(&[p.clone(), p.clone()]).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{0}:2: duplicate context name \"{0}#1\" (first defined at {0}:2)", p.display())
    );
    // Across files, an explicit name clash names both places.
    let other = data("bad/dup_name_other_file.toml");
    let e = KeySet::load(&[data("d01/d01.keys.toml"), other.clone()]).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}:2: field \"name\": duplicate context name \"d01\" (first defined at {}:2)",
            other.display(),
            data("d01/d01.keys.toml").display()
        )
    );
}

#[test]
fn toml_written_from_every_format_loads_back() {
    let set = KeySet::load(&[
        data("d01/d01.keys.toml"),
        data("d02/wireshark/oscore_contexts"),
        data("d01/aiocoap-client"),
        data("d02/libcoap-client.conf"),
        data("example.keys.toml"),
    ])
    .unwrap();
    let text = to_toml(set.contexts());
    let back = parse_toml(&text, Path::new("written.toml")).unwrap();
    assert_eq!(back.contexts.len(), set.len());
    for (a, b) in set.iter().zip(&back.contexts) {
        let mut b = b.clone();
        b.source = a.source.clone();
        b.name_origin = a.name_origin;
        assert_eq!(a, &b);
    }
    let mut reloaded = KeySet::new();
    reloaded.extend(back).unwrap();
    reloaded.check_links().unwrap();
}

#[test]
fn default_keys_next_to_the_capture() {
    let dir = std::env::temp_dir().join(format!("kudoscope-keys-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cap = dir.join("x.pcapng");
    assert_eq!(find_default_keys(&cap), None);
    std::fs::copy(data("d01/d01.keys.toml"), dir.join("x.keys.toml")).unwrap();
    assert_eq!(find_default_keys(&cap), Some(dir.join("x.keys.toml")));
    std::fs::copy(data("d02/d02.keys.toml"), dir.join("x.pcapng.keys.toml")).unwrap();
    // The full name + .keys.toml wins.
    let found = find_default_keys(&cap).unwrap();
    assert_eq!(found, dir.join("x.pcapng.keys.toml"));
    assert_eq!(KeySet::load(&[found]).unwrap().contexts()[0].name, "d02");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn wireshark_escapes_as_tshark_reads_them() {
    // tshark 4.0.17 decrypts all 26 OSCORE frames of d01 with this file (checked by hand with
    // WIRESHARK_CONFIG_DIR pointing at its directory): "\x36\x65" is "6e", "e\071" is "e9".
    let escaped = load_one(&data("d01/wireshark_escaped"));
    let plain = load_one(&data("d01/wireshark/oscore_contexts"));
    assert_eq!(escaped.peer_a, plain.peer_a);
    assert_eq!(escaped.peer_b, plain.peer_b);
    assert!(escaped.same_context(&plain));
    assert_eq!(escaped.source.line, Some(3));
}
