//! Time-ordered train / validation / test splits and balanced class weights.
//!
//! Over the whole dataset's time range `[t0, t1]` (all series together):
//!
//! ```text
//!   test_start       = t0 + ⌈(1 − test_size) · (t1 − t0)⌉             the last test_size of the range
//!   validation_start = t0 + ⌈(1 − validation_size) · (test_start − t0)⌉  the last 20 % of the rest
//!   part(ts) = train if ts < validation_start, validation if ts < test_start, else test
//! ```
//!
//! A window belongs to the part of its label row, and only if *every* row from its start to
//! its label row is in that part: windows that straddle a boundary are dropped, so no split
//! sees rows of another. The scaler is fitted on the training rows (`ts < validation_start`).
//! Nothing is shuffled across boundaries; shuffling inside the training windows is the
//! trainer's business.
//!
//! Class weights are scikit-learn's "balanced": `w_c = n / (2 · n_c)`.

use serde::{Deserialize, Serialize};

use super::options::LabelAt;
use super::windows::{check_lengths, WindowIndex};
use super::Series;
use crate::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    Train,
    Validation,
    Test,
}

impl Part {
    pub fn name(self) -> &'static str {
        match self {
            Part::Train => "training",
            Part::Validation => "validation",
            Part::Test => "test",
        }
    }
}

/// Share of the range before the test split that `train` holds out for validation (the last
/// 20 %). It has no flag; every caller that splits as training does uses this one value.
pub const VALIDATION_SHARE: f64 = 0.2;

/// Validated split settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SplitConfig {
    /// Fraction of the time range that is test, in (0, 1). Default 0.2.
    pub test_size: f64,
    /// Fraction of the remaining range that is validation, in (0, 1); `train` uses
    /// [`VALIDATION_SHARE`].
    pub validation_size: f64,
    pub seq_len: usize,
    pub label_at: LabelAt,
}

impl SplitConfig {
    pub fn new(test_size: f64, validation_size: f64, seq_len: usize, label_at: LabelAt) -> Result<SplitConfig> {
        if !(test_size > 0.0 && test_size < 1.0) {
            return Err(Error::config(format!("--test-size must be between 0 and 1 (exclusive), got {test_size}")));
        }
        if !(validation_size > 0.0 && validation_size < 1.0) {
            return Err(Error::config(format!(
                "the validation fraction must be between 0 and 1 (exclusive), got {validation_size}"
            )));
        }
        if seq_len == 0 {
            return Err(Error::config("--sequence-length must be at least 1"));
        }
        Ok(SplitConfig { test_size, validation_size, seq_len, label_at })
    }

    /// Train and validation only: for data without labels, where a test split would have
    /// nothing to measure and would only take windows from training.
    pub fn without_test(validation_size: f64, seq_len: usize, label_at: LabelAt) -> Result<SplitConfig> {
        let mut cfg = SplitConfig::new(0.5, validation_size, seq_len, label_at)?;
        cfg.test_size = 0.0;
        Ok(cfg)
    }

    /// False for [`SplitConfig::without_test`].
    pub fn has_test(&self) -> bool {
        self.test_size > 0.0
    }
}

/// The three window sets and the boundaries between them.
#[derive(Clone, Debug)]
pub struct Splits {
    pub validation_start: i64,
    pub test_start: i64,
    pub train: WindowIndex,
    pub validation: WindowIndex,
    pub test: WindowIndex,
    /// Windows left out because their rows straddle a boundary.
    pub dropped_crossing: usize,
    pub warnings: Vec<String>,
}

fn cut(t0: i64, t1: i64, frac: f64) -> i64 {
    t0 + ((t1 - t0) as f64 * frac).ceil() as i64
}

impl Splits {
    pub fn new(series: &[Series], cfg: &SplitConfig) -> Result<Splits> {
        let warnings = check_lengths(series, cfg.seq_len, cfg.label_at)?;
        let t0 = series.iter().filter_map(|s| s.timestamps.first()).min().copied().unwrap_or(0);
        let t1 = series.iter().filter_map(|s| s.timestamps.last()).max().copied().unwrap_or(0);
        if t1 <= t0 {
            return Err(Error::data(
                "every row has the same timestamp: a time-ordered split needs rows spread over time",
            ));
        }
        // Without a test split every row is before its start.
        let test_start = if cfg.has_test() { cut(t0, t1, 1.0 - cfg.test_size) } else { t1.saturating_add(1) };
        let validation_start = cut(t0, test_start, 1.0 - cfg.validation_size);
        let all = WindowIndex::labelled(series, cfg.seq_len, cfg.label_at);
        let mut parts = [Vec::new(), Vec::new(), Vec::new()];
        let mut dropped = 0;
        let part = |ts: i64| {
            if ts < validation_start {
                0
            } else if ts < test_start {
                1
            } else {
                2
            }
        };
        for &w in &all.windows {
            let ts = &series[w.series as usize].timestamps;
            let (a, b) = (part(ts[w.start as usize]), part(ts[all.label_row(w)]));
            if a == b {
                parts[b].push(w);
            } else {
                dropped += 1;
            }
        }
        let [train, validation, test] =
            parts.map(|windows| WindowIndex { seq_len: cfg.seq_len, label_at: cfg.label_at, windows });
        let splits =
            Splits { validation_start, test_start, train, validation, test, dropped_crossing: dropped, warnings };
        for p in [Part::Train, Part::Validation, Part::Test] {
            if splits.windows(p).is_empty() && (p != Part::Test || cfg.has_test()) {
                return Err(Error::data(format!(
                    "the {} split has no windows of {} rows: the data spans too short a time ({} to {}) for \
                     --test-size {} and this sequence length; use more data or a shorter --sequence-length",
                    p.name(),
                    cfg.seq_len,
                    t0,
                    t1,
                    cfg.test_size
                )));
            }
        }
        Ok(splits)
    }

    pub fn windows(&self, part: Part) -> &WindowIndex {
        match part {
            Part::Train => &self.train,
            Part::Validation => &self.validation,
            Part::Test => &self.test,
        }
    }

    pub fn part_of(&self, ts: i64) -> Part {
        if ts < self.validation_start {
            Part::Train
        } else if ts < self.test_start {
            Part::Validation
        } else {
            Part::Test
        }
    }

    /// Training rows of each series (a time prefix), as row-major blocks `(n_i, F)` for
    /// [`Scaler::fit`](super::Scaler::fit).
    pub fn train_rows<'a>(&self, series: &'a [Series], n_features: usize) -> Vec<&'a [f32]> {
        series
            .iter()
            .map(|s| {
                let n = s.timestamps.partition_point(|&t| t < self.validation_start);
                &s.features[..n * n_features]
            })
            .filter(|b| !b.is_empty())
            .collect()
    }

    /// Errors naming the first split whose windows are all one class (supervised training
    /// needs both in each: to learn, to stop early, to measure).
    pub fn require_both_classes(&self, series: &[Series]) -> Result<()> {
        for p in [Part::Train, Part::Validation, Part::Test] {
            let w = self.windows(p);
            if w.labels(series).is_none() {
                return Err(Error::data(
                    "the data has no labels: supervised training needs a label column or Kubernetes data \
                     for the rules; use --mode unsupervised with --use-autoencoder",
                ));
            }
            one_class_error(p.name(), w.class_counts(series))?;
        }
        Ok(())
    }
}

fn one_class_error(split: &str, counts: [u64; 2]) -> Result<()> {
    if counts[0] == 0 || counts[1] == 0 {
        let (has, lacks) = if counts[1] == 0 { ("normal", "anomalous") } else { ("anomalous", "normal") };
        return Err(Error::data(format!(
            "the {split} split has only {has} windows ({} of them, no {lacks} one): supervised training needs \
             both classes in every split; use data with more anomalies spread over time, change --test-size, \
             or train unsupervised (--use-autoencoder --mode unsupervised)",
            counts[0] + counts[1]
        )));
    }
    Ok(())
}

/// Balanced class weights `[w_0, w_1]`, `w_c = n / (2 · n_c)`, from window labels; a clear
/// error when one class is absent.
pub fn class_weights(labels: impl IntoIterator<Item = u8>, split: &str) -> Result<[f32; 2]> {
    let mut counts = [0u64; 2];
    for l in labels {
        counts[(l != 0) as usize] += 1;
    }
    one_class_error(split, counts)?;
    let n = (counts[0] + counts[1]) as f64;
    Ok([(n / (2.0 * counts[0] as f64)) as f32, (n / (2.0 * counts[1] as f64)) as f32])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::SeriesKey;
    use proptest::prelude::*;

    fn series_at(starts: &[(i64, usize)]) -> Vec<Series> {
        starts
            .iter()
            .enumerate()
            .map(|(k, &(t0, n))| Series {
                key: SeriesKey(vec![format!("p{k}")]),
                timestamps: (0..n as i64).map(|i| t0 + 60 * i).collect(),
                features: (0..n).map(|i| i as f32).collect(),
                labels: Some((0..n).map(|i| (i % 7 == 0) as u8).collect()),
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn splits_are_time_ordered(spec in prop::collection::vec((0i64..50, 40usize..200), 1..5),
                                   t in 1usize..12, test in 0.1f64..0.4, last in any::<bool>()) {
            let series = series_at(&spec.iter().map(|&(a, n)| (a * 60, n)).collect::<Vec<_>>());
            let label_at = if last { LabelAt::Last } else { LabelAt::Next };
            let cfg = SplitConfig::new(test, 0.2, t, label_at).unwrap();
            let Ok(s) = Splits::new(&series, &cfg) else { return Ok(()) };
            // Every row of every window is in its part; parts are ordered in time.
            let mut ranges = Vec::new();
            for p in [Part::Train, Part::Validation, Part::Test] {
                let w = s.windows(p);
                let (mut lo, mut hi) = (i64::MAX, i64::MIN);
                for &win in &w.windows {
                    let ts = &series[win.series as usize].timestamps;
                    for &t in &ts[win.start as usize..=w.label_row(win)] {
                        prop_assert_eq!(s.part_of(t), p);
                        lo = lo.min(t);
                        hi = hi.max(t);
                    }
                }
                ranges.push((lo, hi));
            }
            prop_assert!(ranges[0].1 < ranges[1].0 && ranges[1].1 < ranges[2].0);
            let total = WindowIndex::labelled(&series, t, label_at).len();
            prop_assert_eq!(s.train.len() + s.validation.len() + s.test.len() + s.dropped_crossing, total);
            // Scaler rows are exactly the training-time rows.
            for (b, ser) in s.train_rows(&series, 1).iter().zip(&series) {
                prop_assert!(ser.timestamps[..b.len()].iter().all(|&ts| ts < s.validation_start));
            }
        }
    }

    #[test]
    fn boundaries() {
        // One series, minutes 0..=100: test from 80, validation from 64.
        let series = series_at(&[(0, 101)]);
        let s = Splits::new(&series, &SplitConfig::new(0.2, 0.2, 3, LabelAt::Next).unwrap()).unwrap();
        assert_eq!((s.validation_start, s.test_start), (3840, 4800));
        // Windows straddling each boundary: 3 per boundary for T = 3, next-row labels.
        assert_eq!(s.dropped_crossing, 6);
        assert_eq!(s.train.len(), 64 - 3);
    }

    #[test]
    fn class_weights_balanced_and_one_class_error() {
        let w = class_weights([0, 0, 0, 1], "training").unwrap();
        assert_eq!(w, [4.0 / 6.0, 2.0]);
        let e = class_weights([0, 0, 0], "training").unwrap_err().to_string();
        assert!(e.contains("training split has only normal windows (3 of them"), "{e}");
        let e = class_weights([1], "validation").unwrap_err().to_string();
        assert!(e.contains("validation split has only anomalous"), "{e}");
    }

    #[test]
    fn bad_settings() {
        for t in [0.0, 1.0, -0.1, f64::NAN] {
            let e = SplitConfig::new(t, 0.2, 10, LabelAt::Next).unwrap_err().to_string();
            assert!(e.contains("--test-size must be between 0 and 1"), "{e}");
        }
        assert!(SplitConfig::new(0.2, 0.2, 0, LabelAt::Next).is_err());
        let one_time = series_at(&[(0, 1), (0, 1)]);
        let e = Splits::new(&one_time, &SplitConfig::new(0.2, 0.2, 1, LabelAt::Last).unwrap()).unwrap_err();
        assert!(e.to_string().contains("same timestamp"), "{e}");
    }
}
