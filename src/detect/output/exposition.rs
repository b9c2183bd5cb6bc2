//! What `--format prometheus` ([`super::prometheus`]) and `serve`'s `/metrics` show: each pod's
//! latest score and its open incident in the Prometheus text exposition format (the
//! node-exporter textfile format).
//!
//! ```text
//! kubelstm_anomaly_score{namespace="shop",pod="cart-7f9"} 0.93     the latest window's score
//! kubelstm_anomaly{…} 1                                            score >= threshold
//! kubelstm_incident_open{…} 1                                      an incident is open
//! kubelstm_incidents_total{…} 2                                    incidents opened so far
//! ```
//!
//! `kubelstm_anomaly` follows each window, so an alert on it (`for: 5m`) starts over whenever
//! a fault's score dips under the threshold for one window. `kubelstm_incident_open` follows
//! the incidents of `detect --events` (see [`crate::detect::incidents`]): it stays 1 across up
//! to `--merge-gap` normal windows in a row, so an alert on it lasts as long as the fault.
//!
//! `serve` scores the last few windows of every pod at each pull, so a pod's windows arrive
//! more than once; each window goes into the incidents once, the first time it is seen, and
//! in time order.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::{OutputOptions, Scored};
use crate::detect::incidents::Incidents;
use crate::detect::model::{key_parts, Horizon};

/// The latest score of one pod.
struct Latest {
    timestamp: i64,
    score: f32,
    top: Vec<(usize, f32)>,
    /// The newest window of the pod that went into the incidents.
    counted_until: i64,
    /// Incidents opened since the pod was first seen.
    incidents: u64,
}

/// Each pod's latest score and incident state, rendered as exposition text.
pub struct Exposition {
    threshold: f64,
    top_features: usize,
    feature_names: Vec<String>,
    has_time: bool,
    horizon: Horizon,
    evict_after: Option<i64>,
    /// The key columns as label names.
    labels: Vec<String>,
    latest: HashMap<String, Latest>,
    newest: i64,
    incidents: Incidents,
}

impl Exposition {
    pub fn new(opts: &OutputOptions) -> Exposition {
        let mut labels = Vec::new();
        for k in &opts.key_names {
            let mut taken = labels.clone();
            taken.extend(["feature".to_string(), "rank".to_string()]);
            labels.push(label_name(k, &taken));
        }
        Exposition {
            threshold: opts.threshold,
            top_features: opts.top_features,
            feature_names: opts.feature_names.clone(),
            has_time: opts.has_time,
            horizon: opts.horizon,
            evict_after: opts.evict_after,
            labels,
            latest: HashMap::new(),
            newest: i64::MIN,
            incidents: Incidents::new(opts.threshold, opts.merge_gap),
        }
    }

    /// Records `s` as its pod's latest window; `top` its top features.
    pub fn record(&mut self, s: &Scored<'_>, top: &[(usize, f32)]) {
        self.newest = self.newest.max(s.timestamp);
        let latest = match self.latest.get_mut(s.key) {
            Some(l) => {
                l.timestamp = s.timestamp;
                l.score = s.score;
                l.top.clear();
                l.top.extend_from_slice(top);
                l
            }
            None => self.latest.entry(s.key.to_owned()).or_insert(Latest {
                timestamp: s.timestamp,
                score: s.score,
                top: top.to_vec(),
                counted_until: i64::MIN,
                incidents: 0,
            }),
        };
        if s.timestamp > latest.counted_until {
            latest.counted_until = s.timestamp;
            let was_open = self.incidents.open_incident(s.key).is_some();
            self.incidents.push(s);
            if !was_open && self.incidents.open_incident(s.key).is_some() {
                latest.incidents += 1;
            }
        }
    }

    /// The exposition text (pods sorted by key). Pods silent for longer than `evict_after`
    /// behind the newest are forgotten first, and their incidents closed.
    pub fn render(&mut self) -> String {
        if let Some(gap) = self.evict_after {
            let newest = self.newest;
            self.latest.retain(|_, l| newest.saturating_sub(l.timestamp) <= gap);
            self.incidents.close_silent(newest, gap);
        }
        let mut keys: Vec<&String> = self.latest.keys().collect();
        keys.sort();
        let mut out = String::with_capacity(256 + keys.len() * 300);
        let labels = |out: &mut String, key: &str, extra: &[(&str, &str)]| {
            let mut first = true;
            for (name, value) in self.labels.iter().map(String::as_str).zip(key_parts(key)).chain(extra.iter().copied())
            {
                out.push(if first { '{' } else { ',' });
                first = false;
                out.push_str(name);
                out.push_str("=\"");
                push_label_value(out, value);
                out.push('"');
            }
            if !first {
                out.push('}');
            }
        };
        // One sample per pod of `name`, for the pods `value` gives a value for.
        let family = |out: &mut String, name: &str, kind: &str, help: &str, value: &dyn Fn(&str) -> Option<String>| {
            let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n");
            for key in &keys {
                if let Some(v) = value(key) {
                    out.push_str(name);
                    labels(out, key, &[]);
                    let _ = writeln!(out, " {v}");
                }
            }
        };
        let latest = &self.latest;
        let what = self.horizon.describe();
        family(
            &mut out,
            "kubelstm_anomaly_score",
            "gauge",
            &format!("Anomaly score of the pod's latest full window: {what}."),
            &|k| Some(sample_text(latest[k].score)),
        );
        family(
            &mut out,
            "kubelstm_anomaly",
            "gauge",
            "1 when the pod's latest score is at or above the threshold, else 0.",
            &|k| Some(u8::from(f64::from(latest[k].score) >= self.threshold).to_string()),
        );
        let _ = write!(
            out,
            "# HELP kubelstm_anomaly_threshold The decision threshold: score >= threshold is an anomaly.\n\
             # TYPE kubelstm_anomaly_threshold gauge\nkubelstm_anomaly_threshold {}\n",
            sample_text(self.threshold)
        );
        if self.has_time {
            family(
                &mut out,
                "kubelstm_sample_timestamp_seconds",
                "gauge",
                "Time of the last row of the pod's latest scored window.",
                &|k| Some(latest[k].timestamp.to_string()),
            );
        }
        if self.top_features > 0 && latest.values().any(|l| !l.top.is_empty()) {
            let _ = writeln!(
                out,
                "# HELP kubelstm_feature_share Share of the pod's latest score attributed to a feature (its top features)."
            );
            let _ = writeln!(out, "# TYPE kubelstm_feature_share gauge");
            let mut rank = String::new();
            for key in &keys {
                for (r, &(j, share)) in latest[*key].top.iter().enumerate() {
                    rank.clear();
                    let _ = write!(rank, "{}", r + 1);
                    out.push_str("kubelstm_feature_share");
                    labels(&mut out, key, &[("rank", &rank), ("feature", &self.feature_names[j])]);
                    out.push(' ');
                    push_sample(&mut out, share);
                    out.push('\n');
                }
            }
        }
        let incidents = &self.incidents;
        family(
            &mut out,
            "kubelstm_incident_open",
            "gauge",
            "1 while the pod has an open incident: an anomalous window with at most --merge-gap normal windows in a row after it (an alert on it does not restart when a score dips for a window), else 0.",
            &|k| Some(u8::from(incidents.open_incident(k).is_some()).to_string()),
        );
        if self.has_time {
            family(
                &mut out,
                "kubelstm_incident_start_timestamp_seconds",
                "gauge",
                "When the pod's open incident began: the last row of its first anomalous window.",
                &|k| incidents.open_incident(k).map(|i| i.start.to_string()),
            );
        }
        family(
            &mut out,
            "kubelstm_incident_peak_score",
            "gauge",
            "The highest score of the pod's open incident so far.",
            &|k| incidents.open_incident(k).map(|i| sample_text(i.peak_score)),
        );
        family(
            &mut out,
            "kubelstm_incidents_total",
            "counter",
            "Incidents opened for the pod since it was first seen.",
            &|k| Some(latest[k].incidents.to_string()),
        );
        out
    }
}

/// A Prometheus label name from any column name: `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with
/// `__` (reserved), distinct from `taken`.
fn label_name(column: &str, taken: &[String]) -> String {
    let mut s: String =
        column.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    while s.starts_with("__") {
        s.remove(0);
    }
    if s == "_" || s.is_empty() {
        s = "series".into();
    }
    let base = s.clone();
    let mut n = 2;
    while taken.contains(&s) {
        s = format!("{base}_{n}");
        n += 1;
    }
    s
}

/// Escapes a label value per the text exposition format: `\` `"` and newline.
fn push_label_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A sample value in the exposition format (`NaN`, `+Inf`, `-Inf` for the non-finite), in
/// the shortest form that reads back as the same `F` (scores stay f32-short).
fn push_sample<F: Into<f64> + std::fmt::Display + Copy>(out: &mut String, v: F) {
    let wide: f64 = v.into();
    if wide.is_nan() {
        out.push_str("NaN");
    } else if wide.is_infinite() {
        out.push_str(if wide > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        let _ = write!(out, "{v}");
    }
}

fn sample_text<F: Into<f64> + std::fmt::Display + Copy>(v: F) -> String {
    let mut s = String::new();
    push_sample(&mut s, v);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_names_are_valid_and_distinct() {
        assert_eq!(label_name("Pod Name", &[]), "pod_name");
        assert_eq!(label_name("9lives", &[]), "_9lives");
        assert_eq!(label_name("__x", &[]), "_x");
        assert_eq!(label_name("host", &["host".into()]), "host_2");
        assert_eq!(label_name("", &[]), "series");
    }

    #[test]
    fn label_values_are_escaped() {
        let mut s = String::new();
        push_label_value(&mut s, "a\"b\\c\nd");
        assert_eq!(s, r#"a\"b\\c\nd"#);
    }

    fn exposition(merge_gap: usize) -> Exposition {
        Exposition::new(&OutputOptions {
            format: super::super::Format::Prometheus,
            threshold: 0.5,
            merge_gap,
            top_features: 0,
            feature_names: vec!["cpu".into()],
            key_names: vec!["pod".into()],
            has_time: true,
            horizon: Horizon::NextSample,
            evict_after: None,
        })
    }

    /// The value of `name` for `pod`, if the text has that sample.
    fn value(text: &str, name: &str, pod: &str) -> Option<String> {
        let prefix = format!("{name}{{pod=\"{pod}\"}} ");
        text.lines().find_map(|l| l.strip_prefix(&prefix)).map(str::to_owned)
    }

    #[test]
    fn an_incident_stays_open_across_the_merge_gap_and_counts_once() {
        let mut e = exposition(2);
        let at = |e: &mut Exposition, t: i64, score: f32| {
            e.record(&Scored { key: "a", timestamp: t, score, shares: &[] }, &[]);
            e.render()
        };
        assert_eq!(value(&at(&mut e, 0, 0.1), "kubelstm_incident_open", "a").as_deref(), Some("0"));
        let text = at(&mut e, 60, 0.9);
        assert_eq!(value(&text, "kubelstm_incident_open", "a").as_deref(), Some("1"));
        assert_eq!(value(&text, "kubelstm_incident_start_timestamp_seconds", "a").as_deref(), Some("60"));
        // Two normal windows: the window flag drops, the incident stays open.
        at(&mut e, 120, 0.2);
        let text = at(&mut e, 180, 0.3);
        assert_eq!(value(&text, "kubelstm_anomaly", "a").as_deref(), Some("0"));
        assert_eq!(value(&text, "kubelstm_incident_open", "a").as_deref(), Some("1"));
        let text = at(&mut e, 240, 0.95);
        assert_eq!(value(&text, "kubelstm_incident_peak_score", "a").as_deref(), Some("0.95"));
        assert_eq!(value(&text, "kubelstm_incidents_total", "a").as_deref(), Some("1"), "one incident, bridged");
        // Three normal windows close it; the start and peak go with it.
        for t in [300, 360] {
            at(&mut e, t, 0.1);
        }
        let text = at(&mut e, 420, 0.1);
        assert_eq!(value(&text, "kubelstm_incident_open", "a").as_deref(), Some("0"));
        assert_eq!(value(&text, "kubelstm_incident_start_timestamp_seconds", "a"), None);
        assert_eq!(value(&text, "kubelstm_incident_peak_score", "a"), None);
        let text = at(&mut e, 480, 0.7);
        assert_eq!(value(&text, "kubelstm_incidents_total", "a").as_deref(), Some("2"));
        assert_eq!(value(&text, "kubelstm_incident_start_timestamp_seconds", "a").as_deref(), Some("480"));
    }

    #[test]
    fn windows_seen_again_count_once() {
        // serve re-scores the last windows at every pull: the same windows, then one more.
        let mut e = exposition(0);
        let pull = |e: &mut Exposition, windows: &[(i64, f32)]| {
            for &(t, score) in windows {
                e.record(&Scored { key: "a", timestamp: t, score, shares: &[] }, &[]);
            }
            e.render()
        };
        pull(&mut e, &[(0, 0.9), (60, 0.1), (120, 0.9)]);
        let text = pull(&mut e, &[(60, 0.1), (120, 0.9), (180, 0.9)]);
        // 0 (closed by 60), then 120–180: two incidents, not three or four.
        assert_eq!(value(&text, "kubelstm_incidents_total", "a").as_deref(), Some("2"));
        assert_eq!(value(&text, "kubelstm_incident_start_timestamp_seconds", "a").as_deref(), Some("120"));
        assert_eq!(value(&text, "kubelstm_anomaly_score", "a").as_deref(), Some("0.9"));
    }
}
