//! Pass 2: a pure per-frame dissection tree (frame record -> tree), for display.
//!
//! Every node names its field the way filters, JSON and the Wireshark plugin do (`coap.mid`,
//! `coap.opt.uri_path`, `udp.srcport`; the plugin prefixes them with `kudoscope.`), carries a
//! typed value when it has one, and the span of the bytes it describes, so a hex view can
//! highlight them.

use crate::analysis::{CoapDetection, CoapRecord, FrameRecord};
use crate::coap::exchange::{BlockKind, ObserveInfo, Role};
use crate::coap::message::{Message, MessageKind};
use crate::coap::options::{self, OptionValue};
use crate::finding::{Span, SpanSource};
use crate::hex;
use crate::net::{Layer, LayerInfo, SixlowpanHeader};
use crate::oscore::engine::{EchoRecovery, NonceSource, OscoreRecord, Status};
use std::borrow::Cow;
use std::fmt::Write;

/// A filter field name: static for fixed fields, owned for per-option names.
pub type FieldName = Cow<'static, str>;

/// A typed field value (what filters compare against).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    Uint(u64),
    Int(i64),
    Bool(bool),
    Bytes(Vec<u8>),
    Str(String),
}

impl std::fmt::Display for FieldValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FieldValue::Uint(v) => write!(f, "{v}"),
            FieldValue::Int(v) => write!(f, "{v}"),
            FieldValue::Bool(v) => write!(f, "{v}"),
            FieldValue::Bytes(b) => f.write_str(&hex::encode(b)),
            FieldValue::Str(s) => f.write_str(s),
        }
    }
}

/// One line of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The text shown, e.g. "Message ID: 46126".
    pub label: String,
    /// Filter field name, e.g. "coap.mid"; `None` for pure grouping/text lines.
    pub field: Option<FieldName>,
    pub value: Option<FieldValue>,
    pub span: Option<Span>,
    /// Generated (computed, not on the wire), shown in [brackets] like Wireshark.
    pub generated: bool,
    pub children: Vec<Node>,
}

impl Node {
    pub fn text(label: impl Into<String>) -> Node {
        Node {
            label: label.into(),
            field: None,
            value: None,
            span: None,
            generated: false,
            children: Vec::new(),
        }
    }
    pub fn field(label: impl Into<String>, field: impl Into<FieldName>, value: FieldValue) -> Node {
        Node { field: Some(field.into()), value: Some(value), ..Node::text(label) }
    }
    pub fn at(mut self, span: Option<Span>) -> Node {
        self.span = span;
        self
    }
    pub fn generated(mut self) -> Node {
        self.generated = true;
        self
    }
    pub fn with(mut self, children: Vec<Node>) -> Node {
        self.children = children;
        self
    }
    pub fn push(&mut self, child: Node) {
        self.children.push(child);
    }

    /// Depth-first visit of this node and its descendants.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Node, usize)) {
        fn go<'a>(n: &'a Node, depth: usize, f: &mut dyn FnMut(&'a Node, usize)) {
            f(n, depth);
            for c in &n.children {
                go(c, depth + 1, f);
            }
        }
        go(self, 0, f);
    }
}

/// The dissection of one frame: top-level protocol nodes in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tree {
    pub roots: Vec<Node>,
}

impl Tree {
    /// Renders like `tshark -V`: one line per node, 4 spaces per level, generated in brackets.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        for r in &self.roots {
            r.walk(&mut |n, depth| {
                for _ in 0..depth {
                    out.push_str("    ");
                }
                if n.generated {
                    let _ = writeln!(out, "[{}]", n.label);
                } else {
                    let _ = writeln!(out, "{}", n.label);
                }
            });
        }
        out
    }

    /// All (field, value) pairs, depth-first: what filters and the plugin consume.
    pub fn fields(&self) -> Vec<(&str, &FieldValue)> {
        let mut v = Vec::new();
        for r in &self.roots {
            r.walk(&mut |n, _| {
                if let (Some(f), Some(val)) = (&n.field, &n.value) {
                    v.push((f.as_ref(), val));
                }
            });
        }
        v
    }
}

/// Whether display labels are built (`false`: only fields and values, for filters and
/// `tshark -T fields`, several times cheaper).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Labels(pub bool);

/// A label: formatted when labels are wanted, empty otherwise.
macro_rules! lbl {
    ($l:expr, $($t:tt)*) => {
        if $l.0 { format!($($t)*) } else { String::new() }
    };
}

/// Builds the tree of a frame from its record (pure: no analysis state needed).
pub fn dissect(record: &FrameRecord) -> Tree {
    dissect_with(record, Labels(true))
}

/// The same tree without display labels: every field with its value and span, for filters.
pub fn dissect_fields(record: &FrameRecord) -> Tree {
    dissect_with(record, Labels(false))
}

fn dissect_with(record: &FrameRecord, lb: Labels) -> Tree {
    let mut roots = vec![frame_node(record, lb)];
    for l in &record.layers {
        roots.push(layer_node(l, SpanSource::Frame, lb));
    }
    if !record.reassembled_from.is_empty() {
        let list = record.reassembled_from.iter().map(|f| format!("#{f}")).collect::<Vec<_>>().join(", ");
        roots.push(
            Node::field(
                lbl!(lb, "Reassembled datagram from {} fragments: {list}", record.reassembled_from.len()),
                "reassembled.frames",
                FieldValue::Str(list.clone()),
            )
            .generated(),
        );
        for l in &record.reassembled_layers {
            roots.push(layer_node(l, SpanSource::Reassembled, lb));
        }
    }
    if let Some(c) = &record.coap {
        roots.push(coap_node(c, lb));
        if let Some(o) = &c.oscore {
            roots.push(oscore_node(c, o, lb));
            if let Some(inner) = &o.inner {
                let mut n = Node::text(lbl!(
                    lb,
                    "Decrypted OSCORE ({} bytes of plaintext{})",
                    inner.bytes.len(),
                    if o.status == Status::TagTruncated { ", tag NOT verified" } else { "" }
                ))
                .at(Some(Span::Decrypted { start: 0, end: inner.bytes.len() }));
                let span_of =
                    |r: std::ops::Range<usize>| Some(Span::Decrypted { start: r.start, end: r.end });
                message_fields(&mut n, inner, "oscore.inner", &span_of, lb);
                roots.push(n);
            }
        }
    }
    if !record.events.is_empty() {
        let mut n = Node::text("Key management");
        for e in &record.events {
            let field = match e.kind {
                crate::timeline::ProcedureKind::Kudos => "kudos.event",
                crate::timeline::ProcedureKind::IdUpdate => "idupdate.event",
            };
            n.push(Node::field(e.text.clone(), field, FieldValue::Str(e.text.clone())).generated());
        }
        roots.push(n);
    }
    if !record.findings.is_empty() {
        let mut n = Node::text(lbl!(lb, "Findings ({})", record.findings.len()));
        for f in &record.findings {
            n.push(
                Node::field(
                    lbl!(lb, "[{}] {}: {}", f.severity, f.kind, f.message),
                    "finding.kind",
                    FieldValue::Str(f.kind.as_str().to_string()),
                )
                .at(f.span.clone()),
            );
        }
        roots.push(n);
    }
    Tree { roots }
}

fn frame_node(r: &FrameRecord, lb: Labels) -> Node {
    let mut n = Node::text(lbl!(
        lb,
        "Frame {}: {} bytes on wire, {} bytes captured",
        r.number,
        r.orig_len,
        r.cap_len
    ))
    .at(Some(Span::frame(0..r.cap_len)));
    n.push(Node::field(lbl!(lb, "Frame Number: {}", r.number), "frame.number", FieldValue::Uint(r.number)));
    n.push(Node::field(
        lbl!(lb, "Epoch Time: {}", r.ts),
        "frame.time_epoch",
        FieldValue::Str(r.ts.to_string()),
    ));
    n.push(
        Node::field(
            lbl!(lb, "Time since first frame: {} seconds", r.rel_time),
            "frame.time_relative",
            FieldValue::Str(r.rel_time.to_string()),
        )
        .generated(),
    );
    n.push(Node::field(
        lbl!(lb, "Frame Length: {}", r.orig_len),
        "frame.len",
        FieldValue::Uint(r.orig_len.into()),
    ));
    n.push(Node::field(
        lbl!(lb, "Capture Length: {}", r.cap_len),
        "frame.cap_len",
        FieldValue::Uint(r.cap_len as u64),
    ));
    n.push(Node::field(
        lbl!(lb, "Link Type: {}", r.link_type),
        "frame.link_type",
        FieldValue::Uint(r.link_type.0.into()),
    ));
    n
}

fn layer_node(l: &Layer, source: SpanSource, lb: Labels) -> Node {
    let span = Some(Span::new(source, l.range.clone()));
    let f = |label: String, field: &'static str, v: FieldValue| Node::field(label, field, v);
    match &l.info {
        LayerInfo::Ethernet { dst, src, ethertype } => {
            Node::text(lbl!(lb, "Ethernet II, Src: {src}, Dst: {dst}")).at(span).with(vec![
                f(lbl!(lb, "Destination: {dst}"), "eth.dst", FieldValue::Bytes(dst.as_bytes().to_vec())),
                f(lbl!(lb, "Source: {src}"), "eth.src", FieldValue::Bytes(src.as_bytes().to_vec())),
                f(lbl!(lb, "Type: {ethertype:#06x}"), "eth.type", FieldValue::Uint((*ethertype).into())),
            ])
        }
        LayerInfo::Vlan { tpid, pcp, dei, vid, ethertype } => {
            Node::text(lbl!(lb, "802.1Q Virtual LAN, PRI: {pcp}, DEI: {}, ID: {vid}", u8::from(*dei)))
                .at(span)
                .with(vec![
                    f(lbl!(lb, "TPID: {tpid:#06x}"), "vlan.tpid", FieldValue::Uint((*tpid).into())),
                    f(lbl!(lb, "Priority: {pcp}"), "vlan.priority", FieldValue::Uint((*pcp).into())),
                    f(lbl!(lb, "DEI: {}", u8::from(*dei)), "vlan.dei", FieldValue::Bool(*dei)),
                    f(lbl!(lb, "ID: {vid}"), "vlan.id", FieldValue::Uint((*vid).into())),
                    f(
                        lbl!(lb, "Type: {ethertype:#06x}"),
                        "vlan.etype",
                        FieldValue::Uint((*ethertype).into()),
                    ),
                ])
        }
        LayerInfo::LinuxSll { version, packet_type, arphrd, addr, protocol, ifindex } => {
            let mut n = Node::text(lbl!(lb, "Linux cooked capture v{version}")).at(span).with(vec![
                f(
                    lbl!(lb, "Packet type: {packet_type}"),
                    "sll.pkttype",
                    FieldValue::Uint((*packet_type).into()),
                ),
                f(
                    lbl!(lb, "Link-layer address type: {arphrd}"),
                    "sll.hatype",
                    FieldValue::Uint((*arphrd).into()),
                ),
                f(lbl!(lb, "Source: {addr}"), "sll.src", FieldValue::Bytes(addr.as_bytes().to_vec())),
                f(lbl!(lb, "Protocol: {protocol:#06x}"), "sll.etype", FieldValue::Uint((*protocol).into())),
            ]);
            if let Some(i) = ifindex {
                n.push(f(lbl!(lb, "Interface index: {i}"), "sll.ifindex", FieldValue::Uint((*i).into())));
            }
            n
        }
        LayerInfo::Loopback { family } => Node::text(lbl!(lb, "Null/Loopback, Family: {family}"))
            .at(span)
            .with(vec![f(lbl!(lb, "Family: {family}"), "null.family", FieldValue::Uint((*family).into()))]),
        LayerInfo::Ieee802154 {
            frame_type,
            frame_version,
            seq,
            dst_pan,
            dst,
            src_pan,
            src,
            security,
            fcs,
        } => {
            let mut n = Node::text(lbl!(
                lb,
                "IEEE 802.15.4, Src: {}, Dst: {}",
                src.as_ref().map(|a| a.to_string()).unwrap_or_else(|| "-".into()),
                dst.as_ref().map(|a| a.to_string()).unwrap_or_else(|| "-".into())
            ))
            .at(span);
            n.push(f(
                lbl!(lb, "Frame Type: {frame_type}"),
                "wpan.frame_type",
                FieldValue::Uint((*frame_type).into()),
            ));
            n.push(f(
                lbl!(lb, "Frame Version: {frame_version}"),
                "wpan.version",
                FieldValue::Uint((*frame_version).into()),
            ));
            if let Some(s) = seq {
                n.push(f(lbl!(lb, "Sequence Number: {s}"), "wpan.seq_no", FieldValue::Uint((*s).into())));
            }
            if let Some(p) = dst_pan {
                n.push(f(
                    lbl!(lb, "Destination PAN: {p:#06x}"),
                    "wpan.dst_pan",
                    FieldValue::Uint((*p).into()),
                ));
            }
            if let Some(a) = dst {
                n.push(f(lbl!(lb, "Destination: {a}"), "wpan.dst", FieldValue::Bytes(a.as_bytes().to_vec())));
            }
            if let Some(p) = src_pan {
                n.push(f(lbl!(lb, "Source PAN: {p:#06x}"), "wpan.src_pan", FieldValue::Uint((*p).into())));
            }
            if let Some(a) = src {
                n.push(f(lbl!(lb, "Source: {a}"), "wpan.src", FieldValue::Bytes(a.as_bytes().to_vec())));
            }
            n.push(f(lbl!(lb, "Security Enabled: {security}"), "wpan.security", FieldValue::Bool(*security)));
            if let Some(ok) = fcs {
                n.push(f(
                    lbl!(lb, "FCS: {}", if *ok { "correct" } else { "incorrect" }),
                    "wpan.fcs_ok",
                    FieldValue::Bool(*ok),
                ));
            }
            n
        }
        LayerInfo::Sixlowpan { header } => sixlowpan_node(header, lb).at(span),
        LayerInfo::Ipv4 {
            src,
            dst,
            ttl,
            protocol,
            id,
            dont_fragment,
            more_fragments,
            fragment_offset,
            total_len,
            header_len,
            checksum_ok,
        } => {
            let mut n = Node::text(lbl!(lb, "Internet Protocol Version 4, Src: {src}, Dst: {dst}"))
                .at(span)
                .with(vec![
                    f(
                        lbl!(lb, "Header Length: {header_len} bytes"),
                        "ip.hdr_len",
                        FieldValue::Uint((*header_len).into()),
                    ),
                    f(lbl!(lb, "Total Length: {total_len}"), "ip.len", FieldValue::Uint((*total_len).into())),
                    f(lbl!(lb, "Identification: {id:#06x} ({id})"), "ip.id", FieldValue::Uint((*id).into())),
                    f(
                        lbl!(lb, "Don't fragment: {dont_fragment}"),
                        "ip.flags.df",
                        FieldValue::Bool(*dont_fragment),
                    ),
                    f(
                        lbl!(lb, "More fragments: {more_fragments}"),
                        "ip.flags.mf",
                        FieldValue::Bool(*more_fragments),
                    ),
                    f(
                        lbl!(lb, "Fragment Offset: {}", u32::from(*fragment_offset) * 8),
                        "ip.frag_offset",
                        FieldValue::Uint(u64::from(*fragment_offset) * 8),
                    ),
                    f(lbl!(lb, "Time to Live: {ttl}"), "ip.ttl", FieldValue::Uint((*ttl).into())),
                    f(lbl!(lb, "Protocol: {protocol}"), "ip.proto", FieldValue::Uint((*protocol).into())),
                    f(lbl!(lb, "Source Address: {src}"), "ip.src", FieldValue::Str(src.to_string())),
                    f(lbl!(lb, "Destination Address: {dst}"), "ip.dst", FieldValue::Str(dst.to_string())),
                ]);
            if let Some(ok) = checksum_ok {
                n.push(f(
                    lbl!(lb, "Header checksum: {}", if *ok { "correct" } else { "incorrect" }),
                    "ip.checksum_ok",
                    FieldValue::Bool(*ok),
                ));
            }
            n
        }
        LayerInfo::Ipv6 {
            src,
            dst,
            hop_limit,
            next_header,
            payload_len,
            flow_label,
            traffic_class,
            extensions,
            fragment,
        } => {
            let mut n = Node::text(lbl!(lb, "Internet Protocol Version 6, Src: {src}, Dst: {dst}"))
                .at(span)
                .with(vec![
                    f(
                        lbl!(lb, "Traffic Class: {traffic_class:#04x}"),
                        "ipv6.tclass",
                        FieldValue::Uint((*traffic_class).into()),
                    ),
                    f(
                        lbl!(lb, "Flow Label: {flow_label:#07x}"),
                        "ipv6.flow",
                        FieldValue::Uint((*flow_label).into()),
                    ),
                    f(
                        lbl!(lb, "Payload Length: {payload_len}"),
                        "ipv6.plen",
                        FieldValue::Uint((*payload_len).into()),
                    ),
                    f(
                        lbl!(lb, "Next Header: {next_header}"),
                        "ipv6.nxt",
                        FieldValue::Uint((*next_header).into()),
                    ),
                    f(lbl!(lb, "Hop Limit: {hop_limit}"), "ipv6.hlim", FieldValue::Uint((*hop_limit).into())),
                    f(lbl!(lb, "Source Address: {src}"), "ipv6.src", FieldValue::Str(src.to_string())),
                    f(lbl!(lb, "Destination Address: {dst}"), "ipv6.dst", FieldValue::Str(dst.to_string())),
                ]);
            for (t, len) in extensions {
                n.push(Node::text(lbl!(lb, "Extension header {t} ({len} bytes)")));
            }
            if let Some((id, off, more)) = fragment {
                n.push(f(
                    lbl!(lb, "Fragment: id {id:#010x}, offset {}, more {more}", u32::from(*off) * 8),
                    "ipv6.fragment.id",
                    FieldValue::Uint((*id).into()),
                ));
            }
            n
        }
        LayerInfo::Udp { src_port, dst_port, length, checksum, checksum_ok } => {
            let mut n =
                Node::text(lbl!(lb, "User Datagram Protocol, Src Port: {src_port}, Dst Port: {dst_port}"))
                    .at(span)
                    .with(vec![
                        f(
                            lbl!(lb, "Source Port: {src_port}"),
                            "udp.srcport",
                            FieldValue::Uint((*src_port).into()),
                        ),
                        f(
                            lbl!(lb, "Destination Port: {dst_port}"),
                            "udp.dstport",
                            FieldValue::Uint((*dst_port).into()),
                        ),
                        f(lbl!(lb, "Length: {length}"), "udp.length", FieldValue::Uint((*length).into())),
                        f(
                            lbl!(lb, "Checksum: {checksum:#06x}"),
                            "udp.checksum",
                            FieldValue::Uint((*checksum).into()),
                        ),
                    ]);
            if let Some(ok) = checksum_ok {
                n.push(f(
                    lbl!(lb, "Checksum status: {}", if *ok { "correct" } else { "incorrect" }),
                    "udp.checksum_ok",
                    FieldValue::Bool(*ok),
                ));
            }
            n
        }
    }
}

fn sixlowpan_node(h: &SixlowpanHeader, lb: Labels) -> Node {
    let f = |label: String, field: &'static str, v: FieldValue| Node::field(label, field, v);
    match h {
        SixlowpanHeader::Frag1 { size, tag } => Node::text("6LoWPAN, First Fragment").with(vec![
            f(lbl!(lb, "Datagram size: {size}"), "6lowpan.frag.size", FieldValue::Uint((*size).into())),
            f(lbl!(lb, "Datagram tag: {tag:#06x}"), "6lowpan.frag.tag", FieldValue::Uint((*tag).into())),
        ]),
        SixlowpanHeader::FragN { size, tag, offset } => {
            Node::text("6LoWPAN, Subsequent Fragment").with(vec![
                f(lbl!(lb, "Datagram size: {size}"), "6lowpan.frag.size", FieldValue::Uint((*size).into())),
                f(lbl!(lb, "Datagram tag: {tag:#06x}"), "6lowpan.frag.tag", FieldValue::Uint((*tag).into())),
                f(
                    lbl!(lb, "Datagram offset: {}", u32::from(*offset) * 8),
                    "6lowpan.frag.offset",
                    FieldValue::Uint(u64::from(*offset) * 8),
                ),
            ])
        }
        SixlowpanHeader::Iphc { src, dst, hop_limit, next_header, udp_nhc } => {
            let mut n = Node::text(lbl!(lb, "6LoWPAN IPHC, Src: {src}, Dest: {dst}")).with(vec![
                f(lbl!(lb, "Source: {src}"), "6lowpan.src", FieldValue::Str(src.to_string())),
                f(lbl!(lb, "Destination: {dst}"), "6lowpan.dst", FieldValue::Str(dst.to_string())),
                f(lbl!(lb, "Hop Limit: {hop_limit}"), "6lowpan.hops", FieldValue::Uint((*hop_limit).into())),
            ]);
            if let Some(nh) = next_header {
                n.push(f(lbl!(lb, "Next Header: {nh}"), "6lowpan.next", FieldValue::Uint((*nh).into())));
            }
            n.push(f(
                lbl!(lb, "UDP header compressed: {udp_nhc}"),
                "6lowpan.nhc.udp",
                FieldValue::Bool(*udp_nhc),
            ));
            n
        }
        SixlowpanHeader::Ipv6Uncompressed => Node::text("6LoWPAN, uncompressed IPv6"),
        SixlowpanHeader::Mesh { hops_left, originator, final_dst } => {
            Node::text(lbl!(lb, "6LoWPAN Mesh Header, {originator} -> {final_dst}")).with(vec![
                f(
                    lbl!(lb, "Hops left: {hops_left}"),
                    "6lowpan.mesh.hops",
                    FieldValue::Uint((*hops_left).into()),
                ),
                f(
                    lbl!(lb, "Originator: {originator}"),
                    "6lowpan.mesh.orig",
                    FieldValue::Bytes(originator.as_bytes().to_vec()),
                ),
                f(
                    lbl!(lb, "Final destination: {final_dst}"),
                    "6lowpan.mesh.final_dst",
                    FieldValue::Bytes(final_dst.as_bytes().to_vec()),
                ),
            ])
        }
        SixlowpanHeader::Broadcast { seq } => {
            Node::text(lbl!(lb, "6LoWPAN Broadcast Header, sequence {seq}")).with(vec![f(
                lbl!(lb, "Sequence number: {seq}"),
                "6lowpan.bcast.seq",
                FieldValue::Uint((*seq).into()),
            )])
        }
    }
}

/// The CoAP layer (outer message), with exchange information as generated fields.
fn coap_node(c: &CoapRecord, lb: Labels) -> Node {
    let m = &c.message;
    let base = |r: std::ops::Range<usize>| Some(Span::new(c.source, r.start + c.offset..r.end + c.offset));
    let summary = crate::analysis::coap_summary(c);
    let mut n =
        Node::text(lbl!(lb, "Constrained Application Protocol, {summary}")).at(base(0..m.bytes.len()));
    if c.detection == CoapDetection::Heuristic {
        n.push(Node::text("Detected by heuristic (not a configured CoAP port)").generated());
    }
    message_fields(&mut n, m, "coap", &base, lb);
    exchange_fields(&mut n, c, lb);
    n
}

/// Header, token, options and payload of a message, under field prefix `prefix` ("coap", or
/// "oscore.inner" for decrypted plaintext). `span_of` maps message ranges to spans.
pub fn message_fields(
    n: &mut Node,
    m: &Message,
    prefix: &str,
    span_of: &dyn Fn(std::ops::Range<usize>) -> Option<Span>,
    lb: Labels,
) {
    let fld = |suffix: &str| -> FieldName { Cow::Owned(format!("{prefix}.{suffix}")) };
    if m.kind == MessageKind::Udp {
        n.push(
            Node::field(
                lbl!(lb, "Version: {}", m.version),
                fld("version"),
                FieldValue::Uint(m.version.into()),
            )
            .at(span_of(0..1)),
        );
        n.push(
            Node::field(lbl!(lb, "Type: {}", m.mtype), fld("type"), FieldValue::Str(m.mtype.as_str().into()))
                .at(span_of(0..1)),
        );
        n.push(
            Node::field(
                lbl!(lb, "Token Length: {}", m.token.len()),
                fld("token_len"),
                FieldValue::Uint(m.token.len() as u64),
            )
            .at(span_of(0..1)),
        );
    }
    let code_at = if m.kind == MessageKind::Udp { 1..2 } else { 0..1 };
    n.push(
        Node::field(
            lbl!(lb, "Code: {} ({})", crate::analysis::code_label(m.code), m.code.0),
            fld("code"),
            FieldValue::Uint(m.code.0.into()),
        )
        .at(span_of(code_at)),
    );
    if m.kind == MessageKind::Udp {
        n.push(
            Node::field(lbl!(lb, "Message ID: {}", m.mid), fld("mid"), FieldValue::Uint(m.mid.into()))
                .at(span_of(2..4)),
        );
        if !m.token.is_empty() {
            n.push(
                Node::field(
                    lbl!(lb, "Token: {}", hex::encode(m.token())),
                    fld("token"),
                    FieldValue::Bytes(m.token().to_vec()),
                )
                .at(span_of(m.token.clone())),
            );
        }
    }
    for (i, o) in m.options.iter().enumerate() {
        let v = m.option_value(o);
        let def = options::option_def(o.number);
        let name = def.map(|d| d.name.to_string()).unwrap_or_else(|| format!("Unknown ({})", o.number));
        let value = OptionValue::decode(o.number, v);
        let shown = match &value {
            OptionValue::Empty => "(empty)".to_string(),
            other => other.to_string(),
        };
        let mut on = Node::text(lbl!(lb, "Opt #{}: {name}: {shown}", i + 1)).at(span_of(o.range.clone()));
        let mut props = Vec::new();
        props.push(if options::is_critical(o.number) { "Critical" } else { "Elective" });
        props.push(if options::is_unsafe(o.number) { "Unsafe" } else { "Safe" });
        if options::is_no_cache_key(o.number) {
            props.push("NoCacheKey");
        }
        on.push(Node::field(
            lbl!(lb, "Option number: {} ({})", o.number, props.join(", ")),
            fld("opt.number"),
            FieldValue::Uint(o.number.into()),
        ));
        on.push(Node::field(
            lbl!(lb, "Option length: {}", v.len()),
            fld("opt.length"),
            FieldValue::Uint(v.len() as u64),
        ));
        let typed = match value {
            OptionValue::Uint(u) => FieldValue::Uint(u),
            OptionValue::String(s) => FieldValue::Str(s.to_string()),
            OptionValue::Block(b) => FieldValue::Str(b.to_string()),
            OptionValue::ContentFormat(cf, _) => FieldValue::Uint(cf.into()),
            OptionValue::Empty | OptionValue::Opaque(_) | OptionValue::Invalid(..) => {
                FieldValue::Bytes(v.to_vec())
            }
        };
        let field = option_field_name(prefix, o.number);
        on.push(Node::field(lbl!(lb, "{name}: {shown}"), field, typed).at(span_of(o.value.clone())));
        if let OptionValue::Invalid(_, why) = value {
            on.push(Node::text(lbl!(lb, "Invalid value: {why}")));
        }
        n.push(on);
    }
    if let Some(mk) = m.payload_marker {
        n.push(Node::text("End of options marker: 255").at(span_of(mk..mk + 1)));
    }
    if !m.payload.is_empty() {
        let p = m.payload();
        let mut pn = Node::field(
            lbl!(lb, "Payload: {} bytes", p.len()),
            fld("payload"),
            FieldValue::Bytes(p.to_vec()),
        )
        .at(span_of(m.payload.clone()));
        if let Ok(text) = std::str::from_utf8(p)
            && !text.chars().any(|ch| ch.is_control() && ch != '\n' && ch != '\r' && ch != '\t')
        {
            pn.push(Node::text(lbl!(lb, "Text: {:?}", text)));
        }
        n.push(pn);
    }
    if !m.complete {
        n.push(Node::text("[Message parsing stopped early; see findings]"));
    }
}

/// `<prefix>.opt.<field>` for registered options (`coap.opt.uri_path`), `<prefix>.opt.unknown`
/// otherwise; the decrypted inner message uses the prefix `oscore.inner`.
pub fn option_field_name(prefix: &str, number: u16) -> FieldName {
    let field = options::option_def(number).map(|d| d.field).unwrap_or("unknown");
    Cow::Owned(format!("{prefix}.opt.{field}"))
}

fn exchange_fields(n: &mut Node, c: &CoapRecord, lb: Labels) {
    let x = &c.exchange;
    let g = |label: String, field: &'static str, v: FieldValue| Node::field(label, field, v).generated();
    let role = match x.role {
        Role::Request => "request",
        Role::Response => "response",
        Role::EmptyAck => "empty ACK",
        Role::Reset => "reset",
        Role::Ping => "ping",
        Role::Other => "other",
    };
    n.push(g(lbl!(lb, "Role: {role}"), "coap.role", FieldValue::Str(role.into())));
    if let Some(f) = x.retransmission_of {
        n.push(g(lbl!(lb, "Retransmission of frame {f}"), "coap.retransmission_of", FieldValue::Uint(f)));
    }
    if let Some(f) = x.mid_reused_from {
        n.push(g(lbl!(lb, "Message ID reused from frame {f}"), "coap.mid_reused_from", FieldValue::Uint(f)));
    }
    if let Some(f) = x.acknowledges {
        n.push(g(lbl!(lb, "Acknowledges frame {f}"), "coap.ack_of", FieldValue::Uint(f)));
    }
    if let Some(f) = x.request_frame {
        n.push(g(lbl!(lb, "Response to frame {f}"), "coap.response_to", FieldValue::Uint(f)));
    }
    if let Some(t) = x.response_time {
        n.push(g(
            lbl!(lb, "Response time: {t} seconds"),
            "coap.response_time",
            FieldValue::Str(t.to_string()),
        ));
    }
    match &x.observe {
        Some(ObserveInfo::Register) => {
            n.push(g("Observe: registration".into(), "coap.observe", FieldValue::Str("register".into())))
        }
        Some(ObserveInfo::Deregister) => {
            n.push(g("Observe: deregistration".into(), "coap.observe", FieldValue::Str("deregister".into())))
        }
        Some(ObserveInfo::Notification { registration_frame, sequence, index }) => n.push(g(
            lbl!(
                lb,
                "Notification {index} (sequence {sequence}) of the registration in frame {registration_frame}"
            ),
            "coap.observe.registration",
            FieldValue::Uint(*registration_frame),
        )),
        Some(ObserveInfo::Ends { registration_frame }) => n.push(g(
            lbl!(lb, "Ends the observation registered in frame {registration_frame}"),
            "coap.observe.registration",
            FieldValue::Uint(*registration_frame),
        )),
        None => {}
    }
    if let Some(b) = &x.block {
        let kind = match b.kind {
            BlockKind::Block1 => "Block1",
            BlockKind::Block2 => "Block2",
        };
        let mut bn = g(
            lbl!(
                lb,
                "{kind} transfer started in frame {}: block {} ({} bytes), more: {}",
                b.transfer_first_frame,
                b.num,
                b.size,
                b.more
            ),
            "coap.block.transfer",
            FieldValue::Uint(b.transfer_first_frame),
        );
        if let Some(done) = &b.completed {
            let frames = done.frames.iter().map(|f| format!("#{f}")).collect::<Vec<_>>().join(", ");
            bn.push(g(
                lbl!(lb, "Reassembled body: {} bytes from frames {frames}", done.total_len),
                "coap.block.body_len",
                FieldValue::Uint(done.total_len),
            ));
        }
        n.push(bn);
    }
}

/// Returns the summary of a 6LoWPAN header for one-line displays.
pub fn sixlowpan_summary(h: &SixlowpanHeader) -> String {
    match h {
        SixlowpanHeader::Frag1 { size, tag } => format!("6LoWPAN FRAG1 size {size} tag {tag:#06x}"),
        SixlowpanHeader::FragN { size, tag, offset } => {
            format!("6LoWPAN FRAGN size {size} tag {tag:#06x} offset {}", u32::from(*offset) * 8)
        }
        SixlowpanHeader::Iphc { src, dst, .. } => format!("6LoWPAN IPHC {src} -> {dst}"),
        SixlowpanHeader::Ipv6Uncompressed => "6LoWPAN IPv6".to_string(),
        SixlowpanHeader::Mesh { originator, final_dst, .. } => {
            format!("6LoWPAN Mesh {originator} -> {final_dst}")
        }
        SixlowpanHeader::Broadcast { seq } => format!("6LoWPAN Broadcast seq {seq}"),
    }
}

/// The OSCORE layer: option fields (with KUDOS extension bytes), outcome, context, nonce.
fn oscore_node(c: &CoapRecord, os: &OscoreRecord, lb: Labels) -> Node {
    let base = os.option_range.as_ref().map_or(0, |r| r.start) + c.offset;
    let span_of = |r: std::ops::Range<usize>| Some(Span::new(c.source, r.start + base..r.end + base));
    let f = |label: String, field: &'static str, v: FieldValue| Node::field(label, field, v);
    let mut n =
        Node::text(lbl!(lb, "Object Security for Constrained RESTful Environments: {}", os.status.as_str()))
            .at(os.option_range.as_ref().and_then(|r| span_of(0..r.len())));
    if let Some(p) = &os.option {
        let opt = &p.option;
        let flags = opt.flag_bytes();
        let mut fl = f(
            lbl!(lb, "Flag bytes: {}", hex::encode(flags)),
            "oscore.flags",
            FieldValue::Bytes(flags.to_vec()),
        )
        .at(span_of(0..flags.len()));
        fl.push(f(
            lbl!(lb, "Extension-1: {}", opt.extension_1()),
            "oscore.flags.extension",
            FieldValue::Bool(opt.extension_1()),
        ));
        fl.push(f(
            lbl!(lb, "Reserved bit: {}", opt.reserved_flag()),
            "oscore.flags.reserved",
            FieldValue::Bool(opt.reserved_flag()),
        ));
        fl.push(f(
            lbl!(lb, "Group flag: {}", opt.group_flag()),
            "oscore.flags.group",
            FieldValue::Bool(opt.group_flag()),
        ));
        fl.push(f(
            lbl!(lb, "h (kid context present): {}", opt.h()),
            "oscore.flags.h",
            FieldValue::Bool(opt.h()),
        ));
        fl.push(f(lbl!(lb, "k (kid present): {}", opt.k()), "oscore.flags.k", FieldValue::Bool(opt.k())));
        fl.push(f(
            lbl!(lb, "n (Partial IV length): {}", opt.n()),
            "oscore.flags.n",
            FieldValue::Uint(opt.n().into()),
        ));
        if opt.extension_1() {
            fl.push(f(lbl!(lb, "d (KUDOS nonce): {}", opt.d()), "oscore.flags.d", FieldValue::Bool(opt.d())));
        }
        n.push(fl);
        if let Some(piv) = opt.piv() {
            n.push(
                f(
                    lbl!(lb, "Partial IV: {}", hex::encode(&piv.value)),
                    "oscore.piv",
                    FieldValue::Bytes(piv.value.to_vec()),
                )
                .at(span_of(piv.range.clone())),
            );
        }
        if let Some(kc) = opt.kid_context() {
            n.push(
                f(
                    lbl!(lb, "kid context: {}", hex::encode(&kc.value)),
                    "oscore.kid_context",
                    FieldValue::Bytes(kc.value.to_vec()),
                )
                .at(span_of(kc.range.clone())),
            );
        }
        if let Some(k) = opt.kudos() {
            let mut kn = f(lbl!(lb, "KUDOS x: 0x{:02x}", k.x), "kudos.x", FieldValue::Uint(k.x.into()))
                .at(span_of(k.x_at..k.x_at + 1));
            kn.push(f(
                lbl!(
                    lb,
                    "z: {} ({})",
                    u8::from(k.convergent()),
                    if k.convergent() { "convergent" } else { "divergent" }
                ),
                "kudos.z",
                FieldValue::Bool(k.convergent()),
            ));
            kn.push(f(
                lbl!(lb, "b (preserve observations): {}", u8::from(k.preserve_observations())),
                "kudos.b",
                FieldValue::Bool(k.preserve_observations()),
            ));
            kn.push(f(
                lbl!(lb, "p (no forward secrecy): {}", u8::from(k.no_fs())),
                "kudos.p",
                FieldValue::Bool(k.no_fs()),
            ));
            kn.push(f(
                lbl!(lb, "m: {} (nonce of {} bytes)", k.m(), k.declared_nonce_len()),
                "kudos.m",
                FieldValue::Uint(k.m().into()),
            ));
            kn.push(f(
                lbl!(lb, "reserved bit: {}", u8::from(k.reserved_bit())),
                "kudos.reserved",
                FieldValue::Bool(k.reserved_bit()),
            ));
            n.push(kn);
            n.push(
                f(
                    lbl!(lb, "KUDOS nonce: {}", hex::encode(&k.nonce.value)),
                    "kudos.nonce",
                    FieldValue::Bytes(k.nonce.value.to_vec()),
                )
                .at(span_of(k.nonce.range.clone())),
            );
        }
        if let Some(kid) = opt.kid() {
            n.push(
                f(
                    lbl!(
                        lb,
                        "kid: {}",
                        if kid.value.is_empty() { "(empty)".into() } else { hex::encode(&kid.value) }
                    ),
                    "oscore.kid",
                    FieldValue::Bytes(kid.value.to_vec()),
                )
                .at(span_of(kid.range.clone())),
            );
        }
        for p in &p.problems {
            n.push(Node::text(lbl!(lb, "Problem: {p}")).at(span_of(p.range())));
        }
    }
    let g = |label: String, field: &'static str, v: FieldValue| Node::field(label, field, v).generated();
    n.push(g(
        lbl!(lb, "Status: {}", os.status.as_str()),
        "oscore.status",
        FieldValue::Str(os.status.as_str().into()),
    ));
    if let Some(ctx) = &os.context {
        n.push(g(
            lbl!(lb, "Context: {} ({}), protected by the {}", ctx.name, ctx.label, ctx.sender_name),
            "oscore.context",
            FieldValue::Str(ctx.name.to_string()),
        ));
        n.push(g(
            lbl!(lb, "Generation: {}", ctx.label),
            "oscore.generation",
            FieldValue::Str(ctx.label.to_string()),
        ));
    }
    if let Some(r) = os.request_frame {
        n.push(g(lbl!(lb, "Request in frame {r}"), "oscore.request_frame", FieldValue::Uint(r)));
    }
    if let (Some(k), Some(p)) = (&os.request_kid, &os.request_piv) {
        n.push(g(
            lbl!(lb, "AAD request_kid: {}", hex::encode(k)),
            "oscore.request_kid",
            FieldValue::Bytes(k.to_vec()),
        ));
        n.push(g(
            lbl!(lb, "AAD request_piv: {}", hex::encode(p)),
            "oscore.request_piv",
            FieldValue::Bytes(p.to_vec()),
        ));
    }
    if let Some(nonce) = &os.nonce {
        let from = match os.nonce_source {
            Some(NonceSource::RequestNonce) => " (the request's nonce)",
            _ => "",
        };
        n.push(g(
            lbl!(lb, "AEAD nonce: {}{from}", hex::encode(nonce)),
            "oscore.nonce",
            FieldValue::Bytes(nonce.to_vec()),
        ));
    }
    match os.echo_recovery {
        Some(EchoRecovery::Challenge) => n.push(g(
            "RFC 8613 B.1.2: Echo challenge".into(),
            "oscore.b12",
            FieldValue::Str("challenge".into()),
        )),
        Some(EchoRecovery::Response) => n.push(g(
            "RFC 8613 B.1.2: Echo response".into(),
            "oscore.b12",
            FieldValue::Str("response".into()),
        )),
        None => {}
    }
    if !os.tried.is_empty() {
        let list: Vec<String> = os
            .tried
            .iter()
            .map(|(name, ok)| format!("{name}: {}", if *ok { "verified" } else { "failed" }))
            .collect();
        n.push(Node::text(lbl!(lb, "Contexts tried: {}", list.join(", "))).generated());
    }
    n
}
