//! The CoAP layer over the two real reference captures (d01 aiocoap, d02 libcoap): every
//! datagram parses cleanly, re-encodes byte-exactly, agrees with coap-lite, is recognised by
//! the heuristic, and the exchange tracker reproduces the README listings (which request each
//! response answers, which CON each ACK acknowledges, the Observe relationship).

// Test code (helpers outside #[test] fns included): panics are the failure mode.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod coap_common;

use analyzer_core::coap::exchange::{ExchangeConfig, ObserveInfo, Role};
use analyzer_core::coap::options::num;
use analyzer_core::coap::{
    ExchangeInfo, ExchangeTracker, Message, MessageRepr, MsgMeta, MsgType, looks_like_coap,
};
use coap_common::{Datagram, read_capture};
use std::collections::BTreeMap;

fn track(dgrams: &[Datagram]) -> (Vec<ExchangeInfo>, analyzer_core::coap::exchange::ExchangeSummary) {
    let mut t = ExchangeTracker::new(ExchangeConfig::default());
    let infos = dgrams
        .iter()
        .map(|d| {
            let m = Message::parse(&d.payload);
            t.observe(&MsgMeta { frame: d.frame, ts: d.ts, src: d.src, dst: d.dst }, &m)
        })
        .collect();
    (infos, t.finish())
}

fn lite_options(p: &coap_lite::Packet) -> Vec<(u16, Vec<u8>)> {
    p.options().flat_map(|(n, vals)| vals.iter().map(move |v| (*n, v.clone()))).collect()
}

#[test]
fn every_datagram_parses_cleanly_and_round_trips() {
    for name in ["d01_aiocoap_aiocoap", "d02_libcoap_libcoap"] {
        let dgrams = read_capture(name);
        assert_eq!(dgrams.len(), if name.starts_with("d01") { 26 } else { 66 });
        for d in &dgrams {
            let m = Message::parse(&d.payload);
            assert!(m.complete && m.findings.is_empty(), "{name} frame {}: {:?}", d.frame, m.findings);
            assert!(looks_like_coap(&d.payload), "{name} frame {}", d.frame);
            let r = MessageRepr::from_message(&m);
            assert_eq!(r.emit(), d.payload, "{name} frame {} re-encodes byte-exactly", d.frame);
            // Independent second opinion.
            let p = coap_lite::Packet::from_bytes(&d.payload).expect("coap-lite parses it");
            assert_eq!(u8::from(p.header.code), m.code.0);
            assert_eq!(p.header.message_id, m.mid);
            assert_eq!(p.get_token(), m.token());
            assert_eq!(p.payload, m.payload());
            assert_eq!(lite_options(&p), r.options);
            // Every OSCORE message carries option 9 (empty ACKs carry nothing).
            assert_eq!(m.first_option(num::OSCORE).is_some(), !m.code.is_empty(), "{name} frame {}", d.frame);
        }
    }
}

#[test]
fn d02_exchanges_match_the_readme_listing() {
    let dgrams = read_capture("d02_libcoap_libcoap");
    let (infos, sum) = track(&dgrams);
    let info = |f: u64| &infos[(f - 1) as usize];

    // README "answers" column: response frame -> request frame.
    let answers: BTreeMap<u64, u64> = [
        (2, 1),
        (5, 3),
        (9, 7),
        (13, 10),
        (17, 14),
        (21, 18),
        (25, 22),
        (29, 27),
        (33, 30),
        (37, 34),
        (41, 39),
        (45, 43),
        (49, 47),
        (50, 43),
        (54, 52),
        (55, 43),
        (59, 57),
        (61, 43),
        (63, 43),
        (65, 62),
    ]
    .into();
    // Every ACK and the CON it acknowledges (same MID, opposite direction).
    let acks: BTreeMap<u64, u64> = [
        (2, 1),
        (4, 3),
        (6, 5),
        (8, 7),
        (11, 9),
        (12, 10),
        (15, 13),
        (16, 14),
        (19, 17),
        (20, 18),
        (23, 21),
        (24, 22),
        (26, 25),
        (28, 27),
        (31, 29),
        (32, 30),
        (35, 33),
        (36, 34),
        (38, 37),
        (40, 39),
        (42, 41),
        (44, 43),
        (46, 45),
        (48, 47),
        (51, 49),
        (53, 52),
        (56, 54),
        (58, 57),
        (60, 59),
        (64, 62),
        (66, 65),
    ]
    .into();
    let requests = [1, 3, 7, 10, 14, 18, 22, 27, 30, 34, 39, 43, 47, 52, 57, 62];
    for d in &dgrams {
        let i = info(d.frame);
        assert!(i.findings.is_empty(), "frame {}: {:?}", d.frame, i.findings);
        assert_eq!(i.retransmission_of, None);
        assert_eq!(i.request_frame, answers.get(&d.frame).copied(), "frame {} request_frame", d.frame);
        assert_eq!(i.acknowledges, acks.get(&d.frame).copied(), "frame {} acknowledges", d.frame);
        let expected_role = if requests.contains(&d.frame) {
            Role::Request
        } else if answers.contains_key(&d.frame) {
            Role::Response
        } else {
            Role::EmptyAck
        };
        assert_eq!(i.role, expected_role, "frame {}", d.frame);
        if let Some(rt) = i.response_time {
            assert!(rt.0 >= 0 && rt.0 < 6_000_000_000, "frame {} response time {rt}", d.frame);
        }
    }
    // Frame 5 answers frame 3 after libcoap's 1 s /async delay.
    let rt = info(5).response_time.unwrap().0;
    assert!((999_000_000..1_002_000_000).contains(&rt), "{rt}");
    // Observe: registration 43, registration response 45, notifications 50/55/61, final 63.
    assert_eq!(info(43).observe, Some(ObserveInfo::Register));
    for (f, seq, index) in [(45, 2, 1), (50, 3, 2), (55, 4, 3), (61, 5, 4)] {
        assert_eq!(
            info(f).observe,
            Some(ObserveInfo::Notification { registration_frame: 43, sequence: seq, index }),
            "frame {f}"
        );
    }
    assert_eq!(info(63).observe, Some(ObserveInfo::Ends { registration_frame: 43 }));
    // Outer messages carry no Block options (libcoap's blocks are inner, RFC 8613 §4.1.3.4.1).
    assert!(infos.iter().all(|i| i.block.is_none()));
    assert_eq!(
        (sum.exchanges, sum.retransmissions, sum.observations, sum.notifications, sum.unmatched_responses),
        (16, 0, 1, 4, 0)
    );
    assert!(sum.unanswered_requests.is_empty());
}

#[test]
fn d01_exchanges_match_the_readme_listing() {
    let dgrams = read_capture("d01_aiocoap_aiocoap");
    let (infos, sum) = track(&dgrams);
    for d in &dgrams {
        let i = &infos[(d.frame - 1) as usize];
        assert!(i.findings.is_empty(), "frame {}: {:?}", d.frame, i.findings);
        let m = Message::parse(&d.payload);
        match d.frame {
            // Frames 1..18 and 25/26: CON request, piggybacked ACK response.
            f if f <= 18 || f >= 25 => {
                if f % 2 == 1 {
                    assert_eq!((i.role, m.mtype), (Role::Request, MsgType::Con));
                } else {
                    assert_eq!(
                        (i.role, i.request_frame, i.acknowledges),
                        (Role::Response, Some(f - 1), Some(f - 1))
                    );
                }
            }
            19 => assert_eq!((i.role, i.observe.clone()), (Role::Request, Some(ObserveInfo::Register))),
            f => {
                let index = (f - 19) as u32;
                assert_eq!(i.request_frame, Some(19));
                assert_eq!(
                    i.observe,
                    Some(ObserveInfo::Notification { registration_frame: 19, sequence: index - 1, index })
                );
            }
        }
    }
    assert_eq!((sum.exchanges, sum.observations, sum.notifications), (11, 1, 5));
    assert!(sum.unanswered_requests.is_empty());
}
