//! Everything measured on one labelled split, in one serialisable record: the trainer writes
//! it to `evaluation.json` and reads the summary numbers from it, so the report and the
//! JSON cannot disagree.
//!
//! Thresholds come in already chosen (on the validation split); this only applies them.

use serde::{Deserialize, Serialize};

use super::{
    per_pod_detections, ClassificationReport, ConfusionMatrix, PodDetections, PrecisionRecallCurve, RocCurve,
    Threshold, ThresholdCounts,
};
use crate::{Error, Result};

/// The metrics at one threshold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThresholdEvaluation {
    pub threshold: Threshold,
    pub confusion_matrix: ConfusionMatrix,
    pub accuracy: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub report: ClassificationReport,
}

impl ThresholdEvaluation {
    /// From the confusion counts at `threshold`.
    pub fn new(threshold: Threshold, confusion_matrix: ConfusionMatrix) -> Self {
        ThresholdEvaluation {
            threshold,
            accuracy: confusion_matrix.accuracy(),
            precision: confusion_matrix.precision(),
            recall: confusion_matrix.recall(),
            f1: confusion_matrix.f1(),
            report: ClassificationReport::from_confusion(&confusion_matrix),
            confusion_matrix,
        }
    }

    /// Read from the threshold counts instead of rescanning the scores: the predicted
    /// positives at `t` are the samples of the lowest distinct score still `>= t`.
    fn from_counts(threshold: Threshold, counts: &ThresholdCounts) -> Self {
        // thresholds are descending: the number of distinct scores >= t.
        let k = counts.thresholds.partition_point(|&s| s >= threshold.value);
        let (tp, fp) = if k == 0 { (0, 0) } else { (counts.tps[k - 1], counts.fps[k - 1]) };
        let cm = ConfusionMatrix {
            true_negatives: counts.negatives - fp,
            false_positives: fp,
            false_negatives: counts.positives - tp,
            true_positives: tp,
        };
        Self::new(threshold, cm)
    }
}

/// The evaluation of scores against labels on one split (meant: the test split).
///
/// `roc_auc`, `average_precision` and `pr_auc` are `None` (JSON `null`) when undefined:
/// one class only, or no anomaly. Curves are stored in full (the ROC curve without its
/// collinear points); see [`RocCurve`] and [`PrecisionRecallCurve`] for their layout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub samples: u64,
    /// Samples labelled anomalous.
    pub positives: u64,
    /// Samples labelled normal.
    pub negatives: u64,
    pub roc_auc: Option<f64>,
    /// Step-wise average precision (scikit-learn's `average_precision_score`).
    pub average_precision: Option<f64>,
    /// Trapezoid area under the precision-recall curve, the original project's "PR-AUC".
    pub pr_auc: Option<f64>,
    /// The metrics at the chosen threshold.
    pub chosen: ThresholdEvaluation,
    /// The metrics at the other candidate thresholds, for comparison (e.g. percentile when
    /// F1-optimal was chosen).
    pub alternatives: Vec<ThresholdEvaluation>,
    pub roc: RocCurve,
    pub precision_recall: PrecisionRecallCurve,
    /// Detections per pod at the chosen threshold; empty unless [`Evaluation::with_pods`]
    /// was called (then left out of the JSON).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub per_pod: Vec<PodDetections>,
}

impl Evaluation {
    /// Evaluates `scores` against `labels` at the `chosen` threshold and at each of
    /// `alternatives`. One sort of the scores: O(n log n). Errors as
    /// [`ThresholdCounts::new`], or a NaN threshold.
    pub fn new<S: Copy + Into<f64>>(
        labels: &[u8],
        scores: &[S],
        chosen: Threshold,
        alternatives: &[Threshold],
    ) -> Result<Self> {
        if let Some(t) = std::iter::once(&chosen).chain(alternatives).find(|t| t.value.is_nan()) {
            return Err(Error::data(format!("evaluation: threshold {:?} is NaN", t.rule)));
        }
        let counts = ThresholdCounts::new(labels, scores)?;
        let roc = RocCurve::from_counts(&counts);
        let precision_recall = PrecisionRecallCurve::from_counts(&counts);
        Ok(Evaluation {
            samples: counts.samples(),
            positives: counts.positives,
            negatives: counts.negatives,
            roc_auc: roc.auc(),
            average_precision: precision_recall.average_precision(),
            pr_auc: precision_recall.auc_trapezoid(),
            chosen: ThresholdEvaluation::from_counts(chosen, &counts),
            alternatives: alternatives.iter().map(|&t| ThresholdEvaluation::from_counts(t, &counts)).collect(),
            roc,
            precision_recall,
            per_pod: Vec::new(),
        })
    }

    /// Adds the per-pod breakdown at the chosen threshold; `pods[i]` is the pod of sample
    /// `i` (the same `labels` and `scores` as given to [`Evaluation::new`]).
    pub fn with_pods<P: AsRef<str>, S: Copy + Into<f64>>(
        mut self,
        pods: &[P],
        labels: &[u8],
        scores: &[S],
    ) -> Result<Self> {
        if labels.len() as u64 != self.samples {
            return Err(Error::data(format!(
                "per-pod detections: {} samples given but the evaluation has {}",
                labels.len(),
                self.samples
            )));
        }
        self.per_pod = per_pod_detections(pods, labels, scores, self.chosen.threshold.value)?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::super::confusion_matrix;
    use super::*;

    #[test]
    fn counts_agree_with_a_direct_scan() {
        let labels = [1, 0, 0, 1, 1, 0, 0, 1];
        let scores = [0.9f32, 0.4, 0.4, 0.4, 0.8, 0.1, 0.95, 0.05];
        for value in [f64::NEG_INFINITY, 0.0, 0.05, 0.1, 0.3, 0.4, 0.5, 0.9, 0.95, 1.0, f64::INFINITY] {
            let t = Threshold::fixed(value).unwrap();
            let e = Evaluation::new(&labels, &scores, t, &[]).unwrap();
            assert_eq!(e.chosen.confusion_matrix, confusion_matrix(&labels, &scores, value).unwrap(), "t={value}");
        }
    }

    #[test]
    fn json_round_trip() {
        let labels = [1, 0, 0, 1];
        let scores = [0.9f64, 0.4, 0.2, 0.3];
        let e = Evaluation::new(&labels, &scores, Threshold::fixed(0.3).unwrap(), &[])
            .unwrap()
            .with_pods(&["a", "b", "a", "b"], &labels, &scores)
            .unwrap();
        let json = serde_json::to_string_pretty(&e).unwrap();
        let back: Evaluation = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn one_class_evaluates_without_aucs() {
        let e = Evaluation::new(&[0, 0, 0], &[0.1f32, 0.5, 0.2], Threshold::fixed(0.3).unwrap(), &[]).unwrap();
        assert_eq!((e.roc_auc, e.average_precision, e.pr_auc), (None, None, None));
        assert_eq!(e.chosen.confusion_matrix.false_positives, 1);
        let e = Evaluation::new::<f32>(&[], &[], Threshold::fixed(0.3).unwrap(), &[]).unwrap();
        assert_eq!(e.samples, 0);
        assert!(serde_json::to_string(&e).is_ok());
    }
}
