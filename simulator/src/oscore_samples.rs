//! The OSCORE sample captures (issue 3): each with its keys file `<capture>.keys.toml` and,
//! per frame, what kudoscope must report (status, inner code, context, OSCORE findings) and,
//! for captures that only use AES-CCM-16-64-128 with HKDF-SHA-256, what tshark 4.0.17 decrypts.
//!
//! Messages are protected by the peers' own logic in [`crate::oscore`]; the scripts below only
//! say who sends what, and where a peer misbehaves (reboots, replays, forgeries, malformed
//! options), they build the bytes by hand.

use crate::coap::{CoapMsg, MsgType, block, cf, code, opt};
use crate::oscore::{CtxDef, Limits, OPT_ECHO, OPT_OSCORE, Protected, RequestState, SecCtx, hex, keys_toml};
use crate::samples::{SampleFile, piggy, req};
use crate::scenario::{NetPath, PeerId, Scenario};
use analyzer_core::oscore::{AeadAlg, HkdfAlg};

use MsgType::{Ack, Con, Non};

/// kudoscope's `oscore.status` values (docs/json-output.md, engine `Status::as_str`).
pub mod status {
    pub const DECRYPTED: &str = "decrypted";
    pub const TAG_TRUNCATED: &str = "tag_truncated";
    pub const TAG_MISMATCH: &str = "tag_mismatch";
    pub const NO_CONTEXT: &str = "no_context";
    pub const NO_REQUEST: &str = "no_request";
    pub const MALFORMED_OPTION: &str = "malformed_option";
    pub const UNPROTECTED_ERROR: &str = "unprotected_error";
}

/// Finding kinds (analyzer-core `FindingKind::as_str`).
pub mod kind {
    pub const MALFORMED_OPTION: &str = "oscore.malformed_option";
    pub const CLASS_E_OUTER: &str = "oscore.class_e_outer";
    pub const NO_CONTEXT: &str = "oscore.no_context";
    pub const NO_REQUEST: &str = "oscore.no_request";
    pub const TAG_MISMATCH: &str = "oscore.tag_mismatch";
    pub const TAG_TRUNCATED: &str = "oscore.tag_truncated";
    pub const REPLAY: &str = "oscore.replay";
    pub const NONCE_REUSE: &str = "oscore.nonce_reuse";
    pub const KEY_LIMIT: &str = "oscore.key_limit";
    pub const MESSAGE_TOO_LONG: &str = "oscore.message_too_long";
    pub const UNPROTECTED_ERROR: &str = "oscore.unprotected_error";
    pub const RETRANSMISSION: &str = "coap.retransmission";
    pub const UNMATCHED_ACK: &str = "coap.unmatched_ack";
}

/// What one frame must show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameExpect {
    pub frame: u64,
    /// kudoscope's `oscore.status`; `None`: no OSCORE record at all (plain CoAP).
    pub status: Option<&'static str>,
    /// The context kudoscope must name (`oscore.context.name`).
    pub context: Option<String>,
    /// The inner (decrypted) code.
    pub inner_code: Option<u8>,
    /// The OSCORE-layer finding kinds kudoscope must report, no more, no fewer (compared as
    /// sorted lists).
    pub findings: Vec<&'static str>,
    /// CoAP-layer finding kinds that must be present.
    pub coap_findings: Vec<&'static str>,
    /// Key-limit findings: the words that must appear in their messages, in order
    /// ("q is approaching", "v reached", ...).
    pub limit_words: Vec<&'static str>,
    /// `oscore.echo_recovery` (`challenge` / `response`).
    pub echo: Option<&'static str>,
    /// The contexts kudoscope must try, in order, and whether each verified (`-V`'s
    /// "Contexts tried"), when the order matters.
    pub tried: Option<Vec<(&'static str, bool)>>,
    /// tshark 4.0.17 with the keys as a Wireshark UAT: `Some(inner code)` when it decrypts the
    /// frame (only checked for captures whose every context Wireshark can use).
    pub tshark: Option<u8>,
    /// The generation label of the context that opens it (`oscore.context.generation`):
    /// `g0` for the keys-file context, `g1`... per KUDOS CTX_NEW; a label ending in `-temp`
    /// (a CTX_TEMP derived from that generation) matches any `...-tempN`.
    pub generation: Option<String>,
    /// The KUDOS x byte in the OSCORE option (`oscore.kudos.x`).
    pub kudos_x: Option<u8>,
    /// The KUDOS-layer finding kinds, no more, no fewer.
    pub kudos_findings: Vec<&'static str>,
    /// Inner options that must show in `oscore.inner.options` (number, raw value).
    pub inner_options: Vec<(u16, Vec<u8>)>,
}

impl FrameExpect {
    pub(crate) fn new(frame: u64, status: Option<&'static str>) -> Self {
        FrameExpect {
            frame,
            status,
            context: None,
            inner_code: None,
            findings: Vec::new(),
            coap_findings: Vec::new(),
            limit_words: Vec::new(),
            echo: None,
            tried: None,
            tshark: None,
            generation: None,
            kudos_x: None,
            kudos_findings: Vec::new(),
            inner_options: Vec::new(),
        }
    }

    /// One line for the listing: `kudoscope: decrypted => GET {ctx} [findings]; tshark: GET`
    /// (the tshark part only for captures tshark can decrypt).
    pub fn describe(&self, tshark_checked: bool) -> String {
        let mut s = String::from("kudoscope: ");
        match self.status {
            None => s.push_str("plain CoAP"),
            Some(st) => {
                s.push_str(st);
                if let Some(c) = self.inner_code {
                    s.push_str(&format!(" => {}", code_name(c)));
                }
                if let Some(c) = &self.context {
                    match &self.generation {
                        Some(g) if g != "g0" => s.push_str(&format!(" {{{c} {g}}}")),
                        _ => s.push_str(&format!(" {{{c}}}")),
                    }
                }
                if let Some(x) = self.kudos_x {
                    s.push_str(&format!(" x={x:02x}"));
                }
                for (n, v) in &self.inner_options {
                    s.push_str(&format!(" opt{n}={}", hex(v)));
                }
            }
        }
        if let Some(e) = self.echo {
            s.push_str(&format!(" echo={e}"));
        }
        if let Some(t) = &self.tried {
            let t: Vec<String> =
                t.iter().map(|(n, ok)| format!("{n}: {}", if *ok { "verified" } else { "failed" })).collect();
            s.push_str(&format!(" tried: {}", t.join(", ")));
        }
        let all: Vec<String> = self
            .findings
            .iter()
            .chain(&self.kudos_findings)
            .map(|k| k.to_string())
            .chain(self.coap_findings.iter().map(|k| format!("+{k}")))
            .collect();
        if !all.is_empty() {
            s.push_str(&format!(" [{}]", all.join(", ")));
        }
        if !self.limit_words.is_empty() {
            s.push_str(&format!(" ({})", self.limit_words.join("; ")));
        }
        if tshark_checked {
            match self.tshark {
                Some(c) => s.push_str(&format!("; tshark: {}", code_name(c))),
                None => s.push_str("; tshark: not decrypted"),
            }
        }
        s
    }
}

/// A protected message the script sent, for the independent decryption check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtRec {
    pub frame: u64,
    /// Index into [`OscoreInfo::contexts`].
    pub ctx: usize,
    pub p: Protected,
    /// False when the bytes sent are not what was sealed (a flipped ciphertext byte): they
    /// must not decrypt. (A message cut by the snap length was sent intact.)
    pub intact: bool,
    /// How the protecting context follows from `ctx` (KUDOS updateCtx steps, new IDs); empty
    /// for the keys-file context itself.
    pub steps: Vec<crate::kudos::Step>,
}

/// The OSCORE side of a sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OscoreInfo {
    /// The keys file, relative to the samples directory.
    pub keys_path: String,
    pub keys_toml: String,
    pub contexts: Vec<CtxDef>,
    pub expects: Vec<FrameExpect>,
    pub protected: Vec<ProtRec>,
    /// Every context is AES-CCM-16-64-128 + HKDF-SHA-256, so Wireshark can use them all.
    pub tshark: bool,
    /// The key-management procedures `kudoscope timeline` must show (KUDOS and ID update
    /// samples), in order; `None`: not checked.
    pub procedures: Option<Vec<ProcExpect>>,
}

/// One procedure of `kudoscope timeline --format json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcExpect {
    /// `kudos` or `id-update`.
    pub kind: &'static str,
    /// `completed`, `incomplete`, `aborted`, `failed`.
    pub outcome: &'static str,
    /// `client` or `server`.
    pub initiator: &'static str,
    /// `request` or `response`.
    pub initiated_by: &'static str,
    /// `fs` or `no-fs`.
    pub mode: &'static str,
    pub preserve_observations: bool,
    pub both_initiated: bool,
    /// The frames of its messages, and the x byte of each (None: not a KUDOS message).
    pub messages: Vec<(u64, Option<u8>)>,
    /// Generation labels of the contexts derived in it, in order (`-temp` matches any
    /// `-tempN`).
    pub derived: Vec<String>,
}

impl OscoreInfo {
    pub fn expect(&self, frame: u64) -> Option<&FrameExpect> {
        self.expects.iter().find(|e| e.frame == frame)
    }
}

/// Methods by name, responses as `c.dd`.
pub fn code_name(c: u8) -> String {
    match c {
        code::GET => "GET".into(),
        code::POST => "POST".into(),
        code::PUT => "PUT".into(),
        code::DELETE => "DELETE".into(),
        code::FETCH => "FETCH".into(),
        _ => code::dotted(c),
    }
}

pub const UNAUTHORIZED: u8 = 0x81;
pub const BAD_REQUEST: u8 = 0x80;

/// A scenario with OSCORE contexts and per-frame expectations.
struct Osc {
    s: Scenario,
    ctxs: Vec<SecCtx>,
    expects: Vec<FrameExpect>,
    protected: Vec<ProtRec>,
}

/// What the listing shows of an OSCORE option: `kid=01 kidctx=.. piv=00`.
fn option_fields(p: &Protected, kid_context: Option<&[u8]>) -> String {
    let mut f = Vec::new();
    if let Some(r) = &p.request {
        f.push(format!("kid={}", if r.kid.is_empty() { "''".into() } else { hex(&r.kid) }));
        if let Some(kc) = kid_context {
            f.push(format!("kidctx={}", hex(kc)));
        }
        f.push(format!("piv={}", hex(&r.piv)));
    } else if p.msg.options.iter().any(|(n, v)| *n == OPT_OSCORE && !v.is_empty()) {
        f.push(format!("piv={}", hex(&p.nonce_piv)));
    }
    f.join(" ")
}

fn inner_summary(plain: &CoapMsg) -> String {
    let path = plain.uri_path();
    if path.is_empty() { code_name(plain.code) } else { format!("{} /{path}", code_name(plain.code)) }
}

impl Osc {
    fn new(seed: u64) -> Self {
        Osc {
            s: Scenario::new(seed, NetPath::ethernet_v4()),
            ctxs: Vec::new(),
            expects: Vec::new(),
            protected: Vec::new(),
        }
    }

    fn ctx(&mut self, def: CtxDef) -> usize {
        self.ctxs.push(SecCtx::new(def));
        self.ctxs.len() - 1
    }

    /// Wireshark 4.0.17 picks the first UAT row whose Sender ID equals the request's kid and
    /// whose ID Context equals the kid context sent (empty when none); it does no trial
    /// decryption. True when that row is context `ctx`.
    fn wireshark_picks(&self, ctx: usize) -> bool {
        let d = &self.ctxs[ctx].def;
        let sent_kc: Vec<u8> =
            if d.send_kid_context { d.id_context.clone().unwrap_or_default() } else { Vec::new() };
        let first = self.ctxs.iter().position(|c| {
            c.def.client_id == d.client_id && c.def.id_context.clone().unwrap_or_default() == sent_kc
        });
        first == Some(ctx)
    }

    fn record(
        &mut self,
        from: PeerId,
        to: PeerId,
        ctx: usize,
        plain: &CoapMsg,
        p: Protected,
        what: &str,
    ) -> u64 {
        let d = &self.ctxs[ctx].def;
        let kc = if d.send_kid_context { d.id_context.clone() } else { None };
        let sep = if what.is_empty() { "" } else { ": " };
        let note =
            format!("OSCORE[{}] => {}{sep}{what}", option_fields(&p, kc.as_deref()), inner_summary(plain));
        let frame = self.s.send(from, to, &p.msg, &note);
        let mut e = FrameExpect::new(frame, Some(status::DECRYPTED));
        e.context = Some(self.ctxs[ctx].def.name.clone());
        e.inner_code = Some(plain.code);
        if self.wireshark_picks(ctx) {
            e.tshark = Some(plain.code);
        }
        self.expects.push(e);
        self.protected.push(ProtRec { frame, ctx, p, intact: true, steps: Vec::new() });
        frame
    }

    /// Protects `plain` with `ctx` (client side) and sends it.
    fn request(
        &mut self,
        from: PeerId,
        to: PeerId,
        ctx: usize,
        plain: &CoapMsg,
        what: &str,
    ) -> (u64, RequestState) {
        let p = self.ctxs[ctx].protect_request(plain);
        let r = p.request.clone().expect("request state");
        (self.record(from, to, ctx, plain, p, what), r)
    }

    /// Protects `plain` as a response to `req` (server side) and sends it.
    #[allow(clippy::too_many_arguments)]
    fn response(
        &mut self,
        from: PeerId,
        to: PeerId,
        ctx: usize,
        plain: &CoapMsg,
        req: &RequestState,
        own_piv: bool,
        what: &str,
    ) -> u64 {
        let p = self.ctxs[ctx].protect_response(plain, req, own_piv);
        self.record(from, to, ctx, plain, p, what)
    }

    /// Sends a plain CoAP message; `status` is what kudoscope must say about it.
    fn plain(
        &mut self,
        from: PeerId,
        to: PeerId,
        msg: &CoapMsg,
        what: &str,
        st: Option<&'static str>,
    ) -> u64 {
        let frame = self.s.send(from, to, msg, what);
        let mut e = FrameExpect::new(frame, st);
        if st == Some(status::UNPROTECTED_ERROR) {
            e.findings.push(kind::UNPROTECTED_ERROR);
        }
        self.expects.push(e);
        frame
    }

    fn exp(&mut self, frame: u64) -> &mut FrameExpect {
        self.expects.iter_mut().find(|e| e.frame == frame).expect("frame has an expectation")
    }

    fn finish(self, path: &str, what: &str, header: &str) -> SampleFile {
        let bytes = self.s.to_pcapng(Some(6), "eth0");
        let contexts: Vec<CtxDef> = self.ctxs.iter().map(|c| c.def.clone()).collect();
        let keys_path = format!("{path}.keys.toml");
        let keys = keys_toml(header, &contexts);
        let tshark = contexts.iter().all(|d| d.alg == AeadAlg::AesCcm16_64_128 && d.hkdf == HkdfAlg::Sha256);
        let mut expects = self.expects;
        if !tshark {
            for e in &mut expects {
                e.tshark = None;
            }
        }
        SampleFile::valid(path, crate::link::linktype::ETHERNET, what, &self.s, bytes).with_oscore(
            OscoreInfo {
                keys_path,
                keys_toml: keys,
                contexts,
                expects,
                protected: self.protected,
                tshark,
                procedures: None,
            },
        )
    }
}

/// `n` deterministic bytes from the scenario's generator (test key material).
fn key_bytes(s: &mut Scenario, n: usize) -> Vec<u8> {
    let mut v = vec![0; n];
    s.rng().fill(&mut v);
    v
}

fn hx(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

fn text(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// Every OSCORE sample, in a fixed order.
pub fn all() -> Vec<SampleFile> {
    vec![
        oscore_algorithms(),
        oscore_multi_context(),
        oscore_nonce_reuse(),
        oscore_replay(),
        oscore_failures(),
        oscore_key_limits(),
    ]
}

// ---- oscore-algorithms.pcapng ----------------------------------------------------------

fn oscore_algorithms() -> SampleFile {
    use AeadAlg::*;
    let mut o = Osc::new(0x05c0_a1a1);
    // (AEAD, HKDF, client Sender ID, server Sender ID, ID Context sent as kid context)
    // IDs use every length up to the AEAD's maximum (nonce length - 6, RFC 8613 §3.3): 7 bytes
    // for AES-CCM-16-*, 6 for GCM / ChaCha20, 1 for AES-CCM-64-*.
    let table: [(AeadAlg, HkdfAlg, &str, &str, Option<&str>); 14] = [
        (AesCcm16_64_128, HkdfAlg::Sha256, "a0", "b0", None),
        (AesCcm16_64_256, HkdfAlg::Sha256, "a1a1a1a1a1a1a1", "", None),
        (AesCcm64_64_128, HkdfAlg::Sha256, "a2", "b2", None),
        (AesCcm64_64_256, HkdfAlg::Sha256, "", "b3", None),
        (AesCcm16_128_128, HkdfAlg::Sha256, "a330", "b330", Some("1e30")),
        (AesCcm16_128_256, HkdfAlg::Sha256, "a331", "b3313131", None),
        (AesCcm64_128_128, HkdfAlg::Sha256, "a4", "b4", None),
        (AesCcm64_128_256, HkdfAlg::Sha256, "a5", "", Some("1e33")),
        (A128Gcm, HkdfAlg::Sha256, "a60101", "b601", None),
        (A192Gcm, HkdfAlg::Sha256, "a70202", "b702", None),
        (A256Gcm, HkdfAlg::Sha256, "a8a8a8a8a8a8", "b8b8b8b8b8b8", None),
        // An ID Context that is present but empty, sent as kid context (h=1, s=0).
        (ChaCha20Poly1305, HkdfAlg::Sha256, "a9", "b9", Some("")),
        (AesCcm16_64_128, HkdfAlg::Sha512, "aa", "ba", None),
        (AesCcm16_64_128, HkdfAlg::Sha384, "ab", "bb", None),
    ];
    for (i, (alg, hkdf, cid, sid, idc)) in table.iter().enumerate() {
        let c = o.s.add_peer("client", 1, None, 2);
        let sv = o.s.add_peer("server", 10 + i as u8, Some(5683), 2);
        let label = match hkdf {
            HkdfAlg::Sha256 => alg.name().to_string(),
            h => format!("{} {}", alg.name(), crate::oscore::hkdf_name(*h)),
        };
        let name = label.to_lowercase().replace([' ', '/'], "-");
        let secret = key_bytes(&mut o.s, 16 + i % 3 * 8);
        let salt = key_bytes(&mut o.s, if i % 4 == 3 { 0 } else { 8 });
        let mut d = CtxDef::new(&name, secret, salt, &hx(cid), &hx(sid));
        d.alg = *alg;
        d.hkdf = *hkdf;
        if let Some(ic) = idc {
            d.id_context = Some(hx(ic));
            d.send_kid_context = true;
        }
        d.client_endpoints = vec![format!("{}:{}", o.s.addr(c), o.s.peers[c].port)];
        d.server_endpoints = vec![format!("{}:5683", o.s.addr(sv))];
        d.comment =
            format!("pair {}: COSE {} with {}", i + 1, alg.cose_id(), crate::oscore::hkdf_name(*hkdf));
        let ctx = o.ctx(d);

        let seg = name.clone();
        let r = req(&mut o.s, c, Con, code::GET, &format!("/alg/{seg}"));
        let (_, rs) = o.request(c, sv, ctx, &r, "");
        o.s.jitter_us(400, 1500);
        let a = piggy(&r, code::CONTENT)
            .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
            .payload(text(&format!("{label} works")));
        o.response(sv, c, ctx, &a, &rs, false, "piggybacked 2.05, request nonce");
        o.s.wait_ms(100);
        let r = req(&mut o.s, c, Con, code::POST, &format!("/alg/{seg}/log"))
            .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
            .payload(text(&format!("pair {} says hello", i + 1)));
        let (_, rs) = o.request(c, sv, ctx, &r, "POST with payload");
        o.s.jitter_us(400, 1500);
        o.response(sv, c, ctx, &piggy(&r, code::CHANGED), &rs, false, "piggybacked 2.04");
        o.s.wait_ms(200);
    }
    o.finish(
        "oscore-algorithms.pcapng",
        "OSCORE with every AEAD (COSE 10, 11, 12, 13, 30, 31, 32, 33, 1, 2, 3, 24) and HKDF-SHA-256, plus AES-CCM-16-64-128 with HKDF-SHA-512 and HKDF-SHA-384: one client/server pair each (GET + 2.05, POST + 2.04)",
        "Keys of oscore-algorithms.pcapng (kudoscope-sim test keys, not secret).",
    )
}

// ---- oscore-multi-context.pcapng -------------------------------------------------------

fn oscore_multi_context() -> SampleFile {
    let mut o = Osc::new(0x3c7c_0002);
    let ca = o.s.add_peer("client-a", 1, None, 4);
    let s1 = o.s.add_peer("server-1", 2, Some(5683), 4);
    let cb = o.s.add_peer("client-b", 3, None, 4);
    let cc = o.s.add_peer("plug-c", 4, None, 2);
    let cd = o.s.add_peer("plug-d", 5, None, 2);
    let hub = o.s.add_peer("hub", 6, Some(5683), 2);
    let ce = o.s.add_peer("client-e", 7, None, 3);
    let s3 = o.s.add_peer("server-3", 8, Some(5683), 3);
    let ep = |o: &Osc, p: PeerId, port: bool| {
        if port { format!("{}:{}", o.s.addr(p), o.s.peers[p].port) } else { o.s.addr(p).to_string() }
    };

    let tenant_secret = key_bytes(&mut o.s, 16);
    let tenant_salt = key_bytes(&mut o.s, 8);
    // Same Master Secret and Salt, same Sender IDs: only the ID Context (sent as kid context)
    // tells the two tenants apart.
    let mut d = CtxDef::new("tenant-a", tenant_secret.clone(), tenant_salt.clone(), &[0x01], &[0x0a]);
    d.id_context = Some(text("tenant-a"));
    d.send_kid_context = true;
    d.client_endpoints = vec![ep(&o, ca, false)];
    d.server_endpoints = vec![ep(&o, s1, true)];
    d.comment = "client-a and client-b both have Sender ID 01; the kid context (ID Context) selects".into();
    let ta = o.ctx(d);
    let mut d = CtxDef::new("tenant-b", tenant_secret, tenant_salt, &[0x01], &[0x0a]);
    d.id_context = Some(text("tenant-b"));
    d.send_kid_context = true;
    d.client_endpoints = vec![ep(&o, cb, false)];
    d.server_endpoints = vec![ep(&o, s1, true)];
    let tb = o.ctx(d);
    // Two contexts with the same kid 0b and no ID Context: plug-x has no hints, plug-y names
    // plug-c and the hub. plug-d's traffic (plug-x) matches plug-y's server hint, so plug-y is
    // tried first and fails.
    let secret = key_bytes(&mut o.s, 16);
    let mut d = CtxDef::new("plug-x", secret, Vec::new(), &[0x0b], &[0x0c]);
    d.comment =
        "plug-x and plug-y share kid 0b and send no kid context: only trial decryption tells them apart"
            .into();
    let px = o.ctx(d);
    let secret = key_bytes(&mut o.s, 16);
    let mut d = CtxDef::new("plug-y", secret, Vec::new(), &[0x0b], &[0x0c]);
    d.client_endpoints = vec![ep(&o, cc, false)];
    d.server_endpoints = vec![ep(&o, hub, true)];
    let py = o.ctx(d);
    // client-e talks to server-1 (its Sender ID is empty: kid h'') and to server-3 (whose
    // Sender ID is empty: its notifications' nonces use ID_PIV h'').
    let secret = key_bytes(&mut o.s, 16);
    let salt = key_bytes(&mut o.s, 8);
    let mut d = CtxDef::new("e-to-s1", secret, salt, &[], &[0x01]);
    d.client_endpoints = vec![ep(&o, ce, false)];
    d.server_endpoints = vec![ep(&o, s1, true)];
    d.comment = "client-e and its two servers".into();
    let e1 = o.ctx(d);
    let secret = key_bytes(&mut o.s, 16);
    let mut d = CtxDef::new("e-to-s3", secret, Vec::new(), &[0x0e], &[]);
    d.client_endpoints = vec![ep(&o, ce, false)];
    d.server_endpoints = vec![ep(&o, s3, true)];
    let e3 = o.ctx(d);

    // tenant-a, tenant-b: same kid, different kid context.
    let r = req(&mut o.s, ca, Con, code::GET, "/tenant/status");
    let (_, rs) = o.request(ca, s1, ta, &r, "kid 01 + kid context tenant-a");
    o.s.jitter_us(500, 1500);
    let a = piggy(&r, code::CONTENT)
        .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
        .payload(text("tenant-a: 3 devices"));
    o.response(s1, ca, ta, &a, &rs, false, "");
    o.s.wait_ms(150);
    let r = req(&mut o.s, cb, Con, code::GET, "/tenant/status");
    let (_, rs) = o.request(cb, s1, tb, &r, "kid 01 + kid context tenant-b");
    o.s.jitter_us(500, 1500);
    let a = piggy(&r, code::CONTENT)
        .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
        .payload(text("tenant-b: 12 devices"));
    o.response(s1, cb, tb, &a, &rs, false, "");

    // plug-c (plug-y) then plug-d (plug-x): same kid, no kid context.
    o.s.wait_ms(150);
    let r = req(&mut o.s, cc, Con, code::PUT, "/plug/state")
        .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
        .payload(text("on"));
    let (_, rs) = o.request(cc, hub, py, &r, "kid 0b, plug-y (its endpoint hints match)");
    o.s.jitter_us(500, 1500);
    o.response(hub, cc, py, &piggy(&r, code::CHANGED), &rs, false, "");
    o.s.wait_ms(150);
    let r = req(&mut o.s, cd, Con, code::PUT, "/plug/state")
        .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
        .payload(text("off"));
    let (f, rs) = o.request(cd, hub, px, &r, "kid 0b, plug-x (plug-y tried first, fails)");
    o.exp(f).tried = Some(vec![("plug-y", false), ("plug-x", true)]);
    o.s.jitter_us(500, 1500);
    o.response(hub, cd, px, &piggy(&r, code::CHANGED), &rs, false, "");

    // client-e: kid h'' to server-1, then an Observe registration at server-3.
    o.s.wait_ms(150);
    let r = req(&mut o.s, ce, Con, code::GET, "/e/config");
    let (_, rs) = o.request(ce, s1, e1, &r, "kid h'' (empty Sender ID)");
    o.s.jitter_us(500, 1500);
    let a =
        piggy(&r, code::CONTENT).opt_uint(opt::CONTENT_FORMAT, cf::JSON).payload(text(r#"{"period":30}"#));
    o.response(s1, ce, e1, &a, &rs, false, "");
    o.s.wait_ms(150);
    let reg = req(&mut o.s, ce, Con, code::GET, "/sensors/temp").opt_uint(opt::OBSERVE, 0);
    let (_, obs) = o.request(ce, s3, e3, &reg, "Observe registration (outer FETCH, Observe 0)");
    o.s.jitter_us(500, 1500);
    let first = piggy(&reg, code::CONTENT)
        .opt_uint(opt::OBSERVE, 1)
        .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
        .payload(text("21.5 C"));
    o.response(s3, ce, e3, &first, &obs, false, "first notification (piggybacked, no Partial IV)");

    // client-a: a request with a zero-length token (matched by MID).
    o.s.wait_ms(150);
    let mid = o.s.mid(ca);
    let r = CoapMsg::new(Con, code::GET, mid, &[]).path("/tenant/ping");
    let (_, rs) = o.request(ca, s1, ta, &r, "zero-length token");
    o.s.jitter_us(500, 1500);
    let f = o.response(
        s1,
        ca,
        ta,
        &piggy(&r, code::CONTENT).payload(text("pong")),
        &rs,
        false,
        "2.05, empty token",
    );
    // Wireshark 4.0.17 matches responses to requests by token and finds no request for an
    // empty one ("Partial IV not found").
    o.exp(f).tshark = None;

    // server-3 notifies with its own Partial IVs (server Sender ID h'').
    let mut obs_n = 2;
    let mut notify = |o: &mut Osc, v: &str| {
        o.s.wait_ms(400);
        let mid = o.s.mid(s3);
        let n = CoapMsg::new(Non, code::CONTENT, mid, &reg.token)
            .opt_uint(opt::OBSERVE, obs_n)
            .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
            .payload(text(v));
        obs_n += 1;
        o.response(s3, ce, e3, &n, &obs, true, "notification with the server's Partial IV")
    };
    notify(&mut o, "21.7 C");

    // client-b: an inner Block2 transfer (outer messages carry no Block options).
    let body = crate::samples::text_body(300, "fw");
    let etag = vec![0xf0, 0x01];
    for num in 0..3u32 {
        o.s.wait_ms(100);
        let mut r = req(&mut o.s, cb, Con, code::GET, "/fw/manifest");
        if num > 0 {
            r = r.opt(opt::BLOCK2, block(num, false, 3));
        }
        let what = if num == 0 {
            "inner Block2 transfer: first request, no Block2".to_string()
        } else {
            format!("inner Block2 {num}/0/128 request")
        };
        let (_, rs) = o.request(cb, s1, tb, &r, &what);
        o.s.jitter_us(500, 1500);
        let start = num as usize * 128;
        let end = (start + 128).min(body.len());
        let more = end < body.len();
        let a = piggy(&r, code::CONTENT)
            .opt(opt::ETAG, etag.clone())
            .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
            .opt(opt::BLOCK2, block(num, more, 3))
            .opt_uint(opt::SIZE2, body.len() as u32)
            .payload(body[start..end].to_vec());
        o.response(
            s1,
            cb,
            tb,
            &a,
            &rs,
            false,
            &format!("inner Block2 {num}/{}/128, {} bytes", u8::from(more), end - start),
        );
        if num == 1 {
            notify(&mut o, "21.9 C");
        }
    }
    notify(&mut o, "22.0 C");
    // plug-d again: the association now remembers plug-x.
    o.s.wait_ms(150);
    let r = req(&mut o.s, cd, Con, code::GET, "/plug/state");
    let (_, rs) = o.request(cd, hub, px, &r, "kid 0b again");
    o.s.jitter_us(500, 1500);
    o.response(hub, cd, px, &piggy(&r, code::CONTENT).payload(text("off")), &rs, false, "");

    o.finish(
        "oscore-multi-context.pcapng",
        "OSCORE context selection: same kid with different kid contexts, same kid without kid context (trial decryption, endpoint hints), empty Sender IDs, a client with two servers, zero-length token, Observe with server Partial IVs, inner Block2",
        "Keys of oscore-multi-context.pcapng (kudoscope-sim test keys, not secret).",
    )
}

// ---- oscore-nonce-reuse.pcapng ---------------------------------------------------------

fn oscore_nonce_reuse() -> SampleFile {
    let mut o = Osc::new(0x0e0c_e003);
    let meter = o.s.add_peer("meter", 1, None, 2);
    let srv = o.s.add_peer("collector", 2, Some(5683), 2);
    let app = o.s.add_peer("app", 5, None, 4);
    let alarm = o.s.add_peer("alarm", 3, Some(5683), 4);
    let secret = key_bytes(&mut o.s, 16);
    let salt = key_bytes(&mut o.s, 8);
    let mut d = CtxDef::new("meter", secret, salt, &[0x21], &[0x5e]);
    d.comment = "the meter reboots without having stored its Sender Sequence Number".into();
    let m = o.ctx(d);
    let secret = key_bytes(&mut o.s, 16);
    let mut d = CtxDef::new("alarm", secret, Vec::new(), &[0xa1], &[0xa2]);
    d.comment = "the alarm server answers notifications without Partial IV".into();
    let al = o.ctx(d);

    let reading = |o: &mut Osc, who: PeerId, v: &str, what: &str| -> (CoapMsg, u64, RequestState) {
        let r = req(&mut o.s, who, Con, code::POST, "/readings")
            .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
            .payload(text(v));
        let (f, rs) = o.request(who, srv, m, &r, what);
        (r, f, rs)
    };
    let (r, first, rs) = reading(&mut o, meter, "t=20.1", "SSN 0");
    o.s.jitter_us(500, 1500);
    o.response(srv, meter, m, &piggy(&r, code::CHANGED), &rs, false, "");
    for v in ["t=20.3", "t=20.4"] {
        o.s.wait_ms(10_000);
        let (r, _, rs) = reading(&mut o, meter, v, "");
        o.s.jitter_us(500, 1500);
        o.response(srv, meter, m, &piggy(&r, code::CHANGED), &rs, false, "");
    }
    // Reboot: new socket (port), SSN back to 0, different plaintext under the same nonce.
    o.s.wait_ms(25_000);
    let meter2 = o.s.add_peer("meter (rebooted)", 1, None, 2);
    let r = req(&mut o.s, meter2, Con, code::POST, "/readings")
        .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
        .payload(text("t=19.7 boot=2"));
    let p = o.ctxs[m].protect_request_with_ssn(&r, 0);
    let reuse = o.record(
        meter2,
        srv,
        m,
        &r,
        p,
        &format!("after a reboot: SSN 0 again (as in frame {first}), different plaintext"),
    );
    o.exp(reuse).findings.push(kind::NONCE_REUSE);
    o.s.jitter_us(500, 1500);
    let e = piggy(&r, UNAUTHORIZED).opt_uint(opt::MAX_AGE, 0).payload(text("Replay detected"));
    o.plain(
        srv,
        meter2,
        &e,
        "unprotected 4.01 \"Replay detected\", Max-Age 0 (RFC 8613 §7.4, §8.2)",
        Some(status::UNPROTECTED_ERROR),
    );
    // The meter jumps its SSN (what RFC 8613 B.1.1 would have done from the start).
    o.s.wait_ms(2_000);
    let r = req(&mut o.s, meter2, Con, code::POST, "/readings")
        .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
        .payload(text("t=19.7 boot=2"));
    let p = o.ctxs[m].protect_request_with_ssn(&r, 0x40);
    let rs = p.request.clone().unwrap();
    o.record(meter2, srv, m, &r, p, "SSN jumped to 64: accepted");
    o.s.jitter_us(500, 1500);
    o.response(srv, meter2, m, &piggy(&r, code::CHANGED), &rs, false, "");

    // The alarm server: two responses without Partial IV for one registration.
    o.s.wait_ms(1_000);
    let reg = req(&mut o.s, app, Con, code::GET, "/alarm").opt_uint(opt::OBSERVE, 0);
    let (_, obs) = o.request(app, alarm, al, &reg, "Observe registration");
    o.s.jitter_us(500, 1500);
    let a = piggy(&reg, code::CONTENT)
        .opt_uint(opt::OBSERVE, 1)
        .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
        .payload(text("alarm=off"));
    o.response(alarm, app, al, &a, &obs, false, "first notification without Partial IV (allowed)");
    o.s.wait_ms(3_000);
    let mid = o.s.mid(alarm);
    let n = CoapMsg::new(Non, code::CONTENT, mid, &reg.token)
        .opt_uint(opt::OBSERVE, 2)
        .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
        .payload(text("alarm=INTRUSION"));
    let f = o.response(
        alarm,
        app,
        al,
        &n,
        &obs,
        false,
        "second notification without Partial IV: the request nonce again",
    );
    o.exp(f).findings.push(kind::NONCE_REUSE);
    o.finish(
        "oscore-nonce-reuse.pcapng",
        "AEAD nonce reuse: a rebooted client repeats SSN 0 with a different plaintext; a server sends two notifications without Partial IV for one registration",
        "Keys of oscore-nonce-reuse.pcapng (kudoscope-sim test keys, not secret).",
    )
}

// ---- oscore-replay.pcapng --------------------------------------------------------------

fn oscore_replay() -> SampleFile {
    let mut o = Osc::new(0x4e91_a004);
    let phone = o.s.add_peer("phone", 1, None, 4);
    let lock = o.s.add_peer("lock", 2, Some(5683), 4);
    let mallory = o.s.add_peer("attacker", 66, None, 4);
    let fake_lock = o.s.add_spoofer("attacker as lock", lock, 66);
    let secret = key_bytes(&mut o.s, 16);
    let salt = key_bytes(&mut o.s, 8);
    let mut d = CtxDef::new("lock", secret, salt, &[0x70], &[0x4c]);
    d.client_endpoints = vec![o.s.addr(phone).to_string()];
    d.server_endpoints = vec![format!("{}:5683", o.s.addr(lock))];
    d.comment = "192.0.2.66 is an on-path attacker that replays what it saw".into();
    let k = o.ctx(d);

    let unlock = req(&mut o.s, phone, Con, code::POST, "/lock/unlock").payload(text("user=7"));
    let (unlock_frame, rs) = o.request(phone, lock, k, &unlock, "unlock");
    let unlock_bytes = o.s.log.last().unwrap().msg.clone().unwrap();
    o.s.jitter_us(500, 1500);
    o.response(lock, phone, k, &piggy(&unlock, code::CHANGED), &rs, false, "");
    o.s.wait_ms(5_000);
    let r = req(&mut o.s, phone, Con, code::POST, "/lock/lock");
    let (_, rs) = o.request(phone, lock, k, &r, "lock");
    o.s.jitter_us(500, 1500);
    o.response(lock, phone, k, &piggy(&r, code::CHANGED), &rs, false, "");

    // The attacker replays the unlock request: new MID and token, same OSCORE option and
    // ciphertext.
    o.s.wait_ms(20_000);
    let mut replay = unlock_bytes.clone();
    replay.mid = o.s.mid(mallory);
    replay.token = o.s.token(mallory);
    let f = o.s.send(
        mallory,
        lock,
        &replay,
        &format!("replay of frame {unlock_frame}: new MID and token, same OSCORE option and ciphertext"),
    );
    let mut e = FrameExpect::new(f, Some(status::DECRYPTED));
    e.context = Some("lock".into());
    e.inner_code = Some(code::POST);
    e.findings.push(kind::REPLAY);
    e.tshark = Some(code::POST);
    o.expects.push(e);
    o.s.jitter_us(500, 1500);
    let err = CoapMsg::new(Ack, UNAUTHORIZED, replay.mid, &replay.token)
        .opt_uint(opt::MAX_AGE, 0)
        .payload(text("Replay detected"));
    o.plain(
        lock,
        mallory,
        &err,
        "unprotected 4.01 \"Replay detected\" (RFC 8613 §7.4)",
        Some(status::UNPROTECTED_ERROR),
    );

    // A genuine CoAP retransmission: same MID, same bytes; not a replay.
    o.s.wait_ms(3_000);
    let r = req(&mut o.s, phone, Con, code::GET, "/lock/state");
    let (orig, rs) = o.request(phone, lock, k, &r, "lost on the way to the lock");
    let wire = o.s.log.last().unwrap().msg.clone().unwrap();
    o.s.wait_ms(2_400);
    let f = o.s.resend(
        phone,
        lock,
        &wire,
        &format!("CoAP retransmission of frame {orig} (same MID, same bytes)"),
    );
    let mut e = FrameExpect::new(f, Some(status::DECRYPTED));
    e.context = Some("lock".into());
    e.inner_code = Some(code::GET);
    e.coap_findings.push(kind::RETRANSMISSION);
    e.tshark = Some(code::GET);
    o.expects.push(e);
    o.s.jitter_us(500, 1500);
    o.response(lock, phone, k, &piggy(&r, code::CONTENT).payload(text("locked")), &rs, false, "");

    // Observe, then a replayed notification (spoofed from the lock's address).
    o.s.wait_ms(1_000);
    let reg = req(&mut o.s, phone, Con, code::GET, "/lock/state").opt_uint(opt::OBSERVE, 0);
    let (_, obs) = o.request(phone, lock, k, &reg, "Observe registration");
    o.s.jitter_us(500, 1500);
    let a = piggy(&reg, code::CONTENT).opt_uint(opt::OBSERVE, 1).payload(text("locked"));
    o.response(lock, phone, k, &a, &obs, false, "first notification, no Partial IV");
    o.s.wait_ms(30_000);
    let mid = o.s.mid(lock);
    let n =
        CoapMsg::new(Non, code::CONTENT, mid, &reg.token).opt_uint(opt::OBSERVE, 2).payload(text("unlocked"));
    let unlocked = o.response(lock, phone, k, &n, &obs, true, "notification, server PIV 0");
    let unlocked_msg = o.s.log.last().unwrap().msg.clone().unwrap();
    o.s.wait_ms(30_000);
    let mid = o.s.mid(lock);
    let n =
        CoapMsg::new(Non, code::CONTENT, mid, &reg.token).opt_uint(opt::OBSERVE, 3).payload(text("locked"));
    o.response(lock, phone, k, &n, &obs, true, "notification, server PIV 1");
    o.s.wait_ms(10_000);
    let mut replay = unlocked_msg;
    replay.mid = o.s.mid(fake_lock);
    let f = o.s.send(fake_lock, phone, &replay, &format!("replay of notification {unlocked} (\"unlocked\") from the lock's address: new MID, same token, option and ciphertext"));
    let mut e = FrameExpect::new(f, Some(status::DECRYPTED));
    e.context = Some("lock".into());
    e.inner_code = Some(code::CONTENT);
    e.findings.push(kind::REPLAY);
    e.tshark = Some(code::CONTENT);
    o.expects.push(e);

    o.finish(
        "oscore-replay.pcapng",
        "OSCORE replays: an attacker replays a protected request (new MID and token) and a notification (spoofed source, new MID); a genuine CoAP retransmission that is not a replay",
        "Keys of oscore-replay.pcapng (kudoscope-sim test keys, not secret).",
    )
}

// ---- oscore-failures.pcapng ------------------------------------------------------------

fn oscore_failures() -> SampleFile {
    let mut o = Osc::new(0xfa11_0005);
    o.s.snaplen = 128;
    let c = o.s.add_peer("door-client", 1, None, 4);
    let sv = o.s.add_peer("door", 2, Some(5683), 4);
    let stranger = o.s.add_peer("stranger", 9, None, 4);
    let buggy = o.s.add_peer("buggy", 5, None, 2);
    let secret = key_bytes(&mut o.s, 16);
    let salt = key_bytes(&mut o.s, 8);
    let mut d = CtxDef::new("door", secret, salt, &[0x0d], &[0x5e]);
    d.comment = "the only context: kid 99 (192.0.2.9) has none".into();
    let k = o.ctx(d);

    // 1: the capture starts after the request: a response whose request is not in the file.
    let before = req(&mut o.s, c, Con, code::GET, "/door/state");
    let p = o.ctxs[k].protect_request(&before);
    let rs = p.request.unwrap();
    let a = piggy(&before, code::CONTENT).payload(text("closed"));
    let f = o.response(sv, c, k, &a, &rs, false, "response to a request sent before the capture started");
    *o.exp(f) = FrameExpect {
        findings: vec![kind::NO_REQUEST],
        coap_findings: vec![kind::UNMATCHED_ACK],
        ..FrameExpect::new(f, Some(status::NO_REQUEST))
    };

    // 2-3: a request cut by the snap length (128 bytes) inside its ciphertext.
    o.s.wait_ms(500);
    let r = req(&mut o.s, c, Con, code::POST, "/door/log")
        .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
        .payload(crate::samples::text_body(120, "door"));
    let (f, rs) = o.request(c, sv, k, &r, "cut by the 128-byte snap length inside the ciphertext");
    let e = o.exp(f);
    e.status = Some(status::TAG_TRUNCATED);
    e.findings = vec![kind::TAG_TRUNCATED];
    e.tshark = None;
    o.s.jitter_us(500, 1500);
    o.response(
        sv,
        c,
        k,
        &piggy(&r, code::CHANGED),
        &rs,
        false,
        "2.04 (its request was decrypted, unverified)",
    );

    // 4-5: a kid nobody has a context for; the server says so, unprotected.
    o.s.wait_ms(500);
    let r = req(&mut o.s, stranger, Con, code::POST, "/door/open");
    let mut stranger_ctx = SecCtx::new(CtxDef::new("unknown", vec![0x55; 16], Vec::new(), &[0x99], &[0x5e]));
    let p = stranger_ctx.protect_request(&r);
    let f = o.s.send(stranger, sv, &p.msg, "OSCORE[kid=99 piv=00]: no context has Sender ID 99");
    o.expects.push(FrameExpect {
        findings: vec![kind::NO_CONTEXT],
        ..FrameExpect::new(f, Some(status::NO_CONTEXT))
    });
    o.s.jitter_us(500, 1500);
    let e = piggy(&r, UNAUTHORIZED).opt_uint(opt::MAX_AGE, 0).payload(text("Security context not found"));
    o.plain(
        sv,
        stranger,
        &e,
        "unprotected 4.01 \"Security context not found\" (RFC 8613 §8.2)",
        Some(status::UNPROTECTED_ERROR),
    );

    // 6-7: one ciphertext byte flipped on the way.
    o.s.wait_ms(500);
    let r = req(&mut o.s, c, Con, code::PUT, "/door/mode")
        .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
        .payload(text("auto"));
    let mut p = o.ctxs[k].protect_request(&r);
    let i = p.msg.payload.len() / 2;
    p.msg.payload[i] ^= 0x20;
    let piv = hex(&p.request.as_ref().unwrap().piv);
    let f = o.s.send(
        c,
        sv,
        &p.msg,
        &format!("OSCORE[kid=0d piv={piv}]: ciphertext byte {i} flipped: the tag does not verify"),
    );
    o.expects.push(FrameExpect {
        findings: vec![kind::TAG_MISMATCH],
        ..FrameExpect::new(f, Some(status::TAG_MISMATCH))
    });
    o.protected.push(ProtRec { frame: f, ctx: k, p, intact: false, steps: Vec::new() });
    o.s.jitter_us(500, 1500);
    let e = piggy(&r, BAD_REQUEST).opt_uint(opt::MAX_AGE, 0).payload(text("Decryption failed"));
    o.plain(
        sv,
        c,
        &e,
        "unprotected 4.00 \"Decryption failed\" (RFC 8613 §8.2)",
        Some(status::UNPROTECTED_ERROR),
    );

    // 8-12: malformed OSCORE options from a buggy client (random bytes as ciphertext).
    let junk = |o: &mut Osc| key_bytes(&mut o.s, 14);
    let cases: [(&str, Vec<u8>, bool); 4] = [
        ("reserved flag bit 0x40 set (flags 49)", hx("49070d"), true),
        ("Partial IV length n = 6 (reserved)", hx("0e0102030405060d"), true),
        ("kid context length 32 runs past the option's end", hx("1907200d0d"), true),
        ("valid option but no payload", hx("09070d"), false),
    ];
    for (idx, (what, value, with_payload)) in cases.into_iter().enumerate() {
        o.s.wait_ms(300);
        let mid = o.s.mid(buggy);
        let token = o.s.token(buggy);
        let mut m = CoapMsg::new(Con, code::POST, mid, &token).opt(OPT_OSCORE, value);
        if with_payload {
            m = m.payload(junk(&mut o));
        }
        let f = o.s.send(buggy, sv, &m, &format!("malformed OSCORE option: {what}"));
        o.expects.push(FrameExpect {
            findings: vec![kind::MALFORMED_OPTION],
            ..FrameExpect::new(f, Some(status::MALFORMED_OPTION))
        });
        if idx == 0 {
            o.s.jitter_us(500, 1500);
            let e =
                piggy(&m, code::BAD_OPTION).opt_uint(opt::MAX_AGE, 0).payload(text("Failed to decode COSE"));
            o.plain(
                sv,
                buggy,
                &e,
                "unprotected 4.02 \"Failed to decode COSE\" (RFC 8613 §8.2)",
                Some(status::UNPROTECTED_ERROR),
            );
        }
    }

    // 13-14: a client that also leaks Uri-Path outside (class E in the outer message).
    o.s.wait_ms(500);
    let r = req(&mut o.s, c, Con, code::GET, "/door/battery");
    let mut p = o.ctxs[k].protect_request(&r);
    p.msg.options.push((opt::URI_PATH, text("door")));
    p.msg.options.push((opt::URI_PATH, text("battery")));
    let rs = p.request.clone().unwrap();
    let f =
        o.record(c, sv, k, &r, p, "Uri-Path door/battery also sent outside (class E in the outer message)");
    o.exp(f).findings.push(kind::CLASS_E_OUTER);
    o.exp(f).findings.push(kind::CLASS_E_OUTER);
    o.s.jitter_us(500, 1500);
    o.response(sv, c, k, &piggy(&r, code::CONTENT).payload(text("87 %")), &rs, false, "");

    // 15-18: RFC 8613 B.1.2: the rebooted server challenges with Echo, the client repeats it.
    o.s.wait_ms(8_000);
    let r = req(&mut o.s, c, Con, code::GET, "/door/state");
    let (_, rs) = o.request(c, sv, k, &r, "first request after the server rebooted (no replay window)");
    o.s.jitter_us(500, 1500);
    let echo = key_bytes(&mut o.s, 8);
    let ch = piggy(&r, UNAUTHORIZED).opt(OPT_ECHO, echo.clone());
    let f = o.response(
        sv,
        c,
        k,
        &ch,
        &rs,
        true,
        "protected 4.01 with Echo and the server's own Partial IV (B.1.2)",
    );
    o.exp(f).echo = Some("challenge");
    o.s.wait_ms(40);
    let r = req(&mut o.s, c, Con, code::GET, "/door/state").opt(OPT_ECHO, echo);
    let (f, rs) = o.request(c, sv, k, &r, "the request again, with the Echo value");
    o.exp(f).echo = Some("response");
    o.s.jitter_us(500, 1500);
    o.response(
        sv,
        c,
        k,
        &piggy(&r, code::CONTENT).payload(text("open")),
        &rs,
        false,
        "2.05: the replay window is initialised",
    );

    let cut: Vec<usize> = (0..o.s.frames.len())
        .filter(|&i| o.s.frames[i].data.len() as u32 != o.s.frames[i].orig_len)
        .collect();
    assert_eq!(cut, [1], "only frame 2 is cut by the snap length");
    o.finish(
        "oscore-failures.pcapng",
        "OSCORE failures (snap length 128): response without its request, ciphertext cut by the snap length, unknown kid, corrupted ciphertext, malformed OSCORE options, class E option outside, unprotected error responses, RFC 8613 B.1.2 Echo exchange",
        "Keys of oscore-failures.pcapng (kudoscope-sim test keys, not secret).",
    )
}

// ---- oscore-key-limits.pcapng ----------------------------------------------------------

fn oscore_key_limits() -> SampleFile {
    let mut o = Osc::new(0x11a1_7006);
    let c = o.s.add_peer("meter", 1, None, 2);
    let sv = o.s.add_peer("head-end", 2, Some(5683), 2);
    let forger = o.s.add_peer("forger", 66, None, 2);
    let secret = key_bytes(&mut o.s, 16);
    let salt = key_bytes(&mut o.s, 8);
    let mut d = CtxDef::new("meter", secret, salt, &[0x4d], &[0x48]);
    d.limits = Some(Limits { q: Some(8), v: Some(3), l: Some(4) });
    d.comment =
        "tiny limits: q = 8 encryptions and v = 3 failed decryptions per key, l = 4 blocks (64 bytes)".into();
    let k = o.ctx(d);

    // kudoscope warns at 75 % of a limit (q: 6 of 8), then when it is reached and exceeded.
    let words = |n: u64| -> Vec<&'static str> {
        match n {
            6 => vec!["q is approaching"],
            8 => vec!["q reached"],
            9 => vec!["q exceeded"],
            _ => vec![],
        }
    };
    for n in 1..=10u64 {
        let long = n == 10;
        let r = if long {
            req(&mut o.s, c, Con, code::POST, "/m/profile")
                .opt_uint(opt::CONTENT_FORMAT, cf::OCTET_STREAM)
                .payload(key_bytes(&mut o.s, 96))
        } else {
            req(&mut o.s, c, Con, code::POST, "/m/reading")
                .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
                .payload(text(&format!("kWh={}", 1200 + n * 3)))
        };
        let what = if long { "96-byte load profile: ciphertext > l = 64 bytes" } else { "reading" };
        let (f, rs) = o.request(c, sv, k, &r, &format!("request {n}: {what}"));
        let e = o.exp(f);
        e.limit_words = words(n);
        if !e.limit_words.is_empty() {
            e.findings.push(kind::KEY_LIMIT);
        }
        if long {
            e.findings.push(kind::MESSAGE_TOO_LONG);
        }
        o.s.jitter_us(500, 1500);
        let f = o.response(sv, c, k, &piggy(&r, code::CHANGED), &rs, false, &format!("response {n}"));
        let e = o.exp(f);
        e.limit_words = words(n);
        if !e.limit_words.is_empty() {
            e.findings.push(kind::KEY_LIMIT);
        }
        o.s.wait_ms(15_000);
    }
    // Forgeries with the meter's kid and fresh Partial IVs: random ciphertext.
    for n in 1..=4u64 {
        let mid = o.s.mid(forger);
        let token = o.s.token(forger);
        let piv = 0x40 + n as u8;
        let m = CoapMsg::new(Con, code::POST, mid, &token)
            .opt(OPT_OSCORE, vec![0x09, piv, 0x4d])
            .payload(key_bytes(&mut o.s, 20));
        let f = o.s.send(forger, sv, &m, &format!("forgery {n}: kid 4d, PIV {piv:02x}, random ciphertext"));
        let mut e = FrameExpect::new(f, Some(status::TAG_MISMATCH));
        e.findings.push(kind::TAG_MISMATCH);
        match n {
            3 => e.limit_words = vec!["v reached"],
            4 => e.limit_words = vec!["v exceeded"],
            _ => {}
        }
        if !e.limit_words.is_empty() {
            e.findings.push(kind::KEY_LIMIT);
        }
        o.expects.push(e);
        o.s.jitter_us(500, 1500);
        let e = piggy(&m, BAD_REQUEST).opt_uint(opt::MAX_AGE, 0).payload(text("Decryption failed"));
        o.plain(sv, forger, &e, "unprotected 4.00 \"Decryption failed\"", Some(status::UNPROTECTED_ERROR));
        o.s.wait_ms(700);
    }
    o.finish(
        "oscore-key-limits.pcapng",
        "OSCORE key-usage limits from the keys file (q = 8, v = 3, l = 4 blocks): 10 requests cross q for both keys, 4 forgeries cross v, one message is longer than l",
        "Keys of oscore-key-limits.pcapng (kudoscope-sim test keys, not secret).",
    )
}
