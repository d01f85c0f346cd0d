//! Property tests of the CoAP message layer: emit/parse round trips, hostile input, truncation
//! at every length, and a differential check against coap-lite.

// Test code (helpers outside #[test] fns included): panics are the failure mode.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use analyzer_core::FindingKind;
use analyzer_core::Severity;
use analyzer_core::coap::exchange::ExchangeConfig;
use analyzer_core::coap::{
    ExchangeTracker, Message, MessageRepr, MsgMeta, MsgType, ParseOptions, looks_like_coap,
};
use analyzer_core::net::Endpoint;
use analyzer_core::time::Timestamp;
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr};

fn mtype() -> impl Strategy<Value = MsgType> {
    prop_oneof![Just(MsgType::Con), Just(MsgType::Non), Just(MsgType::Ack), Just(MsgType::Rst)]
}

/// Option values: mostly short, sometimes around the 13/14 extension boundaries.
fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => proptest::collection::vec(any::<u8>(), 0..=14),
        2 => proptest::collection::vec(any::<u8>(), 260..=280),
        1 => proptest::collection::vec(any::<u8>(), 0..=600),
    ]
}

/// Option numbers: small (1-byte deltas), mid (13-ext) and large (14-ext).
fn number() -> impl Strategy<Value = u16> {
    prop_oneof![3 => 0u16..=40, 1 => 0u16..=600, 1 => any::<u16>()]
}

/// Options sorted by number (stable), as parse returns them.
fn options() -> impl Strategy<Value = Vec<(u16, Vec<u8>)>> {
    proptest::collection::vec((number(), value()), 0..8).prop_map(|mut v| {
        v.sort_by_key(|(n, _)| *n);
        v
    })
}

prop_compose! {
    fn repr(max_token: usize)(
        t in mtype(),
        code in any::<u8>(),
        mid in any::<u16>(),
        token in proptest::collection::vec(any::<u8>(), 0..=max_token),
        options in options(),
        payload in prop_oneof![3 => Just(Vec::new()), 2 => proptest::collection::vec(any::<u8>(), 1..100)],
    ) -> MessageRepr {
        MessageRepr { mtype: Some(t), code, mid, token, options, payload }
    }
}

/// Checks that every range of a parsed message lies within its bytes.
fn ranges_in_bounds(m: &Message) {
    let len = m.bytes.len();
    let ok = |r: &std::ops::Range<usize>| r.start <= r.end && r.end <= len;
    assert!(ok(&m.token), "token {:?}", m.token);
    if let Some(e) = &m.token_ext {
        assert!(ok(e));
    }
    assert!(ok(&m.payload));
    if let Some(p) = m.payload_marker {
        assert!(p < len);
    }
    let mut prev_end = 0;
    for o in &m.options {
        assert!(ok(&o.range) && ok(&o.value));
        assert!(o.range.start <= o.value.start && o.value.end == o.range.end);
        assert!(o.range.start >= prev_end);
        prev_end = o.range.end;
    }
    for f in &m.findings {
        let r = f.span.as_ref().expect("parser findings are located").range();
        assert!(ok(&r), "{f}");
    }
}

fn has(m: &Message, kind: FindingKind) -> bool {
    m.findings.iter().any(|f| f.kind == kind)
}

fn clean(m: &Message) -> bool {
    m.complete && m.findings.iter().all(|f| f.severity <= Severity::Info)
}

fn lite_options(p: &coap_lite::Packet) -> Vec<(u16, Vec<u8>)> {
    p.options().flat_map(|(n, vals)| vals.iter().map(move |v| (*n, v.clone()))).collect()
}

fn lite_type(t: coap_lite::MessageType) -> MsgType {
    match t {
        coap_lite::MessageType::Confirmable => MsgType::Con,
        coap_lite::MessageType::NonConfirmable => MsgType::Non,
        coap_lite::MessageType::Acknowledgement => MsgType::Ack,
        coap_lite::MessageType::Reset => MsgType::Rst,
    }
}

/// coap-lite's view of a message must equal ours.
fn same_as_lite(b: &[u8], m: &Message) {
    let p = coap_lite::Packet::from_bytes(b).expect("coap-lite accepts what we parse cleanly");
    assert_eq!(p.header.get_version(), m.version);
    assert_eq!(lite_type(p.header.get_type()), m.mtype);
    assert_eq!(u8::from(p.header.code), m.code.0);
    assert_eq!(p.header.message_id, m.mid);
    assert_eq!(p.get_token(), m.token());
    assert_eq!(p.payload, m.payload());
    let ours: Vec<(u16, Vec<u8>)> =
        m.options.iter().map(|o| (o.number, m.option_value(o).to_vec())).collect();
    assert_eq!(lite_options(&p), ours);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn emit_parse_round_trip(r in repr(8)) {
        let b = r.emit();
        let m = Message::parse(&b);
        prop_assert!(m.complete, "{:?}", m.findings);
        ranges_in_bounds(&m);
        prop_assert_eq!(MessageRepr::from_message(&m), r.clone());
        prop_assert_eq!(MessageRepr::from_message(&m).emit(), b);
        // The same options and payload as an OSCORE plaintext.
        let p = r.emit_plaintext();
        let m = Message::parse_plaintext(&p);
        prop_assert!(m.complete);
        let back = MessageRepr::from_message(&m);
        prop_assert_eq!((back.code, &back.options, &back.payload), (r.code, &r.options, &r.payload));
    }

    #[test]
    fn round_trip_with_extended_tokens(r in repr(300)) {
        let b = r.emit();
        let etl = ParseOptions { extended_token_length: true, ..ParseOptions::default() };
        let m = Message::parse_with(&b, etl);
        prop_assert!(m.complete, "{:?}", m.findings);
        prop_assert_eq!(MessageRepr::from_message(&m), r.clone());
        // Without RFC 8974 support, long tokens are a format error and nothing else is read.
        let m = Message::parse(&b);
        prop_assert_eq!(r.token.len() > 8, has(&m, FindingKind::CoapBadTokenLength));
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..120), etl in any::<bool>()) {
        let opts = ParseOptions { extended_token_length: etl, known_complete: !etl };
        let m = Message::parse_with(&b, opts);
        ranges_in_bounds(&m);
        prop_assert!(m.complete || !m.findings.is_empty());
        let m = Message::parse_plaintext(&b);
        ranges_in_bounds(&m);
        let _ = looks_like_coap(&b);
    }

    #[test]
    fn coap_shaped_bytes_never_panic(
        head in 0x40u8..0x50,
        rest in proptest::collection::vec(any::<u8>(), 0..80),
    ) {
        let mut b = vec![head];
        b.extend(rest);
        let m = Message::parse(&b);
        ranges_in_bounds(&m);
        // Differential: whatever we parse cleanly, coap-lite parses identically; whatever
        // coap-lite rejects, we flag.
        match coap_lite::Packet::from_bytes(&b) {
            Ok(_) if clean(&m) => same_as_lite(&b, &m),
            Ok(_) => {}
            Err(_) => prop_assert!(!m.complete && !m.findings.is_empty(), "{:?}", m),
        }
    }

    #[test]
    fn tracker_never_panics(
        msgs in proptest::collection::vec((proptest::collection::vec(any::<u8>(), 0..40), any::<bool>(), 0u32..400), 0..60)
    ) {
        let a = Endpoint { addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), port: 5683 };
        let c = Endpoint { addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), port: 40000 };
        let mut t = ExchangeTracker::new(ExchangeConfig { max_live: 4, max_body_len: 64, ..ExchangeConfig::default() });
        let mut secs = 0i64;
        for (i, (mut b, dir, dt)) in msgs.into_iter().enumerate() {
            if b.len() >= 2 {
                b[0] = 0x40 | (b[0] & 0x3f); // mostly version 1
            }
            secs += i64::from(dt);
            let (src, dst) = if dir { (a, c) } else { (c, a) };
            let meta = MsgMeta { frame: i as u64 + 1, ts: Timestamp::new(secs, 0), src, dst };
            let info = t.observe(&meta, &Message::parse(&b));
            for f in &info.findings {
                let r = f.span.as_ref().unwrap().range();
                prop_assert!(r.end <= b.len());
            }
            let (m, r, x) = t.live();
            prop_assert!(m <= 4 && r <= 4 && x <= 4);
        }
        let _ = t.finish();
    }

    #[test]
    fn valid_messages_agree_with_coap_lite(r in repr(8)) {
        let b = r.emit();
        let m = Message::parse(&b);
        same_as_lite(&b, &m);
    }

    #[test]
    fn truncation_at_every_length(r in repr(8)) {
        let b = r.emit();
        let full = Message::parse(&b);
        let token_end = full.token.end;
        let marker = full.payload_marker;
        let option_ends: Vec<usize> = full.options.iter().map(|o| o.range.end).collect();
        for cut in 0..b.len() {
            let m = Message::parse(&b[..cut]);
            ranges_in_bounds(&m);
            // Never a wrong value: whatever was read is what the full message holds.
            let ours: Vec<(u16, Vec<u8>)> = m.options.iter().map(|o| (o.number, m.option_value(o).to_vec())).collect();
            prop_assert_eq!(&ours[..], &r.options[..ours.len()]);
            if cut >= 4 {
                prop_assert_eq!((m.mtype, m.code.0, m.mid), (r.mtype.unwrap(), r.code, r.mid));
            }
            if !m.token.is_empty() {
                prop_assert_eq!(m.token(), &r.token[..]);
            }
            let at_boundary = cut == token_end || option_ends.contains(&cut);
            if cut < token_end {
                prop_assert!(!m.complete && has(&m, FindingKind::CoapTruncated), "cut {}: {:?}", cut, m.findings);
            } else if marker == Some(cut - 1) {
                // Cut right after the payload marker: an empty payload behind a marker.
                prop_assert!(!m.complete && has(&m, FindingKind::CoapEmptyPayloadMarker));
            } else if marker.is_some_and(|p| cut > p + 1) {
                // Inside the payload: UDP carries no length, so a shorter payload is all a
                // CoAP parser can see (the capture/UDP layers report the cut).
                prop_assert!(m.complete);
                prop_assert_eq!(m.payload(), &r.payload[..cut - marker.unwrap() - 1]);
                prop_assert_eq!(ours.len(), r.options.len());
            } else if at_boundary {
                // Between options: a shorter but well-formed message, options a prefix.
                prop_assert!(m.complete && !has(&m, FindingKind::CoapTruncated));
                prop_assert_eq!(ours.len(), option_ends.iter().filter(|&&e| e <= cut).count());
            } else {
                prop_assert!(!m.complete && has(&m, FindingKind::CoapTruncated), "cut {}: {:?}", cut, m.findings);
                prop_assert_eq!(ours.len(), option_ends.iter().filter(|&&e| e <= cut).count());
            }
        }
    }
}
