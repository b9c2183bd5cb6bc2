//! `kubelstm train` as a library call: data in, complete run folder out.
//!
//! load ([`source`](super::source): CSV, the synthetic cluster or Prometheus) → time-ordered splits → scaler fitted on the training
//! rows only → windows per pod → train (early stopping on the validation split) → thresholds
//! chosen on the validation split → evaluation on the test split, which no choice has seen →
//! artifacts, each written atomically, and the status file last.
//!
//! Beside it: [`progress`](super::progress) (the log, the bar, the checkpoint of the best
//! epoch), [`evaluation`](super::evaluation) (threshold choice, scoring and evaluation of a
//! split, the charts), [`report`](super::report) (`summary_report.txt`) and
//! [`split_windows`](super::split_windows) (a split's windows as the trainer reads them).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::Serialize;

use crate::artifacts::names::{
    EVALUATION_FILE, HISTORY_FILE, HISTORY_PLOT, PARAMETERS_FILE, SCALER_FILE, SUMMARY_FILE, THRESHOLD_FILE,
};
use crate::artifacts::{save_model, ModelMeta, ModelPipeline, RunFolder, RunStatus};
use crate::data::split::class_weights;
use crate::data::windows::check_lengths;
use crate::data::{LabelAt, LoadOptions, Part, Scaler, ScalerKind, SplitConfig, Splits};
use crate::detect::incidents::{incidents_per_series, DEFAULT_MERGE_GAP};
use crate::detect::smoothing::smooth_in_order;
use crate::metrics::{Threshold, ThresholdChoice};
use crate::models::{check_window, Arch, Model, ModelConfig, Objective};
use crate::params::Weights;
use crate::plot;
use crate::source::Source;
use crate::train::calibration::{error_weights, mean_feature_errors, ErrorWeighting};
use crate::train::evaluation::{
    choose_threshold, evaluate_windows, history_curves, score_windows, write_evaluation_plots, EvaluationPlots,
};
use crate::train::progress::{Checkpoint, Progress};
use crate::train::report::{arch_description, SummaryReport};
use crate::train::split_windows::SplitWindows;
use crate::train::{fit, Engine, TrainSettings, Windows};
use crate::{Error, Result};

/// Everything `train` needs, validated.
#[derive(Clone, Debug)]
pub struct JobSettings {
    pub data: Arc<dyn Source>,
    pub load: LoadOptions,
    pub label_at: LabelAt,
    pub output_dir: PathBuf,
    pub sequence_length: usize,
    pub test_size: f64,
    pub validation_size: f64,
    pub scaler: ScalerKind,
    pub arch: Arch,
    /// `None`: supervised on labelled data, unsupervised otherwise.
    pub objective: Option<Objective>,
    /// How an unsupervised model's per-feature errors make its score.
    pub error_weighting: ErrorWeighting,
    /// `None`: F1-optimal when supervised, POT when unsupervised.
    pub threshold_rule: Option<ThresholdChoice>,
    /// POT's risk.
    pub risk: f64,
    /// Scores are averaged per pod over this many windows before the threshold applies.
    pub smooth_windows: usize,
    pub threshold_percentile: f64,
    pub train: TrainSettings,
    pub threads: usize,
    /// Model widths (defaults: the original's); tests shrink them.
    pub lstm: Option<[usize; 2]>,
    pub dense: Option<[usize; 2]>,
    /// The resolved command line, recorded in `parameters.json`.
    pub parameters: serde_json::Value,
}

/// What a finished (or interrupted) job reports.
#[derive(Clone, Debug)]
pub struct JobResult {
    pub run_dir: PathBuf,
    pub status: RunStatus,
    pub summary: String,
}

#[derive(Serialize)]
struct ThresholdFile<'a> {
    #[serde(flatten)]
    chosen: &'a Threshold,
    chosen_on: &'static str,
    alternatives: &'a [Threshold],
    smooth_windows: usize,
}

/// Runs the whole job. `interrupt` is set by Ctrl-C: training stops after the current batch
/// and the run is finished with the best weights so far, marked interrupted.
pub fn run(settings: &JobSettings, interrupt: Arc<AtomicBool>) -> Result<JobResult> {
    let t = settings.sequence_length;
    RunFolder::check_output_dir(&settings.output_dir)?;
    let loaded = settings.data.read_whole(&settings.load)?;
    if let Some(note) = &loaded.note {
        eprintln!("{note}");
    }
    let (mut dataset, data_hash) = (loaded.dataset, loaded.sha256);
    eprint!("{}", dataset.report);
    // Warnings beyond the ingest report's own: printed now, and kept for the run's report.
    let mut warnings: Vec<String> = Vec::new();
    if let Some(rate) = dataset.report.anomaly_rate {
        if rate > 0.5 {
            warnings.push(format!(
                "{:.1}% of the rows are labelled anomalous: labels that common carry little information \
                 (the original project's rules labelled 94.7% of its data and its model learned nothing); \
                 review the rules (--rules) or the label column",
                100.0 * rate
            ));
        }
    }
    // Labels make a supervised run; without them the model learns what normal looks like.
    let objective = settings.objective.unwrap_or(if dataset.has_labels() {
        Objective::Classifier
    } else {
        Objective::unsupervised_for(settings.arch)
    });
    if objective == Objective::Classifier && !dataset.has_labels() {
        return Err(Error::data(
            "the data has no labels: supervised training needs a label column (--label-column) or Kubernetes data \
             for the labelling rules; or train unsupervised (--mode unsupervised)",
        ));
    }
    if t < objective.min_steps() {
        return Err(Error::config(format!(
            "an unsupervised forecaster needs --sequence-length of at least {}: it forecasts a window's last row \
             from the rows before it",
            objective.min_steps()
        )));
    }
    // A forecaster's window ends with the row it forecasts: that row's label is the window's.
    let label_at = if objective == Objective::Forecast { LabelAt::Last } else { settings.label_at };
    warnings.extend(check_lengths(&dataset.series, t, label_at)?);
    // Without labels a test split would measure nothing and take windows from training.
    let split_config = if dataset.has_labels() {
        SplitConfig::new(settings.test_size, settings.validation_size, t, label_at)?
    } else {
        SplitConfig::without_test(settings.validation_size, t, label_at)?
    };
    let splits = Splits::new(&dataset.series, &split_config)?;
    if objective == Objective::Classifier {
        splits.require_both_classes(&dataset.series)?;
    }
    let f = dataset.n_features();
    // The limits `detect` holds model.json to: a model that trains also loads.
    check_window(t, f).map_err(|e| Error::config(format!("{e}; use a shorter --sequence-length or fewer features")))?;
    let (scaler, scaler_warnings) =
        Scaler::fit(settings.scaler, &dataset.feature_names, &splits.train_rows(&dataset.series, f))?;
    warnings.extend(scaler_warnings);
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    scaler.transform_dataset(&mut dataset)?;

    let series = &dataset.series;
    let split = |part| SplitWindows { index: splits.windows(part), series, features: f };
    let (train_all, validation, test) = (split(Part::Train), split(Part::Validation), split(Part::Test));
    // Unsupervised: learn what normal looks like from normal windows only (all, without labels).
    let normal_index;
    let train = if objective.is_unsupervised() && dataset.has_labels() {
        normal_index = splits.windows(Part::Train).normal_only(series);
        SplitWindows { index: &normal_index, series, features: f }
    } else {
        split(Part::Train)
    };
    if train.is_empty() || validation.is_empty() || (split_config.has_test() && test.is_empty()) {
        return Err(Error::data(format!(
            "the splits hold {} training, {} validation and {} test windows; each needs at least one: \
             use more rows per pod, a shorter --sequence-length or another --test-size",
            train.len(),
            validation.len(),
            test.len()
        )));
    }
    let mut train_settings = settings.train.clone();
    if objective == Objective::Classifier {
        let w = class_weights((0..train_all.len()).map(|i| train_all.label(i)), "training")?;
        train_settings.class_weights = [f64::from(w[0]), f64::from(w[1])];
    }
    train_settings.threshold_percentile = settings.threshold_percentile;

    let mut config = ModelConfig::new(settings.arch, f);
    config.objective = objective;
    if let Some(l) = settings.lstm {
        config.lstm = l;
    }
    if let Some(d) = settings.dense {
        config.dense = d;
    }
    let model = Model::new(config)?;
    let params = model.init_params::<f32>(settings.train.seed);

    // Ctrl-C while the data was loading: stop here rather than create a run folder, train one
    // batch and write a report for a model nobody asked to keep.
    if interrupt.load(Ordering::SeqCst) {
        return Err(Error::Interrupted("stopped before training started; no run folder was created".into()));
    }
    let run = RunFolder::create(&settings.output_dir)?;
    let mut meta = ModelMeta::new(&model.config, t, dataset.feature_names.clone());
    meta.seed = settings.train.seed;
    meta.training_data_sha256 = data_hash.clone();
    meta.prometheus = settings.data.pull_spec().cloned();
    meta.pipeline = Some(ModelPipeline { spec: dataset.pipeline().clone(), label_at, scaler: scaler.clone() });
    let mut progress = Progress::open(&run, interrupt, train_settings.epochs, train_settings.batch_size)?;
    progress.line(&format!(
        "kubelstm {} train: {} | {} rows, {} features, T={t} | windows train {} val {} test {} | {} parameters | {} threads | run folder {}",
        env!("CARGO_PKG_VERSION"),
        arch_description(&model.config),
        dataset.report.rows_loaded,
        f,
        train.len(),
        validation.len(),
        test.len(),
        model.layout.len(),
        settings.threads,
        run.path().display()
    ));

    for w in &warnings {
        progress.line_to_log(&format!("warning: {w}"));
    }

    let mut engine = Engine::new(model.clone(), settings.threads)?;
    let checkpoint = Checkpoint { run: &run, model: &model, meta: &meta };
    let outcome = match fit(&mut engine, params, &train, &validation, &train_settings, &mut (checkpoint, &mut progress))
    {
        Ok(outcome) => outcome,
        Err(err @ Error::Diverged { .. }) => {
            progress.line(&format!("error: {err}"));
            let _ = run.finish(RunStatus::Diverged, &err.to_string());
            return Err(err);
        }
        Err(err) => return Err(err),
    };
    let status = if outcome.interrupted { RunStatus::Interrupted } else { RunStatus::Complete };
    if outcome.interrupted {
        progress.line("interrupted: finishing the run with the best weights so far");
    } else if outcome.stopped_early {
        progress.line(&format!("early stopping: restored the weights of epoch {}", outcome.best_epoch.unwrap_or(0)));
    }

    // Unsupervised: each feature's error counts in units of its mean on the (normal)
    // validation windows; the score then compares across features (see `calibration`).
    let mut model = model;
    if objective.is_unsupervised() && settings.error_weighting == ErrorWeighting::PerFeature {
        let normal_validation;
        let calibration = if dataset.has_labels() {
            normal_validation = splits.windows(Part::Validation).normal_only(series);
            SplitWindows { index: &normal_validation, series, features: f }
        } else {
            split(Part::Validation)
        };
        let calibration = if calibration.is_empty() { split(Part::Validation) } else { calibration };
        let means = mean_feature_errors(&model, &outcome.params, &calibration)?;
        let mut config = model.config.clone();
        config.error_weights = Some(error_weights(&means)?);
        model = Model::new(config)?;
        engine = Engine::new(model.clone(), settings.threads)?;
    }

    // Scores of the validation split choose the threshold; the test split only measures.
    let best = Weights::new(outcome.params.clone());
    // Smoothed as detect will smooth them, so the threshold is set on what it compares.
    let smooth = |scores: Vec<f64>, part| {
        let ids: Vec<u32> = splits.windows(part).windows.iter().map(|w| w.series).collect();
        smooth_in_order(&scores, &ids, settings.smooth_windows)
    };
    let val_scores = smooth(score_windows(&mut engine, &best, &validation), Part::Validation);
    let test_scores = smooth(score_windows(&mut engine, &best, &test), Part::Test);
    let val_labels = splits.windows(Part::Validation).labels(series);
    // (An empty index's labels are `Some(vec![])`: no test split means nothing to evaluate.)
    let test_labels = splits.windows(Part::Test).labels(series).filter(|_| split_config.has_test());
    let (chosen, alternatives, note) = choose_threshold(settings, objective, &val_scores, val_labels.as_deref())?;
    if let Some(note) = note {
        progress.line(&format!("warning: {note}"));
        warnings.push(note);
    }
    let evaluation = match &test_labels {
        Some(labels) => {
            Some(evaluate_windows(splits.windows(Part::Test), series, labels, &test_scores, chosen, &alternatives)?)
        }
        None => None,
    };

    meta.threshold = chosen.value;
    meta.threshold_rule = Some(chosen.rule);
    save_model(run.path(), &model, &outcome.params, &meta)?;
    run.write(SCALER_FILE, scaler.to_json().as_bytes())?;
    run.write_json(
        THRESHOLD_FILE,
        &ThresholdFile {
            chosen: &chosen,
            chosen_on: "validation",
            alternatives: &alternatives,
            smooth_windows: settings.smooth_windows,
        },
    )?;
    let mut parameters = settings.parameters.clone();
    if let serde_json::Value::Object(map) = &mut parameters {
        map.insert("objective".into(), serde_json::to_value(objective).unwrap_or_default());
        map.insert("class_weights".into(), serde_json::to_value(train_settings.class_weights).unwrap_or_default());
        map.insert("threads".into(), settings.threads.into());
        map.insert("training_data_sha256".into(), data_hash.into());
        map.insert("simd".into(), kubelstm_kernels::active_isa().name().into());
    }
    run.write_json(PARAMETERS_FILE, &parameters)?;
    run.write(HISTORY_FILE, outcome.history.to_csv().as_bytes())?;
    run.write_json(
        EVALUATION_FILE,
        &serde_json::json!({
            "split": "test",
            "threshold_chosen_on": "validation",
            "ingest": dataset.report,
            "evaluation": evaluation,
        }),
    )?;
    let windows = [train.len(), validation.len(), test.len()];
    let summary = SummaryReport {
        dataset: &dataset,
        settings,
        model: &model,
        outcome: &outcome,
        status,
        windows,
        evaluation: evaluation.as_ref(),
        threshold: &chosen,
        warnings: &warnings,
    }
    .render();
    run.write(SUMMARY_FILE, summary.as_bytes())?;

    let curves = history_curves(&outcome.history, outcome.best_epoch);
    let history_title = format!("Training history — {} model", model.config.arch);
    // Without labels there is no accuracy or AUC to plot: losses and the validation scores instead.
    let history_png = if objective == Objective::Classifier {
        plot::training_history_png(&curves, &history_title)?
    } else {
        let rule = chosen.rule.to_string();
        let validation = plot::ValidationScores { scores: &val_scores, threshold: chosen.value, rule: &rule };
        plot::unsupervised_history_png(&curves, &validation, &history_title)?
    };
    run.write(HISTORY_PLOT, &history_png)?;
    // Without a test split the scores chart shows the validation windows the threshold came from.
    let (shown, shown_scores, shown_labels) = if split_config.has_test() {
        (Part::Test, &test_scores, test_labels.as_deref())
    } else {
        (Part::Validation, &val_scores, val_labels.as_deref())
    };
    let incidents = incidents_per_series(splits.windows(shown), series, shown_scores, chosen.value, DEFAULT_MERGE_GAP);
    let plots = EvaluationPlots {
        arch: model.config.arch,
        data: if shown == Part::Test { "test split" } else { "validation split" },
        index: splits.windows(shown),
        series,
        time: plot::TimeKind::of(&dataset),
        scores: shown_scores,
        labels: shown_labels,
        threshold: chosen,
        incidents: &incidents,
    };
    write_evaluation_plots(&run, &plots, evaluation.as_ref())?;

    let message = if status == RunStatus::Interrupted { "interrupted by the user" } else { "training finished" };
    progress.line(&format!("run folder complete: {}", run.path().display()));
    run.finish_training(status, message, outcome.history.epochs.len())?;
    Ok(JobResult { run_dir: run.path().to_path_buf(), status, summary })
}
