//! 6LoWPAN (RFC 4944, RFC 6282): dispatch, mesh and broadcast headers, FRAG1/FRAGN reassembly,
//! uncompressed IPv6, LOWPAN_IPHC with every TF/NH/HLIM/CID/SAC/SAM/M/DAC/DAM combination,
//! LOWPAN_NHC extension headers and UDP (RFC 6282 §4.2, §4.3).

use super::ip;
use super::reassembly::{Fragment, Key, Meta, Outcome};
use super::udp::{self, PROTO_UDP, Pseudo};
use super::{
    Bound, Cx, Emit, Endpoint, LOWPAN, LayerInfo, MacAddr, NetConfig, SixlowpanContext, SixlowpanHeader, UDP,
    be16,
};
use crate::finding::{FindingKind, Severity};
use std::net::{IpAddr, Ipv6Addr};
use std::ops::Range;

/// Largest datagram_size (11 bits, RFC 4944 §5.3).
const MAX_DATAGRAM_SIZE: usize = 2047;

/// The link-layer addresses 6LoWPAN derives IIDs and fragment keys from (802.15.4 source and
/// destination, replaced by the mesh header's originator and final destination when present).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LinkAddrs {
    pub src: Option<MacAddr>,
    pub dst: Option<MacAddr>,
}

/// Interface identifier from a link-layer address (RFC 6282 §3.2.2, RFC 4944 §6):
/// EUI-64 with the Universal/Local bit inverted; a 16-bit short address as
/// 0000:00ff:fe00:XXXX; an EUI-48 expanded with ff:fe (RFC 2464 §4).
pub(crate) fn iid_from_mac(m: &MacAddr) -> Option<[u8; 8]> {
    let b = m.as_bytes();
    match *b {
        [a0, a1, a2, a3, a4, a5, a6, a7] => Some([a0 ^ 0x02, a1, a2, a3, a4, a5, a6, a7]),
        [a0, a1] => Some([0, 0, 0, 0xff, 0xfe, 0, a0, a1]),
        [a0, a1, a2, a3, a4, a5] => Some([a0 ^ 0x02, a1, a2, 0xff, 0xfe, a3, a4, a5]),
        _ => None,
    }
}

/// Overlays the first `len` bits of `prefix` onto `addr` (context-based compression: "bits
/// covered by context information are always used", RFC 6282 §3.1.1).
fn apply_prefix(addr: &mut [u8; 16], prefix: &[u8; 16], len: u8) {
    let len = usize::from(len.min(128));
    for (i, (a, p)) in addr.iter_mut().zip(prefix.iter()).enumerate() {
        let bit0 = i * 8;
        if bit0 >= len {
            break;
        }
        let n = (len - bit0).min(8);
        let mask = (0xffu16 << (8 - n)) as u8;
        *a = (*a & !mask) | (*p & mask);
    }
}

/// Entry point for an 802.15.4 data frame's payload at `pos`.
pub(crate) fn decode(cx: &mut Cx<'_, '_>, pos: usize, bound: Bound, link: LinkAddrs) {
    let data = cx.data;
    let mut link = link;
    let mut pos = pos;
    let mut after: Option<&'static str> = None;
    // Each header consumes at least one byte, so this ends.
    loop {
        let Some(&d) = data.get(pos).filter(|_| pos < bound.end) else {
            if let Some(what) = after {
                let mut e = cx.emit();
                e.check(LOWPAN, &format!("6LoWPAN dispatch after the {what}"), pos, pos + 1, bound);
            }
            return;
        };
        match d {
            // NALP: not a LoWPAN frame (RFC 4944 §5.1)
            0x00..=0x3f => return,
            0x41 => {
                cx.emit().layer(pos..pos + 1, sixlowpan_layer(SixlowpanHeader::Ipv6Uncompressed));
                ip::ipv6(cx, pos + 1, bound);
                return;
            }
            0x50 => {
                let mut e = cx.emit();
                if e.check(LOWPAN, "6LoWPAN broadcast header (LOWPAN_BC0)", pos, pos + 2, bound) {
                    return;
                }
                let seq = data.get(pos + 1).copied().unwrap_or(0);
                e.layer(pos..pos + 2, sixlowpan_layer(SixlowpanHeader::Broadcast { seq }));
                pos += 2;
                after = Some("broadcast header");
            }
            0x60..=0x7f => {
                iphc_unfragmented(cx, pos, bound, &link);
                return;
            }
            0x80..=0xbf => {
                let Some((end, hdr, l)) = mesh(data, pos, bound, &mut cx.emit()) else { return };
                cx.emit().layer(pos..end, sixlowpan_layer(hdr));
                link = l;
                pos = end;
                after = Some("mesh header");
            }
            0xc0..=0xc7 => {
                frag1(cx, pos, bound, &link);
                return;
            }
            0xe0..=0xe7 => {
                fragn(cx, pos, bound, &link);
                return;
            }
            other => {
                let name = match other {
                    0x40 => "ESC",
                    0x42 => "LOWPAN_HC1 (RFC 4944, obsoleted by RFC 6282)",
                    0xf0..=0xff => "page switch (RFC 8025)",
                    _ => "reserved",
                };
                cx.emit().finding(
                    FindingKind::NetUnsupported,
                    Severity::Info,
                    LOWPAN.layer,
                    pos..pos + 1,
                    format!("6LoWPAN dispatch 0x{other:02x} ({name}) not decoded"),
                );
                return;
            }
        }
    }
}

fn sixlowpan_layer(header: SixlowpanHeader) -> LayerInfo {
    LayerInfo::Sixlowpan { header }
}

/// Mesh addressing header (RFC 4944 §5.2; hops left 0xf means a Deep Hops Left byte follows,
/// RFC 8025 §3). Addresses are carried in network byte order.
fn mesh(
    data: &[u8],
    pos: usize,
    bound: Bound,
    e: &mut Emit<'_>,
) -> Option<(usize, SixlowpanHeader, LinkAddrs)> {
    let d = *data.get(pos)?;
    let v_short = d & 0x20 != 0;
    let f_short = d & 0x10 != 0;
    let mut hops_left = d & 0x0f;
    let mut p = pos + 1;
    let deep = hops_left == 0x0f;
    let need = p + usize::from(deep) + if v_short { 2 } else { 8 } + if f_short { 2 } else { 8 };
    if e.check(LOWPAN, "6LoWPAN mesh header", pos, need, bound) {
        return None;
    }
    if deep {
        hops_left = data.get(p).copied().unwrap_or(0);
        p += 1;
    }
    let ol = if v_short { 2 } else { 8 };
    let originator = MacAddr::new(data.get(p..p + ol)?);
    p += ol;
    let fl = if f_short { 2 } else { 8 };
    let final_dst = MacAddr::new(data.get(p..p + fl)?);
    p += fl;
    Some((
        p,
        SixlowpanHeader::Mesh { hops_left, originator, final_dst },
        LinkAddrs { src: Some(originator), dst: Some(final_dst) },
    ))
}

/// A decoded LOWPAN_IPHC header (RFC 6282 §3.1).
#[derive(Debug, Clone, Copy)]
struct Iphc {
    src: Ipv6Addr,
    dst: Ipv6Addr,
    traffic_class: u8,
    flow_label: u32,
    hop_limit: u8,
    /// Next Header carried inline (NH = 0); None when LOWPAN_NHC follows.
    nh_inline: Option<u8>,
    /// End of the IPHC header with its inline fields.
    end: usize,
    /// Both addresses fully known (no unknown context, no missing link-layer address).
    exact: bool,
}

/// Reads `n` inline bytes at `*p`, reporting a shortfall against the IPHC header at `start`.
fn take<'d>(
    data: &'d [u8],
    p: &mut usize,
    n: usize,
    start: usize,
    bound: Bound,
    e: &mut Emit<'_>,
) -> Option<&'d [u8]> {
    if e.check(LOWPAN, "6LoWPAN IPHC header", start, *p + n, bound) {
        return None;
    }
    let s = data.get(*p..*p + n)?;
    *p += n;
    Some(s)
}

fn context<'c>(
    ctxs: &'c [SixlowpanContext],
    id: u8,
    which: &str,
    span: Range<usize>,
    e: &mut Emit<'_>,
) -> Option<&'c SixlowpanContext> {
    let c = ctxs.iter().find(|c| c.id == id);
    if c.is_none() {
        e.finding(
            FindingKind::SixlowpanUnknownContext,
            Severity::Low,
            LOWPAN.layer,
            span,
            format!(
                "6LoWPAN IPHC {which} address uses context {id}, which is not configured \
                 (NetConfig::sixlowpan_contexts): context {id} unknown, its prefix is shown as zeros"
            ),
        );
    }
    c
}

/// Unicast address for SAM/DAM (stateless when `ctx_id` is None).
#[allow(clippy::too_many_arguments)]
fn unicast(
    data: &[u8],
    p: &mut usize,
    mode: u8,
    ctx_id: Option<u8>,
    link: Option<&MacAddr>,
    which: &str,
    start: usize,
    bound: Bound,
    ctxs: &[SixlowpanContext],
    e: &mut Emit<'_>,
    exact: &mut bool,
) -> Option<Ipv6Addr> {
    let mut a = [0u8; 16];
    if ctx_id.is_none() {
        a[0] = 0xfe;
        a[1] = 0x80;
    }
    match mode {
        0 => {
            if ctx_id.is_some() {
                // SAC=1, SAM=00: the unspecified address (DAC=1, DAM=00 is rejected by the caller).
                return Some(Ipv6Addr::UNSPECIFIED);
            }
            let b: [u8; 16] = take(data, p, 16, start, bound, e)?.try_into().ok()?;
            return Some(Ipv6Addr::from(b));
        }
        1 => {
            let b = take(data, p, 8, start, bound, e)?;
            a.get_mut(8..)?.copy_from_slice(b);
        }
        2 => {
            let b = take(data, p, 2, start, bound, e)?;
            a.get_mut(8..14)?.copy_from_slice(&[0, 0, 0, 0xff, 0xfe, 0]);
            a.get_mut(14..)?.copy_from_slice(b);
        }
        _ => match link.and_then(iid_from_mac) {
            Some(iid) => a.get_mut(8..)?.copy_from_slice(&iid),
            None => {
                *exact = false;
                e.malformed(
                    LOWPAN,
                    start..start + 2,
                    format!(
                        "6LoWPAN IPHC {which} address fully elided (mode 3): expected a link-layer {which} address \
                         to derive it from, saw none"
                    ),
                );
            }
        },
    }
    if let Some(id) = ctx_id {
        match context(ctxs, id, which, start..start + 2, e) {
            Some(c) => apply_prefix(&mut a, &c.prefix.octets(), c.prefix_len),
            None => *exact = false,
        }
    }
    Some(Ipv6Addr::from(a))
}

/// Parses LOWPAN_IPHC at `pos` (RFC 6282 §3.1.1 base format, §3.2 inline fields in IPv6 header
/// order).
fn parse_iphc(
    data: &[u8],
    pos: usize,
    bound: Bound,
    link: &LinkAddrs,
    ctxs: &[SixlowpanContext],
    e: &mut Emit<'_>,
) -> Option<Iphc> {
    let mut p = pos;
    let h = take(data, &mut p, 2, pos, bound, e)?;
    let (b0, b1) = (*h.first()?, *h.get(1)?);
    let tf = (b0 >> 3) & 3;
    let nh = b0 & 0x04 != 0;
    let hlim = b0 & 3;
    let cid = b1 & 0x80 != 0;
    let sac = b1 & 0x40 != 0;
    let sam = (b1 >> 4) & 3;
    let m = b1 & 0x08 != 0;
    let dac = b1 & 0x04 != 0;
    let dam = b1 & 3;
    let (sci, dci) = if cid {
        let c = *take(data, &mut p, 1, pos, bound, e)?.first()?;
        (c >> 4, c & 0x0f)
    } else {
        (0, 0)
    };
    let (traffic_class, flow_label) = match tf {
        0 => {
            let b: [u8; 4] = take(data, &mut p, 4, pos, bound, e)?.try_into().ok()?;
            let ecn = b[0] >> 6;
            let dscp = b[0] & 0x3f;
            (dscp << 2 | ecn, u32::from(b[1] & 0x0f) << 16 | u32::from(b[2]) << 8 | u32::from(b[3]))
        }
        1 => {
            let b: [u8; 3] = take(data, &mut p, 3, pos, bound, e)?.try_into().ok()?;
            (b[0] >> 6, u32::from(b[0] & 0x0f) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]))
        }
        2 => {
            let b = *take(data, &mut p, 1, pos, bound, e)?.first()?;
            ((b & 0x3f) << 2 | b >> 6, 0)
        }
        _ => (0, 0),
    };
    let nh_inline = if nh { None } else { Some(*take(data, &mut p, 1, pos, bound, e)?.first()?) };
    let hop_limit = match hlim {
        0 => *take(data, &mut p, 1, pos, bound, e)?.first()?,
        1 => 1,
        2 => 64,
        _ => 255,
    };
    let mut exact = true;
    let src = unicast(
        data,
        &mut p,
        sam,
        sac.then_some(sci),
        link.src.as_ref(),
        "source",
        pos,
        bound,
        ctxs,
        e,
        &mut exact,
    )?;
    let dst = if !m {
        if dac && dam == 0 {
            e.malformed(
                LOWPAN,
                pos + 1..pos + 2,
                "6LoWPAN IPHC: DAC=1 with DAM=00 is reserved (RFC 6282 §3.1.1)".to_string(),
            );
            return None;
        }
        unicast(
            data,
            &mut p,
            dam,
            dac.then_some(dci),
            link.dst.as_ref(),
            "destination",
            pos,
            bound,
            ctxs,
            e,
            &mut exact,
        )?
    } else {
        let mut a = [0u8; 16];
        a[0] = 0xff;
        match (dac, dam) {
            (false, 0) => {
                let b: [u8; 16] = take(data, &mut p, 16, pos, bound, e)?.try_into().ok()?;
                a = b;
            }
            (false, 1) => {
                // ffXX::00XX:XXXX:XXXX
                let b: [u8; 6] = take(data, &mut p, 6, pos, bound, e)?.try_into().ok()?;
                a[1] = b[0];
                a[11] = b[1];
                a[12] = b[2];
                a[13] = b[3];
                a[14] = b[4];
                a[15] = b[5];
            }
            (false, 2) => {
                // ffXX::00XX:XXXX
                let b: [u8; 4] = take(data, &mut p, 4, pos, bound, e)?.try_into().ok()?;
                a[1] = b[0];
                a[13] = b[1];
                a[14] = b[2];
                a[15] = b[3];
            }
            (false, _) => {
                // ff02::00XX
                let b = *take(data, &mut p, 1, pos, bound, e)?.first()?;
                a[1] = 0x02;
                a[15] = b;
            }
            (true, 0) => {
                // ffXX:XXLL:PPPP:PPPP:PPPP:PPPP:XXXX:XXXX (RFC 3306 unicast-prefix-based)
                let b: [u8; 6] = take(data, &mut p, 6, pos, bound, e)?.try_into().ok()?;
                a[1] = b[0];
                a[2] = b[1];
                match context(ctxs, dci, "multicast destination", pos..pos + 2, e) {
                    Some(c) => {
                        let plen = c.prefix_len.min(64);
                        a[3] = plen;
                        let mut pfx = [0u8; 16];
                        apply_prefix(&mut pfx, &c.prefix.octets(), plen);
                        a.get_mut(4..12)?.copy_from_slice(pfx.get(..8)?);
                    }
                    None => exact = false,
                }
                a[12] = b[2];
                a[13] = b[3];
                a[14] = b[4];
                a[15] = b[5];
            }
            (true, _) => {
                e.malformed(
                    LOWPAN,
                    pos + 1..pos + 2,
                    format!("6LoWPAN IPHC: M=1, DAC=1 with DAM={dam:02b} is reserved (RFC 6282 §3.1.1)"),
                );
                return None;
            }
        }
        Ipv6Addr::from(a)
    };
    Some(Iphc { src, dst, traffic_class, flow_label, hop_limit, nh_inline, end: p, exact })
}

/// UDP header compressed with LOWPAN_NHC (RFC 6282 §4.3.3).
#[derive(Debug, Clone)]
struct UdpNhc {
    src_port: u16,
    dst_port: u16,
    /// Inline checksum; None when elided (C = 1).
    checksum: Option<u16>,
    range: Range<usize>,
}

/// The next-header chain after IPHC, decompressed.
#[derive(Debug)]
struct Chain {
    /// Next Header of the IPv6 header.
    first_nh: u8,
    /// Uncompressed extension headers, Next Header fields filled in.
    ext: Vec<u8>,
    /// The protocol after the (compressed) headers.
    upper: u8,
    udp: Option<UdpNhc>,
    /// Where the bytes after the compressed headers start.
    rest: usize,
}

fn nhc_ext_proto(eid: u8) -> Option<u8> {
    match eid {
        0 => Some(ip::IPV6_HOP_BY_HOP),
        1 => Some(ip::IPV6_ROUTING),
        2 => Some(ip::IPV6_FRAGMENT),
        3 => Some(ip::IPV6_DEST_OPTS),
        4 => Some(ip::IPV6_MOBILITY),
        _ => None,
    }
}

/// Parses the LOWPAN_NHC chain at `pos` (RFC 6282 §4).
fn parse_nhc(data: &[u8], pos: usize, bound: Bound, e: &mut Emit<'_>) -> Option<Chain> {
    let mut p = pos;
    let mut ext: Vec<u8> = Vec::new();
    let mut first_nh: Option<u8> = None;
    let mut slot: Option<usize> = None;
    let set_nh = |ext: &mut Vec<u8>, v: u8, first: &mut Option<u8>, slot: Option<usize>| match slot {
        Some(i) => {
            if let Some(b) = ext.get_mut(i) {
                *b = v;
            }
        }
        None => *first = Some(v),
    };
    loop {
        let start = p;
        if e.check(LOWPAN, "6LoWPAN next header (LOWPAN_NHC)", start, p + 1, bound) {
            return None;
        }
        let b = *data.get(p)?;
        if b & 0xf0 == 0xe0 {
            let eid = (b >> 1) & 7;
            let Some(proto) = nhc_ext_proto(eid) else {
                let (kind, sev, msg) = if eid == 7 {
                    (
                        FindingKind::NetUnsupported,
                        Severity::Info,
                        "6LoWPAN NHC: IPv6 encapsulation (EID 7) not decoded".to_string(),
                    )
                } else {
                    (
                        FindingKind::SixlowpanMalformed,
                        Severity::Medium,
                        format!("6LoWPAN NHC extension header: EID {eid} is reserved (expected 0-4 or 7)"),
                    )
                };
                e.finding(kind, sev, LOWPAN.layer, p..p + 1, msg);
                return None;
            };
            set_nh(&mut ext, proto, &mut first_nh, slot);
            p += 1;
            let inline_nh = if b & 1 == 0 {
                if e.check(LOWPAN, "6LoWPAN NHC extension header", start, p + 1, bound) {
                    return None;
                }
                let v = *data.get(p)?;
                p += 1;
                Some(v)
            } else {
                None
            };
            if e.check(LOWPAN, "6LoWPAN NHC extension header", start, p + 1, bound) {
                return None;
            }
            let len = usize::from(*data.get(p)?);
            p += 1;
            if e.check(LOWPAN, "6LoWPAN NHC extension header", start, p + len, bound) {
                return None;
            }
            let body = data.get(p..p + len)?;
            p += len;
            let total = 2 + len;
            let padded = total.div_ceil(8) * 8;
            let pad = padded - total;
            if pad != 0 && proto != ip::IPV6_HOP_BY_HOP && proto != ip::IPV6_DEST_OPTS {
                e.malformed(
                    LOWPAN,
                    start..p,
                    format!(
                        "6LoWPAN NHC extension header {proto}: uncompressed length {total} expected to be a multiple of 8"
                    ),
                );
                return None;
            }
            let at = ext.len();
            ext.push(0);
            ext.push((padded / 8 - 1) as u8);
            ext.extend_from_slice(body);
            // RFC 6282 §4.2: a trailing Pad1/PadN may have been elided; restore it.
            match pad {
                0 => {}
                1 => ext.push(0),
                n => {
                    ext.push(1);
                    ext.push((n - 2) as u8);
                    ext.extend(std::iter::repeat_n(0, n - 2));
                }
            }
            slot = Some(at);
            if let Some(v) = inline_nh {
                set_nh(&mut ext, v, &mut first_nh, slot);
                return Some(Chain { first_nh: first_nh.unwrap_or(v), ext, upper: v, udp: None, rest: p });
            }
            continue;
        }
        if b & 0xf8 == 0xf0 {
            set_nh(&mut ext, PROTO_UDP, &mut first_nh, slot);
            let c = b & 0x04 != 0;
            let ports = match b & 3 {
                0 => 4,
                1 | 2 => 3,
                _ => 1,
            };
            let n = 1 + ports + if c { 0 } else { 2 };
            if e.check(LOWPAN, "6LoWPAN UDP header (LOWPAN_NHC)", start, p + n, bound) {
                return None;
            }
            let q = p + 1;
            let (src_port, dst_port) = match b & 3 {
                0 => (be16(data, q)?, be16(data, q + 2)?),
                1 => (be16(data, q)?, 0xf000 | u16::from(*data.get(q + 2)?)),
                2 => (0xf000 | u16::from(*data.get(q)?), be16(data, q + 1)?),
                _ => {
                    let v = *data.get(q)?;
                    (0xf0b0 | u16::from(v >> 4), 0xf0b0 | u16::from(v & 0x0f))
                }
            };
            let checksum = if c { None } else { be16(data, q + ports) };
            let udp = UdpNhc { src_port, dst_port, checksum, range: p..p + n };
            return Some(Chain {
                first_nh: first_nh.unwrap_or(PROTO_UDP),
                ext,
                upper: PROTO_UDP,
                udp: Some(udp),
                rest: p + n,
            });
        }
        e.finding(
            FindingKind::NetUnsupported,
            Severity::Info,
            LOWPAN.layer,
            p..p + 1,
            format!(
                "6LoWPAN LOWPAN_NHC 0x{b:02x}: expected an extension header (1110xxxx) or UDP (11110xxx)"
            ),
        );
        return None;
    }
}

/// IPHC then its next-header chain. Pushes the IPHC layer (and the NHC UDP layer is left to
/// the caller). Returns None when nothing more can be decoded.
fn decompress(
    cx: &mut Cx<'_, '_>,
    pos: usize,
    bound: Bound,
    link: &LinkAddrs,
) -> Option<(Iphc, Option<Chain>)> {
    let data = cx.data;
    let cfg: &NetConfig = cx.cfg;
    let ctxs: &[SixlowpanContext] = &cfg.sixlowpan_contexts;
    let mut e = cx.emit();
    let iphc = parse_iphc(data, pos, bound, link, ctxs, &mut e)?;
    let chain = match iphc.nh_inline {
        Some(nh) => Some(Chain { first_nh: nh, ext: Vec::new(), upper: nh, udp: None, rest: iphc.end }),
        None => parse_nhc(data, iphc.end, bound, &mut e),
    };
    e.layer(
        pos..iphc.end,
        sixlowpan_layer(SixlowpanHeader::Iphc {
            src: iphc.src,
            dst: iphc.dst,
            hop_limit: iphc.hop_limit,
            next_header: chain.as_ref().map(|c| c.first_nh),
            udp_nhc: chain.as_ref().is_some_and(|c| c.udp.is_some()),
        }),
    );
    Some((iphc, chain))
}

fn udp_layer(u: &UdpNhc, length: u16, checksum: u16, checksum_ok: Option<bool>) -> LayerInfo {
    LayerInfo::Udp { src_port: u.src_port, dst_port: u.dst_port, length, checksum, checksum_ok }
}

/// The UDP checksum over pseudo-header, the 8-byte header (checksum field zero) and payload.
fn nhc_udp_checksum(pseudo: Pseudo, u: &UdpNhc, length: u16, payload: &[u8]) -> u16 {
    let mut h = [0u8; 8];
    h[..2].copy_from_slice(&u.src_port.to_be_bytes());
    h[2..4].copy_from_slice(&u.dst_port.to_be_bytes());
    h[4..6].copy_from_slice(&length.to_be_bytes());
    let acc = udp::sum(payload, udp::sum(&h, udp::pseudo_sum(pseudo, PROTO_UDP, usize::from(length))));
    let c = !udp::fold(acc);
    if c == 0 { 0xffff } else { c }
}

/// An unfragmented IPHC datagram.
fn iphc_unfragmented(cx: &mut Cx<'_, '_>, pos: usize, bound: Bound, link: &LinkAddrs) {
    let verify = cx.cfg.verify_checksums;
    let data = cx.data;
    let Some((iphc, Some(chain))) = decompress(cx, pos, bound, link) else { return };
    let pseudo = if iphc.exact { Pseudo::V6(iphc.src, iphc.dst) } else { Pseudo::Unknown };
    let (src, dst) = (IpAddr::V6(iphc.src), IpAddr::V6(iphc.dst));
    let mut e = cx.emit();
    if let Some(u) = &chain.udp {
        // RFC 6282 §4.3.3: the UDP length is always elided, inferred from the frame.
        let rest = chain.rest;
        let wire_end = bound.limit.unwrap_or(bound.end).max(bound.end);
        let length = 8 + wire_end.saturating_sub(rest);
        let Ok(length) = u16::try_from(length) else {
            e.malformed(UDP, u.range.clone(), format!("6LoWPAN UDP: inferred length {length} exceeds 65535"));
            return;
        };
        if bound.is_cut() {
            e.layer(u.range.clone(), udp_layer(u, length, u.checksum.unwrap_or(0), None));
            e.short(
                super::Short::Truncated,
                UDP,
                "UDP datagram (6LoWPAN, length elided)",
                rest,
                wire_end,
                bound,
            );
            return;
        }
        let payload = data.get(rest..bound.end).unwrap_or(&[]);
        let (checksum, ok) = match u.checksum {
            Some(ck) => {
                let ok = (verify && pseudo != Pseudo::Unknown)
                    .then(|| nhc_udp_checksum(pseudo, u, length, payload) == ck);
                (ck, ok)
            }
            None => (
                if pseudo == Pseudo::Unknown { 0 } else { nhc_udp_checksum(pseudo, u, length, payload) },
                None,
            ),
        };
        e.layer(u.range.clone(), udp_layer(u, length, checksum, ok));
        if ok == Some(false) {
            let exp = nhc_udp_checksum(pseudo, u, length, payload);
            e.finding(
                FindingKind::UdpChecksum,
                Severity::Medium,
                UDP.layer,
                u.range.end - 2..u.range.end,
                format!("UDP checksum 0x{checksum:04x} does not verify: expected 0x{exp:04x}"),
            );
        }
        let s = Endpoint { addr: src, port: u.src_port };
        let d = Endpoint { addr: dst, port: u.dst_port };
        cx.datagram_in_frame(s, d, rest..bound.end, 0);
    } else if chain.upper == PROTO_UDP
        && let Some(u) = udp::decode(data, chain.rest, bound, pseudo, verify, &mut e)
    {
        let (s, d) = ip::endpoints(src, dst, &u);
        cx.datagram_in_frame(s, d, u.payload, u.missing);
    }
}

/// Uncompressed IPv6 header + extension headers + UDP header for a FRAG1 whose datagram is
/// `size` bytes (RFC 4944 §5.3: datagram_size is the size of the uncompressed IPv6 datagram).
fn uncompressed_headers(iphc: &Iphc, chain: &Chain, size: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(48 + chain.ext.len());
    let vtf = 6u32 << 28 | u32::from(iphc.traffic_class) << 20 | iphc.flow_label;
    v.extend_from_slice(&vtf.to_be_bytes());
    v.extend_from_slice(&((size.saturating_sub(40)) as u16).to_be_bytes());
    v.push(chain.first_nh);
    v.push(iphc.hop_limit);
    v.extend_from_slice(&iphc.src.octets());
    v.extend_from_slice(&iphc.dst.octets());
    v.extend_from_slice(&chain.ext);
    if let Some(u) = &chain.udp {
        let udp_len = size.saturating_sub(40 + chain.ext.len()) as u16;
        v.extend_from_slice(&u.src_port.to_be_bytes());
        v.extend_from_slice(&u.dst_port.to_be_bytes());
        v.extend_from_slice(&udp_len.to_be_bytes());
        v.extend_from_slice(&u.checksum.unwrap_or(0).to_be_bytes());
    }
    v
}

/// FRAG1 (RFC 4944 §5.3): datagram_size, datagram_tag, then the first fragment with the
/// compressed header.
fn frag1(cx: &mut Cx<'_, '_>, pos: usize, bound: Bound, link: &LinkAddrs) {
    let data = cx.data;
    let mut e = cx.emit();
    if e.check(LOWPAN, "6LoWPAN FRAG1 header", pos, pos + 4, bound) {
        return;
    }
    let (Some(sz), Some(tag)) = (be16(data, pos), be16(data, pos + 2)) else { return };
    let size = sz & 0x07ff;
    e.layer(pos..pos + 4, sixlowpan_layer(SixlowpanHeader::Frag1 { size, tag }));
    let content = pos + 4;
    if e.check(LOWPAN, "6LoWPAN FRAG1 payload", content, content + 1, bound) {
        return;
    }
    let first = data.get(content).copied().unwrap_or(0);
    let (header, rest, meta) = match first {
        0x41 => {
            e.layer(content..content + 1, sixlowpan_layer(SixlowpanHeader::Ipv6Uncompressed));
            (Vec::new(), content + 1, Meta::default())
        }
        0x60..=0x7f => {
            let Some((iphc, Some(chain))) = decompress(cx, content, bound, link) else { return };
            let header = uncompressed_headers(&iphc, &chain, usize::from(size));
            let mut e = cx.emit();
            if let Some(u) = &chain.udp {
                let udp_len = usize::from(size).saturating_sub(40 + chain.ext.len()) as u16;
                e.layer(u.range.clone(), udp_layer(u, udp_len, u.checksum.unwrap_or(0), None));
            }
            let meta = Meta {
                next_header: None,
                udp_checksum_elided: chain.udp.as_ref().is_some_and(|u| u.checksum.is_none()),
            };
            (header, chain.rest, meta)
        }
        other => {
            e.finding(
                FindingKind::NetUnsupported,
                Severity::Info,
                LOWPAN.layer,
                content..content + 1,
                format!("6LoWPAN FRAG1 payload with dispatch 0x{other:02x}: expected IPHC or uncompressed IPv6; not reassembled"),
            );
            return;
        }
    };
    let mut e = cx.emit();
    if usize::from(size) < header.len() {
        e.malformed(
            LOWPAN,
            pos..pos + 2,
            format!(
                "6LoWPAN FRAG1: datagram_size {size} is smaller than the decompressed headers ({} bytes)",
                header.len()
            ),
        );
        return;
    }
    if bound.is_cut() {
        e.short(
            super::Short::Truncated,
            LOWPAN,
            "6LoWPAN FRAG1 fragment; not reassembled",
            pos,
            bound.limit.unwrap_or(bound.end),
            bound,
        );
        return;
    }
    let mut bytes = header;
    bytes.extend_from_slice(data.get(rest..bound.end).unwrap_or(&[]));
    add_fragment(cx, link, size, tag, 0, &bytes, pos..pos + 4, None, content..bound.end, meta);
}

/// FRAGN (RFC 4944 §5.3): datagram_size, datagram_tag, datagram_offset (8-octet units of the
/// uncompressed datagram).
fn fragn(cx: &mut Cx<'_, '_>, pos: usize, bound: Bound, link: &LinkAddrs) {
    let data = cx.data;
    let mut e = cx.emit();
    if e.check(LOWPAN, "6LoWPAN FRAGN header", pos, pos + 5, bound) {
        return;
    }
    let (Some(sz), Some(tag), Some(&off)) = (be16(data, pos), be16(data, pos + 2), data.get(pos + 4)) else {
        return;
    };
    let size = sz & 0x07ff;
    let offset = u16::from(off);
    e.layer(pos..pos + 5, sixlowpan_layer(SixlowpanHeader::FragN { size, tag, offset }));
    if bound.is_cut() {
        e.short(
            super::Short::Truncated,
            LOWPAN,
            "6LoWPAN FRAGN fragment; not reassembled",
            pos,
            bound.limit.unwrap_or(bound.end),
            bound,
        );
        return;
    }
    let bytes = data.get(pos + 5..bound.end).unwrap_or(&[]);
    add_fragment(
        cx,
        link,
        size,
        tag,
        usize::from(offset) * 8,
        bytes,
        pos..pos + 5,
        Some(pos + 5),
        pos + 5..bound.end,
        Meta::default(),
    );
}

#[allow(clippy::too_many_arguments)]
fn add_fragment(
    cx: &mut Cx<'_, '_>,
    link: &LinkAddrs,
    size: u16,
    tag: u16,
    offset: usize,
    bytes: &[u8],
    header_span: Range<usize>,
    bytes_in_frame: Option<usize>,
    payload_span: Range<usize>,
    meta: Meta,
) {
    let frag = Fragment {
        offset,
        bytes,
        last: false,
        total: Some(usize::from(size)),
        max_len: MAX_DATAGRAM_SIZE,
        frame: cx.frame,
        ts: cx.ts,
        header_span,
        bytes_in_frame,
        payload_span,
        meta,
    };
    let key = Key::Lowpan { src: link.src, dst: link.dst, size, tag };
    let outcome = cx.reasm.add(key, frag, cx.cfg, &mut cx.out.findings, &mut cx.out.earlier_findings);
    if let Outcome::Complete(done) = outcome {
        let verify = cx.cfg.verify_checksums;
        let mut bytes = done.bytes;
        let mut e = cx.emit_reassembled();
        if let Some((s, d, payload)) =
            ip::ipv6_buffer(&mut bytes, verify, done.meta.udp_checksum_elided, &mut e)
        {
            cx.datagram_reassembled(s, d, payload, done.frames, bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::*;
    use crate::capture::LinkType;

    /// 802.15.4-2006 data frame header, PAN ID compression, PAN 0xabcd, short or extended
    /// addresses given in canonical order (written little-endian).
    pub(crate) fn mac(src: &[u8], dst: &[u8], seq: u8) -> Vec<u8> {
        let mode = |a: &[u8]| if a.len() == 2 { 2u16 } else { 3 };
        let fcf: u16 = 1 | 0x40 | (mode(dst) << 10) | (1 << 12) | (mode(src) << 14);
        let mut f = fcf.to_le_bytes().to_vec();
        f.push(seq);
        f.extend_from_slice(&[0xcd, 0xab]);
        f.extend(dst.iter().rev());
        f.extend(src.iter().rev());
        f
    }

    const EXT_SRC: [u8; 8] = [0x00, 0x12, 0x4b, 0x00, 0x01, 0x02, 0x03, 0x04];
    const EXT_DST: [u8; 8] = [0x02, 0x12, 0x4b, 0x00, 0x0a, 0x0b, 0x0c, 0x0d];

    fn run(frame: &[u8], cfg: NetConfig) -> Decoded<'_> {
        NetDecoder::new(cfg).decode(LinkType::IEEE802_15_4_NOFCS, frame, 1, Timestamp::ZERO)
    }

    fn iphc_of(d: &Decoded<'_>) -> (Ipv6Addr, Ipv6Addr, u8, Option<u8>, bool) {
        for l in &d.layers {
            if let LayerInfo::Sixlowpan {
                header: SixlowpanHeader::Iphc { src, dst, hop_limit, next_header, udp_nhc },
            } = &l.info
            {
                return (*src, *dst, *hop_limit, *next_header, *udp_nhc);
            }
        }
        panic!("no IPHC layer in {:?}", d.layers)
    }

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    /// RFC 6282 §3.2.2: IIDs derived from the link layer: EUI-64 with the U/L bit inverted,
    /// short address as 0000:00ff:fe00:XXXX.
    #[test]
    fn stateless_sam_dam_3_from_link_addresses() {
        // IPHC 0x7b 0x33: TF=11, NH=0 (inline), HLIM=11 | SAM=11, DAM=11; NH=17 inline, then
        // an inline UDP header.
        let mut f = mac(&EXT_SRC, &EXT_DST, 1);
        f.extend_from_slice(&[0x7b, 0x33, 17]);
        f.extend_from_slice(&[0x16, 0x33, 0x16, 0x34, 0x00, 0x0a, 0x00, 0x00, b'h', b'i']);
        let d = run(&f, NetConfig::default());
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        let (s, t, hl, nh, nhc) = iphc_of(&d);
        assert_eq!(s, a("fe80::212:4b00:102:304"));
        assert_eq!(t, a("fe80::12:4b00:a0b:c0d"));
        assert_eq!((hl, nh, nhc), (255, Some(17), false));
        let dg = d.datagram.unwrap();
        assert_eq!(dg.payload.as_ref(), b"hi");
        assert_eq!(dg.src.port, 5683);

        // short addresses
        let mut f = mac(&[0x12, 0x34], &[0x00, 0x01], 1);
        f.extend_from_slice(&[0x7b, 0x33, 17]);
        f.extend_from_slice(&[0x16, 0x33, 0x16, 0x34, 0x00, 0x08, 0x00, 0x00]);
        let d = run(&f, NetConfig::default());
        let (s, t, ..) = iphc_of(&d);
        assert_eq!(s, a("fe80::ff:fe00:1234"));
        assert_eq!(t, a("fe80::ff:fe00:1"));
        assert_eq!(d.datagram.unwrap().payload.len(), 0);
    }

    /// RFC 6282 §3.1.1 SAM/DAM 00, 01, 10 stateless, TF 00/01/10, HLIM inline.
    #[test]
    fn stateless_inline_modes_and_tf() {
        // TF=00 (4 bytes), NH=1, HLIM=00 | SAM=00 (16), DAM=01 (8)
        let mut f = mac(&[0, 1], &[0, 2], 1);
        f.extend_from_slice(&[0x64, 0x01]);
        f.extend_from_slice(&[0x81, 0x0a, 0xbc, 0xde]); // ECN 2, DSCP 1, flow 0xabcde
        f.push(33); // hop limit
        f.extend_from_slice(&a("2001:db8::1").octets());
        f.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        f.extend_from_slice(&[0xf0, 0x16, 0x33, 0x16, 0x34, 0x12, 0x34]); // UDP NHC, ports inline
        f.extend_from_slice(b"abc");
        let d = run(&f, NetConfig::default());
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        let (s, t, hl, nh, nhc) = iphc_of(&d);
        assert_eq!((s, t, hl, nh, nhc), (a("2001:db8::1"), a("fe80::102:304:506:708"), 33, Some(17), true));
        let dg = d.datagram.unwrap();
        assert_eq!(dg.payload.as_ref(), b"abc");
        assert_eq!((dg.src.port, dg.dst.port), (5683, 5684));
        assert!(matches!(d.layers.last().unwrap().info, LayerInfo::Udp { length: 11, checksum: 0x1234, .. }));

        // TF=01 (3 bytes), HLIM=01 | SAM=10 (16-bit), DAM=10
        let mut f = mac(&[0, 1], &[0, 2], 1);
        f.extend_from_slice(&[0x6d, 0x22, 0x40, 0x00, 0x01, 0xaa, 0xbb, 0xcc, 0xdd]);
        f.extend_from_slice(&[0xf7, 0x12]); // UDP NHC 11110111: checksum elided, ports 0xf0b1 -> 0xf0b2
        let d = run(&f, NetConfig::default());
        let (s, t, hl, ..) = iphc_of(&d);
        assert_eq!((s, t, hl), (a("fe80::ff:fe00:aabb"), a("fe80::ff:fe00:ccdd"), 1));
        let dg = d.datagram.unwrap();
        assert_eq!((dg.src.port, dg.dst.port), (0xf0b1, 0xf0b2));

        // TF=10 (1 byte), HLIM=10
        let mut f = mac(&[0, 1], &[0, 2], 1);
        f.extend_from_slice(&[0x76, 0x33, 0x05, 0xf7, 0x12]);
        let d = run(&f, NetConfig::default());
        assert_eq!(iphc_of(&d).2, 64);
        assert!(d.datagram.is_some());
    }

    /// RFC 6282 §4.3.3: the four port encodings and the elided checksum.
    #[test]
    fn udp_nhc_port_compression() {
        let cases: [(&[u8], u16, u16, u16); 4] = [
            (&[0xf0, 0x16, 0x33, 0x16, 0x34, 0xab, 0xcd], 5683, 5684, 0xabcd),
            (&[0xf1, 0x16, 0x33, 0x42, 0xab, 0xcd], 5683, 0xf042, 0xabcd),
            (&[0xf2, 0x42, 0x16, 0x34, 0xab, 0xcd], 0xf042, 5684, 0xabcd),
            (&[0xf3, 0x9c, 0xab, 0xcd], 0xf0b9, 0xf0bc, 0xabcd),
        ];
        for (nhc, sp, dp, ck) in cases {
            let mut f = mac(&[0, 1], &[0, 2], 1);
            f.extend_from_slice(&[0x7e, 0x33]); // TF=11 NH=1 HLIM=10, SAM=DAM=11
            f.extend_from_slice(nhc);
            f.extend_from_slice(b"xyz");
            let d = run(&f, NetConfig::default());
            let dg = d.datagram.unwrap();
            assert_eq!((dg.src.port, dg.dst.port), (sp, dp), "{nhc:02x?}");
            assert_eq!(dg.payload.as_ref(), b"xyz");
            assert!(
                matches!(d.layers.last().unwrap().info, LayerInfo::Udp { length: 11, checksum, .. } if checksum == ck)
            );
            assert_eq!(d.layers.last().unwrap().range.len(), nhc.len());
        }
        // elided checksum (C=1) is recomputed; inline checksum verified when asked
        let mut f = mac(&[0, 1], &[0, 2], 1);
        f.extend_from_slice(&[0x7e, 0x33, 0xf4, 0x16, 0x33, 0x16, 0x34]);
        f.extend_from_slice(b"xyz");
        let d = run(&f, NetConfig::default());
        let LayerInfo::Udp { checksum, checksum_ok: None, .. } = d.layers.last().unwrap().info else {
            panic!()
        };
        assert_ne!(checksum, 0);
        let mut g = mac(&[0, 1], &[0, 2], 1);
        g.extend_from_slice(&[0x7e, 0x33, 0xf0, 0x16, 0x33, 0x16, 0x34]);
        g.extend_from_slice(&checksum.to_be_bytes());
        g.extend_from_slice(b"xyz");
        let cfg = NetConfig { verify_checksums: true, ..NetConfig::default() };
        let d = run(&g, cfg.clone());
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        assert!(matches!(d.layers.last().unwrap().info, LayerInfo::Udp { checksum_ok: Some(true), .. }));
        let n = g.len();
        g[n - 4] ^= 0x10;
        let d = run(&g, cfg);
        assert_eq!(d.findings[0].kind, FindingKind::UdpChecksum);
    }

    /// RFC 6282 §3.1.1 M=1 with DAC=0 (DAM 00..11) and DAC=1 DAM=00 (RFC 3306 prefix-based).
    #[test]
    fn multicast_modes() {
        let cases: [(u8, &[u8], &str); 4] = [
            (0x38, &[0xff, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x03], "ff05::103"),
            (0x39, &[0x05, 0xaa, 0x01, 0x02, 0x03, 0x04], "ff05::aa:102:304"),
            (0x3a, &[0x05, 0x01, 0x02, 0x03], "ff05::1:203"),
            (0x3b, &[0xfd], "ff02::fd"),
        ];
        for (b1, inline, want) in cases {
            let mut f = mac(&[0, 1], &[0xff, 0xff], 1);
            f.extend_from_slice(&[0x7e, b1]);
            f.extend_from_slice(inline);
            f.extend_from_slice(&[0xf7, 0x00]);
            let d = run(&f, NetConfig::default());
            assert!(d.findings.is_empty(), "{:?}", d.findings);
            assert_eq!(iphc_of(&d).1, a(want));
        }
        // DAC=1 DAM=00 with context 0 = 2001:db8:1::/48
        let cfg = NetConfig {
            sixlowpan_contexts: vec![SixlowpanContext { id: 0, prefix: a("2001:db8:1::"), prefix_len: 48 }],
            ..NetConfig::default()
        };
        let mut f = mac(&[0, 1], &[0xff, 0xff], 1);
        f.extend_from_slice(&[0x7e, 0x3c, 0x3e, 0x00, 0x00, 0x00, 0x12, 0x34, 0xf7, 0x00]);
        let d = run(&f, cfg);
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        assert_eq!(iphc_of(&d).1, a("ff3e:30:2001:db8:1:0:0:1234"));
        // reserved M=1 DAC=1 DAM=01
        let mut f = mac(&[0, 1], &[0xff, 0xff], 1);
        f.extend_from_slice(&[0x7e, 0x3d, 0, 0]);
        let d = run(&f, NetConfig::default());
        assert_eq!(d.findings[0].kind, FindingKind::SixlowpanMalformed);
        assert!(d.datagram.is_none());
    }

    /// RFC 6282 §3.1.1 CID/SAC/DAC: stateful modes with configured and unknown contexts.
    #[test]
    fn context_based_compression() {
        let cfg = NetConfig {
            sixlowpan_contexts: vec![
                SixlowpanContext { id: 0, prefix: a("2001:db8:aa::"), prefix_len: 64 },
                SixlowpanContext { id: 3, prefix: a("2001:db8:bb::"), prefix_len: 64 },
            ],
            ..NetConfig::default()
        };
        // CID=1 (SCI 3, DCI 0), SAC=1 SAM=01 (64 inline), DAC=1 DAM=10 (16 inline)
        let mut f = mac(&EXT_SRC, &EXT_DST, 1);
        f.extend_from_slice(&[0x7e, 0xd6, 0x30]);
        f.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 9, 0xbe, 0xef]);
        f.extend_from_slice(&[0xf7, 0x00]);
        let d = run(&f, cfg.clone());
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        let (s, t, ..) = iphc_of(&d);
        assert_eq!(s, a("2001:db8:bb::9"));
        assert_eq!(t, a("2001:db8:aa::ff:fe00:beef"));
        // SAC=1 SAM=11 DAC=1 DAM=11: context prefix + IID from the link layer
        let mut f = mac(&EXT_SRC, &EXT_DST, 1);
        f.extend_from_slice(&[0x7e, 0x77, 0xf7, 0x00]);
        let d = run(&f, cfg.clone());
        let (s, t, ..) = iphc_of(&d);
        assert_eq!(s, a("2001:db8:aa::212:4b00:102:304"));
        assert_eq!(t, a("2001:db8:aa::12:4b00:a0b:c0d"));
        // SAC=1 SAM=00: unspecified address
        let mut f = mac(&EXT_SRC, &EXT_DST, 1);
        f.extend_from_slice(&[0x7e, 0x43, 0xf7, 0x00]);
        assert_eq!(iphc_of(&run(&f, cfg.clone())).0, Ipv6Addr::UNSPECIFIED);
        // unknown context 5: finding, zero prefix, the datagram still decoded
        let mut f = mac(&EXT_SRC, &EXT_DST, 1);
        f.extend_from_slice(&[0x7e, 0xf3, 0x50, 0xf7, 0x00]);
        f.extend_from_slice(b"ok");
        let d = run(&f, cfg);
        assert_eq!(d.findings.len(), 1);
        assert_eq!(d.findings[0].kind, FindingKind::SixlowpanUnknownContext);
        assert!(d.findings[0].message.contains("context 5 unknown"));
        assert_eq!(iphc_of(&d).0, a("::212:4b00:102:304"));
        assert_eq!(d.datagram.unwrap().payload.as_ref(), b"ok");
        // DAC=1 DAM=00 (unicast) is reserved
        let mut f = mac(&EXT_SRC, &EXT_DST, 1);
        f.extend_from_slice(&[0x7e, 0x34, 0xf7, 0x00]);
        assert_eq!(run(&f, NetConfig::default()).findings[0].kind, FindingKind::SixlowpanMalformed);
    }

    /// RFC 6282 §3.1.1: every unicast SAC/SAM x DAC/DAM combination (multicast in
    /// `multicast_modes`), stateless and with contexts, addresses checked byte for byte.
    /// Link layer: source extended 00:12:4b:00:01:02:03:04, destination short 0x0001.
    #[test]
    fn every_unicast_address_mode() {
        let cfg = NetConfig {
            sixlowpan_contexts: vec![
                SixlowpanContext { id: 0, prefix: a("2001:db8:aa::"), prefix_len: 64 },
                SixlowpanContext { id: 3, prefix: a("2001:db8:bb::"), prefix_len: 64 },
            ],
            ..NetConfig::default()
        };
        let g16 = a("2001:db8::1234").octets();
        let src: [(bool, u8, Vec<u8>, &str); 8] = [
            (false, 0, g16.to_vec(), "2001:db8::1234"),
            (false, 1, vec![0, 0, 0, 0, 0, 0, 0x12, 0x34], "fe80::1234"),
            (false, 2, vec![0x12, 0x34], "fe80::ff:fe00:1234"),
            (false, 3, vec![], "fe80::212:4b00:102:304"),
            (true, 0, vec![], "::"),
            (true, 1, vec![0, 0, 0, 0, 0, 0, 0x12, 0x34], "2001:db8:bb::1234"),
            (true, 2, vec![0x12, 0x34], "2001:db8:bb::ff:fe00:1234"),
            (true, 3, vec![], "2001:db8:bb::212:4b00:102:304"),
        ];
        let g16d = a("2001:db8::5678").octets();
        let dst: [(bool, u8, Vec<u8>, &str); 7] = [
            (false, 0, g16d.to_vec(), "2001:db8::5678"),
            (false, 1, vec![0, 0, 0, 0, 0, 0, 0x56, 0x78], "fe80::5678"),
            (false, 2, vec![0x56, 0x78], "fe80::ff:fe00:5678"),
            (false, 3, vec![], "fe80::ff:fe00:1"),
            (true, 1, vec![0, 0, 0, 0, 0, 0, 0x56, 0x78], "2001:db8:aa::5678"),
            (true, 2, vec![0x56, 0x78], "2001:db8:aa::ff:fe00:5678"),
            (true, 3, vec![], "2001:db8:aa::ff:fe00:1"),
        ];
        let mut n = 0;
        for (sac, sam, sin, sw) in &src {
            for (dac, dam, din, dw) in &dst {
                let b1 = 0x80 | (u8::from(*sac) << 6) | (sam << 4) | (u8::from(*dac) << 2) | dam;
                let mut f = mac(&EXT_SRC, &[0x00, 0x01], 1);
                f.extend_from_slice(&[0x7e, b1, 0x30]); // CID=1: SCI 3, DCI 0
                f.extend_from_slice(sin);
                f.extend_from_slice(din);
                f.extend_from_slice(&[0xf7, 0x12, b'!']);
                let d = run(&f, cfg.clone());
                assert!(d.findings.is_empty(), "SAC {sac} SAM {sam} DAC {dac} DAM {dam}: {:?}", d.findings);
                let (s, t, ..) = iphc_of(&d);
                assert_eq!((s, t), (a(sw), a(dw)), "SAC {sac} SAM {sam} DAC {dac} DAM {dam}");
                assert_eq!(d.datagram.unwrap().payload.as_ref(), b"!");
                n += 1;
            }
        }
        assert_eq!(n, 56);
    }

    #[test]
    fn every_iphc_bit_combination_never_panics() {
        for b0 in 0x60..=0x7fu8 {
            for b1 in 0..=0xffu8 {
                let mut f = mac(&EXT_SRC, &[0, 1], 1);
                f.extend_from_slice(&[b0, b1]);
                f.extend((0..40u8).map(|i| i.wrapping_mul(37)));
                let d = run(&f, NetConfig::default());
                assert!(!d.layers.is_empty());
            }
        }
    }

    /// RFC 6282 §4.2: NHC extension header (Destination Options, padding elided) before UDP NHC.
    #[test]
    fn nhc_extension_header_then_udp() {
        let mut f = mac(&[0, 1], &[0, 2], 1);
        f.extend_from_slice(&[0x7e, 0x33]);
        f.extend_from_slice(&[0xe7, 0x02, 0x01, 0x00]); // EID 3 (dest opts), N=1, len 2: PadN(0)
        f.extend_from_slice(&[0xf7, 0x12]);
        f.extend_from_slice(b"p");
        let d = run(&f, NetConfig::default());
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        assert_eq!(iphc_of(&d).3, Some(60));
        assert_eq!(d.datagram.unwrap().payload.as_ref(), b"p");
    }

    #[test]
    fn mesh_and_broadcast_headers_are_skipped() {
        // mesh: V=1 F=1 hops 5, originator 0x0001, final 0x0002; then BC0 seq 9; then IPHC
        let mut f = mac(&[0, 7], &[0, 8], 1);
        f.extend_from_slice(&[0xb5, 0x00, 0x01, 0x00, 0x02, 0x50, 0x09, 0x7e, 0x33, 0xf7, 0x00]);
        let d = run(&f, NetConfig::default());
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        assert_eq!(
            d.layers[1].info,
            LayerInfo::Sixlowpan {
                header: SixlowpanHeader::Mesh {
                    hops_left: 5,
                    originator: MacAddr::new(&[0, 1]),
                    final_dst: MacAddr::new(&[0, 2])
                }
            }
        );
        assert_eq!(d.layers[2].info, LayerInfo::Sixlowpan { header: SixlowpanHeader::Broadcast { seq: 9 } });
        // the IIDs come from the mesh addresses, not the MAC ones
        let (s, t, ..) = iphc_of(&d);
        assert_eq!((s, t), (a("fe80::ff:fe00:1"), a("fe80::ff:fe00:2")));
        assert!(d.datagram.is_some());
        // a mesh header with nothing after it
        let mut f = mac(&[0, 7], &[0, 8], 1);
        f.extend_from_slice(&[0xb5, 0x00, 0x01, 0x00, 0x02]);
        let d = run(&f, NetConfig::default());
        assert_eq!(d.findings[0].kind, FindingKind::SixlowpanTruncated);
    }

    /// Builds FRAG1 + FRAGNs for a UDP datagram of `payload` (IPHC TF=11 NH=1 HLIM=11,
    /// SAM=DAM=11, UDP NHC ports inline, checksum elided): the uncompressed size is
    /// 40 + 8 + payload (RFC 4944 §5.3).
    fn fragments(payload: &[u8], tag: u16, first: usize, step: usize) -> Vec<Vec<u8>> {
        let size = (48 + payload.len()) as u16;
        let mut out = Vec::new();
        let mut f = mac(&[0, 1], &[0, 2], 1);
        f.extend_from_slice(&(0xc000 | size).to_be_bytes());
        f.extend_from_slice(&tag.to_be_bytes());
        f.extend_from_slice(&[0x7f, 0x33, 0xf4, 0x16, 0x33, 0x16, 0x34]);
        // FRAG1 carries 48 uncompressed header bytes + `first` payload bytes (multiple of 8)
        f.extend_from_slice(&payload[..first]);
        out.push(f);
        let mut off = 48 + first;
        while off < size as usize {
            let n = step.min(size as usize - off);
            let mut f = mac(&[0, 1], &[0, 2], 2);
            f.extend_from_slice(&(0xe000 | size).to_be_bytes());
            f.extend_from_slice(&tag.to_be_bytes());
            f.push((off / 8) as u8);
            f.extend_from_slice(&payload[off - 48..off - 48 + n]);
            out.push(f);
            off += n;
        }
        out
    }

    /// RFC 4944 §5.3: FRAG1 + FRAGN, in order and out of order.
    #[test]
    fn frag1_fragn_reassembly_in_and_out_of_order() {
        let payload: Vec<u8> = (0..120u8).collect();
        let frames = fragments(&payload, 0x77, 40, 48);
        assert_eq!(frames.len(), 3);
        for order in [[0usize, 1, 2], [2, 0, 1], [1, 2, 0]] {
            let mut d = NetDecoder::new(NetConfig { verify_checksums: true, ..NetConfig::default() });
            let mut got = None;
            for (n, &i) in order.iter().enumerate() {
                let r = d.decode(LinkType::IEEE802_15_4_NOFCS, &frames[i], n as u64 + 1, Timestamp::ZERO);
                assert!(r.findings.is_empty(), "{:?}", r.findings);
                if let Some(dg) = r.datagram {
                    assert_eq!(n, 2, "only the last frame completes it");
                    assert_eq!(r.reassembled_layers.len(), 2);
                    assert!(matches!(
                        r.reassembled_layers[1].info,
                        LayerInfo::Udp { length: 128, checksum_ok: None, .. }
                    ));
                    got = Some(dg.into_owned_parts());
                }
            }
            let (src, dst, pl, frames_seen, bytes) = got.expect("reassembled");
            assert_eq!(src.to_string(), "[fe80::ff:fe00:1]:5683");
            assert_eq!(dst.to_string(), "[fe80::ff:fe00:2]:5684");
            assert_eq!(pl, payload);
            assert_eq!(frames_seen.len(), 3);
            assert_eq!(bytes.len(), 168);
            // the recomputed (elided) UDP checksum verifies over the reassembled datagram
            let ck = udp::udp_checksum(Pseudo::V6(a("fe80::ff:fe00:1"), a("fe80::ff:fe00:2")), &bytes[40..]);
            assert_eq!(u16::from_be_bytes([bytes[46], bytes[47]]), ck);
            assert_eq!(d.pending_reassemblies(), 0);
        }
    }

    #[test]
    fn lowpan_fragment_incomplete_and_overlap() {
        let payload: Vec<u8> = (0..120u8).collect();
        let frames = fragments(&payload, 0x78, 40, 48);
        let mut d = NetDecoder::default();
        d.decode(LinkType::IEEE802_15_4_NOFCS, &frames[0], 1, Timestamp::ZERO);
        let mut evil = frames[1].clone();
        let n = evil.len();
        evil[n - 1] ^= 0xff;
        d.decode(LinkType::IEEE802_15_4_NOFCS, &evil, 2, Timestamp::ZERO);
        let r = d.decode(LinkType::IEEE802_15_4_NOFCS, &frames[1], 3, Timestamp::ZERO);
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].kind, FindingKind::IpFragmentOverlap);
        assert_eq!(r.findings[0].layer, crate::finding::Layer::Sixlowpan);
        assert_eq!(r.findings[0].span, Some(Span::Frame { start: n - 1, end: n }));
        let fin = d.finish();
        assert_eq!(fin.len(), 1);
        assert_eq!(fin[0].0, 1);
        assert_eq!(fin[0].1.kind, FindingKind::SixlowpanReassemblyIncomplete);
        assert_eq!(fin[0].1.related_frames, vec![2, 3]);
    }

    impl Datagram<'_> {
        fn into_owned_parts(self) -> (Endpoint, Endpoint, Vec<u8>, Vec<u64>, Vec<u8>) {
            let r = self.reassembled.unwrap();
            (self.src, self.dst, self.payload.into_owned(), r.frames, r.bytes)
        }
    }

    #[test]
    fn uncompressed_ipv6_dispatch() {
        let mut f = mac(&[0, 1], &[0, 2], 1);
        f.push(0x41);
        let mut ip6 = vec![0x60, 0, 0, 0, 0, 10, 17, 64];
        ip6.extend_from_slice(&a("fe80::1").octets());
        ip6.extend_from_slice(&a("fe80::2").octets());
        ip6.extend_from_slice(&[0x16, 0x33, 0x16, 0x33, 0, 10, 0, 0, b'o', b'k']);
        f.extend_from_slice(&ip6);
        let d = run(&f, NetConfig::default());
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        assert_eq!(d.layers[1].info, LayerInfo::Sixlowpan { header: SixlowpanHeader::Ipv6Uncompressed });
        assert_eq!(d.datagram.unwrap().payload.as_ref(), b"ok");
    }
}
