//! Cross-check of `analyzer_core::net` against the real tshark (Wireshark 4.0.x): we build
//! captures (one pcap per link type), decode every frame ourselves and with
//! `tshark -T fields`, and compare addresses, ports, UDP lengths (= payload + 8), VLAN ids,
//! Linux cooked and loopback headers, 802.15.4 addressing/PAN IDs/sequence numbers/FCS,
//! 6LoWPAN IPHC addresses and fragment headers, and where reassembly completes.
//!
//! tshark is required (CI installs it): the test FAILS when it is missing, unless
//! KUDOSCOPE_SKIP_TSHARK=1 is set, in which case it prints that it was skipped.
// Test code: indexing and unwrap are fine here (clippy.toml allows them in #[test] fns only).
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod net_support;

use analyzer_core::capture::LinkType;
use analyzer_core::net::{
    Decoded, LayerInfo, MacAddr, NetConfig, NetDecoder, SixlowpanContext, SixlowpanHeader,
};
use analyzer_core::time::Timestamp;
use net_support::*;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::Command;

const FIELDS: &[&str] = &[
    "frame.number",
    "ieee8021ad.id",
    "vlan.id",
    "sll.pkttype",
    "sll.etype",
    "sll.ltype",
    "sll.ifindex",
    "null.family",
    "ip.src",
    "ip.dst",
    "ip.id",
    "ip.proto",
    "ipv6.src",
    "ipv6.dst",
    "udp.srcport",
    "udp.dstport",
    "udp.length",
    "wpan.seq_no",
    "wpan.dst_pan",
    "wpan.src_pan",
    "wpan.dst16",
    "wpan.dst64",
    "wpan.src16",
    "wpan.src64",
    "wpan.fcs_ok",
    "6lowpan.src",
    "6lowpan.dst",
    "6lowpan.frag.size",
    "6lowpan.frag.tag",
    "6lowpan.frag.offset",
    "coap.mid",
];

fn tshark() -> Option<PathBuf> {
    if std::env::var("KUDOSCOPE_SKIP_TSHARK").as_deref() == Ok("1") {
        eprintln!("net_tshark: SKIPPED (KUDOSCOPE_SKIP_TSHARK=1): no cross-check against tshark was run");
        return None;
    }
    for p in ["/usr/bin/tshark", "/usr/local/bin/tshark"] {
        if Path::new(p).exists() {
            return Some(PathBuf::from(p));
        }
    }
    if Command::new("tshark").arg("--version").output().is_ok_and(|o| o.status.success()) {
        return Some(PathBuf::from("tshark"));
    }
    panic!(
        "tshark not found (looked in /usr/bin, /usr/local/bin and PATH): the network decoder is \
         cross-checked against it. Install it (Debian: apt-get install tshark) or set \
         KUDOSCOPE_SKIP_TSHARK=1 to skip this test explicitly."
    );
}

/// 16 contexts configured identically in tshark and in our decoder (various prefix lengths).
fn contexts() -> Vec<SixlowpanContext> {
    (0..16u8)
        .map(|id| {
            let len = match id {
                5 => 48,
                9 => 56,
                _ => 64,
            };
            let p: Ipv6Addr =
                format!("2001:db8:{:x}:{:x}::", 0x100 + u16::from(id), 0xa0 + u16::from(id)).parse().unwrap();
            SixlowpanContext { id, prefix: p, prefix_len: len }
        })
        .collect()
}

/// Rows of tshark output by frame number; each field's values split on ','.
fn run_tshark(
    bin: &Path,
    pcap: &Path,
    prefs: &[String],
) -> BTreeMap<u64, BTreeMap<&'static str, Vec<String>>> {
    let mut cmd = Command::new(bin);
    cmd.arg("-n").arg("-r").arg(pcap);
    for p in prefs {
        cmd.arg("-o").arg(p);
    }
    cmd.args(["-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"]);
    for f in FIELDS {
        cmd.arg("-e").arg(f);
    }
    let out = cmd.output().expect("run tshark");
    assert!(out.status.success(), "tshark failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut rows = BTreeMap::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), FIELDS.len(), "unexpected tshark line {line:?}");
        let mut m = BTreeMap::new();
        for (f, v) in FIELDS.iter().zip(&cols) {
            let vals: Vec<String> =
                if v.is_empty() { Vec::new() } else { v.split(',').map(str::to_string).collect() };
            m.insert(*f, vals);
        }
        let n: u64 = cols[0].parse().unwrap();
        rows.insert(n, m);
    }
    rows
}

/// A number as tshark prints it (decimal or 0x-hex).
fn num(s: &str) -> u64 {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).unwrap(),
        None => s.parse().unwrap(),
    }
}

/// What our decoder says about one frame, in tshark's field terms.
#[derive(Debug, Default, PartialEq)]
struct Facts {
    vlan: Vec<u64>,
    sll: Option<(u64, u64, Option<u64>)>,
    family: Option<u64>,
    ip4: Option<(Ipv4Addr, Ipv4Addr, u64, u64)>,
    ip6: Option<(Ipv6Addr, Ipv6Addr)>,
    udp: Option<(u64, u64, u64)>,
    wpan: Option<Wpan>,
    iphc: Option<(Ipv6Addr, Ipv6Addr)>,
    frag: Option<(u64, u64, Option<u64>)>,
    /// CoAP message ID (payload bytes 2..4) when a port is 5683: checks the payload's bytes,
    /// not only its length.
    coap_mid: Option<u64>,
}

#[derive(Debug, Default, PartialEq)]
struct Wpan {
    seq: Option<u64>,
    dst_pan: Option<u64>,
    src_pan: Option<u64>,
    dst16: Option<u64>,
    dst64: Option<String>,
    src16: Option<u64>,
    src64: Option<String>,
    fcs_ok: Option<bool>,
}

fn mac_parts(m: &Option<MacAddr>) -> (Option<u64>, Option<String>) {
    match m {
        Some(a) if a.len() == 2 => {
            (Some(u64::from(u16::from_be_bytes([a.as_bytes()[0], a.as_bytes()[1]]))), None)
        }
        Some(a) => (None, Some(a.to_string())),
        None => (None, None),
    }
}

fn ours(d: &Decoded<'_>) -> Facts {
    let mut f = Facts::default();
    let mut frag1 = false;
    for l in d.layers.iter().chain(&d.reassembled_layers) {
        match &l.info {
            LayerInfo::Vlan { vid, .. } => f.vlan.push(u64::from(*vid)),
            LayerInfo::LinuxSll { packet_type, protocol, ifindex, .. } => {
                f.sll = Some((u64::from(*packet_type), u64::from(*protocol), ifindex.map(u64::from)))
            }
            LayerInfo::Loopback { family } => f.family = Some(u64::from(*family)),
            LayerInfo::Ipv4 { src, dst, id, protocol, .. } if f.ip4.is_none() => {
                f.ip4 = Some((*src, *dst, u64::from(*id), u64::from(*protocol)))
            }
            LayerInfo::Ipv6 { src, dst, .. } if f.ip6.is_none() => f.ip6 = Some((*src, *dst)),
            LayerInfo::Ieee802154 { seq, dst_pan, src_pan, dst, src, fcs, .. } => {
                let (dst16, dst64) = mac_parts(dst);
                let (src16, src64) = mac_parts(src);
                f.wpan = Some(Wpan {
                    seq: seq.map(u64::from),
                    dst_pan: dst_pan.map(u64::from),
                    src_pan: src_pan.map(u64::from),
                    dst16,
                    dst64,
                    src16,
                    src64,
                    fcs_ok: *fcs,
                });
            }
            LayerInfo::Sixlowpan { header } => match header {
                SixlowpanHeader::Iphc { src, dst, .. } => f.iphc = Some((*src, *dst)),
                SixlowpanHeader::Frag1 { size, tag } => {
                    frag1 = true;
                    f.frag = Some((u64::from(*size), u64::from(*tag), None));
                }
                // tshark shows the FRAGN offset in bytes (8-octet units x 8)
                SixlowpanHeader::FragN { size, tag, offset } => {
                    f.frag = Some((u64::from(*size), u64::from(*tag), Some(u64::from(*offset) * 8)))
                }
                _ => {}
            },
            _ => {}
        }
    }
    // tshark shows an IPv6 header for an unfragmented IPHC packet (not for a lone FRAG1).
    if f.ip6.is_none() && !frag1 {
        f.ip6 = f.iphc;
    }
    if let Some(dg) = &d.datagram {
        f.udp = Some((u64::from(dg.src.port), u64::from(dg.dst.port), dg.payload.len() as u64 + 8));
        if (dg.src.port == 5683 || dg.dst.port == 5683) && dg.payload.len() >= 4 {
            f.coap_mid = Some(u64::from(u16::from_be_bytes([dg.payload[2], dg.payload[3]])));
        }
        match (dg.src.addr, dg.dst.addr) {
            (IpAddr::V6(s), IpAddr::V6(t)) => {
                assert_eq!(f.ip6, Some((s, t)), "datagram endpoints vs IPv6 layer")
            }
            (IpAddr::V4(s), IpAddr::V4(t)) => assert_eq!(f.ip4.map(|x| (x.0, x.1)), Some((s, t))),
            _ => panic!("mixed families"),
        }
    }
    f
}

fn theirs(r: &BTreeMap<&'static str, Vec<String>>) -> Facts {
    let one = |k: &str| r[k].first().cloned();
    let n = |k: &str| one(k).map(|v| num(&v));
    let mut f = Facts {
        // tshark 4.0 shows an 802.1ad S-tag (0x88a8) as ieee8021ad.id, other tags as vlan.id
        vlan: r["ieee8021ad.id"].iter().chain(&r["vlan.id"]).map(|v| num(v)).collect(),
        family: n("null.family"),
        ..Facts::default()
    };
    if let Some(pt) = n("sll.pkttype") {
        f.sll = Some((pt, n("sll.etype").or(n("sll.ltype")).unwrap_or(0), n("sll.ifindex")));
    }
    if let (Some(s), Some(d)) = (one("ip.src"), one("ip.dst")) {
        f.ip4 = Some((s.parse().unwrap(), d.parse().unwrap(), n("ip.id").unwrap(), n("ip.proto").unwrap()));
    }
    if let (Some(s), Some(d)) = (one("ipv6.src"), one("ipv6.dst")) {
        f.ip6 = Some((s.parse().unwrap(), d.parse().unwrap()));
    }
    if let (Some(s), Some(d), Some(l)) = (n("udp.srcport"), n("udp.dstport"), n("udp.length")) {
        f.udp = Some((s, d, l));
    }
    if !r["wpan.fcs_ok"].is_empty()
        || n("wpan.seq_no").is_some()
        || one("wpan.src64").is_some()
        || n("wpan.dst16").is_some()
    {
        f.wpan = Some(Wpan {
            seq: n("wpan.seq_no"),
            dst_pan: n("wpan.dst_pan"),
            src_pan: n("wpan.src_pan"),
            dst16: n("wpan.dst16"),
            dst64: one("wpan.dst64"),
            src16: n("wpan.src16"),
            src64: one("wpan.src64"),
            fcs_ok: one("wpan.fcs_ok").map(|v| v == "1"),
        });
    }
    if let (Some(s), Some(d)) = (one("6lowpan.src"), one("6lowpan.dst")) {
        f.iphc = Some((s.parse().unwrap(), d.parse().unwrap()));
    }
    f.coap_mid = n("coap.mid");
    if let (Some(s), Some(t)) = (n("6lowpan.frag.size"), n("6lowpan.frag.tag")) {
        f.frag = Some((s, t, n("6lowpan.frag.offset")));
    }
    f
}

struct Case {
    name: &'static str,
    linktype: u32,
    frames: Vec<Vec<u8>>,
    /// Frames where tshark stops decoding on purpose (bad FCS): compare the 802.15.4 header only.
    mac_only: Vec<usize>,
}

fn compare(
    bin: &Path,
    dir: &Path,
    case: &Case,
    prefs: &[String],
    cfg: &NetConfig,
    problems: &mut Vec<String>,
    coap_checked: &mut usize,
) -> usize {
    let path = dir.join(format!("{}.pcap", case.name));
    write_pcap(&path, case.linktype, &case.frames);
    let rows = run_tshark(bin, &path, prefs);
    assert_eq!(rows.len(), case.frames.len(), "{}: tshark row count", case.name);
    let mut dec = NetDecoder::new(cfg.clone());
    let mut datagrams = 0;
    for (i, frame) in case.frames.iter().enumerate() {
        let n = i as u64 + 1;
        let d = dec.decode(
            LinkType(case.linktype),
            frame,
            n,
            Timestamp::new(1_700_000_000, i as u32 * 1_000_000),
        );
        let mut a = ours(&d);
        let mut b = theirs(&rows[&n]);
        if case.linktype == 230
            && let Some(w) = &mut b.wpan
        {
            w.fcs_ok = None; // tshark 4.0 reports wpan.fcs_ok even without an FCS
        }
        if case.mac_only.contains(&i) {
            a = Facts { wpan: a.wpan, ..Facts::default() };
            b = Facts { wpan: b.wpan, ..Facts::default() };
        }
        if b.coap_mid.is_none() {
            // tshark picks another dissector for some random low ports: compare where it saw CoAP
            a.coap_mid = None;
        }
        if a.udp.is_some() {
            datagrams += 1;
        }
        if a.coap_mid.is_some() {
            *coap_checked += 1;
        }
        if a != b {
            problems.push(format!(
                "{} frame {n} ({} bytes: {}):\n  ours:   {a:?}\n  tshark: {b:?}\n  findings: {:?}",
                case.name,
                frame.len(),
                frame.iter().map(|x| format!("{x:02x}")).collect::<String>(),
                d.findings
            ));
        }
    }
    datagrams
}

fn v4(r: &mut Rng) -> Ipv4Addr {
    Ipv4Addr::new(10, r.byte(), r.byte(), 1 + r.byte() % 250)
}

fn v6(r: &mut Rng) -> Ipv6Addr {
    let mut b = [0u8; 16];
    b[0] = 0x20;
    b[1] = 0x01;
    b[2] = 0x0d;
    b[3] = 0xb8;
    for x in &mut b[4..] {
        *x = r.byte();
    }
    Ipv6Addr::from(b)
}

fn ip_packets(r: &mut Rng, count: usize) -> Vec<(u16, Vec<u8>)> {
    (0..count)
        .map(|_| {
            let n = r.below(120) as usize;
            let pl = coap(r, n);
            let (sp, dp) = (if r.bool() { 5683 } else { 40000 + r.u16() % 20000 }, 5683);
            if r.bool() {
                let (s, d) = (v4(r), v4(r));
                let u = udp(&Ips::V4(s, d), sp, dp, &pl);
                (0x0800, ipv4(s, d, 17, r.u16(), 64, false, 0, &u))
            } else {
                let (s, d) = (v6(r), v6(r));
                let u = udp(&Ips::V6(s, d), sp, dp, &pl);
                if r.bool() {
                    // Hop-by-Hop (PadN) + Destination Options (PadN) before UDP
                    let mut x = vec![60, 0, 1, 4, 0, 0, 0, 0, 17, 0, 1, 4, 0, 0, 0, 0];
                    x.extend_from_slice(&u);
                    (0x86dd, ipv6(s, d, 0, 64, &x))
                } else {
                    (0x86dd, ipv6(s, d, 17, 64, &u))
                }
            }
        })
        .collect()
}

fn shuffle<T>(r: &mut Rng, v: &mut [T]) {
    for i in (1..v.len()).rev() {
        let j = r.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
}

fn ethernet_case(r: &mut Rng) -> Case {
    let mut frames = Vec::new();
    for (et, p) in ip_packets(r, 60) {
        let tags: Vec<(u16, u16)> = match r.below(4) {
            0 => vec![(0x8100, r.u16())],
            1 => vec![(0x88a8, r.u16()), (0x8100, r.u16())],
            2 => vec![(0x9100, r.u16()), (0x8100, r.u16())],
            _ => vec![],
        };
        frames.push(ethernet(&tags, et, &p));
    }
    // a TCP segment: layers, no datagram
    frames.push(ethernet(&[], 0x0800, &ipv4(v4(r), v4(r), 6, 1, 64, false, 0, &[0; 20])));
    // IPv4 fragments, out of order and interleaved across 4 datagrams
    let mut frags = Vec::new();
    for k in 0..4u16 {
        let (s, d) = (v4(r), v4(r));
        let u = udp(&Ips::V4(s, d), 5683, 5683, &coap(r, 300 + 50 * k as usize));
        for f in ipv4_fragments(s, d, 17, 0x4000 + k, &u, 8 * (10 + k as usize * 3)) {
            frags.push(ethernet(&[], 0x0800, &f));
        }
    }
    // IPv6 fragments of 3 datagrams
    for k in 0..3u32 {
        let (s, d) = (v6(r), v6(r));
        let u = udp(&Ips::V6(s, d), 5683, 61616, &coap(r, 260 + 40 * k as usize));
        for f in ipv6_fragments(s, d, 17, 0xabc0_0000 + k, &u, 8 * (12 + k as usize * 2)) {
            frags.push(ethernet(&[(0x8100, 7)], 0x86dd, &f));
        }
    }
    shuffle(r, &mut frags);
    frames.extend(frags);
    Case { name: "ethernet", linktype: 1, frames, mac_only: vec![] }
}

fn link_cases(r: &mut Rng) -> Vec<Case> {
    let pk = ip_packets(r, 12);
    let mut sll_frames: Vec<Vec<u8>> = pk.iter().map(|(et, p)| sll((r.below(5)) as u16, *et, p)).collect();
    let mut sll2_frames: Vec<Vec<u8>> =
        pk.iter().map(|(et, p)| sll2(r.below(5) as u8, r.below(40) as u32, *et, p)).collect();
    // 802.15.4 over SLL (ARPHRD_IEEE802154 804, ETH_P_IEEE802154 0x00f6) with an FCS
    for _ in 0..4 {
        let mut w = random_mac(r);
        w.extend_from_slice(&random_iphc(r, true, true, 0));
        w.extend_from_slice(&coap(r, 10));
        let fcs = fcs16(&w);
        w.extend_from_slice(&fcs.to_le_bytes());
        let mut f = vec![0, 0, 0x03, 0x24, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0x00, 0xf6];
        f.extend_from_slice(&w);
        sll_frames.push(f);
        let mut f = vec![0x00, 0xf6, 0, 0, 0, 0, 0, 2, 0x03, 0x24, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8];
        f.extend_from_slice(&w);
        sll2_frames.push(f);
    }
    let null_frames = pk
        .iter()
        .map(|(et, p)| {
            let af: u32 = if *et == 0x0800 { 2 } else { [24, 28, 30][r.below(3) as usize] };
            let mut f = if r.bool() { af.to_le_bytes().to_vec() } else { af.to_be_bytes().to_vec() };
            f.extend_from_slice(p);
            f
        })
        .collect();
    let loop_frames = pk
        .iter()
        .map(|(et, p)| {
            let af: u32 = if *et == 0x0800 { 2 } else { 30 };
            let mut f = af.to_be_bytes().to_vec();
            f.extend_from_slice(p);
            f
        })
        .collect();
    let raw: Vec<Vec<u8>> = pk.iter().map(|(_, p)| p.clone()).collect();
    let only4 = pk.iter().filter(|(et, _)| *et == 0x0800).map(|(_, p)| p.clone()).collect();
    let only6 = pk.iter().filter(|(et, _)| *et == 0x86dd).map(|(_, p)| p.clone()).collect();
    vec![
        Case { name: "sll", linktype: 113, frames: sll_frames, mac_only: vec![] },
        Case { name: "sll2", linktype: 276, frames: sll2_frames, mac_only: vec![] },
        Case { name: "null", linktype: 0, frames: null_frames, mac_only: vec![] },
        Case { name: "loop", linktype: 108, frames: loop_frames, mac_only: vec![] },
        Case { name: "raw", linktype: 101, frames: raw, mac_only: vec![] },
        Case { name: "ipv4", linktype: 228, frames: only4, mac_only: vec![] },
        Case { name: "ipv6", linktype: 229, frames: only6, mac_only: vec![] },
    ]
}

fn random_addr(r: &mut Rng) -> Addr {
    if r.bool() {
        Addr::Short(r.u16())
    } else {
        let mut e = [0u8; 8];
        for x in &mut e {
            *x = r.byte();
        }
        Addr::Ext(e)
    }
}

/// A data frame header with random version (0-2), PAN ID compression, address modes and
/// (2015) sequence number suppression.
fn random_mac(r: &mut Rng) -> Vec<u8> {
    let version = r.below(3) as u16;
    let seq = if version == 2 && r.below(4) == 0 { None } else { Some(r.byte()) };
    mac_header(1, version, r.bool(), seq, r.u16(), &random_addr(r), r.u16(), &random_addr(r))
}

fn wpan_case(r: &mut Rng) -> Case {
    let mut frames = Vec::new();
    for _ in 0..300 {
        let mut f = random_mac(r);
        let n = r.below(40) as usize;
        let pl = coap(r, n);
        let nhc = r.below(4) != 0;
        f.extend_from_slice(&random_iphc(r, true, nhc, 8 + pl.len() as u16));
        f.extend_from_slice(&pl);
        frames.push(f);
    }
    // Fragmented 6LoWPAN datagrams (RFC 4944 §5.3), shuffled and interleaved.
    let mut frags = Vec::new();
    for k in 0..8u16 {
        let src = Addr::Short(0x0100 + k);
        let dst = if k % 2 == 0 { Addr::Short(0x0001) } else { Addr::Ext([0x02, 0, 0, 0, 0, 0, 0, 1]) };
        let pl = coap(r, 150 + 37 * k as usize);
        let hdr = random_iphc(r, true, true, 0);
        let size = 48 + pl.len();
        // FRAG1: compressed headers + payload so the uncompressed part is a multiple of 8
        let first = 40 + (k as usize % 3) * 8;
        let mut f = mac_header(1, 1, true, Some(r.byte()), 0xabcd, &dst, 0, &src);
        f.extend_from_slice(&(0xc000 | size as u16).to_be_bytes());
        f.extend_from_slice(&(0x5000 + k).to_be_bytes());
        f.extend_from_slice(&hdr);
        f.extend_from_slice(&pl[..first]);
        frags.push(f);
        let mut off = 48 + first;
        while off < size {
            let n = (64usize).min(size - off);
            let mut f = mac_header(1, 1, true, Some(r.byte()), 0xabcd, &dst, 0, &src);
            f.extend_from_slice(&(0xe000 | size as u16).to_be_bytes());
            f.extend_from_slice(&(0x5000 + k).to_be_bytes());
            f.push((off / 8) as u8);
            f.extend_from_slice(&pl[off - 48..off - 48 + n]);
            frags.push(f);
            off += n;
        }
    }
    shuffle(r, &mut frags);
    frames.extend(frags);
    // 2015 frames with a header IE (HT2-terminated) and all address-mode/PAN ID compression rows
    for (dam, sam) in [(2, 2), (2, 3), (3, 2), (3, 3)] {
        for panc in [false, true] {
            let addr = |m: u8, r: &mut Rng| {
                if m == 2 { Addr::Short(r.u16()) } else { Addr::Ext([9, 8, 7, 6, 5, 4, 3, r.byte()]) }
            };
            let (d, s) = (addr(dam, r), addr(sam, r));
            let mut f = mac_header(1, 2, panc, Some(r.byte()), 0x1234, &d, 0x5678, &s);
            f[1] |= 0x02; // IE present
            f.extend_from_slice(&((0x7fu16 << 7).to_le_bytes())); // HT2
            let pl = coap(r, 4);
            f.extend_from_slice(&random_iphc(r, true, true, 0));
            f.extend_from_slice(&pl);
            frames.push(f);
        }
    }
    Case { name: "wpan_nofcs", linktype: 230, frames, mac_only: vec![] }
}

fn wpan_fcs_case(r: &mut Rng) -> Case {
    let mut frames = Vec::new();
    let mut mac_only = Vec::new();
    for i in 0..40 {
        let mut f = random_mac(r);
        let n = r.below(30) as usize;
        let pl = coap(r, n);
        f.extend_from_slice(&random_iphc(r, true, true, 0));
        f.extend_from_slice(&pl);
        let mut fcs = fcs16(&f);
        if i % 4 == 3 {
            fcs ^= 1 << (r.below(16));
            mac_only.push(i); // tshark does not dissect past a bad FCS (wpan.802154_fcs_ok)
        }
        f.extend_from_slice(&fcs.to_le_bytes());
        frames.push(f);
    }
    // beacon and MAC command frames (layers only)
    let mut b = mac_header(0, 1, false, Some(3), 0, &Addr::None, 0x1234, &Addr::Short(1));
    b.extend_from_slice(&[0xff, 0xcf, 0, 0]);
    let fcs = fcs16(&b);
    b.extend_from_slice(&fcs.to_le_bytes());
    frames.push(b);
    let mut c = mac_header(
        3,
        1,
        true,
        Some(4),
        0xffff,
        &Addr::Short(0xffff),
        0,
        &Addr::Ext([1, 2, 3, 4, 5, 6, 7, 8]),
    );
    c.push(0x07);
    let fcs = fcs16(&c);
    c.extend_from_slice(&fcs.to_le_bytes());
    frames.push(c);
    Case { name: "wpan_fcs", linktype: 195, frames, mac_only }
}

#[test]
fn decoder_agrees_with_tshark() {
    let Some(bin) = tshark() else { return };
    let dir = std::env::temp_dir().join(format!("kudoscope-net-tshark-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = NetConfig { sixlowpan_contexts: contexts(), ..NetConfig::default() };
    let prefs: Vec<String> =
        contexts().iter().map(|c| format!("6lowpan.context{}:{}/{}", c.id, c.prefix, c.prefix_len)).collect();
    let mut r = Rng(0x6b75_646f_7363_6f70);
    let mut cases = vec![ethernet_case(&mut r)];
    cases.extend(link_cases(&mut r));
    cases.push(wpan_case(&mut r));
    cases.push(wpan_fcs_case(&mut r));
    let mut problems = Vec::new();
    let mut total = 0;
    let mut coap_checked = 0;
    for case in &cases {
        let dgs = compare(&bin, &dir, case, &prefs, &cfg, &mut problems, &mut coap_checked);
        eprintln!(
            "net_tshark: {:<10} link type {:>3}: {:>3} frames, {:>3} UDP datagrams compared",
            case.name,
            case.linktype,
            case.frames.len(),
            dgs
        );
        total += case.frames.len();
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "net_tshark: {total} frames compared with tshark ({coap_checked} CoAP message IDs checked), {} disagreements",
        problems.len()
    );
    assert!(coap_checked > 100, "too few CoAP payloads compared: {coap_checked}");
    assert!(
        problems.is_empty(),
        "{} frames disagree with tshark (first 12 shown):\n{}",
        problems.len(),
        problems.iter().take(12).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// Classic pcap records (test-only reader: the crate's capture reader is another module).
fn read_pcap(path: &Path) -> (u32, Vec<(u32, Vec<u8>)>) {
    let b = std::fs::read(path).unwrap();
    let le = match &b[..4] {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        m => panic!("{}: not a classic pcap (magic {m:02x?})", path.display()),
    };
    let u32_at = |o: usize| {
        let a = [b[o], b[o + 1], b[o + 2], b[o + 3]];
        if le { u32::from_le_bytes(a) } else { u32::from_be_bytes(a) }
    };
    let linktype = u32_at(20) & 0x0fff_ffff;
    let mut frames = Vec::new();
    let mut o = 24;
    while o + 16 <= b.len() {
        let incl = u32_at(o + 8) as usize;
        let orig = u32_at(o + 12);
        frames.push((orig, b[o + 16..o + 16 + incl].to_vec()));
        o += 16 + incl;
    }
    (linktype, frames)
}

/// The project's real captures (shared/captures, next to the repository in CI) agree too.
#[test]
fn real_captures_agree_with_tshark() {
    let Some(bin) = tshark() else { return };
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var("KUDOSCOPE_SHARED").map(PathBuf::from).unwrap_or_default(),
        manifest.join("../../shared"),
        manifest.join("../../../shared"),
        PathBuf::from("/work/shared"),
    ];
    let Some(shared) = candidates.iter().find(|p| p.join("captures").is_dir()) else {
        eprintln!(
            "net_tshark: shared/captures not found next to the repository; real-capture cross-check not run"
        );
        return;
    };
    let mut pcaps: Vec<PathBuf> = std::fs::read_dir(shared.join("captures"))
        .unwrap()
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .collect();
    pcaps.sort();
    assert!(!pcaps.is_empty());
    let mut problems = Vec::new();
    for path in &pcaps {
        let (lt, frames) = read_pcap(path);
        let rows = run_tshark(&bin, path, &[]);
        let mut dec = NetDecoder::default();
        let mut datagrams = 0;
        for (i, (orig, data)) in frames.iter().enumerate() {
            let n = i as u64 + 1;
            let d = dec.decode_with_orig_len(LinkType(lt), data, Some(*orig), n, Timestamp::ZERO);
            if !d.findings.is_empty() {
                problems.push(format!("{} frame {n}: unexpected findings {:?}", path.display(), d.findings));
            }
            let a = ours(&d);
            let mut b = theirs(&rows[&n]);
            if a.coap_mid.is_none() {
                b.coap_mid = None;
            }
            datagrams += usize::from(a.udp.is_some());
            if a != b {
                problems.push(format!("{} frame {n}:\n  ours:   {a:?}\n  tshark: {b:?}", path.display()));
            }
        }
        eprintln!(
            "net_tshark: {}: {} frames, {datagrams} UDP datagrams, all compared",
            path.display(),
            frames.len()
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
