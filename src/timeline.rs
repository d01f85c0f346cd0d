//! `kudoscope timeline`: the key-update story of each association, as a text ladder or JSON.

use crate::cli::{Format, TimelineArgs};
use crate::{Failure, Outcome, analyse, report_late};
use analyzer_core::hex;
use analyzer_core::keys::PeerSlot;
use analyzer_core::oscore::params::Secret;
use analyzer_core::oscore::store::ContextStore;
use analyzer_core::time::{Nanos, Timestamp};
use analyzer_core::timeline::{LadderRow, Lane, MAX_LADDER_ROWS, MarkerKind, Procedure};
use serde::Serialize;
use std::io::{self, BufWriter, Write};

pub fn run(args: &TimelineArgs) -> Result<(), Failure> {
    let Outcome { late, stats, analyzer, .. } = analyse(&args.capture, &args.analysis, None, |_| Ok(()))?;
    report_late(&late);
    let first = stats.first_ts.unwrap_or(Timestamp::ZERO);
    let store = analyzer.engine().store();
    let lanes: Vec<&Lane> = analyzer.timeline().lanes.values().collect();
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match args.format {
        Format::Text => {
            if lanes.is_empty() {
                writeln!(out, "No OSCORE association was decrypted (keys: --keys, or CAPTURE.keys.toml).")?;
            }
            for lane in lanes {
                write_lane(&mut out, lane, first)?;
            }
        }
        Format::Json => {
            let doc = TimelineJson {
                associations: lanes.iter().map(|l| lane_json(l, store, first, args.show_secrets)).collect(),
            };
            serde_json::to_writer(&mut out, &doc).map_err(io::Error::from)?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(())
}

fn rel(ts: Timestamp, first: Timestamp) -> Nanos {
    Nanos(ts.nanos_since(first))
}

fn short(b: &[u8]) -> String {
    let h = hex::encode(b);
    if h.len() > 12 { format!("{}..", &h[..12]) } else { h }
}

fn ids(set: &std::collections::BTreeSet<Vec<u8>>) -> String {
    if set.is_empty() {
        return "-".into();
    }
    set.iter()
        .map(|i| if i.is_empty() { "(empty)".into() } else { hex::encode(i) })
        .collect::<Vec<_>>()
        .join(",")
}

fn endpoints(set: &std::collections::BTreeSet<analyzer_core::net::Endpoint>) -> String {
    if set.is_empty() {
        return "-".into();
    }
    set.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(", ")
}

fn write_lane(out: &mut impl Write, lane: &Lane, first: Timestamp) -> io::Result<()> {
    let [a, b] = lane.peer_names;
    writeln!(
        out,
        "Association {} ({a} <-> {b}), frames {}-{}",
        lane.name, lane.first_frame, lane.last_frame
    )?;
    for (i, name) in lane.peer_names.iter().enumerate() {
        writeln!(
            out,
            "  {name:<7} sender id {} from {}",
            ids(&lane.sender_ids[i]),
            endpoints(&lane.endpoints[i])
        )?;
    }
    writeln!(out, "  generations:")?;
    for p in &lane.phases {
        writeln!(
            out,
            "    {:<10} {:<28} frames {}-{} ({} messages, {}-{} s)",
            p.label,
            p.name,
            p.first_frame,
            p.last_frame,
            p.messages,
            rel(p.first_ts, first),
            rel(p.last_ts, first)
        )?;
    }
    if lane.procedures.is_empty() {
        writeln!(out, "  no key-management procedure seen")?;
    }
    for p in &lane.procedures {
        write_procedure(out, lane, p, first)?;
    }
    writeln!(out)
}

fn write_procedure(out: &mut impl Write, lane: &Lane, p: &Procedure, first: Timestamp) -> io::Result<()> {
    writeln!(out, "  {}", p.title(lane))?;
    let timing = p.timing(lane);
    if !timing.is_empty() {
        writeln!(out, "    {timing}")?;
    }
    let [a, b] = lane.peer_names;
    writeln!(out, "    {:>7} {:>11}   {a:<38}{b}", "frame", "time")?;
    for row in p.ladder() {
        match row {
            LadderRow::Message(m) => {
                let mut label = m.label.clone();
                if let (Some(x), Some(n)) = (m.x, &m.nonce) {
                    label.push_str(&format!(" x={x:02x} N={}", short(n)));
                }
                let body = &label;
                let pad = 40usize.saturating_sub(body.len() + 4);
                let arrow = if m.from == PeerSlot::A {
                    format!("|--{body}{}->|", "-".repeat(pad))
                } else {
                    format!("|<-{body}{}--|", "-".repeat(pad))
                };
                writeln!(
                    out,
                    "    {:>7} {:>11}   {arrow}  [{}]",
                    m.frame,
                    rel(m.ts, first).to_string(),
                    m.context_label
                )?;
            }
            LadderRow::Marker(mk) if !matches!(mk.kind, MarkerKind::Started) => {
                writeln!(out, "    {:>7} {:>11}     * {}", "", "", mk.text)?;
            }
            LadderRow::Marker(_) => {}
        }
    }
    if p.omitted > 0 {
        writeln!(
            out,
            "    {:>7} {:>11}     * {} more messages and flags not drawn (a ladder keeps {MAX_LADDER_ROWS} rows)",
            "", "", p.omitted
        )?;
    }
    Ok(())
}

#[derive(Serialize)]
struct TimelineJson {
    associations: Vec<LaneJson>,
}

#[derive(Serialize)]
struct LaneJson {
    name: String,
    peers: Vec<PeerJson>,
    first_frame: u64,
    last_frame: u64,
    generations: Vec<GenerationJson>,
    procedures: Vec<ProcedureJson>,
}

#[derive(Serialize)]
struct PeerJson {
    role: &'static str,
    sender_ids: Vec<String>,
    endpoints: Vec<String>,
}

#[derive(Serialize)]
struct GenerationJson {
    context: String,
    generation: String,
    kind: &'static str,
    first_frame: u64,
    last_frame: u64,
    first_time: f64,
    last_time: f64,
    messages: u64,
}

#[derive(Serialize)]
struct OfferJson {
    peer: &'static str,
    recipient_id: String,
    frame: u64,
}

#[derive(Serialize)]
struct ProcedureJson {
    kind: &'static str,
    /// ID update: the Recipient IDs each peer offered.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    offers: Vec<OfferJson>,
    number: usize,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome_detail: Option<String>,
    initiator: &'static str,
    initiated_by: &'static str,
    mode: &'static str,
    preserve_observations: bool,
    both_initiated: bool,
    start_frame: u64,
    end_frame: u64,
    start_time: f64,
    duration: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    round_trip: Option<f64>,
    key_confirmation: Vec<ConfirmationJson>,
    messages: Vec<MessageJson>,
    derived: Vec<DerivedJson>,
    markers: Vec<MarkerJson>,
    /// Messages and flags not kept past MAX_LADDER_ROWS (absent when none).
    #[serde(skip_serializing_if = "is_zero")]
    omitted: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Serialize)]
struct ConfirmationJson {
    peer: &'static str,
    after: Option<f64>,
}

#[derive(Serialize)]
struct MessageJson {
    frame: u64,
    time: f64,
    from: &'static str,
    #[serde(rename = "type")]
    mtype: &'static str,
    label: String,
    context: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    x: Option<XJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
}

#[derive(Serialize)]
struct XJson {
    value: u8,
    z: &'static str,
    b: bool,
    p: bool,
    m: u8,
}

#[derive(Serialize)]
struct DerivedJson {
    name: String,
    generation: String,
    kind: &'static str,
    parent: Option<String>,
    frame: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    master_secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    master_salt: Option<String>,
    master_secret_fingerprint: String,
    master_salt_fingerprint: String,
}

#[derive(Serialize)]
struct MarkerJson {
    frame: u64,
    kind: &'static str,
    text: String,
}

fn secs(n: Nanos) -> f64 {
    n.0.div_euclid(1_000) as f64 / 1e6
}

fn lane_json(lane: &Lane, store: &ContextStore, first: Timestamp, show_secrets: bool) -> LaneJson {
    LaneJson {
        name: lane.name.clone(),
        peers: (0..2)
            .map(|i| PeerJson {
                role: lane.peer_names[i],
                sender_ids: lane.sender_ids[i].iter().map(|s| hex::encode(s)).collect(),
                endpoints: lane.endpoints[i].iter().map(|e| e.to_string()).collect(),
            })
            .collect(),
        first_frame: lane.first_frame,
        last_frame: lane.last_frame,
        generations: lane
            .phases
            .iter()
            .map(|p| GenerationJson {
                context: p.name.clone(),
                generation: p.label.clone(),
                kind: p.kind.as_str(),
                first_frame: p.first_frame,
                last_frame: p.last_frame,
                first_time: secs(rel(p.first_ts, first)),
                last_time: secs(rel(p.last_ts, first)),
                messages: p.messages,
            })
            .collect(),
        procedures: lane
            .procedures
            .iter()
            .map(|p| ProcedureJson {
                kind: p.kind.as_str(),
                offers: p
                    .markers
                    .iter()
                    .filter_map(|m| match &m.kind {
                        MarkerKind::Offer { peer, id } => Some(OfferJson {
                            peer: lane.peer_name(*peer),
                            recipient_id: hex::encode(id),
                            frame: m.frame,
                        }),
                        _ => None,
                    })
                    .collect(),
                number: p.number,
                outcome: p.outcome.as_str(),
                outcome_detail: p.outcome.detail().filter(|d| !d.is_empty()).map(str::to_string),
                initiator: lane.peer_name(p.initiator),
                initiated_by: if p.request_initiated { "request" } else { "response" },
                mode: if p.no_fs { "no-fs" } else { "fs" },
                preserve_observations: p.preserve_observations,
                both_initiated: p.both_initiated,
                start_frame: p.start_frame,
                end_frame: p.end_frame,
                start_time: secs(rel(p.start_ts, first)),
                duration: secs(p.duration()),
                round_trip: p.round_trip.map(secs),
                key_confirmation: (0..2)
                    .map(|i| ConfirmationJson {
                        peer: lane.peer_names[i],
                        after: p.confirmation[i].map(secs),
                    })
                    .collect(),
                messages: p
                    .messages
                    .iter()
                    .map(|m| MessageJson {
                        frame: m.frame,
                        time: secs(rel(m.ts, first)),
                        from: lane.peer_name(m.from),
                        mtype: if m.is_request { "request" } else { "response" },
                        label: m.label.clone(),
                        context: m.context_label.clone(),
                        x: m.x.map(|x| XJson {
                            value: x,
                            z: if x & 0x40 != 0 { "convergent" } else { "divergent" },
                            b: x & 0x20 != 0,
                            p: x & 0x10 != 0,
                            m: x & 0x0f,
                        }),
                        nonce: m.nonce.as_deref().map(hex::encode),
                    })
                    .collect(),
                derived: p
                    .derived
                    .iter()
                    .map(|d| {
                        let c = store.get(d.ctx);
                        let secret = c.map(|c| c.master_secret().clone()).unwrap_or_default();
                        let salt = Secret::new(c.map(|c| c.params().master_salt.clone()).unwrap_or_default());
                        DerivedJson {
                            name: d.name.clone(),
                            generation: d.label.clone(),
                            kind: d.kind.as_str(),
                            parent: d.parent.and_then(|p| store.get(p)).map(|p| p.name.to_string()),
                            frame: d.frame,
                            master_secret: show_secrets.then(|| hex::encode(secret.expose())),
                            master_salt: show_secrets.then(|| hex::encode(salt.expose())),
                            master_secret_fingerprint: secret.fingerprint(),
                            master_salt_fingerprint: salt.fingerprint(),
                        }
                    })
                    .collect(),
                markers: p
                    .markers
                    .iter()
                    .map(|m| MarkerJson { frame: m.frame, kind: marker_kind(&m.kind), text: m.text.clone() })
                    .collect(),
                omitted: p.omitted,
            })
            .collect(),
    }
}

fn marker_kind(k: &MarkerKind) -> &'static str {
    match k {
        MarkerKind::Started => "started",
        MarkerKind::Derived { .. } => "derived",
        MarkerKind::KeyConfirmation { .. } => "key_confirmation",
        MarkerKind::Retired { .. } => "retired",
        MarkerKind::Restarted => "restarted",
        MarkerKind::Aborted => "aborted",
        MarkerKind::Completed => "completed",
        MarkerKind::Offer { .. } => "offer",
        MarkerKind::Ack { .. } => "ack",
        MarkerKind::Switched => "switched",
        MarkerKind::Flag => "flag",
    }
}
