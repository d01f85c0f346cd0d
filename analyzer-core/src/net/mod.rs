//! Link layers -> IPv4/IPv6 (extension headers, fragment reassembly) -> UDP datagrams.
//!
//! CONTRACT (other modules rely on these names and meanings):
//! - [`NetDecoder::decode`] takes one frame and returns the layers it recognised (typed, with
//!   byte ranges into the frame) and, when the frame completes a UDP datagram, that datagram.
//! - Reassembly (IPv4, IPv6, 6LoWPAN FRAG1/FRAGN) is stateful: the decoder keeps bounded
//!   buffers (expired by capture time and capped in count/bytes), so memory does not grow with
//!   the number of frames. A fragment that does not complete a datagram yields layers but no
//!   datagram; the completing fragment yields the datagram with `reassembled` set.
//! - Malformed or truncated input becomes findings; whatever layers parsed are kept.

use crate::capture::LinkType;
use crate::finding::Finding;
use crate::time::Timestamp;
use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::ops::Range;

/// An IP endpoint (address + UDP port).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    pub addr: IpAddr,
    pub port: u16,
}

impl fmt::Display for Endpoint {
    /// `192.0.2.1:5683`, `[2001:db8::1]:5683`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.port),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.port),
        }
    }
}

/// A link-layer (MAC) address: 6 bytes (Ethernet/SLL), 2 (802.15.4 short) or 8 (802.15.4 extended).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MacAddr(pub Vec<u8>);

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// One decoded layer of a frame, with the byte range of its header in the frame (or, for
/// layers inside a reassembled datagram, see [`LayerInfo`] docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// Header bytes of this layer within the frame.
    pub range: Range<usize>,
    pub info: LayerInfo,
}

/// Typed per-layer values, cheap to build; display trees are rendered from these on demand.
#[derive(Debug, Clone, PartialEq)]
pub enum LayerInfo {
    Ethernet {
        dst: MacAddr,
        src: MacAddr,
        ethertype: u16,
    },
    /// 802.1Q / 802.1ad tag (one per tag; QinQ gives two).
    Vlan {
        tpid: u16,
        pcp: u8,
        dei: bool,
        vid: u16,
        ethertype: u16,
    },
    /// Linux cooked capture v1 (113) or v2 (276).
    LinuxSll {
        version: u8,
        packet_type: u16,
        arphrd: u16,
        addr: MacAddr,
        protocol: u16,
        ifindex: Option<u32>,
    },
    /// BSD NULL (0) or LOOP (108): address family (host or network byte order as the link type says).
    Loopback {
        family: u32,
    },
    Ieee802154 {
        frame_type: u8,
        seq: Option<u8>,
        dst_pan: Option<u16>,
        dst: Option<MacAddr>,
        src_pan: Option<u16>,
        src: Option<MacAddr>,
        security: bool,
        /// FCS present (link type 195), and whether it verified.
        fcs: Option<bool>,
    },
    /// 6LoWPAN dispatch/fragment header / IPHC (one layer per header).
    Sixlowpan {
        header: SixlowpanHeader,
    },
    Ipv4 {
        src: std::net::Ipv4Addr,
        dst: std::net::Ipv4Addr,
        ttl: u8,
        protocol: u8,
        id: u16,
        dont_fragment: bool,
        more_fragments: bool,
        fragment_offset: u16,
        total_len: u16,
        header_len: u8,
        checksum_ok: Option<bool>,
    },
    Ipv6 {
        src: std::net::Ipv6Addr,
        dst: std::net::Ipv6Addr,
        hop_limit: u8,
        next_header: u8,
        payload_len: u16,
        flow_label: u32,
        traffic_class: u8,
        /// Extension headers in order: (header type number, byte length).
        extensions: Vec<(u8, usize)>,
        /// Fragment header, if any: (identification, offset in 8-byte units, more fragments).
        fragment: Option<(u32, u16, bool)>,
    },
    Udp {
        src_port: u16,
        dst_port: u16,
        length: u16,
        checksum: u16,
        checksum_ok: Option<bool>,
    },
}

/// The 6LoWPAN headers kudoscope decodes.
#[derive(Debug, Clone, PartialEq)]
pub enum SixlowpanHeader {
    Frag1 {
        size: u16,
        tag: u16,
    },
    FragN {
        size: u16,
        tag: u16,
        offset: u16,
    },
    /// IPHC: the decompressed IPv6 addresses and whether UDP NHC followed.
    Iphc {
        src: std::net::Ipv6Addr,
        dst: std::net::Ipv6Addr,
        hop_limit: u8,
        next_header: Option<u8>,
        udp_nhc: bool,
    },
    /// Uncompressed IPv6 dispatch (0x41).
    Ipv6Uncompressed,
}

/// A UDP datagram ready for CoAP.
#[derive(Debug, Clone, PartialEq)]
pub struct Datagram<'a> {
    pub src: Endpoint,
    pub dst: Endpoint,
    /// The UDP payload.
    pub payload: Cow<'a, [u8]>,
    /// Where the payload starts in the frame, when it lies there contiguously (not reassembled).
    pub payload_offset: Option<usize>,
    /// Set when the datagram was reassembled from fragments.
    pub reassembled: Option<Reassembly>,
}

/// Which frames a reassembled datagram came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reassembly {
    /// 1-based frame numbers of the fragments, in frame order (includes the current frame).
    pub frames: Vec<u64>,
    /// The reassembled bytes starting at the network/transport header, for a hex view
    /// (layers inside it have ranges into these bytes, see `Decoded::reassembled_layers`).
    pub bytes: Vec<u8>,
}

/// Everything the network layers made of one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded<'a> {
    /// Layers in the frame's own bytes, outermost first.
    pub layers: Vec<Layer>,
    /// Layers located in `datagram.reassembled.bytes` (e.g. the UDP header of a reassembled datagram).
    pub reassembled_layers: Vec<Layer>,
    pub datagram: Option<Datagram<'a>>,
    pub findings: Vec<Finding>,
}

/// Settings for network decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetConfig {
    /// Verify IPv4/UDP checksums (findings on mismatch). Off by default like Wireshark.
    pub verify_checksums: bool,
    /// Capture-time seconds after which an incomplete reassembly is dropped (with a finding).
    pub reassembly_timeout_secs: u32,
    /// Cap on datagrams being reassembled at once; the oldest is dropped beyond it.
    pub max_pending_reassemblies: usize,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig { verify_checksums: false, reassembly_timeout_secs: 60, max_pending_reassemblies: 1024 }
    }
}

/// Stateful decoder (holds reassembly buffers).
#[derive(Debug, Default)]
pub struct NetDecoder {
    config: NetConfig,
}

impl NetDecoder {
    pub fn new(config: NetConfig) -> Self {
        NetDecoder { config }
    }

    /// Decodes one frame. `frame_number` is 1-based; `ts` drives reassembly expiry.
    pub fn decode<'a>(
        &mut self,
        link_type: LinkType,
        data: &'a [u8],
        frame_number: u64,
        ts: Timestamp,
    ) -> Decoded<'a> {
        let _ = (&self.config, link_type, data, frame_number, ts);
        Decoded { layers: Vec::new(), reassembled_layers: Vec::new(), datagram: None, findings: Vec::new() }
    }

    /// Findings for reassemblies still incomplete at the end of the capture (call once at the end).
    pub fn finish(&mut self) -> Vec<(u64, Finding)> {
        Vec::new()
    }
}
