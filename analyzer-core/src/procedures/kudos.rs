//! A passive KUDOS observer (draft-ietf-core-oscore-key-update-14, PROTOCOLS.md §3).
//!
//! Sans-IO: fed one [`Observation`] per OSCORE message of an association (time, direction,
//! what the engine opened it with), it follows each peer's state as far as the wire shows it
//! (IDLE, BUSY, PENDING, back to IDLE), builds the executions as timeline [`Procedure`]s, and
//! reports conformance slips naming what was expected and what was observed.
//!
//! What the wire shows: a peer that sends a divergent message (z = 0) is BUSY; a peer that
//! sends a convergent message (z = 1) is PENDING; a peer that receives a message it can only
//! verify with CTX_NEW (a convergent message, or any message protected with CTX_NEW) has key
//! confirmation and returns to IDLE. When both peers have key confirmation the execution is
//! complete and CTX_OLD is retired (it may still open late messages: retention).

use crate::collections::FastMap;
use crate::finding::{Finding, FindingKind, Layer, Severity};
use crate::keys::PeerSlot;
use crate::oscore::engine::{OscoreRecord, Status};
use crate::oscore::option::OscoreOption;
use crate::oscore::store::{CtxId, CtxKind};
use crate::time::{Nanos, Timestamp};
use crate::timeline::{
    DerivedCtx, FrameEvent, Lane, MarkerKind, Outcome, ProcMessage, Procedure, ProcedureKind,
};

/// Most (peer, nonce) pairs remembered per association for reuse detection.
const NONCES_KEPT: usize = 4096;

/// One protected message of an association, as the engine opened it.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    pub frame: u64,
    pub ts: Timestamp,
    pub is_request: bool,
    pub record: &'a OscoreRecord,
}

impl Observation<'_> {
    /// This message as a ladder arrow sent by `from`, without KUDOS fields.
    pub fn arrow(&self, from: PeerSlot, label: String, context_label: String) -> ProcMessage {
        ProcMessage {
            frame: self.frame,
            ts: self.ts,
            from,
            is_request: self.is_request,
            label,
            x: None,
            nonce: None,
            context_label,
        }
    }

    /// Short text for ladder arrows of ordinary messages ("GET /temp"), made when one is drawn.
    pub fn summary(&self) -> String {
        self.record.inner.as_ref().map_or_else(String::new, |i| {
            let uri = crate::analysis::uri_of(i);
            let code = crate::analysis::code_label(i.code);
            if uri.is_empty() { code } else { format!("{code} {uri}") }
        })
    }
}

/// What one observation produced.
#[derive(Debug, Default)]
pub struct Output {
    pub events: Vec<FrameEvent>,
    pub findings: Vec<Finding>,
    /// Contexts that stopped being current (the driver marks them retired).
    pub retired: Vec<CtxId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum PeerState {
    #[default]
    Idle,
    Busy,
    Pending,
}

impl PeerState {
    fn as_str(self) -> &'static str {
        match self {
            PeerState::Idle => "IDLE",
            PeerState::Busy => "BUSY",
            PeerState::Pending => "PENDING",
        }
    }
}

/// The running execution of an association.
#[derive(Debug, Clone, Default)]
struct Execution {
    /// Index into the lane's procedures.
    index: usize,
    /// Each peer's X || N input offered in this execution (divergent or convergent).
    offered: [Option<Vec<u8>>; 2],
    base: Option<CtxId>,
    /// The context in use when the execution started.
    previous: Option<CtxId>,
    new_ctx: Option<CtxId>,
    confirmed: [bool; 2],
}

#[derive(Debug, Default)]
struct Assoc {
    peers: [PeerState; 2],
    current: Option<Execution>,
    /// Peers that ran an FS execution (p = 0) before: p = 1 later is a downgrade.
    fs_seen: [bool; 2],
    /// (peer, nonce, procedure number) seen in executions.
    nonces: Vec<(PeerSlot, Vec<u8>, usize)>,
    /// The legacy ExpandLabel encoding was reported for this association.
    legacy_reported: bool,
}

/// The observer, for all associations.
#[derive(Debug, Default)]
pub struct KudosObserver {
    assocs: FastMap<CtxId, Assoc>,
}

fn idx(slot: PeerSlot) -> usize {
    usize::from(slot == PeerSlot::B)
}

fn finding(kind: FindingKind, severity: Severity, message: String) -> Finding {
    Finding::new(kind, severity, Layer::Kudos, message)
}

impl KudosObserver {
    pub fn new() -> Self {
        KudosObserver::default()
    }

    /// Observes one OSCORE message of `lane` (the lane of the context that opened it).
    pub fn observe(&mut self, lane: &mut Lane, o: &Observation<'_>) -> Output {
        let mut out = Output::default();
        let opt_kudos = o.record.opt().and_then(OscoreOption::kudos);
        let Some(ctx) = &o.record.context else {
            out.findings = unopened_findings(o.record);
            return out;
        };
        let root = ctx.root;
        let s = ctx.sender;
        let peer_names = lane.peer_names;
        let name = |slot: PeerSlot| *peer_names.get(idx(slot)).unwrap_or(&"peer");
        let st = self.assocs.entry(root).or_default();
        match (&o.record.kudos, opt_kudos) {
            (Some(k), Some(fields)) => {
                let convergent = fields.convergent();
                let no_fs = fields.no_fs();
                let preserve = fields.preserve_observations();
                if no_fs && st.fs_seen.get(idx(s)).copied().unwrap_or(false) {
                    out.findings.push(finding(
                        FindingKind::KudosDowngrade,
                        Severity::High,
                        format!(
                            "{} asks for no-FS mode (p=1) after running KUDOS in FS mode before: a CAPABLE peer must use FS; the receiver must ignore it for KUDOS (downgrade protection, §4.6)",
                            name(s)
                        ),
                    ));
                }
                if !no_fs && let Some(f) = st.fs_seen.get_mut(idx(s)) {
                    *f = true;
                }
                if k.encoding == Some(crate::oscore::kudos::LabelEncoding::NoLengthPrefixes)
                    && !st.legacy_reported
                {
                    st.legacy_reported = true;
                    out.findings.push(finding(
                        FindingKind::KudosLegacyLabel,
                        Severity::Low,
                        "this association derives KUDOS contexts with ExpandLabel WITHOUT the length prefixes of draft-ietf-core-oscore-key-update-14 §4.2 (as 2024 Californium code did, PROTOCOLS.md §8.2): peers on the draft encoding cannot interoperate".to_string(),
                    ));
                }
                // Opened by a stored context rather than one derived from its own nonce.
                if k.own_input_used.is_none() {
                    out.findings.push(finding(
                        FindingKind::KudosOldContext,
                        Severity::High,
                        format!(
                            "KUDOS message verifies only with the existing context {} ({}): expected CTX_TEMP (divergent) or CTX_NEW (convergent); KUDOS messages must never be protected with CTX_OLD (§4.3)",
                            ctx.name, ctx.label
                        ),
                    ));
                    // Not a KUDOS message its receiver would accept: no execution, no state change.
                    return out;
                }
                let current_number =
                    st.current.as_ref().and_then(|e| lane.procedures.get(e.index)).map(|p| p.number);
                if let Some((_, _, n)) = st
                    .nonces
                    .iter()
                    .find(|(sl, n, num)| *sl == s && *n == k.nonce && Some(*num) != current_number)
                {
                    out.findings.push(finding(
                        FindingKind::KudosNonceReuse,
                        Severity::High,
                        format!(
                            "{} reuses KUDOS nonce {} of execution #{n}: each execution needs a fresh nonce (§4.3.1), else CTX_NEW repeats",
                            name(s),
                            crate::hex::encode(&k.nonce)
                        ),
                    ));
                }
                let arrow = ProcMessage {
                    x: Some(k.x),
                    nonce: Some(k.nonce.clone()),
                    ..o.arrow(
                        s,
                        format!(
                            "{} {}",
                            if convergent { "convergent" } else { "divergent" },
                            kind_of(o.is_request)
                        ),
                        ctx.label.to_string(),
                    )
                };
                if !convergent {
                    self.divergent(
                        lane,
                        o,
                        &mut out,
                        root,
                        s,
                        k.input.clone(),
                        k.base,
                        no_fs,
                        preserve,
                        arrow,
                    );
                } else {
                    self.convergent(lane, o, &mut out, root, s, k.input.clone(), k.base, arrow);
                }
                // Remember the nonce under the execution it belongs to now.
                if let Some(st) = self.assocs.get_mut(&root) {
                    let number = st
                        .current
                        .as_ref()
                        .and_then(|e| lane.procedures.get(e.index))
                        .map_or(0, |p| p.number);
                    if !st.nonces.iter().any(|(sl, n, num)| *sl == s && *n == k.nonce && *num == number) {
                        st.nonces.push((s, k.nonce.clone(), number));
                        if st.nonces.len() > NONCES_KEPT {
                            st.nonces.remove(0);
                        }
                    }
                }
            }
            _ => {
                // CTX_NEW re-derived with new IDs (ID update inside KUDOS) is CTX_NEW too.
                let as_new =
                    if ctx.kind == CtxKind::IdUpdate { ctx.parent.unwrap_or(ctx.id) } else { ctx.id };
                self.ordinary(lane, o, &mut out, root, s, as_new, &ctx.label)
            }
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn divergent(
        &mut self,
        lane: &mut Lane,
        o: &Observation<'_>,
        out: &mut Output,
        root: CtxId,
        s: PeerSlot,
        input: Vec<u8>,
        base: Option<CtxId>,
        no_fs: bool,
        preserve: bool,
        arrow: ProcMessage,
    ) {
        let who = lane.peer_name(s);
        // The context the association used until now (retired with CTX_OLD on completion,
        // also when the update derives from the bootstrap context).
        let previous = lane.phases.last().map(|ph| ph.ctx);
        let Some(st) = self.assocs.get_mut(&root) else { return };
        let ctx = o.record.context.as_ref();
        // A divergent message derived from the running execution's CTX_NEW starts a second
        // execution right after the first (§4.3.4): the first is over for this peer.
        let on_top = st.current.as_ref().is_some_and(|e| e.new_ctx.is_some() && e.new_ctx == base);
        let start_new = match &mut st.current {
            None => true,
            Some(_) if on_top => {
                let done = st.current.take();
                if let Some(e) = done
                    && let Some(p) = lane.procedures.get_mut(e.index)
                    && !e.confirmed.iter().all(|c| *c)
                {
                    p.outcome = Outcome::Completed;
                    p.mark(
                        o.frame,
                        o.ts,
                        MarkerKind::Completed,
                        "superseded by a new execution based on its CTX_NEW",
                    );
                }
                true
            }
            Some(e) => {
                let Some(p) = lane.procedures.get_mut(e.index) else { return };
                let me = idx(s);
                match e.offered.get(me).cloned().flatten() {
                    Some(prev) if prev == input => {
                        // Repeating the divergent message after a convergent reply means that
                        // reply never arrived: no key confirmation for this peer after all.
                        if e.confirmed.get(me).copied().unwrap_or(false) {
                            if let Some(c) = e.confirmed.get_mut(me) {
                                *c = false;
                            }
                            if let Some(c) = p.confirmation.get_mut(me) {
                                *c = None;
                            }
                            p.mark(
                                o.frame,
                                o.ts,
                                MarkerKind::Flag,
                                format!("{who} repeats its divergent message: the convergent reply was lost"),
                            );
                        }
                        out.events.push(event(root, p, format!("{who} repeats its divergent message")));
                    }
                    Some(_) => {
                        // A new (X, nonce): the peer regenerated its pair (its CTX_TEMP could no
                        // longer be used, or it restarted after a lost reply).
                        p.mark(o.frame, o.ts, MarkerKind::Restarted, format!("{who} offers a new nonce"));
                        let text = format!("KUDOS #{} restarted by {who} with a new nonce", p.number);
                        out.events.push(event(root, p, text));
                        if let Some(slot) = e.offered.get_mut(me) {
                            *slot = Some(input.clone());
                        }
                        e.new_ctx = None;
                        e.confirmed = [false, false];
                    }
                    None => {
                        // The other peer initiated too: both divergent messages cross.
                        p.both_initiated = true;
                        if let Some(slot) = e.offered.get_mut(me) {
                            *slot = Some(input.clone());
                        }
                        out.events.push(event(
                            root,
                            p,
                            format!("{who} also initiates (divergent messages cross)"),
                        ));
                    }
                }
                false
            }
        };
        if start_new {
            let number = lane.procedures.iter().filter(|p| p.kind == ProcedureKind::Kudos).count() + 1;
            let mut p = Procedure::new(ProcedureKind::Kudos, number, s, o.frame, o.ts);
            p.request_initiated = o.is_request;
            p.no_fs = no_fs;
            p.preserve_observations = preserve;
            let mode = if no_fs { "no-FS" } else { "FS" };
            let how = if o.is_request { "request" } else { "response" };
            let text =
                format!("KUDOS #{number} started: {how}-initiated by {}, {mode} mode", lane.peer_name(s));
            p.mark(o.frame, o.ts, MarkerKind::Started, text.clone());
            lane.procedures.push(p);
            let index = lane.procedures.len() - 1;
            let mut offered: [Option<Vec<u8>>; 2] = [None, None];
            if let Some(slot) = offered.get_mut(idx(s)) {
                *slot = Some(input);
            }
            st.current =
                Some(Execution { index, offered, base, previous, new_ctx: None, confirmed: [false, false] });
            out.events.push(FrameEvent { kind: ProcedureKind::Kudos, lane: root, procedure: number, text });
        }
        if let Some(p) = st.current.as_ref().and_then(|e| lane.procedures.get_mut(e.index)) {
            p.add_message(arrow);
        }
        if let Some(ps) = st.peers.get_mut(idx(s)) {
            *ps = PeerState::Busy;
        }
        if let (Some(ctx), Some(e)) = (ctx, &st.current)
            && let Some(p) = lane.procedures.get_mut(e.index)
            && o.record.kudos.as_ref().is_some_and(|k| k.newly_derived)
        {
            record_derived(p, o, ctx, base, "CTX_TEMP", root, out);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn convergent(
        &mut self,
        lane: &mut Lane,
        o: &Observation<'_>,
        out: &mut Output,
        root: CtxId,
        s: PeerSlot,
        input: Vec<u8>,
        base: Option<CtxId>,
        arrow: ProcMessage,
    ) {
        let previous = lane.phases.last().map(|ph| ph.ctx);
        let Some(st) = self.assocs.get_mut(&root) else { return };
        let Some(ctx) = o.record.context.as_ref() else { return };
        if st.current.is_none() {
            out.findings.push(finding(
                FindingKind::KudosUnexpectedConvergent,
                Severity::Medium,
                format!(
                    "convergent message from {} with no KUDOS execution in progress: expected a divergent message first (a peer in IDLE ignores a convergent one for KUDOS, §4.3.2)",
                    lane.peer_name(s)
                ),
            ));
            let number = lane.procedures.iter().filter(|p| p.kind == ProcedureKind::Kudos).count() + 1;
            let mut p = Procedure::new(ProcedureKind::Kudos, number, s.other(), o.frame, o.ts);
            p.request_initiated = !o.is_request;
            p.mark(o.frame, o.ts, MarkerKind::Flag, "no divergent message captured");
            lane.procedures.push(p);
            st.current = Some(Execution {
                index: lane.procedures.len() - 1,
                offered: [None, None],
                base,
                previous,
                new_ctx: None,
                confirmed: [false, false],
            });
        }
        let Some(e) = st.current.as_mut() else { return };
        let Some(p) = lane.procedures.get_mut(e.index) else { return };
        p.add_message(arrow);
        if let Some(slot) = e.offered.get_mut(idx(s)) {
            *slot = Some(input);
        }
        if p.round_trip.is_none() {
            p.round_trip = Some(Nanos(o.ts.nanos_since(p.start_ts)));
        }
        let fresh = e.new_ctx != Some(ctx.id);
        e.new_ctx = Some(ctx.id);
        e.base = base.or(e.base);
        if o.record.kudos.as_ref().is_some_and(|k| k.newly_derived)
            || (fresh && !p.derived.iter().any(|d| d.ctx == ctx.id))
        {
            record_derived(p, o, ctx, base, "CTX_NEW", root, out);
        }
        if let Some(ps) = st.peers.get_mut(idx(s)) {
            *ps = PeerState::Pending;
        }
        // The receiver verifies a convergent message with CTX_NEW: key confirmation.
        self.confirm(lane, o, out, root, s.other());
    }

    #[allow(clippy::too_many_arguments)]
    fn ordinary(
        &mut self,
        lane: &mut Lane,
        o: &Observation<'_>,
        out: &mut Output,
        root: CtxId,
        s: PeerSlot,
        ctx: CtxId,
        label: &str,
    ) {
        let who = lane.peer_name(s);
        if o.record.context.as_ref().is_some_and(|c| c.retired) {
            out.findings.push(finding(
                FindingKind::KudosRetention,
                Severity::Info,
                format!(
                    "late message from {who} opened with the retired context {label} after a completed key update (retention policy): accepted only until the peers delete CTX_OLD"
                ),
            ));
        }
        let Some(st) = self.assocs.get_mut(&root) else { return };
        let Some(e) = st.current.as_ref() else { return };
        let state = st.peers.get(idx(s)).copied().unwrap_or_default();
        let new_ctx = e.new_ctx;
        let Some(p) = lane.procedures.get_mut(e.index) else { return };
        let uses_new = new_ctx == Some(ctx);
        if state != PeerState::Idle && !(uses_new && state == PeerState::Busy) {
            out.findings.push(finding(
                FindingKind::KudosNonKudosWhileBusy,
                Severity::Medium,
                format!(
                    "{who} sent a non-KUDOS message while {} in KUDOS execution #{}: expected only KUDOS messages until key confirmation (§4.3.2)",
                    state.as_str(),
                    p.number
                ),
            ));
            p.mark(o.frame, o.ts, MarkerKind::Flag, format!("non-KUDOS message while {}", state.as_str()));
        }
        if uses_new {
            p.add_message(o.arrow(s, o.summary(), label.to_string()));
            // Whoever sends with CTX_NEW holds it; the receiver now has key confirmation.
            if let Some(ps) = st.peers.get_mut(idx(s))
                && *ps == PeerState::Busy
            {
                *ps = PeerState::Idle;
            }
            self.confirm(lane, o, out, root, s.other());
        }
    }

    /// `peer` has key confirmation; completes the execution when both have it.
    fn confirm(
        &mut self,
        lane: &mut Lane,
        o: &Observation<'_>,
        out: &mut Output,
        root: CtxId,
        peer: PeerSlot,
    ) {
        let who = lane.peer_name(peer);
        let Some(st) = self.assocs.get_mut(&root) else { return };
        let Some(e) = st.current.as_mut() else { return };
        let Some(p) = lane.procedures.get_mut(e.index) else { return };
        let i = idx(peer);
        if e.confirmed.get(i).copied().unwrap_or(true) {
            return;
        }
        if let Some(c) = e.confirmed.get_mut(i) {
            *c = true;
        }
        if let Some(c) = p.confirmation.get_mut(i) {
            *c = Some(Nanos(o.ts.nanos_since(p.start_ts)));
        }
        if let Some(ps) = st.peers.get_mut(i) {
            *ps = PeerState::Idle;
        }
        let text = format!("{who} has key confirmation");
        p.mark(o.frame, o.ts, MarkerKind::KeyConfirmation { peer }, text.clone());
        out.events.push(event(root, p, text));
        if e.confirmed.iter().all(|c| *c) {
            p.outcome = Outcome::Completed;
            let text = format!("KUDOS #{} completed in {}s", p.number, Nanos(o.ts.nanos_since(p.start_ts)));
            // CTX_OLD (the base; the driver keeps a bootstrap context) and the context in use
            // before, when the update derived from the bootstrap context.
            let mut old: Vec<CtxId> = e.base.into_iter().chain(e.previous).collect();
            old.dedup();
            old.retain(|c| Some(*c) != e.new_ctx);
            for c in old {
                let label = p
                    .derived
                    .iter()
                    .find(|d| d.parent == Some(c))
                    .and_then(|d| d.parent_label.clone())
                    .or_else(|| lane.phases.iter().find(|ph| ph.ctx == c).map(|ph| ph.label.clone()));
                out.retired.push(c);
                if let Some(l) = label
                    && l != "bootstrap"
                {
                    p.mark(o.frame, o.ts, MarkerKind::Retired { ctx: c }, format!("{l} retired"));
                }
            }
            p.mark(o.frame, o.ts, MarkerKind::Completed, text.clone());
            out.events.push(event(root, p, text));
            st.current = None;
        }
    }

    /// Ends the capture: running executions are incomplete (with what they wait for).
    pub fn finish(&mut self, lanes: &mut std::collections::BTreeMap<CtxId, Lane>) -> Vec<(u64, Finding)> {
        let mut late = Vec::new();
        let mut roots: Vec<&CtxId> = self.assocs.keys().collect();
        roots.sort();
        for root in roots {
            let Some(st) = self.assocs.get(root) else { continue };
            let (Some(e), Some(lane)) = (&st.current, lanes.get_mut(root)) else { continue };
            let names = lane.peer_names;
            let Some(p) = lane.procedures.get_mut(e.index) else { continue };
            let waiting: Vec<String> = e
                .confirmed
                .iter()
                .enumerate()
                .filter(|(_, c)| !**c)
                .map(|(i, _)| format!("key confirmation of the {}", names.get(i).unwrap_or(&"peer")))
                .collect();
            let waiting =
                if e.new_ctx.is_none() { "a convergent message".to_string() } else { waiting.join(" and ") };
            p.outcome = Outcome::Incomplete { waiting: waiting.clone() };
            late.push((
                p.start_frame,
                finding(
                    FindingKind::KudosIncomplete,
                    Severity::Low,
                    format!(
                        "KUDOS #{} (started in frame {}) never completed: waiting for {waiting}",
                        p.number, p.start_frame
                    ),
                ),
            ));
        }
        late
    }
}

/// Findings about a KUDOS message no context opened (it belongs to no lane yet).
pub fn unopened_findings(record: &OscoreRecord) -> Vec<Finding> {
    let Some(k) = record.opt().and_then(OscoreOption::kudos) else { return Vec::new() };
    if k.reserved_bit() {
        return vec![finding(
            FindingKind::KudosReservedBit,
            Severity::Medium,
            format!(
                "x byte {:#04x} has the reserved bit 7 set: expected 0, so the message is malformed (draft-ietf-core-oscore-key-update §4.1)",
                k.x
            ),
        )];
    }
    if record.status == Status::TagMismatch {
        return vec![finding(
            FindingKind::KudosTagFailure,
            Severity::High,
            format!(
                "KUDOS {} message (x={:#04x}) verifies with no CTX_TEMP/CTX_NEW derivable from the loaded contexts and the nonces seen: forged, or its partner message was not captured",
                if k.convergent() { "convergent" } else { "divergent" },
                k.x
            ),
        )];
    }
    Vec::new()
}

/// Records a context the execution derived (CTX_TEMP or CTX_NEW) with its marker and event.
fn record_derived(
    p: &mut Procedure,
    o: &Observation<'_>,
    ctx: &crate::oscore::engine::ContextRef,
    base: Option<CtxId>,
    what: &str,
    root: CtxId,
    out: &mut Output,
) {
    let parent_label = o.record.kudos.as_ref().and_then(|k| k.base_label.clone());
    let text = format!("{what} {} derived from {}", ctx.label, parent_label.as_deref().unwrap_or("CTX_OLD"));
    p.derived.push(DerivedCtx {
        ctx: ctx.id,
        name: ctx.name.to_string(),
        label: ctx.label.to_string(),
        kind: ctx.kind,
        parent: base,
        parent_label: parent_label.map(|l| l.to_string()),
        frame: o.frame,
    });
    p.mark(o.frame, o.ts, MarkerKind::Derived { ctx: ctx.id, label: ctx.label.to_string() }, text.clone());
    out.events.push(event(root, p, text));
}

fn kind_of(is_request: bool) -> &'static str {
    if is_request { "request" } else { "response" }
}

fn event(root: CtxId, p: &Procedure, text: String) -> FrameEvent {
    FrameEvent { kind: ProcedureKind::Kudos, lane: root, procedure: p.number, text }
}
