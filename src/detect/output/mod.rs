//! `detect`'s output formats and where they go: one writer per format behind
//! [`WindowFormat`], all writing through one [`destination::Destination`] (or, for the
//! Prometheus file, replacing the file whole).
//!
//! | format | one record per | layout | file |
//! |---|---|---|---|
//! | `csv` | scored window | `timestamp,namespace,pod,score,threshold,anomaly,feature_1,share_1,…` | [`csv`] |
//! | `jsonl` | scored window | `{"timestamp":…,"namespace":…,"pod":…,"score":…,"threshold":…,"anomaly":…,"top_features":[{"feature":…,"share":…}]}` | [`jsonl`] |
//! | `prometheus` | pod (its latest score, its open incident) | node-exporter textfile: `kubelstm_anomaly_score{namespace="…",pod="…"} 0.93`, … | [`prometheus`], text from [`exposition`] |
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
//! Rows are formatted into reused buffers; nothing is allocated per row except a Prometheus
//! entry the first time a pod is seen.

pub(crate) mod csv;
pub(crate) mod destination;
pub mod exposition;
pub(crate) mod jsonl;
pub mod prometheus;

use std::path::PathBuf;

use super::model::Horizon;
use super::scorer::top_features_into;
use crate::Result;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One CSV row per scored window.
    Csv,
    /// One JSON object per line per scored window.
    Jsonl,
    /// Prometheus node-exporter textfile format: each pod's latest score and open incident.
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
    /// Prometheus: normal windows in a row that keep a pod's incident open (as `--events`).
    pub merge_gap: usize,
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

/// A writer of scored windows in one format.
pub(crate) trait WindowFormat {
    /// Takes one scored window; `top` are its top features (feature index, share).
    fn write(&mut self, s: &Scored<'_>, anomaly: bool, top: &[(usize, f32)]) -> Result<()>;
    /// The input paused: make what was written visible.
    fn idle(&mut self) -> Result<()>;
    /// Completes the output; returns the bytes of a [`Target::Memory`] output.
    fn finish(self: Box<Self>) -> Result<Vec<u8>>;
    /// The Prometheus state, for `serve`'s `/metrics`.
    fn exposition(&mut self) -> Option<&mut exposition::Exposition> {
        None
    }
}

/// Scored windows out, in the format and to the target chosen.
pub struct Output {
    opts: OutputOptions,
    writer: Box<dyn WindowFormat + Send>,
    top: Vec<(usize, f32)>,
    /// Windows written and how many were at or above the threshold.
    pub windows: u64,
    pub anomalies: u64,
}

impl Output {
    pub fn new(opts: OutputOptions, target: Target) -> Result<Output> {
        let writer: Box<dyn WindowFormat + Send> = match opts.format {
            Format::Csv => Box::new(csv::CsvWindows::new(&opts, &target)?),
            Format::Jsonl => Box::new(jsonl::JsonlWindows::new(&opts, &target)?),
            Format::Prometheus => Box::new(prometheus::PrometheusFile::new(&opts, &target)?),
        };
        Ok(Output { opts, writer, top: Vec::new(), windows: 0, anomalies: 0 })
    }

    pub fn options(&self) -> &OutputOptions {
        &self.opts
    }

    /// Writes one scored window (or, for Prometheus, records it as its pod's latest).
    pub fn write(&mut self, s: &Scored<'_>) -> Result<()> {
        let anomaly = f64::from(s.score) >= self.opts.threshold;
        self.windows += 1;
        self.anomalies += u64::from(anomaly);
        let k = if s.shares.is_empty() { 0 } else { self.opts.top_features };
        top_features_into(s.shares, k, &mut self.top);
        self.writer.write(s, anomaly, &self.top)
    }

    /// The input paused: make what was written visible (flush; with `--follow`, replace a
    /// Prometheus file at most once a second).
    pub fn idle(&mut self) -> Result<()> {
        self.writer.idle()
    }

    /// The Prometheus exposition of the latest scores (pods sorted by key); empty for the
    /// other formats.
    pub fn prometheus_text(&mut self) -> String {
        self.writer.exposition().map(|e| e.render()).unwrap_or_default()
    }

    /// Completes the output: flushes, renames an atomic file into place, writes the
    /// Prometheus snapshot. Returns the bytes of a [`Target::Memory`] output.
    pub fn finish(self) -> Result<Vec<u8>> {
        self.writer.finish()
    }
}
