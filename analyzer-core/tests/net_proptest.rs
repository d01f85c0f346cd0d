//! Property tests for `analyzer_core::net`: hostile input never panics and keeps the decoder's
//! invariants; a valid Ethernet/IPv4/UDP frame cut at every length gives exactly the right
//! Truncated finding and never a datagram of the wrong length; reassembly state stays bounded.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod net_support;

use analyzer_core::capture::LinkType;
use analyzer_core::finding::{FindingKind, Span};
use analyzer_core::net::{Decoded, LayerInfo, NetConfig, NetDecoder};
use analyzer_core::time::Timestamp;
use net_support::*;
use proptest::prelude::*;
use std::net::{Ipv4Addr, Ipv6Addr};

const LINK_TYPES: [u32; 12] = [0, 1, 101, 108, 113, 195, 228, 229, 230, 276, 283, 147];

/// Invariants that hold for any input.
fn check_invariants(data: &[u8], d: &Decoded<'_>) {
    for l in &d.layers {
        assert!(
            l.range.start <= l.range.end && l.range.end <= data.len(),
            "layer range {:?} outside the frame",
            l.range
        );
    }
    for f in &d.findings {
        let span = f.span.as_ref().unwrap_or_else(|| panic!("finding without span: {f:?}"));
        if let Span::Frame { start, end } = span {
            assert!(
                start <= end && *end <= data.len(),
                "finding span {span:?} outside the frame ({})",
                data.len()
            );
        }
        assert!(!f.message.is_empty());
    }
    if let Some(dg) = &d.datagram {
        if let Some(off) = dg.payload_offset {
            assert_eq!(
                &data[off..off + dg.payload.len()],
                dg.payload.as_ref(),
                "payload_offset points at the payload"
            );
        }
        if let Some(r) = &dg.reassembled {
            assert!(!r.frames.is_empty());
            for l in &d.reassembled_layers {
                assert!(l.range.end <= r.bytes.len());
            }
        }
        // the UDP layer describing the datagram agrees with its payload length
        let udp = d.reassembled_layers.iter().chain(d.layers.iter()).rev().find_map(|l| match l.info {
            LayerInfo::Udp { length, .. } => Some(length),
            _ => None,
        });
        let len = udp.expect("a datagram comes with a UDP layer");
        assert_eq!(
            usize::from(len),
            dg.payload.len() + dg.missing + 8,
            "datagram length (captured + missing) vs UDP length field"
        );
        if dg.missing > 0 {
            // (802.15.4 with FCS: the last two captured bytes are taken as the FCS.)
            assert!(
                dg.payload_offset.is_some_and(|o| o + dg.payload.len() + 2 >= data.len()),
                "a cut payload ends where the capture does"
            );
        }
    }
}

fn valid_frames() -> Vec<(u32, Vec<u8>)> {
    let mut r = Rng(42);
    let s4 = Ipv4Addr::new(192, 0, 2, 1);
    let d4 = Ipv4Addr::new(192, 0, 2, 2);
    let s6: Ipv6Addr = "2001:db8::1".parse().unwrap();
    let d6: Ipv6Addr = "2001:db8::2".parse().unwrap();
    let pl = coap(&mut r, 20);
    let u4 = udp(&Ips::V4(s4, d4), 5683, 5683, &pl);
    let p4 = ipv4(s4, d4, 17, 1, 64, false, 0, &u4);
    let u6 = udp(&Ips::V6(s6, d6), 5683, 5683, &pl);
    let p6 = ipv6(s6, d6, 17, 64, &u6);
    let mut v = vec![
        (1, ethernet(&[(0x88a8, 5), (0x8100, 6)], 0x0800, &p4)),
        (1, ethernet(&[], 0x86dd, &p6)),
        (113, sll(0, 0x0800, &p4)),
        (276, sll2(0, 1, 0x86dd, &p6)),
        (0, [2u8, 0, 0, 0].iter().copied().chain(p4.iter().copied()).collect()),
        (108, [0u8, 0, 0, 30].iter().copied().chain(p6.iter().copied()).collect()),
        (101, p4.clone()),
        (229, p6.clone()),
    ];
    for f in ipv4_fragments(s4, d4, 17, 9, &udp(&Ips::V4(s4, d4), 1, 2, &[7; 100]), 48) {
        v.push((228, f));
    }
    for f in ipv6_fragments(s6, d6, 17, 9, &udp(&Ips::V6(s6, d6), 1, 2, &[7; 100]), 48) {
        v.push((229, f));
    }
    for i in 0..6 {
        let mut f =
            mac_header(1, i % 3, i % 2 == 0, Some(1), 0xabcd, &Addr::Short(1), 0xabcd, &Addr::Ext([1; 8]));
        f.extend_from_slice(&random_iphc(&mut r, false, i % 2 == 0, 8 + pl.len() as u16));
        f.extend_from_slice(&pl);
        v.push((230, f.clone()));
        let fcs = fcs16(&f);
        f.extend_from_slice(&fcs.to_le_bytes());
        v.push((195, f));
    }
    // FRAG1 / FRAGN
    let mut f = mac_header(1, 1, true, Some(1), 0xabcd, &Addr::Short(1), 0, &Addr::Short(2));
    f.extend_from_slice(&[0xc0, 0x60, 0x12, 0x34, 0x7e, 0x33, 0xf7, 0x12]);
    f.extend_from_slice(&[1; 40]);
    v.push((230, f));
    let mut f = mac_header(1, 1, true, Some(1), 0xabcd, &Addr::Short(1), 0, &Addr::Short(2));
    f.extend_from_slice(&[0xe0, 0x60, 0x12, 0x34, 11]);
    f.extend_from_slice(&[1; 8]);
    v.push((230, f));
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, .. ProptestConfig::default() })]

    /// Arbitrary bytes on every link type (including unsupported ones): no panic, invariants hold.
    #[test]
    fn arbitrary_bytes_never_panic(lt in prop::sample::select(LINK_TYPES.to_vec()), data in prop::collection::vec(any::<u8>(), 0..300), orig in prop::option::of(0u32..400)) {
        let mut dec = NetDecoder::new(NetConfig { verify_checksums: true, ..NetConfig::default() });
        let d = dec.decode_with_orig_len(LinkType(lt), &data, orig, 1, Timestamp::ZERO);
        check_invariants(&data, &d);
        if lt == 283 || lt == 147 {
            prop_assert_eq!(d.findings.len(), 1);
            prop_assert_eq!(d.findings[0].kind, FindingKind::UnsupportedLinkType);
        }
    }

    /// Valid frames with random byte edits and cuts: no panic, invariants hold.
    #[test]
    fn mutated_valid_frames_never_panic(
        pick in 0usize..64,
        edits in prop::collection::vec((any::<u16>(), any::<u8>()), 0..6),
        cut in prop::option::of(any::<u16>()),
    ) {
        let frames = valid_frames();
        let (lt, mut f) = frames[pick % frames.len()].clone();
        for (pos, val) in edits {
            if !f.is_empty() {
                let n = f.len();
                f[usize::from(pos) % n] = val;
            }
        }
        if let Some(c) = cut {
            let n = f.len() + 1;
            f.truncate(usize::from(c) % n);
        }
        let mut dec = NetDecoder::new(NetConfig { verify_checksums: true, ..NetConfig::default() });
        let d = dec.decode(LinkType(lt), &f, 1, Timestamp::ZERO);
        check_invariants(&f, &d);
    }

    /// Random fragment streams: pending reassemblies never exceed the cap (memory does not grow
    /// with the number of frames), and no panic.
    #[test]
    fn fragment_floods_stay_bounded(frags in prop::collection::vec((0u16..64, 0u16..200, any::<bool>(), 1usize..100, 0i64..1000), 1..300)) {
        let cfg = NetConfig { max_pending_reassemblies: 16, reassembly_timeout_secs: 30, max_reassembly_bytes: 64 * 1024, ..NetConfig::default() };
        let mut dec = NetDecoder::new(cfg);
        let (s, d) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        let mut t = 0;
        for (i, (id, off, mf, len, dt)) in frags.into_iter().enumerate() {
            t += dt;
            let p = ipv4(s, d, 17, id, 64, mf, off, &vec![id as u8; len]);
            let r = dec.decode(LinkType::IPV4, &p, i as u64 + 1, Timestamp::new(t, 0));
            check_invariants(&p, &r);
            prop_assert!(dec.pending_reassemblies() <= 16);
            for (frame, f) in &r.earlier_findings {
                prop_assert!(*frame <= i as u64 + 1);
                prop_assert!(f.span.is_some());
            }
        }
        for (_, f) in dec.finish() {
            prop_assert_eq!(f.kind, FindingKind::IpReassemblyIncomplete);
        }
        prop_assert_eq!(dec.pending_reassemblies(), 0);
    }
}

/// A valid Ethernet/IPv4/UDP frame cut at every length: exactly one finding, of the kind of the
/// innermost layer that was cut; a datagram only when the UDP header was captured, holding the
/// captured payload and how much is missing; whole, the datagram and no finding.
#[test]
fn ethernet_ipv4_udp_truncated_at_every_length() {
    let mut r = Rng(7);
    let (s, d) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2));
    let pl = coap(&mut r, 37);
    let u = udp(&Ips::V4(s, d), 5683, 40000, &pl);
    let frame = ethernet(&[], 0x0800, &ipv4(s, d, 17, 1, 64, false, 0, &u));
    assert_eq!(frame.len(), 14 + 20 + 8 + pl.len());
    for with_orig in [false, true] {
        for cut in 0..frame.len() {
            let data = &frame[..cut];
            let orig = with_orig.then_some(frame.len() as u32);
            let dec = NetDecoder::new(NetConfig { verify_checksums: true, ..NetConfig::default() })
                .decode_with_orig_len(LinkType::ETHERNET, data, orig, 1, Timestamp::ZERO);
            check_invariants(data, &dec);
            let want = if cut < 14 {
                FindingKind::LinkTruncated
            } else if cut < 34 {
                FindingKind::IpTruncated
            } else {
                FindingKind::UdpTruncated
            };
            match &dec.datagram {
                Some(dg) => {
                    assert!(cut >= 42, "cut at {cut}: a datagram needs the whole UDP header");
                    assert_eq!(&dg.payload[..], &frame[42..cut], "cut at {cut}: the captured payload");
                    assert_eq!(dg.missing, frame.len() - cut, "cut at {cut}: missing bytes");
                }
                None => assert!(cut < 42, "cut at {cut}: the captured part of the payload is handed on"),
            }
            assert_eq!(dec.findings.len(), 1, "cut at {cut}: {:?}", dec.findings);
            assert_eq!(dec.findings[0].kind, want, "cut at {cut}: {}", dec.findings[0].message);
            assert_eq!(
                dec.findings[0].span.as_ref().unwrap().range().end,
                cut,
                "the span ends where the capture does"
            );
            // what parsed is kept
            let expected_layers = if cut < 14 {
                0
            } else if cut < 34 {
                1
            } else if cut < 42 {
                2
            } else {
                3
            };
            assert_eq!(dec.layers.len(), expected_layers, "cut at {cut}");
        }
    }
    let whole = NetDecoder::new(NetConfig { verify_checksums: true, ..NetConfig::default() }).decode(
        LinkType::ETHERNET,
        &frame,
        1,
        Timestamp::ZERO,
    );
    assert!(whole.findings.is_empty(), "{:?}", whole.findings);
    assert_eq!(whole.datagram.unwrap().payload.as_ref(), &pl[..]);
    // the wire length smaller than the IP total length: malformed, not truncated
    let dec = NetDecoder::default().decode_with_orig_len(
        LinkType::ETHERNET,
        &frame[..40],
        Some(40),
        1,
        Timestamp::ZERO,
    );
    assert_eq!(dec.findings[0].kind, FindingKind::IpMalformed);
}
