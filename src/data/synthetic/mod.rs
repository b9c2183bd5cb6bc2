//! A synthetic Kubernetes cluster's pod metrics, in the input schema, so kubelstm works with
//! no data of the user's (`kubelstm generate`, and `train` without `--data-path`).
//!
//! What it models (one sample per pod per `interval`, default 60 s, from Monday 2024-03-04):
//! - **Cluster**: twelve workloads in eight namespaces (Deployments with ReplicaSet-hash pod
//!   names, StatefulSets with ordinal names), 1–3 containers, CPU and memory limits, spread over
//!   `⌈pods/8⌉` (at least 2) nodes.
//! - **Normal behaviour**: each workload's load `L(t)` = daily cycle (peak 14:00, trough 02:00)
//!   × weekly cycle (weekends −25 %, ramped over 6 h) × a slow shared AR(1) process, plus a
//!   per-pod AR(1). CPU, network and disk follow `L` (correlated); memory drifts with `L` and,
//!   for JVM/TSDB workloads, saw-tooths up by ~12 points and drops at GC/compaction. Noise is
//!   small enough that normal CPU moves by far less than 0.5 points a minute, so the original's
//!   CPU-spike rule (`rate > 0.5`) means a real spike. Decoys keep the task honest: saw-tooth
//!   memory, gentle batch-job CPU ramps, workload-wide traffic bumps, harmless transmit-drop blips.
//! - **Incidents that develop, with precursors** (what the default rules then label):
//!   - *memory leak*: memory climbs for hours → `Memory Usage (%)` > 95 → `OOMKilled` row with
//!     event `OOMKilling` → `CrashLoopBackOff` cycles (no ready containers, restarts rising past
//!     5, fast re-leaks) → the pod is recreated;
//!   - *CPU saturation*: traffic ramps up (CPU rising < 0.5/min, network with it) → CPU spikes
//!     (> 0.5/min) to its limit → readiness probes time out (ready < total) → load subsides;
//!   - *network degradation*: transmit drops and retransmissions grow → receive packets drop;
//!   - *node NotReady*: disk and network pressure on every pod of a node → the node goes
//!     NotReady (`Node Name` carries `(NodeNotReady)`, pods `Unknown`, nothing ready) →
//!     containers restart when it returns;
//!   - *failed rollout*: an image pull (disk reads surge) → the new version fails readiness
//!     (`Unhealthy`), liveness restarts with `Error` rows → rolled back.
//!
//! Network and disk columns are per-sample amounts (what `rate()` over the scrape interval
//! gives), not cumulative counters. `Event Reason`/`Event Message`/`Event Age (minutes)`/
//! `Event Count` show the pod's latest event (aggregated like `kubectl get events`) while it
//! recurs and for two samples after; with no recent event they are empty/0. A recreated pod keeps
//! its name (like a StatefulSet's), so each series is one pod slot.
//!
//! Same seed, same bytes: one ChaCha8 stream drawn in a fixed order, fixed-precision output.
//!
//! Layout: `workloads` is the table of workloads, `cluster` the state from step to step (nodes,
//! shared load, each pod's normal behaviour), `incidents` one unit per incident (its phases and
//! what it does to a row), `row` the row and its CSV formatting; this file is the public API.

mod cluster;
mod incidents;
mod row;
mod workloads;

use std::io::Write;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::csv_ingest::RowParser;
use super::options::LoadOptions;
use super::report::IngestReport;
use super::schema;
use super::stream::FeatureStream;
use super::{load_reader, Dataset};
use crate::{Error, Result};
use cluster::Cluster;
use incidents::NodeState;
use row::format_row;
use workloads::TEMPLATES;

/// Generator settings.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntheticConfig {
    pub pods: usize,
    pub rows: usize,
    pub seed: u64,
    /// Seconds between samples of a pod.
    pub interval_seconds: u32,
    /// Epoch seconds of the first sample.
    pub start: i64,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        SyntheticConfig {
            pods: 50,
            rows: 100_000,
            seed: 42,
            interval_seconds: 60,
            start: 1_709_510_400, // 2024-03-04T00:00:00Z, a Monday
        }
    }
}

impl SyntheticConfig {
    pub fn validate(&self) -> Result<()> {
        if self.pods == 0 || self.pods > 100_000 {
            return Err(Error::config(format!("--pods must be between 1 and 100000, got {}", self.pods)));
        }
        if self.rows == 0 {
            return Err(Error::config("--rows must be at least 1"));
        }
        if self.interval_seconds == 0 {
            return Err(Error::config("--interval must be at least 1 second"));
        }
        Ok(())
    }
    /// Samples per pod (the last time step may cover only some pods).
    pub fn steps(&self) -> usize {
        self.rows.div_ceil(self.pods)
    }
    /// Nodes of the cluster: about eight pods each, and at least two.
    pub fn nodes(&self) -> usize {
        self.pods.div_ceil(8).max(2)
    }
    pub fn describe(&self) -> String {
        format!("synthetic cluster (seed {}, {} pods, {} rows)", self.seed, self.pods, self.rows)
    }
}

/// The CSV header the generator writes: the required columns, then the optional ones.
pub fn header() -> Vec<&'static str> {
    schema::REQUIRED.iter().chain(schema::OPTIONAL.iter()).copied().collect()
}

// The draws every part of the generator takes from the one stream.
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box–Muller; u1 in (0, 1] so the log is finite.
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn uniform(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.random::<f64>()
}

fn steps_between(rng: &mut ChaCha8Rng, lo: usize, hi: usize) -> usize {
    rng.random_range(lo..=hi)
}

/// One generated row: the CSV record as the CSV writer writes it, and what the record does not
/// say (the pod's containers, the state of every node), for other views of the same cluster.
pub struct GeneratedRow<'a> {
    pub step: usize,
    /// Epoch seconds.
    pub t: i64,
    /// The pod slot, `0..pods` (a recreated pod keeps its slot and its name).
    pub pod: usize,
    /// The row, in [`header`] order.
    pub record: &'a csv::StringRecord,
    cluster: &'a Cluster,
}

impl GeneratedRow<'_> {
    /// The pod's container names, in order (`Total Containers` of them).
    pub fn containers(&self) -> &'static [&'static str] {
        TEMPLATES[self.cluster.pods[self.pod].template].containers
    }
    /// The index of the pod's node, `0..SyntheticConfig::nodes()`.
    pub fn node(&self) -> usize {
        self.cluster.pods[self.pod].node
    }
    /// Node `n`'s name, without the `(NodeNotReady)` suffix of `Node Name`.
    pub fn node_name(&self, n: usize) -> &str {
        &self.cluster.nodes[n].name
    }
    /// Whether node `n` is NotReady at this step, as its pods' rows say (for every node, also
    /// one without pods or whose pods have no row left in a partial last step).
    pub fn node_not_ready(&self, n: usize) -> bool {
        matches!(self.cluster.nodes[n].state, NodeState::NotReady { .. })
    }
}

/// Runs the generator and calls `f` with every row in output order (time step, then pod): the
/// one source of rows behind the CSV and the OpenMetrics exporter, so both show the same cluster.
pub fn for_each_row(cfg: &SyntheticConfig, mut f: impl FnMut(&GeneratedRow<'_>) -> Result<()>) -> Result<()> {
    cfg.validate()?;
    let mut cluster = Cluster::new(cfg);
    let mut rec = csv::StringRecord::new();
    let mut scratch = String::new();
    let mut written = 0usize;
    for step in 0..cfg.steps() {
        let t = cfg.start + step as i64 * cfg.interval_seconds as i64;
        cluster.step_shared();
        for p in 0..cluster.pods.len() {
            if written == cfg.rows {
                return Ok(());
            }
            let row = cluster.pod_row(p, step, t);
            format_row(&mut rec, &mut scratch, t, &cluster, p, &row, step);
            f(&GeneratedRow { step, t, pod: p, record: &rec, cluster: &cluster })?;
            written += 1;
        }
    }
    Ok(())
}

/// Writes the cluster's CSV to `out` and returns what loading it would report (rows, per-rule
/// counts, anomaly rate), computed on the fly through the streaming feature path.
/// `dest` names the destination in I/O errors.
pub fn write_csv<W: Write>(cfg: &SyntheticConfig, out: W, dest: &str) -> Result<IngestReport> {
    cfg.validate()?;
    let mut writer = csv::WriterBuilder::new().buffer_capacity(1 << 16).from_writer(out);
    let header = header();
    let io_err = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io("write", dest, io),
        other => Error::data(format!("could not write CSV: {other:?}")),
    };
    writer.write_record(&header).map_err(io_err)?;
    let header_record = csv::StringRecord::from(header);
    let parser = RowParser::from_header_record(&cfg.describe(), &header_record, &LoadOptions::default())?;
    let mut stream = FeatureStream::new(parser);
    let mut line = 1u64;
    for_each_row(cfg, |row| {
        writer.write_record(row.record).map_err(io_err)?;
        line += 1;
        match stream.push(row.record, line) {
            Ok(_) => Ok(()),
            Err(bad) => Err(Error::data(format!("the generator wrote a row it cannot read back: {}", bad.error))),
        }
    })?;
    writer.flush().map_err(|e| Error::io("write", dest, e))?;
    let mut report = stream.report();
    report.source = cfg.describe();
    Ok(report)
}

/// The cluster's CSV in memory.
pub fn csv_bytes(cfg: &SyntheticConfig) -> Result<(Vec<u8>, IngestReport)> {
    let mut buf = Vec::with_capacity(cfg.rows * 210);
    let report = write_csv(cfg, &mut buf, "memory")?;
    Ok((buf, report))
}

/// The synthetic cluster loaded as a dataset, exactly as `kubelstm generate` followed by a
/// load of that file would give (the default data of `train`).
pub fn dataset(cfg: &SyntheticConfig, options: &LoadOptions) -> Result<Dataset> {
    let (bytes, _) = csv_bytes(cfg)?;
    load_reader(bytes.as_slice(), &cfg.describe(), options)
}
