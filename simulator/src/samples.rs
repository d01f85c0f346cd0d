//! The sample captures: scenario scripts, the link-type variants and the corrupt set.
//!
//! [`all`] builds every file in memory (deterministic); [`write_all`] writes them under a
//! directory. Each [`SampleFile`] carries what the script says it wrote, so tests can compare
//! it with an independent dissector (tshark).

use crate::coap::{CoapMsg, MsgType, block, cf, code, opt};
use crate::ip::ExtHeader;
use crate::link::{TPID_8021AD, TPID_8021Q, VlanTag, linktype};
use crate::lowpan::WpanLink;
use crate::pcap::{Endian, PcapWriter, TsPrecision};
use crate::pcapng::PcapNgWriter;
use crate::scenario::{IpVersion, LinkKind, NetPath, PeerId, Scenario, Sent};
use std::path::Path;

use MsgType::{Ack, Con, Non, Rst};

/// One sample file.
#[derive(Debug, Clone)]
pub struct SampleFile {
    /// Path relative to the samples directory, '/'-separated.
    pub path: String,
    pub bytes: Vec<u8>,
    /// LINKTYPE of the (first) interface.
    pub link_type: u32,
    /// One sentence: what the file shows.
    pub what: String,
    pub expect: Expect,
    /// Files written next to it (the OSCORE samples' keys files): (relative path, bytes).
    pub companions: Vec<(String, Vec<u8>)>,
    /// What kudoscope (and, for AES-CCM-16-64-128 captures, tshark) must make of the OSCORE
    /// messages.
    pub oscore: Option<crate::oscore_samples::OscoreInfo>,
}

/// What a reader must make of a sample.
#[derive(Debug, Clone)]
pub enum Expect {
    /// A well-formed capture with `frames` frames; `log` lists every CoAP message the script
    /// wrote (frame numbers are 1-based, over the whole file).
    Valid {
        frames: u64,
        log: Vec<Sent>,
        /// Extra tshark arguments needed to decode it (none so far).
        tshark_args: Vec<String>,
    },
    /// A deliberately damaged capture; the text says what a reader must report.
    Corrupt { expected: String },
}

impl SampleFile {
    pub(crate) fn valid(path: &str, link_type: u32, what: &str, s: &Scenario, bytes: Vec<u8>) -> Self {
        SampleFile {
            path: path.to_string(),
            bytes,
            link_type,
            what: what.to_string(),
            expect: Expect::Valid {
                frames: s.frames.len() as u64,
                log: s.log.clone(),
                tshark_args: Vec::new(),
            },
            companions: Vec::new(),
            oscore: None,
        }
    }

    fn corrupt(path: &str, link_type: u32, what: &str, bytes: Vec<u8>, expected: &str) -> Self {
        SampleFile {
            path: path.to_string(),
            bytes,
            link_type,
            what: what.to_string(),
            expect: Expect::Corrupt { expected: expected.to_string() },
            companions: Vec::new(),
            oscore: None,
        }
    }

    /// This sample with its keys file next to it and what kudoscope must make of its OSCORE
    /// messages.
    pub(crate) fn with_oscore(mut self, info: crate::oscore_samples::OscoreInfo) -> Self {
        self.companions.push((info.keys_path.clone(), info.keys_toml.clone().into_bytes()));
        self.oscore = Some(info);
        self
    }

    pub fn is_corrupt(&self) -> bool {
        matches!(self.expect, Expect::Corrupt { .. })
    }

    /// What `kudoscope-sim list` prints for this file (samples/README.md quotes it).
    pub fn listing(&self) -> String {
        let mut out = format!(
            "== {} ({} bytes, link type {}): {}\n",
            self.path,
            self.bytes.len(),
            self.link_type,
            self.what
        );
        if let Some(o) = &self.oscore {
            let names: Vec<&str> = o.contexts.iter().map(|c| c.name.as_str()).collect();
            out.push_str(&format!("   keys: {} (contexts: {})\n", o.keys_path, names.join(", ")));
        }
        match &self.expect {
            Expect::Valid { frames, log, .. } => {
                out.push_str(&format!("   {frames} frames\n"));
                for s in log {
                    out.push_str(&format!("   {}\n", s.summary().trim_end()));
                    if let Some(e) = self.oscore.as_ref().and_then(|o| o.expect(s.frame)) {
                        let tshark = self.oscore.as_ref().is_some_and(|o| o.tshark);
                        out.push_str(&format!("{:>12}{}\n", "", e.describe(tshark)));
                    }
                }
            }
            Expect::Corrupt { expected } => out.push_str(&format!("   expected: {expected}\n")),
        }
        out
    }
}

/// Every sample, in a fixed order.
pub fn all() -> Vec<SampleFile> {
    let mut v = vec![coap_basic(), coap_observe(), coap_block2(), coap_6lowpan(true), coap_6lowpan(false)];
    v.extend(linktypes());
    v.extend(corrupt());
    v.extend(crate::oscore_samples::all());
    v.extend(crate::kudos_samples::all());
    v.extend(crate::idupdate_samples::all());
    v
}

/// Writes every sample under `dir` (creating sub-directories); returns (path, size) pairs.
pub fn write_all(dir: &Path) -> std::io::Result<Vec<(String, usize)>> {
    let mut out = Vec::new();
    for f in all() {
        let p = dir.join(&f.path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&p, &f.bytes)?;
        out.push((f.path.clone(), f.bytes.len()));
        for (path, bytes) in &f.companions {
            std::fs::write(dir.join(path), bytes)?;
            out.push((path.clone(), bytes.len()));
        }
    }
    Ok(out)
}

/// Deterministic text of exactly `n` bytes: numbered log lines.
pub fn text_body(n: usize, what: &str) -> Vec<u8> {
    let mut s = String::new();
    let mut i = 0;
    while s.len() < n {
        s.push_str(&format!(
            "{i:04} 2026-01-01T00:{:02}:{:02}Z {what}={}.{}\n",
            i / 60 % 60,
            i % 60,
            18 + i % 7,
            i % 10
        ));
        i += 1;
    }
    s.truncate(n);
    s.into_bytes()
}

pub(crate) fn req(s: &mut Scenario, c: PeerId, ty: MsgType, code: u8, path: &str) -> CoapMsg {
    let token = s.token(c);
    let mid = s.mid(c);
    CoapMsg::new(ty, code, mid, &token).path(path)
}

pub(crate) fn piggy(r: &CoapMsg, code: u8) -> CoapMsg {
    CoapMsg::new(Ack, code, r.mid, &r.token)
}

// ---- coap-basic.pcapng -----------------------------------------------------------------

fn coap_basic() -> SampleFile {
    let mut path = NetPath::ethernet_v4();
    path.pad_received = true;
    let mut s = Scenario::new(0xc0a9_ba51, path);
    let c = s.add_peer("client", 1, None, 4);
    let sv = s.add_peer("server", 2, Some(5683), 4);
    s.capture_host = c;

    // GET, piggybacked 2.05 text/plain.
    let r = req(&mut s, c, Con, code::GET, "/sensors/temp");
    s.send(c, sv, &r, "GET /sensors/temp");
    s.jitter_us(600, 1800);
    let a = piggy(&r, code::CONTENT).opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN).opt_uint(opt::MAX_AGE, 30);
    s.send(sv, c, &a.payload(&b"21.5 C"[..]), "piggybacked 2.05 Content, text/plain \"21.5 C\"");

    // PUT, 2.04.
    s.wait_ms(1000);
    let r = req(&mut s, c, Con, code::PUT, "/config/name")
        .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
        .payload(&b"kitchen-sensor-1"[..]);
    s.send(c, sv, &r, "PUT /config/name");
    s.jitter_us(600, 1800);
    s.send(sv, c, &piggy(&r, code::CHANGED), "piggybacked 2.04 Changed");

    // POST, separate response.
    s.wait_ms(1000);
    let r = req(&mut s, c, Con, code::POST, "/journal")
        .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
        .payload(&b"door opened"[..]);
    s.send(c, sv, &r, "POST /journal");
    s.jitter_us(300, 900);
    s.send(sv, c, &CoapMsg::empty(Ack, r.mid), "empty ACK: the response will come separately");
    s.wait_ms(1500);
    let smid = s.mid(sv);
    let sep = CoapMsg::new(Con, code::CREATED, smid, &r.token)
        .opt(opt::LOCATION_PATH, &b"journal"[..])
        .opt(opt::LOCATION_PATH, &b"17"[..]);
    s.send(sv, c, &sep, "separate response: CON 2.01 Created, Location-Path journal/17");
    s.jitter_us(200, 600);
    s.send(c, sv, &CoapMsg::empty(Ack, smid), "client ACKs the separate response");

    // DELETE.
    s.wait_ms(1000);
    let r = req(&mut s, c, Con, code::DELETE, "/journal/17");
    s.send(c, sv, &r, "DELETE /journal/17");
    s.jitter_us(600, 1800);
    s.send(sv, c, &piggy(&r, code::DELETED), "piggybacked 2.02 Deleted");

    // 4.04.
    s.wait_ms(1000);
    let r = req(&mut s, c, Con, code::GET, "/sensors/pressure");
    s.send(c, sv, &r, "GET /sensors/pressure (no such resource)");
    s.jitter_us(600, 1800);
    s.send(
        sv,
        c,
        &piggy(&r, code::NOT_FOUND).payload(&b"no such sensor"[..]),
        "4.04 Not Found with diagnostic payload",
    );

    // A CON whose first transmission is lost: the same bytes again after ACK_TIMEOUT.
    s.wait_ms(1000);
    let r = req(&mut s, c, Con, code::GET, "/sensors/humidity");
    s.send(c, sv, &r, "GET /sensors/humidity, first transmission (lost on the way)");
    s.wait_ms(2000);
    s.jitter_us(0, 999_999); // ACK_TIMEOUT 2 s * random factor 1..1.5
    s.resend(c, sv, &r, "retransmission: same MID, token and bytes");
    s.jitter_us(600, 1800);
    s.send(
        sv,
        c,
        &piggy(&r, code::CONTENT).opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN).payload(&b"48 %RH"[..]),
        "piggybacked 2.05 to the retransmission",
    );

    // NON request, NON response.
    s.wait_ms(1000);
    let r = req(&mut s, c, Non, code::GET, "/sensors/light");
    s.send(c, sv, &r, "NON GET /sensors/light");
    s.jitter_us(600, 1800);
    let smid = s.mid(sv);
    let resp = CoapMsg::new(Non, code::CONTENT, smid, &r.token)
        .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
        .payload(&b"312 lx"[..]);
    s.send(sv, c, &resp, "NON 2.05 response (server MID, request token)");

    // CoAP ping.
    s.wait_ms(1000);
    let mid = s.mid(c);
    s.send(c, sv, &CoapMsg::empty(Con, mid), "CoAP ping: empty CON");
    s.jitter_us(300, 900);
    s.send(sv, c, &CoapMsg::empty(Rst, mid), "RST answering the ping");

    // Many options: several Uri-Path, Uri-Query, Accept, two ETags, Content-Format (FETCH).
    s.wait_ms(1000);
    let r = req(&mut s, c, Con, code::FETCH, "/api/v1/sensors/temp")
        .opt(opt::URI_HOST, &b"sensor.example"[..])
        .opt(opt::URI_QUERY, &b"unit=C"[..])
        .opt(opt::URI_QUERY, &b"precision=2"[..])
        .opt(opt::ETAG, vec![0x5e, 0x7a, 0x01])
        .opt(opt::ETAG, vec![0x5e, 0x7a, 0x02, 0x99])
        .opt_uint(opt::ACCEPT, cf::JSON)
        .opt_uint(opt::CONTENT_FORMAT, cf::JSON)
        .payload(&br#"{"fields":["v","t"]}"#[..]);
    s.send(c, sv, &r, "FETCH with Uri-Host, 4 Uri-Path, 2 Uri-Query, 2 ETag, Accept, Content-Format");
    s.jitter_us(600, 1800);
    let a = piggy(&r, code::CONTENT)
        .opt(opt::ETAG, vec![0x5e, 0x7a, 0x03])
        .opt_uint(opt::CONTENT_FORMAT, cf::JSON)
        .opt_uint(opt::MAX_AGE, 60)
        .payload(&br#"{"v":21.5,"t":1767225612}"#[..]);
    s.send(sv, c, &a, "2.05 application/json with a new ETag");

    // Unknown elective option 65000 (2-byte extended delta): ignored by the server.
    s.wait_ms(1000);
    let r = req(&mut s, c, Con, code::GET, "/temp").opt(65000, &b"x-trace"[..]);
    s.send(c, sv, &r, "GET /temp with unknown elective option 65000 (delta nibble 14, 2-byte extension)");
    s.jitter_us(600, 1800);
    s.send(sv, c, &piggy(&r, code::CONTENT).payload(&b"21.6 C"[..]), "2.05: the elective option was ignored");

    // Unknown critical option 65001: 4.02 Bad Option.
    s.wait_ms(1000);
    let r = req(&mut s, c, Con, code::GET, "/temp").opt(65001, vec![0x01]);
    s.send(c, sv, &r, "GET /temp with unknown critical option 65001");
    s.jitter_us(600, 1800);
    s.send(
        sv,
        c,
        &piggy(&r, code::BAD_OPTION).payload(&b"unknown critical option 65001"[..]),
        "4.02 Bad Option",
    );

    let bytes = s.to_pcapng(Some(6), "eth0");
    SampleFile::valid(
        "coap-basic.pcapng",
        linktype::ETHERNET,
        "Plain CoAP over Ethernet/IPv4: methods, piggybacked and separate responses, 4.04, a retransmission, NON, ping/RST, many options, unknown options",
        &s,
        bytes,
    )
}

// ---- coap-observe.pcap -----------------------------------------------------------------

fn coap_observe() -> SampleFile {
    let mut path = NetPath::ethernet_v4();
    path.pad_received = true;
    let mut s = Scenario::new(0x0b5e_77e0, path);
    let c = s.add_peer("client", 1, None, 8);
    let sv = s.add_peer("server", 2, Some(5683), 4);
    s.capture_host = c;

    let reg = req(&mut s, c, Con, code::GET, "/sensors/temp").opt_uint(opt::OBSERVE, 0);
    // Options are sorted on the wire; Observe (6) precedes Uri-Path (11).
    s.send(c, sv, &reg, "GET /sensors/temp Observe=0 (register)");
    s.jitter_us(600, 1800);
    let note = |obs: u32, v: &str| -> CoapMsg {
        CoapMsg::new(Ack, code::CONTENT, 0, &[])
            .opt_uint(opt::OBSERVE, obs)
            .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
            .opt_uint(opt::MAX_AGE, 60)
            .payload(v.as_bytes().to_vec())
    };
    let mut first = note(1, "21.5 C");
    first.mid = reg.mid;
    first.token = reg.token.clone();
    s.send(sv, c, &first, "ACK 2.05 Observe=1: registration response (first notification)");

    let values = [(2, Non, "21.6 C"), (3, Con, "21.8 C"), (4, Non, "22.1 C"), (5, Con, "22.0 C")];
    for (obs, ty, v) in values {
        s.wait_ms(5000);
        s.jitter_us(0, 200_000);
        let mut n = note(obs, v);
        n.ty = ty;
        n.mid = s.mid(sv);
        n.token = reg.token.clone();
        let kind = if ty == Con { "CON" } else { "NON" };
        s.send(sv, c, &n, &format!("{kind} notification 2.05 Observe={obs}"));
        if ty == Con {
            s.jitter_us(150, 500);
            s.send(c, sv, &CoapMsg::empty(Ack, n.mid), "client ACKs the CON notification");
        }
    }

    s.wait_ms(3000);
    let mid = s.mid(c);
    let dereg = CoapMsg::new(Con, code::GET, mid, &reg.token).opt_uint(opt::OBSERVE, 1).path("/sensors/temp");
    s.send(c, sv, &dereg, "GET /sensors/temp Observe=1 (deregister, same token)");
    s.jitter_us(600, 1800);
    let last = piggy(&dereg, code::CONTENT)
        .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
        .opt_uint(opt::MAX_AGE, 60)
        .payload(&b"22.0 C"[..]);
    s.send(sv, c, &last, "ACK 2.05 without Observe: observation ended");

    let bytes = s.to_pcap(TsPrecision::Micro, Endian::Little);
    SampleFile::valid(
        "coap-observe.pcap",
        linktype::ETHERNET,
        "Observe (RFC 7641) over Ethernet/IPv4: registration, 4 notifications (CON and NON), deregistration",
        &s,
        bytes,
    )
}

// ---- coap-block2.pcapng ----------------------------------------------------------------

fn coap_block2() -> SampleFile {
    let path = NetPath {
        link: LinkKind::Ethernet { tags: Vec::new() },
        ip: IpVersion::V6,
        mtu: None,
        v6_exts: Vec::new(),
        pad_received: true,
    };
    let mut s = Scenario::new(0xb10c_0002, path);
    let c = s.add_peer("client", 1, None, 4);
    let sv = s.add_peer("server", 2, Some(5683), 4);
    s.capture_host = c;

    // Block2: 2300 bytes in 1024-byte blocks (SZX 6), a new token per block request.
    let body = text_body(2300, "temp");
    let etag = vec![0x6c, 0x6f, 0x67, 0x31];
    for num in 0..3u32 {
        if num > 0 {
            s.wait_ms(20);
        }
        let mut r = req(&mut s, c, Con, code::GET, "/log");
        if num > 0 {
            r = r.opt(opt::BLOCK2, block(num, false, 6));
        }
        let what = if num == 0 {
            "GET /log (no Block2: server picks the size)".to_string()
        } else {
            format!("GET /log Block2 {num}/0/1024")
        };
        s.send(c, sv, &r, &what);
        s.jitter_us(800, 2500);
        let start = num as usize * 1024;
        let end = (start + 1024).min(body.len());
        let more = end < body.len();
        let a = piggy(&r, code::CONTENT)
            .opt(opt::ETAG, etag.clone())
            .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
            .opt(opt::BLOCK2, block(num, more, 6))
            .opt_uint(opt::SIZE2, body.len() as u32)
            .payload(body[start..end].to_vec());
        s.send(
            sv,
            c,
            &a,
            &format!(
                "2.05 Block2 {num}/{}/1024, Size2 2300, ETag 6c6f6731, {} bytes",
                u8::from(more),
                end - start
            ),
        );
    }

    // Block1: a 600-byte PUT in 256-byte blocks (SZX 4) with Request-Tag.
    s.wait_ms(1000);
    let up = text_body(600, "cfg");
    let rtag = vec![0x9a, 0x01];
    for num in 0..3u32 {
        if num > 0 {
            s.wait_ms(15);
        }
        let start = num as usize * 256;
        let end = (start + 256).min(up.len());
        let more = end < up.len();
        let mut r = req(&mut s, c, Con, code::PUT, "/config/blob")
            .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
            .opt(opt::BLOCK1, block(num, more, 4))
            .opt(opt::REQUEST_TAG, rtag.clone())
            .payload(up[start..end].to_vec());
        if num == 0 {
            r = r.opt_uint(opt::SIZE1, up.len() as u32);
        }
        s.send(
            c,
            sv,
            &r,
            &format!(
                "PUT /config/blob Block1 {num}/{}/256, Request-Tag 9a01, {} bytes",
                u8::from(more),
                end - start
            ),
        );
        s.jitter_us(800, 2500);
        let a = if more {
            piggy(&r, code::CONTINUE).opt(opt::BLOCK1, block(num, true, 4))
        } else {
            piggy(&r, code::CHANGED).opt(opt::BLOCK1, block(num, false, 4))
        };
        let what = if more {
            format!("2.31 Continue Block1 {num}/1/256")
        } else {
            format!("2.04 Changed Block1 {num}/0/256")
        };
        s.send(sv, c, &a, &what);
    }

    let bytes = s.to_pcapng(Some(9), "eth0");
    SampleFile::valid(
        "coap-block2.pcapng",
        linktype::ETHERNET,
        "Block-wise transfer (RFC 7959) over Ethernet/IPv6: Block2 GET of 2300 bytes (3 blocks), Block1 PUT of 600 bytes (3 blocks, 2.31, Request-Tag)",
        &s,
        bytes,
    )
}

// ---- coap-6lowpan.pcap -----------------------------------------------------------------

fn coap_6lowpan(fcs: bool) -> SampleFile {
    let wpan = WpanLink { pan: 0xabcd, fcs, frame_version: 1 };
    let path = NetPath {
        link: LinkKind::Wpan { link: wpan, short: false },
        ip: IpVersion::V6,
        mtu: None,
        v6_exts: Vec::new(),
        pad_received: false,
    };
    let mut s = Scenario::new(0x6106_0a01, path);
    // Client port 0xF0B1 so UDP NHC can compress it to 8 bits (RFC 6282 §4.3.3).
    let c = s.add_peer("client", 1, Some(0xf0b1), 2);
    let sv = s.add_peer("server", 2, Some(5683), 2);
    s.capture_host = c;

    let r = req(&mut s, c, Con, code::GET, "/sensors/temp");
    s.send(c, sv, &r, "GET /sensors/temp (extended addresses)");
    s.jitter_us(5000, 15000);
    s.send(
        sv,
        c,
        &piggy(&r, code::CONTENT).opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN).payload(&b"21.5 C"[..]),
        "piggybacked 2.05",
    );

    s.wait_ms(2000);
    let r = req(&mut s, c, Con, code::GET, "/.well-known/core");
    s.send(c, sv, &r, "GET /.well-known/core");
    s.wait_ms(30);
    let links = concat!(
        "</sensors/temp>;rt=\"temperature-c\";if=\"sensor\";obs,",
        "</sensors/humidity>;rt=\"humidity\";if=\"sensor\",",
        "</sensors/light>;rt=\"light-lux\";if=\"sensor\",",
        "</config/name>;if=\"parameter\",",
        "</journal>;ct=0,",
        "</log>;sz=2300"
    );
    let a = piggy(&r, code::CONTENT)
        .opt_uint(opt::CONTENT_FORMAT, cf::LINK_FORMAT)
        .payload(links.as_bytes().to_vec());
    s.send(sv, c, &a, "2.05 link-format, 6LoWPAN fragmented (FRAG1 + FRAGN)");

    // The same two nodes addressed by their 16-bit short addresses.
    s.wait_ms(2000);
    s.path.link = LinkKind::Wpan { link: wpan, short: true };
    let r = req(&mut s, c, Non, code::GET, "/sensors/light");
    s.send(c, sv, &r, "NON GET /sensors/light (short addresses 0x0001 -> 0x0002)");
    s.jitter_us(5000, 15000);
    let smid = s.mid(sv);
    let resp = CoapMsg::new(Non, code::CONTENT, smid, &r.token)
        .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
        .payload(&b"312 lx"[..]);
    s.send(sv, c, &resp, "NON 2.05 (short addresses)");

    let bytes = s.to_pcap(TsPrecision::Micro, Endian::Little);
    let (name, lt, what) = if fcs {
        (
            "coap-6lowpan.pcap",
            linktype::IEEE802_15_4_WITHFCS,
            "CoAP over 802.15.4 (with FCS) + 6LoWPAN IPHC/UDP NHC, extended then short addresses, one FRAG1/FRAGN datagram",
        )
    } else {
        (
            "coap-6lowpan-nofcs.pcap",
            linktype::IEEE802_15_4_NOFCS,
            "The same frames as coap-6lowpan.pcap without the FCS (link type 230)",
        )
    };
    SampleFile::valid(name, lt, what, &s, bytes)
}

// ---- linktypes/ ------------------------------------------------------------------------

/// The GET /temp + 2.05 exchange every link-type sample carries: same MIDs, token, payload
/// and timestamps whatever the framing. The 2.05 carries 1400 bytes so that the fragmented
/// variants have something to fragment.
fn temp_exchange(path: NetPath) -> Scenario {
    let mut s = Scenario::new(0x7e3d_0001, path);
    let c = s.add_peer("client", 1, None, 4);
    let sv = s.add_peer("server", 2, Some(5683), 4);
    s.capture_host = c;
    let r = req(&mut s, c, Con, code::GET, "/temp");
    s.send(c, sv, &r, "GET /temp");
    s.wait_us(1234);
    let a = piggy(&r, code::CONTENT)
        .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
        .payload(text_body(1400, "temp"));
    s.send(sv, c, &a, "2.05 Content, 1400 bytes text/plain");
    s
}

fn v4(link: LinkKind) -> NetPath {
    NetPath { link, ip: IpVersion::V4, mtu: None, v6_exts: Vec::new(), pad_received: false }
}

fn linktypes() -> Vec<SampleFile> {
    let mut out = Vec::new();
    let mut add = |path: &str, what: &str, s: Scenario, bytes: Vec<u8>| {
        out.push(SampleFile::valid(path, s.path.link.link_type(), what, &s, bytes));
    };
    let pcap = |s: &Scenario| s.to_pcap(TsPrecision::Micro, Endian::Little);

    let s = temp_exchange(v4(LinkKind::Ethernet { tags: Vec::new() }));
    add("linktypes/ethernet.pcap", "Ethernet II / IPv4 (baseline)", s.clone(), pcap(&s));

    let vlan = VlanTag { tpid: TPID_8021Q, pcp: 3, dei: false, vid: 10 };
    let s = temp_exchange(v4(LinkKind::Ethernet { tags: vec![vlan] }));
    add("linktypes/ethernet-vlan.pcap", "Ethernet + 802.1Q tag (VID 10, PCP 3) / IPv4", s.clone(), pcap(&s));

    let outer = VlanTag { tpid: TPID_8021AD, pcp: 0, dei: false, vid: 100 };
    let s = temp_exchange(v4(LinkKind::Ethernet { tags: vec![outer, vlan] }));
    add(
        "linktypes/ethernet-qinq.pcap",
        "Ethernet + 802.1ad (VID 100) + 802.1Q (VID 10) / IPv4",
        s.clone(),
        pcap(&s),
    );

    let s = temp_exchange(v4(LinkKind::LinuxSll));
    add(
        "linktypes/sll.pcap",
        "Linux cooked v1 (113) / IPv4, outgoing and incoming packet types",
        s.clone(),
        pcap(&s),
    );

    let s = temp_exchange(v4(LinkKind::LinuxSll2 { ifindex: 2 }));
    add("linktypes/sll2.pcap", "Linux cooked v2 (276), ifindex 2 / IPv4", s.clone(), pcap(&s));

    let s = temp_exchange(v4(LinkKind::Null));
    add(
        "linktypes/null.pcap",
        "BSD NULL (0): AF_INET 2 in little-endian host order / IPv4",
        s.clone(),
        pcap(&s),
    );

    let s = temp_exchange(v4(LinkKind::Loop));
    add("linktypes/loop.pcap", "BSD LOOP (108): AF_INET 2 in network order / IPv4", s.clone(), pcap(&s));

    let s = temp_exchange(v4(LinkKind::Raw));
    add("linktypes/raw.pcap", "Raw IP (101) / IPv4", s.clone(), pcap(&s));

    let s = temp_exchange(v4(LinkKind::RawIpv4));
    add("linktypes/ipv4.pcap", "LINKTYPE_IPV4 (228)", s.clone(), pcap(&s));

    let s = temp_exchange(NetPath {
        link: LinkKind::RawIpv6,
        ip: IpVersion::V6,
        mtu: None,
        v6_exts: vec![
            ExtHeader::HopByHop(vec![(0x05, vec![0, 0])]), // Router Alert (RFC 2711), value 0
            ExtHeader::DestOpts(vec![(0x1e, vec![0xaa, 0xbb, 0xcc])]), // RFC 3692 experimental
        ],
        pad_received: false,
    });
    add(
        "linktypes/ipv6-exthdrs.pcap",
        "LINKTYPE_IPV6 (229) with Hop-by-Hop (Router Alert) and Destination Options headers before UDP",
        s.clone(),
        pcap(&s),
    );

    let mut p = v4(LinkKind::Ethernet { tags: Vec::new() });
    p.mtu = Some(576);
    let s = temp_exchange(p);
    add(
        "linktypes/ipv4-fragmented.pcap",
        "Ethernet / IPv4, the 2.05 fragmented at MTU 576 (3 fragments)",
        s.clone(),
        pcap(&s),
    );

    let s = temp_exchange(NetPath {
        link: LinkKind::Ethernet { tags: Vec::new() },
        ip: IpVersion::V6,
        mtu: Some(1280),
        v6_exts: vec![
            ExtHeader::HopByHop(Vec::new()),
            ExtHeader::DestOpts(vec![(0x1e, vec![0xaa, 0xbb, 0xcc])]),
        ],
        pad_received: false,
    });
    add(
        "linktypes/ipv6-fragmented.pcap",
        "Ethernet / IPv6: Hop-by-Hop in every fragment, Fragment header, Destination Options in the first fragment; the 2.05 fragmented at MTU 1280 (2 fragments)",
        s.clone(),
        pcap(&s),
    );

    let s = temp_exchange(v4(LinkKind::Ethernet { tags: Vec::new() }));
    add(
        "linktypes/pcap-be-ns.pcap",
        "Classic pcap, big-endian, nanosecond magic (a1b23c4d) / Ethernet / IPv4",
        s.clone(),
        s.to_pcap(TsPrecision::Nano, Endian::Big),
    );

    // pcapng with two sections: section 1 has IDB 0 Ethernet (µs) and IDB 1 IPv4/228 (ns),
    // the GET on interface 1; section 2 has IDB 0 Linux SLL2 (µs, explicit if_tsresol 6) and
    // IDB 1 Ethernet (ns), the 2.05 on interface 1. A reader that keeps section 1's interface
    // table would decode the 2.05 as raw IPv4 and fail.
    let raw = temp_exchange(v4(LinkKind::RawIpv4));
    let eth = temp_exchange(v4(LinkKind::Ethernet { tags: Vec::new() }));
    let mut w = PcapNgWriter::new(Endian::Little);
    w.section(Some("kudoscope-sim"));
    w.interface(linktype::ETHERNET as u16, 262_144, None, Some("eth0"));
    let i1 = w.interface(linktype::IPV4 as u16, 262_144, Some(9), Some("tun0"));
    let f = &raw.frames[0];
    w.packet(i1, f.ts_ns, &f.data, f.orig_len, Some("GET /temp on interface 1 (IPv4, ns)"));
    w.section(Some("kudoscope-sim"));
    w.interface(linktype::LINUX_SLL2 as u16, 262_144, Some(6), Some("any"));
    let j1 = w.interface(linktype::ETHERNET as u16, 262_144, Some(9), Some("eth1"));
    let f = &eth.frames[1];
    w.packet(j1, f.ts_ns, &f.data, f.orig_len, Some("2.05 on section 2, interface 1 (Ethernet, ns)"));
    let mut sf = SampleFile::valid(
        "linktypes/pcapng-two-sections.pcapng",
        linktype::ETHERNET,
        "pcapng, 2 sections x 2 interfaces of different link types and if_tsresol: GET on s1/if1 (IPv4 228, ns), 2.05 on s2/if1 (Ethernet, ns)",
        &eth,
        w.into_bytes(),
    );
    if let Expect::Valid { log, .. } = &mut sf.expect {
        log[0].note = "GET /temp (section 1, interface 1, LINKTYPE_IPV4)".to_string();
        log[1].note = "2.05 (section 2, interface 1, Ethernet)".to_string();
    }
    out.push(sf);
    out
}

// ---- corrupt/ --------------------------------------------------------------------------

fn corrupt() -> Vec<SampleFile> {
    let mut out = Vec::new();
    let base = temp_exchange(v4(LinkKind::Ethernet { tags: Vec::new() }));
    let f1 = &base.frames[0];
    let f2 = &base.frames[1];

    out.push(SampleFile::corrupt(
        "corrupt/empty.pcap",
        0,
        "A zero-length file",
        Vec::new(),
        "CaptureError::Empty (\"the file is empty (0 bytes)\"); no frames",
    ));

    let mut bad = base.to_pcap(TsPrecision::Micro, Endian::Little);
    bad[..4].copy_from_slice(&[0x0b, 0xad, 0xf0, 0x0d]);
    out.push(SampleFile::corrupt(
        "corrupt/bad-magic.pcap",
        linktype::ETHERNET,
        "linktypes/ethernet.pcap with the magic replaced by 0b ad f0 0d",
        bad,
        "CaptureError::BadMagic { magic: [0b, ad, f0, 0d] }; no frames",
    ));

    // pcap cut in the middle of record 2's data.
    let mut w = PcapWriter::new(linktype::ETHERNET, 262_144, TsPrecision::Micro, Endian::Little);
    w.record(f1.ts_ns, &f1.data, f1.orig_len);
    let rec2 = w.len();
    w.record(f2.ts_ns, &f2.data, f2.orig_len);
    let mut t = w.into_bytes();
    t.truncate(rec2 + 16 + 100);
    let exp = format!(
        "frame 1 (GET /temp) read; then CaptureError::Truncated {{ offset: {rec2}, frame: Some(2), needed: {}, available: 116 }}: the record at byte {rec2} needs 16 + {} bytes (header + caplen), the file ends 116 bytes into it",
        16 + f2.data.len(),
        f2.data.len()
    );
    out.push(SampleFile::corrupt(
        "corrupt/truncated-record.pcap",
        linktype::ETHERNET,
        "Classic pcap cut 100 bytes into record 2's data",
        t,
        &exp,
    ));

    // pcap record with an absurd caplen (far beyond the file and any sane snaplen).
    let mut w = PcapWriter::new(linktype::ETHERNET, 65_535, TsPrecision::Micro, Endian::Little);
    w.record(f1.ts_ns, &f1.data, f1.orig_len);
    let rec2 = w.len();
    w.record(f1.ts_ns + 1_000_000, &f1.data, f1.orig_len);
    let mut t = w.into_bytes();
    t[rec2 + 8..rec2 + 12].copy_from_slice(&0x00ff_ffffu32.to_le_bytes());
    t[rec2 + 12..rec2 + 16].copy_from_slice(&0x00ff_ffffu32.to_le_bytes());
    let exp = format!(
        "frame 1 read; then CaptureError::Malformed {{ offset: {rec2}, frame: Some(2) }}: record caplen 16777215 exceeds the file's snaplen 65535 and the 262144-byte maximum (the reader must not try to allocate or read it); the file has only {} bytes after that header",
        f1.data.len()
    );
    out.push(SampleFile::corrupt(
        "corrupt/caplen-too-large.pcap",
        linktype::ETHERNET,
        "Classic pcap whose record 2 claims caplen = orig_len = 16777215",
        t,
        &exp,
    ));

    // pcapng cut in the middle of the second EPB.
    let mut w = PcapNgWriter::new(Endian::Little);
    w.section(Some("kudoscope-sim"));
    w.interface(linktype::ETHERNET as u16, 262_144, Some(6), Some("eth0"));
    w.packet(0, f1.ts_ns, &f1.data, f1.orig_len, None);
    let epb2 = w.len();
    w.packet(0, f2.ts_ns, &f2.data, f2.orig_len, None);
    let full_len = w.len() - epb2;
    let mut t = w.into_bytes();
    t.truncate(epb2 + 200);
    let exp = format!(
        "frame 1 read; then CaptureError::Truncated {{ offset: {epb2}, frame: Some(2), needed: {full_len}, available: 200 }}: the Enhanced Packet Block at byte {epb2} declares {full_len} bytes, the file ends 200 bytes into it"
    );
    out.push(SampleFile::corrupt(
        "corrupt/truncated-block.pcapng",
        linktype::ETHERNET,
        "pcapng cut 200 bytes into the second Enhanced Packet Block",
        t,
        &exp,
    ));

    // pcapng EPB whose total length is not a multiple of 4.
    let mut w = PcapNgWriter::new(Endian::Little);
    w.section(Some("kudoscope-sim"));
    w.interface(linktype::ETHERNET as u16, 262_144, Some(6), Some("eth0"));
    w.packet(0, f1.ts_ns, &f1.data, f1.orig_len, None);
    let epb2 = w.len();
    w.packet(0, f2.ts_ns, &f2.data, f2.orig_len, None);
    let mut t = w.into_bytes();
    let len = u32::from_le_bytes([t[epb2 + 4], t[epb2 + 5], t[epb2 + 6], t[epb2 + 7]]);
    let odd = len - 3;
    t[epb2 + 4..epb2 + 8].copy_from_slice(&odd.to_le_bytes());
    let exp = format!(
        "frame 1 read; then CaptureError::Malformed {{ offset: {epb2}, frame: Some(2) }}: block total length {odd} is not a multiple of 4 (the trailing copy still says {len})"
    );
    out.push(SampleFile::corrupt(
        "corrupt/block-length-unaligned.pcapng",
        linktype::ETHERNET,
        "pcapng whose second EPB has a total length that is not a multiple of 4",
        t,
        &exp,
    ));

    // pcapng EPB whose trailing total length differs from the leading one.
    let mut w = PcapNgWriter::new(Endian::Little);
    w.section(Some("kudoscope-sim"));
    w.interface(linktype::ETHERNET as u16, 262_144, Some(6), Some("eth0"));
    w.packet(0, f1.ts_ns, &f1.data, f1.orig_len, None);
    let epb2 = w.len();
    w.packet(0, f2.ts_ns, &f2.data, f2.orig_len, None);
    let end = w.len();
    let mut t = w.into_bytes();
    let len = u32::from_le_bytes([t[epb2 + 4], t[epb2 + 5], t[epb2 + 6], t[epb2 + 7]]);
    t[end - 4..end].copy_from_slice(&(len + 8).to_le_bytes());
    let exp = format!(
        "frame 1 read; then CaptureError::Malformed {{ offset: {epb2}, frame: Some(2) }}: the block's trailing total length {} differs from its leading total length {len}",
        len + 8
    );
    out.push(SampleFile::corrupt(
        "corrupt/block-trailer-mismatch.pcapng",
        linktype::ETHERNET,
        "pcapng whose second EPB's trailing total length does not match the leading one",
        t,
        &exp,
    ));

    // Unknown link type 147 (LINKTYPE_USER0): the frames are the Ethernet bytes.
    let mut w = PcapWriter::new(linktype::USER0, 262_144, TsPrecision::Micro, Endian::Little);
    w.record(f1.ts_ns, &f1.data, f1.orig_len);
    w.record(f2.ts_ns, &f2.data, f2.orig_len);
    out.push(SampleFile::corrupt(
        "corrupt/linktype-147.pcap",
        linktype::USER0,
        "Classic pcap with link type 147 (USER0), whose payload nobody can know",
        w.into_bytes(),
        "both frames read (the file is fine); each gets FindingKind::UnsupportedLinkType (\"link.unsupported\") for link type 147, no layers, no CoAP",
    ));

    out.push(bad_layers());
    out
}

/// One Ethernet/IPv4 capture whose frames each break one layer, between two valid frames.
fn bad_layers() -> SampleFile {
    let mut path = NetPath::ethernet_v4();
    path.pad_received = false;
    let mut s = Scenario::new(0xbad1_a7e5, path);
    let c = s.add_peer("client", 1, Some(40001), 4);
    let sv = s.add_peer("server", 2, Some(5683), 4);
    s.capture_host = c;

    // 1: valid GET /temp.
    let r = req(&mut s, c, Con, code::GET, "/temp");
    s.send(c, sv, &r, "valid GET /temp");

    // 2: Ethernet frame of 10 bytes (shorter than the 14-byte header).
    s.wait_ms(10);
    let mut f = s.encapsulate(c, sv, &[0x40, 0, 0, 0]).remove(0);
    f.truncate(10);
    push_frame(&mut s, f);

    // 3: IPv4 with IHL 3 (< 5), checksum recomputed over the first 20 bytes.
    s.wait_ms(10);
    let get = malformed_ok(&mut s, c);
    let mut f = s.encapsulate(c, sv, &get).remove(0);
    f[14] = 0x43;
    f[24..26].copy_from_slice(&[0, 0]);
    let cs = crate::checksum::internet_checksum(&[&f[14..34]]);
    f[24..26].copy_from_slice(&cs.to_be_bytes());
    push_frame(&mut s, f);

    // 4: UDP length says 200 but the IP payload holds 8 + 13 bytes; checksum 0 (none).
    s.wait_ms(10);
    let get = malformed_ok(&mut s, c);
    let mut f = s.encapsulate(c, sv, &get).remove(0);
    f[38..40].copy_from_slice(&200u16.to_be_bytes());
    f[40..42].copy_from_slice(&[0, 0]);
    push_frame(&mut s, f);

    // 5-8: malformed CoAP in well-formed UDP.
    s.wait_ms(10);
    let mid = s.mid(c);
    s.send_raw(c, sv, crate::coap::malformed_tkl9(mid), "CoAP TKL 9");
    s.wait_ms(10);
    let mid = s.mid(c);
    s.send_raw(c, sv, crate::coap::malformed_option_nibble15(mid), "CoAP option delta nibble 15");
    s.wait_ms(10);
    let mid = s.mid(c);
    s.send_raw(c, sv, crate::coap::malformed_truncated_option(mid), "CoAP option length past the end");
    s.wait_ms(10);
    s.send_raw(
        sv,
        c,
        crate::coap::malformed_empty_payload_marker(r.mid.wrapping_add(0x100), 0x77),
        "CoAP payload marker without payload",
    );

    // 9: valid 2.05 answering frame 1.
    s.wait_ms(10);
    s.send(sv, c, &piggy(&r, code::CONTENT).payload(&b"21.5 C"[..]), "valid 2.05 answering frame 1");

    let bytes = s.to_pcap(TsPrecision::Micro, Endian::Little);
    let mut sf = SampleFile::valid(
        "corrupt/bad-layers.pcap",
        linktype::ETHERNET,
        "Ethernet/IPv4 frames each breaking one layer, between a valid GET (frame 1) and its valid 2.05 (frame 9)",
        &s,
        bytes,
    );
    sf.expect = Expect::Corrupt { expected: BAD_LAYERS_EXPECTED.to_string() };
    sf
}

/// What frames of corrupt/bad-layers.pcap a reader must report (README repeats it).
pub const BAD_LAYERS_EXPECTED: &str = "\
frame 1: valid CON GET /temp; \
frame 2: LinkTruncated (Ethernet needs 14 bytes, 10 captured); \
frame 3: IpMalformed (IPv4 IHL 3 < 5); \
frame 4: UdpMalformed (UDP length 200 > 21 bytes of IP payload); \
frame 5: CoapBadTokenLength (TKL 9); \
frame 6: CoapBadOption (option delta nibble 15 in byte 0xf1 at CoAP offset 5); \
frame 7: CoapBadOption (Uri-Path length 10 runs past the end: 4 bytes left); \
frame 8: CoapEmptyPayloadMarker (0xff with no payload); \
frame 9: valid ACK 2.05 answering frame 1";

/// A 13-byte valid CoAP GET used inside frames broken at a lower layer.
fn malformed_ok(s: &mut Scenario, c: PeerId) -> Vec<u8> {
    req(s, c, Con, code::GET, "/temp").encode()
}

fn push_frame(s: &mut Scenario, data: Vec<u8>) {
    let orig_len = data.len() as u32;
    let ts_ns = s.now_ns();
    s.frames.push(crate::scenario::Frame { ts_ns, data, orig_len });
}
