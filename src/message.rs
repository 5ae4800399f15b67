//! Messages and the slab that stores them.
//!
//! A message is a fixed-size plain struct (56 bytes) in one slab shared by every
//! component; components hold `u32` indices. A freed slot is reused, but its `receipt`
//! counter keeps counting, so a `(slot, receipt)` pair held by a stale event or a slow
//! consumer never matches a later message. The slab also keeps the ledger of how messages
//! left the system, from which the run's [`Accounting`](crate::metrics::Accounting) is made.

use crate::sim::SimTime;

/// Where a live message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Loc {
    /// The slot is free.
    Free,
    /// Between components: an API call's request leg, a retry back-off.
    Transit,
    /// Stored and receivable.
    Visible,
    /// Stored, not receivable before `deadline` (delay queue).
    Delayed,
    /// Received, invisible until `deadline` unless deleted.
    InFlight,
}

/// Why a message left the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Processed and deleted.
    Processed,
    /// Removed by retention.
    Expired,
    /// Given up by its producer.
    Dropped,
    /// Filtered out by every subscription.
    FilteredOut,
    /// Not stored: a repeated deduplication id.
    Deduplicated,
    /// Delivery retries exhausted without a dead-letter queue.
    Lost,
    /// Refused by an access policy (AuthorizationError).
    Denied,
    /// Handed to a component that keeps its own count of it (a Firehose delivery stream
    /// holds records as runs, not as messages).
    Handed,
}

/// One message (or one copy of a message).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Message {
    /// Logical id, shared by copies of the same message (fan-out, duplicates).
    pub(crate) id: u64,
    /// When the producer created it.
    pub(crate) created: SimTime,
    /// When it entered the store that holds it now (retention and age clock).
    pub(crate) enqueued: SimTime,
    /// In flight: end of the visibility timeout. Delayed: when it becomes visible.
    pub(crate) deadline: SimTime,
    /// Payload size, bytes.
    pub(crate) size: u32,
    /// Receipt counter: grows with every receive and never resets (see module docs).
    pub(crate) receipt: u32,
    /// Partition key or message-group id (an index into the producer's key space).
    pub(crate) key: u32,
    /// Index of the component holding it (a queue index for SQS).
    pub(crate) home: u32,
    /// Producer index.
    pub(crate) producer: u16,
    /// Receives so far in the current queue.
    pub(crate) receive_count: u16,
    /// Queue the message was first stored in (dead-letter redrive returns it there).
    pub(crate) origin: u16,
    /// Where it is.
    pub(crate) loc: Loc,
    /// Low 7 bits: completed processings of this copy (saturating at 127); bit 7: the
    /// message is a copy (a resend or an at-least-once duplicate), so processing it
    /// repeats work.
    pub(crate) marks: u8,
}

impl Message {
    const COPY: u8 = 0x80;

    /// Completed processings of this copy.
    #[inline]
    pub(crate) fn processed_count(&self) -> u8 {
        self.marks & !Self::COPY
    }

    /// Records a completed processing.
    #[inline]
    pub(crate) fn mark_processed(&mut self) {
        if self.processed_count() < 127 {
            self.marks += 1;
        }
    }

    /// True for copies (resends, at-least-once duplicates).
    #[inline]
    pub(crate) fn is_copy(&self) -> bool {
        self.marks & Self::COPY != 0
    }

    /// Processing this copy now would repeat work already done (or owed to the original).
    #[inline]
    pub(crate) fn is_repeat(&self) -> bool {
        self.marks != 0
    }
}

impl Message {
    const EMPTY: Message = Message {
        id: 0,
        created: SimTime::ZERO,
        enqueued: SimTime::ZERO,
        deadline: SimTime::ZERO,
        size: 0,
        receipt: 0,
        key: 0,
        home: 0,
        producer: 0,
        receive_count: 0,
        origin: 0,
        loc: Loc::Free,
        marks: 0,
    };
}

/// Counts of messages that left, by [`Exit`], and of messages created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Ledger {
    /// Created by producers.
    pub(crate) produced: u64,
    /// Created as copies inside the system.
    pub(crate) copies: u64,
    /// Left processed.
    pub(crate) processed: u64,
    /// Left expired.
    pub(crate) expired: u64,
    /// Left dropped by a producer.
    pub(crate) dropped: u64,
    /// Left filtered out.
    pub(crate) filtered_out: u64,
    /// Left deduplicated.
    pub(crate) deduplicated: u64,
    /// Left lost.
    pub(crate) lost: u64,
    /// Left to an S3 backup or error output (Firehose).
    pub(crate) backed_up: u64,
    /// Left denied by an access policy.
    pub(crate) denied: u64,
}

/// The slab of messages.
#[derive(Debug, Default)]
pub(crate) struct MessageStore {
    slots: Vec<Message>,
    free: Vec<u32>,
    /// How messages entered and left.
    pub(crate) ledger: Ledger,
}

impl MessageStore {
    /// An empty store with room for `n` messages.
    pub(crate) fn with_capacity(n: usize) -> Self {
        MessageStore {
            slots: Vec::with_capacity(n),
            free: Vec::new(),
            ledger: Ledger::default(),
        }
    }

    fn alloc(&mut self, mut m: Message) -> u32 {
        match self.free.pop() {
            Some(i) => {
                m.receipt = self.slots[i as usize].receipt;
                self.slots[i as usize] = m;
                i
            }
            None => {
                let i = self.slots.len() as u32;
                self.slots.push(m);
                i
            }
        }
    }

    /// Stores a new message from a producer; returns its slot.
    #[inline]
    pub(crate) fn create(&mut self, m: Message) -> u32 {
        self.ledger.produced += 1;
        self.alloc(m)
    }

    /// Stores a copy of the message in `slot` (same id, times, size and key), in `Transit`;
    /// `duplicate` marks it as repeated work (a resend, an at-least-once duplicate) rather
    /// than a fan-out copy with its own destination. Returns the copy's slot.
    #[inline]
    pub(crate) fn copy(&mut self, slot: u32, duplicate: bool) -> u32 {
        self.ledger.copies += 1;
        let mut m = self.slots[slot as usize];
        m.loc = Loc::Transit;
        m.receive_count = 0;
        m.marks = if duplicate { Message::COPY } else { 0 };
        self.alloc(m)
    }

    /// Removes the message in `slot`, recording why.
    #[inline]
    pub(crate) fn exit(&mut self, slot: u32, why: Exit) {
        let l = &mut self.ledger;
        match why {
            Exit::Processed => l.processed += 1,
            Exit::Expired => l.expired += 1,
            Exit::Dropped => l.dropped += 1,
            Exit::FilteredOut => l.filtered_out += 1,
            Exit::Deduplicated => l.deduplicated += 1,
            Exit::Lost => l.lost += 1,
            Exit::Denied => l.denied += 1,
            // Another component counts it from here on.
            Exit::Handed => {}
        }
        let m = &mut self.slots[slot as usize];
        debug_assert!(m.loc != Loc::Free, "message {slot} freed twice");
        m.loc = Loc::Free;
        self.free.push(slot);
    }

    /// The message in `slot`.
    #[inline]
    pub(crate) fn get(&self, slot: u32) -> &Message {
        &self.slots[slot as usize]
    }

    /// The message in `slot`, mutably.
    #[inline]
    pub(crate) fn get_mut(&mut self, slot: u32) -> &mut Message {
        &mut self.slots[slot as usize]
    }

    /// True if `slot` still holds the message with logical id `id`.
    #[inline]
    pub(crate) fn is_live(&self, slot: u32, id: u64) -> bool {
        let m = &self.slots[slot as usize];
        m.loc != Loc::Free && m.id == id
    }

    /// Every live message, with its slot.
    pub(crate) fn iter_live(&self) -> impl Iterator<Item = (u32, &Message)> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, m)| m.loc != Loc::Free)
            .map(|(i, m)| (i as u32, m))
    }
}

/// A fresh message for a producer to fill in.
pub(crate) fn new_message(id: u64, now: SimTime, size: u32, key: u32, producer: u16) -> Message {
    Message {
        id,
        created: now,
        enqueued: now,
        size,
        key,
        producer,
        loc: Loc::Transit,
        ..Message::EMPTY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_is_compact() {
        assert!(std::mem::size_of::<Message>() <= 56);
    }

    #[test]
    fn receipts_survive_slot_reuse() {
        let mut s = MessageStore::default();
        let a = s.create(new_message(1, SimTime(0), 10, 0, 0));
        s.get_mut(a).receipt += 5;
        s.exit(a, Exit::Processed);
        let b = s.create(new_message(2, SimTime(0), 10, 0, 0));
        assert_eq!(a, b);
        assert_eq!(s.get(b).receipt, 5);
        assert!(!s.is_live(a, 1));
        assert!(s.is_live(b, 2));
        assert_eq!(s.ledger.produced, 2);
        assert_eq!(s.ledger.processed, 1);
    }
}
