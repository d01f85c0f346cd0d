//! The view model: what the app keeps about a capture, computed from analyzer-core's records,
//! and the logic the painters rely on (filtering, sorting, selection, hex highlights).
//! No egui in here: everything is tested without a window.
//!
//! Memory: one compact [`Row`] per frame (about 64 bytes) plus the Info text in one arena
//! string; full [`FrameRecord`]s only for a bounded window of frames ([`RecordCache`]). A
//! frame outside the window is re-analysed on demand (see `loader::Job::Detail`).

use crate::timeline::LaneTicks;
use crate::timeline::Timeline;
use analyzer_core::analysis::{self, FrameRecord};
use analyzer_core::audit::AuditReport;
use analyzer_core::coap::exchange::Role;
use analyzer_core::dissect::{Node, Tree};
use analyzer_core::finding::{FindingKind, Severity, Span, SpanSource};
use analyzer_core::keys::PeerSlot;
use analyzer_core::oscore::engine::Status;
use analyzer_core::oscore::store::{ContextStore, Origin};
use analyzer_core::timeline::ProcedureKind;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Range;

/// What a row's colour says, most important first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RowKind {
    /// Carries a KUDOS OSCORE option (x and nonce).
    Kudos,
    /// Carries an ID-update option (Recipient-ID / Recipient-ID-Ack, numbers from the settings).
    IdUpdate,
    /// An OSCORE message that could not be opened.
    Failed,
    /// A finding of medium severity or more.
    Finding,
    /// Opened and verified (or decrypted with the tag cut off).
    Decrypted,
    /// Anything else.
    Plain,
}

impl RowKind {
    pub const ALL: [RowKind; 6] = [
        RowKind::Kudos,
        RowKind::IdUpdate,
        RowKind::Failed,
        RowKind::Finding,
        RowKind::Decrypted,
        RowKind::Plain,
    ];

    pub fn label(self) -> &'static str {
        match self {
            RowKind::Kudos => "KUDOS",
            RowKind::IdUpdate => "ID update",
            RowKind::Failed => "OSCORE failed",
            RowKind::Finding => "finding",
            RowKind::Decrypted => "decrypted",
            RowKind::Plain => "plain",
        }
    }
}

/// The role of a CoAP message, compact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsgRole {
    None,
    Request,
    Response,
    EmptyAck,
    Reset,
    Ping,
    Other,
}

/// One frame in the packet list: compact, no heap (48 bytes: a 1,000,000-frame capture has
/// 48 MB of rows).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    pub number: u64,
    /// Nanoseconds since the first frame.
    pub rel_nanos: i64,
    pub orig_len: u32,
    /// Indices into [`CaptureModel::endpoints`] (`u32::MAX` when absent).
    pub src: u32,
    pub dst: u32,
    /// Index into [`PROTOCOL_NAMES`].
    pub protocol: u8,
    pub kind: RowKind,
    pub severity: Option<Severity>,
    pub oscore: Option<Status>,
    /// Context id in the store + 1 (0 = none), the sender's slot, and whether the message is a
    /// retransmission (not a new encryption).
    pub ctx: u16,
    pub sender_b: bool,
    pub retransmission: bool,
    pub role: MsgRole,
    /// The association (timeline lane): the root of the context lineage that protected the
    /// message, or of the protected messages between the same endpoints (`u32::MAX`: none);
    /// whether the sender is the lane's peer A.
    pub lane: u32,
    pub from_a: bool,
    /// The Info text: `info[info_start .. info_start + info_len]` of the arena (texts are
    /// clipped to [`MAX_INFO_LEN`] bytes).
    pub info_start: u32,
    pub info_len: u16,
}

/// Names of the Protocol column (index = [`Row::protocol`]).
pub const PROTOCOL_NAMES: [&str; 12] = [
    "CoAP",
    "UDP",
    "IPv4",
    "IPv6",
    "6LoWPAN",
    "IEEE 802.15.4",
    "Ethernet",
    "SLL",
    "Loopback",
    "Unknown",
    "OSCORE",
    "KUDOS",
];

fn protocol_index(name: &str) -> u8 {
    PROTOCOL_NAMES.iter().position(|p| *p == name).and_then(|i| u8::try_from(i).ok()).unwrap_or(9)
}

/// A context as the keys panel shows it (copied out of the store at the end of a pass;
/// secrets are not copied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextRow {
    pub id: usize,
    /// The lineage root (the loaded context it descends from).
    pub root: usize,
    pub name: String,
    pub label: String,
    pub generation: u32,
    pub parent: Option<String>,
    pub origin: String,
    pub derived: bool,
    pub bootstrap: bool,
    pub aead: &'static str,
    pub id_context: Option<String>,
    pub peers: [PeerRow; 2],
    pub limit_q: u64,
    pub limit_v: u64,
    pub opened: u64,
    pub retired_at: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerRow {
    pub role: &'static str,
    pub sender_id: String,
    pub q: u64,
    pub v: u64,
}

impl ContextRow {
    pub fn from_store(store: &ContextStore) -> Vec<ContextRow> {
        store
            .iter()
            .map(|c| {
                let peer = |slot: PeerSlot| {
                    let u = c.usage.get(slot);
                    PeerRow {
                        role: c.slot_names.get(slot),
                        sender_id: analyzer_core::hex::encode(c.sender_id(slot)),
                        q: u.q,
                        v: u.v,
                    }
                };
                let (origin, derived) = match &c.origin {
                    Origin::Loaded { source } => (format!("loaded from {source}"), false),
                    Origin::Derived { how, frame } => (format!("{how} at frame {frame}"), true),
                };
                ContextRow {
                    id: c.id,
                    root: c.root,
                    name: c.name.to_string(),
                    label: c.label.to_string(),
                    generation: c.generation,
                    parent: c.parent.and_then(|p| store.get(p)).map(|p| p.name.to_string()),
                    origin,
                    derived,
                    bootstrap: c.bootstrap,
                    aead: c.params().aead.name(),
                    id_context: c.id_context().map(analyzer_core::hex::encode),
                    peers: [peer(PeerSlot::A), peer(PeerSlot::B)],
                    limit_q: c.limits.q,
                    limit_v: c.limits.v,
                    opened: c.opened,
                    retired_at: c.retired_at,
                }
            })
            .collect()
    }
}

/// A count of one key over time: (seconds since the first frame, count after that frame).
/// q: encryptions with the key (from the rows); v: failed verifications with it (from the
/// store's counters at the frames that carry an `oscore.tag_mismatch` / `oscore.key_limit`
/// finding).
#[derive(Debug, Clone, PartialEq)]
pub struct UsageSeries {
    pub ctx: usize,
    /// The key of peer B (else peer A).
    pub sender_b: bool,
    pub points: Vec<[f64; 2]>,
    /// The count at the end.
    pub count: u64,
}

/// Most points kept per usage series (later points are thinned evenly).
pub const MAX_USAGE_POINTS: usize = 2000;

impl UsageSeries {
    pub fn new(ctx: usize, sender_b: bool) -> Self {
        UsageSeries { ctx, sender_b, points: Vec::new(), count: 0 }
    }

    /// Appends the count at time `t`, thinning when the series grows long.
    pub fn push(&mut self, t: f64, count: u64) {
        self.count = count;
        self.points.push([t, count as f64]);
        if self.points.len() >= 4 * MAX_USAGE_POINTS {
            self.thin();
        }
    }

    /// Keeps at most [`MAX_USAGE_POINTS`] points, always the first and the last.
    pub fn thin(&mut self) {
        self.thin_to(MAX_USAGE_POINTS);
    }

    /// Keeps at most `max` points (at least 2), always the first and the last.
    pub fn thin_to(&mut self, max: usize) {
        let max = max.max(2);
        let n = self.points.len();
        if n <= max {
            return;
        }
        let step = n.div_ceil(max - 1);
        let last = self.points.last().copied();
        let mut kept: Vec<[f64; 2]> = self.points.iter().step_by(step).copied().collect();
        if let Some(l) = last
            && kept.last() != Some(&l)
        {
            kept.push(l);
        }
        self.points = kept;
    }
}

/// Follows v (failed verifications) per key: at a frame that carries a tag-mismatch or
/// key-limit finding, the store's counters tell which key was charged.
#[derive(Debug, Default)]
pub struct FailureTracker {
    last: HashMap<(usize, bool), u64>,
    pub series: BTreeMap<(usize, bool), UsageSeries>,
}

impl FailureTracker {
    pub fn observe(&mut self, r: &FrameRecord, store: &ContextStore) {
        let charged = r
            .findings
            .iter()
            .any(|f| matches!(f.kind, FindingKind::OscoreTagMismatch | FindingKind::OscoreKeyLimit));
        if !charged {
            return;
        }
        let t = r.rel_time.0 as f64 / 1e9;
        for c in store.iter() {
            for slot in [PeerSlot::A, PeerSlot::B] {
                let v = c.usage.get(slot).v;
                let key = (c.id, slot == PeerSlot::B);
                let before = self.last.get(&key).copied().unwrap_or(0);
                if v > before {
                    self.last.insert(key, v);
                    self.series.entry(key).or_insert_with(|| UsageSeries::new(key.0, key.1)).push(t, v);
                }
            }
        }
    }

    pub fn finish(self) -> Vec<UsageSeries> {
        let mut v: Vec<UsageSeries> = self.series.into_values().collect();
        thin_all(&mut v);
        v
    }
}

/// Most points drawn by a usage chart over all its series.
pub const MAX_CHART_POINTS: usize = 20_000;

/// Thins every series to [`MAX_USAGE_POINTS`], then all together to [`MAX_CHART_POINTS`]
/// (each keeps a share proportional to its length; a KUDOS-rich capture has thousands of keys).
pub fn thin_all(series: &mut [UsageSeries]) {
    for s in series.iter_mut() {
        s.thin();
    }
    let total: usize = series.iter().map(|s| s.points.len()).sum();
    if total > MAX_CHART_POINTS {
        for s in series.iter_mut() {
            let share = s.points.len() * MAX_CHART_POINTS / total;
            s.thin_to(share);
        }
    }
}

/// Longest Info text kept per row, in bytes (a summary line; longer ones are cut at a
/// character boundary).
pub const MAX_INFO_LEN: usize = u16::MAX as usize;

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
pub fn clip(s: &str, max: usize) -> &str {
    s.get(..s.floor_char_boundary(max)).unwrap_or_default()
}

/// Builds rows from records, in frame order (used by the loader; pure given its inputs), and
/// collects what the timeline and the usage chart need from them.
#[derive(Debug, Default)]
pub struct RowBuilder {
    endpoints: HashMap<String, u32>,
    pub endpoint_names: Vec<String>,
    /// (source, destination) -> (lineage root, sent by peer A), learned from protected messages:
    /// unprotected messages between the same endpoints (empty ACKs, errors) join that lane.
    pairs: HashMap<(u32, u32), (u32, bool)>,
    /// Messages per lineage root (the timeline's lanes), as row indices.
    pub ticks: BTreeMap<usize, LaneTicks>,
    /// Rows built so far (the index of the next row).
    pub built: u32,
    pub usage: BTreeMap<(usize, bool), UsageSeries>,
    pub id_update_options: Vec<u16>,
}

/// One batch of rows, as the loader sends it: rows with info offsets relative to `info`.
#[derive(Debug, Default)]
pub struct RowBatch {
    pub rows: Vec<Row>,
    pub info: String,
}

impl RowBuilder {
    pub fn new(id_update_options: Vec<u16>) -> Self {
        RowBuilder { id_update_options, ..RowBuilder::default() }
    }

    fn endpoint(&mut self, name: String) -> u32 {
        if let Some(i) = self.endpoints.get(&name) {
            return *i;
        }
        let i = u32::try_from(self.endpoint_names.len()).unwrap_or(u32::MAX);
        self.endpoint_names.push(name.clone());
        self.endpoints.insert(name, i);
        i
    }

    /// The row of `r`, appended to `batch`.
    pub fn push(&mut self, batch: &mut RowBatch, r: &FrameRecord) {
        let (src_s, dst_s) = r.addresses();
        let src = self.endpoint(src_s);
        let dst = self.endpoint(dst_s);
        let info = analysis::info(r);
        let info = clip(&info, MAX_INFO_LEN);
        let info_start = u32::try_from(batch.info.len()).unwrap_or(u32::MAX);
        let info_len = u16::try_from(info.len()).unwrap_or(0);
        batch.info.push_str(info);

        let severity = r.max_severity();
        let mut row = Row {
            number: r.number,
            rel_nanos: i64::try_from(r.rel_time.0).unwrap_or(i64::MAX),
            orig_len: r.orig_len,
            src,
            dst,
            protocol: protocol_index(r.protocol()),
            kind: RowKind::Plain,
            severity,
            oscore: None,
            ctx: 0,
            sender_b: false,
            retransmission: false,
            role: MsgRole::None,
            lane: u32::MAX,
            from_a: true,
            info_start,
            info_len,
        };
        let mut kudos = false;
        let mut id_update = r.events.iter().any(|e| e.kind == ProcedureKind::IdUpdate);
        if let Some(c) = &r.coap {
            row.retransmission = c.exchange.retransmission_of.is_some();
            row.role = match c.exchange.role {
                Role::Request => MsgRole::Request,
                Role::Response => MsgRole::Response,
                Role::EmptyAck => MsgRole::EmptyAck,
                Role::Reset => MsgRole::Reset,
                Role::Ping => MsgRole::Ping,
                Role::Other => MsgRole::Other,
            };
            if let Some(o) = &c.oscore {
                row.oscore = Some(o.status);
                row.protocol = protocol_index("OSCORE");
                kudos = o.opt().is_some_and(|opt| opt.kudos().is_some());
                if kudos {
                    row.protocol = protocol_index("KUDOS");
                }
                if let Some(inner) = &o.inner {
                    id_update |= inner.options.iter().any(|op| self.id_update_options.contains(&op.number));
                }
                if let Some(cr) = &o.context {
                    row.ctx = u16::try_from(cr.id + 1).unwrap_or(0);
                    row.sender_b = cr.sender == PeerSlot::B;
                    if let Ok(root) = u32::try_from(cr.root) {
                        row.lane = root;
                        row.from_a = !row.sender_b;
                        self.pairs.insert((src, dst), (root, row.from_a));
                        self.pairs.insert((dst, src), (root, !row.from_a));
                    }
                    if o.status.has_plaintext() && !row.retransmission {
                        let t = row.rel_nanos as f64 / 1e9;
                        let s = self
                            .usage
                            .entry((cr.id, row.sender_b))
                            .or_insert_with(|| UsageSeries::new(cr.id, row.sender_b));
                        let q = s.count + 1;
                        s.push(t, q);
                    }
                }
            }
            if row.lane == u32::MAX
                && let Some(&(root, from_a)) = self.pairs.get(&(src, dst))
            {
                row.lane = root;
                row.from_a = from_a;
            }
        }
        let failed = row.oscore.is_some_and(|s| !s.has_plaintext());
        row.kind = if kudos {
            RowKind::Kudos
        } else if id_update {
            RowKind::IdUpdate
        } else if failed {
            RowKind::Failed
        } else if severity.is_some_and(|s| s >= Severity::Medium) {
            RowKind::Finding
        } else if row.oscore.is_some() {
            RowKind::Decrypted
        } else {
            RowKind::Plain
        };
        if row.lane != u32::MAX {
            self.ticks.entry(row.lane as usize).or_default().push(self.built, row.rel_nanos as f64 / 1e9);
        }
        self.built = self.built.saturating_add(1);
        batch.rows.push(row);
    }
}

/// Sortable columns of the packet list (those of the CLI summary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Column {
    No,
    Time,
    Source,
    Destination,
    Protocol,
    Length,
    Info,
}

impl Column {
    pub const ALL: [Column; 7] = [
        Column::No,
        Column::Time,
        Column::Source,
        Column::Destination,
        Column::Protocol,
        Column::Length,
        Column::Info,
    ];
    pub fn title(self) -> &'static str {
        match self {
            Column::No => "No.",
            Column::Time => "Time",
            Column::Source => "Source",
            Column::Destination => "Destination",
            Column::Protocol => "Protocol",
            Column::Length => "Length",
            Column::Info => "Info",
        }
    }
}

/// A frame's full analysis, kept for the detail and hex views: the captured bytes and the
/// record (the tree is rebuilt from it when the frame is selected).
#[derive(Debug, Clone)]
pub struct CachedFrame {
    pub data: Vec<u8>,
    pub record: FrameRecord,
}

/// Full records for a bounded number of frames (oldest insertions dropped first).
#[derive(Debug, Default)]
pub struct RecordCache {
    map: HashMap<u64, CachedFrame>,
    order: VecDeque<u64>,
    pub capacity: usize,
}

impl RecordCache {
    pub fn new(capacity: usize) -> Self {
        RecordCache { map: HashMap::new(), order: VecDeque::new(), capacity }
    }
    pub fn get(&self, frame: u64) -> Option<&CachedFrame> {
        self.map.get(&frame)
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    pub fn insert(&mut self, frame: u64, c: CachedFrame) {
        if self.capacity == 0 {
            return;
        }
        if self.map.insert(frame, c).is_none() {
            self.order.push_back(frame);
        }
        while self.map.len() > self.capacity {
            let Some(old) = self.order.pop_front() else { break };
            self.map.remove(&old);
        }
    }
    pub fn clear(&mut self) {
        self.map.clear();
        self.order.clear();
    }
}

/// Everything the app knows about the open capture.
#[derive(Debug, Default)]
pub struct CaptureModel {
    pub path: std::path::PathBuf,
    pub rows: Vec<Row>,
    pub info: String,
    pub endpoints: Vec<String>,
    /// Rows shown, as indices into `rows`, filtered then sorted.
    pub visible: Vec<u32>,
    /// Row indices matching the applied filter (`None`: no filter).
    pub matches: Option<Vec<u32>>,
    pub sort: Option<(Column, bool)>,
    pub selected: Option<u64>,
    pub cache: RecordCache,
    pub contexts: Vec<ContextRow>,
    /// q per key over time.
    pub usage: Vec<UsageSeries>,
    /// v (failed verifications) per key over time, for the keys that had any.
    pub failures: Vec<UsageSeries>,
    /// The core's audit: privacy report per migration, observer's view, every finding.
    pub audit: Option<AuditReport>,
    /// The audit's findings by (severity, kind).
    pub finding_groups: Vec<FindingGroup>,
    /// True once the whole capture was read.
    pub complete: bool,
    /// Why reading stopped early (a damaged file), if it did.
    pub error: Option<String>,
}

impl CaptureModel {
    pub fn new(path: std::path::PathBuf, cache_capacity: usize) -> Self {
        CaptureModel { path, cache: RecordCache::new(cache_capacity), ..CaptureModel::default() }
    }

    /// Reserves room for a capture of `file_len` bytes so that appending never copies the
    /// arrays while loading (a copy of 100 MB would stall a UI frame). The reservation is
    /// virtual memory: pages count in RSS only once rows are written into them.
    pub fn reserve_for(&mut self, file_len: u64) {
        // A pcap record with the smallest UDP frame is about 58 bytes; Info texts are shorter
        // than the frames they describe.
        let rows = usize::try_from(file_len / 58).unwrap_or(0).min(50_000_000);
        self.rows.reserve(rows);
        self.visible.reserve(rows);
        self.info.reserve(usize::try_from(file_len).unwrap_or(0).min(4 << 30));
    }

    /// Appends a batch from the loader (rows in frame order).
    pub fn append(&mut self, batch: RowBatch, new_endpoints: Vec<String>) {
        let base = u32::try_from(self.info.len()).unwrap_or(u32::MAX);
        self.info.push_str(&batch.info);
        let first = self.rows.len();
        self.rows.extend(batch.rows.into_iter().map(|mut r| {
            r.info_start = r.info_start.saturating_add(base);
            r
        }));
        self.endpoints.extend(new_endpoints);
        if self.matches.is_none() && self.sort.is_none() {
            self.visible.extend((first..self.rows.len()).filter_map(|i| u32::try_from(i).ok()));
        }
    }

    pub fn info_of(&self, row: &Row) -> &str {
        let s = row.info_start as usize;
        self.info.get(s..s + row.info_len as usize).unwrap_or("")
    }

    pub fn endpoint(&self, i: u32) -> &str {
        self.endpoints.get(i as usize).map_or("-", String::as_str)
    }

    pub fn protocol(&self, row: &Row) -> &'static str {
        PROTOCOL_NAMES.get(row.protocol as usize).copied().unwrap_or("Unknown")
    }

    /// Row index of a frame number (rows are in frame order, numbered from 1).
    pub fn row_index(&self, frame: u64) -> Option<usize> {
        let i = usize::try_from(frame.checked_sub(1)?).ok()?;
        (self.rows.get(i)?.number == frame)
            .then_some(i)
            .or_else(|| self.rows.binary_search_by_key(&frame, |r| r.number).ok())
    }

    pub fn row(&self, frame: u64) -> Option<&Row> {
        self.rows.get(self.row_index(frame)?)
    }

    /// Sets the filter result (`None` = show everything) and recomputes the visible rows.
    pub fn set_matches(&mut self, matches: Option<Vec<u32>>) {
        self.matches = matches;
        self.refresh_visible();
    }

    /// Sorts by `col` (ascending or not); `None` restores frame order.
    pub fn set_sort(&mut self, sort: Option<(Column, bool)>) {
        self.sort = sort;
        self.refresh_visible();
    }

    /// Clicking a column header: ascending, then descending, then frame order.
    pub fn toggle_sort(&mut self, col: Column) {
        let next = match self.sort {
            Some((c, true)) if c == col => Some((col, false)),
            Some((c, false)) if c == col => None,
            _ => Some((col, true)),
        };
        self.set_sort(next);
    }

    pub fn refresh_visible(&mut self) {
        let mut v: Vec<u32> = match &self.matches {
            Some(m) => m.clone(),
            None => (0..self.rows.len()).filter_map(|i| u32::try_from(i).ok()).collect(),
        };
        if let Some((col, asc)) = self.sort {
            let rows = &self.rows;
            let key = |i: &u32| rows.get(*i as usize);
            v.sort_by(|a, b| {
                let (Some(x), Some(y)) = (key(a), key(b)) else { return std::cmp::Ordering::Equal };
                let o = match col {
                    Column::No => x.number.cmp(&y.number),
                    Column::Time => x.rel_nanos.cmp(&y.rel_nanos),
                    Column::Source => self.endpoint(x.src).cmp(self.endpoint(y.src)),
                    Column::Destination => self.endpoint(x.dst).cmp(self.endpoint(y.dst)),
                    Column::Protocol => self.protocol(x).cmp(self.protocol(y)),
                    Column::Length => x.orig_len.cmp(&y.orig_len),
                    Column::Info => self.info_of(x).cmp(self.info_of(y)),
                }
                .then(x.number.cmp(&y.number));
                if asc { o } else { o.reverse() }
            });
        }
        self.visible = v;
    }

    /// Position of the selected frame among the visible rows.
    pub fn selected_position(&self) -> Option<usize> {
        let sel = self.selected?;
        let idx = u32::try_from(self.row_index(sel)?).ok()?;
        self.visible.iter().position(|i| *i == idx)
    }

    /// Moves the selection by `delta` visible rows (arrow keys); selects the first row when
    /// nothing visible is selected. Returns the new selection.
    pub fn move_selection(&mut self, delta: i64) -> Option<u64> {
        let n = self.visible.len();
        if n == 0 {
            return None;
        }
        let pos = match self.selected_position() {
            Some(p) => (p as i64 + delta).clamp(0, n as i64 - 1) as usize,
            None => 0,
        };
        let idx = *self.visible.get(pos)?;
        let frame = self.rows.get(idx as usize)?.number;
        self.selected = Some(frame);
        Some(frame)
    }

    /// Final data of a pass: contexts, usage series, the audit (the timeline goes to the app).
    pub fn finish(&mut self, end: LoadEnd) {
        self.contexts = end.contexts;
        self.usage = end.usage;
        self.failures = end.failures;
        self.audit = end.audit;
        self.finding_groups = self.audit.as_ref().map(finding_groups).unwrap_or_default();
        self.endpoints = end.endpoints;
        self.error = end.error;
        self.complete = true;
        if self.matches.is_some() || self.sort.is_some() {
            self.refresh_visible();
        }
    }

    /// The q series of one key, summed over the rows (cross-check of the store's counters).
    pub fn q_from_rows(&self, ctx: usize, sender_b: bool) -> u64 {
        self.rows
            .iter()
            .filter(|r| {
                r.ctx as usize == ctx + 1
                    && r.sender_b == sender_b
                    && !r.retransmission
                    && r.oscore.is_some_and(Status::has_plaintext)
            })
            .count() as u64
    }
}

/// Findings of one (severity, kind) of the audit report: the exact count, and those listed (a
/// range of [`AuditReport::findings`], which the core sorts by severity, kind, frame).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingGroup {
    pub severity: Severity,
    pub kind: &'static str,
    pub count: u64,
    pub listed: Range<usize>,
}

/// The groups of a report, most severe first (the order of its summary).
pub fn finding_groups(r: &AuditReport) -> Vec<FindingGroup> {
    let key = |s: Severity, k: &'static str| (std::cmp::Reverse(s), k);
    r.summary
        .iter()
        .map(|c| {
            let k = key(c.severity, c.kind);
            let a = r.findings.partition_point(|f| key(f.severity, f.kind) < k);
            let b = r.findings.partition_point(|f| key(f.severity, f.kind) <= k);
            FindingGroup { severity: c.severity, kind: c.kind, count: c.count, listed: a..b.max(a) }
        })
        .collect()
}

/// What the loader hands over at the end of a pass.
#[derive(Debug, Default)]
pub struct LoadEnd {
    pub contexts: Vec<ContextRow>,
    pub usage: Vec<UsageSeries>,
    pub failures: Vec<UsageSeries>,
    pub audit: Option<AuditReport>,
    pub timeline: Timeline,
    pub endpoints: Vec<String>,
    pub error: Option<String>,
    pub frames: u64,
}

/// The bytes a hex view shows for one frame, by source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HexSources {
    pub frame: Vec<u8>,
    pub reassembled: Option<Vec<u8>>,
    pub decrypted: Option<Vec<u8>>,
}

impl HexSources {
    pub fn of(c: &CachedFrame) -> HexSources {
        HexSources {
            frame: c.data.clone(),
            reassembled: c.record.reassembled_bytes.clone(),
            decrypted: c
                .record
                .coap
                .as_ref()
                .and_then(|x| x.oscore.as_ref())
                .and_then(|o| o.plaintext().map(<[u8]>::to_vec)),
        }
    }

    pub fn bytes(&self, s: SpanSource) -> Option<&[u8]> {
        match s {
            SpanSource::Frame => Some(&self.frame),
            SpanSource::Reassembled => self.reassembled.as_deref(),
            SpanSource::Decrypted => self.decrypted.as_deref(),
        }
    }
}

/// The bytes to highlight for a tree node: its span, clipped to the data present (a span can
/// reach past the captured bytes of a truncated frame). `None` when the node has no span or
/// the source is absent.
pub fn highlight(span: Option<&Span>, sources: &HexSources) -> Option<(SpanSource, Range<usize>)> {
    let span = span?;
    let data = sources.bytes(span.source())?;
    let r = span.range();
    let end = r.end.min(data.len());
    let start = r.start.min(end);
    Some((span.source(), start..end))
}

/// The node at a path of child indices (the first index picks the root).
pub fn node_at<'a>(tree: &'a Tree, path: &[usize]) -> Option<&'a Node> {
    let (first, rest) = path.split_first()?;
    let mut n = tree.roots.get(*first)?;
    for i in rest {
        n = n.children.get(*i)?;
    }
    Some(n)
}

/// Path of the first node (depth-first) whose field is `field`.
pub fn find_field(tree: &Tree, field: &str) -> Option<Vec<usize>> {
    fn go(n: &Node, field: &str, path: &mut Vec<usize>) -> bool {
        if n.field.as_deref() == Some(field) {
            return true;
        }
        for (i, c) in n.children.iter().enumerate() {
            path.push(i);
            if go(c, field, path) {
                return true;
            }
            path.pop();
        }
        false
    }
    for (i, r) in tree.roots.iter().enumerate() {
        let mut path = vec![i];
        if go(r, field, &mut path) {
            return Some(path);
        }
    }
    None
}

/// One hex-dump line: offset, 16 bytes (or fewer), and which of them are highlighted.
pub fn hex_lines(data: &[u8], hl: Option<Range<usize>>) -> Vec<(usize, String, String, Vec<bool>)> {
    data.chunks(16)
        .enumerate()
        .map(|(i, chunk)| {
            let off = i * 16;
            let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
            let ascii: String = chunk
                .iter()
                .map(|b| if b.is_ascii_graphic() || *b == b' ' { *b as char } else { '.' })
                .collect();
            let marks =
                (0..chunk.len()).map(|j| hl.as_ref().is_some_and(|r| r.contains(&(off + j)))).collect();
            (off, hex.join(" "), ascii, marks)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Row, clip};

    #[test]
    fn rows_are_48_bytes() {
        assert_eq!(std::mem::size_of::<Row>(), 48);
    }

    #[test]
    fn clip_cuts_at_a_character_boundary() {
        assert_eq!(clip("abc", 10), "abc");
        assert_eq!(clip("abc", 2), "ab");
        assert_eq!(clip("aé", 2), "a", "é is two bytes");
        assert_eq!(clip("aé", 3), "aé");
        assert_eq!(clip("", 0), "");
    }
}
