//! Incidents: the anomalous windows of one pod merged into events (`detect --events`).
//!
//! ```text
//! windows of a pod, in time order:   . . X X . X . . . X X X . .      X: score >= threshold
//! --merge-gap 2:                         [ incident 1  ]   [incid. 2]
//! ```
//!
//! An incident opens at a pod's first anomalous window and takes every following window
//! while at most `merge_gap` normal windows in a row separate anomalous ones; the
//! `merge_gap + 1`-th normal window in a row closes it at its last anomalous window. The
//! bridged normal windows belong to the incident (they count in `windows`, the mean score and
//! the contributions), the normal windows after its end do not.
//!
//! Why a gap of 2 by default: a score hovering around the threshold during one fault dips
//! under it for a window or two (the window slides one row at a time, and one quiet sample in
//! `T` can be enough); without a gap a single fault shows up as a burst of short incidents,
//! which inflates the incident count and hides the fault's duration. Three normal windows in
//! a row (three minutes at the usual one-minute step) are a better sign that it has ended.
//!
//! [`Incidents`] is an accumulator: it consumes scored windows in time order per pod (pods
//! may interleave) and hands back each incident when it closes, so batch `detect`, `detect
//! --follow` and `serve` share it; [`Incidents::finish`] closes the ones still open at the end
//! of the input.

use std::collections::HashMap;

use super::output::Scored;
use crate::data::{Series, WindowIndex};
use crate::metrics::Span;

/// Normal windows in a row that an incident bridges (see the module documentation).
pub const DEFAULT_MERGE_GAP: usize = 2;

/// One closed (or, from [`Incidents::finish`], still open) incident of one pod.
#[derive(Clone, Debug, PartialEq)]
pub struct Incident {
    /// The pod's key, as in [`Scored::key`].
    pub key: String,
    /// Timestamps (as [`Scored::timestamp`]) of its first and last anomalous window.
    pub start: i64,
    pub end: i64,
    /// Windows from `start` to `end`, bridged normal windows included.
    pub windows: u64,
    /// Of those, windows at or above the threshold.
    pub anomalous: u64,
    pub peak_score: f32,
    /// Timestamp of the first window with the peak score.
    pub peak_at: i64,
    /// Σ score over `windows`.
    pub score_sum: f64,
    /// `(F,)` Σ over `windows` of score × the window's share of feature f: each feature's part
    /// of the incident's total score. Empty when explanations are off.
    pub contributions: Vec<f64>,
}

impl Incident {
    fn open(s: &Scored<'_>) -> Incident {
        let mut i = Incident {
            key: s.key.to_owned(),
            start: s.timestamp,
            end: s.timestamp,
            windows: 0,
            anomalous: 0,
            peak_score: s.score,
            peak_at: s.timestamp,
            score_sum: 0.0,
            contributions: vec![0.0; s.shares.len()],
        };
        i.add(s, true);
        i
    }

    fn add(&mut self, s: &Scored<'_>, anomalous: bool) {
        let score = f64::from(s.score);
        self.windows += 1;
        self.anomalous += u64::from(anomalous);
        self.score_sum += score;
        if anomalous {
            self.end = s.timestamp;
        }
        if s.score > self.peak_score {
            self.peak_score = s.score;
            self.peak_at = s.timestamp;
        }
        if self.contributions.len() == s.shares.len() {
            for (c, &share) in self.contributions.iter_mut().zip(s.shares) {
                *c += score * f64::from(share);
            }
        }
    }

    /// `end − start`: seconds with a time column, rows without one (0 for one window).
    pub fn duration(&self) -> i64 {
        self.end.saturating_sub(self.start)
    }

    pub fn mean_score(&self) -> f64 {
        self.score_sum / self.windows.max(1) as f64
    }

    /// The `k` features with the largest contributions, with their share of the total
    /// (largest first, the lower feature index on ties).
    pub fn top_features(&self, k: usize) -> Vec<(usize, f64)> {
        let total: f64 = self.contributions.iter().sum();
        if total.is_nan() || total <= 0.0 {
            return Vec::new();
        }
        let mut order: Vec<usize> = (0..self.contributions.len()).collect();
        order.sort_by(|&a, &b| self.contributions[b].total_cmp(&self.contributions[a]).then(a.cmp(&b)));
        order.into_iter().take(k).map(|j| (j, self.contributions[j] / total)).collect()
    }
}

/// A pod with an open incident.
struct Open {
    incident: Incident,
    /// Normal windows since its last anomalous one, not yet part of it.
    gap: Vec<(i64, f32, Vec<f32>)>,
    last_ts: i64,
}

/// The accumulator: scored windows in, closed incidents out.
pub struct Incidents {
    threshold: f64,
    merge_gap: usize,
    open: HashMap<String, Open>,
    /// Windows seen and how many were at or above the threshold.
    pub windows: u64,
    pub anomalies: u64,
}

impl Incidents {
    pub fn new(threshold: f64, merge_gap: usize) -> Incidents {
        Incidents { threshold, merge_gap, open: HashMap::new(), windows: 0, anomalies: 0 }
    }

    /// Takes the next window of its pod; returns the pod's incident if this window closed it.
    pub fn push(&mut self, s: &Scored<'_>) -> Option<Incident> {
        let anomalous = f64::from(s.score) >= self.threshold;
        self.windows += 1;
        self.anomalies += u64::from(anomalous);
        let Some(open) = self.open.get_mut(s.key) else {
            if anomalous {
                self.open.insert(
                    s.key.to_owned(),
                    Open { incident: Incident::open(s), gap: Vec::new(), last_ts: s.timestamp },
                );
            }
            return None;
        };
        open.last_ts = s.timestamp;
        if anomalous {
            for (timestamp, score, shares) in open.gap.drain(..) {
                open.incident.add(&Scored { key: s.key, timestamp, score, shares: &shares }, false);
            }
            open.incident.add(s, true);
            return None;
        }
        if open.gap.len() < self.merge_gap {
            open.gap.push((s.timestamp, s.score, s.shares.to_vec()));
            return None;
        }
        self.open.remove(s.key).map(|o| o.incident)
    }

    /// Closes the incidents of pods whose last window is more than `after` before `newest`
    /// (a pod that went silent, as `--evict-after` forgets it), oldest first.
    pub fn close_silent(&mut self, newest: i64, after: i64) -> Vec<Incident> {
        let silent: Vec<String> = self
            .open
            .iter()
            .filter(|(_, o)| newest.saturating_sub(o.last_ts) > after)
            .map(|(k, _)| k.clone())
            .collect();
        let mut closed: Vec<Incident> = silent.iter().filter_map(|k| self.open.remove(k)).map(|o| o.incident).collect();
        sort(&mut closed);
        closed
    }

    /// The pod's open incident, if it has one.
    pub fn open_incident(&self, key: &str) -> Option<&Incident> {
        self.open.get(key).map(|o| &o.incident)
    }

    /// Incidents currently open.
    pub fn open_count(&self) -> usize {
        self.open.len()
    }

    /// The end of the input: the incidents still open, by start time then pod.
    pub fn finish(&mut self) -> Vec<Incident> {
        let mut rest: Vec<Incident> = self.open.drain().map(|(_, o)| o.incident).collect();
        sort(&mut rest);
        rest
    }
}

fn sort(incidents: &mut [Incident]) {
    incidents.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.key.cmp(&b.key)));
}

/// Every incident of windows given as `(key, timestamp, score)` in time order per key:
/// closed ones in the order they closed, then the open ones. For evaluation and tests.
pub fn incidents_of<'a>(
    windows: impl IntoIterator<Item = (&'a str, i64, f32)>,
    threshold: f64,
    merge_gap: usize,
) -> Vec<Incident> {
    let mut acc = Incidents::new(threshold, merge_gap);
    let mut out = Vec::new();
    for (key, timestamp, score) in windows {
        out.extend(acc.push(&Scored { key, timestamp, score, shares: &[] }));
    }
    out.extend(acc.finish());
    out
}

/// The incidents of the scored windows of `index` (`scores[i]` is window `i`'s), each window
/// placed at its label row (the row its score is about): one list of spans per series.
/// The windows of a series are consecutive in an index, in time order.
pub fn incidents_per_series(
    index: &WindowIndex,
    series: &[Series],
    scores: &[f64],
    threshold: f64,
    merge_gap: usize,
) -> Vec<Vec<Span>> {
    let mut out = vec![Vec::new(); series.len()];
    let mut start = 0;
    while start < index.windows.len() {
        let i = index.windows[start].series;
        let end = start + index.windows[start..].iter().take_while(|w| w.series == i).count();
        let s = &series[i as usize];
        let windows = index.windows[start..end]
            .iter()
            .zip(&scores[start..end])
            .map(|(w, &score)| ("", s.timestamps[index.label_row(*w)], score as f32)); // widened f32s: exact
        out[i as usize] =
            incidents_of(windows, threshold, merge_gap).iter().map(|inc| Span::new(inc.start, inc.end)).collect();
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(scores: &[f32], gap: usize) -> Vec<(i64, i64, u64, u64)> {
        let w = scores.iter().enumerate().map(|(i, &s)| ("p", i as i64 * 60, s));
        incidents_of(w, 0.5, gap).iter().map(|i| (i.start, i.end, i.windows, i.anomalous)).collect()
    }

    #[test]
    fn runs_merge_across_at_most_merge_gap_normal_windows() {
        let s = [0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0];
        assert_eq!(spans(&s, 2), vec![(60, 240, 4, 3), (480, 600, 3, 3)]);
        assert_eq!(spans(&s, 0), vec![(60, 120, 2, 2), (240, 240, 1, 1), (480, 600, 3, 3)]);
        // A gap of 3 normal windows is bridged by --merge-gap 3 only.
        assert_eq!(spans(&s, 3), vec![(60, 600, 10, 6)]);
        // An incident open at the end of the input is closed there, at its last anomalous window.
        assert_eq!(spans(&[0.0, 1.0, 0.0], 2), vec![(60, 60, 1, 1)]);
        assert_eq!(spans(&[0.0, 0.4], 2), vec![]);
    }

    #[test]
    fn pods_are_merged_separately_and_interleave() {
        let w = [("a", 0, 0.9), ("b", 0, 0.1), ("a", 60, 0.1), ("b", 60, 0.9), ("a", 120, 0.1), ("a", 180, 0.1)];
        let got = incidents_of(w, 0.5, 1);
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].key.as_str(), got[0].start, got[0].end), ("a", 0, 0));
        assert_eq!((got[1].key.as_str(), got[1].start, got[1].end), ("b", 60, 60));
    }

    #[test]
    fn peak_mean_and_contributions() {
        let mut acc = Incidents::new(0.5, 2);
        let rows: [(i64, f32, [f32; 3]); 4] = [
            (0, 0.6, [0.5, 0.5, 0.0]),
            (1, 0.2, [0.0, 0.0, 1.0]),
            (2, 0.9, [0.0, 1.0, 0.0]),
            (3, 0.9, [1.0, 0.0, 0.0]),
        ];
        for (t, score, shares) in rows {
            assert!(acc.push(&Scored { key: "p", timestamp: t, score, shares: &shares }).is_none());
        }
        let i = acc.finish().pop().unwrap();
        assert_eq!((i.start, i.end, i.windows, i.anomalous, i.peak_at), (0, 3, 4, 3, 2));
        assert_eq!(i.peak_score, 0.9);
        assert!((i.mean_score() - (0.6 + 0.2 + 0.9 + 0.9) / 4.0).abs() < 1e-6);
        // Contributions 0.3+0.9 = 1.2, 0.3+0.9 = 1.2, 0.2: the tie goes to the lower index.
        let top = i.top_features(2);
        assert_eq!(top.iter().map(|t| t.0).collect::<Vec<_>>(), vec![0, 1]);
        assert!((top[0].1 - 1.2 / 2.6).abs() < 1e-6);
    }

    #[test]
    fn silent_pods_are_closed() {
        let mut acc = Incidents::new(0.5, 2);
        acc.push(&Scored { key: "a", timestamp: 0, score: 0.9, shares: &[] });
        acc.push(&Scored { key: "b", timestamp: 500, score: 0.9, shares: &[] });
        let closed = acc.close_silent(1000, 600);
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].key, "a");
        assert_eq!(acc.open_count(), 1);
    }
}
