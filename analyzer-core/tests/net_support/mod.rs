//! Frame builders shared by the `net_*` integration tests (test-only code).
//!
//! These write packets the way senders do (own code, independent of the decoder): checksums,
//! fragmentation, 802.15.4 headers (with their own PAN ID table), random 6LoWPAN IPHC encodings.
#![allow(dead_code, clippy::indexing_slicing, clippy::unwrap_used, clippy::too_many_arguments)]

use std::net::{Ipv4Addr, Ipv6Addr};

/// xorshift64*: deterministic test randomness.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn byte(&mut self) -> u8 {
        self.next() as u8
    }
    pub fn u16(&mut self) -> u16 {
        self.next() as u16
    }
    pub fn bool(&mut self) -> bool {
        self.next() & 1 == 1
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }
}

/// RFC 1071 one's-complement sum.
pub fn ones_sum(data: &[u8], mut acc: u32) -> u32 {
    for c in data.chunks(2) {
        let w = if c.len() == 2 { u16::from_be_bytes([c[0], c[1]]) } else { u16::from(c[0]) << 8 };
        acc += u32::from(w);
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc
}

pub fn finish_sum(acc: u32) -> u16 {
    let mut a = acc;
    while a > 0xffff {
        a = (a & 0xffff) + (a >> 16);
    }
    !(a as u16)
}

pub enum Ips {
    V4(Ipv4Addr, Ipv4Addr),
    V6(Ipv6Addr, Ipv6Addr),
}

/// A UDP datagram (header + payload) with a correct checksum.
pub fn udp(ips: &Ips, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let len = (8 + payload.len()) as u16;
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&len.to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    let mut acc = match ips {
        Ips::V4(s, d) => ones_sum(&d.octets(), ones_sum(&s.octets(), 0)),
        Ips::V6(s, d) => ones_sum(&d.octets(), ones_sum(&s.octets(), 0)),
    };
    acc = ones_sum(&[0, 17], acc);
    acc = ones_sum(&len.to_be_bytes(), acc);
    acc = ones_sum(&u, acc);
    let mut ck = finish_sum(acc);
    if ck == 0 {
        ck = 0xffff;
    }
    u[6..8].copy_from_slice(&ck.to_be_bytes());
    u
}

/// IPv4 packet (RFC 791) with a correct header checksum.
pub fn ipv4(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    id: u16,
    ttl: u8,
    mf: bool,
    off8: u16,
    payload: &[u8],
) -> Vec<u8> {
    let tl = (20 + payload.len()) as u16;
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&tl.to_be_bytes());
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&((u16::from(mf) << 13) | off8).to_be_bytes());
    p.extend_from_slice(&[ttl, proto, 0, 0]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    let ck = finish_sum(ones_sum(&p, 0));
    p[10..12].copy_from_slice(&ck.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// Splits an IPv4 payload into fragments of `chunk` bytes (multiple of 8).
pub fn ipv4_fragments(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    id: u16,
    payload: &[u8],
    chunk: usize,
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut off = 0;
    while off < payload.len() {
        let end = (off + chunk).min(payload.len());
        out.push(ipv4(src, dst, proto, id, 64, end < payload.len(), (off / 8) as u16, &payload[off..end]));
        off = end;
    }
    out
}

/// IPv6 packet (RFC 8200) with `payload` after the fixed header.
pub fn ipv6(src: Ipv6Addr, dst: Ipv6Addr, nh: u8, hlim: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    p.extend_from_slice(&[nh, hlim]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(payload);
    p
}

/// IPv6 fragments (RFC 8200 §4.5) of a fragmentable part whose first header is `nh`.
pub fn ipv6_fragments(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    nh: u8,
    id: u32,
    part: &[u8],
    chunk: usize,
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut off = 0;
    while off < part.len() {
        let end = (off + chunk).min(part.len());
        let more = end < part.len();
        let mut f = vec![nh, 0];
        f.extend_from_slice(&((((off / 8) as u16) << 3) | u16::from(more)).to_be_bytes());
        f.extend_from_slice(&id.to_be_bytes());
        f.extend_from_slice(&part[off..end]);
        out.push(ipv6(src, dst, 44, 64, &f));
        off = end;
    }
    out
}

/// Ethernet II with VLAN tags (tpid, tci) before `ethertype`.
pub fn ethernet(tags: &[(u16, u16)], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x02, 0x00, 0x5e, 0x10, 0x00, 0x01, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x02];
    for (tpid, tci) in tags {
        f.extend_from_slice(&tpid.to_be_bytes());
        f.extend_from_slice(&tci.to_be_bytes());
    }
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

pub fn sll(pkttype: u16, protocol: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&pkttype.to_be_bytes());
    f.extend_from_slice(&1u16.to_be_bytes());
    f.extend_from_slice(&6u16.to_be_bytes());
    f.extend_from_slice(&[0x02, 0x00, 0x5e, 0x10, 0x00, 0x09, 0, 0]);
    f.extend_from_slice(&protocol.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

pub fn sll2(pkttype: u8, ifindex: u32, protocol: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&protocol.to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(&ifindex.to_be_bytes());
    f.extend_from_slice(&1u16.to_be_bytes());
    f.push(pkttype);
    f.push(6);
    f.extend_from_slice(&[0x02, 0x00, 0x5e, 0x10, 0x00, 0x09, 0, 0]);
    f.extend_from_slice(payload);
    f
}

/// CRC-16/KERMIT bit by bit (independent of the decoder's table).
pub fn fcs16(data: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &b in data {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0x8408 } else { crc >> 1 };
        }
    }
    crc
}

/// 802.15.4 address: none, short or extended (canonical order).
#[derive(Clone, Debug)]
pub enum Addr {
    None,
    Short(u16),
    Ext([u8; 8]),
}

impl Addr {
    fn mode(&self) -> u16 {
        match self {
            Addr::None => 0,
            Addr::Short(_) => 2,
            Addr::Ext(_) => 3,
        }
    }
    fn write(&self, f: &mut Vec<u8>) {
        match self {
            Addr::None => {}
            Addr::Short(s) => f.extend_from_slice(&s.to_le_bytes()),
            Addr::Ext(e) => f.extend(e.iter().rev()),
        }
    }
}

/// 802.15.4 MAC header for a frame of `frame_type`. PAN ID presence follows IEEE 802.15.4-2006
/// §7.2.1.1.5 for versions 0/1 and 802.15.4-2015 Table 7-2 for version 2 (written out here
/// independently of the decoder).
pub fn mac_header(
    frame_type: u16,
    version: u16,
    panc: bool,
    seq: Option<u8>,
    dst_pan: u16,
    dst: &Addr,
    src_pan: u16,
    src: &Addr,
) -> Vec<u8> {
    let (d, s) = (dst.mode() != 0, src.mode() != 0);
    let (dp, sp) = if version < 2 {
        (d, s && !(panc && d))
    } else {
        match (d, s, panc) {
            (false, false, p) => (p, false),
            (true, false, p) => (!p, false),
            (false, true, p) => (false, !p),
            (true, true, p) => {
                if dst.mode() == 3 && src.mode() == 3 {
                    (!p, false)
                } else {
                    (true, !p)
                }
            }
        }
    };
    let fcf: u16 = frame_type
        | (u16::from(panc) << 6)
        | (u16::from(seq.is_none()) << 8)
        | (dst.mode() << 10)
        | (version << 12)
        | (src.mode() << 14);
    let mut f = fcf.to_le_bytes().to_vec();
    if let Some(s) = seq {
        f.push(s);
    }
    if dp {
        f.extend_from_slice(&dst_pan.to_le_bytes());
    }
    dst.write(&mut f);
    if sp {
        f.extend_from_slice(&src_pan.to_le_bytes());
    }
    src.write(&mut f);
    f
}

/// A CoAP message (RFC 7252 §3): CON GET, token, Uri-Path "t", payload.
pub fn coap(rng: &mut Rng, payload_len: usize) -> Vec<u8> {
    let mut m = vec![0x42, 0x01];
    m.extend_from_slice(&rng.u16().to_be_bytes());
    m.extend_from_slice(&rng.bytes(2));
    m.extend_from_slice(&[0xb1, b't']);
    if payload_len > 0 {
        m.push(0xff);
        m.extend_from_slice(&rng.bytes(payload_len));
    }
    m
}

/// A random LOWPAN_IPHC encoding (RFC 6282 §3.1.1) with inline fields of the right sizes and
/// random contents, followed by UDP: LOWPAN_NHC (random port mode and checksum elision) when
/// `nhc`, else an inline Next Header 17 and an uncompressed UDP header of `udp_len`.
/// Reserved combinations are avoided; context ids are random when `contexts` is true.
pub fn random_iphc(rng: &mut Rng, contexts: bool, nhc: bool, udp_len: u16) -> Vec<u8> {
    let tf = rng.below(4) as u8;
    let hlim = rng.below(4) as u8;
    let cid = contexts && rng.bool();
    let sac = contexts && rng.bool();
    let sam = rng.below(4) as u8;
    let m = rng.below(3) == 0;
    let (dac, dam) = if m {
        let dac = contexts && rng.below(4) == 0;
        (dac, if dac { 0 } else { rng.below(4) as u8 })
    } else {
        let dac = contexts && rng.bool();
        (dac, if dac { 1 + rng.below(3) as u8 } else { rng.below(4) as u8 })
    };
    let b0 = 0x60 | (tf << 3) | (u8::from(nhc) << 2) | hlim;
    let b1 = (u8::from(cid) << 7)
        | (u8::from(sac) << 6)
        | (sam << 4)
        | (u8::from(m) << 3)
        | (u8::from(dac) << 2)
        | dam;
    let mut f = vec![b0, b1];
    if cid {
        f.push(rng.byte());
    }
    match tf {
        0 => {
            let b = rng.bytes(4);
            f.extend_from_slice(&[b[0], b[1] & 0x0f, b[2], b[3]]);
        }
        1 => {
            let b = rng.bytes(3);
            f.extend_from_slice(&[b[0] & 0xcf, b[1], b[2]]);
        }
        2 => f.push(rng.byte()),
        _ => {}
    }
    if !nhc {
        f.push(17);
    }
    if hlim == 0 {
        f.push(rng.byte());
    }
    let src_len = match (sac, sam) {
        (false, 0) => 16,
        (_, 1) => 8,
        (_, 2) => 2,
        _ => 0,
    };
    let mut src = rng.bytes(src_len);
    if src_len == 16 {
        src[0] = 0x20; // a global unicast source
    }
    f.extend_from_slice(&src);
    let dst_len = match (m, dac, dam) {
        (false, false, 0) => 16,
        (false, _, 1) => 8,
        (false, _, 2) => 2,
        (false, _, _) => 0,
        (true, false, 0) => 16,
        (true, false, 1) => 6,
        (true, false, 2) => 4,
        (true, false, _) => 1,
        (true, true, _) => 6,
    };
    let mut dst = rng.bytes(dst_len);
    if m && !dac && dam == 0 {
        dst[0] = 0xff;
    }
    if !m && dst_len == 16 {
        dst[0] = 0x20;
    }
    f.extend_from_slice(&dst);
    if nhc {
        let c = rng.below(2) == 0;
        let pp = rng.below(4) as u8;
        f.push(0xf0 | (u8::from(c) << 2) | pp);
        match pp {
            0 => f.extend_from_slice(&rng.bytes(4)),
            1 | 2 => f.extend_from_slice(&rng.bytes(3)),
            _ => f.push(rng.byte()),
        }
        if !c {
            f.extend_from_slice(&rng.bytes(2));
        }
    } else {
        f.extend_from_slice(&5683u16.to_be_bytes());
        f.extend_from_slice(&rng.u16().to_be_bytes());
        f.extend_from_slice(&udp_len.to_be_bytes());
        f.extend_from_slice(&rng.bytes(2));
    }
    f
}

/// Classic pcap (microsecond, little-endian) with one link type; frame i at i ms.
pub fn write_pcap(path: &std::path::Path, linktype: u32, frames: &[Vec<u8>]) {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&linktype.to_le_bytes());
    for (i, f) in frames.iter().enumerate() {
        out.extend_from_slice(&1_700_000_000u32.to_le_bytes());
        out.extend_from_slice(&(i as u32 * 1000).to_le_bytes());
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(f);
    }
    std::fs::write(path, out).unwrap();
}
