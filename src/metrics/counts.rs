//! True- and false-positive counts at every distinct score: scikit-learn's
//! `_binary_clf_curve`, the one sort every curve is read from.
//!
//! Sorting the (score, label) pairs by descending score and walking them once gives, at the
//! last element of each run of equal scores, `TP_k` and `FP_k` for threshold `s_k`. Ties
//! are handled by construction: all samples with score `s_k` flip to positive together.

use serde::{Deserialize, Serialize};

use super::check_inputs;
use crate::Result;

/// Confusion counts at every distinct score, thresholds descending.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThresholdCounts {
    /// Distinct scores, strictly descending. (D)
    pub thresholds: Vec<f64>,
    /// `tps[k]` = anomalies with score `>= thresholds[k]`. (D), non-decreasing
    pub tps: Vec<u64>,
    /// `fps[k]` = normal samples with score `>= thresholds[k]`. (D), non-decreasing
    pub fps: Vec<u64>,
    /// Number of anomalies (label 1).
    pub positives: u64,
    /// Number of normal samples (label 0).
    pub negatives: u64,
}

impl ThresholdCounts {
    /// Counts for `labels` (0/1) and finite `scores` of the same length. O(n log n).
    pub fn new<S: Copy + Into<f64>>(labels: &[u8], scores: &[S]) -> Result<Self> {
        check_inputs(labels, scores)?;
        // (n,) pairs sorted by descending score; equal scores end up adjacent.
        let mut pairs: Vec<(f64, u8)> = scores.iter().zip(labels).map(|(&s, &y)| (s.into(), y)).collect();
        pairs.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));

        let mut counts =
            ThresholdCounts { thresholds: Vec::new(), tps: Vec::new(), fps: Vec::new(), positives: 0, negatives: 0 };
        let (mut tp, mut fp) = (0u64, 0u64);
        for (i, &(score, label)) in pairs.iter().enumerate() {
            if label == 1 {
                tp += 1;
            } else {
                fp += 1;
            }
            // `!=`, not `total_cmp`: -0.0 and 0.0 are one threshold.
            let last_of_run = pairs.get(i + 1).is_none_or(|next| next.0 != score);
            if last_of_run {
                counts.thresholds.push(score);
                counts.tps.push(tp);
                counts.fps.push(fp);
            }
        }
        counts.positives = tp;
        counts.negatives = fp;
        Ok(counts)
    }

    /// Number of distinct thresholds `D`.
    pub fn len(&self) -> usize {
        self.thresholds.len()
    }

    /// True for empty input.
    pub fn is_empty(&self) -> bool {
        self.thresholds.is_empty()
    }

    /// Number of samples.
    pub fn samples(&self) -> u64 {
        self.positives + self.negatives
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_flip_together() {
        let c = ThresholdCounts::new(&[1, 0, 1, 0, 0], &[0.9f64, 0.5, 0.5, 0.1, 0.5]).unwrap();
        assert_eq!(c.thresholds, vec![0.9, 0.5, 0.1]);
        assert_eq!(c.tps, vec![1, 2, 2]);
        assert_eq!(c.fps, vec![0, 2, 3]);
        assert_eq!((c.positives, c.negatives), (2, 3));
    }

    #[test]
    fn empty_input_has_no_thresholds() {
        let c = ThresholdCounts::new::<f32>(&[], &[]).unwrap();
        assert!(c.is_empty());
        assert_eq!(c.samples(), 0);
    }

    #[test]
    fn signed_zeros_are_one_threshold() {
        let c = ThresholdCounts::new(&[1, 0], &[0.0f64, -0.0]).unwrap();
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(ThresholdCounts::new(&[1, 0], &[0.5f32]).is_err());
        assert!(ThresholdCounts::new(&[2], &[0.5f32]).is_err());
        let err = ThresholdCounts::new(&[1, 0], &[0.5f32, f32::NAN]).unwrap_err();
        assert!(err.to_string().contains("scores[1] is NaN"), "{err}");
        assert!(ThresholdCounts::new(&[1], &[f64::INFINITY]).is_err());
    }
}
