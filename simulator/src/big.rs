//! Large OSCORE captures for benchmarks (`kudoscope-sim big`): N CoAP messages between a few
//! clients and one server, every one protected with AES-CCM-16-64-128, streamed to disk with
//! constant memory (nothing is kept per message), plus the keys file next to it.
//!
//! Traffic: request/response pairs (CON request, piggybacked ACK), 70 % GET + 2.05 with a
//! payload, 30 % POST with a payload + 2.04; CoAP messages are 40 to 120 bytes. Clients take
//! turns at random; MIDs, tokens, ports, sizes and gaps come from a fixed seed, so the same N
//! gives the same bytes.
//!
//! Each association is a pair of [`Peer`]s (simulator/src/kudos.rs) that protect what they
//! send and verify what they receive. With `kudos_every = K`, every association runs a KUDOS
//! execution (forward flow, FS: divergent POST /.well-known/kudos, convergent 2.04) each time
//! it has exchanged K more messages (KUDOS messages included); its next request, under the new
//! context, gives the server key confirmation. The peers keep only their current contexts, so
//! memory stays constant however many executions run.
//!
//! With `plain`, the same traffic goes out unprotected (plain CoAP, no keys file): the
//! benchmark of the capture-to-exchanges pipeline.

use crate::coap::{CoapMsg, MsgType, cf, code, opt};
use crate::kudos::{KUDOS_PATH, Peer, Send};
use crate::oscore::{CtxDef, Role, keys_toml};
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
    /// KUDOS executions run (each: 2 KUDOS messages).
    pub kudos: u64,
}

/// Generation settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BigConfig {
    pub messages: u64,
    pub clients: u8,
    pub seed: u64,
    /// A KUDOS execution every this many messages of each association.
    pub kudos_every: Option<u64>,
    /// Plain CoAP: the same traffic unprotected, and no keys file.
    pub plain: bool,
}

impl Default for BigConfig {
    fn default() -> Self {
        BigConfig { messages: 1000, clients: 4, seed: 0xb16_ca97, kudos_every: None, plain: false }
    }
}

/// One client and the server, as the two peers of a context.
struct Assoc {
    client: Peer,
    server: Peer,
    messages: u64,
    next_kudos: u64,
}

const PATHS: [&str; 6] =
    ["/sensors/temp", "/sensors/hum", "/meter/power", "/door/state", "/config/interval", "/events"];

/// Writes the capture to `out` and its keys to `out` + `.keys.toml`.
pub fn write(cfg: &BigConfig, out: &Path) -> std::io::Result<BigSummary> {
    assert!((1..=200).contains(&cfg.clients), "1 to 200 clients");
    let mut s = Scenario::new(cfg.seed, NetPath::ethernet_v4());
    let server = s.add_peer("server", 254, Some(5683), 4);
    let mut clients = Vec::new();
    let mut defs = Vec::new();
    let mut assocs = Vec::new();
    let every = cfg.kudos_every.unwrap_or(u64::MAX);
    assert!(!(cfg.plain && cfg.kudos_every.is_some()), "KUDOS needs OSCORE");
    assert!(every >= 4, "an execution and the exchange confirming it take 4 messages");
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
        let seed = cfg.seed ^ (u64::from(i) << 32);
        assocs.push(Assoc {
            client: Peer::new("client", &d, 0, Role::Client, seed ^ 0xc1).without_recipes(),
            server: Peer::new("server", &d, 0, Role::Server, seed ^ 0x5e).without_recipes(),
            messages: 0,
            next_kudos: every,
        });
        defs.push(d);
    }
    let keys_path = PathBuf::from(format!("{}.keys.toml", out.display()));
    if !cfg.plain {
        std::fs::write(
            &keys_path,
            keys_toml(
                &format!("Keys of {} (kudoscope-sim big, test keys, not secret).", out.display()),
                &defs,
            ),
        )?;
    }

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
    let mut kudos = 0u64;
    let deliver = |to: &mut Peer, m: &CoapMsg| {
        let name = to.name;
        to.receive(m).unwrap_or_else(|e| panic!("{name} cannot verify {m:?}: {e}"));
    };
    while written < cfg.messages {
        let i = s.rng().range(0, u64::from(cfg.clients) - 1) as usize;
        let c = clients[i];
        let a = &mut assocs[i];
        if a.messages >= a.next_kudos && cfg.messages - written >= 2 {
            // KUDOS, forward flow: divergent request, convergent response.
            now += s.rng().range(200_000, 3_000_000);
            let token = s.token(c);
            let mid = s.mid(c);
            let r = CoapMsg::new(MsgType::Con, code::POST, mid, &token).path(KUDOS_PATH);
            let p = a.client.request(&r, Send::Divergent { flags: 0, nonce: None }).p;
            deliver(&mut a.server, &p.msg);
            emit(&mut s, &mut w, c, server, &p.msg, now)?;
            let resp = CoapMsg::new(MsgType::Ack, code::CHANGED, mid, &token);
            let pr = a.server.response(&resp, Send::Convergent, false).p;
            deliver(&mut a.client, &pr.msg);
            a.client.forget(&token);
            a.server.forget(&token);
            let ts = now + s.rng().range(300_000, 2_000_000);
            emit(&mut s, &mut w, server, c, &pr.msg, ts)?;
            now = ts;
            written += 2;
            a.messages += 2;
            a.next_kudos = a.messages + every;
            kudos += 1;
            continue;
        }
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
        let a = &mut assocs[i];
        if cfg.plain {
            emit(&mut s, &mut w, c, server, &r, now)?;
        } else {
            let p = a.client.request(&r, Send::Auto).p;
            deliver(&mut a.server, &p.msg);
            emit(&mut s, &mut w, c, server, &p.msg, now)?;
        }
        written += 1;
        a.messages += 1;
        if written == cfg.messages {
            break;
        }
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
        let a = &mut assocs[i];
        let ts = now + s.rng().range(300_000, 2_000_000);
        if cfg.plain {
            emit(&mut s, &mut w, server, c, &resp, ts)?;
        } else {
            let pr = a.server.response(&resp, Send::Auto, false).p;
            deliver(&mut a.client, &pr.msg);
            a.client.forget(&token);
            a.server.forget(&token);
            emit(&mut s, &mut w, server, c, &pr.msg, ts)?;
        }
        written += 1;
        a.messages += 1;
        now = ts;
    }
    let frames = w.frames();
    bytes += w.len() as u64;
    w.flush_to(&mut file)?;
    file.flush()?;
    Ok(BigSummary {
        capture: out.to_path_buf(),
        keys: keys_path,
        messages: written,
        frames,
        bytes,
        coap_len,
        kudos,
    })
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
