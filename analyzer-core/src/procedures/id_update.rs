//! A passive OSCORE ID-update observer (draft-ietf-core-oscore-id-update-06, PROTOCOLS.md §4).
//!
//! The procedure runs inside the ciphertext: each peer offers its new Recipient ID in the
//! inner Recipient-ID option and acknowledges the other's offer with Recipient-ID-Ack. A peer
//! succeeds once it has received and verified at least three messages carrying the Ack and
//! sent at least two (§2.2); then CTX_B (same keying material, new IDs) is valid. Failure:
//! the ending timer (3 x REPEAT_TIMER, default 279 s) runs out first. Abort: a Recipient-ID
//! longer than the AEAD allows, or a 5.03 without Recipient-ID answering an offer.
//!
//! ID update inside KUDOS (the draft has no byte-level rule; PROTOCOLS.md §4.5, §8.5). Chosen
//! interpretation, from -02 and -06 §2.3.1: the initiator's divergent message offers its
//! Recipient-ID, the responder's convergent message offers its own and acknowledges the
//! initiator's; one request/response pair carrying both Recipient-IDs makes the update succeed
//! at once, and from the next message on both peers use CTX_NEW with the new IDs.
//!
//! Sans-IO: the driver feeds observations, derives the contexts asked for
//! ([`Output::derive`]) and reports them back with [`IdUpdateObserver::derived`].

use super::kudos::Observation;
use crate::collections::FastMap;
use crate::finding::{Finding, FindingKind, Layer, Severity};
use crate::keys::PeerSlot;
use crate::oscore::store::{CtxId, CtxKind};
use crate::time::{Nanos, Timestamp};
use crate::timeline::{DerivedCtx, FrameEvent, Lane, MarkerKind, Outcome, Procedure, ProcedureKind};

/// Settings of the observer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdUpdateConfig {
    /// Option number of Recipient-ID (draft: TBD24, suggested 24).
    pub recipient_id_option: u16,
    /// Option number of Recipient-ID-Ack (draft: TBD32, suggested 32).
    pub recipient_id_ack_option: u16,
    /// ENDING_TIMER in seconds (>= 3 x REPEAT_TIMER; REPEAT_TIMER defaults to MAX_TRANSMIT_WAIT
    /// = 93 s).
    pub ending_timer_secs: u32,
    /// The peers gave up (-06 allows an ending counter instead of the timer): this many
    /// consecutive messages of the association without Recipient-ID or Recipient-ID-Ack while
    /// the run has not succeeded end it as failed.
    pub quiet_messages: u32,
}

impl Default for IdUpdateConfig {
    fn default() -> Self {
        IdUpdateConfig {
            recipient_id_option: 24,
            recipient_id_ack_option: 32,
            ending_timer_secs: 3 * 93,
            quiet_messages: 4,
        }
    }
}

/// A context the driver should derive: CTX_B from `base` with new Sender IDs for A and B.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeriveIds {
    pub root: CtxId,
    pub base: CtxId,
    pub sender_id_a: Vec<u8>,
    pub sender_id_b: Vec<u8>,
}

/// What one observation produced.
#[derive(Debug, Default)]
pub struct Output {
    pub events: Vec<FrameEvent>,
    pub findings: Vec<Finding>,
    pub derive: Option<DeriveIds>,
    pub retired: Vec<CtxId>,
}

#[derive(Debug, Clone)]
struct Run {
    index: usize,
    /// The Recipient ID each peer offered (peer A, peer B).
    offers: [Option<Vec<u8>>; 2],
    /// Messages each peer sent carrying a Recipient-ID-Ack that echoes the other's offer.
    acks_sent: [u32; 2],
    done: [bool; 2],
    /// CTX_A: the context in use when the run started (or the KUDOS CTX_NEW it rides on).
    base: CtxId,
    ctx_b: Option<CtxId>,
    start: Timestamp,
    /// Both peers succeeded (the run ends once CTX_B is known).
    completed: bool,
    /// Consecutive messages without Recipient-ID or Recipient-ID-Ack.
    quiet: u32,
}

#[derive(Debug, Default)]
struct Assoc {
    run: Option<Run>,
    /// CTX_B of the last completed run, until the new IDs are first used.
    pending_switch: Option<(usize, CtxId, CtxId)>,
    /// A run completed by a request: its response still belongs to it (procedure index,
    /// request frame), like Resp#4 in the -06 example.
    closing: Option<(usize, u64)>,
}

/// The observer for all associations.
#[derive(Debug, Default)]
pub struct IdUpdateObserver {
    config: IdUpdateConfig,
    assocs: FastMap<CtxId, Assoc>,
}

fn idx(s: PeerSlot) -> usize {
    usize::from(s == PeerSlot::B)
}

fn finding(kind: FindingKind, severity: Severity, message: String) -> Finding {
    Finding::new(kind, severity, Layer::IdUpdate, message)
}

fn show(id: &[u8]) -> String {
    if id.is_empty() { "(empty)".into() } else { crate::hex::encode(id) }
}

fn event(root: CtxId, number: usize, text: String) -> FrameEvent {
    FrameEvent { kind: ProcedureKind::IdUpdate, lane: root, procedure: number, text }
}

impl IdUpdateObserver {
    pub fn new(config: IdUpdateConfig) -> Self {
        IdUpdateObserver { config, assocs: FastMap::default() }
    }

    /// Observes one opened OSCORE message. `max_id_len`: the longest ID the AEAD allows.
    pub fn observe(&mut self, lane: &mut Lane, o: &Observation<'_>, max_id_len: usize) -> Output {
        let mut out = Output::default();
        let (Some(ctx), Some(inner)) = (&o.record.context, &o.record.inner) else { return out };
        let root = ctx.root;
        let s = ctx.sender;
        let names = lane.peer_names;
        let who = *names.get(idx(s)).unwrap_or(&"peer");
        let rid = inner.first_option(self.config.recipient_id_option).map(<[u8]>::to_vec);
        let ack = inner.first_option(self.config.recipient_id_ack_option).map(<[u8]>::to_vec);
        let ending = i128::from(self.config.ending_timer_secs) * 1_000_000_000;
        let st = self.assocs.entry(root).or_default();

        // The new IDs come into use.
        if let Some((index, base, ctx_b)) = st.pending_switch
            && ctx.id == ctx_b
            && let Some(p) = lane.procedures.get_mut(index)
        {
            let text = format!("new IDs in use from frame {} ({} sends with {})", o.frame, who, ctx.label);
            p.mark(o.frame, o.ts, MarkerKind::Switched, text.clone());
            out.events.push(event(root, p.number, text));
            out.retired.push(base);
            st.pending_switch = None;
        }

        // Timer first: a run past its ending timer has failed.
        if let Some(run) = &st.run
            && o.ts.nanos_since(run.start) > ending
        {
            let run = st.run.take();
            if let Some(run) = run {
                Self::fail(lane, &mut out, root, &run, o.frame, o.ts, "the ending timer expired", &names);
            }
        }
        let st = self.assocs.entry(root).or_default();

        if rid.is_none() && ack.is_none() {
            if let Some((index, req)) = st.closing
                && o.record.request_frame == Some(req)
                && let Some(p) = lane.procedures.get_mut(index)
            {
                p.add_message(o.arrow(s, o.summary(), ctx.label.to_string()));
                st.closing = None;
            }
            if let Some(run) = st.run.as_mut()
                && let Some(p) = lane.procedures.get_mut(run.index)
            {
                p.add_message(o.arrow(s, o.summary(), ctx.label.to_string()));
                run.quiet += 1;
                if !run.completed && run.quiet >= self.config.quiet_messages {
                    let run = run.clone();
                    st.run = None;
                    let why = format!(
                        "{} messages without Recipient-ID or Recipient-ID-Ack (the peers gave up)",
                        run.quiet
                    );
                    Self::fail(lane, &mut out, root, &run, o.frame, o.ts, &why, &names);
                    return out;
                }
            }
            // A 5.03 without Recipient-ID answering an offer aborts the run (§2.2).
            if let Some(run) = &st.run
                && !o.is_request
                && inner.code.0 == 0xa3
            {
                let run = run.clone();
                st.run = None;
                Self::abort(
                    lane,
                    &mut out,
                    root,
                    &run,
                    o.frame,
                    o.ts,
                    format!("{who} answered 5.03 without Recipient-ID"),
                );
            }
            // New IDs used before the run succeeded.
            if let Some(run) = &st.run
                && run.ctx_b == Some(ctx.id)
            {
                out.findings.push(finding(
                    FindingKind::IdUpdateEarlyUse,
                    Severity::High,
                    format!(
                        "{who} uses the new IDs ({}) before the ID update succeeded: expected CTX_B only after >= 3 verified and >= 2 sent Recipient-ID-Acks (§2.2)",
                        ctx.label
                    ),
                ));
            }
            return out;
        }

        // Offers.
        if let Some(r) = &rid {
            if r.len() > max_id_len {
                out.findings.push(finding(
                    FindingKind::IdUpdateAborted,
                    Severity::Low,
                    format!(
                        "{who} offers Recipient-ID {} of {} bytes, longer than the {max_id_len} the AEAD allows: the receiver must abort (§2.4)",
                        show(r),
                        r.len()
                    ),
                ));
            }
            match &mut st.run {
                None => {
                    let number =
                        lane.procedures.iter().filter(|p| p.kind == ProcedureKind::IdUpdate).count() + 1;
                    let mut p = Procedure::new(ProcedureKind::IdUpdate, number, s, o.frame, o.ts);
                    p.request_initiated = o.is_request;
                    let base =
                        if ctx.kind == CtxKind::KudosTemp { ctx.parent.unwrap_or(ctx.id) } else { ctx.id };
                    let inside = o.record.kudos.is_some();
                    let text = format!(
                        "ID update #{number} started by {who}{}: offers Recipient-ID {}",
                        if inside { " inside a KUDOS execution" } else { "" },
                        show(r)
                    );
                    p.mark(o.frame, o.ts, MarkerKind::Started, text.clone());
                    p.mark(
                        o.frame,
                        o.ts,
                        MarkerKind::Offer { peer: s, id: r.clone() },
                        format!("{who} offers {}", show(r)),
                    );
                    lane.procedures.push(p);
                    let mut offers: [Option<Vec<u8>>; 2] = [None, None];
                    if let Some(slot) = offers.get_mut(idx(s)) {
                        *slot = Some(r.clone());
                    }
                    st.run = Some(Run {
                        index: lane.procedures.len() - 1,
                        offers,
                        acks_sent: [0, 0],
                        done: [false, false],
                        base,
                        ctx_b: None,
                        start: o.ts,
                        completed: false,
                        quiet: 0,
                    });
                    out.events.push(event(root, number, text));
                }
                Some(run) => {
                    let Some(p) = lane.procedures.get_mut(run.index) else { return out };
                    match run.offers.get(idx(s)).cloned().flatten() {
                        None => {
                            if let Some(slot) = run.offers.get_mut(idx(s)) {
                                *slot = Some(r.clone());
                            }
                            if ctx.kind == CtxKind::KudosNew {
                                // Inside KUDOS the offers ride on the execution: CTX_B comes
                                // from the responder's CTX_NEW.
                                run.base = ctx.id;
                            }
                            p.mark(o.frame, o.ts, MarkerKind::Offer { peer: s, id: r.clone() }, format!("{who} offers {}", show(r)));
                            out.events.push(event(root, p.number, format!("{who} offers Recipient-ID {}", show(r))));
                        }
                        Some(prev) if prev == *r => {}
                        Some(prev) => out.findings.push(finding(
                            FindingKind::IdUpdateConcurrent,
                            Severity::Medium,
                            format!(
                                "{who} offers Recipient-ID {} while its offer {} of ID update #{} is still running: no second concurrent run with the same peer (§2.2)",
                                show(r),
                                show(&prev),
                                p.number
                            ),
                        )),
                    }
                }
            }
        }
        let st = self.assocs.entry(root).or_default();
        let Some(run) = st.run.as_mut() else { return out };
        run.quiet = 0;
        let Some(p) = lane.procedures.get_mut(run.index) else { return out };
        let label = match (&rid, &ack) {
            (Some(r), Some(a)) => format!("Recipient-ID {} + Ack {}", show(r), show(a)),
            (Some(r), None) => format!("Recipient-ID {}", show(r)),
            (None, Some(a)) => format!("Ack {}", show(a)),
            (None, None) => String::new(),
        };
        p.add_message(o.arrow(s, label, ctx.label.to_string()));

        // Acknowledgements.
        if let Some(a) = &ack {
            let expected = run.offers.get(idx(s.other())).cloned().flatten();
            if expected.as_deref() == Some(a.as_slice()) {
                if let Some(n) = run.acks_sent.get_mut(idx(s)) {
                    *n += 1;
                }
                p.mark(
                    o.frame,
                    o.ts,
                    MarkerKind::Ack { peer: s, id: a.clone() },
                    format!("{who} acknowledges {}", show(a)),
                );
            } else {
                out.findings.push(finding(
                    FindingKind::IdUpdateBadAck,
                    Severity::Medium,
                    format!(
                        "{who} sends Recipient-ID-Ack {}, expected the other peer's offer {}",
                        show(a),
                        expected.as_deref().map_or("(none yet)".into(), show)
                    ),
                ));
            }
        }

        // Both offers known: CTX_B can be derived (peer A's new Sender ID is B's offer).
        if run.ctx_b.is_none()
            && let (Some(a_offer), Some(b_offer)) =
                (run.offers.first().cloned().flatten(), run.offers.get(1).cloned().flatten())
        {
            out.derive = Some(DeriveIds { root, base: run.base, sender_id_a: b_offer, sender_id_b: a_offer });
        }

        // Success rule per peer (§2.2), or at once when one KUDOS request/response pair
        // carried both offers and the Ack (interpretation above).
        let inside_kudos_done = o.record.kudos.is_some()
            && ack.is_some()
            && rid.is_some()
            && run.offers.iter().all(Option::is_some);
        for peer in [PeerSlot::A, PeerSlot::B] {
            let i = idx(peer);
            let received = run.acks_sent.get(idx(peer.other())).copied().unwrap_or(0);
            let sent = run.acks_sent.get(i).copied().unwrap_or(0);
            if !run.done.get(i).copied().unwrap_or(true)
                && ((received >= 3 && sent >= 2) || inside_kudos_done)
            {
                if let Some(d) = run.done.get_mut(i) {
                    *d = true;
                }
                let name = names.get(i).unwrap_or(&"peer");
                let text = if inside_kudos_done {
                    format!("{name} completes the ID update with the KUDOS execution")
                } else {
                    format!("{name} completes the ID update ({received} Acks verified, {sent} sent)")
                };
                if let Some(c) = p.confirmation.get_mut(i) {
                    *c = Some(Nanos(o.ts.nanos_since(p.start_ts)));
                }
                p.mark(o.frame, o.ts, MarkerKind::KeyConfirmation { peer }, text.clone());
                out.events.push(event(root, p.number, text));
            }
        }
        if run.done.iter().all(|d| *d) && !run.completed {
            run.completed = true;
            st.closing = o.is_request.then_some((run.index, o.frame));
            p.outcome = Outcome::Completed;
            let text = format!("ID update #{} completed: CTX_B valid", p.number);
            p.mark(o.frame, o.ts, MarkerKind::Completed, text.clone());
            out.events.push(event(root, p.number, text));
            if let Some(b) = run.ctx_b {
                st.pending_switch = Some((run.index, run.base, b));
                st.run = None;
            }
        }
        out
    }

    /// The driver derived CTX_B for `root`'s running (or just completed) update.
    pub fn derived(&mut self, lane: &mut Lane, root: CtxId, ctx: DerivedCtx, frame: u64, ts: Timestamp) {
        let Some(st) = self.assocs.get_mut(&root) else { return };
        let Some(run) = st.run.as_mut() else { return };
        run.ctx_b = Some(ctx.ctx);
        if let Some(p) = lane.procedures.get_mut(run.index) {
            let text = format!(
                "CTX_B {} derived from {} (new IDs)",
                ctx.label,
                ctx.parent_label.clone().unwrap_or_default()
            );
            p.mark(frame, ts, MarkerKind::Derived { ctx: ctx.ctx, label: ctx.label.clone() }, text);
            p.derived.push(ctx.clone());
        }
        if run.completed {
            st.pending_switch = Some((run.index, run.base, ctx.ctx));
            st.run = None;
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn fail(
        lane: &mut Lane,
        out: &mut Output,
        root: CtxId,
        run: &Run,
        frame: u64,
        ts: Timestamp,
        why: &str,
        names: &[&'static str; 2],
    ) {
        let Some(p) = lane.procedures.get_mut(run.index) else { return };
        let counts: Vec<String> = (0..2)
            .map(|i| {
                format!("{} {}", names.get(i).unwrap_or(&"peer"), run.acks_sent.get(i).copied().unwrap_or(0))
            })
            .collect();
        let reason = format!(
            "{why}; Recipient-ID-Acks sent: {}; the old IDs stay, CTX_B is dropped",
            counts.join(", ")
        );
        p.outcome = Outcome::Failed { reason: reason.clone() };
        p.mark(frame, ts, MarkerKind::Aborted, reason.clone());
        out.events.push(event(root, p.number, format!("ID update #{} failed: {reason}", p.number)));
        out.findings.push(finding(
            FindingKind::IdUpdateFailed,
            Severity::Medium,
            format!("ID update #{} failed: {reason}", p.number),
        ));
        if let Some(b) = run.ctx_b {
            out.retired.push(b);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn abort(
        lane: &mut Lane,
        out: &mut Output,
        root: CtxId,
        run: &Run,
        frame: u64,
        ts: Timestamp,
        reason: String,
    ) {
        let Some(p) = lane.procedures.get_mut(run.index) else { return };
        p.outcome = Outcome::Aborted { reason: reason.clone() };
        p.mark(frame, ts, MarkerKind::Aborted, reason.clone());
        out.events.push(event(root, p.number, format!("ID update #{} aborted: {reason}", p.number)));
        out.findings.push(finding(
            FindingKind::IdUpdateAborted,
            Severity::Low,
            format!("ID update #{} aborted: {reason}", p.number),
        ));
        if let Some(b) = run.ctx_b {
            out.retired.push(b);
        }
    }

    /// Ends the capture at `last`: a run past its ending timer failed, others are incomplete.
    pub fn finish(
        &mut self,
        lanes: &mut std::collections::BTreeMap<CtxId, Lane>,
        last: Timestamp,
    ) -> Vec<(u64, Finding)> {
        let ending = i128::from(self.config.ending_timer_secs) * 1_000_000_000;
        let mut late = Vec::new();
        let mut roots: Vec<CtxId> = self.assocs.keys().copied().collect();
        roots.sort_unstable();
        for root in roots {
            let Some(st) = self.assocs.get_mut(&root) else { continue };
            let (Some(run), Some(lane)) = (st.run.take(), lanes.get_mut(&root)) else { continue };
            let names = lane.peer_names;
            if last.nanos_since(run.start) > ending {
                let mut out = Output::default();
                let frame = lane.procedures.get(run.index).map_or(0, |p| p.start_frame);
                Self::fail(
                    lane,
                    &mut out,
                    root,
                    &run,
                    frame,
                    last,
                    "the ending timer expired before the capture ended",
                    &names,
                );
                late.extend(out.findings.into_iter().map(|f| (frame, f)));
            } else if let Some(p) = lane.procedures.get_mut(run.index) {
                let waiting: Vec<String> = (0..2)
                    .filter(|i| !run.done.get(*i).copied().unwrap_or(true))
                    .map(|i| format!("{} to succeed", names.get(i).unwrap_or(&"peer")))
                    .collect();
                p.outcome = Outcome::Incomplete { waiting: waiting.join(" and ") };
            }
        }
        late
    }
}

#[cfg(test)]
mod tests {
    //! The success and failure rules of draft-ietf-core-oscore-id-update-06 §2.2 at their
    //! boundaries, with scripted observations (PROTOCOLS.md §4.2).
    use super::*;
    use crate::coap::message::{Message, MessageRepr};
    use crate::oscore::engine::{ContextRef, OscoreRecord, Status};

    const CTX_A: CtxId = 0;

    /// A decrypted message from `from` under context `ctx` with the given inner options.
    fn record(from: PeerSlot, ctx: CtxId, kind: CtxKind, code: u8, options: &[(u16, &[u8])]) -> OscoreRecord {
        let repr = MessageRepr {
            code,
            options: options.iter().map(|(n, v)| (*n, v.to_vec())).collect(),
            ..MessageRepr::default()
        };
        let mut r = OscoreRecord::new(Status::Decrypted);
        r.context = Some(ContextRef {
            id: ctx,
            name: "a".into(),
            label: if ctx == CTX_A { "g0".into() } else { "g0-id1".into() },
            generation: 0,
            kind,
            parent: (ctx != CTX_A).then_some(CTX_A),
            retired: false,
            root: CTX_A,
            sender: from,
            sender_name: if from == PeerSlot::A { "client" } else { "server" },
        });
        r.inner = Some(Message::parse_plaintext(&repr.emit_plaintext()));
        r
    }

    struct Script {
        obs: IdUpdateObserver,
        lane: Lane,
        frame: u64,
        secs: i64,
        derived: Option<DeriveIds>,
    }

    impl Script {
        fn new(config: IdUpdateConfig) -> Self {
            Script {
                obs: IdUpdateObserver::new(config),
                lane: Lane::new(CTX_A, "a".into(), ["client", "server"]),
                frame: 0,
                secs: 0,
                derived: None,
            }
        }
        /// One message; `after` seconds after the previous one.
        fn send(&mut self, from: PeerSlot, options: &[(u16, &[u8])], after: i64) -> Output {
            self.frame += 1;
            self.secs += after;
            let is_request = from == PeerSlot::A;
            let mut rec = record(from, CTX_A, CtxKind::Loaded, if is_request { 0x01 } else { 0x45 }, options);
            // Responses answer the message just before them.
            rec.request_frame = (!is_request).then(|| self.frame - 1);
            let o =
                Observation { frame: self.frame, ts: Timestamp::new(self.secs, 0), is_request, record: &rec };
            let out = self.obs.observe(&mut self.lane, &o, 7);
            if let Some(d) = &out.derive {
                self.derived = Some(d.clone());
                let ctx = DerivedCtx {
                    ctx: 1,
                    name: "a/g0-id1".into(),
                    label: "g0-id1".into(),
                    kind: CtxKind::IdUpdate,
                    parent: Some(CTX_A),
                    parent_label: Some("g0".into()),
                    frame: self.frame,
                };
                self.obs.derived(&mut self.lane, CTX_A, ctx, self.frame, Timestamp::new(self.secs, 0));
            }
            out
        }
        fn done(&self) -> [bool; 2] {
            let p = &self.lane.procedures[0];
            [p.confirmation[0].is_some(), p.confirmation[1].is_some()]
        }
        fn outcome(&self) -> &'static str {
            self.lane.procedures[0].outcome.as_str()
        }
    }

    const RID: u16 = 24;
    const ACK: u16 = 32;
    const C: PeerSlot = PeerSlot::A;
    const S: PeerSlot = PeerSlot::B;

    /// The -06 example: the client succeeds exactly at Resp#3 (3 Acks verified, 2 sent), the
    /// server exactly at Req#4 (3 verified, 3 sent); CTX_B's IDs are the offers swapped.
    #[test]
    fn success_at_exactly_three_received_and_two_sent() {
        let mut s = Script::new(IdUpdateConfig::default());
        s.send(C, &[(RID, &[0x42])], 1); // Req#1
        s.send(S, &[(RID, &[0x78]), (ACK, &[0x42])], 0); // Resp#1: client has 1 received
        let d = s.derived.clone().expect("both offers known: CTX_B derived");
        assert_eq!((d.sender_id_a, d.sender_id_b), (vec![0x78], vec![0x42]));
        s.send(C, &[(ACK, &[0x78])], 1); // Req#2: client sent 1
        s.send(S, &[(ACK, &[0x42])], 0); // Resp#2: client has 2 received
        s.send(C, &[(ACK, &[0x78])], 1); // Req#3: client sent 2, server has 2 received
        assert_eq!(s.done(), [false, false], "2 received is not enough");
        s.send(S, &[(ACK, &[0x42])], 0); // Resp#3: client 3 received, 2 sent
        assert_eq!(s.done(), [true, false], "the client succeeds at exactly 3 received / 2 sent");
        s.send(C, &[(ACK, &[0x78])], 1); // Req#4: server 3 received, 3 sent
        assert_eq!(s.done(), [true, true]);
        assert_eq!(s.outcome(), "completed");
        s.send(S, &[], 0); // Resp#4 without Ack still belongs to the run (-06 figure)
        assert_eq!(s.lane.procedures[0].messages.len(), 8);
    }

    /// Three verified Acks but only one sent: not successful.
    #[test]
    fn three_received_but_one_sent_is_not_success() {
        let mut s = Script::new(IdUpdateConfig::default());
        s.send(C, &[(RID, &[0x42])], 1);
        s.send(S, &[(RID, &[0x78]), (ACK, &[0x42])], 0);
        s.send(C, &[(ACK, &[0x78])], 1);
        s.send(S, &[(ACK, &[0x42])], 0);
        s.send(C, &[], 1);
        s.send(S, &[(ACK, &[0x42])], 0);
        assert_eq!(s.done(), [false, false], "the client received 3 but sent 1");
    }

    /// The peers give up after `quiet_messages` messages without ID-update options; one fewer
    /// keeps the run open.
    #[test]
    fn failure_after_exactly_quiet_messages() {
        let config = IdUpdateConfig { quiet_messages: 4, ..IdUpdateConfig::default() };
        let mut s = Script::new(config);
        s.send(C, &[(RID, &[0x42])], 1);
        s.send(S, &[(RID, &[0x78]), (ACK, &[0x42])], 0);
        for _ in 0..3 {
            s.send(C, &[], 1);
        }
        assert_eq!(s.outcome(), "incomplete", "3 quiet messages: still running");
        let out = s.send(S, &[], 0);
        assert_eq!(s.outcome(), "failed");
        assert!(out.findings.iter().any(|f| f.kind == FindingKind::IdUpdateFailed));
        assert_eq!(out.retired, vec![1], "CTX_B is dropped");
    }

    /// The ending timer (3 x 93 s): a message at exactly 279 s keeps the run, one later fails it.
    #[test]
    fn failure_when_the_ending_timer_expires() {
        let config = IdUpdateConfig { quiet_messages: u32::MAX, ..IdUpdateConfig::default() };
        let mut s = Script::new(config);
        s.send(C, &[(RID, &[0x42])], 0);
        s.send(S, &[(RID, &[0x78]), (ACK, &[0x42])], 279);
        assert_eq!(s.outcome(), "incomplete", "at 279 s the timer has not expired");
        s.send(C, &[(ACK, &[0x78])], 1);
        assert_eq!(s.outcome(), "failed", "at 280 s it has");
    }

    /// A Recipient-ID of max_id_len bytes is fine; one byte more is an abort reason.
    #[test]
    fn recipient_id_length_limit() {
        let mut s = Script::new(IdUpdateConfig::default());
        let out = s.send(C, &[(RID, &[1, 2, 3, 4, 5, 6, 7])], 0);
        assert!(out.findings.is_empty(), "7 bytes fit a 13-byte nonce");
        let mut s = Script::new(IdUpdateConfig::default());
        let out = s.send(C, &[(RID, &[1, 2, 3, 4, 5, 6, 7, 8])], 0);
        assert_eq!(out.findings[0].kind, FindingKind::IdUpdateAborted);
    }

    /// A wrong Ack (not the other peer's offer) does not count and is reported.
    #[test]
    fn wrong_ack_does_not_count() {
        let mut s = Script::new(IdUpdateConfig::default());
        s.send(C, &[(RID, &[0x42])], 1);
        let out = s.send(S, &[(RID, &[0x78]), (ACK, &[0x43])], 0);
        assert_eq!(out.findings[0].kind, FindingKind::IdUpdateBadAck);
    }
}
