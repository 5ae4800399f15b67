#!/usr/bin/env python3
"""How aqueduct's cost grows with the work (issue 20): wall time and peak memory of `run`
as one dimension of a model grows at a time.

    cargo build --release && python3 experiments/scaling.py [--quick] > scaling.md

Each row is one `aqueduct run MODEL --json` (the process, start to JSON out), whose JSON
gives the simulated events; the peak RSS is the child's own (os.wait4). The dimensions:

* offered load: messages/s into one queue drained by enough workers (10 s simulated);
* workers: one queue, a fixed 2,000 messages/s, pools of 1 to 100,000 workers (the idle
  ones long-poll);
* shards: a Kinesis stream of 1 to 10,000 shards, 1 record/s per shard, a polling consumer
  (every shard polled 5 times a second, the work that grows with shards);
* subscriptions: one SNS topic, 100 messages/s, 1 to 10,000 HTTP subscriptions;
* simulated time: 10 messages/s for 1 hour to 30 days.

Read the table as: ns per event should stay flat as a dimension grows (the work is
proportional to the events), and memory should grow with the structures the dimension
adds (workers, shards, subscriptions), not with the events.
"""

import os
import re
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "aqueduct")
QUICK = "--quick" in sys.argv


def queue_model(rate, workers, duration, service="1ms"):
    return f"""name = "scale"
duration = "{duration}"
api_latency = "0ms"
memory_budget = "64GiB"
[[producer]]
name = "p"
target = "sqs:q"
load = {{ process = "poisson", rate_per_s = {rate} }}
[[queue]]
name = "q"
[[consumer]]
name = "w"
source = "sqs:q"
workers = {workers}
receive = {{ max_messages = 1, wait = "20s" }}
service_time = {{ dist = "exponential", mean = "{service}" }}
"""


def shards_model(shards):
    return f"""name = "scale"
duration = "10s"
memory_budget = "64GiB"
[limits.kinesis]
account_shard_quota = {max(shards, 20000)}
[[producer]]
name = "p"
target = "kinesis:s"
load = {{ process = "poisson", rate_per_s = {shards} }}
partition_key = {{ dist = "uniform", keys = {max(100, 10 * shards)} }}
[[stream]]
name = "s"
shards = {shards}
[[stream_consumer]]
name = "c"
source = "kinesis:s"
service_time = "10us"
"""


def subs_model(subs):
    s = """name = "scale"
duration = "10s"
memory_budget = "64GiB"
[limits.sns]
large_topic_max_subscriptions = 100000
[[producer]]
name = "p"
target = "sns:t"
load = { process = "poisson", rate_per_s = 100 }
size = "1KB"
[[topic]]
name = "t"
"""
    for i in range(subs):
        s += f'[[subscription]]\nname = "s{i}"\ntopic = "t"\nendpoint = "https:h{i}"\n'
    return s


def measure(text):
    """(events, wall s, peak RSS MiB) of one `run`, or None if it failed.

    The peak RSS is measured by /usr/bin/time when the machine has it: a child forked from
    this script starts with the script's own resident pages (Linux keeps the high-water
    mark across exec), and reading a large JSON document grows them. Without it, the
    child's own rusage, which that floor inflates."""
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
        f.write(text)
        path = f.name
    timer = ["/usr/bin/time", "-f", "%M"] if os.path.exists("/usr/bin/time") else []
    start = time.perf_counter()
    p = subprocess.Popen(timer + [BIN, "run", path, "--json"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    out, err = p.communicate()
    wall = time.perf_counter() - start
    os.unlink(path)
    if p.returncode != 0:
        return None
    if timer:
        rss = int(err.decode().strip().splitlines()[-1]) / 1024.0
    else:
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    events = int(re.search(rb'"events": (\d+)', out).group(1))
    return events, wall, rss


def row(dimension, size, text):
    r = measure(text)
    if r is None:
        print(f"| {dimension} | {size:,} | failed | | | |")
        return
    events, wall, rss = r
    print(f"| {dimension} | {size:,} | {events:,} | {wall:.2f} | {wall / max(events, 1) * 1e9:.0f} | {rss:.0f} |")
    sys.stdout.flush()


def main():
    print("| dimension | size | events | wall s | ns/event | peak RSS MiB |")
    print("|---|---|---|---|---|---|")
    loads = [100, 1_000, 10_000, 100_000] + ([] if QUICK else [1_000_000])
    for r in loads:
        # Enough workers for a utilisation of about 0.5 at 1 ms each.
        row("messages/s", r, queue_model(r, max(2, r // 500), "10s"))
    for w in [1, 10, 100, 1_000, 10_000] + ([] if QUICK else [100_000]):
        row("workers", w, queue_model(2_000, w, "10s", service=f"{w * 250}us" if w < 4 else "1ms"))
    for s in [1, 10, 100, 1_000] + ([] if QUICK else [10_000]):
        row("shards", s, shards_model(s))
    for n in [1, 10, 100, 1_000] + ([] if QUICK else [10_000]):
        row("subscriptions", n, subs_model(n))
    for d in ["1h", "1d"] + ([] if QUICK else ["30d"]):
        row("simulated time", {"1h": 3600, "1d": 86400, "30d": 2592000}[d], queue_model(10, 2, d))


if __name__ == "__main__":
    main()
