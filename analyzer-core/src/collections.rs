//! The tables the per-message state lives in: a fast hash map, and a map whose entries expire
//! by capture time and whose size is capped.

use std::cmp::Ordering;
use std::collections::hash_map::Entry;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::hash::{BuildHasher, Hash, Hasher};
use std::num::NonZeroU64;

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

impl<K: Hash + Eq + Clone, V> Bounded<K, V> {
    pub(crate) fn get(&self, k: &K) -> Option<&V> {
        self.map.get(k).map(|s| &s.value)
    }

    pub(crate) fn remove(&mut self, k: &K) -> Option<V> {
        self.map.remove(k).map(|s| s.value)
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

    /// Every entry, in no particular order; the tables' memory is released.
    pub(crate) fn take_all(&mut self) -> Vec<(K, V)> {
        let map = std::mem::take(self).map;
        map.into_iter().map(|(k, s)| (k, s.value)).collect()
    }
}

/// A map with 64-bit keys whose entries leave in insertion order: when the front one expires,
/// or when there are more than the cap. For tables whose entries mostly share one lifetime
/// (CoAP deduplication and requests: EXCHANGE_LIFETIME from the message), where insertion
/// order is expiry order as long as capture time moves forward.
///
/// Entries sit in a ring in insertion order and an index maps keys to their insertion number.
/// Expiry and eviction only pop the ring's front (sequential reads): the index entry of a
/// popped key is left behind, stale (its number is below the ring's front), and stale entries
/// are swept out in one sequential pass once they make up a third of the index. So an
/// eviction never reads a table slot at random, which at a full table costs a cache miss per
/// message. A replaced or removed entry leaves an empty ring slot behind, dropped when it
/// reaches the front; the ring is cut to twice the cap (plus a constant) whatever the traffic.
///
/// Order is kept loosely: an entry that outlives the newest one when it reaches the front
/// (an observation extended by Max-Age) goes round to the back again; an entry inserted while
/// capture time went back waits behind earlier insertions. Either way an entry is kept at most
/// until the entries before it expire, and never beyond the cap.
#[derive(Debug)]
pub(crate) struct Fifo<V, S = foldhash::fast::RandomState> {
    /// Key -> insertion number (stale when below `base`).
    index: HashMap<u64, u64, S>,
    ring: VecDeque<FifoSlot<V>>,
    /// Insertion number of the ring's front.
    base: u64,
    /// Live entries.
    live: usize,
    cap: usize,
}

#[derive(Debug)]
struct FifoSlot<V> {
    key: u64,
    expires: i64,
    /// None once replaced or removed.
    value: Option<V>,
}

impl<V, S: BuildHasher + Default> Fifo<V, S> {
    /// A table for at most `cap` live entries.
    pub(crate) fn with_capacity(cap: usize) -> Self {
        let cap = cap.max(1);
        Fifo {
            index: HashMap::with_capacity_and_hasher(reserve_for(cap), S::default()),
            ring: VecDeque::with_capacity(reserve_for(cap)),
            base: 0,
            live: 0,
            cap,
        }
    }

    /// Ring position of a key's entry (maybe an empty slot).
    fn position(&self, k: &u64) -> Option<usize> {
        let seq = *self.index.get(k)?;
        usize::try_from(seq.checked_sub(self.base)?).ok()
    }

    pub(crate) fn get(&self, k: &u64) -> Option<&V> {
        self.ring.get(self.position(k)?)?.value.as_ref()
    }

    pub(crate) fn get_mut(&mut self, k: &u64) -> Option<&mut V> {
        let i = self.position(k)?;
        self.ring.get_mut(i)?.value.as_mut()
    }

    pub(crate) fn remove(&mut self, k: &u64) -> Option<V> {
        let i = self.position(k)?;
        let v = self.ring.get_mut(i)?.value.take()?;
        self.index.remove(k);
        self.live -= 1;
        Some(v)
    }

    /// Inserts at the back, replacing any entry with the same key (which is returned). The
    /// table may then be over its cap: see [`Fifo::pop_over_cap`].
    pub(crate) fn insert(&mut self, k: u64, value: V, expires: i128) -> Option<V> {
        let old = self
            .push(k, value, saturate(expires))
            .and_then(|seq| usize::try_from(seq.checked_sub(self.base)?).ok())
            .and_then(|i| self.ring.get_mut(i))
            .and_then(|s| s.value.take());
        if old.is_none() {
            self.live += 1;
        }
        old
    }

    /// Appends an entry; returns the insertion number the key had (maybe stale).
    fn push(&mut self, k: u64, value: V, expires: i64) -> Option<u64> {
        let seq = self.base + self.ring.len() as u64;
        let prev = self.index.insert(k, seq);
        self.ring.push_back(FifoSlot { key: k, expires, value: Some(value) });
        if self.index.len() > self.cap + self.cap / 2 + 64 {
            let base = self.base;
            self.index.retain(|_, seq| *seq >= base);
        }
        prev
    }

    /// Moves a key's entry to the back, where it is evicted last, with a later expiry (never
    /// an earlier one): an entry in use again, such as an observation that keeps receiving
    /// notifications. One index update; its old ring slot is left empty.
    pub(crate) fn refresh(&mut self, k: &u64, expires: i128) {
        let Some(slot) = self.position(k).and_then(|i| self.ring.get_mut(i)) else { return };
        let Some(value) = slot.value.take() else { return };
        let expires = slot.expires.max(saturate(expires));
        self.push(*k, value, expires);
    }

    /// Removes the oldest entry while there are more than the cap (or too many empty slots).
    pub(crate) fn pop_over_cap(&mut self) -> Option<(u64, V)> {
        while self.live > self.cap || self.ring.len() > 2 * self.cap + 64 {
            if let Some(e) = self.pop_front()? {
                return Some(e);
            }
        }
        None
    }

    /// Removes one entry that expired at `now`, from the front.
    pub(crate) fn pop_expired(&mut self, now: i128) -> Option<(u64, V)> {
        let now = saturate(now);
        loop {
            let front = self.ring.front()?;
            if front.value.is_some() && front.expires > now {
                // Not due: go round if it outlives the newest entry, so that it does not hold
                // up the entries behind it; else nothing is due.
                if self.ring.back().is_none_or(|b| front.expires <= b.expires) {
                    return None;
                }
                if let Some(slot) = self.ring.pop_front() {
                    self.base += 1;
                    if let Some(v) = slot.value {
                        self.push(slot.key, v, slot.expires);
                    }
                }
                continue;
            }
            if let Some(e) = self.pop_front()? {
                return Some(e);
            }
        }
    }

    /// The front slot: Some(Some(entry)) when it was live, Some(None) for an empty one.
    fn pop_front(&mut self) -> Option<Option<(u64, V)>> {
        let slot = self.ring.pop_front()?;
        self.base += 1;
        if slot.value.is_some() {
            self.live -= 1;
        }
        Some(slot.value.map(|v| (slot.key, v)))
    }

    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// Every entry, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&u64, &V)> {
        self.ring.iter().filter_map(|s| Some((&s.key, s.value.as_ref()?)))
    }

    /// Every entry, oldest first; the table's memory is released.
    pub(crate) fn take_all(&mut self) -> Vec<(u64, V)> {
        let ring = std::mem::take(&mut self.ring);
        *self = Fifo::with_capacity(0);
        ring.into_iter().filter_map(|s| Some((s.key, s.value?))).collect()
    }
}

/// The hash of a [`Fifo`] index keyed by frame numbers: the low bits are the frame number as
/// it is (the high bits, which the hash table uses as tags, are mixed). A table filled in
/// frame order then writes its index in order, neighbouring entries sharing cache lines and
/// the recent ones still in the cache, where a seeded hash costs a random cache line per
/// insertion (measured: about 9 % of `kudoscope stats` on 1M OSCORE messages, more than hashing
/// four or 64 consecutive frames together). The price: frames that all hold entries fill a run
/// of buckets, and a lookup of an absent frame inside such a run probes to its end, at most
/// the table's size (65,536 buckets, 4,096 groups of 16) per lookup. Frame numbers are not
/// chosen by the traffic, and the engine looks up absent frames only for responses whose
/// request it did not keep.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FrameKeys;

impl BuildHasher for FrameKeys {
    type Hasher = FrameHasher;
    fn build_hasher(&self) -> FrameHasher {
        FrameHasher(0)
    }
}

#[derive(Debug)]
pub(crate) struct FrameHasher(u64);

impl Hasher for FrameHasher {
    fn finish(&self) -> u64 {
        let x = self.0;
        x ^ (x.wrapping_mul(0x9e37_79b9_7f4a_7c15) & (0x7f << 57))
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A frame number as stored in the tables (frame numbers are 1-based; 0 would read as 1), so
/// that an optional one takes a word.
pub(crate) fn nz(frame: u64) -> NonZeroU64 {
    NonZeroU64::new(frame).unwrap_or(NonZeroU64::MIN)
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
    fn fifo_expires_in_insertion_order_and_evicts_over_its_cap() {
        let mut f: Fifo<_> = Fifo::with_capacity(3);
        assert_eq!(f.insert(1, "a", 10), None);
        assert_eq!(f.insert(2, "b", 20), None);
        assert_eq!(f.insert(1, "a2", 30), Some("a"), "replaced");
        assert_eq!(f.get(&1), Some(&"a2"));
        assert_eq!(f.len(), 2);
        // The replaced slot in front is skipped; "b" expires at 20.
        assert_eq!(f.pop_expired(15), None);
        assert_eq!(f.pop_expired(20), Some((2, "b")));
        f.insert(3, "c", 40);
        f.insert(4, "d", 50);
        assert_eq!(f.pop_over_cap(), None);
        f.insert(5, "e", 60);
        assert_eq!(f.pop_over_cap(), Some((1, "a2")), "over the cap: the oldest goes");
        assert_eq!(f.pop_over_cap(), None);
        assert_eq!(f.get(&1), None);
        assert_eq!((f.get(&3), f.get(&5), f.len()), (Some(&"c"), Some(&"e"), 3));
        // A key whose entry left comes back as new; removal leaves nothing behind.
        f.insert(1, "a3", 70);
        assert_eq!(f.pop_over_cap(), Some((3, "c")));
        assert_eq!(f.remove(&4), Some("d"));
        *f.get_mut(&1).unwrap() = "a4";
        let all: Vec<(u64, &str)> = f.iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(all, [(5, "e"), (1, "a4")]);
        assert_eq!(f.take_all(), [(5, "e"), (1, "a4")]);
        assert_eq!(f.len(), 0);
    }

    #[test]
    fn fifo_ring_stays_bounded_when_one_key_is_replaced_forever() {
        let mut f: Fifo<_> = Fifo::with_capacity(4);
        for i in 0..100_000u32 {
            f.insert(u64::from(i % 2), i, 0);
            assert_eq!(f.pop_over_cap(), None);
        }
        assert_eq!(f.len(), 2);
        assert!(f.ring.len() <= 2 * 4 + 64 + 1, "{}", f.ring.len());
        assert!(f.index.len() <= 4 + 2 + 64 + 1, "stale index entries are swept: {}", f.index.len());
        assert_eq!((f.get(&0), f.get(&1)), (Some(&99_998), Some(&99_999)));
        let mut left: Vec<u32> = std::iter::from_fn(|| f.pop_expired(0)).map(|(_, v)| v).collect();
        left.sort_unstable();
        assert_eq!(left, [99_998, 99_999]);
    }

    /// Keyed by frame numbers (FrameKeys): present and absent frames are told apart through
    /// many wraps of the index, with every frame or every other one holding an entry.
    #[test]
    fn fifo_by_frame_finds_what_it_keeps() {
        for every in [1u64, 2, 3] {
            let mut f: Fifo<u64, FrameKeys> = Fifo::with_capacity(1000);
            for frame in (1..300_000u64).filter(|n| n % every == 0) {
                f.insert(frame, frame * 10, 0);
                while f.pop_over_cap().is_some() {}
                if frame % 997 == 0 {
                    let kept = 1000 * every;
                    for probe in frame.saturating_sub(kept + 50)..=frame + 1 {
                        let expect =
                            (probe % every == 0 && probe + kept > frame && probe <= frame && probe > 0)
                                .then_some(probe * 10);
                        assert_eq!(
                            f.get(&probe).copied(),
                            expect,
                            "every {every}, frame {frame}, probe {probe}"
                        );
                    }
                }
            }
            assert_eq!(f.len(), 1000);
        }
    }

    #[test]
    fn fifo_entry_outliving_the_newest_goes_round() {
        let mut f: Fifo<_> = Fifo::with_capacity(8);
        f.insert(1, "observation", 1000);
        f.insert(2, "b", 20);
        f.insert(3, "c", 30);
        // "observation" is not due and outlives "c": it goes behind it, and "b" is due.
        assert_eq!(f.pop_expired(25), Some((2, "b")));
        assert_eq!(f.pop_expired(25), None);
        assert_eq!(f.pop_expired(30), Some((3, "c")));
        assert_eq!(f.pop_expired(999), None);
        assert_eq!(f.get(&1), Some(&"observation"));
        assert_eq!(f.pop_expired(1000), Some((1, "observation")));
    }

    #[test]
    fn fifo_refreshed_entry_stays_until_its_new_expiry_and_is_evicted_last() {
        let mut f: Fifo<_> = Fifo::with_capacity(8);
        f.insert(1, "used", 10);
        f.insert(2, "b", 20);
        f.refresh(&1, 50);
        f.refresh(&1, 40); // never earlier
        f.refresh(&9, 99); // unknown key: nothing
        assert_eq!(f.len(), 2);
        assert_eq!(f.pop_expired(20), Some((2, "b")));
        assert_eq!(f.pop_expired(49), None);
        assert_eq!(f.pop_expired(50), Some((1, "used")));
        assert_eq!(f.len(), 0);
        // Over the cap, the refreshed entry goes after those inserted before its refresh.
        let mut f: Fifo<_> = Fifo::with_capacity(2);
        f.insert(1, "observation", 100);
        f.insert(2, "b", 100);
        f.refresh(&1, 200);
        f.insert(3, "c", 100);
        assert_eq!(f.pop_over_cap(), Some((2, "b")));
        assert_eq!(f.pop_over_cap(), None);
        assert_eq!((f.get(&1), f.get(&3)), (Some(&"observation"), Some(&"c")));
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
