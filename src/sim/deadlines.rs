//! A set of timestamped entries popped in time order, built for timeouts that are
//! usually scheduled in time order (visibility timeouts, long-poll waits, delays).
//!
//! Entries pushed in non-decreasing time go to a FIFO (O(1)); any entry earlier than the
//! FIFO's last goes to a binary heap (O(log n)). Cancelled entries are not removed: the
//! owner checks an entry when it pops it and ignores the stale ones. Together with a single
//! kernel event per owner for the earliest entry, this keeps per-message timeouts out of
//! the global event queue. Ties pop in push order.

use super::time::SimTime;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// Timestamped entries popped in `(time, push order)` order.
#[derive(Clone, Debug)]
pub(crate) struct Deadlines<T> {
    fifo: VecDeque<(SimTime, u64, T)>,
    heap: BinaryHeap<Reverse<(SimTime, u64, T)>>,
    seq: u64,
}

impl<T: Copy + Ord> Default for Deadlines<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy + Ord> Deadlines<T> {
    /// An empty set.
    pub(crate) fn new() -> Self {
        Deadlines {
            fifo: VecDeque::new(),
            heap: BinaryHeap::new(),
            seq: 0,
        }
    }

    /// Adds `item` due at `at`.
    #[inline]
    pub(crate) fn push(&mut self, at: SimTime, item: T) {
        let s = self.seq;
        self.seq += 1;
        match self.fifo.back() {
            Some((last, _, _)) if at < *last => self.heap.push(Reverse((at, s, item))),
            _ => self.fifo.push_back((at, s, item)),
        }
    }

    /// The earliest entry.
    #[inline]
    pub(crate) fn peek(&self) -> Option<(SimTime, T)> {
        match (self.fifo.front(), self.heap.peek()) {
            (Some(a), Some(Reverse(b))) => {
                if (a.0, a.1) <= (b.0, b.1) {
                    Some((a.0, a.2))
                } else {
                    Some((b.0, b.2))
                }
            }
            (Some(a), None) => Some((a.0, a.2)),
            (None, Some(Reverse(b))) => Some((b.0, b.2)),
            (None, None) => None,
        }
    }

    /// Removes and returns the earliest entry.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<(SimTime, T)> {
        let take_fifo = match (self.fifo.front(), self.heap.peek()) {
            (Some(a), Some(Reverse(b))) => (a.0, a.1) <= (b.0, b.1),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return None,
        };
        if take_fifo {
            self.fifo.pop_front().map(|(t, _, x)| (t, x))
        } else {
            self.heap.pop().map(|Reverse((t, _, x))| (t, x))
        }
    }

    /// Removes and returns the earliest entry if it is due at or before `now`.
    #[inline]
    pub(crate) fn pop_due(&mut self, now: SimTime) -> Option<(SimTime, T)> {
        match self.peek() {
            Some((t, _)) if t <= now => self.pop(),
            _ => None,
        }
    }

    /// Number of entries, stale ones included.
    pub(crate) fn len(&self) -> usize {
        self.fifo.len() + self.heap.len()
    }

    /// Keeps only the entries for which `keep(time, item)` holds (the owner drops its
    /// stale ones when they outnumber the live ones). The kept entries pop in the same
    /// order as before.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(SimTime, T) -> bool) {
        self.fifo.retain(|&(t, _, x)| keep(t, x));
        self.heap.retain(|&Reverse((t, _, x))| keep(t, x));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn pops_in_time_then_push_order(times in proptest::collection::vec(0u64..20, 0..200)) {
            let mut d = Deadlines::new();
            for (i, t) in times.iter().enumerate() {
                d.push(SimTime(*t), i as u32);
            }
            let mut expect: Vec<(u64, u32)> = times.iter().enumerate().map(|(i, t)| (*t, i as u32)).collect();
            expect.sort();
            let got: Vec<(u64, u32)> = std::iter::from_fn(|| d.pop()).map(|(t, x)| (t.0, x)).collect();
            prop_assert_eq!(got, expect);
        }

        #[test]
        fn retain_keeps_the_order_of_what_it_keeps(
            times in proptest::collection::vec(0u64..20, 0..200),
            drop_every in 2usize..5,
            more in proptest::collection::vec(0u64..40, 0..50),
        ) {
            // Push, drop every k-th item, push more: the pops are the sorted survivors and
            // the later pushes, in (time, push) order, as if the dropped ones were skipped.
            let mut d = Deadlines::new();
            let mut expect = Vec::new();
            for (i, t) in times.iter().enumerate() {
                d.push(SimTime(*t), i as u32);
                if i % drop_every != 0 {
                    expect.push((*t, i as u32));
                }
            }
            d.retain(|_, x| x as usize % drop_every != 0);
            prop_assert_eq!(d.len(), expect.len());
            for (j, t) in more.iter().enumerate() {
                let x = (times.len() + j) as u32;
                d.push(SimTime(*t), x);
                expect.push((*t, x));
            }
            expect.sort();
            let got: Vec<(u64, u32)> = std::iter::from_fn(|| d.pop()).map(|(t, x)| (t.0, x)).collect();
            prop_assert_eq!(got, expect);
        }
    }
}
