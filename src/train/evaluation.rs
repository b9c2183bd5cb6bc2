//! Thresholds and evaluation on a run's splits, shared by `train` and `evaluate`: the
//! threshold chosen on validation scores, the scores of a split, its evaluation, and the
//! charts of both.

use crate::artifacts::names::{CONFUSION_PLOT, PRECISION_RECALL_PLOT, ROC_PLOT, SCORES_PLOT};
use crate::artifacts::RunFolder;
use crate::data::{Series, WindowIndex};
use crate::metrics::{Evaluation, Span, Threshold, ThresholdChoice};
use crate::models::{Arch, Objective};
use crate::params::Weights;
use crate::plot;
use crate::train::job::JobSettings;
use crate::train::{Engine, EpochRecord, History, Windows};
use crate::{Error, Result};

/// The threshold the run uses and the alternatives reported beside it, all from the
/// validation scores: the rule asked for, or by default F1-optimal on labels (supervised) and
/// POT (unsupervised). POT falls back to the percentile, with a note, when the validation
/// tail is too short to fit; the third value is that note.
pub fn choose_threshold(
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
    engine.model_outputs(params, w, &ids, 1024, &mut out);
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

/// The per-epoch curves `training_history.png` draws.
pub fn history_curves(history: &History, best: Option<usize>) -> plot::HistoryCurves {
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
