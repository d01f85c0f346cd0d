//! The timeline as plain data: one [`Lane`] per association (a lineage of contexts: the
//! loaded context and everything derived from it), context generations as [`Phase`] bands,
//! and key-management executions as [`Procedure`]s with their messages and markers.
//!
//! Computed by the analysis, painted by the front ends (CLI ladder, GUI, plugin).

use crate::keys::PeerSlot;
use crate::net::Endpoint;
use crate::oscore::store::{CtxId, CtxKind};
use crate::time::{Nanos, Timestamp};
use std::collections::{BTreeMap, BTreeSet};

/// Most distinct endpoints remembered per peer of a lane.
const MAX_ENDPOINTS: usize = 64;

/// All lanes, in order of their root context.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    pub lanes: BTreeMap<CtxId, Lane>,
}

/// One association: a pair of peers and their context lineage.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lane {
    pub root: CtxId,
    /// The loaded context's name.
    pub name: String,
    /// "client"/"server" or "local"/"peer".
    pub peer_names: [&'static str; 2],
    /// Endpoints each peer was seen sending from (peer A, peer B).
    pub endpoints: [BTreeSet<Endpoint>; 2],
    /// Sender IDs each peer used (changes with ID updates).
    pub sender_ids: [BTreeSet<Vec<u8>>; 2],
    pub phases: Vec<Phase>,
    pub procedures: Vec<Procedure>,
    pub first_frame: u64,
    pub last_frame: u64,
}

/// The messages one context protected: a coloured band.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    pub ctx: CtxId,
    pub name: String,
    /// Generation label ("g0", "g1"...).
    pub label: String,
    pub kind: CtxKind,
    pub first_frame: u64,
    pub last_frame: u64,
    pub first_ts: Timestamp,
    pub last_ts: Timestamp,
    pub messages: u64,
}

/// Which key-management procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcedureKind {
    Kudos,
    IdUpdate,
}

impl ProcedureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProcedureKind::Kudos => "kudos",
            ProcedureKind::IdUpdate => "id-update",
        }
    }
}

/// How a procedure ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Still running at the end of the capture (`waiting` says for what).
    Incomplete {
        waiting: String,
    },
    Completed,
    /// Abandoned, replaced by a new execution, or failed (`reason`).
    Aborted {
        reason: String,
    },
    Failed {
        reason: String,
    },
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Incomplete { .. } => "incomplete",
            Outcome::Completed => "completed",
            Outcome::Aborted { .. } => "aborted",
            Outcome::Failed { .. } => "failed",
        }
    }
    pub fn detail(&self) -> Option<&str> {
        match self {
            Outcome::Incomplete { waiting } => Some(waiting),
            Outcome::Aborted { reason } | Outcome::Failed { reason } => Some(reason),
            Outcome::Completed => None,
        }
    }
}

/// One message of a procedure (an arrow in a ladder diagram).
#[derive(Debug, Clone, PartialEq)]
pub struct ProcMessage {
    pub frame: u64,
    pub ts: Timestamp,
    pub from: PeerSlot,
    pub is_request: bool,
    /// Short description: "divergent", "convergent", "GET /temp", "Recipient-ID 42"...
    pub label: String,
    /// KUDOS x byte and nonce, when it is a KUDOS message.
    pub x: Option<u8>,
    pub nonce: Option<Vec<u8>>,
    /// The generation label of the context that protected it.
    pub context_label: String,
}

/// A point event in a procedure (key confirmation, context derived or retired...).
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub frame: u64,
    pub ts: Timestamp,
    pub kind: MarkerKind,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarkerKind {
    Started,
    /// A context was derived (CTX_TEMP, CTX_NEW, CTX_B).
    Derived {
        ctx: CtxId,
        label: String,
    },
    /// `peer` now knows the other peer holds the new context.
    KeyConfirmation {
        peer: PeerSlot,
    },
    /// The old context stopped being current.
    Retired {
        ctx: CtxId,
    },
    Restarted,
    Aborted,
    Completed,
    /// ID update: an offer (Recipient-ID) or acknowledgement (Recipient-ID-Ack).
    Offer {
        peer: PeerSlot,
        id: Vec<u8>,
    },
    Ack {
        peer: PeerSlot,
        id: Vec<u8>,
    },
    /// The new IDs came into use.
    Switched,
    /// Something a conformance or privacy check flagged (the finding says more).
    Flag,
}

/// A context derived during a procedure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedCtx {
    pub ctx: CtxId,
    pub name: String,
    pub label: String,
    pub kind: CtxKind,
    pub parent: Option<CtxId>,
    pub parent_label: Option<String>,
    pub frame: u64,
}

/// Rows a procedure's ladder keeps of ordinary messages and flags: an execution that never
/// completes would otherwise gain a row for every message that follows, and memory would grow
/// with the capture. KUDOS messages and protocol-step markers are always kept.
pub const MAX_LADDER_ROWS: usize = 512;

/// One execution of a key-management procedure.
#[derive(Debug, Clone, PartialEq)]
pub struct Procedure {
    pub kind: ProcedureKind,
    /// 1-based number within the lane.
    pub number: usize,
    pub initiator: PeerSlot,
    /// Started by a request (true) or by a response.
    pub request_initiated: bool,
    /// KUDOS: no forward secrecy (p = 1, from the bootstrap context).
    pub no_fs: bool,
    /// KUDOS: both peers set b = 1 (observations preserved).
    pub preserve_observations: bool,
    /// Both peers sent a divergent message (both initiated).
    pub both_initiated: bool,
    pub outcome: Outcome,
    pub messages: Vec<ProcMessage>,
    pub markers: Vec<Marker>,
    /// Ordinary-message arrows and flag markers not kept because the ladder already had
    /// [`MAX_LADDER_ROWS`] rows (an execution that never ends, with traffic flowing on).
    pub omitted: u64,
    pub derived: Vec<DerivedCtx>,
    pub start_frame: u64,
    pub start_ts: Timestamp,
    pub end_frame: u64,
    pub end_ts: Timestamp,
    /// First divergent message -> first convergent message.
    pub round_trip: Option<Nanos>,
    /// Key confirmation time of each peer since the start (peer A, peer B).
    pub confirmation: [Option<Nanos>; 2],
}

impl Procedure {
    pub fn new(kind: ProcedureKind, number: usize, initiator: PeerSlot, frame: u64, ts: Timestamp) -> Self {
        Procedure {
            kind,
            number,
            initiator,
            request_initiated: true,
            no_fs: false,
            preserve_observations: false,
            both_initiated: false,
            outcome: Outcome::Incomplete { waiting: String::new() },
            messages: Vec::new(),
            markers: Vec::new(),
            omitted: 0,
            derived: Vec::new(),
            start_frame: frame,
            start_ts: ts,
            end_frame: frame,
            end_ts: ts,
            round_trip: None,
            confirmation: [None, None],
        }
    }

    pub fn touch(&mut self, frame: u64, ts: Timestamp) {
        self.end_frame = self.end_frame.max(frame);
        if ts > self.end_ts {
            self.end_ts = ts;
        }
    }

    /// Adds an arrow to the ladder (the procedure lasts at least until it). Past
    /// [`MAX_LADDER_ROWS`] an ordinary message (no KUDOS x byte) is only counted.
    pub fn add_message(&mut self, m: ProcMessage) {
        self.touch(m.frame, m.ts);
        if m.x.is_none() && self.ladder_full() {
            self.omitted += 1;
        } else {
            self.messages.push(m);
        }
    }

    /// Adds a marker. Past [`MAX_LADDER_ROWS`] a flag is only counted; the markers of
    /// protocol steps are always kept.
    pub fn mark(&mut self, frame: u64, ts: Timestamp, kind: MarkerKind, text: impl Into<String>) {
        self.touch(frame, ts);
        if kind == MarkerKind::Flag && self.ladder_full() {
            self.omitted += 1;
        } else {
            self.markers.push(Marker { frame, ts, kind, text: text.into() });
        }
    }

    fn ladder_full(&self) -> bool {
        self.messages.len() + self.markers.len() >= MAX_LADDER_ROWS
    }

    pub fn duration(&self) -> Nanos {
        Nanos(self.end_ts.nanos_since(self.start_ts))
    }

    /// The heading of its ladder, for every front end: "KUDOS #1: request-initiated by client,
    /// FS mode, completed, frames 7-9, 0.402427 s".
    pub fn title(&self, lane: &Lane) -> String {
        let who = lane.peer_name(self.initiator);
        let how = if self.request_initiated { "request" } else { "response" };
        let mut s = match self.kind {
            ProcedureKind::Kudos => format!(
                "KUDOS #{}: {how}-initiated by {who}, {} mode{}{}, {}",
                self.number,
                if self.no_fs { "no-FS" } else { "FS" },
                if self.preserve_observations { ", observations preserved" } else { "" },
                if self.both_initiated { ", both peers initiated" } else { "" },
                self.outcome.as_str()
            ),
            ProcedureKind::IdUpdate => {
                format!("ID update #{}: started by {who} in a {how}, {}", self.number, self.outcome.as_str())
            }
        };
        if let Some(d) = self.outcome.detail().filter(|d| !d.is_empty()) {
            s.push_str(&format!(" ({d})"));
        }
        s.push_str(&format!(", frames {}-{}, {} s", self.start_frame, self.end_frame, self.duration()));
        s
    }

    /// The rows of its ladder in frame order, each frame's arrows before its markers.
    pub fn ladder(&self) -> Vec<LadderRow<'_>> {
        let mut rows: Vec<LadderRow<'_>> = self
            .messages
            .iter()
            .map(LadderRow::Message)
            .chain(self.markers.iter().map(LadderRow::Marker))
            .collect();
        // Stable: within a frame, arrows (listed first) keep their order, then the markers.
        rows.sort_by_key(|r| match r {
            LadderRow::Message(m) => (m.frame, false),
            LadderRow::Marker(m) => (m.frame, true),
        });
        rows
    }

    /// Round trip and key-confirmation times, when known: "round trip 0.002427 s; client
    /// confirmed after 0.002427 s" (empty when none is).
    pub fn timing(&self, lane: &Lane) -> String {
        let mut parts = Vec::new();
        if let Some(rt) = self.round_trip {
            parts.push(format!("round trip {rt} s"));
        }
        for (slot, c) in [PeerSlot::A, PeerSlot::B].into_iter().zip(self.confirmation) {
            if let Some(c) = c {
                parts.push(format!("{} confirmed after {c} s", lane.peer_name(slot)));
            }
        }
        parts.join("; ")
    }
}

/// One row of a procedure's ladder.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LadderRow<'a> {
    Message(&'a ProcMessage),
    Marker(&'a Marker),
}

/// An event a frame caused, for per-frame display (tree, plugin).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameEvent {
    pub kind: ProcedureKind,
    /// Lane root and procedure number.
    pub lane: CtxId,
    pub procedure: usize,
    pub text: String,
}

impl Lane {
    pub fn new(root: CtxId, name: String, peer_names: [&'static str; 2]) -> Lane {
        Lane { root, name, peer_names, ..Lane::default() }
    }

    /// The name of a peer of the lane ("client", "server"; "A", "B" without a role).
    pub fn peer_name(&self, slot: PeerSlot) -> &'static str {
        let [a, b] = self.peer_names;
        if slot == PeerSlot::A { a } else { b }
    }

    /// Records that `ctx` protected a message at `frame` sent by `slot` from `src`.
    #[allow(clippy::too_many_arguments)]
    pub fn saw(
        &mut self,
        ctx: CtxId,
        name: &str,
        label: &str,
        kind: CtxKind,
        frame: u64,
        ts: Timestamp,
        slot: PeerSlot,
        src: Endpoint,
        sender_id: Option<&[u8]>,
    ) {
        if self.first_frame == 0 {
            self.first_frame = frame;
        }
        self.last_frame = frame;
        let i = usize::from(slot == PeerSlot::B);
        if let Some(set) = self.endpoints.get_mut(i)
            && set.len() < MAX_ENDPOINTS
        {
            set.insert(src);
        }
        if let (Some(sid), Some(set)) = (sender_id, self.sender_ids.get_mut(i))
            && set.len() < MAX_ENDPOINTS
            && !set.contains(sid)
        {
            set.insert(sid.to_vec());
        }
        if kind == CtxKind::KudosTemp {
            return;
        }
        match self.phases.iter_mut().rev().find(|p| p.ctx == ctx) {
            Some(p) => {
                p.last_frame = frame;
                p.last_ts = ts;
                p.messages += 1;
            }
            None => self.phases.push(Phase {
                ctx,
                name: name.to_string(),
                label: label.to_string(),
                kind,
                first_frame: frame,
                last_frame: frame,
                first_ts: ts,
                last_ts: ts,
                messages: 1,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrow(frame: u64, x: Option<u8>) -> ProcMessage {
        ProcMessage {
            frame,
            ts: Timestamp::from_nanos(i128::from(frame) * 1_000_000),
            from: PeerSlot::A,
            is_request: true,
            label: if x.is_some() { "divergent".into() } else { "GET /temp".into() },
            x,
            nonce: x.map(|_| vec![1, 2, 3, 4, 5, 6, 7, 8]),
            context_label: "g0".into(),
        }
    }

    /// An execution that never ends keeps at most MAX_LADDER_ROWS rows of ordinary messages
    /// and flags, however long traffic flows on; KUDOS messages and protocol-step markers are
    /// still kept, the rest counted, and the procedure's end follows the last message.
    #[test]
    fn ladder_of_an_endless_execution_is_bounded() {
        let mut p = Procedure::new(ProcedureKind::Kudos, 1, PeerSlot::A, 1, Timestamp::from_nanos(1_000_000));
        p.add_message(arrow(1, Some(0x08)));
        for frame in 2..=20_001 {
            p.add_message(arrow(frame, None));
            let ts = Timestamp::from_nanos(i128::from(frame) * 1_000_000);
            p.mark(frame, ts, MarkerKind::Flag, "non-KUDOS message while busy");
        }
        assert_eq!(p.messages.len() + p.markers.len(), MAX_LADDER_ROWS);
        assert_eq!(p.omitted, 2 * 20_000 + 1 - MAX_LADDER_ROWS as u64);
        assert_eq!(p.end_frame, 20_001);
        // Past the cap: a KUDOS message and the completion are kept, in ladder order.
        p.add_message(arrow(20_002, Some(0x28)));
        p.mark(20_002, Timestamp::from_nanos(20_002_000_000), MarkerKind::Completed, "completed");
        let omitted = p.omitted;
        p.add_message(arrow(20_003, None));
        assert_eq!(p.omitted, omitted + 1);
        let rows = p.ladder();
        assert_eq!(rows.len(), MAX_LADDER_ROWS + 2);
        assert!(
            matches!(rows[rows.len() - 2], LadderRow::Message(m) if m.frame == 20_002 && m.x == Some(0x28))
        );
        assert!(matches!(rows[rows.len() - 1], LadderRow::Marker(m) if m.kind == MarkerKind::Completed));
        assert_eq!(p.end_frame, 20_003);
    }
}
