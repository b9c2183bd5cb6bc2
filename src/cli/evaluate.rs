//! `kubelstm evaluate`: score labelled data with a saved model and write the metrics, report
//! and plots training writes for its test split, into a new folder
//! `OUTPUT_DIR/evaluation_YYYYMMDD_HHMMSS` (status file last).
//!
//! The threshold is the model's (chosen on its validation split at training): the evaluated
//! data is never used to tune it, so the numbers say how the saved model does on new data.
//! `--threshold` replaces it; the model's own thresholds are then reported as alternatives.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use super::Outcome;
use crate::artifacts::names::{EVALUATION_FILE, SUMMARY_FILE};
use crate::artifacts::{RunFolder, RunStatus};
use crate::data::windows::check_lengths;
use crate::data::{DataFiles, LabelSource, Series, WindowIndex};
use crate::detect::batch::ScoringLoader;
use crate::detect::incidents::incidents_per_series;
use crate::detect::{ScoringModel, DEFAULT_MERGE_GAP};
use crate::metrics::{event_metrics, label_segments, Evaluation, EventMetrics, PodEvents, Span, Threshold};
use crate::prometheus::PrometheusArgs;
use crate::source::{FilesSource, PrometheusSource, Source};
use crate::train::evaluation::{evaluate_windows, score_windows, write_evaluation_plots, EvaluationPlots};
use crate::train::report::evaluation_section;
use crate::train::split_windows::SplitWindows;
use crate::train::Engine;
use crate::{Error, Result};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The run folder of a trained model (output_dir/run_…).
    #[arg(long, value_name = "RUN_DIR")]
    pub model: PathBuf,
    /// Labelled metrics CSV in the model's schema: a label column, or Kubernetes data for the
    /// model's labelling rules (or --prometheus URL); or several files, a directory or a
    /// pattern, as `train --data-path` takes them.
    #[arg(long, value_name = "FILE|DIR|PATTERN", num_args = 1.., required_unless_present = "prometheus")]
    pub data: Vec<PathBuf>,
    /// Where the evaluation folder is created (default: inside the run folder).
    #[arg(long, alias = "output_dir", value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Decision threshold (default: the model's).
    #[arg(long, value_name = "X")]
    pub threshold: Option<f64>,
    /// Normal windows in a row that still join two anomalous runs into one incident, for the
    /// event metrics (as `detect --events --merge-gap`).
    #[arg(long, default_value_t = DEFAULT_MERGE_GAP, value_name = "N")]
    pub merge_gap: usize,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Skip rows with a bad value instead of stopping; they are counted in the report.
    #[arg(long, alias = "skip_bad_rows")]
    pub skip_bad_rows: bool,
    #[command(flatten)]
    pub source: PrometheusArgs,
}

/// What an evaluation produced.
#[derive(Clone, Debug)]
pub struct EvaluateResult {
    pub dir: PathBuf,
    pub evaluation: Evaluation,
    pub events: EventMetrics,
    pub summary: String,
}

/// Event metrics of each pod's `incidents` (from [`incidents_per_series`]: each window placed
/// at its label row, the row its score is about) against its labelled segments: the runs of
/// label-1 rows from the first window's label row on (earlier rows are never scored).
fn events_of(index: &WindowIndex, series: &[Series], incidents: &[Vec<Span>], has_time: bool) -> EventMetrics {
    let mut pods: Vec<PodEvents> = vec![PodEvents::default(); series.len()];
    let mut first: Vec<Option<usize>> = vec![None; series.len()];
    let mut last = vec![0usize; series.len()];
    for w in &index.windows {
        let (i, row) = (w.series as usize, index.label_row(*w));
        first[i].get_or_insert(row);
        last[i] = row;
    }
    let mut pod_seconds = 0i64;
    for (i, s) in series.iter().enumerate() {
        let Some(from) = first[i] else { continue };
        if let Some(labels) = &s.labels {
            pods[i].segments = label_segments(&s.timestamps[from..], &labels[from..]);
        }
        pod_seconds += s.timestamps[last[i]] - s.timestamps[from];
    }
    for (pod, incidents) in pods.iter_mut().zip(incidents) {
        pod.incidents.clone_from(incidents);
    }
    event_metrics(&pods, has_time.then_some(pod_seconds as f64 / 86_400.0))
}

fn event_section(out: &mut String, m: &EventMetrics, merge_gap: usize, has_time: bool) {
    let opt = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v:.4}"));
    let unit = if has_time { "s" } else { " rows" };
    let delay = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v:.0}{unit}"));
    let _ = writeln!(out, "\nEvents (incidents of each pod's anomalous windows, --merge-gap {merge_gap}):");
    let _ = writeln!(
        out,
        "  labelled segments: {}, found: {} (event recall {})",
        m.segments,
        m.segments_found,
        opt(m.recall)
    );
    let _ = writeln!(
        out,
        "  incidents: {}, overlapping a segment: {} (event precision {}), false: {}",
        m.incidents,
        m.true_incidents,
        opt(m.precision),
        m.false_incidents
    );
    let _ = writeln!(out, "  detection delay: mean {}, median {}", delay(m.mean_delay), delay(m.median_delay));
    match (m.false_incidents_per_pod_day, m.pod_days) {
        (Some(r), Some(d)) => {
            let _ = writeln!(out, "  false incidents per pod-day: {r:.3} (over {d:.2} pod-days)");
        }
        _ => {
            let _ = writeln!(out, "  false incidents per pod-day: n/a (no time column)");
        }
    }
}

fn no_labels(model: &ScoringModel, data: &str) -> Error {
    let how = match &model.pipeline.spec.labels {
        LabelSource::Column { name } => format!("a 0/1 column '{name}', as the training data had"),
        LabelSource::Rules { .. } => "Kubernetes columns for the labelling rules".to_string(),
        LabelSource::None => "a 0/1 column named 'label' or 'anomaly'".to_string(),
    };
    Error::data(format!(
        "{data}: no labels to evaluate against: evaluate needs {how}; to score unlabelled data use `kubelstm detect`"
    ))
}

/// Runs the evaluation and writes its folder.
pub fn evaluate(args: &Args) -> Result<EvaluateResult> {
    let threads = super::resolve_threads(args.threads)?;
    super::check_threshold(args.threshold)?;
    let started = Instant::now();
    let model = ScoringModel::load(&args.model)?;
    args.source.check_unused()?;
    let files = if args.data.is_empty() { None } else { Some(DataFiles::resolve(&args.data, "--data")?) };
    let source: Box<dyn Source> = match (&files, args.source.is_set()) {
        (Some(_), true) => return Err(Error::config("--data and --prometheus are two sources: pass one")),
        (Some(files), false) => Box::new(FilesSource(files.clone())),
        (None, _) => {
            Box::new(PrometheusSource::for_scoring(&args.source, model.loaded.meta.prometheus.as_ref(), "-1d", 0)?)
        }
    };
    let loaded = source.read_whole(&ScoringLoader { model: &model, skip_bad_rows: args.skip_bad_rows })?;
    if let Some(note) = &loaded.note {
        eprintln!("{note}");
    }
    let (dataset, data_sha256, source) = (loaded.dataset, loaded.sha256, source.describe());
    if !dataset.has_labels() {
        return Err(no_labels(&model, &source));
    }
    let (t, label_at) = (model.steps(), model.label_at());
    let mut warnings = check_lengths(&dataset.series, t, label_at)?;
    warnings.extend(dataset.report.warnings.iter().cloned());
    let index = WindowIndex::labelled(&dataset.series, t, label_at);
    let labels = index.labels(&dataset.series).ok_or_else(|| no_labels(&model, &source))?;

    let windows = SplitWindows { index: &index, series: &dataset.series, features: model.features() };
    let mut engine = Engine::new(model.loaded.model.clone(), threads)?;
    let scores = score_windows(&mut engine, &crate::params::Weights::new(model.loaded.params.clone()), &windows);
    // The threshold applies to smoothed scores, as in detect (windows are per series, in order).
    let series_ids: Vec<u32> = index.windows.iter().map(|w| w.series).collect();
    let scores = crate::detect::smoothing::smooth_in_order(&scores, &series_ids, model.smooth_windows());

    let saved = &model.thresholds;
    let (chosen, alternatives, chosen_on) = match args.threshold {
        Some(v) => {
            let mut alts = vec![saved.chosen];
            alts.extend(saved.alternatives.iter().copied());
            (Threshold::fixed(v)?, alts, "--threshold".to_string())
        }
        None => (saved.chosen, saved.alternatives.clone(), saved.chosen_on.clone()),
    };
    let evaluation = evaluate_windows(&index, &dataset.series, &labels, &scores, chosen, &alternatives)?;
    let has_time = model.has_time();
    // Computed once: the event metrics count them and scores.png marks them.
    let incidents = incidents_per_series(&index, &dataset.series, &scores, chosen.value, args.merge_gap);
    let events = events_of(&index, &dataset.series, &incidents, has_time);

    let out_dir = args.output_dir.clone().unwrap_or_else(|| model.dir().clone());
    let folder = RunFolder::create_named(&out_dir, "evaluation")?;
    folder.write_json(
        EVALUATION_FILE,
        &serde_json::json!({
            "split": "evaluated data",
            "data": source,
            "data_sha256": data_sha256,
            "model": model.dir().display().to_string(),
            "model_training_data_sha256": model.loaded.meta.training_data_sha256,
            "label_at": label_at,
            "threshold_chosen_on": chosen_on,
            "ingest": dataset.report,
            "evaluation": evaluation,
            "events": events,
            "merge_gap": args.merge_gap,
        }),
    )?;
    let mut summary = String::new();
    let _ =
        writeln!(summary, "Kubernetes Anomaly Detection — Evaluation Report (kubelstm {})", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(summary, "==============================================================");
    let _ = writeln!(summary, "\nModel: {} ({} model, T = {t})", model.dir().display(), model.arch());
    let _ = writeln!(summary, "Score: {}", model.horizon().describe());
    let _ = writeln!(summary, "Data: {source} (SHA-256 {data_sha256})");
    let r = &dataset.report;
    let _ = writeln!(summary, "Records: {} loaded of {} read ({} pods/series)", r.rows_loaded, r.rows_read, r.series);
    for w in &warnings {
        let _ = writeln!(summary, "Warning: {w}");
    }
    let _ = writeln!(
        summary,
        "\nThreshold: {:.6} ({}, chosen on {})",
        chosen.value,
        chosen.rule,
        if chosen_on == "--threshold" { "the command line".to_string() } else { format!("the {chosen_on} split") }
    );
    let data_name = match files.as_ref().map(|f| f.paths()) {
        Some([p]) => p.file_name().map_or(source.clone(), |n| n.to_string_lossy().into_owned()),
        _ => source.clone(),
    };
    evaluation_section(&mut summary, &format!("Performance on {data_name}"), Some(&evaluation));
    event_section(&mut summary, &events, args.merge_gap, has_time);
    folder.write(SUMMARY_FILE, summary.as_bytes())?;
    let plots = EvaluationPlots {
        arch: model.arch(),
        data: &data_name,
        index: &index,
        series: &dataset.series,
        time: crate::plot::TimeKind::of(&dataset),
        scores: &scores,
        labels: Some(&labels),
        threshold: chosen,
        incidents: &incidents,
    };
    write_evaluation_plots(&folder, &plots, Some(&evaluation))?;
    folder.finish(
        RunStatus::Complete,
        &format!("evaluated {} windows in {:.1} s", index.len(), started.elapsed().as_secs_f64()),
    )?;
    Ok(EvaluateResult { dir: folder.path().to_path_buf(), evaluation, events, summary })
}

pub fn run(args: Args) -> Result<Outcome> {
    let result = evaluate(&args)?;
    println!("{}", result.summary);
    println!("evaluation folder: {}", result.dir.display());
    Ok(Outcome::Success)
}
