//! Link layers: Ethernet II with 802.1Q/802.1ad/QinQ tags, Linux cooked capture v1/v2, BSD
//! NULL/LOOP. Own code (not etherparse): each header is a fixed-size read, and owning it lets
//! every layer carry its exact byte range and every shortfall become a located finding.

use super::{Bound, Cx, LINK, LayerInfo, MacAddr, arr, be16};
use crate::finding::{FindingKind, Layer as FLayer, Severity};

/// What follows the link header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    Stop,
    Ipv4(usize),
    Ipv6(usize),
    /// IPv4 or IPv6 by the version nibble (raw IP, link type 101).
    IpAny(usize),
    /// IEEE 802.15.4 MAC frame, with or without a trailing 2-byte FCS.
    Wpan {
        offset: usize,
        fcs: bool,
    },
}

pub(crate) const ETHERTYPE_IPV4: u16 = 0x0800;
pub(crate) const ETHERTYPE_IPV6: u16 = 0x86dd;
/// 802.1Q C-tag.
pub(crate) const TPID_8021Q: u16 = 0x8100;
/// 802.1ad S-tag.
pub(crate) const TPID_8021AD: u16 = 0x88a8;
/// Pre-standard QinQ outer tags.
pub(crate) const TPID_QINQ_9100: u16 = 0x9100;
pub(crate) const TPID_QINQ_9200: u16 = 0x9200;
/// Linux `ETH_P_IEEE802154`: SLL protocol of 802.15.4 frames (without FCS).
pub(crate) const ETH_P_IEEE802154: u16 = 0x00f6;

fn by_ethertype(et: u16, pos: usize) -> Next {
    match et {
        ETHERTYPE_IPV4 => Next::Ipv4(pos),
        ETHERTYPE_IPV6 => Next::Ipv6(pos),
        _ => Next::Stop,
    }
}

/// Ethernet II (DIX): dst(6) src(6) type(2), then any number of 4-byte VLAN tags.
pub(crate) fn ethernet(cx: &mut Cx<'_, '_>, bound: Bound) -> Next {
    let data = cx.data;
    let mut e = cx.emit();
    if e.check(LINK, "Ethernet header", 0, 14, bound) {
        return Next::Stop;
    }
    let Some(h) = arr::<14>(data, 0) else { return Next::Stop };
    let ethertype = u16::from_be_bytes([h[12], h[13]]);
    e.layer(
        0..14,
        LayerInfo::Ethernet { dst: MacAddr::new(&h[..6]), src: MacAddr::new(&h[6..12]), ethertype },
    );
    let mut pos = 14;
    let mut et = ethertype;
    while matches!(et, TPID_8021Q | TPID_8021AD | TPID_QINQ_9100 | TPID_QINQ_9200) {
        if e.check(LINK, "VLAN tag", pos, pos + 4, bound) {
            return Next::Stop;
        }
        let (Some(tci), Some(inner)) = (be16(data, pos), be16(data, pos + 2)) else { return Next::Stop };
        e.layer(
            pos..pos + 4,
            LayerInfo::Vlan {
                tpid: et,
                pcp: (tci >> 13) as u8,
                dei: tci & 0x1000 != 0,
                vid: tci & 0x0fff,
                ethertype: inner,
            },
        );
        pos += 4;
        et = inner;
    }
    by_ethertype(et, pos)
}

/// Linux cooked capture v1 (LINKTYPE_LINUX_SLL): packet type(2) ARPHRD(2) addr len(2) addr(8)
/// protocol(2).
pub(crate) fn sll(cx: &mut Cx<'_, '_>, bound: Bound) -> Next {
    let data = cx.data;
    let mut e = cx.emit();
    if e.check(LINK, "Linux cooked (SLL) header", 0, 16, bound) {
        return Next::Stop;
    }
    let Some(h) = arr::<16>(data, 0) else { return Next::Stop };
    let packet_type = u16::from_be_bytes([h[0], h[1]]);
    let arphrd = u16::from_be_bytes([h[2], h[3]]);
    let addr_len = usize::from(u16::from_be_bytes([h[4], h[5]])).min(8);
    let protocol = u16::from_be_bytes([h[14], h[15]]);
    let addr = MacAddr::new(h.get(6..6 + addr_len).unwrap_or(&[]));
    e.layer(0..16, LayerInfo::LinuxSll { version: 1, packet_type, arphrd, addr, protocol, ifindex: None });
    sll_next(data, arphrd, protocol, 16)
}

/// Linux `ARPHRD_IEEE802154_MONITOR`: monitor interfaces deliver frames with their FCS.
const ARPHRD_IEEE802154_MONITOR: u16 = 805;

/// What an SLL protocol field leads to. 802.15.4 frames (`ETH_P_IEEE802154`) carry their FCS
/// on monitor interfaces (ARPHRD 805); Linux strips it on the data path (ARPHRD 804), yet
/// Wireshark 4.0 assumes one there: the frame is taken as FCS-terminated when it is from a
/// monitor interface or when its last two bytes verify as its FCS (1 in 65536 by chance).
fn sll_next(data: &[u8], arphrd: u16, protocol: u16, pos: usize) -> Next {
    if protocol != ETH_P_IEEE802154 {
        return by_ethertype(protocol, pos);
    }
    let fcs = arphrd == ARPHRD_IEEE802154_MONITOR
        || data.len().checked_sub(2).is_some_and(|end| {
            end > pos
                && data.get(pos..end).map(super::ieee802154::fcs16)
                    == arr::<2>(data, end).map(|b| u16::from_le_bytes(*b))
        });
    Next::Wpan { offset: pos, fcs }
}

/// Linux cooked capture v2 (LINKTYPE_LINUX_SLL2): protocol(2) reserved(2) ifindex(4) ARPHRD(2)
/// packet type(1) addr len(1) addr(8).
pub(crate) fn sll2(cx: &mut Cx<'_, '_>, bound: Bound) -> Next {
    let data = cx.data;
    let mut e = cx.emit();
    if e.check(LINK, "Linux cooked v2 (SLL2) header", 0, 20, bound) {
        return Next::Stop;
    }
    let Some(h) = arr::<20>(data, 0) else { return Next::Stop };
    let protocol = u16::from_be_bytes([h[0], h[1]]);
    let ifindex = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
    let arphrd = u16::from_be_bytes([h[8], h[9]]);
    let packet_type = u16::from(h[10]);
    let addr_len = usize::from(h[11]).min(8);
    let addr = MacAddr::new(h.get(12..12 + addr_len).unwrap_or(&[]));
    e.layer(
        0..20,
        LayerInfo::LinuxSll { version: 2, packet_type, arphrd, addr, protocol, ifindex: Some(ifindex) },
    );
    sll_next(data, arphrd, protocol, 20)
}

/// BSD address families that mean IPv4 / IPv6 in NULL and LOOP headers.
const AF_INET: u32 = 2;
/// IPv6: OpenBSD/NetBSD/BSD/OS (24), FreeBSD/DragonFly (28), Darwin (30).
const AF_INET6: [u32; 3] = [24, 28, 30];

fn known_af(af: u32) -> bool {
    af == AF_INET || AF_INET6.contains(&af)
}

/// BSD NULL (host byte order of the capturing machine: both orders accepted) or LOOP
/// (network byte order): a 4-byte address family.
pub(crate) fn null(cx: &mut Cx<'_, '_>, bound: Bound, network_order: bool) -> Next {
    let data = cx.data;
    let mut e = cx.emit();
    let name = if network_order { "LOOP header" } else { "NULL header" };
    if e.check(LINK, name, 0, 4, bound) {
        return Next::Stop;
    }
    let Some(h) = arr::<4>(data, 0) else { return Next::Stop };
    let be = u32::from_be_bytes(*h);
    let le = u32::from_le_bytes(*h);
    let family = if network_order {
        be
    } else if known_af(le) {
        le
    } else if known_af(be) {
        be
    } else {
        le
    };
    e.layer(0..4, LayerInfo::Loopback { family });
    if family == AF_INET {
        Next::Ipv4(4)
    } else if AF_INET6.contains(&family) {
        Next::Ipv6(4)
    } else {
        e.finding(
            FindingKind::NetUnsupported,
            Severity::Info,
            FLayer::Link,
            0..4,
            format!(
                "{name}: address family {family} (0x{be:08x} on the wire) is neither IPv4 (2) nor IPv6 \
                 (24, 28, 30); payload not decoded"
            ),
        );
        Next::Stop
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use crate::capture::LinkType;

    fn dec(lt: LinkType, data: &[u8]) -> Decoded<'_> {
        NetDecoder::default().decode(lt, data, 1, Timestamp::ZERO)
    }

    /// IPv4 + UDP 192.0.2.1:1234 -> 192.0.2.2:5683, payload "hi" (RFC 791 §3.1 header,
    /// RFC 768 header; checksums filled in).
    pub(crate) fn ipv4_udp() -> Vec<u8> {
        let mut p = vec![
            0x45, 0x00, 0x00, 0x1e, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 192, 0, 2, 1, 192, 0, 2,
            2, 0x04, 0xd2, 0x16, 0x33, 0x00, 0x0a, 0x00, 0x00, b'h', b'i',
        ];
        let ck = !super::super::udp::fold(super::super::udp::sum(&p[..20], 0));
        p[10..12].copy_from_slice(&ck.to_be_bytes());
        p
    }

    #[test]
    fn qinq_gives_one_vlan_layer_per_tag() {
        // IEEE 802.1ad S-tag (0x88a8, PCP 5, VID 100) then 802.1Q C-tag (0x8100, DEI, VID 42).
        let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x88, 0xa8, 0xa0, 0x64, 0x81, 0x00];
        f.extend_from_slice(&[0x10, 0x2a, 0x08, 0x00]);
        f.extend_from_slice(&ipv4_udp());
        let d = dec(LinkType::ETHERNET, &f);
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        assert_eq!(d.layers.len(), 5);
        assert_eq!(
            d.layers[1],
            Layer {
                range: 14..18,
                info: LayerInfo::Vlan { tpid: 0x88a8, pcp: 5, dei: false, vid: 100, ethertype: 0x8100 }
            }
        );
        assert_eq!(
            d.layers[2],
            Layer {
                range: 18..22,
                info: LayerInfo::Vlan { tpid: 0x8100, pcp: 0, dei: true, vid: 42, ethertype: 0x0800 }
            }
        );
        let dg = d.datagram.unwrap();
        assert_eq!(dg.payload.as_ref(), b"hi");
        assert_eq!(dg.payload_offset, Some(22 + 28));
        assert_eq!(dg.dst.to_string(), "192.0.2.2:5683");
    }

    #[test]
    fn vlan_tag_cut_is_link_truncated() {
        let f = [0u8, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0x81, 0x00, 0x00];
        let d = dec(LinkType::ETHERNET, &f);
        assert_eq!(d.findings.len(), 1);
        assert_eq!(d.findings[0].kind, FindingKind::LinkTruncated);
        assert_eq!(d.findings[0].span, Some(Span::Frame { start: 14, end: 15 }));
        assert_eq!(d.layers.len(), 1, "the Ethernet layer is kept");
    }

    #[test]
    fn sll_v1_and_v2() {
        // SLL v1: outgoing (4), ARPHRD_ETHER (1), 6-byte address, protocol IPv4.
        let mut f = vec![0, 4, 0, 1, 0, 6, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0, 0x08, 0x00];
        f.extend_from_slice(&ipv4_udp());
        let d = dec(LinkType::LINUX_SLL, &f);
        assert_eq!(
            d.layers[0].info,
            LayerInfo::LinuxSll {
                version: 1,
                packet_type: 4,
                arphrd: 1,
                addr: MacAddr::new(&[0x02, 0x11, 0x22, 0x33, 0x44, 0x55]),
                protocol: 0x0800,
                ifindex: None
            }
        );
        assert_eq!(d.datagram.unwrap().payload.as_ref(), b"hi");

        // SLL2 (LINKTYPE_LINUX_SLL2): protocol, reserved, ifindex 3, ARPHRD_ETHER, host (0), len 6.
        let mut f = vec![0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0];
        f.extend_from_slice(&ipv4_udp());
        let d = dec(LinkType::LINUX_SLL2, &f);
        assert_eq!(d.layers[0].range, 0..20);
        assert_eq!(
            d.layers[0].info,
            LayerInfo::LinuxSll {
                version: 2,
                packet_type: 0,
                arphrd: 1,
                addr: MacAddr::new(&[0x02, 0x11, 0x22, 0x33, 0x44, 0x55]),
                protocol: 0x0800,
                ifindex: Some(3)
            }
        );
        let dg = d.datagram.unwrap();
        assert_eq!(dg.payload_offset, Some(48));
        assert!(d.findings.is_empty());
    }

    #[test]
    fn sll_carrying_802154_with_and_without_fcs() {
        // SLL v1, ARPHRD_IEEE802154 (804), protocol ETH_P_IEEE802154: an 802.15.4 ack frame.
        let mut f = vec![0, 0, 0x03, 0x24, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0xf6, 0x02, 0x00, 0x56];
        let d = dec(LinkType::LINUX_SLL, &f);
        assert!(matches!(
            d.layers[1].info,
            LayerInfo::Ieee802154 { frame_type: 2, seq: Some(0x56), fcs: None, .. }
        ));
        let fcs = super::super::ieee802154::fcs16(&f[16..]);
        f.extend_from_slice(&fcs.to_le_bytes());
        let d = dec(LinkType::LINUX_SLL, &f);
        assert!(matches!(d.layers[1].info, LayerInfo::Ieee802154 { fcs: Some(true), .. }), "{:?}", d.layers);
        // a monitor interface (805) always has the FCS: a wrong one is reported
        f[2..4].copy_from_slice(&805u16.to_be_bytes());
        let n = f.len();
        f[n - 1] ^= 1;
        let d = dec(LinkType::LINUX_SLL, &f);
        assert_eq!(d.findings[0].kind, FindingKind::LinkChecksum);
    }

    #[test]
    fn null_both_byte_orders_and_loop() {
        for hdr in [[2u8, 0, 0, 0], [0, 0, 0, 2]] {
            let mut f = hdr.to_vec();
            f.extend_from_slice(&ipv4_udp());
            let d = dec(LinkType::NULL, &f);
            assert_eq!(d.layers[0].info, LayerInfo::Loopback { family: 2 }, "{hdr:?}");
            assert!(d.datagram.is_some());
        }
        // IPv6 families 24/28/30 (little-endian host) and 30 big-endian; the IPv6 header is cut
        // right after the family, so the IPv6 attempt shows as an IP truncation.
        for hdr in [[24u8, 0, 0, 0], [28, 0, 0, 0], [30, 0, 0, 0], [0, 0, 0, 30]] {
            let d = dec(LinkType::NULL, &hdr);
            assert_eq!(d.findings.len(), 1);
            assert_eq!(d.findings[0].kind, FindingKind::IpTruncated, "{hdr:?}");
        }
        // LOOP is network byte order only: 0x02000000 is not AF_INET there.
        let mut f = vec![0, 0, 0, 2];
        f.extend_from_slice(&ipv4_udp());
        assert!(dec(LinkType::LOOP, &f).datagram.is_some());
        let mut f = vec![2, 0, 0, 0];
        f.extend_from_slice(&ipv4_udp());
        let d = dec(LinkType::LOOP, &f);
        assert!(d.datagram.is_none());
        assert_eq!(d.layers[0].info, LayerInfo::Loopback { family: 0x0200_0000 });
        assert_eq!(d.findings[0].kind, FindingKind::NetUnsupported);
    }

    #[test]
    fn unknown_link_type_one_finding() {
        let d = dec(LinkType(147), &[1, 2, 3]);
        assert_eq!(d.findings.len(), 1);
        assert_eq!(d.findings[0].kind, FindingKind::UnsupportedLinkType);
        assert_eq!(d.findings[0].span, Some(Span::Frame { start: 0, end: 3 }));
        assert!(d.layers.is_empty());
    }
}
