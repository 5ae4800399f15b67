//! The yardstick of `aqueduct bench`: a hand-written M/M/1 queue on `std`'s `BinaryHeap`.
//!
//! It simulates the same queue as the bench's M/M/1 model (Poisson arrivals at rate λ,
//! one server with exponential service times of rate μ, first come first served), with
//! the same integer-nanosecond clock, the same generator (xoshiro256++) and the same
//! exponential sampler, and keeps only what a textbook loop keeps: the event heap, the
//! arrival times of the customers in the system and the sum of their sojourn times. The
//! bench prints aqueduct's speed on the model as a ratio to this loop's, measured in the
//! same process, so the figure does not depend on the machine.

use rand::SeedableRng;
use rand_distr::{Distribution, Exp1};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// What one run of [`mm1_reference`] did.
#[derive(Clone, Copy, Debug)]
pub struct ReferenceRun {
    /// Customers that arrived (the loop stops scheduling arrivals after this many).
    pub arrived: u64,
    /// Customers that completed service.
    pub served: u64,
    /// Events popped from the heap.
    pub events: u64,
    /// Mean time in the system (waiting plus service) of the served customers, seconds.
    pub mean_sojourn_s: f64,
}

const ARRIVAL: u8 = 0;
const DEPARTURE: u8 = 1;

/// Runs an M/M/1 queue with arrival rate `lambda` and service rate `mu` (per second) until
/// `customers` have arrived and every one of them has been served.
///
/// Events are `(time_ns, sequence, kind)` in a min-heap (`Reverse` over `std`'s max-heap):
/// the same `(time, sequence)` order as the simulator's event queue. For λ < μ the mean
/// sojourn time tends to `1 / (μ − λ)`.
pub fn mm1_reference(customers: u64, lambda: f64, mu: f64, seed: u64) -> ReferenceRun {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut draw_ns = |rate: f64| -> u64 {
        let e: f64 = Exp1.sample(&mut rng);
        (e / rate * 1e9).round() as u64
    };
    let mut heap: BinaryHeap<Reverse<(u64, u64, u8)>> = BinaryHeap::with_capacity(16);
    let mut seq = 0u64;
    let mut waiting: VecDeque<u64> = VecDeque::with_capacity(1024);
    let (mut arrived, mut served, mut events) = (0u64, 0u64, 0u64);
    let mut sojourn_ns = 0u128;
    if customers > 0 {
        heap.push(Reverse((draw_ns(lambda), seq, ARRIVAL)));
        seq += 1;
    }
    while let Some(Reverse((now, _, kind))) = heap.pop() {
        events += 1;
        if kind == ARRIVAL {
            arrived += 1;
            if arrived < customers {
                heap.push(Reverse((now + draw_ns(lambda), seq, ARRIVAL)));
                seq += 1;
            }
            waiting.push_back(now);
            if waiting.len() == 1 {
                heap.push(Reverse((now + draw_ns(mu), seq, DEPARTURE)));
                seq += 1;
            }
        } else {
            let came = waiting.pop_front().expect("a departure has a customer");
            served += 1;
            sojourn_ns += (now - came) as u128;
            if !waiting.is_empty() {
                heap.push(Reverse((now + draw_ns(mu), seq, DEPARTURE)));
                seq += 1;
            }
        }
    }
    ReferenceRun {
        arrived,
        served,
        events,
        mean_sojourn_s: if served > 0 {
            sojourn_ns as f64 / served as f64 / 1e9
        } else {
            0.0
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_every_customer_and_matches_the_formula() {
        let r = mm1_reference(200_000, 0.5, 1.0, 3);
        assert_eq!(r.arrived, 200_000);
        assert_eq!(r.served, 200_000);
        assert_eq!(r.events, 400_000);
        // 1 / (μ − λ) = 2 s; 200,000 customers at ρ = 0.5 put the mean within a few %.
        assert!((r.mean_sojourn_s - 2.0).abs() < 0.1, "{}", r.mean_sojourn_s);
    }

    #[test]
    fn same_seed_same_run() {
        let a = mm1_reference(10_000, 0.9, 1.0, 11);
        let b = mm1_reference(10_000, 0.9, 1.0, 11);
        assert_eq!(a.mean_sojourn_s.to_bits(), b.mean_sojourn_s.to_bits());
        assert_ne!(
            a.mean_sojourn_s.to_bits(),
            mm1_reference(10_000, 0.9, 1.0, 12).mean_sojourn_s.to_bits()
        );
    }
}
