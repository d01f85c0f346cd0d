//! The audit report as plain data (for the CLI's text and JSON, the GUI and the plugin):
//! per association its boundaries (ID changes, address changes) with every §4.7 item, the
//! rule violations as findings, the observer's key-less clustering compared with the true
//! associations, and every finding of the capture.

use super::observer::FlowId;
use super::privacy::{self, CONTROLLABLE, EvalInput};
use super::{AuditCollector, Segment};
use crate::finding::{Finding, FindingKind, Layer, Severity};
use crate::hex;
use crate::keys::PeerSlot;
use crate::net::Endpoint;
use crate::oscore::store::{CtxId, CtxKind};
use crate::timeline::{Lane, MarkerKind, ProcedureKind, Timeline};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Most clusters described one by one in the observer view.
const MAX_CLUSTERS_SHOWN: usize = 64;

/// What changed at a boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BoundaryKind {
    IdChange,
    AddressChange,
    Both,
}

impl BoundaryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BoundaryKind::IdChange => "id_change",
            BoundaryKind::AddressChange => "address_change",
            BoundaryKind::Both => "both",
        }
    }
}

/// One §4.7 item across one boundary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemResult {
    /// Stable name: kid, piv, observe, mid, token, token_reuse, address, mac, kudos, edhoc,
    /// unprotected_errors, sizes, cadence.
    pub item: &'static str,
    /// Where the item comes from ("4.7 item 2: ...").
    pub section: &'static str,
    /// true: linked; false: not linked; null: not applicable (the explanation says why).
    pub linked: Option<bool>,
    /// Evidence frames (typically the last before and the first after).
    pub frames: Vec<u64>,
    pub explanation: String,
}

/// One side of a boundary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Side {
    pub endpoint: String,
    /// The peer's Sender ID under this context (from the keys), hex.
    pub sender_id: Option<String>,
    /// The kid of its requests as sent (hex), when it sent requests.
    pub kid: Option<String>,
    /// Context generation label (g0, g0-id1, g1...).
    pub context: String,
    pub first_frame: u64,
    pub last_frame: u64,
    pub messages: u64,
}

/// One boundary of one peer: an ID change, an address change (network migration), or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Migration {
    /// "client", "server", "local", "peer".
    pub peer: &'static str,
    /// First frame after the boundary.
    pub frame: u64,
    pub kind: BoundaryKind,
    pub before: Side,
    pub after: Side,
    pub items: Vec<ItemResult>,
    /// Items that link (shortcut over `items`).
    pub linked_items: Vec<&'static str>,
    /// The key-less observer's clustering puts both sides in one presumed device.
    pub observer_linked: bool,
}

/// How the observer's clusters cover one association.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AssociationObserver {
    /// Observer clusters (presumed devices) the association's traffic falls into.
    pub clusters: usize,
    pub boundaries: usize,
    pub boundaries_linked: usize,
    pub id_changes: usize,
    pub id_changes_linked: usize,
}

/// One association (lineage root).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportAssociation {
    pub name: String,
    pub peers: [&'static str; 2],
    pub first_frame: u64,
    pub last_frame: u64,
    pub segments: usize,
    /// ID updates seen in the timeline: (number, outcome).
    pub id_updates: Vec<String>,
    pub migrations: Vec<Migration>,
    pub observer: AssociationObserver,
}

/// One presumed device of the observer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterView {
    pub cluster: usize,
    /// "client -> server kid 01" per flow.
    pub flows: Vec<String>,
    /// True associations whose messages fall into this cluster.
    pub associations: Vec<String>,
    /// Why flows were joined: "flow 0 -> flow 2 by mid (frames 4, 9)".
    pub joins: Vec<String>,
}

/// The observer's view over the whole capture.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ObserverSummary {
    pub flows: usize,
    /// Presumed devices.
    pub clusters: usize,
    /// True associations (known from the keys).
    pub associations: usize,
    pub boundaries: usize,
    pub boundaries_linked: usize,
    pub id_changes: usize,
    pub id_changes_linked: usize,
    /// Clusters that hold flows of more than one true association (false merges).
    pub merged_clusters: usize,
    /// Associations spread over more than one cluster.
    pub split_associations: usize,
    /// Flows with no message opened by the keys (association unknown).
    pub unattributed_flows: usize,
    pub cluster_list: Vec<ClusterView>,
}

impl ObserverSummary {
    /// "3 flow(s) in 1 presumed device(s); 1 true association(s)".
    pub fn clustering_text(&self) -> String {
        format!(
            "{} flow(s) in {} presumed device(s); {} true association(s)",
            self.flows, self.clusters, self.associations
        )
    }

    /// "links 3 of 3 boundaries (2 of 2 ID changes); 0 merged cluster(s), ...".
    pub fn links_text(&self) -> String {
        format!(
            "links {} of {} boundaries ({} of {} ID changes); {} merged cluster(s), {} split association(s), {} flow(s) without keys",
            self.boundaries_linked,
            self.boundaries,
            self.id_changes_linked,
            self.id_changes,
            self.merged_clusters,
            self.split_associations,
            self.unattributed_flows
        )
    }
}

/// A finding of the capture in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportFinding {
    /// Stable kind string ("oscore.nonce_reuse", "audit.ssn_not_restarted", ...).
    pub kind: &'static str,
    pub severity: Severity,
    /// Layer name as `Layer::as_str` gives it ("oscore", "id-update", "audit"...).
    pub layer: &'static str,
    /// The frame it is attached to first, then the related evidence frames.
    pub frames: Vec<u64>,
    pub explanation: String,
}

/// Exact count of one (severity, kind).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeverityCount {
    pub severity: Severity,
    pub kind: &'static str,
    pub count: u64,
}

/// The whole audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    pub capture: String,
    pub frames: u64,
    pub oscore_messages: u64,
    pub associations: Vec<ReportAssociation>,
    pub observer_view: ObserverSummary,
    /// Every finding kept, most severe first (then kind, then frame).
    pub findings: Vec<ReportFinding>,
    /// Exact counts per severity and kind (including findings not kept), most severe first.
    pub summary: Vec<SeverityCount>,
    /// Findings counted but not kept (`AuditConfig::max_findings`).
    pub findings_dropped: u64,
    /// Identity changes counted but not kept as segments (`AuditConfig::max_segments`).
    pub segments_dropped: u64,
}

impl AuditReport {
    /// The highest severity of any finding.
    pub fn max_severity(&self) -> Option<Severity> {
        self.summary.iter().map(|c| c.severity).max()
    }

    /// How many findings are at or above `severity`.
    pub fn count_at_or_above(&self, severity: Severity) -> u64 {
        self.summary.iter().filter(|c| c.severity >= severity).map(|c| c.count).sum()
    }
}

fn idx(s: PeerSlot) -> usize {
    usize::from(s == PeerSlot::B)
}

fn show_id(id: &[u8]) -> String {
    if id.is_empty() { "(empty)".into() } else { hex::encode(id) }
}

fn side(s: &Segment) -> Side {
    Side {
        endpoint: s.endpoint.to_string(),
        sender_id: s.sender_id.as_deref().map(show_id),
        kid: s.kid.as_deref().map(show_id),
        context: s.ctx_label.clone(),
        first_frame: s.first_frame,
        last_frame: s.last_frame,
        messages: s.messages,
    }
}

/// The ID a segment stands for: the true Sender ID, or what is visible.
fn identity(s: &Segment) -> Option<&[u8]> {
    s.sender_id.as_deref().or(s.kid.as_deref())
}

fn id_changed(a: &Segment, b: &Segment) -> bool {
    match (&a.sender_id, &b.sender_id) {
        (Some(x), Some(y)) => x != y,
        _ => {
            (a.kid.is_some() && b.kid.is_some() && a.kid != b.kid)
                || (b.ctx_kind == CtxKind::IdUpdate && a.ctx != b.ctx)
        }
    }
}

fn finding(kind: FindingKind, severity: Severity, message: String, related: Vec<u64>) -> Finding {
    Finding::new(kind, severity, Layer::Audit, message).related(related)
}

/// Where and when one ID of a peer was used: endpoint -> (first frame, last frame), plus the
/// order of first use.
#[derive(Debug, Default)]
struct IdUse {
    first: u64,
    first_endpoint: Option<Endpoint>,
    at: BTreeMap<Endpoint, (u64, u64)>,
}

/// The draft's explicit linkages (PROTOCOLS.md §4.7 item 1): new IDs on the old network before
/// migrating, old IDs on the new network. `completions`: frames where an ID update of the
/// association completed.
fn id_network_violations(group: &[&Segment], who: &str, completions: &[u64]) -> Vec<(u64, Finding)> {
    let mut uses: BTreeMap<Vec<u8>, IdUse> = BTreeMap::new();
    for s in group {
        let Some(id) = identity(s) else { continue };
        let u = uses.entry(id.to_vec()).or_insert_with(|| IdUse { first: s.first_frame, ..IdUse::default() });
        if u.first_endpoint.is_none() {
            u.first_endpoint = Some(s.endpoint);
        }
        let e = u.at.entry(s.endpoint).or_insert((s.first_frame, s.last_frame));
        e.0 = e.0.min(s.first_frame);
        e.1 = e.1.max(s.last_frame);
    }
    let mut order: Vec<(&Vec<u8>, &IdUse)> = uses.iter().collect();
    order.sort_by_key(|(_, u)| u.first);
    let mut out = Vec::new();
    for pair in order.windows(2) {
        let [(x, ux), (y, uy)] = pair else { continue };
        // (a) Y (new) used where X (old) was used first, and later on an endpoint X never used.
        for (e, &(y_first, _)) in &uy.at {
            let Some(&(x_first, x_last)) = ux.at.get(e) else { continue };
            if x_first >= y_first {
                continue;
            }
            let moved = uy
                .at
                .iter()
                .filter(|(e2, (f2, _))| !ux.at.contains_key(*e2) && *f2 > y_first)
                .min_by_key(|(_, (f2, _))| *f2);
            if let Some((e2, &(f2, _))) = moved {
                out.push((
                    y_first,
                    finding(
                        FindingKind::AuditNewIdsOnOldNetwork,
                        Severity::High,
                        format!(
                            "{who} uses its new ID {} on the old network {e} (frame {y_first}, where ID {} was used until frame {x_last}) before migrating to {e2} (frame {f2}): the address links the old and new IDs (PROTOCOLS.md §4.7 item 1)",
                            show_id(y),
                            show_id(x)
                        ),
                        vec![x_last, f2],
                    ),
                ));
                break;
            }
        }
        // (b) X (old) used on an endpoint it moved to, where Y (new) is used too, after an ID
        // update had completed.
        for (e, &(x_first, _)) in &ux.at {
            if Some(*e) == ux.first_endpoint {
                continue;
            }
            let Some(&(y_first, _)) = uy.at.get(e) else { continue };
            let update_done = completions.iter().any(|&c| c < x_first) || uy.first < x_first;
            if !update_done {
                continue;
            }
            let old_net = ux.first_endpoint.map_or_else(String::new, |e| e.to_string());
            out.push((
                x_first,
                finding(
                    FindingKind::AuditOldIdsOnNewNetwork,
                    Severity::High,
                    format!(
                        "{who} uses its old ID {} on the new network {e} (frame {x_first}) after the ID update to {} (used there from frame {y_first}); the old ID was used on {old_net}: the ID links the networks (PROTOCOLS.md §4.7 item 1)",
                        show_id(x),
                        show_id(y)
                    ),
                    vec![y_first],
                ),
            ));
            break;
        }
    }
    out
}

pub(crate) fn build(c: &AuditCollector, capture: &str, timeline: &Timeline) -> AuditReport {
    let cfg = &c.config;
    let obs = &c.observer;
    // Segments per association and peer, in order.
    let mut groups: BTreeMap<(CtxId, usize), Vec<&Segment>> = BTreeMap::new();
    for s in &c.segments {
        groups.entry((s.root, idx(s.peer))).or_default().push(s);
    }
    let roots: BTreeSet<CtxId> = groups.keys().map(|(r, _)| *r).collect();
    // Flow -> associations.
    let mut flow_roots: BTreeMap<FlowId, BTreeSet<CtxId>> = BTreeMap::new();
    for (f, r) in &c.flow_roots {
        flow_roots.entry(*f).or_default().extend(r.iter().copied());
    }
    let mut audit_findings: Vec<(u64, Finding)> = Vec::new();
    let mut associations = Vec::new();
    let mut total = ObserverSummary::default();
    for &root in &roots {
        let lane: Option<&Lane> = timeline.lanes.get(&root);
        let peers = lane.map_or(["A", "B"], |l| l.peer_names);
        let completions: Vec<u64> = lane
            .map(|l| {
                l.procedures
                    .iter()
                    .filter(|p| p.kind == ProcedureKind::IdUpdate)
                    .flat_map(|p| {
                        p.markers.iter().filter(|m| m.kind == MarkerKind::Completed).map(|m| m.frame)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let id_updates: Vec<String> = lane
            .map(|l| {
                l.procedures
                    .iter()
                    .filter(|p| p.kind == ProcedureKind::IdUpdate)
                    .map(|p| {
                        format!(
                            "#{} {} (frames {}-{})",
                            p.number,
                            p.outcome.as_str(),
                            p.start_frame,
                            p.end_frame
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut migrations = Vec::new();
        let mut segments = 0;
        let mut first_frame = u64::MAX;
        let mut last_frame = 0;
        for slot in [PeerSlot::A, PeerSlot::B] {
            let Some(group) = groups.get(&(root, idx(slot))) else { continue };
            segments += group.len();
            let who = *peers.get(idx(slot)).unwrap_or(&"peer");
            for s in group {
                first_frame = first_frame.min(s.first_frame);
                last_frame = last_frame.max(s.last_frame);
            }
            audit_findings.extend(id_network_violations(group, who, &completions));
            for (i, pair) in group.windows(2).enumerate() {
                let [before, after] = pair else { continue };
                let ids = id_changed(before, after);
                let addr = before.endpoint != after.endpoint;
                let kind = match (ids, addr) {
                    (true, true) => BoundaryKind::Both,
                    (true, false) => BoundaryKind::IdChange,
                    (false, true) => BoundaryKind::AddressChange,
                    (false, false) => continue,
                };
                let earlier: Vec<&Segment> = group.get(..i).map(|g| g.to_vec()).unwrap_or_default();
                let input = EvalInput {
                    config: cfg,
                    earlier: &earlier,
                    edhoc: &c.edhoc,
                    edhoc_total: c.edhoc_count,
                    peer_name: who,
                };
                let items = privacy::evaluate(before, after, &input);
                let linked_items: Vec<&'static str> =
                    items.iter().filter(|r| r.linked == Some(true)).map(|r| r.item).collect();
                let observer_linked = obs.cluster(before.last_flow) == obs.cluster(after.first_flow);
                if ids {
                    audit_findings.extend(ssn_finding(before, after, &earlier, who, cfg));
                    audit_findings.extend(linkable_finding(before, after, kind, &items, who));
                }
                migrations.push(Migration {
                    peer: who,
                    frame: after.first_frame,
                    kind,
                    before: side(before),
                    after: side(after),
                    items,
                    linked_items,
                    observer_linked,
                });
            }
        }
        migrations.sort_by_key(|m| (m.frame, m.peer));
        let clusters: BTreeSet<FlowId> =
            flow_roots.iter().filter(|(_, r)| r.contains(&root)).map(|(f, _)| obs.cluster(*f)).collect();
        let ob = AssociationObserver {
            clusters: clusters.len(),
            boundaries: migrations.len(),
            boundaries_linked: migrations.iter().filter(|m| m.observer_linked).count(),
            id_changes: migrations.iter().filter(|m| m.kind != BoundaryKind::AddressChange).count(),
            id_changes_linked: migrations
                .iter()
                .filter(|m| m.kind != BoundaryKind::AddressChange && m.observer_linked)
                .count(),
        };
        total.boundaries += ob.boundaries;
        total.boundaries_linked += ob.boundaries_linked;
        total.id_changes += ob.id_changes;
        total.id_changes_linked += ob.id_changes_linked;
        if ob.clusters > 1 {
            total.split_associations += 1;
        }
        associations.push(ReportAssociation {
            name: lane.map_or_else(|| format!("context #{root}"), |l| l.name.clone()),
            peers,
            first_frame: if first_frame == u64::MAX { 0 } else { first_frame },
            last_frame,
            segments,
            id_updates,
            migrations,
            observer: ob,
        });
    }
    let names: BTreeMap<CtxId, String> = roots
        .iter()
        .map(|r| (*r, timeline.lanes.get(r).map_or_else(|| format!("context #{r}"), |l| l.name.clone())))
        .collect();
    observer_summary(c, &flow_roots, &names, &mut total);
    total.associations = roots.len();

    // Findings: the capture's, then the audit's.
    let mut counts = c.counts.clone();
    let mut findings: Vec<ReportFinding> =
        c.findings.iter().map(|k| report_finding(k.frame, &k.finding)).collect();
    for (frame, f) in &audit_findings {
        *counts.entry((f.severity, f.kind.as_str())).or_default() += 1;
        findings.push(report_finding(*frame, f));
    }
    findings.sort_by(|a, b| {
        b.severity.cmp(&a.severity).then(a.kind.cmp(b.kind)).then(a.frames.first().cmp(&b.frames.first()))
    });
    let mut summary: Vec<SeverityCount> =
        counts.into_iter().map(|((severity, kind), count)| SeverityCount { severity, kind, count }).collect();
    summary.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.kind.cmp(b.kind)));
    AuditReport {
        capture: capture.to_string(),
        frames: c.frames,
        oscore_messages: c.oscore_messages,
        associations,
        observer_view: total,
        findings,
        summary,
        findings_dropped: c.findings_dropped,
        segments_dropped: c.segments_dropped,
    }
}

fn report_finding(frame: u64, f: &Finding) -> ReportFinding {
    let mut frames = vec![frame];
    for r in &f.related_frames {
        if !frames.contains(r) {
            frames.push(*r);
        }
    }
    ReportFinding {
        kind: f.kind.as_str(),
        severity: f.severity,
        layer: f.layer.as_str(),
        frames,
        explanation: f.message.clone(),
    }
}

/// SSN not restarted under CTX_B: the peer's first PIV under the new IDs is above
/// `ssn_small` and continues its old counter (draft-ietf-core-oscore-id-update-06 §2.2: SSN = 0,
/// MAY start higher; continuing the old counter links the IDs, PROTOCOLS.md §4.7 item 2).
fn ssn_finding(
    before: &Segment,
    after: &Segment,
    earlier: &[&Segment],
    who: &str,
    cfg: &super::AuditConfig,
) -> Option<(u64, Finding)> {
    if after.ctx_kind != CtxKind::IdUpdate {
        return None;
    }
    let first = after.piv.as_ref()?.first.clone();
    let old = std::iter::once(before)
        .chain(earlier.iter().rev().copied())
        .find(|s| s.piv.is_some() && identity(s) != identity(after))?;
    let last = old.piv.as_ref()?.last.clone();
    if first.value <= cfg.ssn_small || !privacy::continues(last.value, first.value, cfg.piv_window) {
        return None;
    }
    Some((
        first.frame,
        finding(
            FindingKind::AuditSsnNotRestarted,
            Severity::High,
            format!(
                "{who}'s first Partial IV under the new IDs ({}) is {} at frame {}, continuing its old counter (last {} at frame {}): the SSN was not restarted (expected 0 for CTX_B, draft-ietf-core-oscore-id-update-06 §2.2); the PIVs link the old and new IDs",
                after.ctx_label, first.value, first.frame, last.value, last.frame
            ),
            vec![last.frame],
        ),
    ))
}

/// An ID change an observer can still link by items the peers control.
fn linkable_finding(
    before: &Segment,
    after: &Segment,
    kind: BoundaryKind,
    items: &[super::ItemResult],
    who: &str,
) -> Option<(u64, Finding)> {
    // Only IDs the observer sees: a peer that sent no request on either side never showed a
    // kid, so its ID change is invisible.
    if before.kid.is_none() && after.kid.is_none() {
        return None;
    }
    let linked: Vec<&super::ItemResult> =
        items.iter().filter(|r| r.linked == Some(true) && CONTROLLABLE.contains(&r.item)).collect();
    if linked.is_empty() {
        return None;
    }
    // In place, the unchanged address links old and new IDs anyway (Low); with a migration,
    // whatever stays continuous defeats it (Medium).
    let severity = if kind == BoundaryKind::IdChange { Severity::Low } else { Severity::Medium };
    let names: Vec<&str> = linked.iter().map(|r| r.item).collect();
    let mut related: Vec<u64> = vec![before.last_frame];
    for r in &linked {
        related.extend(&r.frames);
    }
    related.sort_unstable();
    related.dedup();
    related.retain(|f| *f != after.first_frame);
    let what = if kind == BoundaryKind::IdChange {
        "ID change without migration"
    } else {
        "ID change with migration"
    };
    let ids = match (identity(before), identity(after)) {
        (Some(a), Some(b)) => format!(" ({} -> {})", show_id(a), show_id(b)),
        _ => String::new(),
    };
    Some((
        after.first_frame,
        finding(
            FindingKind::AuditLinkableMigration,
            severity,
            format!(
                "{who}'s {what}{ids} at frame {} stays linkable by: {}",
                after.first_frame,
                names.join(", ")
            ),
            related,
        ),
    ))
}

fn flow_text(c: &AuditCollector, f: FlowId) -> String {
    let Some(flow) = c.observer.flows().get(f) else { return format!("flow {f}") };
    let k = &flow.key;
    let mut s = format!("flow {f}: {} -> {}", k.client, k.server);
    match &k.kid {
        Some(kid) => s.push_str(&format!(" kid {}", show_id(kid))),
        None => s.push_str(" (no kid seen)"),
    }
    if let Some(kc) = &k.kid_context {
        s.push_str(&format!(" kid context {}", show_id(kc)));
    }
    s
}

fn observer_summary(
    c: &AuditCollector,
    flow_roots: &BTreeMap<FlowId, BTreeSet<CtxId>>,
    names: &BTreeMap<CtxId, String>,
    total: &mut ObserverSummary,
) {
    let obs = &c.observer;
    let n = obs.flows().len();
    total.flows = n;
    let mut clusters: BTreeMap<FlowId, Vec<FlowId>> = BTreeMap::new();
    for f in 0..n {
        clusters.entry(obs.cluster(f)).or_default().push(f);
    }
    total.clusters = clusters.len();
    total.unattributed_flows = (0..n).filter(|f| flow_roots.get(f).is_none_or(BTreeSet::is_empty)).count();
    for (i, (root, flows)) in clusters.iter().enumerate() {
        let assocs: BTreeSet<CtxId> =
            flows.iter().filter_map(|f| flow_roots.get(f)).flatten().copied().collect();
        if assocs.len() > 1 {
            total.merged_clusters += 1;
        }
        if i >= MAX_CLUSTERS_SHOWN {
            continue;
        }
        let joins: Vec<String> = obs
            .joins()
            .iter()
            .filter(|j| obs.cluster(j.to) == *root)
            .map(|j| {
                let [a, b] = j.frames;
                format!("flow {} -> flow {} by {} (frames {a}, {b})", j.from, j.to, j.item)
            })
            .collect();
        total.cluster_list.push(ClusterView {
            cluster: i + 1,
            flows: flows.iter().map(|f| flow_text(c, *f)).collect(),
            associations: assocs
                .iter()
                .map(|r| names.get(r).cloned().unwrap_or_else(|| format!("context #{r}")))
                .collect(),
            joins,
        });
    }
}
