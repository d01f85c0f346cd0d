//! The field registry: every field name the dissection tree ([`crate::dissect`]) can produce,
//! with its value type, display base, title and description.
//!
//! Front ends that need a fixed schema read it here: the Wireshark plugin registers one
//! `kudoscope.<name>` header field per entry (and maps [`FieldType`] to Wireshark's `FT_*`),
//! the GUI lists filterable fields. The test `analyzer-core/tests/fields_registry.rs` dissects
//! every frame of every sample capture and fails when the tree produces a field that is not
//! registered here, or a value of another type: add new tree fields to [`FIXED`] (or, for a
//! new per-option prefix, to [`OPTION_PREFIXES`]) in the same change.
//!
//! Per-option fields (`coap.opt.uri_path`, `oscore.inner.opt.uri_path`, ...) are generated from
//! the option registry [`crate::coap::options::OPTIONS`] with the value type that
//! [`crate::coap::options::OptionValue::decode`] gives; an option value that does not fit its
//! format (`OptionValue::Invalid`) is shown as raw bytes, the one documented exception to
//! "one field, one type" (see [`Field::accepts`]).

use crate::coap::options::{self, OptionFormat};
use crate::dissect::FieldValue;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The value type of a field. Unsigned integers carry their width, so a front end can pick a
/// narrow type (Wireshark `FT_UINT8` ... `FT_UINT64`); [`FieldType::FrameNum`] is an unsigned
/// frame number (Wireshark `FT_FRAMENUM`: a link to that frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    U8,
    U16,
    U32,
    U64,
    FrameNum,
    I64,
    Bool,
    Bytes,
    Str,
}

impl FieldType {
    /// Whether a tree value has this type (and, for unsigned integers, fits the width).
    pub fn accepts(self, v: &FieldValue) -> bool {
        match (self, v) {
            (FieldType::U8, FieldValue::Uint(u)) => *u <= u64::from(u8::MAX),
            (FieldType::U16, FieldValue::Uint(u)) => *u <= u64::from(u16::MAX),
            (FieldType::U32 | FieldType::FrameNum, FieldValue::Uint(u)) => *u <= u64::from(u32::MAX),
            (FieldType::U64, FieldValue::Uint(_)) => true,
            (FieldType::I64, FieldValue::Int(_)) => true,
            (FieldType::Bool, FieldValue::Bool(_)) => true,
            (FieldType::Bytes, FieldValue::Bytes(_)) => true,
            (FieldType::Str, FieldValue::Str(_)) => true,
            _ => false,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::U8 => "u8",
            FieldType::U16 => "u16",
            FieldType::U32 => "u32",
            FieldType::U64 => "u64",
            FieldType::FrameNum => "framenum",
            FieldType::I64 => "i64",
            FieldType::Bool => "bool",
            FieldType::Bytes => "bytes",
            FieldType::Str => "string",
        }
    }
}

/// How integers are shown (Wireshark `BASE_DEC` / `BASE_HEX`; `None` for non-integers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Base {
    None,
    Dec,
    Hex,
}

/// Which part of a frame a field describes: the plugin shows only [`FieldGroup::is_application`]
/// groups (Wireshark dissects the frame, link, network and transport layers itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FieldGroup {
    Frame,
    Link,
    Network,
    Transport,
    Coap,
    Oscore,
    Kudos,
    IdUpdate,
    Finding,
    /// Any prefix not listed in [`FieldGroup::of`]: treated as application data.
    Other,
}

impl FieldGroup {
    /// The group of a field name, by its first label.
    pub fn of(name: &str) -> FieldGroup {
        let first = name.split('.').next().unwrap_or(name);
        match first {
            "frame" => FieldGroup::Frame,
            "eth" | "vlan" | "sll" | "null" | "wpan" => FieldGroup::Link,
            "ip" | "ipv6" | "6lowpan" | "reassembled" => FieldGroup::Network,
            "udp" => FieldGroup::Transport,
            "coap" => FieldGroup::Coap,
            "oscore" => FieldGroup::Oscore,
            "kudos" => FieldGroup::Kudos,
            "idupdate" | "id_update" => FieldGroup::IdUpdate,
            "finding" => FieldGroup::Finding,
            _ => FieldGroup::Other,
        }
    }

    /// CoAP and everything above it (what Wireshark does not already show the same way).
    pub fn is_application(self) -> bool {
        self >= FieldGroup::Coap
    }
}

/// One registered field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The name as the tree produces it, e.g. `oscore.kid` (the plugin adds `kudoscope.`).
    pub name: Cow<'static, str>,
    pub ty: FieldType,
    pub base: Base,
    /// Short display name, e.g. "Key ID".
    pub title: Cow<'static, str>,
    /// One sentence for the field list / filter help.
    pub description: Cow<'static, str>,
}

impl Field {
    pub fn group(&self) -> FieldGroup {
        FieldGroup::of(&self.name)
    }

    /// Whether `v` is a value this field may carry: its type, plus raw bytes for per-option
    /// fields (an option value that does not fit its format is shown as bytes).
    pub fn accepts(&self, v: &FieldValue) -> bool {
        self.ty.accepts(v) || (self.is_option_value() && matches!(v, FieldValue::Bytes(_)))
    }

    /// True for `<prefix>.opt.<option>` value fields (not `opt.number` / `opt.length`).
    pub fn is_option_value(&self) -> bool {
        OPTION_PREFIXES.iter().any(|p| {
            self.name
                .strip_prefix(p)
                .and_then(|rest| rest.strip_prefix(".opt."))
                .is_some_and(|f| f != "number" && f != "length")
        })
    }
}

/// A fixed registry entry (all `'static`).
#[derive(Debug, Clone, Copy)]
pub struct FixedField {
    pub name: &'static str,
    pub ty: FieldType,
    pub base: Base,
    pub title: &'static str,
    pub description: &'static str,
}

const fn f(
    name: &'static str,
    ty: FieldType,
    base: Base,
    title: &'static str,
    description: &'static str,
) -> FixedField {
    FixedField { name, ty, base, title, description }
}

use Base::{Dec, Hex, None as NoBase};
use FieldType::{Bool, Bytes, FrameNum, Str, U8, U16, U32, U64};

/// Every fixed field of the tree (per-message fields are listed per prefix in
/// [`MESSAGE_FIELDS`], per-option fields come from the option registry).
pub static FIXED: &[FixedField] = &[
    // frame
    f("frame.number", U64, Dec, "Frame number", "1-based frame number in the capture"),
    f("frame.time_epoch", Str, NoBase, "Epoch time", "Capture time, seconds since 1970-01-01 UTC"),
    f("frame.time_relative", Str, NoBase, "Time since first frame", "Seconds since the first frame"),
    f("frame.len", U32, Dec, "Frame length", "Length on the wire"),
    f("frame.cap_len", U64, Dec, "Capture length", "Bytes captured"),
    f("frame.link_type", U32, Dec, "Link type", "pcap LINKTYPE_* value of the frame"),
    // link
    f("eth.dst", Bytes, NoBase, "Destination", "Ethernet destination MAC address"),
    f("eth.src", Bytes, NoBase, "Source", "Ethernet source MAC address"),
    f("eth.type", U16, Hex, "Type", "EtherType"),
    f("vlan.tpid", U16, Hex, "TPID", "Tag protocol identifier (0x8100, 0x88a8)"),
    f("vlan.priority", U8, Dec, "Priority", "802.1Q priority code point"),
    f("vlan.dei", Bool, NoBase, "DEI", "Drop eligible indicator"),
    f("vlan.id", U16, Dec, "VLAN ID", "802.1Q VLAN identifier"),
    f("vlan.etype", U16, Hex, "Type", "EtherType after the tag"),
    f("sll.pkttype", U16, Dec, "Packet type", "Linux cooked capture packet type"),
    f("sll.hatype", U16, Dec, "Link-layer address type", "ARPHRD_* value"),
    f("sll.src", Bytes, NoBase, "Source", "Link-layer source address"),
    f("sll.etype", U16, Hex, "Protocol", "Protocol (EtherType)"),
    f("sll.ifindex", U32, Dec, "Interface index", "Linux cooked capture v2 interface index"),
    f("null.family", U32, Dec, "Family", "BSD loopback address family"),
    f("wpan.frame_type", U8, Dec, "Frame type", "IEEE 802.15.4 frame type"),
    f("wpan.version", U8, Dec, "Frame version", "IEEE 802.15.4 frame version"),
    f("wpan.seq_no", U8, Dec, "Sequence number", "IEEE 802.15.4 sequence number"),
    f("wpan.dst_pan", U16, Hex, "Destination PAN", "IEEE 802.15.4 destination PAN ID"),
    f("wpan.dst", Bytes, NoBase, "Destination", "IEEE 802.15.4 destination address"),
    f("wpan.src_pan", U16, Hex, "Source PAN", "IEEE 802.15.4 source PAN ID"),
    f("wpan.src", Bytes, NoBase, "Source", "IEEE 802.15.4 source address"),
    f("wpan.security", Bool, NoBase, "Security enabled", "IEEE 802.15.4 security bit"),
    f("wpan.fcs_ok", Bool, NoBase, "FCS correct", "IEEE 802.15.4 FCS verified"),
    // network
    f("ip.hdr_len", U8, Dec, "Header length", "IPv4 header length in bytes"),
    f("ip.len", U16, Dec, "Total length", "IPv4 total length"),
    f("ip.id", U16, Hex, "Identification", "IPv4 identification"),
    f("ip.flags.df", Bool, NoBase, "Don't fragment", "IPv4 DF flag"),
    f("ip.flags.mf", Bool, NoBase, "More fragments", "IPv4 MF flag"),
    f("ip.frag_offset", U16, Dec, "Fragment offset", "IPv4 fragment offset in bytes"),
    f("ip.ttl", U8, Dec, "Time to live", "IPv4 TTL"),
    f("ip.proto", U8, Dec, "Protocol", "IPv4 protocol number"),
    f("ip.src", Str, NoBase, "Source address", "IPv4 source address"),
    f("ip.dst", Str, NoBase, "Destination address", "IPv4 destination address"),
    f("ip.checksum_ok", Bool, NoBase, "Header checksum correct", "IPv4 header checksum verified"),
    f("ipv6.tclass", U8, Hex, "Traffic class", "IPv6 traffic class"),
    f("ipv6.flow", U32, Hex, "Flow label", "IPv6 flow label"),
    f("ipv6.plen", U16, Dec, "Payload length", "IPv6 payload length"),
    f("ipv6.nxt", U8, Dec, "Next header", "IPv6 next header"),
    f("ipv6.hlim", U8, Dec, "Hop limit", "IPv6 hop limit"),
    f("ipv6.src", Str, NoBase, "Source address", "IPv6 source address"),
    f("ipv6.dst", Str, NoBase, "Destination address", "IPv6 destination address"),
    f("ipv6.fragment.id", U32, Hex, "Fragment identification", "IPv6 fragment header identification"),
    f("6lowpan.frag.size", U16, Dec, "Datagram size", "6LoWPAN fragment datagram size"),
    f("6lowpan.frag.tag", U16, Hex, "Datagram tag", "6LoWPAN fragment datagram tag"),
    f("6lowpan.frag.offset", U16, Dec, "Datagram offset", "6LoWPAN FRAGN offset in bytes"),
    f("6lowpan.src", Str, NoBase, "Source", "IPv6 source address after IPHC decompression"),
    f("6lowpan.dst", Str, NoBase, "Destination", "IPv6 destination address after IPHC decompression"),
    f("6lowpan.hops", U8, Dec, "Hop limit", "IPHC hop limit"),
    f("6lowpan.next", U8, Dec, "Next header", "IPHC next header (when inline)"),
    f("6lowpan.nhc.udp", Bool, NoBase, "UDP header compressed", "UDP NHC used"),
    f("6lowpan.mesh.hops", U8, Dec, "Hops left", "6LoWPAN mesh header hops left"),
    f("6lowpan.mesh.orig", Bytes, NoBase, "Originator", "6LoWPAN mesh originator address"),
    f("6lowpan.mesh.final_dst", Bytes, NoBase, "Final destination", "6LoWPAN mesh final destination"),
    f("6lowpan.bcast.seq", U8, Dec, "Sequence number", "6LoWPAN broadcast header sequence number"),
    f("reassembled.frames", Str, NoBase, "Reassembled from", "Frames a datagram was reassembled from"),
    // transport
    f("udp.srcport", U16, Dec, "Source port", "UDP source port"),
    f("udp.dstport", U16, Dec, "Destination port", "UDP destination port"),
    f("udp.length", U16, Dec, "Length", "UDP length"),
    f("udp.checksum", U16, Hex, "Checksum", "UDP checksum"),
    f("udp.checksum_ok", Bool, NoBase, "Checksum correct", "UDP checksum verified"),
    // CoAP exchange information (generated)
    f("coap.role", Str, NoBase, "Role", "request, response, empty ACK, reset, ping or other"),
    f("coap.retransmission_of", FrameNum, NoBase, "Retransmission of", "Frame this message retransmits"),
    f("coap.mid_reused_from", FrameNum, NoBase, "Message ID reused from", "Earlier frame with this MID"),
    f("coap.ack_of", FrameNum, NoBase, "Acknowledges", "Frame this ACK/RST answers"),
    f("coap.response_to", FrameNum, NoBase, "Response to", "Request frame of this response"),
    f("coap.response_time", Str, NoBase, "Response time", "Seconds between request and response"),
    f("coap.observe", Str, NoBase, "Observe", "register or deregister"),
    f("coap.observe.registration", FrameNum, NoBase, "Observe registration", "Frame of the registration"),
    f("coap.block.transfer", FrameNum, NoBase, "Block-wise transfer", "First frame of the transfer"),
    f("coap.block.body_len", U64, Dec, "Reassembled body length", "Bytes of the completed body"),
    // OSCORE option (RFC 8613 §6.1, KUDOS extension)
    f("oscore.flags", Bytes, NoBase, "Flag bytes", "OSCORE option flag byte(s)"),
    f("oscore.flags.extension", Bool, NoBase, "Extension-1", "Bit 0: a second flag byte follows (KUDOS)"),
    f("oscore.flags.reserved", Bool, NoBase, "Reserved", "Reserved flag bit"),
    f("oscore.flags.group", Bool, NoBase, "Group flag", "Group OSCORE flag bit"),
    f("oscore.flags.h", Bool, NoBase, "h", "kid context present"),
    f("oscore.flags.k", Bool, NoBase, "k", "kid present"),
    f("oscore.flags.n", U8, Dec, "n", "Partial IV length"),
    f("oscore.flags.d", Bool, NoBase, "d", "KUDOS nonce flag (x and nonce present)"),
    f("oscore.piv", Bytes, NoBase, "Partial IV", "OSCORE Partial IV"),
    f("oscore.kid_context", Bytes, NoBase, "kid context", "OSCORE kid context"),
    f("oscore.kid", Bytes, NoBase, "kid", "OSCORE key ID"),
    f("kudos.x", U8, Hex, "KUDOS x", "KUDOS x byte |0|z|b|p|m|"),
    f("kudos.z", Bool, NoBase, "z", "KUDOS z: 1 convergent, 0 divergent"),
    f("kudos.b", Bool, NoBase, "b", "KUDOS b: preserve observations"),
    f("kudos.p", Bool, NoBase, "p", "KUDOS p: no forward secrecy mode"),
    f("kudos.m", U8, Dec, "m", "KUDOS m: nonce length - 1"),
    f("kudos.reserved", Bool, NoBase, "Reserved", "KUDOS x reserved bit"),
    f("kudos.nonce", Bytes, NoBase, "KUDOS nonce", "KUDOS nonce N1/N2"),
    // OSCORE processing (generated)
    f("oscore.status", Str, NoBase, "Status", "decrypted, tag_mismatch, no_context, ..."),
    f("oscore.context", Str, NoBase, "Context", "Name of the security context that opened the message"),
    f("oscore.generation", Str, NoBase, "Generation", "Context generation (g0, KUDOS updates g1, ...)"),
    f("oscore.request_frame", FrameNum, NoBase, "Request in", "Request frame whose AAD/nonce was used"),
    f("oscore.request_kid", Bytes, NoBase, "AAD request_kid", "request_kid of the external AAD"),
    f("oscore.request_piv", Bytes, NoBase, "AAD request_piv", "request_piv of the external AAD"),
    f("oscore.nonce", Bytes, NoBase, "AEAD nonce", "Nonce used to open the message"),
    f("oscore.b12", Str, NoBase, "RFC 8613 B.1.2", "Echo challenge or response"),
    // key-management procedure events (generated, "Key management" node)
    f("kudos.event", Str, NoBase, "KUDOS event", "A KUDOS procedure event caused by this message"),
    f("idupdate.event", Str, NoBase, "ID update event", "An OSCORE ID-update procedure event"),
    // findings
    f("finding.kind", Str, NoBase, "Finding", "Stable finding kind, e.g. oscore.replay"),
];

/// Prefixes under which a whole CoAP message is shown: the outer message and the decrypted
/// OSCORE plaintext.
pub static OPTION_PREFIXES: &[&str] = &["coap", "oscore.inner"];

/// Per-message fields (`<prefix>.<suffix>`), see [`crate::dissect::message_fields`].
pub static MESSAGE_FIELDS: &[FixedField] = &[
    f("version", U8, Dec, "Version", "version"),
    f("type", Str, NoBase, "Type", "type: CON, NON, ACK or RST"),
    f("token_len", U32, Dec, "Token length", "token length in bytes"),
    f("code", U8, Dec, "Code", "code (class * 32 + detail)"),
    f("mid", U16, Dec, "Message ID", "message ID"),
    f("token", Bytes, NoBase, "Token", "token"),
    f("opt.number", U16, Dec, "Option number", "option number"),
    f("opt.length", U32, Dec, "Option length", "option value length"),
    f("opt.unknown", Bytes, NoBase, "Unknown option", "value of an option not in the registry"),
    f("payload", Bytes, NoBase, "Payload", "payload bytes"),
];

/// The value type [`crate::dissect`] gives an option's value field.
pub fn option_value_type(number: u16) -> FieldType {
    use options::num;
    match number {
        num::BLOCK1 | num::BLOCK2 | num::Q_BLOCK1 | num::Q_BLOCK2 => FieldType::Str,
        num::CONTENT_FORMAT | num::ACCEPT => FieldType::U16,
        _ => match options::option_def(number).map(|d| d.format) {
            Some(OptionFormat::Uint) => FieldType::U64,
            Some(OptionFormat::String) => FieldType::Str,
            Some(OptionFormat::Empty | OptionFormat::Opaque) | None => FieldType::Bytes,
        },
    }
}

fn build() -> Vec<Field> {
    let mut v: Vec<Field> = FIXED
        .iter()
        .map(|x| Field {
            name: Cow::Borrowed(x.name),
            ty: x.ty,
            base: x.base,
            title: Cow::Borrowed(x.title),
            description: Cow::Borrowed(x.description),
        })
        .collect();
    for prefix in OPTION_PREFIXES {
        let inner = *prefix != "coap";
        let what = if inner { "Decrypted OSCORE message" } else { "CoAP message" };
        for m in MESSAGE_FIELDS {
            v.push(Field {
                name: Cow::Owned(format!("{prefix}.{}", m.name)),
                ty: m.ty,
                base: m.base,
                title: Cow::Borrowed(m.title),
                description: Cow::Owned(format!("{what}: {}", m.description)),
            });
        }
        for d in options::OPTIONS {
            let ty = option_value_type(d.number);
            let base = match ty {
                FieldType::Bytes | FieldType::Str => Base::None,
                _ => Base::Dec,
            };
            v.push(Field {
                name: Cow::Owned(format!("{prefix}.opt.{}", d.field)),
                ty,
                base,
                title: Cow::Borrowed(d.name),
                description: Cow::Owned(format!("{what}: option {} ({})", d.number, d.name)),
            });
        }
    }
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v.dedup_by(|a, b| a.name == b.name);
    v
}

struct Registry {
    fields: Vec<Field>,
    index: HashMap<String, usize>,
}

fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| {
        let fields = build();
        let index = fields.iter().enumerate().map(|(i, f)| (f.name.to_string(), i)).collect();
        Registry { fields, index }
    })
}

/// Every registered field, sorted by name (built once).
pub fn all() -> &'static [Field] {
    &registry().fields
}

/// The registry entry of a field name produced by the tree.
pub fn lookup(name: &str) -> Option<&'static Field> {
    let r = registry();
    r.index.get(name).and_then(|&i| r.fields.get(i))
}

/// The position of `name` in [`all`] (a dense index front ends can use for their own tables).
pub fn index_of(name: &str) -> Option<usize> {
    registry().index.get(name).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_well_formed_and_sorted() {
        let all = all();
        for w in all.windows(2) {
            assert!(w[0].name < w[1].name, "{} / {}", w[0].name, w[1].name);
        }
        for f in all {
            // Wireshark's proto_check_field_name: letters, digits, '-', '_', '.'.
            assert!(
                f.name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')),
                "{}",
                f.name
            );
            assert!(!f.name.starts_with('.') && !f.name.ends_with('.') && !f.name.contains(".."));
            assert!(!f.title.is_empty() && !f.description.is_empty(), "{}", f.name);
        }
        // 2 prefixes x (message fields + options) + fixed.
        assert_eq!(all.len(), FIXED.len() + 2 * (MESSAGE_FIELDS.len() + options::OPTIONS.len()));
    }

    #[test]
    fn option_fields_follow_the_option_registry() {
        // RFC 7252 §5.10: Uri-Path is a string, Content-Format a uint; RFC 7959: Block2 is
        // shown as NUM/M/SIZE; RFC 8613: OSCORE is opaque.
        assert_eq!(lookup("coap.opt.uri_path").map(|f| f.ty), Some(FieldType::Str));
        assert_eq!(lookup("oscore.inner.opt.uri_path").map(|f| f.ty), Some(FieldType::Str));
        assert_eq!(lookup("coap.opt.content_format").map(|f| f.ty), Some(FieldType::U16));
        assert_eq!(lookup("coap.opt.block2").map(|f| f.ty), Some(FieldType::Str));
        assert_eq!(lookup("coap.opt.oscore").map(|f| f.ty), Some(FieldType::Bytes));
        assert_eq!(lookup("coap.opt.observe").map(|f| f.ty), Some(FieldType::U64));
        assert_eq!(lookup("coap.opt.edhoc").map(|f| f.ty), Some(FieldType::Bytes));
        assert_eq!(lookup("coap.opt.unknown").map(|f| f.ty), Some(FieldType::Bytes));
        assert!(lookup("coap.opt.nonexistent").is_none());
        let uri = lookup("coap.opt.uri_path").unwrap();
        assert!(uri.is_option_value());
        assert!(uri.accepts(&FieldValue::Bytes(vec![0xff])), "invalid UTF-8 is shown as bytes");
        assert!(!lookup("coap.opt.number").unwrap().is_option_value());
        assert!(!lookup("coap.mid").unwrap().accepts(&FieldValue::Bytes(vec![])));
    }

    #[test]
    fn widths_are_checked() {
        assert!(FieldType::U8.accepts(&FieldValue::Uint(255)));
        assert!(!FieldType::U8.accepts(&FieldValue::Uint(256)));
        assert!(FieldType::U16.accepts(&FieldValue::Uint(65535)));
        assert!(!FieldType::U16.accepts(&FieldValue::Uint(65536)));
        assert!(!FieldType::FrameNum.accepts(&FieldValue::Uint(1 << 32)));
        assert!(FieldType::U64.accepts(&FieldValue::Uint(u64::MAX)));
        assert!(!FieldType::Str.accepts(&FieldValue::Uint(1)));
    }

    #[test]
    fn groups() {
        assert_eq!(FieldGroup::of("udp.srcport"), FieldGroup::Transport);
        assert_eq!(FieldGroup::of("6lowpan.src"), FieldGroup::Network);
        assert_eq!(FieldGroup::of("kudos.nonce"), FieldGroup::Kudos);
        assert_eq!(FieldGroup::of("newthing.x"), FieldGroup::Other);
        assert!(FieldGroup::Coap.is_application() && FieldGroup::Other.is_application());
        assert!(!FieldGroup::Transport.is_application() && !FieldGroup::Frame.is_application());
    }
}
