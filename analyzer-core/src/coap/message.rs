//! The CoAP message view: header, token, options and payload, each with its byte range.

use crate::finding::Finding;
use std::fmt;
use std::ops::Range;

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
    pub const CHANGED: Code = Code(0x44);
    pub const CONTENT: Code = Code(0x45);

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
    /// Method or response name, e.g. "GET", "Content"; `None` when unassigned.
    pub fn name(self) -> Option<&'static str> {
        let _ = self;
        None
    }
}

impl fmt::Display for Code {
    /// Requests by method name ("GET", "FETCH"), others as "2.05 Content" or "6.01" when unassigned.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.class(), self.detail())
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
    pub token: Range<usize>,
    /// Options in wire order (numbers non-decreasing when well-formed).
    pub options: Vec<CoapOption>,
    /// Position of the 0xFF payload marker, if present.
    pub payload_marker: Option<usize>,
    /// Payload bytes (empty range at the end when there is none).
    pub payload: Range<usize>,
    /// False when parsing stopped early (malformed/truncated); what parsed is kept.
    pub complete: bool,
    /// Problems found, spans relative to the start of `bytes`.
    pub findings: Vec<Finding>,
}

impl Message {
    /// Parses a CoAP-over-UDP message (lax).
    pub fn parse(bytes: &[u8]) -> Message {
        Message {
            bytes: bytes.to_vec(),
            kind: MessageKind::Udp,
            version: 1,
            mtype: MsgType::Con,
            code: Code::EMPTY,
            mid: 0,
            token: 0..0,
            options: Vec::new(),
            payload_marker: None,
            payload: bytes.len()..bytes.len(),
            complete: false,
            findings: Vec::new(),
        }
    }

    /// Parses an OSCORE plaintext: code byte, options, optional 0xFF + payload (lax).
    pub fn parse_plaintext(bytes: &[u8]) -> Message {
        let mut m = Message::parse(bytes);
        m.kind = MessageKind::OscorePlaintext;
        m
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
}

/// A message as plain values, for building and emitting (tests, simulator round trips).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessageRepr {
    pub mtype: Option<MsgType>,
    pub code: u8,
    pub mid: u16,
    pub token: Vec<u8>,
    /// (number, value); emitted sorted by number (stable for repeated options).
    pub options: Vec<(u16, Vec<u8>)>,
    pub payload: Vec<u8>,
}

impl MessageRepr {
    /// Encodes as CoAP over UDP (RFC 7252 §3).
    pub fn emit(&self) -> Vec<u8> {
        Vec::new()
    }

    /// Encodes as an OSCORE plaintext (code, options, payload).
    pub fn emit_plaintext(&self) -> Vec<u8> {
        Vec::new()
    }

    /// The repr of a well-formed message.
    pub fn from_message(m: &Message) -> MessageRepr {
        MessageRepr {
            mtype: Some(m.mtype),
            code: m.code.0,
            mid: m.mid,
            token: m.token().to_vec(),
            options: m.options.iter().map(|o| (o.number, m.option_value(o).to_vec())).collect(),
            payload: m.payload().to_vec(),
        }
    }
}

/// Conservative check for CoAP on a UDP port not configured as CoAP: version 1, token length
/// 0..=8, a registered code, a complete parse without findings, and an empty message exactly
/// 4 bytes long.
pub fn looks_like_coap(bytes: &[u8]) -> bool {
    let _ = bytes;
    false
}
