//! `detect`'s output formats and where they go.
//!
//! | format | one record per | layout |
//! |---|---|---|
//! | `csv` | scored window | `timestamp,namespace,pod,score,threshold,anomaly,feature_1,share_1,…` |
//! | `jsonl` | scored window | `{"timestamp":…,"namespace":…,"pod":…,"score":…,"threshold":…,"anomaly":…,"top_features":[{"feature":…,"share":…}]}` |
//! | `prometheus` | pod (its latest score) | node-exporter textfile: `kubelstm_anomaly_score{namespace="…",pod="…"} 0.93`, … |
//!
//! For generic data the key columns are the model's group columns (none for a one-series
//! file), and without a time column `timestamp` is replaced by `row`, the row's index in the
//! input. `anomaly` is `score >= threshold`. Scores are written in Rust's shortest round-trip
//! form, so a reader parsing them as f32 gets the scorer's exact bits.
//!
//! `-o FILE` writes under a temporary name in the same folder and renames it into place when
//! the output is complete, so a cron job never leaves a half-written file where Prometheus'
//! textfile collector (or anyone) could read it. With `--follow`, CSV and JSONL are written to
//! the file directly as rows are scored, and the Prometheus file is replaced atomically each
//! time the input pauses (at most once a second).
//!
//! The CSV header is held back until the first row (or the successful end of a run with no
//! rows): a run that fails before scoring anything leaves standard output empty, so
//! `detect … > scores.csv` never leaves a header-only file that reads as "no anomalies".
//!
//! Rows are formatted into reused buffers; nothing is allocated per row except a Prometheus
//! entry the first time a pod is seen.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::model::{key_parts, Horizon};
use super::scorer::top_features_into;
use crate::artifacts::AtomicFile;
use crate::data::time::push_rfc3339;
use crate::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One CSV row per scored window.
    Csv,
    /// One JSON object per line per scored window.
    Jsonl,
    /// Prometheus node-exporter textfile format: each pod's latest score.
    Prometheus,
}

/// One scored window, as the drivers hand it over.
#[derive(Clone, Copy, Debug)]
pub struct Scored<'a> {
    /// The pod's group values joined by [`KEY_SEPARATOR`](crate::data::csv_ingest::KEY_SEPARATOR).
    pub key: &'a str,
    /// Epoch seconds of the window's last row (its row index without a time column).
    pub timestamp: i64,
    pub score: f32,
    /// `(F,)` per-feature shares; empty when explanations are off.
    pub shares: &'a [f32],
}

/// What the output needs to know about the model and the run.
#[derive(Clone, Debug)]
pub struct OutputOptions {
    pub format: Format,
    pub threshold: f64,
    /// Top features written per window (0: none).
    pub top_features: usize,
    /// `(F,)` the model's feature names.
    pub feature_names: Vec<String>,
    /// Names of the key columns (`namespace`, `pod`, or the generic group columns).
    pub key_names: Vec<String>,
    /// Timestamps are epoch seconds (else row indices).
    pub has_time: bool,
    pub horizon: Horizon,
    /// Prometheus with `--follow`: leave out pods whose latest row is more than this many
    /// seconds older than the newest row seen (they were evicted).
    pub evict_after: Option<i64>,
}

/// Where output goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Stdout,
    /// A file: atomic (temporary file + rename at the end) or written directly (`--follow`).
    File {
        path: PathBuf,
        atomic: bool,
    },
    /// Discarded (benchmarks, the fuzz check).
    Discard,
    /// Kept in memory (tests); read back with [`Output::finish`].
    Memory,
}

enum Sink {
    Stdout(io::Stdout),
    /// Written in place (`--follow`, a device or FIFO).
    File(File),
    /// Renamed into place by [`Output::finish`]; removed if the output is dropped unfinished.
    Atomic(AtomicFile),
    Discard,
    Memory(Vec<u8>),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Stdout(s) => s.write(buf),
            Sink::File(f) => f.write(buf),
            Sink::Atomic(f) => f.write(buf),
            Sink::Discard => Ok(buf.len()),
            Sink::Memory(v) => v.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(s) => s.flush(),
            Sink::File(f) => f.flush(),
            Sink::Atomic(f) => f.flush(),
            Sink::Discard | Sink::Memory(_) => Ok(()),
        }
    }
}

/// The latest score of one pod (Prometheus).
struct Latest {
    timestamp: i64,
    score: f32,
    top: Vec<(usize, f32)>,
}

enum Body {
    /// Formats into `line`, then writes it.
    Rows(BufWriter<Sink>),
    Prometheus {
        latest: HashMap<String, Latest>,
        newest: i64,
        dirty: bool,
        last_write: Option<Instant>,
    },
}

/// A writer of scored windows in one format.
pub struct Output {
    opts: OutputOptions,
    target: Target,
    body: Body,
    line: String,
    field: String,
    top: Vec<(usize, f32)>,
    csv_names: Vec<String>,
    /// The CSV header line, held back until the first row (or a successful end): a run that
    /// fails before scoring anything leaves stdout empty, not a header that reads as "no
    /// anomalies" in `> scores.csv`.
    pending_header: Option<String>,
    json_keys: Vec<String>,
    json_features: Vec<String>,
    prom_labels: Vec<String>,
    /// Windows written and how many were at or above the threshold.
    pub windows: u64,
    pub anomalies: u64,
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
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

fn push_json_number(out: &mut String, v: f32) {
    if v.is_finite() {
        let _ = write!(out, "{v}");
    } else {
        out.push_str("null");
    }
}

fn write_error(target: &Target, e: io::Error) -> Error {
    match target {
        Target::File { path, .. } => Error::io("write", path, e),
        _ => Error::io("write", "<stdout>", e),
    }
}

impl Output {
    pub fn new(opts: OutputOptions, target: Target) -> Result<Output> {
        let sink = match &target {
            Target::Stdout => Sink::Stdout(io::stdout()),
            Target::Discard => Sink::Discard,
            Target::Memory => Sink::Memory(Vec::new()),
            Target::File { path, atomic } => {
                if opts.format == Format::Prometheus {
                    // Written whole at each snapshot; nothing to open now. Check the folder
                    // exists so a typo fails before any work.
                    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
                    if !dir.is_dir() {
                        return Err(Error::io(
                            "write to",
                            path,
                            io::Error::new(io::ErrorKind::NotFound, "no such folder"),
                        ));
                    }
                    Sink::Discard
                } else {
                    // A device or FIFO (`-o /dev/null`) is written in place, never replaced.
                    match crate::artifacts::atomic_destination(path)? {
                        Some(dest) if *atomic => Sink::Atomic(AtomicFile::create(&dest)?),
                        _ => Sink::File(File::create(path).map_err(|e| Error::io("create", path, e))?),
                    }
                }
            }
        };
        let body = match opts.format {
            Format::Csv | Format::Jsonl => Body::Rows(BufWriter::with_capacity(1 << 16, sink)),
            Format::Prometheus => {
                Body::Prometheus { latest: HashMap::new(), newest: i64::MIN, dirty: false, last_write: None }
            }
        };
        let mut prom_labels = Vec::new();
        for k in &opts.key_names {
            let mut taken = prom_labels.clone();
            taken.extend(["feature".to_string(), "rank".to_string()]);
            prom_labels.push(label_name(k, &taken));
        }
        let mut out = Output {
            json_keys: opts.key_names.iter().map(|k| json_string(k)).collect(),
            json_features: opts.feature_names.iter().map(|k| json_string(k)).collect(),
            csv_names: Vec::new(),
            pending_header: None,
            prom_labels,
            opts,
            target,
            body,
            line: String::with_capacity(256),
            field: String::with_capacity(64),
            top: Vec::new(),
            windows: 0,
            anomalies: 0,
        };
        if out.opts.format == Format::Csv {
            out.prepare_csv_header();
        }
        Ok(out)
    }

    pub fn options(&self) -> &OutputOptions {
        &self.opts
    }

    /// Appends `fields` to `line` as one CSV row, each quoted when it needs to be.
    pub(crate) fn push_csv_row(line: &mut String, fields: &[String]) {
        for (i, n) in fields.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            Self::push_csv_field(line, n);
        }
        line.push('\n');
    }

    /// Appends `field` to `line` as one CSV field, quoted when it needs to be.
    pub(crate) fn push_csv_field(line: &mut String, field: &str) {
        if field.contains([',', '"', '\n', '\r']) || field.starts_with(' ') || field.ends_with(' ') {
            line.push('"');
            for c in field.chars() {
                if c == '"' {
                    line.push('"');
                }
                line.push(c);
            }
            line.push('"');
        } else {
            line.push_str(field);
        }
    }

    fn prepare_csv_header(&mut self) {
        let mut names = vec![if self.opts.has_time { "timestamp" } else { "row" }.to_string()];
        names.extend(self.opts.key_names.iter().cloned());
        names.extend(["score", "threshold", "anomaly"].map(String::from));
        for i in 1..=self.opts.top_features {
            names.push(format!("feature_{i}"));
            names.push(format!("share_{i}"));
        }
        let mut header = String::new();
        Self::push_csv_row(&mut header, &names);
        self.csv_names = names;
        self.pending_header = Some(header);
    }

    /// Writes `line`, after the held-back header if this is the first row.
    fn emit_line(&mut self) -> Result<()> {
        if let Body::Rows(w) = &mut self.body {
            if let Some(header) = self.pending_header.take() {
                w.write_all(header.as_bytes()).map_err(|e| write_error(&self.target, e))?;
            }
            w.write_all(self.line.as_bytes()).map_err(|e| write_error(&self.target, e))?;
        }
        Ok(())
    }

    fn push_time(&mut self, timestamp: i64) {
        if self.opts.has_time {
            push_rfc3339(&mut self.field, timestamp);
        } else {
            let _ = write!(self.field, "{timestamp}");
        }
    }

    /// Writes one scored window (or, for Prometheus, records it as its pod's latest).
    pub fn write(&mut self, s: &Scored<'_>) -> Result<()> {
        let anomaly = f64::from(s.score) >= self.opts.threshold;
        self.windows += 1;
        self.anomalies += u64::from(anomaly);
        let k = if s.shares.is_empty() { 0 } else { self.opts.top_features };
        top_features_into(s.shares, k, &mut self.top);
        self.line.clear();
        self.field.clear();
        match self.opts.format {
            Format::Csv => {
                self.push_time(s.timestamp);
                self.line.push_str(&self.field);
                for part in key_parts(s.key) {
                    self.line.push(',');
                    Self::push_csv_field(&mut self.line, part);
                }
                let _ = write!(self.line, ",{},{},{}", s.score, self.opts.threshold, u8::from(anomaly));
                for i in 0..self.opts.top_features {
                    match self.top.get(i) {
                        Some(&(j, share)) => {
                            self.line.push(',');
                            Self::push_csv_field(&mut self.line, &self.opts.feature_names[j]);
                            let _ = write!(self.line, ",{share}");
                        }
                        None => self.line.push_str(",,"),
                    }
                }
                self.line.push('\n');
                self.emit_line()
            }
            Format::Jsonl => {
                if self.opts.has_time {
                    self.line.push_str("{\"timestamp\":\"");
                    push_rfc3339(&mut self.line, s.timestamp);
                    self.line.push('"');
                } else {
                    let _ = write!(self.line, "{{\"row\":{}", s.timestamp);
                }
                for (name, part) in self.json_keys.iter().zip(key_parts(s.key)) {
                    self.line.push(',');
                    self.line.push_str(name);
                    self.line.push(':');
                    // serde_json escapes into a String without an intermediate allocation.
                    let _ = serde_json::to_writer(StringWriter(&mut self.line), part);
                }
                self.line.push_str(",\"score\":");
                push_json_number(&mut self.line, s.score);
                let _ = write!(self.line, ",\"threshold\":{},\"anomaly\":{anomaly}", self.opts.threshold);
                if self.opts.top_features > 0 {
                    self.line.push_str(",\"top_features\":[");
                    for (i, &(j, share)) in self.top.iter().enumerate() {
                        if i > 0 {
                            self.line.push(',');
                        }
                        self.line.push_str("{\"feature\":");
                        self.line.push_str(&self.json_features[j]);
                        self.line.push_str(",\"share\":");
                        push_json_number(&mut self.line, share);
                        self.line.push('}');
                    }
                    self.line.push(']');
                }
                self.line.push_str("}\n");
                self.emit_line()
            }
            Format::Prometheus => {
                let Body::Prometheus { latest, newest, dirty, .. } = &mut self.body else { unreachable!() };
                *newest = (*newest).max(s.timestamp);
                *dirty = true;
                match latest.get_mut(s.key) {
                    Some(l) => {
                        l.timestamp = s.timestamp;
                        l.score = s.score;
                        l.top.clone_from(&self.top);
                    }
                    None => {
                        latest.insert(
                            s.key.to_owned(),
                            Latest { timestamp: s.timestamp, score: s.score, top: self.top.clone() },
                        );
                    }
                }
                Ok(())
            }
        }
    }

    /// The Prometheus textfile of the latest scores (pods sorted by key).
    pub fn prometheus_text(&mut self) -> String {
        let Body::Prometheus { latest, newest, .. } = &mut self.body else { return String::new() };
        if let Some(gap) = self.opts.evict_after {
            let newest = *newest;
            latest.retain(|_, l| newest.saturating_sub(l.timestamp) <= gap);
        }
        let mut keys: Vec<&String> = latest.keys().collect();
        keys.sort();
        let labels = |out: &mut String, key: &str, extra: &[(&str, &str)]| {
            let mut first = true;
            for (name, value) in
                self.prom_labels.iter().map(String::as_str).zip(key_parts(key)).chain(extra.iter().copied())
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
        let mut out = String::with_capacity(256 + keys.len() * 200);
        let what = self.opts.horizon.describe();
        let _ = writeln!(out, "# HELP kubelstm_anomaly_score Anomaly score of the pod's latest full window: {what}.");
        let _ = writeln!(out, "# TYPE kubelstm_anomaly_score gauge");
        for key in &keys {
            out.push_str("kubelstm_anomaly_score");
            labels(&mut out, key, &[]);
            out.push(' ');
            push_sample(&mut out, latest[*key].score);
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "# HELP kubelstm_anomaly 1 when the pod's latest score is at or above the threshold, else 0."
        );
        let _ = writeln!(out, "# TYPE kubelstm_anomaly gauge");
        for key in &keys {
            out.push_str("kubelstm_anomaly");
            labels(&mut out, key, &[]);
            let _ = writeln!(out, " {}", u8::from(f64::from(latest[*key].score) >= self.opts.threshold));
        }
        let _ = writeln!(
            out,
            "# HELP kubelstm_anomaly_threshold The decision threshold: score >= threshold is an anomaly."
        );
        let _ = writeln!(out, "# TYPE kubelstm_anomaly_threshold gauge");
        out.push_str("kubelstm_anomaly_threshold ");
        push_sample(&mut out, self.opts.threshold);
        out.push('\n');
        if self.opts.has_time {
            let _ = writeln!(
                out,
                "# HELP kubelstm_sample_timestamp_seconds Time of the last row of the pod's latest scored window."
            );
            let _ = writeln!(out, "# TYPE kubelstm_sample_timestamp_seconds gauge");
            for key in &keys {
                out.push_str("kubelstm_sample_timestamp_seconds");
                labels(&mut out, key, &[]);
                let _ = writeln!(out, " {}", latest[*key].timestamp);
            }
        }
        if self.opts.top_features > 0 && latest.values().any(|l| !l.top.is_empty()) {
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
                    labels(&mut out, key, &[("rank", &rank), ("feature", &self.opts.feature_names[j])]);
                    out.push(' ');
                    push_sample(&mut out, share);
                    out.push('\n');
                }
            }
        }
        out
    }

    fn write_snapshot(&mut self) -> Result<()> {
        let text = self.prometheus_text();
        if let Body::Prometheus { dirty, last_write, .. } = &mut self.body {
            *dirty = false;
            *last_write = Some(Instant::now());
        }
        match &self.target {
            Target::File { path, .. } => crate::artifacts::write_atomic(path, text.as_bytes()),
            Target::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(|e| write_error(&self.target, e))
            }
            Target::Memory => {
                self.body = Body::Rows(BufWriter::new(Sink::Memory(text.into_bytes())));
                Ok(())
            }
            Target::Discard => Ok(()),
        }
    }

    /// The input paused: make what was written visible (flush; with `--follow`, replace a
    /// Prometheus file at most once a second).
    pub fn idle(&mut self) -> Result<()> {
        match &mut self.body {
            Body::Rows(w) => w.flush().map_err(|e| write_error(&self.target, e)),
            Body::Prometheus { dirty, last_write, .. } => {
                let due = *dirty && last_write.is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
                if due && matches!(self.target, Target::File { .. }) {
                    self.write_snapshot()
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Completes the output: flushes, renames an atomic file into place, writes the
    /// Prometheus snapshot. Returns the bytes of a [`Target::Memory`] output.
    pub fn finish(mut self) -> Result<Vec<u8>> {
        if let Body::Prometheus { .. } = self.body {
            self.write_snapshot()?;
        }
        let body = std::mem::replace(&mut self.body, Body::Rows(BufWriter::new(Sink::Discard)));
        let Body::Rows(mut w) = body else { return Ok(Vec::new()) };
        // A successful run with no rows still gets its header: an empty result, not a failure.
        if let Some(header) = self.pending_header.take() {
            w.write_all(header.as_bytes()).map_err(|e| write_error(&self.target, e))?;
        }
        let sink = w.into_inner().map_err(|e| write_error(&self.target, e.into_error()))?;
        match sink {
            Sink::Stdout(mut s) => s.flush().map_err(|e| write_error(&self.target, e))?,
            Sink::File(_) => {}
            Sink::Atomic(f) => f.commit()?,
            Sink::Memory(bytes) => return Ok(bytes),
            Sink::Discard => {}
        }
        Ok(Vec::new())
    }
}

/// `io::Write` into a `String` (serde_json writes valid UTF-8).
struct StringWriter<'a>(&'a mut String);

impl Write for StringWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let s = std::str::from_utf8(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        self.0.push_str(s);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
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
}
