//! What the plugin shows, decided in plain Rust (unit-testable without Wireshark): which
//! nodes of the dissection tree, which bytes each item spans in which data source, how a tree
//! value maps to a `proto_tree_add_*` call, the Info column text, and expert-info slots.

use analyzer_core::Finding;
use analyzer_core::analysis::{CoapRecord, FrameRecord, code_label, uri_of};
use analyzer_core::dissect::{FieldValue, Node, Tree};
use analyzer_core::fields::{Field, FieldGroup, FieldType};
use analyzer_core::finding::{Severity, Span, SpanSource};
use analyzer_core::oscore::engine::{ContextRef, Status};
use std::ffi::CString;

/// True for a root of the tree the plugin shows: one with at least one field from CoAP up,
/// or with no field at all (a pure text node). The frame summary and Wireshark-duplicating
/// layers (Ethernet, IP, UDP, reassembly list) are left out.
pub fn shows_root(n: &Node) -> bool {
    let (mut any, mut app) = (false, false);
    n.walk(&mut |m, _| {
        if let Some(f) = &m.field {
            any = true;
            app |= FieldGroup::of(f).is_application();
        }
    });
    app || !any
}

/// The roots the plugin shows, in order.
pub fn shown_roots(tree: &Tree) -> impl Iterator<Item = &Node> {
    tree.roots.iter().filter(|r| shows_root(r))
}

/// Lengths of the data sources of one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sources {
    /// `tvb_captured_length` of the frame.
    pub frame: usize,
    /// The reassembled datagram, when the CoAP message lives in one.
    pub reassembled: Option<usize>,
    /// The decrypted plaintext, when there is one.
    pub decrypted: Option<usize>,
}

impl Sources {
    pub fn of(record: &FrameRecord, frame_len: usize) -> Sources {
        let oscore = record.coap.as_ref().and_then(|c| c.oscore.as_ref());
        Sources {
            frame: frame_len,
            reassembled: record.reassembled_bytes.as_ref().map(Vec::len),
            decrypted: oscore.and_then(|o| o.inner.as_ref()).map(|m| m.bytes.len()),
        }
    }

    fn len(&self, s: SpanSource) -> Option<usize> {
        match s {
            SpanSource::Frame => Some(self.frame),
            SpanSource::Reassembled => self.reassembled,
            SpanSource::Decrypted => self.decrypted,
        }
    }
}

/// Where an item goes: a data source and a range checked against that source's length and
/// `i32` (epan's `gint`), so no `proto_tree_add_*` call can throw on its offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub source: SpanSource,
    pub start: i32,
    pub len: i32,
}

impl Placement {
    /// No bytes (generated items): offset 0, length 0 of the frame.
    pub const NONE: Placement = Placement { source: SpanSource::Frame, start: 0, len: 0 };
}

/// Places a span; spans outside their source (or into a source that is absent) get no bytes.
pub fn place(span: Option<&Span>, sources: &Sources) -> Placement {
    let Some(span) = span else { return Placement::NONE };
    let r = span.range();
    let Some(total) = sources.len(span.source()) else { return Placement::NONE };
    if r.start > r.end || r.end > total {
        return Placement::NONE;
    }
    match (i32::try_from(r.start), i32::try_from(r.end - r.start)) {
        (Ok(start), Ok(len)) => Placement { source: span.source(), start, len },
        _ => Placement::NONE,
    }
}

/// A tree value as the `proto_tree_add_*` variant of its registered type takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsValue<'a> {
    /// `proto_tree_add_uint` (FT_UINT8/16/32, FT_FRAMENUM).
    Uint32(u32),
    /// `proto_tree_add_uint64`.
    Uint64(u64),
    /// `proto_tree_add_int64`.
    Int64(i64),
    /// `proto_tree_add_boolean`.
    Bool(bool),
    /// `proto_tree_add_bytes_with_length`.
    Bytes(&'a [u8]),
    /// `proto_tree_add_string` (NUL bytes replaced, so the C string is the whole value).
    Str(CString),
}

/// The call for `value` under `field`, or `None` when the value does not have the registered
/// type (e.g. an invalid option value shown as bytes): the plugin then shows the node as text.
pub fn ws_value<'a>(field: &Field, value: &'a FieldValue) -> Option<WsValue<'a>> {
    Some(match (field.ty, value) {
        (FieldType::U8 | FieldType::U16 | FieldType::U32 | FieldType::FrameNum, FieldValue::Uint(u)) => {
            if !field.ty.accepts(value) {
                return None;
            }
            WsValue::Uint32(u32::try_from(*u).ok()?)
        }
        (FieldType::U64, FieldValue::Uint(u)) => WsValue::Uint64(*u),
        (FieldType::I64, FieldValue::Int(i)) => WsValue::Int64(*i),
        (FieldType::Bool, FieldValue::Bool(b)) => WsValue::Bool(*b),
        (FieldType::Bytes, FieldValue::Bytes(b)) => {
            i32::try_from(b.len()).ok()?;
            WsValue::Bytes(b)
        }
        (FieldType::Str, FieldValue::Str(s)) => WsValue::Str(c_string(s)),
        _ => return None,
    })
}

/// A C string of `s` with NUL bytes replaced by U+2400 (SYMBOL FOR NULL).
pub fn c_string(s: &str) -> CString {
    match CString::new(s) {
        Ok(c) => c,
        Err(_) => CString::new(s.replace('\0', "\u{2400}")).unwrap_or_default(),
    }
}

/// The text after the protocol name on the `kudoscope` item, e.g.
/// `OSCORE decrypted (d01 g0): GET /meter/power?unit=W`.
pub fn item_summary(r: &FrameRecord) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(c) = &r.coap {
        match &c.oscore {
            Some(o) => {
                let mut s = format!("OSCORE {}", o.status.as_str());
                if let Some(ctx) = &o.context {
                    s.push_str(&format!(" ({})", context_label(ctx)));
                }
                if let (true, Some(inner)) = (o.status.has_plaintext(), &o.inner) {
                    s.push_str(": ");
                    s.push_str(&code_label(inner.code));
                    let uri = uri_of(inner);
                    if !uri.is_empty() {
                        s.push(' ');
                        s.push_str(&uri);
                    }
                }
                parts.push(s);
            }
            None => parts.push(format!("CoAP {} {}", c.message.mtype, code_label(c.message.code))),
        }
    }
    if let Some(worst) = r.max_severity() {
        let n = r.findings.len();
        parts.push(format!("{n} finding{} (worst: {worst})", if n == 1 { "" } else { "s" }));
    }
    parts.join(", ")
}

/// "d01 g0", or just the name when it already ends with the generation ("c1/g1"), as the
/// CLI's summaries write it.
pub fn context_label(ctx: &ContextRef) -> String {
    if ctx.name.ends_with(&*ctx.label) { ctx.name.to_string() } else { format!("{} {}", ctx.name, ctx.label) }
}

/// What the plugin appends to the Info column (`None`: nothing to add), e.g.
/// ` [kudoscope: GET /meter/power?unit=W (d01 g0)]`. Plain CoAP without findings adds
/// nothing (Wireshark's own CoAP summary says it all).
pub fn info_summary(coap: Option<&CoapRecord>, findings: &[Finding]) -> Option<String> {
    let mut s = String::new();
    if let Some(o) = coap.and_then(|c| c.oscore.as_ref()) {
        match (&o.inner, o.status) {
            (Some(inner), st) if st.has_plaintext() => {
                s.push_str(&code_label(inner.code));
                let uri = uri_of(inner);
                if !uri.is_empty() {
                    s.push(' ');
                    s.push_str(&uri);
                }
                if st == Status::TagTruncated {
                    s.push_str(" (tag not verified)");
                }
            }
            (_, st) => s.push_str(&format!("OSCORE {}", st.as_str())),
        }
        if let Some(ctx) = &o.context {
            s.push_str(&format!(" ({})", context_label(ctx)));
        }
    }
    let notable = findings.iter().filter(|f| f.severity >= Severity::Low).count();
    if notable > 0 {
        if !s.is_empty() {
            s.push_str(", ");
        }
        let worst = findings.iter().map(|f| f.severity).max().unwrap_or(Severity::Low);
        s.push_str(&format!("{notable} finding{} ({worst})", if notable == 1 { "" } else { "s" }));
    }
    (!s.is_empty()).then(|| format!(" [kudoscope: {s}]"))
}

/// Wireshark expert severities, in the order the plugin registers them per finding kind.
pub const EXPERT_SEVERITIES: [&str; 4] = ["chat", "note", "warn", "error"];

/// Finding severity -> index into [`EXPERT_SEVERITIES`]: Info -> Chat, Low -> Note,
/// Medium -> Warning, High and Critical -> Error.
pub fn severity_slot(s: Severity) -> usize {
    match s {
        Severity::Info => 0,
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High | Severity::Critical => 3,
    }
}

/// Wireshark expert groups the plugin uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpertGroup {
    Malformed,
    Sequence,
    Checksum,
    Security,
    Protocol,
}

/// The expert group of a finding kind (by its stable name): malformed/truncated input ->
/// Malformed; retransmissions, duplicates, replays, out-of-window PIVs, unmatched or reused
/// identifiers, block gaps -> Sequence; checksums -> Checksum; other OSCORE / KUDOS / ID-update
/// / audit kinds -> Security; the rest -> Protocol.
pub fn expert_group(kind: &str) -> ExpertGroup {
    let (prefix, what) = kind.split_once('.').unwrap_or(("", kind));
    if what.contains("malformed")
        || what.contains("truncated")
        || what.starts_with("bad_")
        || matches!(what, "option_value" | "empty_payload_marker" | "empty_message_not_empty")
    {
        ExpertGroup::Malformed
    } else if what.contains("retransmission")
        || what.contains("duplicate")
        || what.contains("replay")
        || what.contains("out_of_window")
        || what.contains("unmatched")
        || what.contains("reuse") && prefix == "coap"
        || what.contains("gap")
    {
        ExpertGroup::Sequence
    } else if what.contains("checksum") {
        ExpertGroup::Checksum
    } else if matches!(prefix, "oscore" | "kudos" | "idupdate" | "id_update" | "audit" | "edhoc") {
        ExpertGroup::Security
    } else {
        ExpertGroup::Protocol
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use analyzer_core::fields;

    #[test]
    fn placement_checks_bounds_and_sources() {
        let s = Sources { frame: 60, reassembled: None, decrypted: Some(20) };
        assert_eq!(
            place(Some(&Span::Frame { start: 42, end: 60 }), &s),
            Placement { source: SpanSource::Frame, start: 42, len: 18 }
        );
        assert_eq!(place(Some(&Span::Frame { start: 42, end: 61 }), &s), Placement::NONE);
        assert_eq!(place(Some(&Span::Frame { start: 5, end: 4 }), &s), Placement::NONE);
        assert_eq!(place(Some(&Span::Reassembled { start: 0, end: 1 }), &s), Placement::NONE);
        assert_eq!(
            place(Some(&Span::Decrypted { start: 0, end: 20 }), &s),
            Placement { source: SpanSource::Decrypted, start: 0, len: 20 }
        );
        assert_eq!(place(None, &s), Placement::NONE);
        let huge = Sources { frame: usize::MAX, reassembled: None, decrypted: None };
        assert_eq!(place(Some(&Span::Frame { start: 0, end: 1 << 40 }), &huge), Placement::NONE);
    }

    #[test]
    fn values_map_to_the_registered_type() {
        let mid = fields::lookup("coap.mid").unwrap();
        assert_eq!(ws_value(mid, &FieldValue::Uint(46126)), Some(WsValue::Uint32(46126)));
        assert_eq!(ws_value(mid, &FieldValue::Uint(70000)), None, "wider than FT_UINT16");
        let kid = fields::lookup("oscore.kid").unwrap();
        assert_eq!(ws_value(kid, &FieldValue::Bytes(vec![0x6e])), Some(WsValue::Bytes(&[0x6e])));
        let status = fields::lookup("oscore.status").unwrap();
        assert_eq!(
            ws_value(status, &FieldValue::Str("a\0b".into())),
            Some(WsValue::Str(CString::new("a\u{2400}b").unwrap()))
        );
        let uri = fields::lookup("coap.opt.uri_path").unwrap();
        assert_eq!(ws_value(uri, &FieldValue::Bytes(vec![0xff])), None, "invalid UTF-8 -> text");
        let z = fields::lookup("kudos.z").unwrap();
        assert_eq!(ws_value(z, &FieldValue::Bool(true)), Some(WsValue::Bool(true)));
        let resp = fields::lookup("coap.response_to").unwrap();
        assert_eq!(ws_value(resp, &FieldValue::Uint(1 << 33)), None, "frame numbers are 32-bit");
    }

    #[test]
    fn expert_groups_and_severities() {
        assert_eq!(expert_group("oscore.malformed_option"), ExpertGroup::Malformed);
        assert_eq!(expert_group("coap.truncated"), ExpertGroup::Malformed);
        assert_eq!(expert_group("coap.bad_option"), ExpertGroup::Malformed);
        assert_eq!(expert_group("oscore.replay"), ExpertGroup::Sequence);
        assert_eq!(expert_group("coap.retransmission"), ExpertGroup::Sequence);
        assert_eq!(expert_group("udp.checksum"), ExpertGroup::Checksum);
        assert_eq!(expert_group("oscore.nonce_reuse"), ExpertGroup::Security);
        assert_eq!(expert_group("oscore.key_limit"), ExpertGroup::Security);
        assert_eq!(expert_group("kudos.whatever_comes"), ExpertGroup::Security);
        assert_eq!(expert_group("net.unsupported"), ExpertGroup::Protocol);
        assert_eq!(severity_slot(Severity::Info), 0);
        assert_eq!(severity_slot(Severity::Medium), 2);
        assert_eq!(severity_slot(Severity::Critical), 3);
    }
}
