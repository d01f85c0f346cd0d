//! IPv4 (RFC 791), IPv6 (RFC 8200) with extension and fragment headers, UDP (RFC 768) with
//! checksums over the pseudo-headers (RFC 768, RFC 8200 §8.1).

use crate::checksum::internet_checksum;
use std::net::{Ipv4Addr, Ipv6Addr};

pub const PROTO_HOPOPTS: u8 = 0;
pub const PROTO_UDP: u8 = 17;
pub const PROTO_ROUTING: u8 = 43;
pub const PROTO_FRAGMENT: u8 = 44;
pub const PROTO_DSTOPTS: u8 = 60;

/// UDP datagram with the checksum over the IPv4 pseudo-header (src, dst, 0, 17, UDP length).
/// A computed checksum of 0 is sent as 0xffff (RFC 768).
pub fn udp_v4(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let len = (8 + payload.len()) as u16;
    let mut u = udp_header(sport, dport, len);
    u.extend_from_slice(payload);
    let mut pseudo = Vec::with_capacity(12);
    pseudo.extend_from_slice(&src.octets());
    pseudo.extend_from_slice(&dst.octets());
    pseudo.extend_from_slice(&[0, PROTO_UDP]);
    pseudo.extend_from_slice(&len.to_be_bytes());
    set_udp_checksum(&mut u, &pseudo);
    u
}

/// UDP datagram with the checksum over the IPv6 pseudo-header (src, dst, upper-layer length
/// u32, 3 zero bytes, next header 17). Mandatory in IPv6; 0 is sent as 0xffff.
pub fn udp_v6(src: Ipv6Addr, dst: Ipv6Addr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let len = (8 + payload.len()) as u16;
    let mut u = udp_header(sport, dport, len);
    u.extend_from_slice(payload);
    set_udp_checksum(&mut u, &ipv6_pseudo_header(src, dst, u32::from(len)));
    u
}

/// The IPv6 pseudo-header for upper-layer checksums.
pub fn ipv6_pseudo_header(src: Ipv6Addr, dst: Ipv6Addr, upper_len: u32) -> Vec<u8> {
    let mut p = Vec::with_capacity(40);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(&upper_len.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, PROTO_UDP]);
    p
}

fn udp_header(sport: u16, dport: u16, len: u16) -> Vec<u8> {
    let mut u = Vec::with_capacity(usize::from(len));
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&len.to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u
}

fn set_udp_checksum(udp: &mut [u8], pseudo: &[u8]) {
    let c = match internet_checksum(&[pseudo, udp]) {
        0 => 0xffff,
        c => c,
    };
    udp[6..8].copy_from_slice(&c.to_be_bytes());
}

/// The fixed parts of an IPv4 header the samples vary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Params {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
    pub identification: u16,
    pub dont_fragment: bool,
    pub protocol: u8,
}

/// One IPv4 header (IHL 5, no options) + payload, with a correct header checksum.
/// `offset_bytes` must be a multiple of 8.
pub fn ipv4_packet_raw(p: &Ipv4Params, more_fragments: bool, offset_bytes: usize, payload: &[u8]) -> Vec<u8> {
    assert!(offset_bytes.is_multiple_of(8), "fragment offset must be a multiple of 8");
    let total = (20 + payload.len()) as u16;
    let flags_off =
        (u16::from(p.dont_fragment) << 14) | (u16::from(more_fragments) << 13) | (offset_bytes / 8) as u16;
    let mut h = Vec::with_capacity(usize::from(total));
    h.push(0x45);
    h.push(0x00);
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&p.identification.to_be_bytes());
    h.extend_from_slice(&flags_off.to_be_bytes());
    h.push(p.ttl);
    h.push(p.protocol);
    h.extend_from_slice(&[0, 0]);
    h.extend_from_slice(&p.src.octets());
    h.extend_from_slice(&p.dst.octets());
    let c = internet_checksum(&[&h]);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

/// An IPv4 datagram, fragmented when `20 + payload` exceeds `mtu` (RFC 791 §3.2): each
/// fragment but the last carries a multiple of 8 payload bytes and MF=1; offsets in 8-byte
/// units. `mtu: None` never fragments.
pub fn ipv4_datagram(p: &Ipv4Params, payload: &[u8], mtu: Option<usize>) -> Vec<Vec<u8>> {
    let Some(mtu) = mtu.filter(|&m| 20 + payload.len() > m) else {
        return vec![ipv4_packet_raw(p, false, 0, payload)];
    };
    assert!(!p.dont_fragment, "DF set on a datagram that needs fragmenting");
    let per = (mtu - 20) / 8 * 8;
    assert!(per > 0, "MTU too small");
    let mut out = Vec::new();
    let mut off = 0;
    while off < payload.len() {
        let end = (off + per).min(payload.len());
        out.push(ipv4_packet_raw(p, end < payload.len(), off, &payload[off..end]));
        off = end;
    }
    out
}

/// An IPv6 extension header of the TLV-options kind (Hop-by-Hop or Destination Options), or a
/// Routing header. Options are padded to a multiple of 8 bytes with Pad1/PadN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtHeader {
    /// Hop-by-Hop Options (0); the TLV options (type, data).
    HopByHop(Vec<(u8, Vec<u8>)>),
    /// Destination Options (60).
    DestOpts(Vec<(u8, Vec<u8>)>),
    /// Routing header (43) of the given type with segments left 0 and `data` after the 4
    /// fixed bytes (padded with zeros to a multiple of 8 overall).
    Routing { routing_type: u8, data: Vec<u8> },
}

impl ExtHeader {
    pub fn protocol(&self) -> u8 {
        match self {
            ExtHeader::HopByHop(_) => PROTO_HOPOPTS,
            ExtHeader::DestOpts(_) => PROTO_DSTOPTS,
            ExtHeader::Routing { .. } => PROTO_ROUTING,
        }
    }

    /// Encodes the header with `next` as its Next Header.
    pub fn encode(&self, next: u8) -> Vec<u8> {
        let mut h = vec![next, 0];
        match self {
            ExtHeader::HopByHop(opts) | ExtHeader::DestOpts(opts) => {
                for (t, d) in opts {
                    h.push(*t);
                    h.push(d.len() as u8);
                    h.extend_from_slice(d);
                }
                let pad = (8 - h.len() % 8) % 8;
                match pad {
                    0 => {}
                    1 => h.push(0), // Pad1
                    n => {
                        h.push(1); // PadN
                        h.push((n - 2) as u8);
                        h.resize(h.len() + n - 2, 0);
                    }
                }
            }
            ExtHeader::Routing { routing_type, data } => {
                h.push(*routing_type);
                h.push(0); // segments left
                h.extend_from_slice(data);
                h.resize(h.len().div_ceil(8).max(1) * 8, 0);
            }
        }
        h[1] = (h.len() / 8 - 1) as u8;
        h
    }
}

/// The fixed IPv6 header fields the samples vary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Params {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub hop_limit: u8,
    pub traffic_class: u8,
    pub flow_label: u32,
}

fn ipv6_fixed(p: &Ipv6Params, payload_len: usize, next: u8) -> Vec<u8> {
    let mut h = Vec::with_capacity(40 + payload_len);
    let word = (6u32 << 28) | (u32::from(p.traffic_class) << 20) | (p.flow_label & 0x000f_ffff);
    h.extend_from_slice(&word.to_be_bytes());
    h.extend_from_slice(&(payload_len as u16).to_be_bytes());
    h.push(next);
    h.push(p.hop_limit);
    h.extend_from_slice(&p.src.octets());
    h.extend_from_slice(&p.dst.octets());
    h
}

/// Chains extension headers in front of an upper-layer payload with protocol `upper`.
fn chain(exts: &[ExtHeader], upper: u8, payload: &[u8]) -> (u8, Vec<u8>) {
    let mut body = Vec::new();
    for (i, e) in exts.iter().enumerate() {
        let next = exts.get(i + 1).map_or(upper, ExtHeader::protocol);
        body.extend_from_slice(&e.encode(next));
    }
    body.extend_from_slice(payload);
    (exts.first().map_or(upper, ExtHeader::protocol), body)
}

/// An IPv6 packet: fixed header, `exts` in order, then the upper-layer `payload`.
pub fn ipv6_packet(p: &Ipv6Params, exts: &[ExtHeader], upper: u8, payload: &[u8]) -> Vec<u8> {
    let (first, body) = chain(exts, upper, payload);
    let mut pkt = ipv6_fixed(p, body.len(), first);
    pkt.extend_from_slice(&body);
    pkt
}

/// An IPv6 datagram with extension headers `exts` (in order), fragmented (RFC 8200 §4.5)
/// when it exceeds `mtu`. The unfragmentable part (Hop-by-Hop and Routing headers) is
/// repeated in every fragment before the Fragment header; the fragmentable part (Destination
/// Options and the upper-layer `payload`) is split so that each fragment but the last carries
/// a multiple of 8 bytes with M=1.
pub fn ipv6_datagram(
    p: &Ipv6Params,
    exts: &[ExtHeader],
    upper: u8,
    payload: &[u8],
    mtu: Option<usize>,
    identification: u32,
) -> Vec<Vec<u8>> {
    let whole = ipv6_packet(p, exts, upper, payload);
    let Some(mtu) = mtu.filter(|&m| whole.len() > m) else {
        return vec![whole];
    };
    let split = exts.iter().position(|e| matches!(e, ExtHeader::DestOpts(_))).unwrap_or(exts.len());
    let (unfragmentable, fragmentable) = exts.split_at(split);
    let (frag_next, frag_part) = chain(fragmentable, upper, payload);
    let (_, unfrag) = chain(unfragmentable, PROTO_FRAGMENT, &[]);
    let per = (mtu - 40 - unfrag.len() - 8) / 8 * 8;
    assert!(per > 0, "MTU too small");
    let mut out = Vec::new();
    let mut off = 0;
    while off < frag_part.len() {
        let end = (off + per).min(frag_part.len());
        let more = end < frag_part.len();
        let mut body = unfrag.clone();
        body.extend_from_slice(&[frag_next, 0]);
        body.extend_from_slice(&(((off / 8) as u16) << 3 | u16::from(more)).to_be_bytes());
        body.extend_from_slice(&identification.to_be_bytes());
        body.extend_from_slice(&frag_part[off..end]);
        let first = unfragmentable.first().map_or(PROTO_FRAGMENT, ExtHeader::protocol);
        let mut pkt = ipv6_fixed(p, body.len(), first);
        pkt.extend_from_slice(&body);
        out.push(pkt);
        off = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4() -> Ipv4Params {
        Ipv4Params {
            src: Ipv4Addr::new(192, 0, 2, 1),
            dst: Ipv4Addr::new(192, 0, 2, 2),
            ttl: 64,
            identification: 0x1234,
            dont_fragment: false,
            protocol: PROTO_UDP,
        }
    }

    #[test]
    fn ipv4_header_checksum_verifies() {
        let p = ipv4_packet_raw(&v4(), false, 0, &[0; 12]);
        assert_eq!(internet_checksum(&[&p[..20]]), 0);
        assert_eq!(&p[2..4], &[0, 32]);
    }

    #[test]
    fn ipv4_fragments_offsets() {
        let payload: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        let frags = ipv4_datagram(&v4(), &payload, Some(420));
        // 400 bytes per fragment: 400, 400, 200
        assert_eq!(frags.len(), 3);
        let fo: Vec<u16> = frags.iter().map(|f| u16::from_be_bytes([f[6], f[7]])).collect();
        assert_eq!(fo, [0x2000, 0x2000 | 50, 100]);
        assert!(frags.iter().all(|f| internet_checksum(&[&f[..20]]) == 0));
        let joined: Vec<u8> = frags.iter().flat_map(|f| f[20..].to_vec()).collect();
        assert_eq!(joined, payload);
    }

    #[test]
    fn udp_v4_checksum_verifies() {
        let (s, d) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        let u = udp_v4(s, d, 40000, 5683, b"hello");
        let mut pseudo = s.octets().to_vec();
        pseudo.extend_from_slice(&d.octets());
        pseudo.extend_from_slice(&[0, 17, 0, 13]);
        assert_eq!(internet_checksum(&[&pseudo, &u]), 0);
    }

    #[test]
    fn ext_header_padding() {
        // HBH with no options: next, len 0, PadN(4) => 8 bytes.
        assert_eq!(ExtHeader::HopByHop(vec![]).encode(17), [17, 0, 1, 4, 0, 0, 0, 0]);
        // One 5-byte option (2 + 3): 2 + 5 = 7 -> Pad1.
        assert_eq!(ExtHeader::DestOpts(vec![(0x1e, vec![1, 2, 3])]).encode(17), [17, 0, 0x1e, 3, 1, 2, 3, 0]);
    }

    #[test]
    fn ipv6_fragments_layout() {
        let p = Ipv6Params {
            src: "2001:db8::1".parse().unwrap(),
            dst: "2001:db8::2".parse().unwrap(),
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0,
        };
        let payload = vec![0xab; 1000];
        let frags = ipv6_datagram(&p, &[ExtHeader::HopByHop(vec![])], PROTO_UDP, &payload, Some(600), 7);
        assert_eq!(frags.len(), 2);
        // 600 - 40 - 8 (HBH) - 8 (frag) = 544 per fragment
        assert_eq!(frags[0].len(), 600);
        assert_eq!(frags[0][6], PROTO_HOPOPTS);
        assert_eq!(frags[0][40], PROTO_FRAGMENT);
        assert_eq!(&frags[0][48..56], &[17, 0, 0, 1, 0, 0, 0, 7]);
        assert_eq!(&frags[1][48..52], &[17, 0, ((544 / 8) << 3 >> 8) as u8, ((544 / 8) << 3) as u8]);
        assert_eq!(frags[1].len(), 56 + 1000 - 544);
        // Destination Options belong to the fragmentable part: only in the first fragment,
        // and the Fragment header's Next Header names them (60).
        let exts = [ExtHeader::HopByHop(vec![]), ExtHeader::DestOpts(vec![])];
        let frags = ipv6_datagram(&p, &exts, PROTO_UDP, &payload, Some(600), 8);
        assert_eq!(frags.len(), 2);
        assert_eq!(frags[0][48], PROTO_DSTOPTS);
        assert_eq!(&frags[0][56..58], &[PROTO_UDP, 0]);
        assert_eq!(
            &frags[1][48..52],
            &[PROTO_DSTOPTS, 0, ((544 / 8) << 3 >> 8) as u8, ((544 / 8) << 3) as u8]
        );
        assert_eq!(frags[1].len(), 56 + 1008 - 544);
    }
}
