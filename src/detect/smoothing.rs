//! Score smoothing: each window's score becomes the mean of its pod's last `k` window scores
//! (itself and the `k − 1` before it; fewer at a pod's start). One noisy window then no longer
//! crosses the threshold alone, while a fault that lasts raises every window it touches.
//!
//! The threshold is chosen on validation scores smoothed the same way (`train --smooth k`,
//! stored in `threshold.json` as `smooth_windows`), so `detect`, `--follow` and `serve` all
//! apply the model's `k`. Per pod and in time order, so streaming and batch scores agree bit
//! for bit: the mean is summed in arrival order in f64 either way.

use std::collections::{HashMap, VecDeque};

use super::output::Scored;
use super::sink::WindowSink;
use crate::Result;

/// The most windows a score may be averaged over.
pub const MAX_SMOOTH_WINDOWS: usize = 1000;

/// Mean of the last `k` scores, per pod.
#[derive(Debug)]
pub struct Smoother {
    windows: usize,
    recent: HashMap<String, VecDeque<f32>>,
}

impl Smoother {
    /// `windows` ≥ 1; 1 leaves every score as it is.
    pub fn new(windows: usize) -> Smoother {
        Smoother { windows: windows.max(1), recent: HashMap::new() }
    }

    /// The smoothed score of `key`'s next window, whose own score is `score`.
    pub fn smooth(&mut self, key: &str, score: f32) -> f32 {
        if self.windows == 1 {
            return score;
        }
        // A lookup by &str first: the key is copied once per pod, not once per window.
        if !self.recent.contains_key(key) {
            self.recent.insert(key.to_string(), VecDeque::with_capacity(self.windows));
        }
        let recent = self.recent.get_mut(key).expect("inserted above");
        if recent.len() == self.windows {
            recent.pop_front();
        }
        recent.push_back(score);
        mean(recent.iter().copied())
    }
}

fn mean(values: impl ExactSizeIterator<Item = f32>) -> f32 {
    let n = values.len();
    (values.map(f64::from).sum::<f64>() / n as f64) as f32
}

/// Smooths the scores of windows listed series by series, each in time order (`series[i]` is
/// window `i`'s series): what training applies to its validation and test scores.
pub fn smooth_in_order(scores: &[f64], series: &[u32], windows: usize) -> Vec<f64> {
    assert_eq!(scores.len(), series.len(), "smooth_in_order: one series id per score");
    let mut smoother = Smoother::new(windows);
    let keys: Vec<String> = series.iter().map(|s| s.to_string()).collect();
    // Scores go through f32 as detect's do, so the threshold is set on the values detect sees.
    scores.iter().zip(&keys).map(|(&s, key)| f64::from(smoother.smooth(key, s as f32))).collect()
}

/// A sink that smooths each window's score before handing it on.
pub struct Smoothed<W> {
    inner: W,
    smoother: Smoother,
}

impl<W: WindowSink> Smoothed<W> {
    pub fn new(inner: W, windows: usize) -> Smoothed<W> {
        Smoothed { inner, smoother: Smoother::new(windows) }
    }

    pub fn into_inner(self) -> W {
        self.inner
    }

    pub fn inner_mut(&mut self) -> &mut W {
        &mut self.inner
    }
}

impl<W: WindowSink> WindowSink for Smoothed<W> {
    fn write(&mut self, s: &Scored<'_>) -> Result<()> {
        let score = self.smoother.smooth(s.key, s.score);
        self.inner.write(&Scored { score, ..*s })
    }
    fn idle(&mut self) -> Result<()> {
        self.inner.idle()
    }
    fn counts(&self) -> (u64, u64) {
        self.inner.counts()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_pod_is_averaged_over_its_own_last_windows() {
        let mut s = Smoother::new(3);
        assert_eq!(s.smooth("a", 3.0), 3.0);
        assert_eq!(s.smooth("b", 10.0), 10.0); // another pod does not mix in
        assert_eq!(s.smooth("a", 6.0), 4.5);
        assert_eq!(s.smooth("a", 9.0), 6.0);
        assert_eq!(s.smooth("a", 0.0), 5.0); // 3.0 has left the window
        assert_eq!(s.smooth("b", 20.0), 15.0);
    }

    #[test]
    fn one_window_changes_nothing() {
        let mut s = Smoother::new(1);
        for v in [1.5f32, 1e30, 0.0, 7.25] {
            assert_eq!(s.smooth("a", v), v);
        }
    }

    #[test]
    fn in_order_smoothing_restarts_at_each_series() {
        let out = smooth_in_order(&[1.0, 3.0, 5.0, 100.0, 0.0], &[0, 0, 0, 1, 1], 2);
        assert_eq!(out, vec![1.0, 2.0, 4.0, 100.0, 50.0]);
    }
}
