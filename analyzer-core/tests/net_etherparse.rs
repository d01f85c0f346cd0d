//! Differential tests against etherparse 0.21 (an independent implementation): packets built
//! with `etherparse::PacketBuilder` (its own header serialisation and checksums) decode to the
//! same VLAN ids, addresses, ports and payload, with checksums verifying; and on mutated
//! packets, whenever etherparse's strict slicer finds an unfragmented UDP datagram, ours finds
//! the same one.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use analyzer_core::capture::LinkType;
use analyzer_core::net::{LayerInfo, NetConfig, NetDecoder};
use analyzer_core::time::Timestamp;
use etherparse::{NetSlice, PacketBuilder, SlicedPacket, TransportSlice, VlanId};
use proptest::prelude::*;
use std::net::IpAddr;

#[derive(Debug, Clone)]
struct Spec {
    vlans: Vec<u16>,
    v6: bool,
    src: [u8; 16],
    dst: [u8; 16],
    sport: u16,
    dport: u16,
    payload: Vec<u8>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        prop::collection::vec(0u16..4096, 0..=2),
        any::<bool>(),
        any::<[u8; 16]>(),
        any::<[u8; 16]>(),
        any::<u16>(),
        any::<u16>(),
        prop::collection::vec(any::<u8>(), 0..200),
    )
        .prop_map(|(vlans, v6, src, dst, sport, dport, payload)| Spec {
            vlans,
            v6,
            src,
            dst,
            sport,
            dport,
            payload,
        })
}

fn build(s: &Spec) -> Vec<u8> {
    let eth = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
    let mut out = Vec::new();
    let s4 = |a: [u8; 16]| [a[0], a[1], a[2], a[3]];
    match (s.vlans.as_slice(), s.v6) {
        ([], false) => eth.ipv4(s4(s.src), s4(s.dst), 64).udp(s.sport, s.dport).write(&mut out, &s.payload),
        ([], true) => eth.ipv6(s.src, s.dst, 64).udp(s.sport, s.dport).write(&mut out, &s.payload),
        ([a], false) => eth
            .single_vlan(VlanId::try_new(*a).unwrap())
            .ipv4(s4(s.src), s4(s.dst), 64)
            .udp(s.sport, s.dport)
            .write(&mut out, &s.payload),
        ([a], true) => eth
            .single_vlan(VlanId::try_new(*a).unwrap())
            .ipv6(s.src, s.dst, 64)
            .udp(s.sport, s.dport)
            .write(&mut out, &s.payload),
        ([a, b, ..], false) => eth
            .double_vlan(VlanId::try_new(*a).unwrap(), VlanId::try_new(*b).unwrap())
            .ipv4(s4(s.src), s4(s.dst), 64)
            .udp(s.sport, s.dport)
            .write(&mut out, &s.payload),
        ([a, b, ..], true) => eth
            .double_vlan(VlanId::try_new(*a).unwrap(), VlanId::try_new(*b).unwrap())
            .ipv6(s.src, s.dst, 64)
            .udp(s.sport, s.dport)
            .write(&mut out, &s.payload),
    }
    .unwrap();
    out
}

/// What etherparse's strict slicer finds: (src, dst, sport, dport, payload) of an unfragmented UDP datagram.
fn etherparse_udp(frame: &[u8]) -> Option<(IpAddr, IpAddr, u16, u16, Vec<u8>)> {
    let sp = SlicedPacket::from_ethernet(frame).ok()?;
    let (src, dst, fragmented) = match &sp.net {
        Some(NetSlice::Ipv4(ip)) => (
            IpAddr::V4(ip.header().source_addr()),
            IpAddr::V4(ip.header().destination_addr()),
            ip.is_payload_fragmented(),
        ),
        // etherparse also reads an IPv6 payload length of 0 as a jumbogram (the rest of the
        // frame) without a Jumbo Payload option; kudoscope reports it as malformed (RFC 2675
        // §3). Not a disagreement this test is about either.
        Some(NetSlice::Ipv6(ip)) if ip.header().payload_length() == 0 => return None,
        Some(NetSlice::Ipv6(ip)) => (
            IpAddr::V6(ip.header().source_addr()),
            IpAddr::V6(ip.header().destination_addr()),
            ip.is_payload_fragmented(),
        ),
        _ => return None,
    };
    if fragmented {
        return None;
    }
    match &sp.transport {
        // etherparse reads a UDP length of 0 as "use the IP payload length" (jumbogram
        // semantics, RFC 2675) even without a Jumbo Payload option; kudoscope reports it as
        // malformed (RFC 768 / RFC 8200 §8.1): not a disagreement this test is about.
        Some(TransportSlice::Udp(u)) if u.length() == 0 => None,
        Some(TransportSlice::Udp(u)) => {
            Some((src, dst, u.source_port(), u.destination_port(), u.payload().to_vec()))
        }
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn etherparse_built_packets_decode_identically(s in spec()) {
        let frame = build(&s);
        let mut dec = NetDecoder::new(NetConfig { verify_checksums: true, ..NetConfig::default() });
        let d = dec.decode(LinkType::ETHERNET, &frame, 1, Timestamp::ZERO);
        prop_assert!(d.findings.is_empty(), "{:?}", d.findings);
        let vids: Vec<u16> = d.layers.iter().filter_map(|l| match l.info { LayerInfo::Vlan { vid, .. } => Some(vid), _ => None }).collect();
        prop_assert_eq!(&vids, &s.vlans);
        let dg = d.datagram.expect("datagram");
        let want = etherparse_udp(&frame).expect("etherparse parses its own packet");
        prop_assert_eq!((dg.src.addr, dg.dst.addr, dg.src.port, dg.dst.port), (want.0, want.1, want.2, want.3));
        prop_assert_eq!(dg.payload.as_ref(), &s.payload[..]);
        for l in d.layers.iter() {
            match l.info {
                LayerInfo::Ipv4 { checksum_ok, .. } => prop_assert_eq!(checksum_ok, Some(true)),
                LayerInfo::Udp { checksum_ok, checksum, .. } => {
                    // etherparse writes a zero UDP checksum over IPv4 only when it computes 0
                    prop_assert!(checksum_ok == Some(true) || (checksum == 0 && !s.v6));
                }
                _ => {}
            }
        }
    }

    /// Mutated packets: whenever etherparse's strict slicer finds an unfragmented UDP datagram,
    /// ours finds the same one.
    #[test]
    fn mutated_packets_agree_with_etherparse(s in spec(), edits in prop::collection::vec((any::<u16>(), any::<u8>()), 1..4)) {
        let mut frame = build(&s);
        for (pos, val) in edits {
            let n = frame.len();
            frame[usize::from(pos) % n] = val;
        }
        let d = NetDecoder::default().decode(LinkType::ETHERNET, &frame, 1, Timestamp::ZERO);
        if let Some(want) = etherparse_udp(&frame) {
            let dg = d.datagram.as_ref().unwrap_or_else(|| panic!("etherparse found UDP {want:?}, we did not: {:?}", d.findings));
            prop_assert_eq!((dg.src.addr, dg.dst.addr, dg.src.port, dg.dst.port), (want.0, want.1, want.2, want.3));
            prop_assert_eq!(dg.payload.as_ref(), &want.4[..]);
        }
    }
}
