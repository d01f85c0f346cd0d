//! Bounded fragment reassembly shared by IPv4 (RFC 791), IPv6 (RFC 8200 §4.5) and 6LoWPAN
//! (RFC 4944 §5.3).
//!
//! One pool holds every datagram being reassembled, keyed as each RFC says. The pool is bounded
//! three ways, so memory does not grow with the number of frames:
//! - capture-time expiry: a datagram whose first fragment is older than
//!   `NetConfig::reassembly_timeout_secs` is dropped (checked lazily against the next deadline,
//!   so the common path costs one comparison);
//! - a cap on pending datagrams (`max_pending_reassemblies`): the oldest is evicted;
//! - a cap on buffered bytes (`max_reassembly_bytes`): the oldest are evicted.
//!
//! Every drop becomes an `*ReassemblyIncomplete` finding attached to the first fragment's frame.
//! Overlapping fragments keep the bytes that arrived first; an overlap whose bytes differ is an
//! [`FindingKind::IpFragmentOverlap`] finding (identical duplicates are accepted silently).

use super::{MacAddr, NetConfig};
use crate::collections::FastMap;
use crate::finding::{Finding, FindingKind, Layer as FLayer, Severity, Span};
use crate::time::Timestamp;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;

/// Most frame numbers remembered per datagram (a flood of duplicates must not grow memory).
const MAX_FRAMES_PER_DATAGRAM: usize = 256;

/// Reassembly key, per RFC.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    /// RFC 791: source, destination, protocol, identification.
    V4 { src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, id: u16 },
    /// RFC 8200 §4.5: source, destination, identification.
    V6 { src: Ipv6Addr, dst: Ipv6Addr, id: u32 },
    /// RFC 4944 §5.3: link-layer source and destination, datagram_size, datagram_tag.
    Lowpan { src: Option<MacAddr>, dst: Option<MacAddr>, size: u16, tag: u16 },
}

impl Key {
    fn describe(&self) -> String {
        match self {
            Key::V4 { src, dst, protocol, id } => {
                format!("IPv4 datagram {src} -> {dst} (protocol {protocol}, id 0x{id:04x})")
            }
            Key::V6 { src, dst, id } => format!("IPv6 datagram {src} -> {dst} (fragment id 0x{id:08x})"),
            Key::Lowpan { src, dst, size, tag } => format!(
                "6LoWPAN datagram {} -> {} (size {size}, tag 0x{tag:04x})",
                opt_mac(src.as_ref()),
                opt_mac(dst.as_ref())
            ),
        }
    }

    fn finding_kind(&self) -> (FindingKind, FLayer) {
        match self {
            Key::V4 { .. } | Key::V6 { .. } => (FindingKind::IpReassemblyIncomplete, FLayer::Ip),
            Key::Lowpan { .. } => (FindingKind::SixlowpanReassemblyIncomplete, FLayer::Sixlowpan),
        }
    }

    fn layer(&self) -> FLayer {
        self.finding_kind().1
    }
}

fn opt_mac(m: Option<&MacAddr>) -> String {
    m.map_or_else(|| "(none)".to_string(), |m| m.to_string())
}

/// Per-datagram facts carried by some fragments and needed once the datagram is complete.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Meta {
    /// IPv6: the Next Header of the fragmentable part (from the offset-0 fragment header).
    pub next_header: Option<u8>,
    /// 6LoWPAN: the UDP checksum was elided (RFC 6282 §4.3.2) and must be recomputed.
    pub udp_checksum_elided: bool,
}

/// One fragment offered to the pool.
#[derive(Debug)]
pub(crate) struct Fragment<'b> {
    /// Byte offset of `bytes` in the reassembled datagram.
    pub offset: usize,
    pub bytes: &'b [u8],
    /// This fragment ends the datagram (IP: MF = 0).
    pub last: bool,
    /// Datagram size when the fragment header states it (6LoWPAN).
    pub total: Option<usize>,
    /// Largest datagram the protocol allows.
    pub max_len: usize,
    pub frame: u64,
    pub ts: Timestamp,
    /// The fragment header's bytes in the frame (where incompleteness findings point).
    pub header_span: Range<usize>,
    /// Where `bytes` start in the frame, when they are the frame's own bytes (not decompressed).
    pub bytes_in_frame: Option<usize>,
    /// The whole fragment payload in the frame (span for findings when `bytes_in_frame` is None).
    pub payload_span: Range<usize>,
    pub meta: Meta,
}

/// A completed datagram.
#[derive(Debug)]
pub(crate) struct Completed {
    pub bytes: Vec<u8>,
    pub frames: Vec<u64>,
    pub meta: Meta,
}

#[derive(Debug)]
pub(crate) enum Outcome {
    /// Stored; the datagram is not complete yet.
    Pending,
    /// Not stored (inconsistent with the datagram; a finding says why).
    Rejected,
    Complete(Completed),
}

#[derive(Debug)]
struct Pending {
    seq: u64,
    first_ts: Timestamp,
    first_frame: u64,
    first_span: Range<usize>,
    frames: Vec<u64>,
    data: Vec<u8>,
    /// Filled byte ranges: sorted, disjoint and not adjacent (merged).
    filled: Vec<Range<usize>>,
    total: Option<usize>,
    meta: Meta,
}

impl Pending {
    fn received(&self) -> usize {
        self.filled.iter().map(|r| r.end - r.start).sum()
    }

    fn complete(&self) -> bool {
        match (self.total, self.filled.as_slice()) {
            (Some(0), []) => true,
            (Some(t), [only]) => only.start == 0 && only.end == t,
            _ => false,
        }
    }

    /// Marks `r` filled, merging with neighbours.
    fn mark(&mut self, r: Range<usize>) {
        if r.start >= r.end {
            return;
        }
        let mut start = r.start;
        let mut end = r.end;
        // Keep ranges strictly before (not touching) and strictly after; merge the rest.
        let mut merged: Vec<Range<usize>> = Vec::with_capacity(self.filled.len() + 1);
        let mut inserted = false;
        for f in self.filled.drain(..) {
            if f.end < start {
                merged.push(f);
            } else if f.start > end {
                if !inserted {
                    merged.push(start..end);
                    inserted = true;
                }
                merged.push(f);
            } else {
                start = start.min(f.start);
                end = end.max(f.end);
            }
        }
        if !inserted {
            merged.push(start..end);
        }
        self.filled = merged;
    }
}

/// The pool of datagrams being reassembled.
#[derive(Debug, Default)]
pub(crate) struct Reassembler {
    pending: FastMap<Key, Pending>,
    next_seq: u64,
    bytes: usize,
    /// Earliest expiry deadline (ns since epoch) among pending datagrams.
    next_deadline: Option<i128>,
}

fn timeout_ns(cfg: &NetConfig) -> i128 {
    i128::from(cfg.reassembly_timeout_secs) * 1_000_000_000
}

impl Reassembler {
    /// Number of datagrams being reassembled.
    pub(crate) fn pending_count(&self) -> usize {
        self.pending.len()
    }

    /// Drops datagrams whose first fragment is older than the timeout at capture time `now`.
    pub(crate) fn expire(&mut self, now: Timestamp, cfg: &NetConfig, earlier: &mut Vec<(u64, Finding)>) {
        let Some(deadline) = self.next_deadline else { return };
        let now_ns = now.as_nanos();
        if now_ns <= deadline {
            return;
        }
        let limit = timeout_ns(cfg);
        let mut expired: Vec<Key> = self
            .pending
            .iter()
            .filter(|(_, p)| now_ns - p.first_ts.as_nanos() > limit)
            .map(|(k, _)| k.clone())
            .collect();
        expired.sort_by_key(|k| self.pending.get(k).map_or(0, |p| p.seq));
        let reason = format!(
            "no completion within {} s of capture time after the first fragment; dropped",
            cfg.reassembly_timeout_secs
        );
        for k in expired {
            if let Some((frame, f)) = self.drop_entry(&k, &reason) {
                earlier.push((frame, f));
            }
        }
        self.recompute_deadline(cfg);
    }

    fn recompute_deadline(&mut self, cfg: &NetConfig) {
        let limit = timeout_ns(cfg);
        self.next_deadline = self.pending.values().map(|p| p.first_ts.as_nanos() + limit).min();
    }

    /// Removes one datagram and describes it as an incomplete-reassembly finding.
    fn drop_entry(&mut self, key: &Key, reason: &str) -> Option<(u64, Finding)> {
        let p = self.pending.remove(key)?;
        self.bytes = self.bytes.saturating_sub(p.data.len());
        Some(incomplete_finding(key, &p, reason))
    }

    fn evict_oldest_except(&mut self, keep: Option<&Key>, reason: &str) -> Option<(u64, Finding)> {
        let oldest = self
            .pending
            .iter()
            .filter(|(k, _)| Some(*k) != keep)
            .min_by_key(|(_, p)| p.seq)
            .map(|(k, _)| k.clone())?;
        self.drop_entry(&oldest, reason)
    }

    /// Offers one fragment. Findings about this frame go to `findings`; findings about other
    /// frames (evicted datagrams) go to `earlier`.
    pub(crate) fn add(
        &mut self,
        key: Key,
        frag: Fragment<'_>,
        cfg: &NetConfig,
        findings: &mut Vec<Finding>,
        earlier: &mut Vec<(u64, Finding)>,
    ) -> Outcome {
        let layer = key.layer();
        let malformed_kind = if layer == FLayer::Sixlowpan {
            FindingKind::SixlowpanMalformed
        } else {
            FindingKind::IpMalformed
        };
        let frag_len = frag.bytes.len();
        let end = frag.offset.saturating_add(frag_len);
        let reject = |findings: &mut Vec<Finding>, msg: String| {
            findings.push(
                Finding::new(malformed_kind, Severity::Medium, layer, msg)
                    .at(Span::frame(frag.header_span.start..frag.payload_span.end)),
            );
            Outcome::Rejected
        };
        if end > frag.max_len {
            return reject(
                findings,
                format!(
                    "{}: fragment covers bytes {}..{end}, beyond the largest datagram of {} bytes; not reassembled",
                    key.describe(),
                    frag.offset,
                    frag.max_len
                ),
            );
        }
        if let Some(t) = frag.total
            && end > t
        {
            return reject(
                findings,
                format!(
                    "{}: fragment covers bytes {}..{end}, beyond the datagram size {t}; not reassembled",
                    key.describe(),
                    frag.offset
                ),
            );
        }

        if !self.pending.contains_key(&key) {
            // Room for one more datagram.
            let cap = cfg.max_pending_reassemblies.max(1);
            while self.pending.len() >= cap {
                let reason = format!("dropped: more than {cap} datagrams were being reassembled at once");
                match self.evict_oldest_except(None, &reason) {
                    Some(e) => earlier.push(e),
                    None => break,
                }
            }
            let seq = self.next_seq;
            self.next_seq += 1;
            self.pending.insert(
                key.clone(),
                Pending {
                    seq,
                    first_ts: frag.ts,
                    first_frame: frag.frame,
                    first_span: frag.header_span.clone(),
                    frames: Vec::new(),
                    data: Vec::new(),
                    filled: Vec::new(),
                    total: frag.total,
                    meta: Meta::default(),
                },
            );
            let deadline = frag.ts.as_nanos() + timeout_ns(cfg);
            self.next_deadline = Some(self.next_deadline.map_or(deadline, |d| d.min(deadline)));
        }
        let Some(p) = self.pending.get_mut(&key) else { return Outcome::Rejected };

        // Consistency of the datagram's end.
        let filled_end = p.filled.last().map_or(0, |r| r.end);
        if frag.last {
            if let Some(t) = p.total
                && t != end
            {
                return reject(
                    findings,
                    format!(
                        "{}: last fragment ends at byte {end}, but an earlier last fragment ended it at byte {t}",
                        key.describe()
                    ),
                );
            }
            if filled_end > end {
                return reject(
                    findings,
                    format!(
                        "{}: last fragment ends at byte {end}, but bytes up to {filled_end} were already received",
                        key.describe()
                    ),
                );
            }
        } else if let Some(t) = p.total
            && end > t
        {
            return reject(
                findings,
                format!("{}: fragment ends at byte {end}, beyond the datagram end {t}", key.describe()),
            );
        }

        if p.frames.last() != Some(&frag.frame) && p.frames.len() < MAX_FRAMES_PER_DATAGRAM {
            p.frames.push(frag.frame);
        }
        if frag.last {
            p.total = Some(end);
        }
        if frag.meta.next_header.is_some() {
            p.meta.next_header = frag.meta.next_header;
        }
        p.meta.udp_checksum_elided |= frag.meta.udp_checksum_elided;

        let grow = end.saturating_sub(p.data.len());
        if grow > 0 {
            p.data.resize(end, 0);
            self.bytes += grow;
        }

        // Compare the overlap with what is already there; copy only into the gaps.
        let mut conflict: Option<Range<usize>> = None;
        let mut cursor = frag.offset;
        let ranges: Vec<Range<usize>> =
            p.filled.iter().filter(|r| r.start < end && r.end > frag.offset).cloned().collect();
        for r in &ranges {
            let os = r.start.max(frag.offset);
            let oe = r.end.min(end);
            // gap before this filled range
            if cursor < os {
                copy_into(&mut p.data, cursor..os, frag.bytes, cursor - frag.offset);
            }
            let old = p.data.get(os..oe).unwrap_or(&[]);
            let new = frag.bytes.get(os - frag.offset..oe - frag.offset).unwrap_or(&[]);
            // the differing bytes, narrowed to the first and last that differ
            let first = old.iter().zip(new).position(|(a, b)| a != b);
            let last = old.iter().zip(new).rposition(|(a, b)| a != b);
            if let (Some(f), Some(l)) = (first, last) {
                let (cs, ce) = (os + f, os + l + 1);
                conflict = Some(match conflict {
                    Some(c) => c.start.min(cs)..c.end.max(ce),
                    None => cs..ce,
                });
            }
            cursor = cursor.max(oe);
        }
        if cursor < end {
            copy_into(&mut p.data, cursor..end, frag.bytes, cursor - frag.offset);
        }
        p.mark(frag.offset..end);

        if let Some(c) = conflict {
            let span = match frag.bytes_in_frame {
                Some(s) => Span::frame(s + (c.start - frag.offset)..s + (c.end - frag.offset)),
                None => Span::frame(frag.payload_span.clone()),
            };
            findings.push(
                Finding::new(
                    FindingKind::IpFragmentOverlap,
                    Severity::High,
                    layer,
                    format!(
                        "{}: fragment bytes {}..{} overlap earlier fragments with different content \
                         (expected identical bytes); the earlier bytes are kept",
                        key.describe(),
                        c.start,
                        c.end
                    ),
                )
                .at(span)
                .related(p.frames.iter().copied().filter(|f| *f != frag.frame)),
            );
        }

        if p.complete() {
            let Some(mut done) = self.pending.remove(&key) else { return Outcome::Rejected };
            self.bytes = self.bytes.saturating_sub(done.data.len());
            done.data.truncate(done.total.unwrap_or(0));
            self.recompute_deadline(cfg);
            return Outcome::Complete(Completed { bytes: done.data, frames: done.frames, meta: done.meta });
        }

        // Byte cap: evict the oldest other datagrams while over it.
        while self.bytes > cfg.max_reassembly_bytes {
            let reason = format!(
                "dropped: reassembly buffers exceeded {} bytes (NetConfig::max_reassembly_bytes)",
                cfg.max_reassembly_bytes
            );
            match self.evict_oldest_except(Some(&key), &reason) {
                Some(e) => earlier.push(e),
                None => {
                    // This datagram alone is over the cap.
                    if let Some(e) = self.drop_entry(&key, &reason) {
                        earlier.push(e);
                    }
                    self.recompute_deadline(cfg);
                    return Outcome::Rejected;
                }
            }
        }
        self.recompute_deadline_if_needed(cfg);
        Outcome::Pending
    }

    fn recompute_deadline_if_needed(&mut self, cfg: &NetConfig) {
        if self.pending.is_empty() {
            self.next_deadline = None;
        } else if self.next_deadline.is_none() {
            self.recompute_deadline(cfg);
        }
    }

    /// Every datagram still pending, as incomplete-reassembly findings (in arrival order).
    pub(crate) fn finish(&mut self) -> Vec<(u64, Finding)> {
        let mut all: Vec<(Key, Pending)> = self.pending.drain().collect();
        all.sort_by_key(|(_, p)| p.seq);
        self.bytes = 0;
        self.next_deadline = None;
        all.iter()
            .map(|(k, p)| incomplete_finding(k, p, "the capture ended before the datagram was complete"))
            .collect()
    }
}

fn copy_into(dst: &mut [u8], r: Range<usize>, src: &[u8], src_start: usize) {
    let len = r.end.saturating_sub(r.start);
    if let (Some(d), Some(s)) = (dst.get_mut(r), src.get(src_start..src_start + len)) {
        d.copy_from_slice(s);
    }
}

fn incomplete_finding(key: &Key, p: &Pending, reason: &str) -> (u64, Finding) {
    let (kind, layer) = key.finding_kind();
    let total = p.total.map_or_else(|| "an unknown number of".to_string(), |t| t.to_string());
    let frames: Vec<String> = p.frames.iter().map(u64::to_string).collect();
    let msg = format!(
        "{}: expected a complete datagram, received {} of {total} bytes in {} fragment(s) (frames {}); {reason}",
        key.describe(),
        p.received(),
        p.frames.len(),
        frames.join(", ")
    );
    let f = Finding::new(kind, Severity::Low, layer, msg)
        .at(Span::frame(p.first_span.clone()))
        .related(p.frames.iter().copied().filter(|f| *f != p.first_frame));
    (p.first_frame, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> NetConfig {
        NetConfig { max_pending_reassemblies: 2, reassembly_timeout_secs: 10, ..NetConfig::default() }
    }

    fn key(id: u16) -> Key {
        Key::V4 { src: Ipv4Addr::new(192, 0, 2, 1), dst: Ipv4Addr::new(192, 0, 2, 2), protocol: 17, id }
    }

    fn frag(offset: usize, bytes: &[u8], last: bool, frame: u64, secs: i64) -> Fragment<'_> {
        Fragment {
            offset,
            bytes,
            last,
            total: None,
            max_len: 65535,
            frame,
            ts: Timestamp::new(secs, 0),
            header_span: 14..34,
            bytes_in_frame: Some(34),
            payload_span: 34..34 + bytes.len(),
            meta: Meta::default(),
        }
    }

    #[test]
    fn out_of_order_completes_and_merges_ranges() {
        let mut r = Reassembler::default();
        let (mut f, mut e) = (Vec::new(), Vec::new());
        let c = cfg();
        assert!(matches!(r.add(key(1), frag(16, &[3; 8], true, 3, 0), &c, &mut f, &mut e), Outcome::Pending));
        assert!(matches!(r.add(key(1), frag(0, &[1; 8], false, 1, 0), &c, &mut f, &mut e), Outcome::Pending));
        let Outcome::Complete(done) = r.add(key(1), frag(8, &[2; 8], false, 2, 0), &c, &mut f, &mut e) else {
            panic!("expected completion")
        };
        assert_eq!(done.bytes, [[1u8; 8], [2; 8], [3; 8]].concat());
        assert_eq!(done.frames, vec![3, 1, 2]);
        assert!(f.is_empty() && e.is_empty());
        assert_eq!(r.pending_count(), 0);
        assert_eq!(r.bytes, 0);
    }

    #[test]
    fn identical_duplicate_is_silent_conflicting_overlap_is_reported_and_first_kept() {
        let mut r = Reassembler::default();
        let (mut f, mut e) = (Vec::new(), Vec::new());
        let c = cfg();
        r.add(key(2), frag(0, &[1; 16], false, 1, 0), &c, &mut f, &mut e);
        r.add(key(2), frag(0, &[1; 16], false, 2, 0), &c, &mut f, &mut e);
        assert!(f.is_empty());
        // bytes 8..24: 8..16 overlap with different content
        r.add(key(2), frag(8, &[9; 16], false, 3, 0), &c, &mut f, &mut e);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].kind, FindingKind::IpFragmentOverlap);
        assert_eq!(f[0].span, Some(Span::Frame { start: 34, end: 42 }));
        assert_eq!(f[0].related_frames, vec![1, 2]);
        let Outcome::Complete(done) = r.add(key(2), frag(24, &[4; 8], true, 4, 0), &c, &mut f, &mut e) else {
            panic!()
        };
        assert_eq!(done.bytes, [&[1u8; 16][..], &[9; 8], &[4; 8]].concat());
    }

    #[test]
    fn timeout_expiry_uses_capture_time() {
        let mut r = Reassembler::default();
        let (mut f, mut e) = (Vec::new(), Vec::new());
        let c = cfg();
        r.add(key(3), frag(0, &[1; 8], false, 5, 100), &c, &mut f, &mut e);
        r.expire(Timestamp::new(110, 0), &c, &mut e); // exactly the timeout: kept
        assert!(e.is_empty());
        assert_eq!(r.pending_count(), 1);
        r.expire(Timestamp::new(110, 1), &c, &mut e);
        assert_eq!(r.pending_count(), 0);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].0, 5);
        assert_eq!(e[0].1.kind, FindingKind::IpReassemblyIncomplete);
        assert!(e[0].1.message.contains("received 8 of an unknown number of bytes"), "{}", e[0].1.message);
        assert_eq!(r.next_deadline, None);
    }

    #[test]
    fn cap_evicts_oldest() {
        let mut r = Reassembler::default();
        let (mut f, mut e) = (Vec::new(), Vec::new());
        let c = cfg();
        for id in 0..3u16 {
            r.add(key(id), frag(0, &[1; 8], false, u64::from(id) + 1, 0), &c, &mut f, &mut e);
        }
        assert_eq!(r.pending_count(), 2);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].0, 1, "the oldest (frame 1) is evicted");
        assert!(e[0].1.message.contains("more than 2 datagrams"), "{}", e[0].1.message);
        assert!(r.pending.contains_key(&key(1)) && r.pending.contains_key(&key(2)));
    }

    #[test]
    fn byte_cap_evicts_oldest() {
        let mut r = Reassembler::default();
        let (mut f, mut e) = (Vec::new(), Vec::new());
        let c = NetConfig { max_reassembly_bytes: 100, ..cfg() };
        r.add(key(1), frag(0, &[1; 64], false, 1, 0), &c, &mut f, &mut e);
        r.add(key(2), frag(0, &[1; 64], false, 2, 0), &c, &mut f, &mut e);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].0, 1);
        assert!(r.bytes <= 100);
    }

    #[test]
    fn inconsistent_ends_are_rejected() {
        let mut r = Reassembler::default();
        let (mut f, mut e) = (Vec::new(), Vec::new());
        let c = cfg();
        r.add(key(4), frag(8, &[1; 8], true, 1, 0), &c, &mut f, &mut e);
        assert!(matches!(
            r.add(key(4), frag(16, &[1; 8], false, 2, 0), &c, &mut f, &mut e),
            Outcome::Rejected
        ));
        assert!(matches!(r.add(key(4), frag(0, &[1; 8], true, 3, 0), &c, &mut f, &mut e), Outcome::Rejected));
        assert!(matches!(
            r.add(key(4), frag(65530, &[1; 8], false, 4, 0), &c, &mut f, &mut e),
            Outcome::Rejected
        ));
        assert_eq!(f.len(), 3);
        assert!(f.iter().all(|x| x.kind == FindingKind::IpMalformed));
        let done = r.finish();
        assert_eq!(done.len(), 1);
        assert!(done[0].1.message.contains("received 8 of 16 bytes"), "{}", done[0].1.message);
    }
}
