//! Exchanges: request/response matching by (endpoint pair, token), CON/ACK/RST matching by
//! MID, retransmission and duplicate detection, response time, Observe notifications linked to
//! their registration, and outer Block-wise transfers reassembled and linked.
//!
//! The tracker is a sans-IO observer: [`ExchangeTracker::observe`] takes where/when a message
//! was seen plus the parsed message, and returns what it learned; capture time is the only
//! clock. It works on CoAP-over-UDP messages (the outer message for OSCORE); an OSCORE
//! plaintext gets its role only.
//!
//! Matching rules (RFC 7252 §4, §5.3; RFC 7641; RFC 7959):
//! - **Deduplication** by (source, destination, MID, CON/NON vs ACK/RST) within
//!   EXCHANGE_LIFETIME of the first transmission: identical bytes are a retransmission
//!   (`coap.retransmission`, Info; duplicate ACKs too), different bytes a MID reuse
//!   (`coap.duplicate`, Medium; the new message is processed as new). A retransmission
//!   repeats what the first transmission was linked to and changes no state.
//! - **ACK/RST** match the CON (RST: CON or NON) with the same MID sent the other way;
//!   otherwise `coap.unmatched_ack` (Low).
//! - **Responses** match by (client, server, token); a piggybacked response also by the MID of
//!   the CON it acknowledges (a token that does not echo the request's is a Low
//!   `coap.unmatched_response`). Zero-length tokens are legal: the most recent request for the
//!   key is the one answered. `request_frame` is the request's first transmission and
//!   `response_time` is measured from it. A response to a request sent to a multicast address
//!   matches by (client, token). No match: `coap.unmatched_response` (Info: the capture may
//!   have started late).
//! - **Observe**: a request with Observe=0 registers, Observe=1 deregisters; 2.xx responses
//!   with Observe to a registration are notifications (index 1 = registration response);
//!   any other response, or a RST to a notification, ends it. An observation stays alive while
//!   notifications flow: each one extends its life to EXCHANGE_LIFETIME + Max-Age.
//! - **Block-wise** (outer): Block2 response payloads are reassembled per (client, server,
//!   request code and URI options), Block1 request payloads per (client, server, code, URI
//!   options, Request-Tag values). Blocks must arrive in offset order; a missing range, a block
//!   size change, an ETag change, an M=1 block of the wrong length or a Size1/Size2 that
//!   disagrees with the reassembled length is a `coap.block_gap` finding (Medium for missing
//!   data, Low/Info for the rest).
//!
//! State is bounded: every table expires entries by capture time and holds at most
//! `max_live` entries (the oldest is evicted first; the message and request tables keep
//! insertion order, `collections::Fifo`); reassembled bodies are
//! kept up to `max_body_len` each and `max_total_body_bytes` together.

use super::message::{Message, MessageKind, MsgType};
use super::options::{BlockValue, decode_uint, num};
use crate::collections::{Bounded, Fifo, nz};
use crate::finding::{Finding, FindingKind, Layer, Severity, Span};
use crate::hex;
use crate::net::Endpoint;
use crate::time::{Nanos, Timestamp};
use std::hash::{BuildHasher, Hash, Hasher};
use std::num::NonZeroU64;
use std::ops::Range;

/// Where and when a message was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsgMeta {
    /// 1-based frame number.
    pub frame: u64,
    pub ts: Timestamp,
    pub src: Endpoint,
    pub dst: Endpoint,
}

/// What role a message plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    Request,
    /// A response (piggybacked in an ACK, or separate).
    Response,
    /// Empty ACK (acknowledges a CON, separate response follows).
    EmptyAck,
    /// Reset.
    Reset,
    /// Empty CON ("CoAP ping").
    Ping,
    #[default]
    Other,
}

/// Observe relationship of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObserveInfo {
    /// A request with Observe=0.
    Register,
    /// A request with Observe=1.
    Deregister,
    /// A response carrying Observe to a registration (first = registration response).
    Notification {
        registration_frame: u64,
        /// Observe option value (sequence number).
        sequence: u32,
        /// 1 for the first response, 2 for the next notification, ...
        index: u32,
    },
    /// A response without Observe (or an error, or a RST to a notification) that ends the
    /// observation.
    Ends { registration_frame: u64 },
}

/// Whether the block is Block1 (request payload) or Block2 (response payload).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockKind {
    Block1,
    Block2,
}

/// A block of a Block-wise transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockInfo {
    pub kind: BlockKind,
    pub num: u32,
    pub more: bool,
    pub size: u32,
    /// First frame of the transfer (identifies it): the first payload-carrying block seen
    /// (the Block1 request or Block2 response).
    pub transfer_first_frame: u64,
    /// Set on the block that completes the transfer.
    pub completed: Option<CompletedTransfer>,
}

/// A reassembled Block-wise body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedTransfer {
    /// Frames carrying the blocks, in block order (at most [`MAX_TRANSFER_FRAMES`] listed).
    pub frames: Vec<u64>,
    /// Bytes from offset 0 to the end of the last block.
    pub total_len: u64,
    /// The body, when it fit the reassembly caps and no block was missing.
    pub body: Option<Vec<u8>>,
    /// Missing ranges seen (including a transfer whose first block is not block 0); the body
    /// is only reassembled when this is 0.
    pub gaps: u32,
}

/// The longest frame list a transfer keeps.
pub const MAX_TRANSFER_FRAMES: usize = 1 << 16;

/// What the tracker learned about one message.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExchangeInfo {
    pub role: Role,
    /// This message repeats an earlier one (same MID from the same endpoint to the same
    /// endpoint, same bytes) within EXCHANGE_LIFETIME: the frame of the first transmission.
    /// Set for CON/NON and for duplicate ACK/RST.
    pub retransmission_of: Option<u64>,
    /// Same MID from the same endpoint within EXCHANGE_LIFETIME but different content.
    pub mid_reused_from: Option<u64>,
    /// For ACK/RST: the CON frame acknowledged or rejected (its first transmission).
    pub acknowledges: Option<u64>,
    /// For responses: the request frame answered (its first transmission).
    pub request_frame: Option<u64>,
    /// For responses: time since that request.
    pub response_time: Option<Nanos>,
    pub observe: Option<ObserveInfo>,
    pub block: Option<BlockInfo>,
    /// Findings with spans relative to the message bytes.
    pub findings: Vec<Finding>,
}

/// A request this tracker was not shown, as the caller knows it: the caller matched a response
/// to it (another tracker did) and kept its resource ([`ExchangeTracker::resource_of`]). With
/// the response ([`ExchangeTracker::observe_hinted`]) it stands in for the request, so that a
/// Block2 transfer starting with that response is followed as if the request had been seen.
/// Only requests [`ExchangeTracker::needs_request`] says no to can be left out this way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestHint {
    /// The request's frame (its first transmission).
    pub frame: u64,
    pub ts: Timestamp,
    pub resource: u64,
}

/// Counts at the end of a capture.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExchangeSummary {
    /// Requests seen (first transmissions).
    pub exchanges: u64,
    /// Request frames that never got a response (sorted; at most `max_live` listed, see
    /// `unanswered_total`). Requests whose No-Response option suppresses every response class
    /// and requests sent to a multicast address are not expected to be answered.
    pub unanswered_requests: Vec<u64>,
    /// All unanswered requests, including those beyond the list cap.
    pub unanswered_total: u64,
    /// Retransmitted messages (CON/NON and duplicate ACK/RST).
    pub retransmissions: u64,
    /// Observe registrations (requests with Observe=0).
    pub observations: u64,
    /// Responses that were notifications (including each registration response).
    pub notifications: u64,
    pub block_transfers_completed: u64,
    /// Transfers that ended with gaps, were restarted, or were still open at the end.
    pub block_transfers_incomplete: u64,
    /// Responses no request could be found for.
    pub unmatched_responses: u64,
    /// Entries dropped because a table was full (`max_live`).
    pub evicted: u64,
}

/// Tracker settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeConfig {
    /// EXCHANGE_LIFETIME (RFC 7252 §4.8.2), default 247 s.
    pub exchange_lifetime_secs: u32,
    /// Bodies longer than this are counted but not kept.
    pub max_body_len: usize,
    /// Cap on concurrent live exchanges/transfers (oldest evicted first), per table.
    pub max_live: usize,
    /// Cap on the bytes of all bodies being reassembled at once; a transfer that would exceed
    /// it is counted but its body is not kept.
    pub max_total_body_bytes: usize,
}

impl Default for ExchangeConfig {
    fn default() -> Self {
        ExchangeConfig {
            exchange_lifetime_secs: 247,
            max_body_len: 1 << 20,
            // Just under half of a 65536-bucket table: a hash table full of removed entries
            // grows (rather than cleans up in place) when more than half of it is live, so
            // 32768 would double every table.
            max_live: 28000,
            max_total_body_bytes: 64 << 20,
        }
    }
}

/// A token kept in a table: inline up to the 8 bytes of RFC 7252, on the heap beyond (RFC 8974
/// extended lengths). Most messages then store and compare their token without allocating.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Token {
    Short { len: u8, bytes: [u8; 8] },
    Long(Box<[u8]>),
}

impl Token {
    fn new(t: &[u8]) -> Token {
        let mut bytes = [0; 8];
        match bytes.get_mut(..t.len()) {
            Some(b) => {
                b.copy_from_slice(t);
                Token::Short { len: t.len() as u8, bytes }
            }
            None => Token::Long(t.into()),
        }
    }

    fn as_slice(&self) -> &[u8] {
        match self {
            Token::Short { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or_default(),
            Token::Long(b) => b,
        }
    }
}

/// A table key: a 64-bit digest (the tracker's per-process seeded hash) of what identifies the
/// entry. Keys are 8 bytes however long the addresses and the token are, so the tables stay
/// small and compare one word; two different identities share a key with probability 2^-64
/// (as [`resource_key`] already accepts).
///
/// - request key: (client, server, token), the request/response matching key;
/// - MID key: (sender, receiver, MID, ACK/RST or not), the deduplication key;
/// - multicast key: (client, token) of a request sent to a multicast address.
type Key = u64;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct TransferKey {
    kind: BlockKind,
    client: Endpoint,
    server: Endpoint,
    /// Digest of the request code, URI options (and Request-Tag values for Block1): see
    /// [`resource_key`]. 0 for a response whose request is unknown.
    key: u64,
}

/// What a message was linked to, repeated for its retransmissions. Frame numbers are 1-based,
/// so `NonZeroU64` keeps the options one word each.
#[derive(Debug, Clone)]
struct Echo {
    role: Role,
    acknowledges: Option<NonZeroU64>,
    request_frame: Option<NonZeroU64>,
    request_ts: Option<Timestamp>,
    /// Boxed: only Observe and Block-wise messages have one, and every MID entry has an echo.
    linked: Option<Box<(Option<ObserveInfo>, Option<BlockInfo>)>>,
}

/// `MidEntry::request_nanos` when the message has no request time.
const NO_REQUEST_TS: u32 = u32::MAX;

/// One message seen, for deduplication and ACK/RST matching: 64 bytes, so that a table slot
/// (with its key and expiry) is 80. A full table writes a slot per message and reads one back
/// a table later, neither in the cache: the slot's size is what the table costs. The [`Echo`]
/// is stored flat (its padding would not pack with the rest): see [`MidEntry::echo`].
#[derive(Debug)]
struct MidEntry {
    frame: u64,
    /// Digest of the message bytes (their length included).
    digest: u64,
    /// For a request: its own key; for a response: the key of the request it answered (when
    /// `has_req_key`).
    req_key: Key,
    acknowledges: Option<NonZeroU64>,
    request_frame: Option<NonZeroU64>,
    /// The request's time: seconds, and nanoseconds or [`NO_REQUEST_TS`].
    request_secs: i64,
    request_nanos: u32,
    linked: Option<Box<(Option<ObserveInfo>, Option<BlockInfo>)>>,
    role: Role,
    mtype: MsgType,
    has_req_key: bool,
}

impl MidEntry {
    fn new(frame: u64, digest: u64, mtype: MsgType, req_key: Option<Key>, echo: Echo) -> MidEntry {
        let Echo { role, acknowledges, request_frame, request_ts, linked } = echo;
        MidEntry {
            frame,
            digest,
            req_key: req_key.unwrap_or_default(),
            acknowledges,
            request_frame,
            request_secs: request_ts.map_or(0, |t| t.secs),
            request_nanos: request_ts.map_or(NO_REQUEST_TS, |t| t.nanos),
            linked,
            role,
            mtype,
            has_req_key: req_key.is_some(),
        }
    }

    fn req_key(&self) -> Option<Key> {
        self.has_req_key.then_some(self.req_key)
    }

    /// What a retransmission of this message repeats.
    fn echo(&self) -> Echo {
        Echo {
            role: self.role,
            acknowledges: self.acknowledges,
            request_frame: self.request_frame,
            request_ts: (self.request_nanos != NO_REQUEST_TS)
                .then_some(Timestamp { secs: self.request_secs, nanos: self.request_nanos }),
            linked: self.linked.clone(),
        }
    }
}

/// An Observe registration. Boxed in its request: most requests do not observe.
#[derive(Debug, Clone)]
struct Observation {
    notifications: u32,
    ended: bool,
    /// Until when the registration is kept (extended by each notification).
    expires: i128,
    /// What the request key was made of, to follow the observation to another client
    /// endpoint.
    client: Endpoint,
    server: Endpoint,
    token: Token,
}

#[derive(Debug)]
struct RequestEntry {
    frame: u64,
    ts: Timestamp,
    /// Frame of the first response (or of the RST that rejected the request).
    answered: Option<NonZeroU64>,
    expects_response: bool,
    multicast: bool,
    observe: Option<Box<Observation>>,
    /// Code + URI options, the Block2 transfer key.
    cache_key: u64,
    /// First frame of the Block1 transfer this request carried a block of.
    block1_first: Option<NonZeroU64>,
}

#[derive(Debug)]
struct Transfer {
    first_frame: u64,
    frames: Vec<u64>,
    next_offset: u64,
    szx: u8,
    etag: Option<Vec<u8>>,
    body: Option<Vec<u8>>,
    gaps: u32,
    size_hint: Option<u64>,
}

/// A message whose block payload is added to a transfer.
struct BlockCtx<'a> {
    frame: u64,
    now: i128,
    value: BlockValue,
    payload: &'a [u8],
    etag: Option<&'a [u8]>,
    size_hint: Option<u64>,
    span: Range<usize>,
}

/// Links messages into exchanges. Bounded state.
#[derive(Debug)]
pub struct ExchangeTracker {
    config: ExchangeConfig,
    mids: Fifo<MidEntry>,
    requests: Fifo<RequestEntry>,
    /// Multicast key -> request key.
    multicast: Bounded<Key, Key>,
    transfers: Bounded<TransferKey, Transfer>,
    body_bytes: usize,
    summary: ExchangeSummary,
    /// Hashes message bytes (a retransmission has the same digest as the first), table keys
    /// and resource keys.
    digests: foldhash::quality::RandomState,
}

fn finding(kind: FindingKind, severity: Severity, span: Range<usize>, msg: String) -> Finding {
    Finding::new(kind, severity, Layer::Coap, msg).at(Span::frame(span))
}

fn role_of(msg: &Message) -> Role {
    let code = msg.code;
    if msg.kind == MessageKind::OscorePlaintext {
        return if code.is_request() {
            Role::Request
        } else if code.is_response() {
            Role::Response
        } else {
            Role::Other
        };
    }
    match (msg.mtype, code) {
        (MsgType::Rst, _) => Role::Reset,
        (MsgType::Ack, c) if c.is_empty() => Role::EmptyAck,
        (MsgType::Con, c) if c.is_empty() => Role::Ping,
        (MsgType::Con | MsgType::Non, c) if c.is_request() => Role::Request,
        (_, c) if c.is_response() => Role::Response,
        _ => Role::Other,
    }
}

fn token_text(t: &[u8]) -> String {
    if t.is_empty() { "(empty)".to_string() } else { hex::encode(t) }
}

/// Span for exchange findings about the token: the token bytes, or the header when empty.
fn token_span(msg: &Message) -> Range<usize> {
    if msg.token.is_empty() { 0..msg.bytes.len().min(4) } else { msg.token.clone() }
}

/// Digest of the code + the options that name the target resource (Uri-Host, Uri-Port,
/// Uri-Path, Uri-Query, Proxy-Uri, Proxy-Scheme), plus `extra` option numbers, each
/// length-prefixed: 64 bits of the tracker's seeded hash, so two resources of one client and
/// server are told apart except with probability 2^-64, and no request allocates for it.
fn resource_key(hasher: &foldhash::quality::RandomState, msg: &Message, extra: &[u16]) -> u64 {
    let mut k = hasher.build_hasher();
    k.write_u8(msg.code.0);
    for o in &msg.options {
        let keep = matches!(
            o.number,
            num::URI_HOST
                | num::URI_PORT
                | num::URI_PATH
                | num::URI_QUERY
                | num::PROXY_URI
                | num::PROXY_SCHEME
        ) || extra.contains(&o.number);
        if keep {
            let v = msg.option_value(o);
            k.write_u16(o.number);
            k.write_usize(v.len());
            k.write(v);
        }
    }
    k.finish()
}

fn block_option(msg: &Message, number: u16) -> Option<(BlockValue, Range<usize>)> {
    let o = msg.find_option(number)?;
    let v = BlockValue::decode(msg.option_value(o))?;
    (v.szx != 7).then_some((v, o.range.clone()))
}

impl Default for ExchangeTracker {
    fn default() -> Self {
        ExchangeTracker::new(ExchangeConfig::default())
    }
}

impl ExchangeTracker {
    pub fn new(config: ExchangeConfig) -> Self {
        let cap = config.max_live.max(1);
        ExchangeTracker {
            mids: Fifo::with_capacity(cap),
            requests: Fifo::with_capacity(cap),
            multicast: Bounded::default(),
            transfers: Bounded::default(),
            body_bytes: 0,
            summary: ExchangeSummary::default(),
            digests: Default::default(),
            config,
        }
    }

    fn mid_key(&self, src: Endpoint, dst: Endpoint, mid: u16, reply: bool) -> Key {
        self.digests.hash_one((src, dst, mid, reply))
    }

    fn req_key(&self, client: Endpoint, server: Endpoint, token: &[u8]) -> Key {
        self.digests.hash_one((client, server, token))
    }

    fn multicast_key(&self, client: Endpoint, token: &[u8]) -> Key {
        self.digests.hash_one((client, token))
    }

    fn lifetime(&self) -> i128 {
        i128::from(self.config.exchange_lifetime_secs) * 1_000_000_000
    }

    /// Live entries per table: (MIDs, requests, transfers). For diagnostics and tests.
    pub fn live(&self) -> (usize, usize, usize) {
        (self.mids.len(), self.requests.len(), self.transfers.len())
    }

    /// Whether this tracker must see a request itself to follow what it starts, or a
    /// [`RequestHint`] given with a response to it will do. It must see requests with a Block1
    /// or Block2 option (transfers), with an Observe option (notifications) and to a multicast
    /// address (responses from several servers). Left-out requests are not counted in the
    /// [`ExchangeSummary`] and get no findings of their own.
    pub fn needs_request(meta: &MsgMeta, msg: &Message) -> bool {
        meta.dst.addr.is_multicast()
            || [num::BLOCK1, num::BLOCK2, num::OBSERVE].iter().any(|&n| msg.find_option(n).is_some())
    }

    /// A request's resource (its code and URI options), for a [`RequestHint`].
    pub fn resource_of(&self, msg: &Message) -> u64 {
        resource_key(&self.digests, msg, &[])
    }

    /// Records one message and says what it is part of.
    pub fn observe(&mut self, meta: &MsgMeta, msg: &Message) -> ExchangeInfo {
        self.observe_hinted(meta, msg, None)
    }

    /// [`ExchangeTracker::observe`] for a response to a request this tracker was not shown:
    /// `hint` stands in for the request (see [`RequestHint`]). Ignored for other messages.
    pub fn observe_hinted(
        &mut self,
        meta: &MsgMeta,
        msg: &Message,
        hint: Option<RequestHint>,
    ) -> ExchangeInfo {
        let now = meta.ts.as_nanos();
        self.expire(now);
        let mut info = ExchangeInfo { role: role_of(msg), ..Default::default() };
        if msg.kind != MessageKind::Udp || msg.bytes.len() < 4 {
            return info;
        }
        let mid_span = msg.mid_range();
        let dig = self.digests.hash_one(&msg.bytes);
        let reply = matches!(msg.mtype, MsgType::Ack | MsgType::Rst);
        let mkey = self.mid_key(meta.src, meta.dst, msg.mid, reply);
        if let Some(prev) = self.mids.get(&mkey) {
            if prev.digest == dig {
                return self.retransmission(meta, msg, prev.frame, prev.echo(), info);
            }
            info.mid_reused_from = Some(prev.frame);
            info.findings.push(
                finding(
                    FindingKind::CoapDuplicate,
                    Severity::Medium,
                    mid_span.clone(),
                    format!(
                        "MID 0x{:04x} from {} to {} reused within EXCHANGE_LIFETIME with different content (first in frame {}; RFC 7252 §4.4)",
                        msg.mid, meta.src, meta.dst, prev.frame
                    ),
                )
                .related([prev.frame]),
            );
        }

        // ACK/RST: the CON (or, for RST, NON) with this MID sent the other way.
        let mut acked: Option<(Option<Key>, Role)> = None;
        if reply {
            let ckey = self.mid_key(meta.dst, meta.src, msg.mid, false);
            match self.mids.get(&ckey) {
                Some(c)
                    if c.mtype == MsgType::Con || (msg.mtype == MsgType::Rst && c.mtype == MsgType::Non) =>
                {
                    info.acknowledges = Some(c.frame);
                    acked = Some((c.req_key(), c.role));
                }
                // The CON is the hinted request, which this tracker was not shown.
                _ if hint.is_some() => {}
                _ => info.findings.push(finding(
                    FindingKind::CoapUnmatchedAck,
                    Severity::Low,
                    mid_span,
                    format!(
                        "{} for MID 0x{:04x} matches no CON seen from {} to {} within EXCHANGE_LIFETIME",
                        msg.mtype, msg.mid, meta.dst, meta.src
                    ),
                )),
            }
        }

        let mut req_key = None;
        let mut request_ts = None;
        match info.role {
            Role::Request => {
                req_key = Some(self.on_request(meta, msg, &mut info));
            }
            Role::Response if msg.mtype != MsgType::Rst => {
                if let Some(h) = hint {
                    self.stand_in(meta, msg, h);
                }
                if let Some((k, ts)) = self.on_response(meta, msg, acked.as_ref(), &mut info) {
                    req_key = Some(k);
                    request_ts = Some(ts);
                }
            }
            Role::Reset => {
                if let Some((Some(k), role)) = &acked {
                    self.on_reset(meta, *k, *role, &mut info);
                }
            }
            _ => {}
        }

        let linked = (info.observe.is_some() || info.block.is_some()).then(|| {
            let block = info.block.as_ref().map(|b| BlockInfo { completed: None, ..b.clone() });
            Box::new((info.observe.clone(), block))
        });
        let echo = Echo {
            role: info.role,
            acknowledges: info.acknowledges.map(nz),
            request_frame: info.request_frame.map(nz),
            request_ts,
            linked,
        };
        let entry = MidEntry::new(meta.frame, dig, msg.mtype, req_key, echo);
        let expires = now + self.lifetime();
        self.mids.insert(mkey, entry, expires);
        self.enforce_caps();
        info
    }

    fn retransmission(
        &mut self,
        meta: &MsgMeta,
        msg: &Message,
        first: u64,
        echo: Echo,
        mut info: ExchangeInfo,
    ) -> ExchangeInfo {
        self.summary.retransmissions += 1;
        info.retransmission_of = Some(first);
        info.acknowledges = echo.acknowledges.map(NonZeroU64::get);
        info.request_frame = echo.request_frame.map(NonZeroU64::get);
        info.response_time = echo.request_ts.map(|t| Nanos(meta.ts.nanos_since(t)));
        if let Some(linked) = echo.linked {
            (info.observe, info.block) = *linked;
        }
        info.findings.push(
            finding(
                FindingKind::CoapRetransmission,
                Severity::Info,
                msg.mid_range(),
                format!(
                    "{} MID 0x{:04x}: retransmission of frame {first} (identical bytes)",
                    msg.mtype, msg.mid
                ),
            )
            .related([first]),
        );
        info
    }

    fn on_request(&mut self, meta: &MsgMeta, msg: &Message, info: &mut ExchangeInfo) -> Key {
        let now = meta.ts.as_nanos();
        let token = msg.token();
        let key = self.req_key(meta.src, meta.dst, token);
        self.summary.exchanges += 1;

        let observe = msg.first_option(num::OBSERVE).map(decode_uint);
        info.observe = match observe {
            None => None,
            Some(Some(0)) => Some(ObserveInfo::Register),
            Some(Some(1)) => Some(ObserveInfo::Deregister),
            Some(v) => {
                let span = msg.find_option(num::OBSERVE).map(|o| o.range.clone()).unwrap_or(0..0);
                info.findings.push(finding(
                    FindingKind::CoapOptionValue,
                    Severity::Low,
                    span,
                    format!("Observe {v:?} in a request: only 0 (register) and 1 (deregister) are defined (RFC 7641 §2)"),
                ));
                None
            }
        };
        if info.observe == Some(ObserveInfo::Register) {
            self.summary.observations += 1;
        }

        if let Some(old) = self.requests.remove(&key) {
            let outstanding = old.expects_response && old.answered.is_none();
            let observing = old.observe.as_ref().is_some_and(|o| !o.ended && o.notifications > 0);
            let re_register = observing && info.observe == Some(ObserveInfo::Register);
            let dereg = observing && info.observe == Some(ObserveInfo::Deregister);
            if !token.is_empty() && (outstanding || observing) && !re_register && !dereg {
                info.findings.push(
                    finding(
                        FindingKind::CoapTokenReuse,
                        Severity::Low,
                        token_span(msg),
                        format!(
                            "token {} reused for a new request while the request in frame {} is still {}",
                            hex::encode(token),
                            old.frame,
                            if observing { "observing" } else { "unanswered" }
                        ),
                    )
                    .related([old.frame]),
                );
            }
            self.retire_request(old);
        }

        let multicast = meta.dst.addr.is_multicast();
        // RFC 7967 §2: bits 2 (2.xx), 8 (4.xx) and 16 (5.xx) suppress response classes.
        let expects_response = msg.uint_option(num::NO_RESPONSE).is_none_or(|v| v & 26 != 26) && !multicast;
        let cache_key = resource_key(&self.digests, msg, &[]);
        let expires = now + self.lifetime();
        let mut entry = RequestEntry {
            frame: meta.frame,
            ts: meta.ts,
            answered: None,
            expects_response,
            multicast,
            observe: (info.observe == Some(ObserveInfo::Register)).then(|| {
                Box::new(Observation {
                    notifications: 0,
                    ended: false,
                    expires,
                    client: meta.src,
                    server: meta.dst,
                    token: Token::new(token),
                })
            }),
            cache_key,
            block1_first: None,
        };

        if let Some((value, span)) = block_option(msg, num::BLOCK1) {
            let tkey = TransferKey {
                kind: BlockKind::Block1,
                client: meta.src,
                server: meta.dst,
                key: resource_key(&self.digests, msg, &[num::REQUEST_TAG]),
            };
            let ctx = BlockCtx {
                frame: meta.frame,
                now,
                value,
                payload: msg.payload(),
                etag: None,
                size_hint: msg.uint_option(num::SIZE1),
                span,
            };
            let b = self.add_block(tkey, ctx, &mut info.findings);
            entry.block1_first = Some(nz(b.transfer_first_frame));
            info.block = Some(b);
        } else if let Some((value, _)) = block_option(msg, num::BLOCK2) {
            let tkey =
                TransferKey { kind: BlockKind::Block2, client: meta.src, server: meta.dst, key: cache_key };
            if let Some(t) = self.transfers.get(&tkey) {
                info.block = Some(BlockInfo {
                    kind: BlockKind::Block2,
                    num: value.num,
                    more: value.more,
                    size: value.size(),
                    transfer_first_frame: t.first_frame,
                    completed: None,
                });
            }
        }

        if multicast {
            self.multicast.insert(self.multicast_key(meta.src, token), key, expires);
        }
        if let Some(old) = self.requests.insert(key, entry, expires) {
            self.retire_request(old);
        }
        key
    }

    /// Puts the hinted request in the table, under the key a response to it matches (its own
    /// token), unless it is there already (an earlier response put it there). An older entry
    /// under that key (a request with the same token) is replaced, as the hinted request would
    /// have replaced it had it been shown.
    fn stand_in(&mut self, meta: &MsgMeta, msg: &Message, h: RequestHint) {
        let key = self.req_key(meta.dst, meta.src, msg.token());
        if self.requests.get(&key).is_some_and(|e| e.frame == h.frame) {
            return;
        }
        let entry = RequestEntry {
            frame: h.frame,
            ts: h.ts,
            answered: None,
            expects_response: true,
            multicast: false,
            observe: None,
            cache_key: h.resource,
            block1_first: None,
        };
        let expires = h.ts.as_nanos() + self.lifetime();
        if let Some(old) = self.requests.insert(key, entry, expires) {
            self.retire_request(old);
        }
    }

    /// Returns the matched request's key and time.
    fn on_response(
        &mut self,
        meta: &MsgMeta,
        msg: &Message,
        acked: Option<&(Option<Key>, Role)>,
        info: &mut ExchangeInfo,
    ) -> Option<(Key, Timestamp)> {
        let now = meta.ts.as_nanos();
        let token = msg.token();
        let (client, server) = (meta.dst, meta.src);
        let own_key = self.req_key(client, server, token);
        let lifetime = self.lifetime();
        let mut key = None;
        if msg.mtype == MsgType::Ack
            && let Some((Some(k), _)) = acked
        {
            // The acknowledged CON's key holds the CON's token: a request's key is its own, and
            // a CON response was matched by its token.
            if *k != own_key {
                let con = info.acknowledges.unwrap_or_default();
                info.findings.push(
                    finding(
                        FindingKind::CoapUnmatchedResponse,
                        Severity::Low,
                        token_span(msg),
                        format!(
                            "piggybacked response token {} does not echo the token of the request it acknowledges (frame {con}; RFC 7252 §5.3.2)",
                            token_text(token),
                        ),
                    )
                    .related([con]),
                );
            }
            key = Some(*k);
        }
        if key.is_none() {
            if self.requests.get(&own_key).is_some() {
                key = Some(own_key);
            } else if let Some(k) = self.multicast.get(&self.multicast_key(client, token)) {
                key = Some(*k);
            } else if !token.is_empty() && msg.first_option(num::OBSERVE).is_some() {
                // A notification to another client endpoint: an observation the server keeps
                // across the client's address change (network migration; e.g. an OSCORE ID
                // update preserving observations, draft-ietf-core-oscore-id-update §2.5).
                let mut moved = self.requests.iter().filter_map(|(k, e)| {
                    let o = e.observe.as_deref()?;
                    (o.server == server && o.token.as_slice() == token).then_some((*k, o.client))
                });
                if let (Some((k, registered)), None) = (moved.next(), moved.next()) {
                    info.findings.push(finding(
                        FindingKind::CoapObservationMoved,
                        Severity::Info,
                        token_span(msg),
                        format!(
                            "notification with token {} goes to {client}, not to {registered} where the observation was registered: the server follows the client's new address",
                            token_text(token),
                        ),
                    ));
                    key = Some(k);
                }
            }
        }
        let entry_key = key.and_then(|k| self.requests.get_mut(&k).map(|e| (k, e)));
        let Some((key, entry)) = entry_key else {
            self.summary.unmatched_responses += 1;
            info.findings.push(finding(
                FindingKind::CoapUnmatchedResponse,
                Severity::Info,
                token_span(msg),
                format!(
                    "response {} with token {} matches no request from {client} to {server} in the capture (it may have started late)",
                    msg.code,
                    token_text(token)
                ),
            ));
            if let Some((value, span)) = block_option(msg, num::BLOCK2) {
                let tkey = TransferKey { kind: BlockKind::Block2, client, server, key: 0 };
                info.block =
                    Some(self.add_block(tkey, self.block2_ctx(meta, msg, value, span), &mut info.findings));
            }
            return None;
        };

        info.request_frame = Some(entry.frame);
        info.response_time = Some(Nanos(meta.ts.nanos_since(entry.ts)));
        let observe_value = msg.first_option(num::OBSERVE).map(|v| decode_uint(v).unwrap_or(u64::MAX));
        let mut observation_continues = false;
        match entry.observe.as_mut() {
            Some(obs) if !obs.ended => {
                if let (2, Some(seq)) = (msg.code.class(), observe_value) {
                    obs.notifications += 1;
                    self.summary.notifications += 1;
                    info.observe = Some(ObserveInfo::Notification {
                        registration_frame: entry.frame,
                        sequence: u32::try_from(seq).unwrap_or(u32::MAX),
                        index: obs.notifications,
                    });
                    observation_continues = true;
                } else {
                    obs.ended = true;
                    info.observe = Some(ObserveInfo::Ends { registration_frame: entry.frame });
                }
            }
            _ => {
                if let Some(first) = entry.answered.map(NonZeroU64::get)
                    && !entry.multicast
                    && entry.observe.is_none()
                {
                    info.findings.push(
                        finding(
                            FindingKind::CoapDuplicate,
                            Severity::Info,
                            token_span(msg),
                            format!("another response to the request in frame {} (first answered in frame {first})", entry.frame),
                        )
                        .related([first]),
                    );
                }
            }
        }
        entry.answered.get_or_insert(nz(meta.frame));

        let (request_ts, cache_key) = (entry.ts, entry.cache_key);
        let block1_first = entry.block1_first.map_or(entry.frame, NonZeroU64::get);
        let max_age = msg.uint_option(num::MAX_AGE).unwrap_or(60).min(u64::from(u32::MAX));
        let kept_until = now + lifetime + i128::from(max_age) * 1_000_000_000;
        if let Some(obs) = entry.observe.as_mut()
            && observation_continues
            && kept_until > obs.expires
        {
            // Kept longer: moved to the back of the table, where the latest expiries are.
            obs.expires = kept_until;
            self.requests.refresh(&key, kept_until);
        }

        if let Some((value, span)) = block_option(msg, num::BLOCK2) {
            let tkey = TransferKey { kind: BlockKind::Block2, client, server, key: cache_key };
            info.block =
                Some(self.add_block(tkey, self.block2_ctx(meta, msg, value, span), &mut info.findings));
        } else if let Some((value, _)) = block_option(msg, num::BLOCK1) {
            info.block = Some(BlockInfo {
                kind: BlockKind::Block1,
                num: value.num,
                more: value.more,
                size: value.size(),
                transfer_first_frame: block1_first,
                completed: None,
            });
        }
        Some((key, request_ts))
    }

    fn block2_ctx<'a>(
        &self,
        meta: &MsgMeta,
        msg: &'a Message,
        value: BlockValue,
        span: Range<usize>,
    ) -> BlockCtx<'a> {
        BlockCtx {
            frame: meta.frame,
            now: meta.ts.as_nanos(),
            value,
            payload: msg.payload(),
            etag: msg.first_option(num::ETAG),
            size_hint: msg.uint_option(num::SIZE2),
            span,
        }
    }

    /// A RST rejecting a request (it is answered) or a notification (the observation ends).
    fn on_reset(&mut self, meta: &MsgMeta, key: Key, rejected: Role, info: &mut ExchangeInfo) {
        let Some(entry) = self.requests.get_mut(&key) else { return };
        match rejected {
            Role::Request => {
                entry.answered.get_or_insert(nz(meta.frame));
            }
            Role::Response => {
                if let Some(obs) = entry.observe.as_mut()
                    && !obs.ended
                {
                    obs.ended = true;
                    info.observe = Some(ObserveInfo::Ends { registration_frame: entry.frame });
                }
            }
            _ => {}
        }
    }

    /// Adds one block to its transfer (RFC 7959 §2.2-§2.5).
    fn add_block(&mut self, key: TransferKey, b: BlockCtx<'_>, findings: &mut Vec<Finding>) -> BlockInfo {
        let kind = key.kind;
        let v = b.value;
        let (size, offset) = (v.size(), v.offset());
        let name = match kind {
            BlockKind::Block1 => "Block1",
            BlockKind::Block2 => "Block2",
        };
        let mut t = match self.transfers.remove(&key) {
            Some(t) if kind == BlockKind::Block2 && b.etag.is_some() && t.etag.as_deref() != b.etag => {
                if offset != 0 {
                    findings.push(
                        finding(
                            FindingKind::CoapBlockGap,
                            Severity::Medium,
                            b.span.clone(),
                            format!(
                                "ETag changed to {} in block {} of the transfer from frame {} (was {}): the representation changed mid-transfer",
                                hex::encode(b.etag.unwrap_or_default()),
                                v.num,
                                t.first_frame,
                                t.etag.as_deref().map(hex::encode).unwrap_or_else(|| "absent".to_string())
                            ),
                        )
                        .related([t.first_frame]),
                    );
                }
                self.close_transfer(t);
                self.new_transfer(&b, findings, name)
            }
            Some(t) if offset == 0 && t.next_offset > 0 && t.frames.len() > 1 => {
                // Block 0 again after further blocks: a new transfer of the same resource.
                self.close_transfer(t);
                self.new_transfer(&b, findings, name)
            }
            Some(t) => t,
            None => self.new_transfer(&b, findings, name),
        };

        let first_frame = t.first_frame;
        let mut done = false;
        // A block before the current end was seen already (re-requested or resent with a
        // new MID): nothing to add.
        if offset >= t.next_offset {
            if offset > t.next_offset {
                findings.push(
                    finding(
                        FindingKind::CoapBlockGap,
                        Severity::Medium,
                        b.span.clone(),
                        format!(
                            "{name} block {} starts at offset {offset}, but the transfer from frame {} reached only offset {}: {} bytes missing",
                            v.num,
                            t.first_frame,
                            t.next_offset,
                            offset - t.next_offset
                        ),
                    )
                    .related([t.first_frame]),
                );
                t.gaps += 1;
                self.drop_body(&mut t);
                t.next_offset = offset;
            }
            if v.szx != t.szx && !t.frames.is_empty() {
                findings.push(finding(
                    FindingKind::CoapBlockGap,
                    Severity::Info,
                    b.span.clone(),
                    format!(
                        "{name} block size changed from {} to {size} at block {} (RFC 7959 §2.5 allows smaller sizes later)",
                        1u32 << (u32::from(t.szx.min(6)) + 4),
                        v.num
                    ),
                ));
            }
            t.szx = v.szx;
            let plen = b.payload.len() as u64;
            if (v.more && plen != u64::from(size)) || (!v.more && plen > u64::from(size)) {
                findings.push(finding(
                    FindingKind::CoapBlockGap,
                    Severity::Low,
                    b.span.clone(),
                    format!(
                        "{name} block {} (M={}) carries {plen} bytes with block size {size} (RFC 7959 §2.2)",
                        v.num,
                        u8::from(v.more)
                    ),
                ));
            }
            if t.frames.len() < MAX_TRANSFER_FRAMES {
                t.frames.push(b.frame);
            }
            t.next_offset += plen;
            self.append_body(&mut t, b.payload);
            if let Some(s) = b.size_hint {
                t.size_hint = Some(s);
            }
            done = !v.more;
        }
        let completed = if done {
            Some(self.complete_transfer(t, &b, findings, name))
        } else {
            let expires = b.now + self.lifetime();
            self.transfers.insert(key, t, expires);
            None
        };
        BlockInfo { kind, num: v.num, more: v.more, size, transfer_first_frame: first_frame, completed }
    }

    fn new_transfer(&mut self, b: &BlockCtx<'_>, findings: &mut Vec<Finding>, name: &str) -> Transfer {
        let offset = b.value.offset();
        if offset != 0 {
            findings.push(finding(
                FindingKind::CoapBlockGap,
                Severity::Info,
                b.span.clone(),
                format!(
                    "first {name} block seen is block {} (offset {offset}): the earlier blocks are not in the capture",
                    b.value.num
                ),
            ));
        }
        Transfer {
            first_frame: b.frame,
            frames: Vec::new(),
            next_offset: offset,
            szx: b.value.szx,
            etag: b.etag.map(<[u8]>::to_vec),
            body: (offset == 0).then(Vec::new),
            gaps: u32::from(offset != 0),
            size_hint: None,
        }
    }

    fn append_body(&mut self, t: &mut Transfer, payload: &[u8]) {
        let Some(body) = t.body.as_mut() else { return };
        if body.len() + payload.len() > self.config.max_body_len
            || self.body_bytes + payload.len() > self.config.max_total_body_bytes
        {
            self.drop_body(t);
            return;
        }
        body.extend_from_slice(payload);
        self.body_bytes += payload.len();
    }

    fn drop_body(&mut self, t: &mut Transfer) {
        if let Some(body) = t.body.take() {
            self.body_bytes = self.body_bytes.saturating_sub(body.len());
        }
    }

    /// A transfer that will not complete (restarted, expired, evicted, or open at the end).
    fn close_transfer(&mut self, mut t: Transfer) {
        self.drop_body(&mut t);
        self.summary.block_transfers_incomplete += 1;
    }

    fn complete_transfer(
        &mut self,
        mut t: Transfer,
        b: &BlockCtx<'_>,
        findings: &mut Vec<Finding>,
        name: &str,
    ) -> CompletedTransfer {
        let total = t.next_offset;
        if let Some(hint) = t.size_hint
            && hint != total
        {
            let which = if name == "Block1" { "Size1" } else { "Size2" };
            findings.push(
                finding(
                    FindingKind::CoapBlockGap,
                    Severity::Low,
                    b.span.clone(),
                    format!(
                        "{which} announced {hint} bytes, the {name} transfer from frame {} carried {total}",
                        t.first_frame
                    ),
                )
                .related([t.first_frame]),
            );
        }
        if t.gaps == 0 {
            self.summary.block_transfers_completed += 1;
        } else {
            self.summary.block_transfers_incomplete += 1;
            self.drop_body(&mut t);
        }
        let body = t.body.take();
        if let Some(body) = &body {
            self.body_bytes = self.body_bytes.saturating_sub(body.len());
        }
        CompletedTransfer { frames: t.frames, total_len: total, body, gaps: t.gaps }
    }

    /// A request leaves the table: count it as unanswered when a response was expected.
    fn retire_request(&mut self, e: RequestEntry) {
        if e.expects_response && e.answered.is_none() {
            self.summary.unanswered_total += 1;
            if self.summary.unanswered_requests.len() < self.config.max_live.max(1) {
                self.summary.unanswered_requests.push(e.frame);
            }
        }
    }

    fn expire(&mut self, now: i128) {
        while self.mids.pop_expired(now).is_some() {}
        while self.multicast.pop_expired(now).is_some() {}
        while let Some((_, e)) = self.requests.pop_expired(now) {
            self.retire_request(e);
        }
        while let Some((_, t)) = self.transfers.pop_expired(now) {
            self.close_transfer(t);
        }
    }

    fn enforce_caps(&mut self) {
        let cap = self.config.max_live.max(1);
        while self.multicast.len() > cap && self.multicast.pop_first().is_some() {
            self.summary.evicted += 1;
        }
        while self.mids.pop_over_cap().is_some() {
            self.summary.evicted += 1;
        }
        while let Some((_, e)) = self.requests.pop_over_cap() {
            self.summary.evicted += 1;
            self.retire_request(e);
        }
        while self.transfers.len() > cap {
            let Some((_, t)) = self.transfers.pop_first() else { break };
            self.summary.evicted += 1;
            self.close_transfer(t);
        }
    }

    /// Summary at the end of the capture (unanswered requests, incomplete transfers). Clears
    /// the tracker's state.
    pub fn finish(&mut self) -> ExchangeSummary {
        self.mids = Fifo::with_capacity(0);
        self.multicast = Bounded::default();
        let mut requests = self.requests.take_all();
        requests.sort_unstable_by_key(|(_, e)| e.frame);
        for (_, e) in requests {
            self.retire_request(e);
        }
        for (_, t) in self.transfers.take_all() {
            self.close_transfer(t);
        }
        self.body_bytes = 0;
        let mut s = std::mem::take(&mut self.summary);
        s.unanswered_requests.sort_unstable();
        s.unanswered_requests.dedup();
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coap::message::{Code, MessageRepr};
    use crate::coap::options::BlockValue;
    use std::net::{IpAddr, Ipv4Addr};

    fn ep(last: u8, port: u16) -> Endpoint {
        Endpoint { addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)), port }
    }
    const C: u8 = 1;
    const S: u8 = 2;

    /// Scripted capture: frames numbered from 1, times in milliseconds.
    struct Script {
        t: ExchangeTracker,
        frame: u64,
    }

    impl Script {
        fn new() -> Self {
            Script::with(ExchangeConfig::default())
        }
        fn with(config: ExchangeConfig) -> Self {
            Script { t: ExchangeTracker::new(config), frame: 0 }
        }
        fn send(&mut self, ms: i64, src: Endpoint, dst: Endpoint, r: &MessageRepr) -> ExchangeInfo {
            self.send_bytes(ms, src, dst, &r.emit())
        }
        fn send_bytes(&mut self, ms: i64, src: Endpoint, dst: Endpoint, b: &[u8]) -> ExchangeInfo {
            self.frame += 1;
            let meta = MsgMeta {
                frame: self.frame,
                ts: Timestamp::from_nanos(i128::from(ms) * 1_000_000),
                src,
                dst,
            };
            let m = Message::parse(b);
            assert!(m.complete, "{:?}", m.findings);
            self.t.observe(&meta, &m)
        }
    }

    fn msg(t: MsgType, code: Code, mid: u16, token: &[u8]) -> MessageRepr {
        MessageRepr { mtype: Some(t), code: code.0, mid, token: token.to_vec(), ..Default::default() }
    }
    fn get(mid: u16, token: &[u8], path: &str) -> MessageRepr {
        let mut r = msg(MsgType::Con, Code::GET, mid, token);
        r.options.push((num::URI_PATH, path.as_bytes().to_vec()));
        r
    }
    fn with_opt(mut r: MessageRepr, n: u16, v: &[u8]) -> MessageRepr {
        r.options.push((n, v.to_vec()));
        r
    }
    fn with_payload(mut r: MessageRepr, p: &[u8]) -> MessageRepr {
        r.payload = p.to_vec();
        r
    }
    fn kinds(i: &ExchangeInfo) -> Vec<FindingKind> {
        i.findings.iter().map(|f| f.kind).collect()
    }

    /// With the table slot's key and expiry, a MID entry takes 80 bytes, a request entry 80.
    #[test]
    fn table_entries_stay_small() {
        assert!(std::mem::size_of::<MidEntry>() <= 64, "{}", std::mem::size_of::<MidEntry>());
        assert!(std::mem::size_of::<RequestEntry>() <= 64, "{}", std::mem::size_of::<RequestEntry>());
    }

    #[test]
    fn piggybacked() {
        // RFC 7252 Appendix A Figure 17: CON GET MID 0x7d35 token 0x20, ACK 2.05.
        let mut s = Script::new();
        let (c, sv) = (ep(C, 40000), ep(S, 5683));
        let i = s.send(0, c, sv, &get(0x7d35, &[0x20], "temperature"));
        assert_eq!(i.role, Role::Request);
        assert!(i.findings.is_empty());
        let i =
            s.send(12, sv, c, &with_payload(msg(MsgType::Ack, Code::CONTENT, 0x7d35, &[0x20]), b"22.3 C"));
        assert_eq!(i.role, Role::Response);
        assert_eq!((i.acknowledges, i.request_frame), (Some(1), Some(1)));
        assert_eq!(i.response_time, Some(Nanos(12_000_000)));
        assert!(i.findings.is_empty(), "{:?}", i.findings);
        let sum = s.t.finish();
        assert_eq!((sum.exchanges, sum.unanswered_requests.len()), (1, 0));
    }

    #[test]
    fn separate_response() {
        // RFC 7252 Figure 20: CON GET 0x7d38 token 0x53; empty ACK; CON 2.05 0xad7b; empty ACK.
        let mut s = Script::new();
        let (c, sv) = (ep(C, 40000), ep(S, 5683));
        s.send(0, c, sv, &get(0x7d38, &[0x53], "temperature"));
        let i = s.send(5, sv, c, &msg(MsgType::Ack, Code::EMPTY, 0x7d38, &[]));
        assert_eq!((i.role, i.acknowledges, i.request_frame), (Role::EmptyAck, Some(1), None));
        let i =
            s.send(1000, sv, c, &with_payload(msg(MsgType::Con, Code::CONTENT, 0xad7b, &[0x53]), b"22.3 C"));
        assert_eq!((i.role, i.acknowledges, i.request_frame), (Role::Response, None, Some(1)));
        assert_eq!(i.response_time, Some(Nanos(1_000_000_000)));
        let i = s.send(1001, c, sv, &msg(MsgType::Ack, Code::EMPTY, 0xad7b, &[]));
        assert_eq!((i.role, i.acknowledges), (Role::EmptyAck, Some(3)));
        assert!(i.findings.is_empty());
        assert!(s.t.finish().unanswered_requests.is_empty());
    }

    #[test]
    fn retransmitted_con() {
        // RFC 7252 Figure 18: the first CON is lost, the retransmission is answered.
        let mut s = Script::new();
        let (c, sv) = (ep(C, 40000), ep(S, 5683));
        s.send(0, c, sv, &get(0x7d36, &[0x31], "temperature"));
        let i = s.send(2000, c, sv, &get(0x7d36, &[0x31], "temperature"));
        assert_eq!(i.retransmission_of, Some(1));
        assert_eq!(i.role, Role::Request);
        assert_eq!(kinds(&i), vec![FindingKind::CoapRetransmission]);
        assert_eq!(i.findings[0].severity, Severity::Info);
        assert_eq!(i.findings[0].span, Some(Span::frame(2..4)));
        assert_eq!(i.findings[0].related_frames, vec![1]);
        let i = s.send(2010, sv, c, &msg(MsgType::Ack, Code::CONTENT, 0x7d36, &[0x31]));
        // request_frame is the first transmission; the time is measured from it.
        assert_eq!((i.acknowledges, i.request_frame), (Some(1), Some(1)));
        assert_eq!(i.response_time, Some(Nanos(2_010_000_000)));
        let sum = s.t.finish();
        assert_eq!((sum.exchanges, sum.retransmissions), (1, 1));
    }

    #[test]
    fn lost_ack() {
        // RFC 7252 Figure 19: the ACK is lost after the capture point; both are repeated.
        let mut s = Script::new();
        let (c, sv) = (ep(C, 40000), ep(S, 5683));
        s.send(0, c, sv, &get(0x7d37, &[0x42], "temperature"));
        let ack = with_payload(msg(MsgType::Ack, Code::CONTENT, 0x7d37, &[0x42]), b"22.3 C");
        let i = s.send(10, sv, c, &ack);
        assert_eq!(i.request_frame, Some(1));
        let i = s.send(2000, c, sv, &get(0x7d37, &[0x42], "temperature"));
        assert_eq!(i.retransmission_of, Some(1));
        let i = s.send(2010, sv, c, &ack);
        assert_eq!(i.retransmission_of, Some(2));
        assert_eq!((i.acknowledges, i.request_frame, i.role), (Some(1), Some(1), Role::Response));
        assert_eq!(i.response_time, Some(Nanos(2_010_000_000)));
        assert_eq!(kinds(&i), vec![FindingKind::CoapRetransmission]);
        let sum = s.t.finish();
        assert_eq!((sum.exchanges, sum.retransmissions, sum.unmatched_responses), (1, 2, 0));
    }

    #[test]
    fn unexpected_separate_response_reset() {
        // RFC 7252 Figure 21: the client rejects the separate response with a RST.
        let mut s = Script::new();
        let (c, sv) = (ep(C, 40000), ep(S, 5683));
        s.send(0, c, sv, &get(0x7d39, &[0x64], "temperature"));
        s.send(5, sv, c, &msg(MsgType::Ack, Code::EMPTY, 0x7d39, &[]));
        s.send(900, sv, c, &msg(MsgType::Con, Code::CONTENT, 0xad7c, &[0x64]));
        let i = s.send(901, c, sv, &msg(MsgType::Rst, Code::EMPTY, 0xad7c, &[]));
        assert_eq!((i.role, i.acknowledges), (Role::Reset, Some(3)));
        assert!(i.findings.is_empty());
    }

    #[test]
    fn empty_tokens_on_one_port() {
        // libcoap-style: sequential requests with zero-length tokens from one port; each
        // response belongs to the most recent request.
        let mut s = Script::new();
        let (c, sv) = (ep(C, 51672), ep(S, 5683));
        s.send(0, c, sv, &get(100, &[], "a"));
        let i = s.send(1, sv, c, &msg(MsgType::Ack, Code::CONTENT, 100, &[]));
        assert_eq!(i.request_frame, Some(1));
        let i = s.send(10, c, sv, &get(101, &[], "b"));
        assert!(i.findings.is_empty(), "no token-reuse finding for empty tokens: {:?}", i.findings);
        let i = s.send(11, sv, c, &msg(MsgType::Ack, Code::EMPTY, 101, &[]));
        assert_eq!(i.acknowledges, Some(3));
        let i = s.send(500, sv, c, &msg(MsgType::Con, Code::CONTENT, 7000, &[]));
        assert_eq!(i.request_frame, Some(3));
        assert!(i.findings.is_empty());
        // Another port's empty-token request is a different exchange.
        let c2 = ep(C, 51673);
        s.send(600, c2, sv, &get(102, &[], "c"));
        let i = s.send(601, sv, c2, &msg(MsgType::Con, Code::CONTENT, 7001, &[]));
        assert_eq!(i.request_frame, Some(6));
        let i = s.send(602, sv, c, &msg(MsgType::Non, Code::CONTENT, 7002, &[]));
        assert_eq!(i.request_frame, Some(3));
        assert_eq!(kinds(&i), vec![FindingKind::CoapDuplicate]); // already answered by frame 5
        let sum = s.t.finish();
        assert_eq!((sum.exchanges, sum.unanswered_requests.len()), (3, 0));
    }

    #[test]
    fn observe_registration_notifications_and_end() {
        let mut s = Script::new();
        let (c, sv) = (ep(C, 41602), ep(S, 5683));
        let reg = with_opt(get(1, &[0xaa], "door"), num::OBSERVE, &[]);
        let i = s.send(0, c, sv, &reg);
        assert_eq!(i.observe, Some(ObserveInfo::Register));
        let i = s.send(2, sv, c, &with_opt(msg(MsgType::Ack, Code::CONTENT, 1, &[0xaa]), num::OBSERVE, &[5]));
        assert_eq!(
            i.observe,
            Some(ObserveInfo::Notification { registration_frame: 1, sequence: 5, index: 1 })
        );
        // Notifications every 200 s: beyond EXCHANGE_LIFETIME from the registration, still linked.
        for (k, seq) in [(1u16, 6u8), (2, 7), (3, 8)] {
            let ms = 200_000 * i64::from(k);
            let n = with_opt(msg(MsgType::Non, Code::CONTENT, 500 + k, &[0xaa]), num::OBSERVE, &[seq]);
            let i = s.send(ms, sv, c, &n);
            assert_eq!(
                i.observe,
                Some(ObserveInfo::Notification {
                    registration_frame: 1,
                    sequence: u32::from(seq),
                    index: u32::from(k) + 1
                })
            );
            assert_eq!(i.request_frame, Some(1));
            assert!(i.findings.is_empty(), "{:?}", i.findings);
        }
        let i = s.send(700_000, sv, c, &msg(MsgType::Non, Code(0x84), 600, &[0xaa]));
        assert_eq!(i.observe, Some(ObserveInfo::Ends { registration_frame: 1 }));
        let sum = s.t.finish();
        assert_eq!((sum.observations, sum.notifications), (1, 4));
        assert!(sum.unanswered_requests.is_empty());
    }

    #[test]
    fn observe_reset_and_deregister() {
        let mut s = Script::new();
        let (c, sv) = (ep(C, 41602), ep(S, 5683));
        s.send(0, c, sv, &with_opt(get(1, &[0xbb], "x"), num::OBSERVE, &[]));
        s.send(1, sv, c, &with_opt(msg(MsgType::Ack, Code::CONTENT, 1, &[0xbb]), num::OBSERVE, &[1]));
        s.send(100, sv, c, &with_opt(msg(MsgType::Con, Code::CONTENT, 9, &[0xbb]), num::OBSERVE, &[2]));
        let i = s.send(101, c, sv, &msg(MsgType::Rst, Code::EMPTY, 9, &[]));
        assert_eq!(
            (i.acknowledges, i.observe.clone()),
            (Some(3), Some(ObserveInfo::Ends { registration_frame: 1 }))
        );
        // A second observation on another token, ended by a deregistration (Observe=1).
        s.send(200, c, sv, &with_opt(get(2, &[0xcc], "x"), num::OBSERVE, &[]));
        s.send(201, sv, c, &with_opt(msg(MsgType::Ack, Code::CONTENT, 2, &[0xcc]), num::OBSERVE, &[3]));
        let i = s.send(300, c, sv, &with_opt(get(3, &[0xcc], "x"), num::OBSERVE, &[1]));
        assert_eq!(i.observe, Some(ObserveInfo::Deregister));
        assert!(i.findings.is_empty(), "{:?}", i.findings);
        let i = s.send(301, sv, c, &msg(MsgType::Ack, Code::CONTENT, 3, &[0xcc]));
        assert_eq!((i.request_frame, i.observe.clone()), (Some(7), None));
    }

    fn block_resp(mid: u16, token: &[u8], b: BlockValue, payload: &[u8]) -> MessageRepr {
        let r = with_opt(msg(MsgType::Ack, Code::CONTENT, mid, token), num::ETAG, &[0x01]);
        let r = with_opt(r, num::BLOCK2, &b.encode());
        let r = with_opt(r, num::SIZE2, &[40]);
        with_payload(r, payload)
    }

    #[test]
    fn block2_three_blocks() {
        // RFC 7959 §3.1 style: 16-byte blocks (SZX 0), 40-byte body: 16 + 16 + 8.
        let mut s = Script::new();
        let (c, sv) = (ep(C, 40000), ep(S, 5683));
        let body: Vec<u8> = (0..40).collect();
        s.send(0, c, sv, &get(1, &[1], "big"));
        let i =
            s.send(1, sv, c, &block_resp(1, &[1], BlockValue { num: 0, more: true, szx: 0 }, &body[..16]));
        let b = i.block.unwrap();
        assert_eq!(
            (b.kind, b.num, b.more, b.size, b.transfer_first_frame),
            (BlockKind::Block2, 0, true, 16, 2)
        );
        let req1 =
            with_opt(get(2, &[2], "big"), num::BLOCK2, &BlockValue { num: 1, more: false, szx: 0 }.encode());
        let i = s.send(2, c, sv, &req1);
        assert_eq!(i.block.map(|b| (b.num, b.transfer_first_frame)), Some((1, 2)));
        let i =
            s.send(3, sv, c, &block_resp(2, &[2], BlockValue { num: 1, more: true, szx: 0 }, &body[16..32]));
        assert!(i.block.as_ref().unwrap().completed.is_none());
        let req2 =
            with_opt(get(3, &[3], "big"), num::BLOCK2, &BlockValue { num: 2, more: false, szx: 0 }.encode());
        s.send(4, c, sv, &req2);
        let i =
            s.send(5, sv, c, &block_resp(3, &[3], BlockValue { num: 2, more: false, szx: 0 }, &body[32..]));
        assert!(i.findings.is_empty(), "{:?}", i.findings);
        let done = i.block.unwrap().completed.unwrap();
        assert_eq!(
            done,
            CompletedTransfer { frames: vec![2, 4, 6], total_len: 40, body: Some(body), gaps: 0 }
        );
        let sum = s.t.finish();
        assert_eq!((sum.block_transfers_completed, sum.block_transfers_incomplete), (1, 0));
    }

    /// The first request of a Block2 transfer left out, its response given a hint instead:
    /// the transfer is followed as when the request is shown, even though an older request
    /// with the same token (another resource, still unanswered) is in the table.
    #[test]
    fn a_hint_stands_in_for_a_request_not_shown() {
        let (c, sv) = (ep(C, 40000), ep(S, 5683));
        let body: Vec<u8> = (0..40).collect();
        let run = |hinted: bool| {
            let mut s = Script::new();
            let other = with_opt(
                get(1, &[1], "other"),
                num::BLOCK2,
                &BlockValue { num: 0, more: false, szx: 0 }.encode(),
            );
            s.send(0, c, sv, &other);
            let plain = get(2, &[1], "big");
            let m = Message::parse(&plain.emit());
            let meta = MsgMeta { frame: 2, ts: Timestamp::from_nanos(1_000_000), src: c, dst: sv };
            assert!(!ExchangeTracker::needs_request(&meta, &m));
            assert!(ExchangeTracker::needs_request(&meta, &Message::parse(&other.emit())));
            let hint = hinted.then(|| RequestHint { frame: 2, ts: meta.ts, resource: s.t.resource_of(&m) });
            if hinted {
                s.frame += 1;
            } else {
                s.send(1, c, sv, &plain);
            }
            let first = block_resp(2, &[1], BlockValue { num: 0, more: true, szx: 0 }, &body[..16]);
            s.frame += 1;
            let meta = MsgMeta { frame: s.frame, ts: Timestamp::from_nanos(2_000_000), src: sv, dst: c };
            let mut infos = vec![s.t.observe_hinted(&meta, &Message::parse(&first.emit()), hint)];
            for (n, range) in [(1u32, 16..32), (2, 32..40)] {
                let mid = 2 + n as u16;
                let token = [1 + n as u8];
                let more = n < 2;
                let req = with_opt(
                    get(mid, &token, "big"),
                    num::BLOCK2,
                    &BlockValue { num: n, more: false, szx: 0 }.encode(),
                );
                s.send(2 + 2 * i64::from(n), c, sv, &req);
                let resp = block_resp(mid, &token, BlockValue { num: n, more, szx: 0 }, &body[range]);
                infos.push(s.send(3 + 2 * i64::from(n), sv, c, &resp));
            }
            infos
        };
        let (shown, hinted) = (run(false), run(true));
        assert_eq!(hinted[0].request_frame, Some(2));
        assert_eq!(hinted[0].response_time, Some(Nanos(1_000_000)));
        assert!(hinted[0].findings.is_empty(), "{:?}", hinted[0].findings);
        for (a, b) in shown.iter().zip(&hinted) {
            assert_eq!((&a.block, a.request_frame), (&b.block, b.request_frame));
        }
        let done = hinted[2].block.as_ref().unwrap().completed.clone().unwrap();
        assert_eq!(
            done,
            CompletedTransfer { frames: vec![3, 5, 7], total_len: 40, body: Some(body), gaps: 0 }
        );
    }

    #[test]
    fn block2_gap_and_size_mismatch() {
        let mut s = Script::new();
        let (c, sv) = (ep(C, 40000), ep(S, 5683));
        s.send(0, c, sv, &get(1, &[1], "big"));
        s.send(1, sv, c, &block_resp(1, &[1], BlockValue { num: 0, more: true, szx: 0 }, &[0; 16]));
        s.send(2, c, sv, &get(3, &[3], "big"));
        // Block 1 never seen; block 2 (last) carries 4 bytes: 36 bytes total vs Size2 40.
        let i = s.send(3, sv, c, &block_resp(3, &[3], BlockValue { num: 2, more: false, szx: 0 }, &[0; 4]));
        assert_eq!(kinds(&i), vec![FindingKind::CoapBlockGap, FindingKind::CoapBlockGap]);
        assert_eq!(i.findings[0].severity, Severity::Medium);
        let done = i.block.unwrap().completed.unwrap();
        assert_eq!((done.total_len, done.gaps, done.body), (36, 1, None));
        let sum = s.t.finish();
        assert_eq!((sum.block_transfers_completed, sum.block_transfers_incomplete), (0, 1));
    }

    #[test]
    fn block1_upload_with_continue() {
        let mut s = Script::new();
        let (c, sv) = (ep(C, 40000), ep(S, 5683));
        let body: Vec<u8> = (100..137).collect(); // 37 bytes: 16 + 16 + 5
        let put = |mid: u16, b: BlockValue, p: &[u8]| MessageRepr {
            mtype: Some(MsgType::Con),
            code: Code::PUT.0,
            mid,
            token: vec![mid as u8],
            options: vec![
                (num::URI_PATH, b"fw".to_vec()),
                (num::BLOCK1, b.encode()),
                (num::SIZE1, vec![37]),
                (num::REQUEST_TAG, vec![0x77]),
            ],
            payload: p.to_vec(),
        };
        let cont = |mid: u16, b: BlockValue, code: Code| {
            with_opt(msg(MsgType::Ack, code, mid, &[mid as u8]), num::BLOCK1, &b.encode())
        };
        let b0 = BlockValue { num: 0, more: true, szx: 0 };
        let b1 = BlockValue { num: 1, more: true, szx: 0 };
        let b2 = BlockValue { num: 2, more: false, szx: 0 };
        let i = s.send(0, c, sv, &put(10, b0, &body[..16]));
        assert_eq!(i.block.as_ref().map(|b| (b.kind, b.transfer_first_frame)), Some((BlockKind::Block1, 1)));
        let i = s.send(1, sv, c, &cont(10, b0, Code::CONTINUE));
        assert_eq!(i.request_frame, Some(1));
        assert_eq!(i.block.map(|b| (b.kind, b.num, b.transfer_first_frame)), Some((BlockKind::Block1, 0, 1)));
        s.send(2, c, sv, &put(11, b1, &body[16..32]));
        s.send(3, sv, c, &cont(11, b1, Code::CONTINUE));
        let i = s.send(4, c, sv, &put(12, b2, &body[32..]));
        assert!(i.findings.is_empty(), "{:?}", i.findings);
        let done = i.block.unwrap().completed.unwrap();
        assert_eq!(
            done,
            CompletedTransfer { frames: vec![1, 3, 5], total_len: 37, body: Some(body), gaps: 0 }
        );
        let i = s.send(5, sv, c, &cont(12, b2, Code::CHANGED));
        assert_eq!(
            (i.request_frame, i.block.map(|b| (b.num, b.transfer_first_frame))),
            (Some(5), Some((2, 1)))
        );
        // Two concurrent uploads to the same resource, told apart by Request-Tag (RFC 9175 §3).
        let untagged = |mid: u16, b: BlockValue| {
            let mut r = put(mid, b, &[0; 16]);
            r.options.retain(|(n, _)| *n != num::REQUEST_TAG);
            r
        };
        let i = s.send(6, c, sv, &put(20, b0, &[0; 16]));
        assert_eq!(i.block.map(|b| b.transfer_first_frame), Some(7));
        let i = s.send(7, c, sv, &untagged(21, b0));
        assert_eq!(i.block.map(|b| b.transfer_first_frame), Some(8));
        let i = s.send(8, c, sv, &put(22, b1, &[0; 16]));
        assert_eq!(i.block.map(|b| b.transfer_first_frame), Some(7));
        assert!(i.findings.is_empty());
        let i = s.send(9, c, sv, &untagged(23, b1));
        assert_eq!(i.block.map(|b| b.transfer_first_frame), Some(8));
        assert!(i.findings.is_empty());
        // A block 2 with nothing before it starts a transfer with a gap (Info).
        let mut late = put(24, BlockValue { num: 2, more: true, szx: 0 }, &[0; 16]);
        late.options.retain(|(n, _)| *n != num::REQUEST_TAG);
        late.options.push((num::REQUEST_TAG, vec![0x99]));
        let i = s.send(10, c, sv, &late);
        assert_eq!(kinds(&i), vec![FindingKind::CoapBlockGap]);
        assert_eq!(i.findings[0].severity, Severity::Info);
    }

    #[test]
    fn unmatched_and_reuse_findings() {
        let mut s = Script::new();
        let (c, sv) = (ep(C, 40000), ep(S, 5683));
        let i = s.send(0, sv, c, &msg(MsgType::Ack, Code::EMPTY, 77, &[]));
        assert_eq!(kinds(&i), vec![FindingKind::CoapUnmatchedAck]);
        assert_eq!(i.findings[0].severity, Severity::Low);
        let i = s.send(1, sv, c, &msg(MsgType::Non, Code::CONTENT, 78, &[9]));
        assert_eq!(kinds(&i), vec![FindingKind::CoapUnmatchedResponse]);
        assert_eq!(
            (i.findings[0].severity, i.findings[0].span.clone()),
            (Severity::Info, Some(Span::frame(4..5)))
        );
        // Same MID, different bytes.
        s.send(2, c, sv, &get(5, &[1], "a"));
        let i = s.send(3, c, sv, &get(5, &[2], "b"));
        assert_eq!(i.mid_reused_from, Some(3));
        assert_eq!(kinds(&i), vec![FindingKind::CoapDuplicate]);
        // Token reused while the request is unanswered.
        let i = s.send(4, c, sv, &get(6, &[2], "c"));
        assert_eq!(kinds(&i), vec![FindingKind::CoapTokenReuse]);
        assert_eq!(i.findings[0].related_frames, vec![4]);
        let sum = s.t.finish();
        // Frame 4 was replaced by frame 5 (same token) unanswered; 3 and 5 were never answered.
        assert_eq!(sum.unanswered_requests, vec![3, 4, 5]);
        assert_eq!(sum.unmatched_responses, 1);
    }

    #[test]
    fn ping_and_multicast() {
        let mut s = Script::new();
        let (c, sv) = (ep(C, 40000), ep(S, 5683));
        let i = s.send(0, c, sv, &msg(MsgType::Con, Code::EMPTY, 1, &[]));
        assert_eq!(i.role, Role::Ping);
        let i = s.send(1, sv, c, &msg(MsgType::Rst, Code::EMPTY, 1, &[]));
        assert_eq!((i.role, i.acknowledges), (Role::Reset, Some(1)));
        // RFC 7252 Figure 23: NON GET to ff02::1 token 0x86; unicast answers from A and C.
        let group = Endpoint { addr: "ff02::1".parse().unwrap(), port: 5683 };
        let c6 = Endpoint { addr: "2001:db8::1".parse().unwrap(), port: 40000 };
        let a = Endpoint { addr: "2001:db8::a".parse().unwrap(), port: 5683 };
        let cc = Endpoint { addr: "2001:db8::c".parse().unwrap(), port: 5683 };
        let mut req = get(0x7d41, &[0x86], "temperature");
        req.mtype = Some(MsgType::Non);
        s.send(10, c6, group, &req);
        let i = s.send(11, a, c6, &msg(MsgType::Non, Code::CONTENT, 0x60b1, &[0x86]));
        assert_eq!((i.request_frame, i.findings.len()), (Some(3), 0));
        let i = s.send(12, cc, c6, &msg(MsgType::Non, Code::NOT_FOUND, 0x952a, &[0x86]));
        assert_eq!((i.request_frame, i.findings.len()), (Some(3), 0));
        assert!(s.t.finish().unanswered_requests.is_empty());
    }

    #[test]
    fn expiry_and_eviction_bound_state() {
        // Expiry: an unanswered request leaves after EXCHANGE_LIFETIME; its late response is
        // unmatched.
        let mut s = Script::new();
        let (c, sv) = (ep(C, 40000), ep(S, 5683));
        s.send(0, c, sv, &get(1, &[1], "a"));
        let i = s.send(248_000, sv, c, &msg(MsgType::Non, Code::CONTENT, 9, &[1]));
        assert_eq!(kinds(&i), vec![FindingKind::CoapUnmatchedResponse]);
        // The MID entry expired too: the same bytes again are not a retransmission.
        let i = s.send(248_001, c, sv, &get(1, &[1], "a"));
        assert_eq!(i.retransmission_of, None);
        let sum = s.t.finish();
        assert_eq!(sum.unanswered_requests, vec![1, 3]);

        // Eviction: at most max_live entries per table, whatever the number of messages.
        let mut s = Script::with(ExchangeConfig { max_live: 8, ..Default::default() });
        for k in 0..1000u16 {
            s.send(i64::from(k), c, sv, &get(k, &k.to_be_bytes(), "a"));
            let (m, r, t) = s.t.live();
            assert!(m <= 8 && r <= 8 && t <= 8);
        }
        let sum = s.t.finish();
        assert_eq!(sum.unanswered_total, 1000);
        assert_eq!(sum.unanswered_requests.len(), 8);
        assert!(sum.evicted >= 992 * 2);
        assert_eq!(s.t.live(), (0, 0, 0));

        // Bodies: a transfer over max_body_len is counted but not kept.
        let mut s = Script::with(ExchangeConfig { max_body_len: 20, ..Default::default() });
        s.send(0, c, sv, &get(1, &[1], "big"));
        s.send(1, sv, c, &block_resp(1, &[1], BlockValue { num: 0, more: true, szx: 0 }, &[0; 16]));
        s.send(2, c, sv, &get(2, &[2], "big"));
        let i = s.send(3, sv, c, &block_resp(2, &[2], BlockValue { num: 1, more: false, szx: 0 }, &[0; 16]));
        let done = i.block.unwrap().completed.unwrap();
        assert_eq!((done.total_len, done.body, done.gaps), (32, None, 0));
    }

    #[test]
    fn plaintext_gets_role_only() {
        let mut t = ExchangeTracker::default();
        let m = Message::parse_plaintext(&[0x01, 0xb3, b't', b'v', b'1']);
        let meta = MsgMeta { frame: 1, ts: Timestamp::ZERO, src: ep(C, 1), dst: ep(S, 2) };
        let i = t.observe(&meta, &m);
        assert_eq!(i, ExchangeInfo { role: Role::Request, ..Default::default() });
        assert_eq!(t.live(), (0, 0, 0));
    }
}
