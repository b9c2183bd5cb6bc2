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
//! Memory holds one block (8 MiB, or one step of every pod if more) and a few numbers per pod;
//! the spill takes about 100 bytes a row and is removed when done.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::schema;
use super::synthetic::{self, GeneratedRow, SyntheticConfig};
use crate::{Error, Result};

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

/// What one series of a pod writes at a record (`None`: no sample there).
#[derive(Clone, Copy, Debug)]
enum Pick {
    Value(usize),
    ContainerInfo(u16),
    ContainerReady(u16),
    One,
    Phase(u8),
    Waiting(u8),
    Terminated(u8),
    LastTerminated(u8),
}

impl Pick {
    fn value(self, r: &Record) -> Option<f64> {
        let flag = |b: bool| Some(if b { 1.0 } else { 0.0 });
        match self {
            Pick::Value(slot) => Some(r.values[slot]),
            Pick::ContainerInfo(c) => (c < r.total).then_some(1.0),
            Pick::ContainerReady(c) => (c < r.total).then_some(if c < r.ready { 1.0 } else { 0.0 }),
            Pick::One => Some(1.0),
            Pick::Phase(p) => flag(r.phase == p),
            Pick::Waiting(i) => flag(r.waiting == i + 1),
            Pick::Terminated(i) => flag(r.terminated == i + 1),
            Pick::LastTerminated(i) => {
                if r.terminated_so_far & (1 << i) == 0 {
                    None
                } else {
                    flag(r.last_terminated == i + 1)
                }
            }
        }
    }
}

type Labels = Vec<(&'static str, String)>;

/// The pod's series in `of`: labels beyond namespace and pod, and what each writes.
fn pod_series(of: Of, pod: &Pod, nodes: &[String]) -> Vec<(Labels, Pick)> {
    let first = || ("container", pod.containers.first().copied().unwrap_or("c1").to_string());
    let reasons = |names: &[&'static str], seen: u8, pick: fn(u8) -> Pick| -> Vec<(Labels, Pick)> {
        (0..names.len() as u8)
            .filter(|i| seen & (1 << i) != 0)
            .map(|i| (vec![first(), ("reason", names[i as usize].to_string())], pick(i)))
            .collect()
    };
    match of {
        Of::Value(slot, Extra::Container) => vec![(vec![first()], Pick::Value(slot))],
        Of::Value(slot, Extra::Interface) => vec![(vec![("interface", "eth0".into())], Pick::Value(slot))],
        Of::Value(slot, Extra::Device) => vec![(vec![first(), ("device", "/dev/sda".into())], Pick::Value(slot))],
        Of::Limits => vec![
            (vec![first(), ("resource", "memory".into()), ("unit", "byte".into())], Pick::Value(MEMORY_LIMIT_BYTES)),
            (vec![first(), ("resource", "cpu".into()), ("unit", "core".into())], Pick::Value(CPU_LIMIT_CORES)),
        ],
        Of::ContainerInfo | Of::ContainerReady => (0..pod.max_total)
            .map(|c| {
                let pick = if of == Of::ContainerInfo { Pick::ContainerInfo(c) } else { Pick::ContainerReady(c) };
                (vec![("container", container_name(pod.containers, c as usize))], pick)
            })
            .collect(),
        Of::PodInfo => vec![(vec![("node", nodes[pod.node].clone())], Pick::One)],
        // Per node, not per pod: see `write_nodes`.
        Of::NodeCondition => Vec::new(),
        Of::Phase => {
            (0..PHASES.len() as u8).map(|p| (vec![("phase", PHASES[p as usize].into())], Pick::Phase(p))).collect()
        }
        Of::Waiting => reasons(&WAITING, pod.waiting_seen, Pick::Waiting),
        Of::Terminated => reasons(&TERMINATED, pod.terminated_seen, Pick::Terminated),
        Of::LastTerminated => reasons(&TERMINATED, pod.terminated_so_far, Pick::LastTerminated),
    }
}

/// Container `i` of a pod: the template's name, or `c1`, `c2`, … past the template's list.
fn container_name(containers: &[&str], i: usize) -> String {
    containers.get(i).map_or_else(|| format!("c{}", i - containers.len() + 1), |c| c.to_string())
}

// ---------------------------------------------------------------------------------------------
// Records

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

/// The CSV columns the exporter reads, by index into [`synthetic::header`].
struct Columns {
    pod: usize,
    namespace: usize,
    status: usize,
    event: usize,
    cpu: usize,
    restarts: usize,
    memory: usize,
    rx: usize,
    tx: usize,
    fs_read: usize,
    fs_write: usize,
    rx_dropped: usize,
    tx_dropped: usize,
    ready: usize,
    total: usize,
    cpu_limit: usize,
    memory_limit: usize,
}

impl Columns {
    fn new() -> Columns {
        let header = synthetic::header();
        let at = |name: &str| header.iter().position(|c| *c == name).expect("the generator writes every column");
        Columns {
            pod: at(schema::POD_NAME),
            namespace: at(schema::NAMESPACE),
            status: at(schema::POD_STATUS),
            event: at(schema::EVENT_REASON),
            cpu: at(schema::CPU_USAGE),
            restarts: at(schema::POD_RESTARTS),
            memory: at(schema::MEMORY_MB),
            rx: at(schema::NET_RX_BYTES),
            tx: at(schema::NET_TX_BYTES),
            fs_read: at(schema::FS_READS),
            fs_write: at(schema::FS_WRITES),
            rx_dropped: at(schema::NET_RX_DROPPED),
            tx_dropped: at(schema::NET_TX_DROPPED),
            ready: at(schema::READY_CONTAINERS),
            total: at(schema::TOTAL_CONTAINERS),
            cpu_limit: at(schema::CPU_LIMITS),
            memory_limit: at(schema::MEMORY_LIMITS),
        }
    }
}

/// A cell of a generated row, parsed: the value as printed, so the CSV's rounding carries over.
fn cell<T: std::str::FromStr>(row: &GeneratedRow<'_>, column: usize) -> Result<T> {
    let text = &row.record[column];
    text.parse().map_err(|_| {
        Error::data(format!(
            "the generator wrote {text:?} in column '{}' at step {}, which the exporter cannot read",
            synthetic::header()[column],
            row.step
        ))
    })
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

impl Pod {
    fn new(row: &GeneratedRow<'_>, cols: &Columns) -> Pod {
        Pod {
            name: row.record[cols.pod].to_string(),
            namespace: row.record[cols.namespace].to_string(),
            node: row.node(),
            containers: row.containers(),
            max_total: 0,
            rows: 0,
            totals: [0.0; VALUES],
            last_terminated: 0,
            terminated_so_far: 0,
            waiting_seen: 0,
            terminated_seen: 0,
        }
    }

    /// The record of `row`, one of this pod's, and the pod's state after it.
    fn update(&mut self, row: &GeneratedRow<'_>, cols: &Columns, interval: f64) -> Result<Record> {
        // One series per pod slot: the exporter's series keys assume these never change.
        if row.record[cols.pod] != *self.name
            || row.record[cols.namespace] != *self.namespace
            || row.node() != self.node
        {
            return Err(Error::data(format!(
                "pod slot {} changed name, namespace or node at step {}: the exporter keeps one series per slot",
                row.pod, row.step
            )));
        }
        let mut add = |slot: usize, amount: f64| {
            self.totals[slot] += amount;
            self.totals[slot]
        };
        let mut values = [0.0; VALUES];
        values[CPU_SECONDS] = add(CPU_SECONDS, cell::<f64>(row, cols.cpu)? / 100.0 * interval);
        values[RX_BYTES] = add(RX_BYTES, cell(row, cols.rx)?);
        values[TX_BYTES] = add(TX_BYTES, cell(row, cols.tx)?);
        values[RX_DROPPED] = add(RX_DROPPED, cell::<f64>(row, cols.rx_dropped)? * interval);
        values[TX_DROPPED] = add(TX_DROPPED, cell::<f64>(row, cols.tx_dropped)? * interval);
        values[FS_READ_BYTES] = add(FS_READ_BYTES, cell::<f64>(row, cols.fs_read)? * MIB);
        values[FS_WRITE_BYTES] = add(FS_WRITE_BYTES, cell::<f64>(row, cols.fs_write)? * MIB);
        values[MEMORY_BYTES] = cell::<f64>(row, cols.memory)? * MIB;
        values[MEMORY_LIMIT_BYTES] = cell::<f64>(row, cols.memory_limit)? * MIB;
        values[CPU_LIMIT_CORES] = cell::<f64>(row, cols.cpu_limit)? / 100.0;
        values[RESTARTS] = cell(row, cols.restarts)?;

        let status = &row.record[cols.status];
        let phase = phase_of(status)
            .ok_or_else(|| Error::data(format!("the generator wrote Pod Status {status:?}, which has no pod phase")))?;
        let waiting = reason_code(&WAITING, status);
        let terminated = reason_code(&TERMINATED, status);
        // kube-state-metrics keeps the latest termination's reason; an OOMKilling event is one.
        let ended = match terminated {
            0 if &row.record[cols.event] == "OOMKilling" => reason_code(&TERMINATED, "OOMKilled"),
            code => code,
        };
        if ended > 0 {
            self.last_terminated = ended;
            self.terminated_so_far |= 1 << (ended - 1);
        }
        if waiting > 0 {
            self.waiting_seen |= 1 << (waiting - 1);
        }
        if terminated > 0 {
            self.terminated_seen |= 1 << (terminated - 1);
        }
        let (ready, total): (u16, u16) = (cell(row, cols.ready)?, cell(row, cols.total)?);
        self.max_total = self.max_total.max(total);
        self.rows += 1;
        Ok(Record {
            values,
            ready,
            total,
            phase,
            waiting,
            terminated,
            last_terminated: self.last_terminated,
            terminated_so_far: self.terminated_so_far,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Pass 1: the generator's rows into the spill

/// The spill file of pass 1, removed when dropped (at once on Unix, where the open file outlives
/// its name, so not even a crash leaves it behind).
struct Spill {
    file: File,
    path: PathBuf,
    named: bool,
}

impl Spill {
    fn create(dir: &Path) -> Result<Spill> {
        let mut attempt = 0;
        loop {
            let path = dir.join(format!(".kubelstm-openmetrics-{}-{attempt}.spill", std::process::id()));
            // `create_new`: never follow a planted symlink or reuse someone else's file.
            match OpenOptions::new().read(true).write(true).create_new(true).open(&path) {
                Ok(file) => {
                    let named = !(cfg!(unix) && std::fs::remove_file(&path).is_ok());
                    return Ok(Spill { file, path, named });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
                Err(e) => return Err(Error::io("create", &path, e)),
            }
        }
    }

    fn write_at(&mut self, offset: u64, bytes: &[u8]) -> Result<()> {
        self.file.seek(SeekFrom::Start(offset)).and_then(|_| self.file.write_all(bytes)).map_err(|e| self.error(e))
    }

    fn error(&self, e: std::io::Error) -> Error {
        Error::io("write the temporary file", &self.path, e)
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        if self.named {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Pass 1: runs the generator once and spills every row's record at its pod-major place.
/// Returns the pods with rows and the node names.
fn collect(cfg: &SyntheticConfig, layout: &Layout, spill: &mut Spill) -> Result<(Vec<Pod>, Vec<String>)> {
    let cols = Columns::new();
    let interval = cfg.interval_seconds as f64;
    let block_steps = (BLOCK_BYTES / (layout.pods * RECORD + layout.nodes)).clamp(1, layout.steps);
    let mut block = vec![0u8; block_steps * layout.pods * RECORD];
    let mut node_block = vec![0u8; block_steps * layout.nodes];
    let mut block_start = 0;
    let mut pods: Vec<Pod> = Vec::with_capacity(layout.pods);
    let mut nodes = Vec::with_capacity(layout.nodes);
    synthetic::for_each_row(cfg, |row| {
        if row.step == block_start + block_steps {
            write_block(spill, layout, &pods, &block, &node_block, block_start, block_steps)?;
            block_start = row.step;
        }
        let k = row.step - block_start;
        if row.pod == 0 {
            // The first row of a step: every node's condition at this step.
            for n in 0..layout.nodes {
                node_block[n * block_steps + k] = u8::from(row.node_not_ready(n));
            }
        }
        if row.step == 0 {
            if row.pod == 0 {
                nodes.extend((0..layout.nodes).map(|n| row.node_name(n).to_string()));
            }
            pods.push(Pod::new(row, &cols));
        }
        let record = pods[row.pod].update(row, &cols, interval)?;
        record.encode(&mut block[(row.pod * block_steps + k) * RECORD..][..RECORD]);
        Ok(())
    })?;
    write_block(spill, layout, &pods, &block, &node_block, block_start, block_steps)?;
    for (p, pod) in pods.iter().enumerate() {
        if pod.rows != layout.rows_of(p) {
            return Err(Error::data(format!("pod slot {p} has {} rows, the layout {}", pod.rows, layout.rows_of(p))));
        }
    }
    Ok((pods, nodes))
}

/// Writes the block of steps from `start` (each pod's part, then each node's, at its place).
fn write_block(
    spill: &mut Spill,
    layout: &Layout,
    pods: &[Pod],
    block: &[u8],
    node_block: &[u8],
    start: usize,
    block_steps: usize,
) -> Result<()> {
    let steps = block_steps.min(layout.steps - start);
    for p in 0..pods.len() {
        let rows = layout.rows_of(p).min(start + steps) - start;
        spill.write_at(layout.record_offset(p, start), &block[p * block_steps * RECORD..][..rows * RECORD])?;
    }
    for n in 0..layout.nodes {
        spill.write_at(layout.node_offset(n, start), &node_block[n * block_steps..][..steps])?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Pass 2: the spill into families

/// Sequential reads of the spill, keeping the buffer across short hops (`seek_relative`).
struct SpillReader<'a> {
    reader: BufReader<&'a File>,
    pos: u64,
    path: &'a Path,
}

impl SpillReader<'_> {
    fn new(spill: &Spill) -> Result<SpillReader<'_>> {
        // Pass 1 left the file's position at its last write.
        let mut file = &spill.file;
        file.seek(SeekFrom::Start(0)).map_err(|e| Error::io("read the temporary file", &spill.path, e))?;
        Ok(SpillReader { reader: BufReader::with_capacity(1 << 20, file), pos: 0, path: &spill.path })
    }

    fn goto(&mut self, offset: u64) -> Result<()> {
        let path = self.path;
        self.reader
            .seek_relative(offset as i64 - self.pos as i64)
            .map_err(|e| Error::io("read the temporary file", path, e))?;
        self.pos = offset;
        Ok(())
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<()> {
        let path = self.path;
        self.reader.read_exact(buf).map_err(|e| Error::io("read the temporary file", path, e))?;
        self.pos += buf.len() as u64;
        Ok(())
    }
}

/// The text being written, and the prefix (`name{labels} `) of the current series.
struct Exposition<'a, W: Write> {
    out: BufWriter<W>,
    dest: &'a str,
    prefix: String,
    series: usize,
    samples: u64,
}

impl<W: Write> Exposition<'_, W> {
    fn metadata(&mut self, family: &Family) -> Result<()> {
        let kind = match family.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        };
        let (name, help) = (family.name, escape(family.help));
        writeln!(self.out, "# HELP {name} {help}\n# TYPE {name} {kind}").map_err(|e| Error::io("write", self.dest, e))
    }

    /// Starts a series of `family` (counters' samples are named `<family>_total`).
    fn series(&mut self, family: &Family, labels: &[(&str, &str)]) {
        self.prefix.clear();
        self.prefix.push_str(family.name);
        if family.kind == Kind::Counter {
            self.prefix.push_str("_total");
        }
        self.prefix.push('{');
        for (i, (name, value)) in labels.iter().enumerate() {
            if i > 0 {
                self.prefix.push(',');
            }
            self.prefix.push_str(name);
            self.prefix.push_str("=\"");
            self.prefix.push_str(&escape(value));
            self.prefix.push('"');
        }
        self.prefix.push_str("} ");
        self.series += 1;
    }

    /// One sample of the current series; `{}` of an f64 is its shortest round-trip decimal.
    fn sample(&mut self, value: f64, t: i64) -> Result<()> {
        self.samples += 1;
        writeln!(self.out, "{}{value} {t}", self.prefix).map_err(|e| Error::io("write", self.dest, e))
    }
}

/// A label value or HELP text escaped as OpenMetrics wants (`\\`, `\"`, `\n`).
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains(['\\', '"', '\n']) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.into()
}

/// A pod family: for each pod, each of its series in turn over the pod's records.
fn write_pods<W: Write>(
    out: &mut Exposition<'_, W>,
    family: &Family,
    pods: &[Pod],
    nodes: &[String],
    layout: &Layout,
    reader: &mut SpillReader<'_>,
) -> Result<()> {
    let mut buf = [0u8; RECORD];
    for (p, pod) in pods.iter().enumerate() {
        for (extra, pick) in pod_series(family.of, pod, nodes) {
            let mut labels: Vec<(&str, &str)> = vec![("namespace", &pod.namespace), ("pod", &pod.name)];
            labels.extend(extra.iter().map(|(k, v)| (*k, v.as_str())));
            out.series(family, &labels);
            reader.goto(layout.record_offset(p, 0))?;
            for step in 0..pod.rows {
                reader.read(&mut buf)?;
                if let Some(v) = pick.value(&Record::decode(&buf)) {
                    out.sample(v, layout.time(step))?;
                }
            }
        }
    }
    Ok(())
}

/// `kube_node_status_condition`: every node at every step, `status="true"` then `"false"`.
fn write_nodes<W: Write>(
    out: &mut Exposition<'_, W>,
    family: &Family,
    nodes: &[String],
    layout: &Layout,
    reader: &mut SpillReader<'_>,
) -> Result<()> {
    let mut not_ready = [0u8; 1];
    for (n, node) in nodes.iter().enumerate() {
        for status in ["true", "false"] {
            out.series(family, &[("node", node), ("condition", "Ready"), ("status", status)]);
            reader.goto(layout.node_offset(n, 0))?;
            for step in 0..layout.steps {
                reader.read(&mut not_ready)?;
                let ready = not_ready[0] == 0;
                out.sample(if ready == (status == "true") { 1.0 } else { 0.0 }, layout.time(step))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
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
