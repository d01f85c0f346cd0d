//! The KUDOS sample captures (samples/kudos/, issue 4 item 7): one per message flow of
//! PROTOCOLS.md §3.6 and §3.7, conformance violations, and 100 executions back to back.
//!
//! Two [`Peer`]s (client and server) run KUDOS from their own state (simulator/src/kudos.rs);
//! every message the scripts send is received and verified by the other peer unless the
//! script loses it. For every frame the expectations say what kudoscope must report (status,
//! context and generation, inner code, x byte, KUDOS findings) and for every capture which
//! executions `kudoscope timeline` must show.

use crate::coap::{CoapMsg, MsgType, cf, code, opt};
use crate::kudos::{KUDOS_PATH, Kind, Out, Peer, PeerCtx, Rx, Send, Which, xbits};
use crate::oscore::{CtxDef, Role, hex, keys_toml};
use crate::oscore_samples::{FrameExpect, OscoreInfo, ProcExpect, ProtRec, kind, status};
use crate::samples::{SampleFile, piggy, req};
use crate::scenario::{NetPath, PeerId, Scenario};
use analyzer_core::oscore::kudos::{LabelEncoding, input};

use MsgType::{Con, Non};

/// KUDOS-layer finding kinds (analyzer-core `FindingKind::as_str`).
pub mod kkind {
    pub const RESERVED_BIT: &str = "kudos.reserved_bit";
    pub const TAG_FAILURE: &str = "kudos.tag_failure";
    pub const DOWNGRADE: &str = "kudos.downgrade";
    pub const OLD_CONTEXT: &str = "kudos.old_context";
    pub const NONCE_REUSE: &str = "kudos.nonce_reuse";
    pub const UNEXPECTED_CONVERGENT: &str = "kudos.unexpected_convergent";
    pub const NON_KUDOS_WHILE_BUSY: &str = "kudos.non_kudos_while_busy";
    pub const RETENTION: &str = "kudos.retention";
    pub const LEGACY_LABEL: &str = "kudos.legacy_label";
}

/// The client and the server of every script.
pub(crate) const C: usize = 0;
pub(crate) const S: usize = 1;

/// What happens to a message after the sender protected it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Captured and received.
    Deliver,
    /// Captured, then lost: the other peer never gets it.
    LostAfterCapture,
    /// Lost before the capture point: no frame, never received.
    LostBeforeCapture,
}

/// An execution being recorded.
#[derive(Debug)]
struct OpenProc {
    p: ProcExpect,
    /// The CTX_NEWs of its convergent messages: later non-KUDOS messages protected with them
    /// (possibly with new IDs) belong to the execution until it is closed.
    news: Vec<PeerCtx>,
    derived: Vec<PeerCtx>,
}

/// A two-peer script: network, peers, keys and expectations.
pub(crate) struct Kx {
    pub s: Scenario,
    pub defs: Vec<CtxDef>,
    pub peers: Vec<Peer>,
    /// The network endpoint each peer uses now (changes when a peer migrates).
    pub net: Vec<PeerId>,
    pub expects: Vec<FrameExpect>,
    pub protected: Vec<ProtRec>,
    pub procs: Vec<ProcExpect>,
    open: Option<OpenProc>,
}

/// `n` deterministic bytes (test key material).
pub(crate) fn key_bytes(s: &mut Scenario, n: usize) -> Vec<u8> {
    let mut v = vec![0; n];
    s.rng().fill(&mut v);
    v
}

fn text(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn code_label(c: u8) -> String {
    crate::oscore_samples::code_name(c)
}

impl Kx {
    /// Client 192.0.2.1 (ephemeral port) and server 192.0.2.2:5683 sharing a fresh keys-file
    /// context `name` (client Sender ID `cid`, server `sid`).
    pub(crate) fn pair(seed: u64, name: &str, cid: &[u8], sid: &[u8], comment: &str) -> Kx {
        let mut s = Scenario::new(seed, NetPath::ethernet_v4());
        let c = s.add_peer("client", 1, None, 4);
        let sv = s.add_peer("server", 2, Some(5683), 4);
        let secret = key_bytes(&mut s, 16);
        let salt = key_bytes(&mut s, 8);
        let mut d = CtxDef::new(name, secret, salt, cid, sid);
        d.comment = comment.to_string();
        let peers = vec![
            Peer::new("client", &d, 0, Role::Client, seed ^ 0x00c1_1e47),
            Peer::new("server", &d, 0, Role::Server, seed ^ 0x0005_e4e4),
        ];
        Kx {
            s,
            defs: vec![d],
            peers,
            net: vec![c, sv],
            expects: Vec::new(),
            protected: Vec::new(),
            procs: Vec::new(),
            open: None,
        }
    }

    /// Adds a KUDOS bootstrap context (CTX_BOOTSTRAP, keys file `role = "kudos-bootstrap"`)
    /// for the initial context and gives it to both peers.
    pub(crate) fn bootstrap(&mut self) {
        let base = &self.defs[0];
        let secret = key_bytes(&mut self.s, 16);
        let salt = key_bytes(&mut self.s, 8);
        let mut d =
            CtxDef::new(&format!("{}-bootstrap", base.name), secret, salt, &base.client_id, &base.server_id);
        d.bootstrap_for = Some(base.name.clone());
        d.comment = "CTX_BOOTSTRAP for no-FS KUDOS (p = 1), never overwritten".into();
        self.defs.push(d.clone());
        let idx = self.defs.len() - 1;
        for p in &mut self.peers {
            *p = p.clone().with_bootstrap(&d, idx);
        }
    }

    /// The association a context belongs to: the keys-file initial context's name.
    fn assoc(&self, def: usize) -> String {
        let d = &self.defs[def];
        d.bootstrap_for.clone().unwrap_or_else(|| d.name.clone())
    }

    /// Protects and sends a request of `from`; the other peer receives it.
    pub(crate) fn request(&mut self, from: usize, plain: &CoapMsg, how: Send, what: &str) -> u64 {
        let out = self.peers[from].request(plain, how);
        self.transmit(from, plain, out, what, Fate::Deliver).0.expect("captured")
    }

    /// Protects and sends a response of `from`; the other peer receives it.
    pub(crate) fn response(
        &mut self,
        from: usize,
        plain: &CoapMsg,
        how: Send,
        own_piv: bool,
        what: &str,
    ) -> u64 {
        let out = self.peers[from].response(plain, how, own_piv);
        self.transmit(from, plain, out, what, Fate::Deliver).0.expect("captured")
    }

    /// Sends an already protected message with `fate`; returns its frame (when captured) and
    /// what the receiver made of it (when received).
    pub(crate) fn transmit(
        &mut self,
        from: usize,
        plain: &CoapMsg,
        out: Out,
        what: &str,
        fate: Fate,
    ) -> (Option<u64>, Option<Rx>) {
        let frame = (fate != Fate::LostBeforeCapture).then(|| self.capture(from, plain, &out, what));
        let rx = (fate == Fate::Deliver).then(|| self.deliver(1 - from, &out));
        (frame, rx)
    }

    /// The peer `to` receives `out` (it must verify it).
    pub(crate) fn deliver(&mut self, to: usize, out: &Out) -> Rx {
        let name = self.peers[to].name;
        self.peers[to]
            .receive(&out.p.msg)
            .unwrap_or_else(|e| panic!("{name} cannot process {:?}: {e}", out.p.msg))
    }

    /// Puts `out` on the wire (one frame) and records what kudoscope must make of it.
    pub(crate) fn capture(&mut self, from: usize, plain: &CoapMsg, out: &Out, what: &str) -> u64 {
        let to = 1 - from;
        let mut fields = Vec::new();
        if let Some(r) = &out.p.request {
            fields.push(format!("kid={}", if r.kid.is_empty() { "''".into() } else { hex(&r.kid) }));
            fields.push(format!("piv={}", hex(&r.piv)));
        } else if !out.p.msg.options.iter().any(|(n, v)| *n == crate::oscore::OPT_OSCORE && v.is_empty()) {
            fields.push(format!("piv={}", hex(&out.p.nonce_piv)));
        }
        if let Some((x, n)) = &out.kudos {
            fields.push(format!("x={x:02x} N={}", hex(n)));
        }
        let path = plain.uri_path();
        let summary = if path.is_empty() {
            code_label(plain.code)
        } else {
            format!("{} /{path}", code_label(plain.code))
        };
        let sep = if what.is_empty() { "" } else { ": " };
        let note = format!("OSCORE[{}] {} => {summary}{sep}{what}", fields.join(" "), out.ctx.label);
        let frame = self.s.send(self.net[from], self.net[to], &out.p.msg, &note);
        let mut e = FrameExpect::new(frame, Some(status::DECRYPTED));
        e.context = Some(self.assoc(out.ctx.def));
        // Contexts with new IDs (ID update): how kudoscope labels them is not settled yet.
        let new_ids = out.ctx.steps.iter().any(|s| matches!(s, crate::kudos::Step::Ids { .. }));
        e.generation = (!new_ids).then(|| out.ctx.label.clone());
        e.inner_code = Some(plain.code);
        e.kudos_x = out.kudos.as_ref().map(|(x, _)| *x);
        // Wireshark 4.0.17 opens ordinary messages under the keys-file context only (no KUDOS
        // option parsing, no derived contexts, no bootstrap contexts).
        if out.kudos.is_none() && out.ctx.steps.is_empty() && self.defs[out.ctx.def].bootstrap_for.is_none() {
            e.tshark = Some(plain.code);
        }
        e.inner_options = plain
            .options
            .iter()
            .filter(|(n, _)| {
                matches!(*n, crate::kudos::OPT_RECIPIENT_ID | crate::kudos::OPT_RECIPIENT_ID_ACK)
            })
            .cloned()
            .collect();
        self.expects.push(e);
        self.protected.push(ProtRec {
            frame,
            ctx: out.ctx.def,
            p: out.p.clone(),
            intact: true,
            steps: out.ctx.steps.clone(),
        });
        if let Some(op) = &mut self.open {
            let kudos = out.kudos.is_some();
            let under_new =
                op.news.iter().any(|n| n.def == out.ctx.def && out.ctx.steps.starts_with(&n.steps));
            if kudos || under_new {
                op.p.messages.push((frame, out.kudos.as_ref().map(|(x, _)| *x)));
            }
            if kudos && !op.derived.iter().any(|c| c.same(&out.ctx)) {
                op.derived.push(out.ctx.clone());
                op.p.derived.push(out.ctx.label.clone());
            }
            if kudos && out.ctx.kind == Kind::New && !op.news.iter().any(|c| c.same(&out.ctx)) {
                op.news.push(out.ctx.clone());
            }
        }
        frame
    }

    /// Sends a plain CoAP message (an unprotected OSCORE error); `st` is kudoscope's status.
    pub(crate) fn plain(&mut self, from: usize, msg: &CoapMsg, what: &str, st: Option<&'static str>) -> u64 {
        let frame = self.s.send(self.net[from], self.net[1 - from], msg, what);
        let mut e = FrameExpect::new(frame, st);
        if st == Some(status::UNPROTECTED_ERROR) {
            e.findings.push(kind::UNPROTECTED_ERROR);
        }
        self.expects.push(e);
        frame
    }

    pub(crate) fn exp(&mut self, frame: u64) -> &mut FrameExpect {
        self.expects.iter_mut().find(|e| e.frame == frame).expect("frame has an expectation")
    }

    /// Starts recording an execution.
    pub(crate) fn begin(&mut self, initiator: usize, by_request: bool, mode: &'static str, preserve: bool) {
        assert!(self.open.is_none(), "an execution is already open");
        self.open = Some(OpenProc {
            p: ProcExpect {
                kind: "kudos",
                outcome: "incomplete",
                initiator: if initiator == C { "client" } else { "server" },
                initiated_by: if by_request { "request" } else { "response" },
                mode,
                preserve_observations: preserve,
                both_initiated: false,
                messages: Vec::new(),
                derived: Vec::new(),
            },
            news: Vec::new(),
            derived: Vec::new(),
        });
    }

    /// Records an ID update procedure (its messages are given by the script).
    pub(crate) fn id_update_proc(&mut self, outcome: &'static str, initiator: usize, messages: Vec<u64>) {
        self.procs.push(ProcExpect {
            kind: "id-update",
            outcome,
            initiator: if initiator == C { "client" } else { "server" },
            initiated_by: "request",
            mode: "fs",
            preserve_observations: false,
            both_initiated: false,
            messages: messages.into_iter().map(|f| (f, None)).collect(),
            derived: Vec::new(),
        });
    }

    /// The peer moves to another address (192.0.2.`n`, new ephemeral port); `keep_counters`:
    /// its MID and token counters continue (careless), else they restart at new random values.
    pub(crate) fn migrate(&mut self, peer: usize, n: u8, keep_counters: bool) {
        let old = self.net[peer];
        let name = self.s.peers[old].name;
        let new = self.s.add_peer(name, n, None, self.s.peers[old].token_len);
        if keep_counters {
            self.s.copy_counters(old, new);
        }
        self.net[peer] = new;
    }

    pub(crate) fn both_initiated(&mut self) {
        self.open.as_mut().expect("open execution").p.both_initiated = true;
    }

    /// Ends the execution being recorded with `outcome`.
    pub(crate) fn end(&mut self, outcome: &'static str) {
        let mut op = self.open.take().expect("open execution");
        op.p.outcome = outcome;
        self.procs.push(op.p);
    }

    /// A client request and the server's piggybacked response, each protected as its state
    /// says.
    pub(crate) fn exchange(&mut self, r: &CoapMsg, resp: &CoapMsg, what: &str) -> (u64, u64) {
        let f1 = self.request(C, r, Send::Auto, what);
        self.s.jitter_us(500, 1500);
        let f2 = self.response(S, resp, Send::Auto, false, "");
        (f1, f2)
    }

    /// GET `path` answered by 2.05 text/plain `body`.
    pub(crate) fn get(&mut self, path: &str, body: &str) -> (u64, u64) {
        let r = req(&mut self.s, self.net[C], Con, code::GET, path);
        let a = piggy(&r, code::CONTENT).opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN).payload(text(body));
        self.exchange(&r, &a, "")
    }

    /// GET `path` protected with CTX_NEW: the request gives the server key confirmation and
    /// completes the execution being recorded; then the server's 2.05 `body`.
    pub(crate) fn confirm_get(&mut self, path: &str, body: &str) -> (u64, u64) {
        let r = req(&mut self.s, self.net[C], Con, code::GET, path);
        let f1 = self.request(C, &r, Send::Auto, "");
        self.end("completed");
        self.s.jitter_us(500, 1500);
        let a = piggy(&r, code::CONTENT).opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN).payload(text(body));
        let f2 = self.response(S, &a, Send::Auto, false, "");
        (f1, f2)
    }

    /// POST `path` with a text body answered by 2.04.
    pub(crate) fn post(&mut self, path: &str, body: &str) -> (u64, u64) {
        let r = req(&mut self.s, self.net[C], Con, code::POST, path)
            .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
            .payload(text(body));
        let a = piggy(&r, code::CHANGED);
        self.exchange(&r, &a, "")
    }

    /// A few application exchanges, `gap_ms` apart.
    pub(crate) fn app(&mut self, n: usize, gap_ms: u64) {
        for i in 0..n {
            self.s.wait_ms(gap_ms);
            match i % 3 {
                0 => self.get("/sensors/temp", &format!("{}.{} C", 20 + i % 4, i % 10)),
                1 => self.post("/sensors/log", &format!("t={} ok", 1000 + i)),
                _ => self.get("/sensors/hum", &format!("{} %", 40 + i % 9)),
            };
        }
    }

    /// The forward message flow (KUDOS §4.3.1): the client's divergent POST to
    /// /.well-known/kudos, the server's convergent 2.04; returns their frames.
    pub(crate) fn forward(&mut self, flags: u8, what: &str) -> (u64, u64) {
        let r = req(&mut self.s, self.net[C], Con, code::POST, KUDOS_PATH);
        let f1 = self.request(C, &r, Send::Divergent { flags, nonce: None }, what);
        self.s.jitter_us(800, 2500);
        let f2 = self.response(S, &piggy(&r, code::CHANGED), Send::Convergent, false, "convergent");
        (f1, f2)
    }

    /// Writes the capture (under `path`) and its keys file.
    pub(crate) fn finish(self, path: &str, what: &str, header: &str) -> SampleFile {
        assert!(self.open.is_none(), "{path}: an execution was left open");
        let bytes = self.s.to_pcapng(Some(6), "eth0");
        let keys_path = format!("{path}.keys.toml");
        let keys = keys_toml(header, &self.defs);
        SampleFile::valid(path, crate::link::linktype::ETHERNET, what, &self.s, bytes).with_oscore(
            OscoreInfo {
                keys_path,
                keys_toml: keys,
                contexts: self.defs,
                expects: self.expects,
                protected: self.protected,
                tshark: true,
                procedures: Some(self.procs),
            },
        )
    }
}

/// Every KUDOS sample, in a fixed order.
pub fn all() -> Vec<SampleFile> {
    vec![
        fs_request(),
        fs_response(),
        both_initiate(),
        lost_convergent(),
        twice(),
        no_fs(),
        lost_final_response(),
        observe(),
        retention(),
        no_length_prefixes(),
        violations(),
        downgrade(),
        unexpected_convergent(),
        hundred(),
    ]
}

const HEADER: &str = "(kudoscope-sim test keys, not secret).";

// ---- 1. request-initiated, FS ------------------------------------------------------------

fn fs_request() -> SampleFile {
    let mut k = Kx::pair(0x0c0d_0501, "thermostat", &[0x01], &[], "client 01, server h''");
    k.app(3, 2_000);
    k.s.wait_ms(30_000);
    k.begin(C, true, "fs", false);
    k.forward(0, "divergent (CTX_TEMP)");
    k.s.wait_ms(400);
    k.confirm_get("/sensors/temp", "21.4 C");
    k.app(3, 2_000);
    k.finish(
        "kudos/kudos-fs-request.pcapng",
        "KUDOS forward message flow (request-initiated), FS mode: divergent POST /.well-known/kudos, convergent 2.04, key confirmation by the next request; application traffic before and after",
        &format!("Keys of kudos-fs-request.pcapng {HEADER}"),
    )
}

// ---- 2. response-initiated ----------------------------------------------------------------

fn fs_response() -> SampleFile {
    let mut k = Kx::pair(0x0c0d_0502, "valve", &[0x0a], &[0x0b], "client 0a, server 0b");
    k.app(3, 2_000);
    k.s.wait_ms(30_000);
    let r = req(&mut k.s, k.net[C], Con, code::GET, "/valve/state");
    k.request(C, &r, Send::Auto, "ordinary request (CTX_OLD)");
    k.s.jitter_us(500, 1500);
    k.begin(S, false, "fs", false);
    k.response(
        S,
        &piggy(&r, crate::oscore_samples::UNAUTHORIZED),
        Send::Divergent { flags: 0, nonce: None },
        false,
        "divergent response (CTX_TEMP, own PIV, request's AAD)",
    );
    k.s.wait_ms(5);
    let r2 = req(&mut k.s, k.net[C], Con, code::POST, KUDOS_PATH);
    k.request(C, &r2, Send::Convergent, "convergent request (CTX_NEW)");
    k.s.jitter_us(500, 1500);
    k.response(
        S,
        &piggy(&r2, code::CHANGED),
        Send::Auto,
        false,
        "ordinary CTX_NEW response: key confirmation of the client",
    );
    k.end("completed");
    k.s.wait_ms(5);
    let r3 = req(&mut k.s, k.net[C], Con, code::GET, "/valve/state");
    let a =
        piggy(&r3, code::CONTENT).opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN).payload(text("open 40 %"));
    k.exchange(&r3, &a, "the original request again");
    k.app(3, 2_000);
    k.finish(
        "kudos/kudos-fs-response.pcapng",
        "KUDOS reverse message flow (response-initiated), FS mode: the server answers an ordinary GET with a divergent 4.01, the client sends a convergent POST /.well-known/kudos, the server's ordinary 2.04 gives it key confirmation",
        &format!("Keys of kudos-fs-response.pcapng {HEADER}"),
    )
}

// ---- 3. both peers initiate -----------------------------------------------------------------

fn both_initiate() -> SampleFile {
    let mut k = Kx::pair(
        0x0c0d_0503,
        "peers",
        &[0xc0],
        &[0x5e],
        "client c0, server 5e (both also act as CoAP servers)",
    );
    k.app(2, 2_000);
    k.s.wait_ms(30_000);
    k.begin(C, true, "fs", false);
    k.both_initiated();
    let ra = req(&mut k.s, k.net[C], Con, code::POST, KUDOS_PATH);
    let oa = k.peers[C].request(&ra, Send::Divergent { flags: 0, nonce: None });
    k.capture(C, &ra, &oa, "client's divergent request");
    k.s.wait_us(300);
    let rb = req(&mut k.s, k.net[S], Con, code::POST, KUDOS_PATH);
    let ob = k.peers[S].request(&rb, Send::Divergent { flags: 0, nonce: None });
    k.capture(S, &rb, &ob, "server's divergent request to the client, crossing it");
    k.deliver(S, &oa);
    k.deliver(C, &ob);
    k.s.jitter_us(800, 2000);
    let ca = k.peers[S].response(&piggy(&ra, code::CHANGED), Send::Convergent, false);
    k.capture(S, &piggy(&ra, code::CHANGED), &ca, "server's convergent response");
    k.s.wait_us(200);
    let cb = k.peers[C].response(&piggy(&rb, code::CHANGED), Send::Convergent, false);
    k.capture(C, &piggy(&rb, code::CHANGED), &cb, "client's convergent response");
    assert!(k.deliver(C, &ca).confirmed && k.deliver(S, &cb).confirmed);
    k.end("completed");
    k.app(3, 2_000);
    k.finish(
        "kudos/kudos-both-initiate.pcapng",
        "KUDOS started by both peers at once: two divergent requests cross (client -> server, server -> client), each answered by a convergent response; CTX_NEW from both divergent (x, nonce) pairs",
        &format!("Keys of kudos-both-initiate.pcapng {HEADER}"),
    )
}

// ---- 4. lost convergent response --------------------------------------------------------------

fn lost_convergent() -> SampleFile {
    let mut k = Kx::pair(0x0c0d_0504, "lamp", &[0x11], &[0x22], "client 11, server 22");
    k.app(3, 2_000);
    k.s.wait_ms(30_000);
    k.begin(C, true, "fs", false);
    let r = req(&mut k.s, k.net[C], Non, code::POST, KUDOS_PATH);
    k.request(C, &r, Send::Divergent { flags: 0, nonce: None }, "divergent NON request (X1, N1, PIV 0)");
    k.s.jitter_us(800, 2500);
    let mid = k.s.mid(k.net[S]);
    let resp = CoapMsg::new(Non, code::CHANGED, mid, &r.token);
    let out = k.peers[S].response(&resp, Send::Convergent, false);
    k.transmit(
        S,
        &resp,
        out,
        "convergent response (N2), lost after the capture point",
        Fate::LostAfterCapture,
    );
    k.s.wait_ms(4_000);
    let r2 = req(&mut k.s, k.net[C], Non, code::POST, KUDOS_PATH);
    k.request(
        C,
        &r2,
        Send::Divergent { flags: 0, nonce: None },
        "the divergent request again: same X1, N1 and CTX_TEMP, PIV 1",
    );
    k.s.jitter_us(800, 2500);
    let mid = k.s.mid(k.net[S]);
    let resp = CoapMsg::new(Non, code::CHANGED, mid, &r2.token);
    k.response(S, &resp, Send::Convergent, false, "new convergent response: N3, CTX_NEW' from N1 and N3");
    k.s.wait_ms(300);
    k.confirm_get("/lamp/state", "on");
    k.app(3, 2_000);
    // kudoscope gives the second CTX_NEW of generation 1 (CTX_NEW' from N1 and N3) its own
    // label, g1.2, so the two contexts stay apart in the timeline.
    for f in 10..=18 {
        let e = k.exp(f);
        if e.generation.as_deref() == Some("g1") {
            e.generation = Some("g1.2".into());
        }
    }
    for p in &mut k.procs {
        if p.derived.iter().filter(|d| *d == "g1").count() == 2
            && let Some(last) = p.derived.last_mut()
        {
            *last = "g1.2".into();
        }
    }
    k.finish(
        "kudos/kudos-lost-convergent.pcapng",
        "KUDOS with a lost convergent response: the client repeats its divergent NON request (same X1 and N1, next PIV), the PENDING server drops CTX_NEW and answers with a new convergent response (CTX_NEW' from N1 and N3)",
        &format!("Keys of kudos-lost-convergent.pcapng {HEADER}"),
    )
}

// ---- 5. a second execution right after the first -----------------------------------------------

fn twice() -> SampleFile {
    let mut k = Kx::pair(0x0c0d_0505, "gateway", &[], &[0x01], "client h'', server 01");
    k.app(3, 2_000);
    k.s.wait_ms(30_000);
    k.begin(C, true, "fs", false);
    k.forward(0, "divergent (first execution)");
    // The server is still PENDING (no message under CTX_NEW yet): it verifies the next
    // divergent message only with CTX_TEMP derived from CTX_NEW, which becomes CTX_OLD.
    k.end("completed");
    k.s.wait_ms(20);
    k.begin(C, true, "fs", false);
    k.forward(0, "divergent again at once: CTX_TEMP from the first CTX_NEW");
    k.s.wait_ms(300);
    k.confirm_get("/gw/uptime", "86400 s");
    k.app(3, 2_000);
    k.finish(
        "kudos/kudos-twice.pcapng",
        "Two KUDOS executions back to back: the client starts the second from the first CTX_NEW before the server had key confirmation (the PENDING server verifies it with CTX_TEMP from CTX_NEW)",
        &format!("Keys of kudos-twice.pcapng {HEADER}"),
    )
}

// ---- 6. no-FS from the bootstrap context -------------------------------------------------------

fn no_fs() -> SampleFile {
    let mut k = Kx::pair(
        0x0c0d_0506,
        "meter",
        &[0x4d],
        &[0x48],
        "client 4d, server 48; the server cannot store contexts (non-CAPABLE)",
    );
    k.bootstrap();
    k.app(3, 2_000);
    k.s.wait_ms(60_000);
    // The server rebooted and lost CTX_OLD: the client's ordinary request fails there.
    let r = req(&mut k.s, k.net[C], Con, code::GET, "/meter/reading");
    let out = k.peers[C].request(&r, Send::Auto);
    k.transmit(C, &r, out, "the server rebooted and lost this context", Fate::LostAfterCapture);
    k.s.jitter_us(500, 1500);
    let err = piggy(&r, crate::oscore_samples::UNAUTHORIZED)
        .opt_uint(opt::MAX_AGE, 0)
        .payload(text("Security context not found"));
    k.plain(
        S,
        &err,
        "unprotected 4.01 \"Security context not found\" (RFC 8613 §8.2)",
        Some(status::UNPROTECTED_ERROR),
    );
    k.s.wait_ms(50);
    k.begin(C, true, "no-fs", false);
    k.forward(xbits::P, "divergent, no-FS (p=1): CTX_TEMP from CTX_BOOTSTRAP");
    k.s.wait_ms(300);
    k.confirm_get("/meter/reading", "kWh=1204.7");
    k.app(3, 2_000);
    k.finish(
        "kudos/kudos-no-fs.pcapng",
        "KUDOS in no-FS mode after the non-CAPABLE server rebooted: every x has p=1 (17, 57), CTX_TEMP and CTX_NEW derive from the bootstrap context (keys file role = \"kudos-bootstrap\")",
        &format!("Keys of kudos-no-fs.pcapng {HEADER}"),
    )
}

// ---- 7. the final non-KUDOS response is lost -------------------------------------------------

fn lost_final_response() -> SampleFile {
    let mut k = Kx::pair(0x0c0d_0507, "blind", &[0x07], &[0x70], "client 07, server 70");
    k.app(3, 2_000);
    k.s.wait_ms(30_000);
    let r = req(&mut k.s, k.net[C], Non, code::GET, "/blind/position");
    k.request(C, &r, Send::Auto, "ordinary NON request (CTX_OLD)");
    k.s.jitter_us(500, 1500);
    k.begin(S, false, "fs", false);
    let mid = k.s.mid(k.net[S]);
    let d = CoapMsg::new(Non, crate::oscore_samples::UNAUTHORIZED, mid, &r.token);
    k.response(S, &d, Send::Divergent { flags: 0, nonce: None }, false, "divergent NON response");
    k.s.wait_ms(5);
    let r2 = req(&mut k.s, k.net[C], Non, code::POST, KUDOS_PATH);
    k.request(C, &r2, Send::Convergent, "convergent NON request: the client is PENDING");
    k.s.jitter_us(500, 1500);
    let mid = k.s.mid(k.net[S]);
    let fin = CoapMsg::new(Non, code::CHANGED, mid, &r2.token);
    let out = k.peers[S].response(&fin, Send::Auto, false);
    k.transmit(S, &fin, out, "", Fate::LostBeforeCapture);
    // The client, still PENDING, protects its next request as a convergent message again.
    k.s.wait_ms(10_000);
    let r3 = req(&mut k.s, k.net[C], Non, code::GET, "/blind/position");
    k.request(C, &r3, Send::Auto, "still PENDING: convergent again (same X2, N2), PIV 1");
    k.s.jitter_us(500, 1500);
    let mid = k.s.mid(k.net[S]);
    let a = CoapMsg::new(Non, code::CONTENT, mid, &r3.token)
        .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
        .payload(text("closed"));
    k.response(S, &a, Send::Auto, false, "ordinary CTX_NEW response: key confirmation of the client at last");
    k.end("completed");
    k.app(3, 2_000);
    k.finish(
        "kudos/kudos-lost-final-response.pcapng",
        "KUDOS reverse flow whose final ordinary response is lost before the capture point: the PENDING client sends its next request as a convergent message again until it verifies a CTX_NEW message",
        &format!("Keys of kudos-lost-final-response.pcapng {HEADER}"),
    )
}

// ---- 8. preserved observations ------------------------------------------------------------------

fn observe() -> SampleFile {
    let mut k = Kx::pair(0x0c0d_0508, "door", &[0xd0], &[0xd5], "client d0, server d5");
    k.app(5, 1_500);
    k.s.wait_ms(2_000);
    let reg = req(&mut k.s, k.net[C], Con, code::GET, "/door/state").opt_uint(opt::OBSERVE, 0);
    let reg_piv = k.peers[C].cur.ssn;
    k.request(C, &reg, Send::Auto, "Observe registration");
    k.s.jitter_us(500, 1500);
    let a = piggy(&reg, code::CONTENT).opt_uint(opt::OBSERVE, 1).payload(text("closed"));
    k.response(S, &a, Send::Auto, false, "first notification");
    let mut obs = 2;
    let mut notify = |k: &mut Kx, body: &str, what: &str| {
        k.s.wait_ms(20_000);
        let mid = k.s.mid(k.net[S]);
        let n =
            CoapMsg::new(Non, code::CONTENT, mid, &reg.token).opt_uint(opt::OBSERVE, obs).payload(text(body));
        obs += 1;
        k.response(S, &n, Send::Auto, true, what)
    };
    notify(&mut k, "open", "notification (server PIV)");
    notify(&mut k, "closed", "notification (server PIV)");
    k.app(2, 1_500);
    k.s.wait_ms(5_000);
    k.begin(C, true, "fs", true);
    k.forward(xbits::B, "divergent, b=1: preserve observations");
    assert_eq!(k.peers[C].cur.ssn, reg_piv + 1, "the client's SSN under CTX_NEW continues at PIV* + 1");
    let server_new = k.peers[S].new.as_ref().map(|n| n.ssn);
    assert_eq!(
        server_new,
        Some(1),
        "the server (no registration as a client) sent its convergent with PIV 0"
    );
    k.s.wait_ms(300);
    k.confirm_get("/door/battery", "81 %");
    notify(
        &mut k,
        "open",
        "notification of the same registration under CTX_NEW, AAD of the original registration",
    );
    notify(&mut k, "closed", "notification under CTX_NEW");
    k.app(2, 1_500);
    k.finish(
        "kudos/kudos-observe.pcapng",
        "KUDOS preserving an observation (b=1, x 27/67): the client's SSN under CTX_NEW continues at PIV*+1; notifications keep the token and the original registration's kid/PIV in the AAD, now protected with CTX_NEW",
        &format!("Keys of kudos-observe.pcapng {HEADER}"),
    )
}

// ---- 9. late messages under CTX_OLD (retention) -------------------------------------------------

fn retention() -> SampleFile {
    let mut k = Kx::pair(0x0c0d_0509, "tracker", &[0x7a], &[0x5a], "client 7a, server 5a");
    k.peers[S].retain_old = true;
    k.app(3, 2_000);
    k.s.wait_ms(10_000);
    // Two NON reports (no response expected) that the network delays.
    let mut late = Vec::new();
    for i in 0..2 {
        let r = req(&mut k.s, k.net[C], Non, code::POST, "/tracker/report")
            .opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN)
            .payload(text(&format!("pos=59.3{i},18.0{i}")));
        let out = k.peers[C].request(&r, Send::Auto);
        late.push((r, out));
        k.s.wait_ms(200);
    }
    k.s.wait_ms(1_000);
    k.begin(C, true, "fs", false);
    k.forward(0, "divergent");
    k.s.wait_ms(300);
    k.confirm_get("/tracker/battery", "64 %");
    k.s.wait_ms(700);
    for (r, out) in late {
        let f = k.capture(C, &r, &out, "a report sent before KUDOS, delayed by the network: CTX_OLD");
        let rx = k.deliver(S, &out);
        assert!(rx.late, "the server keeps CTX_OLD for late messages");
        k.exp(f).kudos_findings.push(kkind::RETENTION);
        k.s.wait_ms(150);
    }
    k.app(3, 2_000);
    k.finish(
        "kudos/kudos-retention.pcapng",
        "Late messages under CTX_OLD after a completed KUDOS: two NON reports sent before the execution arrive after it; the server keeps CTX_OLD for them (retention policy)",
        &format!("Keys of kudos-retention.pcapng {HEADER}"),
    )
}

// ---- 10. ExpandLabel without length prefixes ---------------------------------------------------

fn no_length_prefixes() -> SampleFile {
    let mut k = Kx::pair(
        0x0c0d_050a,
        "legacy",
        &[0x00],
        &[0x01],
        "client 00, server 01; both peers use the 2024 Californium ExpandLabel without length prefixes (PROTOCOLS.md §8.2)",
    );
    for p in &mut k.peers {
        p.encoding = LabelEncoding::NoLengthPrefixes;
    }
    k.app(3, 2_000);
    k.s.wait_ms(30_000);
    k.begin(C, true, "fs", false);
    k.forward(0, "divergent (ExpandLabel without length prefixes)");
    k.s.wait_ms(300);
    k.confirm_get("/sensors/temp", "19.9 C");
    k.app(3, 2_000);
    // kudoscope reports the legacy encoding once per association, at its first KUDOS message.
    k.exp(7).kudos_findings.push(kkind::LEGACY_LABEL);
    k.finish(
        "kudos/kudos-no-length-prefixes.pcapng",
        "KUDOS forward flow where both peers build ExpandLabel as uint16 || label || X_N without the 1-byte length prefixes (older Californium encoding, PROTOCOLS.md §8.2)",
        &format!("Keys of kudos-no-length-prefixes.pcapng {HEADER}"),
    )
}

// ---- 11. conformance violations ----------------------------------------------------------------

fn violations() -> SampleFile {
    let mut k = Kx::pair(
        0x0c0d_050b,
        "buggy",
        &[0xb0],
        &[0xb1],
        "client b0 (a buggy KUDOS implementation), server b1",
    );
    k.app(2, 2_000);
    k.s.wait_ms(20_000);

    // A divergent request whose ciphertext is corrupted on the way.
    let r = req(&mut k.s, k.net[C], Con, code::POST, KUDOS_PATH);
    let mut out = k.peers[C].request(&r, Send::Divergent { flags: 0, nonce: None });
    let n1 = out.kudos.clone().expect("KUDOS fields").1;
    let i = out.p.msg.payload.len() - 3;
    out.p.msg.payload[i] ^= 0x01;
    let f = k.capture(C, &r, &out, "divergent request, one tag byte flipped on the way");
    *k.exp(f) = FrameExpect {
        findings: vec![kind::TAG_MISMATCH],
        kudos_findings: vec![kkind::TAG_FAILURE],
        kudos_x: Some(0x07),
        ..FrameExpect::new(f, Some(status::TAG_MISMATCH))
    };
    if let Some(p) = k.protected.last_mut() {
        p.intact = false;
    }
    assert!(k.peers[S].receive(&out.p.msg).is_err());
    k.s.jitter_us(500, 1500);
    let e = piggy(&r, crate::oscore_samples::BAD_REQUEST)
        .opt_uint(opt::MAX_AGE, 0)
        .payload(text("Decryption failed"));
    k.plain(S, &e, "unprotected 4.00 \"Decryption failed\"", Some(status::UNPROTECTED_ERROR));

    // The client repeats it (same pair, next PIV); before the convergent response arrives it
    // sends an ordinary NON report with CTX_OLD while BUSY.
    k.s.wait_ms(1_000);
    k.begin(C, true, "fs", false);
    let r = req(&mut k.s, k.net[C], Con, code::POST, KUDOS_PATH);
    k.request(C, &r, Send::Divergent { flags: 0, nonce: None }, "the divergent request again (PIV 1)");
    k.s.wait_us(400);
    let rep = req(&mut k.s, k.net[C], Non, code::POST, "/sensors/log").payload(text("t=1 busy"));
    let f = k.request(
        C,
        &rep,
        Send::Force { ctx: Which::Current, kudos: None },
        "ordinary NON report with CTX_OLD while BUSY",
    );
    k.exp(f).kudos_findings.push(kkind::NON_KUDOS_WHILE_BUSY);
    k.s.jitter_us(800, 2000);
    k.response(S, &piggy(&r, code::CHANGED), Send::Convergent, false, "convergent");
    k.s.wait_ms(300);
    k.confirm_get("/sensors/temp", "20.1 C");
    k.app(2, 2_000);

    // A divergent message with the reserved bit 7 of x set (x = 87): malformed.
    k.s.wait_ms(20_000);
    let r = req(&mut k.s, k.net[C], Con, code::POST, KUDOS_PATH);
    let bad_n = key_bytes(&mut k.s, 8);
    let t = k.peers[C].cur.kudos(&input(0x87, &bad_n), &[], LabelEncoding::Draft, Kind::Temp);
    let out = k.peers[C].request(&r, Send::ForceWith { ctx: Box::new(t), kudos: Some((0x87, bad_n)) });
    let f = k.capture(C, &r, &out, "divergent request with x = 87: reserved bit set");
    *k.exp(f) = FrameExpect {
        findings: vec![kind::MALFORMED_OPTION],
        kudos_findings: vec![kkind::RESERVED_BIT],
        kudos_x: Some(0x87),
        ..FrameExpect::new(f, Some(status::MALFORMED_OPTION))
    };
    assert!(k.peers[S].receive(&out.p.msg).is_err());
    k.s.jitter_us(500, 1500);
    let e = piggy(&r, code::BAD_OPTION).opt_uint(opt::MAX_AGE, 0).payload(text("Failed to decode COSE"));
    k.plain(S, &e, "unprotected 4.02 \"Failed to decode COSE\"", Some(status::UNPROTECTED_ERROR));

    // The next execution reuses the nonce of the first.
    k.s.wait_ms(1_000);
    k.begin(C, true, "fs", false);
    let r = req(&mut k.s, k.net[C], Con, code::POST, KUDOS_PATH);
    let f = k.request(
        C,
        &r,
        Send::Divergent { flags: 0, nonce: Some(n1) },
        "divergent request reusing N1 of the first execution",
    );
    k.exp(f).kudos_findings.push(kkind::NONCE_REUSE);
    k.s.jitter_us(800, 2000);
    k.response(S, &piggy(&r, code::CHANGED), Send::Convergent, false, "convergent");
    k.s.wait_ms(300);
    k.confirm_get("/sensors/temp", "20.3 C");
    k.app(2, 2_000);

    // A divergent message protected with CTX_OLD instead of CTX_TEMP: the server cannot verify it.
    k.s.wait_ms(20_000);
    let r = req(&mut k.s, k.net[C], Con, code::POST, KUDOS_PATH);
    let n = key_bytes(&mut k.s, 8);
    let out = k.peers[C].request(&r, Send::Force { ctx: Which::Current, kudos: Some((0x07, n)) });
    let f = k.capture(C, &r, &out, "divergent request protected with CTX_OLD (g2) instead of CTX_TEMP");
    k.exp(f).kudos_findings.push(kkind::OLD_CONTEXT);
    assert!(k.peers[S].receive(&out.p.msg).is_err());
    k.s.jitter_us(500, 1500);
    let e = piggy(&r, crate::oscore_samples::BAD_REQUEST)
        .opt_uint(opt::MAX_AGE, 0)
        .payload(text("Decryption failed"));
    k.plain(S, &e, "unprotected 4.00 \"Decryption failed\"", Some(status::UNPROTECTED_ERROR));
    k.finish(
        "kudos/kudos-violations.pcapng",
        "KUDOS conformance violations by a buggy client: a corrupted divergent message, an ordinary message while BUSY, a reserved x bit, a nonce reused across executions, a KUDOS message protected with CTX_OLD",
        &format!("Keys of kudos-violations.pcapng {HEADER}"),
    )
}

fn downgrade() -> SampleFile {
    let mut k = Kx::pair(0x0c0d_050c, "hvac", &[0x0c], &[0x05], "client 0c, server 05");
    k.bootstrap();
    k.app(2, 2_000);
    k.s.wait_ms(20_000);
    k.begin(C, true, "fs", false);
    k.forward(0, "divergent, FS mode");
    k.s.wait_ms(300);
    k.confirm_get("/hvac/setpoint", "21.0 C");
    k.app(2, 2_000);
    // Later the same client asks for no-FS mode: a downgrade the server ignores for KUDOS.
    k.s.wait_ms(20_000);
    k.begin(C, true, "no-fs", false);
    let r = req(&mut k.s, k.net[C], Con, code::POST, KUDOS_PATH);
    let f = k.request(
        C,
        &r,
        Send::Divergent { flags: xbits::P, nonce: None },
        "divergent with p=1 from a peer that ran FS before",
    );
    k.exp(f).kudos_findings.push(kkind::DOWNGRADE);
    k.s.jitter_us(500, 1500);
    let refuse = piggy(&r, 0x83).payload(text("FS mode required"));
    k.response(
        S,
        &refuse,
        Send::Auto,
        false,
        "the server ignores it for KUDOS: protected 4.03 with its current context (own PIV)",
    );
    k.peers[C].abort();
    k.end("incomplete");
    k.finish(
        "kudos/kudos-downgrade.pcapng",
        "KUDOS downgrade: after an FS execution the client asks for no-FS mode (p=1); the server refuses with a protected 4.03",
        &format!("Keys of kudos-downgrade.pcapng {HEADER}"),
    )
}

fn unexpected_convergent() -> SampleFile {
    let mut k = Kx::pair(
        0x0c0d_050d,
        "pump",
        &[0x0e],
        &[0x0f],
        "client 0e, server 0f (a buggy KUDOS implementation)",
    );
    k.app(2, 2_000);
    k.s.wait_ms(20_000);
    k.begin(C, true, "fs", false);
    let (fd, _) = k.forward(0, "divergent");
    let client_in = {
        let rec = k.protected.iter().find(|p| p.frame == fd).expect("divergent record");
        let f = crate::kudos::parse_option(
            &rec.p.msg.options.iter().find(|(n, _)| *n == crate::oscore::OPT_OSCORE).expect("option").1,
        )
        .expect("option parses");
        let (x, n) = f.kudos.expect("KUDOS fields");
        input(x, &n)
    };
    k.s.wait_ms(300);
    k.confirm_get("/pump/rate", "3.2 l/min");
    k.app(2, 2_000);
    // Later the server answers an ordinary request with a convergent response although no
    // execution runs: CTX_NEW from a fresh nonce and the client's old divergent input.
    k.s.wait_ms(20_000);
    let r = req(&mut k.s, k.net[C], Con, code::GET, "/pump/rate");
    k.request(C, &r, Send::Auto, "ordinary request");
    k.s.jitter_us(500, 1500);
    let n = key_bytes(&mut k.s, 8);
    let mut bogus = k.peers[S].cur.kudos(&input(0x47, &n), &client_in, LabelEncoding::Draft, Kind::New);
    bogus.generation = k.peers[S].cur.generation + 1;
    bogus.label = format!("g{}", bogus.generation);
    k.begin(C, true, "fs", false);
    let a = piggy(&r, code::CONTENT).opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN).payload(text("3.2 l/min"));
    let out = k.peers[S].response(&a, Send::ForceWith { ctx: Box::new(bogus), kudos: Some((0x47, n)) }, true);
    let f = k.capture(
        S,
        &a,
        &out,
        "convergent response although no execution runs (no divergent message before it)",
    );
    k.exp(f).kudos_findings.push(kkind::UNEXPECTED_CONVERGENT);
    assert!(k.peers[C].receive(&out.p.msg).is_err(), "the IDLE client cannot verify it");
    k.end("incomplete");
    k.finish(
        "kudos/kudos-unexpected-convergent.pcapng",
        "A convergent KUDOS message with no divergent message before it: the server answers an ordinary request with a convergent response while no execution runs",
        &format!("Keys of kudos-unexpected-convergent.pcapng {HEADER}"),
    )
}

// ---- 12. 100 executions ---------------------------------------------------------------------

fn hundred() -> SampleFile {
    let mut k = Kx::pair(0x0c0d_0564, "node", &[0x01], &[0x02], "client 01, server 02");
    k.get("/sensors/temp", "20.0 C");
    for i in 0..100 {
        k.s.wait_ms(1_000);
        k.begin(C, true, "fs", false);
        k.forward(0, "");
        k.s.wait_ms(100);
        k.confirm_get("/sensors/temp", &format!("{}.{} C", 20 + i % 5, i % 10));
    }
    k.finish(
        "kudos/kudos-100.pcapng",
        "100 KUDOS executions back to back (forward flow, FS), one GET + 2.05 under each new context",
        &format!("Keys of kudos-100.pcapng {HEADER}"),
    )
}
