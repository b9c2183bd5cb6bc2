//! Pass 2 of the export: for each family, each pod's series over its records read back from the
//! spill, as OpenMetrics text.

use std::io::{BufWriter, Write};

use super::spill::SpillReader;
use super::{Extra, Family, Kind, Layout, Of, Pod, Record, CPU_LIMIT_CORES, MEMORY_LIMIT_BYTES, PHASES, RECORD};
use super::{TERMINATED, WAITING};
use crate::{Error, Result};

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
pub(super) fn container_name(containers: &[&str], i: usize) -> String {
    containers.get(i).map_or_else(|| format!("c{}", i - containers.len() + 1), |c| c.to_string())
}

// ---------------------------------------------------------------------------------------------
// Records

/// The text being written, and the prefix (`name{labels} `) of the current series.
pub(super) struct Exposition<'a, W: Write> {
    pub(super) out: BufWriter<W>,
    pub(super) dest: &'a str,
    pub(super) prefix: String,
    pub(super) series: usize,
    pub(super) samples: u64,
}

impl<W: Write> Exposition<'_, W> {
    pub(super) fn metadata(&mut self, family: &Family) -> Result<()> {
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
pub(super) fn write_pods<W: Write>(
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
pub(super) fn write_nodes<W: Write>(
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
