//! The linkability items of PROTOCOLS.md §4.7 evaluated across one boundary (the segment of a
//! peer before an ID change or address change, and the segment after), and the rule
//! violations draft-ietf-core-oscore-id-update-06 names.
//!
//! Every rule is a small pure function with documented windows ([`super::AuditConfig`]); each
//! item gives linked / not linked / not applicable, the evidence frames (last before, first
//! after) and a one-line explanation.

use super::report::ItemResult;
use super::{AuditConfig, EdhocSeen, Segment, SizeStats};
use crate::hex;
use crate::net::Endpoint;

/// Stable item names, in report order, with the §4.7 item they come from.
pub const ITEMS: [(&str, &str); 13] = [
    ("kid", "4.7 item 1: kid and kid context"),
    ("piv", "4.7 item 2: Partial IV / SSN continuity"),
    ("observe", "4.7 item 3: outer Observe values"),
    ("mid", "4.7 item 4: Message ID counter"),
    ("token", "4.7 item 4: Token values"),
    ("token_reuse", "4.7 item 4: Token reuse for a preserved observation"),
    ("address", "4.7 item 5: IP address and port"),
    ("mac", "4.7 item 5: link-layer address"),
    ("kudos", "4.7 item 6: KUDOS fields and nonces"),
    ("edhoc", "4.7 item 7: EDHOC identifiers"),
    ("unprotected_errors", "4.7 item 8: unprotected OSCORE errors"),
    ("sizes", "4.7 item 9: ciphertext sizes"),
    ("cadence", "4.7 item 9: cadence"),
];

/// Items a peer controls when it migrates carefully (the audit's notion of a careful
/// migration: none of these linked).
pub const CONTROLLABLE: [&str; 7] = ["kid", "piv", "mid", "token", "token_reuse", "address", "kudos"];

/// True when `first` continues a counter whose last value was `last`: `last < first <= last
/// + window` (PIV, Observe, counter tokens).
pub fn continues(last: u64, first: u64, window: u64) -> bool {
    first > last && first - last <= window
}

/// Message ID continuity (RFC 7252 §4.4: a per-endpoint counter, mod 2^16): the next MID is
/// `last + 1 ..= last + window`, wrapping.
pub fn mid_continues(last: u16, first: u16, window: u16) -> bool {
    let d = first.wrapping_sub(last);
    d >= 1 && d <= window
}

/// How two tokens relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRelation {
    /// The same (non-empty) token.
    Same,
    /// Same length, numeric successor by `d` (counter-style tokens).
    Successor(u64),
    /// Both empty (TKL 0): no value to compare.
    BothEmpty,
    Unrelated,
}

/// Compares the last token before with the first after: the same bytes, or a big-endian
/// counter of the same length advanced by 1..=window.
pub fn token_relation(last: &[u8], first: &[u8], window: u64) -> TokenRelation {
    if last.is_empty() && first.is_empty() {
        return TokenRelation::BothEmpty;
    }
    if last == first {
        return TokenRelation::Same;
    }
    if last.len() == first.len() && last.len() <= 8 {
        let a = super::piv_u64(last);
        let b = super::piv_u64(first);
        if continues(a, b, window) {
            return TokenRelation::Successor(b - a);
        }
    }
    TokenRelation::Unrelated
}

/// How two endpoints of a peer relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressRelation {
    Same,
    /// Same IP address, another port (NAT rebinding, new socket).
    SameIp,
    /// Another IP address but the same ephemeral port.
    SamePort,
    /// Another IP address, the same well-known port (not identifying).
    SameWellKnownPort,
    Different,
}

impl AddressRelation {
    pub fn links(self) -> bool {
        matches!(self, AddressRelation::Same | AddressRelation::SameIp | AddressRelation::SamePort)
    }
}

pub fn address_relation(before: Endpoint, after: Endpoint, well_known: &[u16]) -> AddressRelation {
    match (before.addr == after.addr, before.port == after.port) {
        (true, true) => AddressRelation::Same,
        (true, false) => AddressRelation::SameIp,
        (false, true) if well_known.contains(&after.port) => AddressRelation::SameWellKnownPort,
        (false, true) => AddressRelation::SamePort,
        (false, false) => AddressRelation::Different,
    }
}

/// Same period within tolerance: |a - b| <= max(tolerance% of the larger, 50 ms).
pub fn cadence_similar(a_nanos: i128, b_nanos: i128, tolerance_percent: u8) -> bool {
    if a_nanos <= 0 || b_nanos <= 0 {
        return false;
    }
    let larger = a_nanos.max(b_nanos);
    let allowed = (larger * i128::from(tolerance_percent) / 100).max(50_000_000);
    (a_nanos - b_nanos).abs() <= allowed
}

/// Same multiset shape of ciphertext sizes: the same set of distinct lengths (eight at most
/// remembered; an overflowing set never matches).
pub fn sizes_match(a: &SizeStats, b: &SizeStats) -> bool {
    a.count > 0 && b.count > 0 && !a.overflow && !b.overflow && a.lengths() == b.lengths()
}

/// How the first PIV after a boundary relates to the peer's counter before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PivRelation {
    /// `last < first <= last + window`.
    Continues {
        last: u64,
        first: u64,
    },
    /// `first == PIV* + 1` with PIV* the peer's highest Observe-registration PIV before
    /// (KUDOS with preserved observations, PROTOCOLS.md §3.7).
    ObservationJump {
        registration: u64,
        first: u64,
    },
    /// `first <= ssn_small`: the sequence number restarted.
    Restart {
        last: u64,
        first: u64,
    },
    Unrelated {
        last: u64,
        first: u64,
    },
}

impl PivRelation {
    pub fn links(self) -> bool {
        matches!(self, PivRelation::Continues { .. } | PivRelation::ObservationJump { .. })
    }
}

pub fn piv_relation(last: u64, registration: Option<u64>, first: u64, cfg: &AuditConfig) -> PivRelation {
    if continues(last, first, cfg.piv_window) {
        PivRelation::Continues { last, first }
    } else if let Some(r) = registration
        && r.checked_add(1) == Some(first)
        && first >= 2
    {
        PivRelation::ObservationJump { registration: r, first }
    } else if first <= cfg.ssn_small {
        PivRelation::Restart { last, first }
    } else {
        PivRelation::Unrelated { last, first }
    }
}

/// A KUDOS x byte reveals something stable about the device: no-FS mode (p, a non-CAPABLE
/// device) or preserved observations (b).
fn x_traits(x: u8) -> Option<&'static str> {
    match (x & 0x10 != 0, x & 0x20 != 0) {
        (true, true) => Some("p=1 and b=1"),
        (true, false) => Some("p=1 (no-FS: a non-CAPABLE device)"),
        (false, true) => Some("b=1 (preserved observations)"),
        (false, false) => None,
    }
}

fn show_id(id: &[u8]) -> String {
    if id.is_empty() { "(empty)".into() } else { hex::encode(id) }
}

/// Tokens as hex, "(empty)" for TKL 0.
fn show_token(t: &[u8]) -> String {
    show_id(t)
}

/// What one boundary evaluation needs besides the two segments.
#[derive(Debug)]
pub struct EvalInput<'a> {
    pub config: &'a AuditConfig,
    /// The peer's earlier segments (before `before`, oldest first), for identifiers that
    /// reappear.
    pub earlier: &'a [&'a Segment],
    pub edhoc: &'a [EdhocSeen],
    pub edhoc_total: u64,
    pub peer_name: &'a str,
}

fn item(name: &'static str, linked: Option<bool>, frames: Vec<u64>, explanation: String) -> ItemResult {
    let section = ITEMS.iter().find(|(n, _)| *n == name).map_or("4.7", |(_, s)| s);
    let mut frames = frames;
    frames.sort_unstable();
    frames.dedup();
    ItemResult { item: name, section, linked, frames, explanation }
}

/// Evaluates every §4.7 item across one boundary.
pub fn evaluate(before: &Segment, after: &Segment, input: &EvalInput<'_>) -> Vec<ItemResult> {
    vec![
        kid_item(before, after, input),
        piv_item(before, after, input),
        observe_item(before, after, input.config),
        mid_item(before, after, input.config),
        token_item(before, after, input.config),
        token_reuse_item(before, after),
        address_item(before, after, input),
        mac_item(before, after),
        kudos_item(before, after, input.config),
        edhoc_item(before, after, input),
        errors_item(before, after, input.config),
        sizes_item(before, after),
        cadence_item(before, after, input.config),
    ]
}

/// Frame of the last request before / first request after (where the kid and token are).
fn last_request_frame(s: &Segment) -> u64 {
    s.token.as_ref().map_or(s.last_frame, |t| t.last.frame)
}
fn first_request_frame(s: &Segment) -> u64 {
    s.token.as_ref().map_or(s.first_frame, |t| t.first.frame)
}

fn kid_item(before: &Segment, after: &Segment, input: &EvalInput<'_>) -> ItemResult {
    let who = input.peer_name;
    let (Some(kb), Some(ka)) = (&before.kid, &after.kid) else {
        let side = if before.kid.is_none() { "before" } else { "after" };
        return item(
            "kid",
            None,
            vec![],
            format!(
                "{who} sent no request {side} the boundary: its kid is not on the wire (responses carry no kid)"
            ),
        );
    };
    let (fb, fa) = (last_request_frame(before), first_request_frame(after));
    if ka == kb {
        return item(
            "kid",
            Some(true),
            vec![fb, fa],
            format!("the same kid {} is sent on both sides", show_id(ka)),
        );
    }
    if let Some(old) = input.earlier.iter().rev().find(|s| s.kid.as_ref() == Some(ka)) {
        return item(
            "kid",
            Some(true),
            vec![last_request_frame(old), fa],
            format!(
                "kid {} after the boundary was already used earlier (until frame {})",
                show_id(ka),
                last_request_frame(old)
            ),
        );
    }
    if let (Some(cb), Some(ca)) = (&before.kid_context, &after.kid_context)
        && cb == ca
    {
        return item(
            "kid",
            Some(true),
            vec![fb, fa],
            format!(
                "kid changed {} -> {} but the same kid context {} is sent",
                show_id(kb),
                show_id(ka),
                show_id(ca)
            ),
        );
    }
    item(
        "kid",
        Some(false),
        vec![fb, fa],
        format!("kid changed {} -> {} (length {} -> {})", show_id(kb), show_id(ka), kb.len(), ka.len()),
    )
}

fn piv_item(before: &Segment, after: &Segment, input: &EvalInput<'_>) -> ItemResult {
    let (Some(pb), Some(pa)) = (&before.piv, &after.piv) else {
        return item(
            "piv",
            None,
            vec![],
            format!(
                "{} sent no Partial IV {} the boundary (responses may reuse the request's nonce)",
                input.peer_name,
                if before.piv.is_none() { "before" } else { "after" }
            ),
        );
    };
    let reg = before.registration_piv.as_ref().map(|r| r.value);
    let frames = vec![pb.last.frame, pa.first.frame];
    match piv_relation(pb.last.value, reg, pa.first.value, input.config) {
        PivRelation::Continues { last, first } => item(
            "piv",
            Some(true),
            frames,
            format!(
                "first PIV after ({first}) continues the counter before ({last}, +{} <= {}): the SSN was not restarted",
                first - last,
                input.config.piv_window
            ),
        ),
        PivRelation::ObservationJump { registration, first } => item(
            "piv",
            Some(true),
            vec![before.registration_piv.as_ref().map_or(pb.last.frame, |r| r.frame), pa.first.frame],
            format!(
                "first PIV after ({first}) = registration PIV {registration} + 1: the PIV*+1 jump reveals a preserved observation"
            ),
        ),
        PivRelation::Restart { last, first } => item(
            "piv",
            Some(false),
            frames,
            format!("the SSN restarted: first PIV after is {first} (last before {last})"),
        ),
        PivRelation::Unrelated { last, first } => item(
            "piv",
            Some(false),
            frames,
            format!(
                "first PIV after ({first}) is not within +{} of the last before ({last})",
                input.config.piv_window
            ),
        ),
    }
}

fn observe_item(before: &Segment, after: &Segment, cfg: &AuditConfig) -> ItemResult {
    let (Some(ob), Some(oa)) = (&before.observe, &after.observe) else {
        return item(
            "observe",
            None,
            vec![],
            "no notification with an outer Observe value on both sides".into(),
        );
    };
    let (last, first) = (ob.last.value, oa.first.value);
    let frames = vec![ob.last.frame, oa.first.frame];
    if continues(last, first, cfg.observe_window) {
        item(
            "observe",
            Some(true),
            frames,
            format!("notification numbers continue: Observe {last} before, {first} after"),
        )
    } else {
        item("observe", Some(false), frames, format!("Observe {last} before, {first} after: no continuation"))
    }
}

fn mid_item(before: &Segment, after: &Segment, cfg: &AuditConfig) -> ItemResult {
    let (Some(mb), Some(ma)) = (&before.mid, &after.mid) else {
        return item(
            "mid",
            None,
            vec![],
            "the peer originated no CON/NON message on one side (ACKs echo the other peer's MIDs)".into(),
        );
    };
    let (last, first) = (mb.last.value, ma.first.value);
    let frames = vec![mb.last.frame, ma.first.frame];
    if mid_continues(last, first, cfg.mid_window) {
        item(
            "mid",
            Some(true),
            frames,
            format!(
                "Message IDs continue: {last:#06x} before, {first:#06x} after (+{} <= {})",
                first.wrapping_sub(last),
                cfg.mid_window
            ),
        )
    } else {
        item("mid", Some(false), frames, format!("Message IDs jump: {last:#06x} before, {first:#06x} after"))
    }
}

fn token_item(before: &Segment, after: &Segment, cfg: &AuditConfig) -> ItemResult {
    let (Some(tb), Some(ta)) = (&before.token, &after.token) else {
        return item(
            "token",
            None,
            vec![],
            "the peer sent no request on one side: no token of its own".into(),
        );
    };
    let frames = vec![tb.last.frame, ta.first.frame];
    let (l, f) = (&tb.last.value, &ta.first.value);
    match token_relation(l, f, cfg.token_window) {
        TokenRelation::Same => item(
            "token",
            Some(true),
            frames,
            format!("the same token {} is used on both sides", show_token(f)),
        ),
        TokenRelation::Successor(d) => item(
            "token",
            Some(true),
            frames,
            format!("counter tokens: {} before, {} after (+{d})", show_token(l), show_token(f)),
        ),
        TokenRelation::BothEmpty => {
            item("token", Some(false), frames, "both sides use empty tokens (TKL 0): no value to link".into())
        }
        TokenRelation::Unrelated => item(
            "token",
            Some(false),
            frames,
            format!(
                "unrelated tokens: {} before, {} after (lengths {} -> {})",
                show_token(l),
                show_token(f),
                l.len(),
                f.len()
            ),
        ),
    }
}

fn token_reuse_item(before: &Segment, after: &Segment) -> ItemResult {
    if before.observation_tokens.is_empty() {
        return item("token_reuse", None, vec![], "no observation before the boundary".into());
    }
    for b in &before.observation_tokens {
        if let Some(a) = after.observation_tokens.iter().find(|a| a.value == b.value) {
            return item(
                "token_reuse",
                Some(true),
                vec![b.frame, a.frame],
                format!(
                    "observation token {} is used before and after: the preserved observation links both sides",
                    hex::encode(&a.value)
                ),
            );
        }
    }
    item(
        "token_reuse",
        Some(false),
        vec![before.observation_tokens.first().map_or(before.last_frame, |t| t.frame)],
        "no observation token of before reappears after".into(),
    )
}

fn address_item(before: &Segment, after: &Segment, input: &EvalInput<'_>) -> ItemResult {
    let frames = vec![before.last_frame, after.first_frame];
    let (b, a) = (before.endpoint, after.endpoint);
    let rel = address_relation(b, a, &input.config.well_known_ports);
    let text = match rel {
        AddressRelation::Same => format!("unchanged endpoint {a}"),
        AddressRelation::SameIp => format!("same IP address, port {} -> {}", b.port, a.port),
        AddressRelation::SamePort => {
            format!("IP address changed {} -> {} but the port {} stayed", b.addr, a.addr, a.port)
        }
        AddressRelation::SameWellKnownPort => {
            format!(
                "IP address changed {} -> {}; port {} is a well-known CoAP port (not identifying)",
                b.addr, a.addr, a.port
            )
        }
        AddressRelation::Different => format!("endpoint changed {b} -> {a}"),
    };
    if !rel.links()
        && let Some(old) = input.earlier.iter().rev().find(|s| s.endpoint == a)
    {
        return item(
            "address",
            Some(true),
            vec![old.last_frame, after.first_frame],
            format!("{text}, but {a} was used earlier (until frame {})", old.last_frame),
        );
    }
    item("address", Some(rel.links()), frames, text)
}

fn mac_item(before: &Segment, after: &Segment) -> ItemResult {
    let (Some(mb), Some(ma)) = (before.mac, after.mac) else {
        return item(
            "mac",
            None,
            vec![],
            "no link-layer source address in the frames (raw IP or loopback)".into(),
        );
    };
    let frames = vec![before.last_frame, after.first_frame];
    if mb == ma {
        item("mac", Some(true), frames, format!("the same link-layer address {ma} on both sides"))
    } else {
        item("mac", Some(false), frames, format!("link-layer address changed {mb} -> {ma}"))
    }
}

fn kudos_item(before: &Segment, after: &Segment, cfg: &AuditConfig) -> ItemResult {
    let (Some(kb), Some(ka)) = (before.kudos.last(), after.kudos.first()) else {
        let text = match (before.kudos.last(), after.kudos.first()) {
            (Some(k), None) => format!(
                "KUDOS only before the boundary (frame {}): it shows a re-key happened, nothing links the sides",
                k.frame
            ),
            (None, Some(k)) => format!("KUDOS only after the boundary (frame {})", k.frame),
            _ => "no KUDOS message on either side".into(),
        };
        return item("kudos", None, vec![], text);
    };
    let frames = vec![kb.frame, ka.frame];
    if kb.nonce.len() == ka.nonce.len() && kb.nonce.len() <= 8 {
        let (a, b) = (super::piv_u64(&kb.nonce), super::piv_u64(&ka.nonce));
        if continues(a, b, cfg.piv_window) {
            return item(
                "kudos",
                Some(true),
                frames,
                format!(
                    "counter-based KUDOS nonces: {} before, {} after",
                    hex::encode(&kb.nonce),
                    hex::encode(&ka.nonce)
                ),
            );
        }
    }
    if let (Some(tb), Some(ta)) = (x_traits(kb.x), x_traits(ka.x))
        && tb == ta
    {
        return item(
            "kudos",
            Some(true),
            frames,
            format!("the x byte shows {ta} on both sides (x {:02x} / {:02x})", kb.x, ka.x),
        );
    }
    item(
        "kudos",
        Some(false),
        frames,
        format!(
            "KUDOS nonces look random (lengths {} / {}), x {:02x} / {:02x}",
            kb.nonce.len(),
            ka.nonce.len(),
            kb.x,
            ka.x
        ),
    )
}

fn edhoc_item(before: &Segment, after: &Segment, input: &EvalInput<'_>) -> ItemResult {
    if input.edhoc_total == 0 {
        return item(
            "edhoc",
            None,
            vec![],
            "no EDHOC message (POST /.well-known/edhoc) in the capture: the keys did not come from an EDHOC run seen here".into(),
        );
    }
    let ends = [before.endpoint, after.endpoint];
    let near: Vec<u64> = input
        .edhoc
        .iter()
        .filter(|e| ends.contains(&e.src) || ends.contains(&e.dst))
        .map(|e| e.frame)
        .collect();
    if near.is_empty() {
        return item(
            "edhoc",
            None,
            vec![],
            "EDHOC is in the capture, but not from or to this peer's endpoints".into(),
        );
    }
    item(
        "edhoc",
        None,
        near,
        "EDHOC messages from or to this peer: C_I/C_R map 1:1 to OSCORE IDs (RFC 9528 A.1), but kudoscope does not dissect EDHOC yet: not evaluated".into(),
    )
}

fn errors_item(before: &Segment, after: &Segment, cfg: &AuditConfig) -> ItemResult {
    let near_end: Vec<u64> = before
        .errors
        .iter()
        .filter(|e| before.messages.saturating_sub(e.at_message) <= cfg.error_proximity)
        .map(|e| e.frame)
        .collect();
    let near_start: Vec<u64> =
        after.errors.iter().filter(|e| e.at_message <= cfg.error_proximity).map(|e| e.frame).collect();
    if !near_end.is_empty() || !near_start.is_empty() {
        let mut frames = near_end.clone();
        frames.extend(&near_start);
        let show = frames.iter().map(|f| f.to_string()).collect::<Vec<_>>().join(", ");
        return item(
            "unprotected_errors",
            Some(true),
            frames,
            format!(
                "unprotected OSCORE error(s) at frame {show} within {} messages of the boundary reveal the change of security state",
                cfg.error_proximity
            ),
        );
    }
    let far: Vec<u64> = before.errors.iter().chain(&after.errors).map(|e| e.frame).collect();
    if far.is_empty() {
        item(
            "unprotected_errors",
            Some(false),
            vec![],
            "no unprotected OSCORE error around the boundary".into(),
        )
    } else {
        item(
            "unprotected_errors",
            Some(false),
            far,
            format!(
                "unprotected OSCORE errors only more than {} messages from the boundary",
                cfg.error_proximity
            ),
        )
    }
}

fn sizes_item(before: &Segment, after: &Segment) -> ItemResult {
    if before.sizes.count == 0 || after.sizes.count == 0 {
        return item("sizes", None, vec![], "no ciphertext on one side".into());
    }
    let frames = vec![before.last_frame, after.first_frame];
    let show = |s: &SizeStats| s.lengths().iter().map(|l| l.to_string()).collect::<Vec<_>>().join("/");
    if sizes_match(&before.sizes, &after.sizes) {
        item(
            "sizes",
            Some(true),
            frames,
            format!("the same ciphertext sizes on both sides ({} bytes)", show(&after.sizes)),
        )
    } else {
        item(
            "sizes",
            Some(false),
            frames,
            format!(
                "ciphertext sizes differ: {} bytes before, {} after",
                show(&before.sizes),
                show(&after.sizes)
            ),
        )
    }
}

fn cadence_item(before: &Segment, after: &Segment, cfg: &AuditConfig) -> ItemResult {
    let (Some(mb), Some(ma)) = (before.cadence.mean_nanos(), after.cadence.mean_nanos()) else {
        return item(
            "cadence",
            None,
            vec![],
            "fewer than two requests or notifications on one side: no period".into(),
        );
    };
    let frames = vec![before.last_frame, after.first_frame];
    let secs = |n: i128| format!("{:.3}", n as f64 / 1e9);
    if cadence_similar(mb, ma, cfg.cadence_tolerance_percent) {
        item(
            "cadence",
            Some(true),
            frames,
            format!(
                "the same period: {} s before, {} s after (within {}%)",
                secs(mb),
                secs(ma),
                cfg.cadence_tolerance_percent
            ),
        )
    } else {
        item("cadence", Some(false), frames, format!("period {} s before, {} s after", secs(mb), secs(ma)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn ep(a: u8, port: u16) -> Endpoint {
        Endpoint { addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, a)), port }
    }

    #[test]
    fn piv_continuity_at_its_edges() {
        let cfg = AuditConfig::default();
        // +1 continues; +window continues; +window+1 does not; restart at 0 and at ssn_small.
        assert_eq!(piv_relation(20, None, 21, &cfg), PivRelation::Continues { last: 20, first: 21 });
        assert_eq!(piv_relation(20, None, 52, &cfg), PivRelation::Continues { last: 20, first: 52 });
        assert_eq!(piv_relation(20, None, 53, &cfg), PivRelation::Unrelated { last: 20, first: 53 });
        assert_eq!(piv_relation(20, None, 0, &cfg), PivRelation::Restart { last: 20, first: 0 });
        assert_eq!(piv_relation(20, None, 1, &cfg), PivRelation::Restart { last: 20, first: 1 });
        assert_eq!(piv_relation(20, None, 2, &cfg), PivRelation::Unrelated { last: 20, first: 2 });
        assert_eq!(piv_relation(20, None, 20, &cfg), PivRelation::Unrelated { last: 20, first: 20 });
        // A small counter continued by one is still continuity (checked before restart).
        assert!(piv_relation(3, None, 4, &cfg).links());
        // PROTOCOLS.md §3.7: PIV*+1 after KUDOS with preserved observations.
        assert_eq!(
            piv_relation(90, Some(40), 41, &cfg),
            PivRelation::ObservationJump { registration: 40, first: 41 }
        );
        assert!(!piv_relation(90, Some(40), 42, &cfg).links());
    }

    #[test]
    fn mid_continuity_wraps_and_stops_at_the_window() {
        assert!(mid_continues(0x1000, 0x1001, 16));
        assert!(mid_continues(0x1000, 0x1010, 16));
        assert!(!mid_continues(0x1000, 0x1011, 16));
        assert!(!mid_continues(0x1000, 0x1000, 16), "a repeated MID is a retransmission, not a successor");
        assert!(!mid_continues(0x1000, 0x0fff, 16));
        assert!(mid_continues(0xfffe, 0x0003, 16), "RFC 7252 MIDs wrap mod 2^16");
    }

    #[test]
    fn token_relations() {
        assert_eq!(token_relation(&[0x00, 0x14], &[0x00, 0x14], 16), TokenRelation::Same);
        assert_eq!(token_relation(&[0x00, 0x14], &[0x00, 0x15], 16), TokenRelation::Successor(1));
        assert_eq!(token_relation(&[0x00, 0xff], &[0x01, 0x0f], 16), TokenRelation::Successor(16));
        assert_eq!(token_relation(&[0x00, 0xff], &[0x01, 0x10], 16), TokenRelation::Unrelated);
        assert_eq!(token_relation(&[0x14], &[0x00, 0x15], 16), TokenRelation::Unrelated, "length differs");
        assert_eq!(token_relation(&[], &[], 16), TokenRelation::BothEmpty);
        assert_eq!(token_relation(&[0x15], &[0x14], 16), TokenRelation::Unrelated, "counters only go up");
    }

    #[test]
    fn address_relations() {
        let wk = [5683, 5684];
        assert_eq!(address_relation(ep(1, 40000), ep(1, 40000), &wk), AddressRelation::Same);
        assert_eq!(address_relation(ep(1, 40000), ep(1, 40001), &wk), AddressRelation::SameIp);
        assert_eq!(address_relation(ep(1, 40000), ep(9, 40000), &wk), AddressRelation::SamePort);
        assert_eq!(address_relation(ep(1, 5683), ep(9, 5683), &wk), AddressRelation::SameWellKnownPort);
        assert!(!AddressRelation::SameWellKnownPort.links());
        assert_eq!(address_relation(ep(1, 40000), ep(9, 41000), &wk), AddressRelation::Different);
        assert!(!AddressRelation::Different.links());
    }

    #[test]
    fn cadence_tolerance() {
        let s = 1_000_000_000i128;
        assert!(cadence_similar(10 * s, 11 * s, 10), "10% of the larger (11 s) = 1.1 s");
        assert!(!cadence_similar(10 * s, 12 * s, 10));
        assert!(cadence_similar(100_000_000, 140_000_000, 10), "50 ms floor");
        assert!(!cadence_similar(100_000_000, 151_000_000, 10));
        assert!(!cadence_similar(0, 0, 10));
    }

    #[test]
    fn sizes_compare_distinct_lengths() {
        let mut a = SizeStats::default();
        let mut b = SizeStats::default();
        for l in [26, 26, 9] {
            a.add(l);
        }
        for l in [9, 26] {
            b.add(l);
        }
        assert!(sizes_match(&a, &b));
        b.add(27);
        assert!(!sizes_match(&a, &b));
        let mut c = SizeStats::default();
        for l in 0..9 {
            c.add(l);
        }
        assert!(c.overflow && !sizes_match(&c, &c), "an overflowing set never matches");
        assert!(!sizes_match(&SizeStats::default(), &SizeStats::default()));
    }

    use crate::audit::{ErrorSeen, KudosSeen, Seen, Span2};
    use crate::keys::PeerSlot;
    use crate::oscore::store::CtxKind;
    use crate::time::Timestamp;

    /// A segment of the client with one request at `first`..`last`.
    fn seg(first: u64, last: u64, endpoint: Endpoint, kid: u8) -> Segment {
        let span = |a: u64, b: u64| Span2 {
            first: Seen { value: a, frame: first },
            last: Seen { value: b, frame: last },
        };
        Segment {
            root: 0,
            peer: PeerSlot::A,
            ctx: 0,
            ctx_label: "g0".into(),
            ctx_kind: CtxKind::Loaded,
            sender_id: Some(vec![kid]),
            endpoint,
            peer_endpoint: ep(2, 5683),
            mac: None,
            kid: Some(vec![kid]),
            kid_context: None,
            first_frame: first,
            last_frame: last,
            first_ts: Timestamp::new(0, 0),
            last_ts: Timestamp::new(0, 0),
            messages: 4,
            requests: 4,
            piv: Some(span(0, 3)),
            registration_piv: None,
            mid: None,
            token: None,
            observation_tokens: vec![],
            observe: None,
            sizes: SizeStats::default(),
            cadence: crate::audit::Cadence::default(),
            kudos: vec![],
            errors: vec![],
            first_flow: 0,
            last_flow: 0,
        }
    }

    fn eval(before: &Segment, after: &Segment, earlier: &[&Segment]) -> Vec<ItemResult> {
        let cfg = AuditConfig::default();
        let input = EvalInput { config: &cfg, earlier, edhoc: &[], edhoc_total: 0, peer_name: "client" };
        evaluate(before, after, &input)
    }

    fn get<'a>(r: &'a [ItemResult], name: &str) -> &'a ItemResult {
        r.iter().find(|i| i.item == name).unwrap()
    }

    #[test]
    fn every_item_is_reported_in_order() {
        let r = eval(&seg(1, 9, ep(1, 40000), 1), &seg(11, 19, ep(9, 41000), 0x78), &[]);
        let names: Vec<&str> = r.iter().map(|i| i.item).collect();
        assert_eq!(names, ITEMS.map(|(n, _)| n));
        assert_eq!(get(&r, "kid").linked, Some(false));
        assert_eq!(get(&r, "edhoc").linked, None);
        assert!(get(&r, "edhoc").explanation.contains("no EDHOC"));
    }

    #[test]
    fn identifiers_used_earlier_link() {
        let first = seg(1, 9, ep(1, 40000), 1);
        let before = seg(11, 19, ep(9, 41000), 0x78);
        let after = seg(21, 29, ep(1, 40000), 1);
        let r = eval(&before, &after, &[&first]);
        let kid = get(&r, "kid");
        assert_eq!((kid.linked, kid.frames.clone()), (Some(true), vec![9, 21]));
        let addr = get(&r, "address");
        assert_eq!((addr.linked, addr.frames.clone()), (Some(true), vec![9, 21]));
    }

    #[test]
    fn kudos_nonce_counters_and_x_traits() {
        let mut b = seg(1, 9, ep(1, 40000), 1);
        let mut a = seg(11, 19, ep(9, 41000), 0x78);
        b.kudos = vec![KudosSeen { frame: 5, x: 0x07, nonce: vec![0, 0, 0, 0, 0, 0, 0, 0x10] }];
        a.kudos = vec![KudosSeen { frame: 12, x: 0x07, nonce: vec![0, 0, 0, 0, 0, 0, 0, 0x11] }];
        let k = eval(&b, &a, &[]);
        assert_eq!((get(&k, "kudos").linked, get(&k, "kudos").frames.clone()), (Some(true), vec![5, 12]));
        a.kudos[0].nonce = vec![0x8a, 0x27, 0x8f, 0x7f, 0xaa, 0xb5, 0x5a, 0x01];
        assert_eq!(get(&eval(&b, &a, &[]), "kudos").linked, Some(false), "random nonces");
        // p = 1 on both sides (no-FS, PROTOCOLS.md §3.2: x 17 / 57).
        b.kudos[0].x = 0x17;
        a.kudos[0].x = 0x57;
        assert_eq!(get(&eval(&b, &a, &[]), "kudos").linked, Some(true));
        a.kudos.clear();
        let r = eval(&b, &a, &[]);
        assert_eq!(get(&r, "kudos").linked, None);
        assert!(get(&r, "kudos").explanation.contains("only before"));
    }

    #[test]
    fn observation_tokens_and_observe_numbers() {
        let mut b = seg(1, 9, ep(1, 40000), 1);
        let mut a = seg(11, 19, ep(9, 41000), 0x78);
        assert_eq!(get(&eval(&b, &a, &[]), "token_reuse").linked, None, "no observation before");
        b.observation_tokens = vec![Seen { value: vec![0x33], frame: 3 }];
        a.observation_tokens = vec![Seen { value: vec![0x44], frame: 12 }];
        assert_eq!(get(&eval(&b, &a, &[]), "token_reuse").linked, Some(false));
        a.observation_tokens.push(Seen { value: vec![0x33], frame: 14 });
        let r = eval(&b, &a, &[]);
        assert_eq!(
            (get(&r, "token_reuse").linked, get(&r, "token_reuse").frames.clone()),
            (Some(true), vec![3, 14])
        );
        b.observe = Some(Span2 { first: Seen { value: 2, frame: 4 }, last: Seen { value: 7, frame: 8 } });
        a.observe = Some(Span2 { first: Seen { value: 8, frame: 14 }, last: Seen { value: 9, frame: 16 } });
        assert_eq!(get(&eval(&b, &a, &[]), "observe").linked, Some(true));
        a.observe = Some(Span2 { first: Seen { value: 2, frame: 14 }, last: Seen { value: 3, frame: 16 } });
        assert_eq!(get(&eval(&b, &a, &[]), "observe").linked, Some(false), "a new observation restarts");
    }

    #[test]
    fn unprotected_errors_near_the_boundary() {
        let mut b = seg(1, 9, ep(1, 40000), 1);
        let mut a = seg(11, 19, ep(9, 41000), 0x78);
        // before has 4 messages: an error after its first message is 3 from the end (<= 4).
        b.errors = vec![ErrorSeen { frame: 2, at_message: 0 }];
        b.messages = 10;
        assert_eq!(
            get(&eval(&b, &a, &[]), "unprotected_errors").linked,
            Some(false),
            "10 messages before the end"
        );
        b.messages = 4;
        assert_eq!(get(&eval(&b, &a, &[]), "unprotected_errors").linked, Some(true));
        b.errors.clear();
        a.errors = vec![ErrorSeen { frame: 12, at_message: 1 }];
        let r = eval(&b, &a, &[]);
        assert_eq!(
            (get(&r, "unprotected_errors").linked, get(&r, "unprotected_errors").frames.clone()),
            (Some(true), vec![12])
        );
        a.errors = vec![ErrorSeen { frame: 30, at_message: 5 }];
        assert_eq!(get(&eval(&b, &a, &[]), "unprotected_errors").linked, Some(false));
    }
}
