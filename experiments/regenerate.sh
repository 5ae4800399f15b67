#!/usr/bin/env bash
# Regenerates the committed reports of the bundled experiments:
#   reports/workers-load/, reports/visibility-timeout/, reports/firehose-buffering/,
#   reports/flink-parallelism/ and reports/video-city/, and the stream-or-batch comparison
#   reports/iot-stream-or-batch/ (aqueduct compare).
# Run from anywhere; the output does not depend on the machine or its number of cores.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
for e in workers-load visibility-timeout firehose-buffering flink-parallelism video-city; do
    target/release/aqueduct sweep "experiments/$e.toml"
done
target/release/aqueduct compare models/iot-kinesis-lambda.toml models/iot-sqs-workers.toml \
    models/iot-kinesis-firehose.toml models/iot-firehose-batch.toml \
    --reps 5 --slo "time_to_insight_s.p99 < 5m" --out reports/iot-stream-or-batch
