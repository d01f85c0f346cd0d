//! Large OSCORE captures for benchmarks (`kudoscope-sim big`): N CoAP messages between a few
//! clients and one server, every one protected with AES-CCM-16-64-128, streamed to disk with
//! constant memory (nothing is kept per message), plus the keys file next to it.
//!
//! Traffic: request/response pairs (CON request, piggybacked ACK), 70 % GET + 2.05 with a
//! payload, 30 % POST with a payload + 2.04; CoAP messages are 40 to 120 bytes. Clients take
//! turns at random; MIDs, tokens, ports, sizes and gaps come from a fixed seed, so the same N
//! gives the same bytes.

use crate::coap::{CoapMsg, MsgType, cf, code, opt};
use crate::oscore::{CtxDef, SecCtx, keys_toml};
use crate::pcap::Endian;
use crate::pcapng::PcapNgWriter;
use crate::scenario::{NetPath, START_NS, Scenario};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// What `big` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BigSummary {
    pub capture: PathBuf,
    pub keys: PathBuf,
    pub messages: u64,
    pub frames: u64,
    pub bytes: u64,
    /// Smallest and largest CoAP message written.
    pub coap_len: (usize, usize),
}

/// Generation settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BigConfig {
    pub messages: u64,
    pub clients: u8,
    pub seed: u64,
}

impl Default for BigConfig {
    fn default() -> Self {
        BigConfig { messages: 1000, clients: 4, seed: 0xb16_ca97 }
    }
}

const PATHS: [&str; 6] =
    ["/sensors/temp", "/sensors/hum", "/meter/power", "/door/state", "/config/interval", "/events"];

/// Writes the capture to `out` and its keys to `out` + `.keys.toml`.
pub fn write(cfg: &BigConfig, out: &Path) -> std::io::Result<BigSummary> {
    assert!((1..=200).contains(&cfg.clients), "1 to 200 clients");
    let mut s = Scenario::new(cfg.seed, NetPath::ethernet_v4());
    let server = s.add_peer("server", 254, Some(5683), 4);
    let mut clients = Vec::new();
    let mut ctxs = Vec::new();
    for i in 0..cfg.clients {
        let c = s.add_peer("client", 1 + i, None, 8);
        let mut secret = vec![0; 16];
        s.rng().fill(&mut secret);
        let mut salt = vec![0; 8];
        s.rng().fill(&mut salt);
        let mut d = CtxDef::new(&format!("client-{}", i + 1), secret, salt, &[0x10 + i], &[0x53]);
        d.client_endpoints = vec![format!("{}:{}", s.addr(c), s.peers[c].port)];
        d.server_endpoints = vec![format!("{}:5683", s.addr(server))];
        clients.push(c);
        ctxs.push(SecCtx::new(d));
    }
    let keys_path = PathBuf::from(format!("{}.keys.toml", out.display()));
    let defs: Vec<CtxDef> = ctxs.iter().map(|c| c.def.clone()).collect();
    std::fs::write(
        &keys_path,
        keys_toml(&format!("Keys of {} (kudoscope-sim big, test keys, not secret).", out.display()), &defs),
    )?;

    let mut file = BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    let mut w = PcapNgWriter::new(Endian::Little);
    w.section(Some("kudoscope-sim big"));
    let iface = w.interface(crate::link::linktype::ETHERNET as u16, 262_144, Some(6), Some("eth0"));
    let mut now = START_NS;
    let mut written = 0u64;
    let mut bytes = 0u64;
    let mut coap_len = (usize::MAX, 0usize);
    let mut filler = [0u8; 96];
    let mut emit =
        |s: &mut Scenario, w: &mut PcapNgWriter, from, to, msg: &CoapMsg, ts: u64| -> std::io::Result<()> {
            let payload = msg.encode();
            coap_len = (coap_len.0.min(payload.len()), coap_len.1.max(payload.len()));
            for f in s.encapsulate(from, to, &payload) {
                w.packet(iface, ts, &f, f.len() as u32, None);
            }
            if w.len() > 1 << 16 {
                bytes += w.len() as u64;
                w.flush_to(&mut file)?;
            }
            Ok(())
        };
    while written < cfg.messages {
        let i = s.rng().range(0, u64::from(cfg.clients) - 1) as usize;
        let c = clients[i];
        now += s.rng().range(200_000, 3_000_000);
        let token = s.token(c);
        let mid = s.mid(c);
        let path = PATHS[s.rng().range(0, PATHS.len() as u64 - 1) as usize];
        let get = s.rng().range(0, 9) < 7;
        let mut r =
            CoapMsg::new(MsgType::Con, if get { code::GET } else { code::POST }, mid, &token).path(path);
        if get {
            let q = match s.rng().range(0, 2) {
                0 => format!("since={}", now / 1_000_000_000),
                1 => format!("limit={}", s.rng().range(1, 500)),
                _ => "format=cbor".to_string(),
            };
            r = r.opt(opt::URI_QUERY, q.into_bytes());
        } else {
            let n = s.rng().range(8, 70) as usize;
            s.rng().fill(&mut filler[..n]);
            r = r.opt_uint(opt::CONTENT_FORMAT, cf::OCTET_STREAM).payload(filler[..n].to_vec());
        }
        let p = ctxs[i].protect_request(&r);
        emit(&mut s, &mut w, c, server, &p.msg, now)?;
        written += 1;
        if written == cfg.messages {
            break;
        }
        let req = p.request.expect("request state");
        let resp = if get {
            let n = s.rng().range(14, 80) as usize;
            s.rng().fill(&mut filler[..n]);
            CoapMsg::new(MsgType::Ack, code::CONTENT, mid, &token)
                .opt_uint(opt::CONTENT_FORMAT, cf::OCTET_STREAM)
                .payload(filler[..n].to_vec())
        } else {
            let id = s.rng().range(1, 1 << 40);
            CoapMsg::new(MsgType::Ack, code::CHANGED, mid, &token)
                .opt_uint(opt::CONTENT_FORMAT, cf::JSON)
                .payload(format!("{{\"stored\":true,\"id\":{id}}}").into_bytes())
        };
        let pr = ctxs[i].protect_response(&resp, &req, false);
        let ts = now + s.rng().range(300_000, 2_000_000);
        emit(&mut s, &mut w, server, c, &pr.msg, ts)?;
        written += 1;
        now = ts;
    }
    let frames = w.frames();
    bytes += w.len() as u64;
    w.flush_to(&mut file)?;
    file.flush()?;
    Ok(BigSummary { capture: out.to_path_buf(), keys: keys_path, messages: written, frames, bytes, coap_len })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_big_capture_is_deterministic_and_sized() {
        let dir = std::env::temp_dir().join(format!("kudoscope-sim-big-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = dir.join("a.pcapng");
        let b = dir.join("b.pcapng");
        let cfg = BigConfig { messages: 501, ..BigConfig::default() };
        let sa = write(&cfg, &a).unwrap();
        let sb = write(&cfg, &b).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        assert_eq!((sa.messages, sa.frames), (501, 501));
        assert_eq!(sa.bytes, std::fs::metadata(&a).unwrap().len());
        assert!(sa.coap_len.0 >= 40 && sa.coap_len.1 <= 120, "{:?}", sa.coap_len);
        let keys = std::fs::read_to_string(&sa.keys).unwrap();
        assert_eq!(keys.matches("[[context]]").count(), 4);
        assert_eq!(sb.keys, dir.join("b.pcapng.keys.toml"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
