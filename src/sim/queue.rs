//! The pending-event set.
//!
//! # Ordering guarantee
//!
//! Events are delivered in increasing time order; events scheduled for the *same* time are
//! delivered in the order in which they were scheduled (first scheduled, first delivered).
//! The guarantee comes from the key `(time, seq)`, where `seq` is a counter that increases
//! with every [`EventQueue::schedule`] call, so no two entries ever compare equal and the
//! order never depends on the internal layout. A run is therefore a deterministic function
//! of its inputs.
//!
//! # Two layouts, one order
//!
//! The set is kept in one of two structures, chosen by its size; both pop the smallest key,
//! and keys are unique, so which one holds the events never changes the order (the tests
//! drive it across the switch, against a `BTreeMap` shadow):
//!
//! * up to [`TO_RADIX`] pending events, a 4-ary min-heap (`dary_heap::QuaternaryHeap` with
//!   the order reversed): fastest while the set fits in the caches (measured on the 2-core
//!   development machine: 40–50 M hold operations/s at 16 pending, about 30 M at 10^3,
//!   where the radix heap gives 10–15% less);
//! * above it, a radix heap (Ahuja, Mehlhorn, Orlin and Tarjan, "Faster algorithms for the
//!   shortest path problem", 1990) over the 128-bit key, which a discrete-event simulation
//!   may use because keys only grow: every event is scheduled at or after the one last
//!   popped, and its sequence number is larger than any before it. An entry sits in the
//!   bucket of the highest bit in which its key differs from the smallest key taken out so
//!   far, and moves only to lower buckets, by sequential passes over memory, so the set no
//!   longer costs a cache miss per heap level once it outgrows the caches (measured: 1.7 M
//!   hold operations/s for the heap at 10^6 pending, about 16 M for the radix heap). Unlike a
//!   calendar or ladder queue it has no bucket width to tune to the model's time scales
//!   (nanoseconds to days here), and it compares whole keys, so equal times keep their
//!   scheduling order with no extra work.
//!
//! The set goes back to the heap below [`TO_HEAP`], a quarter of the way up, so a size that
//! hovers near the threshold does not move the events back and forth at every step.
//!
//! Entries are plain `Copy` values (the caller's event enum is never boxed). The radix
//! heap keeps its buckets in fixed blocks of [`BLOCK`] entries, taken from and returned to
//! a free list: a bucket that empties gives its blocks to the buckets that fill, so memory
//! stays about the peak number of pending entries (a bucket per `Vec` would keep the
//! capacity of its largest moment, five to seven times the entries in the hold benchmark),
//! and neither layout allocates in steady state.

use super::time::SimTime;
use std::cmp::Ordering;
// A 4-ary heap (the `dary_heap` crate): half the depth of a binary heap, so about twice
// as fast as `std::collections::BinaryHeap` once the pending set outgrows the caches
// (measured: 1.2 vs 0.6 M hold operations/s at 10^6 pending), and as fast when small.
use dary_heap::QuaternaryHeap as BinaryHeap;

/// Above this many pending events the set moves from the heap to the radix heap.
const TO_RADIX: usize = 1 << 16;
/// Below this many pending events the set moves from the radix heap back to the heap.
const TO_HEAP: usize = TO_RADIX / 4;
/// Entries per block of a radix-heap bucket (32 KiB of 32-byte entries: long sequential
/// runs for the passes over a bucket, few trips to the free list).
const BLOCK: usize = 1024;

#[derive(Clone, Copy)]
struct Entry<E> {
    /// `time << 64 | seq`: one integer comparison orders by time, then by scheduling order.
    key: u128,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed, so that the std max-heap pops the smallest key first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key)
    }
}

/// One radix-heap bucket: full blocks, and the block being filled.
struct Bucket<E> {
    full: Vec<Vec<Entry<E>>>,
    /// Capacity [`BLOCK`] (or 0 before its first entry); never grows past it.
    filling: Vec<Entry<E>>,
}

/// A monotone radix heap over 128-bit keys.
///
/// Invariant: every entry in the buckets has a key greater than `last`, and sits in bucket
/// `127 - (key ^ last).leading_zeros()`; `top`, when set, holds the entry whose key is
/// `last`, the smallest of all.
struct Radix<E> {
    buckets: Vec<Bucket<E>>,
    /// Bit `b` set when bucket `b` holds an entry.
    nonempty: u128,
    last: u128,
    top: Option<Entry<E>>,
    len: usize,
    /// Empty blocks, each of capacity [`BLOCK`].
    free: Vec<Vec<Entry<E>>>,
    /// A spare list of blocks, swapped in for the bucket being emptied.
    spare: Vec<Vec<Entry<E>>>,
}

impl<E: Copy> Radix<E> {
    fn new() -> Self {
        Radix {
            buckets: (0..128)
                .map(|_| Bucket {
                    full: Vec::new(),
                    filling: Vec::new(),
                })
                .collect(),
            nonempty: 0,
            last: 0,
            top: None,
            len: 0,
            free: Vec::new(),
            spare: Vec::new(),
        }
    }

    /// Files `e` (key greater than `last`) in its bucket.
    #[inline(always)]
    fn put(&mut self, e: Entry<E>) {
        debug_assert!(e.key > self.last);
        let b = 127 - (e.key ^ self.last).leading_zeros() as usize;
        let bucket = &mut self.buckets[b];
        if bucket.filling.len() == bucket.filling.capacity() {
            Self::new_block(bucket, &mut self.free);
        }
        bucket.filling.push(e);
        self.nonempty |= 1u128 << b;
    }

    #[cold]
    #[inline(never)]
    fn new_block(bucket: &mut Bucket<E>, free: &mut Vec<Vec<Entry<E>>>) {
        let block = free.pop().unwrap_or_else(|| Vec::with_capacity(BLOCK));
        let old = std::mem::replace(&mut bucket.filling, block);
        if old.capacity() > 0 {
            bucket.full.push(old);
        }
    }

    /// Adds an entry whose key is greater than every key popped so far.
    #[inline]
    fn push(&mut self, e: Entry<E>) {
        self.len += 1;
        if e.key > self.last {
            self.put(e);
        } else {
            self.rebase(e);
        }
    }

    /// Makes `e`, smaller than the peeked `top`, the new smallest entry: only after a
    /// [`Radix::peek`] that was not followed by a pop (a refused `pop_until`). Refiles every
    /// entry against the new `last`: linear, and never on the engine's path.
    #[cold]
    #[inline(never)]
    fn rebase(&mut self, e: Entry<E>) {
        let mut all = Vec::with_capacity(self.len);
        self.drain_into(&mut all);
        self.len = all.len() + 1;
        self.last = e.key;
        self.top = Some(e);
        for x in all {
            self.put(x);
        }
    }

    /// Ensures `top` holds the smallest entry (unless the heap is empty) and returns it.
    #[inline]
    fn peek(&mut self) -> Option<&Entry<E>> {
        if self.top.is_none() && self.nonempty != 0 {
            self.refill();
        }
        self.top.as_ref()
    }

    /// Empties the lowest non-empty bucket: its smallest entry becomes `top` and `last`,
    /// and the others move to lower buckets (each to the highest bit in which it differs
    /// from the new `last`, lower than this bucket's).
    fn refill(&mut self) {
        let b = self.nonempty.trailing_zeros() as usize;
        self.nonempty &= !(1u128 << b);
        let bucket = &mut self.buckets[b];
        if bucket.full.is_empty() && bucket.filling.len() == 1 {
            let e = bucket.filling[0];
            bucket.filling.clear();
            self.last = e.key;
            self.top = Some(e);
            return;
        }
        let mut filling = std::mem::take(&mut bucket.filling);
        let mut full = std::mem::replace(&mut bucket.full, std::mem::take(&mut self.spare));
        // Where the smallest entry is: (block, index), block `usize::MAX` for `filling`.
        let (mut at_block, mut at, mut min) = (usize::MAX, 0, u128::MAX);
        for (k, block) in full.iter().enumerate() {
            for (i, e) in block.iter().enumerate() {
                if e.key < min {
                    (at_block, at, min) = (k, i, e.key);
                }
            }
        }
        for (i, e) in filling.iter().enumerate() {
            if e.key < min {
                (at_block, at, min) = (usize::MAX, i, e.key);
            }
        }
        self.last = min;
        self.top = Some(if at_block == usize::MAX {
            filling.swap_remove(at)
        } else {
            full[at_block].swap_remove(at)
        });
        for mut block in full.drain(..) {
            for &e in block.iter() {
                self.put(e);
            }
            block.clear();
            self.free.push(block);
        }
        for &e in filling.iter() {
            self.put(e);
        }
        filling.clear();
        // Entries only moved to lower buckets, so this one is still empty.
        let bucket = &mut self.buckets[b];
        if bucket.filling.capacity() == 0 {
            bucket.filling = filling;
        } else if filling.capacity() > 0 {
            self.free.push(filling);
        }
        self.spare = full;
    }

    /// Removes the smallest entry.
    #[inline]
    fn pop(&mut self) -> Option<Entry<E>> {
        self.peek()?;
        self.len -= 1;
        self.top.take()
    }

    /// Moves every entry into `out` (in no particular order), keeping the blocks.
    fn drain_into(&mut self, out: &mut impl Extend<Entry<E>>) {
        out.extend(self.top.take());
        for bucket in &mut self.buckets {
            for mut block in bucket.full.drain(..) {
                out.extend(block.iter().copied());
                block.clear();
                self.free.push(block);
            }
            out.extend(bucket.filling.iter().copied());
            bucket.filling.clear();
        }
        self.nonempty = 0;
        self.len = 0;
    }
}

/// A priority queue of events keyed by `(time, scheduling sequence)`.
pub struct EventQueue<E> {
    /// The layout while at most [`TO_RADIX`] events are pending (and `large` is false).
    heap: BinaryHeap<Entry<E>>,
    /// The layout while many events are pending (`large`).
    radix: Radix<E>,
    large: bool,
    /// [`TO_RADIX`] and [`TO_HEAP`] (other values in tests, to drive small sets across).
    radix_above: usize,
    heap_below: usize,
    seq: u64,
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> EventQueue<E> {
    /// An empty queue.
    pub(crate) fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty queue with room for `n` pending events before it reallocates (the heap
    /// layout's share of it: beyond 65,536 events the radix heap takes blocks as it
    /// needs them).
    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(n.min(TO_RADIX + 1)),
            radix: Radix::new(),
            large: false,
            radix_above: TO_RADIX,
            heap_below: TO_HEAP,
            seq: 0,
        }
    }

    /// An empty queue that moves to the radix heap above `radix_above` pending events and
    /// back below `heap_below`.
    #[cfg(test)]
    fn with_thresholds(radix_above: usize, heap_below: usize) -> Self {
        EventQueue {
            radix_above,
            heap_below,
            ..Self::new()
        }
    }

    /// Adds `event` to fire at `time`. Among events at equal times it fires after every
    /// event scheduled before this call.
    ///
    /// `time` must not be earlier than the last event popped (a discrete-event simulation
    /// never schedules into the past); the order is then exact.
    #[inline]
    pub fn schedule(&mut self, time: SimTime, event: E) {
        let key = ((time.0 as u128) << 64) | self.seq as u128;
        self.seq += 1;
        // The entry is built in each branch: built once and passed by reference to the
        // out-of-line radix path, it went through the stack, and the heap path paid a
        // failed store-to-load forwarding on it (8% on the M/M/1 bench, measured).
        if self.large {
            self.push_radix(key, event);
        } else {
            self.heap.push(Entry { key, event });
            if self.heap.len() > self.radix_above {
                self.move_to_radix();
            }
        }
    }

    /// Removes and returns the earliest event, or `None` when the set is empty.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let e = if self.large {
            self.pop_radix()?
        } else {
            self.heap.pop()?
        };
        Some((SimTime((e.key >> 64) as u64), e.event))
    }

    /// [`EventQueue::pop`] on the radix heap, out of line so that the heap's path stays
    /// short (a call is nothing beside a radix-sized set's memory traffic).
    #[inline(never)]
    fn pop_radix(&mut self) -> Option<Entry<E>> {
        let e = self.radix.pop();
        if self.radix.len < self.heap_below {
            self.move_to_heap();
        }
        e
    }

    /// Removes and returns the earliest event if it fires at or before `horizon`.
    #[inline]
    pub(crate) fn pop_until(&mut self, horizon: SimTime) -> Option<(SimTime, E)> {
        if self.large {
            return self.pop_until_radix(horizon);
        }
        match self.heap.peek() {
            Some(e) if ((e.key >> 64) as u64) <= horizon.0 => self.heap.pop(),
            _ => None,
        }
        .map(|e| (SimTime((e.key >> 64) as u64), e.event))
    }

    /// [`EventQueue::pop_until`] on the radix heap, out of line like
    /// [`EventQueue::pop_radix`].
    #[inline(never)]
    fn pop_until_radix(&mut self, horizon: SimTime) -> Option<(SimTime, E)> {
        match self.radix.peek() {
            Some(e) if ((e.key >> 64) as u64) <= horizon.0 => {
                let e = self.pop_radix()?;
                Some((SimTime((e.key >> 64) as u64), e.event))
            }
            _ => None,
        }
    }

    /// [`EventQueue::schedule`] on the radix heap, out of line like [`EventQueue::pop_radix`].
    #[inline(never)]
    fn push_radix(&mut self, key: u128, event: E) {
        self.radix.push(Entry { key, event });
    }

    #[cold]
    #[inline(never)]
    fn move_to_radix(&mut self) {
        // Any `last` no greater than the keys to come will do; the first refill raises it
        // to the smallest key. `push`, not `put`: an event at time 0 before any pop has the
        // key 0 itself, and becomes `top` through `Radix::rebase`.
        self.radix.last = 0;
        for e in self.heap.drain() {
            self.radix.push(e);
        }
        self.large = true;
    }

    #[cold]
    #[inline(never)]
    fn move_to_heap(&mut self) {
        self.radix.drain_into(&mut self.heap);
        self.large = false;
    }

    /// Bytes the pending events take (their entries; the containers' spare room aside).
    pub(crate) fn footprint_bytes(&self) -> usize {
        self.len() * std::mem::size_of::<Entry<E>>()
    }

    /// Number of pending events.
    pub(crate) fn len(&self) -> usize {
        if self.large {
            self.radix.len
        } else {
            self.heap.len()
        }
    }

    /// True when no event is pending.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// The layouts a test runs on: the default (heap while small), the radix heap from the
    /// first event on, and switching back and forth at a handful of events.
    fn layouts<E: Copy>() -> Vec<EventQueue<E>> {
        vec![
            EventQueue::new(),
            EventQueue::with_thresholds(0, 0),
            EventQueue::with_thresholds(8, 2),
        ]
    }

    #[test]
    fn equal_times_pop_in_scheduling_order() {
        for mut q in layouts() {
            for i in 0..100u32 {
                q.schedule(SimTime(7), i);
            }
            q.schedule(SimTime(3), 1000);
            assert_eq!(q.pop(), Some((SimTime(3), 1000)));
            for i in 0..100u32 {
                assert_eq!(q.pop(), Some((SimTime(7), i)));
            }
            assert!(q.pop().is_none());
        }
    }

    #[test]
    fn pop_until_respects_horizon() {
        for mut q in layouts() {
            q.schedule(SimTime(10), 'a');
            q.schedule(SimTime(20), 'b');
            assert_eq!(q.pop_until(SimTime(15)), Some((SimTime(10), 'a')));
            assert_eq!(q.pop_until(SimTime(15)), None);
            assert_eq!(q.len(), 1);
            // Scheduled after a refused pop_until, earlier than the event it looked at.
            q.schedule(SimTime(12), 'c');
            assert_eq!(q.pop_until(SimTime(15)), Some((SimTime(12), 'c')));
            assert_eq!(q.pop_until(SimTime(20)), Some((SimTime(20), 'b')));
            assert!(q.is_empty());
        }
    }

    #[test]
    fn time_zero_before_any_pop_survives_the_switch() {
        // The first event at time 0 has the key 0, the radix heap's starting `last`.
        let mut q = EventQueue::with_thresholds(2, 1);
        q.schedule(SimTime::ZERO, 99);
        for i in 0..5u32 {
            q.schedule(SimTime(5 - i as u64), i);
        }
        q.schedule(SimTime::ZERO, 100);
        assert!(q.large);
        assert_eq!(q.pop(), Some((SimTime::ZERO, 99)));
        assert_eq!(q.pop(), Some((SimTime::ZERO, 100)));
        for i in (0..5u32).rev() {
            assert_eq!(q.pop(), Some((SimTime(5 - i as u64), i)));
        }
        assert!(q.pop().is_none());
    }

    /// The hold model at a size where the default queue uses the radix heap: the blocks it
    /// holds stay within twice the pending entries (plus a partly filled block per bucket),
    /// however many events pass through it.
    #[test]
    fn radix_memory_follows_the_pending_count() {
        let n = 3 * TO_RADIX;
        let mut q = EventQueue::new();
        let mut x = 1u64;
        let mut next = || {
            x = crate::sim::rng::splitmix64(x);
            x % 1_000_000
        };
        for i in 0..n {
            q.schedule(SimTime(next()), i as u32);
        }
        assert!(q.large);
        for _ in 0..20 * n {
            let (t, e) = q.pop().unwrap();
            q.schedule(SimTime(t.0 + 1 + next()), e);
        }
        let blocks = q.radix.free.len()
            + q.radix
                .buckets
                .iter()
                .map(|b| b.full.len() + usize::from(b.filling.capacity() > 0))
                .sum::<usize>();
        assert!(
            blocks <= 2 * n / BLOCK + 2 * 128,
            "{blocks} blocks of {BLOCK} for {n} pending events"
        );
    }

    #[derive(Clone, Copy, Debug)]
    enum Op {
        /// Schedule at `now + dt`.
        Schedule(u64),
        /// Schedule at `now + dt` for a large `dt` (up to the end of time).
        Far(u64),
        /// Schedule at the end of time, `SimTime::MAX`.
        Never,
        Pop,
        /// `pop_until(now + dh)`.
        PopUntil(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0u64..50).prop_map(Op::Schedule),
            2 => (0u64..4).prop_map(Op::Schedule),
            1 => (1u64 << 40..u64::MAX).prop_map(Op::Far),
            1 => Just(Op::Never),
            4 => Just(Op::Pop),
            3 => (0u64..60).prop_map(Op::PopUntil),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// Shadow test: the queue against a `BTreeMap` keyed by `(time, seq)` over random
        /// interleavings of schedule, pop and pop_until (equal times, far-future events,
        /// refused horizons followed by earlier events), on every layout and across the
        /// switches between them.
        #[test]
        fn matches_btreemap_shadow(
            ops in proptest::collection::vec(op(), 1..600),
            layout in 0usize..4,
        ) {
            let mut q = match layout {
                0 => EventQueue::new(),
                1 => EventQueue::with_thresholds(0, 0),
                2 => EventQueue::with_thresholds(8, 2),
                _ => EventQueue::with_thresholds(32, 30),
            };
            let mut shadow = BTreeMap::new();
            let mut seq = 0u64;
            let mut now = 0u64;
            for op in ops {
                let at = match op {
                    Op::Schedule(dt) => Some(now + dt),
                    Op::Far(dt) => Some(now.saturating_add(dt)),
                    Op::Never => Some(u64::MAX),
                    Op::Pop | Op::PopUntil(_) => None,
                };
                if let Some(t) = at {
                    q.schedule(SimTime(t), seq);
                    shadow.insert((t, seq), seq);
                    seq += 1;
                    continue;
                }
                let (got, expect) = match op {
                    Op::PopUntil(dh) => {
                        let h = now + dh;
                        let expect = match shadow.first_key_value() {
                            Some((&(t, _), _)) if t <= h => shadow.pop_first(),
                            _ => None,
                        };
                        (q.pop_until(SimTime(h)), expect)
                    }
                    _ => (q.pop(), shadow.pop_first()),
                };
                prop_assert_eq!(got, expect.map(|((t, _), v)| (SimTime(t), v)));
                prop_assert_eq!(q.len(), shadow.len());
                if let Some((t, _)) = got { now = t.0; }
            }
            while let Some(((t, _), v)) = shadow.pop_first() {
                prop_assert_eq!(q.pop(), Some((SimTime(t), v)));
            }
            prop_assert!(q.is_empty());
            prop_assert!(q.pop().is_none());
        }
    }
}
