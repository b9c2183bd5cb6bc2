//! Precision-recall curve and average precision: scikit-learn's `precision_recall_curve`
//! and `average_precision_score`.
//!
//! ```text
//! precision_k = TP_k / (TP_k + FP_k)      recall_k = TP_k / P
//! AP = −Σ_j (recall_{j+1} − recall_j) · precision_j      (over the stored order)
//! ```
//!
//! Stored in scikit-learn's order: thresholds *ascending* (every distinct score), and one
//! extra final point with precision 1, recall 0 and no threshold, so `precision` and
//! `recall` are one longer than `thresholds`. Average precision is the step-wise sum, not
//! an interpolation; the original project's "PR-AUC" is instead the trapezoid
//! `auc(recall, precision)` ([`PrecisionRecallCurve::auc_trapezoid`]), which is optimistic
//! on step curves, so both are reported. With no anomalies recall is 0/0: scikit-learn
//! sets it to 1 (and warns), and so does this; AP and the trapezoid area are then `None`.

use serde::{Deserialize, Serialize};

use super::auc::trapezoid;
use super::{ratio, ThresholdCounts};
use crate::Result;

/// A precision-recall curve, thresholds ascending, plus the final (recall 0, precision 1)
/// point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrecisionRecallCurve {
    /// (D + 1)
    pub precision: Vec<f64>,
    /// (D + 1), non-increasing
    pub recall: Vec<f64>,
    /// (D) distinct scores, ascending
    pub thresholds: Vec<f64>,
    /// Number of anomalies the curve was computed on (0 makes AP undefined).
    pub positives: u64,
}

impl PrecisionRecallCurve {
    /// The curve from precomputed counts (no re-sort).
    pub fn from_counts(counts: &ThresholdCounts) -> Self {
        let d = counts.len();
        let mut curve = PrecisionRecallCurve {
            precision: Vec::with_capacity(d + 1),
            recall: Vec::with_capacity(d + 1),
            thresholds: Vec::with_capacity(d),
            positives: counts.positives,
        };
        for k in (0..d).rev() {
            let (tp, fp) = (counts.tps[k], counts.fps[k]);
            curve.precision.push(ratio(tp, tp + fp));
            curve.recall.push(if counts.positives == 0 { 1.0 } else { tp as f64 / counts.positives as f64 });
            curve.thresholds.push(counts.thresholds[k]);
        }
        curve.precision.push(1.0);
        curve.recall.push(0.0);
        curve
    }

    /// Average precision (step-wise); `None` when there are no anomalies.
    pub fn average_precision(&self) -> Option<f64> {
        (self.positives > 0)
            .then(|| -self.recall.windows(2).zip(&self.precision).map(|(r, p)| (r[1] - r[0]) * p).sum::<f64>())
    }

    /// The original project's PR-AUC, `auc(recall, precision)` by trapezoids; `None` when
    /// there are no anomalies.
    pub fn auc_trapezoid(&self) -> Option<f64> {
        // Recall decreases along the stored order, so the signed area is negated.
        (self.positives > 0).then(|| -trapezoid(&self.recall, &self.precision))
    }
}

/// The precision-recall curve of `scores` against `labels` (see the module docs).
/// O(n log n).
pub fn precision_recall_curve<S: Copy + Into<f64>>(labels: &[u8], scores: &[S]) -> Result<PrecisionRecallCurve> {
    Ok(PrecisionRecallCurve::from_counts(&ThresholdCounts::new(labels, scores)?))
}

/// Average precision (`average_precision_score`); `Ok(None)` when there are no anomalies.
pub fn average_precision<S: Copy + Into<f64>>(labels: &[u8], scores: &[S]) -> Result<Option<f64>> {
    Ok(precision_recall_curve(labels, scores)?.average_precision())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_scikit_learn() {
        // sklearn: precision_recall_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
        //   precision [0.5, 0.66666667, 0.5, 1., 1.], recall [1., 1., 0.5, 0.5, 0.],
        //   thresholds [0.1, 0.35, 0.4, 0.8]; average_precision_score = 0.8333333333333333
        let curve = precision_recall_curve(&[0, 0, 1, 1], &[0.1f64, 0.4, 0.35, 0.8]).unwrap();
        assert_eq!(curve.precision, vec![0.5, 2.0 / 3.0, 0.5, 1.0, 1.0]);
        assert_eq!(curve.recall, vec![1.0, 1.0, 0.5, 0.5, 0.0]);
        assert_eq!(curve.thresholds, vec![0.1, 0.35, 0.4, 0.8]);
        assert!((curve.average_precision().unwrap() - 0.8333333333333333).abs() < 1e-15);
    }

    #[test]
    fn no_anomalies_gives_unit_recall_and_no_ap() {
        let curve = precision_recall_curve(&[0, 0], &[0.1f32, 0.2]).unwrap();
        assert_eq!(curve.recall, vec![1.0, 1.0, 0.0]);
        assert_eq!(curve.precision, vec![0.0, 0.0, 1.0]);
        assert_eq!(curve.average_precision(), None);
        assert_eq!(curve.auc_trapezoid(), None);
    }

    #[test]
    fn empty_input_is_the_end_point_only() {
        let curve = precision_recall_curve::<f32>(&[], &[]).unwrap();
        assert_eq!((curve.precision, curve.recall), (vec![1.0], vec![0.0]));
        assert!(curve.thresholds.is_empty());
    }
}
