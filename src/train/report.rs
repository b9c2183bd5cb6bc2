//! The run's summary report (`summary_report.txt`) and the evaluation block `evaluate`
//! shares with it.

use std::fmt::Write as _;

use crate::artifacts::RunStatus;
use crate::data::sources::first_few;
use crate::data::{Dataset, ScalerKind};
use crate::metrics::{Evaluation, Threshold};
use crate::models::{Arch, Model, ModelConfig, Objective};
use crate::train::job::JobSettings;
use crate::train::TrainOutcome;

/// One line naming the model's layers, for the log and the report.
pub fn arch_description(cfg: &ModelConfig) -> String {
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

/// The original project's summary report (`summary_report.txt`), plus training facts.
pub struct SummaryReport<'a> {
    pub dataset: &'a Dataset,
    pub settings: &'a JobSettings,
    pub model: &'a Model,
    pub outcome: &'a TrainOutcome,
    pub status: RunStatus,
    /// Windows of the train, validation and test splits.
    pub windows: [usize; 3],
    /// Of the test split; `None` without labels (or without a test split).
    pub evaluation: Option<&'a Evaluation>,
    pub threshold: &'a Threshold,
    /// The run's warnings beyond the load's own.
    pub warnings: &'a [String],
}

impl SummaryReport<'_> {
    pub fn render(&self) -> String {
        let SummaryReport { dataset, settings, model, outcome, status, windows, evaluation, threshold, warnings } =
            *self;
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
            let _ = writeln!(
                s,
                "  left out {} rows: {} (first: {})",
                skipped.rows,
                skipped.reason.describe(),
                skipped.first
            );
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
        let _ = writeln!(
            s,
            "Scaler: {}",
            if settings.scaler == ScalerKind::Robust { "RobustScaler" } else { "MinMaxScaler" }
        );
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
