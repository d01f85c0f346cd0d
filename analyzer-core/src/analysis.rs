//! The driver: one pass over a capture in frame order (stateful: reassembly, exchanges, later
//! security contexts and procedures), producing one [`FrameRecord`] per frame.
//!
//! The analyzer is sans-IO: it is fed [`RawFrame`]s by the caller (CLI, GUI worker, plugin) and
//! keeps only state that is bounded by live exchanges and reassemblies, never by frame count.

use crate::capture::{LinkType, RawFrame};
use crate::coap::COAP_PORT;
use crate::coap::exchange::{
    ExchangeConfig, ExchangeInfo, ExchangeSummary, ExchangeTracker, MsgMeta, ObserveInfo, RequestHint, Role,
};
use crate::coap::message::{Buffers, Message, ParseOptions, looks_like_coap};
use crate::coap::options::{BlockValue, num};
use crate::finding::{Finding, Severity, SpanSource};
use crate::net::{Decoded, Endpoint, Layer, NetConfig, NetDecoder};
use crate::oscore::engine::{Engine, EngineConfig, EngineStats, MessageInput, OscoreRecord};
use crate::oscore::store::ContextStore;
use crate::procedures::id_update::{IdUpdateConfig, IdUpdateObserver};
use crate::procedures::kudos::{self, KudosObserver, Observation};
use crate::time::{Nanos, Timestamp};
use crate::timeline::{FrameEvent, Lane, Timeline};
use std::collections::BTreeMap;

/// Live exchanges the inner (decrypted) tracker keeps at most.
const INNER_MAX_LIVE: usize = 4096;

/// Analysis settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalyzerConfig {
    /// UDP ports dissected as CoAP (either source or destination). Default: 5683.
    pub coap_ports: Vec<u16>,
    /// Try the conservative CoAP heuristic on other UDP ports.
    pub heuristics: bool,
    pub net: NetConfig,
    pub exchange: ExchangeConfig,
    pub oscore: EngineConfig,
    pub id_update: IdUpdateConfig,
}

impl Default for AnalyzerConfig {
    fn default() -> Self {
        AnalyzerConfig {
            coap_ports: vec![COAP_PORT],
            heuristics: true,
            net: NetConfig::default(),
            exchange: ExchangeConfig::default(),
            oscore: EngineConfig::default(),
            id_update: IdUpdateConfig::default(),
        }
    }
}

/// How a datagram was recognised as CoAP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoapDetection {
    /// One of the configured CoAP ports.
    Port,
    /// The heuristic on another port.
    Heuristic,
}

/// A CoAP message found in a frame, with what the exchange tracker learned about it.
#[derive(Debug, Clone, PartialEq)]
pub struct CoapRecord {
    pub message: Message,
    /// Where the message bytes start: in the frame (`SpanSource::Frame`) or in the reassembled
    /// datagram (`SpanSource::Reassembled`).
    pub source: SpanSource,
    pub offset: usize,
    pub detection: CoapDetection,
    pub exchange: ExchangeInfo,
    /// The OSCORE part: present for protected messages (and unprotected OSCORE errors).
    pub oscore: Option<Box<OscoreRecord>>,
}

/// Everything the analysis knows about one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameRecord {
    /// 1-based frame number.
    pub number: u64,
    pub ts: Timestamp,
    /// Time since the first frame of the capture.
    pub rel_time: Nanos,
    pub link_type: LinkType,
    pub cap_len: usize,
    pub orig_len: u32,
    /// Layers in the frame bytes, outermost first.
    pub layers: Vec<Layer>,
    /// Layers inside a reassembled datagram (ranges into its bytes).
    pub reassembled_layers: Vec<Layer>,
    /// Frames the datagram was reassembled from (empty when not reassembled).
    pub reassembled_from: Vec<u64>,
    /// The reassembled datagram bytes, when this frame completed one (for the hex view).
    pub reassembled_bytes: Option<Vec<u8>>,
    pub src: Option<Endpoint>,
    pub dst: Option<Endpoint>,
    pub coap: Option<Box<CoapRecord>>,
    /// All findings of this frame, spans absolute in their data source.
    pub findings: Vec<Finding>,
    /// Findings about earlier frames learned at this one (e.g. a reassembly dropped when its
    /// time ran out): (frame number, finding).
    pub earlier_findings: Vec<(u64, Finding)>,
    /// Key-management events this frame caused (KUDOS execution started, context derived,
    /// key confirmation...).
    pub events: Vec<FrameEvent>,
}

impl FrameRecord {
    /// The highest severity among the findings, if any.
    pub fn max_severity(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    /// Source and destination as a summary line shows them: UDP endpoints when there are
    /// some, else the innermost network or link addresses ("-" when there are none).
    pub fn addresses(&self) -> (String, String) {
        use crate::net::{LayerInfo, SixlowpanHeader};
        if let (Some(s), Some(d)) = (self.src, self.dst) {
            return (s.to_string(), d.to_string());
        }
        for l in self.reassembled_layers.iter().rev().chain(self.layers.iter().rev()) {
            match &l.info {
                LayerInfo::Ipv4 { src, dst, .. } => return (src.to_string(), dst.to_string()),
                LayerInfo::Ipv6 { src, dst, .. } => return (src.to_string(), dst.to_string()),
                LayerInfo::Sixlowpan { header: SixlowpanHeader::Iphc { src, dst, .. } } => {
                    return (src.to_string(), dst.to_string());
                }
                LayerInfo::Ethernet { src, dst, .. } => return (src.to_string(), dst.to_string()),
                LayerInfo::Ieee802154 { src, dst, .. } => {
                    let show = |a: &Option<crate::net::MacAddr>| {
                        a.as_ref().map(|a| a.to_string()).unwrap_or_else(|| "-".into())
                    };
                    return (show(src), show(dst));
                }
                _ => {}
            }
        }
        ("-".into(), "-".into())
    }

    /// The topmost protocol name, as a Protocol column shows it.
    pub fn protocol(&self) -> &'static str {
        use crate::net::LayerInfo as L;
        if self.coap.is_some() {
            return "CoAP";
        }
        let top = self.reassembled_layers.last().or(self.layers.last());
        match top.map(|l| &l.info) {
            Some(L::Udp { .. }) => "UDP",
            Some(L::Ipv4 { .. }) => "IPv4",
            Some(L::Ipv6 { .. }) => "IPv6",
            Some(L::Sixlowpan { .. }) => "6LoWPAN",
            Some(L::Ieee802154 { .. }) => "IEEE 802.15.4",
            Some(L::Ethernet { .. }) | Some(L::Vlan { .. }) => "Ethernet",
            Some(L::LinuxSll { .. }) => "SLL",
            Some(L::Loopback { .. }) => "Loopback",
            None => "Unknown",
        }
    }
}

/// Counters over a whole capture (`kudoscope stats`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stats {
    pub frames: u64,
    pub bytes: u64,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    pub udp_datagrams: u64,
    pub coap_messages: u64,
    pub coap_heuristic: u64,
    /// By message type name ("CON", ...).
    pub by_type: BTreeMap<&'static str, u64>,
    /// By code, displayed ("GET", "2.05 Content", "0.00 Empty").
    pub by_code: BTreeMap<String, u64>,
    pub requests: u64,
    pub responses: u64,
    pub empty_acks: u64,
    pub resets: u64,
    pub pings: u64,
    pub exchanges: ExchangeSummary,
    /// Findings by (severity, kind).
    pub findings: BTreeMap<(Severity, &'static str), u64>,
    /// OSCORE outcomes (empty without keys and without protected messages).
    pub oscore: EngineStats,
}

/// One pass over a capture.
#[derive(Debug)]
pub struct Analyzer {
    config: AnalyzerConfig,
    net: NetDecoder,
    exchanges: ExchangeTracker,
    /// Follows decrypted inner messages for inner Block-wise transfers.
    inner_exchanges: ExchangeTracker,
    engine: Engine,
    kudos: KudosObserver,
    id_update: IdUpdateObserver,
    timeline: Timeline,
    stats: Stats,
    /// Messages per code byte and per type, named into `stats.by_code` and `stats.by_type` at
    /// the end (no map update per message).
    codes: Box<[u64; 256]>,
    types: [u64; 4],
    /// The privacy/findings audit, when enabled ([`Analyzer::enable_audit`]).
    audit: Option<crate::audit::AuditCollector>,
    /// A recycled record's message buffers ([`Analyzer::recycle`]).
    spare_message: Buffers,
    /// The box of a recycled record's CoAP part, for the next one.
    spare_coap: Option<Box<CoapRecord>>,
}

impl Analyzer {
    /// An analyzer without OSCORE keys (protected messages are parsed, not opened).
    pub fn new(config: AnalyzerConfig) -> Self {
        Analyzer::with_contexts(config, ContextStore::new())
    }

    /// An analyzer that opens OSCORE messages with the contexts in `store`.
    pub fn with_contexts(config: AnalyzerConfig, store: ContextStore) -> Self {
        let net = NetDecoder::new(config.net.clone());
        let exchanges = ExchangeTracker::new(config.exchange.clone());
        // Inner messages are followed for inner Block-wise bodies only (the outer tracker
        // already handles retransmissions, MIDs and Observe): a small live table is enough.
        let inner_exchanges = ExchangeTracker::new(ExchangeConfig {
            max_live: config.exchange.max_live.min(INNER_MAX_LIVE),
            ..config.exchange.clone()
        });
        let engine = Engine::new(config.oscore.clone(), store);
        let id_update = IdUpdateObserver::new(config.id_update.clone());
        Analyzer {
            config,
            net,
            exchanges,
            inner_exchanges,
            engine,
            kudos: KudosObserver::new(),
            id_update,
            timeline: Timeline::default(),
            stats: Stats::default(),
            codes: Box::new([0; 256]),
            types: [0; 4],
            audit: None,
            spare_message: Buffers::default(),
            spare_coap: None,
        }
    }

    /// Hands back a record the caller is done with: its layer list, message buffers, CoAP
    /// record box and OSCORE record (with its plaintext buffers) are filled again by the next
    /// frame, so a caller that recycles every record (the CLI) saves their allocations.
    /// Records a caller keeps are simply not recycled.
    pub fn recycle(&mut self, record: FrameRecord) {
        self.net.recycle(record.layers);
        if let Some(mut c) = record.coap {
            if let Some(o) = c.oscore.take() {
                self.engine.recycle(o);
            }
            self.spare_message = c.message.take_buffers();
            self.spare_coap = Some(c);
        }
    }

    /// Feeds every frame record from now on to an audit collector (`kudoscope audit`); the
    /// report comes from [`Analyzer::audit_report`] after [`Analyzer::finish`].
    pub fn enable_audit(&mut self, config: crate::audit::AuditConfig) {
        self.audit = Some(crate::audit::AuditCollector::new(config));
    }

    /// The audit report (None unless [`Analyzer::enable_audit`] was called).
    pub fn audit_report(&self, capture: &str) -> Option<crate::audit::AuditReport> {
        self.audit.as_ref().map(|a| a.report(capture, &self.timeline))
    }

    /// The OSCORE engine (contexts, their usage and lineage).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The timeline so far (complete after [`Analyzer::finish`]).
    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    pub fn config(&self) -> &AnalyzerConfig {
        &self.config
    }

    /// Analyses the next frame (frames must come in capture order).
    pub fn process(&mut self, frame: &RawFrame) -> FrameRecord {
        let first = *self.stats.first_ts.get_or_insert(frame.ts);
        self.stats.frames += 1;
        self.stats.bytes += frame.data.len() as u64;
        self.stats.last_ts = Some(frame.ts);

        let decoded = self.net.decode(frame.link_type, &frame.data, frame.number, frame.ts);
        let Decoded { layers, reassembled_layers, datagram, mut findings, earlier_findings } = decoded;
        for (_, f) in &earlier_findings {
            *self.stats.findings.entry((f.severity, f.kind.as_str())).or_default() += 1;
        }
        let mut record = FrameRecord {
            number: frame.number,
            ts: frame.ts,
            rel_time: Nanos(frame.ts.nanos_since(first)),
            link_type: frame.link_type,
            cap_len: frame.data.len(),
            orig_len: frame.orig_len,
            layers,
            reassembled_layers,
            reassembled_from: Vec::new(),
            reassembled_bytes: None,
            src: None,
            dst: None,
            coap: None,
            findings: Vec::new(),
            earlier_findings,
            events: Vec::new(),
        };

        if let Some(dg) = datagram {
            self.stats.udp_datagrams += 1;
            record.src = Some(dg.src);
            record.dst = Some(dg.dst);
            let (source, offset) = match (&dg.reassembled, dg.payload_offset) {
                (None, Some(off)) => (SpanSource::Frame, off),
                (Some(r), _) => {
                    // The UDP payload sits at the end of the reassembled bytes.
                    let off = r.bytes.len().saturating_sub(dg.payload.len());
                    (SpanSource::Reassembled, off)
                }
                (None, None) => (SpanSource::Reassembled, 0),
            };
            if let Some(r) = dg.reassembled {
                record.reassembled_from = r.frames;
                record.reassembled_bytes = Some(r.bytes);
            }
            let detection = if self.is_coap_port(dg.src.port) || self.is_coap_port(dg.dst.port) {
                Some(CoapDetection::Port)
            } else if self.config.heuristics && looks_like_coap(&dg.payload) {
                Some(CoapDetection::Heuristic)
            } else {
                None
            };
            if let Some(detection) = detection {
                let missing_bytes = dg.missing;
                // UDP delimits the message: unless the capture cut it, running out of bytes is
                // the sender's fault (malformed), not the capture's (truncated).
                let opts = ParseOptions { known_complete: missing_bytes == 0, ..Default::default() };
                let message = Message::parse_into(&dg.payload, opts, std::mem::take(&mut self.spare_message));
                let meta = MsgMeta { frame: frame.number, ts: frame.ts, src: dg.src, dst: dg.dst };
                let exchange = self.exchanges.observe(&meta, &message);
                relocate_into(&mut findings, &message.findings, offset, source);
                relocate_into(&mut findings, &exchange.findings, offset, source);
                let mut oscore = self.engine.process(MessageInput {
                    meta: &meta,
                    message: &message,
                    exchange: &exchange,
                    missing_bytes,
                });
                if let Some(o) = &mut oscore {
                    if let Some(inner) = &o.inner {
                        o.inner_exchange = self.follow_inner(&meta, &message, inner, &exchange);
                    }
                    relocate_into(&mut findings, &o.findings, offset, source);
                    self.procedures(&meta, &message, o, &mut record.events, &mut findings);
                }
                self.count_coap(&message, &exchange, detection);
                let coap = CoapRecord { message, source, offset, detection, exchange, oscore };
                record.coap = Some(match self.spare_coap.take() {
                    Some(mut b) => {
                        *b = coap;
                        b
                    }
                    None => Box::new(coap),
                });
            }
        }

        for f in &findings {
            *self.stats.findings.entry((f.severity, f.kind.as_str())).or_default() += 1;
        }
        record.findings = findings;
        if let Some(a) = &mut self.audit {
            a.observe(&record, self.engine.store());
        }
        record
    }

    /// Ends the capture: findings about state still open (incomplete reassemblies, ...),
    /// attached to the frames they concern, and the final statistics.
    /// The analyzer stays usable for inspection (e.g. [`Analyzer::engine`]) afterwards.
    pub fn finish(&mut self) -> (Vec<(u64, Finding)>, Stats) {
        let mut late = self.net.finish();
        late.extend(self.kudos.finish(&mut self.timeline.lanes));
        let last = self.stats.last_ts.unwrap_or(Timestamp::ZERO);
        late.extend(self.id_update.finish(&mut self.timeline.lanes, last));
        for (_, f) in &late {
            *self.stats.findings.entry((f.severity, f.kind.as_str())).or_default() += 1;
        }
        if let Some(a) = &mut self.audit {
            a.late_findings(&late);
        }
        for (code, n) in self.codes.iter_mut().enumerate() {
            if *n > 0 {
                *self.stats.by_code.entry(code_label(crate::coap::message::Code(code as u8))).or_default() +=
                    *n;
                *n = 0;
            }
        }
        for (bits, n) in self.types.iter_mut().enumerate() {
            if *n > 0 {
                *self
                    .stats
                    .by_type
                    .entry(crate::coap::message::MsgType::from_bits(bits as u8).as_str())
                    .or_default() += std::mem::take(n);
            }
        }
        self.stats.exchanges = self.exchanges.finish();
        self.stats.oscore = self.engine.stats().clone();
        (late, self.stats.clone())
    }

    /// Shows a decrypted inner message to the inner exchange tracker, which follows inner
    /// Block-wise transfers: messages with a Block option, and the requests they need. A plain
    /// request (most of them) is not shown: its resource is noted with the engine's request,
    /// and handed to the tracker with a response to it that starts a Block2 transfer.
    fn follow_inner(
        &mut self,
        meta: &MsgMeta,
        outer: &Message,
        inner: &Message,
        exchange: &ExchangeInfo,
    ) -> Option<Box<ExchangeInfo>> {
        let request = inner.code.is_request();
        if request && !ExchangeTracker::needs_request(meta, inner) {
            if exchange.retransmission_of.is_none() {
                self.engine.note_inner_resource(meta.frame, self.inner_exchanges.resource_of(inner));
            }
            return None;
        }
        if !request && ![num::BLOCK1, num::BLOCK2].iter().any(|&n| inner.find_option(n).is_some()) {
            return None;
        }
        let hint = exchange.request_frame.filter(|_| !request).and_then(|frame| {
            let resource = self.engine.inner_resource(frame)?;
            let since = exchange.response_time.map_or(0, |t| t.0);
            Some(RequestHint { frame, ts: Timestamp::from_nanos(meta.ts.as_nanos() - since), resource })
        });
        let reframed = reframe_inner(outer, inner);
        Some(Box::new(self.inner_exchanges.observe_hinted(meta, &reframed, hint)))
    }

    /// Feeds an OSCORE message to the timeline and the procedure observers.
    fn procedures(
        &mut self,
        meta: &MsgMeta,
        message: &Message,
        o: &OscoreRecord,
        events: &mut Vec<FrameEvent>,
        findings: &mut Vec<Finding>,
    ) {
        let Some(ctx) = &o.context else {
            findings.extend(kudos::unopened_findings(o));
            return;
        };
        let store = self.engine.store();
        let lane = self.timeline.lanes.entry(ctx.root).or_insert_with(|| {
            let root = store.get(ctx.root);
            Lane::new(
                ctx.root,
                root.map(|r| r.name.to_string()).unwrap_or_default(),
                root.map_or(["A", "B"], |r| [r.slot_names.a, r.slot_names.b]),
            )
        });
        let sender_id = store.get(ctx.id).map(|c| c.sender_id(ctx.sender));
        let max_id_len = store.get(ctx.id).map_or(7, |c| c.alg().max_id_len());
        lane.saw(
            ctx.id, &ctx.name, &ctx.label, ctx.kind, meta.frame, meta.ts, ctx.sender, meta.src, sender_id,
        );
        let obs =
            Observation { frame: meta.frame, ts: meta.ts, is_request: message.code.is_request(), record: o };
        let out = self.kudos.observe(lane, &obs);
        for ctx in out.retired {
            self.engine.retire(ctx, meta.frame);
        }
        events.extend(out.events);
        findings.extend(out.findings);

        let out = self.id_update.observe(lane, &obs, max_id_len);
        if let Some(d) = out.derive
            && let Some(id) = self.engine.derive_ids(d.base, &d.sender_id_a, &d.sender_id_b, meta.frame)
        {
            let store = self.engine.store();
            let c = store.get(id);
            let derived = crate::timeline::DerivedCtx {
                ctx: id,
                name: c.map(|c| c.name.to_string()).unwrap_or_default(),
                label: c.map(|c| c.label.to_string()).unwrap_or_default(),
                kind: crate::oscore::store::CtxKind::IdUpdate,
                parent: Some(d.base),
                parent_label: store.get(d.base).map(|b| b.label.to_string()),
                frame: meta.frame,
            };
            self.id_update.derived(lane, d.root, derived, meta.frame, meta.ts);
        }
        for ctx in out.retired {
            self.engine.retire(ctx, meta.frame);
        }
        events.extend(out.events);
        findings.extend(out.findings);
    }

    fn is_coap_port(&self, port: u16) -> bool {
        self.config.coap_ports.contains(&port)
    }

    fn count_coap(&mut self, m: &Message, x: &ExchangeInfo, detection: CoapDetection) {
        let s = &mut self.stats;
        s.coap_messages += 1;
        if detection == CoapDetection::Heuristic {
            s.coap_heuristic += 1;
        }
        if let Some(n) = self.types.get_mut(usize::from(m.mtype.bits())) {
            *n += 1;
        }
        if let Some(n) = self.codes.get_mut(usize::from(m.code.0)) {
            *n += 1;
        }
        match x.role {
            Role::Request => s.requests += 1,
            Role::Response => s.responses += 1,
            Role::EmptyAck => s.empty_acks += 1,
            Role::Reset => s.resets += 1,
            Role::Ping => s.pings += 1,
            Role::Other => {}
        }
    }
}

/// Copies findings whose spans are relative to a message into the frame's list, moving
/// message-relative spans to where the message lies (spans into decrypted plaintext stay).
fn relocate_into(out: &mut Vec<Finding>, found: &[Finding], offset: usize, source: SpanSource) {
    if found.is_empty() {
        return;
    }
    out.extend(found.iter().map(|f| {
        let mut f = f.clone();
        f.span =
            f.span.map(|s| if s.source() == SpanSource::Decrypted { s } else { s.relocate(offset, source) });
        f
    }));
}

/// The inner message of an OSCORE message as a CoAP message of its own: the outer header
/// (type, MID, token) with the inner code, options and payload, plus the outer Observe (it is
/// class E and U), so the exchange tracker can follow inner Block-wise transfers.
fn reframe_inner(outer: &Message, inner: &Message) -> Message {
    let adds_observe = outer_observe(outer, inner).is_some();
    let token = outer.token();
    let (Ok(tkl), Some(body)) = (u8::try_from(token.len()), inner.bytes.get(1..)) else {
        return reemit_inner(outer, inner);
    };
    if adds_observe || tkl > 8 || !inner.complete || !inner.findings.is_empty() {
        return reemit_inner(outer, inner);
    }
    // The outer header and token, then the plaintext's options and payload as they are: the
    // inner message's structure, moved by the header and token length.
    let mut bytes = Vec::with_capacity(4 + token.len() + body.len());
    bytes.push(0x40 | (outer.mtype.bits() << 4) | tkl);
    bytes.push(inner.code.0);
    bytes.extend_from_slice(&outer.mid.to_be_bytes());
    bytes.extend_from_slice(token);
    bytes.extend_from_slice(body);
    // Plaintext byte i (i >= 1: after its code byte) lands at 4 + token length + i - 1.
    let shift = 3 + token.len();
    let moved = |r: &std::ops::Range<usize>| r.start + shift..r.end + shift;
    Message {
        bytes,
        kind: crate::coap::message::MessageKind::Udp,
        version: 1,
        mtype: outer.mtype,
        code: inner.code,
        mid: outer.mid,
        token: 4..4 + token.len(),
        token_ext: None,
        options: inner
            .options
            .iter()
            .map(|o| crate::coap::message::CoapOption {
                number: o.number,
                range: moved(&o.range),
                value: moved(&o.value),
            })
            .collect(),
        payload_marker: inner.payload_marker.map(|p| p + shift),
        payload: moved(&inner.payload),
        complete: true,
        findings: Vec::new(),
    }
}

/// The outer Observe value the reframed message takes (when the inner message has none).
fn outer_observe<'a>(outer: &'a Message, inner: &Message) -> Option<&'a [u8]> {
    inner.find_option(num::OBSERVE).is_none().then(|| outer.first_option(num::OBSERVE)).flatten()
}

/// [`reframe_inner`] by encoding a new message: when the outer Observe must be added, the
/// token is extended, or the plaintext had problems.
fn reemit_inner(outer: &Message, inner: &Message) -> Message {
    let mut options: Vec<(u16, Vec<u8>)> =
        inner.options.iter().map(|o| (o.number, inner.option_value(o).to_vec())).collect();
    if let Some(obs) = outer_observe(outer, inner) {
        options.push((num::OBSERVE, obs.to_vec()));
    }
    let repr = crate::coap::message::MessageRepr {
        mtype: Some(outer.mtype),
        code: inner.code.0,
        mid: outer.mid,
        token: outer.token().to_vec(),
        options,
        payload: inner.payload().to_vec(),
    };
    Message::parse(&repr.emit())
}

/// A code as the summary shows it: methods by name, "2.05 Content", "0.00 Empty".
pub fn code_label(code: crate::coap::message::Code) -> String {
    if code.is_empty() { "0.00 Empty".to_string() } else { code.to_string() }
}

/// The Info column for a frame: CoAP type, code, MID, token, URI and key options, and what the
/// exchange tracker learned; for non-CoAP frames, the topmost layer's summary.
pub fn info(record: &FrameRecord) -> String {
    use std::fmt::Write;
    let Some(c) = &record.coap else {
        return non_coap_info(record);
    };
    let mut s = coap_summary(c);
    let x = &c.exchange;
    if let Some(f) = x.retransmission_of {
        let _ = write!(s, " [retransmission of #{f}]");
    }
    if let Some(f) = x.acknowledges {
        let verb = if x.role == Role::Reset { "reset of" } else { "ack of" };
        let _ = write!(s, " [{verb} #{f}]");
    }
    match (&x.observe, x.request_frame) {
        (Some(ObserveInfo::Notification { registration_frame, index, .. }), _) if *index > 1 => {
            let _ = write!(s, " [notification {index} of #{registration_frame}]");
        }
        (Some(ObserveInfo::Ends { registration_frame }), _) => {
            let _ = write!(s, " [ends observation #{registration_frame}]");
        }
        (_, Some(f)) => match x.response_time {
            Some(rt) => {
                let _ = write!(s, " [response to #{f}, {rt}s]");
            }
            None => {
                let _ = write!(s, " [response to #{f}]");
            }
        },
        _ => {}
    }
    if let Some(done) = x.block.as_ref().and_then(|b| b.completed.as_ref()) {
        let _ = write!(s, " [body complete: {} bytes in {} blocks]", done.total_len, done.frames.len());
    }
    if x.role == Role::Ping {
        s.push_str(" [ping]");
    }
    if c.detection == CoapDetection::Heuristic {
        s.push_str(" [heuristic]");
    }
    s
}

/// Type, code, MID, token, URI and key options of a CoAP message, one line.
pub fn coap_summary(c: &CoapRecord) -> String {
    use std::fmt::Write;
    let m = &c.message;
    let mut s = String::with_capacity(96);
    let _ = write!(s, "{} {} MID={}", m.mtype, code_label(m.code), m.mid);
    if !m.token.is_empty() {
        let _ = write!(s, " TKN={}", crate::hex::encode(m.token()));
    }
    let uri = uri_of(m);
    if !uri.is_empty() {
        s.push(' ');
        s.push_str(&uri);
    }
    for o in &m.options {
        let v = m.option_value(o);
        let text = match o.number {
            6 => Some(format!("Observe={}", crate::coap::options::OptionValue::decode(6, v))),
            9 if c.oscore.is_some() => None,
            9 => Some(format!("OSCORE={}", crate::hex::encode(v))),
            23 | 27 => BlockValue::decode(v)
                .map(|b| format!("{}={b}", if o.number == 23 { "Block2" } else { "Block1" })),
            _ => None,
        };
        if let Some(t) = text {
            s.push(' ');
            s.push_str(&t);
        }
    }
    if !m.payload.is_empty() {
        let _ = write!(s, " len={}", m.payload.len());
    }
    if !m.complete {
        s.push_str(" [malformed]");
    }
    if let Some(o) = &c.oscore {
        s.push(' ');
        s.push_str(&oscore_summary(o));
    }
    s
}

/// `OSCORE[kid=6e piv=00] => GET /a?b len=3 {ctx g0}` for a decrypted message, the status
/// otherwise.
pub fn oscore_summary(o: &OscoreRecord) -> String {
    use crate::oscore::engine::{EchoRecovery, Status};
    use std::fmt::Write;
    let mut s = String::from("OSCORE[");
    let mut fields = Vec::new();
    if let Some(opt) = o.opt() {
        if let Some(k) = opt.kid_value() {
            fields.push(if k.is_empty() {
                "kid=(empty)".into()
            } else {
                format!("kid={}", crate::hex::encode(k))
            });
        }
        if let Some(kc) = opt.kid_context_value() {
            fields.push(format!("kidctx={}", crate::hex::encode(kc)));
        }
        if let Some(p) = opt.piv_value() {
            fields.push(format!("piv={}", crate::hex::encode(p)));
        }
        if let Some(k) = opt.kudos() {
            fields.push(format!("x={:02x} nonce={}", k.x, crate::hex::encode(&k.nonce.value)));
        }
    }
    s.push_str(&fields.join(" "));
    s.push(']');
    match (o.status, &o.inner) {
        (Status::Decrypted | Status::TagTruncated, Some(inner)) => {
            let _ = write!(s, " => {}", code_label(inner.code));
            let uri = uri_of(inner);
            if !uri.is_empty() {
                let _ = write!(s, " {uri}");
            }
            for o in &inner.options {
                if let (23 | 27, Some(b)) = (o.number, BlockValue::decode(inner.option_value(o))) {
                    let _ = write!(s, " {}={b}", if o.number == 23 { "Block2" } else { "Block1" });
                }
            }
            let _ = write!(s, " len={}", inner.payload.len());
            if o.status == Status::TagTruncated {
                s.push_str(" (tag not verified)");
            }
        }
        (status, _) => {
            let _ = write!(s, " !{}", status.as_str());
        }
    }
    if let Some(c) = &o.context {
        if c.name.ends_with(&*c.label) {
            let _ = write!(s, " {{{}}}", c.name);
        } else {
            let _ = write!(s, " {{{} {}}}", c.name, c.label);
        }
    }
    if let Some(done) =
        o.inner_exchange.as_ref().and_then(|x| x.block.as_ref()).and_then(|b| b.completed.as_ref())
    {
        let _ = write!(s, " [inner body complete: {} bytes in {} blocks]", done.total_len, done.frames.len());
    }
    match o.echo_recovery {
        Some(EchoRecovery::Challenge) => s.push_str(" [B.1.2 Echo challenge]"),
        Some(EchoRecovery::Response) => s.push_str(" [B.1.2 Echo response]"),
        None => {}
    }
    s
}

/// "/a/b?x=1&y" from Uri-Path and Uri-Query (with Uri-Host/Port when present).
pub fn uri_of(m: &Message) -> String {
    let mut s = String::new();
    for p in m.option_values(11) {
        s.push('/');
        s.push_str(&String::from_utf8_lossy(p));
    }
    let mut first = true;
    for q in m.option_values(15) {
        s.push(if first { '?' } else { '&' });
        first = false;
        s.push_str(&String::from_utf8_lossy(q));
    }
    s
}

fn non_coap_info(record: &FrameRecord) -> String {
    use crate::net::LayerInfo as L;
    let top = record.reassembled_layers.last().or(record.layers.last());
    match top.map(|l| &l.info) {
        Some(L::Udp { src_port, dst_port, length, .. }) => {
            format!("{src_port} -> {dst_port} Len={}", length.saturating_sub(8))
        }
        Some(L::Ipv4 { protocol, more_fragments, fragment_offset, .. }) => {
            if *more_fragments || *fragment_offset > 0 {
                format!("Fragmented IPv4 (proto {protocol}, offset {})", u32::from(*fragment_offset) * 8)
            } else {
                format!("IPv4 protocol {protocol}")
            }
        }
        Some(L::Ipv6 { next_header, fragment, .. }) => match fragment {
            Some((id, off, _)) => format!("Fragmented IPv6 (id {id:#x}, offset {})", u32::from(*off) * 8),
            None => format!("IPv6 next header {next_header}"),
        },
        Some(L::Sixlowpan { header }) => crate::dissect::sixlowpan_summary(header),
        Some(L::Ieee802154 { frame_type, .. }) => format!("IEEE 802.15.4 frame type {frame_type}"),
        Some(_) | None => match record.findings.first() {
            Some(f) => f.message.clone(),
            None => String::new(),
        },
    }
}

#[cfg(test)]
mod size_tests {
    /// Front ends keep records per frame (the GUI's first frames, the plugin's store): rarely
    /// present parts are boxed so a record stays small (it was 1760 bytes before).
    #[test]
    fn frame_records_stay_small() {
        assert!(
            std::mem::size_of::<super::FrameRecord>() <= 320,
            "{}",
            std::mem::size_of::<super::FrameRecord>()
        );
        assert!(
            std::mem::size_of::<super::CoapRecord>() <= 480,
            "{}",
            std::mem::size_of::<super::CoapRecord>()
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod sample_tests {
    use super::*;
    use crate::capture::CaptureReader;
    use crate::keys::{self, KeySet};
    use crate::oscore::store::ContextStore;
    use std::path::{Path, PathBuf};

    fn captures(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                captures(&p, out);
            } else if matches!(p.extension().and_then(|e| e.to_str()), Some("pcap" | "pcapng")) {
                out.push(p);
            }
        }
    }

    fn store_for(path: &Path) -> ContextStore {
        match keys::find_default_keys(path) {
            Some(k) => ContextStore::load(KeySet::load(&[k]).unwrap().contexts()).unwrap(),
            None => ContextStore::new(),
        }
    }

    fn sample_captures() -> Vec<PathBuf> {
        let mut files = Vec::new();
        captures(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples"), &mut files);
        files.sort();
        files
    }

    /// An analyzer whose records are handed back ([`Analyzer::recycle`], as the CLI does)
    /// gives the same records as one whose records are kept, on every capture under samples/.
    #[test]
    fn recycled_records_equal_fresh_ones() {
        let mut frames = 0;
        for path in sample_captures() {
            let mut fresh = Analyzer::with_contexts(AnalyzerConfig::default(), store_for(&path));
            let mut recycling = Analyzer::with_contexts(AnalyzerConfig::default(), store_for(&path));
            let Ok(mut reader) = CaptureReader::open(&path) else { continue };
            while let Some(Ok(frame)) = reader.next_frame() {
                let a = fresh.process(&frame);
                let b = recycling.process(&frame);
                assert_eq!(a, b, "{} frame {}", path.display(), frame.number);
                recycling.recycle(b);
                frames += 1;
            }
        }
        assert!(frames > 500, "{frames}");
    }

    /// What the exchange tracker reads of a message.
    fn seen(m: &Message) -> impl PartialEq + std::fmt::Debug + use<> {
        let opts: Vec<(u16, Vec<u8>)> =
            m.options.iter().map(|o| (o.number, m.option_value(o).to_vec())).collect();
        (m.mtype, m.code, m.mid, m.token().to_vec(), opts, m.payload().to_vec(), m.kind)
    }

    /// The fast reframing (header + token + the plaintext's bytes, ranges moved) gives the
    /// message that encoding one anew gives, for every decrypted message under samples/.
    #[test]
    fn reframing_keeps_the_plaintext_structure() {
        let mut compared = 0;
        for path in sample_captures() {
            let mut analyzer = Analyzer::with_contexts(AnalyzerConfig::default(), store_for(&path));
            let Ok(mut reader) = CaptureReader::open(&path) else { continue };
            while let Some(Ok(frame)) = reader.next_frame() {
                let record = analyzer.process(&frame);
                let Some(c) = &record.coap else { continue };
                let Some(inner) = c.oscore.as_ref().and_then(|o| o.inner.as_ref()) else { continue };
                let fast = reframe_inner(&c.message, inner);
                let slow = reemit_inner(&c.message, inner);
                assert_eq!(seen(&fast), seen(&slow), "{} frame {}", path.display(), frame.number);
                // The moved ranges point at the same bytes a fresh parse finds.
                assert_eq!(seen(&fast), seen(&Message::parse(&fast.bytes)), "{}", path.display());
                compared += 1;
            }
        }
        assert!(compared > 100, "only {compared} decrypted messages under samples/");
    }
}
