//! One pod's row: built by the normal behaviour, reshaped by incidents, then formatted.

use std::fmt::Write as _;

use super::cluster::Cluster;
use super::workloads::TEMPLATES;
use crate::data::time::push_rfc3339;

/// A pod's latest event, aggregated like `kubectl get events` (first seen, count).
#[derive(Clone, Debug)]
pub(super) struct Event {
    pub(super) reason: &'static str,
    pub(super) message: String,
    pub(super) first: usize,
    pub(super) last: usize,
    pub(super) count: u32,
}

/// Records `reason` at `step`: counted into the latest event if it recurs within three steps,
/// else a new event (`message` is built only then).
pub(super) fn emit(event: &mut Option<Event>, step: usize, reason: &'static str, message: impl FnOnce() -> String) {
    match event {
        Some(e) if e.reason == reason && step <= e.last + 3 => {
            e.last = step;
            e.count += 1;
        }
        _ => *event = Some(Event { reason, message: message(), first: step, last: step, count: 1 }),
    }
}

/// One output row before formatting. While it is being built the values may leave their range
/// (negative CPU, memory past 100 %); [`Row::settle`] clamps them. `restarts` is the pod's count,
/// which the pod keeps.
pub(super) struct Row {
    pub(super) node: usize,
    pub(super) node_not_ready: bool,
    pub(super) status: &'static str,
    pub(super) cpu: f64,
    pub(super) mem_pct: f64,
    pub(super) restarts: u32,
    pub(super) rx: f64,
    pub(super) tx: f64,
    pub(super) fs_read: f64,
    pub(super) fs_write: f64,
    pub(super) rx_drop: f64,
    pub(super) tx_drop: f64,
    pub(super) ready: u32,
    pub(super) total: u32,
}

impl Row {
    /// Clamps the values into what the schema's columns can hold.
    pub(super) fn settle(&mut self) {
        self.mem_pct = self.mem_pct.clamp(0.5, 99.99);
        self.cpu = self.cpu.max(0.0);
        self.rx = self.rx.max(0.0);
        self.tx = self.tx.max(0.0);
        self.fs_read = self.fs_read.max(0.0);
        self.fs_write = self.fs_write.max(0.0);
        self.tx_drop = self.tx_drop.max(0.0);
    }
}

/// Formats one row into `rec` (cleared first); `field` is scratch.
pub(super) fn format_row(
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
    push_rfc3339(field, t);
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
