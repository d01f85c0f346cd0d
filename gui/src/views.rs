//! Painting: reads the app state, returns [`Command`]s. Widget state that is pure UI (text
//! being typed, dialog navigation, the timeline window) is kept here or in `Runtime`.

use crate::app::{App, Command, DialogPurpose, View};
use crate::model::{CaptureModel, Column, RowKind, hex_lines, highlight, node_at};
use crate::settings::{Settings, Theme, format_numbers, parse_numbers};
use crate::timeline::{TimelineAction, kind_color, timeline_view};
use analyzer_core::dissect::Node;
use analyzer_core::finding::{Severity, SpanSource};
use egui::{Color32, RichText};
use egui_extras::{Column as TCol, TableBuilder};
use std::path::PathBuf;

pub fn draw(app: &mut App, ui: &mut egui::Ui, cmds: &mut Vec<Command>) {
    handle_input(app, ui, cmds);
    egui::Panel::top("menu").show(ui, |ui| {
        egui::MenuBar::new().ui(ui, |ui| menu(app, ui, cmds));
    });
    egui::Panel::top("tabs").show(ui, |ui| {
        ui.horizontal(|ui| {
            for v in View::ALL {
                if ui.selectable_label(app.rt.view == v, v.title()).clicked() {
                    cmds.push(Command::SetView(v));
                }
            }
            ui.separator();
            if app.rt.view == View::Packets || app.rt.view == View::Timeline {
                filter_bar(app, ui, cmds);
            }
        });
    });
    egui::Panel::bottom("status").show(ui, |ui| status_bar(app, ui, cmds));
    let view = app.rt.view;
    egui::CentralPanel::default().show(ui, |ui| {
        if app.rt.capture.is_none() {
            welcome(app, ui, cmds);
            return;
        }
        match view {
            View::Packets => packets_view(app, ui, cmds),
            View::Timeline => timeline_tab(app, ui, cmds),
            View::Keys => keys_view(app, ui, cmds),
            View::Audit => audit_view(app, ui, cmds),
        }
    });
    if let Some(d) = &mut app.rt.dialog
        && let Some(out) = d.show(ui.ctx())
    {
        if let Some(p) = out {
            cmds.push(match d.purpose {
                DialogPurpose::OpenCapture => Command::Open(p),
                DialogPurpose::ImportKeys => Command::ImportKeys(p),
                DialogPurpose::ExportUat => Command::ExportUat(p),
            });
        }
        app.rt.dialog = None;
    }
    if let Some(f) = &mut app.rt.settings_form {
        match f.show(ui.ctx()) {
            Some(Some(s)) => cmds.push(Command::ApplySettings(s)),
            Some(None) => app.rt.settings_form = None,
            None => {}
        }
    }
    if let Some(f) = &mut app.rt.context_form {
        match f.show(ui.ctx()) {
            Some(Some(toml)) => cmds.push(Command::AddContext(toml)),
            Some(None) => app.rt.context_form = None,
            None => {}
        }
    }
}

fn handle_input(app: &App, ui: &egui::Ui, cmds: &mut Vec<Command>) {
    let (dropped, open, up, down) = ui.input(|i| {
        (
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect::<Vec<PathBuf>>(),
            i.modifiers.command && i.key_pressed(egui::Key::O),
            i.key_pressed(egui::Key::ArrowUp),
            i.key_pressed(egui::Key::ArrowDown),
        )
    });
    for p in dropped {
        cmds.push(Command::OpenAny(p));
    }
    if open {
        cmds.push(Command::ShowDialog(DialogPurpose::OpenCapture));
    }
    let typing = ui.ctx().memory(|m| m.focused().is_some());
    if !typing && app.rt.view == View::Packets && (up || down) {
        cmds.push(Command::MoveSelection(if up { -1 } else { 1 }));
    }
}

fn menu(app: &mut App, ui: &mut egui::Ui, cmds: &mut Vec<Command>) {
    ui.menu_button("File", |ui| {
        if ui.button("Open capture…").clicked() {
            cmds.push(Command::ShowDialog(DialogPurpose::OpenCapture));
        }
        ui.menu_button("Open recent", |ui| {
            if app.settings.recent.is_empty() {
                ui.label("(none)");
            }
            for p in &app.settings.recent {
                if ui.button(p.display().to_string()).clicked() {
                    cmds.push(Command::Open(p.clone()));
                }
            }
        });
        if ui.add_enabled(app.rt.spec.is_some(), egui::Button::new("Reload")).clicked() {
            cmds.push(Command::Reload);
        }
        ui.separator();
        if ui.button("Import keys…").clicked() {
            cmds.push(Command::ShowDialog(DialogPurpose::ImportKeys));
        }
        if ui
            .add_enabled(
                app.rt.keys.as_ref().is_some_and(|k| !k.is_empty()),
                egui::Button::new("Export Wireshark UAT…"),
            )
            .clicked()
        {
            cmds.push(Command::ShowDialog(DialogPurpose::ExportUat));
        }
        ui.separator();
        if ui.button("Quit").clicked() {
            cmds.push(Command::Quit);
        }
    });
    ui.menu_button("View", |ui| {
        for v in View::ALL {
            if ui.button(v.title()).clicked() {
                cmds.push(Command::SetView(v));
            }
        }
        ui.separator();
        if ui.button("Settings…").clicked() {
            app.rt.settings_form = Some(SettingsForm::new(&app.settings));
        }
    });
}

fn filter_bar(app: &mut App, ui: &mut egui::Ui, cmds: &mut Vec<Command>) {
    let label = ui.label("Filter:");
    let edit = egui::TextEdit::singleline(&mut app.rt.filter_text)
        .hint_text("e.g. oscore.kid == 01 && kudos")
        .desired_width(360.0)
        .font(egui::TextStyle::Monospace);
    let resp = ui.add(edit).labelled_by(label.id);
    let enter = resp.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    if ui.button("Apply").clicked() || enter {
        cmds.push(Command::ApplyFilter(app.rt.filter_text.clone()));
    }
    if ui.button("Clear").clicked() {
        cmds.push(Command::ClearFilter);
    }
    if let Some(e) = &app.rt.filter_error {
        ui.colored_label(Color32::from_rgb(0xc0, 0x39, 0x2b), e.to_string());
    } else if let Some(f) = &app.rt.applied_filter {
        ui.label(RichText::new(format!("applied: {f}")).weak());
    }
}

fn status_bar(app: &App, ui: &mut egui::Ui, cmds: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        if let Some(j) = &app.rt.job {
            ui.label(format!("{}: {} frames", j.name, j.frames));
            ui.add(egui::ProgressBar::new(j.fraction()).desired_width(240.0).show_percentage());
            if ui.button("Cancel").clicked() {
                cmds.push(Command::CancelJob);
            }
            ui.separator();
        }
        if let Some(c) = &app.rt.capture {
            ui.label(format!("{} frames, {} shown", c.rows.len(), c.visible.len()));
            ui.separator();
        }
        ui.label(&app.rt.status);
    });
}

fn welcome(app: &App, ui: &mut egui::Ui, cmds: &mut Vec<Command>) {
    ui.vertical_centered(|ui| {
        ui.add_space(60.0);
        ui.heading("kudoscope");
        ui.label("OSCORE / KUDOS capture analyzer");
        ui.add_space(20.0);
        if ui.button("Open capture…").clicked() {
            cmds.push(Command::ShowDialog(DialogPurpose::OpenCapture));
        }
        ui.label("or drop a pcap / pcapng file (or a keys file) on this window");
        if !app.settings.recent.is_empty() {
            ui.add_space(20.0);
            ui.strong("Recent captures");
            for p in &app.settings.recent {
                if ui.link(p.display().to_string()).clicked() {
                    cmds.push(Command::Open(p.clone()));
                }
            }
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Packets

fn packets_view(app: &mut App, ui: &mut egui::Ui, cmds: &mut Vec<Command>) {
    let avail = ui.available_height();
    egui::Panel::bottom("detail_split").resizable(true).default_size(avail * 0.5).show(ui, |ui| {
        egui::Panel::right("hex")
            .resizable(true)
            .default_size(600.0)
            .min_size(560.0)
            .show(ui, |ui| hex_view(app, ui));
        egui::CentralPanel::default().show(ui, |ui| detail_view(app, ui, cmds));
    });
    egui::CentralPanel::default().show(ui, |ui| packet_table(app, ui, cmds));
}

fn packet_table(app: &mut App, ui: &mut egui::Ui, cmds: &mut Vec<Command>) {
    let scroll = std::mem::take(&mut app.rt.scroll_to_selected);
    let Some(c) = &app.rt.capture else { return };
    let dark = ui.visuals().dark_mode;
    ui.style_mut().interaction.selectable_labels = false;
    let mut table = TableBuilder::new(ui)
        .id_salt("packets")
        .striped(false)
        .sense(egui::Sense::click())
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .column(TCol::exact(64.0))
        .column(TCol::exact(90.0))
        .column(TCol::initial(150.0).resizable(true).clip(true))
        .column(TCol::initial(150.0).resizable(true).clip(true))
        .column(TCol::exact(80.0))
        .column(TCol::exact(66.0))
        .column(TCol::remainder().clip(true))
        .auto_shrink([false, false]);
    if scroll && let Some(p) = c.selected_position() {
        table = table.scroll_to_row(p, Some(egui::Align::Center));
    }
    table
        .header(20.0, |mut h| {
            for col in Column::ALL {
                h.col(|ui| {
                    let arrow = match c.sort {
                        Some((s, true)) if s == col => " ^",
                        Some((s, false)) if s == col => " v",
                        _ => "",
                    };
                    if ui.button(RichText::new(format!("{}{arrow}", col.title())).strong()).clicked() {
                        cmds.push(Command::SortBy(col));
                    }
                });
            }
        })
        .body(|body| {
            body.rows(18.0, c.visible.len(), |mut row| {
                let Some(r) = c.visible.get(row.index()).and_then(|i| c.rows.get(*i as usize)) else {
                    return;
                };
                let selected = c.selected == Some(r.number);
                row.set_selected(selected);
                let bg = (!selected).then(|| kind_color(r.kind, dark));
                let cell = |ui: &mut egui::Ui, text: String| {
                    if let Some(bg) = bg {
                        ui.painter().rect_filled(ui.max_rect().expand2(egui::vec2(5.0, 1.0)), 0.0, bg);
                    }
                    ui.add(egui::Label::new(text).truncate());
                };
                row.col(|ui| cell(ui, r.number.to_string()));
                row.col(|ui| cell(ui, analyzer_core::time::Nanos(i128::from(r.rel_nanos)).to_string()));
                row.col(|ui| cell(ui, c.endpoint(r.src).to_string()));
                row.col(|ui| cell(ui, c.endpoint(r.dst).to_string()));
                row.col(|ui| cell(ui, c.protocol(r).to_string()));
                row.col(|ui| cell(ui, r.orig_len.to_string()));
                row.col(|ui| cell(ui, c.info_of(r).to_string()));
                if row.response().clicked() {
                    cmds.push(Command::Select(r.number));
                }
            });
        });
}

fn detail_view(app: &App, ui: &mut egui::Ui, cmds: &mut Vec<Command>) {
    let Some(d) = &app.rt.detail else {
        match app.rt.detail_pending {
            Some(f) => ui.label(format!("Re-analysing up to frame {f}…")),
            None => ui.label("Select a frame"),
        };
        return;
    };
    legend(ui);
    egui::ScrollArea::both().id_salt("tree").auto_shrink([false, false]).show(ui, |ui| {
        for (i, root) in d.tree.roots.iter().enumerate() {
            let open = root.label.starts_with("Decrypted OSCORE")
                || root.label.starts_with("Findings")
                || root.label.starts_with("Key management");
            tree_node(ui, root, vec![i], d.node.as_deref(), open, d.frame, cmds);
        }
    });
}

fn legend(ui: &mut egui::Ui) {
    let dark = ui.visuals().dark_mode;
    ui.horizontal_wrapped(|ui| {
        for k in RowKind::ALL {
            let (rect, _) = ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
            ui.painter().rect_filled(rect, 2.0, kind_color(k, dark));
            ui.label(RichText::new(k.label()).small());
        }
    });
}

fn tree_node(
    ui: &mut egui::Ui,
    n: &Node,
    path: Vec<usize>,
    selected: Option<&[usize]>,
    open: bool,
    frame: u64,
    cmds: &mut Vec<Command>,
) {
    let text = if n.generated { format!("[{}]", n.label) } else { n.label.clone() };
    let is_sel = selected == Some(path.as_slice());
    let on_path = selected.is_some_and(|s| s.len() > path.len() && s.starts_with(&path));
    if n.children.is_empty() {
        let mut t = RichText::new(text);
        if n.generated {
            t = t.italics();
        }
        let r = ui.selectable_label(is_sel, t);
        if let Some(f) = &n.field {
            let r = r.on_hover_text(f.as_ref());
            if r.clicked() {
                cmds.push(Command::SelectNode(path));
            }
        } else if r.clicked() {
            cmds.push(Command::SelectNode(path));
        }
        return;
    }
    let id = ui.make_persistent_id(("node", frame, &path));
    // A selected node opens too, so that what it is made of shows (KUDOS x: z, b, p, m).
    let mut state = egui::collapsing_header::CollapsingState::load_with_default_open(
        ui.ctx(),
        id,
        open || on_path || is_sel,
    );
    if on_path {
        state.set_open(true);
    }
    let mut toggle = false;
    state
        .show_header(ui, |ui| {
            if ui.selectable_label(is_sel, RichText::new(text).strong()).clicked() {
                cmds.push(Command::SelectNode(path.clone()));
                toggle = true;
            }
        })
        .body(|ui| {
            for (i, c) in n.children.iter().enumerate() {
                let mut p = path.clone();
                p.push(i);
                tree_node(ui, c, p, selected, false, frame, cmds);
            }
        });
    // Clicking a header's text selects it and opens (or closes) it.
    if toggle && let Some(mut s) = egui::collapsing_header::CollapsingState::load(ui.ctx(), id) {
        s.toggle(ui);
        s.store(ui.ctx());
    }
}

fn hex_view(app: &App, ui: &mut egui::Ui) {
    let Some(d) = &app.rt.detail else { return };
    let span = d.node.as_ref().and_then(|p| node_at(&d.tree, p)).and_then(|n| n.span.as_ref());
    let hl = highlight(span, &d.hex);
    egui::ScrollArea::both().id_salt("hex").auto_shrink([false, false]).show(ui, |ui| {
        let sources = [
            (SpanSource::Frame, "Frame", Some(&d.hex.frame)),
            (SpanSource::Reassembled, "Reassembled datagram", d.hex.reassembled.as_ref()),
            (SpanSource::Decrypted, "Decrypted OSCORE plaintext", d.hex.decrypted.as_ref()),
        ];
        for (src, title, data) in sources {
            let Some(data) = data else { continue };
            ui.strong(format!("{title} ({} bytes)", data.len()));
            let range = hl.as_ref().filter(|(s, _)| *s == src).map(|(_, r)| r.clone());
            hex_dump(ui, data, range);
            ui.add_space(6.0);
        }
    });
}

fn hex_dump(ui: &mut egui::Ui, data: &[u8], hl: Option<std::ops::Range<usize>>) {
    use egui::text::{LayoutJob, TextFormat};
    let font = egui::FontId::monospace(11.5);
    let normal = ui.visuals().text_color();
    let hl_bg = ui.visuals().selection.bg_fill;
    let hl_fg = ui.visuals().selection.stroke.color;
    for (off, _, _, marks) in hex_lines(data, hl.clone()) {
        let mut job = LayoutJob::default();
        job.append(
            &format!("{off:04x}  "),
            0.0,
            TextFormat::simple(font.clone(), ui.visuals().weak_text_color()),
        );
        let chunk = data.get(off..(off + 16).min(data.len())).unwrap_or_default();
        for (j, b) in chunk.iter().enumerate() {
            let on = marks.get(j).copied().unwrap_or(false);
            let fmt = if on {
                TextFormat { font_id: font.clone(), color: hl_fg, background: hl_bg, ..Default::default() }
            } else {
                TextFormat::simple(font.clone(), normal)
            };
            job.append(&format!("{b:02x}"), 0.0, fmt);
            job.append(if j == 7 { "  " } else { " " }, 0.0, TextFormat::simple(font.clone(), normal));
        }
        for _ in chunk.len()..16 {
            job.append("   ", 0.0, TextFormat::simple(font.clone(), normal));
        }
        job.append(" ", 0.0, TextFormat::simple(font.clone(), normal));
        for (j, b) in chunk.iter().enumerate() {
            let on = marks.get(j).copied().unwrap_or(false);
            let ch = if b.is_ascii_graphic() { *b as char } else { '.' };
            let fmt = if on {
                TextFormat { font_id: font.clone(), color: hl_fg, background: hl_bg, ..Default::default() }
            } else {
                TextFormat::simple(font.clone(), ui.visuals().weak_text_color())
            };
            job.append(&ch.to_string(), 0.0, fmt);
        }
        job.wrap.max_width = f32::INFINITY;
        ui.add(egui::Label::new(job).extend());
    }
}

// ---------------------------------------------------------------------------------------------
// Timeline

fn timeline_tab(app: &mut App, ui: &mut egui::Ui, cmds: &mut Vec<Command>) {
    let Some(tl) = &app.rt.timeline else {
        ui.label("The timeline is computed when the capture is loaded.");
        return;
    };
    let Some(c) = &app.rt.capture else { return };
    ui.label(RichText::new("One lane per association (a context lineage). Bands: context generations. Spans on top: KUDOS (purple) and ID-update (blue) executions, outlined by their outcome; diamonds: key confirmation. Click a message to select its frame.").small().weak());
    let label = |f: u64| c.row(f).map(|r| c.info_of(r).to_string()).unwrap_or_default();
    if let Some(TimelineAction::SelectFrame(f)) =
        timeline_view(ui, tl, &mut app.rt.timeline_view, c.selected, &c.rows, &label)
    {
        cmds.push(Command::Select(f));
    }
}

// ---------------------------------------------------------------------------------------------
// Keys

fn keys_view(app: &mut App, ui: &mut egui::Ui, cmds: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        if ui.button("Import keys file…").clicked() {
            cmds.push(Command::ShowDialog(DialogPurpose::ImportKeys));
        }
        if ui.button("Add context…").clicked() {
            app.rt.context_form = Some(ContextForm::default());
        }
        if ui
            .add_enabled(
                app.rt.keys.as_ref().is_some_and(|k| !k.is_empty()),
                egui::Button::new("Export Wireshark UAT…"),
            )
            .clicked()
        {
            cmds.push(Command::ShowDialog(DialogPurpose::ExportUat));
        }
    });
    if let Some(spec) = &app.rt.spec {
        let mut files: Vec<String> = spec.keys.iter().map(|p| p.display().to_string()).collect();
        if let Some(p) = analyzer_core::keys::find_default_keys(&spec.path) {
            files.push(format!("{} (default, next to the capture)", p.display()));
        }
        if !spec.extra_contexts.is_empty() {
            files.push(format!("{} context(s) added in the app", spec.extra_contexts.len()));
        }
        ui.label(if files.is_empty() {
            "No keys: OSCORE messages are parsed, not opened.".to_string()
        } else {
            format!("Keys: {}", files.join("; "))
        });
    }
    for w in &app.rt.key_warnings {
        ui.colored_label(Color32::from_rgb(0xd3, 0x8b, 0x00), format!("warning: {w}"));
    }
    let Some(c) = &app.rt.capture else { return };
    if !c.complete {
        ui.label("Contexts and their usage are shown when the analysis has finished.");
        return;
    }
    ui.separator();
    for (title, derived) in [("Contexts loaded", false), ("Contexts derived", true)] {
        ui.heading(title);
        let list: Vec<_> = c.contexts.iter().filter(|x| x.derived == derived).collect();
        if list.is_empty() {
            ui.label("none");
            continue;
        }
        egui::Grid::new(("ctx", derived)).striped(true).num_columns(9).show(ui, |ui| {
            for h in [
                "Name",
                "Generation",
                "Parent",
                "AEAD",
                "ID Context",
                "Sender IDs",
                "Opened",
                "q used / limit",
                "v failed / limit",
            ] {
                ui.strong(h);
            }
            ui.end_row();
            for x in list {
                ui.label(format!("{}{}", x.name, if x.bootstrap { " (bootstrap)" } else { "" }))
                    .on_hover_text(&x.origin);
                ui.label(format!("{} ({})", x.label, x.generation));
                ui.label(x.parent.clone().unwrap_or_else(|| "-".into()));
                ui.label(x.aead);
                ui.label(x.id_context.clone().unwrap_or_else(|| "(absent)".into()));
                ui.label(
                    x.peers
                        .iter()
                        .map(|p| {
                            format!(
                                "{} {}",
                                p.role,
                                if p.sender_id.is_empty() { "(empty)" } else { &p.sender_id }
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                );
                ui.label(x.opened.to_string());
                ui.label(
                    x.peers.iter().map(|p| format!("{}: {}", p.role, p.q)).collect::<Vec<_>>().join(", ")
                        + &format!(" / {}", x.limit_q),
                );
                ui.label(
                    x.peers.iter().map(|p| format!("{}: {}", p.role, p.v)).collect::<Vec<_>>().join(", ")
                        + &format!(" / {}", x.limit_v),
                );
                ui.end_row();
                if let Some(r) = x.retired_at {
                    ui.label(format!("  retired at frame {r}"));
                    ui.end_row();
                }
            }
        });
        ui.add_space(8.0);
    }
}

// ---------------------------------------------------------------------------------------------
// Audit

fn severity_color(s: Severity) -> Color32 {
    match s {
        Severity::Critical => Color32::from_rgb(0x9b, 0x11, 0x1e),
        Severity::High => Color32::from_rgb(0xc0, 0x39, 0x2b),
        Severity::Medium => Color32::from_rgb(0xd3, 0x8b, 0x00),
        Severity::Low => Color32::from_rgb(0x1f, 0x78, 0xb4),
        Severity::Info => Color32::from_rgb(0x80, 0x80, 0x80),
    }
}

/// Most findings listed per (severity, kind) in the panel (the filter shows them all).
pub const MAX_FINDINGS_SHOWN: usize = 500;

fn audit_view(app: &mut App, ui: &mut egui::Ui, cmds: &mut Vec<Command>) {
    let Some(c) = &app.rt.capture else { return };
    if !c.complete {
        ui.label("The audit is shown when the analysis has finished.");
        return;
    }
    let Some(r) = &c.audit else {
        ui.label("No audit: the analysis did not finish.");
        return;
    };
    let w = ui.available_width();
    egui::Panel::right("audit_side").resizable(true).default_size(w * 0.42).min_size(320.0).show(ui, |ui| {
        let h = ui.available_height();
        egui::Panel::bottom("usage").resizable(true).default_size(h * 0.55).show(ui, |ui| {
            egui::ScrollArea::vertical().id_salt("usage_scroll").auto_shrink([false, false]).show(ui, |ui| {
                usage_charts(c, ui);
            });
        });
        egui::CentralPanel::default().show(ui, |ui| findings_list(c, r, ui, cmds));
    });
    egui::CentralPanel::default().show(ui, |ui| {
        egui::ScrollArea::vertical().id_salt("privacy").auto_shrink([false, false]).show(ui, |ui| {
            privacy_report(r, ui, cmds);
        });
    });
}

/// Frame links: "#13 #15", each selecting its frame in the packet list.
fn frame_links(ui: &mut egui::Ui, frames: &[u64], cmds: &mut Vec<Command>) {
    for f in frames {
        if ui.link(format!("#{f}")).on_hover_text("show this frame in the packet list").clicked() {
            cmds.push(Command::Reveal(*f));
        }
    }
}

fn linked_chip(linked: Option<bool>) -> RichText {
    let (text, color) = match linked {
        Some(true) => ("LINKED", Color32::from_rgb(0xc0, 0x39, 0x2b)),
        Some(false) => ("not linked", Color32::from_rgb(0x2e, 0x8b, 0x57)),
        None => ("n/a", Color32::from_rgb(0x80, 0x80, 0x80)),
    };
    RichText::new(text).strong().color(color)
}

fn side_text(s: &analyzer_core::audit::report::Side) -> String {
    let id = match (&s.kid, &s.sender_id) {
        (Some(k), _) => format!("kid {k}"),
        (None, Some(sid)) => format!("sender id {sid} (not on the wire)"),
        (None, None) => "no ID known".into(),
    };
    format!("{} {id} {{{}}}, {} message(s)", s.endpoint, s.context, s.messages)
}

fn privacy_report(r: &analyzer_core::audit::AuditReport, ui: &mut egui::Ui, cmds: &mut Vec<Command>) {
    ui.heading("Privacy report");
    ui.label(format!(
        "{} frames, {} OSCORE messages, {} association(s). Per ID change and network migration: what an on-path observer can still link (PROTOCOLS.md §4.7).",
        r.frames,
        r.oscore_messages,
        r.associations.len()
    ));
    ui.add_space(4.0);
    observer_summary(&r.observer_view, ui);
    if r.segments_dropped > 0 {
        ui.label(format!(
            "{} further identity changes were counted but not analysed (segment cap).",
            r.segments_dropped
        ));
    }
    for a in &r.associations {
        ui.add_space(6.0);
        let [pa, pb] = a.peers;
        egui::CollapsingHeader::new(
            RichText::new(format!(
                "Association {} ({pa} <-> {pb}), frames {}–{}, {} segment(s), {} migration(s)",
                a.name,
                a.first_frame,
                a.last_frame,
                a.segments,
                a.migrations.len()
            ))
            .strong(),
        )
        .id_salt(("assoc", &a.name, a.first_frame))
        .default_open(true)
        .show(ui, |ui| {
            if !a.id_updates.is_empty() {
                ui.label(format!("ID updates: {}", a.id_updates.join(", ")));
            }
            let o = &a.observer;
            ui.label(format!(
                "Observer: {} presumed device(s) for this association; links {} of {} boundaries ({} of {} ID changes)",
                o.clusters, o.boundaries_linked, o.boundaries, o.id_changes_linked, o.id_changes
            ));
            if a.migrations.is_empty() {
                ui.label(RichText::new("No ID change and no address change: nothing to link.").weak());
            }
            for (mi, m) in a.migrations.iter().enumerate() {
                migration(ui, m, (&a.name, mi), cmds);
            }
        });
    }
}

fn migration(
    ui: &mut egui::Ui,
    m: &analyzer_core::audit::Migration,
    salt: (&String, usize),
    cmds: &mut Vec<Command>,
) {
    let linked = if m.linked_items.is_empty() {
        "not linked by any item".to_string()
    } else {
        format!("linked by: {}", m.linked_items.join(", "))
    };
    let observer = if m.observer_linked { "observer: same device" } else { "observer: different devices" };
    let title = format!("{} {} at frame {} · {linked} · {observer}", m.peer, m.kind.as_str(), m.frame);
    let color = if m.linked_items.is_empty() {
        Color32::from_rgb(0x2e, 0x8b, 0x57)
    } else {
        Color32::from_rgb(0xc0, 0x39, 0x2b)
    };
    egui::CollapsingHeader::new(RichText::new(title).color(color))
        .id_salt(("migration", salt.0, salt.1))
        .default_open(true)
        .show(ui, |ui| {
            egui::Grid::new(("sides", salt.0, salt.1)).num_columns(3).show(ui, |ui| {
                for (name, s) in [("before", &m.before), ("after", &m.after)] {
                    ui.label(RichText::new(name).weak());
                    ui.label(side_text(s));
                    ui.horizontal(|ui| {
                        ui.label("frames");
                        frame_links(ui, &[s.first_frame], cmds);
                        ui.label("–");
                        frame_links(ui, &[s.last_frame], cmds);
                    });
                    ui.end_row();
                }
            });
            ui.add_space(2.0);
            egui::Grid::new(("items", salt.0, salt.1))
                .num_columns(4)
                .striped(true)
                .spacing([10.0, 3.0])
                .show(ui, |ui| {
                    for it in &m.items {
                        ui.label(linked_chip(it.linked));
                        ui.label(RichText::new(it.item).monospace()).on_hover_text(it.section);
                        ui.horizontal(|ui| frame_links(ui, &it.frames, cmds));
                        ui.add(egui::Label::new(&it.explanation).wrap());
                        ui.end_row();
                    }
                });
        });
}

fn observer_summary(o: &analyzer_core::audit::ObserverSummary, ui: &mut egui::Ui) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.strong("Observer's view (no keys)");
        ui.label(format!("{}; {}.", o.clustering_text(), o.links_text()));
        egui::CollapsingHeader::new(format!("Presumed devices ({})", o.cluster_list.len()))
            .id_salt("clusters")
            .show(ui, |ui| {
                for cl in &o.cluster_list {
                    ui.label(
                        RichText::new(format!(
                            "device {} (associations: {})",
                            cl.cluster + 1,
                            if cl.associations.is_empty() {
                                "unknown".into()
                            } else {
                                cl.associations.join(", ")
                            }
                        ))
                        .strong(),
                    );
                    for f in &cl.flows {
                        ui.label(format!("  {f}"));
                    }
                    for j in &cl.joins {
                        ui.label(RichText::new(format!("  joined: {j}")).weak());
                    }
                }
            });
    });
}

fn findings_list(
    c: &CaptureModel,
    r: &analyzer_core::audit::AuditReport,
    ui: &mut egui::Ui,
    cmds: &mut Vec<Command>,
) {
    let total: u64 = r.summary.iter().map(|s| s.count).sum();
    ui.heading(format!("Findings ({total})"));
    let mut by_sev: Vec<(Severity, u64)> = Vec::new();
    for s in &r.summary {
        match by_sev.last_mut() {
            Some((sev, n)) if *sev == s.severity => *n += s.count,
            _ => by_sev.push((s.severity, s.count)),
        }
    }
    ui.horizontal_wrapped(|ui| {
        if by_sev.is_empty() {
            ui.label("No findings.");
        }
        for (s, n) in &by_sev {
            ui.label(RichText::new(format!("{s}: {n}")).color(severity_color(*s)));
        }
    });
    if r.findings_dropped > 0 {
        ui.label(
            RichText::new(format!(
                "{} findings are counted but not listed (the audit keeps the first {} with their frames)",
                r.findings_dropped,
                r.findings.len()
            ))
            .weak(),
        );
    }
    egui::ScrollArea::vertical().id_salt("findings").auto_shrink([false, false]).show(ui, |ui| {
        let mut current: Option<Severity> = None;
        for g in &c.finding_groups {
            if current != Some(g.severity) {
                current = Some(g.severity);
                ui.add_space(4.0);
                ui.label(
                    RichText::new(g.severity.as_str().to_uppercase())
                        .strong()
                        .color(severity_color(g.severity)),
                );
            }
            egui::CollapsingHeader::new(format!("{} ({})", g.kind, g.count))
                .id_salt(("fk", g.severity as u8, g.kind))
                .default_open(g.count <= 5)
                .show(ui, |ui| {
                    let listed = r.findings.get(g.listed.clone()).unwrap_or_default();
                    for f in listed.iter().take(MAX_FINDINGS_SHOWN) {
                        ui.horizontal_wrapped(|ui| {
                            let (first, rest) =
                                f.frames.split_first().map_or((None, &[][..]), |(a, b)| (Some(a), b));
                            if let Some(a) = first {
                                frame_links(ui, &[*a], cmds);
                            }
                            if !rest.is_empty() {
                                ui.label(RichText::new("see").weak());
                                frame_links(ui, rest, cmds);
                            }
                            ui.label(format!("[{}] {}", f.layer, f.explanation));
                        });
                    }
                    let shown = listed.len().min(MAX_FINDINGS_SHOWN) as u64;
                    if g.count > shown {
                        ui.label(
                            RichText::new(format!(
                                "… and {} more (filter: finding.kind == \"{}\")",
                                g.count - shown,
                                g.kind
                            ))
                            .weak(),
                        );
                    }
                });
        }
    });
}

/// "thermostat/g1 client" (the name already says the generation), "d02 g0 client".
fn key_name(x: &crate::model::ContextRow, sender_b: bool) -> String {
    let role = x.peers.get(usize::from(sender_b)).map_or("", |p| p.role);
    if x.name.ends_with(&format!("/{}", x.label)) {
        format!("{} {role}", x.name)
    } else {
        format!("{} {} {role}", x.name, x.label)
    }
}

fn usage_charts(c: &CaptureModel, ui: &mut egui::Ui) {
    ui.heading("Key usage");
    if c.usage.is_empty() && c.failures.is_empty() {
        ui.label("No message was opened with a known key.");
        return;
    }
    // The limit lines are shown by default only when a key used a visible share of its limit:
    // a line at 2^20 flattens 20 encryptions to nothing.
    let near = |list: &[crate::model::UsageSeries], v: bool| {
        list.iter().any(|s| {
            c.contexts.iter().find(|x| x.id == s.ctx).is_some_and(|x| {
                let l = if v { x.limit_v } else { x.limit_q };
                s.count.saturating_mul(20) >= l
            })
        })
    };
    let default = near(&c.usage, false) || near(&c.failures, true);
    let id = egui::Id::unique("kudoscope-show-limit");
    let mut show = ui.ctx().data_mut(|d| *d.get_temp_mut_or(id, default));
    if ui.checkbox(&mut show, "Show the limit lines").changed() {
        ui.ctx().data_mut(|d| d.insert_temp(id, show));
    }
    let n_keys = c.usage.len();
    usage_plot(c, ui, "q", "q: encryptions per key", &c.usage, |x| x.limit_q, show);
    if c.failures.is_empty() {
        ui.label(RichText::new("v: no failed verification was charged to a key.").weak());
    } else {
        usage_plot(c, ui, "v", "v: failed verifications per key", &c.failures, |x| x.limit_v, show);
    }
    // One line per key, the most used first (at most 12).
    let mut lines: Vec<(u64, String)> = Vec::new();
    for (which, list, limit) in [("q", &c.usage, true), ("v", &c.failures, false)] {
        for s in list {
            let Some(x) = c.contexts.iter().find(|x| x.id == s.ctx) else { continue };
            let l = if limit { x.limit_q } else { x.limit_v };
            let pct = 100.0 * s.count as f64 / l.max(1) as f64;
            lines.push((
                s.count,
                format!("{}: {which} = {} ({pct:.4} % of {l})", key_name(x, s.sender_b), s.count),
            ));
        }
    }
    lines.sort_by_key(|l| std::cmp::Reverse(l.0));
    for (_, l) in lines.iter().take(12) {
        ui.label(l);
    }
    if lines.len() > 12 {
        ui.label(RichText::new(format!("… {} keys in all ({} with q)", lines.len(), n_keys)).weak());
    }
}

/// The smallest of 1, 2, 5 x 10^k that is at least `min` (1 for a degenerate `min`).
pub fn nice_step(min: f64) -> f64 {
    if !(min.is_finite() && min > 0.0) {
        return 1.0;
    }
    let p = 10f64.powf(min.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * p).find(|s| *s >= min * (1.0 - 1e-9)).unwrap_or(10.0 * p)
}

/// Grid steps of a usage chart: the thinnest lines at least egui_plot's minimum spacing
/// apart (`base_step_size`, 8 px), the labelled ones at least five times that (40 px).
fn grid_steps(input: egui_plot::GridInput) -> [f64; 3] {
    let s1 = nice_step(input.base_step_size * 5.0);
    [nice_step(input.base_step_size), s1, nice_step(s1 * 5.0)]
}

/// One chart: a line per key, coloured per association and peer (every generation of a key
/// lineage has the colour of its association and peer), and the limit lines.
fn usage_plot(
    c: &CaptureModel,
    ui: &mut egui::Ui,
    id: &str,
    title: &str,
    series: &[crate::model::UsageSeries],
    limit: impl Fn(&crate::model::ContextRow) -> u64,
    show_limit: bool,
) {
    use egui_plot::{AxisHints, HLine, Legend, Line, Plot, PlotPoints, uniform_grid_spacer};
    ui.label(RichText::new(title).strong());
    let palette = [
        Color32::from_rgb(0x1f, 0x77, 0xb4),
        Color32::from_rgb(0xff, 0x7f, 0x0e),
        Color32::from_rgb(0x2c, 0xa0, 0x2c),
        Color32::from_rgb(0xd6, 0x27, 0x28),
        Color32::from_rgb(0x94, 0x67, 0xbd),
        Color32::from_rgb(0x8c, 0x56, 0x4b),
        Color32::from_rgb(0xe3, 0x77, 0xc2),
        Color32::from_rgb(0x17, 0xbe, 0xcf),
    ];
    let mut groups: Vec<(usize, bool)> = Vec::new();
    Plot::new(("usage", id))
        .legend(Legend::default())
        .height(170.0)
        // egui_plot's default grid steps are powers of ten and it labels a step only when its
        // lines are 60-80 px apart: in a 500 px chart over 125 s that left "0" and "100", and
        // no label at all on a q axis up to 9. Steps of 1, 2, 5 x 10^k, the labelled one at
        // least 40 px apart, give labels every 20 s and every 5 messages there.
        .x_grid_spacer(uniform_grid_spacer(grid_steps))
        .y_grid_spacer(uniform_grid_spacer(grid_steps))
        .custom_x_axes(vec![AxisHints::new_x().label("seconds").label_spacing(28.0..=40.0)])
        .y_axis_label(id)
        .show(ui, |p| {
            let mut limits = Vec::new();
            for s in series {
                let ctx = c.contexts.iter().find(|x| x.id == s.ctx);
                let (root, name) = match ctx {
                    Some(x) => {
                        let root = c.contexts.iter().find(|r| r.id == x.root).unwrap_or(x);
                        let role = x.peers.get(usize::from(s.sender_b)).map_or("", |p| p.role);
                        (x.root, format!("{} {role}", root.name))
                    }
                    None => (s.ctx, format!("context {}", s.ctx)),
                };
                let g = groups.iter().position(|k| *k == (root, s.sender_b)).unwrap_or_else(|| {
                    groups.push((root, s.sender_b));
                    groups.len() - 1
                });
                let color = palette.get(g % palette.len()).copied().unwrap_or(Color32::GRAY);
                // No band: egui_plot would merge the points that share a pixel column into a
                // min..max band and interpolate between bands, painting a count that jumps
                // (several messages within a millisecond) as a filled wedge. The series are
                // thinned to MAX_CHART_POINTS, so plain polylines stay cheap.
                p.line(Line::new(name, PlotPoints::new(s.points.clone())).color(color).allow_band(false));
                if let Some(x) = ctx
                    && !limits.contains(&limit(x))
                {
                    limits.push(limit(x));
                }
            }
            if show_limit {
                for l in limits {
                    p.hline(
                        HLine::new(format!("{id} limit {l}"), l as f64)
                            .color(Color32::from_rgb(0xc0, 0x39, 0x2b)),
                    );
                }
            }
        });
}

// ---------------------------------------------------------------------------------------------
// Dialogs

/// A small file browser (no native dialog dependency; works the same under Xvfb).
#[derive(Debug)]
pub struct FileDialog {
    pub purpose: DialogPurpose,
    pub dir: PathBuf,
    pub name: String,
    pub error: Option<String>,
}

impl FileDialog {
    pub fn new(purpose: DialogPurpose, start: Option<PathBuf>) -> Self {
        let dir = start.or_else(|| std::env::current_dir().ok()).unwrap_or_else(|| PathBuf::from("/"));
        let name = if purpose == DialogPurpose::ExportUat { "oscore_contexts".into() } else { String::new() };
        FileDialog { purpose, dir, name, error: None }
    }

    fn title(&self) -> &'static str {
        match self.purpose {
            DialogPurpose::OpenCapture => "Open capture",
            DialogPurpose::ImportKeys => "Import keys",
            DialogPurpose::ExportUat => "Export Wireshark UAT",
        }
    }

    /// Entries of the current directory: directories first, then files (captures only when
    /// opening a capture), sorted by name.
    pub fn entries(&self) -> Vec<(String, bool)> {
        let Ok(rd) = std::fs::read_dir(&self.dir) else { return Vec::new() };
        let mut v: Vec<(String, bool)> = rd
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().to_string();
                let is_dir = e.file_type().ok()?.is_dir();
                if name.starts_with('.') {
                    return None;
                }
                let ok = is_dir
                    || self.purpose != DialogPurpose::OpenCapture
                    || [".pcap", ".pcapng", ".cap"].iter().any(|x| name.ends_with(x));
                ok.then_some((name, is_dir))
            })
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }

    /// `Some(Some(path))` chosen, `Some(None)` cancelled, `None` still open.
    pub fn show(&mut self, ctx: &egui::Context) -> Option<Option<PathBuf>> {
        let mut out = None;
        egui::Window::new(self.title()).collapsible(false).default_size([520.0, 420.0]).show(ctx, |ui| {
            ui.horizontal(|ui| {
                if ui.button("Up").clicked()
                    && let Some(p) = self.dir.parent()
                {
                    self.dir = p.to_path_buf();
                }
                ui.label(self.dir.display().to_string());
            });
            ui.separator();
            egui::ScrollArea::vertical().max_height(280.0).show(ui, |ui| {
                for (name, is_dir) in self.entries() {
                    let text = if is_dir { format!("[dir] {name}/") } else { name.clone() };
                    let r = ui.selectable_label(self.name == name, text);
                    if r.clicked() {
                        self.name = name.clone();
                    }
                    if r.double_clicked() || (is_dir && r.clicked()) {
                        if is_dir {
                            self.dir = self.dir.join(&name);
                            self.name.clear();
                        } else {
                            out = Some(Some(self.dir.join(&name)));
                        }
                    }
                }
            });
            ui.separator();
            ui.horizontal(|ui| {
                let l = ui.label("File:");
                ui.add(egui::TextEdit::singleline(&mut self.name).desired_width(300.0)).labelled_by(l.id);
                let verb = if self.purpose == DialogPurpose::ExportUat { "Save" } else { "Open" };
                if ui.button(verb).clicked() && !self.name.is_empty() {
                    let p = PathBuf::from(&self.name);
                    let p = if p.is_absolute() { p } else { self.dir.join(p) };
                    if self.purpose != DialogPurpose::ExportUat && !p.exists() {
                        self.error = Some(format!("{} does not exist", p.display()));
                    } else {
                        out = Some(Some(p));
                    }
                }
                if ui.button("Cancel").clicked() {
                    out = Some(None);
                }
            });
            if let Some(e) = &self.error {
                ui.colored_label(Color32::from_rgb(0xc0, 0x39, 0x2b), e);
            }
        });
        out
    }
}

/// The settings window's fields being edited.
#[derive(Debug)]
pub struct SettingsForm {
    pub ports: String,
    pub id_update: String,
    pub heuristics: bool,
    pub theme: Theme,
    pub error: Option<String>,
}

impl SettingsForm {
    pub fn new(s: &Settings) -> Self {
        SettingsForm {
            ports: format_numbers(&s.coap_ports),
            id_update: format_numbers(&s.id_update_options),
            heuristics: s.heuristics,
            theme: s.theme,
            error: None,
        }
    }

    /// The settings typed, or the first error.
    pub fn parse(&self) -> Result<Settings, String> {
        let coap_ports = parse_numbers(&self.ports).map_err(|e| format!("CoAP ports: {e}"))?;
        let id_update_options =
            parse_numbers(&self.id_update).map_err(|e| format!("ID update options: {e}"))?;
        Ok(Settings {
            coap_ports,
            id_update_options,
            heuristics: self.heuristics,
            theme: self.theme,
            recent: Vec::new(),
        })
    }

    pub fn show(&mut self, ctx: &egui::Context) -> Option<Option<Settings>> {
        let mut out = None;
        egui::Window::new("Settings").collapsible(false).show(ctx, |ui| {
            egui::Grid::new("settings").num_columns(2).show(ui, |ui| {
                let l = ui.label("UDP ports treated as CoAP");
                ui.text_edit_singleline(&mut self.ports).labelled_by(l.id);
                ui.end_row();
                ui.label("");
                ui.checkbox(&mut self.heuristics, "Try the CoAP heuristic on other ports");
                ui.end_row();
                let l = ui.label("ID-update option numbers");
                ui.text_edit_singleline(&mut self.id_update).labelled_by(l.id);
                ui.end_row();
                ui.label("Theme");
                ui.horizontal(|ui| {
                    for t in Theme::ALL {
                        ui.radio_value(&mut self.theme, t, t.label());
                    }
                });
                ui.end_row();
            });
            if let Some(e) = &self.error {
                ui.colored_label(Color32::from_rgb(0xc0, 0x39, 0x2b), e);
            }
            ui.horizontal(|ui| {
                if ui.button("Apply").clicked() {
                    match self.parse() {
                        Ok(s) => out = Some(Some(s)),
                        Err(e) => self.error = Some(e),
                    }
                }
                if ui.button("Cancel").clicked() {
                    out = Some(None);
                }
            });
        });
        out
    }
}

/// The "add context" form: builds a kudoscope TOML document (validated by the core's parser).
#[derive(Debug)]
pub struct ContextForm {
    pub name: String,
    pub master_secret: String,
    pub master_salt: String,
    pub id_context: String,
    pub client_id: String,
    pub server_id: String,
    pub aead: i64,
}

impl Default for ContextForm {
    fn default() -> Self {
        ContextForm {
            name: "added".into(),
            master_secret: String::new(),
            master_salt: String::new(),
            id_context: String::new(),
            client_id: String::new(),
            server_id: String::new(),
            aead: 10,
        }
    }
}

impl ContextForm {
    pub fn to_toml(&self) -> String {
        let q = |s: &str| s.trim().replace(['"', '\\', '\n'], "");
        let mut t = format!(
            "[[context]]\nname = \"{}\"\nmaster_secret = \"{}\"\n",
            q(&self.name),
            q(&self.master_secret)
        );
        if !self.master_salt.trim().is_empty() {
            t.push_str(&format!("master_salt = \"{}\"\n", q(&self.master_salt)));
        }
        if !self.id_context.trim().is_empty() {
            t.push_str(&format!("id_context = \"{}\"\n", q(&self.id_context)));
        }
        t.push_str(&format!(
            "aead = {}\nclient = {{ sender_id = \"{}\" }}\nserver = {{ sender_id = \"{}\" }}\n",
            self.aead,
            q(&self.client_id),
            q(&self.server_id)
        ));
        t
    }

    pub fn show(&mut self, ctx: &egui::Context) -> Option<Option<String>> {
        let mut out = None;
        egui::Window::new("Add OSCORE context").collapsible(false).show(ctx, |ui| {
            egui::Grid::new("ctxform").num_columns(2).show(ui, |ui| {
                for (label, v) in [
                    ("Name", &mut self.name),
                    ("Master Secret (hex)", &mut self.master_secret),
                    ("Master Salt (hex, optional)", &mut self.master_salt),
                    ("ID Context (hex, optional)", &mut self.id_context),
                    ("Client Sender ID (hex)", &mut self.client_id),
                    ("Server Sender ID (hex)", &mut self.server_id),
                ] {
                    let l = ui.label(label);
                    ui.text_edit_singleline(v).labelled_by(l.id);
                    ui.end_row();
                }
                let l = ui.label("AEAD (COSE id)");
                ui.add(egui::DragValue::new(&mut self.aead).range(-100..=100)).labelled_by(l.id);
                ui.end_row();
            });
            ui.horizontal(|ui| {
                if ui.button("Add and re-analyse").clicked() {
                    out = Some(Some(self.to_toml()));
                }
                if ui.button("Cancel").clicked() {
                    out = Some(None);
                }
            });
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::nice_step;

    #[test]
    fn nice_steps_are_1_2_5_times_a_power_of_ten() {
        assert_eq!(nice_step(0.124), 0.2);
        assert_eq!(nice_step(0.62), 1.0);
        assert_eq!(nice_step(1.0), 1.0);
        assert_eq!(nice_step(2.1), 5.0);
        assert_eq!(nice_step(10.5), 20.0);
        assert_eq!(nice_step(60.0), 100.0);
        assert_eq!(nice_step(0.0), 1.0);
        assert_eq!(nice_step(f64::NAN), 1.0);
    }
}
