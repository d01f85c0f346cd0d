//! The timeline: plain data (lanes, phases, markers, messages) computed away from the painter,
//! and `timeline_view`, which only draws it.
//!
//! Interim model: analyzer-core's Timeline (KUDOS and ID-update procedures) is not there yet,
//! so [`Timeline::from_model`] builds lanes from the rows: one lane per association (endpoint
//! pair + root context), generation bands from the contexts that opened each message, KUDOS
//! and ID-update messages as markers. The core's Timeline -> Lane -> Phase / Marker can
//! replace this builder without touching the painter.

use crate::model::{CaptureModel, RowKind};

/// A generation band: the stretch of a lane protected by one context.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    /// "g0", "g1"...
    pub label: String,
    pub context: String,
    pub generation: u32,
    /// Seconds since the first frame.
    pub start: f64,
    pub end: f64,
    pub first_frame: u64,
    pub last_frame: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerKind {
    Kudos,
    IdUpdate,
    /// Key confirmation of a KUDOS execution (from the core's KUDOS reconstruction).
    KeyConfirmed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub t: f64,
    pub frame: u64,
    pub kind: MarkerKind,
    pub label: String,
}

/// One message of a lane (labels come from the packet list when drawn).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LaneMsg {
    pub t: f64,
    pub frame: u64,
    pub from_a: bool,
    pub kind: RowKind,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    pub label: String,
    /// Peer A (first sender) and peer B.
    pub peers: [String; 2],
    pub context: Option<String>,
    pub phases: Vec<Phase>,
    pub markers: Vec<Marker>,
    /// In time order.
    pub messages: Vec<LaneMsg>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Timeline {
    pub lanes: Vec<Lane>,
    pub start: f64,
    pub end: f64,
}

impl Timeline {
    /// Lanes from the rows of a loaded capture (see the module comment).
    pub fn from_model(m: &CaptureModel) -> Timeline {
        let mut lanes: Vec<Lane> = m
            .associations
            .iter()
            .map(|a| Lane {
                label: match &a.context {
                    Some(c) => format!("{} <-> {} · {c}", a.a, a.b),
                    None => format!("{} <-> {} · unprotected", a.a, a.b),
                },
                peers: [a.a.clone(), a.b.clone()],
                context: a.context.clone(),
                phases: Vec::new(),
                markers: Vec::new(),
                messages: Vec::new(),
            })
            .collect();
        let mut last_ctx: Vec<Option<u16>> = vec![None; lanes.len()];
        let (mut start, mut end) = (f64::INFINITY, f64::NEG_INFINITY);
        for row in &m.rows {
            let t = row.rel_nanos as f64 / 1e9;
            start = start.min(t);
            end = end.max(t);
            let Some(lane) = lanes.get_mut(row.assoc as usize) else { continue };
            lane.messages.push(LaneMsg { t, frame: row.number, from_a: row.from_a, kind: row.kind });
            let opened = row.oscore.is_some_and(|s| s.has_plaintext());
            if opened && row.ctx > 0 {
                let slot = last_ctx.get_mut(row.assoc as usize);
                let same = slot.as_ref().is_some_and(|s| **s == Some(row.ctx));
                match (same, lane.phases.last_mut()) {
                    (true, Some(p)) => {
                        p.end = t;
                        p.last_frame = row.number;
                    }
                    _ => {
                        let c = m.contexts.iter().find(|c| c.id + 1 == row.ctx as usize);
                        lane.phases.push(Phase {
                            label: c.map_or_else(|| "?".into(), |c| c.label.clone()),
                            context: c.map_or_else(|| "?".into(), |c| c.name.clone()),
                            generation: c.map_or(0, |c| c.generation),
                            start: t,
                            end: t,
                            first_frame: row.number,
                            last_frame: row.number,
                        });
                        if let Some(s) = slot {
                            *s = Some(row.ctx);
                        }
                    }
                }
            }
            let marker = match row.kind {
                RowKind::Kudos => Some((MarkerKind::Kudos, "KUDOS")),
                RowKind::IdUpdate => Some((MarkerKind::IdUpdate, "ID update")),
                _ => None,
            };
            if let Some((kind, what)) = marker {
                let info = m.info_of(row);
                lane.markers.push(Marker {
                    t,
                    frame: row.number,
                    kind,
                    label: format!("#{} {what}: {info}", row.number),
                });
            }
        }
        if !start.is_finite() {
            (start, end) = (0.0, 0.0);
        }
        Timeline { lanes, start, end }
    }
}

/// What the user looks at: a time window and a lane (persisted only for the session).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimelineView {
    pub t0: f64,
    pub t1: f64,
    pub lane: usize,
}

impl Default for TimelineView {
    fn default() -> Self {
        TimelineView { t0: 0.0, t1: 1.0, lane: 0 }
    }
}

/// Smallest window shown (seconds).
pub const MIN_SPAN: f64 = 1e-6;

impl TimelineView {
    /// The whole capture, with a small margin.
    pub fn fit(tl: &Timeline) -> TimelineView {
        let span = (tl.end - tl.start).max(MIN_SPAN);
        TimelineView { t0: tl.start - span * 0.02, t1: tl.end + span * 0.02, lane: 0 }
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

/// Messages of a lane within [t0, t1] (binary search; messages are in time order).
pub fn visible_messages(lane: &Lane, t0: f64, t1: f64) -> &[LaneMsg] {
    let a = lane.messages.partition_point(|m| m.t < t0);
    let b = lane.messages.partition_point(|m| m.t <= t1);
    lane.messages.get(a..b.max(a)).unwrap_or_default()
}

/// Most arrows drawn in the ladder at once.
pub const MAX_ARROWS: usize = 80;

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
        RowKind::Kudos => C::from_rgb(0x7b, 0x2c, 0xbf),
        RowKind::IdUpdate => C::from_rgb(0x1f, 0x78, 0xb4),
        RowKind::Failed => C::from_rgb(0xc0, 0x39, 0x2b),
        RowKind::Finding => C::from_rgb(0xd3, 0x8b, 0x00),
        RowKind::Decrypted => C::from_rgb(0x2e, 0x8b, 0x57),
        RowKind::Plain => C::from_rgb(0x80, 0x80, 0x80),
    }
}

/// Band colour of a context generation.
pub fn generation_color(generation: u32, dark: bool) -> egui::Color32 {
    let hues = [0.33f32, 0.58, 0.08, 0.83, 0.15, 0.5];
    let h = hues.get(generation as usize % hues.len()).copied().unwrap_or(0.33);
    let (s, v) = if dark { (0.45, 0.38) } else { (0.28, 0.97) };
    egui::ecolor::Hsva::new(h, s, v, 1.0).into()
}

const LABEL_W: f32 = 300.0;
const LANE_H: f32 = 40.0;

/// Draws lanes (generation bands, message ticks, markers) and the ladder of the selected lane.
/// `label` gives the text of a frame (the packet list's Info). Returns what was clicked.
pub fn timeline_view(
    ui: &mut egui::Ui,
    tl: &Timeline,
    view: &mut TimelineView,
    selected: Option<u64>,
    label: &dyn Fn(u64) -> String,
) -> Option<TimelineAction> {
    use egui::{Align2, Color32, FontId, Sense, Stroke, vec2};
    let mut action = None;
    let dark = ui.visuals().dark_mode;
    ui.horizontal(|ui| {
        if ui.button("Zoom in").clicked() {
            view.zoom(0.5, (view.t0 + view.t1) / 2.0);
        }
        if ui.button("Zoom out").clicked() {
            view.zoom(2.0, (view.t0 + view.t1) / 2.0);
        }
        if ui.button("Fit").clicked() {
            let lane = view.lane;
            *view = TimelineView::fit(tl);
            view.lane = lane;
        }
        ui.label(format!(
            "{:.6} s – {:.6} s  ({} lanes; scroll to zoom, drag to pan)",
            view.t0,
            view.t1,
            tl.lanes.len()
        ));
    });
    if tl.lanes.is_empty() {
        ui.label("No CoAP associations in this capture.");
        return None;
    }
    let lanes_h = (tl.lanes.len() as f32 * (LANE_H + 4.0) + 24.0).min(ui.available_height() * 0.45);
    egui::ScrollArea::vertical().id_salt("lanes").max_height(lanes_h).show(ui, |ui| {
        for (li, lane) in tl.lanes.iter().enumerate() {
            ui.horizontal(|ui| {
                ui.allocate_ui(vec2(LABEL_W, LANE_H), |ui| {
                    ui.set_width(LABEL_W);
                    ui.vertical(|ui| {
                        if ui
                            .selectable_label(view.lane == li, egui::RichText::new(&lane.label).small())
                            .clicked()
                        {
                            view.lane = li;
                        }
                        let phases: Vec<String> = lane
                            .phases
                            .iter()
                            .map(|p| {
                                format!("{} {} #{}–#{}", p.label, p.context, p.first_frame, p.last_frame)
                            })
                            .collect();
                        let text =
                            if phases.is_empty() { "no context".to_string() } else { phases.join(", ") };
                        ui.label(egui::RichText::new(text).small().weak());
                    });
                });
                let width = ui.available_width().max(50.0);
                let (rect, resp) = ui.allocate_exact_size(vec2(width, LANE_H), Sense::click_and_drag());
                resp.widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::Canvas, true, format!("lane {}", lane.label))
                });
                let p = ui.painter_at(rect);
                p.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
                let (l, w) = (rect.left(), rect.width());
                for ph in &lane.phases {
                    let x0 = view.x_of(ph.start, l, w).max(l);
                    let x1 = view.x_of(ph.end, l, w).min(rect.right());
                    if x1 < l || x0 > rect.right() {
                        continue;
                    }
                    let band = egui::Rect::from_min_max(
                        egui::pos2(x0 - 2.0, rect.top() + 2.0),
                        egui::pos2(x1 + 2.0, rect.bottom() - 2.0),
                    );
                    p.rect_filled(band, 3.0, generation_color(ph.generation, dark));
                    p.text(
                        band.left_top() + vec2(4.0, 1.0),
                        Align2::LEFT_TOP,
                        &ph.label,
                        FontId::proportional(11.0),
                        ui.visuals().text_color(),
                    );
                }
                // Message ticks: at most one per pixel column and kind.
                let mut last: Option<(i32, RowKind)> = None;
                for m in visible_messages(lane, view.t0, view.t1) {
                    let x = view.x_of(m.t, l, w);
                    let key = (x as i32, m.kind);
                    if last == Some(key) {
                        continue;
                    }
                    last = Some(key);
                    let (y0, y1) = if m.from_a {
                        (rect.center().y - 2.0, rect.bottom() - 4.0)
                    } else {
                        (rect.top() + 14.0, rect.center().y + 2.0)
                    };
                    let width = if Some(m.frame) == selected { 3.0 } else { 1.0 };
                    p.line_segment(
                        [egui::pos2(x, y0), egui::pos2(x, y1)],
                        Stroke::new(width, kind_stroke(m.kind)),
                    );
                }
                for mk in &lane.markers {
                    if mk.t < view.t0 || mk.t > view.t1 {
                        continue;
                    }
                    let x = view.x_of(mk.t, l, w);
                    let c = match mk.kind {
                        MarkerKind::Kudos => kind_stroke(RowKind::Kudos),
                        MarkerKind::IdUpdate => kind_stroke(RowKind::IdUpdate),
                        MarkerKind::KeyConfirmed => Color32::from_rgb(0x2e, 0x8b, 0x57),
                    };
                    p.circle_filled(egui::pos2(x, rect.top() + 8.0), 4.0, c);
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
                        let t = view.t_of(pos.x, l, w);
                        let tol = view.span() * 6.0 / f64::from(w);
                        let near = visible_messages(lane, t - tol, t + tol)
                            .iter()
                            .min_by(|a, b| (a.t - t).abs().total_cmp(&(b.t - t).abs()));
                        if let Some(m) = near {
                            action = Some(TimelineAction::SelectFrame(m.frame));
                        }
                    }
                }
            });
        }
    });
    ui.separator();
    let Some(lane) = tl.lanes.get(view.lane) else { return action };
    ui.strong(format!("Ladder: {}", lane.label));
    let msgs = visible_messages(lane, view.t0, view.t1);
    if msgs.len() > MAX_ARROWS {
        ui.label(format!(
            "{} messages in the window: showing the first {MAX_ARROWS} (zoom in to see the rest)",
            msgs.len()
        ));
    }
    let width = ui.available_width().max(300.0);
    let (xa, xb) = (width * 0.2, width * 0.8);
    egui::ScrollArea::vertical().id_salt("ladder").auto_shrink([false, false]).show(ui, |ui| {
        let (head, _) = ui.allocate_exact_size(vec2(width, 20.0), Sense::hover());
        let p = ui.painter();
        p.text(
            egui::pos2(head.left() + xa, head.center().y),
            Align2::CENTER_CENTER,
            format!("A {}", lane.peers[0]),
            FontId::proportional(12.0),
            ui.visuals().strong_text_color(),
        );
        p.text(
            egui::pos2(head.left() + xb, head.center().y),
            Align2::CENTER_CENTER,
            format!("B {}", lane.peers[1]),
            FontId::proportional(12.0),
            ui.visuals().strong_text_color(),
        );
        for m in msgs.iter().take(MAX_ARROWS) {
            let text = format!("#{} {}", m.frame, label(m.frame));
            let (rect, resp) = ui.allocate_exact_size(vec2(width, 30.0), Sense::click());
            resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &text));
            let p = ui.painter_at(rect);
            let col_stroke = ui.visuals().weak_text_color();
            for x in [xa, xb] {
                p.line_segment(
                    [egui::pos2(rect.left() + x, rect.top()), egui::pos2(rect.left() + x, rect.bottom())],
                    Stroke::new(1.0, col_stroke),
                );
            }
            if Some(m.frame) == selected || resp.hovered() {
                p.rect_filled(rect, 2.0, ui.visuals().selection.bg_fill.gamma_multiply(0.5));
            }
            let (from, to) = if m.from_a { (xa, xb) } else { (xb, xa) };
            let y = rect.bottom() - 8.0;
            let stroke = Stroke::new(if m.kind == RowKind::Kudos { 2.5 } else { 1.5 }, kind_stroke(m.kind));
            let (a, b) = (egui::pos2(rect.left() + from, y), egui::pos2(rect.left() + to, y));
            p.line_segment([a, b], stroke);
            let dir = if to > from { -1.0 } else { 1.0 };
            p.line_segment([b, b + vec2(dir * 9.0, -5.0)], stroke);
            p.line_segment([b, b + vec2(dir * 9.0, 5.0)], stroke);
            p.text(
                egui::pos2(rect.left() + 4.0, rect.top() + 9.0),
                Align2::LEFT_CENTER,
                format!("{:.6} s", m.t),
                FontId::monospace(10.0),
                ui.visuals().weak_text_color(),
            );
            let short: String = text.chars().take(140).collect();
            p.text(
                egui::pos2(rect.left() + (xa + xb) / 2.0, rect.top() + 9.0),
                Align2::CENTER_CENTER,
                short,
                FontId::proportional(11.0),
                ui.visuals().text_color(),
            );
            if m.kind == RowKind::Kudos {
                p.text(
                    egui::pos2(rect.left() + from, y),
                    Align2::RIGHT_CENTER,
                    "KUDOS ",
                    FontId::proportional(11.0),
                    kind_stroke(RowKind::Kudos),
                );
            }
            if resp.clicked() {
                action = Some(TimelineAction::SelectFrame(m.frame));
            }
        }
    });
    action
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoom_keeps_the_center_and_pan_moves_the_window() {
        let mut v = TimelineView { t0: 0.0, t1: 10.0, lane: 0 };
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
        let v = TimelineView { t0: 1.0, t1: 3.0, lane: 0 };
        assert_eq!(v.x_of(2.0, 100.0, 200.0), 200.0);
        assert_eq!(v.t_of(200.0, 100.0, 200.0), 2.0);
    }

    #[test]
    fn visible_messages_uses_the_window_bounds() {
        let msg = |t: f64, frame| LaneMsg { t, frame, from_a: true, kind: RowKind::Plain };
        let lane = Lane {
            label: String::new(),
            peers: [String::new(), String::new()],
            context: None,
            phases: vec![],
            markers: vec![],
            messages: vec![msg(0.0, 1), msg(1.0, 2), msg(2.0, 3), msg(3.0, 4)],
        };
        let f: Vec<u64> = visible_messages(&lane, 1.0, 2.0).iter().map(|m| m.frame).collect();
        assert_eq!(f, vec![2, 3]);
        assert!(visible_messages(&lane, 5.0, 6.0).is_empty());
        assert!(visible_messages(&lane, 2.0, 1.0).is_empty());
    }
}
