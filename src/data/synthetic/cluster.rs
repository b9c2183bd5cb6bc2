//! The cluster's state from step to step: nodes, workloads and pods, the load they share, and
//! each pod's row (its normal behaviour, then its incident's, then its node's).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::incidents::{self, Ctx, Incident, Leak, Network, NodeState, Outcome, Rollout, Saturation};
use super::row::{emit, Event, Row};
use super::workloads::{Template, TEMPLATES};
use super::{normal, steps_between, uniform, SyntheticConfig};

pub(super) struct Node {
    pub(super) name: String,
    pub(super) state: NodeState,
    /// Steps the node stays healthy before it may fail.
    pub(super) cooldown: usize,
}

struct Workload {
    ar: f64,
    bump: f64,
    bump_left: usize,
    bump_len: usize,
    bump_amp: f64,
    rs_hash: String,
}

pub(super) struct Pod {
    pub(super) name: String,
    pub(super) template: usize,
    pub(super) node: usize,
    pub(super) base_restarts: u32,
    pub(super) restarts: u32,
    ar: f64,
    saw: f64,
    saw_rate: f64,
    saw_top: f64,
    batch_phase: usize,
    pub(super) incident: Incident,
    /// Steps the pod stays idle before an incident may start.
    pub(super) cooldown: usize,
    pub(super) event: Option<Event>,
    /// The last row's memory, which a NotReady node keeps reporting.
    pub(super) last_mem: f64,
    /// The node was NotReady at the last step.
    pub(super) was_down: bool,
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

pub(super) struct Cluster {
    pub(super) cfg: SyntheticConfig,
    rng: ChaCha8Rng,
    pub(super) nodes: Vec<Node>,
    workloads: Vec<Workload>,
    pub(super) pods: Vec<Pod>,
}

/// Per pod-step probability that a pod incident starts (when the pod is idle and its node healthy).
const POD_HAZARD: f64 = 0.0025;

impl Cluster {
    pub(super) fn new(cfg: &SyntheticConfig) -> Cluster {
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

    /// Advances what the pods share: each workload's load and traffic bumps, each node's state.
    pub(super) fn step_shared(&mut self) {
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
            n.state = n.state.next(&mut n.cooldown, rng);
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
            0 => Incident::Leak(Leak::start(rng)),
            1 => Incident::Saturation(Saturation::start(rng)),
            2 => Incident::Network(Network::start(rng)),
            _ => Incident::Rollout(Rollout::start(rng)),
        };
    }

    /// The row of pod `p` at `step` (epoch second `t`).
    pub(super) fn pod_row(&mut self, p: usize, step: usize, t: i64) -> Row {
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
        let mut row = normal_row(rng, pod, tpl, load, step);

        let mut cx = Ctx { rng: &mut *rng, tpl, step, slot: p, load, name: &pod.name, event: &mut pod.event };
        let outcome = match &mut pod.incident {
            Incident::None => Outcome::Ongoing,
            Incident::Leak(leak) => leak.apply(&mut cx, &mut row),
            Incident::Saturation(saturation) => saturation.apply(&mut cx, &mut row),
            Incident::Network(network) => network.apply(&mut cx, &mut row),
            Incident::Rollout(rollout) => rollout.apply(&mut cx, &mut row),
            Incident::Recreate { left } => incidents::recreate(left, pod.base_restarts, &mut cx, &mut row),
        };
        match outcome {
            Outcome::Ongoing => {}
            Outcome::Started => {
                pod.incident = Incident::None;
                let container = tpl.containers[0];
                emit(&mut pod.event, step, "Started", || format!("Started container {container}"));
            }
            Outcome::Over { recreate } => {
                pod.incident = if recreate { Incident::Recreate { left: 1 } } else { Incident::None };
                pod.cooldown = steps_between(rng, 90, 360);
            }
        }
        node_state.apply(pod, step, &mut row);

        row.settle();
        pod.last_mem = row.mem_pct;
        pod.restarts = row.restarts;
        row
    }
}

/// The pod's row with no incident: CPU, network and disk follow the load, memory drifts with it
/// (and saw-tooths for JVM/TSDB workloads), batch jobs ramp CPU, rare harmless transmit drops.
fn normal_row(rng: &mut ChaCha8Rng, pod: &mut Pod, tpl: &Template, load: f64, step: usize) -> Row {
    let total = tpl.containers.len() as u32;
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
    let mem = tpl.mem_pct + 4.0 * (load - 1.0) + if tpl.sawtooth { pod.saw } else { 0.0 } + 0.04 * normal(rng);
    let rx = tpl.rx * load * (1.0 + 0.04 * normal(rng));
    let tx = rx * tpl.tx_ratio * (1.0 + 0.04 * normal(rng));
    let fs_read = tpl.fs_read * load * (1.0 + 0.1 * normal(rng)).max(0.05);
    let fs_write = tpl.fs_write * load * (1.0 + 0.1 * normal(rng)).max(0.05);
    let tx_drop = if rng.random::<f64>() < 0.002 { uniform(rng, 0.05, 0.5) } else { 0.0 };
    Row {
        node: pod.node,
        node_not_ready: false,
        status: "Running",
        cpu,
        mem_pct: mem,
        restarts: pod.restarts,
        rx,
        tx,
        fs_read,
        fs_write,
        rx_drop: 0.0,
        tx_drop,
        ready: total,
        total,
    }
}
