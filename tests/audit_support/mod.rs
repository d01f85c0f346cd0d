//! Scripted OSCORE ID-update captures for the audit tests: a client and a server protect real
//! OSCORE messages (analyzer-core's crypto: DerivedContext, AeadKey::seal, OscoreOption::build)
//! over Ethernet/IPv4/UDP, run the ID update of draft-ietf-core-oscore-id-update-06 (the §2
//! example flow: Recipient-ID 42/78 and three Acks each way, PROTOCOLS.md §4.2), switch to
//! CTX_B and migrate the way each scenario says: carefully, or leaving one item continuous.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use analyzer_core::coap::message::{MessageRepr, MsgType};
use analyzer_core::hex;
use analyzer_core::oscore::context::{DerivedContext, piv_from_ssn};
use analyzer_core::oscore::kudos::{self, LabelEncoding};
use analyzer_core::oscore::option::OscoreOption;
use analyzer_core::oscore::{AeadAlg, ContextParams, HkdfAlg, Secret};
use std::path::{Path, PathBuf};

const MASTER_SECRET: &str = "0102030405060708090a0b0c0d0e0f10";
const MASTER_SALT: &str = "9e7ca92223786340";
/// Inner option numbers of ID update (draft: TBD24 / TBD32, suggested 24 / 32).
const RECIPIENT_ID: u16 = 24;
const RECIPIENT_ID_ACK: u16 = 32;

/// Where a host sits: MAC, IPv4 address, UDP port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    pub mac: [u8; 6],
    pub ip: [u8; 4],
    pub port: u16,
}

pub const OLD_NET: Net = Net { mac: [2, 0, 0, 0, 0, 1], ip: [192, 0, 2, 1], port: 40000 };
pub const NEW_NET: Net = Net { mac: [2, 0, 0, 0, 0, 7], ip: [198, 51, 100, 7], port: 41000 };
pub const SERVER_NET: Net = Net { mac: [2, 0, 0, 0, 0, 2], ip: [192, 0, 2, 2], port: 5683 };

/// How the client migrates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// New IDs first used on the new network, SSN from 0, fresh random MIDs and tokens.
    Careful,
    /// New IDs used twice on the old network, then the move.
    NewIdsBeforeMigration,
    /// The move first, two requests with the old kid on the new network, then the new IDs.
    OldKidAfterMigration,
    /// CTX_B's SSN continues CTX_A's counter.
    SsnContinuing,
    /// MIDs and tokens are counters that continue across the move.
    CountersContinuing,
    /// ID update completes, new IDs used at once, no move.
    NoMigration,
    /// The ID update rides on a KUDOS execution; the client then migrates carefully.
    InsideKudos,
}

struct Peer {
    ctx: DerivedContext,
    ssn: u64,
    net: Net,
}

/// A request as the server needs it to answer.
pub struct Req {
    kid: Vec<u8>,
    piv: Vec<u8>,
    token: Vec<u8>,
    mid: u16,
    /// The context the client used (from its view).
    client_ctx: DerivedContext,
}

pub struct Scenario {
    client: Peer,
    server: Peer,
    frames: Vec<(u64, Vec<u8>)>,
    /// Capture time in microseconds.
    t: u64,
    rng: u64,
    counters: bool,
    mid: u16,
    token: u64,
    ip_id: u16,
}

fn params(sender: &[u8], recipient: &[u8]) -> ContextParams {
    ContextParams {
        master_secret: Secret::new(hex::decode(MASTER_SECRET).unwrap()),
        master_salt: hex::decode(MASTER_SALT).unwrap(),
        id_context: None,
        sender_id: sender.to_vec(),
        recipient_id: recipient.to_vec(),
        aead: AeadAlg::AesCcm16_64_128,
        hkdf: HkdfAlg::Sha256,
    }
}

fn checksum(b: &[u8]) -> u16 {
    let mut sum = 0u32;
    for c in b.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

impl Scenario {
    /// Client Sender ID 01, server Sender ID 00 (PROTOCOLS.md §4.2 example).
    pub fn new(counters: bool) -> Scenario {
        Scenario {
            client: Peer {
                ctx: DerivedContext::derive(params(&[0x01], &[0x00])).unwrap(),
                ssn: 40, // the client has been running for a while
                net: OLD_NET,
            },
            server: Peer {
                ctx: DerivedContext::derive(params(&[0x00], &[0x01])).unwrap(),
                ssn: 0,
                net: SERVER_NET,
            },
            frames: Vec::new(),
            t: 1_767_225_600_000_000,
            rng: 0x9e37_79b9_7f4a_7c15,
            counters,
            mid: 0x3a10,
            token: 0x0051,
            ip_id: 1,
        }
    }

    fn random(&mut self) -> u64 {
        // xorshift64*: deterministic.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Fresh MID and token: counters, or random values.
    fn next_ids(&mut self) -> (u16, Vec<u8>) {
        // MIDs are a per-endpoint counter (RFC 7252 §4.4); tokens a counter or random.
        self.mid = self.mid.wrapping_add(1);
        if self.counters {
            self.token += 1;
        } else {
            self.token = self.random() & 0xffff;
        }
        (self.mid, (self.token as u16).to_be_bytes().to_vec())
    }

    /// A migration that re-randomises MIDs and tokens (what a careful client does).
    pub fn rerandomise(&mut self) {
        self.mid = self.random() as u16;
        self.token = self.random() & 0xffff;
    }

    pub fn wait_ms(&mut self, ms: u64) {
        self.t += ms * 1000;
    }

    fn frame(&mut self, from: Net, to: Net, coap: &[u8]) {
        let udp_len = 8 + coap.len();
        let total = 20 + udp_len;
        let mut ip = vec![0x45, 0, (total >> 8) as u8, total as u8];
        ip.extend_from_slice(&self.ip_id.to_be_bytes());
        self.ip_id = self.ip_id.wrapping_add(1);
        ip.extend_from_slice(&[0x40, 0, 64, 17, 0, 0]);
        ip.extend_from_slice(&from.ip);
        ip.extend_from_slice(&to.ip);
        let c = checksum(&ip);
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        let mut f = Vec::new();
        f.extend_from_slice(&to.mac);
        f.extend_from_slice(&from.mac);
        f.extend_from_slice(&[0x08, 0x00]);
        f.extend_from_slice(&ip);
        f.extend_from_slice(&from.port.to_be_bytes());
        f.extend_from_slice(&to.port.to_be_bytes());
        f.extend_from_slice(&(udp_len as u16).to_be_bytes());
        f.extend_from_slice(&[0, 0]);
        f.extend_from_slice(coap);
        self.frames.push((self.t, f));
    }

    /// The client sends a CON POST (inner GET /temp) protected with its current context, with
    /// extra inner options (ID update).
    pub fn request(&mut self, inner: Vec<(u16, Vec<u8>)>) -> Req {
        let ctx = self.client.ctx.clone();
        self.request_with(&ctx, None, inner)
    }

    /// A request protected with `ctx` (the client's view), with KUDOS fields when given.
    pub fn request_with(
        &mut self,
        ctx: &DerivedContext,
        kudos: Option<(u8, &[u8])>,
        inner: Vec<(u16, Vec<u8>)>,
    ) -> Req {
        let (mid, token) = self.next_ids();
        let piv = piv_from_ssn(self.client.ssn).unwrap();
        self.client.ssn += 1;
        let ctx = ctx.clone();
        let kid = ctx.params().sender_id.clone();
        let mut options = vec![(11u16, b"temp".to_vec())];
        options.extend(inner);
        let pt = MessageRepr { mtype: None, code: 0x01, options, ..Default::default() }.emit_plaintext();
        let ct = ctx.sender_aead().seal(&ctx.sender_nonce(&piv).unwrap(), &ctx.aad(&kid, &piv), &pt).unwrap();
        let opt = OscoreOption::build(&piv, None, kudos, Some(&kid)).unwrap().emit();
        let msg = MessageRepr {
            mtype: Some(MsgType::Con),
            code: 0x02,
            mid,
            token: token.clone(),
            options: vec![(9, opt)],
            payload: ct,
        }
        .emit();
        let (from, to) = (self.client.net, self.server.net);
        self.frame(from, to, &msg);
        Req { kid, piv, token, mid, client_ctx: ctx }
    }

    /// The server answers piggybacked (ACK, same MID and token, no Partial IV: the request's
    /// nonce) with 2.05 and a payload, protected with the context of the request.
    pub fn response(&mut self, req: &Req, inner: Vec<(u16, Vec<u8>)>) {
        self.wait_ms(5);
        let ctx = req.client_ctx.reversed();
        let pt = MessageRepr {
            mtype: None,
            code: 0x45,
            options: inner,
            payload: b"21.5 C".to_vec(),
            ..Default::default()
        }
        .emit_plaintext();
        let nonce = ctx.recipient_nonce(&req.piv).unwrap();
        let ct = ctx.sender_aead().seal(&nonce, &ctx.aad(&req.kid, &req.piv), &pt).unwrap();
        let msg = MessageRepr {
            mtype: Some(MsgType::Ack),
            code: 0x45,
            mid: req.mid,
            token: req.token.clone(),
            options: vec![(9, vec![])],
            payload: ct,
        }
        .emit();
        let (from, to) = (self.server.net, self.client.net);
        self.frame(from, to, &msg);
    }

    /// A piggybacked response protected with another context than the request's (`ctx`, the
    /// server's view): it carries the server's own Partial IV (and KUDOS fields when given).
    pub fn response_own_piv(
        &mut self,
        req: &Req,
        ctx: &DerivedContext,
        kudos: Option<(u8, &[u8])>,
        inner: Vec<(u16, Vec<u8>)>,
    ) {
        self.wait_ms(5);
        let piv = piv_from_ssn(self.server.ssn).unwrap();
        self.server.ssn += 1;
        let pt =
            MessageRepr { mtype: None, code: 0x44, options: inner, ..Default::default() }.emit_plaintext();
        let ct = ctx
            .sender_aead()
            .seal(&ctx.sender_nonce(&piv).unwrap(), &ctx.aad(&req.kid, &req.piv), &pt)
            .unwrap();
        let opt = OscoreOption::build(&piv, None, kudos, None).unwrap().emit();
        let msg = MessageRepr {
            mtype: Some(MsgType::Ack),
            code: 0x44,
            mid: req.mid,
            token: req.token.clone(),
            options: vec![(9, opt)],
            payload: ct,
        }
        .emit();
        let (from, to) = (self.server.net, self.client.net);
        self.frame(from, to, &msg);
    }

    /// ID update carried by a KUDOS execution (PROTOCOLS.md §4.5, the interpretation of
    /// procedures/id_update.rs): the client's divergent request (CTX_TEMP, x 07, nonce N1)
    /// offers Recipient-ID 42; the server's convergent response (CTX_NEW, x 47, N2, own PIV)
    /// offers 78 and acknowledges 42. Both then use CTX_NEW with the new IDs (SSN 0).
    pub fn kudos_id_update(&mut self) {
        let n1 = self.random().to_be_bytes();
        let n2 = self.random().to_be_bytes();
        let (in1, in2) = (kudos::input(0x07, &n1), kudos::input(0x47, &n2));
        let old = self.client.ctx.params().clone();
        let temp = DerivedContext::derive(kudos::update_ctx(&in1, &[], &old, LabelEncoding::Draft).unwrap())
            .unwrap();
        let new_c = kudos::update_ctx(&in1, &in2, &old, LabelEncoding::Draft).unwrap();
        let new_s = DerivedContext::derive(
            kudos::update_ctx(&in2, &in1, &old.reversed(), LabelEncoding::Draft).unwrap(),
        )
        .unwrap();
        self.client.ssn = 0;
        let r = self.request_with(&temp, Some((0x07, &n1)), vec![(RECIPIENT_ID, vec![0x42])]);
        self.server.ssn = 0;
        self.response_own_piv(
            &r,
            &new_s,
            Some((0x47, &n2)),
            vec![(RECIPIENT_ID, vec![0x78]), (RECIPIENT_ID_ACK, vec![0x42])],
        );
        self.wait_ms(10_000);
        let mut with_ids = new_c;
        with_ids.sender_id = vec![0x78];
        with_ids.recipient_id = vec![0x42];
        self.client.ctx = DerivedContext::derive(with_ids.clone()).unwrap();
        self.server.ctx = DerivedContext::derive(with_ids.reversed()).unwrap();
        self.client.ssn = 0;
        self.server.ssn = 0;
    }

    /// One request/response exchange, then 10 s of quiet.
    pub fn exchange(&mut self, req_inner: Vec<(u16, Vec<u8>)>, resp_inner: Vec<(u16, Vec<u8>)>) {
        let r = self.request(req_inner);
        self.response(&r, resp_inner);
        self.wait_ms(10_000);
    }

    /// The -06 example flow under CTX_A: Req#1 {Recipient-ID 42}; Resp#1 {Recipient-ID 78,
    /// Ack 42}; Req#2..#4 {Ack 78}; Resp#2..#3 {Ack 42}; Resp#4 no Ack.
    pub fn id_update(&mut self) {
        self.exchange(
            vec![(RECIPIENT_ID, vec![0x42])],
            vec![(RECIPIENT_ID, vec![0x78]), (RECIPIENT_ID_ACK, vec![0x42])],
        );
        self.exchange(vec![(RECIPIENT_ID_ACK, vec![0x78])], vec![(RECIPIENT_ID_ACK, vec![0x42])]);
        self.exchange(vec![(RECIPIENT_ID_ACK, vec![0x78])], vec![(RECIPIENT_ID_ACK, vec![0x42])]);
        self.exchange(vec![(RECIPIENT_ID_ACK, vec![0x78])], vec![]);
    }

    /// Both peers switch to CTX_B (client Sender ID 78, server 42); the client's SSN restarts
    /// unless `keep_ssn`.
    pub fn switch_ids(&mut self, keep_ssn: bool) {
        self.client.ctx = DerivedContext::derive(params(&[0x78], &[0x42])).unwrap();
        self.server.ctx = DerivedContext::derive(params(&[0x42], &[0x78])).unwrap();
        if !keep_ssn {
            self.client.ssn = 0;
        }
        self.server.ssn = 0;
    }

    /// The client keeps (or goes back to) the old context for its next requests.
    pub fn use_old_ids(&mut self) -> DerivedContext {
        std::mem::replace(&mut self.client.ctx, DerivedContext::derive(params(&[0x01], &[0x00])).unwrap())
    }

    pub fn restore_ids(&mut self, ctx: DerivedContext) {
        self.client.ctx = ctx;
    }

    pub fn move_client(&mut self, to: Net) {
        self.client.net = to;
    }

    /// The whole scenario: two exchanges, the ID update, two more, then the migration as
    /// `how` says, and three exchanges on the new network.
    pub fn build(how: Plan) -> Scenario {
        let mut s = Scenario::new(how == Plan::CountersContinuing);
        s.exchange(vec![], vec![]);
        s.exchange(vec![], vec![]);
        if how == Plan::InsideKudos {
            s.kudos_id_update();
            s.move_client(NEW_NET);
            s.rerandomise();
            s.exchange(vec![], vec![]);
            s.exchange(vec![], vec![]);
            return s;
        }
        s.id_update();
        s.exchange(vec![], vec![]);
        match how {
            Plan::Careful | Plan::CountersContinuing => {
                s.switch_ids(false);
                s.move_client(NEW_NET);
                if how == Plan::Careful {
                    s.rerandomise();
                }
            }
            Plan::NewIdsBeforeMigration => {
                s.switch_ids(false);
                s.exchange(vec![], vec![]);
                s.exchange(vec![], vec![]);
                s.move_client(NEW_NET);
                s.rerandomise();
            }
            Plan::OldKidAfterMigration => {
                s.move_client(NEW_NET);
                s.rerandomise();
                s.exchange(vec![], vec![]);
                s.exchange(vec![], vec![]);
                s.switch_ids(false);
            }
            Plan::SsnContinuing => {
                s.switch_ids(true);
                s.move_client(NEW_NET);
                s.rerandomise();
            }
            Plan::NoMigration => s.switch_ids(false),
            Plan::InsideKudos => unreachable!("handled above"),
        }
        s.exchange(vec![], vec![]);
        s.exchange(vec![], vec![]);
        s.exchange(vec![], vec![]);
        s
    }

    /// The frames as a classic pcap (Ethernet, microseconds).
    pub fn pcap(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&4u16.to_le_bytes());
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&65535u32.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        for (t, f) in &self.frames {
            out.extend_from_slice(&((t / 1_000_000) as u32).to_le_bytes());
            out.extend_from_slice(&((t % 1_000_000) as u32).to_le_bytes());
            out.extend_from_slice(&(f.len() as u32).to_le_bytes());
            out.extend_from_slice(&(f.len() as u32).to_le_bytes());
            out.extend_from_slice(f);
        }
        out
    }

    pub fn frame_count(&self) -> usize {
        self.frames.len()
    }

    /// Writes `dir/name.pcap` and its keys (`dir/name.pcap.keys.toml`); returns the capture.
    pub fn write(&self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(format!("{name}.pcap"));
        std::fs::write(&path, self.pcap()).unwrap();
        let keys = format!(
            "version = 1\n\n[[context]]\nname = \"sensor\"\nmaster_secret = \"{MASTER_SECRET}\"\nmaster_salt = \"{MASTER_SALT}\"\naead = \"AES-CCM-16-64-128\"\nhkdf = \"HKDF-SHA-256\"\nclient = {{ sender_id = \"01\" }}\nserver = {{ sender_id = \"00\" }}\n"
        );
        std::fs::write(dir.join(format!("{name}.pcap.keys.toml")), keys).unwrap();
        path
    }
}
