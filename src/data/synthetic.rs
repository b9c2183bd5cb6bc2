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

use std::fmt::Write as _;
use std::io::Write;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::csv_ingest::RowParser;
use super::options::LoadOptions;
use super::report::IngestReport;
use super::schema;
use super::stream::FeatureStream;
use super::{load_reader, Dataset};
use crate::{Error, Result};

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

struct Template {
    name: &'static str,
    namespace: &'static str,
    stateful: bool,
    containers: &'static [&'static str],
    cpu: f64,       // % of one core at load 1
    cpu_limit: f64, // % of one core
    mem_limit: f64, // MB
    mem_pct: f64,   // % of the limit at load 1
    rx: f64,        // bytes per sample at load 1
    tx_ratio: f64,
    fs_read: f64,  // MB per sample
    fs_write: f64, // MB per sample
    sawtooth: bool,
    batch: bool,
    leak_weight: f64,
}

// A table-row constructor: one line per workload below reads better than twelve literals.
#[allow(clippy::too_many_arguments)]
const fn t(
    name: &'static str,
    namespace: &'static str,
    stateful: bool,
    containers: &'static [&'static str],
    cpu: f64,
    cpu_limit: f64,
    mem_limit: f64,
    mem_pct: f64,
    rx: f64,
    tx_ratio: f64,
    fs: (f64, f64),
    flags: (bool, bool, f64),
) -> Template {
    Template {
        name,
        namespace,
        stateful,
        containers,
        cpu,
        cpu_limit,
        mem_limit,
        mem_pct,
        rx,
        tx_ratio,
        fs_read: fs.0,
        fs_write: fs.1,
        sawtooth: flags.0,
        batch: flags.1,
        leak_weight: flags.2,
    }
}

#[rustfmt::skip]
const TEMPLATES: [Template; 12] = [
    t("web-frontend", "frontend", false, &["nginx", "istio-proxy"], 12.0, 100.0, 512.0, 35.0, 4.0e7, 1.6, (0.4, 0.2), (false, false, 0.5)),
    t("checkout", "frontend", false, &["checkout", "istio-proxy"], 18.0, 150.0, 1024.0, 45.0, 2.0e7, 1.1, (0.3, 0.3), (false, false, 1.0)),
    t("api-gateway", "backend", false, &["gateway", "istio-proxy"], 25.0, 200.0, 1024.0, 50.0, 6.0e7, 1.0, (0.5, 0.4), (false, false, 1.0)),
    t("orders", "backend", false, &["orders-jvm"], 30.0, 200.0, 2048.0, 55.0, 1.5e7, 0.9, (1.0, 2.0), (true, false, 3.0)),
    t("inventory", "backend", false, &["inventory"], 15.0, 100.0, 768.0, 40.0, 8.0e6, 1.2, (0.8, 0.6), (false, false, 1.0)),
    t("postgres", "data", true, &["postgres"], 20.0, 200.0, 4096.0, 65.0, 1.2e7, 2.5, (30.0, 20.0), (false, false, 0.5)),
    t("redis", "data", true, &["redis"], 8.0, 100.0, 1024.0, 50.0, 3.0e7, 1.3, (0.1, 2.0), (false, false, 1.0)),
    t("prometheus", "monitoring", true, &["prometheus", "config-reloader"], 22.0, 200.0, 4096.0, 55.0, 2.5e7, 0.2, (5.0, 15.0), (true, false, 3.0)),
    t("coredns", "kube-system", false, &["coredns"], 4.0, 100.0, 170.0, 30.0, 5.0e6, 1.0, (0.01, 0.01), (false, false, 0.3)),
    t("report-worker", "batch", false, &["worker"], 10.0, 100.0, 1024.0, 40.0, 3.0e6, 0.5, (4.0, 3.0), (false, true, 1.5)),
    t("payment-service", "payments", false, &["payments", "envoy", "log-shipper"], 14.0, 150.0, 512.0, 45.0, 1.0e7, 1.0, (0.2, 0.5), (false, false, 1.0)),
    t("fluent-bit", "logging", false, &["fluent-bit"], 6.0, 100.0, 256.0, 40.0, 2.0e6, 3.0, (5.0, 0.5), (false, false, 0.5)),
];

/// A pod's latest event, aggregated like `kubectl get events` (first seen, count).
#[derive(Clone, Debug)]
struct Event {
    reason: &'static str,
    message: String,
    first: usize,
    last: usize,
    count: u32,
}

#[derive(Clone, Debug)]
enum Incident {
    None,
    Leak {
        phase: LeakPhase,
        rate: f64,
        extra: f64,
        cycles: u32,
        max_cycles: u32,
    },
    Saturation {
        phase: SatPhase,
        extra: f64,
        slope: f64,
        left: usize,
    },
    Network {
        phase: NetPhase,
        k: usize,
        left: usize,
        severity: f64,
    },
    Rollout {
        phase: RolloutPhase,
        k: usize,
        left: usize,
        next_kill: usize,
        version: u32,
    },
    /// Pod recreated (after a crash loop, rollback or node reboot): `left` rows of ContainerCreating.
    Recreate {
        left: usize,
    },
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum LeakPhase {
    Growing,
    Backoff { left: usize },
    Restarting,
}
#[derive(Clone, Copy, Debug, PartialEq)]
enum SatPhase {
    Ramp,
    Surge,
    Saturated,
    Recover,
}
#[derive(Clone, Copy, Debug, PartialEq)]
enum NetPhase {
    Precursor,
    Degraded,
    Recover,
}
#[derive(Clone, Copy, Debug, PartialEq)]
enum RolloutPhase {
    Pulling,
    Failing,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum NodeState {
    Healthy,
    Pressure { k: usize, left: usize },
    NotReady { left: usize },
}

struct Node {
    name: String,
    state: NodeState,
    cooldown: usize,
}

struct Workload {
    ar: f64,
    bump: f64,
    bump_left: usize,
    bump_len: usize,
    bump_amp: f64,
    rs_hash: String,
}

struct Pod {
    name: String,
    template: usize,
    node: usize,
    base_restarts: u32,
    restarts: u32,
    ar: f64,
    saw: f64,
    saw_rate: f64,
    saw_top: f64,
    batch_phase: usize,
    incident: Incident,
    cooldown: usize,
    event: Option<Event>,
    last_mem: f64,
    was_down: bool,
}

/// One output row before formatting.
struct Row {
    node: usize,
    node_not_ready: bool,
    status: &'static str,
    cpu: f64,
    mem_pct: f64,
    restarts: u32,
    rx: f64,
    tx: f64,
    fs_read: f64,
    fs_write: f64,
    rx_drop: f64,
    tx_drop: f64,
    ready: u32,
    total: u32,
}

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

fn alnum(rng: &mut ChaCha8Rng, n: usize, alphabet: &[u8]) -> String {
    (0..n).map(|_| alphabet[rng.random_range(0..alphabet.len())] as char).collect()
}

/// Daily × weekly load factor at epoch second `t`.
fn season(t: i64) -> f64 {
    let day = t.div_euclid(86_400);
    let hour = t.rem_euclid(86_400) as f64 / 3600.0;
    let daily = 1.0 + 0.35 * (std::f64::consts::TAU * (hour - 8.0) / 24.0).sin();
    // Hours since Monday 00:00 (1970-01-01 was a Thursday).
    let week_hour = ((day + 3).rem_euclid(7)) as f64 * 24.0 + hour;
    let ramp = |x: f64| x.clamp(0.0, 1.0);
    // Weekend from Saturday 00:00 (hour 120) to Monday 00:00 (hour 168), ramped over 6 h.
    // Monday 00:00–03:00 finishes the ramp down that started Sunday 21:00.
    let weekend = if week_hour < 3.0 {
        (3.0 - week_hour) / 6.0
    } else {
        ramp((week_hour - 117.0) / 6.0).min(ramp((171.0 - week_hour) / 6.0))
    };
    daily * (1.0 - 0.25 * weekend)
}

struct Cluster {
    cfg: SyntheticConfig,
    rng: ChaCha8Rng,
    nodes: Vec<Node>,
    workloads: Vec<Workload>,
    pods: Vec<Pod>,
}

/// Per pod-step probability that a pod incident starts (when the pod is idle and its node healthy).
const POD_HAZARD: f64 = 0.0025;
/// Per node-step probability that a node starts to fail.
const NODE_HAZARD: f64 = 1.0 / 5000.0;

impl Cluster {
    fn new(cfg: &SyntheticConfig) -> Cluster {
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let n_nodes = cfg.nodes();
        let nodes: Vec<Node> = (0..n_nodes)
            .map(|i| Node { name: format!("worker-{:02}", i + 1), state: NodeState::Healthy, cooldown: 120 })
            .collect();
        const HASH: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        let workloads: Vec<Workload> = TEMPLATES
            .iter()
            .map(|_| Workload {
                ar: 0.0,
                bump: 0.0,
                bump_left: 0,
                bump_len: 0,
                bump_amp: 0.0,
                rs_hash: alnum(&mut rng, 10, HASH),
            })
            .collect();
        // Nodes: shuffled round robin, so every node hosts a mix of workloads.
        let mut order: Vec<usize> = (0..n_nodes).collect();
        for i in (1..n_nodes).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        let pods = (0..cfg.pods)
            .map(|i| {
                let template = i % TEMPLATES.len();
                let tpl = &TEMPLATES[template];
                let replica = i / TEMPLATES.len();
                let name = if tpl.stateful {
                    format!("{}-{replica}", tpl.name)
                } else {
                    format!("{}-{}-{}", tpl.name, workloads[template].rs_hash, alnum(&mut rng, 5, HASH))
                };
                let base_restarts = [0, 0, 0, 0, 1, 2][rng.random_range(0..6)];
                Pod {
                    name,
                    template,
                    node: order[i % n_nodes],
                    base_restarts,
                    restarts: base_restarts,
                    ar: 0.0,
                    saw: uniform(&mut rng, 0.0, 10.0),
                    saw_rate: uniform(&mut rng, 0.01, 0.03),
                    saw_top: uniform(&mut rng, 9.0, 13.0),
                    batch_phase: rng.random_range(0..120),
                    incident: Incident::None,
                    cooldown: steps_between(&mut rng, 30, 400),
                    event: None,
                    last_mem: tpl.mem_pct,
                    was_down: false,
                }
            })
            .collect();
        Cluster { cfg: cfg.clone(), rng, nodes, workloads, pods }
    }

    fn step_shared(&mut self) {
        let rng = &mut self.rng;
        for w in &mut self.workloads {
            w.ar = 0.995 * w.ar + 0.0015 * normal(rng);
            if w.bump_left > 0 {
                w.bump_left -= 1;
                // A smooth traffic bump: sin² over its length.
                let x = 1.0 - w.bump_left as f64 / w.bump_len as f64;
                w.bump = w.bump_amp * (std::f64::consts::PI * x).sin().powi(2);
            } else {
                w.bump = 0.0;
                if rng.random::<f64>() < 0.002 {
                    // Gentle: the steepest CPU slope stays well under the 0.5/step spike rule.
                    w.bump_len = steps_between(rng, 90, 200);
                    w.bump_left = w.bump_len;
                    w.bump_amp = uniform(rng, 0.05, 0.2);
                }
            }
        }
        for n in &mut self.nodes {
            n.state = match n.state {
                NodeState::Healthy => {
                    if n.cooldown > 0 {
                        n.cooldown -= 1;
                        NodeState::Healthy
                    } else if rng.random::<f64>() < NODE_HAZARD {
                        NodeState::Pressure { k: 0, left: steps_between(rng, 6, 12) }
                    } else {
                        NodeState::Healthy
                    }
                }
                NodeState::Pressure { k, left } if left > 1 => NodeState::Pressure { k: k + 1, left: left - 1 },
                NodeState::Pressure { .. } => NodeState::NotReady { left: steps_between(rng, 5, 20) },
                NodeState::NotReady { left } if left > 1 => NodeState::NotReady { left: left - 1 },
                NodeState::NotReady { .. } => {
                    n.cooldown = steps_between(rng, 600, 1500);
                    NodeState::Healthy
                }
            };
        }
    }

    fn emit_event(event: &mut Option<Event>, step: usize, reason: &'static str, message: impl FnOnce() -> String) {
        match event {
            Some(e) if e.reason == reason && step <= e.last + 3 => {
                e.last = step;
                e.count += 1;
            }
            _ => *event = Some(Event { reason, message: message(), first: step, last: step, count: 1 }),
        }
    }

    fn start_incident(&mut self, p: usize) {
        let rng = &mut self.rng;
        let tpl = &TEMPLATES[self.pods[p].template];
        let weights = [tpl.leak_weight, 2.0, 1.5, if tpl.stateful { 0.0 } else { 1.5 }];
        let total: f64 = weights.iter().sum();
        let mut x = rng.random::<f64>() * total;
        let mut kind = 0;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                kind = i;
                break;
            }
            x -= w;
        }
        self.pods[p].incident = match kind {
            0 => Incident::Leak {
                phase: LeakPhase::Growing,
                rate: uniform(rng, 0.15, 0.5),
                extra: 0.0,
                cycles: 0,
                max_cycles: rng.random_range(3..=6),
            },
            1 => Incident::Saturation {
                phase: SatPhase::Ramp,
                extra: 0.0,
                slope: uniform(rng, 0.12, 0.25),
                left: steps_between(rng, 10, 25),
            },
            2 => Incident::Network {
                phase: NetPhase::Precursor,
                k: 0,
                left: steps_between(rng, 6, 15),
                severity: uniform(rng, 0.5, 1.5),
            },
            _ => Incident::Rollout {
                phase: RolloutPhase::Pulling,
                k: 0,
                left: steps_between(rng, 2, 4),
                next_kill: steps_between(rng, 4, 8),
                version: rng.random_range(10..60),
            },
        };
    }

    /// The row of pod `p` at `step` (epoch second `t`).
    fn pod_row(&mut self, p: usize, step: usize, t: i64) -> Row {
        let node_state = self.nodes[self.pods[p].node].state;
        // Start an incident?
        if matches!(self.pods[p].incident, Incident::None) && node_state == NodeState::Healthy {
            if self.pods[p].cooldown > 0 {
                self.pods[p].cooldown -= 1;
            } else if self.rng.random::<f64>() < POD_HAZARD {
                self.start_incident(p);
            }
        }
        let rng = &mut self.rng;
        let pod = &mut self.pods[p];
        let tpl = &TEMPLATES[pod.template];
        let w = &self.workloads[pod.template];
        pod.ar = 0.99 * pod.ar + 0.001 * normal(rng);
        let load = season(t) * (1.0 + w.ar + w.bump) * (1.0 + pod.ar);
        let total = tpl.containers.len() as u32;

        // Normal behaviour.
        let mut cpu = tpl.cpu * load + 0.04 * normal(rng);
        if tpl.batch {
            // A report job every 2 h: CPU rises gently for 50 min, then falls back.
            let ph = (step + pod.batch_phase) % 120;
            if ph < 50 {
                cpu += 0.12 * ph as f64;
            } else if ph < 70 {
                cpu += 0.3 * (70 - ph) as f64;
            }
        }
        if tpl.sawtooth {
            pod.saw += pod.saw_rate * (1.0 + 0.3 * normal(rng));
            if pod.saw > pod.saw_top {
                pod.saw = uniform(rng, 0.0, 1.5); // GC / compaction
            }
        }
        let mut mem = tpl.mem_pct + 4.0 * (load - 1.0) + if tpl.sawtooth { pod.saw } else { 0.0 } + 0.04 * normal(rng);
        let mut rx = tpl.rx * load * (1.0 + 0.04 * normal(rng));
        let mut tx = rx * tpl.tx_ratio * (1.0 + 0.04 * normal(rng));
        let mut fs_read = tpl.fs_read * load * (1.0 + 0.1 * normal(rng)).max(0.05);
        let mut fs_write = tpl.fs_write * load * (1.0 + 0.1 * normal(rng)).max(0.05);
        let mut rx_drop = 0.0;
        let mut tx_drop = if rng.random::<f64>() < 0.002 { uniform(rng, 0.05, 0.5) } else { 0.0 };
        let mut ready = total;
        let mut status = "Running";
        let container = tpl.containers[0];
        let mut done: Option<bool> = None; // Some(recreate) when the incident ends this step
        let mut recreated = false;

        match &mut pod.incident {
            Incident::None => {}
            Incident::Leak { phase, rate, extra, cycles, max_cycles } => match *phase {
                LeakPhase::Growing | LeakPhase::Restarting => {
                    let r = if *phase == LeakPhase::Growing { *rate } else { *rate * 25.0 };
                    *extra += r * (1.0 + 0.2 * normal(rng)).max(0.2);
                    let level = if *phase == LeakPhase::Growing { mem } else { 0.45 * tpl.mem_pct };
                    mem = level + *extra;
                    cpu += (*extra / 40.0) * 0.2 * tpl.cpu; // GC pressure
                    if *phase == LeakPhase::Restarting {
                        ready = total - 1;
                        cpu += 0.5 * tpl.cpu;
                    }
                    if mem >= 99.3 {
                        mem = uniform(rng, 99.3, 99.95);
                        status = "OOMKilled";
                        pod.restarts += 1;
                        *cycles += 1;
                        Cluster::emit_event(&mut pod.event, step, "OOMKilling", || {
                            format!("Memory cgroup out of memory: Killed process {} ({container})", 1000 + step % 30000)
                        });
                        *extra = 0.0;
                        *phase = if *cycles >= 2 {
                            LeakPhase::Backoff { left: (*cycles as usize - 1).min(5) }
                        } else {
                            LeakPhase::Restarting
                        };
                        if *cycles > *max_cycles {
                            done = Some(true);
                        }
                    }
                }
                LeakPhase::Backoff { left } => {
                    status = "CrashLoopBackOff";
                    ready = 0;
                    cpu = 0.3 + 0.05 * normal(rng).abs();
                    mem = 2.0 + 0.2 * normal(rng).abs();
                    rx *= 0.01;
                    tx *= 0.01;
                    fs_read *= 0.05;
                    fs_write *= 0.05;
                    let name = pod.name.clone();
                    Cluster::emit_event(&mut pod.event, step, "BackOff", || {
                        format!("Back-off restarting failed container {container} in pod {name}")
                    });
                    *phase = if left > 1 { LeakPhase::Backoff { left: left - 1 } } else { LeakPhase::Restarting };
                }
            },
            Incident::Saturation { phase, extra, slope, left } => {
                match *phase {
                    SatPhase::Ramp => {
                        *extra += *slope;
                        *left -= 1;
                        if *left == 0 {
                            *phase = SatPhase::Surge;
                        }
                    }
                    SatPhase::Surge => {
                        *extra += uniform(rng, 4.0, 12.0);
                        if tpl.cpu * load + *extra >= 0.95 * tpl.cpu_limit {
                            *phase = SatPhase::Saturated;
                            *left = steps_between(rng, 10, 35);
                        }
                    }
                    SatPhase::Saturated => {
                        *left -= 1;
                        if *left == 0 {
                            *phase = SatPhase::Recover;
                            *left = steps_between(rng, 6, 15);
                        }
                    }
                    SatPhase::Recover => {
                        *extra *= 1.0 - 1.0 / (*left as f64 + 1.0);
                        *left -= 1;
                        if *left == 0 {
                            done = Some(false);
                        }
                    }
                }
                let traffic = 1.0 + *extra / tpl.cpu;
                if *phase == SatPhase::Saturated {
                    cpu = tpl.cpu_limit * uniform(rng, 0.92, 1.0);
                    ready = total - 1;
                    rx *= traffic.min(3.0);
                    tx *= 0.6;
                    Cluster::emit_event(&mut pod.event, step, "Unhealthy", || {
                        format!(
                            "Readiness probe failed: Get \"http://10.0.{}.{}:8080/ready\": context deadline exceeded",
                            step % 200,
                            p % 250
                        )
                    });
                } else {
                    cpu = (cpu + *extra).min(tpl.cpu_limit);
                    rx *= traffic.min(3.0);
                    tx *= traffic.min(3.0);
                }
            }
            Incident::Network { phase, k, left, severity } => {
                *k += 1;
                match *phase {
                    NetPhase::Precursor => {
                        tx_drop = 0.25 * *k as f64 * *severity * (1.0 + 0.2 * normal(rng)).max(0.1);
                        let slow = 1.0 - 0.02 * *k as f64;
                        rx *= slow;
                        tx *= slow;
                        cpu += 0.05 * *k as f64;
                    }
                    NetPhase::Degraded => {
                        rx_drop = (*severity * uniform(rng, 1.0, 30.0)).max(0.1);
                        tx_drop = *severity * uniform(rng, 3.0, 20.0);
                        rx *= 0.5;
                        tx *= 0.5;
                        cpu += 1.0;
                    }
                    NetPhase::Recover => {
                        tx_drop = (*left as f64) * 0.3 * *severity;
                    }
                }
                *left -= 1;
                if *left == 0 {
                    match *phase {
                        NetPhase::Precursor => {
                            *phase = NetPhase::Degraded;
                            *left = steps_between(rng, 10, 35);
                        }
                        NetPhase::Degraded => {
                            *phase = NetPhase::Recover;
                            *left = steps_between(rng, 3, 8);
                        }
                        NetPhase::Recover => done = Some(false),
                    }
                }
            }
            Incident::Rollout { phase, k, left, next_kill, version } => {
                *k += 1;
                let v = *version;
                match *phase {
                    RolloutPhase::Pulling => {
                        // Unpacking layers: disk reads surge, CPU creeps up (no spike).
                        fs_read += uniform(rng, 60.0, 200.0);
                        cpu += 0.25 * *k as f64;
                        let name = tpl.name;
                        Cluster::emit_event(&mut pod.event, step, "Pulling", || {
                            format!("Pulling image \"registry.local/{name}:v1.{v}\"")
                        });
                        *left -= 1;
                        if *left == 0 {
                            *phase = RolloutPhase::Failing;
                            *left = steps_between(rng, 15, 45);
                        }
                    }
                    RolloutPhase::Failing => {
                        ready = total - 1;
                        cpu *= 0.4;
                        rx *= 0.3;
                        tx *= 0.3;
                        *next_kill -= 1;
                        if *next_kill == 0 {
                            status = "Error";
                            pod.restarts += 1;
                            *next_kill = steps_between(rng, 4, 8);
                        }
                        Cluster::emit_event(&mut pod.event, step, "Unhealthy", || {
                            "Readiness probe failed: HTTP probe failed with statuscode: 503".to_string()
                        });
                        *left -= 1;
                        if *left == 0 {
                            done = Some(true);
                            Cluster::emit_event(&mut pod.event, step, "Killing", || {
                                format!("Stopping container {container}: rolled back to the previous revision")
                            });
                        }
                    }
                }
            }
            Incident::Recreate { left } => {
                status = "ContainerCreating";
                ready = 0;
                cpu = 0.5 + 0.1 * normal(rng).abs();
                mem = 5.0;
                rx *= 0.02;
                tx *= 0.02;
                pod.restarts = pod.base_restarts;
                *left -= 1;
                recreated = *left == 0;
            }
        }
        if recreated {
            pod.incident = Incident::None;
            Cluster::emit_event(&mut pod.event, step, "Started", || format!("Started container {container}"));
        }
        if let Some(recreate) = done {
            pod.incident = if recreate { Incident::Recreate { left: 1 } } else { Incident::None };
            pod.cooldown = steps_between(rng, 90, 360);
        }

        // The node's condition overrides what the pod shows.
        let mut node_not_ready = false;
        match node_state {
            NodeState::Healthy => {
                if pod.was_down {
                    // The node is back: containers restart.
                    pod.was_down = false;
                    pod.restarts += 1;
                    status = "ContainerCreating";
                    ready = 0;
                    cpu = 0.5;
                    mem = 5.0;
                    Cluster::emit_event(&mut pod.event, step, "NodeReady", || {
                        "Node is ready again; containers restarted".into()
                    });
                }
            }
            NodeState::Pressure { k, .. } => {
                let k = k as f64 + 1.0;
                cpu += 0.2 * k;
                tx_drop += 0.15 * k;
                fs_write *= (1.0 - 0.06 * k).max(0.2);
                rx *= (1.0 - 0.03 * k).max(0.5);
                tx *= (1.0 - 0.03 * k).max(0.5);
            }
            NodeState::NotReady { .. } => {
                node_not_ready = true;
                pod.was_down = true;
                pod.incident = Incident::None;
                pod.cooldown = 120;
                status = "Unknown";
                ready = 0;
                cpu = 0.0;
                mem = pod.last_mem;
                rx = 0.0;
                tx = 0.0;
                fs_read = 0.0;
                fs_write = 0.0;
                rx_drop = 0.0;
                tx_drop = 0.0;
                Cluster::emit_event(&mut pod.event, step, "NodeNotReady", || "Node is not ready".into());
            }
        }
        let mem = mem.clamp(0.5, 99.99);
        pod.last_mem = mem;
        Row {
            node: pod.node,
            node_not_ready,
            status,
            cpu: cpu.max(0.0),
            mem_pct: mem,
            restarts: pod.restarts,
            rx: rx.max(0.0),
            tx: tx.max(0.0),
            fs_read: fs_read.max(0.0),
            fs_write: fs_write.max(0.0),
            rx_drop,
            tx_drop: tx_drop.max(0.0),
            ready,
            total,
        }
    }
}

/// Formats one row into `rec` (cleared first); `field` is scratch.
fn format_row(
    rec: &mut csv::StringRecord,
    field: &mut String,
    t: i64,
    cluster: &Cluster,
    p: usize,
    row: &Row,
    step: usize,
) {
    let pod = &cluster.pods[p];
    let tpl = &TEMPLATES[pod.template];
    let event = pod.event.as_ref().filter(|e| step <= e.last + 2);
    let minutes = |e: &Event| (step - e.first) as u64 * cluster.cfg.interval_seconds as u64 / 60;
    rec.clear();
    macro_rules! put {
        ($($arg:tt)*) => {{
            field.clear();
            let _ = write!(field, $($arg)*);
            rec.push_field(field);
        }};
    }
    field.clear();
    super::time::push_rfc3339(field, t);
    rec.push_field(field);
    put!("{}", pod.name);
    put!("{}", tpl.namespace);
    put!("{}{}", cluster.nodes[row.node].name, if row.node_not_ready { " (NodeNotReady)" } else { "" });
    put!("{}", row.status);
    put!("{}", event.map_or("", |e| e.reason));
    put!("{:.3}", row.cpu);
    put!("{:.2}", row.mem_pct);
    put!("{}", row.restarts);
    put!("{:.1}", row.mem_pct / 100.0 * tpl.mem_limit);
    put!("{:.0}", row.rx);
    put!("{:.0}", row.tx);
    put!("{:.3}", row.fs_read);
    put!("{:.3}", row.fs_write);
    put!("{:.2}", row.rx_drop);
    put!("{:.2}", row.tx_drop);
    put!("{}", row.ready);
    put!("{}", row.total);
    put!("{:.0}", tpl.cpu_limit);
    put!("{:.0}", tpl.mem_limit);
    put!("{}", event.map_or("", |e| e.message.as_str()));
    put!("{}", event.map_or(0, minutes));
    put!("{}", event.map_or(0, |e| e.count));
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
