//! Event-level metrics: how the incidents a detector raises line up with the labelled
//! anomalous segments, next to the point-wise (per-window) metrics.
//!
//! ```text
//! segment      maximal run of label-1 rows of one pod: [start, end], inclusive timestamps
//! incident     [start, end] of one pod (see crate::detect::incidents)
//! overlap      same pod and incident.start <= segment.end && segment.start <= incident.end
//! found        a segment some incident overlaps
//! precision    incidents overlapping a segment / incidents
//! recall       segments found / segments
//! delay        max(0, first overlapping incident's start − segment.start), over found segments
//! false rate   incidents overlapping no segment / pod-days observed
//! ```
//!
//! An incident spanning two segments finds both and counts once for precision; an incident
//! open before a segment starts (a precursor) has delay 0. Precision is `None` without
//! incidents, recall and the delays `None` without segments (or none found), the false rate
//! `None` when the data has no time column or no time span.

use serde::{Deserialize, Serialize};

/// An inclusive `[start, end]` span of timestamps (epoch seconds, or row indices).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub start: i64,
    pub end: i64,
}

impl Span {
    pub fn new(start: i64, end: i64) -> Span {
        Span { start, end }
    }
    fn overlaps(&self, other: &Span) -> bool {
        self.start <= other.end && other.start <= self.end
    }
}

/// One pod's labelled segments and incidents, each in time order.
#[derive(Clone, Debug, Default)]
pub struct PodEvents {
    pub segments: Vec<Span>,
    pub incidents: Vec<Span>,
}

/// The event-level metrics over all pods.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventMetrics {
    pub segments: usize,
    pub segments_found: usize,
    pub incidents: usize,
    /// Incidents that overlap at least one segment.
    pub true_incidents: usize,
    pub false_incidents: usize,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    /// Detection delay over found segments, in the timestamps' unit (seconds, or rows).
    pub mean_delay: Option<f64>,
    pub median_delay: Option<f64>,
    /// Time observed, summed over pods, in days (`None` without a time column).
    pub pod_days: Option<f64>,
    pub false_incidents_per_pod_day: Option<f64>,
}

/// Maximal runs of label-1 rows as spans of `timestamps (R,)`, `labels (R,)` 0/1.
pub fn label_segments(timestamps: &[i64], labels: &[u8]) -> Vec<Span> {
    let mut out = Vec::new();
    let mut open: Option<Span> = None;
    for (&t, &y) in timestamps.iter().zip(labels) {
        match (&mut open, y == 1) {
            (Some(s), true) => s.end = t,
            (None, true) => open = Some(Span::new(t, t)),
            (Some(_), false) => out.extend(open.take()),
            (None, false) => {}
        }
    }
    out.extend(open);
    out
}

/// The metrics of `pods`; `pod_days` is the observed time (see [`EventMetrics::pod_days`]).
pub fn event_metrics(pods: &[PodEvents], pod_days: Option<f64>) -> EventMetrics {
    let (mut segments, mut found, mut incidents, mut true_incidents) = (0, 0, 0, 0);
    let mut delays = Vec::new();
    for pod in pods {
        segments += pod.segments.len();
        incidents += pod.incidents.len();
        true_incidents += pod.incidents.iter().filter(|i| pod.segments.iter().any(|s| s.overlaps(i))).count();
        for s in &pod.segments {
            // The first overlapping incident: the earliest start among those that overlap.
            if let Some(first) = pod.incidents.iter().filter(|i| i.overlaps(s)).map(|i| i.start).min() {
                found += 1;
                delays.push((first - s.start).max(0) as f64);
            }
        }
    }
    let false_incidents = incidents - true_incidents;
    let pod_days = pod_days.filter(|d| *d > 0.0);
    delays.sort_by(f64::total_cmp);
    let median = match delays.len() {
        0 => None,
        n if n % 2 == 1 => Some(delays[n / 2]),
        n => Some((delays[n / 2 - 1] + delays[n / 2]) / 2.0),
    };
    EventMetrics {
        segments,
        segments_found: found,
        incidents,
        true_incidents,
        false_incidents,
        precision: (incidents > 0).then(|| true_incidents as f64 / incidents as f64),
        recall: (segments > 0).then(|| found as f64 / segments as f64),
        mean_delay: (!delays.is_empty()).then(|| delays.iter().sum::<f64>() / delays.len() as f64),
        median_delay: median,
        pod_days,
        false_incidents_per_pod_day: pod_days.map(|d| false_incidents as f64 / d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::incidents::incidents_of;

    fn spans(v: &[(i64, i64)]) -> Vec<Span> {
        v.iter().map(|&(a, b)| Span::new(a, b)).collect()
    }

    #[test]
    fn segments_are_maximal_runs_including_one_at_the_end() {
        let t: Vec<i64> = (0..8).map(|i| i * 60).collect();
        assert_eq!(label_segments(&t, &[1, 0, 1, 1, 0, 0, 1, 1]), spans(&[(0, 0), (120, 180), (360, 420)]));
        assert_eq!(label_segments(&t, &[0; 8]), vec![]);
    }

    #[test]
    fn counts_precision_recall_and_delays() {
        let pods = [
            // Segment 1 found with delay 60, segment 2 missed, one false incident.
            PodEvents { segments: spans(&[(100, 200), (500, 600)]), incidents: spans(&[(160, 300), (800, 900)]) },
            // Incident open before the segment: delay 0.
            PodEvents { segments: spans(&[(1000, 1100)]), incidents: spans(&[(900, 1000)]) },
        ];
        let m = event_metrics(&pods, Some(2.0));
        assert_eq!((m.segments, m.segments_found, m.incidents, m.true_incidents, m.false_incidents), (3, 2, 3, 2, 1));
        assert_eq!(m.precision, Some(2.0 / 3.0));
        assert_eq!(m.recall, Some(2.0 / 3.0));
        assert_eq!(m.mean_delay, Some(30.0));
        assert_eq!(m.median_delay, Some(30.0));
        assert_eq!(m.false_incidents_per_pod_day, Some(0.5));
    }

    #[test]
    fn one_incident_spanning_two_segments_finds_both_and_counts_once() {
        let pods = [PodEvents { segments: spans(&[(100, 200), (300, 400)]), incidents: spans(&[(150, 350)]) }];
        let m = event_metrics(&pods, None);
        assert_eq!((m.segments_found, m.incidents, m.true_incidents), (2, 1, 1));
        assert_eq!(m.precision, Some(1.0));
        assert_eq!(m.recall, Some(1.0));
        // Delays 50 (from 100 to 150) and 0 (already open at 300).
        assert_eq!(m.mean_delay, Some(25.0));
        assert_eq!(m.false_incidents_per_pod_day, None);
    }

    #[test]
    fn incidents_of_another_pod_do_not_count() {
        let pods = [
            PodEvents { segments: spans(&[(100, 200)]), incidents: vec![] },
            PodEvents { segments: vec![], incidents: spans(&[(100, 200)]) },
        ];
        let m = event_metrics(&pods, Some(1.0));
        assert_eq!((m.segments_found, m.true_incidents, m.false_incidents), (0, 0, 1));
        assert_eq!(m.recall, Some(0.0));
        assert_eq!(m.mean_delay, None);
        assert_eq!(event_metrics(&[], None).precision, None);
    }

    #[test]
    fn a_segment_at_the_series_end_is_found_by_the_incident_still_open_there() {
        let t: Vec<i64> = (0..10).map(|i| i * 60).collect();
        let labels = [0, 0, 0, 0, 0, 0, 0, 1, 1, 1];
        let scores = [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.9, 0.9];
        let incidents = incidents_of(t.iter().zip(scores).map(|(&t, s)| ("p", t, s)), 0.5, 2);
        let pods = [PodEvents {
            segments: label_segments(&t, &labels),
            incidents: incidents.iter().map(|i| Span::new(i.start, i.end)).collect(),
        }];
        let m = event_metrics(&pods, None);
        assert_eq!((m.segments, m.segments_found, m.incidents), (1, 1, 1));
        assert_eq!(m.median_delay, Some(60.0));
    }

    #[test]
    fn the_merge_gap_bridges_a_dip_into_one_true_incident() {
        // One labelled fault; the score dips under the threshold for two windows inside it.
        let t: Vec<i64> = (0..12).map(|i| i * 60).collect();
        let labels = [0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0];
        let scores = [0.1, 0.1, 0.9, 0.9, 0.2, 0.3, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1];
        let metrics_at = |gap| {
            let incidents = incidents_of(t.iter().zip(scores).map(|(&t, s)| ("p", t, s)), 0.5, gap);
            let pods = [PodEvents {
                segments: label_segments(&t, &labels),
                incidents: incidents.iter().map(|i| Span::new(i.start, i.end)).collect(),
            }];
            event_metrics(&pods, None)
        };
        let bridged = metrics_at(2);
        assert_eq!((bridged.incidents, bridged.true_incidents, bridged.segments_found), (1, 1, 1));
        let split = metrics_at(1);
        assert_eq!((split.incidents, split.true_incidents, split.segments_found), (2, 2, 1));
        assert_eq!(bridged.precision, Some(1.0));
        assert_eq!(bridged.mean_delay, Some(0.0));
    }
}
