//! The confusion matrix at one threshold and the ratios read from it.
//!
//! ```text
//! prediction = score >= threshold
//!                 predicted 0   predicted 1
//! true 0 (normal)     TN            FP
//! true 1 (anomaly)    FN            TP          (scikit-learn's [[tn, fp], [fn, tp]])
//!
//! accuracy = (TP + TN) / n    precision = TP / (TP + FP)    recall = TP / (TP + FN)
//! F1 = 2 TP / (2 TP + FP + FN)
//! ```
//!
//! Every 0/0 is 0.0 (scikit-learn's `zero_division` default), including the accuracy of
//! an empty input, so the numbers are always finite and serialise as numbers.

use serde::{Deserialize, Serialize};

use super::{check_inputs, ratio};
use crate::{Error, Result};

/// Counts of a binary prediction against the truth; class 1 (anomaly) is positive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    pub true_negatives: u64,
    pub false_positives: u64,
    pub false_negatives: u64,
    pub true_positives: u64,
}

impl ConfusionMatrix {
    /// scikit-learn's layout `[[tn, fp], [fn, tp]]`: row = true class, column = predicted.
    pub fn as_array(&self) -> [[u64; 2]; 2] {
        [[self.true_negatives, self.false_positives], [self.false_negatives, self.true_positives]]
    }

    /// All samples.
    pub fn total(&self) -> u64 {
        self.true_negatives + self.false_positives + self.false_negatives + self.true_positives
    }

    /// Samples whose true class is anomaly.
    pub fn positives(&self) -> u64 {
        self.true_positives + self.false_negatives
    }

    /// Samples whose true class is normal.
    pub fn negatives(&self) -> u64 {
        self.true_negatives + self.false_positives
    }

    pub fn accuracy(&self) -> f64 {
        ratio(self.true_positives + self.true_negatives, self.total())
    }

    /// Of the samples flagged anomalous, the fraction that are.
    pub fn precision(&self) -> f64 {
        ratio(self.true_positives, self.true_positives + self.false_positives)
    }

    /// Of the anomalies, the fraction flagged.
    pub fn recall(&self) -> f64 {
        ratio(self.true_positives, self.positives())
    }

    pub fn f1(&self) -> f64 {
        ratio(2 * self.true_positives, 2 * self.true_positives + self.false_positives + self.false_negatives)
    }
}

/// The confusion matrix of `score >= threshold` against `labels`. `threshold` may be ±inf
/// (+inf flags nothing) but not NaN.
pub fn confusion_matrix<S: Copy + Into<f64>>(labels: &[u8], scores: &[S], threshold: f64) -> Result<ConfusionMatrix> {
    check_inputs(labels, scores)?;
    if threshold.is_nan() {
        return Err(Error::data("confusion matrix: the threshold is NaN"));
    }
    let mut cm = ConfusionMatrix::default();
    for (&y, &s) in labels.iter().zip(scores) {
        let cell = match (y == 1, s.into() >= threshold) {
            (false, false) => &mut cm.true_negatives,
            (false, true) => &mut cm.false_positives,
            (true, false) => &mut cm.false_negatives,
            (true, true) => &mut cm.true_positives,
        };
        *cell += 1;
    }
    Ok(cm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_is_inclusive() {
        let cm = confusion_matrix(&[0, 1, 1, 0], &[0.5f32, 0.5, 0.2, 0.1], 0.5).unwrap();
        assert_eq!(cm.as_array(), [[1, 1], [1, 1]]);
        assert_eq!((cm.accuracy(), cm.precision(), cm.recall(), cm.f1()), (0.5, 0.5, 0.5, 0.5));
    }

    #[test]
    fn zero_denominators_are_zero() {
        let cm = confusion_matrix::<f64>(&[], &[], 0.5).unwrap();
        assert_eq!((cm.accuracy(), cm.precision(), cm.recall(), cm.f1()), (0.0, 0.0, 0.0, 0.0));
        let cm = confusion_matrix(&[1, 0], &[0.1f64, 0.2], f64::INFINITY).unwrap();
        assert_eq!(cm.as_array(), [[1, 0], [1, 0]]);
        assert_eq!(cm.precision(), 0.0);
        assert!(confusion_matrix(&[1], &[0.1f64], f64::NAN).is_err());
    }
}
