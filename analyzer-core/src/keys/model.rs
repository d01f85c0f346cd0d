//! The in-memory model of OSCORE keys: [`KeyContext`] (one security context's inputs, with
//! where it came from) and [`KeySet`] (all contexts loaded for an analysis).

use super::error::{KeysError, KeysErrorKind, KeysWarning, Location};
use crate::oscore::{AeadAlg, ContextParams, HkdfAlg, Secret};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The file formats the keys layer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeysFormat {
    /// kudoscope's own TOML format (docs/keys-format.md).
    Toml,
    /// Wireshark's `oscore_contexts` UAT file.
    WiresharkUat,
    /// An aiocoap security-context directory (`settings.json` + `secret.json`).
    Aiocoap,
    /// A libcoap `coap-oscore-conf(5)` file.
    Libcoap,
}

impl KeysFormat {
    pub const fn as_str(self) -> &'static str {
        match self {
            KeysFormat::Toml => "toml",
            KeysFormat::WiresharkUat => "wireshark-uat",
            KeysFormat::Aiocoap => "aiocoap",
            KeysFormat::Libcoap => "libcoap",
        }
    }
}

impl fmt::Display for KeysFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a context was read from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContextSource {
    /// The file (or, for aiocoap, the directory) as the user named it.
    pub path: PathBuf,
    /// The line where the context starts (TOML `[[context]]` header, UAT record, libcoap
    /// `recipient_id` line); `None` for aiocoap directories.
    pub line: Option<u32>,
    pub format: KeysFormat,
    /// 1-based position of the context within its source.
    pub index: usize,
}

impl fmt::Display for ContextSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        write!(f, " ({})", self.format)
    }
}

/// How the two peers of a context are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Orientation {
    /// Peer A is the client (its Sender ID is the `kid` of requests), peer B the server.
    ClientServer,
    /// The keys were written from one endpoint's view: peer A is that ("local") endpoint,
    /// peer B the other one. Which of them is the client is not known (aiocoap, libcoap).
    LocalPeer,
}

impl Orientation {
    pub const fn as_str(self) -> &'static str {
        match self {
            Orientation::ClientServer => "client/server",
            Orientation::LocalPeer => "local/peer",
        }
    }
}

/// One of the two peers of a context. What A and B mean depends on the [`Orientation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeerSlot {
    /// The client (client/server) or the local endpoint (local/peer).
    A,
    /// The server (client/server) or the other endpoint (local/peer).
    B,
}

impl PeerSlot {
    pub const fn other(self) -> PeerSlot {
        match self {
            PeerSlot::A => PeerSlot::B,
            PeerSlot::B => PeerSlot::A,
        }
    }
}

/// The CoAP role of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EndpointRole {
    Client,
    Server,
}

/// A hint where a peer lives on the network: an IP address, optionally with a UDP port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EndpointHint {
    pub ip: IpAddr,
    pub port: Option<u16>,
}

impl EndpointHint {
    /// Whether a transport address matches this hint (same IP, and same port if one is given).
    pub fn matches(&self, addr: &SocketAddr) -> bool {
        addr.ip() == self.ip && self.port.is_none_or(|p| p == addr.port())
    }
}

impl FromStr for EndpointHint {
    type Err = String;
    /// Accepts `192.0.2.1`, `192.0.2.1:5683`, `2001:db8::1`, `[2001:db8::1]` and
    /// `[2001:db8::1]:5683`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if let Ok(ip) = t.parse::<IpAddr>() {
            return Ok(EndpointHint { ip, port: None });
        }
        if let Ok(sa) = t.parse::<SocketAddr>() {
            return Ok(EndpointHint { ip: sa.ip(), port: Some(sa.port()) });
        }
        if let Some(inner) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']'))
            && let Ok(ip) = inner.parse::<std::net::Ipv6Addr>()
        {
            return Ok(EndpointHint { ip: IpAddr::V6(ip), port: None });
        }
        Err(super::error::safe_echo(s))
    }
}

impl fmt::Display for EndpointHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.ip, self.port) {
            (ip, None) => write!(f, "{ip}"),
            (IpAddr::V4(ip), Some(p)) => write!(f, "{ip}:{p}"),
            (IpAddr::V6(ip), Some(p)) => write!(f, "[{ip}]:{p}"),
        }
    }
}

/// One peer of a context: its Sender ID and where it may be found.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Peer {
    /// The peer's Sender ID (the other peer's Recipient ID). May be empty (RFC 8613 §3.1).
    pub sender_id: Vec<u8>,
    pub endpoints: Vec<EndpointHint>,
}

impl Peer {
    pub fn new(sender_id: Vec<u8>) -> Self {
        Peer { sender_id, endpoints: Vec::new() }
    }
}

/// Per-context key-usage limits (draft-ietf-core-oscore-key-limits). `None` = use the
/// analyzer's defaults for the AEAD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct KeyLimits {
    /// Maximum number of encryptions with one key.
    pub q: Option<u64>,
    /// Maximum number of failed decryptions (forgery attempts) with one key.
    pub v: Option<u64>,
    /// Maximum message length in cipher blocks (16 B for AES, 64 B for ChaCha20).
    pub l: Option<u64>,
}

impl KeyLimits {
    pub fn is_empty(&self) -> bool {
        self.q.is_none() && self.v.is_none() && self.l.is_none()
    }
}

/// What a context is used for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum ContextRole {
    /// A context the peers start with (the default).
    #[default]
    Initial,
    /// A KUDOS bootstrap context (CTX_BOOTSTRAP, draft-ietf-core-oscore-key-update, no-FS
    /// mode), input of updateCtx when a KUDOS message has p=1. It belongs to the initial
    /// context named `initial`.
    KudosBootstrap { initial: String },
}

/// Whether a context's name was written in the file or made up by the loader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameOrigin {
    /// `name = "..."` in a TOML file.
    File,
    /// `<path>#<index>`, e.g. `keys.toml#2`.
    Derived,
}

/// The inputs of one OSCORE security context (RFC 8613 §3.2) for both peers, with its
/// provenance. `Debug` and `Display` never show the master secret (see [`Secret`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyContext {
    pub name: String,
    pub name_origin: NameOrigin,
    pub source: ContextSource,
    pub master_secret: Secret,
    /// Empty when absent (RFC 8613 §3.1: the default Master Salt is the empty string).
    pub master_salt: Vec<u8>,
    /// `None` = absent (no ID Context); `Some(vec![])` = present and empty. They derive
    /// different keys.
    pub id_context: Option<Vec<u8>>,
    pub aead: AeadAlg,
    pub hkdf: HkdfAlg,
    pub orientation: Orientation,
    /// The client (client/server) or the local endpoint (local/peer).
    pub peer_a: Peer,
    /// The server (client/server) or the other endpoint (local/peer).
    pub peer_b: Peer,
    pub limits: KeyLimits,
    pub role: ContextRole,
}

/// A field of a [`KeyContext`], for validation messages that a loader turns into its own
/// field names and locations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldRef {
    Name,
    MasterSecret,
    SenderId(PeerSlot),
    Limit(char),
    Role,
}

/// Longest accepted context name, in characters.
pub const MAX_NAME_CHARS: usize = 128;

/// Checks a context name: 1 to [`MAX_NAME_CHARS`] characters, no control characters, no
/// leading or trailing white space.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("empty".into());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!("longer than {MAX_NAME_CHARS} characters"));
    }
    if name.chars().any(char::is_control) {
        return Err("contains a control character".into());
    }
    if name.trim() != name {
        return Err("starts or ends with white space".into());
    }
    Ok(())
}

/// The name a loader gives the `index`-th (1-based) context of `path`: `<path>#<index>`.
pub fn derived_name(path: &Path, index: usize) -> String {
    let p = path.display().to_string();
    let trimmed = p.trim_end_matches(['/', '\\']);
    let base = if trimmed.is_empty() { p.as_str() } else { trimmed };
    format!("{base}#{index}")
}

impl KeyContext {
    /// A client/server context with defaults (AES-CCM-16-64-128, HKDF-SHA-256, no salt, no ID
    /// Context, initial role); the name is derived from `source`.
    pub fn new_client_server(
        source: ContextSource,
        master_secret: Secret,
        client_sender_id: Vec<u8>,
        server_sender_id: Vec<u8>,
    ) -> Self {
        KeyContext {
            name: derived_name(&source.path, source.index),
            name_origin: NameOrigin::Derived,
            source,
            master_secret,
            master_salt: Vec::new(),
            id_context: None,
            aead: AeadAlg::AesCcm16_64_128,
            hkdf: HkdfAlg::Sha256,
            orientation: Orientation::ClientServer,
            peer_a: Peer::new(client_sender_id),
            peer_b: Peer::new(server_sender_id),
            limits: KeyLimits::default(),
            role: ContextRole::Initial,
        }
    }

    pub fn peer(&self, slot: PeerSlot) -> &Peer {
        match slot {
            PeerSlot::A => &self.peer_a,
            PeerSlot::B => &self.peer_b,
        }
    }

    /// "client"/"server" or "local"/"peer", as the orientation says.
    pub fn slot_label(&self, slot: PeerSlot) -> &'static str {
        match (self.orientation, slot) {
            (Orientation::ClientServer, PeerSlot::A) => "client",
            (Orientation::ClientServer, PeerSlot::B) => "server",
            (Orientation::LocalPeer, PeerSlot::A) => "local",
            (Orientation::LocalPeer, PeerSlot::B) => "peer",
        }
    }

    /// The slot that holds the endpoint with `role`, when the orientation is known.
    pub fn slot_of(&self, role: EndpointRole) -> Option<PeerSlot> {
        match (self.orientation, role) {
            (Orientation::ClientServer, EndpointRole::Client) => Some(PeerSlot::A),
            (Orientation::ClientServer, EndpointRole::Server) => Some(PeerSlot::B),
            (Orientation::LocalPeer, _) => None,
        }
    }

    pub fn client(&self) -> Option<&Peer> {
        self.slot_of(EndpointRole::Client).map(|s| self.peer(s))
    }

    pub fn server(&self) -> Option<&Peer> {
        self.slot_of(EndpointRole::Server).map(|s| self.peer(s))
    }

    /// The context's inputs from the view of the peer in `slot`: Sender ID = that peer's,
    /// Recipient ID = the other one's.
    pub fn params(&self, slot: PeerSlot) -> ContextParams {
        ContextParams {
            master_secret: self.master_secret.clone(),
            master_salt: self.master_salt.clone(),
            id_context: self.id_context.clone(),
            sender_id: self.peer(slot).sender_id.clone(),
            recipient_id: self.peer(slot.other()).sender_id.clone(),
            aead: self.aead,
            hkdf: self.hkdf,
        }
    }

    /// The client's view (its Sender ID = `kid` of requests), when the orientation is known.
    pub fn client_params(&self) -> Option<ContextParams> {
        self.slot_of(EndpointRole::Client).map(|s| self.params(s))
    }

    /// The server's view, when the orientation is known.
    pub fn server_params(&self) -> Option<ContextParams> {
        self.slot_of(EndpointRole::Server).map(|s| self.params(s))
    }

    /// Fixes the orientation of a local/peer context by saying what the local endpoint was.
    /// A client/server context is returned unchanged.
    pub fn orient(mut self, local_is: EndpointRole) -> KeyContext {
        if self.orientation == Orientation::LocalPeer {
            if local_is == EndpointRole::Server {
                std::mem::swap(&mut self.peer_a, &mut self.peer_b);
            }
            self.orientation = Orientation::ClientServer;
        }
        self
    }

    /// Whether `other` holds the same security context: same master secret, salt, ID Context,
    /// algorithms and the same pair of Sender IDs (in either order, since a local/peer context
    /// may have been written by either endpoint). Names, sources, hints, limits and roles are
    /// not compared.
    pub fn same_context(&self, other: &KeyContext) -> bool {
        let ids = (&self.peer_a.sender_id, &self.peer_b.sender_id);
        let same_ids = ids == (&other.peer_a.sender_id, &other.peer_b.sender_id)
            || ids == (&other.peer_b.sender_id, &other.peer_a.sender_id);
        self.master_secret == other.master_secret
            && self.master_salt == other.master_salt
            && self.id_context == other.id_context
            && self.aead == other.aead
            && self.hkdf == other.hkdf
            && same_ids
    }

    /// Checks the invariants every loader must uphold. Returns warnings (non-fatal findings)
    /// or the first violated rule.
    pub(crate) fn check(&self) -> Result<Vec<(FieldRef, String)>, (FieldRef, KeysErrorKind)> {
        check_name(&self.name).map_err(|e| (FieldRef::Name, KeysErrorKind::BadName(e)))?;
        if self.master_secret.is_empty() {
            return Err((FieldRef::MasterSecret, KeysErrorKind::Empty));
        }
        let max = self.aead.max_id_len();
        for slot in [PeerSlot::A, PeerSlot::B] {
            let len = self.peer(slot).sender_id.len();
            if len > max {
                return Err((
                    FieldRef::SenderId(slot),
                    KeysErrorKind::IdTooLong { len, max, aead: self.aead },
                ));
            }
        }
        for (c, v) in [('q', self.limits.q), ('v', self.limits.v), ('l', self.limits.l)] {
            if v == Some(0) {
                return Err((FieldRef::Limit(c), KeysErrorKind::NotPositive));
            }
        }
        if let ContextRole::KudosBootstrap { initial } = &self.role
            && initial == &self.name
        {
            return Err((
                FieldRef::Role,
                KeysErrorKind::Bootstrap("a bootstrap context cannot belong to itself".into()),
            ));
        }
        let mut warnings = Vec::new();
        if self.peer_a.sender_id == self.peer_b.sender_id {
            warnings.push((
                FieldRef::SenderId(PeerSlot::B),
                "both peers have the same Sender ID: both directions use the same key and nonces \
                 (RFC 8613 §3.3 requires distinct IDs)"
                    .to_string(),
            ));
        }
        Ok(warnings)
    }
}

impl fmt::Display for KeyContext {
    /// One line, secrets redacted: `name: client 6e / server e9, AES-CCM-16-64-128,
    /// HKDF-SHA-256, secret <16 B, fp ...>, salt 8 B, no ID Context`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} {} / {} {}, {}, {}, secret {}, salt {} B, ",
            self.name,
            self.slot_label(PeerSlot::A),
            crate::hex::encode(&self.peer_a.sender_id),
            self.slot_label(PeerSlot::B),
            crate::hex::encode(&self.peer_b.sender_id),
            self.aead,
            self.hkdf,
            self.master_secret,
            self.master_salt.len(),
        )?;
        match &self.id_context {
            None => write!(f, "no ID Context")?,
            Some(c) => write!(f, "ID Context {}", crate::hex::encode(c))?,
        }
        if let ContextRole::KudosBootstrap { initial } = &self.role {
            write!(f, ", KUDOS bootstrap for {initial}")?;
        }
        Ok(())
    }
}

/// What a loader read from one source: its contexts (in file order) and warnings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadedKeys {
    pub contexts: Vec<KeyContext>,
    pub warnings: Vec<KeysWarning>,
}

/// All contexts of an analysis, from one or more sources, with unique names and resolved
/// KUDOS bootstrap links.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySet {
    contexts: Vec<KeyContext>,
    warnings: Vec<KeysWarning>,
}

impl KeySet {
    pub fn new() -> Self {
        KeySet::default()
    }

    /// Loads every path with [`super::detect_and_load`] in order, then checks the bootstrap
    /// links ([`KeySet::check_links`]).
    pub fn load<P: AsRef<Path>>(paths: &[P]) -> Result<KeySet, KeysError> {
        let mut set = KeySet::new();
        for p in paths {
            set.extend(super::detect::detect_and_load(p.as_ref())?)?;
        }
        set.check_links()?;
        Ok(set)
    }

    /// Adds one context; a name already in the set is an error located at the new context.
    pub fn insert(&mut self, ctx: KeyContext) -> Result<(), KeysError> {
        if let Some(first) = self.get(&ctx.name) {
            let field = if ctx.name_origin == NameOrigin::File { Some("name".to_string()) } else { None };
            return Err(KeysError {
                path: ctx.source.path.clone(),
                location: ctx.source.line.map(Location::line),
                field,
                kind: KeysErrorKind::DuplicateName {
                    name: ctx.name.clone(),
                    first: source_position(&first.source),
                },
            });
        }
        self.contexts.push(ctx);
        Ok(())
    }

    /// Adds everything one loader read.
    pub fn extend(&mut self, loaded: LoadedKeys) -> Result<(), KeysError> {
        for c in loaded.contexts {
            self.insert(c)?;
        }
        self.warnings.extend(loaded.warnings);
        Ok(())
    }

    /// Checks that every KUDOS bootstrap context names an initial context of the set, and that
    /// no initial context has two bootstrap contexts.
    pub fn check_links(&self) -> Result<(), KeysError> {
        for (i, c) in self.contexts.iter().enumerate() {
            let ContextRole::KudosBootstrap { initial } = &c.role else { continue };
            let err = |msg: String| KeysError {
                path: c.source.path.clone(),
                location: c.source.line.map(Location::line),
                field: Some("bootstrap_for".into()),
                kind: KeysErrorKind::Bootstrap(msg),
            };
            match self.get(initial) {
                None => return Err(err(format!("no context named {initial:?}"))),
                Some(t) if t.role != ContextRole::Initial => {
                    return Err(err(format!("{initial:?} is itself a KUDOS bootstrap context")));
                }
                Some(_) => {}
            }
            let earlier = self.contexts.get(..i).unwrap_or_default().iter().find(|o| o.role == c.role);
            if let Some(o) = earlier {
                return Err(err(format!(
                    "{initial:?} already has a KUDOS bootstrap context ({})",
                    source_position(&o.source)
                )));
            }
        }
        Ok(())
    }

    pub fn contexts(&self) -> &[KeyContext] {
        &self.contexts
    }

    pub fn iter(&self) -> std::slice::Iter<'_, KeyContext> {
        self.contexts.iter()
    }

    pub fn len(&self) -> usize {
        self.contexts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.contexts.is_empty()
    }

    pub fn get(&self, name: &str) -> Option<&KeyContext> {
        self.contexts.iter().find(|c| c.name == name)
    }

    /// The initial contexts (role [`ContextRole::Initial`]), in load order.
    pub fn initial_contexts(&self) -> impl Iterator<Item = &KeyContext> {
        self.contexts.iter().filter(|c| c.role == ContextRole::Initial)
    }

    /// The KUDOS bootstrap context linked to the initial context `initial_name`, if any.
    pub fn bootstrap_for(&self, initial_name: &str) -> Option<&KeyContext> {
        self.contexts
            .iter()
            .find(|c| matches!(&c.role, ContextRole::KudosBootstrap { initial } if initial == initial_name))
    }

    /// Non-fatal findings of the loaders, in load order.
    pub fn warnings(&self) -> &[KeysWarning] {
        &self.warnings
    }
}

impl<'a> IntoIterator for &'a KeySet {
    type Item = &'a KeyContext;
    type IntoIter = std::slice::Iter<'a, KeyContext>;
    fn into_iter(self) -> Self::IntoIter {
        self.contexts.iter()
    }
}

fn source_position(s: &ContextSource) -> String {
    match s.line {
        Some(l) => format!("{}:{l}", s.path.display()),
        None => s.path.display().to_string(),
    }
}

/// Turns a loader's validation result into located errors and warnings. `locate` maps a field
/// to (display name, location) in the loader's own terms.
pub(crate) fn finish_context(
    ctx: &KeyContext,
    path: &Path,
    warnings: &mut Vec<KeysWarning>,
    locate: &dyn Fn(FieldRef) -> (String, Option<Location>),
) -> Result<(), KeysError> {
    match ctx.check() {
        Ok(ws) => {
            for (f, message) in ws {
                let (field, location) = locate(f);
                warnings.push(KeysWarning {
                    path: path.to_path_buf(),
                    location,
                    field: Some(field),
                    message,
                });
            }
            Ok(())
        }
        Err((f, kind)) => {
            let (field, location) = locate(f);
            Err(KeysError::new(path, kind).at(location).field(field))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(index: usize) -> ContextSource {
        ContextSource { path: "k.toml".into(), line: Some(1), format: KeysFormat::Toml, index }
    }

    fn d01() -> KeyContext {
        let mut c = KeyContext::new_client_server(
            src(1),
            Secret::new(crate::hex::decode("2b9dc18059e139220fb99e7df5abfaf0").unwrap()),
            vec![0x6e],
            vec![0xe9],
        );
        c.master_salt = crate::hex::decode("9642216a141df02c").unwrap();
        c
    }

    #[test]
    fn params_from_both_views() {
        let c = d01();
        let client = c.client_params().unwrap();
        assert_eq!(client.sender_id, vec![0x6e]);
        assert_eq!(client.recipient_id, vec![0xe9]);
        assert_eq!(c.server_params().unwrap(), client.reversed());
        assert_eq!(c.params(PeerSlot::B), client.reversed());
        assert_eq!(c.name, "k.toml#1");
    }

    #[test]
    fn local_peer_orientation() {
        let mut c = d01();
        c.orientation = Orientation::LocalPeer;
        assert!(c.client_params().is_none());
        assert_eq!(c.slot_label(PeerSlot::A), "local");
        let as_server = c.clone().orient(EndpointRole::Server);
        assert_eq!(as_server.client().unwrap().sender_id, vec![0xe9]);
        let as_client = c.clone().orient(EndpointRole::Client);
        assert_eq!(as_client.client().unwrap().sender_id, vec![0x6e]);
        assert!(as_server.same_context(&as_client));
        assert!(as_server.same_context(&c));
        let mut other = c.clone();
        other.id_context = Some(vec![]);
        assert!(!other.same_context(&c), "empty ID Context differs from absent");
    }

    #[test]
    fn endpoint_hints_parse_and_print() {
        for (s, out) in [
            ("127.0.0.1", "127.0.0.1"),
            ("127.0.0.1:5683", "127.0.0.1:5683"),
            ("::1", "::1"),
            ("[::1]", "::1"),
            ("[2001:db8::1]:5684", "[2001:db8::1]:5684"),
        ] {
            assert_eq!(s.parse::<EndpointHint>().unwrap().to_string(), out);
        }
        assert!("localhost".parse::<EndpointHint>().is_err());
        assert!("1.2.3.4:99999".parse::<EndpointHint>().is_err());
        let h: EndpointHint = "127.0.0.1".parse().unwrap();
        assert!(h.matches(&"127.0.0.1:42770".parse().unwrap()));
        let h: EndpointHint = "127.0.0.1:5683".parse().unwrap();
        assert!(!h.matches(&"127.0.0.1:42770".parse().unwrap()));
    }

    #[test]
    fn checks() {
        let mut c = d01();
        assert_eq!(c.check(), Ok(vec![]));
        c.peer_b.sender_id = vec![0; 8];
        assert!(matches!(
            c.check(),
            Err((FieldRef::SenderId(PeerSlot::B), KeysErrorKind::IdTooLong { len: 8, max: 7, .. }))
        ));
        let mut c = d01();
        c.master_secret = Secret::new(vec![]);
        assert_eq!(c.check(), Err((FieldRef::MasterSecret, KeysErrorKind::Empty)));
        let mut c = d01();
        c.limits.v = Some(0);
        assert_eq!(c.check(), Err((FieldRef::Limit('v'), KeysErrorKind::NotPositive)));
        let mut c = d01();
        c.peer_b.sender_id = c.peer_a.sender_id.clone();
        assert_eq!(c.check().unwrap().len(), 1);
    }

    #[test]
    fn keyset_duplicates_and_links() {
        let mut set = KeySet::new();
        set.insert(d01()).unwrap();
        let e = set.insert(d01()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "k.toml:1: duplicate context name \"k.toml#1\" (first defined at k.toml:1)"
        );
        let mut b = d01();
        b.name = "boot".into();
        b.role = ContextRole::KudosBootstrap { initial: "k.toml#1".into() };
        set.insert(b.clone()).unwrap();
        set.check_links().unwrap();
        assert_eq!(set.bootstrap_for("k.toml#1").unwrap().name, "boot");
        assert_eq!(set.initial_contexts().count(), 1);
        let mut b2 = b.clone();
        b2.name = "boot2".into();
        set.insert(b2).unwrap();
        assert!(set.check_links().unwrap_err().to_string().contains("already has a KUDOS bootstrap context"));
        let mut set = KeySet::new();
        set.insert(b).unwrap();
        assert!(set.check_links().unwrap_err().to_string().contains("no context named"));
    }

    #[test]
    fn display_and_debug_redact() {
        let c = d01();
        let shown = format!("{c} {c:?}");
        assert!(!shown.contains("2b9dc18059e139220fb99e7df5abfaf0"));
        assert!(shown.contains("client 6e / server e9"));
    }
}
