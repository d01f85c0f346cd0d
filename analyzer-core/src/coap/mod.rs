//! CoAP over UDP (RFC 7252 and the option RFCs): messages with byte ranges, the option
//! registry, and exchanges (request/response, CON/ACK, retransmissions, Observe, Block-wise).
//!
//! CONTRACT (other modules rely on these names and meanings):
//! - [`Message::parse`] is lax: it never fails; what parsed is kept and every problem becomes a
//!   finding whose span is relative to the start of the message bytes (callers relocate it
//!   with [`crate::finding::Span::relocate`]).
//! - [`Message::parse_plaintext`] parses an OSCORE plaintext (code byte, options, payload) with
//!   the same option code path. [`Message::parse_with`] takes [`ParseOptions`] (RFC 8974
//!   extended token lengths; "the bytes are the whole datagram" turns truncation into
//!   malformation). Severities are documented in [`message`].
//! - [`MessageRepr`] emits UDP messages and plaintexts (options sorted stably by number,
//!   13/14 extensions); `emit(from_message(parse(b))) == b` for well-formed minimal encodings.
//! - [`looks_like_coap`] is a conservative heuristic for UDP ports not configured as CoAP.
//! - Option values are decoded through [`options::option_def`] / [`options::OptionValue`].
//! - [`exchange::ExchangeTracker`] links messages into exchanges; its state is bounded by the
//!   number of live exchanges, not by the number of messages (see [`exchange`] for the
//!   matching rules).

pub mod exchange;
pub mod message;
pub mod options;

pub use exchange::{ExchangeInfo, ExchangeTracker, MsgMeta, RequestHint};
pub use message::{
    CoapOption, Code, Message, MessageKind, MessageRepr, MsgType, ParseOptions, looks_like_coap,
};
pub use options::{
    BlockValue, OptionDef, OptionFormat, OptionProperties, OptionValue, OscoreClass, content_format_name,
    option_def, option_name,
};

/// The IANA CoAP port.
pub const COAP_PORT: u16 = 5683;
