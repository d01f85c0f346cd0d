//! The CoAP option registry (every registered number by name) and typed option values.
//!
//! Sources for the table in [`OPTIONS`]: RFC 7252 §5.10 Table 4 (base options), RFC 7641
//! (Observe), RFC 7959 (Block1/Block2/Size2), RFC 7967 (No-Response), RFC 8613 §4.1 Figure 5
//! (OSCORE option and the E/U classes), RFC 8768 (Hop-Limit), RFC 9175 (Echo, Request-Tag),
//! RFC 9177 (Q-Block1/Q-Block2), RFC 9668 (EDHOC), draft-ietf-core-href (Proxy-Cri,
//! Proxy-Scheme-Number, IANA-assigned pending the RFC), the IANA "CoAP Option Numbers" registry
//! (OCF options 2049/2053, SCP82-Params 2055, X-Admin-Protocol 2056) and
//! draft-ietf-core-oscore-id-update (Recipient-ID 24, Recipient-ID-Ack 32: *suggested* numbers,
//! not assigned; marked [`OptionDef::provisional`]).
//!
//! Unknown numbers are never an error: [`option_def`] returns `None`, the value decodes as
//! [`OptionValue::Opaque`], and [`option_name`] shows "Unknown (n)"; [`OptionProperties`] gives
//! the properties that RFC 7252 §5.4.6 derives from the number alone.

use std::borrow::Cow;
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

impl OscoreClass {
    pub fn as_str(self) -> &'static str {
        match self {
            OscoreClass::E => "E",
            OscoreClass::U => "U",
            OscoreClass::EU => "E+U",
        }
    }
}

/// The value format of an option (RFC 7252 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionFormat {
    Empty,
    Opaque,
    Uint,
    String,
}

impl OptionFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            OptionFormat::Empty => "empty",
            OptionFormat::Opaque => "opaque",
            OptionFormat::Uint => "uint",
            OptionFormat::String => "string",
        }
    }
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
    /// Not a final registration: a number only *suggested* by a draft (Recipient-ID 24,
    /// Recipient-ID-Ack 32) or assigned by IANA for a draft not yet published as an RFC
    /// (Proxy-Cri 235, Proxy-Scheme-Number 239). Display code may mark these.
    pub provisional: bool,
}

impl OptionDef {
    pub fn properties(&self) -> OptionProperties {
        OptionProperties::of(self.number)
    }
}

/// The largest value length the option encoding can express (14-nibble: 65535 + 269).
pub const MAX_OPTION_VALUE_LEN: usize = 65535 + 269;

/// Option numbers used by the parser and the exchange tracker.
pub mod num {
    pub const IF_MATCH: u16 = 1;
    pub const URI_HOST: u16 = 3;
    pub const ETAG: u16 = 4;
    pub const IF_NONE_MATCH: u16 = 5;
    pub const OBSERVE: u16 = 6;
    pub const URI_PORT: u16 = 7;
    pub const LOCATION_PATH: u16 = 8;
    pub const OSCORE: u16 = 9;
    pub const URI_PATH: u16 = 11;
    pub const CONTENT_FORMAT: u16 = 12;
    pub const MAX_AGE: u16 = 14;
    pub const URI_QUERY: u16 = 15;
    pub const HOP_LIMIT: u16 = 16;
    pub const ACCEPT: u16 = 17;
    pub const Q_BLOCK1: u16 = 19;
    pub const LOCATION_QUERY: u16 = 20;
    pub const EDHOC: u16 = 21;
    pub const BLOCK2: u16 = 23;
    pub const RECIPIENT_ID: u16 = 24;
    pub const BLOCK1: u16 = 27;
    pub const SIZE2: u16 = 28;
    pub const Q_BLOCK2: u16 = 31;
    pub const RECIPIENT_ID_ACK: u16 = 32;
    pub const PROXY_URI: u16 = 35;
    pub const PROXY_SCHEME: u16 = 39;
    pub const SIZE1: u16 = 60;
    pub const PROXY_CRI: u16 = 235;
    pub const PROXY_SCHEME_NUMBER: u16 = 239;
    pub const ECHO: u16 = 252;
    pub const NO_RESPONSE: u16 = 258;
    pub const REQUEST_TAG: u16 = 292;
    pub const OCF_ACCEPT_CONTENT_FORMAT_VERSION: u16 = 2049;
    pub const OCF_CONTENT_FORMAT_VERSION: u16 = 2053;
    pub const SCP82_PARAMS: u16 = 2055;
    pub const X_ADMIN_PROTOCOL: u16 = 2056;
}

#[allow(clippy::too_many_arguments)]
const fn def(
    number: u16,
    name: &'static str,
    field: &'static str,
    format: OptionFormat,
    min_len: usize,
    max_len: usize,
    repeatable: bool,
    oscore_class: OscoreClass,
    provisional: bool,
) -> OptionDef {
    OptionDef { number, name, field, format, min_len, max_len, repeatable, oscore_class, provisional }
}

use OptionFormat::{Empty, Opaque, String as Str, Uint};
use OscoreClass::{E, EU, U};

/// Every known option, sorted by number (checked by a unit test; [`option_def`] binary-searches
/// above [`SMALL`]).
pub static OPTIONS: &[OptionDef] = DEFS;

/// Option numbers below this are looked up in a direct table (every option of ordinary
/// traffic is; a message's options are looked up several times each).
const SMALL: usize = 64;

/// For each number below [`SMALL`]: 1 + its index in [`OPTIONS`], or 0 when unregistered.
/// Evaluated at compile time: an index out of range fails the build, it cannot panic.
#[allow(clippy::indexing_slicing)]
const SMALL_INDEX: [u8; SMALL] = {
    let mut t = [0u8; SMALL];
    let mut i = 0;
    while i < DEFS.len() {
        let n = DEFS[i].number as usize;
        if n < SMALL {
            t[n] = i as u8 + 1;
        }
        i += 1;
    }
    t
};

const DEFS: &[OptionDef] = &[
    def(num::IF_MATCH, "If-Match", "if_match", Opaque, 0, 8, true, E, false),
    def(num::URI_HOST, "Uri-Host", "uri_host", Str, 1, 255, false, U, false),
    def(num::ETAG, "ETag", "etag", Opaque, 1, 8, true, E, false),
    def(num::IF_NONE_MATCH, "If-None-Match", "if_none_match", Empty, 0, 0, false, E, false),
    def(num::OBSERVE, "Observe", "observe", Uint, 0, 3, false, EU, false),
    def(num::URI_PORT, "Uri-Port", "uri_port", Uint, 0, 2, false, U, false),
    def(num::LOCATION_PATH, "Location-Path", "location_path", Str, 0, 255, true, E, false),
    def(num::OSCORE, "OSCORE", "oscore", Opaque, 0, 255, false, U, false),
    def(num::URI_PATH, "Uri-Path", "uri_path", Str, 0, 255, true, E, false),
    def(num::CONTENT_FORMAT, "Content-Format", "content_format", Uint, 0, 2, false, E, false),
    def(num::MAX_AGE, "Max-Age", "max_age", Uint, 0, 4, false, EU, false),
    def(num::URI_QUERY, "Uri-Query", "uri_query", Str, 0, 255, true, E, false),
    // RFC 8768 §3: a 1-byte uint (values 1..=255).
    def(num::HOP_LIMIT, "Hop-Limit", "hop_limit", Uint, 1, 1, false, U, false),
    def(num::ACCEPT, "Accept", "accept", Uint, 0, 2, false, E, false),
    // RFC 9177 §4: Q-Block1 not repeatable; Q-Block2 repeatable (requests for missing blocks);
    // E and U for OSCORE by analogy with Block1/Block2 (class not checked against the RFC text).
    def(num::Q_BLOCK1, "Q-Block1", "q_block1", Uint, 0, 3, false, EU, false),
    def(num::LOCATION_QUERY, "Location-Query", "location_query", Str, 0, 255, true, E, false),
    // RFC 9668 §3.1: critical, empty, outer only.
    def(num::EDHOC, "EDHOC", "edhoc", Empty, 0, 0, false, U, false),
    def(num::BLOCK2, "Block2", "block2", Uint, 0, 3, false, EU, false),
    // draft-ietf-core-oscore-id-update: TBD24 (suggested), inner only; at most nonce length − 6.
    def(num::RECIPIENT_ID, "Recipient-ID", "recipient_id", Opaque, 0, 7, false, E, true),
    def(num::BLOCK1, "Block1", "block1", Uint, 0, 3, false, EU, false),
    def(num::SIZE2, "Size2", "size2", Uint, 0, 4, false, EU, false),
    def(num::Q_BLOCK2, "Q-Block2", "q_block2", Uint, 0, 3, true, EU, false),
    // draft-ietf-core-oscore-id-update: TBD32 (suggested), inner only.
    def(num::RECIPIENT_ID_ACK, "Recipient-ID-Ack", "recipient_id_ack", Opaque, 0, 7, false, E, true),
    def(num::PROXY_URI, "Proxy-Uri", "proxy_uri", Str, 1, 1034, false, U, false),
    def(num::PROXY_SCHEME, "Proxy-Scheme", "proxy_scheme", Str, 1, 255, false, U, false),
    def(num::SIZE1, "Size1", "size1", Uint, 0, 4, false, EU, false),
    // draft-ietf-core-href (IANA-assigned, RFC pending): proxy options, hence outer.
    def(num::PROXY_CRI, "Proxy-Cri", "proxy_cri", Opaque, 1, 1023, false, U, true),
    def(num::PROXY_SCHEME_NUMBER, "Proxy-Scheme-Number", "proxy_scheme_number", Uint, 0, 3, false, U, true),
    // RFC 9175 §2.2.1: elective, safe, NoCacheKey, not repeatable; inner or outer.
    def(num::ECHO, "Echo", "echo", Opaque, 1, 40, false, EU, false),
    // RFC 7967 §2; RFC 8613 Figure 5 lists it as E and U.
    def(num::NO_RESPONSE, "No-Response", "no_response", Uint, 0, 1, false, EU, false),
    // RFC 9175 §3.2.1: elective, safe, repeatable, opaque 0-8; inner or outer.
    def(num::REQUEST_TAG, "Request-Tag", "request_tag", Opaque, 0, 8, true, EU, false),
    // IANA registrations by OCF (uint, 2 bytes in the OCF core specification; 0..=2 accepted).
    def(
        num::OCF_ACCEPT_CONTENT_FORMAT_VERSION,
        "OCF-Accept-Content-Format-Version",
        "ocf_accept_content_format_version",
        Uint,
        0,
        2,
        false,
        E,
        false,
    ),
    def(
        num::OCF_CONTENT_FORMAT_VERSION,
        "OCF-Content-Format-Version",
        "ocf_content_format_version",
        Uint,
        0,
        2,
        false,
        E,
        false,
    ),
    // External registrations (GlobalPlatform, GSMA): value format not checked here, any length.
    def(num::SCP82_PARAMS, "SCP82-Params", "scp82_params", Opaque, 0, MAX_OPTION_VALUE_LEN, false, E, false),
    def(
        num::X_ADMIN_PROTOCOL,
        "X-Admin-Protocol",
        "x_admin_protocol",
        Opaque,
        0,
        MAX_OPTION_VALUE_LEN,
        false,
        E,
        false,
    ),
];

/// Looks up a registered option; unknown numbers give `None` and are shown as "Unknown (n)".
pub fn option_def(number: u16) -> Option<&'static OptionDef> {
    let i = match SMALL_INDEX.get(usize::from(number)) {
        Some(&i) => usize::from(i).checked_sub(1)?,
        None => OPTIONS.binary_search_by_key(&number, |d| d.number).ok()?,
    };
    OPTIONS.get(i)
}

/// Display name of an option number: the registered name or "Unknown (n)".
pub fn option_name(number: u16) -> Cow<'static, str> {
    match option_def(number) {
        Some(d) => Cow::Borrowed(d.name),
        None => Cow::Owned(format!("Unknown ({number})")),
    }
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

/// The properties RFC 7252 §5.4.6 derives from an option number (meaningful for unknown
/// options too). NoCacheKey only applies to safe-to-forward options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionProperties {
    pub critical: bool,
    pub unsafe_to_forward: bool,
    pub no_cache_key: bool,
}

impl OptionProperties {
    pub fn of(number: u16) -> OptionProperties {
        let unsafe_to_forward = is_unsafe(number);
        OptionProperties {
            critical: is_critical(number),
            unsafe_to_forward,
            no_cache_key: !unsafe_to_forward && is_no_cache_key(number),
        }
    }
}

impl fmt::Display for OptionProperties {
    /// e.g. "critical, unsafe" or "elective, safe-to-forward, no-cache-key".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.critical { "critical" } else { "elective" })?;
        f.write_str(if self.unsafe_to_forward { ", unsafe" } else { ", safe-to-forward" })?;
        if self.no_cache_key {
            f.write_str(", no-cache-key")?;
        }
        Ok(())
    }
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
    /// Decodes a 0..=3-byte block option value (`None` when longer). SZX 7 decodes as is;
    /// [`OptionValue::decode`] reports it as invalid over UDP.
    pub fn decode(value: &[u8]) -> Option<BlockValue> {
        if value.len() > 3 {
            return None;
        }
        let v = value.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
        Some(BlockValue { num: v >> 4, more: v & 0x08 != 0, szx: (v & 0x07) as u8 })
    }

    /// Minimal encoding (0..=3 bytes); `num` above 2^20 − 1 is cut to 20 bits.
    pub fn encode(self) -> Vec<u8> {
        let v = ((self.num & 0x000f_ffff) << 4) | (u32::from(self.more) << 3) | u32::from(self.szx & 7);
        encode_uint(u64::from(v))
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

/// Decodes a CoAP uint (big-endian, 0..=8 bytes; the empty value is 0). `None` when longer.
pub fn decode_uint(value: &[u8]) -> Option<u64> {
    if value.len() > 8 {
        return None;
    }
    Some(value.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// Minimal CoAP uint encoding (0 is the empty value).
pub fn encode_uint(v: u64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let skip = (v.leading_zeros() / 8) as usize;
    bytes.get(skip..).unwrap_or_default().to_vec()
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
    /// Decodes `value` as option `number` would be. Lengths outside the registry's range are
    /// still decoded when the format allows it (the parser reports them as findings); uints
    /// with leading zero bytes decode to their value (also reported by the parser).
    pub fn decode(number: u16, value: &'a [u8]) -> OptionValue<'a> {
        let Some(d) = option_def(number) else {
            return OptionValue::Opaque(value);
        };
        match number {
            num::BLOCK1 | num::BLOCK2 | num::Q_BLOCK1 | num::Q_BLOCK2 => match BlockValue::decode(value) {
                None => OptionValue::Invalid(value, "block value longer than 3 bytes"),
                Some(b) if b.szx == 7 => {
                    OptionValue::Invalid(value, "SZX 7 is reserved (BERT only over TCP)")
                }
                Some(b) => OptionValue::Block(b),
            },
            num::CONTENT_FORMAT | num::ACCEPT => match decode_uint(value).map(u16::try_from) {
                Some(Ok(cf)) => OptionValue::ContentFormat(cf, content_format_name(cf)),
                _ => OptionValue::Invalid(value, "content format longer than 2 bytes"),
            },
            _ => match d.format {
                OptionFormat::Empty if value.is_empty() => OptionValue::Empty,
                OptionFormat::Empty => OptionValue::Invalid(value, "value of an empty-format option"),
                OptionFormat::Opaque => OptionValue::Opaque(value),
                OptionFormat::Uint => match decode_uint(value) {
                    Some(v) => OptionValue::Uint(v),
                    None => OptionValue::Invalid(value, "uint longer than 8 bytes"),
                },
                OptionFormat::String => match std::str::from_utf8(value) {
                    Ok(s) => OptionValue::String(s),
                    Err(_) => OptionValue::Invalid(value, "invalid UTF-8"),
                },
            },
        }
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

/// The IANA "CoAP Content-Formats" registry (assigned and temporary entries; sources: the
/// registry as mirrored by aiocoap and RIOT's generated unicoap tables, RFC 9528 for 64/65).
/// Sorted by number (checked by a unit test).
static CONTENT_FORMATS: &[(u16, &str)] = &[
    (0, "text/plain; charset=utf-8"),
    (16, "application/cose; cose-type=\"cose-encrypt0\""),
    (17, "application/cose; cose-type=\"cose-mac0\""),
    (18, "application/cose; cose-type=\"cose-sign1\""),
    (19, "application/ace+cbor"),
    (21, "image/gif"),
    (22, "image/jpeg"),
    (23, "image/png"),
    (40, "application/link-format"),
    (41, "application/xml"),
    (42, "application/octet-stream"),
    (47, "application/exi"),
    (50, "application/json"),
    (51, "application/json-patch+json"),
    (52, "application/merge-patch+json"),
    (60, "application/cbor"),
    (61, "application/cwt"),
    (62, "application/multipart-core"),
    (63, "application/cbor-seq"),
    (64, "application/edhoc+cbor-seq"),
    (65, "application/cid-edhoc+cbor-seq"),
    (96, "application/cose; cose-type=\"cose-encrypt\""),
    (97, "application/cose; cose-type=\"cose-mac\""),
    (98, "application/cose; cose-type=\"cose-sign\""),
    (101, "application/cose-key"),
    (102, "application/cose-key-set"),
    (110, "application/senml+json"),
    (111, "application/sensml+json"),
    (112, "application/senml+cbor"),
    (113, "application/sensml+cbor"),
    (114, "application/senml-exi"),
    (115, "application/sensml-exi"),
    (140, "application/yang-data+cbor; id=sid"),
    (256, "application/coap-group+json"),
    (257, "application/concise-problem-details+cbor"),
    (258, "application/swid+cbor"),
    (259, "application/pkixcmp"),
    (260, "application/yang-sid+json"),
    (261, "application/ace-groupcomm+cbor"),
    (262, "application/ace-trl+cbor"),
    (263, "application/eat+cwt"),
    (264, "application/eat+jwt"),
    (265, "application/eat-bun+cbor"),
    (266, "application/eat-bun+json"),
    (267, "application/eat-ucs+cbor"),
    (268, "application/eat-ucs+json"),
    (269, "application/coap-eap"),
    (271, "application/dots+cbor"),
    (272, "application/missing-blocks+cbor-seq"),
    (280, "application/pkcs7-mime; smime-type=server-generated-key"),
    (281, "application/pkcs7-mime; smime-type=certs-only"),
    (284, "application/pkcs8"),
    (285, "application/csrattrs"),
    (286, "application/pkcs10"),
    (287, "application/pkix-cert"),
    (290, "application/aif+cbor"),
    (291, "application/aif+json"),
    (310, "application/senml+xml"),
    (311, "application/sensml+xml"),
    (320, "application/senml-etch+json"),
    (322, "application/senml-etch+cbor"),
    (340, "application/yang-data+cbor"),
    (341, "application/yang-data+cbor; id=name"),
    (432, "application/td+json"),
    (433, "application/tm+json"),
    (434, "application/sdf+json"),
    (601, "application/uccs+cbor"),
    (836, "application/voucher+cose"),
    (10000, "application/vnd.ocf+cbor"),
    (10001, "application/oscore"),
    (10002, "application/javascript"),
    (10003, "application/eat+cwt; eat_profile=\"tag:psacertified.org,2023:psa#tfm\""),
    (10004, "application/eat+cwt; eat_profile=\"tag:psacertified.org,2019:psa#legacy\""),
    (10005, "application/eat+cwt; eat_profile=2.16.840.1.113741.1.16.1"),
    (10570, "application/toc+cbor"),
    (10571, "application/ce+cbor"),
    (10572, "application/toc+cbor; profile=2.16.840.1.113741.1.16.1"),
    (10573, "application/ce+cbor; profile=2.16.840.1.113741.1.16.1"),
    (11050, "application/json; content-coding=deflate"),
    (11060, "application/cbor; content-coding=deflate"),
    (11542, "application/vnd.oma.lwm2m+tlv"),
    (11543, "application/vnd.oma.lwm2m+json"),
    (11544, "application/vnd.oma.lwm2m+cbor"),
    (12000, "text/plain; charset=utf-8; content-coding=zstd"),
    (12041, "application/xml; content-coding=zstd"),
    (12050, "application/json; content-coding=zstd"),
    (20000, "text/css"),
    (30000, "image/svg+xml"),
];

/// Media type name of a Content-Format number (CoAP Content-Formats registry).
pub fn content_format_name(cf: u16) -> Option<&'static str> {
    let i = CONTENT_FORMATS.binary_search_by_key(&cf, |(n, _)| *n).ok()?;
    CONTENT_FORMATS.get(i).map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_and_unique() {
        assert!(OPTIONS.windows(2).all(|w| w[0].number < w[1].number));
        // The direct table and the binary search agree on every number.
        for n in 0..=u16::MAX {
            let searched = OPTIONS.binary_search_by_key(&n, |d| d.number).ok().map(|i| &OPTIONS[i]);
            assert_eq!(option_def(n).map(|d| d.number), searched.map(|d| d.number), "{n}");
        }
        assert!(CONTENT_FORMATS.windows(2).all(|w| w[0].0 < w[1].0));
        let mut fields: Vec<_> = OPTIONS.iter().map(|d| d.field).collect();
        fields.sort_unstable();
        fields.dedup();
        assert_eq!(fields.len(), OPTIONS.len());
        for d in OPTIONS {
            assert!(d.min_len <= d.max_len, "{}", d.name);
            assert!(d.field.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
        }
    }

    #[test]
    fn registry_covers_iana_numbers() {
        // IANA CoAP Option Numbers (2025) + the ID-update draft's suggested 24/32.
        let expected = [
            (1, "If-Match"),
            (3, "Uri-Host"),
            (4, "ETag"),
            (5, "If-None-Match"),
            (6, "Observe"),
            (7, "Uri-Port"),
            (8, "Location-Path"),
            (9, "OSCORE"),
            (11, "Uri-Path"),
            (12, "Content-Format"),
            (14, "Max-Age"),
            (15, "Uri-Query"),
            (16, "Hop-Limit"),
            (17, "Accept"),
            (19, "Q-Block1"),
            (20, "Location-Query"),
            (21, "EDHOC"),
            (23, "Block2"),
            (24, "Recipient-ID"),
            (27, "Block1"),
            (28, "Size2"),
            (31, "Q-Block2"),
            (32, "Recipient-ID-Ack"),
            (35, "Proxy-Uri"),
            (39, "Proxy-Scheme"),
            (60, "Size1"),
            (252, "Echo"),
            (258, "No-Response"),
            (292, "Request-Tag"),
            (2049, "OCF-Accept-Content-Format-Version"),
            (2053, "OCF-Content-Format-Version"),
        ];
        for (n, name) in expected {
            assert_eq!(option_def(n).map(|d| d.name), Some(name), "option {n}");
        }
        assert!(option_def(24).unwrap().provisional && option_def(32).unwrap().provisional);
        assert!(!option_def(9).unwrap().provisional);
        assert_eq!(option_def(24).unwrap().oscore_class, OscoreClass::E);
        assert_eq!(option_def(24).unwrap().max_len, 7);
        assert_eq!(option_def(9).unwrap().oscore_class, OscoreClass::U);
        assert_eq!(option_def(6).unwrap().oscore_class, OscoreClass::EU);
        assert_eq!(option_def(11).unwrap().field, "uri_path");
        for n in [0, 2, 10, 13, 18, 22, 128, 65000] {
            assert!(option_def(n).is_none(), "{n}");
        }
        assert_eq!(option_name(65000), "Unknown (65000)");
        assert_eq!(option_name(11), "Uri-Path");
    }

    #[test]
    fn properties_from_number() {
        // RFC 7252 §5.4.6 / Table 4: Uri-Host 3 critical+unsafe, ETag 4 elective safe,
        // Size1 60 NoCacheKey, Echo 252 NoCacheKey, 65000 elective safe.
        assert_eq!(OptionProperties::of(3).to_string(), "critical, unsafe");
        assert_eq!(OptionProperties::of(4).to_string(), "elective, safe-to-forward");
        assert_eq!(OptionProperties::of(60).to_string(), "elective, safe-to-forward, no-cache-key");
        assert_eq!(OptionProperties::of(252).to_string(), "elective, safe-to-forward, no-cache-key");
        assert_eq!(OptionProperties::of(9).to_string(), "critical, safe-to-forward");
        assert!(is_critical(21) && is_unsafe(23) && is_no_cache_key(28));
        assert!(!OptionProperties::of(30).no_cache_key); // 30 & 0x1e == 0x1c but unsafe
    }

    #[test]
    fn block_values() {
        // RFC 7959 §2.2: NUM << 4 | M << 3 | SZX.
        assert_eq!(BlockValue::decode(&[]), Some(BlockValue { num: 0, more: false, szx: 0 }));
        let b = BlockValue::decode(&[0x0e]).unwrap(); // 0/1/1024
        assert_eq!((b.num, b.more, b.szx, b.size()), (0, true, 6, 1024));
        assert_eq!(b.to_string(), "0/1/1024");
        let b = BlockValue::decode(&[0x2d]).unwrap(); // 2/1/512
        assert_eq!(b.to_string(), "2/1/512");
        assert_eq!(b.offset(), 1024);
        let b = BlockValue::decode(&[0x01, 0x02, 0x3a]).unwrap();
        assert_eq!((b.num, b.more, b.szx), (0x1023, true, 2));
        assert_eq!(BlockValue::decode(&[1, 2, 3, 4]), None);
        for v in [&[][..], &[0x0e], &[0x2d], &[0x01, 0x02, 0x3a], &[0xff, 0xff, 0xf6]] {
            let b = BlockValue::decode(v).unwrap();
            assert_eq!(b.encode(), v);
        }
        assert_eq!(
            OptionValue::decode(num::BLOCK2, &[0x0f]),
            OptionValue::Invalid(&[0x0f], "SZX 7 is reserved (BERT only over TCP)")
        );
        assert_eq!(
            OptionValue::decode(num::BLOCK1, &[0x4c]),
            OptionValue::Block(BlockValue { num: 4, more: true, szx: 4 })
        );
        assert!(matches!(OptionValue::decode(num::Q_BLOCK2, &[0x16]), OptionValue::Block(_)));
    }

    #[test]
    fn typed_values() {
        assert_eq!(OptionValue::decode(num::URI_PATH, b"tv1"), OptionValue::String("tv1"));
        assert_eq!(
            OptionValue::decode(num::URI_PATH, &[0xff]),
            OptionValue::Invalid(&[0xff], "invalid UTF-8")
        );
        assert_eq!(OptionValue::decode(num::OBSERVE, &[]), OptionValue::Uint(0));
        assert_eq!(OptionValue::decode(num::OBSERVE, &[0x01, 0x00]), OptionValue::Uint(256));
        assert_eq!(OptionValue::decode(num::MAX_AGE, &[0x00, 0x3c]), OptionValue::Uint(60));
        assert_eq!(
            OptionValue::decode(num::SIZE1, &[1; 9]),
            OptionValue::Invalid(&[1; 9], "uint longer than 8 bytes")
        );
        assert_eq!(OptionValue::decode(num::OSCORE, &[0x09, 0x14]), OptionValue::Opaque(&[0x09, 0x14]));
        assert_eq!(OptionValue::decode(num::IF_NONE_MATCH, &[]), OptionValue::Empty);
        assert_eq!(OptionValue::decode(65000, &[1, 2]), OptionValue::Opaque(&[1, 2]));
        let cf = OptionValue::decode(num::CONTENT_FORMAT, &[]);
        assert_eq!(cf, OptionValue::ContentFormat(0, Some("text/plain; charset=utf-8")));
        assert_eq!(cf.to_string(), "text/plain; charset=utf-8 (0)");
        assert_eq!(
            OptionValue::decode(num::ACCEPT, &[0x27, 0x11]),
            OptionValue::ContentFormat(10001, Some("application/oscore"))
        );
        assert_eq!(OptionValue::decode(num::ACCEPT, &[0x05]).to_string(), "5");
        assert_eq!(OptionValue::decode(num::ECHO, &[0xab, 0x01]).to_string(), "ab01");
        assert_eq!(OptionValue::decode(num::NO_RESPONSE, &[26]), OptionValue::Uint(26));
    }

    #[test]
    fn content_formats() {
        for (n, name) in [
            (0, "text/plain; charset=utf-8"),
            (40, "application/link-format"),
            (41, "application/xml"),
            (42, "application/octet-stream"),
            (47, "application/exi"),
            (50, "application/json"),
            (51, "application/json-patch+json"),
            (52, "application/merge-patch+json"),
            (60, "application/cbor"),
            (61, "application/cwt"),
            (62, "application/multipart-core"),
            (63, "application/cbor-seq"),
            (64, "application/edhoc+cbor-seq"),
            (65, "application/cid-edhoc+cbor-seq"),
            (16, "application/cose; cose-type=\"cose-encrypt0\""),
            (101, "application/cose-key"),
            (110, "application/senml+json"),
            (115, "application/sensml-exi"),
            (310, "application/senml+xml"),
            (322, "application/senml-etch+cbor"),
            (10001, "application/oscore"),
            (11542, "application/vnd.oma.lwm2m+tlv"),
        ] {
            assert_eq!(content_format_name(n), Some(name), "{n}");
        }
        for n in [1, 20, 66, 321, 1542, 64999, 65000] {
            assert_eq!(content_format_name(n), None, "{n}");
        }
    }

    #[test]
    fn uints() {
        assert_eq!(encode_uint(0), Vec::<u8>::new());
        assert_eq!(encode_uint(0x3c), vec![0x3c]);
        assert_eq!(encode_uint(0x0100), vec![1, 0]);
        assert_eq!(encode_uint(u64::MAX), vec![0xff; 8]);
        assert_eq!(decode_uint(&[0, 0, 1]), Some(1));
        assert_eq!(decode_uint(&[0; 9]), None);
    }
}
