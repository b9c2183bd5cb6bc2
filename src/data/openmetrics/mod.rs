//! `kubelstm generate --format openmetrics`: the synthetic cluster (same seed, same rows as the
//! CSV) as the cAdvisor and kube-state-metrics series a real cluster has, in the OpenMetrics
//! text format that `promtool tsdb create-blocks-from openmetrics` backfills into a TSDB.
//!
//! Every series has `namespace` and `pod` (except the node's), one sample per CSV row at the
//! row's time; `container` is the pod's first container unless said otherwise.
//!
//! | series | type | more labels | value | CSV column |
//! |---|---|---|---|---|
//! | `container_cpu_usage_seconds_total` | counter | `container` | += CPU / 100 × interval | CPU Usage (%) |
//! | `container_memory_working_set_bytes` | gauge | `container` | MB × 2²⁰ | Memory Usage (MB) |
//! | `kube_pod_container_resource_limits` | gauge | `container`, `resource="memory"`, `unit="byte"` | MB × 2²⁰ | Memory Limits (MB) |
//! | `kube_pod_container_resource_limits` | gauge | `container`, `resource="cpu"`, `unit="core"` | % / 100 | CPU Limits (%) |
//! | `kube_pod_container_status_restarts_total` | counter | `container` | the count | Pod Restarts |
//! | `container_network_receive_bytes_total` | counter | `interface="eth0"` | += bytes | Network Receive Bytes |
//! | `container_network_transmit_bytes_total` | counter | `interface="eth0"` | += bytes | Network Transmit Bytes |
//! | `container_network_receive_packets_dropped_total` | counter | `interface="eth0"` | += p/s × interval | Network Receive Packets Dropped (p/s) |
//! | `container_network_transmit_packets_dropped_total` | counter | `interface="eth0"` | += p/s × interval | Network Transmit Packets Dropped (p/s) |
//! | `container_fs_reads_bytes_total` | counter | `container`, `device="/dev/sda"` | += MB × 2²⁰ | FS Reads Total (MB) |
//! | `container_fs_writes_bytes_total` | counter | `container`, `device="/dev/sda"` | += MB × 2²⁰ | FS Writes Total (MB) |
//! | `kube_pod_container_info` | gauge | `container` = each container | 1 | Total Containers (a count of series) |
//! | `kube_pod_container_status_ready` | gauge | `container` = each container | 1 for the first *ready*, else 0 | Ready Containers |
//! | `kube_pod_info` | gauge | `node` | 1 | Node Name (without `(NodeNotReady)`) |
//! | `kube_node_status_condition` | gauge | `node`, `condition="Ready"`, `status="true"`/`"false"`, no pod | 1/0 per node and step | Node Name's `(NodeNotReady)` |
//! | `kube_pod_status_phase` | gauge | `phase`, all five | 1 for the current, else 0 | Pod Status |
//! | `kube_pod_container_status_waiting_reason` | gauge | `container`, `reason` | 1 while CrashLoopBackOff / ContainerCreating | Pod Status |
//! | `kube_pod_container_status_terminated_reason` | gauge | `container`, `reason` | 1 while OOMKilled / Error | Pod Status |
//! | `kube_pod_container_status_last_terminated_reason` | gauge | `container`, `reason` | 1 from a termination until one with another reason | Pod Status, Event Reason `OOMKilling` |
//!
//! Counters add up the amounts as the CSV prints them, so `rate(x[60s]) * 60` (`increase`) gives
//! the column back up to float rounding; gauges scale the printed value by a power of two, so
//! dividing gives it back exactly. Statuses map to phases as kube-state-metrics would: Running,
//! OOMKilled, CrashLoopBackOff and Error are `Running` (a container restarting), ContainerCreating
//! is `Pending`, Unknown is `Unknown`. Prometheus looks back 5 minutes for the latest sample, so
//! 0/1 series are written at every step while they exist, 0 included: a pod's reason series exist
//! from its first step if the pod ever has that reason (last-terminated ones from the first
//! termination with it).
//!
//! OpenMetrics forbids interleaving families and also the series within a family, and wants each
//! series in time order; the generator yields rows a time step at a time. So two passes:
//! 1. the generator runs once; each row becomes a fixed-size record (counters accumulated), and
//!    a block of steps at a time goes to a spill file at its pod-major place;
//! 2. for each family, for each pod, for each of the pod's series, the pod's records are read
//!    back in order (one sequential sweep of the spill per family).
//!
//! Pass 1 is [`spill`], pass 2 [`exposition`]. Memory holds one block (8 MiB, or one step of every pod if more) and a few numbers per pod;
//! the spill takes about 100 bytes a row and is removed when done.

use std::io::{BufWriter, Write};
use std::path::Path;

mod exposition;
mod spill;

use super::synthetic::SyntheticConfig;
use crate::{Error, Result};
pub use exposition::escape;
use exposition::{write_nodes, write_pods, Exposition};
use spill::{collect, Spill, SpillReader};

/// Bytes per MB, as the generator counts them.
const MIB: f64 = 1_048_576.0;
/// Target size of a block of records held before it goes to the spill.
const BLOCK_BYTES: usize = 8 << 20;

/// What [`write_openmetrics`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenMetricsSummary {
    /// CSV rows the samples come from.
    pub rows: usize,
    pub series: usize,
    pub samples: u64,
}

/// Writes the cluster of `cfg` to `out` as OpenMetrics text (ending `# EOF`). The spill file of
/// the second pass goes in `spill_dir`; `dest` names the destination in I/O errors.
pub fn write_openmetrics<W: Write>(
    cfg: &SyntheticConfig,
    out: W,
    spill_dir: &Path,
    dest: &str,
) -> Result<OpenMetricsSummary> {
    cfg.validate()?;
    let layout = Layout::new(cfg);
    let mut spill = Spill::create(spill_dir)?;
    let (pods, nodes) = collect(cfg, &layout, &mut spill)?;
    let mut reader = SpillReader::new(&spill)?;
    let mut out =
        Exposition { out: BufWriter::with_capacity(1 << 16, out), dest, prefix: String::new(), series: 0, samples: 0 };
    for family in &FAMILIES {
        out.metadata(family)?;
        if let Of::NodeCondition = family.of {
            write_nodes(&mut out, family, &nodes, &layout, &mut reader)?;
        } else {
            write_pods(&mut out, family, &pods, &nodes, &layout, &mut reader)?;
        }
    }
    out.out.write_all(b"# EOF\n").map_err(|e| Error::io("write", dest, e))?;
    out.out.flush().map_err(|e| Error::io("write", dest, e))?;
    Ok(OpenMetricsSummary { rows: cfg.rows, series: out.series, samples: out.samples })
}

// ---------------------------------------------------------------------------------------------
// The families

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Counter,
    Gauge,
}

/// Which series a family has for a pod, and what their samples are.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Of {
    /// One series of a record value, with `container` (first), `interface` or `device` labels.
    Value(usize, Extra),
    Limits,
    ContainerInfo,
    ContainerReady,
    PodInfo,
    NodeCondition,
    Phase,
    Waiting,
    Terminated,
    LastTerminated,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Extra {
    Container,
    Interface,
    Device,
}

struct Family {
    name: &'static str,
    kind: Kind,
    help: &'static str,
    of: Of,
}

const fn counter(name: &'static str, help: &'static str, of: Of) -> Family {
    Family { name, kind: Kind::Counter, help, of }
}

const fn gauge(name: &'static str, help: &'static str, of: Of) -> Family {
    Family { name, kind: Kind::Gauge, help, of }
}

#[rustfmt::skip]
const FAMILIES: [Family; 18] = [
    counter("container_cpu_usage_seconds", "Cumulative cpu time consumed in seconds.", Of::Value(CPU_SECONDS, Extra::Container)),
    gauge("container_memory_working_set_bytes", "Current working set in bytes.", Of::Value(MEMORY_BYTES, Extra::Container)),
    gauge("kube_pod_container_resource_limits", "The number of requested limit resource by a container.", Of::Limits),
    counter("kube_pod_container_status_restarts", "The number of container restarts per container.", Of::Value(RESTARTS, Extra::Container)),
    counter("container_network_receive_bytes", "Cumulative count of bytes received.", Of::Value(RX_BYTES, Extra::Interface)),
    counter("container_network_transmit_bytes", "Cumulative count of bytes transmitted.", Of::Value(TX_BYTES, Extra::Interface)),
    counter("container_network_receive_packets_dropped", "Cumulative count of packets dropped while receiving.", Of::Value(RX_DROPPED, Extra::Interface)),
    counter("container_network_transmit_packets_dropped", "Cumulative count of packets dropped while transmitting.", Of::Value(TX_DROPPED, Extra::Interface)),
    counter("container_fs_reads_bytes", "Cumulative count of bytes read.", Of::Value(FS_READ_BYTES, Extra::Device)),
    counter("container_fs_writes_bytes", "Cumulative count of bytes written.", Of::Value(FS_WRITE_BYTES, Extra::Device)),
    gauge("kube_pod_container_info", "Information about a container in a pod.", Of::ContainerInfo),
    gauge("kube_pod_container_status_ready", "Describes whether the containers readiness check succeeded.", Of::ContainerReady),
    gauge("kube_pod_info", "Information about pod.", Of::PodInfo),
    gauge("kube_node_status_condition", "The condition of a cluster node.", Of::NodeCondition),
    gauge("kube_pod_status_phase", "The pods current phase.", Of::Phase),
    gauge("kube_pod_container_status_waiting_reason", "Describes the reason the container is currently in waiting state.", Of::Waiting),
    gauge("kube_pod_container_status_terminated_reason", "Describes the reason the container is currently in terminated state.", Of::Terminated),
    gauge("kube_pod_container_status_last_terminated_reason", "Describes the last reason the container was in terminated state.", Of::LastTerminated),
];

const PHASES: [&str; 5] = ["Pending", "Running", "Succeeded", "Failed", "Unknown"];
const WAITING: [&str; 2] = ["CrashLoopBackOff", "ContainerCreating"];
const TERMINATED: [&str; 2] = ["OOMKilled", "Error"];

/// The phase (index into [`PHASES`]) of a pod whose `Pod Status` is `status`.
fn phase_of(status: &str) -> Option<u8> {
    match status {
        // A crash or a back-off restarts the container; the pod stays Running.
        "Running" | "OOMKilled" | "CrashLoopBackOff" | "Error" => Some(1),
        "ContainerCreating" => Some(0),
        "Unknown" => Some(4),
        _ => None,
    }
}

/// 0, or 1 + the index of `status` in `reasons`.
fn reason_code(reasons: &[&str], status: &str) -> u8 {
    reasons.iter().position(|r| *r == status).map_or(0, |i| i as u8 + 1)
}

const CPU_SECONDS: usize = 0;
const MEMORY_BYTES: usize = 1;
const MEMORY_LIMIT_BYTES: usize = 2;
const CPU_LIMIT_CORES: usize = 3;
const RESTARTS: usize = 4;
const RX_BYTES: usize = 5;
const TX_BYTES: usize = 6;
const RX_DROPPED: usize = 7;
const TX_DROPPED: usize = 8;
const FS_READ_BYTES: usize = 9;
const FS_WRITE_BYTES: usize = 10;
const VALUES: usize = 11;

/// One row as the families need it, counters accumulated up to and including the row.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Record {
    values: [f64; VALUES],
    ready: u16,
    total: u16,
    /// Index into [`PHASES`].
    phase: u8,
    /// 0, or 1 + index into [`WAITING`].
    waiting: u8,
    /// 0, or 1 + index into [`TERMINATED`] (now).
    terminated: u8,
    /// 0, or 1 + index into [`TERMINATED`] (the latest termination so far).
    last_terminated: u8,
    /// Bit `i`: a termination with `TERMINATED[i]` has happened by this row.
    terminated_so_far: u8,
}

const RECORD: usize = VALUES * 8 + 2 * 2 + 5;

impl Record {
    fn encode(&self, out: &mut [u8]) {
        for (chunk, v) in out.chunks_exact_mut(8).zip(&self.values) {
            chunk.copy_from_slice(&v.to_le_bytes());
        }
        let tail = &mut out[VALUES * 8..RECORD];
        tail[..2].copy_from_slice(&self.ready.to_le_bytes());
        tail[2..4].copy_from_slice(&self.total.to_le_bytes());
        tail[4..].copy_from_slice(&[
            self.phase,
            self.waiting,
            self.terminated,
            self.last_terminated,
            self.terminated_so_far,
        ]);
    }

    fn decode(bytes: &[u8]) -> Record {
        let mut values = [0.0; VALUES];
        for (v, chunk) in values.iter_mut().zip(bytes.chunks_exact(8)) {
            *v = f64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        }
        let tail = &bytes[VALUES * 8..RECORD];
        Record {
            values,
            ready: u16::from_le_bytes([tail[0], tail[1]]),
            total: u16::from_le_bytes([tail[2], tail[3]]),
            phase: tail[4],
            waiting: tail[5],
            terminated: tail[6],
            last_terminated: tail[7],
            terminated_so_far: tail[8],
        }
    }
}

/// Where the generator's rows go: `steps` per pod, the last step maybe for the first pods only.
struct Layout {
    steps: usize,
    /// Pods with at least one row.
    pods: usize,
    nodes: usize,
    /// Pods with a row at the last step.
    last_step_pods: usize,
    start: i64,
    interval: i64,
}

impl Layout {
    fn new(cfg: &SyntheticConfig) -> Layout {
        let steps = cfg.steps();
        Layout {
            steps,
            pods: cfg.pods.min(cfg.rows),
            nodes: cfg.nodes(),
            last_step_pods: cfg.rows - (steps - 1) * cfg.pods,
            start: cfg.start,
            interval: cfg.interval_seconds as i64,
        }
    }
    fn rows_of(&self, pod: usize) -> usize {
        self.steps - usize::from(pod >= self.last_step_pods)
    }
    /// Pod-major: a pod's records are contiguous, in time order.
    fn record_offset(&self, pod: usize, step: usize) -> u64 {
        ((pod * self.steps + step) * RECORD) as u64
    }
    /// After the pods: one byte (NotReady) per node and step, node-major.
    fn node_offset(&self, node: usize, step: usize) -> u64 {
        (self.pods * self.steps * RECORD + node * self.steps + step) as u64
    }
    fn time(&self, step: usize) -> i64 {
        self.start + step as i64 * self.interval
    }
}

/// What the exporter keeps of a pod between rows (a few numbers, whatever the row count).
struct Pod {
    name: String,
    namespace: String,
    node: usize,
    containers: &'static [&'static str],
    max_total: u16,
    rows: usize,
    /// Counters so far (counter slots only).
    totals: [f64; VALUES],
    last_terminated: u8,
    terminated_so_far: u8,
    /// Bit `i`: the pod has the series of `WAITING[i]` / `TERMINATED[i]`.
    waiting_seen: u8,
    terminated_seen: u8,
}

#[cfg(test)]
mod tests {
    use super::exposition::container_name;
    use super::*;

    #[test]
    fn records_round_trip() {
        let mut r = Record { ready: 2, total: 3, phase: 4, waiting: 1, terminated: 2, ..Record::default() };
        r.last_terminated = 1;
        r.terminated_so_far = 3;
        r.values[CPU_SECONDS] = 0.1 + 0.2;
        r.values[FS_WRITE_BYTES] = 1e300;
        let mut bytes = [0u8; RECORD];
        r.encode(&mut bytes);
        assert_eq!(Record::decode(&bytes), r);
    }

    #[test]
    fn escapes_label_values() {
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    }

    #[test]
    fn extra_containers_are_numbered_after_the_template_names() {
        assert_eq!(container_name(&["app"], 0), "app");
        assert_eq!(container_name(&["app"], 1), "c1");
        assert_eq!(container_name(&["app"], 2), "c2");
    }

    #[test]
    fn every_status_has_a_phase() {
        assert_eq!(phase_of("ContainerCreating"), Some(0));
        assert_eq!(phase_of("CrashLoopBackOff"), Some(1));
        assert_eq!(phase_of("Unknown"), Some(4));
        assert_eq!(phase_of("Evicted"), None);
    }
}
