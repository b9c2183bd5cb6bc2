//! `kubelstm detect`: score new metrics with a trained model, as a batch or a stream
//! (`--follow`). See [`crate::detect`] for what a score means and the two drivers.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::Outcome;
use crate::data::sources::files_name_series;
use crate::data::windows::check_lengths;
use crate::data::{DataFiles, IngestReport, LabelAt};
use crate::detect::batch::{score_dataset, BatchScorer, ScoringLoader};
use crate::detect::follow::score_live;
use crate::detect::output::Target;
use crate::detect::stream::StreamSettings;
use crate::detect::{EventSink, WindowSink, DEFAULT_MERGE_GAP};
use crate::detect::{Format, Output, OutputOptions, ScoringModel};
use crate::prometheus::PrometheusArgs;
use crate::source::{FilesSource, PrometheusSource, Source, StdinSource};
use crate::{Error, Result};

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Scores: the score written at a row is that of the window of the pod's last T rows ending there. \
For a classifier trained with --label-at next (the default) it is the probability that the pod's \
NEXT sample is anomalous; with --label-at last, that this sample is; for the unsupervised \
autoencoder it is the window's reconstruction error. `kubelstm inspect RUN_DIR` says which.

Incidents (--events): each pod's anomalous windows are merged into incidents, one record per incident (pod, start, end, duration, windows, peak score and when, mean score, the features that contributed most); up to --merge-gap normal windows in a row inside an incident do not end it. With --follow an incident is written when it closes, and the open ones when the input ends.

Exit codes: 0 success; 1 with --fail-on-anomaly when a score reached the threshold; 2 on error.")]
pub struct Args {
    /// The run folder of a trained model (output_dir/run_…).
    #[arg(long, value_name = "RUN_DIR")]
    pub model: PathBuf,
    /// Metrics CSV in the model's schema (extra columns are ignored), or `-` for standard input;
    /// or several files, a directory or a pattern, as `train --data-path` takes them (without
    /// group columns each file is a series, named after the file in the `series` column).
    #[arg(long, default_value = "-", value_name = "FILE|DIR|PATTERN|-", num_args = 1..)]
    pub data: Vec<PathBuf>,
    /// Output format: one row per scored window (csv, jsonl) or each pod's latest score in the
    /// Prometheus node-exporter textfile format.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
    /// Write to FILE (atomically: a temporary file renamed into place when complete) instead of
    /// standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Decision threshold (default: the model's, chosen on its validation split).
    #[arg(long, value_name = "X")]
    pub threshold: Option<f64>,
    /// Features named per score, with their share of it (0: none; for a classifier that halves
    /// the work, its attributions need a backward pass).
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub top_features: usize,
    /// Keep reading as rows arrive (standard input until it ends; a file as `tail -f` does,
    /// until Ctrl-C) and write each score as soon as its pod has a full window.
    #[arg(long)]
    pub follow: bool,
    /// Write one record per incident (a pod's anomalous windows merged) instead of one per window.
    #[arg(long)]
    pub events: bool,
    /// With --events or --format prometheus: normal windows in a row that still join two
    /// anomalous runs into one incident (a fault's score dips under the threshold for a window
    /// or two; 0: every run is its own incident) [default: 2].
    #[arg(long, value_name = "N")]
    pub merge_gap: Option<usize>,
    /// Exit with code 1 when any score reaches the threshold.
    #[arg(long)]
    pub fail_on_anomaly: bool,
    /// With --follow: forget a pod once the newest row is this many seconds past its last row
    /// (data time; counted in rows when the data has no time column). It starts afresh if it
    /// comes back.
    #[arg(long, default_value_t = 3600, value_name = "SECONDS")]
    pub evict_after: u64,
    /// Worker threads (default: all cores). With --follow, windows that arrive together are
    /// scored together across them.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Skip rows with a bad value instead of stopping; they are counted on stderr.
    #[arg(long, alias = "skip_bad_rows")]
    pub skip_bad_rows: bool,
    /// Print nothing on stderr but errors.
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub source: PrometheusArgs,
}

/// Validated settings.
struct Settings {
    threads: usize,
    threshold: Option<f64>,
    evict_after: i64,
    /// The files to read, unless the input is standard input or Prometheus.
    files: Option<DataFiles>,
}

impl Args {
    fn settings(&self) -> Result<Settings> {
        let threads = super::resolve_threads(self.threads)?;
        super::check_threshold(self.threshold)?;
        if self.evict_after == 0 || self.evict_after > i64::MAX as u64 {
            return Err(Error::config("--evict-after must be at least 1 second"));
        }
        self.source.check_unused()?;
        if self.merge_gap.is_some() && !self.events && self.format != Format::Prometheus {
            return Err(Error::config(
                "--merge-gap applies to incidents: --events, or --format prometheus (its kubelstm_incident_open)",
            ));
        }
        let dash = self.data.iter().any(|p| p == Path::new("-"));
        if dash && self.data.len() > 1 {
            return Err(Error::config("--data - is standard input: it cannot be read together with files"));
        }
        let stdin = dash && !self.source.is_set();
        if self.source.is_set() {
            if !dash {
                return Err(Error::config("--data and --prometheus are two sources: pass one"));
            }
            if self.follow {
                return Err(Error::config(
                    "--follow reads a growing file or a pipe; a Prometheus range is read once (run detect \
                     again for newer samples)",
                ));
            }
        }
        let files = if dash { None } else { Some(DataFiles::resolve(&self.data, "--data")?) };
        if self.follow && files.as_ref().is_some_and(|f| f.len() > 1) {
            return Err(Error::config("--follow follows one file or standard input, not several files"));
        }
        if stdin && std::io::stdin().is_terminal() {
            return Err(Error::config(
                "no metrics to score: pass --data FILE, or pipe CSV into standard input (--data -)",
            ));
        }
        if let Some(out) = &self.output {
            if out == Path::new("-") {
                return Err(Error::config("-o - is standard output, the default: leave -o out"));
            }
            for data in files.iter().flat_map(|f| f.paths()) {
                if same_file(data, out) {
                    return Err(Error::config(format!(
                        "-o {} is the input file --data {} (the same file{}): the scores would replace the \
                         metrics being read; write them elsewhere",
                        out.display(),
                        data.display(),
                        if out == data { "" } else { ", under another name" }
                    )));
                }
            }
        }
        Ok(Settings { threads, threshold: self.threshold, evict_after: self.evict_after as i64, files })
    }
}

/// True when `a` and `b` name one existing file, whatever the spelling: the same path, a
/// symlink to the other, a hard link (the same device and inode).
fn same_file(a: &Path, b: &Path) -> bool {
    let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) else { return false };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        ma.dev() == mb.dev() && ma.ino() == mb.ino()
    }
    #[cfg(not(unix))]
    {
        let _ = (ma, mb);
        matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
    }
}

/// The input the flags name: a Prometheus pull (reaching back for the first windows' history),
/// files, or standard input.
fn open_source(args: &Args, settings: &Settings, model: &ScoringModel) -> Result<Box<dyn Source>> {
    if args.source.is_set() {
        let spec = model.loaded.meta.prometheus.as_ref();
        return Ok(Box::new(PrometheusSource::for_scoring(&args.source, spec, "-1h", model.history_steps())?));
    }
    Ok(match &settings.files {
        Some(files) => Box::new(FilesSource(files.clone())),
        None => Box::new(StdinSource),
    })
}

/// The output's series key columns: the model's, or `series` when each file is a series.
fn key_names(model: &ScoringModel, settings: &Settings) -> Vec<String> {
    match &settings.files {
        Some(files) if files_name_series(&model.load_options(false), files.len()) => vec!["series".into()],
        _ => model.key_names(),
    }
}

/// Skips and warnings of an ingest report, for stderr.
fn report_problems(report: &IngestReport) -> String {
    let mut s = String::new();
    for k in &report.skipped {
        s += &format!("warning: skipped {} rows: {} (first: {})\n", k.rows, k.reason.describe(), k.first);
    }
    if report.out_of_order_rows > 0 {
        s += &format!("note: sorted {} out-of-order rows into time order\n", report.out_of_order_rows);
    }
    for w in &report.warnings {
        s += &format!("warning: {w}\n");
    }
    s
}

/// What a driver did with its sink.
struct Driven<W> {
    out: W,
    pods: usize,
    problems: String,
    interrupted: bool,
}

pub fn run(args: Args) -> Result<Outcome> {
    let settings = args.settings()?;
    let started = Instant::now();
    let model = ScoringModel::load(&args.model)?;
    let threshold = settings.threshold.unwrap_or(model.threshold());
    let top_features = args.top_features.min(model.features());
    let explain = top_features > 0;
    let target = match &args.output {
        Some(path) => Target::File { path: path.clone(), atomic: !args.follow },
        None => Target::Stdout,
    };
    let evict_after = args.follow.then_some(settings.evict_after);
    let key_names = key_names(&model, &settings);
    let opts = OutputOptions {
        format: args.format,
        threshold,
        merge_gap: args.merge_gap.unwrap_or(DEFAULT_MERGE_GAP),
        top_features,
        feature_names: model.feature_names().to_vec(),
        key_names: key_names.clone(),
        has_time: model.has_time(),
        horizon: model.horizon(),
        evict_after,
    };
    let (pods, problems, interrupted, (windows, anomalies), incidents) = if args.events {
        let d = drive(&args, &settings, &model, explain, EventSink::new(opts, &target)?)?;
        let (counts, written) = (d.out.counts(), d.out.written);
        d.out.finish()?;
        (d.pods, d.problems, d.interrupted, counts, Some(written))
    } else {
        let d = drive(&args, &settings, &model, explain, Output::new(opts, target)?)?;
        let counts = d.out.counts();
        d.out.finish()?;
        (d.pods, d.problems, d.interrupted, counts, None)
    };
    if !args.quiet {
        eprint!("{problems}");
        let merged = incidents.map_or(String::new(), |n| format!(", merged into {n} incidents"));
        eprintln!(
            "scored {windows} windows of {pods} {} in {:.2} s: {anomalies} at or above the threshold {threshold}\
             {merged} (score: {})",
            if key_names.is_empty() || key_names == ["series"] { "series" } else { "pods" },
            started.elapsed().as_secs_f64(),
            model.horizon().describe()
        );
    }
    Ok(if interrupted {
        Outcome::Interrupted
    } else if args.fail_on_anomaly && anomalies > 0 {
        Outcome::AnomalyFound
    } else {
        Outcome::Success
    })
}

/// Scores the input (followed, or read whole: files, standard input, a Prometheus pull) into
/// `out`.
fn drive<W: WindowSink>(
    args: &Args,
    settings: &Settings,
    model: &ScoringModel,
    explain: bool,
    mut out: W,
) -> Result<Driven<W>> {
    let source = open_source(args, settings, model)?;
    if args.follow {
        let live = source.open_live(args.quiet)?;
        let stop = Arc::new(AtomicBool::new(false));
        if live.tail {
            let flag = stop.clone();
            // First Ctrl-C (or SIGTERM, SIGHUP): stop following, write what was scored; a second
            // one aborts.
            let _ = ctrlc::set_handler(move || {
                if flag.swap(true, Ordering::SeqCst) {
                    std::process::exit(130);
                }
            });
        }
        let stream_settings =
            StreamSettings { skip_bad_rows: args.skip_bad_rows, explain, evict_after: Some(settings.evict_after) };
        let (summary, out) = score_live(live, model, settings.threads, stream_settings, out, stop.clone(), |_| Ok(()))?;
        let mut problems = report_problems(&summary.report);
        if summary.windows == 0 && summary.report.rows_loaded > 0 {
            problems +=
                &format!("warning: no pod reached {} rows, the model's window: nothing was scored\n", model.steps());
        }
        let interrupted = stop.load(Ordering::SeqCst);
        return Ok(Driven { out, pods: summary.pods, problems, interrupted });
    }
    let loaded = source.read_whole(&ScoringLoader { model, skip_bad_rows: args.skip_bad_rows })?;
    let dataset = &loaded.dataset;
    let mut problems = report_problems(&dataset.report);
    if let Some(note) = &loaded.note {
        problems += &format!("{note}\n");
    }
    // A pull's series are as long as the range asked for; a short one is a pod that just
    // started, not a file too short for the model.
    if loaded.scored_from.is_none() {
        for w in check_lengths(&dataset.series, model.steps(), LabelAt::Last)? {
            problems += &format!("warning: {w}\n");
        }
    }
    let from = loaded.scored_from.unwrap_or(i64::MIN);
    let mut scorer = BatchScorer::new(model, settings.threads)?;
    score_dataset(&mut scorer, dataset, model, explain, |s| if s.timestamp >= from { out.write(s) } else { Ok(()) })?;
    Ok(Driven { out, pods: dataset.series.len(), problems, interrupted: false })
}
