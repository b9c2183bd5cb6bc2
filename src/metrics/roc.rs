//! Receiver operating characteristic: scikit-learn's `roc_curve` (default
//! `drop_intermediate=True`) and `roc_auc_score`.
//!
//! ```text
//! point k = (FPR_k, TPR_k) = (FP_k / N, TP_k / P)     thresholds descending
//! ```
//!
//! A point is dropped, as scikit-learn does, when the FP and TP counts change by the same
//! amounts just before and just after it (both second differences zero): it then lies
//! midway on the segment between its neighbours and adds nothing to the area or the plot,
//! so runs of equal steps collapse. The curve starts at (0, 0) with threshold +inf
//! ("predict nothing anomalous"). With no negatives FPR is undefined and every FPR is
//! NaN; with no positives every TPR is NaN (scikit-learn warns and does the same).
//! ROC-AUC is the trapezoid area under the kept points, `None` unless both classes are
//! present.

use serde::{Deserialize, Serialize};

use super::auc::trapezoid;
use super::serde_float::{null_is_inf, null_is_nan};
use super::ThresholdCounts;
use crate::Result;

/// A ROC curve. All three vectors have the same length; `thresholds[0]` is +inf.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RocCurve {
    /// False-positive rate, non-decreasing; NaN everywhere when there are no negatives.
    #[serde(with = "null_is_nan")]
    pub fpr: Vec<f64>,
    /// True-positive rate, non-decreasing; NaN everywhere when there are no positives.
    #[serde(with = "null_is_nan")]
    pub tpr: Vec<f64>,
    /// Descending; the first is +inf (written as `null` in JSON).
    #[serde(with = "null_is_inf")]
    pub thresholds: Vec<f64>,
}

impl RocCurve {
    /// The curve from precomputed counts (no re-sort).
    pub fn from_counts(counts: &ThresholdCounts) -> Self {
        let d = counts.len();
        let (tps, fps) = (&counts.tps, &counts.fps);
        // Indices of the corners: the ends, and every point where the curve bends.
        let second_diff = |v: &[u64], k: usize| v[k + 1] as i128 - 2 * v[k] as i128 + v[k - 1] as i128;
        let keep: Vec<usize> = if d > 2 {
            (0..d).filter(|&k| k == 0 || k == d - 1 || second_diff(fps, k) != 0 || second_diff(tps, k) != 0).collect()
        } else {
            (0..d).collect()
        };

        let rate = |count: u64, total: u64| if total == 0 { f64::NAN } else { count as f64 / total as f64 };
        let mut curve = RocCurve {
            fpr: Vec::with_capacity(keep.len() + 1),
            tpr: Vec::with_capacity(keep.len() + 1),
            thresholds: Vec::with_capacity(keep.len() + 1),
        };
        curve.fpr.push(rate(0, counts.negatives));
        curve.tpr.push(rate(0, counts.positives));
        curve.thresholds.push(f64::INFINITY);
        for k in keep {
            curve.fpr.push(rate(fps[k], counts.negatives));
            curve.tpr.push(rate(tps[k], counts.positives));
            curve.thresholds.push(counts.thresholds[k]);
        }
        curve
    }

    /// Trapezoid area under the curve; `None` when a class is missing (a rate is NaN).
    pub fn auc(&self) -> Option<f64> {
        let defined = self.fpr.len() >= 2 && self.fpr.iter().chain(&self.tpr).all(|v| v.is_finite());
        defined.then(|| trapezoid(&self.fpr, &self.tpr))
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.thresholds.len()
    }

    /// Never true for a curve built here (it always has the +inf point); for completeness.
    pub fn is_empty(&self) -> bool {
        self.thresholds.is_empty()
    }
}

/// The ROC curve of `scores` against `labels` (see the module docs). O(n log n).
pub fn roc_curve<S: Copy + Into<f64>>(labels: &[u8], scores: &[S]) -> Result<RocCurve> {
    Ok(RocCurve::from_counts(&ThresholdCounts::new(labels, scores)?))
}

/// ROC-AUC (`roc_auc_score`): the probability that a random anomaly scores above a random
/// normal sample, ties counted half. `Ok(None)` when only one class is present.
pub fn roc_auc<S: Copy + Into<f64>>(labels: &[u8], scores: &[S]) -> Result<Option<f64>> {
    Ok(roc_curve(labels, scores)?.auc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collinear_points_are_dropped() {
        // Four positives above four negatives: the corners (0,0), (0,1), (1,1) remain.
        let curve = roc_curve(&[1, 1, 1, 1, 0, 0, 0, 0], &[8.0f64, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0]).unwrap();
        assert_eq!(curve.fpr, vec![0.0, 0.0, 0.0, 1.0]);
        assert_eq!(curve.tpr, vec![0.0, 0.25, 1.0, 1.0]);
        assert_eq!(curve.thresholds, vec![f64::INFINITY, 8.0, 5.0, 1.0]);
        assert_eq!(curve.auc(), Some(1.0));
    }

    #[test]
    fn one_class_gives_nan_rates_and_no_auc() {
        let curve = roc_curve(&[1, 1], &[0.2f32, 0.3]).unwrap();
        assert!(curve.fpr.iter().all(|v| v.is_nan()));
        assert_eq!(curve.tpr, vec![0.0, 0.5, 1.0]);
        assert_eq!(curve.auc(), None);
        assert_eq!(roc_auc(&[0, 0], &[0.2f32, 0.3]).unwrap(), None);
    }

    #[test]
    fn empty_input_is_one_undefined_point() {
        let curve = roc_curve::<f64>(&[], &[]).unwrap();
        assert_eq!(curve.thresholds, vec![f64::INFINITY]);
        assert!(curve.fpr[0].is_nan() && curve.tpr[0].is_nan());
        assert_eq!(curve.auc(), None);
    }

    #[test]
    fn json_round_trip_keeps_infinity_and_nan() {
        let curve = roc_curve(&[1, 1], &[0.2f64, 0.3]).unwrap();
        let json = serde_json::to_string(&curve).unwrap();
        assert!(json.starts_with(r#"{"fpr":[null,null,null],"tpr":[0.0,0.5,1.0],"thresholds":[null,"#), "{json}");
        let back: RocCurve = serde_json::from_str(&json).unwrap();
        assert_eq!(back.thresholds, curve.thresholds);
        assert!(back.fpr.iter().all(|v| v.is_nan()));
    }
}
