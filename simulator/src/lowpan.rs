//! IEEE 802.15.4 data frames carrying 6LoWPAN: IPHC (RFC 6282 §3), UDP NHC (RFC 6282 §4.3)
//! and fragmentation (RFC 4944 §5.3, sizes/offsets over the uncompressed datagram as
//! RFC 6282 §2 says).

use crate::checksum::crc16_kermit;
use crate::ip::udp_v6;
use std::net::Ipv6Addr;

/// aMaxPhyPacketSize: the largest PSDU (MAC header + payload + FCS) of 802.15.4-2006 PHYs.
pub const MAX_PHY_PACKET: usize = 127;
pub const FCS_LEN: usize = 2;

/// A MAC address: 16-bit short or 64-bit extended (EUI-64 in its written order, most
/// significant byte first; the frame carries it least significant byte first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacAddr154 {
    Short(u16),
    Extended([u8; 8]),
}

impl MacAddr154 {
    fn mode(self) -> u16 {
        match self {
            MacAddr154::Short(_) => 2,
            MacAddr154::Extended(_) => 3,
        }
    }

    fn wire(self) -> Vec<u8> {
        match self {
            MacAddr154::Short(s) => s.to_le_bytes().to_vec(),
            MacAddr154::Extended(e) => e.iter().rev().copied().collect(),
        }
    }

    /// The interface identifier a 6LoWPAN node derives from this address: EUI-64 with the U/L
    /// bit inverted (RFC 4944 §6), or `0000:00ff:fe00:XXXX` for a short address (RFC 6282
    /// §3.2.2).
    pub fn iid(self) -> [u8; 8] {
        match self {
            MacAddr154::Short(s) => {
                let [hi, lo] = s.to_be_bytes();
                [0, 0, 0, 0xff, 0xfe, 0, hi, lo]
            }
            MacAddr154::Extended(mut e) => {
                e[0] ^= 0x02;
                e
            }
        }
    }

    /// `fe80::<iid>`.
    pub fn link_local(self) -> Ipv6Addr {
        let mut o = [0u8; 16];
        o[0] = 0xfe;
        o[1] = 0x80;
        o[8..].copy_from_slice(&self.iid());
        Ipv6Addr::from(o)
    }
}

/// The 802.15.4 framing of one link (both directions share the PAN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WpanLink {
    pub pan: u16,
    /// Append the 2-byte FCS (LINKTYPE_IEEE802_15_4_WITHFCS, 195) or not (230).
    pub fcs: bool,
    /// Frame version field: 0 (802.15.4-2003) or 1 (2006).
    pub frame_version: u8,
}

/// MAC header length for a data frame with PAN ID compression.
pub fn mac_header_len(dst: MacAddr154, src: MacAddr154) -> usize {
    3 + 2 + dst.wire().len() + src.wire().len()
}

/// An 802.15.4 data frame: FCF (data, no security, AR=1, PAN ID compression), sequence
/// number, destination PAN, destination and source addresses, payload, FCS when `link.fcs`.
pub fn data_frame(link: &WpanLink, seq: u8, dst: MacAddr154, src: MacAddr154, payload: &[u8]) -> Vec<u8> {
    let fcf: u16 = 0x0001 // frame type: data
        | 1 << 5 // ack request
        | 1 << 6 // PAN ID compression
        | dst.mode() << 10
        | (u16::from(link.frame_version) & 3) << 12
        | src.mode() << 14;
    let mut f = Vec::with_capacity(MAX_PHY_PACKET);
    f.extend_from_slice(&fcf.to_le_bytes());
    f.push(seq);
    f.extend_from_slice(&link.pan.to_le_bytes());
    f.extend_from_slice(&dst.wire());
    f.extend_from_slice(&src.wire());
    f.extend_from_slice(payload);
    if link.fcs {
        let crc = crc16_kermit(&f);
        f.extend_from_slice(&crc.to_le_bytes());
    }
    f
}

/// How IPHC encodes one (unicast) address given the MAC address it can be derived from:
/// returns (SAM/DAM bits, inline bytes). Stateless (SAC/DAC = 0) only.
fn iphc_addr(addr: Ipv6Addr, mac: MacAddr154) -> (u8, Vec<u8>) {
    let o = addr.octets();
    let link_local = o[..8] == [0xfe, 0x80, 0, 0, 0, 0, 0, 0];
    if !link_local {
        return (0b00, o.to_vec());
    }
    if o[8..] == mac.iid() {
        (0b11, Vec::new())
    } else if o[8..14] == [0, 0, 0, 0xff, 0xfe, 0] {
        (0b10, o[14..].to_vec())
    } else {
        (0b01, o[8..].to_vec())
    }
}

/// UDP NHC (RFC 6282 §4.3.3): returns the NHC byte + ports, checksum inline (C = 0).
pub fn udp_nhc(sport: u16, dport: u16, checksum: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(7);
    if sport & 0xfff0 == 0xf0b0 && dport & 0xfff0 == 0xf0b0 {
        out.push(0xf3);
        out.push(((sport & 0xf) << 4 | (dport & 0xf)) as u8);
    } else if dport & 0xff00 == 0xf000 {
        out.push(0xf1);
        out.extend_from_slice(&sport.to_be_bytes());
        out.push(dport as u8);
    } else if sport & 0xff00 == 0xf000 {
        out.push(0xf2);
        out.push(sport as u8);
        out.extend_from_slice(&dport.to_be_bytes());
    } else {
        out.push(0xf0);
        out.extend_from_slice(&sport.to_be_bytes());
        out.extend_from_slice(&dport.to_be_bytes());
    }
    out.extend_from_slice(&checksum.to_be_bytes());
    out
}

/// IPHC header (traffic class and flow label elided, next header compressed with UDP NHC)
/// followed by the UDP NHC header.
#[allow(clippy::too_many_arguments)]
pub fn iphc_udp_header(
    src_mac: MacAddr154,
    dst_mac: MacAddr154,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop_limit: u8,
    sport: u16,
    dport: u16,
    udp_checksum: u16,
) -> Vec<u8> {
    let (hlim_bits, hlim_inline) = match hop_limit {
        1 => (0b01, None),
        64 => (0b10, None),
        255 => (0b11, None),
        h => (0b00, Some(h)),
    };
    let (sam, s_inline) = iphc_addr(src, src_mac);
    let (dam, d_inline) = iphc_addr(dst, dst_mac);
    // 011 TF=11 NH=1 HLIM | CID=0 SAC=0 SAM M=0 DAC=0 DAM
    let b0 = 0b0110_0000 | 0b11 << 3 | 1 << 2 | hlim_bits;
    let b1 = sam << 4 | dam;
    let mut h = vec![b0, b1];
    h.extend(hlim_inline);
    h.extend_from_slice(&s_inline);
    h.extend_from_slice(&d_inline);
    h.extend_from_slice(&udp_nhc(sport, dport, udp_checksum));
    h
}

/// One UDP datagram over 6LoWPAN.
#[derive(Debug, Clone, Copy)]
pub struct LowpanUdp<'a> {
    pub src_mac: MacAddr154,
    pub dst_mac: MacAddr154,
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub hop_limit: u8,
    pub sport: u16,
    pub dport: u16,
    pub payload: &'a [u8],
}

/// The 802.15.4 frames for one UDP datagram: one frame when it fits in 127 bytes (FCS
/// included even when the capture leaves it out), else FRAG1 + FRAGN fragments with
/// datagram tag `tag`. `seq` is the MAC sequence number of the first frame (incremented per
/// frame). Returns the frames.
pub fn lowpan_udp_frames(link: &WpanLink, seq: &mut u8, tag: u16, d: &LowpanUdp<'_>) -> Vec<Vec<u8>> {
    let udp = udp_v6(d.src, d.dst, d.sport, d.dport, d.payload);
    let checksum = u16::from_be_bytes([udp[6], udp[7]]);
    let hdr = iphc_udp_header(d.src_mac, d.dst_mac, d.src, d.dst, d.hop_limit, d.sport, d.dport, checksum);
    let budget = MAX_PHY_PACKET - FCS_LEN - mac_header_len(d.dst_mac, d.src_mac);
    let mut frames = Vec::new();
    let mut next_frame = |payload: &[u8], frames: &mut Vec<Vec<u8>>| {
        frames.push(data_frame(link, *seq, d.dst_mac, d.src_mac, payload));
        *seq = seq.wrapping_add(1);
    };
    if hdr.len() + d.payload.len() <= budget {
        let mut p = hdr;
        p.extend_from_slice(d.payload);
        next_frame(&p, &mut frames);
        return frames;
    }
    // Uncompressed datagram: 40-byte IPv6 header + UDP header + payload.
    let size = 40 + udp.len();
    assert!(size < 2048, "6LoWPAN datagram_size is 11 bits");
    let size_bits = size as u16;
    // FRAG1: 4-byte header + compressed headers + n1 payload bytes, 48 + n1 a multiple of 8.
    let n1 = (budget - 4 - hdr.len()) / 8 * 8;
    let mut p = Vec::new();
    p.extend_from_slice(&(0xc000 | size_bits).to_be_bytes());
    p.extend_from_slice(&tag.to_be_bytes());
    p.extend_from_slice(&hdr);
    p.extend_from_slice(&d.payload[..n1]);
    next_frame(&p, &mut frames);
    // FRAGN: 5-byte header, offset in 8-byte units of the uncompressed datagram.
    let per = (budget - 5) / 8 * 8;
    let mut off = 48 + n1; // uncompressed offset
    while off < size {
        let end = (off + per).min(size);
        let mut p = Vec::new();
        p.extend_from_slice(&(0xe000 | size_bits).to_be_bytes());
        p.extend_from_slice(&tag.to_be_bytes());
        p.push((off / 8) as u8);
        p.extend_from_slice(&d.payload[off - 48..end - 48]);
        next_frame(&p, &mut frames);
        off = end;
    }
    frames
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXT_A: [u8; 8] = [0x00, 0x12, 0x4b, 0x00, 0x00, 0x00, 0x00, 0x01];

    #[test]
    fn iids() {
        // RFC 4944 §6 / RFC 6282 §3.2.2
        assert_eq!(
            MacAddr154::Extended(EXT_A).link_local(),
            "fe80::212:4b00:0:1".parse::<Ipv6Addr>().unwrap()
        );
        assert_eq!(MacAddr154::Short(0x0002).link_local(), "fe80::ff:fe00:2".parse::<Ipv6Addr>().unwrap());
    }

    #[test]
    fn nhc_ports() {
        // RFC 6282 §4.3.3 port compression forms.
        assert_eq!(udp_nhc(0xf0b1, 0xf0b2, 0xabcd), [0xf3, 0x12, 0xab, 0xcd]);
        assert_eq!(udp_nhc(5683, 0xf0b1, 0), [0xf1, 0x16, 0x33, 0xb1, 0, 0]);
        assert_eq!(udp_nhc(0xf0b1, 5683, 0), [0xf2, 0xb1, 0x16, 0x33, 0, 0]);
        assert_eq!(udp_nhc(40000, 5683, 0), [0xf0, 0x9c, 0x40, 0x16, 0x33, 0, 0]);
    }

    #[test]
    fn short_frame_matches_hand_encoding() {
        // Same layout as the feasibility study's gen_wpan.py frame, but with SAM/DAM = 11
        // (addresses derived from the short MAC addresses) and HLIM = 64.
        let link = WpanLink { pan: 0xabcd, fcs: false, frame_version: 0 };
        let mut seq = 1;
        let d = LowpanUdp {
            src_mac: MacAddr154::Short(1),
            dst_mac: MacAddr154::Short(2),
            src: MacAddr154::Short(1).link_local(),
            dst: MacAddr154::Short(2).link_local(),
            hop_limit: 64,
            sport: 40000,
            dport: 5683,
            payload: &[0x40, 0x01, 0, 1],
        };
        let f = lowpan_udp_frames(&link, &mut seq, 0, &d);
        assert_eq!(f.len(), 1);
        assert_eq!(seq, 2);
        let f = &f[0];
        assert_eq!(&f[..9], &[0x61, 0x88, 0x01, 0xcd, 0xab, 0x02, 0x00, 0x01, 0x00]);
        assert_eq!(&f[9..12], &[0x7e, 0x33, 0xf0]);
        assert_eq!(&f[12..16], &[0x9c, 0x40, 0x16, 0x33]);
        assert_eq!(&f[18..], &[0x40, 0x01, 0, 1]);
    }

    #[test]
    fn fcs_appended() {
        let link = WpanLink { pan: 0xabcd, fcs: true, frame_version: 0 };
        let f = data_frame(&link, 0, MacAddr154::Short(2), MacAddr154::Short(1), &[1, 2, 3]);
        let n = f.len();
        assert_eq!(u16::from_le_bytes([f[n - 2], f[n - 1]]), crc16_kermit(&f[..n - 2]));
    }

    #[test]
    fn fragmentation_sizes() {
        let link = WpanLink { pan: 0xabcd, fcs: true, frame_version: 1 };
        let payload = vec![0x55; 300];
        let a = MacAddr154::Extended(EXT_A);
        let mut b_addr = EXT_A;
        b_addr[7] = 2;
        let b = MacAddr154::Extended(b_addr);
        let d = LowpanUdp {
            src_mac: a,
            dst_mac: b,
            src: a.link_local(),
            dst: b.link_local(),
            hop_limit: 64,
            sport: 5683,
            dport: 0xf0b1,
            payload: &payload,
        };
        let mut seq = 0;
        let frames = lowpan_udp_frames(&link, &mut seq, 0x1234, &d);
        assert!(frames.iter().all(|f| f.len() <= MAX_PHY_PACKET));
        // MAC header 21: FRAG1 at byte 21: 0xc0 | size>>8
        let size = 40 + 8 + 300;
        assert_eq!(&frames[0][21..25], &[0xc0 | (size >> 8) as u8, size as u8, 0x12, 0x34]);
        // FRAG1 holds IPHC (2) + UDP NHC with P=01 (6) and a multiple of 8 payload bytes;
        // each FRAGN starts where the previous fragment ended (uncompressed offsets).
        let n1 = frames[0].len() - 21 - 4 - 8 - 2;
        assert_eq!(n1 % 8, 0);
        let mut covered = 48 + n1;
        for f in &frames[1..] {
            assert_eq!(f[21] & 0xf8, 0xe0);
            assert_eq!(usize::from(f[25]) * 8, covered);
            covered += f.len() - 21 - 5 - 2;
        }
        assert_eq!(covered, size);
    }
}
