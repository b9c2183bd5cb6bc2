//! Choosing the decision threshold: F1 at every precision-recall threshold, the F1-optimal
//! threshold, and the [`Threshold`] record that says how a threshold was chosen.
//!
//! ```text
//! F1_k = 2 TP_k / (2 TP_k + FP_k + FN_k),   FN_k = P − TP_k,   prediction = score >= s_k
//! best = argmax_k F1_k over thresholds ascending, the first (lowest threshold) on ties
//! ```
//!
//! Thresholds are chosen on the validation split and only then applied to the test split;
//! these functions do not know which split they see, the caller does.

use serde::{Deserialize, Serialize};

use super::{percentile, ratio, ThresholdCounts};
use crate::{Error, Result};

/// F1 of `score >= t` for every `t` in the precision-recall curve's thresholds (ascending,
/// aligned with [`PrecisionRecallCurve::thresholds`](super::PrecisionRecallCurve)).
pub fn f1_at_thresholds<S: Copy + Into<f64>>(labels: &[u8], scores: &[S]) -> Result<Vec<f64>> {
    Ok(f1_from_counts(&ThresholdCounts::new(labels, scores)?))
}

/// [`f1_at_thresholds`] from precomputed counts, thresholds ascending.
pub(crate) fn f1_from_counts(counts: &ThresholdCounts) -> Vec<f64> {
    (0..counts.len())
        .rev()
        .map(|k| {
            let (tp, fp) = (counts.tps[k], counts.fps[k]);
            ratio(2 * tp, tp + fp + counts.positives)
        })
        .collect()
}

/// The threshold with the highest F1 and the scores there.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct F1Optimum {
    pub threshold: f64,
    pub f1: f64,
    pub precision: f64,
    pub recall: f64,
}

/// The F1-optimal threshold among the distinct scores (lowest one on ties). `Ok(None)`
/// when there is no anomaly to find (F1 is 0 at every threshold) or no data.
pub fn f1_optimal_threshold<S: Copy + Into<f64>>(labels: &[u8], scores: &[S]) -> Result<Option<F1Optimum>> {
    let counts = ThresholdCounts::new(labels, scores)?;
    if counts.positives == 0 {
        return Ok(None);
    }
    // Ascending thresholds are descending k; strict `>` keeps the first (lowest) on ties.
    let mut best: Option<(usize, f64)> = None;
    for k in (0..counts.len()).rev() {
        let f1 = ratio(2 * counts.tps[k], counts.tps[k] + counts.fps[k] + counts.positives);
        if best.is_none_or(|(_, b)| f1 > b) {
            best = Some((k, f1));
        }
    }
    Ok(best.map(|(k, f1)| F1Optimum {
        threshold: counts.thresholds[k],
        f1,
        precision: ratio(counts.tps[k], counts.tps[k] + counts.fps[k]),
        recall: ratio(counts.tps[k], counts.positives),
    }))
}

/// The rules `train --threshold-rule` chooses from (see [`ThresholdRule`]).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ThresholdChoice {
    F1Optimal,
    Pot,
    Percentile,
}

/// How a threshold was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum ThresholdRule {
    /// The F1-optimal score on labelled data (supervised mode).
    F1Optimal,
    /// The given percentile of the scores: flags that share of the validation windows by
    /// construction, whatever the scores look like.
    Percentile { percentile: f64 },
    /// Peaks over threshold ([`super::pot`]): the score a normal window exceeds with
    /// probability `risk`, from a generalised Pareto fit to the validation scores' tail (the
    /// unsupervised default).
    Pot { risk: f64, initial_threshold: f64, shape_gamma: f64, scale_sigma: f64, excesses: usize },
    /// Given by the user.
    Fixed,
}

impl std::fmt::Display for ThresholdRule {
    /// How the threshold was chosen, in words (the `Debug` form printed `Percentile { percentile: 95.0 }`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ThresholdRule::F1Optimal => f.write_str("F1-optimal"),
            ThresholdRule::Percentile { percentile } => write!(f, "percentile {percentile}"),
            ThresholdRule::Pot { risk, .. } => write!(f, "POT risk {risk:e}"),
            ThresholdRule::Fixed => f.write_str("fixed"),
        }
    }
}

/// A decision threshold (`score >= value` is an anomaly) and how it was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    pub value: f64,
    #[serde(flatten)]
    pub rule: ThresholdRule,
}

impl Threshold {
    /// The F1-optimal threshold on `labels`/`scores` (meant: the validation split). An
    /// [`Error::Data`] when the labels hold no anomaly, since F1 cannot choose then.
    pub fn f1_optimal<S: Copy + Into<f64>>(labels: &[u8], scores: &[S]) -> Result<Self> {
        match f1_optimal_threshold(labels, scores)? {
            Some(best) => Ok(Threshold { value: best.threshold, rule: ThresholdRule::F1Optimal }),
            None => Err(Error::data(format!(
                "cannot choose an F1-optimal threshold: the {} labelled samples contain no anomaly; \
                 use a percentile threshold instead",
                labels.len()
            ))),
        }
    }

    /// The `p`-th percentile (numpy's linear interpolation) of `scores` (meant: the
    /// validation split's scores or reconstruction errors).
    pub fn percentile<S: Copy + Into<f64>>(scores: &[S], p: f64) -> Result<Self> {
        Ok(Threshold { value: percentile(scores, p)?, rule: ThresholdRule::Percentile { percentile: p } })
    }

    /// The peaks-over-threshold threshold of `scores` at `risk` (see [`super::pot`]; meant: the
    /// validation scores of an unsupervised model), from their 98th percentile on.
    pub fn pot(scores: &[f64], risk: f64) -> Result<Self> {
        let fit = super::pot::pot_threshold(scores, risk, 0.98)?;
        Ok(Threshold {
            value: fit.threshold,
            rule: ThresholdRule::Pot {
                risk,
                initial_threshold: fit.initial_threshold,
                shape_gamma: fit.shape_gamma,
                scale_sigma: fit.scale_sigma,
                excesses: fit.excesses,
            },
        })
    }

    /// A threshold given by the user; an error when NaN.
    pub fn fixed(value: f64) -> Result<Self> {
        if value.is_nan() {
            return Err(Error::config("the threshold is NaN"));
        }
        Ok(Threshold { value, rule: ThresholdRule::Fixed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_in_f1_pick_the_lowest_threshold() {
        // Flagging {0.8} gives F1 2·1/(1+0+2) = 2/3, flagging {0.8, 0.6, 0.4, 0.2} gives
        // 2·2/(2+2+2) = 2/3 too; the lower threshold 0.2 comes first ascending.
        let labels = [1, 0, 0, 1, 0];
        let scores = [0.8f64, 0.6, 0.4, 0.2, 0.1];
        let f1 = f1_at_thresholds(&labels, &scores).unwrap();
        assert_eq!(f1.len(), 5);
        let best = f1_optimal_threshold(&labels, &scores).unwrap().unwrap();
        assert_eq!(f1.iter().copied().fold(0.0, f64::max), best.f1);
        assert_eq!(best.threshold, 0.2);
        assert_eq!(best.recall, 1.0);
    }

    #[test]
    fn no_anomalies_means_no_f1_choice() {
        assert_eq!(f1_optimal_threshold(&[0, 0], &[0.1f32, 0.2]).unwrap(), None);
        assert_eq!(f1_optimal_threshold::<f32>(&[], &[]).unwrap(), None);
        let err = Threshold::f1_optimal(&[0, 0], &[0.1f32, 0.2]).unwrap_err();
        assert!(err.to_string().contains("no anomaly"), "{err}");
    }

    #[test]
    fn threshold_json_names_its_rule() {
        let t = Threshold::percentile(&[1.0f64, 2.0, 3.0], 50.0).unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, r#"{"value":2.0,"rule":"percentile","percentile":50.0}"#);
        assert_eq!(serde_json::from_str::<Threshold>(&json).unwrap(), t);
    }
}
