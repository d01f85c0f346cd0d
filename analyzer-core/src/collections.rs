//! The tables the per-message state lives in: a fast hash map, and a map whose entries expire
//! by capture time and whose size is capped.

use std::cmp::Ordering;
use std::collections::hash_map::Entry;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::hash::Hash;

/// A hash map with foldhash (per-process random seed): the per-message tables hash short keys
/// (endpoints, tokens, frame numbers) several times per message, where SipHash dominated.
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// When an entry of a [`Bounded`] is due: expiry time (nanoseconds, saturated to i64: ±292
/// years around 1970), then insertion order.
type Due = (i64, u64);

/// A heap entry: which key is due when. Ordered by `due` only, reversed (earliest first).
#[derive(Debug)]
struct Deadline<K> {
    due: Due,
    key: K,
}

impl<K> PartialEq for Deadline<K> {
    fn eq(&self, other: &Self) -> bool {
        self.due == other.due
    }
}

impl<K> Eq for Deadline<K> {}

impl<K> PartialOrd for Deadline<K> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<K> Ord for Deadline<K> {
    fn cmp(&self, other: &Self) -> Ordering {
        other.due.cmp(&self.due)
    }
}

/// An entry and the insertion number of its live deadline (the `.1` of its [`Due`]: unique).
#[derive(Debug)]
struct Slot<V> {
    seq: u64,
    value: V,
}

/// An entry taken out of a [`Bounded`], its deadline still queued.
#[derive(Debug)]
pub(crate) struct Taken<V> {
    seq: u64,
    pub(crate) value: V,
}

/// A map whose entries expire by capture time and that can be cut to a size, the entry with
/// the earliest expiry (then the oldest) going first.
///
/// Deadlines: capture time mostly moves forward, so most new deadlines are the latest yet and
/// go to the back of a queue kept in order; the others (time going back, an entry kept longer)
/// go to a binary heap. The earlier of the two fronts is next. Both are cleaned lazily:
/// removing or replacing an entry leaves its old deadline behind, skipped when it comes up
/// (its `due` no longer matches the entry's); when stale deadlines outnumber live ones they
/// are rebuilt from the map, so they stay within twice the map's size (plus a constant)
/// whatever the traffic.
#[derive(Debug)]
pub(crate) struct Bounded<K, V> {
    map: FastMap<K, Slot<V>>,
    in_order: VecDeque<(Due, K)>,
    out_of_order: BinaryHeap<Deadline<K>>,
    seq: u64,
}

impl<K: Hash + Eq + Clone, V> Default for Bounded<K, V> {
    fn default() -> Self {
        Bounded {
            map: FastMap::default(),
            in_order: VecDeque::new(),
            out_of_order: BinaryHeap::new(),
            seq: 0,
        }
    }
}

/// The largest table reserved up front (entries).
const MAX_RESERVE: usize = 1 << 17;

/// Room reserved for a table of at most `cap` live entries that sees many removals: they
/// leave tombstones, and a table more than half live grows when tombstones fill it, so twice
/// `cap` (up to [`MAX_RESERVE`]). Reserving costs no memory until entries arrive (pages are
/// only touched when written) and spares the moment where a growing table and its copy both
/// exist.
fn reserve_for(cap: usize) -> usize {
    cap.saturating_mul(2).min(MAX_RESERVE)
}

/// A [`FastMap`] for at most `cap` live entries (see [`reserve_for`]).
pub(crate) fn capped_map<K, V>(cap: usize) -> FastMap<K, V> {
    FastMap::with_capacity_and_hasher(reserve_for(cap), Default::default())
}

impl<K: Hash + Eq + Clone, V> Bounded<K, V> {
    /// A table for at most `cap` live entries.
    pub(crate) fn with_capacity(cap: usize) -> Self {
        Bounded {
            map: capped_map(cap),
            in_order: VecDeque::with_capacity(reserve_for(cap)),
            ..Default::default()
        }
    }

    pub(crate) fn get(&self, k: &K) -> Option<&V> {
        self.map.get(k).map(|s| &s.value)
    }

    pub(crate) fn remove(&mut self, k: &K) -> Option<V> {
        self.map.remove(k).map(|s| s.value)
    }

    /// Takes an entry out to update it: give it back with [`Bounded::put_back`] (same
    /// deadline, nothing queued) or [`Bounded::insert`] (a new one), with no other insert into
    /// this table in between (an insert may rebuild the deadlines from the entries present).
    pub(crate) fn take(&mut self, k: &K) -> Option<Taken<V>> {
        self.map.remove(k).map(|s| Taken { seq: s.seq, value: s.value })
    }

    pub(crate) fn put_back(&mut self, k: K, t: Taken<V>) {
        self.map.insert(k, Slot { seq: t.seq, value: t.value });
    }

    /// Inserts (replacing any entry with the same key, which is returned).
    pub(crate) fn insert(&mut self, k: K, value: V, expires: i128) -> Option<V> {
        self.seq += 1;
        let due = (saturate(expires), self.seq);
        if self.in_order.back().is_none_or(|(last, _)| *last <= due) {
            self.in_order.push_back((due, k.clone()));
        } else {
            self.out_of_order.push(Deadline { due, key: k.clone() });
        }
        let old = self.map.insert(k, Slot { seq: self.seq, value }).map(|s| s.value);
        if self.in_order.len() + self.out_of_order.len() > 2 * self.map.len() + 64 {
            let mut live: Vec<(Due, K)> = std::mem::take(&mut self.in_order)
                .into_iter()
                .chain(std::mem::take(&mut self.out_of_order).into_iter().map(|d| (d.due, d.key)))
                .filter(|(due, k)| self.map.get(k).is_some_and(|s| s.seq == due.1))
                .collect();
            live.sort_unstable_by_key(|(due, _)| *due);
            self.in_order = live.into();
        }
        old
    }

    /// Removes one entry that expired at `now`.
    pub(crate) fn pop_expired(&mut self, now: i128) -> Option<(K, V)> {
        let now = saturate(now);
        self.pop_due(|due| due.0 <= now)
    }

    /// Removes the entry that expires first.
    pub(crate) fn pop_first(&mut self) -> Option<(K, V)> {
        self.pop_due(|_| true)
    }

    fn pop_due(&mut self, ready: impl Fn(Due) -> bool) -> Option<(K, V)> {
        loop {
            let queued = self.in_order.front().map(|(due, _)| *due);
            let heaped = self.out_of_order.peek().map(|d| d.due);
            let (from_queue, first) = match (queued, heaped) {
                (Some(q), Some(h)) => (q <= h, q.min(h)),
                (Some(q), None) => (true, q),
                (None, Some(h)) => (false, h),
                (None, None) => return None,
            };
            // Live or left behind, nothing after the first deadline is due before it.
            if !ready(first) {
                return None;
            }
            let (due, key) = if from_queue {
                self.in_order.pop_front()?
            } else {
                self.out_of_order.pop().map(|d| (d.due, d.key))?
            };
            // Skip a deadline left behind by a removed or replaced entry.
            if let Entry::Occupied(e) = self.map.entry(key)
                && e.get().seq == due.1
            {
                let (key, slot) = e.remove_entry();
                return Some((key, slot.value));
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Every entry, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.map.iter().map(|(k, s)| (k, &s.value))
    }

    /// Every entry, in no particular order; the tables' memory is released.
    pub(crate) fn take_all(&mut self) -> Vec<(K, V)> {
        let map = std::mem::take(self).map;
        map.into_iter().map(|(k, s)| (k, s.value)).collect()
    }
}

fn saturate(nanos: i128) -> i64 {
    i64::try_from(nanos).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_leave_by_expiry_then_age() {
        let mut b = Bounded::default();
        b.insert("a", 1, 30);
        b.insert("b", 2, 10);
        b.insert("c", 3, 10);
        b.insert("d", 4, 20);
        assert_eq!(b.pop_expired(5), None);
        assert_eq!(b.pop_expired(10), Some(("b", 2)));
        assert_eq!(b.pop_expired(10), Some(("c", 3)));
        assert_eq!(b.pop_expired(10), None);
        assert_eq!(b.pop_first(), Some(("d", 4)));
        assert_eq!(b.len(), 1);
    }

    #[test]
    fn time_going_back_and_forth_keeps_the_expiry_order() {
        let mut b = Bounded::default();
        for (i, due) in [50, 10, 60, 20, 20, 70, 5].into_iter().enumerate() {
            b.insert(i, due, due);
        }
        let order: Vec<i128> = std::iter::from_fn(|| b.pop_first()).map(|(_, v)| v).collect();
        assert_eq!(order, [5, 10, 20, 20, 50, 60, 70]);
    }

    #[test]
    fn replaced_and_removed_entries_leave_no_live_deadline() {
        let mut b = Bounded::default();
        b.insert("a", 1, 10);
        assert_eq!(b.insert("a", 2, 50), Some(1));
        b.insert("b", 3, 20);
        assert_eq!(b.remove(&"b"), Some(3));
        // The stale deadlines of "a" at 10 and "b" at 20 are skipped.
        assert_eq!(b.pop_expired(40), None);
        assert_eq!(b.get(&"a"), Some(&2));
        assert_eq!(b.pop_expired(50), Some(("a", 2)));
        assert_eq!(b.pop_first(), None);
    }

    #[test]
    fn an_entry_put_back_keeps_its_deadline() {
        let mut b = Bounded::default();
        b.insert("a", 1, 10);
        b.insert("b", 2, 20);
        let mut t = b.take(&"a").unwrap();
        t.value += 10;
        b.put_back("a", t);
        assert_eq!(b.in_order.len(), 2, "nothing queued");
        assert_eq!(b.pop_expired(10), Some(("a", 11)));
    }

    #[test]
    fn stale_deadlines_stay_bounded_when_time_stands_still() {
        let mut b = Bounded::default();
        for i in 0..100_000u32 {
            b.insert(i % 10, i, 0);
        }
        assert_eq!(b.len(), 10);
        assert!(b.in_order.len() + b.out_of_order.len() <= 2 * 10 + 64 + 1);
        let mut left: Vec<u32> = std::iter::from_fn(|| b.pop_expired(0)).map(|(_, v)| v).collect();
        left.sort_unstable();
        assert_eq!(left, (99_990..100_000).collect::<Vec<_>>());
    }
}
