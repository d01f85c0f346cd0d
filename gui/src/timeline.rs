//! The timeline: analyzer-core's [`analyzer_core::timeline::Timeline`] (one lane per
//! association, i.e. per context lineage; generation phases; KUDOS and ID-update executions
//! with their messages and markers) plus what only the app needs to draw it: the messages of
//! each lane as indices into the packet list's rows (a message's time, direction and colour
//! are its row's) and times in seconds since the first frame. [`timeline_view`] only paints
//! this data.
//!
//! Built by the loader at the end of a pass (`Timeline::new`), away from the UI thread; the
//! app then calls [`Timeline::attach_rows`] with the rows (puts the messages in time order).

use crate::model::{Row, RowKind};
use analyzer_core::keys::PeerSlot;
use analyzer_core::oscore::store::CtxId;
use analyzer_core::time::Timestamp;
use analyzer_core::timeline::{
    LadderRow, Lane, MAX_LADDER_ROWS, MarkerKind, Outcome, Procedure, ProcedureKind,
};
use std::collections::BTreeMap;

/// One message of a lane in the overview strip, as its row says it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tick {
    /// Seconds since the first frame.
    pub t: f64,
    pub frame: u64,
    /// Sent by the lane's peer A (the client, or the "local" peer).
    pub from_a: bool,
    pub kind: RowKind,
}

impl Tick {
    /// The tick of the row at `index` (`None` outside the rows).
    pub fn of(rows: &[Row], index: u32) -> Option<Tick> {
        let r = rows.get(index as usize)?;
        Some(Tick { t: r.rel_nanos as f64 / 1e9, frame: r.number, from_a: r.from_a, kind: r.kind })
    }
}

/// The messages of one lane as the loader collects them: row indices, the earliest and latest
/// time among them (seconds since the first frame), and whether they came in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct LaneTicks {
    pub rows: Vec<u32>,
    pub t_min: f64,
    pub t_max: f64,
    pub in_order: bool,
    last: f64,
}

impl Default for LaneTicks {
    fn default() -> Self {
        LaneTicks { rows: Vec::new(), t_min: 0.0, t_max: 0.0, in_order: true, last: f64::NEG_INFINITY }
    }
}

impl LaneTicks {
    pub fn push(&mut self, index: u32, t: f64) {
        if self.rows.is_empty() {
            (self.t_min, self.t_max) = (t, t);
        }
        self.t_min = self.t_min.min(t);
        self.t_max = self.t_max.max(t);
        self.in_order &= t >= self.last;
        self.last = t;
        self.rows.push(index);
    }
}

/// A lane of the core's timeline and its messages.
#[derive(Debug, Clone, PartialEq)]
pub struct LaneView {
    pub lane: Lane,
    /// Every CoAP message of the association (protected by a context of the lineage, or
    /// exchanged between its endpoints), as indices into the rows, in time order once
    /// [`Timeline::attach_rows`] has run. 4 bytes a message: a copy of the rows' time, frame,
    /// direction and kind took 24 (24 MB for a 1,000,000-message capture).
    pub ticks: Vec<u32>,
    /// The messages are in time order (else [`Timeline::attach_rows`] sorts them).
    pub in_order: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Timeline {
    /// Timestamp of the first frame (times are seconds since it).
    pub origin: Timestamp,
    /// In the core's order (by lineage root).
    pub lanes: Vec<LaneView>,
    pub start: f64,
    pub end: f64,
}

impl Timeline {
    /// The core's lanes with their messages (`ticks` by lineage root, as the loader collected
    /// them); the extent covers the messages, phases and executions.
    pub fn new(
        core: &analyzer_core::timeline::Timeline,
        origin: Timestamp,
        mut ticks: BTreeMap<CtxId, LaneTicks>,
    ) -> Timeline {
        let mut tl = Timeline { origin, lanes: Vec::new(), start: f64::INFINITY, end: f64::NEG_INFINITY };
        for (root, lane) in &core.lanes {
            let t = ticks.remove(root).unwrap_or_default();
            let mut times: Vec<f64> = if t.rows.is_empty() { Vec::new() } else { vec![t.t_min, t.t_max] };
            for p in &lane.phases {
                times.extend([tl.secs(p.first_ts), tl.secs(p.last_ts)]);
            }
            for p in &lane.procedures {
                times.extend([tl.secs(p.start_ts), tl.secs(p.end_ts)]);
            }
            for x in times {
                tl.start = tl.start.min(x);
                tl.end = tl.end.max(x);
            }
            tl.lanes.push(LaneView { lane: lane.clone(), ticks: t.rows, in_order: t.in_order });
        }
        if !tl.start.is_finite() || !tl.end.is_finite() {
            (tl.start, tl.end) = (0.0, 0.0);
        }
        tl
    }

    /// Puts the messages of the lanes that did not come in time order in time order, by their
    /// rows' times (the window search needs the order; captures are in time order almost
    /// always, and then this costs nothing). `rows` are the rows the indices point into.
    pub fn attach_rows(&mut self, rows: &[Row]) {
        let key = |i: &u32| (rows.get(*i as usize).map_or(i64::MAX, |r| r.rel_nanos), *i);
        for lv in self.lanes.iter_mut().filter(|l| !l.in_order) {
            lv.ticks.sort_unstable_by_key(key);
            lv.in_order = true;
        }
    }

    /// Seconds since the first frame.
    pub fn secs(&self, ts: Timestamp) -> f64 {
        ts.nanos_since(self.origin) as f64 / 1e9
    }

    /// Index of the lane of a lineage root.
    pub fn lane_of(&self, root: CtxId) -> Option<usize> {
        self.lanes.binary_search_by_key(&root, |l| l.lane.root).ok()
    }

    /// Procedures of a lane that overlap [t0, t1].
    pub fn procedures_in<'a>(&self, lane: &'a Lane, t0: f64, t1: f64) -> Vec<&'a Procedure> {
        lane.procedures.iter().filter(|p| self.secs(p.end_ts) >= t0 && self.secs(p.start_ts) <= t1).collect()
    }
}

/// What the user looks at: a time window, a lane, and what the ladder shows (persisted only for
/// the session).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimelineView {
    pub t0: f64,
    pub t1: f64,
    pub lane: usize,
    /// The ladder shows every message of the window instead of the key-update executions.
    pub messages: bool,
}

impl Default for TimelineView {
    fn default() -> Self {
        TimelineView { t0: 0.0, t1: 1.0, lane: 0, messages: false }
    }
}

/// Smallest window shown (seconds).
pub const MIN_SPAN: f64 = 1e-6;

impl TimelineView {
    /// The whole capture, with a small margin.
    pub fn fit(tl: &Timeline) -> TimelineView {
        let mut v = TimelineView::default();
        v.fit_range(tl.start, tl.end);
        v
    }

    /// Shows [a, b] with a small margin.
    pub fn fit_range(&mut self, a: f64, b: f64) {
        let span = (b - a).max(MIN_SPAN);
        self.t0 = a - span * 0.02;
        self.t1 = b + span * 0.02;
    }

    pub fn span(&self) -> f64 {
        self.t1 - self.t0
    }

    /// Zooms by `factor` (< 1 zooms in) around time `center`.
    pub fn zoom(&mut self, factor: f64, center: f64) {
        let factor = if factor.is_finite() && factor > 0.0 { factor } else { 1.0 };
        let span = (self.span() * factor).max(MIN_SPAN);
        let frac = if self.span() > 0.0 { ((center - self.t0) / self.span()).clamp(0.0, 1.0) } else { 0.5 };
        self.t0 = center - span * frac;
        self.t1 = self.t0 + span;
    }

    /// Moves the window by `dt` seconds.
    pub fn pan(&mut self, dt: f64) {
        if dt.is_finite() {
            self.t0 += dt;
            self.t1 += dt;
        }
    }

    pub fn x_of(&self, t: f64, left: f32, width: f32) -> f32 {
        left + ((t - self.t0) / self.span()) as f32 * width
    }

    pub fn t_of(&self, x: f32, left: f32, width: f32) -> f64 {
        self.t0 + f64::from((x - left) / width.max(1.0)) * self.span()
    }
}

/// Messages of a lane within [t0, t1] (binary search; the lane's row indices are in time
/// order).
pub fn visible_ticks<'a>(rows: &[Row], ticks: &'a [u32], t0: f64, t1: f64) -> &'a [u32] {
    let t = |i: &u32| Tick::of(rows, *i).map_or(f64::INFINITY, |m| m.t);
    let a = ticks.partition_point(|i| t(i) < t0);
    let b = ticks.partition_point(|i| t(i) <= t1);
    ticks.get(a..b.max(a)).unwrap_or_default()
}

/// Most arrows drawn in the message ladder at once.
pub const MAX_ARROWS: usize = 80;
/// Most executions drawn as ladders at once.
pub const MAX_LADDERS: usize = 8;

/// What the user did in the timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimelineAction {
    SelectFrame(u64),
}

/// Colour of a row kind (packet list and timeline agree).
pub fn kind_color(kind: RowKind, dark: bool) -> egui::Color32 {
    use egui::Color32 as C;
    match (kind, dark) {
        (RowKind::Kudos, false) => C::from_rgb(0xd9, 0xc2, 0xf0),
        (RowKind::Kudos, true) => C::from_rgb(0x4b, 0x2e, 0x6e),
        (RowKind::IdUpdate, false) => C::from_rgb(0xb8, 0xe0, 0xf5),
        (RowKind::IdUpdate, true) => C::from_rgb(0x1f, 0x4e, 0x66),
        (RowKind::Failed, false) => C::from_rgb(0xf5, 0xb7, 0xb1),
        (RowKind::Failed, true) => C::from_rgb(0x6e, 0x25, 0x22),
        (RowKind::Finding, false) => C::from_rgb(0xfa, 0xe3, 0xa6),
        (RowKind::Finding, true) => C::from_rgb(0x5e, 0x4a, 0x14),
        (RowKind::Decrypted, false) => C::from_rgb(0xc8, 0xec, 0xc4),
        (RowKind::Decrypted, true) => C::from_rgb(0x23, 0x4d, 0x2a),
        (RowKind::Plain, false) => C::from_rgb(0xf2, 0xf2, 0xf2),
        (RowKind::Plain, true) => C::from_rgb(0x30, 0x30, 0x30),
    }
}

/// Strong colour of a kind (ticks, arrows).
pub fn kind_stroke(kind: RowKind) -> egui::Color32 {
    use egui::Color32 as C;
    match kind {
        RowKind::Kudos => C::from_rgb(0x8e, 0x44, 0xd8),
        RowKind::IdUpdate => C::from_rgb(0x1f, 0x8f, 0xd4),
        RowKind::Failed => C::from_rgb(0xc0, 0x39, 0x2b),
        RowKind::Finding => C::from_rgb(0xd3, 0x8b, 0x00),
        RowKind::Decrypted => C::from_rgb(0x2e, 0x9b, 0x57),
        RowKind::Plain => C::from_rgb(0x80, 0x80, 0x80),
    }
}

/// Band colour of the `i`-th generation of a lane.
pub fn generation_color(i: usize, dark: bool) -> egui::Color32 {
    let hues = [0.33f32, 0.58, 0.08, 0.83, 0.15, 0.5];
    let h = hues.get(i % hues.len()).copied().unwrap_or(0.33);
    if dark {
        // In gamma space: `Hsva` is linear, and a linear value of 0.42 is a light sRGB grey
        // (about 0.68) under which white labels were hard to read.
        egui::ecolor::HsvaGamma { h, s: 0.45, v: 0.42, a: 1.0 }.into()
    } else {
        egui::ecolor::Hsva::new(h, 0.28, 0.95, 1.0).into()
    }
}

/// Colour of a generation label within a lane (the colour of its band; temporary contexts,
/// which protect no band, get a neutral one).
fn label_color(lane: &Lane, label: &str, dark: bool) -> egui::Color32 {
    match lane.phases.iter().position(|p| p.label == label) {
        Some(i) => generation_color(i, dark),
        None if dark => egui::Color32::from_rgb(0x4a, 0x4a, 0x52),
        None => egui::Color32::from_rgb(0xe4, 0xe4, 0xea),
    }
}

fn outcome_color(o: &Outcome) -> egui::Color32 {
    use egui::Color32 as C;
    match o {
        Outcome::Completed => C::from_rgb(0x2e, 0x9b, 0x57),
        Outcome::Incomplete { .. } => C::from_rgb(0xd3, 0x8b, 0x00),
        Outcome::Aborted { .. } | Outcome::Failed { .. } => C::from_rgb(0xc0, 0x39, 0x2b),
    }
}

fn proc_color(kind: ProcedureKind) -> egui::Color32 {
    match kind {
        ProcedureKind::Kudos => kind_stroke(RowKind::Kudos),
        ProcedureKind::IdUpdate => kind_stroke(RowKind::IdUpdate),
    }
}

fn slot_index(s: PeerSlot) -> usize {
    usize::from(s == PeerSlot::B)
}

/// The text of a procedure message: its label, then the KUDOS x byte and nonce.
pub fn message_text(m: &analyzer_core::timeline::ProcMessage) -> String {
    let mut s = m.label.clone();
    if let Some(x) = m.x {
        s.push_str(&format!(" x={x:02x}"));
    }
    if let Some(n) = &m.nonce {
        s.push_str(&format!(" N={}", analyzer_core::hex::encode(n)));
    }
    s
}

/// One peer column head: name, endpoints (the first two), sender IDs.
fn peer_head(lane: &Lane, i: usize) -> (String, String) {
    let name = lane.peer_names.get(i).copied().unwrap_or("?").to_string();
    let eps: Vec<String> =
        lane.endpoints.get(i).map(|s| s.iter().map(|e| e.to_string()).collect()).unwrap_or_default();
    let mut where_ = eps.iter().take(2).cloned().collect::<Vec<_>>().join(", ");
    if eps.len() > 2 {
        where_.push_str(&format!(" +{} more", eps.len() - 2));
    }
    let ids: Vec<String> = lane
        .sender_ids
        .get(i)
        .map(|s| {
            s.iter()
                .map(|id| if id.is_empty() { "(empty)".into() } else { analyzer_core::hex::encode(id) })
                .collect()
        })
        .unwrap_or_default();
    let ids = if ids.is_empty() { String::new() } else { format!(" · id {}", ids.join(", ")) };
    (name, format!("{where_}{ids}"))
}

const LABEL_W: f32 = 300.0;
const LANE_H: f32 = 50.0;
const SPAN_H: f32 = 13.0;

/// Draws the lanes (generation bands, procedure spans, message ticks, key confirmations) and
/// the ladders of the current lane. `rows` are the rows the lanes' messages index; `label`
/// gives the Info text of a frame (message ladder). Returns what was clicked.
pub fn timeline_view(
    ui: &mut egui::Ui,
    tl: &Timeline,
    view: &mut TimelineView,
    selected: Option<u64>,
    rows: &[Row],
    label: &dyn Fn(u64) -> String,
) -> Option<TimelineAction> {
    let mut action = None;
    ui.horizontal(|ui| {
        if ui.button("Zoom in").clicked() {
            view.zoom(0.5, (view.t0 + view.t1) / 2.0);
        }
        if ui.button("Zoom out").clicked() {
            view.zoom(2.0, (view.t0 + view.t1) / 2.0);
        }
        if ui.button("Fit").clicked() {
            view.fit_range(tl.start, tl.end);
        }
        ui.label(format!(
            "{:.6} s – {:.6} s  ({} association{}; scroll to zoom, drag to pan, click an execution to zoom to it)",
            view.t0,
            view.t1,
            tl.lanes.len(),
            if tl.lanes.len() == 1 { "" } else { "s" }
        ));
    });
    if tl.lanes.is_empty() {
        ui.label("No OSCORE association was decrypted: the timeline needs the keys (File > Import keys…).");
        return None;
    }
    let lanes_h = (tl.lanes.len() as f32 * (LANE_H + 6.0) + 8.0).min(ui.available_height() * 0.4);
    egui::ScrollArea::vertical().id_salt("lanes").max_height(lanes_h).show(ui, |ui| {
        for (li, lv) in tl.lanes.iter().enumerate() {
            if let Some(a) = lane_row(ui, tl, li, lv, view, selected, rows) {
                action = Some(a);
            }
        }
    });
    ui.separator();
    let Some(lv) = tl.lanes.get(view.lane) else { return action };
    if let Some(f) = ladders(ui, tl, lv, view, selected, rows, label) {
        action = Some(TimelineAction::SelectFrame(f));
    }
    action
}

/// One lane: its label column and its strip.
fn lane_row(
    ui: &mut egui::Ui,
    tl: &Timeline,
    li: usize,
    lv: &LaneView,
    view: &mut TimelineView,
    selected: Option<u64>,
    rows: &[Row],
) -> Option<TimelineAction> {
    use egui::{FontId, Sense, Stroke, pos2, vec2};
    let lane = &lv.lane;
    let dark = ui.visuals().dark_mode;
    let mut action = None;
    ui.horizontal(|ui| {
        ui.allocate_ui(vec2(LABEL_W, LANE_H), |ui| {
            ui.set_width(LABEL_W);
            ui.spacing_mut().item_spacing.y = 0.0;
            ui.vertical(|ui| {
                let [a, b] = lane.peer_names;
                let title = format!("{} ({a} <-> {b})", lane.name);
                if ui.selectable_label(view.lane == li, egui::RichText::new(title).strong()).clicked() {
                    view.lane = li;
                }
                for i in 0..2 {
                    let (name, rest) = peer_head(lane, i);
                    ui.add(
                        egui::Label::new(egui::RichText::new(format!("{name} {rest}")).small().weak())
                            .truncate(),
                    );
                }
            });
        });
        let width = ui.available_width().max(50.0);
        let (rect, resp) = ui.allocate_exact_size(vec2(width, LANE_H), Sense::click_and_drag());
        resp.widget_info(|| {
            egui::WidgetInfo::labeled(egui::Role::Canvas, true, format!("lane {}", lane.name))
        });
        let p = ui.painter_at(rect);
        p.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
        if view.lane == li {
            p.rect_stroke(
                rect,
                2.0,
                Stroke::new(1.0, ui.visuals().selection.bg_fill),
                egui::StrokeKind::Inside,
            );
        }
        let (l, w) = (rect.left(), rect.width());
        let body_top = rect.top() + SPAN_H + 2.0;
        // Generation bands (their labels are drawn over the ticks).
        let mut band_labels = Vec::new();
        for (i, ph) in lane.phases.iter().enumerate() {
            let (t0, t1) = (tl.secs(ph.first_ts), tl.secs(ph.last_ts));
            if t1 < view.t0 || t0 > view.t1 {
                continue;
            }
            let x0 = view.x_of(t0, l, w).max(l - 4.0);
            let x1 = view.x_of(t1, l, w).min(rect.right() + 4.0).max(x0 + 3.0);
            let band =
                egui::Rect::from_min_max(pos2(x0 - 2.0, body_top), pos2(x1 + 2.0, rect.bottom() - 2.0));
            p.rect_filled(band, 3.0, generation_color(i, dark));
            band_labels.push((pos2(band.left().max(l) + 3.0, band.top() + 1.0), ph.label.as_str()));
        }
        // Message ticks: at most one per pixel column and kind; peer A's below the centre line.
        let mid = (body_top + rect.bottom()) / 2.0;
        let mut last: Option<(i32, RowKind, bool)> = None;
        for m in visible_ticks(rows, &lv.ticks, view.t0, view.t1).iter().filter_map(|i| Tick::of(rows, *i)) {
            let x = view.x_of(m.t, l, w);
            let key = (x as i32, m.kind, m.from_a);
            if last == Some(key) && Some(m.frame) != selected {
                continue;
            }
            last = Some(key);
            let (y0, y1) = if m.from_a { (mid, rect.bottom() - 3.0) } else { (body_top + 12.0, mid) };
            let width = if Some(m.frame) == selected { 3.0 } else { 1.0 };
            p.line_segment([pos2(x, y0), pos2(x, y1)], Stroke::new(width, kind_stroke(m.kind)));
        }
        for (at, text) in band_labels {
            let g = p.layout_no_wrap(
                text.to_string(),
                FontId::proportional(11.0),
                ui.visuals().strong_text_color(),
            );
            p.rect_filled(
                egui::Rect::from_min_size(at, g.size()).expand(1.0),
                2.0,
                ui.visuals().extreme_bg_color.gamma_multiply(0.7),
            );
            p.galley(at, g, egui::Color32::WHITE);
        }
        // Executions: a span above the bands; key confirmations as diamonds.
        let mut spans = Vec::new();
        for pr in &lane.procedures {
            let (t0, t1) = (tl.secs(pr.start_ts), tl.secs(pr.end_ts));
            if t1 < view.t0 || t0 > view.t1 {
                continue;
            }
            let x0 = view.x_of(t0, l, w).max(l);
            let x1 = view.x_of(t1, l, w).min(rect.right()).max(x0 + 4.0);
            let r = egui::Rect::from_min_max(pos2(x0, rect.top() + 1.0), pos2(x1, rect.top() + SPAN_H));
            let c = proc_color(pr.kind);
            p.rect_filled(r, 2.0, c.gamma_multiply(0.55));
            p.rect_stroke(r, 2.0, Stroke::new(1.0, outcome_color(&pr.outcome)), egui::StrokeKind::Inside);
            let text = match pr.kind {
                ProcedureKind::Kudos => format!("KUDOS #{}", pr.number),
                ProcedureKind::IdUpdate => format!("ID update #{}", pr.number),
            };
            let galley = p.layout_no_wrap(text, FontId::proportional(10.0), ui.visuals().strong_text_color());
            if r.width() >= galley.size().x + 6.0 {
                p.galley(
                    pos2(r.left() + 3.0, r.center().y - galley.size().y / 2.0),
                    galley,
                    egui::Color32::WHITE,
                );
            } else if x1 + galley.size().x + 4.0 < rect.right() {
                p.galley(pos2(x1 + 2.0, r.center().y - galley.size().y / 2.0), galley, egui::Color32::WHITE);
            }
            for mk in &pr.markers {
                if let MarkerKind::KeyConfirmation { .. } = mk.kind {
                    let x = view.x_of(tl.secs(mk.ts), l, w);
                    diamond(&p, pos2(x, body_top + 6.0), 4.5, kind_stroke(RowKind::Decrypted));
                }
            }
            spans.push((r, t0, t1));
        }
        if resp.dragged() {
            let dx = resp.drag_delta().x;
            view.pan(-f64::from(dx / w) * view.span());
        }
        if resp.hovered() {
            let scroll = ui.input(|i| i.smooth_scroll_delta.y);
            if scroll != 0.0
                && let Some(pos) = resp.hover_pos()
            {
                let center = view.t_of(pos.x, l, w);
                view.zoom((-f64::from(scroll) / 200.0).exp(), center);
            }
        }
        if resp.clicked() {
            view.lane = li;
            if let Some(pos) = resp.interact_pointer_pos() {
                // A click on an execution's span zooms to it; elsewhere it selects the nearest message.
                if let Some((_, t0, t1)) = spans.iter().find(|(r, _, _)| r.expand(2.0).contains(pos)) {
                    let pad = (t1 - t0).max(1e-3) * 0.2;
                    view.fit_range(t0 - pad, t1 + pad);
                    view.messages = false;
                } else {
                    let t = view.t_of(pos.x, l, w);
                    let tol = view.span() * 6.0 / f64::from(w);
                    let near = visible_ticks(rows, &lv.ticks, t - tol, t + tol)
                        .iter()
                        .filter_map(|i| Tick::of(rows, *i))
                        .min_by(|a, b| (a.t - t).abs().total_cmp(&(b.t - t).abs()));
                    if let Some(m) = near {
                        action = Some(TimelineAction::SelectFrame(m.frame));
                    }
                }
            }
        }
    });
    action
}

fn diamond(p: &egui::Painter, c: egui::Pos2, r: f32, color: egui::Color32) {
    use egui::pos2;
    let pts = vec![pos2(c.x, c.y - r), pos2(c.x + r, c.y), pos2(c.x, c.y + r), pos2(c.x - r, c.y)];
    p.add(egui::Shape::convex_polygon(pts, color, egui::Stroke::NONE));
}

/// The ladder area of the current lane: its generations, then the executions in the window
/// (or every message of the window).
fn ladders(
    ui: &mut egui::Ui,
    tl: &Timeline,
    lv: &LaneView,
    view: &mut TimelineView,
    selected: Option<u64>,
    rows: &[Row],
    label: &dyn Fn(u64) -> String,
) -> Option<u64> {
    let lane = &lv.lane;
    let dark = ui.visuals().dark_mode;
    let procs = tl.procedures_in(lane, view.t0, view.t1);
    let kudos = lane.procedures.iter().filter(|p| p.kind == ProcedureKind::Kudos).count();
    let idu = lane.procedures.len() - kudos;
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    ui.horizontal_wrapped(|ui| {
        let [a, b] = lane.peer_names;
        ui.strong(format!("{} ({a} <-> {b}), frames {}–{}", lane.name, lane.first_frame, lane.last_frame));
        ui.separator();
        ui.label(format!("{}, {}", plural(kudos, "KUDOS execution"), plural(idu, "ID update")));
        ui.separator();
        if ui
            .selectable_label(!view.messages, format!("Key updates in the window ({})", procs.len()))
            .clicked()
        {
            view.messages = false;
        }
        if ui.selectable_label(view.messages, "Messages in the window").clicked() {
            view.messages = true;
        }
    });
    ui.horizontal_wrapped(|ui| {
        ui.label(egui::RichText::new("Generations:").weak());
        for (i, ph) in lane.phases.iter().enumerate() {
            let text = format!(
                "{} {} frames {}–{} ({} messages)",
                ph.label, ph.name, ph.first_frame, ph.last_frame, ph.messages
            );
            let chip = egui::RichText::new(text).background_color(generation_color(i, dark)).small();
            ui.label(chip.color(ui.visuals().strong_text_color()));
        }
    });
    let mut clicked = None;
    egui::ScrollArea::vertical().id_salt("ladder").auto_shrink([false, false]).show(ui, |ui| {
        let width = ui.available_width().max(400.0);
        if view.messages || procs.is_empty() {
            if !view.messages {
                ui.label(
                    egui::RichText::new("No KUDOS or ID-update execution in this window: the messages of the window.")
                        .weak(),
                );
            }
            clicked = message_ladder(ui, lv, view, selected, rows, label, width);
            return;
        }
        if procs.len() > MAX_LADDERS {
            ui.label(format!(
                "{} executions in the window: the first {MAX_LADDERS} are drawn (zoom in, or click one in the lane, to see the others)",
                procs.len()
            ));
        }
        for p in procs.iter().take(MAX_LADDERS) {
            if let Some(f) = procedure_ladder(ui, tl, lane, p, selected, width) {
                clicked = Some(f);
            }
            ui.add_space(10.0);
        }
    });
    clicked
}

/// Where the two peer columns are, in a ladder row.
#[derive(Debug, Clone, Copy)]
struct Cols {
    xa: f32,
    xb: f32,
}

impl Cols {
    fn new(width: f32) -> Cols {
        Cols { xa: width * 0.24, xb: width * 0.76 }
    }
    fn of(&self, a: bool) -> f32 {
        if a { self.xa } else { self.xb }
    }
}

/// Everything an arrow row shows.
struct ArrowSpec<'a> {
    frame: u64,
    t: f64,
    from_a: bool,
    text: &'a str,
    /// The generation that protected it, in a chip right of the columns.
    context: Option<(&'a str, egui::Color32)>,
    color: egui::Color32,
    thick: bool,
    selected: bool,
}

/// The two column heads of a ladder: peer name, then its endpoints and IDs.
fn peer_heads(ui: &mut egui::Ui, lane: &Lane, cols: Cols, width: f32) {
    use egui::{Align2, FontId, Sense, pos2, vec2};
    let (head, _) = ui.allocate_exact_size(vec2(width, 32.0), Sense::hover());
    let painter = ui.painter_at(head);
    for i in 0..2 {
        let (name, rest) = peer_head(lane, i);
        let x = head.left() + cols.of(i == 0);
        painter.text(
            pos2(x, head.top() + 8.0),
            Align2::CENTER_CENTER,
            name,
            FontId::proportional(13.0),
            ui.visuals().strong_text_color(),
        );
        painter.text(
            pos2(x, head.top() + 23.0),
            Align2::CENTER_CENTER,
            rest,
            FontId::proportional(10.5),
            ui.visuals().weak_text_color(),
        );
    }
}

fn lifelines(ui: &egui::Ui, p: &egui::Painter, rect: egui::Rect, cols: Cols) {
    let c = ui.visuals().weak_text_color();
    for x in [cols.xa, cols.xb] {
        p.line_segment(
            [egui::pos2(rect.left() + x, rect.top()), egui::pos2(rect.left() + x, rect.bottom())],
            egui::Stroke::new(1.0, c),
        );
    }
}

/// One message as an arrow between the columns; clickable.
fn arrow_row(ui: &mut egui::Ui, cols: Cols, width: f32, a: &ArrowSpec<'_>) -> egui::Response {
    use egui::{Align2, FontId, Sense, Stroke, pos2, vec2};
    let (rect, resp) = ui.allocate_exact_size(vec2(width, 30.0), Sense::click());
    let full = match a.context {
        Some((c, _)) => format!("#{} {} [{c}]", a.frame, a.text),
        None => format!("#{} {}", a.frame, a.text),
    };
    resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &full));
    let p = ui.painter_at(rect);
    if a.selected || resp.hovered() {
        p.rect_filled(rect, 2.0, ui.visuals().selection.bg_fill.gamma_multiply(0.45));
    }
    lifelines(ui, &p, rect, cols);
    let y = rect.bottom() - 8.0;
    let (from, to) = (rect.left() + cols.of(a.from_a), rect.left() + cols.of(!a.from_a));
    let stroke = Stroke::new(if a.thick { 2.5 } else { 1.5 }, a.color);
    let (s, e) = (pos2(from, y), pos2(to, y));
    p.line_segment([s, e], stroke);
    let dir = if to > from { -1.0 } else { 1.0 };
    p.line_segment([e, e + vec2(dir * 9.0, -5.0)], stroke);
    p.line_segment([e, e + vec2(dir * 9.0, 5.0)], stroke);
    p.text(
        pos2(rect.left() + 4.0, rect.center().y),
        Align2::LEFT_CENTER,
        format!("{:.6} s  #{}", a.t, a.frame),
        FontId::monospace(10.5),
        ui.visuals().weak_text_color(),
    );
    // The text between the columns, cut with an ellipsis when it is wider.
    let mut job = egui::text::LayoutJob::simple_singleline(
        a.text.to_string(),
        FontId::proportional(12.0),
        ui.visuals().text_color(),
    );
    job.wrap = egui::text::TextWrapping::truncate_at_width((cols.xb - cols.xa - 24.0).max(40.0));
    let g = p.layout_job(job);
    let at = pos2(
        rect.left() + (cols.xa + cols.xb) / 2.0 - g.size().x / 2.0,
        rect.top() + 10.0 - g.size().y / 2.0,
    );
    p.galley(at, g, egui::Color32::WHITE);
    if let Some((c, bg)) = a.context {
        let g = p.layout_no_wrap(c.to_string(), FontId::proportional(11.0), ui.visuals().strong_text_color());
        let at = pos2(rect.left() + cols.xb + 14.0, y - g.size().y / 2.0);
        p.rect_filled(egui::Rect::from_min_size(at, g.size()).expand2(vec2(4.0, 1.0)), 3.0, bg);
        p.galley(at, g, egui::Color32::WHITE);
    }
    resp
}

/// A marker under the arrows: a shape (on the peer's column when it concerns one peer) and its
/// text between the columns.
fn marker_row(ui: &mut egui::Ui, cols: Cols, width: f32, kind: &MarkerKind, text: &str) {
    use egui::{Color32 as C, FontId, Sense, pos2, vec2};
    let (rect, resp) = ui.allocate_exact_size(vec2(width, 18.0), Sense::hover());
    resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, text));
    let p = ui.painter_at(rect);
    lifelines(ui, &p, rect, cols);
    let (color, peer) = match kind {
        MarkerKind::KeyConfirmation { peer } => (kind_stroke(RowKind::Decrypted), Some(*peer)),
        MarkerKind::Derived { .. } => (kind_stroke(RowKind::Kudos), None),
        MarkerKind::Offer { peer, .. } | MarkerKind::Ack { peer, .. } => {
            (kind_stroke(RowKind::IdUpdate), Some(*peer))
        }
        MarkerKind::Switched => (kind_stroke(RowKind::IdUpdate), None),
        MarkerKind::Completed => (kind_stroke(RowKind::Decrypted), None),
        MarkerKind::Aborted | MarkerKind::Flag => (C::from_rgb(0xc0, 0x39, 0x2b), None),
        MarkerKind::Restarted => (C::from_rgb(0xd3, 0x8b, 0x00), None),
        MarkerKind::Started | MarkerKind::Retired { .. } => (C::from_rgb(0x80, 0x80, 0x80), None),
    };
    let y = rect.center().y;
    if let Some(peer) = peer {
        diamond(&p, pos2(rect.left() + cols.of(slot_index(peer) == 0), y), 5.0, color);
    }
    let g = p.layout_no_wrap(text.to_string(), FontId::proportional(11.5), ui.visuals().text_color());
    let cx = rect.left() + (cols.xa + cols.xb) / 2.0;
    let x0 = cx - g.size().x / 2.0;
    p.circle_filled(pos2(x0 - 8.0, y), 3.5, color);
    p.galley(pos2(x0, y - g.size().y / 2.0), g, C::WHITE);
}

/// One KUDOS or ID-update execution as a ladder diagram. Returns the frame clicked.
fn procedure_ladder(
    ui: &mut egui::Ui,
    tl: &Timeline,
    lane: &Lane,
    p: &Procedure,
    selected: Option<u64>,
    width: f32,
) -> Option<u64> {
    use egui::RichText;
    let dark = ui.visuals().dark_mode;
    let cols = Cols::new(width);
    let mut clicked = None;
    ui.horizontal(|ui| {
        let oc = outcome_color(&p.outcome);
        ui.label(
            RichText::new(format!(" {} ", p.outcome.as_str()))
                .color(egui::Color32::WHITE)
                .background_color(oc),
        );
        ui.label(RichText::new(p.title(lane)).strong().color(proc_color(p.kind)));
    });
    let timing = p.timing(lane);
    if !timing.is_empty() {
        ui.label(RichText::new(timing).small());
    }
    let old = ui.spacing().item_spacing.y;
    ui.spacing_mut().item_spacing.y = 0.0;
    // Column heads.
    peer_heads(ui, lane, cols, width);
    for row in p.ladder() {
        match row {
            LadderRow::Message(m) => {
                let text = message_text(m);
                let color = match (m.x.is_some(), p.kind) {
                    (true, _) => kind_stroke(RowKind::Kudos),
                    (false, ProcedureKind::IdUpdate) => kind_stroke(RowKind::IdUpdate),
                    (false, ProcedureKind::Kudos) => kind_stroke(RowKind::Decrypted),
                };
                let spec = ArrowSpec {
                    frame: m.frame,
                    t: tl.secs(m.ts),
                    from_a: m.from == PeerSlot::A,
                    text: &text,
                    context: Some((&m.context_label, label_color(lane, &m.context_label, dark))),
                    color,
                    thick: m.x.is_some(),
                    selected: selected == Some(m.frame),
                };
                if arrow_row(ui, cols, width, &spec).clicked() {
                    clicked = Some(m.frame);
                }
            }
            LadderRow::Marker(mk) => marker_row(ui, cols, width, &mk.kind, &mk.text),
        }
    }
    if p.omitted > 0 {
        ui.label(format!(
            "{} more messages and flags not drawn (a ladder keeps {MAX_LADDER_ROWS} rows)",
            p.omitted
        ));
    }
    ui.spacing_mut().item_spacing.y = old;
    clicked
}

/// Every message of the window as an arrow (the lanes' ticks), labelled with its Info text.
fn message_ladder(
    ui: &mut egui::Ui,
    lv: &LaneView,
    view: &TimelineView,
    selected: Option<u64>,
    rows: &[Row],
    label: &dyn Fn(u64) -> String,
    width: f32,
) -> Option<u64> {
    let msgs = visible_ticks(rows, &lv.ticks, view.t0, view.t1);
    if msgs.len() > MAX_ARROWS {
        ui.label(format!(
            "{} messages in the window: the first {MAX_ARROWS} are drawn (zoom in to see the rest)",
            msgs.len()
        ));
    }
    let cols = Cols::new(width);
    let old = ui.spacing().item_spacing.y;
    ui.spacing_mut().item_spacing.y = 0.0;
    peer_heads(ui, &lv.lane, cols, width);
    let mut clicked = None;
    for m in msgs.iter().take(MAX_ARROWS).filter_map(|i| Tick::of(rows, *i)) {
        let text = label(m.frame);
        let spec = ArrowSpec {
            frame: m.frame,
            t: m.t,
            from_a: m.from_a,
            text: &text,
            context: None,
            color: kind_stroke(m.kind),
            thick: m.kind == RowKind::Kudos,
            selected: selected == Some(m.frame),
        };
        if arrow_row(ui, cols, width, &spec).clicked() {
            clicked = Some(m.frame);
        }
    }
    ui.spacing_mut().item_spacing.y = old;
    clicked
}

#[cfg(test)]
mod tests {
    use super::*;
    use analyzer_core::oscore::store::CtxKind;
    use analyzer_core::timeline::{Lane, Phase, Procedure};

    #[test]
    fn zoom_keeps_the_center_and_pan_moves_the_window() {
        let mut v = TimelineView { t0: 0.0, t1: 10.0, ..TimelineView::default() };
        v.zoom(0.5, 5.0);
        assert_eq!((v.t0, v.t1), (2.5, 7.5));
        v.zoom(0.5, 2.5);
        assert_eq!((v.t0, v.t1), (2.5, 5.0), "zooming at the left edge keeps the left edge");
        v.pan(-1.0);
        assert_eq!((v.t0, v.t1), (1.5, 4.0));
        v.zoom(1e-12, 2.0);
        assert!((v.span() - MIN_SPAN).abs() < 1e-12);
        v.zoom(f64::NAN, 2.0);
        assert!((v.span() - MIN_SPAN).abs() < 1e-12);
        let v = TimelineView { t0: 1.0, t1: 3.0, ..TimelineView::default() };
        assert_eq!(v.x_of(2.0, 100.0, 200.0), 200.0);
        assert_eq!(v.t_of(200.0, 100.0, 200.0), 2.0);
    }

    /// Rows at these times (seconds), frames 1, 2, ...
    fn rows(times: &[f64]) -> Vec<Row> {
        times
            .iter()
            .enumerate()
            .map(|(i, t)| Row {
                number: i as u64 + 1,
                rel_nanos: (t * 1e9) as i64,
                orig_len: 0,
                src: 0,
                dst: 0,
                protocol: 0,
                kind: RowKind::Decrypted,
                severity: None,
                oscore: None,
                ctx: 0,
                sender_b: false,
                retransmission: false,
                role: crate::model::MsgRole::None,
                lane: 0,
                from_a: i % 2 == 0,
                info_start: 0,
                info_len: 0,
            })
            .collect()
    }

    #[test]
    fn visible_ticks_uses_the_window_bounds() {
        let rows = rows(&[0.0, 1.0, 2.0, 3.0]);
        let ticks = vec![0, 1, 2, 3];
        let f: Vec<u64> = visible_ticks(&rows, &ticks, 1.0, 2.0)
            .iter()
            .filter_map(|i| Tick::of(&rows, *i))
            .map(|m| m.frame)
            .collect();
        assert_eq!(f, vec![2, 3]);
        assert!(visible_ticks(&rows, &ticks, 5.0, 6.0).is_empty());
        assert!(visible_ticks(&rows, &ticks, 2.0, 1.0).is_empty());
        assert_eq!(
            Tick::of(&rows, 1),
            Some(Tick { t: 1.0, frame: 2, from_a: false, kind: RowKind::Decrypted })
        );
        assert_eq!(Tick::of(&rows, 4), None);
    }

    fn ts(s: i64) -> Timestamp {
        Timestamp::new(1_000 + s, 0)
    }

    #[test]
    fn lanes_keep_the_core_order_and_times_are_relative_to_the_first_frame() {
        let mut core = analyzer_core::timeline::Timeline::default();
        for (root, name) in [(3usize, "late"), (0, "early")] {
            let mut lane = Lane::new(root, name.into(), ["client", "server"]);
            lane.phases.push(Phase {
                ctx: root,
                name: name.into(),
                label: "g0".into(),
                kind: CtxKind::Loaded,
                first_frame: 1,
                last_frame: 2,
                first_ts: ts(2),
                last_ts: ts(5),
                messages: 2,
            });
            core.lanes.insert(root, lane);
        }
        if let Some(l) = core.lanes.get_mut(&3) {
            l.procedures.push(Procedure::new(ProcedureKind::Kudos, 1, PeerSlot::A, 9, ts(7)));
        }
        // Frame 2 (row 1) is earlier than frame 1 (row 0); frame 3 belongs to an unknown root.
        let rows = rows(&[4.0, 1.5, 100.0]);
        let mut ticks = BTreeMap::new();
        let lane = |idx: &[u32]| {
            let mut l = LaneTicks::default();
            for i in idx {
                l.push(*i, Tick::of(&rows, *i).map_or(0.0, |t| t.t));
            }
            l
        };
        ticks.insert(3, lane(&[0, 1]));
        ticks.insert(99, lane(&[2]));
        let mut tl = Timeline::new(&core, ts(0), ticks);
        assert_eq!(tl.lanes[1].ticks, vec![0, 1], "as collected");
        assert!(!tl.lanes[1].in_order);
        tl.attach_rows(&rows);
        assert!(tl.lanes[1].in_order);
        assert_eq!(tl.lanes.iter().map(|l| l.lane.name.as_str()).collect::<Vec<_>>(), vec!["early", "late"]);
        assert_eq!(tl.lane_of(3), Some(1));
        assert_eq!(tl.lane_of(1), None);
        // Put in time order.
        assert_eq!(tl.lanes[1].ticks, vec![1, 0]);
        assert!(tl.lanes[0].ticks.is_empty(), "ticks of an unknown root are dropped");
        // Start: the first message (1.5 s); end: the KUDOS execution (7 s).
        assert_eq!((tl.start, tl.end), (1.5, 7.0));
        assert_eq!(tl.procedures_in(&tl.lanes[1].lane, 6.0, 8.0).len(), 1);
        assert!(tl.procedures_in(&tl.lanes[1].lane, 0.0, 6.9).is_empty());
        let v = TimelineView::fit(&tl);
        assert!(v.t0 < 1.5 && v.t1 > 7.0 && v.lane == 0);
    }
}
