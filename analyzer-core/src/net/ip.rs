//! IPv4 (RFC 791) with options and header checksum, IPv6 (RFC 8200) with extension headers,
//! fragment reassembly of both, and the hand-off to UDP.
//!
//! Own code rather than etherparse's slicers: we need the byte range of every header, the
//! distinction between a capture cut short and a packet that lies about its lengths (etherparse
//! reports both as a length error), IPv4 option validation, and fragments fed into our own
//! bounded, overlap-checking reassembly pool. etherparse serves as an independent oracle in the
//! tests (`tests/net_etherparse.rs`).

use super::reassembly::{Fragment, Key, Meta, Outcome};
use super::udp::{self, PROTO_UDP, Pseudo};
use super::{Bound, Cx, Emit, Endpoint, IP, LayerInfo, Short, arr};
use crate::finding::{FindingKind, Severity};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub(crate) const IPV6_HOP_BY_HOP: u8 = 0;
pub(crate) const IPV6_ROUTING: u8 = 43;
pub(crate) const IPV6_FRAGMENT: u8 = 44;
pub(crate) const IPV6_DEST_OPTS: u8 = 60;
pub(crate) const IPV6_MOBILITY: u8 = 135;
pub(crate) const IPV6_HIP: u8 = 139;
pub(crate) const IPV6_SHIM6: u8 = 140;
pub(crate) const IPV6_NO_NEXT: u8 = 59;
pub(crate) const IP_AH: u8 = 51;
pub(crate) const IP_ESP: u8 = 50;

/// Largest IPv4 total length / IPv6 payload length.
const MAX_IP_LEN: usize = 65535;

/// Raw IP (link type 101): the version nibble picks IPv4 or IPv6.
pub(crate) fn ip_any(cx: &mut Cx<'_, '_>, off: usize, bound: Bound) {
    let data = cx.data;
    let mut e = cx.emit();
    if e.check(IP, "IP header", off, off + 1, bound) {
        return;
    }
    match data.get(off).map(|b| b >> 4) {
        Some(4) => ipv4(cx, off, bound),
        Some(6) => ipv6(cx, off, bound),
        Some(v) => e.malformed(IP, off..off + 1, format!("IP version nibble: expected 4 or 6, saw {v}")),
        None => {}
    }
}

/// IPv4 header checksum check (RFC 791 §3.1, RFC 1071): the sum over the header is 0xffff.
fn ipv4_checksum(hdr: &[u8]) -> (bool, u16) {
    let total = udp::fold(udp::sum(hdr, 0));
    let field = super::be16(hdr, 10).unwrap_or(0);
    let without = udp::fold(udp::sum(hdr, 0) + u64::from(!field));
    (total == 0xffff, !without)
}

/// Validates IPv4 options (RFC 791 §3.1): EOL (0) ends the list, NOP (1) is one byte, every
/// other option is type, length >= 2, data, within the options area.
fn check_ipv4_options(opts: &[u8], base: usize, e: &mut Emit<'_>) {
    let mut i = 0;
    while let Some(&t) = opts.get(i) {
        match t {
            0 => return,
            1 => i += 1,
            _ => {
                let Some(&len) = opts.get(i + 1) else {
                    e.malformed(
                        IP,
                        base + i..base + opts.len(),
                        format!("IPv4 option {t}: expected a length byte, the options area ends"),
                    );
                    return;
                };
                let len = usize::from(len);
                if len < 2 || i + len > opts.len() {
                    e.malformed(
                        IP,
                        base + i..base + opts.len(),
                        format!(
                            "IPv4 option {t}: length {len} must be at least 2 and fit the {} bytes of options left",
                            opts.len() - i
                        ),
                    );
                    return;
                }
                i += len;
            }
        }
    }
}

/// IPv4 at `off`.
pub(crate) fn ipv4(cx: &mut Cx<'_, '_>, off: usize, bound: Bound) {
    let data = cx.data;
    let verify = cx.cfg.verify_checksums;
    let mut e = cx.emit();
    if e.check(IP, "IPv4 header", off, off + 20, bound) {
        return;
    }
    let Some(h) = arr::<20>(data, off) else { return };
    let version = h[0] >> 4;
    if version != 4 {
        e.malformed(IP, off..off + 1, format!("IPv4 header: expected version 4, saw {version}"));
        return;
    }
    let ihl = usize::from(h[0] & 0x0f) * 4;
    if ihl < 20 {
        e.malformed(
            IP,
            off..off + 1,
            format!("IPv4 header length (IHL): expected at least 5 words (20 bytes), saw {} bytes", ihl),
        );
        return;
    }
    if let Some(s) = bound.short(off + ihl) {
        e.short(s, IP, &format!("IPv4 header with options (IHL {})", ihl / 4), off, off + ihl, bound);
        return;
    }
    let total_len = u16::from_be_bytes([h[2], h[3]]);
    let id = u16::from_be_bytes([h[4], h[5]]);
    let flags_frag = u16::from_be_bytes([h[6], h[7]]);
    let dont_fragment = flags_frag & 0x4000 != 0;
    let more_fragments = flags_frag & 0x2000 != 0;
    let fragment_offset = flags_frag & 0x1fff;
    let ttl = h[8];
    let protocol = h[9];
    let src = Ipv4Addr::new(h[12], h[13], h[14], h[15]);
    let dst = Ipv4Addr::new(h[16], h[17], h[18], h[19]);
    let header = data.get(off..off + ihl).unwrap_or(&[]);
    let (checksum_ok, expected) = if verify {
        let (ok, exp) = ipv4_checksum(header);
        (Some(ok), exp)
    } else {
        (None, 0)
    };
    e.layer(
        off..off + ihl,
        LayerInfo::Ipv4 {
            src,
            dst,
            ttl,
            protocol,
            id,
            dont_fragment,
            more_fragments,
            fragment_offset,
            total_len,
            header_len: ihl as u8,
            checksum_ok,
        },
    );
    if checksum_ok == Some(false) {
        e.finding(
            FindingKind::IpChecksum,
            Severity::Medium,
            IP.layer,
            off + 10..off + 12,
            format!(
                "IPv4 header checksum 0x{:04x} does not verify: expected 0x{expected:04x}",
                u16::from_be_bytes([h[10], h[11]])
            ),
        );
    }
    if h[6] & 0x80 != 0 {
        e.finding(
            FindingKind::IpMalformed,
            Severity::Low,
            IP.layer,
            off + 6..off + 7,
            "IPv4 flags: the reserved bit must be 0, saw 1".to_string(),
        );
    }
    if ihl > 20 {
        check_ipv4_options(header.get(20..).unwrap_or(&[]), off + 20, &mut e);
    }
    let tl = usize::from(total_len);
    if tl < ihl {
        e.malformed(
            IP,
            off + 2..off + 4,
            format!("IPv4 total length {tl} is smaller than the header length {ihl}"),
        );
        return;
    }
    let (pb, short) = bound.claim(off + tl);
    if short == Some(Short::Malformed) {
        e.short(Short::Malformed, IP, &format!("IPv4 packet (total length {tl})"), off, off + tl, bound);
    }
    let payload = off + ihl;

    if more_fragments || fragment_offset != 0 {
        if short.is_some() {
            if short == Some(Short::Truncated) {
                e.short(
                    Short::Truncated,
                    IP,
                    &format!("IPv4 fragment (total length {tl}); not used for reassembly"),
                    off,
                    off + tl,
                    bound,
                );
            }
            return;
        }
        let bytes = data.get(payload..pb.end).unwrap_or(&[]);
        if more_fragments && bytes.len() % 8 != 0 {
            e.finding(
                FindingKind::IpMalformed,
                Severity::Low,
                IP.layer,
                payload..pb.end,
                format!(
                    "IPv4 fragment with More Fragments set: payload length expected to be a multiple of 8, saw {}",
                    bytes.len()
                ),
            );
        }
        let frag = Fragment {
            offset: usize::from(fragment_offset) * 8,
            bytes,
            last: !more_fragments,
            total: None,
            max_len: MAX_IP_LEN - ihl,
            frame: cx.frame,
            ts: cx.ts,
            header_span: off..off + ihl,
            bytes_in_frame: Some(payload),
            payload_span: payload..pb.end,
            meta: Meta::default(),
        };
        let key = Key::V4 { src, dst, protocol, id };
        let outcome = cx.reasm.add(key, frag, cx.cfg, &mut cx.out.findings, &mut cx.out.earlier_findings);
        if let Outcome::Complete(done) = outcome {
            let bytes = done.bytes;
            let len = bytes.len();
            let mut e = cx.emit_reassembled();
            let chain = walk_chain(&bytes, 0, Bound::exact(len), protocol, false, &mut e);
            if let ChainEnd::Upper(PROTO_UDP) = chain.end {
                let pseudo = Pseudo::V4(src, dst);
                if let Some(u) = udp::decode(&bytes, chain.pos, Bound::exact(len), pseudo, verify, &mut e) {
                    let (s, d) = endpoints(IpAddr::V4(src), IpAddr::V4(dst), &u);
                    cx.datagram_reassembled(s, d, u.payload, done.frames, bytes);
                }
            }
        }
        return;
    }

    let mut e = cx.emit();
    let chain = walk_chain(data, payload, pb, protocol, false, &mut e);
    if let ChainEnd::Upper(PROTO_UDP) = chain.end {
        if let Some(u) = udp::decode(data, chain.pos, pb, Pseudo::V4(src, dst), verify, &mut e) {
            let (s, d) = endpoints(IpAddr::V4(src), IpAddr::V4(dst), &u);
            cx.datagram_in_frame(s, d, u.payload, u.missing);
        }
    } else if short == Some(Short::Truncated) && matches!(chain.end, ChainEnd::Upper(_) | ChainEnd::Esp) {
        e.short(Short::Truncated, IP, &format!("IPv4 packet (total length {tl})"), off, off + tl, bound);
    }
}

pub(crate) fn endpoints(src: IpAddr, dst: IpAddr, u: &udp::UdpOk) -> (Endpoint, Endpoint) {
    (Endpoint { addr: src, port: u.src_port }, Endpoint { addr: dst, port: u.dst_port })
}

/// A parsed fixed IPv6 header (RFC 8200 §3).
#[derive(Debug, Clone, Copy)]
pub(crate) struct V6Header {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub traffic_class: u8,
    pub flow_label: u32,
    pub payload_len: u16,
    pub next_header: u8,
    pub hop_limit: u8,
}

/// The fixed IPv6 header at `off` (40 bytes), with version check.
pub(crate) fn v6_header(buf: &[u8], off: usize, bound: Bound, e: &mut Emit<'_>) -> Option<V6Header> {
    if e.check(IP, "IPv6 header", off, off + 40, bound) {
        return None;
    }
    let h = arr::<40>(buf, off)?;
    let version = h[0] >> 4;
    if version != 6 {
        e.malformed(IP, off..off + 1, format!("IPv6 header: expected version 6, saw {version}"));
        return None;
    }
    let vtf = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
    let src: [u8; 16] = arr::<16>(buf, off + 8).copied()?;
    let dst: [u8; 16] = arr::<16>(buf, off + 24).copied()?;
    let payload_len = u16::from_be_bytes([h[4], h[5]]);
    if payload_len == 0 && h[6] != IPV6_NO_NEXT {
        e.malformed(
            IP,
            off + 4..off + 6,
            format!(
                "IPv6 payload length 0 with next header {}: only a jumbogram says 0, and it needs a Hop-by-Hop Jumbo Payload option (RFC 2675 §3), which kudoscope does not decode; read as an empty packet",
                h[6]
            ),
        );
    }
    Some(V6Header {
        src: Ipv6Addr::from(src),
        dst: Ipv6Addr::from(dst),
        traffic_class: (vtf >> 20) as u8,
        flow_label: vtf & 0x000f_ffff,
        payload_len,
        next_header: h[6],
        hop_limit: h[7],
    })
}

/// How an extension-header walk ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChainEnd {
    /// An upper-layer protocol (not an extension header) starts at `pos`.
    Upper(u8),
    /// A fragment header (not atomic): the fragmentable part starts at `pos`.
    Fragment { next_header: u8, offset: u16, more: bool, id: u32, header_at: usize },
    /// ESP: encrypted from `pos` on.
    Esp,
    /// No Next Header (59).
    NoNext,
    /// A header was cut short or malformed (reported).
    Broken,
}

#[derive(Debug)]
pub(crate) struct Chain {
    pub end: ChainEnd,
    pub pos: usize,
    /// Extension headers walked: (type, byte length).
    pub exts: Vec<(u8, usize)>,
    /// Fragment header seen (also atomic ones): (id, offset in 8-byte units, more).
    pub fragment: Option<(u32, u16, bool)>,
}

fn ext_name(nh: u8) -> &'static str {
    match nh {
        IPV6_HOP_BY_HOP => "IPv6 Hop-by-Hop Options header",
        IPV6_ROUTING => "IPv6 Routing header",
        IPV6_FRAGMENT => "IPv6 Fragment header",
        IPV6_DEST_OPTS => "IPv6 Destination Options header",
        IPV6_MOBILITY => "IPv6 Mobility header",
        IPV6_HIP => "HIP header",
        IPV6_SHIM6 => "Shim6 header",
        IP_AH => "Authentication Header",
        _ => "extension header",
    }
}

/// Walks IPv6 extension headers (RFC 8200 §4) or, for IPv4 (`v6 == false`), an AH (RFC 4302),
/// starting with next header `nh` at `pos`.
pub(crate) fn walk_chain(buf: &[u8], pos: usize, bound: Bound, nh: u8, v6: bool, e: &mut Emit<'_>) -> Chain {
    let mut chain = Chain { end: ChainEnd::Broken, pos, exts: Vec::new(), fragment: None };
    let mut nh = nh;
    loop {
        let p = chain.pos;
        let generic = v6
            && matches!(
                nh,
                IPV6_HOP_BY_HOP | IPV6_ROUTING | IPV6_DEST_OPTS | IPV6_MOBILITY | IPV6_HIP | IPV6_SHIM6
            );
        if generic || nh == IP_AH {
            if e.check(IP, ext_name(nh), p, p + 2, bound) {
                return chain;
            }
            let Some(&[next, len]) = arr::<2>(buf, p) else { return chain };
            let len = if nh == IP_AH { (usize::from(len) + 2) * 4 } else { (usize::from(len) + 1) * 8 };
            if e.check(IP, ext_name(nh), p, p + len, bound) {
                return chain;
            }
            if nh == IPV6_HOP_BY_HOP && !chain.exts.is_empty() {
                e.finding(
                    FindingKind::IpMalformed,
                    Severity::Low,
                    IP.layer,
                    p..p + len,
                    "IPv6 Hop-by-Hop Options header: expected only right after the IPv6 header (RFC 8200 §4.1)"
                        .to_string(),
                );
            }
            chain.exts.push((nh, len));
            nh = next;
            chain.pos = p + len;
            continue;
        }
        match nh {
            IPV6_FRAGMENT if v6 => {
                if e.check(IP, ext_name(nh), p, p + 8, bound) {
                    return chain;
                }
                let Some(f) = arr::<8>(buf, p) else { return chain };
                let off_m = u16::from_be_bytes([f[2], f[3]]);
                let offset = off_m >> 3;
                let more = off_m & 1 != 0;
                let id = u32::from_be_bytes([f[4], f[5], f[6], f[7]]);
                chain.exts.push((nh, 8));
                chain.fragment = Some((id, offset, more));
                chain.pos = p + 8;
                if offset == 0 && !more {
                    // Atomic fragment (RFC 6946): processed as a whole packet.
                    nh = f[0];
                    continue;
                }
                chain.end = ChainEnd::Fragment { next_header: f[0], offset, more, id, header_at: p };
                return chain;
            }
            IP_ESP => {
                e.finding(
                    FindingKind::EncryptedPayload,
                    Severity::Info,
                    IP.layer,
                    p..bound.end,
                    "IPsec ESP (RFC 4303): encrypted payload not decoded".to_string(),
                );
                chain.end = ChainEnd::Esp;
                return chain;
            }
            IPV6_NO_NEXT if v6 => {
                chain.end = ChainEnd::NoNext;
                return chain;
            }
            other => {
                chain.end = ChainEnd::Upper(other);
                return chain;
            }
        }
    }
}

/// IPv6 at `off` in the frame.
pub(crate) fn ipv6(cx: &mut Cx<'_, '_>, off: usize, bound: Bound) {
    let data = cx.data;
    let verify = cx.cfg.verify_checksums;
    let mut e = cx.emit();
    let Some(h) = v6_header(data, off, bound, &mut e) else { return };
    let plen = usize::from(h.payload_len);
    let (pb, short) = bound.claim(off + 40 + plen);
    if short == Some(Short::Malformed) {
        e.short(
            Short::Malformed,
            IP,
            &format!("IPv6 packet (payload length {plen})"),
            off,
            off + 40 + plen,
            bound,
        );
    }
    // Findings of the walk come before the layer is pushed; the layer needs what the walk saw.
    let layer_index = e.layers.len();
    let mut chain = walk_chain(data, off + 40, pb, h.next_header, true, &mut e);
    e.layers.insert(
        layer_index.min(e.layers.len()),
        super::Layer {
            range: off..chain.pos,
            info: LayerInfo::Ipv6 {
                src: h.src,
                dst: h.dst,
                hop_limit: h.hop_limit,
                next_header: h.next_header,
                payload_len: h.payload_len,
                flow_label: h.flow_label,
                traffic_class: h.traffic_class,
                extensions: std::mem::take(&mut chain.exts),
                fragment: chain.fragment,
            },
        },
    );
    match chain.end {
        ChainEnd::Upper(PROTO_UDP) => {
            if let Some(u) = udp::decode(data, chain.pos, pb, Pseudo::V6(h.src, h.dst), verify, &mut e) {
                let (s, d) = endpoints(IpAddr::V6(h.src), IpAddr::V6(h.dst), &u);
                cx.datagram_in_frame(s, d, u.payload, u.missing);
            }
        }
        ChainEnd::Upper(_) | ChainEnd::Esp | ChainEnd::NoNext => {
            if short == Some(Short::Truncated) {
                e.short(
                    Short::Truncated,
                    IP,
                    &format!("IPv6 packet (payload length {plen})"),
                    off,
                    off + 40 + plen,
                    bound,
                );
            }
        }
        ChainEnd::Broken => {}
        ChainEnd::Fragment { next_header, offset, more, id, header_at } => {
            if short == Some(Short::Truncated) {
                e.short(
                    Short::Truncated,
                    IP,
                    &format!("IPv6 fragment (payload length {plen}); not used for reassembly"),
                    off,
                    off + 40 + plen,
                    bound,
                );
                return;
            }
            if short.is_some() {
                return;
            }
            let bytes = data.get(chain.pos..pb.end).unwrap_or(&[]);
            if more && bytes.len() % 8 != 0 {
                e.finding(
                    FindingKind::IpMalformed,
                    Severity::Low,
                    IP.layer,
                    chain.pos..pb.end,
                    format!(
                        "IPv6 fragment with M set: fragmentable part expected to be a multiple of 8 bytes (RFC 8200 §4.5), saw {}",
                        bytes.len()
                    ),
                );
            }
            let frag = Fragment {
                offset: usize::from(offset) * 8,
                bytes,
                last: !more,
                total: None,
                max_len: MAX_IP_LEN,
                frame: cx.frame,
                ts: cx.ts,
                header_span: header_at..header_at + 8,
                bytes_in_frame: Some(chain.pos),
                payload_span: chain.pos..pb.end,
                meta: Meta { next_header: (offset == 0).then_some(next_header), udp_checksum_elided: false },
            };
            let key = Key::V6 { src: h.src, dst: h.dst, id };
            let outcome = cx.reasm.add(key, frag, cx.cfg, &mut cx.out.findings, &mut cx.out.earlier_findings);
            if let Outcome::Complete(done) = outcome {
                deliver_v6_fragmentable(cx, h.src, h.dst, done.meta.next_header, done.frames, done.bytes);
            }
        }
    }
}

/// A reassembled IPv6 fragmentable part (RFC 8200 §4.5): extension headers after the fragment
/// header, then the upper layer.
fn deliver_v6_fragmentable(
    cx: &mut Cx<'_, '_>,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    next_header: Option<u8>,
    frames: Vec<u64>,
    bytes: Vec<u8>,
) {
    let verify = cx.cfg.verify_checksums;
    let len = bytes.len();
    let mut e = cx.emit_reassembled();
    let Some(nh) = next_header else {
        e.malformed(
            IP,
            0..len,
            "reassembled IPv6 datagram: the first fragment's Next Header is unknown".to_string(),
        );
        return;
    };
    let chain = walk_chain(&bytes, 0, Bound::exact(len), nh, true, &mut e);
    match chain.end {
        ChainEnd::Upper(PROTO_UDP) => {
            if let Some(u) = udp::decode(&bytes, chain.pos, Bound::exact(len), Pseudo::V6(src, dst), verify, &mut e) {
                let (s, d) = endpoints(IpAddr::V6(src), IpAddr::V6(dst), &u);
                cx.datagram_reassembled(s, d, u.payload, frames, bytes);
            }
        }
        ChainEnd::Fragment { header_at, .. } => e.malformed(
            IP,
            header_at..header_at + 8,
            "reassembled IPv6 datagram: expected no second Fragment header, saw one (nested fragmentation not decoded)"
                .to_string(),
        ),
        _ => {}
    }
}

/// A whole IPv6 datagram held in a buffer (a reassembled 6LoWPAN datagram): header, extension
/// headers and UDP, layers into `e`. Fragment headers inside are not reassembled again.
/// With `fix_udp_checksum`, the (elided) UDP checksum is computed and written into `buf` first.
pub(crate) fn ipv6_buffer(
    buf: &mut [u8],
    verify: bool,
    fix_udp_checksum: bool,
    e: &mut Emit<'_>,
) -> Option<(Endpoint, Endpoint, std::ops::Range<usize>)> {
    let len = buf.len();
    let bound = Bound::exact(len);
    let h = v6_header(buf, 0, bound, e)?;
    let plen = usize::from(h.payload_len);
    let (pb, short) = bound.claim(40 + plen);
    if let Some(s) = short {
        e.short(s, IP, &format!("IPv6 packet (payload length {plen})"), 0, 40 + plen, bound);
        return None;
    }
    let layer_index = e.layers.len();
    let mut chain = walk_chain(buf, 40, pb, h.next_header, true, e);
    e.layers.insert(
        layer_index.min(e.layers.len()),
        super::Layer {
            range: 0..chain.pos,
            info: LayerInfo::Ipv6 {
                src: h.src,
                dst: h.dst,
                hop_limit: h.hop_limit,
                next_header: h.next_header,
                payload_len: h.payload_len,
                flow_label: h.flow_label,
                traffic_class: h.traffic_class,
                extensions: std::mem::take(&mut chain.exts),
                fragment: chain.fragment,
            },
        },
    );
    match chain.end {
        ChainEnd::Upper(PROTO_UDP) => {
            let pseudo = Pseudo::V6(h.src, h.dst);
            if fix_udp_checksum {
                let udp_len = super::be16(buf, chain.pos + 4).map(usize::from).unwrap_or(0);
                if let Some(u) = buf.get(chain.pos..(chain.pos + udp_len).min(pb.end)) {
                    let ck = udp::udp_checksum(pseudo, u);
                    if let Some(f) = buf.get_mut(chain.pos + 6..chain.pos + 8) {
                        f.copy_from_slice(&ck.to_be_bytes());
                    }
                }
            }
            let u = udp::decode(buf, chain.pos, pb, pseudo, verify && !fix_udp_checksum, e)?;
            let (s, d) = endpoints(IpAddr::V6(h.src), IpAddr::V6(h.dst), &u);
            Some((s, d, u.payload))
        }
        ChainEnd::Fragment { header_at, .. } => {
            e.finding(
                FindingKind::NetUnsupported,
                Severity::Info,
                IP.layer,
                header_at..header_at + 8,
                "IPv6 Fragment header inside a reassembled 6LoWPAN datagram: not reassembled again"
                    .to_string(),
            );
            None
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use crate::capture::LinkType;

    fn cfg() -> NetConfig {
        NetConfig { verify_checksums: true, ..NetConfig::default() }
    }

    /// RFC 791 §3.1 header with the checksum filled in.
    fn v4(id: u16, proto: u8, mf: bool, frag_off: u16, payload: &[u8]) -> Vec<u8> {
        let tl = (20 + payload.len()) as u16;
        let ff = (u16::from(mf) << 13) | frag_off;
        let mut p = vec![0x45, 0];
        p.extend_from_slice(&tl.to_be_bytes());
        p.extend_from_slice(&id.to_be_bytes());
        p.extend_from_slice(&ff.to_be_bytes());
        p.extend_from_slice(&[64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        let ck = !udp::fold(udp::sum(&p, 0));
        p[10..12].copy_from_slice(&ck.to_be_bytes());
        p.extend_from_slice(payload);
        p
    }

    fn udp_bytes(src: IpAddr, dst: IpAddr, payload: &[u8]) -> Vec<u8> {
        let mut u = vec![0x16, 0x33, 0xd4, 0x31];
        u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        u.extend_from_slice(&[0, 0]);
        u.extend_from_slice(payload);
        let p = match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => udp::Pseudo::V4(s, d),
            (IpAddr::V6(s), IpAddr::V6(d)) => udp::Pseudo::V6(s, d),
            _ => unreachable!(),
        };
        let ck = udp::udp_checksum(p, &u);
        u[6..8].copy_from_slice(&ck.to_be_bytes());
        u
    }

    fn a4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv4_options_and_checksum() {
        // IHL 6: one NOP, one EOL, two padding bytes (RFC 791 §3.1 options).
        let u = udp_bytes(a4("10.0.0.1"), a4("10.0.0.2"), b"x");
        let mut p =
            vec![0x46, 0, 0, (24 + u.len()) as u8, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
        p.extend_from_slice(&[1, 0, 0, 0]);
        let ck = !udp::fold(udp::sum(&p, 0));
        p[10..12].copy_from_slice(&ck.to_be_bytes());
        p.extend_from_slice(&u);
        let mut d = NetDecoder::new(cfg());
        let r = d.decode(LinkType::IPV4, &p, 1, Timestamp::ZERO);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert!(matches!(r.layers[0].info, LayerInfo::Ipv4 { header_len: 24, checksum_ok: Some(true), .. }));
        assert_eq!(r.layers[0].range, 0..24);
        assert_eq!(r.datagram.unwrap().payload.as_ref(), b"x");

        // Bad checksum: a finding, the datagram still comes out.
        let mut bad = p.clone();
        bad[10] ^= 0xff;
        let r = d.decode(LinkType::IPV4, &bad, 2, Timestamp::ZERO);
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].kind, FindingKind::IpChecksum);
        assert_eq!(r.findings[0].span, Some(Span::Frame { start: 10, end: 12 }));
        assert!(r.datagram.is_some());

        // Option with a length running past the options area.
        let mut badopt = p.clone();
        badopt[20..24].copy_from_slice(&[7, 9, 0, 0]);
        let ck = !udp::fold(udp::sum(
            &{
                let mut h = badopt[..24].to_vec();
                h[10..12].copy_from_slice(&[0, 0]);
                h
            },
            0,
        ));
        badopt[10..12].copy_from_slice(&ck.to_be_bytes());
        let r = d.decode(LinkType::IPV4, &badopt, 3, Timestamp::ZERO);
        assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
        assert_eq!(r.findings[0].kind, FindingKind::IpMalformed);
        assert_eq!(r.findings[0].span, Some(Span::Frame { start: 20, end: 24 }));
    }

    #[test]
    fn ipv4_total_length_truncated_vs_malformed() {
        let u = udp_bytes(a4("10.0.0.1"), a4("10.0.0.2"), b"hello world");
        let p = v4(1, 17, false, 0, &u);
        let cut = &p[..30];
        // wire length unknown: truncated, reported once, by UDP (the innermost cut layer)
        let r = NetDecoder::default().decode(LinkType::IPV4, cut, 1, Timestamp::ZERO);
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].kind, FindingKind::UdpTruncated);
        // the captured part of the payload is handed on, with what is missing
        let dg = r.datagram.as_ref().unwrap();
        assert_eq!((&dg.payload[..], dg.missing), (&b"he"[..], 9));
        // the wire had all bytes: still truncated
        let r = NetDecoder::default().decode_with_orig_len(
            LinkType::IPV4,
            cut,
            Some(p.len() as u32),
            1,
            Timestamp::ZERO,
        );
        assert_eq!(r.findings[0].kind, FindingKind::UdpTruncated);
        // the wire had only 30 bytes: the total length lies
        let r = NetDecoder::default().decode_with_orig_len(LinkType::IPV4, cut, Some(30), 1, Timestamp::ZERO);
        assert_eq!(r.findings[0].kind, FindingKind::IpMalformed);
        assert!(r.findings[0].message.contains("total length 39"), "{}", r.findings[0].message);
        assert!(r.datagram.is_none());
        // TCP cut short: IP reports it
        let t = v4(1, 6, false, 0, &[0u8; 20]);
        let r = NetDecoder::default().decode(LinkType::IPV4, &t[..30], 1, Timestamp::ZERO);
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].kind, FindingKind::IpTruncated);
        // total length smaller than IHL
        let mut m = p.clone();
        m[2..4].copy_from_slice(&[0, 10]);
        let r = NetDecoder::default().decode(LinkType::IPV4, &m, 1, Timestamp::ZERO);
        assert_eq!(r.findings[0].kind, FindingKind::IpMalformed);
        assert_eq!(r.layers.len(), 1);
    }

    #[test]
    fn ipv4_fragments_out_of_order() {
        let payload: Vec<u8> = (0..100u8).collect();
        let u = udp_bytes(a4("10.0.0.1"), a4("10.0.0.2"), &payload); // 108 bytes
        let f1 = v4(7, 17, true, 0, &u[..48]);
        let f2 = v4(7, 17, true, 6, &u[48..96]);
        let f3 = v4(7, 17, false, 12, &u[96..]);
        let mut d = NetDecoder::new(cfg());
        let r = d.decode(LinkType::IPV4, &f3, 1, Timestamp::new(1, 0));
        assert!(r.datagram.is_none() && r.findings.is_empty());
        assert_eq!(r.layers.len(), 1);
        let r = d.decode(LinkType::IPV4, &f1, 2, Timestamp::new(1, 0));
        assert!(r.datagram.is_none());
        assert_eq!(d.pending_reassemblies(), 1);
        let r = d.decode(LinkType::IPV4, &f2, 3, Timestamp::new(2, 0));
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        let dg = r.datagram.unwrap();
        assert_eq!(dg.payload.as_ref(), &payload[..]);
        assert_eq!(dg.payload_offset, None);
        let re = dg.reassembled.unwrap();
        assert_eq!(re.frames, vec![1, 2, 3]);
        assert_eq!(re.bytes, u);
        assert_eq!(r.reassembled_layers.len(), 1);
        assert_eq!(r.reassembled_layers[0].range, 0..8);
        assert!(matches!(
            r.reassembled_layers[0].info,
            LayerInfo::Udp { checksum_ok: Some(true), length: 108, .. }
        ));
        assert_eq!(d.pending_reassemblies(), 0);
        assert!(d.finish().is_empty());
    }

    #[test]
    fn ipv4_fragment_overlap_conflict_and_duplicate() {
        let u = udp_bytes(a4("10.0.0.1"), a4("10.0.0.2"), &[0xaa; 40]); // 48 bytes
        let f1 = v4(9, 17, true, 0, &u[..24]);
        let mut evil = u[16..48].to_vec();
        evil[0] ^= 0xff; // byte 16 differs from f1's
        let f2 = v4(9, 17, false, 2, &evil);
        let mut d = NetDecoder::default();
        assert!(d.decode(LinkType::IPV4, &f1, 1, Timestamp::ZERO).findings.is_empty());
        let r = d.decode(LinkType::IPV4, &f1, 2, Timestamp::ZERO);
        assert!(r.findings.is_empty(), "identical duplicate accepted silently");
        let r = d.decode(LinkType::IPV4, &f2, 3, Timestamp::ZERO);
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].kind, FindingKind::IpFragmentOverlap);
        assert_eq!(r.findings[0].span, Some(Span::Frame { start: 20, end: 21 }), "only the differing byte");
        assert_eq!(r.findings[0].related_frames, vec![1, 2]);
        let dg = r.datagram.unwrap();
        assert_eq!(dg.reassembled.unwrap().bytes, u, "first-received bytes kept");
    }

    #[test]
    fn timeout_and_eviction_and_finish() {
        let u = udp_bytes(a4("10.0.0.1"), a4("10.0.0.2"), &[1; 40]);
        let mut d = NetDecoder::new(NetConfig {
            reassembly_timeout_secs: 5,
            max_pending_reassemblies: 2,
            ..NetConfig::default()
        });
        d.decode(LinkType::IPV4, &v4(1, 17, true, 0, &u[..24]), 1, Timestamp::new(100, 0));
        d.decode(LinkType::IPV4, &v4(2, 17, true, 0, &u[..24]), 2, Timestamp::new(101, 0));
        // a third pending datagram evicts the oldest (frame 1)
        let f3 = v4(3, 17, true, 0, &u[..24]);
        let r = d.decode(LinkType::IPV4, &f3, 3, Timestamp::new(102, 0));
        assert_eq!(r.earlier_findings.len(), 1);
        assert_eq!(r.earlier_findings[0].0, 1);
        assert_eq!(r.earlier_findings[0].1.kind, FindingKind::IpReassemblyIncomplete);
        assert_eq!(r.earlier_findings[0].1.span, Some(Span::Frame { start: 0, end: 20 }));
        // 106.5 s: frame 2's datagram (first fragment at 101 s) has expired; frame 3's has not
        let r = d.decode(LinkType::IPV4, &[0x45], 4, Timestamp::new(106, 500_000_000));
        assert_eq!(r.earlier_findings.len(), 1);
        assert_eq!(r.earlier_findings[0].0, 2);
        assert!(r.earlier_findings[0].1.message.contains("5 s"));
        // the late second fragment of datagram 2 now starts a new reassembly instead
        let late = v4(2, 17, false, 3, &u[24..]);
        let r = d.decode(LinkType::IPV4, &late, 5, Timestamp::new(106, 600_000_000));
        assert!(r.datagram.is_none());
        let fin = d.finish();
        assert_eq!(fin.iter().map(|(f, _)| *f).collect::<Vec<_>>(), vec![3, 5]);
        assert!(fin.iter().all(|(_, f)| f.kind == FindingKind::IpReassemblyIncomplete));
        assert_eq!(d.pending_reassemblies(), 0);
    }

    fn v6(nh: u8, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0x0a, 0xbc, 0xde];
        p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        p.extend_from_slice(&[nh, 64]);
        p.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
        p.extend_from_slice(&"2001:db8::2".parse::<Ipv6Addr>().unwrap().octets());
        p.extend_from_slice(payload);
        p
    }

    #[test]
    fn ipv6_payload_length_zero_is_malformed_unless_nothing_follows() {
        let u = udp_bytes(a4("2001:db8::1"), a4("2001:db8::2"), b"coap");
        let mut p = v6(17, &u);
        p[4..6].copy_from_slice(&[0, 0]);
        let r = NetDecoder::new(cfg()).decode(LinkType::IPV6, &p, 1, Timestamp::ZERO);
        assert!(r.datagram.is_none());
        let f = r.findings.iter().find(|f| f.kind == FindingKind::IpMalformed).expect("finding");
        assert!(f.message.contains("payload length 0 with next header 17"), "{}", f.message);
        assert_eq!(f.span, Some(Span::frame(4..6)));
        // No Next Header (59) with nothing after the header is a complete, empty packet.
        let empty = v6(59, &[]);
        let r = NetDecoder::new(cfg()).decode(LinkType::IPV6, &empty, 1, Timestamp::ZERO);
        assert!(r.findings.iter().all(|f| f.kind != FindingKind::IpMalformed), "{:?}", r.findings);
    }

    #[test]
    fn ipv6_extension_headers_rfc8200_s4() {
        let u = udp_bytes(a4("2001:db8::1"), a4("2001:db8::2"), b"coap");
        // Hop-by-Hop (8 bytes: PadN), Destination Options (16 bytes), AH (RFC 4302: len 4 ->
        // 24 bytes), then UDP.
        let mut ext = vec![60, 0, 1, 4, 0, 0, 0, 0];
        ext.extend_from_slice(&[51, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        ext.extend_from_slice(&[17, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
        ext.extend_from_slice(&[0; 12]);
        ext.extend_from_slice(&u);
        let p = v6(0, &ext);
        let r = NetDecoder::new(cfg()).decode(LinkType::IPV6, &p, 1, Timestamp::ZERO);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        match &r.layers[0].info {
            LayerInfo::Ipv6 { extensions, fragment, flow_label, traffic_class, .. } => {
                assert_eq!(extensions, &vec![(0, 8), (60, 16), (51, 24)]);
                assert_eq!(*fragment, None);
                assert_eq!(*flow_label, 0xabcde);
                assert_eq!(*traffic_class, 0);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(r.layers[0].range, 0..88);
        let dg = r.datagram.unwrap();
        assert_eq!(dg.payload.as_ref(), b"coap");
        assert_eq!(dg.src.to_string(), "[2001:db8::1]:5683");

        // ESP stops with a finding
        let p = v6(50, &[0; 16]);
        let r = NetDecoder::default().decode(LinkType::IPV6, &p, 1, Timestamp::ZERO);
        assert_eq!(r.findings[0].kind, FindingKind::EncryptedPayload);
        assert!(r.datagram.is_none());

        // an extension header running past the payload length is malformed when the frame
        // is known complete
        let p = v6(60, &[17, 2, 0, 0, 0, 0, 0, 0]);
        let r = NetDecoder::default().decode_with_orig_len(
            LinkType::IPV6,
            &p,
            Some(p.len() as u32),
            1,
            Timestamp::ZERO,
        );
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].kind, FindingKind::IpMalformed);
    }

    fn frag_hdr(nh: u8, offset8: u16, more: bool, id: u32) -> Vec<u8> {
        let mut f = vec![nh, 0];
        f.extend_from_slice(&((offset8 << 3) | u16::from(more)).to_be_bytes());
        f.extend_from_slice(&id.to_be_bytes());
        f
    }

    #[test]
    fn ipv6_fragments_out_of_order_and_atomic() {
        let payload: Vec<u8> = (0..60u8).collect();
        let u = udp_bytes(a4("2001:db8::1"), a4("2001:db8::2"), &payload); // 68 bytes
        // first fragment: a Destination Options header (8) + 24 bytes of UDP = 32
        let mut part = vec![17, 0, 1, 4, 0, 0, 0, 0];
        part.extend_from_slice(&u);
        let mk = |off8: u16, more: bool, bytes: &[u8], nh: u8| {
            let mut x = frag_hdr(nh, off8, more, 0xdead_beef);
            x.extend_from_slice(bytes);
            v6(44, &x)
        };
        let p1 = mk(0, true, &part[..32], 60);
        let p2 = mk(4, true, &part[32..64], 17); // next header of non-first fragments is ignored
        let p3 = mk(8, false, &part[64..], 17);
        let mut d = NetDecoder::new(cfg());
        for (i, p) in [&p2, &p3].into_iter().enumerate() {
            let r = d.decode(LinkType::IPV6, p, i as u64 + 1, Timestamp::ZERO);
            assert!(r.datagram.is_none());
            assert!(matches!(&r.layers[0].info, LayerInfo::Ipv6 { fragment: Some((0xdead_beef, _, _)), .. }));
        }
        let r = d.decode(LinkType::IPV6, &p1, 3, Timestamp::ZERO);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        let dg = r.datagram.unwrap();
        assert_eq!(dg.payload.as_ref(), &payload[..]);
        assert_eq!(dg.reassembled.as_ref().unwrap().frames, vec![1, 2, 3]);
        assert_eq!(r.reassembled_layers[0].range, 8..16);

        // atomic fragment (RFC 6946): decoded directly
        let mut x = frag_hdr(17, 0, false, 5);
        x.extend_from_slice(&u);
        let p = v6(44, &x);
        let r = NetDecoder::new(cfg()).decode(LinkType::IPV6, &p, 1, Timestamp::ZERO);
        assert_eq!(r.datagram.unwrap().payload.as_ref(), &payload[..]);
        assert!(matches!(&r.layers[0].info, LayerInfo::Ipv6 { fragment: Some((5, 0, false)), .. }));
    }

    #[test]
    fn raw_picks_version() {
        let u = udp_bytes(a4("10.0.0.1"), a4("10.0.0.2"), b"x");
        let p = v4(1, 17, false, 0, &u);
        let r = NetDecoder::default().decode(LinkType::RAW, &p, 1, Timestamp::ZERO);
        assert!(r.datagram.is_some());
        let u = udp_bytes(a4("2001:db8::1"), a4("2001:db8::2"), b"x");
        let p = v6(17, &u);
        let r = NetDecoder::default().decode(LinkType::RAW, &p, 1, Timestamp::ZERO);
        assert!(r.datagram.is_some());
        let r = NetDecoder::default().decode(LinkType::RAW, &[0x50, 0], 1, Timestamp::ZERO);
        assert_eq!(r.findings[0].kind, FindingKind::IpMalformed);
        let r = NetDecoder::default().decode(LinkType::RAW, &[], 1, Timestamp::ZERO);
        assert_eq!(r.findings[0].kind, FindingKind::IpTruncated);
    }
}
