//! The context store: every OSCORE security context the analysis knows, loaded from keys files
//! or derived on the wire, with lineage (which context was derived from which), key-usage
//! counters and what each context opened.
//!
//! A context is stored once, from peer A's view (A's Sender Key protects what A sends). Which
//! peer sent a message is a [`PeerSlot`]; `aead(slot)` is the key that slot protects with.

use super::aead::AeadKey;
use super::alg::AeadAlg;
use super::context::DerivedContext;
use super::params::{ContextParams, Secret};
use crate::collections::FastMap;
use crate::keys::{ContextRole, EndpointHint, KeyContext, KeyLimits, PeerSlot};
use crate::net::Endpoint;
use std::net::SocketAddr;

/// Index of a context in the store (stable for the whole analysis).
pub type CtxId = usize;

/// A pair of values, one per peer slot (avoids indexing by slot).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PerSlot<T> {
    pub a: T,
    pub b: T,
}

impl<T> PerSlot<T> {
    pub fn get(&self, slot: PeerSlot) -> &T {
        match slot {
            PeerSlot::A => &self.a,
            PeerSlot::B => &self.b,
        }
    }
    pub fn get_mut(&mut self, slot: PeerSlot) -> &mut T {
        match slot {
            PeerSlot::A => &mut self.a,
            PeerSlot::B => &mut self.b,
        }
    }
}

/// What a context is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CtxKind {
    /// Loaded from a keys file (an initial context, or a KUDOS bootstrap context).
    Loaded,
    /// KUDOS CTX_TEMP: protects divergent messages only (draft-ietf-core-oscore-key-update §4.3).
    KudosTemp,
    /// KUDOS CTX_NEW: the next generation.
    KudosNew,
    /// An OSCORE ID update's CTX_B: same keying material, new Sender/Recipient IDs.
    IdUpdate,
}

impl CtxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CtxKind::Loaded => "loaded",
            CtxKind::KudosTemp => "kudos-temp",
            CtxKind::KudosNew => "kudos-new",
            CtxKind::IdUpdate => "id-update",
        }
    }
}

/// Where a context came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Loaded from a keys file (`path:line (format)`).
    Loaded { source: String },
    /// Derived from what was seen on the wire (`how`: e.g. "KUDOS CTX_NEW"), at `frame`.
    Derived { how: String, frame: u64 },
}

/// AEAD key-usage limits (draft-ietf-core-oscore-key-limits): `q` encryptions per key, `v`
/// failed verifications per key, `l_bytes` the longest message the (q, v) figures assume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub q: u64,
    pub v: u64,
    pub l_bytes: u64,
}

impl Limits {
    /// The draft's limits for `alg` (PROTOCOLS.md §5): 8-byte-tag AES-CCM (COSE 10-13, the
    /// draft's AEAD_AES_128_CCM_8 row) q = 2^20, v = 2^14, l = 2^8 blocks; every other AEAD
    /// q = v = 2^20, l = 2^10 blocks (16-byte AES blocks, 64-byte ChaCha20 blocks).
    pub fn defaults(alg: AeadAlg) -> Limits {
        let block = Limits::block_len(alg);
        if alg.tag_len() == 8 {
            Limits { q: 1 << 20, v: 1 << 14, l_bytes: (1 << 8) * block }
        } else {
            Limits { q: 1 << 20, v: 1 << 20, l_bytes: (1 << 10) * block }
        }
    }

    /// Cipher block length in bytes (the unit of `l`).
    pub fn block_len(alg: AeadAlg) -> u64 {
        if alg == AeadAlg::ChaCha20Poly1305 { 64 } else { 16 }
    }

    /// Defaults overridden by a keys file's `limits` table (`l` is given in cipher blocks).
    pub fn with_overrides(alg: AeadAlg, o: &KeyLimits) -> Limits {
        let d = Limits::defaults(alg);
        Limits {
            q: o.q.unwrap_or(d.q),
            v: o.v.unwrap_or(d.v),
            l_bytes: o.l.map(|l| l.saturating_mul(Limits::block_len(alg))).unwrap_or(d.l_bytes),
        }
    }
}

/// How far a counter has gone relative to its limit (findings are raised once per level).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum LimitLevel {
    #[default]
    Below,
    Approaching,
    Reached,
    Exceeded,
}

/// Usage of one key (the key a peer slot protects with).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyUsage {
    /// Encryptions seen (distinct protected messages; retransmissions not counted).
    pub q: u64,
    /// Failed verifications of messages claiming this key (forgery attempts; replays excluded).
    pub v: u64,
    pub q_level: LimitLevel,
    pub v_level: LimitLevel,
    /// Frame numbers of the first and last message protected with this key.
    pub first_frame: Option<u64>,
    pub last_frame: Option<u64>,
}

/// A context name or generation label: shared, so that every record naming the context
/// costs a reference count, not a copy.
pub type Name = std::sync::Arc<str>;

/// One context.
#[derive(Debug)]
pub struct StoredContext {
    pub id: CtxId,
    /// Keys-file name, or `<parent name>/<label>` for derived contexts.
    pub name: Name,
    /// Generation label shown in timelines: "g0" for loaded contexts, "g1", "g2"... for each
    /// KUDOS CTX_NEW, with suffixes for temporary contexts.
    pub label: Name,
    pub generation: u32,
    pub parent: Option<CtxId>,
    /// The loaded context this one descends from (itself for loaded contexts): one lineage is
    /// one association's story across key and ID updates.
    pub root: CtxId,
    pub kind: CtxKind,
    pub origin: Origin,
    /// A KUDOS bootstrap context (input of no-FS updates), not used to open ordinary traffic.
    pub bootstrap: bool,
    /// "client"/"server" or "local"/"peer" (or "A"/"B" for derived contexts of either).
    pub slot_names: PerSlot<&'static str>,
    pub endpoints: PerSlot<Vec<EndpointHint>>,
    pub limits: Limits,
    /// Usage of the key each slot protects with.
    pub usage: PerSlot<KeyUsage>,
    /// Messages this context opened (verified).
    pub opened: u64,
    /// Frame at which the context stopped being current (e.g. replaced after a key update).
    pub retired_at: Option<u64>,
    derived: DerivedContext,
    reversed: DerivedContext,
}

impl StoredContext {
    pub fn alg(&self) -> AeadAlg {
        self.derived.alg()
    }
    pub fn sender_id(&self, slot: PeerSlot) -> &[u8] {
        match slot {
            PeerSlot::A => &self.derived.params().sender_id,
            PeerSlot::B => &self.derived.params().recipient_id,
        }
    }
    pub fn id_context(&self) -> Option<&[u8]> {
        self.derived.params().id_context.as_deref()
    }
    pub fn common_iv(&self) -> &[u8] {
        self.derived.common_iv()
    }
    /// The key `slot` protects its messages with.
    pub fn aead(&self, slot: PeerSlot) -> &AeadKey {
        match slot {
            PeerSlot::A => self.derived.sender_aead(),
            PeerSlot::B => self.derived.recipient_aead(),
        }
    }
    /// The derived context from `slot`'s view (Sender = slot).
    pub fn view(&self, slot: PeerSlot) -> &DerivedContext {
        match slot {
            PeerSlot::A => &self.derived,
            PeerSlot::B => &self.reversed,
        }
    }
    /// Inputs from peer A's view.
    pub fn params(&self) -> &ContextParams {
        self.derived.params()
    }
    pub fn master_secret(&self) -> &Secret {
        &self.derived.params().master_secret
    }
    /// How well `src` -> `dst` fits this context's endpoint hints with `sender` sending:
    /// 2 = both ends match a hint, 1 = one does, 0 = no hints or no match.
    pub fn hint_score(&self, sender: PeerSlot, src: &Endpoint, dst: &Endpoint) -> u8 {
        let m = |hints: &Vec<EndpointHint>, e: &Endpoint| {
            let sa = SocketAddr::new(e.addr, e.port);
            u8::from(hints.iter().any(|h| h.matches(&sa)))
        };
        m(self.endpoints.get(sender), src) + m(self.endpoints.get(sender.other()), dst)
    }
}

/// Why a context could not be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("context {name}: {reason}")]
pub struct StoreError {
    pub name: String,
    pub reason: String,
}

/// All contexts, indexed by Sender ID.
#[derive(Debug, Default)]
pub struct ContextStore {
    contexts: Vec<StoredContext>,
    by_sender_id: FastMap<Vec<u8>, Vec<(CtxId, PeerSlot)>>,
    /// Lineage root -> its KUDOS bootstrap context.
    bootstraps: FastMap<CtxId, CtxId>,
}

impl ContextStore {
    pub fn new() -> Self {
        ContextStore::default()
    }

    /// Adds every context of a keys set, in file order (bootstrap contexts included, marked).
    pub fn load(keys: &[KeyContext]) -> Result<ContextStore, StoreError> {
        let mut store = ContextStore::new();
        for k in keys {
            let params = k.params(PeerSlot::A);
            let derived = DerivedContext::derive(params)
                .map_err(|e| StoreError { name: k.name.clone(), reason: e.to_string() })?;
            let source = match k.source.line {
                Some(line) => format!("{}:{line} ({})", k.source.path.display(), k.source.format),
                None => format!("{} ({})", k.source.path.display(), k.source.format),
            };
            store.insert(NewContext {
                name: k.name.clone(),
                label: if matches!(k.role, ContextRole::KudosBootstrap { .. }) {
                    "bootstrap".into()
                } else {
                    "g0".into()
                },
                generation: 0,
                parent: None,
                kind: CtxKind::Loaded,
                origin: Origin::Loaded { source },
                bootstrap: matches!(k.role, ContextRole::KudosBootstrap { .. }),
                slot_names: PerSlot { a: k.slot_label(PeerSlot::A), b: k.slot_label(PeerSlot::B) },
                endpoints: PerSlot { a: k.peer_a.endpoints.clone(), b: k.peer_b.endpoints.clone() },
                limits: Limits::with_overrides(k.aead, &k.limits),
                derived,
            });
        }
        for (i, k) in keys.iter().enumerate() {
            if let ContextRole::KudosBootstrap { initial } = &k.role
                && let Some(root) = keys.iter().position(|c| &c.name == initial)
            {
                store.bootstraps.insert(root, i);
            }
        }
        Ok(store)
    }

    /// The lineage a context belongs to: its root, except that a bootstrap context belongs to
    /// the initial context it was loaded for (a no-FS CTX_NEW continues that association).
    pub fn lineage_root(&self, id: CtxId) -> CtxId {
        if let Some((&root, _)) = self.bootstraps.iter().find(|(_, b)| **b == id) {
            return root;
        }
        self.contexts.get(id).map_or(id, |c| c.root)
    }

    /// The KUDOS bootstrap context of a lineage (keys file `role = "kudos-bootstrap"`).
    pub fn bootstrap_for(&self, root: CtxId) -> Option<CtxId> {
        self.bootstraps.get(&root).copied()
    }

    /// Contexts of the lineage of `root` that protect ordinary traffic (not temporary, not
    /// bootstrap), newest generation first.
    pub fn lineage(&self, root: CtxId) -> Vec<CtxId> {
        let mut v: Vec<&StoredContext> = self
            .contexts
            .iter()
            .filter(|c| c.root == root && !c.bootstrap && c.kind != CtxKind::KudosTemp)
            .collect();
        v.sort_by_key(|c| (std::cmp::Reverse(c.generation), std::cmp::Reverse(c.id)));
        v.into_iter().map(|c| c.id).collect()
    }

    /// Adds a context; returns its id.
    pub fn insert(&mut self, c: NewContext) -> CtxId {
        let id = self.contexts.len();
        let root = c.parent.map_or(id, |p| self.lineage_root(p));
        let reversed = c.derived.reversed();
        for slot in [PeerSlot::A, PeerSlot::B] {
            let sid = match slot {
                PeerSlot::A => c.derived.params().sender_id.clone(),
                PeerSlot::B => c.derived.params().recipient_id.clone(),
            };
            self.by_sender_id.entry(sid).or_default().push((id, slot));
        }
        self.contexts.push(StoredContext {
            id,
            name: c.name.into(),
            label: c.label.into(),
            generation: c.generation,
            parent: c.parent,
            root,
            kind: c.kind,
            origin: c.origin,
            bootstrap: c.bootstrap,
            slot_names: c.slot_names,
            endpoints: c.endpoints,
            limits: c.limits,
            usage: PerSlot::default(),
            opened: 0,
            retired_at: None,
            derived: c.derived,
            reversed,
        });
        id
    }

    pub fn get(&self, id: CtxId) -> Option<&StoredContext> {
        self.contexts.get(id)
    }
    pub fn get_mut(&mut self, id: CtxId) -> Option<&mut StoredContext> {
        self.contexts.get_mut(id)
    }
    pub fn iter(&self) -> std::slice::Iter<'_, StoredContext> {
        self.contexts.iter()
    }
    pub fn len(&self) -> usize {
        self.contexts.len()
    }
    pub fn is_empty(&self) -> bool {
        self.contexts.is_empty()
    }

    /// Contexts in which some peer has Sender ID `sid`, with that peer's slot, in store order.
    pub fn with_sender_id(&self, sid: &[u8]) -> &[(CtxId, PeerSlot)] {
        self.by_sender_id.get(sid).map(Vec::as_slice).unwrap_or_default()
    }
}

/// What [`ContextStore::insert`] needs.
#[derive(Debug)]
pub struct NewContext {
    pub name: String,
    pub label: String,
    pub generation: u32,
    pub parent: Option<CtxId>,
    pub kind: CtxKind,
    pub origin: Origin,
    pub bootstrap: bool,
    pub slot_names: PerSlot<&'static str>,
    pub endpoints: PerSlot<Vec<EndpointHint>>,
    pub limits: Limits,
    pub derived: DerivedContext,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_limits_follow_the_key_limits_draft() {
        // PROTOCOLS.md §5: CCM_8 (q, v, l) = (2^20, 2^14, 2^8 blocks); others 2^20, 2^20, 2^10.
        let l = Limits::defaults(AeadAlg::AesCcm16_64_128);
        assert_eq!((l.q, l.v, l.l_bytes), (1 << 20, 1 << 14, 4096));
        let l = Limits::defaults(AeadAlg::AesCcm16_128_128);
        assert_eq!((l.q, l.v, l.l_bytes), (1 << 20, 1 << 20, 16384));
        let l = Limits::defaults(AeadAlg::ChaCha20Poly1305);
        assert_eq!((l.q, l.v, l.l_bytes), (1 << 20, 1 << 20, 65536));
        let o = KeyLimits { q: Some(10), v: None, l: Some(4) };
        let l = Limits::with_overrides(AeadAlg::A128Gcm, &o);
        assert_eq!((l.q, l.v, l.l_bytes), (10, 1 << 20, 64));
    }
}
