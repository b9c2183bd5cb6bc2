//! `kubelstm train` as a library call: data in, complete run folder out.
//!
//! load (CSV or the synthetic cluster) → time-ordered splits → scaler fitted on the training
//! rows only → windows per pod → train (early stopping on the validation split) → thresholds
//! chosen on the validation split → evaluation on the test split, which no choice has seen →
//! artifacts, each written atomically, and the status file last.

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::artifacts::model_file::hex;
use crate::artifacts::names::{
    CONFUSION_PLOT, EVALUATION_FILE, HISTORY_FILE, HISTORY_PLOT, LOG_FILE, PARAMETERS_FILE, PRECISION_RECALL_PLOT,
    ROC_PLOT, SCALER_FILE, SCORES_PLOT, SUMMARY_FILE, THRESHOLD_FILE,
};
use crate::artifacts::{save_model, ModelMeta, ModelPipeline, RunFolder, RunStatus};
use crate::data::sources::first_few;
use crate::data::split::class_weights;
use crate::data::synthetic::{self, SyntheticConfig};
use crate::data::windows::check_lengths;
use crate::data::{
    DataFiles, Dataset, LabelAt, LoadOptions, Part, Scaler, ScalerKind, Series, SplitConfig, Splits, WindowIndex,
};
use crate::detect::incidents::{incidents_per_series, DEFAULT_MERGE_GAP};
use crate::detect::smoothing::smooth_in_order;
use crate::metrics::{Evaluation, Span, Threshold, ThresholdChoice};
use crate::models::{check_window, Arch, Model, ModelConfig, Objective};
use crate::params::Weights;
use crate::plot;
use crate::prometheus::{self, PrometheusSpec, PullReader, PullSettings};
use crate::train::calibration::{error_weights, mean_feature_errors, ErrorWeighting};
use crate::train::{fit, Engine, EpochRecord, History, Observer, TrainOutcome, TrainSettings, Windows};
use crate::{Error, Result};

/// Where the data comes from.
#[derive(Clone, Debug)]
pub enum DataSource {
    /// One CSV, or several read as one dataset (see [`crate::data::sources`]).
    Files(DataFiles),
    Synthetic(SyntheticConfig),
    /// A pull from a Prometheus server; `derived` adds the rolling features in generic mode.
    Prometheus {
        pull: Box<PullSettings>,
        spec: PrometheusSpec,
        derived: bool,
    },
}

/// Everything `train` needs, validated.
#[derive(Clone, Debug)]
pub struct JobSettings {
    pub data: DataSource,
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

/// Loads the data; returns it with the SHA-256 of its CSV bytes.
pub fn load_data(source: &DataSource, options: &LoadOptions) -> Result<(Dataset, String)> {
    match source {
        DataSource::Files(files) => crate::data::sources::load_files(files, options),
        DataSource::Synthetic(cfg) => {
            let (bytes, _) = synthetic::csv_bytes(cfg)?;
            let hash = hex(&Sha256::digest(&bytes));
            Ok((crate::data::load_reader(bytes.as_slice(), &cfg.describe(), options)?, hash))
        }
        DataSource::Prometheus { pull, spec, derived } => {
            let reader = PullReader::open(pull)?;
            let options = prometheus::training_options(options, &spec.queries, &reader, *derived);
            let source = format!("Prometheus at {}", pull.client.url);
            let (dataset, hash, stats) =
                prometheus::load_pull(reader, &source, |r| crate::data::load_reader(r, &source, &options))?;
            eprintln!("{}", prometheus::describe(&pull.client.url, &stats));
            Ok((dataset, hash))
        }
    }
}

/// The windows of one split, as the trainer sees them.
pub struct SplitWindows<'a> {
    pub index: &'a WindowIndex,
    pub series: &'a [Series],
    pub features: usize,
}

impl Windows for SplitWindows<'_> {
    fn len(&self) -> usize {
        self.index.len()
    }
    fn steps(&self) -> usize {
        self.index.seq_len
    }
    fn features(&self) -> usize {
        self.features
    }
    fn label(&self, i: usize) -> u8 {
        self.index.label(self.series, i).unwrap_or(0)
    }
    fn has_labels(&self) -> bool {
        self.series.iter().any(|s| s.labels.is_some())
    }
    fn gather(&self, ids: &[usize], x: &mut [f32]) {
        self.index.gather(self.series, self.features, ids, x)
    }
}

/// `training.log` plus the terminal: a progress bar on a terminal, plain lines otherwise.
struct Progress {
    log: std::fs::File,
    bar: Option<indicatif::ProgressBar>,
    interrupt: Arc<AtomicBool>,
    run: RunFolder,
    model: Model,
    meta: ModelMeta,
    epochs: usize,
    batch_size: usize,
    loss_sum: f64,
    batches: usize,
    started: Instant,
}

impl Progress {
    /// To `training.log` only (what the terminal has already seen).
    fn line_to_log(&mut self, text: &str) {
        let _ = writeln!(self.log, "{text}");
    }

    fn line(&mut self, text: &str) {
        let _ = writeln!(self.log, "{text}");
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }
}

impl Observer for Progress {
    fn epoch_started(&mut self, epoch: usize, batches: usize) {
        self.loss_sum = 0.0;
        self.batches = 0;
        self.started = Instant::now();
        if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(batches as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_prefix(format!("{epoch}/{}", self.epochs));
            self.bar = Some(bar);
        }
    }

    fn batch_done(&mut self, _epoch: usize, batch: usize, loss: f64) {
        self.loss_sum += loss;
        self.batches += 1;
        if let Some(bar) = &self.bar {
            if batch.is_multiple_of(10) {
                let rate = (self.batches * self.batch_size) as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
                bar.set_message(format!("loss {:.4}, {rate:.0} samples/s", self.loss_sum / self.batches as f64));
            }
            bar.set_position(batch as u64);
        }
    }

    fn epoch_done(&mut self, r: &EpochRecord, best: bool, params: &[f32]) -> Result<()> {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        let fmt = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v:.4}"));
        let best_note = if best { " (best so far: checkpoint saved)" } else { "" };
        let line = if r.validation.accuracy.is_none() {
            // No labels: the losses are what this epoch measured.
            format!(
                "epoch {}/{}: loss {:.6} | val_loss {:.6} | lr {:.1e} | {:.1}s, {:.0} samples/s{best_note}",
                r.epoch, self.epochs, r.train.loss, r.validation.loss, r.learning_rate, r.seconds, r.samples_per_second,
            )
        } else {
            format!(
            "epoch {}/{}: loss {:.4} acc {} auc {} | val_loss {:.4} val_acc {} val_auc {} val_precision {} val_recall {} | lr {:.1e} | {:.1}s, {:.0} samples/s{}",
            r.epoch,
            self.epochs,
            r.train.loss,
            fmt(r.train.accuracy),
            fmt(r.train.auc),
            r.validation.loss,
            fmt(r.validation.accuracy),
            fmt(r.validation.auc),
            fmt(r.validation.precision),
            fmt(r.validation.recall),
            r.learning_rate,
            r.seconds,
            r.samples_per_second,
            best_note
        )
        };
        self.line(&line);
        if best {
            // The best checkpoint on disk, so a killed or diverged run keeps its best model.
            save_model(self.run.path(), &self.model, params, &self.meta)?;
        }
        Ok(())
    }

    fn stop_requested(&self) -> bool {
        self.interrupt.load(Ordering::Relaxed)
    }
}

#[derive(Serialize)]
struct ThresholdFile<'a> {
    #[serde(flatten)]
    chosen: &'a Threshold,
    chosen_on: &'static str,
    alternatives: &'a [Threshold],
    smooth_windows: usize,
}

fn arch_description(cfg: &ModelConfig) -> String {
    let [a, b] = cfg.lstm;
    if cfg.objective == Objective::Forecast {
        let layers = match cfg.arch {
            Arch::Standard => format!("standard LSTM: LSTM({a}) → LSTM({b})"),
            Arch::Bidirectional => format!("bidirectional LSTM: BiLSTM({a}) → BiLSTM({b})"),
            _ => format!("LSTM with self-attention: BiLSTM({a}) → attention → BiLSTM({b})"),
        };
        return format!("{layers} → dense head → Dense({}) (unsupervised forecaster of the next row)", cfg.features);
    }
    match cfg.arch {
        Arch::Standard => format!("standard LSTM: LSTM({a}) → LSTM({b}) → dense head"),
        Arch::Bidirectional => format!("bidirectional LSTM: BiLSTM({a}) → BiLSTM({b}) → dense head"),
        Arch::Attention => format!("LSTM with self-attention: BiLSTM({a}) → attention → BiLSTM({b}) → dense head"),
        Arch::Autoencoder => format!(
            "LSTM autoencoder ({}): BiLSTM({a}) → BiLSTM({b}) → RepeatVector → BiLSTM({b}) → BiLSTM({a}) → Dense",
            if cfg.objective == Objective::Classifier { "supervised head" } else { "unsupervised" }
        ),
    }
}

fn opt(v: Option<f64>) -> String {
    v.map_or("n/a".to_string(), |v| format!("{v:.4}"))
}

/// The original project's summary report, plus training facts.
#[allow(clippy::too_many_arguments)]
fn summary_report(
    dataset: &Dataset,
    settings: &JobSettings,
    model: &Model,
    outcome: &TrainOutcome,
    status: RunStatus,
    windows: [usize; 3],
    evaluation: Option<&Evaluation>,
    threshold: &Threshold,
    warnings: &[String],
) -> String {
    let mut s = String::new();
    let r = &dataset.report;
    let _ = writeln!(s, "Kubernetes Anomaly Detection — Summary Report (kubelstm {})", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(s, "==============================================================");
    if status == RunStatus::Interrupted {
        let _ = writeln!(
            s,
            "STATUS: INTERRUPTED — training was stopped early by the user; the best model so far was kept."
        );
    }
    let _ = writeln!(s, "\nDataset: {}", dataset.source);
    let _ = writeln!(s, "Total records: {} ({} pods/series)", r.rows_loaded, r.series);
    let named: Vec<&str> = r.files.iter().filter_map(|f| f.series.as_deref()).collect();
    if !named.is_empty() {
        let _ = writeln!(s, "Series, one per file and named after it: {}", first_few(&named, 10));
    }
    match r.anomaly_rate {
        Some(rate) => {
            let _ = writeln!(s, "Anomaly rate: {:.2}% ({} anomalous rows)", 100.0 * rate, r.anomalies.unwrap_or(0));
        }
        None => {
            let _ = writeln!(s, "Anomaly rate: unknown (no labels)");
        }
    }
    for rule in &r.rules {
        let _ = writeln!(s, "  rule {:<28} fired on {} rows", rule.rule, rule.rows);
    }
    // What the load did with the rows it could not use as they were: the missing-value policy's
    // fills, rows left out (and why), rows sorted into time order; then every warning.
    let _ = writeln!(s, "Rows read: {} ({} used, {} left out)", r.rows_read, r.rows_loaded, r.rows_skipped());
    for skipped in &r.skipped {
        let _ =
            writeln!(s, "  left out {} rows: {} (first: {})", skipped.rows, skipped.reason.describe(), skipped.first);
    }
    let policy = serde_json::to_value(settings.load.missing).ok().and_then(|v| v.as_str().map(str::to_owned));
    for c in &r.missing_filled {
        let _ = writeln!(
            s,
            "  filled {} missing values in '{}' (--missing {})",
            c.count,
            c.column,
            policy.as_deref().unwrap_or("?")
        );
    }
    if r.out_of_order_rows > 0 {
        let _ = writeln!(s, "  sorted {} out-of-order rows into time order", r.out_of_order_rows);
    }
    let _ = writeln!(s, "Windows (train / validation / test): {} / {} / {}", windows[0], windows[1], windows[2]);
    let all_warnings: Vec<&String> = r.warnings.iter().chain(warnings).collect();
    if !all_warnings.is_empty() {
        let _ = writeln!(s, "Warnings:");
        for w in all_warnings {
            let _ = writeln!(s, "  warning: {w}");
        }
    }
    let _ = writeln!(s, "\nModel architecture: {}", arch_description(&model.config));
    let _ = writeln!(s, "Parameters: {}", model.layout.len());
    let _ =
        writeln!(s, "Scaler: {}", if settings.scaler == ScalerKind::Robust { "RobustScaler" } else { "MinMaxScaler" });
    let _ = writeln!(s, "Sequence length: {}", settings.sequence_length);
    let _ = writeln!(s, "\nTraining time: {:.1} s", outcome.seconds);
    let _ = writeln!(s, "Epochs run: {}", outcome.history.epochs.len());
    let _ = writeln!(s, "Best epoch: {}", outcome.best_epoch.map_or("none".to_string(), |e| e.to_string()));
    let _ = writeln!(s, "Samples per second: {:.0}", outcome.samples_per_second);
    let _ = writeln!(s, "\nThreshold: {:.6} ({}, chosen on the validation split)", threshold.value, threshold.rule);
    if settings.smooth_windows > 1 {
        let _ = writeln!(
            s,
            "Smoothing: each pod's score is the mean of its last {} window scores",
            settings.smooth_windows
        );
    }
    if model.config.objective.is_unsupervised() {
        let what = if model.config.objective == Objective::Forecast {
            "the squared error of the forecast of each window's last row"
        } else {
            "the squared error of the reconstruction of each window"
        };
        let weighting = if model.config.error_weights.is_some() {
            ", each feature's error in units of its mean on the validation windows (1 ≈ a typical window)"
        } else {
            ", averaged over the scaled features"
        };
        let _ = writeln!(s, "Score: {what}{weighting}");
    }
    evaluation_section(&mut s, "Test set performance", evaluation);
    s
}

/// The report's evaluation block (shared by `train`, for the test split, and `evaluate`):
/// window counts, accuracy, AUCs, precision, recall, F1, the confusion matrix, the
/// classification report and the alternative thresholds.
pub fn evaluation_section(s: &mut String, heading: &str, evaluation: Option<&Evaluation>) {
    match evaluation {
        Some(e) => {
            let c = &e.chosen;
            let _ = writeln!(s, "\n{heading} ({} windows, {} anomalous):", e.samples, e.positives);
            let _ = writeln!(s, "Accuracy: {:.4}", c.accuracy);
            let _ = writeln!(s, "ROC-AUC: {}", opt(e.roc_auc));
            let _ = writeln!(s, "PR-AUC: {} (average precision {})", opt(e.pr_auc), opt(e.average_precision));
            let _ = writeln!(s, "Precision: {:.4}", c.precision);
            let _ = writeln!(s, "Recall: {:.4}", c.recall);
            let _ = writeln!(s, "F1: {:.4}", c.f1);
            let cm = &c.confusion_matrix;
            let _ = writeln!(
                s,
                "Confusion matrix [[TN FP] [FN TP]]: [[{} {}] [{} {}]]",
                cm.true_negatives, cm.false_positives, cm.false_negatives, cm.true_positives
            );
            let _ = writeln!(s, "\n{}", c.report);
            for alt in &e.alternatives {
                let _ = writeln!(
                    s,
                    "At the {} threshold {:.6}: precision {:.4}, recall {:.4}, F1 {:.4}",
                    alt.threshold.rule, alt.threshold.value, alt.precision, alt.recall, alt.f1
                );
            }
        }
        None => {
            let _ = writeln!(s, "\n{heading}: not measured (the data has no labels).");
        }
    }
}

fn history_curves(history: &History, best: Option<usize>) -> plot::HistoryCurves {
    // A metric's (train, validation) values of one epoch.
    type Metric<'a> = &'a dyn Fn(&EpochRecord) -> (Option<f64>, Option<f64>);
    let pick = |f: Metric| plot::TrainValidation {
        train: history.epochs.iter().map(|e| f(e).0.unwrap_or(f64::NAN)).collect(),
        validation: history.epochs.iter().map(|e| f(e).1.unwrap_or(f64::NAN)).collect(),
    };
    plot::HistoryCurves {
        loss: pick(&|e| (Some(e.train.loss), Some(e.validation.loss))),
        accuracy: pick(&|e| (e.train.accuracy, e.validation.accuracy)),
        auc: pick(&|e| (e.train.auc, e.validation.auc)),
        precision: pick(&|e| (e.train.precision, e.validation.precision)),
        best_epoch: best,
        learning_rate: history.epochs.iter().map(|e| e.learning_rate).collect(),
    }
}

/// Runs the whole job. `interrupt` is set by Ctrl-C: training stops after the current batch
/// and the run is finished with the best weights so far, marked interrupted.
pub fn run(settings: &JobSettings, interrupt: Arc<AtomicBool>) -> Result<JobResult> {
    let t = settings.sequence_length;
    RunFolder::check_output_dir(&settings.output_dir)?;
    let (mut dataset, data_hash) = load_data(&settings.data, &settings.load)?;
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
    if let DataSource::Prometheus { spec, .. } = &settings.data {
        meta.prometheus = Some(spec.clone());
    }
    meta.pipeline = Some(ModelPipeline { spec: dataset.pipeline().clone(), label_at, scaler: scaler.clone() });
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(run.file(LOG_FILE))
        .map_err(|e| Error::io("create", run.file(LOG_FILE), e))?;
    let mut progress = Progress {
        log,
        bar: None,
        interrupt,
        run: run.clone(),
        model: model.clone(),
        meta: meta.clone(),
        epochs: train_settings.epochs,
        batch_size: train_settings.batch_size,
        loss_sum: 0.0,
        batches: 0,
        started: Instant::now(),
    };
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
    let outcome = match fit(&mut engine, params, &train, &validation, &train_settings, &mut progress) {
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
    let summary =
        summary_report(&dataset, settings, &model, &outcome, status, windows, evaluation.as_ref(), &chosen, &warnings);
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

/// The threshold the run uses and the alternatives reported beside it, all from the
/// validation scores: the rule asked for, or by default F1-optimal on labels (supervised) and
/// POT (unsupervised). POT falls back to the percentile, with a note, when the validation
/// tail is too short to fit; the third value is that note.
fn choose_threshold(
    settings: &JobSettings,
    objective: Objective,
    scores: &[f64],
    labels: Option<&[u8]>,
) -> Result<(Threshold, Vec<Threshold>, Option<String>)> {
    let percentile = Threshold::percentile(scores, settings.threshold_percentile)?;
    let both_classes = labels.is_some_and(|l| l.contains(&1) && l.contains(&0));
    let f1 = match labels {
        Some(l) if both_classes || objective == Objective::Classifier => Some(Threshold::f1_optimal(l, scores)?),
        _ => None,
    };
    let rule = settings.threshold_rule.unwrap_or(if objective == Objective::Classifier {
        ThresholdChoice::F1Optimal
    } else {
        ThresholdChoice::Pot
    });
    let mut note = None;
    let chosen = match rule {
        ThresholdChoice::F1Optimal => match f1 {
            Some(t) => t,
            None => {
                return Err(Error::config(
                    "--threshold-rule f1-optimal needs labelled validation windows of both classes",
                ))
            }
        },
        ThresholdChoice::Percentile => percentile,
        ThresholdChoice::Pot => match Threshold::pot(scores, settings.risk) {
            Ok(t) => t,
            Err(e) => {
                note = Some(format!("{e}; using the percentile threshold instead"));
                percentile
            }
        },
    };
    let alternatives = [Some(percentile), f1].into_iter().flatten().filter(|t| t.rule != chosen.rule).collect();
    Ok((chosen, alternatives, note))
}

/// Scores (σ(logit) or reconstruction error, as f64) of every window of `w`, 1024 windows
/// at a time across the engine's threads.
pub fn score_windows(engine: &mut Engine, params: &Weights<f32>, w: &dyn Windows) -> Vec<f64> {
    let ids: Vec<usize> = (0..w.len()).collect();
    let mut out = vec![0.0f32; ids.len()];
    engine.predict(params, w, &ids, 1024, &mut out);
    out.iter().map(|&o| f64::from(engine.model.score(o))).collect()
}

/// The evaluation of labelled windows `index` at `chosen` (and `alternatives`), with the
/// per-pod breakdown.
pub fn evaluate_windows(
    index: &WindowIndex,
    series: &[Series],
    labels: &[u8],
    scores: &[f64],
    chosen: Threshold,
    alternatives: &[Threshold],
) -> Result<Evaluation> {
    let pods: Vec<String> = index.windows.iter().map(|w| series[w.series as usize].key.to_string()).collect();
    Evaluation::new(labels, scores, chosen, alternatives)?.with_pods(&pods, labels, scores)
}

/// What the evaluation charts show.
pub struct EvaluationPlots<'a> {
    pub arch: Arch,
    /// Named in the titles: "test split", or the evaluated file.
    pub data: &'a str,
    pub index: &'a WindowIndex,
    pub series: &'a [Series],
    /// `(N,)` one per window of `index`.
    /// Whether `series`' timestamps are epoch seconds or row numbers.
    pub time: plot::TimeKind,
    pub scores: &'a [f64],
    pub labels: Option<&'a [u8]>,
    pub threshold: Threshold,
    /// Detected incidents of each series (as [`incidents_per_series`] gives them), marked on
    /// `scores.png`.
    pub incidents: &'a [Vec<Span>],
}

/// Writes `roc_curve.png`, `precision_recall_curve.png`, `confusion_matrix.png` (when there
/// is an evaluation) and `scores.png` into `run`.
pub fn write_evaluation_plots(run: &RunFolder, p: &EvaluationPlots<'_>, evaluation: Option<&Evaluation>) -> Result<()> {
    let title = |what: &str| format!("{what} — {} model ({})", p.arch, p.data);
    if let Some(e) = evaluation {
        run.write(ROC_PLOT, &plot::roc_curve_png(&e.roc, &title("ROC curve"))?)?;
        run.write(
            PRECISION_RECALL_PLOT,
            &plot::precision_recall_png(&e.precision_recall, &title("Precision-recall curve"))?,
        )?;
        run.write(
            CONFUSION_PLOT,
            &plot::confusion_matrix_png(&e.chosen.confusion_matrix, &title("Confusion matrix"))?,
        )?;
    }
    // Each window sits at the time of its label row; the chart orders them itself.
    let time_of = |w: crate::data::Window| {
        let s = &p.series[w.series as usize];
        s.timestamps[p.index.label_row(w).min(s.len() - 1)]
    };
    let times: Vec<i64> = p.index.windows.iter().map(|&w| time_of(w)).collect();
    let series: Vec<u32> = p.index.windows.iter().map(|w| w.series).collect();
    let rule = p.threshold.rule.to_string();
    let incidents: Vec<(i64, i64)> = p.incidents.iter().flatten().map(|s| (s.start, s.end)).collect();
    let trace = plot::ScoreTrace {
        times: &times,
        series: &series,
        scores: p.scores,
        labels: p.labels,
        time: p.time,
        threshold: Some(p.threshold.value),
        threshold_rule: &rule,
        incidents: &incidents,
    };
    run.write(SCORES_PLOT, &plot::scores_png(&trace, &title("Anomaly score over time"))?)
}
