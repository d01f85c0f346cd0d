//! Link layers -> IPv4/IPv6 (extension headers, fragment reassembly) -> UDP datagrams.
//!
//! CONTRACT (other modules rely on these names and meanings):
//! - [`NetDecoder::decode`] takes one frame and returns the layers it recognised (typed, with
//!   byte ranges into the frame) and, when the frame completes a UDP datagram, that datagram.
//! - Reassembly (IPv4, IPv6, 6LoWPAN FRAG1/FRAGN) is stateful: the decoder keeps bounded
//!   buffers (expired by capture time and capped in count/bytes), so memory does not grow with
//!   the number of frames. A fragment that does not complete a datagram yields layers but no
//!   datagram; the completing fragment yields the datagram with `reassembled` set.
//! - Malformed or truncated input becomes findings; whatever layers parsed are kept. Every
//!   finding has a span and says what was expected and what was seen.
//! - Reassemblies dropped by expiry or the caps are reported in [`Decoded::earlier_findings`]
//!   (keyed by the first fragment's frame) while decoding; those still pending at the end by
//!   [`NetDecoder::finish`].
//!
//! Truncated vs malformed: a shortfall is *truncated* when the capture may have cut the frame
//! (the wire length is unknown or larger) and *malformed* when the packet's own framing says
//! the bytes cannot be there (an enclosing length field, the wire length given to
//! [`NetDecoder::decode_with_orig_len`], a verified 802.15.4 FCS). One cut gives one finding,
//! reported by the innermost layer that the cut falls into (plus, for link type 195, a note
//! that the FCS was not captured when the wire length says so).
//!
//! Layout: `link` (Ethernet/VLAN, SLL, SLL2, NULL/LOOP), `ieee802154` (MAC + FCS),
//! `sixlowpan` (RFC 4944/6282), `ip` (IPv4/IPv6 + extension headers), `udp`, `reassembly`
//! (one bounded pool for all three kinds).
//!
//! Own parsers rather than etherparse: every layer needs its exact byte range, every shortfall
//! must be split into truncated vs malformed (etherparse reports both as a length error, and
//! does not know a frame's wire length), fragments must feed our bounded overlap-checking pool
//! (etherparse's `IpDefragPool` is unbounded and silent on conflicting overlaps), and the hot
//! path must not allocate. etherparse (an independent implementation) serves as a test oracle
//! in `tests/net_etherparse.rs`; tshark in `tests/net_tshark.rs`.

mod ieee802154;
mod ip;
mod link;
mod reassembly;
mod sixlowpan;
mod udp;

use crate::capture::LinkType;
use crate::finding::{Finding, FindingKind, Layer as FLayer, Severity, Span, SpanSource};
use crate::time::Timestamp;
use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::ops::Range;

/// The IEEE 802.15.4 FCS (CRC-16/KERMIT) of a MAC frame without its FCS (for tools writing frames).
pub use ieee802154::fcs16 as ieee802154_fcs;

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
///
/// Stored inline (no heap allocation per frame); at most 8 bytes are kept. 802.15.4 addresses
/// are stored in canonical order (most significant byte first, as Wireshark shows them), i.e.
/// reversed from their little-endian order on the air.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr {
    bytes: [u8; 8],
    len: u8,
}

impl MacAddr {
    /// Longest address kept.
    pub const MAX_LEN: usize = 8;

    /// The first (up to) 8 bytes of `b`.
    pub fn new(b: &[u8]) -> Self {
        let mut bytes = [0u8; 8];
        let n = b.len().min(Self::MAX_LEN);
        if let (Some(d), Some(s)) = (bytes.get_mut(..n), b.get(..n)) {
            d.copy_from_slice(s);
        }
        MacAddr { bytes, len: n as u8 }
    }

    /// `b` reversed (802.15.4 addresses are little-endian on the air).
    pub fn reversed(b: &[u8]) -> Self {
        let mut m = MacAddr::new(b);
        m.as_mut_bytes().reverse();
        m
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    fn as_mut_bytes(&mut self) -> &mut [u8] {
        self.bytes.get_mut(..usize::from(self.len)).unwrap_or(&mut [])
    }

    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.as_bytes().iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MacAddr({self})")
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
    /// IEEE 802.15.4 MAC header. PAN IDs and addresses are those carried in the frame (`None`
    /// when absent or elided by PAN ID compression, as Wireshark shows them).
    Ieee802154 {
        frame_type: u8,
        /// Frame version: 0 (2003), 1 (2006), 2 (2015).
        frame_version: u8,
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
    /// UDP header. For a 6LoWPAN UDP NHC the range covers the compressed header, `length` is
    /// the inferred one and, when the checksum was elided, `checksum` is the value a
    /// decompressor computes (0 if the addresses are not fully known) with `checksum_ok: None`.
    Udp {
        src_port: u16,
        dst_port: u16,
        length: u16,
        checksum: u16,
        /// Verified when `NetConfig::verify_checksums` (None: not checked, not checkable, or
        /// zero = no checksum over IPv4).
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
    /// IPHC: the decompressed IPv6 addresses and whether UDP NHC followed. `next_header` is
    /// the decompressed IPv6 Next Header (inline, or implied by LOWPAN_NHC: 17 for UDP NHC),
    /// `None` when the next-header chain could not be decoded. The layer's range covers the
    /// IPHC header and its inline fields (not the NHC headers; a UDP NHC gets a `Udp` layer).
    Iphc {
        src: std::net::Ipv6Addr,
        dst: std::net::Ipv6Addr,
        hop_limit: u8,
        next_header: Option<u8>,
        udp_nhc: bool,
    },
    /// Uncompressed IPv6 dispatch (0x41).
    Ipv6Uncompressed,
    /// Mesh addressing header (RFC 4944 §5.2); its addresses replace the 802.15.4 ones for
    /// address derivation and fragment keys.
    Mesh {
        hops_left: u8,
        originator: MacAddr,
        final_dst: MacAddr,
    },
    /// Broadcast header LOWPAN_BC0 (RFC 4944 §5.1, §11.1).
    Broadcast {
        seq: u8,
    },
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
    /// Payload bytes the UDP length announces but the capture did not keep (snaplen); 0 when
    /// the datagram is complete.
    pub missing: usize,
    /// Set when the datagram was reassembled from fragments.
    pub reassembled: Option<Reassembly>,
}

/// Which frames a reassembled datagram came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reassembly {
    /// 1-based frame numbers of the fragments, in frame order (includes the current frame).
    pub frames: Vec<u64>,
    /// The reassembled bytes, for a hex view (layers inside it have ranges into these bytes,
    /// see `Decoded::reassembled_layers`): for IPv4 the reassembled payload (starting at the
    /// UDP header); for IPv6 the fragmentable part (extension headers after the Fragment
    /// header, then UDP); for 6LoWPAN the whole decompressed IPv6 datagram (IPv6 header first,
    /// an elided UDP checksum filled in).
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
    /// Findings about EARLIER frames noticed while decoding this one: reassemblies dropped by
    /// capture-time expiry or by the pending/byte caps. Each is keyed by the frame it concerns
    /// (the datagram's first fragment) and its span points into that frame; the other fragment
    /// frames are in `related_frames`. Same shape as [`NetDecoder::finish`].
    pub earlier_findings: Vec<(u64, Finding)>,
}

/// A 6LoWPAN compression context (RFC 6282 §3.1.1 CID/SCI/DCI): the prefix that stateful
/// address compression (SAC/DAC = 1) refers to. How contexts are distributed is out of band
/// (RFC 6775 6CO option), so the user configures them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SixlowpanContext {
    /// Context identifier 0..=15.
    pub id: u8,
    pub prefix: Ipv6Addr,
    /// Prefix length in bits (0..=128).
    pub prefix_len: u8,
}

/// Settings for network decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetConfig {
    /// Verify IPv4/UDP checksums (findings on mismatch). Off by default like Wireshark.
    /// (The 802.15.4 FCS of link type 195 is always verified, as Wireshark does by default.)
    pub verify_checksums: bool,
    /// Capture-time seconds after which an incomplete reassembly is dropped (with a finding).
    pub reassembly_timeout_secs: u32,
    /// Cap on datagrams being reassembled at once; the oldest is dropped beyond it.
    pub max_pending_reassemblies: usize,
    /// Cap on bytes buffered by all pending reassemblies together; the oldest datagrams are
    /// dropped beyond it (with a finding).
    pub max_reassembly_bytes: usize,
    /// 6LoWPAN contexts for stateful address compression. A context id used by a packet but
    /// absent here yields a [`FindingKind::SixlowpanUnknownContext`] finding and an all-zero
    /// prefix; the UDP datagram is still decoded.
    pub sixlowpan_contexts: Vec<SixlowpanContext>,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            verify_checksums: false,
            reassembly_timeout_secs: 60,
            max_pending_reassemblies: 1024,
            max_reassembly_bytes: 16 << 20,
            sixlowpan_contexts: Vec::new(),
        }
    }
}

/// Stateful decoder (holds reassembly buffers).
#[derive(Debug, Default)]
pub struct NetDecoder {
    config: NetConfig,
    reasm: reassembly::Reassembler,
    /// A processed frame's layer list, reused by the next decode ([`NetDecoder::recycle`]).
    spare_layers: Vec<Layer>,
}

impl NetDecoder {
    pub fn new(config: NetConfig) -> Self {
        NetDecoder { config, reasm: reassembly::Reassembler::default(), spare_layers: Vec::new() }
    }

    pub fn config(&self) -> &NetConfig {
        &self.config
    }

    /// Hands back a decoded frame's layer list: the next decode fills it again.
    pub fn recycle(&mut self, mut layers: Vec<Layer>) {
        layers.clear();
        self.spare_layers = layers;
    }

    /// Decodes one frame. `frame_number` is 1-based; `ts` drives reassembly expiry.
    ///
    /// The frame's length on the wire is not known here, so a length field that points past
    /// the captured bytes is reported as truncated (capture cut short) unless the frame's end
    /// is otherwise known (a verified 802.15.4 FCS). Use [`NetDecoder::decode_with_orig_len`]
    /// when the capture's original length is at hand.
    pub fn decode<'a>(
        &mut self,
        link_type: LinkType,
        data: &'a [u8],
        frame_number: u64,
        ts: Timestamp,
    ) -> Decoded<'a> {
        self.decode_with_orig_len(link_type, data, None, frame_number, ts)
    }

    /// Like [`NetDecoder::decode`], with the frame's original length on the wire (pcap
    /// `orig_len`). A length field pointing past the captured bytes is then *truncated* when
    /// it stays within `orig_len` (the capture cut the frame) and *malformed* when it points
    /// past `orig_len` too (the packet lies about its length).
    pub fn decode_with_orig_len<'a>(
        &mut self,
        link_type: LinkType,
        data: &'a [u8],
        orig_len: Option<u32>,
        frame_number: u64,
        ts: Timestamp,
    ) -> Decoded<'a> {
        let mut layers = std::mem::take(&mut self.spare_layers);
        layers.reserve(4);
        let mut out = Decoded {
            layers,
            reassembled_layers: Vec::new(),
            datagram: None,
            findings: Vec::new(),
            earlier_findings: Vec::new(),
        };
        self.reasm.expire(ts, &self.config, &mut out.earlier_findings);
        let bound = Bound::frame(data.len(), orig_len);
        let mut cx =
            Cx { cfg: &self.config, reasm: &mut self.reasm, data, frame: frame_number, ts, out: &mut out };
        let next = match link_type {
            LinkType::ETHERNET => link::ethernet(&mut cx, bound),
            LinkType::LINUX_SLL => link::sll(&mut cx, bound),
            LinkType::LINUX_SLL2 => link::sll2(&mut cx, bound),
            LinkType::NULL => link::null(&mut cx, bound, false),
            LinkType::LOOP => link::null(&mut cx, bound, true),
            LinkType::RAW => link::Next::IpAny(0),
            LinkType::IPV4 => link::Next::Ipv4(0),
            LinkType::IPV6 => link::Next::Ipv6(0),
            LinkType::IEEE802_15_4_WITHFCS => link::Next::Wpan { offset: 0, fcs: true },
            LinkType::IEEE802_15_4_NOFCS => link::Next::Wpan { offset: 0, fcs: false },
            other => {
                cx.out.findings.push(
                    Finding::new(
                        FindingKind::UnsupportedLinkType,
                        Severity::Low,
                        FLayer::Link,
                        format!(
                            "link type {other} is not decoded (decoded: Ethernet 1, raw IP 101/228/229, \
                             NULL 0, LOOP 108, Linux SLL 113/276, IEEE 802.15.4 195/230)"
                        ),
                    )
                    .at(Span::frame(0..data.len())),
                );
                link::Next::Stop
            }
        };
        match next {
            link::Next::Stop => {}
            link::Next::Ipv4(off) => ip::ipv4(&mut cx, off, bound),
            link::Next::Ipv6(off) => ip::ipv6(&mut cx, off, bound),
            link::Next::IpAny(off) => ip::ip_any(&mut cx, off, bound),
            link::Next::Wpan { offset, fcs } => ieee802154::decode(&mut cx, offset, bound, fcs),
        }
        out
    }

    /// Datagrams currently being reassembled (bounded by the config caps).
    pub fn pending_reassemblies(&self) -> usize {
        self.reasm.pending_count()
    }

    /// Findings for reassemblies still incomplete at the end of the capture (call once at the end).
    /// Each is keyed by the frame of the datagram's first fragment (span into that frame), in
    /// the order the datagrams started.
    pub fn finish(&mut self) -> Vec<(u64, Finding)> {
        self.reasm.finish()
    }
}

// ---------------------------------------------------------------------------------------------
// Internals shared by the layer decoders.

/// Why bytes that a header or length field needs are missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Short {
    /// The capture cut the packet short (or may have: the wire length is unknown).
    Truncated,
    /// The packet itself ends before (its enclosing layer says so): it is inconsistent.
    Malformed,
}

/// How far a layer's bytes go: `end` is where the available bytes stop; `limit` is where the
/// enclosing layer says they really stop, when that is known (may be beyond `end` when the
/// capture was cut). `limit == Some(end)` means the end is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bound {
    pub end: usize,
    pub limit: Option<usize>,
}

impl Bound {
    pub(crate) fn exact(end: usize) -> Bound {
        Bound { end, limit: Some(end) }
    }

    fn frame(len: usize, orig_len: Option<u32>) -> Bound {
        Bound { end: len, limit: orig_len.map(|o| (o as usize).max(len)) }
    }

    /// Whether a header needing the bytes up to `need` is cut short, and why.
    pub(crate) fn short(self, need: usize) -> Option<Short> {
        if need <= self.end {
            None
        } else if self.limit.is_some_and(|l| need > l) {
            Some(Short::Malformed)
        } else {
            Some(Short::Truncated)
        }
    }

    /// Narrows to what a length field claims (`claimed_end`). When the claim does not fit, says
    /// why and returns the bound to continue with.
    pub(crate) fn claim(self, claimed_end: usize) -> (Bound, Option<Short>) {
        match self.short(claimed_end) {
            None => (Bound::exact(claimed_end), None),
            Some(Short::Truncated) => {
                (Bound { end: self.end, limit: Some(claimed_end) }, Some(Short::Truncated))
            }
            Some(Short::Malformed) => (self, Some(Short::Malformed)),
        }
    }

    /// True when the available bytes stop before the real end (capture cut).
    pub(crate) fn is_cut(self) -> bool {
        self.limit.is_some_and(|l| l > self.end)
    }
}

/// The finding kinds and layer of one protocol, for truncated/malformed reports.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Kinds {
    pub truncated: FindingKind,
    pub malformed: FindingKind,
    pub layer: FLayer,
}

pub(crate) const LINK: Kinds = Kinds {
    truncated: FindingKind::LinkTruncated,
    malformed: FindingKind::LinkMalformed,
    layer: FLayer::Link,
};
pub(crate) const WPAN: Kinds = Kinds {
    truncated: FindingKind::LinkTruncated,
    malformed: FindingKind::LinkMalformed,
    layer: FLayer::Ieee802154,
};
pub(crate) const LOWPAN: Kinds = Kinds {
    truncated: FindingKind::SixlowpanTruncated,
    malformed: FindingKind::SixlowpanMalformed,
    layer: FLayer::Sixlowpan,
};
pub(crate) const IP: Kinds =
    Kinds { truncated: FindingKind::IpTruncated, malformed: FindingKind::IpMalformed, layer: FLayer::Ip };
pub(crate) const UDP: Kinds =
    Kinds { truncated: FindingKind::UdpTruncated, malformed: FindingKind::UdpMalformed, layer: FLayer::Udp };

/// Where layers and findings go: the frame's own bytes, or a reassembled buffer.
pub(crate) struct Emit<'s> {
    pub source: SpanSource,
    pub layers: &'s mut Vec<Layer>,
    pub findings: &'s mut Vec<Finding>,
}

impl Emit<'_> {
    pub(crate) fn layer(&mut self, range: Range<usize>, info: LayerInfo) {
        self.layers.push(Layer { range, info });
    }

    pub(crate) fn finding(
        &mut self,
        kind: FindingKind,
        severity: Severity,
        layer: FLayer,
        range: Range<usize>,
        message: String,
    ) {
        self.findings.push(Finding::new(kind, severity, layer, message).at(Span::new(self.source, range)));
    }

    pub(crate) fn malformed(&mut self, k: Kinds, range: Range<usize>, message: String) {
        self.finding(k.malformed, Severity::Medium, k.layer, range, message);
    }

    /// Reports `what` (starting at `start`) needing bytes up to `need` that `bound` lacks.
    pub(crate) fn short(&mut self, s: Short, k: Kinds, what: &str, start: usize, need: usize, bound: Bound) {
        let wanted = need.saturating_sub(start);
        let span = start.min(bound.end)..bound.end;
        match s {
            Short::Truncated => {
                let have = bound.end.saturating_sub(start);
                self.finding(
                    k.truncated,
                    Severity::Low,
                    k.layer,
                    span,
                    format!("{what}: needs {wanted} bytes, only {have} captured (capture cut short)"),
                );
            }
            Short::Malformed => {
                let real = bound.limit.unwrap_or(bound.end).saturating_sub(start);
                self.finding(
                    k.malformed,
                    Severity::Medium,
                    k.layer,
                    span,
                    format!("{what}: needs {wanted} bytes, but the enclosing packet holds only {real}"),
                );
            }
        }
    }

    /// [`Emit::short`] when `bound` lacks `need`; returns true if it did.
    pub(crate) fn check(&mut self, k: Kinds, what: &str, start: usize, need: usize, bound: Bound) -> bool {
        match bound.short(need) {
            Some(s) => {
                self.short(s, k, what, start, need, bound);
                true
            }
            None => false,
        }
    }
}

/// Per-frame decoding context.
pub(crate) struct Cx<'a, 'o> {
    pub cfg: &'o NetConfig,
    pub reasm: &'o mut reassembly::Reassembler,
    pub data: &'a [u8],
    pub frame: u64,
    pub ts: Timestamp,
    pub out: &'o mut Decoded<'a>,
}

impl<'a> Cx<'a, '_> {
    pub(crate) fn emit(&mut self) -> Emit<'_> {
        Emit { source: SpanSource::Frame, layers: &mut self.out.layers, findings: &mut self.out.findings }
    }

    pub(crate) fn emit_reassembled(&mut self) -> Emit<'_> {
        Emit {
            source: SpanSource::Reassembled,
            layers: &mut self.out.reassembled_layers,
            findings: &mut self.out.findings,
        }
    }

    /// A datagram whose payload lies in the frame.
    pub(crate) fn datagram_in_frame(
        &mut self,
        src: Endpoint,
        dst: Endpoint,
        payload: Range<usize>,
        missing: usize,
    ) {
        let data: &'a [u8] = self.data;
        if let Some(p) = data.get(payload.clone()) {
            self.out.datagram = Some(Datagram {
                src,
                dst,
                payload: Cow::Borrowed(p),
                payload_offset: Some(payload.start),
                missing,
                reassembled: None,
            });
        }
    }

    /// A datagram from reassembled bytes (`payload` indexes `bytes`).
    pub(crate) fn datagram_reassembled(
        &mut self,
        src: Endpoint,
        dst: Endpoint,
        payload: Range<usize>,
        frames: Vec<u64>,
        bytes: Vec<u8>,
    ) {
        if let Some(p) = bytes.get(payload) {
            self.out.datagram = Some(Datagram {
                src,
                dst,
                payload: Cow::Owned(p.to_vec()),
                payload_offset: None,
                missing: 0,
                reassembled: Some(Reassembly { frames, bytes }),
            });
        }
    }
}

/// Fixed-size array at `off` (None when out of range).
#[inline]
pub(crate) fn arr<const N: usize>(d: &[u8], off: usize) -> Option<&[u8; N]> {
    d.get(off..off.checked_add(N)?)?.try_into().ok()
}

#[inline]
pub(crate) fn be16(d: &[u8], off: usize) -> Option<u16> {
    arr::<2>(d, off).map(|b| u16::from_be_bytes(*b))
}
