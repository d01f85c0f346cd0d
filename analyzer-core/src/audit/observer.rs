//! An on-path observer without keys: it sees endpoints, `kid`/`kid context`, Partial IVs,
//! Message IDs, Tokens and outer Observe values, and clusters the traffic into presumed
//! devices.
//!
//! A flow is (client endpoint, server endpoint, kid, kid context), with the request direction
//! and the response direction kept apart. When a flow sends its first message in a direction,
//! it is compared with the most recent other flows (what they last showed in that direction)
//! and joined (union-find) with each one a visible item links:
//! - client direction: the same client endpoint or IP address; the same kid and kid context to
//!   the same server; Partial IV continuity (the last PIV at least 16, the next within +4:
//!   small PIVs are common to every fresh context); Message ID continuity; the same or a
//!   counter Token;
//! - server direction (same server endpoint): Partial IV continuity (the server's counter is
//!   per association), the same Token in a notification (a preserved observation), Observe
//!   continuity. The server's Message IDs and its endpoint are shared by all its clients: they
//!   do not join flows.
//!
//! Memory grows with the number of flows (identity changes), not with messages.

use super::privacy::{TokenRelation, continues, mid_continues, token_relation};
use super::{AuditConfig, Visible};
use crate::collections::FastMap;
use crate::net::Endpoint;

/// Index of a flow.
pub type FlowId = usize;

/// What makes a flow, as the observer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    pub client: Endpoint,
    pub server: Endpoint,
    pub kid: Option<Vec<u8>>,
    pub kid_context: Option<Vec<u8>>,
}

/// Last visible values of one direction of a flow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirStats {
    pub first_frame: u64,
    pub last_frame: u64,
    pub messages: u64,
    pub last_piv: Option<u64>,
    /// Last MID the sender originated (CON/NON).
    pub last_mid: Option<u16>,
    /// Last token of a request (client direction) or notification (server direction).
    pub last_token: Option<Vec<u8>>,
    pub last_observe: Option<u64>,
}

/// One flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    pub key: FlowKey,
    /// [client -> server, server -> client].
    pub dirs: [Option<DirStats>; 2],
}

/// Why the observer joined two flows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Join {
    /// The earlier flow and the new one.
    pub from: FlowId,
    pub to: FlowId,
    /// The item that linked them ("address", "kid", "piv", "mid", "token", "token_reuse",
    /// "observe").
    pub item: &'static str,
    /// Last frame of `from` in that direction, first frame of `to`.
    pub frames: [u64; 2],
}

/// The observer's state over a capture.
#[derive(Debug)]
pub struct ObserverState {
    mid_window: u16,
    piv_window: u64,
    piv_min: u64,
    token_window: u64,
    observe_window: u64,
    max_flows: usize,
    candidates: usize,
    flows: Vec<Flow>,
    by_key: FastMap<FlowKey, FlowId>,
    /// (client, server) -> the flow of the last request between them.
    by_pair: FastMap<(Endpoint, Endpoint), FlowId>,
    parent: Vec<FlowId>,
    joins: Vec<Join>,
    /// Messages not given a flow because `max_flows` was reached.
    pub dropped: u64,
}

/// Most joins remembered (for the explanations); unions beyond it still happen.
const MAX_JOINS: usize = 4096;

impl ObserverState {
    pub fn new(config: &AuditConfig) -> Self {
        ObserverState {
            mid_window: config.mid_window,
            piv_window: config.observer_piv_window,
            piv_min: config.observer_piv_min,
            token_window: config.token_window,
            observe_window: config.observe_window,
            max_flows: config.max_flows.max(1),
            candidates: config.observer_candidates,
            flows: Vec::new(),
            by_key: FastMap::default(),
            by_pair: FastMap::default(),
            parent: Vec::new(),
            joins: Vec::new(),
            dropped: 0,
        }
    }

    pub fn flows(&self) -> &[Flow] {
        &self.flows
    }

    pub fn joins(&self) -> &[Join] {
        &self.joins
    }

    /// The cluster (presumed device) of a flow: its union-find root.
    pub fn cluster(&self, mut f: FlowId) -> FlowId {
        // Path halving is not possible through &self; the depth stays small because unions
        // attach the newer root under the older one.
        let mut steps = 0;
        while let Some(&p) = self.parent.get(f) {
            if p == f || steps > self.parent.len() {
                break;
            }
            f = p;
            steps += 1;
        }
        f
    }

    fn union(&mut self, a: FlowId, b: FlowId) {
        let (ra, rb) = (self.cluster(a), self.cluster(b));
        if ra == rb {
            return;
        }
        let (keep, attach) = if ra < rb { (ra, rb) } else { (rb, ra) };
        if let Some(p) = self.parent.get_mut(attach) {
            *p = keep;
        }
    }

    /// Assigns a message to its flow (creating it), joins a new direction with earlier flows,
    /// and updates the flow's last values. Returns the flow.
    pub(crate) fn observe(&mut self, v: &Visible) -> FlowId {
        let flow = if v.is_request {
            let key = FlowKey {
                client: v.src,
                server: v.dst,
                kid: v.kid.clone(),
                kid_context: v.kid_context.clone(),
            };
            let f = self.flow_for(key);
            self.by_pair.insert((v.src, v.dst), f);
            f
        } else if let Some(&f) = self.by_pair.get(&(v.dst, v.src)) {
            f
        } else if let Some(&f) = self.by_pair.get(&(v.src, v.dst)) {
            // An empty ACK or other message from the client side.
            f
        } else {
            let key = FlowKey { client: v.dst, server: v.src, kid: None, kid_context: None };
            let f = self.flow_for(key);
            self.by_pair.insert((v.dst, v.src), f);
            f
        };
        let Some(fl) = self.flows.get(flow) else { return flow };
        let dir = usize::from(fl.key.client != v.src);
        let is_new = fl.dirs.get(dir).is_none_or(Option::is_none);
        if is_new {
            self.join_new(flow, dir, v);
        }
        if let Some(slot) = self.flows.get_mut(flow).and_then(|f| f.dirs.get_mut(dir)) {
            let d = slot.get_or_insert_with(|| DirStats { first_frame: v.frame, ..DirStats::default() });
            d.last_frame = v.frame;
            d.messages += 1;
            if let Some(p) = v.piv {
                d.last_piv = Some(p);
            }
            if v.originates {
                d.last_mid = Some(v.mid);
            }
            if v.is_request || v.observe.is_some() {
                d.last_token = Some(v.token.clone());
            }
            if !v.is_request
                && let Some(o) = v.observe
            {
                d.last_observe = Some(o);
            }
        }
        flow
    }

    fn flow_for(&mut self, key: FlowKey) -> FlowId {
        if let Some(&f) = self.by_key.get(&key) {
            return f;
        }
        if self.flows.len() >= self.max_flows {
            // Out of room: fold into the last flow (counted).
            self.dropped += 1;
            return self.flows.len().saturating_sub(1);
        }
        let id = self.flows.len();
        self.flows.push(Flow { key: key.clone(), dirs: [None, None] });
        self.parent.push(id);
        self.by_key.insert(key, id);
        id
    }

    /// Compares the first message of `flow` in direction `dir` with what the most recent
    /// other flows last showed in that direction.
    fn join_new(&mut self, flow: FlowId, dir: usize, v: &Visible) {
        let Some(me) = self.flows.get(flow).cloned() else { return };
        let start = self.flows.len().saturating_sub(self.candidates.saturating_add(1));
        let mut found: Vec<(FlowId, &'static str, u64)> = Vec::new();
        for (g, other) in self.flows.iter().enumerate().skip(start) {
            if g == flow {
                continue;
            }
            // Endpoint and kid links need no history in this direction (a flow may so far
            // hold only responses); the counters do.
            let d = other.dirs.get(dir).and_then(Option::as_ref);
            if let Some(item) = self.link(&me.key, &other.key, d, dir, v) {
                let last = d.map_or_else(
                    || other.dirs.iter().flatten().map(|x| x.last_frame).max().unwrap_or(0),
                    |d| d.last_frame,
                );
                found.push((g, item, last));
            }
        }
        for (g, item, last) in found {
            if self.joins.len() < MAX_JOINS {
                self.joins.push(Join { from: g, to: flow, item, frames: [last, v.frame] });
            }
            self.union(g, flow);
        }
    }

    /// The first visible item that links the new message `v` of flow `me` to flow `other`.
    fn link(
        &self,
        me: &FlowKey,
        other: &FlowKey,
        d: Option<&DirStats>,
        dir: usize,
        v: &Visible,
    ) -> Option<&'static str> {
        if dir == 0 {
            if other.client == me.client || other.client.addr == me.client.addr {
                return Some("address");
            }
            if me.kid.is_some()
                && other.kid == me.kid
                && other.kid_context == me.kid_context
                && other.server == me.server
            {
                return Some("kid");
            }
            let d = d?;
            if let (Some(l), Some(p)) = (d.last_piv, v.piv)
                && l >= self.piv_min
                && continues(l, p, self.piv_window)
                && other.server == me.server
            {
                return Some("piv");
            }
            if v.originates
                && let Some(l) = d.last_mid
                && mid_continues(l, v.mid, self.mid_window)
            {
                return Some("mid");
            }
            if v.is_request
                && let Some(t) = &d.last_token
                && matches!(
                    token_relation(t, &v.token, self.token_window),
                    TokenRelation::Same | TokenRelation::Successor(_)
                )
            {
                return Some("token");
            }
            None
        } else {
            let d = d?;
            if other.server != me.server {
                return None;
            }
            if let (Some(l), Some(p)) = (d.last_piv, v.piv)
                && l >= self.piv_min
                && continues(l, p, self.piv_window)
            {
                return Some("piv");
            }
            if v.observe.is_some()
                && !v.token.is_empty()
                && d.last_token.as_deref() == Some(v.token.as_slice())
            {
                return Some("token_reuse");
            }
            if let (Some(l), Some(o)) = (d.last_observe, v.observe)
                && continues(l, o, self.observe_window)
            {
                return Some("observe");
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;
    use std::net::{IpAddr, Ipv4Addr};

    fn ep(a: u8, port: u16) -> Endpoint {
        Endpoint { addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, a)), port }
    }

    fn req(frame: u64, src: Endpoint, kid: u8, piv: u64, mid: u16, token: &[u8]) -> Visible {
        Visible {
            frame,
            ts: Timestamp::new(i64::try_from(frame).unwrap(), 0),
            src,
            dst: ep(2, 5683),
            mac: None,
            is_request: true,
            originates: true,
            mid,
            token: token.to_vec(),
            observe: None,
            payload_len: 10,
            kid: Some(vec![kid]),
            kid_context: None,
            piv: Some(piv),
            kudos: None,
            unprotected_error: false,
        }
    }

    fn resp(frame: u64, to: Endpoint, mid: u16, token: &[u8]) -> Visible {
        Visible {
            src: ep(2, 5683),
            dst: to,
            is_request: false,
            originates: false,
            kid: None,
            piv: None,
            ..req(frame, to, 0, 0, mid, token)
        }
    }

    /// A careful migration (new endpoint, new kid, PIV from 0, random MID and token) is a new
    /// cluster; each careless variant joins the old one by the item it leaves continuous.
    #[test]
    fn clustering_on_scripted_migrations() {
        let cfg = AuditConfig::default();
        let old = ep(1, 40000);
        let new = ep(9, 41000);
        let script = |after: Vec<Visible>| {
            let mut o = ObserverState::new(&cfg);
            let a = o.observe(&req(1, old, 0x01, 20, 0x1000, &[0xa0, 0x01]));
            o.observe(&resp(2, old, 0x1000, &[0xa0, 0x01]));
            o.observe(&req(3, old, 0x01, 21, 0x1001, &[0xa0, 0x02]));
            o.observe(&resp(4, old, 0x1001, &[0xa0, 0x02]));
            let mut b = a;
            for v in &after {
                b = o.observe(v);
            }
            (o.cluster(a) == o.cluster(b), o.joins().first().map(|j| j.item), a != b)
        };
        // Careful.
        let (linked, _, distinct) =
            script(vec![req(10, new, 0x78, 0, 0x5a3c, &[0x7f, 0x31]), resp(11, new, 0x5a3c, &[0x7f, 0x31])]);
        assert!(distinct && !linked);
        // Old kid on the new network.
        assert_eq!(script(vec![req(10, new, 0x01, 0, 0x5a3c, &[0x7f, 0x31])]), (true, Some("kid"), true));
        // New kid on the old endpoint.
        assert_eq!(script(vec![req(10, old, 0x78, 0, 0x5a3c, &[0x7f, 0x31])]), (true, Some("address"), true));
        // SSN continuing.
        assert_eq!(script(vec![req(10, new, 0x78, 22, 0x5a3c, &[0x7f, 0x31])]), (true, Some("piv"), true));
        // MID counter continuing.
        assert_eq!(script(vec![req(10, new, 0x78, 0, 0x1002, &[0x7f, 0x31])]), (true, Some("mid"), true));
        // Counter tokens.
        assert_eq!(script(vec![req(10, new, 0x78, 0, 0x5a3c, &[0xa0, 0x03])]), (true, Some("token"), true));
        // MID one past the window does not link.
        let (linked, _, _) = script(vec![req(10, new, 0x78, 0, 0x1001 + 17, &[0x7f, 0x31])]);
        assert!(!linked);
    }

    /// The server's endpoint and MIDs are shared by its clients: two clients of one server
    /// stay apart; a notification with a preserved token to a new endpoint joins.
    #[test]
    fn server_direction_joins_only_on_association_state() {
        let cfg = AuditConfig::default();
        let mut o = ObserverState::new(&cfg);
        let a = o.observe(&req(1, ep(1, 40000), 0x01, 0, 0x1000, &[0x11]));
        o.observe(&Visible { originates: true, ..resp(2, ep(1, 40000), 0x9000, &[0x11]) });
        let b = o.observe(&req(3, ep(3, 40000), 0x05, 0, 0x2000, &[0x22]));
        o.observe(&Visible { originates: true, ..resp(4, ep(3, 40000), 0x9001, &[0x22]) });
        assert_ne!(o.cluster(a), o.cluster(b), "server MID 0x9000 -> 0x9001 does not join two clients");

        let mut o = ObserverState::new(&cfg);
        let mut reg = req(1, ep(1, 40000), 0x01, 0, 0x1000, &[0x33]);
        reg.observe = Some(0);
        let a = o.observe(&reg);
        o.observe(&Visible { observe: Some(5), ..resp(2, ep(1, 40000), 0x9000, &[0x33]) });
        // The client moved (new kid, new endpoint); the server keeps notifying with the token.
        let b = o.observe(&req(5, ep(9, 41000), 0x78, 0, 0x5555, &[0x44]));
        assert_ne!(o.cluster(a), o.cluster(b));
        o.observe(&Visible { observe: Some(90), ..resp(6, ep(9, 41000), 0x9100, &[0x33]) });
        assert_eq!(o.cluster(a), o.cluster(b));
        assert_eq!(o.joins().last().map(|j| j.item), Some("token_reuse"));
    }
}
