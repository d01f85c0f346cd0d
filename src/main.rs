//! `kudoscope`: a tshark-like command line over analyzer-core.
//!
//! This crate holds argument parsing and output formats only; everything that understands
//! bytes lives in analyzer-core.

mod audit;
mod cli;
mod json;
mod keys;
mod read_ahead;
mod text;
mod timeline;

use analyzer_core::analysis::{Analyzer, FrameRecord, Stats};
use analyzer_core::capture::{CaptureError, CaptureFormat, CaptureReader};
use analyzer_core::finding::Finding;
use clap::Parser;
use cli::{Cli, Command, Format, KeysCommand, ShowArgs, StatsArgs};
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

/// Exit code when the capture cannot be read (or is damaged part-way).
const EXIT_CAPTURE: u8 = 2;
/// Exit code of `audit --fail-on` when a finding is at or above the chosen severity.
const EXIT_FINDINGS: u8 = 1;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Stats(args)) => run_stats(&args),
        Some(Command::Keys(KeysCommand::List(args))) => keys::run_list(&args),
        Some(Command::Keys(KeysCommand::Export(args))) => keys::run_export(&args),
        Some(Command::Timeline(args)) => timeline::run(&args),
        Some(Command::Audit(args)) => match audit::run(&args) {
            Ok(true) => return ExitCode::from(EXIT_FINDINGS),
            other => other.map(|_| ()),
        },
        None => run_show(&cli.show),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::BrokenPipe) => ExitCode::SUCCESS,
        Err(Failure::Capture(msg)) => {
            let _ = writeln!(io::stderr(), "kudoscope: {msg}");
            ExitCode::from(EXIT_CAPTURE)
        }
    }
}

/// Why a command stopped early.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The reader of our stdout went away (`| head`): not an error.
    BrokenPipe,
    /// The capture could not be read, or was damaged part-way (frames before were printed).
    Capture(String),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::Capture(format!("cannot write output: {e}"))
        }
    }
}

/// What an analysis pass leaves at the end.
pub(crate) struct Outcome {
    pub(crate) format: CaptureFormat,
    /// Findings known only at the end (attached to earlier frames).
    pub(crate) late: Vec<(u64, Finding)>,
    pub(crate) stats: Stats,
    /// The analyzer after the last frame (contexts, their usage and lineage).
    pub(crate) analyzer: Analyzer,
}

/// Reads every frame of `path` through a fresh analyzer, calling `each` per frame record, then
/// returns the late findings and the statistics.
pub(crate) fn analyse(
    path: &Path,
    args: &cli::AnalysisArgs,
    limit: Option<u64>,
    each: impl FnMut(&FrameRecord) -> Result<(), Failure>,
) -> Result<Outcome, Failure> {
    analyse_with(path, args, limit, |_| {}, each)
}

/// [`analyse`] with a `setup` step on the fresh analyzer (e.g. enabling the audit).
pub(crate) fn analyse_with(
    path: &Path,
    args: &cli::AnalysisArgs,
    limit: Option<u64>,
    setup: impl FnOnce(&mut Analyzer),
    mut each: impl FnMut(&FrameRecord) -> Result<(), Failure>,
) -> Result<Outcome, Failure> {
    let store = keys::context_store(path, args)?;
    let failed = |e: CaptureError| Failure::Capture(format!("{}: {e}", path.display()));
    let file = std::fs::File::open(path)
        .map_err(|source| failed(CaptureError::Open { path: path.display().to_string(), source }))?;
    let mut reader = CaptureReader::new(read_ahead::ReadAhead::new(file)).map_err(failed)?;
    let format = reader.format();
    let mut analyzer = Analyzer::with_contexts(args.config(), store);
    setup(&mut analyzer);
    let mut damaged = None;
    while let Some(next) = reader.next_frame() {
        match next {
            Ok(frame) => {
                let record = analyzer.process(&frame);
                each(&record)?;
                report_late(&record.earlier_findings);
                if limit.is_some_and(|n| frame.number >= n) {
                    break;
                }
                analyzer.recycle(record);
                reader.recycle(frame);
            }
            Err(e) => {
                damaged = Some(e);
                break;
            }
        }
    }
    let (late, stats) = analyzer.finish();
    if let Some(e) = damaged {
        report_late(&late);
        return Err(Failure::Capture(format!("{}: {e}", path.display())));
    }
    Ok(Outcome { format, late, stats, analyzer })
}

/// Findings known only at the end of the capture (e.g. reassemblies never completed) concern
/// frames already printed: they go to stderr, and into `stats`.
pub(crate) fn report_late(late: &[(u64, Finding)]) {
    if late.is_empty() {
        return;
    }
    let mut err = io::stderr().lock();
    for (frame, f) in late {
        let _ = writeln!(err, "kudoscope: frame {frame}: {f}");
    }
}

fn run_show(args: &ShowArgs) -> Result<(), Failure> {
    let Some(path) = &args.capture else {
        return Err(Failure::Capture("no capture file given (see --help)".into()));
    };
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let outcome = analyse(path, &args.analysis, args.count, |record| {
        match (args.format, args.verbose) {
            (Format::Text, false) => text::write_summary_line(&mut out, record)?,
            (Format::Text, true) => text::write_tree(&mut out, record)?,
            (Format::Json, verbose) => json::write_frame(&mut out, record, verbose)?,
        }
        Ok(())
    })
    .inspect_err(|_| {
        let _ = out.flush();
    })?;
    out.flush()?;
    report_late(&outcome.late);
    Ok(())
}

fn run_stats(args: &StatsArgs) -> Result<(), Failure> {
    let Outcome { format, late, stats, .. } = analyse(&args.capture, &args.analysis, None, |_| Ok(()))?;
    report_late(&late);
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match args.format {
        Format::Text => text::write_stats(&mut out, &args.capture, format, &stats)?,
        Format::Json => json::write_stats(&mut out, &args.capture, format, &stats)?,
    }
    out.flush()?;
    Ok(())
}
