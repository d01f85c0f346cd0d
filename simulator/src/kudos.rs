//! KUDOS (draft-ietf-core-oscore-key-update-14, PROTOCOLS.md §3) and OSCORE ID update
//! (draft-ietf-core-oscore-id-update-06, PROTOCOLS.md §4) as two simulated peers run them.
//!
//! From analyzer-core only updateCtx ([`update_ctx`], anchored by the PROTOCOLS.md §3.10
//! vectors in analyzer-core's unit tests and again in this module's tests, which protect the
//! §3.10 request and response with this module's code path) and the RFC 8613 primitives
//! (context derivation, nonce, AAD, AEAD seal/open) are used. Everything a *peer* decides is
//! written here, independently of analyzer-core's engine and KUDOS observer:
//!
//! * each peer's KUDOS state (IDLE / BUSY / PENDING, §4.3.2-4.3.4) and which context protects
//!   each outgoing message: CTX_TEMP = updateCtx(X||N, h'', CTX_IN) for divergent messages,
//!   CTX_NEW = updateCtx(X1||N1, X2||N2, CTX_IN) for convergent ones and for every message a
//!   PENDING peer sends, the latest context otherwise;
//! * the (x, nonce) pair of each peer: 8-byte nonces from the peer's seeded generator, x =
//!   `0 z b p m` (07 divergent, 47 convergent, +0x10 no-FS, +0x20 observations preserved);
//!   a peer keeps its pair for the whole execution (a retried divergent message repeats it
//!   with the next Partial IV of the same CTX_TEMP); CTX_NEW combines the pairs each peer
//!   offered in its *first* KUDOS message of the execution (PROTOCOLS.md §8.3: when both
//!   peers initiate, both divergent x bytes);
//! * Sender Sequence Numbers restart at 0 under each new context (PIV* + 1 for a peer that
//!   preserves its Observe registrations, §4.5); KUDOS responses always carry a Partial IV,
//!   and so does every response protected with another context than the one that verified
//!   its request (updated RFC 8613 §8.3);
//! * the receiving side: the receiver rebuilds CTX_TEMP / CTX_NEW from the x and nonce on the
//!   wire (trying CTX_OLD, then the pending CTX_NEW, or CTX_BOOTSTRAP when p = 1) and moves
//!   through the states only on messages it verified;
//! * OSCORE ID update: Recipient-ID (24) / Recipient-ID-Ack (32) counting, the success rule
//!   (>= 3 verified messages with an Ack received, >= 2 sent), CTX_B (same Master Secret,
//!   Salt, ID Context; Sender ID := the other's offered Recipient ID), SSN restarting at 0.
//!
//! The option encoder and parser are this module's own (the §3.10 bytes pin them).

use crate::coap::{CoapMsg, opt};
use crate::oscore::{CtxDef, OPT_OSCORE, Protected, RequestState, Role, seal};
use crate::rng::XorShift64;
use analyzer_core::oscore::context::{DerivedContext, aad, nonce, piv_from_ssn};
use analyzer_core::oscore::kudos::{LabelEncoding, input, update_ctx};

/// Recipient-ID (draft-ietf-core-oscore-id-update-06 §2.3, suggested number 24), class E.
pub const OPT_RECIPIENT_ID: u16 = 24;
/// Recipient-ID-Ack (§2.4, suggested number 32), class E.
pub const OPT_RECIPIENT_ID_ACK: u16 = 32;
/// The well-known KUDOS resource (KUDOS §4.7.3).
pub const KUDOS_PATH: &str = "/.well-known/kudos";

/// The `x` byte (KUDOS §4.1): `| 0 | z | b | p | m |`.
pub mod xbits {
    /// m = 7: an 8-byte nonce (RECOMMENDED).
    pub const M8: u8 = 0x07;
    /// No forward secrecy (no-FS mode, CTX_IN = CTX_BOOTSTRAP).
    pub const P: u8 = 0x10;
    /// Preserve observations.
    pub const B: u8 = 0x20;
    /// Convergent (protected with CTX_NEW); 0 = divergent (CTX_TEMP).
    pub const Z: u8 = 0x40;
    /// Reserved, must be 0.
    pub const RESERVED: u8 = 0x80;
}

/// The OSCORE option value (RFC 8613 §6.1 with the KUDOS extension of §4.1): flag byte 1
/// (Extension-1 0x80 when KUDOS fields follow, h 0x10, k 0x08, n), flag byte 2 (d = 0x01),
/// Partial IV, s + kid context, x + nonce, kid. Empty when there is nothing to say.
pub fn option_value(
    piv: &[u8],
    kid_context: Option<&[u8]>,
    kudos: Option<(u8, &[u8])>,
    kid: Option<&[u8]>,
) -> Vec<u8> {
    assert!(piv.len() <= 5, "Partial IV of {} bytes", piv.len());
    let mut flags = piv.len() as u8;
    if kid_context.is_some() {
        flags |= 0x10;
    }
    if kid.is_some() {
        flags |= 0x08;
    }
    if kudos.is_some() {
        flags |= 0x80;
    }
    if flags == 0 {
        return Vec::new();
    }
    let mut v = vec![flags];
    if kudos.is_some() {
        v.push(0x01);
    }
    v.extend_from_slice(piv);
    if let Some(c) = kid_context {
        v.push(u8::try_from(c.len()).expect("kid context up to 255 bytes"));
        v.extend_from_slice(c);
    }
    if let Some((x, n)) = kudos {
        v.push(x);
        v.extend_from_slice(n);
    }
    if let Some(k) = kid {
        v.extend_from_slice(k);
    }
    v
}

/// What a peer reads from an OSCORE option.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OptionFields {
    pub piv: Vec<u8>,
    pub kid_context: Option<Vec<u8>>,
    /// (x, nonce) when the d flag is set.
    pub kudos: Option<(u8, Vec<u8>)>,
    pub kid: Option<Vec<u8>>,
}

/// Parses an option value; `None` when a peer would treat it as malformed (reserved flag bits,
/// n > 5, fields past the end). The x byte is returned as sent (its reserved bit is the
/// caller's to judge).
pub fn parse_option(v: &[u8]) -> Option<OptionFields> {
    let mut f = OptionFields::default();
    let Some(&f1) = v.first() else { return Some(f) };
    if f1 & 0x60 != 0 {
        return None;
    }
    let mut pos = 1;
    let mut d = false;
    if f1 & 0x80 != 0 {
        let f2 = *v.get(1)?;
        if f2 & 0x80 != 0 {
            return None;
        }
        d = f2 & 0x01 != 0;
        pos = 2;
    }
    let n = usize::from(f1 & 0x07);
    if n > 5 {
        return None;
    }
    f.piv = v.get(pos..pos + n)?.to_vec();
    pos += n;
    if f1 & 0x10 != 0 {
        let s = usize::from(*v.get(pos)?);
        f.kid_context = Some(v.get(pos + 1..pos + 1 + s)?.to_vec());
        pos += 1 + s;
    }
    if d {
        let x = *v.get(pos)?;
        let m = usize::from(x & 0x0f) + 1;
        f.kudos = Some((x, v.get(pos + 1..pos + 1 + m)?.to_vec()));
        pos += 1 + m;
    }
    if f1 & 0x08 != 0 {
        f.kid = Some(v.get(pos..)?.to_vec());
    } else if pos != v.len() {
        return None;
    }
    Some(f)
}

/// The decrypted inner message: code, options (absolute numbers), payload (RFC 8613 §5.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inner {
    pub code: u8,
    pub options: Vec<(u16, Vec<u8>)>,
    pub payload: Vec<u8>,
}

impl Inner {
    pub fn option(&self, n: u16) -> Option<&[u8]> {
        self.options.iter().find(|(m, _)| *m == n).map(|(_, v)| v.as_slice())
    }
}

/// Parses a plaintext `code || options || 0xFF payload` (RFC 7252 §3.1 option encoding).
pub fn parse_plaintext(pt: &[u8]) -> Option<Inner> {
    let (&code, mut b) = pt.split_first()?;
    let mut options = Vec::new();
    let mut number = 0u16;
    fn ext(nib: u8, b: &mut &[u8]) -> Option<u16> {
        Some(match nib {
            13 => {
                let (&v, rest) = b.split_first()?;
                *b = rest;
                u16::from(v) + 13
            }
            14 => {
                let v = u16::from_be_bytes([*b.first()?, *b.get(1)?]).checked_add(269)?;
                *b = b.get(2..)?;
                v
            }
            15 => return None,
            n => u16::from(n),
        })
    }
    while let Some((&first, rest)) = b.split_first() {
        b = rest;
        if first == 0xff {
            return (!b.is_empty()).then(|| Inner { code, options, payload: b.to_vec() });
        }
        number = number.checked_add(ext(first >> 4, &mut b)?)?;
        let len = usize::from(ext(first & 0x0f, &mut b)?);
        options.push((number, b.get(..len)?.to_vec()));
        b = b.get(len..)?;
    }
    Some(Inner { code, options, payload: Vec::new() })
}

/// One step from a keys-file context to the context that protected a message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Step {
    /// updateCtx(input1, input2, ·) (input2 empty for CTX_TEMP); the inputs are stored in
    /// bytewise order of their CBOR encodings, so both peers record the same step.
    Kudos { input1: Vec<u8>, input2: Vec<u8>, encoding: LabelEncoding },
    /// New Sender/Recipient IDs (ID update CTX_B): the client's and the server's Sender ID.
    Ids { client_id: Vec<u8>, server_id: Vec<u8> },
}

impl Step {
    fn kudos(a: &[u8], b: &[u8], encoding: LabelEncoding) -> Step {
        let (input1, input2) = if (a.len(), a) <= (b.len(), b) { (a, b) } else { (b, a) };
        Step::Kudos { input1: input1.to_vec(), input2: input2.to_vec(), encoding }
    }
}

/// Which kind of context a peer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// From the keys file.
    Initial,
    /// CTX_BOOTSTRAP (keys file `role = "kudos-bootstrap"`).
    Bootstrap,
    /// CTX_TEMP of a divergent message.
    Temp,
    /// CTX_NEW (also after it became the current context).
    New,
    /// CTX_B of a stand-alone ID update.
    Ids,
}

/// A security context as one peer holds it.
#[derive(Debug, Clone)]
pub struct PeerCtx {
    /// The keys-file context it descends from (index into the sample's contexts).
    pub def: usize,
    /// The derivation steps (kept only when `record`; see [`Peer::without_recipes`]).
    pub steps: Vec<Step>,
    /// A hash chain over the steps: identifies the context even when they are not kept.
    lineage: u64,
    record: bool,
    pub kind: Kind,
    /// KUDOS generation: 0 for the keys-file contexts, +1 per CTX_NEW.
    pub generation: u32,
    /// What kudoscope should call it: `g0`, `g1`..., `g0-temp` (a CTX_TEMP derived from g0).
    pub label: String,
    role: Role,
    ctx: DerivedContext,
    /// Next Sender Sequence Number.
    pub ssn: u64,
}

impl PeerCtx {
    /// The keys-file context `def` (index `idx`) as `role` holds it.
    pub fn from_def(def: &CtxDef, idx: usize, role: Role, kind: Kind) -> PeerCtx {
        let ctx = DerivedContext::derive(def.params(role))
            .unwrap_or_else(|e| panic!("context {}: cannot derive: {e}", def.name));
        let label = if kind == Kind::Bootstrap { "bootstrap" } else { "g0" };
        PeerCtx {
            def: idx,
            steps: Vec::new(),
            lineage: 0,
            record: true,
            kind,
            generation: 0,
            label: label.into(),
            role,
            ctx,
            ssn: 0,
        }
    }

    fn derived(&self, params: analyzer_core::oscore::ContextParams, step: Step, kind: Kind) -> PeerCtx {
        use std::hash::{Hash, Hasher};
        let ctx = DerivedContext::derive(params).expect("derived context");
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (self.lineage, &step).hash(&mut h);
        let mut steps = if self.record { self.steps.clone() } else { Vec::new() };
        if self.record {
            steps.push(step);
        }
        PeerCtx {
            def: self.def,
            steps,
            lineage: h.finish(),
            record: self.record,
            kind,
            generation: self.generation,
            label: self.label.clone(),
            role: self.role,
            ctx,
            ssn: 0,
        }
    }

    /// updateCtx(own, other, self) (KUDOS §4.2) with a fresh SSN.
    pub fn kudos(&self, own: &[u8], other: &[u8], encoding: LabelEncoding, kind: Kind) -> PeerCtx {
        let params = update_ctx(own, other, self.ctx.params(), encoding).expect("updateCtx");
        self.derived(params, Step::kudos(own, other, encoding), kind)
    }

    /// The same Master Secret, Salt, ID Context and algorithms with new IDs (ID update CTX_B,
    /// draft-ietf-core-oscore-id-update-06 §2.2): client-oriented Sender IDs.
    pub fn with_ids(&self, client_id: &[u8], server_id: &[u8]) -> PeerCtx {
        let mut params = self.ctx.params().clone();
        let (s, r) = match self.role {
            Role::Client => (client_id, server_id),
            Role::Server => (server_id, client_id),
        };
        params.sender_id = s.to_vec();
        params.recipient_id = r.to_vec();
        let step = Step::Ids { client_id: client_id.to_vec(), server_id: server_id.to_vec() };
        let kind = if self.kind == Kind::New { Kind::New } else { Kind::Ids };
        let mut c = self.derived(params, step, kind);
        c.label = format!("{}+ids", self.label.trim_end_matches("+ids"));
        c
    }

    pub fn sender_id(&self) -> &[u8] {
        &self.ctx.params().sender_id
    }

    pub fn recipient_id(&self) -> &[u8] {
        &self.ctx.params().recipient_id
    }

    pub fn common_iv(&self) -> &[u8] {
        self.ctx.common_iv()
    }

    /// The same context (same keys-file origin, same derivation steps).
    pub fn same(&self, o: &PeerCtx) -> bool {
        self.def == o.def && self.lineage == o.lineage && self.steps == o.steps
    }

    fn next_piv(&mut self) -> Vec<u8> {
        let piv = piv_from_ssn(self.ssn).expect("SSN below 2^40");
        self.ssn += 1;
        piv
    }

    /// Opens a message the other peer protected with this context.
    fn open(&self, n: &[u8], request_kid: &[u8], request_piv: &[u8], ct: &[u8]) -> Option<Vec<u8>> {
        let a = aad(self.ctx.alg(), request_kid, request_piv);
        self.ctx.recipient_aead().open(n, &a, ct).ok()
    }

    fn max_id_len(&self) -> usize {
        self.ctx.alg().nonce_len() - 6
    }
}

/// A peer's KUDOS state (§4.3.2-4.3.4): BUSY = offered or received a divergent pair, waiting
/// for key confirmation; PENDING = derived CTX_NEW and sent a convergent message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KState {
    Idle,
    Busy,
    Pending,
}

/// How to protect an outgoing message.
#[derive(Debug, Clone)]
pub enum Send {
    /// What the state says: the latest context when IDLE, a convergent message with CTX_NEW
    /// when PENDING (sending while BUSY panics: use [`Send::Force`] for that violation).
    Auto,
    /// A divergent message (CTX_TEMP) with these x flags (p, b) and, when given, this nonce
    /// instead of a fresh one (the nonce-reuse violation). A peer already BUSY as initiator
    /// repeats its pair with the next PIV of its CTX_TEMP.
    Divergent { flags: u8, nonce: Option<Vec<u8>> },
    /// The convergent answer to a received divergent message (derives CTX_NEW, PENDING).
    Convergent,
    /// A violation: this context, and these KUDOS fields in the option, whatever the state.
    Force { ctx: Which, kudos: Option<(u8, Vec<u8>)> },
    /// A violation: an explicitly built context (e.g. CTX_TEMP from an x with the reserved bit).
    ForceWith { ctx: Box<PeerCtx>, kudos: Option<(u8, Vec<u8>)> },
}

/// A context a peer holds, for [`Send::Force`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Current,
    New,
    Temp,
    Retained,
}

/// A request this peer sent, for its responses.
#[derive(Debug, Clone)]
struct SentReq {
    token: Vec<u8>,
    state: RequestState,
    observe: bool,
}

/// A request this peer received, for answering it.
#[derive(Debug, Clone)]
struct RcvdReq {
    token: Vec<u8>,
    state: RequestState,
    ctx: PeerCtx,
}

/// OSCORE ID update progress (draft-ietf-core-oscore-id-update-06 §2.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdUpdate {
    /// The Recipient ID this peer offered (its own new Recipient ID).
    pub offered: Option<Vec<u8>>,
    /// The Recipient ID the other peer offered (this peer's new Sender ID).
    pub received: Option<Vec<u8>>,
    pub acks_sent: u32,
    /// Verified messages carrying a Recipient-ID-Ack equal to `offered`.
    pub acks_received: u32,
    /// The success rule held (>= 3 Acks received and verified, >= 2 sent).
    pub done: bool,
    /// Aborted (a received Recipient-ID too long for the AEAD, or the other peer's 5.03).
    pub aborted: bool,
    /// Recipient-ID carried inside the KUDOS execution running now.
    pub in_kudos: bool,
}

/// What an outgoing message was protected with.
#[derive(Debug, Clone)]
pub struct Out {
    pub p: Protected,
    pub ctx: PeerCtx,
    /// x and nonce in the option (KUDOS messages).
    pub kudos: Option<(u8, Vec<u8>)>,
}

/// What a peer made of a received message.
#[derive(Debug, Clone)]
pub struct Rx {
    pub inner: Inner,
    /// The context that verified it.
    pub ctx: PeerCtx,
    /// The message gave this peer key confirmation (it completed the execution).
    pub confirmed: bool,
    /// Verified with the retained CTX_OLD (a late message, retention policy).
    pub late: bool,
    /// This message made the ID update succeed for this peer.
    pub ids_done: bool,
}

/// One OSCORE peer with KUDOS and ID update.
#[derive(Debug, Clone)]
pub struct Peer {
    pub name: &'static str,
    /// Which end of the keys-file context it is (its Sender ID is the client's or server's).
    pub role: Role,
    /// The latest context (CTX_OLD during an execution).
    pub cur: PeerCtx,
    pub bootstrap: Option<PeerCtx>,
    /// CTX_NEW while PENDING (or derived when both initiate).
    pub new: Option<PeerCtx>,
    /// Own CTX_TEMP as initiator (reused by a retried divergent message).
    pub temp: Option<PeerCtx>,
    /// CTX_OLD kept after an execution (retention policy), for late messages.
    pub retained: Option<PeerCtx>,
    /// CTX_B of a successful stand-alone ID update, not yet in use.
    pub ids_ready: Option<PeerCtx>,
    pub state: KState,
    /// The (x, nonce) of this peer's first KUDOS message of the running execution.
    own: Option<(u8, Vec<u8>)>,
    /// The other peer's first KUDOS (x, nonce) of the running execution.
    other: Option<(u8, Vec<u8>)>,
    /// CTX_IN of the running execution.
    base: Option<PeerCtx>,
    /// b and p of the running execution.
    flags: u8,
    pub encoding: LabelEncoding,
    /// Keep CTX_OLD after an execution for late messages (tried after CTX_NEW).
    pub retain_old: bool,
    /// Ran KUDOS in FS mode before (p = 1 afterwards is a downgrade).
    pub ran_fs: bool,
    pub idu: IdUpdate,
    rng: XorShift64,
    sent: Vec<SentReq>,
    rcvd: Vec<RcvdReq>,
}

impl Peer {
    /// A peer holding keys-file context `def` (index `idx`) as `role`; `seed` drives its nonces.
    pub fn new(name: &'static str, def: &CtxDef, idx: usize, role: Role, seed: u64) -> Peer {
        Peer {
            name,
            role,
            cur: PeerCtx::from_def(def, idx, role, Kind::Initial),
            bootstrap: None,
            new: None,
            temp: None,
            retained: None,
            ids_ready: None,
            state: KState::Idle,
            own: None,
            other: None,
            base: None,
            flags: 0,
            encoding: LabelEncoding::Draft,
            retain_old: false,
            ran_fs: false,
            idu: IdUpdate::default(),
            rng: XorShift64::new(seed),
            sent: Vec::new(),
            rcvd: Vec::new(),
        }
    }

    /// Stops recording derivation steps (the recipes the tests replay): a long run keeps
    /// constant memory.
    pub fn without_recipes(mut self) -> Peer {
        self.cur.record = false;
        if let Some(b) = &mut self.bootstrap {
            b.record = false;
        }
        self
    }

    /// Gives the peer CTX_BOOTSTRAP (keys-file context `def`, index `idx`) for no-FS mode.
    pub fn with_bootstrap(mut self, def: &CtxDef, idx: usize) -> Peer {
        self.bootstrap = Some(PeerCtx::from_def(def, idx, self.role, Kind::Bootstrap));
        self
    }

    fn fresh_nonce(&mut self) -> Vec<u8> {
        let mut n = vec![0; 8];
        self.rng.fill(&mut n);
        n
    }

    fn pick(&self, w: Which) -> PeerCtx {
        match w {
            Which::Current => Some(&self.cur),
            Which::New => self.new.as_ref(),
            Which::Temp => self.temp.as_ref(),
            Which::Retained => self.retained.as_ref(),
        }
        .unwrap_or_else(|| panic!("{}: no {w:?} context", self.name))
        .clone()
    }

    /// The highest Partial IV of this peer's still-active Observe registrations (PIV*, §4.5).
    fn piv_star(&self) -> Option<u64> {
        self.sent
            .iter()
            .filter(|s| s.observe)
            .map(|s| s.state.piv.iter().fold(0u64, |a, b| a << 8 | u64::from(*b)))
            .max()
    }

    /// CTX_NEW of the running execution from both first pairs; its SSN is PIV* + 1 when the
    /// execution preserves observations and this peer has registrations, else 0.
    fn derive_new(&self, other: &(u8, Vec<u8>)) -> PeerCtx {
        let own = self.own.as_ref().expect("own pair");
        let base = self.base.as_ref().expect("CTX_IN of the execution");
        let mut n = base.kudos(&input(own.0, &own.1), &input(other.0, &other.1), self.encoding, Kind::New);
        let cur_gen = self.cur.generation.max(base.generation);
        n.generation = if base.kind == Kind::Bootstrap { cur_gen + 1 } else { base.generation + 1 };
        n.label = format!("g{}", n.generation);
        if self.flags & xbits::B != 0
            && let Some(p) = self.piv_star()
        {
            n.ssn = p + 1;
        }
        n
    }

    /// The context and KUDOS fields for an outgoing message.
    fn choose(&mut self, how: Send) -> (PeerCtx, Option<(u8, Vec<u8>)>) {
        match how {
            Send::Auto => match self.state {
                KState::Idle => (self.cur.clone(), None),
                KState::Pending => {
                    let own = self.own.clone().expect("own pair");
                    (self.new.clone().expect("CTX_NEW"), Some((own.0 | xbits::Z, own.1)))
                }
                KState::Busy => panic!("{}: a non-KUDOS message while BUSY (use Send::Force)", self.name),
            },
            Send::Divergent { flags, nonce } => {
                let reuse = self.state == KState::Busy && self.temp.is_some() && nonce.is_none();
                if !reuse {
                    let base = if flags & xbits::P != 0 {
                        self.bootstrap.clone().expect("CTX_BOOTSTRAP for no-FS mode")
                    } else {
                        self.cur.clone()
                    };
                    let n = nonce.unwrap_or_else(|| self.fresh_nonce());
                    let x = flags | xbits::M8;
                    let mut t = base.kudos(&input(x, &n), &[], self.encoding, Kind::Temp);
                    t.label = format!("{}-temp", base.label);
                    self.own = Some((x, n));
                    self.other = None;
                    self.base = Some(base);
                    self.flags = flags & (xbits::B | xbits::P);
                    self.temp = Some(t);
                    self.new = None;
                }
                self.state = KState::Busy;
                let own = self.own.clone().expect("own pair");
                (self.temp.clone().expect("CTX_TEMP"), Some(own))
            }
            Send::Convergent => {
                let other = self.other.clone().expect("a received divergent message");
                if self.own.is_none() {
                    let n = self.fresh_nonce();
                    self.own = Some((xbits::Z | self.flags | xbits::M8, n));
                }
                let n = match &self.new {
                    Some(n) => n.clone(),
                    None => self.derive_new(&other),
                };
                self.new = Some(n.clone());
                self.state = KState::Pending;
                let own = self.own.clone().expect("own pair");
                (n, Some((own.0 | xbits::Z, own.1)))
            }
            Send::Force { ctx, kudos } => (self.pick(ctx), kudos),
            Send::ForceWith { ctx, kudos } => (*ctx, kudos),
        }
    }

    /// Writes back the SSN the chosen context advanced to.
    fn store_ssn(&mut self, c: &PeerCtx) {
        for slot in [Some(&mut self.cur), self.new.as_mut(), self.temp.as_mut(), self.retained.as_mut()]
            .into_iter()
            .flatten()
        {
            if slot.same(c) {
                slot.ssn = c.ssn;
            }
        }
    }

    /// ID update bookkeeping for an outgoing plaintext.
    fn note_sent_options(&mut self, plain: &CoapMsg) {
        for (n, v) in &plain.options {
            match *n {
                OPT_RECIPIENT_ID => self.idu.offered = Some(v.clone()),
                OPT_RECIPIENT_ID_ACK => self.idu.acks_sent += 1,
                _ => {}
            }
        }
        self.check_ids_done();
    }

    fn check_ids_done(&mut self) -> bool {
        let u = &self.idu;
        if u.done || u.aborted || u.in_kudos || u.acks_received < 3 || u.acks_sent < 2 {
            return false;
        }
        let (Some(offered), Some(received)) = (u.offered.clone(), u.received.clone()) else { return false };
        self.idu.done = true;
        let (client_id, server_id) = match self.role {
            Role::Client => (received, offered),
            Role::Server => (offered, received),
        };
        self.ids_ready = Some(self.cur.with_ids(&client_id, &server_id));
        true
    }

    /// The new IDs after an ID update (client-oriented), from the offered / received values.
    fn new_ids(&self) -> (Vec<u8>, Vec<u8>) {
        let offered = self.idu.offered.clone().expect("offered Recipient ID");
        let received = self.idu.received.clone().expect("received Recipient ID");
        match self.role {
            Role::Client => (received, offered),
            Role::Server => (offered, received),
        }
    }

    /// Starts using the IDs of a successful ID update (CTX_B): SSN 0, or continuing the old
    /// SSN when `keep_ssn` (a careless peer).
    pub fn switch_ids(&mut self, keep_ssn: bool) {
        let mut b = self.ids_ready.take().unwrap_or_else(|| panic!("{}: ID update not done", self.name));
        if keep_ssn {
            b.ssn = self.cur.ssn;
        }
        self.cur = b;
    }

    /// Protects a request.
    pub fn request(&mut self, plain: &CoapMsg, how: Send) -> Out {
        assert!(plain.code != 0 && plain.code < 0x20, "not a request: {plain:?}");
        let (mut c, kudos) = self.choose(how);
        let piv = c.next_piv();
        self.store_ssn(&c);
        let kid = c.sender_id().to_vec();
        let option = option_value(&piv, None, kudos.as_ref().map(|(x, n)| (*x, n.as_slice())), Some(&kid));
        let n = nonce(&kid, &piv, c.common_iv()).expect("IDs fit the nonce").to_vec();
        let mut p = seal(&c.ctx, self.role, plain, true, option, n, &kid, &piv);
        p.nonce_id = kid.clone();
        p.nonce_piv = piv.clone();
        let state = RequestState { kid, piv, nonce: p.nonce.clone() };
        p.request = Some(state.clone());
        let observe = plain.options.iter().any(|(n, v)| *n == opt::OBSERVE && v.is_empty());
        self.sent.retain(|s| s.token != plain.token);
        self.sent.push(SentReq { token: plain.token.clone(), state, observe });
        self.note_sent_options(plain);
        self.after_send(&kudos, plain);
        Out { p, ctx: c, kudos }
    }

    /// Protects a response to the request this peer received with `plain`'s token. Own
    /// Partial IV when asked (notifications), for KUDOS responses, and whenever the context
    /// differs from the one that verified the request (updated RFC 8613 §8.3).
    pub fn response(&mut self, plain: &CoapMsg, how: Send, own_piv: bool) -> Out {
        assert!(plain.code >= 0x40, "not a response: {plain:?}");
        let req = self
            .rcvd
            .iter()
            .find(|r| r.token == plain.token)
            .unwrap_or_else(|| panic!("{}: no request with token {:02x?}", self.name, plain.token))
            .clone();
        let (mut c, kudos) = self.choose(how);
        let with_piv = own_piv || kudos.is_some() || !c.same(&req.ctx);
        let (option, n, nonce_id, nonce_piv) = if with_piv {
            let piv = c.next_piv();
            let id = c.sender_id().to_vec();
            let n = nonce(&id, &piv, c.common_iv()).expect("IDs fit the nonce").to_vec();
            (option_value(&piv, None, kudos.as_ref().map(|(x, n)| (*x, n.as_slice())), None), n, id, piv)
        } else {
            (Vec::new(), req.state.nonce.clone(), req.state.kid.clone(), req.state.piv.clone())
        };
        self.store_ssn(&c);
        let mut p = seal(&c.ctx, self.role, plain, false, option, n, &req.state.kid, &req.state.piv);
        p.nonce_id = nonce_id;
        p.nonce_piv = nonce_piv;
        self.note_sent_options(plain);
        self.after_send(&kudos, plain);
        Out { p, ctx: c, kudos }
    }

    /// After a convergent message carrying the responder's Recipient-ID and the Ack of the
    /// initiator's, the ID update inside KUDOS is agreed: CTX_NEW continues with the new IDs.
    fn after_send(&mut self, kudos: &Option<(u8, Vec<u8>)>, plain: &CoapMsg) {
        let has = |n: u16| plain.options.iter().any(|(m, _)| *m == n);
        if let Some((x, _)) = kudos {
            if x & xbits::Z == 0 && has(OPT_RECIPIENT_ID) {
                self.idu.in_kudos = true;
            }
            if x & xbits::Z != 0
                && self.idu.in_kudos
                && has(OPT_RECIPIENT_ID)
                && has(OPT_RECIPIENT_ID_ACK)
                && self.idu.received.is_some()
                && let Some(n) = &self.new
            {
                let (c, s) = self.new_ids();
                self.new = Some(n.with_ids(&c, &s));
            }
        }
    }

    /// Forgets what this peer remembers of the exchange with `token` (bounded memory).
    pub fn forget(&mut self, token: &[u8]) {
        self.sent.retain(|s| s.token != token);
        self.rcvd.retain(|r| r.token != token);
    }

    /// Receives and verifies a message the other peer sent; moves through the KUDOS states and
    /// counts ID update acknowledgements. `Err` says why the peer drops it.
    pub fn receive(&mut self, wire: &CoapMsg) -> Result<Rx, String> {
        let value = wire
            .options
            .iter()
            .find(|(n, _)| *n == OPT_OSCORE)
            .map(|(_, v)| v.clone())
            .ok_or("not OSCORE-protected")?;
        let f = parse_option(&value).ok_or("malformed OSCORE option")?;
        if let Some((x, _)) = &f.kudos
            && x & xbits::RESERVED != 0
        {
            return Err(format!("x = {x:#04x}: reserved bit set (malformed)"));
        }
        let is_request = wire.code != 0 && wire.code < 0x20;
        let (req_kid, req_piv, fixed_nonce) = if is_request {
            let kid = f.kid.clone().ok_or("request without kid")?;
            (kid, f.piv.clone(), None)
        } else {
            let s =
                self.sent.iter().find(|s| s.token == wire.token).ok_or("response to no request of mine")?;
            let fixed = f.piv.is_empty().then(|| s.state.nonce.clone());
            (s.state.kid.clone(), s.state.piv.clone(), fixed)
        };
        // Candidates: (context, base it was derived from for divergent messages).
        let mut cands: Vec<(PeerCtx, Option<PeerCtx>)> = Vec::new();
        match &f.kudos {
            Some((x, n)) if x & xbits::Z == 0 => {
                let mut bases = Vec::new();
                if x & xbits::P != 0 {
                    bases.extend(self.bootstrap.clone());
                } else {
                    bases.push(self.cur.clone());
                    if self.state == KState::Pending {
                        bases.extend(self.new.clone());
                    }
                }
                for b in bases {
                    let mut t = b.kudos(&input(*x, n), &[], self.encoding, Kind::Temp);
                    t.label = format!("{}-temp", b.label);
                    cands.push((t, Some(b)));
                }
            }
            Some((x, n)) => {
                if self.state != KState::Idle && self.own.is_some() {
                    let c = match &self.new {
                        Some(c) => c.clone(),
                        None => self.derive_new(&self.other.clone().unwrap_or((*x, n.clone()))),
                    };
                    cands.push((c, None));
                } else {
                    cands.push((self.cur.clone(), None));
                    cands.extend(self.retained.clone().map(|r| (r, None)));
                }
            }
            None => {
                cands.extend(self.new.clone().map(|c| (c, None)));
                cands.push((self.cur.clone(), None));
                cands.extend(self.retained.clone().map(|c| (c, None)));
                cands.extend(self.ids_ready.clone().map(|c| (c, None)));
            }
        }
        let mut opened = None;
        for (c, base) in cands {
            if is_request && c.recipient_id() != req_kid.as_slice() {
                continue;
            }
            let n = match &fixed_nonce {
                Some(n) => n.clone(),
                None => match nonce(c.recipient_id(), &f.piv, c.common_iv()) {
                    Ok(n) => n.to_vec(),
                    Err(_) => continue,
                },
            };
            if let Some(pt) = c.open(&n, &req_kid, &req_piv, &wire.payload) {
                opened = Some((c, base, pt, n));
                break;
            }
        }
        let (c, base, pt, n) = opened.ok_or("no context verifies it")?;
        let inner = parse_plaintext(&pt).ok_or("plaintext does not parse")?;
        if is_request {
            self.rcvd.retain(|r| r.token != wire.token);
            self.rcvd.push(RcvdReq {
                token: wire.token.clone(),
                state: RequestState { kid: req_kid, piv: f.piv.clone(), nonce: n },
                ctx: c.clone(),
            });
        }
        let mut rx = Rx { inner, ctx: c.clone(), confirmed: false, late: false, ids_done: false };
        let in_kudos_before = self.idu.in_kudos;
        match &f.kudos {
            Some((x, _)) if x & xbits::Z == 0 && x & xbits::P != 0 && self.ran_fs => {
                // No-FS mode asked by a peer known to be CAPABLE (it ran FS before): a downgrade,
                // ignored for KUDOS and processed as an ordinary message (§4.6).
            }
            Some((x, nn)) if x & xbits::Z == 0 => {
                let base = base.expect("divergent base");
                if self.state == KState::Pending {
                    if self.new.as_ref().is_some_and(|nw| nw.same(&base)) {
                        // Derived from the pending CTX_NEW (a second execution right after the
                        // first): CTX_NEW becomes CTX_OLD.
                        self.cur = base.clone();
                    }
                    // Derived from CTX_OLD (the other peer restarted): CTX_NEW is dropped.
                    self.new = None;
                    self.own = None;
                }
                if self.state == KState::Idle {
                    self.own = None;
                    self.new = None;
                }
                self.other = Some((*x, nn.clone()));
                self.base = Some(base);
                self.flags = x & (xbits::B | xbits::P);
                self.state = KState::Busy;
                if let Some(r) = rx.inner.option(OPT_RECIPIENT_ID) {
                    self.idu.in_kudos = true;
                    self.idu.received = Some(r.to_vec());
                }
            }
            Some(_) if self.state != KState::Idle && self.own.is_some() => {
                if self.idu.in_kudos
                    && rx.inner.option(OPT_RECIPIENT_ID).is_some()
                    && rx.inner.option(OPT_RECIPIENT_ID_ACK) == self.idu.offered.as_deref()
                {
                    self.idu.received = rx.inner.option(OPT_RECIPIENT_ID).map(<[u8]>::to_vec);
                    let (cl, sv) = self.new_ids();
                    self.promote(c.with_ids(&cl, &sv));
                    self.idu = IdUpdate::default();
                } else {
                    self.promote(c);
                }
                rx.confirmed = true;
            }
            Some(_) => {}
            None => {
                if self.new.as_ref().is_some_and(|nw| nw.same(&c)) {
                    self.promote(c);
                    if self.idu.in_kudos {
                        self.idu = IdUpdate::default();
                    }
                    rx.confirmed = true;
                } else if self.retained.as_ref().is_some_and(|r| r.same(&c)) {
                    rx.late = true;
                } else if self.ids_ready.as_ref().is_some_and(|b| b.same(&c)) {
                    self.cur = self.ids_ready.take().expect("CTX_B");
                }
            }
        }
        // ID update options of a stand-alone run (inside KUDOS they were handled above).
        if f.kudos.is_none() && !in_kudos_before {
            if let Some(rid) = rx.inner.option(OPT_RECIPIENT_ID) {
                if rid.len() > self.cur.max_id_len() {
                    self.idu.aborted = true;
                } else {
                    self.idu.received = Some(rid.to_vec());
                }
            }
            if rx.inner.option(OPT_RECIPIENT_ID_ACK).is_some_and(|a| Some(a) == self.idu.offered.as_deref()) {
                self.idu.acks_received += 1;
            }
            if rx.inner.code == 0xa3 && self.idu.offered.is_some() && !self.idu.done {
                // 5.03 without Recipient-ID: the other peer aborted (§2.2).
                self.idu.aborted = true;
            }
            rx.ids_done = self.check_ids_done();
        }
        Ok(rx)
    }

    /// Gives up the running execution (the other peer refused it): back to IDLE with the
    /// latest context.
    pub fn abort(&mut self) {
        self.new = None;
        self.temp = None;
        self.own = None;
        self.other = None;
        self.base = None;
        self.state = KState::Idle;
    }

    /// Key confirmation: CTX_NEW becomes the latest context (Pre-IDLE, §4.3.4).
    fn promote(&mut self, c: PeerCtx) {
        let old = std::mem::replace(&mut self.cur, c);
        self.retained = self.retain_old.then_some(old);
        if self.flags & xbits::P == 0 {
            self.ran_fs = true;
        }
        self.new = None;
        self.temp = None;
        self.own = None;
        self.other = None;
        self.base = None;
        self.state = KState::Idle;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coap::{MsgType::*, code};
    use crate::oscore::hex;

    fn h(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// RFC 8613 C.1 context (client h'', server 01).
    fn c1() -> CtxDef {
        CtxDef::new("c1", h("0102030405060708090a0b0c0d0e0f10"), h("9e7ca92223786340"), &[], &[1])
    }

    /// PROTOCOLS.md §3.10: the divergent request and the convergent response, protected by
    /// the two peers of this module from their own state, byte for byte.
    #[test]
    fn section_3_10_request_and_response() {
        let d = c1();
        let mut client = Peer::new("client", &d, 0, Role::Client, 1);
        let mut server = Peer::new("server", &d, 0, Role::Server, 2);
        let n1 = h("018a278f7faab55a");
        let plain = CoapMsg::new(Con, code::POST, 0x5d1f, &h("00003974")).path(KUDOS_PATH);
        let out = client.request(&plain, Send::Divergent { flags: 0, nonce: Some(n1.clone()) });
        assert_eq!(hex(&out.p.plaintext), "02bb2e77656c6c2d6b6e6f776e056b75646f73");
        assert_eq!(hex(&option_value(&[0], None, Some((0x07, &n1)), Some(&[]))), "89010007018a278f7faab55a");
        assert_eq!(hex(&out.p.nonce), "cad94a4cdb9a2f7bff84e932f7");
        assert_eq!(
            hex(&out.p.msg.encode()),
            "44025d1f000039749c89010007018a278f7faab55affeba8aa1783f5a7ae1e4130301bc3bfb80899bae3e7715af783dc40"
        );
        assert_eq!(client.state, KState::Busy);
        assert_eq!(out.ctx.label, "g0-temp");
        // The server verifies it with CTX_TEMP rebuilt from the wire.
        let rx = server.receive(&out.p.msg).unwrap();
        assert_eq!(rx.ctx.kind, Kind::Temp);
        assert_eq!(rx.inner.code, code::POST);
        assert_eq!(server.state, KState::Busy);
        // Its convergent response with N2 (forced here to the §3.10 value).
        server.own = Some((0x47, h("25a8991cd700ac01")));
        let resp = CoapMsg::new(Ack, code::CHANGED, 0x5d1f, &h("00003974"));
        let out = server.response(&resp, Send::Convergent, false);
        assert_eq!(
            hex(&option_value(&[0], None, Some((0x47, &h("25a8991cd700ac01"))), None)),
            "8101004725a8991cd700ac01"
        );
        assert_eq!(hex(&out.p.nonce), "059bdfeb06c0a2b8e0177aa254");
        assert_eq!(
            hex(&out.p.msg.encode()),
            "64445d1f000039749c8101004725a8991cd700ac01ff2c20888857a8dcacbd"
        );
        assert_eq!((server.state, out.ctx.label.as_str(), out.ctx.generation), (KState::Pending, "g1", 1));
        assert_eq!(hex(out.ctx.common_iv()), "049bdfeb06c0a2b9e0177aa254");
        // The client gets key confirmation from it; its next request uses CTX_NEW at SSN 0 and
        // gives the server key confirmation.
        let rx = client.receive(&out.p.msg).unwrap();
        assert!(rx.confirmed);
        assert_eq!((client.state, client.cur.label.as_str(), client.cur.ssn), (KState::Idle, "g1", 0));
        let get = CoapMsg::new(Con, code::GET, 0x5d20, &h("00003975")).path("/temp");
        let out = client.request(&get, Send::Auto);
        assert_eq!(out.p.request.as_ref().unwrap().piv, [0]);
        let rx = server.receive(&out.p.msg).unwrap();
        assert!(rx.confirmed);
        assert_eq!((server.state, server.cur.label.as_str(), server.cur.ssn), (KState::Idle, "g1", 1));
        // Both record the same derivation (inputs in CBOR order).
        assert_eq!(
            client.cur.steps,
            [Step::Kudos {
                input1: h("07018a278f7faab55a"),
                input2: h("4725a8991cd700ac01"),
                encoding: LabelEncoding::Draft
            }]
        );
        assert!(client.cur.same(&server.cur));
    }

    /// PROTOCOLS.md §4.3 [computed]: ID update Req#1 / Resp#1 under CTX_A (RFC 8613 C.2
    /// secret, no salt; client Sender ID 01, server 00).
    #[test]
    fn section_4_3_id_update_messages() {
        let d = CtxDef::new("a", h("0102030405060708090a0b0c0d0e0f10"), Vec::new(), &[0x01], &[0x00]);
        let mut client = Peer::new("client", &d, 0, Role::Client, 1);
        let mut server = Peer::new("server", &d, 0, Role::Server, 2);
        client.cur.ssn = 5;
        let req = CoapMsg::new(Con, code::GET, 0xa0b1, &h("cafe0001"))
            .path("/temp")
            .opt(OPT_RECIPIENT_ID, vec![0x42]);
        let out = client.request(&req, Send::Auto);
        assert_eq!(hex(&out.p.plaintext), "01b474656d70d10042");
        assert_eq!(hex(&out.p.nonce), "bf35ae297d2dace810c52e99fc");
        assert_eq!(hex(&out.p.msg.encode()), "4402a0b1cafe000193090501ffdcef8c2cdbd85d87989784307227d87adf");
        let rx = server.receive(&out.p.msg).unwrap();
        assert_eq!(rx.inner.option(OPT_RECIPIENT_ID), Some(&[0x42][..]));
        let resp = CoapMsg::new(Ack, code::CONTENT, 0xa0b1, &h("cafe0001"))
            .opt(OPT_RECIPIENT_ID, vec![0x78])
            .opt(OPT_RECIPIENT_ID_ACK, vec![0x42])
            .payload(&b"21.5"[..]);
        let out = server.response(&resp, Send::Auto, false);
        assert_eq!(hex(&out.p.plaintext), "45d10b788142ff32312e35");
        assert_eq!(hex(&out.p.msg.encode()), "6444a0b1cafe000190ff4003f897d4548e3b153f806144c975a1e5dc4d");
        client.receive(&out.p.msg).unwrap();
        assert_eq!((client.idu.received.clone(), client.idu.acks_received), (Some(vec![0x78]), 1));
        // CTX_B of the client: Sender ID 78, Recipient ID 42 (§4.3 keys).
        let b = client.cur.with_ids(&[0x78], &[0x42]);
        assert_eq!((b.sender_id(), b.recipient_id()), (&[0x78][..], &[0x42][..]));
        assert_eq!(hex(b.ctx.sender_key().expose()), "61c116e684efdac69b6f44fdde77ac01");
        assert_eq!(hex(b.ctx.recipient_key().expose()), "12a90049a301401bf7c968ae29fd8deb");
        assert_eq!(b.common_iv(), client.cur.common_iv());
    }

    #[test]
    fn option_round_trip_and_malformed() {
        let v = h("9a0115b3030a0b0c070001020304050607aa");
        let f = parse_option(&v).unwrap();
        assert_eq!(f.piv, h("15b3"));
        assert_eq!(f.kid_context, Some(h("0a0b0c")));
        assert_eq!(f.kudos, Some((0x07, h("0001020304050607"))));
        assert_eq!(f.kid, Some(vec![0xaa]));
        assert_eq!(
            option_value(&f.piv, Some(&h("0a0b0c")), Some((7, &h("0001020304050607"))), Some(&[0xaa])),
            v
        );
        assert_eq!(parse_option(&[]), Some(OptionFields::default()));
        assert_eq!(option_value(&[], None, None, None), Vec::<u8>::new());
        assert!(parse_option(&[0x49, 0x07]).is_none(), "reserved 0x40");
        assert!(parse_option(&[0x0e, 1, 2, 3, 4, 5, 6]).is_none(), "n = 6");
        assert!(parse_option(&[0x81, 0x01, 0x00, 0x07, 1, 2]).is_none(), "nonce past the end");
        assert!(parse_option(&[0x01, 0x00, 0x55]).is_none(), "trailing byte without k");
    }

    #[test]
    fn plaintext_parser() {
        let i = parse_plaintext(&h("45d10b788142ff32312e35")).unwrap();
        assert_eq!(i.code, 0x45);
        assert_eq!(i.options, vec![(24, vec![0x78]), (32, vec![0x42])]);
        assert_eq!(i.payload, b"21.5");
        assert!(parse_plaintext(&[0x45, 0xff]).is_none(), "payload marker without payload");
        assert_eq!(parse_plaintext(&[0x44]).unwrap().options, vec![]);
    }

    /// A lost convergent response: the client repeats its divergent request (same pair, next
    /// PIV of the same CTX_TEMP); the PENDING server drops CTX_NEW and answers with a new
    /// nonce. Then a second execution from the new CTX_NEW before the server had key
    /// confirmation: the server verifies it with CTX_TEMP derived from CTX_NEW.
    #[test]
    fn restart_and_second_execution_on_top() {
        let d = c1();
        let mut c = Peer::new("client", &d, 0, Role::Client, 21);
        let mut s = Peer::new("server", &d, 0, Role::Server, 22);
        let div = |c: &mut Peer, t: u8| {
            c.request(
                &CoapMsg::new(Con, code::POST, u16::from(t), &[t]).path(KUDOS_PATH),
                Send::Divergent { flags: 0, nonce: None },
            )
        };
        let d1 = div(&mut c, 1);
        s.receive(&d1.p.msg).unwrap();
        let lost = s.response(&CoapMsg::new(Ack, code::CHANGED, 1, &[1]), Send::Convergent, false);
        assert_eq!(s.state, KState::Pending);
        let d2 = div(&mut c, 2);
        assert_eq!(
            (d2.kudos.clone(), d2.p.request.as_ref().unwrap().piv.clone()),
            (d1.kudos.clone(), vec![1])
        );
        assert!(d2.ctx.same(&d1.ctx), "the same CTX_TEMP");
        s.receive(&d2.p.msg).unwrap();
        assert_eq!((s.state, s.new.is_none()), (KState::Busy, true), "CTX_NEW dropped");
        let conv = s.response(&CoapMsg::new(Ack, code::CHANGED, 2, &[2]), Send::Convergent, false);
        assert_ne!(conv.kudos.as_ref().unwrap().1, lost.kudos.as_ref().unwrap().1, "a new nonce N3");
        assert!(!conv.ctx.same(&lost.ctx));
        assert!(c.receive(&conv.p.msg).unwrap().confirmed);
        assert!(c.receive(&lost.p.msg).is_err(), "the old CTX_NEW is gone");
        // Second execution on top of the server's pending CTX_NEW.
        let d3 = div(&mut c, 3);
        assert_eq!(d3.ctx.label, "g1-temp");
        s.receive(&d3.p.msg).unwrap();
        assert!(s.cur.same(&conv.ctx), "the pending CTX_NEW became CTX_OLD");
        let conv2 = s.response(&CoapMsg::new(Ack, code::CHANGED, 3, &[3]), Send::Convergent, false);
        assert_eq!((conv2.ctx.label.as_str(), conv2.ctx.generation), ("g2", 2));
        assert!(c.receive(&conv2.p.msg).unwrap().confirmed);
        let get = c.request(&CoapMsg::new(Con, code::GET, 4, &[4]).path("/x"), Send::Auto);
        assert!(s.receive(&get.p.msg).unwrap().confirmed);
        assert!(c.cur.same(&s.cur) && c.cur.generation == 2);
    }

    /// Both peers initiate: each answers the other's divergent request with a convergent
    /// response; both reach the same CTX_NEW from the two divergent pairs.
    #[test]
    fn both_initiate_converges() {
        let d = c1();
        let mut a = Peer::new("client", &d, 0, Role::Client, 11);
        let mut b = Peer::new("server", &d, 0, Role::Server, 12);
        let ra = a.request(
            &CoapMsg::new(Con, code::POST, 1, &[1]).path(KUDOS_PATH),
            Send::Divergent { flags: 0, nonce: None },
        );
        let rb = b.request(
            &CoapMsg::new(Con, code::POST, 2, &[2]).path(KUDOS_PATH),
            Send::Divergent { flags: 0, nonce: None },
        );
        a.receive(&rb.p.msg).unwrap();
        b.receive(&ra.p.msg).unwrap();
        let ca = a.response(&CoapMsg::new(Ack, code::CHANGED, 2, &[2]), Send::Convergent, false);
        let cb = b.response(&CoapMsg::new(Ack, code::CHANGED, 1, &[1]), Send::Convergent, false);
        assert_eq!(ca.kudos.as_ref().unwrap().0, 0x47);
        assert!(a.receive(&cb.p.msg).unwrap().confirmed);
        assert!(b.receive(&ca.p.msg).unwrap().confirmed);
        assert!(a.cur.same(&b.cur));
        let Step::Kudos { input1, input2, .. } = &a.cur.steps[0] else { panic!() };
        assert_eq!((input1[0], input2[0]), (0x07, 0x07), "both divergent x bytes");
    }
}
