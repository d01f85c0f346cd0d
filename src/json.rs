//! JSON output. The schema is documented in docs/json-output.md; keys appear in a fixed order
//! and every value is derived from the capture alone, so output is byte-identical across runs.

use analyzer_core::analysis::{self, CoapDetection, FrameRecord, Stats};
use analyzer_core::capture::CaptureFormat;
use analyzer_core::coap::exchange::{BlockKind, ExchangeInfo, ObserveInfo, Role};
use analyzer_core::coap::message::Message;
use analyzer_core::coap::options::{OptionValue, option_def};
use analyzer_core::dissect::{self, FieldValue, Node};
use analyzer_core::finding::{Finding, Span};
use analyzer_core::hex;
use analyzer_core::oscore::engine::{EchoRecovery, NonceSource, OscoreRecord};
use serde::Serialize;
use std::io::{self, Write};
use std::path::Path;

#[derive(Serialize)]
struct FrameJson<'a> {
    frame: u64,
    /// Seconds since the first frame (microsecond precision).
    time: f64,
    /// Absolute capture time, seconds since the Unix epoch with 9 decimals (string: exact).
    epoch: String,
    length: u32,
    caplen: usize,
    protocol: &'static str,
    src: Option<String>,
    dst: Option<String>,
    coap: Option<CoapJson<'a>>,
    oscore: Option<OscoreJson<'a>>,
    findings: Vec<FindingJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tree: Option<Vec<NodeJson<'a>>>,
}

#[derive(Serialize)]
struct CoapJson<'a> {
    #[serde(rename = "type")]
    mtype: &'static str,
    code: String,
    /// "c.dd" form of the code.
    code_num: String,
    mid: u16,
    token: String,
    options: Vec<OptionJson>,
    payload_len: usize,
    payload: String,
    uri: String,
    complete: bool,
    detection: &'static str,
    exchange: ExchangeJson<'a>,
}

#[derive(Serialize)]
struct OscoreJson<'a> {
    /// hex, or null when the option has no kid
    kid: Option<String>,
    piv: Option<String>,
    kid_context: Option<String>,
    /// The flag bytes, hex (1 byte, or more with KUDOS extension flags).
    flags: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kudos: Option<KudosJson>,
    status: &'static str,
    /// `{ "name", "generation", "sender" }` of the context that opened it.
    context: Option<ContextJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_frame: Option<u64>,
    /// AAD inputs (the request's kid and Partial IV), hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    request_kid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_piv: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    /// "own_piv" or "request_nonce"
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce_source: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    echo_recovery: Option<&'static str>,
    inner: Option<InnerJson<'a>>,
}

#[derive(Serialize)]
struct KudosJson {
    x: u8,
    /// "divergent" (z=0) or "convergent" (z=1)
    z: &'static str,
    b: bool,
    p: bool,
    m: u8,
    reserved: bool,
    nonce: String,
}

#[derive(Serialize)]
struct ContextJson<'a> {
    name: &'a str,
    generation: &'a str,
    sender: &'static str,
}

#[derive(Serialize)]
struct InnerJson<'a> {
    code: String,
    options: Vec<OptionJson>,
    payload_len: usize,
    payload: String,
    uri: String,
    complete: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    block: Option<BlockJson<'a>>,
}

#[derive(Serialize)]
struct OptionJson {
    number: u16,
    name: String,
    /// Display value: decimal for uint options, text for string options, hex for opaque,
    /// NUM/M/SIZE for Block options.
    value: String,
    /// The raw value bytes, hex.
    raw: String,
}

#[derive(Serialize)]
struct ExchangeJson<'a> {
    role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_frame: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_time: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retransmission_of: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mid_reused_from: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    acknowledges: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    observe: Option<ObserveJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    block: Option<BlockJson<'a>>,
}

#[derive(Serialize)]
struct ObserveJson {
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    registration_frame: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sequence: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<u32>,
}

#[derive(Serialize)]
struct BlockJson<'a> {
    kind: &'static str,
    num: u32,
    more: bool,
    size: u32,
    transfer_first_frame: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    completed_frames: Option<&'a [u64]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_len: Option<u64>,
}

#[derive(Serialize)]
struct FindingJson<'a> {
    kind: &'static str,
    severity: &'static str,
    layer: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    span: Option<&'a Span>,
    #[serde(skip_serializing_if = "<[u64]>::is_empty")]
    related_frames: &'a [u64],
}

#[derive(Serialize)]
struct NodeJson<'a> {
    label: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    span: Option<&'a Span>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    generated: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    children: Vec<NodeJson<'a>>,
}

fn node_json(n: &Node) -> NodeJson<'_> {
    NodeJson {
        label: &n.label,
        field: n.field.as_deref(),
        value: n.value.as_ref().map(|v| match v {
            FieldValue::Uint(u) => serde_json::Value::from(*u),
            FieldValue::Int(i) => serde_json::Value::from(*i),
            FieldValue::Bool(b) => serde_json::Value::from(*b),
            FieldValue::Bytes(b) => serde_json::Value::from(hex::encode(b)),
            FieldValue::Str(s) => serde_json::Value::from(s.as_str()),
        }),
        span: n.span.as_ref(),
        generated: n.generated,
        children: n.children.iter().map(node_json).collect(),
    }
}

/// Seconds with microsecond precision as an f64 that prints exactly (e.g. 2.131).
fn secs(nanos: i128) -> f64 {
    let micros = nanos.div_euclid(1_000);
    micros as f64 / 1e6
}

fn finding_json(f: &Finding) -> FindingJson<'_> {
    FindingJson {
        kind: f.kind.as_str(),
        severity: f.severity.as_str(),
        layer: f.layer.as_str(),
        message: &f.message,
        span: f.span.as_ref(),
        related_frames: &f.related_frames,
    }
}

fn options_json(m: &Message) -> Vec<OptionJson> {
    m.options
        .iter()
        .map(|o| {
            let v = m.option_value(o);
            OptionJson {
                number: o.number,
                name: option_def(o.number)
                    .map(|d| d.name.to_string())
                    .unwrap_or_else(|| format!("Unknown ({})", o.number)),
                value: OptionValue::decode(o.number, v).to_string(),
                raw: hex::encode(v),
            }
        })
        .collect()
}

fn oscore_json(o: &OscoreRecord) -> OscoreJson<'_> {
    let opt = o.opt();
    OscoreJson {
        kid: opt.and_then(|p| p.kid_value()).map(hex::encode),
        piv: opt.and_then(|p| p.piv_value()).map(hex::encode),
        kid_context: opt.and_then(|p| p.kid_context_value()).map(hex::encode),
        flags: opt.map(|p| hex::encode(p.flag_bytes())),
        kudos: opt.and_then(|p| p.kudos()).map(|k| KudosJson {
            x: k.x,
            z: if k.convergent() { "convergent" } else { "divergent" },
            b: k.preserve_observations(),
            p: k.no_fs(),
            m: k.m(),
            reserved: k.reserved_bit(),
            nonce: hex::encode(&k.nonce.value),
        }),
        status: o.status.as_str(),
        context: o.context.as_ref().map(|c| ContextJson {
            name: &c.name,
            generation: &c.label,
            sender: c.sender_name,
        }),
        request_frame: o.request_frame,
        request_kid: o.request_kid.as_deref().map(hex::encode),
        request_piv: o.request_piv.as_deref().map(hex::encode),
        nonce: o.nonce.as_deref().map(hex::encode),
        nonce_source: o.nonce_source.map(|n| match n {
            NonceSource::OwnPiv => "own_piv",
            NonceSource::RequestNonce => "request_nonce",
        }),
        echo_recovery: o.echo_recovery.map(|e| match e {
            EchoRecovery::Challenge => "challenge",
            EchoRecovery::Response => "response",
        }),
        inner: o.inner.as_ref().map(|m| InnerJson {
            code: analysis::code_label(m.code),
            options: options_json(m),
            payload_len: m.payload.len(),
            payload: hex::encode(m.payload()),
            uri: analysis::uri_of(m),
            complete: m.complete,
            block: o.inner_exchange.as_ref().and_then(|x| exchange_json(x).block),
        }),
    }
}

fn exchange_json(x: &ExchangeInfo) -> ExchangeJson<'_> {
    let role = match x.role {
        Role::Request => "request",
        Role::Response => "response",
        Role::EmptyAck => "empty_ack",
        Role::Reset => "reset",
        Role::Ping => "ping",
        Role::Other => "other",
    };
    let observe = x.observe.as_ref().map(|o| match o {
        ObserveInfo::Register => {
            ObserveJson { kind: "register", registration_frame: None, sequence: None, index: None }
        }
        ObserveInfo::Deregister => {
            ObserveJson { kind: "deregister", registration_frame: None, sequence: None, index: None }
        }
        ObserveInfo::Notification { registration_frame, sequence, index } => ObserveJson {
            kind: "notification",
            registration_frame: Some(*registration_frame),
            sequence: Some(*sequence),
            index: Some(*index),
        },
        ObserveInfo::Ends { registration_frame } => ObserveJson {
            kind: "ends",
            registration_frame: Some(*registration_frame),
            sequence: None,
            index: None,
        },
    });
    let block = x.block.as_ref().map(|b| BlockJson {
        kind: match b.kind {
            BlockKind::Block1 => "block1",
            BlockKind::Block2 => "block2",
        },
        num: b.num,
        more: b.more,
        size: b.size,
        transfer_first_frame: b.transfer_first_frame,
        completed_frames: b.completed.as_ref().map(|c| c.frames.as_slice()),
        total_len: b.completed.as_ref().map(|c| c.total_len),
    });
    ExchangeJson {
        role,
        request_frame: x.request_frame,
        response_time: x.response_time.map(|t| secs(t.0)),
        retransmission_of: x.retransmission_of,
        mid_reused_from: x.mid_reused_from,
        acknowledges: x.acknowledges,
        observe,
        block,
    }
}

pub fn write_frame(out: &mut impl Write, r: &FrameRecord, with_tree: bool) -> io::Result<()> {
    let coap = r.coap.as_ref().map(|c| {
        let m = &c.message;
        CoapJson {
            mtype: m.mtype.as_str(),
            code: analysis::code_label(m.code),
            code_num: format!("{}.{:02}", m.code.class(), m.code.detail()),
            mid: m.mid,
            token: hex::encode(m.token()),
            options: options_json(m),
            payload_len: m.payload.len(),
            payload: hex::encode(m.payload()),
            uri: analysis::uri_of(m),
            complete: m.complete,
            detection: match c.detection {
                CoapDetection::Port => "port",
                CoapDetection::Heuristic => "heuristic",
            },
            exchange: exchange_json(&c.exchange),
        }
    });
    let tree = with_tree.then(|| dissect::dissect(r));
    let obj = FrameJson {
        frame: r.number,
        time: secs(r.rel_time.0),
        epoch: r.ts.to_string(),
        length: r.orig_len,
        caplen: r.cap_len,
        protocol: r.protocol(),
        src: r.src.map(|e| e.to_string()),
        dst: r.dst.map(|e| e.to_string()),
        oscore: r.coap.as_ref().and_then(|c| c.oscore.as_deref()).map(oscore_json),
        coap,
        findings: r.findings.iter().map(finding_json).collect(),
        tree: tree.as_ref().map(|t| t.roots.iter().map(node_json).collect()),
    };
    serde_json::to_writer(&mut *out, &obj)?;
    writeln!(out)
}

#[derive(Serialize)]
struct StatsJson<'a> {
    capture: String,
    format: &'static str,
    frames: u64,
    bytes: u64,
    duration: f64,
    udp_datagrams: u64,
    coap_messages: u64,
    coap_heuristic: u64,
    by_type: &'a std::collections::BTreeMap<&'static str, u64>,
    by_code: &'a std::collections::BTreeMap<String, u64>,
    requests: u64,
    responses: u64,
    empty_acks: u64,
    resets: u64,
    pings: u64,
    exchanges: u64,
    unanswered_requests: &'a [u64],
    retransmissions: u64,
    observations: u64,
    notifications: u64,
    block_transfers_completed: u64,
    block_transfers_incomplete: u64,
    oscore_protected: u64,
    oscore_by_status: &'a std::collections::BTreeMap<&'static str, u64>,
    kudos_derivations: u64,
    kudos_contexts: u64,
    findings: Vec<FindingCountJson>,
}

#[derive(Serialize)]
struct FindingCountJson {
    severity: &'static str,
    kind: &'static str,
    count: u64,
}

pub fn write_stats(out: &mut impl Write, path: &Path, format: CaptureFormat, s: &Stats) -> io::Result<()> {
    let mut findings: Vec<FindingCountJson> = s
        .findings
        .iter()
        .map(|((sev, kind), n)| FindingCountJson { severity: sev.as_str(), kind, count: *n })
        .collect();
    findings.sort_by(|a, b| {
        analyzer_core::Severity::parse(b.severity)
            .cmp(&analyzer_core::Severity::parse(a.severity))
            .then(a.kind.cmp(b.kind))
    });
    let obj = StatsJson {
        capture: path.display().to_string(),
        format: match format {
            CaptureFormat::Pcap { .. } => "pcap",
            CaptureFormat::PcapNg => "pcapng",
        },
        frames: s.frames,
        bytes: s.bytes,
        duration: match (s.first_ts, s.last_ts) {
            (Some(a), Some(b)) => secs(b.nanos_since(a)),
            _ => 0.0,
        },
        udp_datagrams: s.udp_datagrams,
        coap_messages: s.coap_messages,
        coap_heuristic: s.coap_heuristic,
        by_type: &s.by_type,
        by_code: &s.by_code,
        requests: s.requests,
        responses: s.responses,
        empty_acks: s.empty_acks,
        resets: s.resets,
        pings: s.pings,
        exchanges: s.exchanges.exchanges,
        unanswered_requests: &s.exchanges.unanswered_requests,
        retransmissions: s.exchanges.retransmissions,
        observations: s.exchanges.observations,
        notifications: s.exchanges.notifications,
        block_transfers_completed: s.exchanges.block_transfers_completed,
        block_transfers_incomplete: s.exchanges.block_transfers_incomplete,
        oscore_protected: s.oscore.protected,
        oscore_by_status: &s.oscore.by_status,
        kudos_derivations: s.oscore.kudos_derivations,
        kudos_contexts: s.oscore.kudos_contexts,
        findings,
    };
    serde_json::to_writer(&mut *out, &obj)?;
    writeln!(out)
}
