//! Long work off the UI thread: loading a capture, applying a display filter, re-analysing a
//! frame whose record is not cached. Each job runs on a named worker thread and streams
//! [`Msg`]s through a bounded channel; the UI drains them under a time budget per frame.
//! A job stops when its cancel flag is set or when the UI drops the receiver.
//!
//! The same job functions run inline (no thread) for tests: [`run_inline`].

use crate::model::{CachedFrame, ContextRow, FailureTracker, LoadEnd, RowBatch, RowBuilder};
use crate::timeline::Timeline;
use analyzer_core::analysis::{Analyzer, AnalyzerConfig, FrameRecord};
use analyzer_core::audit::AuditConfig;
use analyzer_core::capture::{CaptureReader, RawFrame};
use analyzer_core::filter::Filter;
use analyzer_core::keys::{self, KeySet};
use analyzer_core::oscore::store::ContextStore;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};

/// Rows per batch sent to the UI.
pub const BATCH: usize = 4096;
/// Messages in flight between a worker and the UI (backpressure: a slow UI slows the worker).
pub const CHANNEL_BOUND: usize = 32;

/// What to analyse and how: the capture, its keys and the analysis settings.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadSpec {
    pub path: PathBuf,
    /// Keys files (any format the CLI reads).
    pub keys: Vec<PathBuf>,
    /// Also use the default keys file next to the capture (`CAPTURE.keys.toml`).
    pub default_keys: bool,
    /// Contexts added in the app, as kudoscope TOML documents.
    pub extra_contexts: Vec<String>,
    pub config: AnalyzerConfig,
    /// Inner option numbers that mark an ID update (colour).
    pub id_update_options: Vec<u16>,
    /// Full records kept for the first N frames (the detail view needs no re-analysis there).
    pub cache_first: u64,
}

impl LoadSpec {
    pub fn new(path: PathBuf) -> Self {
        LoadSpec {
            path,
            keys: Vec::new(),
            default_keys: true,
            extra_contexts: Vec::new(),
            config: AnalyzerConfig::default(),
            id_update_options: vec![24, 32],
            cache_first: 5_000,
        }
    }
}

/// A unit of work.
#[derive(Debug, Clone)]
pub enum Job {
    /// Read the whole capture: rows, contexts, records of the first frames, the timeline and
    /// the audit.
    Load(LoadSpec),
    /// Re-run the analysis and evaluate a filter on every frame.
    Filter { spec: LoadSpec, filter: Filter },
    /// Re-run the analysis up to `frame` and return the records around it.
    Detail { spec: LoadSpec, frame: u64, window: u64 },
}

impl Job {
    pub fn name(&self) -> &'static str {
        match self {
            Job::Load(_) => "Loading",
            Job::Filter { .. } => "Filtering",
            Job::Detail { .. } => "Re-analysing",
        }
    }
}

/// Worker -> UI.
#[derive(Debug)]
pub enum Msg {
    /// The keys used (the set, for export) and warnings to show.
    Keys {
        set: KeySet,
        warnings: Vec<String>,
    },
    Progress {
        done: u64,
        total: u64,
        frames: u64,
    },
    /// Rows, and endpoint names added since the previous batch.
    Rows {
        batch: RowBatch,
        endpoints: Vec<String>,
    },
    Records(Vec<(u64, CachedFrame)>),
    /// Row indices matching the filter (a chunk; more may follow).
    Matches(Vec<u32>),
    LoadDone(Box<LoadEnd>),
    FilterDone {
        matched: u64,
        frames: u64,
    },
    DetailDone {
        frame: u64,
    },
    Failed(String),
}

/// Where a job sends its messages. Returns false when nobody listens any more.
pub trait Sink {
    fn send(&mut self, m: Msg) -> bool;
}

struct ChannelSink {
    tx: SyncSender<Msg>,
    cancel: Arc<AtomicBool>,
}

impl Sink for ChannelSink {
    fn send(&mut self, mut m: Msg) -> bool {
        // Blocks while the channel is full, but wakes up to notice a cancellation.
        loop {
            if self.cancel.load(Ordering::Relaxed) {
                return false;
            }
            match self.tx.try_send(m) {
                Ok(()) => return true,
                Err(TrySendError::Disconnected(_)) => return false,
                Err(TrySendError::Full(back)) => {
                    m = back;
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
        }
    }
}

impl Sink for Vec<Msg> {
    fn send(&mut self, m: Msg) -> bool {
        self.push(m);
        true
    }
}

/// A running job.
#[derive(Debug)]
pub struct JobHandle {
    pub name: &'static str,
    pub rx: Receiver<Msg>,
    cancel: Arc<AtomicBool>,
    pub progress: (u64, u64),
    pub frames: u64,
    pub started: Instant,
}

impl JobHandle {
    /// Starts `job` on a named worker thread.
    pub fn spawn(job: Job) -> std::io::Result<JobHandle> {
        let (tx, rx) = sync_channel(CHANNEL_BOUND);
        let cancel = Arc::new(AtomicBool::new(false));
        let name = job.name();
        let flag = cancel.clone();
        std::thread::Builder::new().name(format!("kudoscope-{}", name.to_lowercase())).spawn(move || {
            let mut sink = ChannelSink { tx, cancel: flag.clone() };
            run(job, &flag, &mut sink);
        })?;
        Ok(JobHandle { name, rx, cancel, progress: (0, 0), frames: 0, started: Instant::now() })
    }

    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// Fraction done, 0..=1.
    pub fn fraction(&self) -> f32 {
        if self.progress.1 == 0 { 0.0 } else { (self.progress.0 as f64 / self.progress.1 as f64) as f32 }
    }
}

impl Drop for JobHandle {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// Runs a job in the calling thread, collecting its messages.
pub fn run_inline(job: Job) -> Vec<Msg> {
    let mut out = Vec::new();
    run(job, &AtomicBool::new(false), &mut out);
    out
}

/// Runs a job to its end (or until cancelled), sending what it finds to `sink`.
pub fn run(job: Job, cancel: &AtomicBool, sink: &mut dyn Sink) {
    let r = match job {
        Job::Load(spec) => load(&spec, cancel, sink),
        Job::Filter { spec, filter } => filter_pass(&spec, &filter, cancel, sink),
        Job::Detail { spec, frame, window } => detail(&spec, frame, window, cancel, sink),
    };
    if let Err(e) = r {
        sink.send(Msg::Failed(e));
    }
}

/// The keys of a spec: explicit files, the default file next to the capture, contexts added
/// in the app.
pub fn load_keys(spec: &LoadSpec) -> Result<KeySet, String> {
    let mut paths = spec.keys.clone();
    if spec.default_keys
        && let Some(p) = keys::find_default_keys(&spec.path)
        && !paths.contains(&p)
    {
        paths.push(p);
    }
    let mut set = KeySet::load(&paths).map_err(|e| e.to_string())?;
    for (i, text) in spec.extra_contexts.iter().enumerate() {
        let origin = PathBuf::from(format!("(added in the app #{})", i + 1));
        let loaded = keys::parse_toml(text, &origin).map_err(|e| e.to_string())?;
        set.extend(loaded).map_err(|e| e.to_string())?;
    }
    set.check_links().map_err(|e| e.to_string())?;
    Ok(set)
}

enum Flow {
    Go,
    Stop,
}

/// One analysis pass over the capture, calling `each` per frame.
fn replay(
    spec: &LoadSpec,
    cancel: &AtomicBool,
    sink: &mut dyn Sink,
    send_keys: bool,
    audit: bool,
    mut each: impl FnMut(&RawFrame, FrameRecord, &Analyzer, &mut dyn Sink) -> Flow,
) -> Result<(Analyzer, Option<String>, u64), String> {
    let set = load_keys(spec)?;
    let store = ContextStore::load(set.contexts()).map_err(|e| e.to_string())?;
    if send_keys {
        let warnings = set.warnings().iter().map(|w| w.to_string()).collect();
        if !sink.send(Msg::Keys { set, warnings }) {
            return Err("cancelled".into());
        }
    }
    let total = std::fs::metadata(&spec.path).map(|m| m.len()).unwrap_or(0);
    let mut reader = CaptureReader::open(&spec.path).map_err(|e| format!("{}: {e}", spec.path.display()))?;
    let mut analyzer = Analyzer::with_contexts(spec.config.clone(), store);
    if audit {
        analyzer.enable_audit(AuditConfig::default());
    }
    let mut last = Instant::now();
    let mut frames = 0u64;
    let mut damaged = None;
    while let Some(next) = reader.next_frame() {
        if cancel.load(Ordering::Relaxed) {
            return Err("cancelled".into());
        }
        match next {
            Ok(frame) => {
                frames += 1;
                let rec = analyzer.process(&frame);
                if let Flow::Stop = each(&frame, rec, &analyzer, sink) {
                    break;
                }
            }
            Err(e) => {
                damaged = Some(format!("{}: {e}", spec.path.display()));
                break;
            }
        }
        if frames.is_multiple_of(1024) && last.elapsed() > Duration::from_millis(50) {
            last = Instant::now();
            if !sink.send(Msg::Progress { done: reader.offset(), total, frames }) {
                return Err("cancelled".into());
            }
        }
    }
    sink.send(Msg::Progress { done: total, total, frames });
    Ok((analyzer, damaged, frames))
}

fn load(spec: &LoadSpec, cancel: &AtomicBool, sink: &mut dyn Sink) -> Result<(), String> {
    let mut builder = RowBuilder::new(spec.id_update_options.clone());
    let mut batch = RowBatch::default();
    let mut records = Vec::new();
    let mut sent_endpoints = 0usize;
    let flush = |builder: &RowBuilder,
                 batch: &mut RowBatch,
                 records: &mut Vec<(u64, CachedFrame)>,
                 sent: &mut usize,
                 sink: &mut dyn Sink|
     -> bool {
        let endpoints = builder.endpoint_names.get(*sent..).unwrap_or_default().to_vec();
        *sent = builder.endpoint_names.len();
        let ok = sink.send(Msg::Rows { batch: std::mem::take(batch), endpoints });
        ok && (records.is_empty() || sink.send(Msg::Records(std::mem::take(records))))
    };
    let mut failures = FailureTracker::default();
    let (mut analyzer, damaged, frames) =
        replay(spec, cancel, sink, true, true, |frame, rec, analyzer, sink| {
            builder.push(&mut batch, &rec);
            failures.observe(&rec, analyzer.engine().store());
            if frame.number <= spec.cache_first {
                records.push((frame.number, CachedFrame { data: frame.data.clone(), record: rec }));
            }
            if batch.rows.len() >= BATCH
                && !flush(&builder, &mut batch, &mut records, &mut sent_endpoints, sink)
            {
                return Flow::Stop;
            }
            Flow::Go
        })?;
    if !flush(&builder, &mut batch, &mut records, &mut sent_endpoints, sink) {
        return Err("cancelled".into());
    }
    // Late findings (state still open at the end) reach the audit report through `finish`.
    let (_late, stats) = analyzer.finish();
    let mut usage: Vec<_> = std::mem::take(&mut builder.usage).into_values().collect();
    crate::model::thin_all(&mut usage);
    let origin = stats.first_ts.unwrap_or_default();
    let end = LoadEnd {
        contexts: ContextRow::from_store(analyzer.engine().store()),
        usage,
        failures: failures.finish(),
        audit: analyzer.audit_report(&spec.path.display().to_string()),
        timeline: Timeline::new(analyzer.timeline(), origin, std::mem::take(&mut builder.ticks)),
        endpoints: std::mem::take(&mut builder.endpoint_names),
        error: damaged,
        frames,
    };
    sink.send(Msg::LoadDone(Box::new(end)));
    Ok(())
}

fn filter_pass(
    spec: &LoadSpec,
    filter: &Filter,
    cancel: &AtomicBool,
    sink: &mut dyn Sink,
) -> Result<(), String> {
    let mut chunk = Vec::new();
    let mut matched = 0u64;
    let (_, _, frames) = replay(spec, cancel, sink, false, false, |frame, rec, _, sink| {
        if filter.matches_record(&rec)
            && let Ok(i) = u32::try_from(frame.number.saturating_sub(1))
        {
            chunk.push(i);
            matched += 1;
            if chunk.len() >= BATCH && !sink.send(Msg::Matches(std::mem::take(&mut chunk))) {
                return Flow::Stop;
            }
        }
        Flow::Go
    })?;
    if !chunk.is_empty() && !sink.send(Msg::Matches(chunk)) {
        return Err("cancelled".into());
    }
    sink.send(Msg::FilterDone { matched, frames });
    Ok(())
}

fn detail(
    spec: &LoadSpec,
    want: u64,
    window: u64,
    cancel: &AtomicBool,
    sink: &mut dyn Sink,
) -> Result<(), String> {
    let lo = want.saturating_sub(window / 2);
    let hi = want.saturating_add(window / 2);
    let mut records = Vec::new();
    replay(spec, cancel, sink, false, false, |frame, rec, _, _| {
        if frame.number >= lo {
            records.push((frame.number, CachedFrame { data: frame.data.clone(), record: rec }));
        }
        if frame.number >= hi { Flow::Stop } else { Flow::Go }
    })?;
    if !sink.send(Msg::Records(records)) {
        return Err("cancelled".into());
    }
    sink.send(Msg::DetailDone { frame: want });
    Ok(())
}

/// True when the file starts with a pcap or pcapng magic number (drag and drop: a capture, or
/// else a keys file).
pub fn looks_like_capture(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    let Ok(mut f) = std::fs::File::open(path) else { return false };
    if f.read_exact(&mut magic).is_err() {
        return false;
    }
    matches!(
        magic,
        [0xd4, 0xc3, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0xc3, 0xd4]
            | [0x4d, 0x3c, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0x3c, 0x4d]
            | [0x0a, 0x0d, 0x0d, 0x0a]
    )
}
