//! Binary-classification metrics for anomaly scores, with scikit-learn's semantics, so the
//! numbers match what the original Python project reported (checked against
//! `tests/fixtures/metrics.json`, computed by scikit-learn 1.9.1, ties included).
//!
//! ## Conventions
//!
//! - Labels are `&[u8]`: `1` = anomaly (the positive class), `0` = normal. Any other value
//!   is an [`Error::Data`].
//! - Scores are `&[S]` with `S: Copy + Into<f64>`: `f32` (what the models emit) or `f64`.
//!   Everything is computed in `f64`; widening an `f32` is exact, so a threshold reported
//!   here is bit-for-bit one of the scores. Higher score = more anomalous. Scores must be
//!   finite (NaN or ±inf is an error, as scikit-learn's input check has it).
//! - The prediction at threshold `t` is `score >= t`, the rule scikit-learn's curves use.
//! - A ratio with a zero denominator (precision when nothing is predicted positive, ...)
//!   is `0.0`, scikit-learn's `zero_division` default. A metric that is undefined as a
//!   whole (ROC-AUC with one class only, average precision with no anomalies) is `None`.
//!
//! ## Equations
//!
//! With the distinct scores sorted descending `s_1 > s_2 > ... > s_D` and
//! `TP_k = #{i : y_i = 1, x_i >= s_k}`, `FP_k = #{i : y_i = 0, x_i >= s_k}`,
//! `P = #positives`, `N = #negatives`:
//!
//! ```text
//! ROC point k        (FP_k / N, TP_k / P), after (0, 0) at threshold +inf
//! precision_k        TP_k / (TP_k + FP_k)
//! recall_k           TP_k / P
//! average precision  Σ_k (R_k − R_{k−1}) P_k           (step-wise, R_0 = 0)
//! trapezoid auc      Σ_j (x_{j+1} − x_j) (y_{j+1} + y_j) / 2
//! F1                 2 TP / (2 TP + FP + FN)
//! ```
//!
//! All curves come from one sort of the scores ([`ThresholdCounts`]): O(n log n).

mod auc;
mod confusion;
mod counts;
mod evaluation;
mod events;
mod percentile;
mod pods;
mod pot;
mod precision_recall;
mod report;
mod roc;
mod serde_float;
mod threshold;

pub use auc::auc;
pub use confusion::{confusion_matrix, ConfusionMatrix};
pub use counts::ThresholdCounts;
pub use evaluation::{Evaluation, ThresholdEvaluation};
pub use events::{event_metrics, label_segments, EventMetrics, PodEvents, Span};
pub use percentile::percentile;
pub use pods::{per_pod_detections, PodDetections};
pub use pot::{fit_gpd, gpd_log_likelihood, pot_threshold, PotFit, MIN_EXCESSES};
pub use precision_recall::{average_precision, precision_recall_curve, PrecisionRecallCurve};
pub use report::{ClassMetrics, ClassificationReport};
pub use roc::{roc_auc, roc_curve, RocCurve};
pub use threshold::{f1_at_thresholds, f1_optimal_threshold, F1Optimum, Threshold, ThresholdChoice, ThresholdRule};

use crate::{Error, Result};

/// Checks that `labels` and `scores` pair up, labels are 0/1 and scores are finite.
pub(crate) fn check_inputs<S: Copy + Into<f64>>(labels: &[u8], scores: &[S]) -> Result<()> {
    if labels.len() != scores.len() {
        return Err(Error::data(format!(
            "metrics: {} labels but {} scores; they must pair up one to one",
            labels.len(),
            scores.len()
        )));
    }
    if let Some(i) = labels.iter().position(|&y| y > 1) {
        return Err(Error::data(format!(
            "metrics: labels[{i}] is {}; labels must be 0 (normal) or 1 (anomaly)",
            labels[i]
        )));
    }
    check_finite(scores, "scores")
}

/// Checks that every value is finite; `what` names the slice in the message.
pub(crate) fn check_finite<S: Copy + Into<f64>>(values: &[S], what: &str) -> Result<()> {
    match values.iter().position(|&s| !s.into().is_finite()) {
        Some(i) => {
            Err(Error::data(format!("metrics: {what}[{i}] is {}; scores must be finite numbers", values[i].into())))
        }
        None => Ok(()),
    }
}

/// `num / den`, or 0.0 when `den` is 0 (scikit-learn's `zero_division` default).
pub(crate) fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}
