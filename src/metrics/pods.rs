//! Detections broken down by pod: where the anomalies were, and which pods the detector
//! flagged, caught or missed. One row per pod, sorted by name.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{check_inputs, ratio};
use crate::{Error, Result};

/// Detection counts for the windows of one pod at one threshold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PodDetections {
    pub pod: String,
    /// Windows scored.
    pub windows: u64,
    /// Windows labelled anomalous.
    pub anomalies: u64,
    /// Windows flagged (`score >= threshold`).
    pub detections: u64,
    pub true_positives: u64,
    pub false_positives: u64,
    pub false_negatives: u64,
    /// Of this pod's anomalies, the fraction flagged (0 when it has none).
    pub recall: f64,
    /// The pod's highest score.
    pub max_score: f64,
}

/// Per-pod detections: `pods[i]` names the pod of window `i`, which has `labels[i]` and
/// `scores[i]`. Errors as the other metrics, plus `pods` not matching in length.
pub fn per_pod_detections<P: AsRef<str>, S: Copy + Into<f64>>(
    pods: &[P],
    labels: &[u8],
    scores: &[S],
    threshold: f64,
) -> Result<Vec<PodDetections>> {
    check_inputs(labels, scores)?;
    if pods.len() != labels.len() {
        return Err(Error::data(format!(
            "per-pod detections: {} pod names but {} scored windows",
            pods.len(),
            labels.len()
        )));
    }
    let mut by_pod: BTreeMap<&str, PodDetections> = BTreeMap::new();
    for ((pod, &y), &s) in pods.iter().zip(labels).zip(scores) {
        let s: f64 = s.into();
        let row = by_pod.entry(pod.as_ref()).or_insert_with(|| PodDetections {
            pod: pod.as_ref().to_owned(),
            windows: 0,
            anomalies: 0,
            detections: 0,
            true_positives: 0,
            false_positives: 0,
            false_negatives: 0,
            recall: 0.0,
            max_score: f64::NEG_INFINITY,
        });
        let (anomaly, flagged) = (y == 1, s >= threshold);
        row.windows += 1;
        row.anomalies += u64::from(anomaly);
        row.detections += u64::from(flagged);
        row.true_positives += u64::from(anomaly && flagged);
        row.false_positives += u64::from(!anomaly && flagged);
        row.false_negatives += u64::from(anomaly && !flagged);
        row.max_score = row.max_score.max(s);
    }
    Ok(by_pod
        .into_values()
        .map(|mut row| {
            row.recall = ratio(row.true_positives, row.anomalies);
            row
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_pod() {
        let pods = ["web-1", "db-0", "web-1", "db-0"];
        let rows = per_pod_detections(&pods, &[1, 0, 0, 1], &[0.9f32, 0.7, 0.1, 0.2], 0.5).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].pod, "db-0");
        assert_eq!((rows[0].detections, rows[0].false_positives, rows[0].false_negatives), (1, 1, 1));
        assert_eq!(rows[0].recall, 0.0);
        assert_eq!((rows[1].pod.as_str(), rows[1].true_positives, rows[1].recall), ("web-1", 1, 1.0));
        assert!((rows[1].max_score - 0.9f32 as f64).abs() == 0.0);
        assert!(per_pod_detections(&pods[..3], &[1, 0, 0, 1], &[0.9f32, 0.7, 0.1, 0.2], 0.5).is_err());
    }
}
