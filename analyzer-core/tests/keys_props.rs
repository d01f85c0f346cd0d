//! Property tests of the keys layer: no parser panics on any text (arbitrary, format-shaped,
//! mutated or truncated real files), and TOML / Wireshark UAT write->read round trips.

// Test helpers outside #[test] functions may unwrap and panic (clippy.toml only covers #[test]).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use analyzer_core::keys::*;
use analyzer_core::oscore::{AeadAlg, HkdfAlg, Secret};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/keys").join(rel)
}

const REAL_FILES: [&str; 9] = [
    "d01/d01.keys.toml",
    "d02/d02.keys.toml",
    "example.keys.toml",
    "d01/wireshark/oscore_contexts",
    "d02/wireshark/oscore_contexts",
    "d01/libcoap-client.conf",
    "d02/libcoap-client.conf",
    "d02/aiocoap-client/settings.json",
    "d02/aiocoap-client/secret.json",
];

/// Every reader over one text; none may panic (errors are fine).
fn all_parsers(text: &str) {
    let p = Path::new("fuzz");
    let _ = parse_toml(text, p);
    let _ = parse_wireshark_uat(text, p);
    let _ = parse_libcoap(text, p);
    let _ = parse_aiocoap(p, Some(text), None);
    let _ = parse_aiocoap(p, None, Some(text));
    let _ = parse_aiocoap(p, Some(text), Some(text));
    let f = sniff_format(text);
    let _ = parse_text(f, text, p);
    let _ = text.parse::<EndpointHint>();
    for line in text.lines().take(4) {
        let _ = line.parse::<EndpointHint>();
    }
}

#[test]
fn truncated_real_files_never_panic() {
    for rel in REAL_FILES {
        let text = std::fs::read_to_string(data(rel)).unwrap();
        for (i, _) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
            all_parsers(&text[..i]);
        }
    }
}

/// Characters that matter to the four syntaxes.
const SHAPED: &str = "[\"',:#=\\[\\]{}\\\\ \t\r\nxa-f0-9_A-Z.\\-]{0,160}";

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(s in any::<String>()) {
        all_parsers(&s);
    }

    #[test]
    fn format_shaped_text_never_panics(s in SHAPED) {
        all_parsers(&s);
    }

    #[test]
    fn errors_never_quote_the_secret(
        which in 0..4usize,
        edits in vec((any::<prop::sample::Index>(), prop::sample::select(vec!['"', '\'', '=', ',', '\n', ' ', '[', '{', 'g', '#', '\\'])), 1..4),
    ) {
        // d01's secret is in every one of these files; a chunk from its middle must never show
        // up in an error (mutations inside the chunk remove it from the text anyway).
        let files = ["d01/d01.keys.toml", "d01/wireshark/oscore_contexts", "d01/libcoap-client.conf", "d01/aiocoap-client/secret.json"];
        let text = std::fs::read_to_string(data(files[which])).unwrap();
        let mut chars: Vec<char> = text.chars().collect();
        for (at, c) in edits {
            let i = at.index(chars.len() + 1);
            chars.insert(i, c);
        }
        let s: String = chars.into_iter().collect();
        let p = Path::new("m");
        let results = [
            parse_toml(&s, p).err(),
            parse_wireshark_uat(&s, p).err(),
            parse_libcoap(&s, p).err(),
            parse_aiocoap(p, Some(&s), None).err(),
        ];
        for e in results.into_iter().flatten() {
            let msg = format!("{e} {e:?}");
            prop_assert!(!msg.contains("9e139220fb99"), "{}", msg);
        }
    }

    #[test]
    fn mutated_real_files_never_panic(
        which in 0..REAL_FILES.len(),
        edits in vec((any::<prop::sample::Index>(), any::<char>()), 1..6),
    ) {
        let text = std::fs::read_to_string(data(REAL_FILES[which])).unwrap();
        let mut chars: Vec<char> = text.chars().collect();
        for (at, c) in edits {
            let i = at.index(chars.len() + 1);
            if i < chars.len() && c.is_ascii_digit() {
                chars.remove(i);
            } else {
                chars.insert(i, c);
            }
        }
        let s: String = chars.into_iter().collect();
        all_parsers(&s);
    }
}

fn arb_endpoint() -> impl Strategy<Value = EndpointHint> {
    let ip = prop_oneof![
        any::<u32>().prop_map(|v| IpAddr::V4(Ipv4Addr::from(v))),
        any::<u128>().prop_map(|v| IpAddr::V6(Ipv6Addr::from(v))),
    ];
    (ip, option::of(any::<u16>())).prop_map(|(ip, port)| EndpointHint { ip, port })
}

fn arb_peer(max_id: usize) -> impl Strategy<Value = Peer> {
    (vec(any::<u8>(), 0..=max_id), vec(arb_endpoint(), 0..3))
        .prop_map(|(sender_id, endpoints)| Peer { sender_id, endpoints })
}

fn arb_limits() -> impl Strategy<Value = KeyLimits> {
    let lim = || option::of(prop_oneof![1u64..=1 << 20, 1u64..=u64::MAX]);
    (lim(), lim(), lim()).prop_map(|(q, v, l)| KeyLimits { q, v, l })
}

/// Names: printable, possibly with quotes, backslashes, '#', non-ASCII.
fn arb_name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 _.#\"\\\\é/ü-]{1,24}".prop_filter_map("valid name", |n| {
        let t = n.trim().to_string();
        check_name(&t).is_ok().then_some(t)
    })
}

fn arb_context() -> impl Strategy<Value = KeyContext> {
    (prop::sample::select(AeadAlg::ALL.to_vec()), prop::sample::select(HkdfAlg::ALL.to_vec())).prop_flat_map(
        |(aead, hkdf)| {
            let max = aead.max_id_len();
            (
                arb_name(),
                vec(any::<u8>(), 1..48),
                vec(any::<u8>(), 0..24),
                option::of(vec(any::<u8>(), 0..12)),
                any::<bool>(),
                arb_peer(max),
                arb_peer(max),
                arb_limits(),
                option::of(arb_name()),
            )
                .prop_map(move |(name, secret, salt, idc, cs, a, b, limits, boot)| {
                    let source = ContextSource {
                        path: PathBuf::from("gen.toml"),
                        line: Some(1),
                        format: KeysFormat::Toml,
                        index: 1,
                    };
                    let mut c = KeyContext::new_client_server(source, Secret::new(secret), vec![], vec![]);
                    c.name = name.clone();
                    c.name_origin = NameOrigin::File;
                    c.master_salt = salt;
                    c.id_context = idc;
                    c.aead = aead;
                    c.hkdf = hkdf;
                    c.orientation = if cs { Orientation::ClientServer } else { Orientation::LocalPeer };
                    c.peer_a = a;
                    c.peer_b = b;
                    c.limits = limits;
                    c.role = match boot {
                        Some(i) if i != name => ContextRole::KudosBootstrap { initial: i },
                        _ => ContextRole::Initial,
                    };
                    c
                })
        },
    )
}

fn normalized(c: &KeyContext, like: &KeyContext) -> KeyContext {
    let mut c = c.clone();
    c.source = like.source.clone();
    c.name_origin = like.name_origin;
    c
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn toml_round_trip(ctxs in vec(arb_context(), 1..5)) {
        let mut ctxs = ctxs;
        // Names must be unique within a file.
        let mut seen = std::collections::BTreeSet::new();
        ctxs.retain(|c| seen.insert(c.name.clone()));
        let text = to_toml(&ctxs);
        let back = parse_toml(&text, Path::new("rt.toml")).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(back.contexts.len(), ctxs.len());
        for (a, b) in ctxs.iter().zip(&back.contexts) {
            prop_assert_eq!(a, &normalized(b, a));
        }
        // Writing again gives the same text apart from the "# from" comments.
        let strip = |t: &str| t.lines().filter(|l| !l.starts_with("# from")).collect::<Vec<_>>().join("\n");
        prop_assert_eq!(strip(&to_toml(&back.contexts)), strip(&text));
    }

    #[test]
    fn uat_round_trip_exportable(c in arb_context()) {
        // Turned into something Wireshark can use.
        let mut c = c;
        c.aead = AeadAlg::AesCcm16_64_128;
        c.hkdf = HkdfAlg::Sha256;
        c.orientation = Orientation::ClientServer;
        c.role = ContextRole::Initial;
        c.id_context = c.id_context.filter(|v| !v.is_empty());
        c.peer_a.sender_id.truncate(7);
        c.peer_b.sender_id.truncate(7);
        let mut set = KeySet::new();
        set.insert(c.clone()).unwrap();
        let out = export_wireshark_uat(&set).unwrap();
        prop_assert!(out.skipped.is_empty());
        let back = parse_wireshark_uat(&out.text, Path::new("oscore_contexts")).unwrap();
        let b = &back.contexts[0];
        prop_assert_eq!(&b.peer_a.sender_id, &c.peer_a.sender_id);
        prop_assert_eq!(&b.peer_b.sender_id, &c.peer_b.sender_id);
        prop_assert_eq!(&b.master_secret, &c.master_secret);
        prop_assert_eq!(&b.master_salt, &c.master_salt);
        prop_assert_eq!(&b.id_context, &c.id_context);
        prop_assert!(b.same_context(&c));
    }

    #[test]
    fn uat_round_trip(c in arb_context()) {
        let mut set = KeySet::new();
        set.insert(c.clone()).unwrap();
        match export_wireshark_uat(&set) {
            Err(ExportError::NothingToExport { skipped }) => {
                prop_assert_eq!(skipped.len(), 1);
                prop_assert!(uat_unsupported_reason(&c).is_some());
            }
            Ok(out) => {
                prop_assert!(uat_unsupported_reason(&c).is_none());
                let back = parse_wireshark_uat(&out.text, Path::new("oscore_contexts")).unwrap();
                let b = &back.contexts[0];
                prop_assert!(b.same_context(&c));
                prop_assert_eq!(&b.peer_a.sender_id, &c.peer_a.sender_id);
                prop_assert_eq!(b.orientation, Orientation::ClientServer);
            }
        }
    }
}
