//! Prometheus as a data source: `--prometheus URL` in `train`, `detect` and `evaluate`, in place
//! of a CSV file.
//!
//! ```text
//!  QuerySet (kubernetes.toml, --queries FILE, --query NAME=PROMQL)
//!     │  one PromQL expression per column, {window} and {step} filled in
//!     ▼
//!  Client ──POST /api/v1/query_range──▶ Prometheus   (timeouts, retries with backoff, auth, CA)
//!     │  answers parsed as they stream in (response)
//!     ▼
//!  PullReader: chunks of ≤ 11,000 instants → rows of a CSV in the query set's schema → the ingest
//! ```
//!
//! | module | holds |
//! |---|---|
//! | [`range`] | `--start`/`--end`/`--step` parsing, alignment, chunks |
//! | [`queries`] | the query set (TOML), the shipped Kubernetes set, `--query` |
//! | [`client`] | the HTTP client |
//! | [`response`] | the JSON answers |
//! | [`pull`] | `PullReader`: a pull read as CSV bytes |
//!
//! A model trained from Prometheus saves its [`PrometheusSpec`] (step, rate window, queries)
//! so `detect` pulls the same columns at the same step, and refuses another step.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub mod client;
mod grid;
pub mod pull;
pub mod queries;
pub mod range;
pub mod response;

pub use client::{Client, ClientSettings};
pub use pull::{PullHandle, PullReader, PullSettings, PullStats};
pub use queries::QuerySet;
pub use range::Range;

use crate::data::hashing::HashingReader;
use crate::data::Dataset;
use crate::{Error, Result};

/// The step when neither the flag nor the model names one.
pub const DEFAULT_STEP: u64 = 60;

/// What a model remembers of the Prometheus pull it was trained on (`model.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrometheusSpec {
    pub step_seconds: u64,
    pub rate_window_seconds: u64,
    pub queries: QuerySet,
}

/// The Prometheus flags of `train`, `detect` and `evaluate`.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Prometheus source")]
pub struct PrometheusArgs {
    /// Read the metrics from this Prometheus server (base URL, e.g. http://prometheus:9090)
    /// instead of a CSV file.
    #[arg(long, value_name = "URL")]
    pub prometheus: Option<String>,
    /// Start of the range: RFC 3339, epoch seconds, `now`, or back from now (`-7d`, `now-90m`).
    /// Default: -7d for train, -1h for detect, -1d for evaluate.
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub start: Option<String>,
    /// End of the range (same forms as --start).
    #[arg(long, value_name = "TIME", default_value = "now", allow_hyphen_values = true)]
    pub end: String,
    /// Time between rows of a pod (default 60s; detect: the model's, and no other).
    #[arg(long, value_name = "DURATION")]
    pub step: Option<String>,
    /// Window of rate() in the queries' {window} (default: twice the step).
    #[arg(long, value_name = "DURATION")]
    pub rate_window: Option<String>,
    /// A TOML file of queries, one per column (the built-in Kubernetes set is src/prometheus/kubernetes.toml).
    #[arg(long, value_name = "FILE")]
    pub queries: Option<PathBuf>,
    /// Generic mode: a column from a PromQL expression (repeatable), grouped by --group-labels.
    #[arg(long = "query", value_name = "NAME=PROMQL")]
    pub query: Vec<String>,
    /// Generic mode: the labels that name a series (default namespace,pod).
    #[arg(long, value_name = "LABELS", value_delimiter = ',')]
    pub group_labels: Vec<String>,
    /// PEM file of the CA certificates to trust for HTTPS.
    #[arg(long, value_name = "FILE")]
    pub prometheus_ca_file: Option<PathBuf>,
    /// File holding a bearer token (e.g. /var/run/secrets/kubernetes.io/serviceaccount/token).
    #[arg(long, value_name = "FILE")]
    pub prometheus_token_file: Option<PathBuf>,
    /// Basic auth user name (with --prometheus-password-file).
    #[arg(long, value_name = "NAME")]
    pub prometheus_user: Option<String>,
    /// File holding the basic auth password.
    #[arg(long, value_name = "FILE")]
    pub prometheus_password_file: Option<PathBuf>,
    /// Time limit of one request.
    #[arg(long, value_name = "DURATION", default_value = "60s")]
    pub prometheus_timeout: String,
    /// Retries after a connection error or a 5xx answer (with backoff 0.5 s, 1 s, 2 s, …).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub prometheus_retries: u32,
    /// Instants per request (default: sized from the pod count); for tests.
    #[arg(long, value_name = "N", hide = true)]
    pub prometheus_chunk: Option<u64>,
}

impl PrometheusArgs {
    pub fn is_set(&self) -> bool {
        self.prometheus.is_some()
    }

    /// Errors when Prometheus flags are given without `--prometheus`.
    pub fn check_unused(&self) -> Result<()> {
        let given = [
            ("--start", self.start.is_some()),
            ("--step", self.step.is_some()),
            ("--rate-window", self.rate_window.is_some()),
            ("--queries", self.queries.is_some()),
            ("--query", !self.query.is_empty()),
            ("--group-labels", !self.group_labels.is_empty()),
            ("--prometheus-token-file", self.prometheus_token_file.is_some()),
            ("--prometheus-ca-file", self.prometheus_ca_file.is_some()),
        ];
        match given.iter().find(|(_, on)| *on) {
            Some((flag, _)) if !self.is_set() => {
                Err(Error::config(format!("{flag} applies to a Prometheus source: pass --prometheus URL too")))
            }
            _ => Ok(()),
        }
    }

    /// The spec of this pull: the flags, with the model's as defaults when scoring (`model`).
    pub fn spec(&self, model: Option<&PrometheusSpec>) -> Result<PrometheusSpec> {
        let step = match &self.step {
            Some(s) => range::parse_duration("--step", s)?,
            None => model.map_or(DEFAULT_STEP, |m| m.step_seconds),
        };
        if step == 0 {
            return Err(Error::config("--step must be at least 1s"));
        }
        if let Some(m) = model {
            if m.step_seconds != step {
                return Err(Error::config(format!(
                    "--step {} differs from the model's step {}: it learned rows that far apart; \
                     leave --step out to score at the model's step",
                    range::format_duration(step),
                    range::format_duration(m.step_seconds)
                )));
            }
        }
        let rate_window = match &self.rate_window {
            Some(s) => range::parse_duration("--rate-window", s)?,
            None => model.map_or(2 * step, |m| m.rate_window_seconds),
        };
        if rate_window == 0 {
            return Err(Error::config("--rate-window must be at least 1s"));
        }
        if let Some(m) = model {
            if m.rate_window_seconds != rate_window {
                return Err(Error::config(format!(
                    "--rate-window {} differs from the model's {}: rates would mean something else",
                    range::format_duration(rate_window),
                    range::format_duration(m.rate_window_seconds)
                )));
            }
        }
        let group_labels: Vec<String> = if self.group_labels.is_empty() {
            vec!["namespace".into(), "pod".into()]
        } else {
            self.group_labels.iter().map(|l| l.trim().to_owned()).collect()
        };
        let queries = match (&self.queries, self.query.is_empty()) {
            (Some(_), false) => return Err(Error::config("--queries and --query cannot be combined")),
            (Some(file), true) => QuerySet::from_file(file)?,
            (None, false) => QuerySet::generic(&self.query, &group_labels)?,
            (None, true) => match model {
                Some(m) => m.queries.clone(),
                None => QuerySet::kubernetes(),
            },
        };
        if !self.group_labels.is_empty() && self.query.is_empty() {
            return Err(Error::config("--group-labels applies to --query columns (a queries file names its own)"));
        }
        Ok(PrometheusSpec { step_seconds: step, rate_window_seconds: rate_window, queries })
    }

    /// The pull for `spec` over `--start` (default `default_start`) to `--end`, reaching
    /// `lookback` steps further back for the history the first windows need.
    pub fn pull_settings(&self, spec: &PrometheusSpec, default_start: &str, lookback: u64) -> Result<PullSettings> {
        let url = self.prometheus.clone().ok_or_else(|| Error::config("--prometheus URL is missing"))?;
        let now = range::now();
        let start = range::parse_instant("--start", self.start.as_deref().unwrap_or(default_start), now)?;
        let end = range::parse_instant("--end", &self.end, now)?;
        let range = Range::new(start, end, spec.step_seconds)?.extend_back(lookback);
        let timeout = range::parse_duration("--prometheus-timeout", &self.prometheus_timeout)?;
        if timeout == 0 {
            return Err(Error::config("--prometheus-timeout must be at least 1s"));
        }
        let basic_auth = match (&self.prometheus_user, &self.prometheus_password_file) {
            (Some(u), Some(f)) => Some((u.clone(), f.clone())),
            (None, None) => None,
            _ => return Err(Error::config("basic auth needs both --prometheus-user and --prometheus-password-file")),
        };
        if basic_auth.is_some() && self.prometheus_token_file.is_some() {
            return Err(Error::config("pass either a bearer token or basic auth, not both"));
        }
        if self.prometheus_chunk == Some(0) {
            return Err(Error::config("--prometheus-chunk must be at least 1"));
        }
        Ok(PullSettings {
            client: ClientSettings {
                url,
                ca_file: self.prometheus_ca_file.clone(),
                token_file: self.prometheus_token_file.clone(),
                basic_auth,
                timeout: Duration::from_secs(timeout),
                retries: self.prometheus_retries,
                backoff: Duration::from_millis(500),
            },
            queries: spec.queries.clone(),
            range,
            rate_window: spec.rate_window_seconds,
            chunk_points: self.prometheus_chunk,
            progress: true,
        })
    }
}

/// Reads a pull through `load` (an ingest of CSV bytes), hashing the bytes as a file's would
/// be. A read error the pull caused is replaced by the pull's own error; the pull's warnings
/// go first in the dataset's report. Returns the dataset, the SHA-256 and what the pull did.
pub fn load_pull(
    reader: PullReader,
    source: &str,
    load: impl FnOnce(&mut dyn std::io::Read) -> Result<Dataset>,
) -> Result<(Dataset, String, PullStats)> {
    let handle = reader.handle();
    let mut hashing = HashingReader::new(reader);
    let mut dataset = load(&mut hashing).map_err(|e| handle.explain(e))?;
    // The CSV reader stops at the end on success; be exact about what was hashed.
    std::io::copy(&mut hashing, &mut std::io::sink()).map_err(|e| handle.explain(Error::io("read", source, e)))?;
    let stats = handle.stats();
    dataset.report.warnings.splice(0..0, stats.warnings.iter().cloned());
    Ok((dataset, hashing.hex_digest(), stats))
}

/// The one-line summary of a finished pull.
pub fn describe(url: &str, stats: &PullStats) -> String {
    let mut s = format!(
        "pulled {} rows of {} series from Prometheus at {url} in {:.2} s ({} requests, {} chunks)",
        stats.rows, stats.pods, stats.seconds, stats.requests, stats.chunks
    );
    if stats.non_finite > 0 {
        s += &format!("; {} NaN or infinite samples left empty", stats.non_finite);
    }
    s
}
