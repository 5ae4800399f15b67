//! Criterion benchmarks of the kernel's pending-event set and of the engine on the M/M/1
//! model beside the hand-written `BinaryHeap` loop of the same queue (`cargo bench`).
//! `aqueduct bench` reports the same quantities at full size, with their ratio.

use aqueduct::engine;
use aqueduct::model;
use aqueduct::sim::{EventQueue, SimTime};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use std::path::Path;

fn hold(c: &mut Criterion) {
    let mut g = c.benchmark_group("event_queue_hold");
    for pending in [1_000usize, 10_000, 100_000, 1_000_000] {
        g.throughput(Throughput::Elements(10_000));
        g.bench_function(format!("{pending}_pending"), |b| {
            b.iter_batched_ref(
                || {
                    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(1);
                    let mut q: EventQueue<[u32; 3]> = EventQueue::with_capacity(pending + 1);
                    for i in 0..pending {
                        q.schedule(SimTime(rng.random_range(0..1_000_000)), [i as u32, 0, 0]);
                    }
                    (q, rng)
                },
                |(q, rng)| {
                    for _ in 0..10_000 {
                        let (t, e) = q.pop().expect("kept full");
                        q.schedule(SimTime(t.0 + rng.random_range(1..1_000_000)), e);
                    }
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

const MM1: &str = r#"
name = "mm1"
duration = "100000s"
api_latency = "0ms"
[[producer]]
name = "arrivals"
target = "sqs:q"
load = { process = "poisson", rate_per_s = 0.9 }
[[queue]]
name = "q"
retention = "14d"
visibility_timeout = "12h"
[[consumer]]
name = "server"
source = "sqs:q"
workers = 1
receive = { max_messages = 1, wait = "20s" }
service_time = { dist = "exponential", mean = "1s" }
"#;

fn mm1(c: &mut Criterion) {
    let arch = model::load_str(MM1, "mm1", Path::new(".")).expect("valid model");
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(90_000));
    g.sample_size(20);
    g.bench_function("mm1_rho_0.9_90k_messages", |b| {
        b.iter(|| engine::run(&arch, 1).expect("runs"))
    });
    g.bench_function("mm1_rho_0.9_90k_customers_hand_written_binary_heap", |b| {
        b.iter(|| aqueduct::sim::reference::mm1_reference(90_000, 0.9, 1.0, 1))
    });
    g.finish();
}

criterion_group!(benches, hold, mm1);
criterion_main!(benches);
