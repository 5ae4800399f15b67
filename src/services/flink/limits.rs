//! Managed Service for Apache Flink quotas and the Apache Flink defaults the simulation
//! uses, with their sources.
//!
//! Every AWS or Flink number the Flink model uses is a field of [`FlinkLimits`], with the
//! page it comes from (the `SOURCE_*` constants); a model may override any of them in a
//! `[limits.flink]` table, for example after a KPU quota increase.

use crate::input::units::{Bytes, Dur};
use crate::sim::SimDuration;
use serde::{Deserialize, Serialize};

/// KPUs (1 vCPU, 4 GB memory, 50 GB running storage), the orchestration KPU, per-second
/// billing with a 10-minute minimum per start, `KPUs = Parallelism / ParallelismPerKPU`.
pub const SOURCE_PRICING: &str =
    "https://docs.aws.amazon.com/managed-flink/latest/java/how-pricing.html";
/// Quotas: 32 KPUs per application by default.
pub const SOURCE_LIMITS: &str = "https://docs.aws.amazon.com/managed-flink/latest/java/limits.html";
/// Automatic scaling: `ScaleUp` doubles `CurrentParallelism` when the maximum of
/// `containerCPUUtilization` stays at or above 75% for 15 one-minute data points;
/// `ScaleDown` halves it (rounded up) after 360 data points below 10%; never below the
/// configured `Parallelism`.
pub const SOURCE_AUTOSCALING: &str =
    "https://docs.aws.amazon.com/managed-flink/latest/java/how-scaling-auto.html";
/// `ParallelismPerKPU`: 1 to 8 (default 1).
pub const SOURCE_PARALLELISM: &str =
    "https://docs.aws.amazon.com/managed-flink/latest/apiv2/API_ParallelismConfiguration.html";
/// Checkpoints: the service's defaults (`CheckpointInterval` 60,000 ms,
/// `MinPauseBetweenCheckpoints` 5,000 ms).
pub const SOURCE_CHECKPOINTS: &str =
    "https://docs.aws.amazon.com/managed-flink/latest/apiv2/API_CheckpointConfiguration.html";
/// The Kinesis connector: `SHARD_GETRECORDS_INTERVAL_MILLIS` (200 ms) and
/// `SHARD_GETRECORDS_MAX` (10,000) of the polling consumer.
pub const SOURCE_KINESIS_CONNECTOR: &str =
    "https://nightlies.apache.org/flink/flink-docs-stable/docs/connectors/datastream/kinesis/";
/// Network buffers: 32 KiB memory segments, 2 exclusive buffers per channel and 8
/// floating buffers per input gate.
pub const SOURCE_NETWORK_BUFFERS: &str = "https://nightlies.apache.org/flink/flink-docs-stable/docs/deployment/memory/network_mem_tuning/";
/// Key groups: the default maximum parallelism (`roundUpToPowerOfTwo(1.5 × p)` within
/// [128, 32,768]) and the assignment of keys to key groups and subtasks.
pub const SOURCE_KEY_GROUPS: &str =
    "https://nightlies.apache.org/flink/flink-docs-stable/docs/dev/datastream/execution/parallel/";

/// Managed Flink quotas and the Apache Flink defaults in force (read 2026).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlinkLimits {
    /// KPUs per application (the orchestration KPU excluded): 32. [`SOURCE_LIMITS`]
    pub max_kpus: u32,
    /// Largest `ParallelismPerKPU`: 8. [`SOURCE_PARALLELISM`]
    pub max_parallelism_per_kpu: u32,
    /// Autoscaling: CPU utilization (percent) at or above which a minute counts toward a
    /// scale-up: 75. [`SOURCE_AUTOSCALING`]
    pub scale_up_cpu_percent: u32,
    /// Autoscaling: consecutive one-minute data points for a scale-up: 15.
    /// [`SOURCE_AUTOSCALING`]
    pub scale_up_minutes: u32,
    /// Autoscaling: CPU utilization (percent) below which a minute counts toward a
    /// scale-down: 10. [`SOURCE_AUTOSCALING`]
    pub scale_down_cpu_percent: u32,
    /// Autoscaling: consecutive one-minute data points for a scale-down: 360.
    /// [`SOURCE_AUTOSCALING`]
    pub scale_down_minutes: u32,
    /// Default checkpoint interval: 60 s. [`SOURCE_CHECKPOINTS`]
    pub checkpoint_interval: Dur,
    /// Kinesis connector: shortest time between two GetRecords calls on a shard: 200 ms.
    /// [`SOURCE_KINESIS_CONNECTOR`]
    pub getrecords_interval: Dur,
    /// Kinesis connector: records per GetRecords call: 10,000. [`SOURCE_KINESIS_CONNECTOR`]
    pub getrecords_max: u32,
    /// Network memory segment: 32 KiB. [`SOURCE_NETWORK_BUFFERS`]
    pub network_segment: Bytes,
    /// Exclusive network buffers per input channel: 2. [`SOURCE_NETWORK_BUFFERS`]
    pub buffers_per_channel: u32,
    /// Floating network buffers per input gate: 8. [`SOURCE_NETWORK_BUFFERS`]
    pub floating_buffers_per_gate: u32,
}

impl Default for FlinkLimits {
    fn default() -> Self {
        FlinkLimits {
            max_kpus: 32,
            max_parallelism_per_kpu: 8,
            scale_up_cpu_percent: 75,
            scale_up_minutes: 15,
            scale_down_cpu_percent: 10,
            scale_down_minutes: 360,
            checkpoint_interval: Dur(SimDuration::from_secs(60)),
            getrecords_interval: Dur(SimDuration::from_millis(200)),
            getrecords_max: 10_000,
            network_segment: Bytes(32 * 1024),
            buffers_per_channel: 2,
            floating_buffers_per_gate: 8,
        }
    }
}

/// Modelling default (not an AWS number): the time from a failure to the application
/// running again (job restart, state restore). Overridable per application
/// (`restart_delay`).
pub(crate) const DEFAULT_RESTART_DELAY: SimDuration = SimDuration::from_secs(30);
/// Modelling default (not an AWS number): the time from the start of a rescale to the
/// application running again at its new parallelism (a savepoint, a stop and a restore).
pub(crate) const DEFAULT_RESCALE_DELAY: SimDuration = SimDuration::from_secs(60);
/// Modelling default: bytes of one window result (a key, a window and an aggregate).
pub(crate) const DEFAULT_RESULT_BYTES: u64 = 100;
