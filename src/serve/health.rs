//! The exporter's own metrics: which model serves, how the pulls go. Rendered after the
//! per-pod scores (which [`Output`] keeps) into the text `/metrics` serves.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::data::time::format_rfc3339;
use crate::detect::{Output, ScoringModel};

/// Counters and gauges of the exporter itself.
pub struct Health {
    model_info: String,
    last_success: Option<f64>,
    last_duration: Option<f64>,
    pulls: u64,
    windows: u64,
    errors: BTreeMap<&'static str, u64>,
}

/// A label value escaped per the text format (backslash, quote, newline).
pub fn escape_label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn model_info(model: &ScoringModel) -> String {
    let meta = &model.loaded.meta;
    let trained_at = std::fs::metadata(model.dir().join(crate::artifacts::names::META_FILE))
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(String::new(), |d| format_rfc3339(d.as_secs() as i64));
    format!(
        "kubelstm_model_info{{arch=\"{}\",model_sha256=\"{}\",trained_at=\"{}\"}} 1\n",
        model.arch().name(),
        escape_label(&meta.weights_sha256),
        trained_at
    )
}

impl Health {
    pub fn new(model: &ScoringModel) -> Health {
        Health {
            model_info: model_info(model),
            last_success: None,
            last_duration: None,
            pulls: 0,
            windows: 0,
            errors: ["prometheus", "data", "model_reload"].into_iter().map(|k| (k, 0)).collect(),
        }
    }

    pub fn model_loaded(&mut self, model: &ScoringModel) {
        self.model_info = model_info(model);
    }

    pub fn pulled(&mut self, windows: u64, duration: Duration) {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        self.last_success = Some(now);
        self.last_duration = Some(duration.as_secs_f64());
        self.pulls += 1;
        self.windows += windows;
    }

    pub fn error(&mut self, kind: &'static str) {
        *self.errors.entry(kind).or_insert(0) += 1;
    }

    /// The whole `/metrics` text: each pod's latest score, then the exporter's health.
    pub fn render(&self, output: &mut Output) -> String {
        let mut out = output.prometheus_text();
        let pods = out.lines().filter(|l| l.starts_with("kubelstm_anomaly_score{")).count();
        let mut gauge = |name: &str, help: &str, kind: &str, value: &str| {
            let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n");
        };
        gauge(
            "kubelstm_last_successful_pull_timestamp_seconds",
            "When the last pull from Prometheus succeeded (0: never); older than two intervals means the scores are stale.",
            "gauge",
            &self.last_success.map_or("0".into(), |t| format!("{t:.3}")),
        );
        gauge(
            "kubelstm_pull_duration_seconds",
            "How long the last successful pull and its scoring took.",
            "gauge",
            &self.last_duration.map_or("0".into(), |t| format!("{t:.6}")),
        );
        gauge("kubelstm_pulls_total", "Successful pulls.", "counter", &self.pulls.to_string());
        gauge("kubelstm_windows_scored_total", "Windows scored over all pulls.", "counter", &self.windows.to_string());
        gauge("kubelstm_pods_tracked", "Pods with a latest score.", "gauge", &pods.to_string());
        out.push_str("# HELP kubelstm_errors_total Failed pulls and refused model reloads, by kind.\n");
        out.push_str("# TYPE kubelstm_errors_total counter\n");
        for (kind, n) in &self.errors {
            let _ = writeln!(out, "kubelstm_errors_total{{kind=\"{kind}\"}} {n}");
        }
        out.push_str("# HELP kubelstm_model_info The model being served.\n# TYPE kubelstm_model_info gauge\n");
        out.push_str(&self.model_info);
        out
    }
}
