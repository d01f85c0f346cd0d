//! UDP (RFC 768) header, length checks and checksum verification with the IPv4 (RFC 768) and
//! IPv6 (RFC 8200 §8.1) pseudo-headers. The Internet checksum is RFC 1071.

use super::{Bound, Emit, LayerInfo, UDP, arr};
use crate::finding::{FindingKind, Severity};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;

pub(crate) const PROTO_UDP: u8 = 17;

/// Addresses for the checksum pseudo-header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pseudo {
    V4(Ipv4Addr, Ipv4Addr),
    V6(Ipv6Addr, Ipv6Addr),
    /// Addresses not fully known (unknown 6LoWPAN context): the checksum is not verified.
    Unknown,
}

/// A UDP header that parsed with a consistent length. The payload is complete, or cut by the
/// capture (snaplen) with `missing` bytes not captured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UdpOk {
    pub src_port: u16,
    pub dst_port: u16,
    /// Payload bytes in the buffer that was parsed (as far as captured).
    pub payload: Range<usize>,
    /// Payload bytes the UDP length announces but the capture did not keep.
    pub missing: usize,
}

/// One's-complement sum (RFC 1071) of `data` as big-endian 16-bit words, added to `acc`.
#[inline]
pub(crate) fn sum(data: &[u8], acc: u64) -> u64 {
    let mut acc = acc;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        if let Ok(w) = <[u8; 2]>::try_from(c) {
            acc += u64::from(u16::from_be_bytes(w));
        }
    }
    if let [last] = chunks.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

/// Folds a sum to 16 bits.
#[inline]
pub(crate) fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// Pseudo-header sum (RFC 768 / RFC 8200 §8.1) for `upper_len` bytes of `proto`.
pub(crate) fn pseudo_sum(p: Pseudo, proto: u8, upper_len: usize) -> u64 {
    let len = upper_len as u64;
    match p {
        Pseudo::V4(s, d) => sum(&s.octets(), sum(&d.octets(), 0)) + u64::from(proto) + len,
        Pseudo::V6(s, d) => sum(&s.octets(), sum(&d.octets(), 0)) + u64::from(proto) + len,
        Pseudo::Unknown => 0,
    }
}

/// The checksum a sender puts in a UDP header whose bytes are `udp` (checksum field taken as
/// zero). A computed 0 is sent as 0xffff (RFC 768).
pub(crate) fn udp_checksum(p: Pseudo, udp: &[u8]) -> u16 {
    let mut acc = pseudo_sum(p, PROTO_UDP, udp.len());
    acc = sum(udp, acc);
    // remove the checksum field's own contribution
    if let Some(ck) = arr::<2>(udp, 6) {
        acc += u64::from(!u16::from_be_bytes(*ck));
    }
    let c = !fold(acc);
    if c == 0 { 0xffff } else { c }
}

/// Parses the UDP header at `pos` within `bound`: pushes the layer, reports length and checksum
/// problems, and returns the payload when the datagram is complete and consistent.
pub(crate) fn decode(
    buf: &[u8],
    pos: usize,
    bound: Bound,
    pseudo: Pseudo,
    verify: bool,
    e: &mut Emit<'_>,
) -> Option<UdpOk> {
    if e.check(UDP, "UDP header", pos, pos + 8, bound) {
        return None;
    }
    let h = arr::<8>(buf, pos)?;
    let src_port = u16::from_be_bytes([h[0], h[1]]);
    let dst_port = u16::from_be_bytes([h[2], h[3]]);
    let length = u16::from_be_bytes([h[4], h[5]]);
    let checksum = u16::from_be_bytes([h[6], h[7]]);
    let hdr = pos..pos + 8;
    if length < 8 {
        e.layer(hdr.clone(), LayerInfo::Udp { src_port, dst_port, length, checksum, checksum_ok: None });
        e.malformed(
            UDP,
            pos + 4..pos + 6,
            format!("UDP length {length} is smaller than the 8-byte UDP header (RFC 768)"),
        );
        return None;
    }
    let claimed_end = pos + usize::from(length);
    let (ub, short) = bound.claim(claimed_end);

    let mut checksum_ok = None;
    let mut expected = 0;
    if verify && short.is_none() && pseudo != Pseudo::Unknown {
        if checksum == 0 {
            if let Pseudo::V6(..) = pseudo {
                checksum_ok = Some(false);
            }
        } else if let Some(bytes) = buf.get(pos..ub.end) {
            expected = udp_checksum(pseudo, bytes);
            checksum_ok = Some(expected == checksum);
        }
    }
    e.layer(hdr, LayerInfo::Udp { src_port, dst_port, length, checksum, checksum_ok });
    if checksum_ok == Some(false) {
        let msg = if checksum == 0 {
            "UDP checksum 0 over IPv6: a checksum is mandatory for UDP over IPv6 (RFC 8200 §8.1)".to_string()
        } else {
            format!("UDP checksum 0x{checksum:04x} does not verify: expected 0x{expected:04x}")
        };
        e.finding(FindingKind::UdpChecksum, Severity::Medium, UDP.layer, pos + 6..pos + 8, msg);
    }
    match short {
        Some(s) => {
            e.short(s, UDP, &format!("UDP datagram (length field {length})"), pos, claimed_end, bound);
            // A capture cut inside the payload still hands on what was captured: the layers
            // above can decode it (and an AEAD can decrypt it, flagging the tag unverified).
            match s {
                super::Short::Truncated if bound.end >= pos + 8 => Some(UdpOk {
                    src_port,
                    dst_port,
                    payload: pos + 8..bound.end,
                    missing: claimed_end - bound.end,
                }),
                _ => None,
            }
        }
        None => {
            if bound.limit == Some(bound.end) && claimed_end < bound.end {
                e.finding(
                    FindingKind::UdpMalformed,
                    Severity::Low,
                    UDP.layer,
                    claimed_end..bound.end,
                    format!(
                        "UDP length {length} is shorter than the IP payload ({} bytes): {} trailing bytes ignored",
                        bound.end - pos,
                        bound.end - claimed_end
                    ),
                );
            }
            Some(UdpOk { src_port, dst_port, payload: pos + 8..claimed_end, missing: 0 })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Layer, SpanSource};
    use super::*;
    use crate::finding::Finding;

    fn run(buf: &[u8], bound: Bound, pseudo: Pseudo) -> (Option<UdpOk>, Vec<Layer>, Vec<Finding>) {
        let (mut l, mut f) = (Vec::new(), Vec::new());
        let mut e = Emit { source: SpanSource::Frame, layers: &mut l, findings: &mut f };
        let r = decode(buf, 0, bound, pseudo, true, &mut e);
        (r, l, f)
    }

    /// RFC 1071 §3 worked example: the sum of 00 01 f2 03 f4 f5 f6 f7 is ddf2 (folded).
    #[test]
    fn rfc1071_example_sum() {
        assert_eq!(fold(sum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7], 0)), 0xddf2);
        // odd length: the last byte is padded with a zero byte on the right
        assert_eq!(fold(sum(&[0x01], 0)), 0x0100);
    }

    fn v4() -> Pseudo {
        Pseudo::V4(Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2))
    }

    fn datagram(payload: &[u8], p: Pseudo) -> Vec<u8> {
        let mut u = vec![0x04, 0xd2, 0x16, 0x33];
        u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        u.extend_from_slice(&[0, 0]);
        u.extend_from_slice(payload);
        let ck = udp_checksum(p, &u);
        u[6..8].copy_from_slice(&ck.to_be_bytes());
        u
    }

    #[test]
    fn checksum_v4_v6_good_bad_and_zero() {
        let u = datagram(b"hello", v4());
        let (r, l, f) = run(&u, Bound::exact(u.len()), v4());
        assert_eq!(r.unwrap().payload, 8..13);
        assert!(f.is_empty());
        assert!(matches!(l[0].info, LayerInfo::Udp { checksum_ok: Some(true), length: 13, .. }));

        let mut bad = u.clone();
        bad[9] ^= 1;
        let (r, _, f) = run(&bad, Bound::exact(bad.len()), v4());
        assert!(r.is_some(), "a checksum mismatch does not withhold the datagram");
        assert_eq!(f[0].kind, FindingKind::UdpChecksum);

        // zero checksum over IPv4 = no checksum
        let mut z = u.clone();
        z[6..8].copy_from_slice(&[0, 0]);
        let (_, l, f) = run(&z, Bound::exact(z.len()), v4());
        assert!(f.is_empty());
        assert!(matches!(l[0].info, LayerInfo::Udp { checksum_ok: None, .. }));

        let v6 = Pseudo::V6("2001:db8::1".parse().unwrap(), "2001:db8::2".parse().unwrap());
        let u6 = datagram(b"hello", v6);
        assert_ne!(u6[6..8], u[6..8]);
        let (_, l, f) = run(&u6, Bound::exact(u6.len()), v6);
        assert!(f.is_empty());
        assert!(matches!(l[0].info, LayerInfo::Udp { checksum_ok: Some(true), .. }));
        let mut z6 = u6.clone();
        z6[6..8].copy_from_slice(&[0, 0]);
        let (_, _, f) = run(&z6, Bound::exact(z6.len()), v6);
        assert_eq!(f[0].kind, FindingKind::UdpChecksum);
        assert!(f[0].message.contains("RFC 8200"));
    }

    #[test]
    fn length_lying_vs_capture_cut() {
        let u = datagram(b"hello", v4());
        // IP says 10 bytes of payload, UDP says 13: the UDP length lies.
        let (r, _, f) = run(&u[..10], Bound::exact(10), v4());
        assert!(r.is_none());
        assert_eq!(f[0].kind, FindingKind::UdpMalformed);
        // The IP payload really is 13 bytes but only 10 were captured.
        let (r, l, f) = run(&u[..10], Bound { end: 10, limit: Some(13) }, v4());
        let r = r.unwrap();
        assert_eq!((r.payload, r.missing), (8..10, 3), "the captured payload is handed on");
        assert_eq!(l.len(), 1, "the header is kept");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].kind, FindingKind::UdpTruncated);
        assert_eq!(f[0].span, Some(crate::finding::Span::Frame { start: 0, end: 10 }));
        // Wire length unknown: truncated.
        let (_, _, f) = run(&u[..10], Bound { end: 10, limit: None }, v4());
        assert_eq!(f[0].kind, FindingKind::UdpTruncated);
        // length below 8
        let mut s = u.clone();
        s[4..6].copy_from_slice(&[0, 7]);
        let (r, _, f) = run(&s, Bound::exact(s.len()), v4());
        assert!(r.is_none());
        assert_eq!(f[0].kind, FindingKind::UdpMalformed);
        // UDP shorter than the IP payload: datagram of the UDP length, low finding
        let mut t = u.clone();
        t.extend_from_slice(&[0, 0]);
        let (r, _, f) = run(&t, Bound::exact(t.len()), Pseudo::Unknown);
        assert_eq!(r.unwrap().payload, 8..13);
        assert_eq!(f[0].kind, FindingKind::UdpMalformed);
        assert_eq!(f[0].severity, Severity::Low);
    }
}
