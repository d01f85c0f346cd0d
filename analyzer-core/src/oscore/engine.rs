//! The OSCORE decryption engine: for each CoAP message with an OSCORE option, select the
//! security context, rebuild nonce and AAD, open the ciphertext, decode the inner message, and
//! audit what it sees (replays, AEAD nonce reuse, key-usage limits).
//!
//! Expected failures are outcomes, not errors ([`Status`]). State is bounded: requests are
//! remembered for EXCHANGE_LIFETIME (observation registrations while they are in use), and
//! the PIV history per key keeps a fixed window.
//!
//! Context selection (RFC 8613 §8.2 leaves it to the endpoint; an analyzer must guess): a
//! request's `kid` names the sender's Sender ID; every context in which some peer has that
//! Sender ID (and whose ID Context equals the `kid context`, when one is sent) is a candidate.
//! Candidates are tried in a bounded, deterministic order: the context that last opened a
//! message of the same association (endpoint pair + kid), then by how well the endpoints fit
//! the keys file's hints, then current before retired, then newest generation, then store
//! order. Responses use the context, nonce and AAD inputs of their request (matched by the
//! exchange tracker, which handles empty tokens by endpoint and MID).

use super::context::{DerivedContext, aad_into, nonce};
use super::kudos::{self, LabelEncoding};
use super::option::{KudosFields, OscoreOption, ParsedOption, ProblemClass};
use super::store::{ContextStore, CtxId, CtxKind, LimitLevel, Name, NewContext, Origin, StoredContext};
use crate::bytes::SmallBytes;
use crate::coap::exchange::{ExchangeInfo, MsgMeta, ObserveInfo};
use crate::coap::message::{Buffers, Message};
use crate::collections::{FastMap, Fifo, FrameKeys, nz};
use crate::finding::{Finding, FindingKind, Layer, Severity, Span};
use crate::keys::PeerSlot;
use crate::net::Endpoint;
use crate::time::Timestamp;
use std::collections::{BTreeMap, VecDeque};
use std::hash::BuildHasher;
use std::num::NonZeroU64;
use std::ops::Range;

/// CoAP option numbers the engine looks at.
const OPT_OSCORE: u16 = 9;
const OPT_ECHO: u16 = 252;

/// Engine settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// Most contexts tried for one message.
    pub max_trials: usize,
    /// Most KUDOS derivations tried for one KUDOS message (bases x inputs x label encodings).
    pub max_kudos_trials: usize,
    /// PIVs remembered per key for replay / nonce-reuse detection.
    pub piv_history: usize,
    /// Seconds a request is remembered for its responses (EXCHANGE_LIFETIME).
    pub request_lifetime_secs: u32,
    /// Seconds an Observe registration is remembered after its last notification.
    pub observation_lifetime_secs: u32,
    /// Cap on remembered requests (oldest dropped first).
    pub max_requests: usize,
    /// Warn when a key's q or v reaches this fraction of its limit (percent).
    pub limit_warn_percent: u8,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            max_trials: 16,
            max_kudos_trials: 64,
            piv_history: 4096,
            request_lifetime_secs: 247,
            observation_lifetime_secs: 24 * 3600,
            // Under half of a 65536-bucket table, as `ExchangeConfig::max_live`.
            max_requests: 28000,
            limit_warn_percent: 75,
        }
    }
}

/// What happened to a protected message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// Opened and verified.
    Decrypted,
    /// The capture cut the message short: decrypted without verifying the tag.
    TagTruncated,
    /// Every candidate context failed to verify the tag.
    TagMismatch,
    /// No loaded context has a peer with this `kid` (and `kid context`).
    NoContext,
    /// A response whose request is not in the capture (or could not be decrypted): the AAD
    /// inputs are unknown.
    NoRequest,
    /// The OSCORE option could not be parsed, or the message has no ciphertext.
    MalformedOption,
    /// A plain (unprotected) CoAP error answering an OSCORE request (RFC 8613 §8.2/§8.3).
    UnprotectedError,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Decrypted => "decrypted",
            Status::TagTruncated => "tag_truncated",
            Status::TagMismatch => "tag_mismatch",
            Status::NoContext => "no_context",
            Status::NoRequest => "no_request",
            Status::MalformedOption => "malformed_option",
            Status::UnprotectedError => "unprotected_error",
        }
    }
    /// True when the inner message is available.
    pub fn has_plaintext(self) -> bool {
        matches!(self, Status::Decrypted | Status::TagTruncated)
    }
}

/// Where the AEAD nonce of a message came from (RFC 8613 §5.2, §8.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceSource {
    /// The message's own Partial IV with its sender's ID.
    OwnPiv,
    /// A response without a Partial IV: the request's nonce.
    RequestNonce,
}

/// RFC 8613 Appendix B.1.2 replay-window recovery roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EchoRecovery {
    /// A protected 4.01 carrying only Echo and the server's own PIV.
    Challenge,
    /// A request repeating the Echo value it was sent.
    Response,
}

/// The context a message was opened with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextRef {
    pub id: CtxId,
    pub name: Name,
    pub label: Name,
    pub generation: u32,
    pub kind: CtxKind,
    /// The context it was derived from, if any.
    pub parent: Option<CtxId>,
    /// The context had been retired (replaced by a newer one) before this message.
    pub retired: bool,
    /// The lineage root (the loaded context this one descends from).
    pub root: CtxId,
    /// The slot of the peer that protected the message, and its name ("client", "local"...).
    pub sender: PeerSlot,
    pub sender_name: &'static str,
}

/// How a KUDOS message (flag d set) was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KudosRecord {
    /// The x byte and nonce of this message.
    pub x: u8,
    pub nonce: Vec<u8>,
    /// The context derivation input this message gives (X || N).
    pub input: Vec<u8>,
    /// The context it was derived from (CTX_OLD or CTX_BOOTSTRAP), when it opened, and its
    /// generation label.
    pub base: Option<CtxId>,
    pub base_label: Option<Name>,
    /// The other peer's input combined into CTX_NEW (convergent messages) and its frame.
    pub partner: Option<(Vec<u8>, u64)>,
    /// The own input that entered updateCtx (differs from `input` only in the x byte when the
    /// peer's earlier divergent X was used, PROTOCOLS.md §8.3).
    pub own_input_used: Option<Vec<u8>>,
    pub encoding: Option<LabelEncoding>,
    /// True when this message made the engine derive (and store) its context.
    pub newly_derived: bool,
}

/// The OSCORE part of one message.
#[derive(Debug, Clone, PartialEq)]
pub struct OscoreRecord {
    pub status: Status,
    /// The OSCORE option (absent for [`Status::UnprotectedError`]).
    pub option: Option<ParsedOption>,
    /// Where the option value lies in the CoAP message bytes.
    pub option_range: Option<Range<usize>>,
    pub context: Option<ContextRef>,
    /// The AAD inputs: the request's kid and Partial IV (RFC 8613 §5.4).
    pub request_kid: Option<SmallBytes>,
    pub request_piv: Option<SmallBytes>,
    /// The request frame whose nonce/AAD a response used.
    pub request_frame: Option<u64>,
    pub nonce: Option<SmallBytes>,
    pub nonce_source: Option<NonceSource>,
    /// The inner message parsed from the plaintext (code, options, payload), when decrypted;
    /// its `bytes` are the plaintext ([`OscoreRecord::plaintext`]).
    pub inner: Option<Message>,
    /// What the inner exchange tracker learned (inner Block-wise bodies), filled in by the
    /// analysis driver for inner requests and inner messages with a Block option.
    pub inner_exchange: Option<Box<ExchangeInfo>>,
    pub echo_recovery: Option<EchoRecovery>,
    /// KUDOS fields and derivation, for messages with the d flag.
    pub kudos: Option<Box<KudosRecord>>,
    /// Candidate contexts tried, in order, with whether each verified.
    pub tried: Vec<(Name, bool)>,
    /// Findings, spans relative to the CoAP message (or `Span::Decrypted` for the plaintext).
    pub findings: Vec<Finding>,
}

impl OscoreRecord {
    pub(crate) fn new(status: Status) -> Self {
        OscoreRecord {
            status,
            option: None,
            option_range: None,
            context: None,
            request_kid: None,
            request_piv: None,
            request_frame: None,
            nonce: None,
            nonce_source: None,
            inner: None,
            inner_exchange: None,
            echo_recovery: None,
            kudos: None,
            tried: Vec::new(),
            findings: Vec::new(),
        }
    }

    /// Back to [`OscoreRecord::new`], keeping the allocations of `tried` and `findings`.
    fn reset(&mut self, status: Status) {
        let (mut tried, mut findings) = (std::mem::take(&mut self.tried), std::mem::take(&mut self.findings));
        tried.clear();
        findings.clear();
        *self = OscoreRecord { tried, findings, ..OscoreRecord::new(status) };
    }

    /// The parsed option, when it parsed.
    pub fn opt(&self) -> Option<&OscoreOption> {
        self.option.as_ref().map(|p| &p.option)
    }

    /// The plaintext (code, options, payload), when decrypted.
    pub fn plaintext(&self) -> Option<&[u8]> {
        self.inner.as_ref().map(|m| m.bytes.as_slice())
    }
}

/// One message as the engine sees it.
#[derive(Debug, Clone, Copy)]
pub struct MessageInput<'a> {
    pub meta: &'a MsgMeta,
    pub message: &'a Message,
    pub exchange: &'a ExchangeInfo,
    /// Bytes of the CoAP message missing from the capture (0 when complete).
    pub missing_bytes: usize,
}

/// What the engine remembers of a request until its responses arrive: 112 bytes, so that a
/// table slot takes two cache lines (a full table writes one slot per request and reads one
/// back a table later, neither in the cache). The request's nonce is not kept: a response
/// without a Partial IV rebuilds it from the context, kid and PIV.
#[derive(Debug, Clone)]
struct RequestEntry {
    ctx: Option<CtxId>,
    kid: SmallBytes,
    src: Endpoint,
    piv: ShortPiv,
    /// First response without a PIV: (frame, ciphertext digest), for nonce-reuse checks.
    pivless_response: Option<(NonZeroU64, u64)>,
    /// The Echo value challenged by a B.1.2 response to this request.
    echo: Option<Box<[u8]>>,
    /// The inner request's resource, noted by the analysis driver
    /// ([`Engine::note_inner_resource`]); meaningful when `has_inner_resource`.
    inner_resource: u64,
    has_inner_resource: bool,
    requester: PeerSlot,
    /// A request that registered an observation (kept longer).
    observe: bool,
}

/// A Partial IV kept inline: the option's 3-bit length field allows at most 7 bytes.
#[derive(Debug, Clone, Copy)]
struct ShortPiv {
    len: u8,
    bytes: [u8; 7],
}

impl ShortPiv {
    /// The first 7 bytes of `piv` (all of any PIV an OSCORE option can carry).
    fn new(piv: &[u8]) -> Self {
        let mut bytes = [0; 7];
        let len = piv.len().min(7);
        if let (Some(d), Some(s)) = (bytes.get_mut(..len), piv.get(..len)) {
            d.copy_from_slice(s);
        }
        ShortPiv { len: len as u8, bytes }
    }

    fn as_slice(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }
}

/// PIVs seen under one key, for replay and nonce-reuse detection.
#[derive(Debug, Default)]
struct PivHistory {
    /// (PIV, first frame, ciphertext digest), ascending by PIV. Senders count up, so a new PIV
    /// almost always goes at the back; an older one is found by binary search.
    seen: VecDeque<(u64, u64, u64)>,
    /// PIVs below this were forgotten (window).
    floor: u64,
}

enum PivCheck {
    Fresh,
    SameCiphertext(u64),
    DifferentCiphertext(u64),
    BelowWindow,
}

/// PIVs still remembered per peer of a retired context: a late or replayed message under it
/// is still checked, and a capture with many key updates keeps a small history per context.
const RETIRED_PIVS_KEPT: usize = 64;

impl PivHistory {
    /// Forgets all but the `n` highest PIVs (the window floor moves up).
    fn shrink_to(&mut self, n: usize) {
        while self.seen.len() > n {
            let Some((lowest, _, _)) = self.seen.pop_front() else { break };
            self.floor = lowest + 1;
        }
    }

    /// [`PivHistory::shrink_to`] and give the memory back (a retired context's history).
    fn retire_to(&mut self, n: usize) {
        self.shrink_to(n);
        self.seen.shrink_to_fit();
    }

    fn check_insert(&mut self, piv: u64, frame: u64, digest: u64, cap: usize) -> PivCheck {
        let at = if self.seen.back().is_none_or(|&(last, _, _)| last < piv) {
            self.seen.len()
        } else {
            self.seen.partition_point(|&(p, _, _)| p < piv)
        };
        if let Some(&(p, first, d)) = self.seen.get(at)
            && p == piv
        {
            return if d == digest {
                PivCheck::SameCiphertext(first)
            } else {
                PivCheck::DifferentCiphertext(first)
            };
        }
        if piv < self.floor {
            return PivCheck::BelowWindow;
        }
        self.seen.insert(at, (piv, frame, digest));
        self.shrink_to(cap);
        PivCheck::Fresh
    }
}

/// A candidate context for a message.
#[derive(Debug, Clone)]
enum Cand {
    /// A context in the store, with the slot of the peer that would have protected the message.
    Existing { id: CtxId, slot: PeerSlot },
    /// A KUDOS context to derive from the wire.
    Kudos(KudosCand),
}

#[derive(Debug, Clone)]
struct KudosCand {
    base: CtxId,
    slot: PeerSlot,
    kind: CtxKind,
    own: Vec<u8>,
    other: Option<(Vec<u8>, u64)>,
    encoding: LabelEncoding,
}

#[derive(Debug, Clone)]
struct KudosUse {
    cand: KudosCand,
    newly_derived: bool,
}

/// A verified (or tag-truncated) open; the plaintext is in `Scratch::plaintext`.
#[derive(Debug)]
struct Opened {
    id: CtxId,
    slot: PeerSlot,
    nonce: SmallBytes,
    verified: bool,
    kudos: Option<KudosUse>,
}

/// How to build the nonce of a message from a candidate context.
#[derive(Debug, Clone, Copy)]
enum NonceSpec<'a> {
    /// The sender's ID (from the candidate context) and this Partial IV.
    OwnPiv(&'a [u8]),
    /// A response without a Partial IV: the request's nonce.
    Fixed(&'a [u8]),
}

/// A KUDOS input seen on the wire (kept per lineage for convergent derivations).
#[derive(Debug, Clone)]
struct KudosSeen {
    slot: PeerSlot,
    input: Vec<u8>,
    frame: u64,
    convergent: bool,
}

const KUDOS_INPUTS_KEPT: usize = 16;

/// Counters over the capture.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineStats {
    pub protected: u64,
    pub by_status: BTreeMap<&'static str, u64>,
    /// KUDOS contexts derived to try a message (updateCtx + RFC 8613 derivation), and how many
    /// of them verified and joined the store.
    pub kudos_derivations: u64,
    pub kudos_contexts: u64,
}

/// The engine.
#[derive(Debug)]
pub struct Engine {
    config: EngineConfig,
    store: ContextStore,
    /// Request frame -> what its responses need. Kept in insertion order (expiry and the
    /// cap pop the oldest without a random table access); a notification renews its
    /// registration (`Fifo::refresh`). Indexed by frame number as it is (`FrameKeys`).
    requests: Fifo<RequestEntry, FrameKeys>,
    /// Digest of (sender endpoint, receiver endpoint, kid) -> context that last opened such a
    /// request (a digest collision, 2^-64, only costs one failed trial).
    winners: FastMap<u64, CtxId>,
    /// Seeded per process: association and ciphertext digests.
    digests: foldhash::quality::RandomState,
    /// The buffers of each trial.
    scratch: Scratch,
    /// A record handed back by [`Engine::recycle`], filled again by the next message.
    spare_record: Option<Box<OscoreRecord>>,
    /// (context, protecting slot) -> PIV history.
    pivs: FastMap<(CtxId, PeerSlot), PivHistory>,
    /// KUDOS contexts already derived: (CTX_IN, X_N, label encoding) -> context.
    kudos_cache: FastMap<(CtxId, Vec<u8>, LabelEncoding), CtxId>,
    /// Lineage root -> the most recent KUDOS inputs seen (bounded).
    kudos_inputs: FastMap<CtxId, Vec<KudosSeen>>,
    stats: EngineStats,
    last_prune: Option<Timestamp>,
}

/// What each trial writes: the AAD it builds, and the plaintext it decrypts into. The inner
/// message of the trial that verified is parsed from the latter (with the option list of a
/// recycled record's inner message: [`Engine::recycle`]).
#[derive(Debug, Default)]
struct Scratch {
    aad: Vec<u8>,
    plaintext: Buffers,
}

fn piv_u64(piv: &[u8]) -> u64 {
    piv.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

fn oscore_finding(kind: FindingKind, severity: Severity, message: String) -> Finding {
    Finding::new(kind, severity, Layer::Oscore, message)
}

impl Engine {
    pub fn new(config: EngineConfig, store: ContextStore) -> Self {
        Engine {
            requests: Fifo::with_capacity(config.max_requests),
            config,
            store,
            winners: FastMap::default(),
            digests: foldhash::quality::RandomState::default(),
            scratch: Scratch::default(),
            spare_record: None,
            pivs: FastMap::default(),
            kudos_cache: FastMap::default(),
            kudos_inputs: FastMap::default(),
            stats: EngineStats::default(),
            last_prune: None,
        }
    }

    pub fn store(&self) -> &ContextStore {
        &self.store
    }

    /// Derives an OSCORE ID update's CTX_B from `base` (draft-ietf-core-oscore-id-update §2.2):
    /// same Master Secret, Master Salt, ID Context and algorithms, new Sender IDs for peer A
    /// and peer B, keys re-derived (the Common IV does not depend on the IDs), SSN from 0. The
    /// context joins the store (kind IdUpdate, parent `base`) so later traffic with the new
    /// kids decrypts. Returns the existing context if these IDs were derived from `base` before.
    pub fn derive_ids(&mut self, base: CtxId, sid_a: &[u8], sid_b: &[u8], frame: u64) -> Option<CtxId> {
        if let Some(existing) = self.store.iter().find(|c| {
            c.parent == Some(base)
                && c.kind == CtxKind::IdUpdate
                && c.sender_id(PeerSlot::A) == sid_a
                && c.sender_id(PeerSlot::B) == sid_b
        }) {
            return Some(existing.id);
        }
        let b = self.store.get(base)?;
        let mut params = b.params().clone();
        params.sender_id = sid_a.to_vec();
        params.recipient_id = sid_b.to_vec();
        let derived = DerivedContext::derive(params).ok()?;
        let n =
            self.store.iter().filter(|c| c.parent == Some(base) && c.kind == CtxKind::IdUpdate).count() + 1;
        let label = format!("{}-id{n}", b.label);
        let root_name = self.store.get(b.root).map_or_else(|| b.name.clone(), |r| r.name.clone());
        let new = NewContext {
            name: format!("{root_name}/{label}"),
            label,
            generation: b.generation,
            parent: Some(base),
            kind: CtxKind::IdUpdate,
            origin: Origin::Derived {
                how: format!(
                    "ID update CTX_B ({} sender id {}, {} sender id {})",
                    b.slot_names.a,
                    show_id(sid_a),
                    b.slot_names.b,
                    show_id(sid_b)
                ),
                frame,
            },
            bootstrap: false,
            slot_names: b.slot_names.clone(),
            endpoints: b.endpoints.clone(),
            limits: b.limits,
            derived,
        };
        Some(self.store.insert(new))
    }

    /// Marks a context as no longer current (after a completed key update), from `frame` on.
    /// It is still tried, after newer generations, for late messages (retention).
    /// A bootstrap context is never retired (it stays the input of later no-FS updates).
    pub fn retire(&mut self, ctx: CtxId, frame: u64) {
        if let Some(c) = self.store.get_mut(ctx)
            && c.retired_at.is_none()
            && !c.bootstrap
        {
            c.retired_at = Some(frame);
            for slot in [PeerSlot::A, PeerSlot::B] {
                if let Some(h) = self.pivs.get_mut(&(ctx, slot)) {
                    h.retire_to(RETIRED_PIVS_KEPT);
                }
            }
        }
    }

    /// Notes the resource of a decrypted request's inner message (its inner exchange tracker's
    /// [`ExchangeTracker::resource_of`]), kept as long as the request is: the analysis driver
    /// hands it to the inner tracker with a response to that request, instead of showing the
    /// tracker every inner request. `request_frame` is the request's first transmission.
    ///
    /// [`ExchangeTracker::resource_of`]: crate::coap::ExchangeTracker::resource_of
    pub fn note_inner_resource(&mut self, request_frame: u64, resource: u64) {
        if let Some(e) = self.requests.get_mut(&request_frame) {
            e.inner_resource = resource;
            e.has_inner_resource = true;
        }
    }

    /// What [`Engine::note_inner_resource`] noted for a request frame still remembered.
    pub fn inner_resource(&self, request_frame: u64) -> Option<u64> {
        let e = self.requests.get(&request_frame)?;
        e.has_inner_resource.then_some(e.inner_resource)
    }

    pub fn stats(&self) -> &EngineStats {
        &self.stats
    }

    /// Hands back a record the caller is done with: the next protected message is written
    /// into it and its plaintext buffers, without allocating (see `Analyzer::recycle`).
    pub fn recycle(&mut self, mut record: Box<OscoreRecord>) {
        if let Some(mut inner) = record.inner.take() {
            self.scratch.plaintext = inner.take_buffers();
        }
        self.spare_record = Some(record);
    }

    /// Processes one CoAP message; `None` when it has nothing to do with OSCORE.
    ///
    /// Boxed: a record is large, and most messages of a plain CoAP capture have none (moving
    /// an `Option` of the record copies all of it, `None` included).
    pub fn process(&mut self, input: MessageInput<'_>) -> Option<Box<OscoreRecord>> {
        let m = input.message;
        self.prune(input.meta.ts);
        let opt = m.find_option(OPT_OSCORE).cloned();
        let record = match opt {
            Some(o) => {
                let mut r = match self.spare_record.take() {
                    Some(mut r) => {
                        r.reset(Status::MalformedOption);
                        r
                    }
                    None => Box::new(OscoreRecord::new(Status::MalformedOption)),
                };
                self.protected(input, o.value.clone(), &mut r);
                Some(r)
            }
            None => self.unprotected(input),
        };
        if let Some(r) = &record {
            self.stats.protected += u64::from(r.status != Status::UnprotectedError);
            *self.stats.by_status.entry(r.status.as_str()).or_default() += 1;
        }
        record
    }

    /// A plain CoAP error answering a protected request (RFC 8613 §8.2: 4.00, 4.01, 4.02).
    fn unprotected(&mut self, input: MessageInput<'_>) -> Option<Box<OscoreRecord>> {
        let m = input.message;
        // The code first: most plain responses answer plain requests, absent from the table.
        if !(m.code.is_response() && matches!(m.code.0, 0x80..=0x82)) {
            return None;
        }
        let req = input.exchange.request_frame?;
        let entry = self.requests.get(&req)?;
        let mut r = OscoreRecord::new(Status::UnprotectedError);
        r.request_frame = Some(req);
        r.request_kid = Some(entry.kid.clone());
        r.request_piv = Some(entry.piv.as_slice().into());
        let diag = String::from_utf8_lossy(m.payload()).into_owned();
        r.findings.push(oscore_finding(
            FindingKind::OscoreUnprotectedError,
            Severity::Low,
            format!(
                "unprotected {} answers the OSCORE request in frame {req}{}: the server could not process it (RFC 8613 §8.2), visible to any observer",
                crate::analysis::code_label(m.code),
                if diag.is_empty() { String::new() } else { format!(" ({diag:?})") }
            ),
        ).related([req]));
        Some(Box::new(r))
    }

    fn protected(&mut self, input: MessageInput<'_>, value: Range<usize>, r: &mut OscoreRecord) {
        let m = input.message;
        let parsed = OscoreOption::parse(m.bytes.get(value.clone()).unwrap_or_default());
        r.option_range = Some(value.clone());
        let rel = |range: Range<usize>| Span::frame(range.start + value.start..range.end + value.start);
        for p in &parsed.problems {
            let (kind, severity) = match p.class() {
                ProblemClass::Note => (FindingKind::OscoreOptionNote, Severity::Info),
                ProblemClass::Unsupported => (FindingKind::OscoreUnsupported, Severity::Low),
                ProblemClass::Malformed => (FindingKind::OscoreMalformedOption, Severity::High),
            };
            r.findings.push(oscore_finding(kind, severity, format!("OSCORE option: {p}")).at(rel(p.range())));
        }
        let malformed = parsed.problems.iter().any(|p| p.class() != ProblemClass::Note);
        if malformed {
            self.remember_unopened_request(input, &parsed.option);
            r.option = Some(parsed);
            return;
        }
        if m.payload.is_empty() && input.missing_bytes == 0 {
            r.findings.push(
                oscore_finding(
                    FindingKind::OscoreMalformedOption,
                    Severity::High,
                    "OSCORE option present but no payload: a protected message always carries ciphertext (RFC 8613 §2)"
                        .into(),
                )
                .at(Span::frame(m.bytes.len()..m.bytes.len())),
            );
            self.remember_unopened_request(input, &parsed.option);
            r.option = Some(parsed);
            return;
        }
        self.check_outer_options(m, r);
        // The option goes into the record once the message is processed; meanwhile it is
        // read from here while the record is written.
        if m.code.is_request() {
            self.request(input, r, &parsed.option);
        } else {
            self.response(input, r, &parsed.option);
        }
        r.option = Some(parsed);
        if let Some(c) = &r.context
            && let Some(ctx) = self.store.get(c.id)
        {
            let l = ctx.limits.l_bytes;
            let len = (m.payload.len() + input.missing_bytes) as u64;
            if len > l {
                r.findings.push(oscore_finding(
                    FindingKind::OscoreMessageTooLong,
                    Severity::Medium,
                    format!(
                        "ciphertext of {len} bytes exceeds the l = {l} bytes the key-usage limits of {} assume (draft-ietf-core-oscore-key-limits §2.1)",
                        ctx.alg()
                    ),
                ));
            }
        }
    }

    fn remember_unopened_request(&mut self, input: MessageInput<'_>, opt: &OscoreOption) {
        if input.message.code.is_request() {
            let (kid, piv) = (opt.kid_value().unwrap_or_default(), opt.piv_value().unwrap_or_default());
            self.remember_request(input, None, PeerSlot::A, kid, piv);
        }
    }

    /// Class E options must not travel outside (RFC 8613 §4.1): Uri-Path, Content-Format...
    fn check_outer_options(&self, m: &Message, r: &mut OscoreRecord) {
        for o in &m.options {
            let Some(def) = crate::coap::options::option_def(o.number) else { continue };
            if def.oscore_class == crate::coap::options::OscoreClass::E && !def.provisional {
                r.findings.push(
                    oscore_finding(
                        FindingKind::OscoreClassEOuter,
                        Severity::Medium,
                        format!(
                            "{} (class E) is sent unprotected in the outer message; RFC 8613 §4.1 requires it inside the ciphertext",
                            def.name
                        ),
                    )
                    .at(Span::frame(o.range.clone())),
                );
            }
        }
    }

    fn request(&mut self, input: MessageInput<'_>, r: &mut OscoreRecord, opt: &OscoreOption) {
        let m = input.message;
        let meta = input.meta;
        let (Some(kid), Some(piv)) = (opt.kid_value(), opt.piv_value()) else {
            r.status = Status::MalformedOption;
            r.findings.push(oscore_finding(
                FindingKind::OscoreMalformedOption,
                Severity::High,
                format!(
                    "OSCORE request without {}: a request must carry its kid and Partial IV (RFC 8613 §6.1)",
                    if opt.kid_value().is_none() { "kid" } else { "Partial IV" }
                ),
            ));
            self.remember_unopened_request(input, opt);
            return;
        };
        r.request_kid = Some(kid.into());
        r.request_piv = Some(piv.into());
        let kid_context = opt.kid_context_value();
        let spec = NonceSpec::OwnPiv(piv);
        // Fast path: the context that opened this association's last request (with many
        // generations sharing a kid, sorting them all per message would dominate).
        let winner = if opt.kudos().is_none() { self.winner(kid, kid_context, meta) } else { None };
        let mut opened = None;
        if let Some((id, slot)) = winner {
            let first = [Cand::Existing { id, slot }];
            opened =
                self.try_candidates(&first, spec, kid, piv, m.payload(), input.missing_bytes, r, meta.frame);
        }
        let existing = if opened.is_none() {
            let mut all = self.request_candidates(kid, kid_context, meta);
            all.retain(|c| Some(*c) != winner);
            all
        } else {
            Vec::new()
        };
        let candidates = match opt.kudos() {
            // A KUDOS request is protected with CTX_TEMP (divergent) or CTX_NEW (convergent),
            // derived from the current context of the sender's lineage (or its bootstrap).
            Some(k) => {
                let bases = self.kudos_bases(existing.iter().map(|&(id, slot)| (id, slot)), k.no_fs());
                self.kudos_candidates(k, &bases)
            }
            None => existing.iter().map(|&(id, slot)| Cand::Existing { id, slot }).collect(),
        };
        if opened.is_none() {
            opened = self.try_candidates(
                &candidates,
                spec,
                kid,
                piv,
                m.payload(),
                input.missing_bytes,
                r,
                meta.frame,
            );
        }
        if opened.is_none() && opt.kudos().is_some() {
            // A KUDOS message must not be protected with CTX_OLD; find out whether it was (the
            // KUDOS observer reports it as a conformance slip).
            let plain: Vec<Cand> = existing.iter().map(|&(id, slot)| Cand::Existing { id, slot }).collect();
            opened =
                self.try_candidates(&plain, spec, kid, piv, m.payload(), input.missing_bytes, r, meta.frame);
        }
        match opened {
            Some(o) => {
                if winner.is_none_or(|(id, _)| id != o.id) {
                    self.winners.insert(self.association(meta, kid), o.id);
                }
                let (id, slot) = (o.id, o.slot);
                self.accept(input, r, o, NonceSource::OwnPiv, opt);
                // Replay / nonce reuse: one PIV per sender key.
                self.check_piv(input, r, id, slot, piv);
            }
            None => {
                r.nonce_source = Some(NonceSource::OwnPiv);
                let tried: Vec<Cand> = winner
                    .map(|(id, slot)| Cand::Existing { id, slot })
                    .into_iter()
                    .chain(candidates.iter().cloned())
                    .collect();
                self.fail(r, &tried, kid, kid_context, meta);
            }
        }
        let requester = r.context.as_ref().map(|c| c.sender).unwrap_or(PeerSlot::A);
        if let Some(e) = r.inner.as_ref().and_then(|i| i.first_option(OPT_ECHO)) {
            // B.1.2: a request echoing the value a protected 4.01 challenged it with.
            let challenged =
                self.requests.iter().any(|(_, q)| q.src == meta.src && q.echo.as_deref() == Some(e));
            if challenged {
                r.echo_recovery = Some(EchoRecovery::Response);
            }
        }
        let ctx = r.context.as_ref().map(|c| c.id);
        self.remember_request(input, ctx, requester, kid, piv);
    }

    /// Keeps what responses to this request need (context, kid, PIV). Also done for requests
    /// that could not be decrypted or parsed, so that an unprotected OSCORE error answering
    /// them is recognised.
    fn remember_request(
        &mut self,
        input: MessageInput<'_>,
        ctx: Option<CtxId>,
        requester: PeerSlot,
        kid: &[u8],
        piv: &[u8],
    ) {
        // A retransmission keeps the first transmission's entry (responses point there).
        if input.exchange.retransmission_of.is_some() {
            return;
        }
        let meta = input.meta;
        let observe = matches!(input.exchange.observe, Some(ObserveInfo::Register));
        let expires = self.expiry(meta.ts, observe);
        self.requests.insert(
            meta.frame,
            RequestEntry {
                ctx,
                kid: kid.into(),
                src: meta.src,
                piv: ShortPiv::new(piv),
                pivless_response: None,
                echo: None,
                inner_resource: 0,
                has_inner_resource: false,
                requester,
                observe,
            },
            expires,
        );
        while self.requests.pop_over_cap().is_some() {}
    }

    /// When a request used at `used` is forgotten: EXCHANGE_LIFETIME later, or the observation
    /// lifetime for a registration (expired once strictly more than the lifetime has passed).
    fn expiry(&self, used: Timestamp, observe: bool) -> i128 {
        let secs =
            if observe { self.config.observation_lifetime_secs } else { self.config.request_lifetime_secs };
        used.as_nanos() + i128::from(secs) * 1_000_000_000 + 1
    }

    /// The `winners` key of a request's association: sender and receiver endpoints and kid.
    fn association(&self, meta: &MsgMeta, kid: &[u8]) -> u64 {
        self.digests.hash_one((meta.src, meta.dst, kid))
    }

    /// The context that opened the last request of this association (endpoint pair + kid),
    /// when it is still a candidate for `kid` / `kid context`.
    fn winner(&self, kid: &[u8], kid_context: Option<&[u8]>, meta: &MsgMeta) -> Option<(CtxId, PeerSlot)> {
        let id = *self.winners.get(&self.association(meta, kid))?;
        let ctx = self.store.get(id)?;
        let ok = !ctx.bootstrap
            && ctx.kind != CtxKind::KudosTemp
            && kid_context.is_none_or(|kc| id_context_matches(ctx, kc));
        let slot = [PeerSlot::A, PeerSlot::B].into_iter().find(|s| ctx.sender_id(*s) == kid)?;
        ok.then_some((id, slot))
    }

    /// Contexts where some peer's Sender ID is `kid` (and the ID Context matches `kid context`
    /// when one is sent), in trial order. Temporary KUDOS contexts and bootstrap contexts never
    /// protect ordinary requests.
    fn request_candidates(
        &self,
        kid: &[u8],
        kid_context: Option<&[u8]>,
        meta: &MsgMeta,
    ) -> Vec<(CtxId, PeerSlot)> {
        let winner = self.winners.get(&self.association(meta, kid)).copied();
        let mut c: Vec<(CtxId, PeerSlot)> = self
            .store
            .with_sender_id(kid)
            .iter()
            .copied()
            .filter(|&(id, _)| {
                let Some(ctx) = self.store.get(id) else { return false };
                !ctx.bootstrap
                    && ctx.kind != CtxKind::KudosTemp
                    && kid_context.is_none_or(|kc| id_context_matches(ctx, kc))
            })
            .collect();
        let key = |&(id, slot): &(CtxId, PeerSlot)| {
            let ctx = self.store.get(id);
            (
                Some(id) != winner,
                std::cmp::Reverse(ctx.map_or(0, |c| c.hint_score(slot, &meta.src, &meta.dst))),
                ctx.is_some_and(|c| c.retired_at.is_some()),
                std::cmp::Reverse(ctx.map_or(0, |c| c.generation)),
                id,
            )
        };
        c.sort_by_key(key);
        c
    }

    /// The contexts a KUDOS message's CTX_TEMP/CTX_NEW may be derived from (CTX_IN): the
    /// current generation of each candidate lineage and the one before it (a second execution
    /// right after a first one derives from the pending CTX_NEW, §4.3.4), or the lineage's
    /// bootstrap context when p = 1 (no forward secrecy). Temporary contexts stand for their
    /// parent.
    fn kudos_bases(
        &self,
        from: impl Iterator<Item = (CtxId, PeerSlot)>,
        no_fs: bool,
    ) -> Vec<(CtxId, PeerSlot)> {
        let mut bases: Vec<(CtxId, PeerSlot)> = Vec::new();
        let mut push = |b: (CtxId, PeerSlot)| {
            if !bases.contains(&b) {
                bases.push(b);
            }
        };
        for (id, slot) in from {
            let Some(ctx) = self.store.get(id) else { continue };
            let base = if ctx.kind == CtxKind::KudosTemp { ctx.parent.unwrap_or(id) } else { id };
            let root = ctx.root;
            if no_fs && let Some(b) = self.store.bootstrap_for(root) {
                push((b, slot));
            }
            push((base, slot));
            for newer in self.store.lineage(root).into_iter().take(2) {
                push((newer, slot));
            }
        }
        bases.truncate(6);
        bases
    }

    /// Candidate contexts for a KUDOS message from the derivation inputs seen on the wire.
    fn kudos_candidates(&self, k: &KudosFields, bases: &[(CtxId, PeerSlot)]) -> Vec<Cand> {
        let own = k.input();
        let mut out = Vec::new();
        for encoding in LabelEncoding::ALL {
            for &(base, slot) in bases {
                if !k.convergent() {
                    out.push(Cand::Kudos(KudosCand {
                        base,
                        slot,
                        kind: CtxKind::KudosTemp,
                        own: own.clone(),
                        other: None,
                        encoding,
                    }));
                    continue;
                }
                // Convergent: updateCtx(X1|N1, X2|N2) with the other peer's recent input. Which
                // X enters when a peer sent both a divergent and a convergent message is not
                // specified (PROTOCOLS.md §8.3): also try this peer's own divergent X.
                let root = self.store.lineage_root(base);
                let recent = self.kudos_inputs.get(&root);
                let mut owns = vec![own.clone()];
                for i in recent.into_iter().flatten().rev() {
                    if i.slot == slot
                        && !i.convergent
                        && i.input.get(1..) == own.get(1..)
                        && !owns.contains(&i.input)
                    {
                        owns.push(i.input.clone());
                    }
                }
                let others: Vec<&KudosSeen> =
                    recent.into_iter().flatten().rev().filter(|i| i.slot != slot).take(4).collect();
                for o in others {
                    for mine in &owns {
                        out.push(Cand::Kudos(KudosCand {
                            base,
                            slot,
                            kind: CtxKind::KudosNew,
                            own: mine.clone(),
                            other: Some((o.input.clone(), o.frame)),
                            encoding,
                        }));
                    }
                }
            }
        }
        out
    }

    /// Tries candidates in order until one verifies (bounded). Derived KUDOS contexts that
    /// verify are added to the store. On failure, `r.nonce` holds the first nonce tried.
    #[allow(clippy::too_many_arguments)]
    fn try_candidates(
        &mut self,
        candidates: &[Cand],
        spec: NonceSpec<'_>,
        request_kid: &[u8],
        request_piv: &[u8],
        ct: &[u8],
        missing: usize,
        r: &mut OscoreRecord,
        frame: u64,
    ) -> Option<Opened> {
        let limit = if candidates.iter().any(|c| matches!(c, Cand::Kudos(_))) {
            self.config.max_kudos_trials
        } else {
            self.config.max_trials
        };
        for cand in candidates.iter().take(limit) {
            let attempt = match cand {
                Cand::Existing { id, slot } => {
                    let Some(ctx) = self.store.get(*id) else { continue };
                    let view = ctx.view(*slot);
                    let (n, result) =
                        open_view(view, spec, request_kid, request_piv, ct, missing, &mut self.scratch);
                    r.tried.push((ctx.name.clone(), result.is_some()));
                    if r.nonce.is_none() {
                        r.nonce.clone_from(&n);
                    }
                    result.zip(n).map(|(verified, n)| Opened {
                        id: *id,
                        slot: *slot,
                        nonce: n,
                        verified,
                        kudos: None,
                    })
                }
                Cand::Kudos(kc) => {
                    let x_n = kudos::x_n(&kc.own, kc.other.as_ref().map_or(&[][..], |(o, _)| o.as_slice()));
                    let cache_key = (kc.base, x_n, kc.encoding);
                    if let Some(&id) = self.kudos_cache.get(&cache_key) {
                        let Some(ctx) = self.store.get(id) else { continue };
                        let view = ctx.view(kc.slot);
                        let (n, result) =
                            open_view(view, spec, request_kid, request_piv, ct, missing, &mut self.scratch);
                        r.tried.push((ctx.name.clone(), result.is_some()));
                        result.zip(n).map(|(verified, n)| Opened {
                            id,
                            slot: kc.slot,
                            nonce: n,
                            verified,
                            kudos: Some(KudosUse { cand: kc.clone(), newly_derived: false }),
                        })
                    } else {
                        let Some(base) = self.store.get(kc.base) else { continue };
                        let other = kc.other.as_ref().map_or(&[][..], |(o, _)| o.as_slice());
                        let Ok(params) = kudos::update_ctx(&kc.own, other, base.params(), kc.encoding) else {
                            continue;
                        };
                        let Ok(derived) = DerivedContext::derive(params) else { continue };
                        self.stats.kudos_derivations += 1;
                        let view = if kc.slot == PeerSlot::A { derived.clone() } else { derived.reversed() };
                        let (n, result) =
                            open_view(&view, spec, request_kid, request_piv, ct, missing, &mut self.scratch);
                        let what = match kc.kind {
                            CtxKind::KudosTemp => "CTX_TEMP",
                            _ => "CTX_NEW",
                        };
                        r.tried.push((
                            format!("{what} from {} ({:?})", base.name, kc.encoding).into(),
                            result.is_some(),
                        ));
                        if r.nonce.is_none() {
                            r.nonce.clone_from(&n);
                        }
                        match result.zip(n) {
                            Some((verified, n)) => {
                                self.stats.kudos_contexts += 1;
                                let id = self.insert_kudos(kc, derived, frame);
                                self.kudos_cache.insert(cache_key, id);
                                Some(Opened {
                                    id,
                                    slot: kc.slot,
                                    nonce: n,
                                    verified,
                                    kudos: Some(KudosUse { cand: kc.clone(), newly_derived: true }),
                                })
                            }
                            None => None,
                        }
                    }
                }
            };
            if let Some(o) = attempt {
                return Some(o);
            }
        }
        None
    }

    /// Adds a verified KUDOS context to the store, with its place in the lineage.
    fn insert_kudos(&mut self, kc: &KudosCand, derived: DerivedContext, frame: u64) -> CtxId {
        let Some(base) = self.store.get(kc.base) else { return kc.base };
        // A no-FS update derives from the bootstrap context but continues the same lineage.
        let root = self.store.lineage_root(kc.base);
        let (generation, label, how) = match kc.kind {
            CtxKind::KudosTemp => {
                let n = self
                    .store
                    .iter()
                    .filter(|c| c.parent == Some(kc.base) && c.kind == CtxKind::KudosTemp)
                    .count();
                (base.generation, format!("{}-temp{}", base.label, n + 1), "KUDOS CTX_TEMP")
            }
            _ => {
                // From the bootstrap context the new generation follows the lineage's current one.
                let g = if base.bootstrap {
                    self.store
                        .lineage(root)
                        .first()
                        .and_then(|&l| self.store.get(l))
                        .map_or(0, |c| c.generation)
                } else {
                    base.generation
                };
                // A restarted execution derives a second CTX_NEW of the same generation.
                let taken = |label: &str| {
                    self.store.iter().any(|c| self.store.lineage_root(c.id) == root && *c.label == *label)
                };
                let mut label = format!("g{}", g + 1);
                let mut n = 1;
                while taken(&label) {
                    n += 1;
                    label = format!("g{}.{n}", g + 1);
                }
                (g + 1, label, "KUDOS CTX_NEW")
            }
        };
        let root_name = self.store.get(root).map_or_else(|| base.name.clone(), |r| r.name.clone());
        let new = NewContext {
            name: format!("{root_name}/{label}"),
            label,
            generation,
            parent: Some(kc.base),
            kind: kc.kind,
            origin: Origin::Derived { how: format!("{how} ({:?} label encoding)", kc.encoding), frame },
            bootstrap: false,
            slot_names: base.slot_names.clone(),
            endpoints: base.endpoints.clone(),
            limits: base.limits,
            derived,
        };
        self.store.insert(new)
    }

    fn response(&mut self, input: MessageInput<'_>, r: &mut OscoreRecord, opt: &OscoreOption) {
        let m = input.message;
        let meta = input.meta;
        let Some(req_frame) = input.exchange.request_frame else {
            r.status = Status::NoRequest;
            r.findings.push(oscore_finding(
                FindingKind::OscoreNoRequest,
                Severity::Info,
                "protected response whose request is not in the capture: the AAD needs the request's kid and Partial IV"
                    .into(),
            ));
            return;
        };
        r.request_frame = Some(req_frame);
        let Some(entry) = self.requests.get_mut(&req_frame) else {
            r.status = Status::NoRequest;
            r.findings.push(
                oscore_finding(
                    FindingKind::OscoreNoRequest,
                    Severity::Info,
                    format!(
                        "the request in frame {req_frame} was not OSCORE-protected or is no longer remembered"
                    ),
                )
                .related([req_frame]),
            );
            return;
        };
        let entry = entry.clone();
        if entry.observe {
            // A registration lives as long as notifications come: kept from this one on, and
            // moved to the back of the table, where it is evicted last (as the exchange
            // tracker keeps its observations). Other requests keep their EXCHANGE_LIFETIME.
            self.requests.refresh(&req_frame, self.expiry(meta.ts, true));
        }
        r.request_kid = Some(entry.kid.clone());
        r.request_piv = Some(entry.piv.as_slice().into());
        let Some(req_ctx) = entry.ctx else {
            r.status = Status::NoRequest;
            r.findings.push(
                oscore_finding(
                    FindingKind::OscoreNoRequest,
                    Severity::Info,
                    format!(
                        "the request in frame {req_frame} could not be decrypted, so neither can its response"
                    ),
                )
                .related([req_frame]),
            );
            return;
        };
        let responder = entry.requester.other();
        let candidates = match opt.kudos() {
            Some(k) => {
                let bases = self.kudos_bases(std::iter::once((req_ctx, responder)), k.no_fs());
                self.kudos_candidates(k, &bases)
            }
            None => {
                // The request's context (its lineage is tried below only if it fails).
                vec![Cand::Existing { id: req_ctx, slot: responder }]
            }
        };
        // Without a Partial IV of its own, the response uses the request's nonce, rebuilt as
        // the request was opened (its context from the requester's view).
        let request_nonce = match opt.piv_value() {
            Some(_) => None,
            None => self
                .store
                .get(req_ctx)
                .and_then(|c| nonce_for(c.view(entry.requester), NonceSpec::OwnPiv(entry.piv.as_slice()))),
        };
        let (spec, source) = match (opt.piv_value(), &request_nonce) {
            (Some(piv), _) => (NonceSpec::OwnPiv(piv), NonceSource::OwnPiv),
            (None, Some(n)) => (NonceSpec::Fixed(n), NonceSource::RequestNonce),
            (None, None) => {
                r.status = Status::NoRequest;
                return;
            }
        };
        let mut opened = self.try_candidates(
            &candidates,
            spec,
            &entry.kid,
            entry.piv.as_slice(),
            m.payload(),
            input.missing_bytes,
            r,
            meta.frame,
        );
        if opened.is_none() && opt.kudos().is_some() {
            let plain = [Cand::Existing { id: req_ctx, slot: responder }];
            opened = self.try_candidates(
                &plain,
                spec,
                &entry.kid,
                entry.piv.as_slice(),
                m.payload(),
                input.missing_bytes,
                r,
                meta.frame,
            );
        }
        if opened.is_none() && opt.kudos().is_none() {
            // Newer generations of the request's lineage: a notification of an observation
            // preserved across a key update is protected with CTX_NEW but keeps the
            // registration's AAD (draft-ietf-core-oscore-key-update §4.5).
            let root = self.store.get(req_ctx).map_or(req_ctx, |c| c.root);
            let newer: Vec<Cand> = self
                .store
                .lineage(root)
                .into_iter()
                .filter(|&id| id != req_ctx)
                .map(|id| Cand::Existing { id, slot: responder })
                .collect();
            opened = self.try_candidates(
                &newer,
                spec,
                &entry.kid,
                entry.piv.as_slice(),
                m.payload(),
                input.missing_bytes,
                r,
                meta.frame,
            );
        }
        match opened {
            Some(o) => {
                let id = o.id;
                self.accept(input, r, o, source, opt);
                match (source, opt.piv_value()) {
                    (NonceSource::OwnPiv, Some(piv)) => self.check_piv(input, r, id, responder, piv),
                    _ => self.check_pivless_response(input, r, req_frame),
                }
                if r.inner.as_ref().is_some_and(|i| i.code.0 == 0x81 && i.first_option(OPT_ECHO).is_some())
                    && source == NonceSource::OwnPiv
                {
                    r.echo_recovery = Some(EchoRecovery::Challenge);
                    let echo = r.inner.as_ref().and_then(|i| i.first_option(OPT_ECHO)).map(Box::from);
                    if let Some(e) = self.requests.get_mut(&req_frame) {
                        e.echo = echo;
                    }
                }
            }
            None => {
                r.nonce_source = Some(source);
                r.status = Status::TagMismatch;
                let name = self.store.get(req_ctx).map(|c| c.name.clone()).unwrap_or_default();
                if opt.kudos().is_none() {
                    self.count_failure(r, req_ctx, responder);
                }
                r.findings.push(
                    oscore_finding(
                        FindingKind::OscoreTagMismatch,
                        Severity::High,
                        format!(
                            "the response does not verify with context {name} that opened its request (frame {req_frame}){}: forged, corrupted, or protected with another context",
                            if opt.kudos().is_some() { " nor with any KUDOS context derivable from the nonces seen" } else { "" }
                        ),
                    )
                    .related([req_frame]),
                );
            }
        }
    }

    /// Records a successful open: context reference, inner message, key usage, KUDOS inputs.
    fn accept(
        &mut self,
        input: MessageInput<'_>,
        r: &mut OscoreRecord,
        o: Opened,
        source: NonceSource,
        opt: &OscoreOption,
    ) {
        let frame = input.meta.frame;
        let warn = self.config.limit_warn_percent;
        let Opened { id, slot, nonce: n, verified, kudos: kudos_use } = o;
        if let Some(k) = opt.kudos() {
            let root = self.store.get(id).map_or(id, |c| c.root);
            let seen = self.kudos_inputs.entry(root).or_default();
            seen.push(KudosSeen { slot, input: k.input(), frame, convergent: k.convergent() });
            if seen.len() > KUDOS_INPUTS_KEPT {
                seen.remove(0);
            }
            r.kudos = Some(Box::new(KudosRecord {
                x: k.x,
                nonce: k.nonce.value.to_vec(),
                input: k.input(),
                base: kudos_use.as_ref().map(|u| u.cand.base),
                base_label: kudos_use
                    .as_ref()
                    .and_then(|u| self.store.get(u.cand.base))
                    .map(|b| b.label.clone()),
                partner: kudos_use.as_ref().and_then(|u| u.cand.other.clone()),
                own_input_used: kudos_use.as_ref().map(|u| u.cand.own.clone()),
                encoding: kudos_use.as_ref().map(|u| u.cand.encoding),
                newly_derived: kudos_use.as_ref().is_some_and(|u| u.newly_derived),
            }));
        }
        let Some(ctx) = self.store.get_mut(id) else { return };
        r.status = if verified { Status::Decrypted } else { Status::TagTruncated };
        r.context = Some(ContextRef {
            id,
            name: ctx.name.clone(),
            label: ctx.label.clone(),
            generation: ctx.generation,
            kind: ctx.kind,
            parent: ctx.parent,
            retired: ctx.retired_at.is_some_and(|r| frame > r),
            root: ctx.root,
            sender: slot,
            sender_name: ctx.slot_names.get(slot),
        });
        r.nonce = Some(n);
        r.nonce_source = Some(source);
        if !verified {
            r.findings.push(oscore_finding(
                FindingKind::OscoreTagTruncated,
                Severity::Medium,
                format!(
                    "the capture cut {} bytes of the message (snaplen): decrypted with context {} but the authentication tag could not be verified",
                    input.missing_bytes, ctx.name
                ),
            ));
        }
        ctx.opened += u64::from(verified);
        let usage = ctx.usage.get_mut(slot);
        usage.first_frame.get_or_insert(frame);
        usage.last_frame = Some(frame);
        // q counts encryptions: a retransmission (same bytes) is not a new one.
        if input.exchange.retransmission_of.is_none() {
            usage.q += 1;
            let (q, limit) = (usage.q, ctx.limits.q);
            let level = level_of(q, limit, warn);
            if level > usage.q_level {
                usage.q_level = level;
                let who = *ctx.slot_names.get(slot);
                r.findings.push(limit_finding(
                    "q",
                    "encryptions",
                    who,
                    &ctx.name,
                    q,
                    limit,
                    level,
                    ctx.alg(),
                ));
            }
        }
        let plaintext = std::mem::take(&mut self.scratch.plaintext);
        let inner = Message::parse_plaintext_in(plaintext, crate::coap::message::ParseOptions::default());
        for f in &inner.findings {
            let mut f = f.clone();
            f.layer = Layer::Oscore;
            f.span = f.span.map(|s| s.relocate(0, crate::finding::SpanSource::Decrypted));
            r.findings.push(f);
        }
        r.inner = Some(inner);
    }

    /// Replay and nonce reuse for a message carrying its own PIV, under the key of `slot`.
    fn check_piv(
        &mut self,
        input: MessageInput<'_>,
        r: &mut OscoreRecord,
        id: CtxId,
        slot: PeerSlot,
        piv: &[u8],
    ) {
        let frame = input.meta.frame;
        let d = self.digests.hash_one(input.message.payload());
        let cap = self.config.piv_history;
        let history = self.pivs.entry((id, slot)).or_default();
        let kept = history.seen.len();
        let name: &str = self.store.get(id).map_or("", |c| &c.name);
        let is_request = input.message.code.is_request();
        match history.check_insert(piv_u64(piv), frame, d, cap) {
            PivCheck::Fresh => {}
            PivCheck::SameCiphertext(first) => {
                if input.exchange.retransmission_of.is_some() {
                    // A CoAP retransmission: same MID, same bytes. Not a replay.
                } else if is_request {
                    r.findings.push(
                        oscore_finding(
                            FindingKind::OscoreReplay,
                            Severity::High,
                            format!(
                                "replay: Partial IV {} under context {name} was already accepted in frame {first} (same ciphertext, not a CoAP retransmission); a server must reject it (RFC 8613 §7.4)",
                                crate::hex::encode(piv)
                            ),
                        )
                        .related([first]),
                    );
                } else {
                    r.findings.push(
                        oscore_finding(
                            FindingKind::OscoreReplay,
                            Severity::Medium,
                            format!(
                                "response with Partial IV {} repeats frame {first} byte for byte (a replayed or re-sent response)",
                                crate::hex::encode(piv)
                            ),
                        )
                        .related([first]),
                    );
                }
            }
            PivCheck::DifferentCiphertext(first) => {
                r.findings.push(
                    oscore_finding(
                        FindingKind::OscoreNonceReuse,
                        Severity::Critical,
                        format!(
                            "AEAD nonce reuse: Partial IV {} under the same key of context {name} protected different ciphertext in frame {first}; confidentiality and integrity of both messages are lost",
                            crate::hex::encode(piv)
                        ),
                    )
                    .related([first]),
                );
            }
            PivCheck::BelowWindow => {
                r.findings.push(oscore_finding(
                    FindingKind::OscorePivOutOfWindow,
                    Severity::Low,
                    format!(
                        "Partial IV {} is older than the {kept} most recent ones remembered for context {name}: replay cannot be ruled out",
                        crate::hex::encode(piv)
                    ),
                ));
            }
        }
    }

    /// Responses without a PIV reuse the request's nonce under the responder's key: only one
    /// such response per request is safe (RFC 8613 §7.3, notifications must carry a PIV).
    fn check_pivless_response(&mut self, input: MessageInput<'_>, r: &mut OscoreRecord, req_frame: u64) {
        let d = self.digests.hash_one(input.message.payload());
        let Some(entry) = self.requests.get_mut(&req_frame) else { return };
        match entry.pivless_response {
            None => entry.pivless_response = Some((nz(input.meta.frame), d)),
            Some((_, first_d)) if first_d == d => {}
            Some((first, _)) => {
                r.findings.push(
                    oscore_finding(
                        FindingKind::OscoreNonceReuse,
                        Severity::Critical,
                        format!(
                            "AEAD nonce reuse: a second response without Partial IV to the request in frame {req_frame} reuses the request nonce, as frame {} did, with different ciphertext", first.get()
                        ),
                    )
                    .related([first.get(), req_frame]),
                );
            }
        }
    }

    fn fail(
        &mut self,
        r: &mut OscoreRecord,
        candidates: &[Cand],
        kid: &[u8],
        kid_context: Option<&[u8]>,
        meta: &MsgMeta,
    ) {
        if candidates.is_empty() {
            r.status = Status::NoContext;
            r.findings.push(oscore_finding(
                FindingKind::OscoreNoContext,
                Severity::Low,
                format!(
                    "no loaded context has a peer with Sender ID (kid) {}{}",
                    show_id(kid),
                    kid_context
                        .map(|c| format!(" and ID Context {}", crate::hex::encode(c)))
                        .unwrap_or_default()
                ),
            ));
            return;
        }
        r.status = Status::TagMismatch;
        // v counts against the key only when the context is unambiguous.
        if let [Cand::Existing { id, slot }] = candidates {
            self.count_failure(r, *id, *slot);
        }
        let _ = meta;
        let names: Vec<&str> = r.tried.iter().map(|(n, _)| &**n).collect();
        r.findings.push(oscore_finding(
            FindingKind::OscoreTagMismatch,
            Severity::High,
            format!(
                "kid {} matches {} candidate context(s) ({}) but none verifies the tag: forged, corrupted, or protected with keys not loaded",
                show_id(kid),
                candidates.len(),
                names.join(", ")
            ),
        ));
    }

    fn count_failure(&mut self, r: &mut OscoreRecord, id: CtxId, slot: PeerSlot) {
        let warn = self.config.limit_warn_percent;
        let Some(ctx) = self.store.get_mut(id) else { return };
        let usage = ctx.usage.get_mut(slot);
        usage.v += 1;
        let (v, limit) = (usage.v, ctx.limits.v);
        let level = level_of(v, limit, warn);
        if level > usage.v_level {
            usage.v_level = level;
            let who = *ctx.slot_names.get(slot);
            r.findings.push(limit_finding(
                "v",
                "failed verifications",
                who,
                &ctx.name,
                v,
                limit,
                level,
                ctx.alg(),
            ));
        }
    }

    /// Forgets requests past their lifetime (checked at most once per capture second).
    fn prune(&mut self, now: Timestamp) {
        if self.last_prune.is_some_and(|t| now.secs <= t.secs) {
            return;
        }
        self.last_prune = Some(now);
        while self.requests.pop_expired(now.as_nanos()).is_some() {}
        if self.winners.len() > self.config.max_requests {
            self.winners.clear();
        }
    }
}

/// The nonce of a message under `view` (the protecting peer's view: Sender = that peer).
fn nonce_for(view: &DerivedContext, spec: NonceSpec<'_>) -> Option<SmallBytes> {
    match spec {
        NonceSpec::OwnPiv(piv) => nonce(&view.params().sender_id, piv, view.common_iv()).ok(),
        NonceSpec::Fixed(n) => Some(n.into()),
    }
}

/// Opens with the protecting peer's view of a context: the nonce (when one can be built) and,
/// when it opened, whether it verified (false: a truncated tag). The AAD and the plaintext are
/// built in `scratch` (the plaintext is left empty when it did not open).
fn open_view(
    view: &DerivedContext,
    spec: NonceSpec<'_>,
    request_kid: &[u8],
    request_piv: &[u8],
    ct: &[u8],
    missing: usize,
    scratch: &mut Scratch,
) -> (Option<SmallBytes>, Option<bool>) {
    let Scratch { aad, plaintext } = scratch;
    let plaintext = plaintext.bytes_mut();
    plaintext.clear();
    let Some(n) = nonce_for(view, spec) else { return (None, None) };
    aad_into(aad, view.alg(), request_kid, request_piv);
    let key = view.sender_aead();
    let opened = if missing == 0 {
        key.open_into(&n, aad, ct, plaintext).ok().map(|()| true)
    } else {
        let reported = ct.len() + missing;
        key.decrypt_truncated(&n, ct, reported).ok().map(|u| {
            *plaintext = u.plaintext;
            false
        })
    };
    (Some(n), opened)
}

fn id_context_matches(ctx: &StoredContext, kid_context: &[u8]) -> bool {
    match ctx.id_context() {
        Some(ic) => {
            ic == kid_context || super::cbor::decode_bstr_exact(kid_context).is_some_and(|inner| inner == ic)
        }
        None => false,
    }
}

fn show_id(id: &[u8]) -> String {
    if id.is_empty() { "(empty)".into() } else { crate::hex::encode(id) }
}

fn level_of(count: u64, limit: u64, warn_percent: u8) -> LimitLevel {
    if count > limit {
        LimitLevel::Exceeded
    } else if count == limit {
        LimitLevel::Reached
    } else if u128::from(count) * 100 >= u128::from(limit) * u128::from(warn_percent) {
        LimitLevel::Approaching
    } else {
        LimitLevel::Below
    }
}

#[allow(clippy::too_many_arguments)]
fn limit_finding(
    which: &str,
    what: &str,
    who: &str,
    ctx: &str,
    count: u64,
    limit: u64,
    level: LimitLevel,
    alg: super::alg::AeadAlg,
) -> Finding {
    let (severity, verb) = match level {
        LimitLevel::Exceeded => (Severity::Critical, "exceeded"),
        LimitLevel::Reached => (Severity::High, "reached"),
        _ => (Severity::Medium, "is approaching"),
    };
    oscore_finding(
        FindingKind::OscoreKeyLimit,
        severity,
        format!(
            "key-usage limit {which} {verb}: {count} {what} with the {who}'s key of context {ctx} (limit {limit} for {alg}); the peers must re-key (draft-ietf-core-oscore-key-limits)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An engine whose store holds one loaded context (peer A = client).
    fn engine_with(name: &str, params: crate::oscore::params::ContextParams) -> Engine {
        use crate::oscore::store::{Limits, PerSlot};
        let mut store = ContextStore::new();
        store.insert(NewContext {
            name: name.into(),
            label: "g0".into(),
            generation: 0,
            parent: None,
            kind: CtxKind::Loaded,
            origin: Origin::Loaded { source: "test".into() },
            bootstrap: false,
            slot_names: PerSlot { a: "client", b: "server" },
            endpoints: PerSlot::default(),
            limits: Limits::defaults(params.aead),
            derived: DerivedContext::derive(params).unwrap(),
        });
        Engine::new(EngineConfig::default(), store)
    }

    /// With the table slot's key and expiry, an entry takes two cache lines; the Partial IV
    /// is kept whole.
    #[test]
    fn request_entries_stay_small() {
        assert!(std::mem::size_of::<RequestEntry>() <= 112, "{}", std::mem::size_of::<RequestEntry>());
        let longest = [1, 2, 3, 4, 5, 6, 7];
        assert_eq!(ShortPiv::new(&longest).as_slice(), longest);
        assert_eq!(ShortPiv::new(&[]).as_slice(), [0u8; 0]);
    }

    #[test]
    fn piv_history_distinguishes_replay_reuse_and_window() {
        let mut h = PivHistory::default();
        assert!(matches!(h.check_insert(5, 1, 0xaa, 3), PivCheck::Fresh));
        assert!(matches!(h.check_insert(5, 2, 0xaa, 3), PivCheck::SameCiphertext(1)));
        assert!(matches!(h.check_insert(5, 3, 0xbb, 3), PivCheck::DifferentCiphertext(1)));
        for p in 6..9 {
            assert!(matches!(h.check_insert(p, p, 0, 3), PivCheck::Fresh));
        }
        // 5 was forgotten when 8 arrived (window 3): now below the floor.
        assert_eq!(h.floor, 6);
        assert!(matches!(h.check_insert(5, 9, 0xaa, 3), PivCheck::BelowWindow));
        assert_eq!(h.seen.len(), 3);
        // Out of order, inside the window: found, or kept in PIV order.
        assert!(matches!(h.check_insert(20, 10, 0, 4), PivCheck::Fresh));
        assert!(matches!(h.check_insert(10, 11, 0, 5), PivCheck::Fresh));
        assert!(matches!(h.check_insert(7, 12, 0xcc, 5), PivCheck::DifferentCiphertext(7)));
        assert!(matches!(h.check_insert(10, 13, 0, 5), PivCheck::SameCiphertext(11)));
        let order: Vec<u64> = h.seen.iter().map(|e| e.0).collect();
        assert_eq!(order, [6, 7, 8, 10, 20]);
        h.shrink_to(2);
        assert_eq!((h.floor, h.seen.len()), (9, 2));
        assert!(matches!(h.check_insert(8, 14, 0, 5), PivCheck::BelowWindow));
    }

    /// PROTOCOLS.md §3.10: the divergent request opens only with CTX_TEMP derived from the
    /// RFC 8613 C.1 context and N1, the convergent response only with CTX_NEW from N1 and N2;
    /// both contexts join the store as lineage of the loaded one.
    #[test]
    fn kudos_section_3_10_request_and_response() {
        use crate::coap::exchange::Role;
        use crate::hex::decode as h;
        use crate::oscore::params::{ContextParams, Secret};
        use crate::oscore::{AeadAlg, HkdfAlg};
        let params = ContextParams {
            master_secret: Secret::new(h("0102030405060708090a0b0c0d0e0f10").unwrap()),
            master_salt: h("9e7ca92223786340").unwrap(),
            id_context: None,
            sender_id: vec![],
            recipient_id: vec![0x01],
            aead: AeadAlg::AesCcm16_64_128,
            hkdf: HkdfAlg::Sha256,
        };
        let mut engine = engine_with("c1", params);
        let ep = |port| Endpoint { addr: std::net::Ipv4Addr::LOCALHOST.into(), port };
        let (client, server) = (ep(40000), ep(5683));
        let req = Message::parse(&h("44025d1f000039749c89010007018a278f7faab55affeba8aa1783f5a7ae1e4130301bc3bfb80899bae3e7715af783dc40").unwrap());
        let meta = MsgMeta { frame: 1, ts: Timestamp::new(1, 0), src: client, dst: server };
        let x = ExchangeInfo { role: Role::Request, ..Default::default() };
        let r = engine
            .process(MessageInput { meta: &meta, message: &req, exchange: &x, missing_bytes: 0 })
            .unwrap();
        assert_eq!(r.status, Status::Decrypted, "{:?}", r.findings);
        let c = r.context.as_ref().unwrap();
        assert_eq!(
            (c.kind, &*c.label, c.generation, c.sender),
            (CtxKind::KudosTemp, "g0-temp1", 0, PeerSlot::A)
        );
        assert_eq!(crate::hex::encode(r.nonce.as_ref().unwrap()), "cad94a4cdb9a2f7bff84e932f7");
        let inner = r.inner.as_ref().unwrap();
        assert_eq!(inner.code.0, 0x02);
        assert_eq!(crate::analysis::uri_of(inner), "/.well-known/kudos");
        let k = r.kudos.as_ref().unwrap();
        assert_eq!((k.x, k.base, k.encoding), (0x07, Some(0), Some(LabelEncoding::Draft)));

        let resp =
            Message::parse(&h("64445d1f000039749c8101004725a8991cd700ac01ff2c20888857a8dcacbd").unwrap());
        let meta = MsgMeta { frame: 2, ts: Timestamp::new(1, 1000), src: server, dst: client };
        let x = ExchangeInfo { role: Role::Response, request_frame: Some(1), ..Default::default() };
        let r = engine
            .process(MessageInput { meta: &meta, message: &resp, exchange: &x, missing_bytes: 0 })
            .unwrap();
        assert_eq!(r.status, Status::Decrypted, "{:?} tried {:?}", r.findings, r.tried);
        let c = r.context.as_ref().unwrap();
        assert_eq!((c.kind, &*c.label, c.generation, c.sender), (CtxKind::KudosNew, "g1", 1, PeerSlot::B));
        assert_eq!(crate::hex::encode(r.nonce.as_ref().unwrap()), "059bdfeb06c0a2b8e0177aa254");
        assert_eq!(r.inner.as_ref().unwrap().code.0, 0x44);
        let k = r.kudos.as_ref().unwrap();
        assert_eq!(
            k.partner.as_ref().map(|(i, f)| (crate::hex::encode(i), *f)),
            Some(("07018a278f7faab55a".into(), 1))
        );
        // CTX_NEW's Master Secret is the §3.10 value; its parent is the loaded context.
        let new = engine.store().get(c.id).unwrap();
        assert_eq!(crate::hex::encode(new.master_secret().expose()), "6a0961c873d49f6bc18999a706369dd7");
        assert_eq!((new.parent, new.root), (Some(0), 0));
        assert_eq!(engine.store().lineage(0), vec![c.id, 0]);
    }

    /// PROTOCOLS.md §4.3: Req#1 and Resp#1 of the ID-update example open under CTX_A and
    /// carry Recipient-ID / Recipient-ID-Ack; CTX_B derived with the offered IDs has the
    /// computed keys and the same Common IV.
    #[test]
    fn id_update_section_4_3_messages_and_ctx_b() {
        use crate::coap::exchange::Role;
        use crate::hex::{decode as h, encode as e};
        use crate::oscore::params::{ContextParams, Secret};
        use crate::oscore::{AeadAlg, HkdfAlg};
        let params = ContextParams {
            master_secret: Secret::new(h("0102030405060708090a0b0c0d0e0f10").unwrap()),
            master_salt: vec![],
            id_context: None,
            sender_id: vec![0x01],
            recipient_id: vec![0x00],
            aead: AeadAlg::AesCcm16_64_128,
            hkdf: HkdfAlg::Sha256,
        };
        let mut engine = engine_with("a", params);
        let ep = |port| Endpoint { addr: std::net::Ipv4Addr::LOCALHOST.into(), port };
        let req = Message::parse(&h("4402a0b1cafe000193090501ffdcef8c2cdbd85d87989784307227d87adf").unwrap());
        let meta = MsgMeta { frame: 1, ts: Timestamp::new(1, 0), src: ep(40000), dst: ep(5683) };
        let x = ExchangeInfo { role: Role::Request, ..Default::default() };
        let r = engine
            .process(MessageInput { meta: &meta, message: &req, exchange: &x, missing_bytes: 0 })
            .unwrap();
        assert_eq!(r.status, Status::Decrypted, "{:?}", r.findings);
        assert_eq!(e(r.nonce.as_ref().unwrap()), "bf35ae297d2dace810c52e99fc");
        let inner = r.inner.as_ref().unwrap();
        assert_eq!(e(r.plaintext().unwrap()), "01b474656d70d10042");
        assert_eq!(inner.first_option(24), Some(&[0x42][..]));
        let resp = Message::parse(&h("6444a0b1cafe000190ff4003f897d4548e3b153f806144c975a1e5dc4d").unwrap());
        let meta = MsgMeta { frame: 2, ts: Timestamp::new(1, 1), src: ep(5683), dst: ep(40000) };
        let x = ExchangeInfo { role: Role::Response, request_frame: Some(1), ..Default::default() };
        let r = engine
            .process(MessageInput { meta: &meta, message: &resp, exchange: &x, missing_bytes: 0 })
            .unwrap();
        assert_eq!(r.status, Status::Decrypted, "{:?}", r.findings);
        assert_eq!(e(r.plaintext().unwrap()), "45d10b788142ff32312e35");
        // CTX_B: client Sender ID 78 (the server's offer), server Sender ID 42 (the client's).
        let b = engine.derive_ids(0, &[0x78], &[0x42], 2).unwrap();
        let ctx = engine.store().get(b).unwrap();
        assert_eq!(e(ctx.view(PeerSlot::A).sender_key().expose()), "61c116e684efdac69b6f44fdde77ac01");
        assert_eq!(e(ctx.view(PeerSlot::A).recipient_key().expose()), "12a90049a301401bf7c968ae29fd8deb");
        assert_eq!(e(ctx.common_iv()), "be35ae297d2dace910c52e99f9");
        assert_eq!((ctx.kind, ctx.parent, &*ctx.label), (CtxKind::IdUpdate, Some(0), "g0-id1"));
        assert_eq!(engine.derive_ids(0, &[0x78], &[0x42], 9), Some(b), "derived once");
    }

    #[test]
    fn limit_levels() {
        assert_eq!(level_of(74, 100, 75), LimitLevel::Below);
        assert_eq!(level_of(75, 100, 75), LimitLevel::Approaching);
        assert_eq!(level_of(100, 100, 75), LimitLevel::Reached);
        assert_eq!(level_of(101, 100, 75), LimitLevel::Exceeded);
        assert_eq!(level_of(u64::MAX, u64::MAX, 75), LimitLevel::Reached);
    }
}
