//! The CoAP message view: header, token, options and payload, each with its byte range.
//!
//! [`Message::parse`] (CoAP over UDP, RFC 7252 §3) and [`Message::parse_plaintext`] (OSCORE
//! plaintext, RFC 8613 §5.3) share one options/payload code path. Both are lax: they never
//! fail, keep what parsed, and turn every problem into a [`Finding`] whose span is relative to
//! the first byte of the message (`Span::Frame` by convention; callers move it with
//! [`crate::finding::Span::relocate`]).
//!
//! Severities (layer `coap`):
//! - **High**: the message is malformed and a receiver must reject it (RFC 7252 "message
//!   format error"): bad version, token length 9..=15, option nibble 15, option number above
//!   65535, payload marker with no payload, an Empty message with bytes after the header; also
//!   running out of bytes when the caller said the bytes are the whole datagram
//!   ([`ParseOptions::known_complete`]).
//! - **Medium**: running out of bytes otherwise (`coap.truncated`: most likely a capture cut
//!   short; what parsed is kept and `complete` is false); option values outside the registered
//!   length range, a non-repeatable option repeated (both are "treated like an unrecognized
//!   option" by receivers, RFC 7252 §5.4.3/§5.4.5), Block SZX 7 over UDP, signaling codes or
//!   code/type combinations UDP does not allow.
//! - **Low**: reserved code classes (1, 3, 6), a string option that is not UTF-8.
//! - **Info**: a uint option with leading zero bytes (legal but not minimal).

use super::options::{self, OptionFormat, num, option_def};
use crate::finding::{Finding, FindingKind, Layer, Severity, Span};
use std::fmt;
use std::ops::Range;

/// Field offsets of the CoAP-over-UDP header (RFC 7252 §3).
mod field {
    use std::ops::Range;
    pub const VER_T_TKL: usize = 0;
    pub const CODE: usize = 1;
    pub const MID: Range<usize> = 2..4;
    pub const HEADER_LEN: usize = 4;
}

/// The byte that separates options from the payload.
pub const PAYLOAD_MARKER: u8 = 0xff;
/// The longest token RFC 8974 can express (TKL 14: 65535 + 269).
pub const MAX_TOKEN_LEN: usize = 65535 + 269;

/// Message type (RFC 7252 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MsgType {
    Con,
    Non,
    Ack,
    Rst,
}

impl MsgType {
    pub fn from_bits(t: u8) -> MsgType {
        match t & 3 {
            0 => MsgType::Con,
            1 => MsgType::Non,
            2 => MsgType::Ack,
            _ => MsgType::Rst,
        }
    }
    /// The 2-bit wire value.
    pub fn bits(self) -> u8 {
        match self {
            MsgType::Con => 0,
            MsgType::Non => 1,
            MsgType::Ack => 2,
            MsgType::Rst => 3,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            MsgType::Con => "CON",
            MsgType::Non => "NON",
            MsgType::Ack => "ACK",
            MsgType::Rst => "RST",
        }
    }
}

impl fmt::Display for MsgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A CoAP code `c.dd`, stored as the wire byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code(pub u8);

impl Code {
    pub const EMPTY: Code = Code(0x00);
    pub const GET: Code = Code(0x01);
    pub const POST: Code = Code(0x02);
    pub const PUT: Code = Code(0x03);
    pub const DELETE: Code = Code(0x04);
    pub const FETCH: Code = Code(0x05);
    pub const PATCH: Code = Code(0x06);
    pub const IPATCH: Code = Code(0x07);
    pub const CREATED: Code = Code(0x41);
    pub const DELETED: Code = Code(0x42);
    pub const VALID: Code = Code(0x43);
    pub const CHANGED: Code = Code(0x44);
    pub const CONTENT: Code = Code(0x45);
    pub const CONTINUE: Code = Code(0x5f);
    pub const BAD_REQUEST: Code = Code(0x80);
    pub const UNAUTHORIZED: Code = Code(0x81);
    pub const NOT_FOUND: Code = Code(0x84);
    pub const REQUEST_ENTITY_INCOMPLETE: Code = Code(0x88);
    pub const INTERNAL_SERVER_ERROR: Code = Code(0xa0);
    pub const SERVICE_UNAVAILABLE: Code = Code(0xa3);

    /// Builds `class.detail` (class 0..=7, detail 0..=31; higher bits are dropped).
    pub const fn new(class: u8, detail: u8) -> Code {
        Code(((class & 7) << 5) | (detail & 0x1f))
    }
    pub fn class(self) -> u8 {
        self.0 >> 5
    }
    pub fn detail(self) -> u8 {
        self.0 & 0x1f
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn is_request(self) -> bool {
        self.class() == 0 && self.detail() != 0
    }
    pub fn is_response(self) -> bool {
        (2..=5).contains(&self.class())
    }
    /// 4.xx or 5.xx.
    pub fn is_error(self) -> bool {
        matches!(self.class(), 4 | 5)
    }
    /// 7.xx (RFC 8323 signaling; not used over UDP).
    pub fn is_signaling(self) -> bool {
        self.class() == 7
    }
    /// Method or response name, e.g. "GET", "Content"; `None` when unassigned. Signaling
    /// codes are named too ("CSM", "Ping", "Pong", "Release", "Abort"), and 0.00 is "Empty".
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x00 => "Empty",
            0x01 => "GET",
            0x02 => "POST",
            0x03 => "PUT",
            0x04 => "DELETE",
            0x05 => "FETCH",
            0x06 => "PATCH",
            0x07 => "iPATCH",
            0x41 => "Created",
            0x42 => "Deleted",
            0x43 => "Valid",
            0x44 => "Changed",
            0x45 => "Content",
            0x5f => "Continue",
            0x80 => "Bad Request",
            0x81 => "Unauthorized",
            0x82 => "Bad Option",
            0x83 => "Forbidden",
            0x84 => "Not Found",
            0x85 => "Method Not Allowed",
            0x86 => "Not Acceptable",
            0x88 => "Request Entity Incomplete",
            0x89 => "Conflict",
            0x8c => "Precondition Failed",
            0x8d => "Request Entity Too Large",
            0x8f => "Unsupported Content-Format",
            0x96 => "Unprocessable Entity",
            0x9d => "Too Many Requests",
            0xa0 => "Internal Server Error",
            0xa1 => "Not Implemented",
            0xa2 => "Bad Gateway",
            0xa3 => "Service Unavailable",
            0xa4 => "Gateway Timeout",
            0xa5 => "Proxying Not Supported",
            0xa8 => "Hop Limit Reached",
            0xe1 => "CSM",
            0xe2 => "Ping",
            0xe3 => "Pong",
            0xe4 => "Release",
            0xe5 => "Abort",
            _ => return None,
        })
    }
}

impl fmt::Display for Code {
    /// Requests by method name ("GET", "FETCH"), others as "2.05 Content", "0.00 Empty",
    /// "7.01 CSM", or "6.01" / "0.08" when unassigned.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) if self.is_request() => f.write_str(name),
            Some(name) => write!(f, "{}.{:02} {}", self.class(), self.detail(), name),
            None => write!(f, "{}.{:02}", self.class(), self.detail()),
        }
    }
}

/// One option occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoapOption {
    pub number: u16,
    /// All bytes of the option (header byte, extended delta/length, value), in the message.
    pub range: Range<usize>,
    /// The value bytes, in the message.
    pub value: Range<usize>,
}

/// Whether the bytes were a whole CoAP/UDP message or an OSCORE plaintext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Udp,
    OscorePlaintext,
}

/// Parser settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ParseOptions {
    /// Accept RFC 8974 extended token lengths (TKL 9..=12 directly, 13 and 14 with 1 or 2
    /// extension bytes after the Message ID). Only valid after the peers negotiated it; off by
    /// default, where TKL 9..=15 is a message format error (RFC 7252 §3).
    pub extended_token_length: bool,
    /// The caller knows the bytes are the whole message as sent (the capture did not cut the
    /// datagram). Running out of bytes is then the sender's fault: `coap.malformed` (High)
    /// instead of `coap.truncated` (Medium).
    pub known_complete: bool,
}

/// A parsed CoAP message. Owns its bytes; every range indexes into [`Message::bytes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub bytes: Vec<u8>,
    pub kind: MessageKind,
    /// Header fields; for an OSCORE plaintext only `code` is meaningful (version 1, type and
    /// MID copied from nothing: `Con`, 0).
    pub version: u8,
    pub mtype: MsgType,
    pub code: Code,
    pub mid: u16,
    /// The token bytes (empty range when the token is absent or could not be read).
    pub token: Range<usize>,
    /// RFC 8974 token-length extension bytes (TKL 13/14), when present and accepted.
    pub token_ext: Option<Range<usize>>,
    /// Options in wire order (numbers non-decreasing when well-formed).
    pub options: Vec<CoapOption>,
    /// Position of the 0xFF payload marker, if present.
    pub payload_marker: Option<usize>,
    /// Payload bytes (empty range at the end when there is none).
    pub payload: Range<usize>,
    /// False when the bytes ended inside a structure (header, token, option, or right after the
    /// payload marker) or parsing stopped at a format error; what parsed is kept.
    pub complete: bool,
    /// Problems found, spans relative to the start of `bytes`.
    pub findings: Vec<Finding>,
}

fn coap_finding(kind: FindingKind, severity: Severity, span: Range<usize>, msg: String) -> Finding {
    Finding::new(kind, severity, Layer::Coap, msg).at(Span::frame(span))
}

/// Why the options loop stopped early.
enum Stop {
    /// Findings already recorded.
    Stopped,
}

/// Reads one extended delta/length field (RFC 7252 §3.1): nibble 0..=12 is the value, 13
/// takes 1 extra byte (+13), 14 takes 2 (+269). `Err(())` when the extra bytes are missing;
/// nibble 15 must be handled by the caller.
fn read_ext(b: &[u8], nibble: u8, pos: &mut usize) -> Result<u32, ()> {
    match nibble {
        13 => {
            let v = *b.get(*pos).ok_or(())?;
            *pos += 1;
            Ok(u32::from(v) + 13)
        }
        14 => {
            let hi = *b.get(*pos).ok_or(())?;
            let lo = *b.get(*pos + 1).ok_or(())?;
            *pos += 2;
            Ok(u32::from(u16::from_be_bytes([hi, lo])) + 269)
        }
        n => Ok(u32::from(n)),
    }
}

struct Parser<'a> {
    b: &'a [u8],
    opts: ParseOptions,
    findings: Vec<Finding>,
    complete: bool,
}

impl Parser<'_> {
    fn push(&mut self, kind: FindingKind, severity: Severity, span: Range<usize>, msg: String) {
        self.findings.push(coap_finding(kind, severity, span, msg));
    }

    /// The bytes ended inside `what` (declared at `span.start`).
    fn short(&mut self, what: &str, span_start: usize, needed: usize) {
        let len = self.b.len();
        let have = len.saturating_sub(span_start);
        let (kind, sev, tail) = if self.opts.known_complete {
            (FindingKind::CoapMalformed, Severity::High, "the message is shorter than it declares")
        } else {
            (FindingKind::CoapTruncated, Severity::Medium, "message truncated")
        };
        let start = span_start.min(len);
        self.push(
            kind,
            sev,
            start..len,
            format!("{what} needs {needed} bytes from offset {start}, only {have} present: {tail}"),
        );
        self.complete = false;
    }

    fn malformed(&mut self, kind: FindingKind, span: Range<usize>, msg: String) {
        self.push(kind, Severity::High, span, msg);
        self.complete = false;
    }

    /// Parses options from `start` up to the payload marker or the end. Returns the marker
    /// position and the payload range.
    fn options(&mut self, start: usize, out: &mut Vec<CoapOption>) -> (Option<usize>, Range<usize>) {
        let len = self.b.len();
        match self.options_inner(start, out) {
            Ok(Some(marker)) => {
                if marker + 1 >= len {
                    self.push(
                        FindingKind::CoapEmptyPayloadMarker,
                        Severity::High,
                        marker..len,
                        "payload marker 0xFF not followed by a payload (message format error, RFC 7252 §3)"
                            .to_string(),
                    );
                    self.complete = false;
                    (Some(marker), len..len)
                } else {
                    (Some(marker), marker + 1..len)
                }
            }
            Ok(None) | Err(Stop::Stopped) => (None, len..len),
        }
    }

    fn options_inner(&mut self, start: usize, out: &mut Vec<CoapOption>) -> Result<Option<usize>, Stop> {
        let b = self.b;
        let mut pos = start;
        let mut number: u32 = 0;
        let mut prev: Option<u16> = None;
        loop {
            let Some(&hdr) = b.get(pos) else { return Ok(None) };
            if hdr == PAYLOAD_MARKER {
                return Ok(Some(pos));
            }
            let opt_start = pos;
            pos += 1;
            let (dn, ln) = (hdr >> 4, hdr & 0x0f);
            if dn == 15 || ln == 15 {
                let which = if dn == 15 { "delta" } else { "length" };
                self.malformed(
                    FindingKind::CoapBadOption,
                    opt_start..opt_start + 1,
                    format!(
                        "option header byte 0x{hdr:02x}: {which} nibble 15 is reserved (message format error, RFC 7252 §3.1)"
                    ),
                );
                return Err(Stop::Stopped);
            }
            let Ok(delta) = read_ext(b, dn, &mut pos) else {
                self.short("option delta extension", opt_start, if dn == 13 { 2 } else { 3 });
                return Err(Stop::Stopped);
            };
            let ext_delta_len = pos - opt_start - 1;
            let Ok(vlen) = read_ext(b, ln, &mut pos) else {
                let ext_len = if ln == 13 { 1 } else { 2 };
                self.short("option length extension", opt_start, 1 + ext_delta_len + ext_len);
                return Err(Stop::Stopped);
            };
            number += delta;
            let Ok(n) = u16::try_from(number) else {
                self.malformed(
                    FindingKind::CoapBadOption,
                    opt_start..pos,
                    format!("option number {number} exceeds 65535 (message format error)"),
                );
                return Err(Stop::Stopped);
            };
            let vlen = vlen as usize;
            let value = pos..pos + vlen;
            if value.end > b.len() {
                self.short(
                    &format!("option {n} ({} bytes of value)", vlen),
                    opt_start,
                    value.end - opt_start,
                );
                return Err(Stop::Stopped);
            }
            pos = value.end;
            self.check_option(n, prev, opt_start..pos, value.clone());
            out.push(CoapOption { number: n, range: opt_start..pos, value });
            prev = Some(n);
        }
    }

    /// Registry checks of one complete option.
    fn check_option(&mut self, n: u16, prev: Option<u16>, range: Range<usize>, value: Range<usize>) {
        let Some(d) = option_def(n) else { return };
        let vlen = value.len();
        let vbytes = self.b.get(value.clone()).unwrap_or_default();
        let value_span = if vlen == 0 { range.clone() } else { value.clone() };
        if !d.repeatable && prev == Some(n) {
            self.push(
                FindingKind::CoapBadOption,
                Severity::Medium,
                range.clone(),
                format!("{} ({n}) repeated but not repeatable (RFC 7252 §5.4.5)", d.name),
            );
        }
        if vlen < d.min_len || vlen > d.max_len {
            self.push(
                FindingKind::CoapOptionValue,
                Severity::Medium,
                value_span.clone(),
                format!(
                    "{} ({n}) value is {vlen} bytes, the registry allows {}..={} (RFC 7252 §5.4.3)",
                    d.name, d.min_len, d.max_len
                ),
            );
        }
        match d.format {
            OptionFormat::Uint => {
                if vbytes.first() == Some(&0) {
                    self.push(
                        FindingKind::CoapOptionValue,
                        Severity::Info,
                        value_span.clone(),
                        format!("{} ({n}) uint has a leading zero byte (not minimal, RFC 7252 §3.2)", d.name),
                    );
                }
                if matches!(n, num::BLOCK1 | num::BLOCK2 | num::Q_BLOCK1 | num::Q_BLOCK2)
                    && vlen <= 3
                    && vbytes.last().is_some_and(|v| v & 7 == 7)
                {
                    self.push(
                        FindingKind::CoapOptionValue,
                        Severity::Medium,
                        value_span,
                        format!(
                            "{} ({n}) SZX 7 is reserved (BERT is only defined over TCP, RFC 8323)",
                            d.name
                        ),
                    );
                }
            }
            OptionFormat::String => {
                if std::str::from_utf8(vbytes).is_err() {
                    self.push(
                        FindingKind::CoapOptionValue,
                        Severity::Low,
                        value_span,
                        format!("{} ({n}) value is not valid UTF-8", d.name),
                    );
                }
            }
            OptionFormat::Empty | OptionFormat::Opaque => {}
        }
    }
}

/// The heap buffers of a [`Message`], kept to parse the next one into.
#[derive(Debug, Default)]
pub struct Buffers {
    bytes: Vec<u8>,
    options: Vec<CoapOption>,
}

impl Buffers {
    /// The byte buffer, for a plaintext parsed by [`Message::parse_plaintext_in`].
    pub fn bytes_mut(&mut self) -> &mut Vec<u8> {
        &mut self.bytes
    }
}

impl Message {
    /// Gives up the message's buffers for [`Message::parse_into`] (its bytes and options are
    /// left empty).
    pub fn take_buffers(&mut self) -> Buffers {
        Buffers { bytes: std::mem::take(&mut self.bytes), options: std::mem::take(&mut self.options) }
    }

    /// Parses a CoAP-over-UDP message (lax) with default [`ParseOptions`].
    pub fn parse(bytes: &[u8]) -> Message {
        Message::parse_with(bytes, ParseOptions::default())
    }

    /// Parses a CoAP-over-UDP message (lax).
    pub fn parse_with(bytes: &[u8], opts: ParseOptions) -> Message {
        Message::parse_into(bytes, opts, Buffers::default())
    }

    /// [`Message::parse_with`] into the buffers of an earlier message (no allocation once
    /// they have grown: see [`Message::take_buffers`]).
    pub fn parse_into(bytes: &[u8], opts: ParseOptions, mut buffers: Buffers) -> Message {
        buffers.bytes.clear();
        buffers.bytes.extend_from_slice(bytes);
        buffers.options.clear();
        let len = bytes.len();
        let mut p = Parser { b: bytes, opts, findings: Vec::new(), complete: true };
        let mut m = Message {
            bytes: buffers.bytes,
            kind: MessageKind::Udp,
            version: 1,
            mtype: MsgType::Con,
            code: Code::EMPTY,
            mid: 0,
            token: len..len,
            token_ext: None,
            options: buffers.options,
            payload_marker: None,
            payload: len..len,
            complete: true,
            findings: Vec::new(),
        };
        let b0 = bytes.get(field::VER_T_TKL).copied();
        if let Some(b0) = b0 {
            m.version = b0 >> 6;
            m.mtype = MsgType::from_bits(b0 >> 4);
        }
        if let Some(&c) = bytes.get(field::CODE) {
            m.code = Code(c);
        }
        let (Some(b0), Some(mid)) = (b0, bytes.get(field::MID)) else {
            p.short("CoAP header", 0, field::HEADER_LEN);
            return m.finish(p);
        };
        m.mid = u16::from_be_bytes([mid.first().copied().unwrap_or(0), mid.get(1).copied().unwrap_or(0)]);
        if m.version != 1 {
            p.malformed(
                FindingKind::CoapBadVersion,
                0..1,
                format!(
                    "version {} (only 1 is defined; receivers silently ignore it, RFC 7252 §3)",
                    m.version
                ),
            );
            // Not a parse stop: what follows is still shown.
            p.complete = true;
        }
        let tkl = b0 & 0x0f;
        let mut pos = field::HEADER_LEN;
        let token_len = match tkl {
            0..=8 => usize::from(tkl),
            9..=12 if opts.extended_token_length => usize::from(tkl),
            13 | 14 if opts.extended_token_length => match read_ext(bytes, tkl, &mut pos) {
                Ok(v) => {
                    // read_ext adds 13 / 269 exactly as RFC 8974 §2.1 does for TKL 13 / 14.
                    m.token_ext = Some(field::HEADER_LEN..pos);
                    v as usize
                }
                Err(()) => {
                    p.short("extended token length", 0, field::HEADER_LEN + usize::from(tkl - 12));
                    m.token = len..len;
                    return m.finish(p);
                }
            },
            _ => {
                let why = if tkl == 15 || !opts.extended_token_length {
                    "token length 9..=15 is a message format error (RFC 7252 §3; RFC 8974 extended lengths not enabled)"
                } else {
                    "token length nibble 15 is reserved (RFC 8974 §2.1)"
                };
                p.malformed(FindingKind::CoapBadTokenLength, 0..1, format!("TKL {tkl}: {why}"));
                m.token = pos..pos;
                return m.finish(p);
            }
        };
        let token = pos..pos + token_len;
        if token.end > len {
            p.short(&format!("token ({token_len} bytes)"), 0, token.end);
            m.token = pos.min(len)..pos.min(len);
            return m.finish(p);
        }
        m.token = token.clone();
        check_codes(&mut p, &m, tkl);
        let (marker, payload) = p.options(token.end, &mut m.options);
        m.payload_marker = marker;
        m.payload = payload;
        m.finish(p)
    }

    /// Parses an OSCORE plaintext: code byte, options, optional 0xFF + payload (lax).
    pub fn parse_plaintext(bytes: &[u8]) -> Message {
        Message::parse_plaintext_with(bytes, ParseOptions::default())
    }

    /// Parses an OSCORE plaintext (RFC 8613 §5.3) with explicit [`ParseOptions`]
    /// (`extended_token_length` does not apply).
    pub fn parse_plaintext_with(bytes: &[u8], opts: ParseOptions) -> Message {
        Message::parse_plaintext_owned(bytes.to_vec(), opts)
    }

    /// [`Message::parse_plaintext_with`] keeping `bytes` (no copy: the engine hands over the
    /// plaintext it just decrypted).
    pub fn parse_plaintext_owned(bytes: Vec<u8>, opts: ParseOptions) -> Message {
        Message::parse_plaintext_in(Buffers { bytes, options: Vec::new() }, opts)
    }

    /// [`Message::parse_plaintext_owned`] on the plaintext the caller wrote into
    /// [`Buffers::bytes_mut`]; the option list of an earlier message is reused.
    pub fn parse_plaintext_in(buffers: Buffers, opts: ParseOptions) -> Message {
        let Buffers { bytes, mut options } = buffers;
        options.clear();
        let mut m = Message::plaintext_fields(&bytes, opts, options);
        m.bytes = bytes;
        m
    }

    /// Everything of a plaintext message but its `bytes` (left empty).
    fn plaintext_fields(bytes: &[u8], opts: ParseOptions, options: Vec<CoapOption>) -> Message {
        let len = bytes.len();
        let mut p = Parser { b: bytes, opts, findings: Vec::new(), complete: true };
        let mut m = Message {
            bytes: Vec::new(),
            kind: MessageKind::OscorePlaintext,
            version: 1,
            mtype: MsgType::Con,
            code: Code::EMPTY,
            mid: 0,
            token: 0..0,
            token_ext: None,
            options,
            payload_marker: None,
            payload: len..len,
            complete: true,
            findings: Vec::new(),
        };
        let Some(&code) = bytes.first() else {
            p.short("OSCORE plaintext code", 0, 1);
            return m.finish(p);
        };
        m.code = Code(code);
        if m.code.is_empty() || matches!(m.code.class(), 1 | 3 | 6) {
            p.push(
                FindingKind::CoapBadCode,
                Severity::Low,
                0..1,
                format!("inner code {} is not a request or response code", m.code),
            );
        }
        let (marker, payload) = p.options(1, &mut m.options);
        m.payload_marker = marker;
        m.payload = payload;
        m.finish(p)
    }

    fn finish(mut self, p: Parser<'_>) -> Message {
        self.complete = p.complete;
        self.findings = p.findings;
        self
    }

    pub fn token(&self) -> &[u8] {
        self.bytes.get(self.token.clone()).unwrap_or_default()
    }
    pub fn payload(&self) -> &[u8] {
        self.bytes.get(self.payload.clone()).unwrap_or_default()
    }
    pub fn option_value(&self, opt: &CoapOption) -> &[u8] {
        self.bytes.get(opt.value.clone()).unwrap_or_default()
    }
    /// All values of option `number`, in order.
    pub fn option_values(&self, number: u16) -> impl Iterator<Item = &[u8]> {
        self.options.iter().filter(move |o| o.number == number).map(|o| self.option_value(o))
    }
    /// The first value of option `number`.
    pub fn first_option(&self, number: u16) -> Option<&[u8]> {
        self.option_values(number).next()
    }
    /// The first occurrence of option `number`.
    pub fn find_option(&self, number: u16) -> Option<&CoapOption> {
        self.options.iter().find(|o| o.number == number)
    }
    /// The first value of a uint option (`None` when absent or longer than 8 bytes).
    pub fn uint_option(&self, number: u16) -> Option<u64> {
        self.first_option(number).and_then(options::decode_uint)
    }
    /// Bytes of the Message ID field (UDP only; empty for plaintexts and short messages).
    pub fn mid_range(&self) -> Range<usize> {
        if self.kind == MessageKind::Udp && self.bytes.len() >= field::HEADER_LEN { field::MID } else { 0..0 }
    }
}

/// Code/type checks for CoAP over UDP (RFC 7252 §4.1-§4.3, §12.1; RFC 8323 §5).
fn check_codes(p: &mut Parser<'_>, m: &Message, tkl: u8) {
    let len = p.b.len();
    let code = m.code;
    if code.is_empty() {
        if tkl != 0 || len > field::HEADER_LEN {
            let span = if len > field::HEADER_LEN { field::HEADER_LEN..len } else { 0..1 };
            p.push(
                FindingKind::CoapEmptyMessageNotEmpty,
                Severity::High,
                span,
                format!(
                    "Empty message (0.00) with TKL {tkl} and {} bytes after the header: must be exactly 4 bytes (message format error, RFC 7252 §4.1)",
                    len.saturating_sub(field::HEADER_LEN)
                ),
            );
        }
        if m.mtype == MsgType::Non {
            p.push(
                FindingKind::CoapBadCode,
                Severity::Medium,
                0..2,
                "NON message with code 0.00: a NON must carry a request or response (RFC 7252 §4.3)"
                    .to_string(),
            );
        }
        return;
    }
    match code.class() {
        7 => p.push(
            FindingKind::CoapBadCode,
            Severity::Medium,
            1..2,
            format!("{code} is a signaling code (RFC 8323), not used over UDP"),
        ),
        1 | 3 | 6 => p.push(
            FindingKind::CoapBadCode,
            Severity::Low,
            1..2,
            format!("code {code} is in a reserved class (RFC 7252 §12.1)"),
        ),
        _ => {}
    }
    match m.mtype {
        MsgType::Rst => p.push(
            FindingKind::CoapBadCode,
            Severity::Medium,
            1..2,
            format!("RST with code {code}: a Reset must be an Empty message (RFC 7252 §4.2)"),
        ),
        MsgType::Ack if code.is_request() => p.push(
            FindingKind::CoapBadCode,
            Severity::Medium,
            1..2,
            format!("ACK carrying request {code}: an ACK carries a response or is Empty (RFC 7252 §4.2)"),
        ),
        _ => {}
    }
}

/// A message as plain values, for building and emitting (tests, simulator round trips).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessageRepr {
    /// `None` for OSCORE plaintexts (no header); [`MessageRepr::emit`] then writes CON.
    pub mtype: Option<MsgType>,
    pub code: u8,
    pub mid: u16,
    /// Up to 8 bytes for RFC 7252; longer tokens are written with RFC 8974 extended lengths
    /// (cut at [`MAX_TOKEN_LEN`]).
    pub token: Vec<u8>,
    /// (number, value); emitted sorted by number (stable for repeated options). Values longer
    /// than [`options::MAX_OPTION_VALUE_LEN`] are cut to that length.
    pub options: Vec<(u16, Vec<u8>)>,
    pub payload: Vec<u8>,
}

/// Splits a delta or length into its nibble and extension bytes (RFC 7252 §3.1).
fn nibble(v: usize) -> (u8, [u8; 2], usize) {
    match v {
        0..=12 => (v as u8, [0, 0], 0),
        13..=268 => (13, [(v - 13) as u8, 0], 1),
        _ => {
            let e = (v.min(options::MAX_OPTION_VALUE_LEN) - 269) as u16;
            (14, e.to_be_bytes(), 2)
        }
    }
}

impl MessageRepr {
    /// Encodes as CoAP over UDP (RFC 7252 §3).
    pub fn emit(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body_len_hint() + 4 + self.token.len());
        let t = self.mtype.unwrap_or(MsgType::Con);
        let token = self.token.get(..self.token.len().min(MAX_TOKEN_LEN)).unwrap_or_default();
        // RFC 8974 §2.1 uses the same 13/+13, 14/+269 scheme as option lengths.
        let (tkl, ext, ext_len) = nibble(token.len());
        out.push(0x40 | (t.bits() << 4) | tkl);
        out.push(self.code);
        out.extend_from_slice(&self.mid.to_be_bytes());
        out.extend_from_slice(ext.get(..ext_len).unwrap_or_default());
        out.extend_from_slice(token);
        self.emit_body(&mut out);
        out
    }

    /// Encodes as an OSCORE plaintext (code, options, payload).
    pub fn emit_plaintext(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body_len_hint() + 1);
        out.push(self.code);
        self.emit_body(&mut out);
        out
    }

    fn body_len_hint(&self) -> usize {
        self.options.iter().map(|(_, v)| v.len() + 5).sum::<usize>() + self.payload.len() + 1
    }

    fn emit_body(&self, out: &mut Vec<u8>) {
        let mut order: Vec<&(u16, Vec<u8>)> = self.options.iter().collect();
        order.sort_by_key(|(n, _)| *n); // stable: repeated options keep their order
        let mut prev = 0u16;
        for (n, value) in order {
            let value = value.get(..value.len().min(options::MAX_OPTION_VALUE_LEN)).unwrap_or_default();
            let (dn, dext, dlen) = nibble(usize::from(n - prev));
            let (ln, lext, llen) = nibble(value.len());
            out.push((dn << 4) | ln);
            out.extend_from_slice(dext.get(..dlen).unwrap_or_default());
            out.extend_from_slice(lext.get(..llen).unwrap_or_default());
            out.extend_from_slice(value);
            prev = *n;
        }
        if !self.payload.is_empty() {
            out.push(PAYLOAD_MARKER);
            out.extend_from_slice(&self.payload);
        }
    }

    /// The repr of a well-formed message (`mtype` is `None` for an OSCORE plaintext).
    pub fn from_message(m: &Message) -> MessageRepr {
        MessageRepr {
            mtype: (m.kind == MessageKind::Udp).then_some(m.mtype),
            code: m.code.0,
            mid: m.mid,
            token: m.token().to_vec(),
            options: m.options.iter().map(|o| (o.number, m.option_value(o).to_vec())).collect(),
            payload: m.payload().to_vec(),
        }
    }
}

/// Conservative check for CoAP on a UDP port not configured as CoAP.
///
/// Accepts only: version 1; TKL 0..=8; a code with a registered name in class 0, 2, 4 or 5
/// (so 0.08 or 2.06 are refused, and signaling 7.xx too); an Empty message exactly 4 bytes long
/// and not NON; no request in an ACK, nothing but Empty in a RST; a complete parse whose
/// findings are at most Info (a non-minimal uint is tolerated); and only option numbers in the
/// registry or in the experimental range 65000..=65535.
///
/// Trade-off: this prefers false negatives. Real CoAP with unregistered option numbers,
/// unassigned codes, RFC 8974 tokens or any format error is not recognised (configure the
/// port instead). In exchange random or foreign UDP payloads are rarely taken for CoAP; measured
/// by the `coap_heuristic` integration test over 10^6 uniformly random payloads each: 0.03% of
/// 4..=64-byte payloads, 0.009% of 20..=60-byte ones, 0.19% of 4-byte ones (any registered
/// code with TKL 0 is a plausible option-less message), and 1.4% of payloads whose first two
/// bytes already look like a CoAP header.
pub fn looks_like_coap(bytes: &[u8]) -> bool {
    let (Some(&b0), Some(&b1)) = (bytes.first(), bytes.get(1)) else { return false };
    if bytes.len() < field::HEADER_LEN || b0 >> 6 != 1 || b0 & 0x0f > 8 {
        return false;
    }
    let code = Code(b1);
    let t = MsgType::from_bits(b0 >> 4);
    if !matches!(code.class(), 0 | 2 | 4 | 5) || code.name().is_none() {
        return false;
    }
    if code.is_empty() {
        return bytes.len() == field::HEADER_LEN && b0 & 0x0f == 0 && t != MsgType::Non;
    }
    if t == MsgType::Rst || (t == MsgType::Ack && code.is_request()) {
        return false;
    }
    let m = Message::parse(bytes);
    m.complete
        && m.findings.iter().all(|f| f.severity <= Severity::Info)
        && m.options.iter().all(|o| o.number >= 65000 || option_def(o.number).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    fn kinds(m: &Message) -> Vec<FindingKind> {
        m.findings.iter().map(|f| f.kind).collect()
    }

    fn opts(m: &Message) -> Vec<(u16, Vec<u8>)> {
        m.options.iter().map(|o| (o.number, m.option_value(o).to_vec())).collect()
    }

    #[test]
    fn rfc8613_c4_unprotected_request() {
        // RFC 8613 Appendix C.4: CON GET, TKL 4, MID 0x5d1f, token 00003974,
        // Uri-Host "localhost" (0x39: delta 3, len 9), Uri-Path "tv1" (0x83: delta 8, len 3).
        let b = h("44015d1f00003974396c6f63616c686f737483747631");
        let m = Message::parse(&b);
        assert!(m.complete, "{:?}", m.findings);
        assert!(m.findings.is_empty());
        assert_eq!((m.version, m.mtype, m.code, m.mid), (1, MsgType::Con, Code::GET, 0x5d1f));
        assert_eq!(m.token(), &[0x00, 0x00, 0x39, 0x74]);
        assert_eq!(m.token, 4..8);
        assert_eq!(opts(&m), vec![(3, b"localhost".to_vec()), (11, b"tv1".to_vec())]);
        assert_eq!(m.options[0].range, 8..18);
        assert_eq!(m.options[0].value, 9..18);
        assert_eq!(m.options[1].range, 18..22);
        assert_eq!(m.payload_marker, None);
        assert_eq!(m.payload, 22..22);
        // Byte-exact round trip.
        assert_eq!(MessageRepr::from_message(&m).emit(), b);
    }

    #[test]
    fn rfc8613_c4_c5_c6_protected_outer() {
        // RFC 8613 C.4/C.5/C.6 protected requests: outer POST, Uri-Host, OSCORE option 9.
        for (hex_msg, opt9, mid) in [
            ("44025d1f00003974396c6f63616c686f7374620914ff612f1092f1776f1c1668b3825e", "0914", 0x5d1f),
            ("440271c30000b932396c6f63616c686f737463091400ff4ed339a5a379b0b8bc731fffb0", "091400", 0x71c3),
            (
                "44022f8eef9bbf7a396c6f63616c686f73746b19140837cbf3210017a2d3ff72cd7273fd331ac45cffbe55c3",
                "19140837cbf3210017a2d3",
                0x2f8e,
            ),
        ] {
            let b = h(hex_msg);
            let m = Message::parse(&b);
            assert!(m.complete && m.findings.is_empty(), "{:?}", m.findings);
            assert_eq!((m.code, m.mid), (Code::POST, mid));
            assert_eq!(m.first_option(num::URI_HOST), Some(&b"localhost"[..]));
            assert_eq!(m.first_option(num::OSCORE).map(hex::encode), Some(opt9.to_string()));
            assert_eq!(m.payload().len(), 13);
            assert_eq!(MessageRepr::from_message(&m).emit(), b);
        }
    }

    #[test]
    fn rfc8613_c4_plaintext() {
        // RFC 8613 C.4 plaintext: GET (0x01), Uri-Path "tv1" (0xb3: delta 11, len 3).
        let b = h("01b3747631");
        let m = Message::parse_plaintext(&b);
        assert!(m.complete && m.findings.is_empty());
        assert_eq!(m.kind, MessageKind::OscorePlaintext);
        assert_eq!(m.code, Code::GET);
        assert_eq!(opts(&m), vec![(11, b"tv1".to_vec())]);
        assert_eq!(m.options[0].range, 1..5);
        let r = MessageRepr::from_message(&m);
        assert_eq!(r.mtype, None);
        assert_eq!(r.emit_plaintext(), b);
        // C.7 plaintext: 2.05 Content, payload "Hello World!".
        let m = Message::parse_plaintext(&h("45ff48656c6c6f20576f726c6421"));
        assert_eq!(m.code, Code::CONTENT);
        assert_eq!(m.payload(), b"Hello World!");
        assert_eq!(m.payload_marker, Some(1));
    }

    #[test]
    fn rfc7252_appendix_a() {
        // RFC 7252 Appendix A, Figure 16: CON GET MID 0x7d34, empty token, Uri-Path
        // "temperature" (delta 11, length 11): 16 bytes; ACK 2.05 "22.3 C": 11 bytes.
        let req = h("40017d34bb74656d7065726174757265");
        assert_eq!(req.len(), 16);
        let m = Message::parse(&req);
        assert!(m.complete && m.findings.is_empty());
        assert_eq!((m.mtype, m.code, m.mid, m.token.len()), (MsgType::Con, Code::GET, 0x7d34, 0));
        assert_eq!(opts(&m), vec![(11, b"temperature".to_vec())]);
        assert_eq!(m.options[0].range, 4..16);
        let ack = h("60457d34ff32322e332043");
        assert_eq!(ack.len(), 11);
        let m = Message::parse(&ack);
        assert_eq!((m.mtype, m.code, m.mid), (MsgType::Ack, Code::CONTENT, 0x7d34));
        assert_eq!(m.payload(), b"22.3 C");
        assert_eq!((m.payload_marker, m.payload.clone()), (Some(4), 5..11));
        // Figure 17: token 0x20, MID 0x7d35: 17 and 12 bytes.
        let m = Message::parse(&h("41017d3520bb74656d7065726174757265"));
        assert_eq!((m.bytes.len(), m.token(), m.mid), (17, &[0x20][..], 0x7d35));
        let m = Message::parse(&h("61457d3520ff32322e332043"));
        assert_eq!((m.bytes.len(), m.token(), m.payload()), (12, &[0x20][..], &b"22.3 C"[..]));
        // Figure 20: separate response: empty ACK 0x7d38, CON 2.05 MID 0xad7b token 0x53,
        // empty ACK 0xad7b.
        let m = Message::parse(&h("60007d38"));
        assert!(m.complete && m.findings.is_empty());
        assert_eq!((m.mtype, m.code, m.mid), (MsgType::Ack, Code::EMPTY, 0x7d38));
        let m = Message::parse(&h("4145ad7b53ff32322e332043"));
        assert_eq!((m.mtype, m.code, m.mid, m.token()), (MsgType::Con, Code::CONTENT, 0xad7b, &[0x53][..]));
        // Figure 21: RST 0xad7c; Figure 22: NON GET 0x7d40 token 0x75, NON 2.05 0xad7d.
        let m = Message::parse(&h("7000ad7c"));
        assert!(m.findings.is_empty());
        assert_eq!((m.mtype, m.mid), (MsgType::Rst, 0xad7c));
        let m = Message::parse(&h("51017d4075bb74656d7065726174757265"));
        assert_eq!((m.mtype, m.token()), (MsgType::Non, &[0x75][..]));
        let m = Message::parse(&h("5145ad7d75ff32322e332043"));
        assert_eq!((m.mtype, m.code, m.payload()), (MsgType::Non, Code::CONTENT, &b"22.3 C"[..]));
        // Appendix B: Uri-Host "example.net", Uri-Path ".well-known", "core".
        let b = h("400100013b6578616d706c652e6e65748b2e77656c6c2d6b6e6f776e04636f7265");
        let m = Message::parse(&b);
        assert!(m.findings.is_empty());
        assert_eq!(
            opts(&m),
            vec![(3, b"example.net".to_vec()), (11, b".well-known".to_vec()), (11, b"core".to_vec())]
        );
        // Appendix B: Uri-Path "", "/", "", "" and Uri-Query "//", "?&" (empty values, delta 0).
        let b = h("40010001b0012f0000422f2f023f26");
        let m = Message::parse(&b);
        assert!(m.complete && m.findings.is_empty());
        assert_eq!(
            opts(&m),
            vec![
                (11, vec![]),
                (11, b"/".to_vec()),
                (11, vec![]),
                (11, vec![]),
                (15, b"//".to_vec()),
                (15, b"?&".to_vec())
            ]
        );
        assert_eq!(MessageRepr::from_message(&m).emit(), b);
    }

    #[test]
    fn protocols_md_option_examples() {
        // PROTOCOLS.md §1.2 worked examples.
        // `39 6c6f63616c686f7374`: delta 3 (Uri-Host) len 9 "localhost".
        let r = MessageRepr {
            mtype: Some(MsgType::Con),
            code: 1,
            options: vec![(3, b"localhost".to_vec())],
            ..Default::default()
        };
        assert_eq!(r.emit()[4..], h("396c6f63616c686f7374")[..]);
        // Recipient-ID (24) after Uri-Path (11): delta 13 -> nibble 13, ext 0x00: `d1 00 42`.
        let r = MessageRepr { options: vec![(24, vec![0x42]), (11, vec![])], ..Default::default() };
        let b = r.emit_plaintext();
        assert_eq!(b, h("00b0d10042"));
        let m = Message::parse_plaintext(&b);
        assert_eq!(opts(&m), vec![(11, vec![]), (24, vec![0x42])]);
        // No-Response (258) after Content-Format (12): delta 246 -> `d1 e9 <1 byte>`.
        let r = MessageRepr { code: 2, options: vec![(12, vec![]), (258, vec![26])], ..Default::default() };
        assert_eq!(r.emit_plaintext(), h("02c0d1e91a"));
        assert_eq!(opts(&Message::parse_plaintext(&h("02c0d1e91a"))), r.options);
        // OSCORE option value of 13 bytes as first option: `9d 00 <13 bytes>`.
        let v: Vec<u8> = (1..=13).collect();
        let r = MessageRepr { code: 2, options: vec![(9, v.clone())], ..Default::default() };
        let b = r.emit_plaintext();
        assert_eq!(b[1..3], [0x9d, 0x00]);
        assert_eq!(b[3..], v[..]);
        let m = Message::parse_plaintext(&b);
        assert_eq!(opts(&m), r.options);
        assert_eq!(m.options[0].value, 3..16);
        // Option 65000 as first option, empty value: `e0 fc db`.
        let r = MessageRepr { code: 1, options: vec![(65000, vec![])], ..Default::default() };
        assert_eq!(r.emit_plaintext(), h("01e0fcdb"));
        let m = Message::parse_plaintext(&h("01e0fcdb"));
        assert_eq!(opts(&m), vec![(65000, vec![])]);
        assert!(m.complete && m.findings.is_empty());
    }

    #[test]
    fn extended_length_encodings() {
        // Values of 12, 13, 268, 269 and 1000 bytes exercise every nibble form.
        for len in [0usize, 12, 13, 268, 269, 1000] {
            let r = MessageRepr {
                mtype: Some(MsgType::Non),
                code: 2,
                mid: 7,
                token: vec![1, 2],
                options: vec![(65001, vec![0xab; len]), (65001, vec![])],
                payload: vec![0xcd],
            };
            let b = r.emit();
            let m = Message::parse(&b);
            assert!(m.complete && m.findings.is_empty(), "{len}: {:?}", m.findings);
            assert_eq!(MessageRepr::from_message(&m), r, "{len}");
        }
        // Stable sort: repeated options keep their relative order.
        let r = MessageRepr {
            options: vec![(11, b"b".to_vec()), (3, b"h".to_vec()), (11, b"a".to_vec())],
            code: 1,
            ..Default::default()
        };
        let m = Message::parse(&r.emit());
        assert_eq!(opts(&m), vec![(3, b"h".to_vec()), (11, b"b".to_vec()), (11, b"a".to_vec())]);
    }

    #[test]
    fn codes() {
        assert_eq!(Code::GET.to_string(), "GET");
        assert_eq!(Code(0x07).to_string(), "iPATCH");
        assert_eq!(Code::CONTENT.to_string(), "2.05 Content");
        assert_eq!(Code(0x5f).to_string(), "2.31 Continue");
        assert_eq!(Code(0x84).to_string(), "4.04 Not Found");
        assert_eq!(Code(0xa8).to_string(), "5.08 Hop Limit Reached");
        assert_eq!(Code(0xc1).to_string(), "6.01");
        assert_eq!(Code(0x08).to_string(), "0.08");
        assert_eq!(Code::EMPTY.to_string(), "0.00 Empty");
        assert_eq!(Code(0xe1).to_string(), "7.01 CSM");
        assert_eq!(Code(0xe5).name(), Some("Abort"));
        assert_eq!(Code::new(4, 29), Code(0x9d));
        assert!(Code::FETCH.is_request() && !Code::EMPTY.is_request() && Code(0xa0).is_error());
    }

    #[test]
    fn short_inputs() {
        for b in [&[][..], &[0x40], &[0x40, 0x01, 0x00]] {
            let m = Message::parse(b);
            assert!(!m.complete);
            assert_eq!(kinds(&m), vec![FindingKind::CoapTruncated]);
            assert_eq!(m.findings[0].span, Some(Span::frame(0..b.len())));
        }
        let m =
            Message::parse_with(&[0x40, 0x01], ParseOptions { known_complete: true, ..Default::default() });
        assert_eq!(kinds(&m), vec![FindingKind::CoapMalformed]);
        assert_eq!(m.findings[0].severity, Severity::High);
        // Token beyond the end: TKL 4, 2 token bytes present.
        let m = Message::parse(&h("440100010102"));
        assert_eq!(kinds(&m), vec![FindingKind::CoapTruncated]);
        assert_eq!(m.token(), b"");
        assert!(!m.complete);
    }

    #[test]
    fn header_errors() {
        // Version 2: flagged, rest still parsed.
        let m = Message::parse(&h("8001000ab3747631"));
        assert_eq!(kinds(&m), vec![FindingKind::CoapBadVersion]);
        assert_eq!(m.version, 2);
        assert_eq!(opts(&m), vec![(11, b"tv1".to_vec())]);
        // TKL 9 without RFC 8974: format error, parsing stops.
        let m = Message::parse(&h("4901000a0102030405060708090a"));
        assert_eq!(kinds(&m), vec![FindingKind::CoapBadTokenLength]);
        assert!(!m.complete && m.options.is_empty());
        // TKL 9 with RFC 8974: a 9-byte token.
        let etl = ParseOptions { extended_token_length: true, ..Default::default() };
        let m = Message::parse_with(&h("4901000a010203040506070809"), etl);
        assert!(m.complete && m.findings.is_empty());
        assert_eq!(m.token.len(), 9);
        // TKL 13 with ext byte 0x02 -> 15-byte token.
        let mut b = h("4d01000a02");
        b.extend(1..=15u8);
        let m = Message::parse_with(&b, etl);
        assert!(m.complete, "{:?}", m.findings);
        assert_eq!((m.token.clone(), m.token_ext.clone()), (5..20, Some(4..5)));
        assert_eq!(kinds(&Message::parse(&b)), vec![FindingKind::CoapBadTokenLength]);
        // TKL 14 with ext 0x0000 -> 269-byte token; emit writes the same form.
        let r = MessageRepr { token: vec![7; 269], code: 1, mtype: Some(MsgType::Con), ..Default::default() };
        let b = r.emit();
        assert_eq!(b[0] & 0x0f, 14);
        assert_eq!(b[4..6], [0, 0]);
        let m = Message::parse_with(&b, etl);
        assert_eq!(MessageRepr::from_message(&m), r);
        // TKL 15 is never valid.
        assert_eq!(kinds(&Message::parse_with(&h("4f01000a"), etl)), vec![FindingKind::CoapBadTokenLength]);
        // TKL 13 with the extension byte missing.
        let m = Message::parse_with(&h("4d01000a"), etl);
        assert_eq!(kinds(&m), vec![FindingKind::CoapTruncated]);
    }

    #[test]
    fn option_errors() {
        // Delta nibble 15 (0xf1 is not the payload marker).
        let m = Message::parse(&h("40010001b3747631f1aa"));
        assert_eq!(kinds(&m), vec![FindingKind::CoapBadOption]);
        assert_eq!(m.findings[0].span, Some(Span::frame(8..9)));
        assert_eq!(opts(&m), vec![(11, b"tv1".to_vec())]);
        assert!(!m.complete);
        // Length nibble 15.
        assert_eq!(kinds(&Message::parse(&h("400100011f"))), vec![FindingKind::CoapBadOption]);
        // Extended delta byte missing.
        let m = Message::parse(&h("40010001d0"));
        assert_eq!(kinds(&m), vec![FindingKind::CoapTruncated]);
        assert_eq!(m.findings[0].span, Some(Span::frame(4..5)));
        // Extended length bytes missing (one of two present).
        assert_eq!(kinds(&Message::parse(&h("400100010e01"))), vec![FindingKind::CoapTruncated]);
        // Value beyond the end: Uri-Path says 5 bytes, 2 present; the option is not kept.
        let m = Message::parse(&h("40010001b57475"));
        assert_eq!(kinds(&m), vec![FindingKind::CoapTruncated]);
        assert!(m.options.is_empty());
        // Option number overflow: 65000 + (65535 + 269).
        let m = Message::parse(&h("40010001e0fcdbe0ffff"));
        assert_eq!(kinds(&m), vec![FindingKind::CoapBadOption]);
        assert_eq!(m.options.len(), 1);
        assert_eq!(m.findings[0].severity, Severity::High);
        // Payload marker followed by nothing.
        let m = Message::parse(&h("40010001b3747631ff"));
        assert_eq!(kinds(&m), vec![FindingKind::CoapEmptyPayloadMarker]);
        assert_eq!(m.payload_marker, Some(8));
        assert_eq!(m.findings[0].span, Some(Span::frame(8..9)));
        assert!(!m.complete);
        // Uri-Host of 0 bytes (min 1), value still shown.
        let m = Message::parse(&h("4001000130"));
        assert_eq!(kinds(&m), vec![FindingKind::CoapOptionValue]);
        assert_eq!(opts(&m), vec![(3, vec![])]);
        // ETag of 9 bytes (max 8).
        let m = Message::parse(&h("4045000149010203040506070809"));
        assert_eq!(kinds(&m), vec![FindingKind::CoapOptionValue]);
        assert_eq!(m.findings[0].span, Some(Span::frame(5..14)));
        // Observe repeated.
        let m = Message::parse(&h("4045000161010102"));
        assert_eq!(kinds(&m), vec![FindingKind::CoapBadOption]);
        assert_eq!(m.findings[0].span, Some(Span::frame(6..8)));
        // Content-Format with a leading zero: Info only.
        let m = Message::parse(&h("40450001c100"));
        assert_eq!(kinds(&m), vec![FindingKind::CoapOptionValue]);
        assert_eq!(m.findings[0].severity, Severity::Info);
        // Block2 SZX 7.
        let m = Message::parse(&h("40450001d10a0f"));
        assert_eq!(kinds(&m), vec![FindingKind::CoapOptionValue]);
        // Uri-Path not UTF-8.
        assert_eq!(kinds(&Message::parse(&h("40010001b1ff"))), vec![FindingKind::CoapOptionValue]);
        // Unknown options are never findings.
        assert!(Message::parse(&h("40010001e0fcdc00")).findings.is_empty());
    }

    #[test]
    fn code_type_checks() {
        // Empty message with a token.
        let m = Message::parse(&h("6100000101"));
        assert_eq!(kinds(&m), vec![FindingKind::CoapEmptyMessageNotEmpty]);
        assert_eq!(m.findings[0].span, Some(Span::frame(4..5)));
        // Empty ACK followed by a lone 0xFF byte.
        let m = Message::parse(&h("60000001ff"));
        assert!(kinds(&m).contains(&FindingKind::CoapEmptyMessageNotEmpty));
        // NON empty.
        assert_eq!(kinds(&Message::parse(&h("50000001"))), vec![FindingKind::CoapBadCode]);
        // Signaling over UDP, reserved class, RST with a code, ACK with a request.
        assert_eq!(kinds(&Message::parse(&h("40e10001"))), vec![FindingKind::CoapBadCode]);
        assert_eq!(Message::parse(&h("40c10001")).findings[0].severity, Severity::Low);
        assert_eq!(kinds(&Message::parse(&h("70450001"))), vec![FindingKind::CoapBadCode]);
        assert_eq!(kinds(&Message::parse(&h("60010001"))), vec![FindingKind::CoapBadCode]);
        // Clean: CON ping, RST, empty ACK.
        for b in ["40000001", "70000001", "60000001"] {
            assert!(Message::parse(&h(b)).findings.is_empty(), "{b}");
        }
    }

    #[test]
    fn heuristic() {
        assert!(looks_like_coap(&h("44015d1f00003974396c6f63616c686f737483747631")));
        assert!(looks_like_coap(&h("60007d38")));
        assert!(looks_like_coap(&h("60457d34ff32322e332043")));
        assert!(!looks_like_coap(&h("60007d3800"))); // empty with trailing byte
        assert!(!looks_like_coap(&h("50007d38"))); // NON empty
        assert!(!looks_like_coap(&h("43007d38"))); // empty with TKL 3
        assert!(!looks_like_coap(&h("40087d38"))); // 0.08 unassigned
        assert!(!looks_like_coap(&h("40e17d38"))); // CSM over UDP
        assert!(!looks_like_coap(&h("80017d38"))); // version 2
        assert!(!looks_like_coap(&h("49017d38"))); // TKL 9
        assert!(!looks_like_coap(&h("40017d38ff"))); // empty payload marker
        assert!(!looks_like_coap(&h("40017d38e0fbdb00"))); // unregistered option 64999
        assert!(looks_like_coap(&h("40017d38e0fcdb00"))); // experimental 65000
        assert!(!looks_like_coap(&[0u8; 12])); // the UDP/53-of-zeros case coap-lite accepts
    }
}
