//! `kudoscope audit`: the privacy audit (PROTOCOLS.md §4.7) and every finding of a capture, as
//! text for people or one JSON object for tools (docs/audit.md). Returns whether a finding is
//! at or above `--fail-on` (exit status 1).

use crate::cli::{AuditArgs, Format};
use crate::{Failure, Outcome, analyse_with};
use analyzer_core::Severity;
use analyzer_core::audit::{AuditConfig, AuditReport, ItemResult, Migration, ReportAssociation};
use std::io::{self, BufWriter, Write};

pub fn run(args: &AuditArgs) -> Result<bool, Failure> {
    let Outcome { analyzer, .. } = analyse_with(
        &args.capture,
        &args.analysis,
        None,
        |a| a.enable_audit(AuditConfig::default()),
        |_| Ok(()),
    )?;
    let capture = args.capture.display().to_string();
    let Some(report) = analyzer.audit_report(&capture) else {
        return Err(Failure::Capture("internal: the audit was not enabled".into()));
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match args.format {
        Format::Text => write_text(&mut out, &report)?,
        Format::Json => {
            serde_json::to_writer(&mut out, &report).map_err(io::Error::from)?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(args.fail_on.is_some_and(|s| report.count_at_or_above(s) > 0))
}

fn mark(linked: Option<bool>) -> &'static str {
    match linked {
        Some(true) => "LINKED    ",
        Some(false) => "not linked",
        None => "n/a       ",
    }
}

fn frames(f: &[u64]) -> String {
    if f.is_empty() {
        return String::new();
    }
    let list: Vec<String> = f.iter().map(u64::to_string).collect();
    format!(" [frames {}]", list.join(", "))
}

fn write_text(out: &mut impl Write, r: &AuditReport) -> io::Result<()> {
    writeln!(
        out,
        "Audit of {}: {} frames, {} OSCORE messages, {} association(s)",
        r.capture,
        r.frames,
        r.oscore_messages,
        r.associations.len()
    )?;
    if r.associations.is_empty() {
        writeln!(
            out,
            "No OSCORE association was decrypted (keys: --keys, or CAPTURE.keys.toml): no per-association privacy audit."
        )?;
    }
    for a in &r.associations {
        writeln!(out)?;
        write_association(out, a)?;
    }
    writeln!(out)?;
    write_observer(out, r)?;
    writeln!(out)?;
    write_findings(out, r)
}

fn write_association(out: &mut impl Write, a: &ReportAssociation) -> io::Result<()> {
    let [pa, pb] = a.peers;
    writeln!(
        out,
        "Association {} ({pa} <-> {pb}), frames {}-{}, {} segment(s)",
        a.name, a.first_frame, a.last_frame, a.segments
    )?;
    if !a.id_updates.is_empty() {
        writeln!(out, "  ID updates: {}", a.id_updates.join("; "))?;
    }
    if a.migrations.is_empty() {
        writeln!(out, "  no ID change or address change")?;
    }
    for m in &a.migrations {
        write_migration(out, m)?;
    }
    let o = &a.observer;
    writeln!(
        out,
        "  observer: {} presumed device(s) for this association; links {} of {} boundaries ({} of {} ID changes)",
        o.clusters, o.boundaries_linked, o.boundaries, o.id_changes_linked, o.id_changes
    )
}

fn side_text(s: &analyzer_core::audit::report::Side) -> String {
    let id = match (&s.kid, &s.sender_id) {
        (Some(k), _) => format!("kid {k}"),
        (None, Some(id)) => format!("sender id {id} (not on the wire)"),
        (None, None) => "no id".into(),
    };
    format!("{} {id} {{{}}} frames {}-{}", s.endpoint, s.context, s.first_frame, s.last_frame)
}

fn write_migration(out: &mut impl Write, m: &Migration) -> io::Result<()> {
    writeln!(out, "  {} {} at frame {}:", m.peer, m.kind.as_str(), m.frame)?;
    writeln!(out, "    before: {}", side_text(&m.before))?;
    writeln!(out, "    after:  {}", side_text(&m.after))?;
    let linked = if m.linked_items.is_empty() { "none".to_string() } else { m.linked_items.join(", ") };
    writeln!(
        out,
        "    linked by: {linked}; observer's clustering: {}",
        if m.observer_linked { "same device" } else { "different devices" }
    )?;
    for i in &m.items {
        write_item(out, i)?;
    }
    Ok(())
}

fn write_item(out: &mut impl Write, i: &ItemResult) -> io::Result<()> {
    writeln!(out, "      {} {:<18} {}{}", mark(i.linked), i.item, i.explanation, frames(&i.frames))
}

fn write_observer(out: &mut impl Write, r: &AuditReport) -> io::Result<()> {
    let o = &r.observer_view;
    writeln!(out, "Observer's view (no keys): {}", o.clustering_text())?;
    writeln!(out, "  {}", o.links_text())?;
    for c in &o.cluster_list {
        let assocs =
            if c.associations.is_empty() { "unknown".to_string() } else { c.associations.join(", ") };
        writeln!(out, "  device {} (associations: {assocs})", c.cluster)?;
        for f in &c.flows {
            writeln!(out, "    {f}")?;
        }
        for j in &c.joins {
            writeln!(out, "    joined: {j}")?;
        }
    }
    if o.cluster_list.len() < o.clusters {
        writeln!(out, "  ... {} more device(s)", o.clusters - o.cluster_list.len())?;
    }
    Ok(())
}

fn write_findings(out: &mut impl Write, r: &AuditReport) -> io::Result<()> {
    let total: u64 = r.summary.iter().map(|c| c.count).sum();
    let by_sev: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter_map(|s| {
            let n: u64 = r.summary.iter().filter(|c| c.severity == *s).map(|c| c.count).sum();
            (n > 0).then(|| format!("{n} {s}"))
        })
        .collect();
    if total == 0 {
        return writeln!(out, "Findings: none");
    }
    writeln!(out, "Findings ({total}): {}", by_sev.join(", "))?;
    for c in &r.summary {
        writeln!(out, "  [{}] {} ({})", c.severity, c.kind, c.count)?;
        for f in r.findings.iter().filter(|f| f.kind == c.kind && f.severity == c.severity) {
            let (first, rest) = f.frames.split_first().map_or((0, &[][..]), |(a, b)| (*a, b));
            let related = if rest.is_empty() {
                String::new()
            } else {
                format!(" (see {})", rest.iter().map(u64::to_string).collect::<Vec<_>>().join(", "))
            };
            writeln!(out, "    frame {first}{related}: {}", f.explanation)?;
        }
    }
    if r.findings_dropped > 0 {
        writeln!(out, "  ({} more findings counted above, not listed)", r.findings_dropped)?;
    }
    Ok(())
}
