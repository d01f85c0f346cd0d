//! Link-layer framings: Ethernet II (+ 802.1Q / 802.1ad tags), Linux cooked v1/v2, BSD
//! NULL/LOOP. (Raw IP link types 101/228/229 carry the IP packet as is; 802.15.4 is in
//! `lowpan`.)

pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
pub const TPID_8021Q: u16 = 0x8100;
pub const TPID_8021AD: u16 = 0x88a8;

/// LINKTYPE_* numbers used by the samples (tcpdump.org link-layer header types).
pub mod linktype {
    pub const NULL: u32 = 0;
    pub const ETHERNET: u32 = 1;
    pub const RAW: u32 = 101;
    pub const LOOP: u32 = 108;
    pub const LINUX_SLL: u32 = 113;
    pub const USER0: u32 = 147;
    pub const IEEE802_15_4_WITHFCS: u32 = 195;
    pub const IPV4: u32 = 228;
    pub const IPV6: u32 = 229;
    pub const IEEE802_15_4_NOFCS: u32 = 230;
    pub const LINUX_SLL2: u32 = 276;
}

/// One VLAN tag (IEEE 802.1Q): TPID, then TCI = PCP(3) | DEI(1) | VID(12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VlanTag {
    pub tpid: u16,
    pub pcp: u8,
    pub dei: bool,
    pub vid: u16,
}

/// Minimum Ethernet frame length without FCS (64 - 4).
pub const ETH_MIN_LEN: usize = 60;

/// Ethernet II frame (no FCS, as captures usually show). `tags` outermost first. With
/// `pad_to_min`, pads with zeros to 60 bytes as a receiving NIC delivers short frames.
pub fn ethernet(
    dst: [u8; 6],
    src: [u8; 6],
    tags: &[VlanTag],
    ethertype: u16,
    payload: &[u8],
    pad_to_min: bool,
) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + 4 * tags.len() + payload.len());
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    for t in tags {
        f.extend_from_slice(&t.tpid.to_be_bytes());
        let tci = (u16::from(t.pcp & 7) << 13) | (u16::from(t.dei) << 12) | (t.vid & 0x0fff);
        f.extend_from_slice(&tci.to_be_bytes());
    }
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    if pad_to_min && f.len() < ETH_MIN_LEN {
        f.resize(ETH_MIN_LEN, 0);
    }
    f
}

/// Linux cooked packet types (the `sll_pkttype` values).
pub mod pkttype {
    pub const HOST: u16 = 0;
    pub const OUTGOING: u16 = 4;
}

pub const ARPHRD_ETHER: u16 = 1;

/// LINKTYPE_LINUX_SLL (113) header: packet type, ARPHRD, address length, 8 address bytes
/// (zero padded), protocol (all big endian).
pub fn linux_sll(packet_type: u16, addr: &[u8; 6], protocol: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(16 + payload.len());
    f.extend_from_slice(&packet_type.to_be_bytes());
    f.extend_from_slice(&ARPHRD_ETHER.to_be_bytes());
    f.extend_from_slice(&6u16.to_be_bytes());
    f.extend_from_slice(addr);
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(&protocol.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// LINKTYPE_LINUX_SLL2 (276) header: protocol, reserved (0), interface index, ARPHRD, packet
/// type (1 byte), address length (1 byte), 8 address bytes.
pub fn linux_sll2(protocol: u16, ifindex: u32, packet_type: u8, addr: &[u8; 6], payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(20 + payload.len());
    f.extend_from_slice(&protocol.to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(&ifindex.to_be_bytes());
    f.extend_from_slice(&ARPHRD_ETHER.to_be_bytes());
    f.push(packet_type);
    f.push(6);
    f.extend_from_slice(addr);
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    f
}

/// BSD address families as NULL/LOOP headers carry them.
pub const AF_INET: u32 = 2;
/// AF_INET6 on Darwin/macOS (FreeBSD 28, NetBSD/OpenBSD 24, Linux 10).
pub const AF_INET6_DARWIN: u32 = 30;

/// LINKTYPE_NULL (0): 4-byte address family in the *capturing host's* byte order (little
/// endian here, as on x86/ARM hosts).
pub fn bsd_null(family: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = family.to_le_bytes().to_vec();
    f.extend_from_slice(payload);
    f
}

/// LINKTYPE_LOOP (108): 4-byte address family in network (big endian) byte order (OpenBSD).
pub fn bsd_loop(family: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = family.to_be_bytes().to_vec();
    f.extend_from_slice(payload);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethernet_qinq() {
        let tags = [
            VlanTag { tpid: TPID_8021AD, pcp: 0, dei: false, vid: 100 },
            VlanTag { tpid: TPID_8021Q, pcp: 5, dei: true, vid: 0xabc },
        ];
        let f = ethernet([1; 6], [2; 6], &tags, ETHERTYPE_IPV4, &[0xee], false);
        assert_eq!(&f[12..22], &[0x88, 0xa8, 0x00, 0x64, 0x81, 0x00, 0xba, 0xbc, 0x08, 0x00]);
        assert_eq!(f.len(), 23);
        let g = ethernet([1; 6], [2; 6], &[], ETHERTYPE_IPV4, &[0xee], true);
        assert_eq!(g.len(), 60);
    }

    #[test]
    fn sll_layouts() {
        let a = [0x02, 0, 0, 0, 0, 1];
        let v1 = linux_sll(pkttype::OUTGOING, &a, ETHERTYPE_IPV4, &[]);
        assert_eq!(v1, [0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 8, 0]);
        let v2 = linux_sll2(ETHERTYPE_IPV6, 3, 0, &a, &[]);
        assert_eq!(v2, [0x86, 0xdd, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
    }

    #[test]
    fn null_and_loop_byte_order() {
        assert_eq!(bsd_null(AF_INET, &[]), [2, 0, 0, 0]);
        assert_eq!(bsd_loop(AF_INET, &[]), [0, 0, 0, 2]);
    }
}
