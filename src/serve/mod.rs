//! `kubelstm serve`: an always-on anomaly exporter that Prometheus scrapes.
//!
//! ```text
//!  puller thread: every --interval ─▶ pull the last T+3 steps of every pod (what its newest
//!                 window needs, so a restart needs nothing saved) ─▶ score ─▶ each pod's latest
//!                 score ─▶ render /metrics once ─▶ publish (an Arc swap)
//!  HTTP thread:   /metrics (the published text), /healthz, /readyz
//!  main thread:   waits for SIGTERM/SIGINT ─▶ exit 0 at once (a pull in flight is abandoned)
//! ```
//!
//! A scrape only clones the published text, so a slow scrape never holds up a pull and a
//! slow pull never holds up a scrape. Prometheus down: the last scores keep being served,
//! `kubelstm_last_successful_pull_timestamp_seconds` stops moving, `/readyz` fails after two
//! intervals, errors are counted by kind, and the next interval tries again. On SIGHUP, or
//! when `model.json` changes, the model is loaded and checked again; a folder that fails to
//! load is refused and the old model keeps serving.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod follow;
pub mod health;
pub mod http;
mod model_folder;

use crate::cli::Outcome;
use crate::data::DataFiles;
use crate::detect::batch::{score_dataset, BatchScorer, ScoringLoader};
use crate::detect::output::Target;
use crate::detect::{Format, Output, OutputOptions, ScoringModel};
use crate::prometheus::{range, PrometheusArgs};
use crate::source::{FilesSource, PrometheusSource, Source};
use crate::{Error, Result};
use follow::follow_file;
use health::Health;
use model_folder::{model_stamp, resolve_model_dir, ModelStamp};

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Endpoints: /metrics (Prometheus text format: kubelstm_anomaly_score, kubelstm_anomaly, \
kubelstm_anomaly_threshold, kubelstm_feature_share, the incident gauges kubelstm_incident_open, \
kubelstm_incident_start_timestamp_seconds, kubelstm_incident_peak_score and the counter \
kubelstm_incidents_total, kubelstm_model_info and the exporter's own health), /healthz (the \
process is alive), /readyz (a pull succeeded within two intervals).

Alert on kubelstm_incident_open rather than kubelstm_anomaly: an incident stays open across up \
to --merge-gap normal windows in a row, so a `for:` clause does not start over when a fault's \
score dips under the threshold for a window.

Signals: SIGHUP reloads the model folder (kept only if it loads); SIGTERM or SIGINT exits 0.")]
pub struct Args {
    /// The run folder of a trained model, or a folder of run folders (the newest complete
    /// `run_*` is served, as a retraining job adds them). Reloaded on SIGHUP, when model.json
    /// changes, or when a newer complete run appears.
    #[arg(long, value_name = "RUN_DIR|RUNS_DIR")]
    pub model: PathBuf,
    /// Address to serve /metrics on.
    #[arg(long, default_value = "127.0.0.1:9464", value_name = "HOST:PORT")]
    pub listen: String,
    /// Time between pulls.
    #[arg(long, default_value = "60s", value_name = "DURATION")]
    pub interval: String,
    /// Forget a pod whose newest row is this far behind the newest row of any pod.
    #[arg(long, default_value = "1h", value_name = "DURATION")]
    pub evict_after: String,
    /// Normal windows in a row that keep a pod's incident open (kubelstm_incident_open), as
    /// `detect --events --merge-gap`.
    #[arg(long, default_value_t = crate::detect::DEFAULT_MERGE_GAP, value_name = "N")]
    pub merge_gap: usize,
    /// Features named per pod with their share of its score (kubelstm_feature_share).
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub top_features: usize,
    /// Worker threads for scoring (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Instead of Prometheus: follow this CSV (as a collector writes it, `tail -f`), scoring
    /// each pod's windows as rows arrive. Needs --follow.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// With --data: keep reading as the file grows.
    #[arg(long)]
    pub follow: bool,
    /// Print nothing on stderr but errors.
    #[arg(short, long)]
    pub quiet: bool,
    /// `--end` other than `now` evaluates at that fixed instant at every pull (a replay, for
    /// demos and tests).
    #[command(flatten)]
    pub source: PrometheusArgs,
}

/// What the HTTP thread serves: replaced whole after each pull.
pub struct Published {
    pub metrics: Arc<String>,
    /// When the last pull succeeded (None: never).
    pub last_success: Option<Instant>,
    pub interval: Duration,
}

impl Published {
    /// Ready when a pull succeeded within two intervals.
    pub fn ready(&self) -> bool {
        self.last_success.is_some_and(|t| t.elapsed() <= 2 * self.interval)
    }
}

struct Settings {
    interval: Duration,
    evict_after: i64,
    threads: usize,
    fixed_end: bool,
}

impl Args {
    fn settings(&self) -> Result<Settings> {
        match (&self.data, self.source.is_set()) {
            (None, false) => {
                return Err(Error::config(
                    "serve needs a source: --prometheus URL, or --data FILE --follow for a collector's CSV",
                ))
            }
            (Some(_), true) => return Err(Error::config("--data and --prometheus are two sources: pass one")),
            (Some(_), false) if !self.follow => {
                return Err(Error::config("serve --data FILE needs --follow: it watches the file as it grows"))
            }
            (None, true) if self.follow => return Err(Error::config("--follow applies to --data FILE")),
            _ => {}
        }
        if self.data.is_some() {
            self.source.check_unused()?;
        }
        if self.source.start.is_some() {
            return Err(Error::config("serve pulls what each window needs: leave --start out"));
        }
        let interval = range::parse_duration("--interval", &self.interval)?;
        if interval == 0 {
            return Err(Error::config("--interval must be at least 1s"));
        }
        let evict_after = range::parse_duration("--evict-after", &self.evict_after)?;
        if evict_after == 0 || evict_after > i64::MAX as u64 {
            return Err(Error::config("--evict-after must be at least 1s"));
        }
        Ok(Settings {
            interval: Duration::from_secs(interval),
            evict_after: evict_after as i64,
            threads: crate::cli::resolve_threads(self.threads)?,
            fixed_end: self.source.end.trim() != "now",
        })
    }
}

/// The loaded model and the output that keeps each pod's latest score.
struct Scoring {
    model: ScoringModel,
    output: Output,
    scorer: BatchScorer,
    stamp: ModelStamp,
}

fn load_scoring(args: &Args, settings: &Settings) -> Result<Scoring> {
    let stamp = model_stamp(&args.model);
    let model = ScoringModel::load(&resolve_model_dir(&args.model))?;
    // The model's pull must be valid before it replaces anything: the step, the queries.
    args.source.spec(model.loaded.meta.prometheus.as_ref())?;
    let opts = OutputOptions {
        format: Format::Prometheus,
        threshold: model.threshold(),
        merge_gap: args.merge_gap,
        top_features: args.top_features.min(model.features()),
        feature_names: model.feature_names().to_vec(),
        key_names: model.key_names(),
        has_time: model.has_time(),
        horizon: model.horizon(),
        evict_after: Some(settings.evict_after),
    };
    let output = Output::new(opts, Target::Memory)?;
    let scorer = BatchScorer::new(&model, settings.threads)?;
    Ok(Scoring { model, output, scorer, stamp })
}

/// One pull and its scores into `scoring.output`. Returns the windows scored.
fn pull_once(args: &Args, scoring: &mut Scoring) -> Result<u64> {
    let model = &scoring.model;
    // Windows enough for the newest one's smoothed score (its k − 1 predecessors).
    let lookback = model.history_steps();
    let mut flags = args.source.clone();
    flags.start = Some(flags.end.clone());
    flags.prometheus_retries = 0; // the next interval is the retry; SIGTERM must not wait on backoff
    let mut source = PrometheusSource::for_scoring(&flags, model.loaded.meta.prometheus.as_ref(), "now", lookback)?;
    source.pull.progress = false;
    let loaded = source.read_whole(&ScoringLoader { model, skip_bad_rows: false })?;
    let explain = scoring.output.options().top_features > 0;
    // Only each pod's newest window matters to the exporter; the output keeps the latest.
    let out = &mut scoring.output;
    score_dataset(&mut scoring.scorer, &loaded.dataset, model, explain, |s| out.write(s))
}

pub fn run(args: Args) -> Result<Outcome> {
    let settings = args.settings()?;
    let mut scoring = load_scoring(&args, &settings)?;
    let term = Arc::new(AtomicBool::new(false));
    let hup = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, term.clone())
            .map_err(|e| Error::config(format!("cannot handle signals: {e}")))?;
    }
    signal_hook::flag::register(signal_hook::consts::SIGHUP, hup.clone())
        .map_err(|e| Error::config(format!("cannot handle signals: {e}")))?;
    let mut health = Health::new(&scoring.model);
    let published = Arc::new(Mutex::new(Published {
        metrics: Arc::new(health.render(&mut scoring.output)),
        last_success: None,
        interval: settings.interval,
    }));
    let server = http::Server::bind(&args.listen, published.clone())?;
    // A followed file is opened before anything is announced: a missing one is an error now.
    let live = match &args.data {
        Some(path) => Some(FilesSource(DataFiles::single(path.clone())).open_live(args.quiet)?),
        None => None,
    };
    if !args.quiet {
        let reading = match &live {
            Some(live) => format!("following {}", live.name),
            None => format!(
                "pulling {} every {}",
                args.source.prometheus.as_deref().unwrap_or(""),
                range::format_duration(settings.interval.as_secs())
            ),
        };
        eprintln!(
            "serving /metrics on http://{} ({} model from {}, {reading})",
            server.address(),
            scoring.model.arch().name(),
            scoring.model.dir().display(),
        );
    }
    let _http = server.spawn();
    let quiet = args.quiet;
    if let Some(live) = live {
        let stop = term.clone();
        let puller = std::thread::spawn(move || {
            if let Err(e) = follow_file(live, scoring, health, &published, &settings, stop) {
                eprintln!("error: {e}");
            }
        });
        return wait_for_term(&term, &puller, quiet);
    }
    let stop = term.clone();
    let puller = std::thread::spawn(move || {
        let mut next = Instant::now();
        while !stop.load(Ordering::SeqCst) {
            let changed = model_stamp(&args.model) != scoring.stamp;
            if hup.swap(false, Ordering::SeqCst) || changed {
                match load_scoring(&args, &settings) {
                    Ok(s) => {
                        scoring = s;
                        health.model_loaded(&scoring.model);
                        if !quiet {
                            eprintln!("reloaded the model from {}", scoring.model.dir().display());
                        }
                        next = Instant::now();
                    }
                    Err(e) => {
                        // Keep serving the old model; do not retry until the folder changes again.
                        scoring.stamp = model_stamp(&args.model);
                        health.error("model_reload");
                        eprintln!("error: the new model was refused, the old one keeps serving: {e}");
                    }
                }
            }
            if Instant::now() >= next {
                let started = Instant::now();
                let result = pull_once(&args, &mut scoring);
                let duration = started.elapsed();
                let last_success = match &result {
                    Ok(windows) => {
                        health.pulled(*windows, duration);
                        Some(Instant::now())
                    }
                    Err(e) => {
                        health.error(error_kind(e));
                        eprintln!("error: pull failed (the last scores stay, marked stale): {e}");
                        None
                    }
                };
                let text = Arc::new(health.render(&mut scoring.output));
                if let Ok(mut p) = published.lock() {
                    p.metrics = text;
                    if last_success.is_some() {
                        p.last_success = last_success;
                    }
                }
                next = started + settings.interval;
                if settings.fixed_end && result.is_ok() && !quiet {
                    eprintln!("scored {} windows in {:.2} s", result.unwrap_or(0), duration.as_secs_f64());
                }
            }
            std::thread::sleep(Duration::from_millis(50).min(next.saturating_duration_since(Instant::now())));
        }
    });
    wait_for_term(&term, &puller, quiet)
}

fn wait_for_term(term: &AtomicBool, puller: &std::thread::JoinHandle<()>, quiet: bool) -> Result<Outcome> {
    while !term.load(Ordering::SeqCst) {
        if puller.is_finished() {
            return Err(Error::data("the scoring thread stopped (see the error above)"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if !quiet {
        eprintln!("stopping (SIGTERM)");
    }
    Ok(Outcome::Success)
}

fn error_kind(e: &Error) -> &'static str {
    match e {
        Error::Prometheus { .. } => "prometheus",
        Error::Input { .. } | Error::Schema { .. } | Error::Data(_) => "data",
        Error::Io { .. } => "io",
        _ => "other",
    }
}
