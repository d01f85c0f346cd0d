//! The CoAP option registry (every registered number by name) and typed option values.

use std::fmt;

/// How OSCORE treats an option (RFC 8613 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OscoreClass {
    /// Encrypted (inner only).
    E,
    /// Unprotected (outer only).
    U,
    /// Both inner and outer (Observe, Max-Age, Block1/2, Size1/2, Echo, Request-Tag...).
    EU,
}

/// The value format of an option (RFC 7252 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionFormat {
    Empty,
    Opaque,
    Uint,
    String,
}

/// A registered option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionDef {
    pub number: u16,
    /// Display name, e.g. "Uri-Path".
    pub name: &'static str,
    /// Field name used in filters/JSON, e.g. "uri_path" (`coap.opt.uri_path`).
    pub field: &'static str,
    pub format: OptionFormat,
    pub min_len: usize,
    pub max_len: usize,
    pub repeatable: bool,
    pub oscore_class: OscoreClass,
}

/// Looks up a registered option; unknown numbers give `None` and are shown as "Unknown (n)".
pub fn option_def(number: u16) -> Option<&'static OptionDef> {
    let _ = number;
    None
}

/// Option number properties (RFC 7252 §5.4.6).
pub fn is_critical(number: u16) -> bool {
    number & 1 == 1
}
pub fn is_unsafe(number: u16) -> bool {
    number & 2 == 2
}
pub fn is_no_cache_key(number: u16) -> bool {
    number & 0x1e == 0x1c
}

/// A Block1/Block2 value (RFC 7959 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlockValue {
    pub num: u32,
    pub more: bool,
    /// Size exponent 0..=6 (7 is reserved / BERT).
    pub szx: u8,
}

impl BlockValue {
    /// Decodes a 0..=3-byte block option value.
    pub fn decode(value: &[u8]) -> Option<BlockValue> {
        let _ = value;
        None
    }
    pub fn size(self) -> u32 {
        1u32 << (u32::from(self.szx.min(6)) + 4)
    }
    pub fn offset(self) -> u64 {
        u64::from(self.num) * u64::from(self.size())
    }
}

impl fmt::Display for BlockValue {
    /// `NUM/M/SIZE`, e.g. `2/0/1024`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.num, u8::from(self.more), self.size())
    }
}

/// A typed option value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionValue<'a> {
    Empty,
    Uint(u64),
    String(&'a str),
    Opaque(&'a [u8]),
    Block(BlockValue),
    /// Content-Format / Accept with the media type name if registered.
    ContentFormat(u16, Option<&'static str>),
    /// A value that does not fit the option's format (too long, bad UTF-8...): raw bytes + why.
    Invalid(&'a [u8], &'static str),
}

impl<'a> OptionValue<'a> {
    /// Decodes `value` as option `number` would be.
    pub fn decode(number: u16, value: &'a [u8]) -> OptionValue<'a> {
        let _ = number;
        OptionValue::Opaque(value)
    }
}

impl fmt::Display for OptionValue<'_> {
    /// Display form used in summaries and trees: uints in decimal, strings as is, opaque in hex,
    /// blocks as NUM/M/SIZE, content formats as "text/plain; charset=utf-8 (0)".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionValue::Empty => Ok(()),
            OptionValue::Uint(v) => write!(f, "{v}"),
            OptionValue::String(s) => f.write_str(s),
            OptionValue::Opaque(b) | OptionValue::Invalid(b, _) => f.write_str(&crate::hex::encode(b)),
            OptionValue::Block(b) => write!(f, "{b}"),
            OptionValue::ContentFormat(n, Some(name)) => write!(f, "{name} ({n})"),
            OptionValue::ContentFormat(n, None) => write!(f, "{n}"),
        }
    }
}

/// Media type name of a Content-Format number (CoAP Content-Formats registry).
pub fn content_format_name(cf: u16) -> Option<&'static str> {
    let _ = cf;
    None
}
