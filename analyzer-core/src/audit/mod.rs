//! The privacy and findings audit (`kudoscope audit`): what an on-path observer can still link
//! across OSCORE ID changes and network migrations (PROTOCOLS.md §4.7,
//! draft-ietf-core-oscore-id-update-06), the findings of every other layer gathered into one
//! report, and an observer's key-less view of the traffic.
//!
//! Streaming and bounded: an [`AuditCollector`] is fed one [`FrameRecord`] at a time, in frame
//! order (the [`crate::analysis::Analyzer`] does it once [`crate::analysis::Analyzer::enable_audit`]
//! was called). Per association (lineage root) and peer it keeps [`Segment`]s: maximal runs of
//! messages a peer sent with the same visible identity (sender endpoint, `kid` in requests) and
//! the same true context. A segment holds first/last values (frame, time, Partial IV, Message
//! ID, Token, outer Observe) and small fixed-size statistics (sizes, cadence), so memory grows
//! with the number of identity changes, never with the number of messages.
//!
//! At the end, [`AuditCollector::report`] compares the segments on both sides of every
//! boundary (ID change, address change, or both) item by item ([`privacy`]), names the rule
//! violations the draft names as high-severity findings, clusters the traffic as a key-less
//! observer would ([`observer`]) and returns an [`AuditReport`] ([`report`]).

pub mod observer;
pub mod privacy;
pub mod report;

pub use report::{
    AuditReport, BoundaryKind, ItemResult, Migration, ObserverSummary, ReportAssociation, ReportFinding,
    SeverityCount,
};

use crate::analysis::FrameRecord;
use crate::coap::message::MsgType;
use crate::collections::FastMap;
use crate::finding::{Finding, FindingKind, Severity};
use crate::keys::PeerSlot;
use crate::net::{Endpoint, LayerInfo, MacAddr};
use crate::oscore::engine::Status;
use crate::oscore::store::{ContextStore, CtxId, CtxKind};
use crate::time::Timestamp;
use crate::timeline::Timeline;
use observer::{FlowId, ObserverState};
use std::collections::BTreeMap;

/// CoAP option numbers the audit reads from the outer message.
const OPT_OBSERVE: u16 = 6;
const OPT_URI_PATH: u16 = 11;

/// Most distinct sizes, tokens, KUDOS messages and error frames a segment remembers.
const SMALL_SET: usize = 8;

/// Audit settings: the windows of the continuity rules (documented in docs/audit.md) and the
/// memory caps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditConfig {
    /// Partial IV continuity: the first PIV after a boundary continues the counter when it is in
    /// `last + 1 ..= last + piv_window`.
    pub piv_window: u64,
    /// A first PIV at or below this counts as a restart (SSN = 0; 1 when the first message
    /// under the new context was lost). Above it, a PIV that continues the old counter is
    /// `audit.ssn_not_restarted`.
    pub ssn_small: u64,
    /// Message ID continuity: next MID in `last + 1 ..= last + mid_window` (mod 2^16).
    pub mid_window: u16,
    /// Counter-style tokens: same length and value in `last + 1 ..= last + token_window`.
    pub token_window: u64,
    /// Outer Observe continuity: first value in `last + 1 ..= last + observe_window`.
    pub observe_window: u64,
    /// Cadence: mean intervals within this percentage of each other (and at least 50 ms).
    pub cadence_tolerance_percent: u8,
    /// An unprotected error counts as "around the boundary" when it came within this many
    /// messages of the end of the segment before or the start of the segment after.
    pub error_proximity: u64,
    /// Ports that do not identify a device (well-known CoAP ports): an unchanged one does not
    /// link. 5683 and 5684 by default.
    pub well_known_ports: Vec<u16>,
    /// Most segments kept over the whole capture (further identity changes are counted only).
    pub max_segments: usize,
    /// Most findings kept with their frames (further ones are counted only).
    pub max_findings: usize,
    /// Most observer flows kept; flows compared with a new flow (the most recent ones).
    pub max_flows: usize,
    pub observer_candidates: usize,
    /// The observer joins two flows by Partial IV only when the earlier flow's last PIV is at
    /// least `observer_piv_min` (small PIVs are common to every fresh context) and the new
    /// one follows within `observer_piv_window`.
    pub observer_piv_min: u64,
    pub observer_piv_window: u64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            piv_window: 32,
            ssn_small: 1,
            mid_window: 16,
            token_window: 16,
            observe_window: 32,
            cadence_tolerance_percent: 10,
            error_proximity: 4,
            well_known_ports: vec![5683, 5684],
            max_segments: 100_000,
            max_findings: 10_000,
            max_flows: 100_000,
            observer_candidates: 256,
            observer_piv_min: 16,
            observer_piv_window: 4,
        }
    }
}

/// A value with the frame that showed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen<T> {
    pub value: T,
    pub frame: u64,
}

/// First and last value of a counter in a segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span2<T> {
    pub first: Seen<T>,
    pub last: Seen<T>,
}

impl<T: Clone> Span2<T> {
    fn update(slot: &mut Option<Span2<T>>, value: T, frame: u64) {
        match slot {
            None => {
                *slot =
                    Some(Span2 { first: Seen { value: value.clone(), frame }, last: Seen { value, frame } })
            }
            Some(s) => s.last = Seen { value, frame },
        }
    }
}

/// Ciphertext sizes of a segment: count, extremes and up to eight distinct lengths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SizeStats {
    pub count: u64,
    pub min: usize,
    pub max: usize,
    /// Distinct lengths with their counts, sorted by length (at most eight).
    pub distinct: Vec<(usize, u64)>,
    /// More than eight distinct lengths were seen.
    pub overflow: bool,
}

impl SizeStats {
    fn add(&mut self, len: usize) {
        if self.count == 0 {
            self.min = len;
            self.max = len;
        }
        self.count += 1;
        self.min = self.min.min(len);
        self.max = self.max.max(len);
        match self.distinct.binary_search_by_key(&len, |(l, _)| *l) {
            Ok(i) => {
                if let Some((_, n)) = self.distinct.get_mut(i) {
                    *n += 1;
                }
            }
            Err(i) if self.distinct.len() < SMALL_SET => self.distinct.insert(i, (len, 1)),
            Err(_) => self.overflow = true,
        }
    }

    /// The distinct lengths, without counts.
    pub fn lengths(&self) -> Vec<usize> {
        self.distinct.iter().map(|(l, _)| *l).collect()
    }
}

/// Intervals between the messages a peer originated (requests, notifications) in a segment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cadence {
    pub last_ts: Option<Timestamp>,
    pub intervals: u64,
    /// Sum of the intervals in nanoseconds.
    pub sum_nanos: i128,
}

impl Cadence {
    fn add(&mut self, ts: Timestamp) {
        if let Some(prev) = self.last_ts {
            self.intervals += 1;
            self.sum_nanos += ts.nanos_since(prev).max(0);
        }
        self.last_ts = Some(ts);
    }

    /// Mean interval in nanoseconds, when there is at least one.
    pub fn mean_nanos(&self) -> Option<i128> {
        if self.intervals == 0 { None } else { Some(self.sum_nanos / i128::from(self.intervals)) }
    }
}

/// A KUDOS message of a segment (x byte, nonce).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KudosSeen {
    pub frame: u64,
    pub x: u8,
    pub nonce: Vec<u8>,
}

/// An unprotected OSCORE error received by the peer of a segment, and how many messages the
/// segment had when it came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorSeen {
    pub frame: u64,
    pub at_message: u64,
}

/// A maximal run of messages one peer of an association sent with the same visible identity
/// (sender endpoint, `kid` of its requests) under the same true context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub root: CtxId,
    pub peer: PeerSlot,
    pub ctx: CtxId,
    pub ctx_label: String,
    pub ctx_kind: CtxKind,
    /// The peer's true Sender ID under `ctx` (from the keys).
    pub sender_id: Option<Vec<u8>>,
    pub endpoint: Endpoint,
    /// The other peer's endpoint (first message).
    pub peer_endpoint: Endpoint,
    /// Link-layer source address of the first message (Ethernet, SLL, 802.15.4).
    pub mac: Option<MacAddr>,
    /// `kid` and `kid context` of the peer's requests (visible), when it sent requests.
    pub kid: Option<Vec<u8>>,
    pub kid_context: Option<Vec<u8>>,
    pub first_frame: u64,
    pub last_frame: u64,
    pub first_ts: Timestamp,
    pub last_ts: Timestamp,
    pub messages: u64,
    pub requests: u64,
    /// Partial IVs the peer sent (requests, responses with their own PIV).
    pub piv: Option<Span2<u64>>,
    /// Highest PIV of the peer's Observe registrations (KUDOS PIV*+1 rule, PROTOCOLS.md §3.7).
    pub registration_piv: Option<Seen<u64>>,
    /// Message IDs of the messages the peer originated (CON, NON).
    pub mid: Option<Span2<u16>>,
    /// Tokens of the peer's requests.
    pub token: Option<Span2<Vec<u8>>>,
    /// Observation tokens: of the peer's registrations, and of notifications it sent or
    /// received (at most eight).
    pub observation_tokens: Vec<Seen<Vec<u8>>>,
    /// Outer Observe values of notifications the peer sent or received.
    pub observe: Option<Span2<u64>>,
    pub sizes: SizeStats,
    pub cadence: Cadence,
    /// KUDOS messages (first eight and the last).
    pub kudos: Vec<KudosSeen>,
    /// Unprotected OSCORE errors the peer received (first eight and the last).
    pub errors: Vec<ErrorSeen>,
    /// Observer flows of the first and the last message.
    pub first_flow: FlowId,
    pub last_flow: FlowId,
}

fn push_capped<T>(v: &mut Vec<T>, item: T) {
    if v.len() < SMALL_SET {
        v.push(item);
    } else if let Some(last) = v.last_mut() {
        // Keep the first seven and the latest.
        *last = item;
    }
}

/// What the audit reads from one CoAP message: only what is visible on the wire, plus the
/// true context when keys opened it.
#[derive(Debug, Clone)]
pub(crate) struct Visible {
    pub frame: u64,
    pub ts: Timestamp,
    pub src: Endpoint,
    pub dst: Endpoint,
    pub mac: Option<MacAddr>,
    pub is_request: bool,
    /// CON or NON: the MID is the sender's own.
    pub originates: bool,
    pub mid: u16,
    pub token: Vec<u8>,
    pub observe: Option<u64>,
    pub payload_len: usize,
    pub kid: Option<Vec<u8>>,
    pub kid_context: Option<Vec<u8>>,
    pub piv: Option<u64>,
    pub kudos: Option<(u8, Vec<u8>)>,
    pub unprotected_error: bool,
}

impl Visible {
    fn from_record(r: &FrameRecord) -> Option<Visible> {
        let c = r.coap.as_ref()?;
        let o = c.oscore.as_ref()?;
        let (src, dst) = (r.src?, r.dst?);
        let m = &c.message;
        let opt = o.opt();
        let piv = opt.and_then(|p| p.piv_value()).map(piv_u64);
        Some(Visible {
            frame: r.number,
            ts: r.ts,
            src,
            dst,
            mac: source_mac(r),
            is_request: m.code.is_request(),
            originates: matches!(m.mtype, MsgType::Con | MsgType::Non),
            mid: m.mid,
            token: m.token().to_vec(),
            observe: m.uint_option(OPT_OBSERVE),
            payload_len: m.payload().len(),
            kid: opt.and_then(|p| p.kid_value()).map(<[u8]>::to_vec),
            kid_context: opt.and_then(|p| p.kid_context_value()).map(<[u8]>::to_vec),
            piv,
            kudos: opt.and_then(|p| p.kudos()).map(|k| (k.x, k.nonce.value.to_vec())),
            unprotected_error: o.status == Status::UnprotectedError,
        })
    }
}

/// A Partial IV as a number (big-endian, at most 5 bytes on the wire; longer values saturate).
pub(crate) fn piv_u64(piv: &[u8]) -> u64 {
    piv.iter().fold(0u64, |acc, b| acc.checked_mul(256).map_or(u64::MAX, |v| v | u64::from(*b)))
}

fn source_mac(r: &FrameRecord) -> Option<MacAddr> {
    r.layers.iter().find_map(|l| match &l.info {
        LayerInfo::Ethernet { src, .. } => Some(*src),
        LayerInfo::LinuxSll { addr, .. } if !addr.is_empty() => Some(*addr),
        LayerInfo::Ieee802154 { src, .. } => *src,
        _ => None,
    })
}

/// An EDHOC message seen in clear (a plain CoAP request to /.well-known/edhoc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdhocSeen {
    pub frame: u64,
    pub src: Endpoint,
    pub dst: Endpoint,
}

/// A finding of the capture as the report keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Kept {
    pub frame: u64,
    pub finding: Finding,
}

/// The audit collector: fed every frame record in order, it keeps segments, observer flows
/// and the findings of the capture.
#[derive(Debug)]
pub struct AuditCollector {
    config: AuditConfig,
    /// Segments in order of creation.
    segments: Vec<Segment>,
    /// Current segment per (association root, peer).
    current: FastMap<(CtxId, PeerSlot), usize>,
    /// Segments not kept because `max_segments` was reached.
    segments_dropped: u64,
    /// Who sent protected messages from `src` to `dst` last: (root, peer).
    pairs: FastMap<(Endpoint, Endpoint), (CtxId, PeerSlot)>,
    observer: ObserverState,
    /// Observer flow -> the associations whose messages it carried (at most four each).
    flow_roots: FastMap<FlowId, Vec<CtxId>>,
    edhoc: Vec<EdhocSeen>,
    edhoc_count: u64,
    findings: Vec<Kept>,
    /// Exact counts per (severity, kind), including findings not kept.
    counts: BTreeMap<(Severity, &'static str), u64>,
    findings_dropped: u64,
    frames: u64,
    oscore_messages: u64,
}

impl AuditCollector {
    pub fn new(config: AuditConfig) -> Self {
        let observer = ObserverState::new(&config);
        AuditCollector {
            config,
            segments: Vec::new(),
            current: FastMap::default(),
            segments_dropped: 0,
            pairs: FastMap::default(),
            observer,
            flow_roots: FastMap::default(),
            edhoc: Vec::new(),
            edhoc_count: 0,
            findings: Vec::new(),
            counts: BTreeMap::new(),
            findings_dropped: 0,
            frames: 0,
            oscore_messages: 0,
        }
    }

    pub fn config(&self) -> &AuditConfig {
        &self.config
    }

    /// The segments so far, in order of creation.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Feeds one frame record (frames must come in capture order). `store` names the true
    /// Sender IDs of the contexts the record refers to.
    pub fn observe(&mut self, record: &FrameRecord, store: &ContextStore) {
        self.frames += 1;
        for f in &record.findings {
            self.keep(record.number, f);
        }
        for (frame, f) in &record.earlier_findings {
            self.keep(*frame, f);
        }
        self.edhoc_check(record);
        let Some(v) = Visible::from_record(record) else { return };
        self.oscore_messages += 1;
        let flow = self.observer.observe(&v);
        let ctx = record.coap.as_ref().and_then(|c| c.oscore.as_ref()).and_then(|o| o.context.as_ref());
        // A replayed message is the attacker's, not the peer's: it stays out of the segments.
        let replayed = record.findings.iter().any(|f| f.kind == FindingKind::OscoreReplay);
        match ctx {
            Some(_) if replayed => {}
            Some(ctx) => {
                let sender_id = store.get(ctx.id).map(|c| c.sender_id(ctx.sender).to_vec());
                self.pairs.insert((v.src, v.dst), (ctx.root, ctx.sender));
                let roots = self.flow_roots.entry(flow).or_default();
                if !roots.contains(&ctx.root) && roots.len() < 4 {
                    roots.push(ctx.root);
                }
                let ident = Identity {
                    root: ctx.root,
                    peer: ctx.sender,
                    ctx: ctx.id,
                    label: &ctx.label,
                    kind: ctx.kind,
                    sender_id,
                };
                self.segment_message(&ident, &v, flow);
            }
            None => {
                // An unprotected error (or an unopened message) sent to a peer we know: count it
                // against the receiving peer's current segment.
                if v.unprotected_error
                    && let Some(&(root, peer)) = self.pairs.get(&(v.dst, v.src))
                    && let Some(&i) = self.current.get(&(root, peer))
                    && let Some(s) = self.segments.get_mut(i)
                {
                    push_capped(&mut s.errors, ErrorSeen { frame: v.frame, at_message: s.messages });
                }
            }
        }
        // Notifications count for the receiving peer too (preserved observations).
        if !v.is_request
            && v.observe.is_some()
            && let Some(&(root, peer)) = self.pairs.get(&(v.dst, v.src))
            && let Some(&i) = self.current.get(&(root, peer))
            && let Some(s) = self.segments.get_mut(i)
            && s.last_frame != v.frame
        {
            note_observation(s, &v);
        }
    }

    /// Findings known only at the end of the analysis (attached to earlier frames).
    pub fn late_findings(&mut self, late: &[(u64, Finding)]) {
        for (frame, f) in late {
            self.keep(*frame, f);
        }
    }

    fn keep(&mut self, frame: u64, f: &Finding) {
        *self.counts.entry((f.severity, f.kind.as_str())).or_default() += 1;
        if self.findings.len() < self.config.max_findings {
            self.findings.push(Kept { frame, finding: f.clone() });
        } else {
            self.findings_dropped += 1;
        }
    }

    fn edhoc_check(&mut self, r: &FrameRecord) {
        let Some(c) = &r.coap else { return };
        let m = &c.message;
        if c.oscore.is_some() || !m.code.is_request() {
            return;
        }
        let mut path = m.option_values(OPT_URI_PATH);
        if path.next() == Some(b".well-known".as_slice()) && path.next() == Some(b"edhoc".as_slice()) {
            self.edhoc_count += 1;
            if let (Some(src), Some(dst)) = (r.src, r.dst)
                && self.edhoc.len() < 64
            {
                self.edhoc.push(EdhocSeen { frame: r.number, src, dst });
            }
        }
    }

    fn segment_message(&mut self, id: &Identity<'_>, v: &Visible, flow: FlowId) {
        let key = (id.root, id.peer);
        let cur = self.current.get(&key).and_then(|&i| self.segments.get(i).map(|s| (i, s)));
        let same = cur.is_some_and(|(_, s)| {
            s.endpoint == v.src && s.ctx == id.ctx && (!v.is_request || s.kid.is_none() || s.kid == v.kid)
        });
        let index = match (same, cur) {
            (true, Some((i, _))) => i,
            _ => {
                if self.segments.len() >= self.config.max_segments {
                    self.segments_dropped += 1;
                    // Keep counting into the current segment, if any.
                    match cur {
                        Some((i, _)) => i,
                        None => return,
                    }
                } else {
                    self.segments.push(Segment {
                        root: id.root,
                        peer: id.peer,
                        ctx: id.ctx,
                        ctx_label: id.label.to_string(),
                        ctx_kind: id.kind,
                        sender_id: id.sender_id.clone(),
                        endpoint: v.src,
                        peer_endpoint: v.dst,
                        mac: v.mac,
                        kid: None,
                        kid_context: None,
                        first_frame: v.frame,
                        last_frame: v.frame,
                        first_ts: v.ts,
                        last_ts: v.ts,
                        messages: 0,
                        requests: 0,
                        piv: None,
                        registration_piv: None,
                        mid: None,
                        token: None,
                        observation_tokens: Vec::new(),
                        observe: None,
                        sizes: SizeStats::default(),
                        cadence: Cadence::default(),
                        kudos: Vec::new(),
                        errors: Vec::new(),
                        first_flow: flow,
                        last_flow: flow,
                    });
                    let i = self.segments.len() - 1;
                    self.current.insert(key, i);
                    i
                }
            }
        };
        let Some(s) = self.segments.get_mut(index) else { return };
        s.last_frame = v.frame;
        s.last_ts = v.ts;
        s.last_flow = flow;
        s.messages += 1;
        if v.is_request {
            s.requests += 1;
            if s.kid.is_none() {
                s.kid = v.kid.clone();
            }
            if v.kid_context.is_some() {
                s.kid_context = v.kid_context.clone();
            }
            Span2::update(&mut s.token, v.token.clone(), v.frame);
            if v.observe.is_some() {
                if v.observe == Some(0)
                    && let Some(p) = v.piv
                    && s.registration_piv.as_ref().is_none_or(|r| p >= r.value)
                {
                    s.registration_piv = Some(Seen { value: p, frame: v.frame });
                }
                note_token(s, &v.token, v.frame);
            }
        } else if v.observe.is_some() {
            note_observation(s, v);
        }
        if let Some(p) = v.piv {
            Span2::update(&mut s.piv, p, v.frame);
        }
        if v.originates {
            Span2::update(&mut s.mid, v.mid, v.frame);
            if v.is_request || v.observe.is_some() {
                s.cadence.add(v.ts);
            }
        }
        if v.payload_len > 0 {
            s.sizes.add(v.payload_len);
        }
        if let Some((x, nonce)) = &v.kudos {
            push_capped(&mut s.kudos, KudosSeen { frame: v.frame, x: *x, nonce: nonce.clone() });
        }
    }

    /// The report: boundaries evaluated item by item, rule violations, the observer's view and
    /// every finding of the capture. `timeline` names the associations and peers.
    pub fn report(&self, capture: &str, timeline: &Timeline) -> AuditReport {
        report::build(self, capture, timeline)
    }
}

/// Records an observation token and Observe value (sent or received notification).
fn note_observation(s: &mut Segment, v: &Visible) {
    if let Some(o) = v.observe {
        Span2::update(&mut s.observe, o, v.frame);
    }
    note_token(s, &v.token, v.frame);
}

fn note_token(s: &mut Segment, token: &[u8], frame: u64) {
    if token.is_empty() || s.observation_tokens.iter().any(|t| t.value == token) {
        return;
    }
    if s.observation_tokens.len() < SMALL_SET {
        s.observation_tokens.push(Seen { value: token.to_vec(), frame });
    }
}

/// Who sent a protected message, under which context.
struct Identity<'a> {
    root: CtxId,
    peer: PeerSlot,
    ctx: CtxId,
    label: &'a str,
    kind: CtxKind,
    sender_id: Option<Vec<u8>>,
}
