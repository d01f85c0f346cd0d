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

/// Declares [`FindingKind`], its stable strings and [`FindingKind::ALL`] from one list, so the
/// three cannot drift apart.
macro_rules! finding_kinds {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// Stable identifiers of finding kinds. The string form (`as_str`) is part of the JSON,
        /// filter and Wireshark expert-info interface: never rename one, only add.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[non_exhaustive]
        pub enum FindingKind {
            $($(#[$doc])* $variant,)*
        }

        impl FindingKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [FindingKind] = &[$(FindingKind::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(FindingKind::$variant => $name,)*
                }
            }
        }
    };
}

finding_kinds! {
    // capture
    CaptureTruncated => "capture.truncated",
    CaptureMalformed => "capture.malformed",
    UnsupportedLinkType => "link.unsupported",
    // link / network / transport
    LinkTruncated => "link.truncated",
    LinkMalformed => "link.malformed",
    IpTruncated => "ip.truncated",
    IpMalformed => "ip.malformed",
    IpChecksum => "ip.checksum",
    IpFragmentOverlap => "ip.fragment_overlap",
    IpReassemblyIncomplete => "ip.reassembly_incomplete",
    UdpTruncated => "udp.truncated",
    UdpMalformed => "udp.malformed",
    UdpChecksum => "udp.checksum",
    SixlowpanMalformed => "6lowpan.malformed",
    SixlowpanReassemblyIncomplete => "6lowpan.reassembly_incomplete",
    /// 802.15.4 FCS mismatch.
    LinkChecksum => "link.checksum",
    /// A 6LoWPAN header cut short by the capture.
    SixlowpanTruncated => "6lowpan.truncated",
    /// 6LoWPAN context-based compression with a context id that is not configured.
    SixlowpanUnknownContext => "6lowpan.unknown_context",
    /// An encrypted payload not decoded (802.15.4 security, IPsec ESP).
    EncryptedPayload => "net.encrypted",
    /// A valid feature the network decoder does not decode (e.g. 802.15.4 multipurpose frames).
    NetUnsupported => "net.unsupported",
    // CoAP
    CoapTruncated => "coap.truncated",
    CoapMalformed => "coap.malformed",
    CoapBadVersion => "coap.bad_version",
    CoapBadTokenLength => "coap.bad_token_length",
    CoapBadOption => "coap.bad_option",
    CoapOptionValue => "coap.option_value",
    CoapEmptyPayloadMarker => "coap.empty_payload_marker",
    CoapEmptyMessageNotEmpty => "coap.empty_message_not_empty",
    CoapRetransmission => "coap.retransmission",
    CoapDuplicate => "coap.duplicate",
    CoapUnmatchedResponse => "coap.unmatched_response",
    CoapUnmatchedAck => "coap.unmatched_ack",
    CoapBlockGap => "coap.block_gap",
    CoapTokenReuse => "coap.token_reuse",
    /// Notifications of an observation go to a new client endpoint (the client moved).
    CoapObservationMoved => "coap.observation_moved",
    // OSCORE
    OscoreOptionNote => "oscore.option_note",
    OscoreMalformedOption => "oscore.malformed_option",
    OscoreUnsupported => "oscore.unsupported",
    OscoreClassEOuter => "oscore.class_e_outer",
    OscoreNoContext => "oscore.no_context",
    OscoreNoRequest => "oscore.no_request",
    OscoreTagMismatch => "oscore.tag_mismatch",
    OscoreTagTruncated => "oscore.tag_truncated",
    OscoreReplay => "oscore.replay",
    OscoreNonceReuse => "oscore.nonce_reuse",
    OscorePivOutOfWindow => "oscore.piv_out_of_window",
    OscoreKeyLimit => "oscore.key_limit",
    OscoreMessageTooLong => "oscore.message_too_long",
    OscoreUnprotectedError => "oscore.unprotected_error",
    // KUDOS
    KudosReservedBit => "kudos.reserved_bit",
    KudosTagFailure => "kudos.tag_failure",
    KudosDowngrade => "kudos.downgrade",
    KudosOldContext => "kudos.old_context",
    KudosNonceReuse => "kudos.nonce_reuse",
    KudosUnexpectedConvergent => "kudos.unexpected_convergent",
    KudosNonKudosWhileBusy => "kudos.non_kudos_while_busy",
    KudosRetention => "kudos.retention",
    KudosIncomplete => "kudos.incomplete",
    // OSCORE ID update
    IdUpdateFailed => "idupdate.failed",
    IdUpdateAborted => "idupdate.aborted",
    IdUpdateConcurrent => "idupdate.concurrent",
    IdUpdateEarlyUse => "idupdate.early_use",
    IdUpdateBadAck => "idupdate.bad_ack",
    KudosLegacyLabel => "kudos.legacy_label",
    CoapBadCode => "coap.bad_code",
    // Privacy audit (PROTOCOLS.md §4.7)
    /// New IDs used on the old network before a migration.
    AuditNewIdsOnOldNetwork => "audit.new_ids_on_old_network",
    /// Old IDs used on the new network after an ID update.
    AuditOldIdsOnNewNetwork => "audit.old_ids_on_new_network",
    /// The SSN continued the old counter under the new IDs.
    AuditSsnNotRestarted => "audit.ssn_not_restarted",
    /// An ID change an observer can still link by items the peers control.
    AuditLinkableMigration => "audit.linkable_migration",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_kinds_in_declaration_order_with_unique_names() {
        // ALL comes from the same list as the enum (finding_kinds!): in declaration order.
        for (i, k) in FindingKind::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i, "{k}");
        }
        let mut names: Vec<&str> = FindingKind::ALL.iter().map(|k| k.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FindingKind::ALL.len());
    }
}
