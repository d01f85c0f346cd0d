//! Findings: located, typed observations about a frame (malformed input, protocol slips, audit
//! results). Bad input never aborts an analysis; it becomes a finding and the next frame goes on.

use serde::Serialize;
use std::fmt;
use std::ops::Range;

/// How serious a finding is. Ordered: `Info < Low < Medium < High < Critical`.
///
/// Mapping to Wireshark expert severities (plugin): Info -> Chat, Low -> Note, Medium -> Warning,
/// High and Critical -> Error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] =
        [Severity::Info, Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The protocol layer a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    Capture,
    Link,
    Ieee802154,
    Sixlowpan,
    Ip,
    Udp,
    Coap,
    Oscore,
    Kudos,
    IdUpdate,
    Audit,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Capture => "capture",
            Layer::Link => "link",
            Layer::Ieee802154 => "802.15.4",
            Layer::Sixlowpan => "6lowpan",
            Layer::Ip => "ip",
            Layer::Udp => "udp",
            Layer::Coap => "coap",
            Layer::Oscore => "oscore",
            Layer::Kudos => "kudos",
            Layer::IdUpdate => "id-update",
            Layer::Audit => "audit",
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which bytes a finding (or a dissection field) refers to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "source", rename_all = "lowercase")]
pub enum Span {
    /// Bytes of the captured frame (offsets from the first captured byte).
    Frame { start: usize, end: usize },
    /// Bytes of a reassembled datagram (IP or 6LoWPAN fragments joined).
    Reassembled { start: usize, end: usize },
    /// Bytes of the decrypted OSCORE plaintext.
    Decrypted { start: usize, end: usize },
}

/// The data source a [`Span`] points into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpanSource {
    Frame,
    Reassembled,
    Decrypted,
}

impl Span {
    pub fn frame(r: Range<usize>) -> Self {
        Span::Frame { start: r.start, end: r.end }
    }

    pub fn new(source: SpanSource, r: Range<usize>) -> Self {
        let (start, end) = (r.start, r.end);
        match source {
            SpanSource::Frame => Span::Frame { start, end },
            SpanSource::Reassembled => Span::Reassembled { start, end },
            SpanSource::Decrypted => Span::Decrypted { start, end },
        }
    }

    pub fn source(&self) -> SpanSource {
        match self {
            Span::Frame { .. } => SpanSource::Frame,
            Span::Reassembled { .. } => SpanSource::Reassembled,
            Span::Decrypted { .. } => SpanSource::Decrypted,
        }
    }

    /// Moves a span computed relative to some sub-buffer (e.g. a CoAP message) to where that
    /// buffer starts in `source`.
    pub fn relocate(&self, offset: usize, source: SpanSource) -> Span {
        let r = self.range();
        Span::new(source, r.start.saturating_add(offset)..r.end.saturating_add(offset))
    }

    pub fn range(&self) -> Range<usize> {
        match *self {
            Span::Frame { start, end }
            | Span::Reassembled { start, end }
            | Span::Decrypted { start, end } => start..end,
        }
    }
}

/// Stable identifiers of finding kinds. The string form (`as_str`) is part of the JSON and
/// filter interface: never rename one, only add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[non_exhaustive]
pub enum FindingKind {
    // capture
    CaptureTruncated,
    CaptureMalformed,
    UnsupportedLinkType,
    // link / network / transport
    LinkTruncated,
    LinkMalformed,
    IpTruncated,
    IpMalformed,
    IpChecksum,
    IpFragmentOverlap,
    IpReassemblyIncomplete,
    UdpTruncated,
    UdpMalformed,
    UdpChecksum,
    SixlowpanMalformed,
    SixlowpanReassemblyIncomplete,
    /// 802.15.4 FCS mismatch.
    LinkChecksum,
    /// A 6LoWPAN header cut short by the capture.
    SixlowpanTruncated,
    /// 6LoWPAN context-based compression with a context id that is not configured.
    SixlowpanUnknownContext,
    /// An encrypted payload not decoded (802.15.4 security, IPsec ESP).
    EncryptedPayload,
    /// A valid feature the network decoder does not decode (e.g. 802.15.4 multipurpose frames).
    NetUnsupported,
    // CoAP
    CoapTruncated,
    CoapMalformed,
    CoapBadVersion,
    CoapBadTokenLength,
    CoapBadOption,
    CoapOptionValue,
    CoapEmptyPayloadMarker,
    CoapEmptyMessageNotEmpty,
    CoapRetransmission,
    CoapDuplicate,
    CoapUnmatchedResponse,
    CoapUnmatchedAck,
    CoapBlockGap,
    CoapTokenReuse,
    // OSCORE
    OscoreOptionNote,
    OscoreMalformedOption,
    OscoreUnsupported,
    OscoreClassEOuter,
    OscoreNoContext,
    OscoreNoRequest,
    OscoreTagMismatch,
    OscoreTagTruncated,
    OscoreReplay,
    OscoreNonceReuse,
    OscorePivOutOfWindow,
    OscoreKeyLimit,
    OscoreMessageTooLong,
    OscoreUnprotectedError,
    // KUDOS
    KudosReservedBit,
    KudosTagFailure,
    KudosDowngrade,
    KudosOldContext,
    KudosNonceReuse,
    KudosUnexpectedConvergent,
    KudosNonKudosWhileBusy,
    KudosRetention,
    KudosIncomplete,
    // OSCORE ID update
    IdUpdateFailed,
    IdUpdateAborted,
    IdUpdateConcurrent,
    IdUpdateEarlyUse,
    IdUpdateBadAck,
    KudosLegacyLabel,
    CoapBadCode,
    // Privacy audit (PROTOCOLS.md §4.7)
    /// New IDs used on the old network before a migration.
    AuditNewIdsOnOldNetwork,
    /// Old IDs used on the new network after an ID update.
    AuditOldIdsOnNewNetwork,
    /// The SSN continued the old counter under the new IDs.
    AuditSsnNotRestarted,
    /// An ID change an observer can still link by items the peers control.
    AuditLinkableMigration,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::CaptureTruncated => "capture.truncated",
            FindingKind::CaptureMalformed => "capture.malformed",
            FindingKind::UnsupportedLinkType => "link.unsupported",
            FindingKind::LinkTruncated => "link.truncated",
            FindingKind::LinkMalformed => "link.malformed",
            FindingKind::IpTruncated => "ip.truncated",
            FindingKind::IpMalformed => "ip.malformed",
            FindingKind::IpChecksum => "ip.checksum",
            FindingKind::IpFragmentOverlap => "ip.fragment_overlap",
            FindingKind::IpReassemblyIncomplete => "ip.reassembly_incomplete",
            FindingKind::UdpTruncated => "udp.truncated",
            FindingKind::UdpMalformed => "udp.malformed",
            FindingKind::UdpChecksum => "udp.checksum",
            FindingKind::SixlowpanMalformed => "6lowpan.malformed",
            FindingKind::SixlowpanReassemblyIncomplete => "6lowpan.reassembly_incomplete",
            FindingKind::LinkChecksum => "link.checksum",
            FindingKind::SixlowpanTruncated => "6lowpan.truncated",
            FindingKind::SixlowpanUnknownContext => "6lowpan.unknown_context",
            FindingKind::EncryptedPayload => "net.encrypted",
            FindingKind::NetUnsupported => "net.unsupported",
            FindingKind::CoapTruncated => "coap.truncated",
            FindingKind::CoapMalformed => "coap.malformed",
            FindingKind::CoapBadVersion => "coap.bad_version",
            FindingKind::CoapBadTokenLength => "coap.bad_token_length",
            FindingKind::CoapBadOption => "coap.bad_option",
            FindingKind::CoapOptionValue => "coap.option_value",
            FindingKind::CoapEmptyPayloadMarker => "coap.empty_payload_marker",
            FindingKind::CoapEmptyMessageNotEmpty => "coap.empty_message_not_empty",
            FindingKind::CoapRetransmission => "coap.retransmission",
            FindingKind::CoapDuplicate => "coap.duplicate",
            FindingKind::CoapUnmatchedResponse => "coap.unmatched_response",
            FindingKind::CoapUnmatchedAck => "coap.unmatched_ack",
            FindingKind::CoapBlockGap => "coap.block_gap",
            FindingKind::CoapTokenReuse => "coap.token_reuse",
            FindingKind::OscoreOptionNote => "oscore.option_note",
            FindingKind::OscoreMalformedOption => "oscore.malformed_option",
            FindingKind::OscoreUnsupported => "oscore.unsupported",
            FindingKind::OscoreClassEOuter => "oscore.class_e_outer",
            FindingKind::OscoreNoContext => "oscore.no_context",
            FindingKind::OscoreNoRequest => "oscore.no_request",
            FindingKind::OscoreTagMismatch => "oscore.tag_mismatch",
            FindingKind::OscoreTagTruncated => "oscore.tag_truncated",
            FindingKind::OscoreReplay => "oscore.replay",
            FindingKind::OscoreNonceReuse => "oscore.nonce_reuse",
            FindingKind::OscorePivOutOfWindow => "oscore.piv_out_of_window",
            FindingKind::OscoreKeyLimit => "oscore.key_limit",
            FindingKind::OscoreMessageTooLong => "oscore.message_too_long",
            FindingKind::OscoreUnprotectedError => "oscore.unprotected_error",
            FindingKind::KudosReservedBit => "kudos.reserved_bit",
            FindingKind::KudosTagFailure => "kudos.tag_failure",
            FindingKind::KudosDowngrade => "kudos.downgrade",
            FindingKind::KudosOldContext => "kudos.old_context",
            FindingKind::KudosNonceReuse => "kudos.nonce_reuse",
            FindingKind::KudosUnexpectedConvergent => "kudos.unexpected_convergent",
            FindingKind::KudosNonKudosWhileBusy => "kudos.non_kudos_while_busy",
            FindingKind::KudosRetention => "kudos.retention",
            FindingKind::KudosIncomplete => "kudos.incomplete",
            FindingKind::IdUpdateFailed => "idupdate.failed",
            FindingKind::IdUpdateAborted => "idupdate.aborted",
            FindingKind::IdUpdateConcurrent => "idupdate.concurrent",
            FindingKind::IdUpdateEarlyUse => "idupdate.early_use",
            FindingKind::IdUpdateBadAck => "idupdate.bad_ack",
            FindingKind::KudosLegacyLabel => "kudos.legacy_label",
            FindingKind::CoapBadCode => "coap.bad_code",
            FindingKind::AuditNewIdsOnOldNetwork => "audit.new_ids_on_old_network",
            FindingKind::AuditOldIdsOnNewNetwork => "audit.old_ids_on_new_network",
            FindingKind::AuditSsnNotRestarted => "audit.ssn_not_restarted",
            FindingKind::AuditLinkableMigration => "audit.linkable_migration",
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One located observation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub severity: Severity,
    pub layer: Layer,
    /// The bytes concerned, when the finding is about specific bytes.
    pub span: Option<Span>,
    /// One human sentence: what was expected and what was observed.
    pub message: String,
    /// Other frames that are evidence for this finding (1-based frame numbers), e.g. the
    /// original of a retransmission. The frame the finding is attached to is not repeated.
    pub related_frames: Vec<u64>,
}

impl Finding {
    pub fn new(kind: FindingKind, severity: Severity, layer: Layer, message: impl Into<String>) -> Self {
        Finding { kind, severity, layer, span: None, message: message.into(), related_frames: Vec::new() }
    }

    pub fn at(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }

    pub fn at_frame_bytes(self, r: Range<usize>) -> Self {
        self.at(Span::frame(r))
    }

    pub fn related(mut self, frames: impl IntoIterator<Item = u64>) -> Self {
        self.related_frames.extend(frames);
        self
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {} {}: {}", self.severity, self.layer, self.kind, self.message)?;
        if let Some(span) = &self.span {
            let r = span.range();
            write!(f, " (bytes {}..{})", r.start, r.end)?;
        }
        Ok(())
    }
}
