//! The deterministic scenario engine: peers with addresses, ports and MID/token counters, a
//! capture clock that starts at a fixed instant and only moves by scripted delays, and a
//! network path that turns each CoAP message into link-layer frames.
//!
//! Everything random (initial MIDs, tokens, ephemeral ports, IP identifications, small
//! jitter) comes from one [`XorShift64`] seeded by the script, so every run gives the same
//! bytes.

use crate::coap::CoapMsg;
use crate::ip::{self, ExtHeader, Ipv4Params, Ipv6Params, PROTO_UDP};
use crate::link::{self, VlanTag};
use crate::lowpan::{self, LowpanUdp, MacAddr154, WpanLink};
use crate::rng::XorShift64;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// 2026-01-01T00:00:00Z in nanoseconds since the Unix epoch.
pub const START_NS: u64 = 1_767_225_600 * 1_000_000_000;

pub type PeerId = usize;

/// One CoAP endpoint.
#[derive(Debug, Clone)]
pub struct Peer {
    pub name: &'static str,
    pub mac: [u8; 6],
    pub ipv4: Ipv4Addr,
    pub ipv6: Ipv6Addr,
    /// 802.15.4 addresses (the IPv6 address used on a WPAN is derived from the one in use).
    pub wpan_ext: [u8; 8],
    pub wpan_short: u16,
    pub port: u16,
    next_mid: u16,
    next_token: u64,
    pub token_len: usize,
    ip_id: u16,
    wpan_seq: u8,
}

/// Which IP version carries UDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpVersion {
    V4,
    V6,
}

/// The link layer frames are captured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkKind {
    Ethernet {
        tags: Vec<VlanTag>,
    },
    LinuxSll,
    LinuxSll2 {
        ifindex: u32,
    },
    Null,
    Loop,
    /// LINKTYPE_RAW (101): bare IPv4 or IPv6 packets.
    Raw,
    /// LINKTYPE_IPV4 (228) / LINKTYPE_IPV6 (229).
    RawIpv4,
    RawIpv6,
    /// 802.15.4 + 6LoWPAN (IPv6 only); `short` addressing instead of extended.
    Wpan {
        link: WpanLink,
        short: bool,
    },
}

impl LinkKind {
    pub fn link_type(&self) -> u32 {
        use link::linktype as lt;
        match self {
            LinkKind::Ethernet { .. } => lt::ETHERNET,
            LinkKind::LinuxSll => lt::LINUX_SLL,
            LinkKind::LinuxSll2 { .. } => lt::LINUX_SLL2,
            LinkKind::Null => lt::NULL,
            LinkKind::Loop => lt::LOOP,
            LinkKind::Raw => lt::RAW,
            LinkKind::RawIpv4 => lt::IPV4,
            LinkKind::RawIpv6 => lt::IPV6,
            LinkKind::Wpan { link, .. } => {
                if link.fcs {
                    lt::IEEE802_15_4_WITHFCS
                } else {
                    lt::IEEE802_15_4_NOFCS
                }
            }
        }
    }
}

/// How datagrams travel: link, IP version, optional fragmentation MTU, IPv6 extension headers
/// (Hop-by-Hop and Routing repeat in every fragment, Destination Options travel in the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetPath {
    pub link: LinkKind,
    pub ip: IpVersion,
    pub mtu: Option<usize>,
    pub v6_exts: Vec<ExtHeader>,
    /// Pad Ethernet frames the capture host receives to 60 bytes (as a NIC delivers them).
    pub pad_received: bool,
}

impl NetPath {
    pub fn ethernet_v4() -> Self {
        NetPath {
            link: LinkKind::Ethernet { tags: Vec::new() },
            ip: IpVersion::V4,
            mtu: None,
            v6_exts: Vec::new(),
            pad_received: false,
        }
    }
}

/// One captured frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub ts_ns: u64,
    pub data: Vec<u8>,
    pub orig_len: u32,
}

/// What the script says it put on the wire: one CoAP message (or malformed bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// 1-based number of the frame that carries (or completes) the message.
    pub frame: u64,
    /// Number of the first frame of the message (differs when fragmented).
    pub first_frame: u64,
    pub ts_ns: u64,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    /// The CoAP message, `None` for hand-made bytes.
    pub msg: Option<CoapMsg>,
    pub bytes: Vec<u8>,
    pub note: String,
}

impl Sent {
    /// One line: `frame  CON GET mid=0x1234 token=ab12 /path  note`.
    pub fn summary(&self) -> String {
        let frames = if self.first_frame == self.frame {
            format!("{}", self.frame)
        } else {
            format!("{}-{}", self.first_frame, self.frame)
        };
        match &self.msg {
            Some(m) => {
                let ty = ["CON", "NON", "ACK", "RST"][m.ty as usize];
                let path = m.uri_path();
                format!(
                    "{frames:>6}  {ty} {:<5} mid=0x{:04x} token={:<16} {}{}",
                    crate::coap::code::dotted(m.code),
                    m.mid,
                    if m.token.is_empty() { "-".to_string() } else { hex(&m.token) },
                    if path.is_empty() { String::new() } else { format!("/{path}  ") },
                    self.note
                )
            }
            None => format!("{frames:>6}  (raw {} bytes) {}", self.bytes.len(), self.note),
        }
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The scenario: peers, clock, path, and what was captured.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub peers: Vec<Peer>,
    pub path: NetPath,
    /// The host the capture runs on (decides Ethernet padding and SLL packet types).
    pub capture_host: PeerId,
    now_ns: u64,
    rng: XorShift64,
    pub frames: Vec<Frame>,
    pub log: Vec<Sent>,
    v6_frag_id: u32,
    lowpan_tag: u16,
    /// Capture snap length: longer frames keep only their first `snaplen` bytes (the original
    /// length is still recorded), and the pcapng interface / pcap header announce it.
    pub snaplen: u32,
}

impl Scenario {
    pub fn new(seed: u64, path: NetPath) -> Self {
        let mut rng = XorShift64::new(seed);
        let v6_frag_id = rng.next_u32();
        let lowpan_tag = rng.next_u16();
        Scenario {
            peers: Vec::new(),
            path,
            capture_host: 0,
            now_ns: START_NS,
            rng,
            frames: Vec::new(),
            log: Vec::new(),
            v6_frag_id,
            lowpan_tag,
            snaplen: 262_144,
        }
    }

    /// Adds a peer numbered `n` (1..=254): MAC 02:00:00:00:00:n, 192.0.2.n, 2001:db8::n,
    /// 802.15.4 00:12:4b:00:00:00:00:n / short n. `port: None` picks an ephemeral port.
    pub fn add_peer(&mut self, name: &'static str, n: u8, port: Option<u16>, token_len: usize) -> PeerId {
        let port = port.unwrap_or_else(|| self.rng.range(49152, 65535) as u16);
        let next_mid = self.rng.next_u16();
        let next_token = self.rng.next_u64();
        let ip_id = self.rng.next_u16();
        let wpan_seq = (self.rng.next_u16() & 0xff) as u8;
        self.peers.push(Peer {
            name,
            mac: [0x02, 0, 0, 0, 0, n],
            ipv4: Ipv4Addr::new(192, 0, 2, n),
            ipv6: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, u16::from(n)),
            wpan_ext: [0x00, 0x12, 0x4b, 0x00, 0x00, 0x00, 0x00, n],
            wpan_short: u16::from(n),
            port,
            next_mid,
            next_token,
            token_len,
            ip_id,
            wpan_seq,
        });
        self.peers.len() - 1
    }

    /// Adds a peer that uses the IP address and port of `like` from another machine (MAC
    /// 02:00:00:00:00:`mac_n`): an on-path attacker spoofing `like`.
    pub fn add_spoofer(&mut self, name: &'static str, like: PeerId, mac_n: u8) -> PeerId {
        let next_mid = self.rng.next_u16();
        let next_token = self.rng.next_u64();
        let ip_id = self.rng.next_u16();
        let mut p = self.peers[like].clone();
        p.name = name;
        p.mac = [0x02, 0, 0, 0, 0, mac_n];
        p.next_mid = next_mid;
        p.next_token = next_token;
        p.ip_id = ip_id;
        self.peers.push(p);
        self.peers.len() - 1
    }

    /// Gives `to` the MID and token counters of `from` (a peer that keeps its counters across
    /// an address change).
    pub fn copy_counters(&mut self, from: PeerId, to: PeerId) {
        let (mid, token, len) =
            (self.peers[from].next_mid, self.peers[from].next_token, self.peers[from].token_len);
        let p = &mut self.peers[to];
        p.next_mid = mid;
        p.next_token = token;
        p.token_len = len;
    }

    pub fn now_ns(&self) -> u64 {
        self.now_ns
    }

    pub fn wait_ms(&mut self, ms: u64) {
        self.now_ns += ms * 1_000_000;
    }

    pub fn wait_us(&mut self, us: u64) {
        self.now_ns += us * 1_000;
    }

    /// Waits a random time in `lo_us..=hi_us` (processing delay, network jitter).
    pub fn jitter_us(&mut self, lo_us: u64, hi_us: u64) {
        let d = self.rng.range(lo_us, hi_us);
        self.wait_us(d);
    }

    /// The peer's next Message ID (counter, as RFC 7252 §4.4 suggests).
    pub fn mid(&mut self, p: PeerId) -> u16 {
        let m = self.peers[p].next_mid;
        self.peers[p].next_mid = m.wrapping_add(1);
        m
    }

    /// The peer's next token: a counter started at a random value, `token_len` bytes.
    pub fn token(&mut self, p: PeerId) -> Vec<u8> {
        let peer = &mut self.peers[p];
        let t = peer.next_token;
        peer.next_token = t.wrapping_add(1);
        t.to_be_bytes()[8 - peer.token_len..].to_vec()
    }

    pub fn rng(&mut self) -> &mut XorShift64 {
        &mut self.rng
    }

    /// The IP address `p` uses on this path.
    pub fn addr(&self, p: PeerId) -> IpAddr {
        let peer = &self.peers[p];
        match &self.path.link {
            LinkKind::Wpan { short, .. } => IpAddr::V6(self.wpan_mac(p, *short).link_local()),
            _ => match self.path.ip {
                IpVersion::V4 => IpAddr::V4(peer.ipv4),
                IpVersion::V6 => IpAddr::V6(peer.ipv6),
            },
        }
    }

    fn wpan_mac(&self, p: PeerId, short: bool) -> MacAddr154 {
        let peer = &self.peers[p];
        if short { MacAddr154::Short(peer.wpan_short) } else { MacAddr154::Extended(peer.wpan_ext) }
    }

    /// Sends a CoAP message from `from` to `to` now; returns the frame number carrying it.
    pub fn send(&mut self, from: PeerId, to: PeerId, msg: &CoapMsg, note: &str) -> u64 {
        let bytes = msg.encode();
        self.send_bytes(from, to, bytes, Some(msg.clone()), note)
    }

    /// Sends the exact bytes of an earlier message again (a CoAP retransmission).
    pub fn resend(&mut self, from: PeerId, to: PeerId, earlier: &CoapMsg, note: &str) -> u64 {
        self.send(from, to, earlier, note)
    }

    /// Sends raw UDP payload bytes (hand-made, maybe malformed CoAP).
    pub fn send_raw(&mut self, from: PeerId, to: PeerId, bytes: Vec<u8>, note: &str) -> u64 {
        self.send_bytes(from, to, bytes, None, note)
    }

    fn send_bytes(
        &mut self,
        from: PeerId,
        to: PeerId,
        bytes: Vec<u8>,
        msg: Option<CoapMsg>,
        note: &str,
    ) -> u64 {
        let frames = self.encapsulate(from, to, &bytes);
        let n = frames.len() as u64;
        // Fragments leave back to back; the last one (which completes the datagram) is "now".
        let gap_ns: u64 = match self.path.link {
            LinkKind::Wpan { .. } => 4_000_000, // ~ one 127-byte frame at 250 kbit/s
            _ => 10_000,
        };
        let first_ts = self.now_ns - (n - 1) * gap_ns;
        if let Some(last) = self.frames.last() {
            assert!(
                first_ts >= last.ts_ns,
                "scenario clock went backwards at frame {}",
                self.frames.len() + 1
            );
        }
        let first_frame = self.frames.len() as u64 + 1;
        for (i, mut data) in frames.into_iter().enumerate() {
            let orig_len = data.len() as u32;
            data.truncate(self.snaplen as usize);
            self.frames.push(Frame { ts_ns: first_ts + i as u64 * gap_ns, data, orig_len });
        }
        let frame = self.frames.len() as u64;
        self.log.push(Sent {
            frame,
            first_frame,
            ts_ns: self.now_ns,
            src: self.addr(from),
            dst: self.addr(to),
            sport: self.peers[from].port,
            dport: self.peers[to].port,
            msg,
            bytes,
            note: note.to_string(),
        });
        frame
    }

    /// UDP payload -> link-layer frames (one, or several when fragmented).
    pub fn encapsulate(&mut self, from: PeerId, to: PeerId, payload: &[u8]) -> Vec<Vec<u8>> {
        let (sport, dport) = (self.peers[from].port, self.peers[to].port);
        if let LinkKind::Wpan { link, short } = self.path.link.clone() {
            let (src_mac, dst_mac) = (self.wpan_mac(from, short), self.wpan_mac(to, short));
            let d = LowpanUdp {
                src_mac,
                dst_mac,
                src: src_mac.link_local(),
                dst: dst_mac.link_local(),
                hop_limit: 64,
                sport,
                dport,
                payload,
            };
            let tag = self.lowpan_tag;
            let mut seq = self.peers[from].wpan_seq;
            let frames = lowpan::lowpan_udp_frames(&link, &mut seq, tag, &d);
            self.peers[from].wpan_seq = seq;
            if frames.len() > 1 {
                self.lowpan_tag = tag.wrapping_add(1);
            }
            return frames;
        }
        let packets: Vec<Vec<u8>> = match self.path.ip {
            IpVersion::V4 => {
                let (src, dst) = (self.peers[from].ipv4, self.peers[to].ipv4);
                let id = self.peers[from].ip_id;
                self.peers[from].ip_id = id.wrapping_add(1);
                let udp = ip::udp_v4(src, dst, sport, dport, payload);
                // Linux sets DF on unfragmented UDP unless PMTU says otherwise; keep DF clear
                // so the same header works for fragmented and unfragmented datagrams.
                let p = Ipv4Params {
                    src,
                    dst,
                    ttl: 64,
                    identification: id,
                    dont_fragment: false,
                    protocol: PROTO_UDP,
                };
                ip::ipv4_datagram(&p, &udp, self.path.mtu)
            }
            IpVersion::V6 => {
                let (src, dst) = (self.peers[from].ipv6, self.peers[to].ipv6);
                let udp = ip::udp_v6(src, dst, sport, dport, payload);
                let p = Ipv6Params { src, dst, hop_limit: 64, traffic_class: 0, flow_label: 0 };
                let id = self.v6_frag_id;
                let frags = ip::ipv6_datagram(&p, &self.path.v6_exts, PROTO_UDP, &udp, self.path.mtu, id);
                if frags.len() > 1 {
                    self.v6_frag_id = id.wrapping_add(1);
                }
                frags
            }
        };
        let outgoing = from == self.capture_host;
        let (ethertype, family_null, family_loop) = match self.path.ip {
            IpVersion::V4 => (link::ETHERTYPE_IPV4, link::AF_INET, link::AF_INET),
            IpVersion::V6 => (link::ETHERTYPE_IPV6, link::AF_INET6_DARWIN, 24),
        };
        let (src_mac, dst_mac) = (self.peers[from].mac, self.peers[to].mac);
        packets
            .into_iter()
            .map(|pkt| match &self.path.link {
                LinkKind::Ethernet { tags } => link::ethernet(
                    dst_mac,
                    src_mac,
                    tags,
                    ethertype,
                    &pkt,
                    self.path.pad_received && !outgoing,
                ),
                LinkKind::LinuxSll => {
                    let pt = if outgoing { link::pkttype::OUTGOING } else { link::pkttype::HOST };
                    link::linux_sll(pt, &src_mac, ethertype, &pkt)
                }
                LinkKind::LinuxSll2 { ifindex } => {
                    let pt = if outgoing { link::pkttype::OUTGOING } else { link::pkttype::HOST } as u8;
                    link::linux_sll2(ethertype, *ifindex, pt, &src_mac, &pkt)
                }
                LinkKind::Null => link::bsd_null(family_null, &pkt),
                LinkKind::Loop => link::bsd_loop(family_loop, &pkt),
                LinkKind::Raw | LinkKind::RawIpv4 | LinkKind::RawIpv6 => pkt,
                LinkKind::Wpan { .. } => unreachable!("handled above"),
            })
            .collect()
    }

    /// Writes the frames as classic pcap.
    pub fn to_pcap(&self, precision: crate::pcap::TsPrecision, endian: crate::pcap::Endian) -> Vec<u8> {
        let mut w = crate::pcap::PcapWriter::new(self.path.link.link_type(), self.snaplen, precision, endian);
        for f in &self.frames {
            w.record(f.ts_ns, &f.data, f.orig_len);
        }
        w.into_bytes()
    }

    /// Writes the frames as pcapng: one section, one interface (`if_tsresol` given).
    pub fn to_pcapng(&self, tsresol: Option<u8>, if_name: &str) -> Vec<u8> {
        let mut w = crate::pcapng::PcapNgWriter::new(crate::pcap::Endian::Little);
        w.section(Some("kudoscope-sim"));
        let i = w.interface(self.path.link.link_type() as u16, self.snaplen, tsresol, Some(if_name));
        for f in &self.frames {
            w.packet(i, f.ts_ns, &f.data, f.orig_len, None);
        }
        w.into_bytes()
    }
}
