//! Windows of `T` consecutive rows of one series, as views: a window is `(series, start)`,
//! 8 bytes, whatever `T` and `F`; the rows stay where they are in the (scaled) series.
//!
//! A window covers rows `[s, s+T)` of one series, never two. Its label is that of its
//! *label row*: `s+T`, the row right after it (`--label-at next`, the original's "predict the
//! next step"), or `s+T−1`, its last row (`--label-at last`).
//!
//! [`WindowIndex::gather`] copies a batch into the **time-major** buffer the models consume:
//! `out[(t·B + b)·F + j] = row s_b + t of window b, feature j`, shape `(T, B, F)`.

use super::options::LabelAt;
use super::Series;
use crate::{Error, Result};

/// A window: rows `[start, start+T)` of `series` (an index into the dataset's series).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Window {
    pub series: u32,
    pub start: u32,
}

/// Rows a series needs to give at least one window (saturating: `--sequence-length` is user input
/// and `usize::MAX + 1` overflowed into a panic).
pub fn rows_needed(seq_len: usize, label_at: LabelAt) -> usize {
    match label_at {
        LabelAt::Next => seq_len.saturating_add(1),
        LabelAt::Last => seq_len,
    }
}

/// Warns about series too short for one window; errors when no series is long enough.
pub fn check_lengths(series: &[Series], seq_len: usize, label_at: LabelAt) -> Result<Vec<String>> {
    if seq_len == 0 {
        return Err(Error::config("the sequence length must be at least 1"));
    }
    let need = rows_needed(seq_len, label_at);
    let short: Vec<&Series> = series.iter().filter(|s| s.len() < need).collect();
    if short.len() == series.len() {
        let longest = series.iter().map(Series::len).max().unwrap_or(0);
        return Err(Error::data(format!(
            "no series is long enough for a window: sequence length {seq_len} needs {need} rows per series \
             ({} label), the longest has {longest}; use a shorter --sequence-length or more data",
            match label_at {
                LabelAt::Next => "including the next row's",
                LabelAt::Last => "the last row's",
            }
        )));
    }
    let mut warnings = Vec::new();
    if !short.is_empty() {
        warnings.push(format!(
            "{} series have fewer than {need} rows and give no windows, skipped (first: {} with {} rows)",
            short.len(),
            short[0].key,
            short[0].len()
        ));
    }
    Ok(warnings)
}

/// A set of windows of one sequence length and label convention.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowIndex {
    pub seq_len: usize,
    pub label_at: LabelAt,
    pub windows: Vec<Window>,
}

impl WindowIndex {
    /// Every window whose label row exists, series by series.
    pub fn labelled(series: &[Series], seq_len: usize, label_at: LabelAt) -> WindowIndex {
        Self::with_tail(series, seq_len, label_at, rows_needed(seq_len, label_at))
    }

    /// Every full window, including (for `next`) the last one whose label row is still to come:
    /// what scoring uses.
    pub fn scoring(series: &[Series], seq_len: usize, label_at: LabelAt) -> WindowIndex {
        Self::with_tail(series, seq_len, label_at, seq_len)
    }

    fn with_tail(series: &[Series], seq_len: usize, label_at: LabelAt, need: usize) -> WindowIndex {
        let mut windows = Vec::new();
        if seq_len > 0 {
            for (i, s) in series.iter().enumerate() {
                if s.len() >= need {
                    windows.extend((0..=s.len() - need).map(|start| Window { series: i as u32, start: start as u32 }));
                }
            }
        }
        WindowIndex { seq_len, label_at, windows }
    }

    pub fn len(&self) -> usize {
        self.windows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }

    /// The row whose label the window carries (may be past the series end for a scoring window).
    pub fn label_row(&self, w: Window) -> usize {
        w.start as usize + rows_needed(self.seq_len, self.label_at) - 1
    }
    /// The window's last row.
    pub fn last_row(&self, w: Window) -> usize {
        w.start as usize + self.seq_len - 1
    }

    /// Label of window `i`; `None` without labels or when its label row is still to come.
    pub fn label(&self, series: &[Series], i: usize) -> Option<u8> {
        let w = self.windows[i];
        series[w.series as usize].labels.as_ref()?.get(self.label_row(w)).copied()
    }

    /// Labels of all windows `(N,)`; `None` when some window has no label.
    pub fn labels(&self, series: &[Series]) -> Option<Vec<u8>> {
        (0..self.len()).map(|i| self.label(series, i)).collect()
    }

    /// `[normal, anomalous]` window counts (windows without a label are not counted).
    pub fn class_counts(&self, series: &[Series]) -> [u64; 2] {
        let mut c = [0u64; 2];
        for i in 0..self.len() {
            if let Some(l) = self.label(series, i) {
                c[(l != 0) as usize] += 1;
            }
        }
        c
    }

    /// The windows for which `keep(window, label)` holds.
    pub fn filter(&self, series: &[Series], keep: impl Fn(Window, Option<u8>) -> bool) -> WindowIndex {
        let windows =
            (0..self.len()).filter(|&i| keep(self.windows[i], self.label(series, i))).map(|i| self.windows[i]);
        WindowIndex { seq_len: self.seq_len, label_at: self.label_at, windows: windows.collect() }
    }

    /// Windows labelled normal (the autoencoder's unsupervised training set).
    pub fn normal_only(&self, series: &[Series]) -> WindowIndex {
        self.filter(series, |_, l| l == Some(0))
    }

    /// Copies windows `batch` (indices into this index) into `out`: `(T, B, F)` time-major,
    /// `B = batch.len()`, `F` = the series' feature width.
    pub fn gather(&self, series: &[Series], n_features: usize, batch: &[usize], out: &mut [f32]) {
        let (t_len, b_len, f) = (self.seq_len, batch.len(), n_features);
        assert_eq!(out.len(), t_len * b_len * f, "out must be (T={t_len}, B={b_len}, F={f})");
        for (b, &i) in batch.iter().enumerate() {
            let w = self.windows[i];
            let rows = &series[w.series as usize].features[w.start as usize * f..(w.start as usize + t_len) * f];
            for t in 0..t_len {
                out[(t * b_len + b) * f..(t * b_len + b + 1) * f].copy_from_slice(&rows[t * f..(t + 1) * f]);
            }
        }
    }

    /// Labels of windows `batch` as f32 0/1 into `out` `(B,)`. Panics if a window has none
    /// (training uses labelled windows only).
    pub fn gather_labels(&self, series: &[Series], batch: &[usize], out: &mut [f32]) {
        assert_eq!(out.len(), batch.len(), "out must be (B,)");
        for (o, &i) in out.iter_mut().zip(batch) {
            *o = self.label(series, i).expect("a labelled window") as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::SeriesKey;
    use proptest::prelude::*;

    fn toy(lengths: &[usize], f: usize) -> Vec<Series> {
        lengths
            .iter()
            .enumerate()
            .map(|(k, &n)| Series {
                key: SeriesKey(vec![format!("s{k}")]),
                timestamps: (0..n as i64).collect(),
                // value encodes (series, row, feature) so a gather can be checked exactly.
                features: (0..n * f).map(|i| (k * 100_000 + (i / f) * 10 + i % f) as f32).collect(),
                labels: Some((0..n).map(|t| (t % 3 == 0) as u8).collect()),
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn windows_stay_in_one_series(lengths in prop::collection::vec(0usize..30, 1..6), t in 1usize..8, last in any::<bool>()) {
            let label_at = if last { LabelAt::Last } else { LabelAt::Next };
            let f = 3;
            let series = toy(&lengths, f);
            let idx = WindowIndex::labelled(&series, t, label_at);
            let want: usize = lengths.iter().map(|&n| (n + 1).saturating_sub(rows_needed(t, label_at))).sum();
            prop_assert_eq!(idx.len(), want);
            for (i, w) in idx.windows.iter().enumerate() {
                let s = &series[w.series as usize];
                prop_assert!(idx.label_row(*w) < s.len());
                prop_assert_eq!(idx.label(&series, i), Some(idx.label_row(*w).is_multiple_of(3) as u8));
            }
            let batch: Vec<usize> = (0..idx.len()).rev().collect();
            let mut out = vec![0.0; t * batch.len() * f];
            idx.gather(&series, f, &batch, &mut out);
            for (b, &i) in batch.iter().enumerate() {
                let w = idx.windows[i];
                for tt in 0..t {
                    for j in 0..f {
                        let v = out[(tt * batch.len() + b) * f + j] as usize;
                        // Same series, consecutive rows from start, right feature.
                        prop_assert_eq!(v / 100_000, w.series as usize);
                        prop_assert_eq!((v % 100_000) / 10, w.start as usize + tt);
                        prop_assert_eq!(v % 10, j);
                    }
                }
            }
        }
    }

    #[test]
    fn scoring_windows_include_the_open_end() {
        let series = toy(&[5], 1);
        assert_eq!(WindowIndex::labelled(&series, 3, LabelAt::Next).len(), 2);
        let s = WindowIndex::scoring(&series, 3, LabelAt::Next);
        assert_eq!(s.len(), 3);
        assert_eq!(s.label(&series, 2), None);
        assert_eq!(WindowIndex::labelled(&series, 3, LabelAt::Last).len(), 3);
    }

    #[test]
    fn short_series_warn_or_error() {
        let series = toy(&[3, 12], 1);
        let w = check_lengths(&series, 10, LabelAt::Next).unwrap();
        assert!(w[0].contains("s0 with 3 rows"), "{w:?}");
        let e = check_lengths(&series, 12, LabelAt::Next).unwrap_err().to_string();
        assert!(e.contains("no series is long enough") && e.contains("needs 13 rows"), "{e}");
        assert!(check_lengths(&series, 0, LabelAt::Next).unwrap_err().to_string().contains("at least 1"));
    }
}
