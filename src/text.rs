//! Text output: one summary line per frame, the `-V` tree, and `stats`.

use analyzer_core::analysis::{self, FrameRecord, Stats};
use analyzer_core::capture::CaptureFormat;
use analyzer_core::dissect;
use analyzer_core::finding::Severity;
use analyzer_core::time::Nanos;
use std::io::{self, Write};
use std::path::Path;

/// `  N  TIME  SRC -> DST  PROTO  LEN  INFO [! finding kinds]`
pub fn write_summary_line(out: &mut impl Write, r: &FrameRecord) -> io::Result<()> {
    let (src, dst) = r.addresses();
    write!(
        out,
        "{:>5} {:>11} {src} -> {dst} {} {} {}",
        r.number,
        r.rel_time.to_string(),
        r.protocol(),
        r.orig_len,
        analysis::info(r)
    )?;
    let notable: Vec<&str> =
        r.findings.iter().filter(|f| f.severity >= Severity::Low).map(|f| f.kind.as_str()).collect();
    if !notable.is_empty() {
        write!(out, " [! {}]", notable.join(", "))?;
    }
    writeln!(out)
}

/// The full tree of one frame followed by a blank line (like `tshark -V`).
pub fn write_tree(out: &mut impl Write, r: &FrameRecord) -> io::Result<()> {
    let tree = dissect::dissect(r);
    out.write_all(tree.render_text().as_bytes())?;
    writeln!(out)
}

pub fn write_stats(out: &mut impl Write, path: &Path, format: CaptureFormat, s: &Stats) -> io::Result<()> {
    let fmt = match format {
        CaptureFormat::Pcap { nanos: true, .. } => "pcap (nanosecond)",
        CaptureFormat::Pcap { nanos: false, .. } => "pcap (microsecond)",
        CaptureFormat::PcapNg => "pcapng",
    };
    writeln!(out, "Capture:            {} ({fmt})", path.display())?;
    let duration = match (s.first_ts, s.last_ts) {
        (Some(a), Some(b)) => Nanos(b.nanos_since(a)).to_string(),
        _ => "0.000000".into(),
    };
    writeln!(out, "Frames:             {} ({} bytes captured), duration {duration} s", s.frames, s.bytes)?;
    writeln!(out, "UDP datagrams:      {}", s.udp_datagrams)?;
    writeln!(out, "CoAP messages:      {} ({} by heuristic)", s.coap_messages, s.coap_heuristic)?;
    let join = |it: Vec<String>| if it.is_empty() { "-".to_string() } else { it.join(", ") };
    writeln!(
        out,
        "  by type:          {}",
        join(s.by_type.iter().map(|(k, v)| format!("{k} {v}")).collect())
    )?;
    writeln!(
        out,
        "  by code:          {}",
        join(s.by_code.iter().map(|(k, v)| format!("{k}: {v}")).collect())
    )?;
    writeln!(
        out,
        "  roles:            {} requests, {} responses, {} empty ACKs, {} resets, {} pings",
        s.requests, s.responses, s.empty_acks, s.resets, s.pings
    )?;
    let x = &s.exchanges;
    writeln!(out, "Exchanges:          {}", x.exchanges)?;
    let unanswered: Vec<String> = x.unanswered_requests.iter().map(|f| format!("#{f}")).collect();
    writeln!(
        out,
        "Unanswered requests: {}{}",
        unanswered.len(),
        if unanswered.is_empty() { String::new() } else { format!(" ({})", unanswered.join(", ")) }
    )?;
    writeln!(out, "Retransmissions:    {}", x.retransmissions)?;
    writeln!(out, "Observations:       {} ({} notifications)", x.observations, x.notifications)?;
    writeln!(
        out,
        "Block transfers:    {} completed, {} incomplete",
        x.block_transfers_completed, x.block_transfers_incomplete
    )?;
    let by_status: Vec<String> = s.oscore.by_status.iter().map(|(k, v)| format!("{k} {v}")).collect();
    writeln!(out, "OSCORE messages:    {} protected ({})", s.oscore.protected, join(by_status))?;
    if s.oscore.kudos_derivations > 0 {
        writeln!(
            out,
            "KUDOS derivations:  {} tried, {} contexts verified",
            s.oscore.kudos_derivations, s.oscore.kudos_contexts
        )?;
    }
    let total: u64 = s.findings.values().sum();
    writeln!(out, "Findings:           {total}")?;
    // Most severe first, then by kind.
    let mut rows: Vec<_> = s.findings.iter().collect();
    rows.sort_by(|a, b| b.0.0.cmp(&a.0.0).then(a.0.1.cmp(b.0.1)));
    for ((sev, kind), n) in rows {
        writeln!(out, "  {:<9} {:<34} {n}", sev.as_str(), kind)?;
    }
    Ok(())
}
