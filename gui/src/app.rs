//! The application: persisted settings, runtime state, and the command loop. Painting code
//! (in `views`) reads the state and returns [`Command`]s; [`App::apply`] carries them out
//! after the frame is painted.

use crate::loader::{Job, JobHandle, LoadSpec, Msg};
use crate::model::{CachedFrame, CaptureModel, HexSources, find_field};
use crate::settings::Settings;
use crate::timeline::{Timeline, TimelineView};
use analyzer_core::dissect::Tree;
use analyzer_core::filter::{Filter, FilterError};
use analyzer_core::keys::KeySet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The main views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Packets,
    Timeline,
    Keys,
    Audit,
}

impl View {
    pub const ALL: [View; 4] = [View::Packets, View::Timeline, View::Keys, View::Audit];
    pub fn title(self) -> &'static str {
        match self {
            View::Packets => "Packets",
            View::Timeline => "Timeline",
            View::Keys => "Keys",
            View::Audit => "Audit",
        }
    }
}

/// What a file dialog is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogPurpose {
    OpenCapture,
    ImportKeys,
    ExportUat,
}

/// Everything the UI can ask for.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Open(PathBuf),
    /// A dropped or chosen path: a capture, or else a keys file.
    OpenAny(PathBuf),
    Reload,
    ImportKeys(PathBuf),
    /// A context typed in the app, as a kudoscope TOML document.
    AddContext(String),
    ExportUat(PathBuf),
    ApplyFilter(String),
    ClearFilter,
    Select(u64),
    /// Arrow keys: move the selection over the visible rows.
    MoveSelection(i64),
    /// Select and show in the packet list.
    Reveal(u64),
    SelectNode(Vec<usize>),
    SortBy(crate::model::Column),
    SetView(View),
    ShowDialog(DialogPurpose),
    CancelJob,
    ApplySettings(Settings),
    Quit,
}

/// The selected frame's dissection.
#[derive(Debug)]
pub struct Detail {
    pub frame: u64,
    pub tree: Tree,
    pub hex: HexSources,
    pub node: Option<Vec<usize>>,
}

/// State that lives only while the app runs.
#[derive(Debug)]
pub struct Runtime {
    pub view: View,
    pub capture: Option<CaptureModel>,
    pub spec: Option<LoadSpec>,
    pub keys: Option<KeySet>,
    pub key_warnings: Vec<String>,
    pub job: Option<JobHandle>,
    /// Messages of jobs run inline (tests).
    pub inline: bool,
    pub filter_text: String,
    pub filter_error: Option<FilterError>,
    pub applied_filter: Option<String>,
    pending_filter: Option<Filter>,
    partial_matches: Vec<u32>,
    pub detail: Option<Detail>,
    pub detail_pending: Option<u64>,
    pub timeline: Option<Timeline>,
    pub timeline_view: TimelineView,
    pub status: String,
    pub last_load: Option<(Duration, u64)>,
    pub dialog: Option<crate::views::FileDialog>,
    pub settings_form: Option<crate::views::SettingsForm>,
    pub context_form: Option<crate::views::ContextForm>,
    pub scroll_to_selected: bool,
    /// Frame to select once the capture is loaded (command line `--select`).
    pub select_after_load: Option<u64>,
    pub load_started: Option<Instant>,
    /// Time from the start of the load to the end of the first frame that painted rows.
    pub first_rows_after: Option<Duration>,
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime {
            view: View::Packets,
            capture: None,
            spec: None,
            keys: None,
            key_warnings: Vec::new(),
            job: None,
            inline: false,
            filter_text: String::new(),
            filter_error: None,
            applied_filter: None,
            pending_filter: None,
            partial_matches: Vec::new(),
            detail: None,
            detail_pending: None,
            timeline: None,
            timeline_view: TimelineView::default(),
            status: "Open a capture (File > Open, or drop a file here)".into(),
            last_load: None,
            dialog: None,
            settings_form: None,
            context_form: None,
            scroll_to_selected: false,
            select_after_load: None,
            load_started: None,
            first_rows_after: None,
        }
    }
}

/// The app: settings (persisted) + runtime state.
#[derive(Debug, Default)]
pub struct App {
    pub settings: Settings,
    pub rt: Runtime,
    /// Explicit keys given on the command line (used for the next load).
    pub cli_keys: Vec<PathBuf>,
    /// Close the window once the first load has finished (measurements).
    pub quit_after_load: bool,
    /// Leave wall-clock durations out of the status bar ("Loaded 16 frames" instead of
    /// "Loaded 16 frames in 0.01 s"): snapshot tests, whose images must not depend on the
    /// machine's speed.
    pub hide_timings: bool,
    load_reported: bool,
}

/// Time spent per frame draining worker messages.
pub const DRAIN_BUDGET: Duration = Duration::from_millis(8);
/// Records kept around a re-analysed frame.
pub const DETAIL_WINDOW: u64 = 1000;
/// Full records cached at most.
pub const CACHE_CAPACITY: usize = 8_000;

impl App {
    pub fn new(settings: Settings) -> Self {
        App {
            settings,
            rt: Runtime::default(),
            cli_keys: Vec::new(),
            quit_after_load: false,
            hide_timings: false,
            load_reported: false,
        }
    }

    /// An app that runs its jobs in the calling thread (tests).
    pub fn new_inline(settings: Settings) -> Self {
        let mut a = App::new(settings);
        a.rt.inline = true;
        a
    }

    fn spec_for(&self, path: PathBuf) -> LoadSpec {
        let mut spec = LoadSpec::new(path);
        spec.config = self.settings.analyzer_config();
        spec.id_update_options = self.settings.id_update_options.clone();
        spec.keys = self.cli_keys.clone();
        spec
    }

    fn start(&mut self, job: Job) {
        self.rt.job = None;
        if self.rt.inline {
            let name = job.name();
            let msgs = crate::loader::run_inline(job);
            self.rt.status = format!("{name}…");
            for m in msgs {
                self.handle(m);
            }
            return;
        }
        match JobHandle::spawn(job) {
            Ok(h) => self.rt.job = Some(h),
            Err(e) => self.rt.status = format!("cannot start a worker thread: {e}"),
        }
    }

    /// Loads (or reloads) with the current spec.
    fn load(&mut self, spec: LoadSpec) {
        self.settings.push_recent(&spec.path);
        let mut model = CaptureModel::new(spec.path.clone(), CACHE_CAPACITY);
        model.reserve_for(std::fs::metadata(&spec.path).map(|m| m.len()).unwrap_or(0));
        self.rt.capture = Some(model);
        self.rt.detail = None;
        self.rt.detail_pending = None;
        self.rt.timeline = None;
        self.rt.keys = None;
        self.rt.key_warnings.clear();
        self.rt.pending_filter = match &self.rt.applied_filter {
            Some(f) => Filter::parse(f).ok(),
            None => None,
        };
        self.rt.status = format!("Loading {}", spec.path.display());
        self.rt.spec = Some(spec.clone());
        self.rt.last_load = None;
        self.rt.load_started = Some(Instant::now());
        self.rt.first_rows_after = None;
        self.start(Job::Load(spec));
    }

    /// Drains worker messages for at most `budget`. Returns true while a job is running.
    pub fn drain(&mut self, budget: Duration) -> bool {
        let t0 = Instant::now();
        loop {
            let Some(job) = &mut self.rt.job else { return false };
            let m = match job.rx.try_recv() {
                Ok(m) => m,
                Err(std::sync::mpsc::TryRecvError::Empty) => return true,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                    self.rt.job = None;
                    return false;
                }
            };
            if let Msg::Progress { done, total, frames } = &m {
                job.progress = (*done, *total);
                job.frames = *frames;
            }
            self.handle(m);
            if t0.elapsed() > budget {
                return self.rt.job.is_some();
            }
        }
    }

    fn handle(&mut self, m: Msg) {
        match m {
            Msg::Keys { set, warnings } => {
                self.rt.keys = Some(set);
                self.rt.key_warnings = warnings;
            }
            Msg::Progress { .. } => {}
            Msg::Rows { batch, endpoints } => {
                if let Some(c) = &mut self.rt.capture {
                    c.append(batch, endpoints);
                }
            }
            Msg::Records(recs) => {
                if let Some(c) = &mut self.rt.capture {
                    for (n, r) in recs {
                        c.cache.insert(n, r);
                    }
                }
                if let Some(f) = self.rt.detail_pending {
                    self.try_show_detail(f);
                }
            }
            Msg::Matches(chunk) => self.rt.partial_matches.extend(chunk),
            Msg::LoadDone(mut end) => {
                self.rt.job = None;
                let frames = end.frames;
                let mut timeline = std::mem::take(&mut end.timeline);
                if let Some(c) = &self.rt.capture {
                    timeline.attach_rows(&c.rows);
                }
                self.rt.timeline_view = TimelineView::fit(&timeline);
                self.rt.timeline = Some(timeline);
                if let Some(c) = &mut self.rt.capture {
                    c.finish(*end);
                }
                let took = self.rt.load_started.map(|t| t.elapsed()).unwrap_or_default();
                self.rt.last_load = Some((took, frames));
                self.rt.status = match self.rt.capture.as_ref().and_then(|c| c.error.clone()) {
                    Some(e) => format!("Read {frames} frames, then: {e}"),
                    None if self.hide_timings => format!("Loaded {frames} frames"),
                    None => format!("Loaded {frames} frames in {:.2} s", took.as_secs_f64()),
                };
                if let Some(f) = self.rt.pending_filter.take() {
                    self.run_filter(f);
                }
                if let Some(n) = self.rt.select_after_load.take() {
                    self.select(n);
                    self.rt.scroll_to_selected = true;
                } else if let Some(n) = self.rt.detail_pending {
                    self.select(n);
                }
            }
            Msg::FilterDone { matched, frames } => {
                self.rt.job = None;
                let m = std::mem::take(&mut self.rt.partial_matches);
                if let Some(c) = &mut self.rt.capture {
                    c.set_matches(Some(m));
                }
                self.rt.status = format!("Filter matched {matched} of {frames} frames");
                self.retry_pending_detail();
            }
            Msg::DetailDone { .. } => {
                self.rt.job = None;
                self.retry_pending_detail();
            }
            Msg::Failed(e) => {
                self.rt.job = None;
                self.rt.partial_matches.clear();
                self.rt.status = format!("Error: {e}");
                if let Some(c) = &mut self.rt.capture
                    && c.rows.is_empty()
                {
                    c.error = Some(e);
                    c.complete = true;
                }
            }
        }
    }

    /// A frame waiting for its record: show it now if cached, else re-analyse (when idle).
    fn retry_pending_detail(&mut self) {
        if let Some(f) = self.rt.detail_pending
            && self.rt.job.is_none()
        {
            self.try_show_detail(f);
        }
    }

    fn run_filter(&mut self, f: Filter) {
        let Some(spec) = self.rt.spec.clone() else { return };
        self.rt.partial_matches.clear();
        self.rt.applied_filter = Some(f.source().to_string());
        self.rt.status = format!("Filtering: {}", f.source());
        self.start(Job::Filter { spec, filter: f });
    }

    fn busy_loading(&self) -> bool {
        self.rt.job.as_ref().is_some_and(|j| j.name == "Loading")
    }

    /// Selects a frame and shows its dissection (re-analysing when it is not cached).
    pub fn select(&mut self, frame: u64) {
        let Some(c) = &mut self.rt.capture else { return };
        if c.row(frame).is_none() {
            return;
        }
        c.selected = Some(frame);
        // The frame's association becomes the timeline's current lane.
        if let Some(r) = c.row(frame)
            && let Some(i) = self.rt.timeline.as_ref().and_then(|t| t.lane_of(r.lane as usize))
        {
            self.rt.timeline_view.lane = i;
        }
        self.try_show_detail(frame);
    }

    fn try_show_detail(&mut self, frame: u64) {
        let Some(c) = &self.rt.capture else { return };
        if let Some(cached) = c.cache.get(frame) {
            self.rt.detail = Some(detail_of(frame, cached));
            self.rt.detail_pending = None;
            return;
        }
        self.rt.detail = None;
        self.rt.detail_pending = Some(frame);
        if self.busy_loading() || !c.complete {
            return; // shown when the load delivers it, or re-analysed once it ends
        }
        if self.rt.job.is_some() {
            return;
        }
        if let Some(spec) = self.rt.spec.clone() {
            self.start(Job::Detail { spec, frame, window: DETAIL_WINDOW });
        }
    }

    /// Carries out a command.
    pub fn apply(&mut self, cmd: Command, ctx: Option<&egui::Context>) {
        match cmd {
            Command::Open(p) => {
                let spec = self.spec_for(p);
                self.load(spec);
            }
            Command::OpenAny(p) => {
                if crate::loader::looks_like_capture(&p) {
                    self.apply(Command::Open(p), ctx);
                } else {
                    self.apply(Command::ImportKeys(p), ctx);
                }
            }
            Command::Reload => {
                if let Some(mut spec) = self.rt.spec.clone() {
                    spec.config = self.settings.analyzer_config();
                    spec.id_update_options = self.settings.id_update_options.clone();
                    self.load(spec);
                }
            }
            Command::ImportKeys(p) => match analyzer_core::keys::detect_and_load(&p) {
                Err(e) => self.rt.status = format!("Keys not imported: {e}"),
                Ok(loaded) => {
                    let n = loaded.contexts.len();
                    if !self.cli_keys.contains(&p) {
                        self.cli_keys.push(p.clone());
                    }
                    if let Some(mut spec) = self.rt.spec.clone() {
                        if !spec.keys.contains(&p) {
                            spec.keys.push(p.clone());
                        }
                        self.load(spec);
                    }
                    self.rt.status = format!("Imported {n} context(s) from {}; re-analysing", p.display());
                }
            },
            Command::AddContext(toml) => {
                let parsed = analyzer_core::keys::parse_toml(&toml, Path::new("(added in the app)"));
                match (parsed, self.rt.spec.clone()) {
                    (Err(e), _) => self.rt.status = format!("Context not added: {e}"),
                    (Ok(_), None) => self.rt.status = "Open a capture first".into(),
                    (Ok(_), Some(mut spec)) => {
                        spec.extra_contexts.push(toml);
                        self.rt.context_form = None;
                        self.load(spec);
                    }
                }
            }
            Command::ExportUat(p) => {
                let Some(set) = &self.rt.keys else {
                    self.rt.status = "No keys loaded".into();
                    return;
                };
                self.rt.status = match analyzer_core::keys::export_wireshark_uat(set) {
                    Err(e) => format!("Export failed: {e}"),
                    Ok(x) => match std::fs::write(&p, x.text.as_bytes()) {
                        Err(e) => format!("Cannot write {}: {e}", p.display()),
                        Ok(()) => {
                            let skipped: Vec<String> =
                                x.skipped.iter().map(|s| format!("{} ({})", s.name, s.reason)).collect();
                            if skipped.is_empty() {
                                format!("Wrote Wireshark UAT {}", p.display())
                            } else {
                                format!("Wrote Wireshark UAT {}; skipped {}", p.display(), skipped.join(", "))
                            }
                        }
                    },
                };
            }
            Command::ApplyFilter(text) => {
                let text = text.trim().to_string();
                self.rt.filter_text = text.clone();
                if text.is_empty() {
                    return self.apply(Command::ClearFilter, ctx);
                }
                match Filter::parse(&text) {
                    Err(e) => self.rt.filter_error = Some(e),
                    Ok(f) => {
                        self.rt.filter_error = None;
                        if self.busy_loading() {
                            self.rt.applied_filter = Some(text);
                            self.rt.pending_filter = Some(f);
                        } else {
                            self.run_filter(f);
                        }
                    }
                }
            }
            Command::ClearFilter => {
                self.rt.filter_text.clear();
                self.rt.filter_error = None;
                self.rt.applied_filter = None;
                self.rt.pending_filter = None;
                if self.rt.job.as_ref().is_some_and(|j| j.name == "Filtering") {
                    self.rt.job = None;
                }
                if let Some(c) = &mut self.rt.capture {
                    c.set_matches(None);
                }
            }
            Command::Select(n) => self.select(n),
            Command::MoveSelection(d) => {
                if let Some(n) = self.rt.capture.as_mut().and_then(|c| c.move_selection(d)) {
                    self.select(n);
                    self.rt.scroll_to_selected = true;
                }
            }
            Command::Reveal(n) => {
                self.rt.view = View::Packets;
                if let Some(c) = &mut self.rt.capture
                    && let Some(i) = c.row_index(n).and_then(|i| u32::try_from(i).ok())
                    && !c.visible.contains(&i)
                {
                    // Not shown by the filter: drop the filter so the frame is in view.
                    self.rt.filter_text.clear();
                    self.rt.applied_filter = None;
                    c.set_matches(None);
                }
                self.select(n);
                self.rt.scroll_to_selected = true;
            }
            Command::SelectNode(path) => {
                if let Some(d) = &mut self.rt.detail {
                    d.node = Some(path);
                }
            }
            Command::SortBy(col) => {
                if let Some(c) = &mut self.rt.capture {
                    c.toggle_sort(col);
                    self.rt.scroll_to_selected = true;
                }
            }
            Command::SetView(v) => self.rt.view = v,
            Command::ShowDialog(p) => {
                let start = self.rt.spec.as_ref().and_then(|s| s.path.parent().map(Path::to_path_buf));
                self.rt.dialog = Some(crate::views::FileDialog::new(p, start));
            }
            Command::CancelJob => {
                if let Some(j) = self.rt.job.take() {
                    j.cancel();
                    self.rt.status = format!("{} cancelled", j.name);
                    if j.name == "Filtering" {
                        self.rt.partial_matches.clear();
                        self.rt.applied_filter = None;
                    }
                    if j.name == "Loading"
                        && let Some(c) = &mut self.rt.capture
                    {
                        c.complete = true;
                        c.error = Some(format!("loading cancelled after {} frames", c.rows.len()));
                    }
                }
            }
            Command::ApplySettings(s) => {
                let reanalyse = s.coap_ports != self.settings.coap_ports
                    || s.heuristics != self.settings.heuristics
                    || s.id_update_options != self.settings.id_update_options;
                let recent = std::mem::take(&mut self.settings.recent);
                self.settings = Settings { recent, ..s };
                if let Some(ctx) = ctx {
                    ctx.set_theme(self.settings.theme.preference());
                }
                self.rt.settings_form = None;
                if reanalyse {
                    self.apply(Command::Reload, ctx);
                }
            }
            Command::Quit => {
                if let Some(ctx) = ctx {
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
            }
        }
    }

    /// Paints the whole UI and applies the commands it produced.
    pub fn draw(&mut self, ui: &mut egui::Ui) {
        let running = self.drain(DRAIN_BUDGET);
        let mut cmds = Vec::new();
        crate::views::draw(self, ui, &mut cmds);
        if self.rt.first_rows_after.is_none()
            && self.rt.capture.as_ref().is_some_and(|c| !c.rows.is_empty())
            && let Some(t) = self.rt.load_started
        {
            self.rt.first_rows_after = Some(t.elapsed());
        }
        let ctx = ui.ctx().clone();
        for c in cmds {
            self.apply(c, Some(&ctx));
        }
        if !self.load_reported
            && let Some((took, frames)) = self.rt.last_load
        {
            self.load_reported = true;
            let first = self.rt.first_rows_after.unwrap_or(took);
            eprintln!(
                "kudoscope-gui: loaded {frames} frames in {:.3} s (first rows painted after {:.3} s)",
                took.as_secs_f64(),
                first.as_secs_f64()
            );
            if self.quit_after_load {
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
        }
        if running || self.rt.job.is_some() {
            // 10 repaints a second while a job runs: enough for the progress bar, and the software
            // renderers of headless machines then leave the cores to the worker.
            ctx.request_repaint_after(Duration::from_millis(100));
        }
    }
}

/// Builds the detail of a cached frame; preselects the KUDOS x byte of a KUDOS message, else
/// the decrypted inner code when there is one.
pub fn detail_of(frame: u64, cached: &CachedFrame) -> Detail {
    let tree = analyzer_core::dissect::dissect(&cached.record);
    let node = find_field(&tree, "kudos.x").or_else(|| find_field(&tree, "oscore.inner.code"));
    Detail { frame, hex: HexSources::of(cached), tree, node }
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.draw(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        self.settings.save(storage);
    }
}
