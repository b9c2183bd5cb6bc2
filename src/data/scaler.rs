//! Feature scalers with scikit-learn's semantics, fitted on training rows only.
//!
//! ```text
//!   MinMax:  scale_j = 1 / (max_j − min_j),  offset_j = −min_j · scale_j,   x' = x · scale_j + offset_j
//!   Robust:  center_j = median_j,  scale_j = q75_j − q25_j,                 x' = (x − center_j) / scale_j
//! ```
//!
//! Quantiles interpolate linearly between order statistics (numpy's default, what
//! `RobustScaler` uses). A range or IQR below `10·ε(f64)` is taken as 1, as scikit-learn's
//! `_handle_zeros_in_scale` does, so a constant training column scales to 0 (with a warning).
//! Statistics are computed and stored in f64; rows are transformed in place as f32 with the
//! arithmetic done in f64 and rounded once (saturating at ±f32::MAX), identically in
//! training and scoring.
//! Checked against `tests/fixtures/preprocessing.json`.

use serde::{Deserialize, Serialize};

use super::features::saturate;
use crate::{Error, Result};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ScalerKind {
    #[default]
    #[value(name = "minmax")]
    MinMax,
    Robust,
}

/// A fitted scaler. JSON: `{"kind": "minmax", "feature_names": [...], "data_min": [...], ...}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Scaler {
    #[serde(rename = "minmax")]
    MinMax {
        feature_names: Vec<String>,
        data_min: Vec<f64>,
        data_max: Vec<f64>,
        /// scikit-learn's `scale_`: `1 / (max − min)`, 1 for a zero range.
        scale: Vec<f64>,
        /// scikit-learn's `min_`: `−min · scale`.
        offset: Vec<f64>,
    },
    Robust {
        feature_names: Vec<String>,
        /// Medians.
        center: Vec<f64>,
        /// Interquartile ranges, 1 where zero.
        scale: Vec<f64>,
    },
}

/// scikit-learn's threshold below which a scale is treated as zero.
fn handle_zero(scale: f64) -> f64 {
    if scale < 10.0 * f64::EPSILON {
        1.0
    } else {
        scale
    }
}

/// numpy's `quantile(..., method="linear")` of a sorted-in-place-as-needed slice.
fn quantile(values: &mut [f64], q: f64) -> f64 {
    let n = values.len();
    let h = (n - 1) as f64 * q;
    let lo = h.floor() as usize;
    let t = h - lo as f64;
    let a = *values.select_nth_unstable_by(lo, f64::total_cmp).1;
    if lo + 1 >= n || t == 0.0 {
        return a;
    }
    // After select_nth, everything right of `lo` is ≥ a: the next order statistic is its min.
    let b = values[lo + 1..].iter().copied().fold(f64::INFINITY, f64::min);
    // numpy's _lerp: a + (b−a)·t, computed from the nearer end for t ≥ 0.5.
    let d = b - a;
    if t >= 0.5 {
        b - d * (1.0 - t)
    } else {
        a + d * t
    }
}

impl Scaler {
    /// Fits on training rows given as row-major blocks `(n_i, F)` (e.g. one per series).
    /// Returns the scaler and warnings (constant columns).
    pub fn fit(kind: ScalerKind, feature_names: &[String], blocks: &[&[f32]]) -> Result<(Scaler, Vec<String>)> {
        Self::fit_blocks(kind, feature_names, blocks)
    }

    /// [`fit`](Self::fit) on f64 rows `(N, F)` (the reference path, used by tests).
    pub fn fit_f64(kind: ScalerKind, feature_names: &[String], rows: &[f64]) -> Result<(Scaler, Vec<String>)> {
        Self::fit_blocks(kind, feature_names, &[rows])
    }

    fn fit_blocks<T: Copy + Into<f64>>(
        kind: ScalerKind,
        feature_names: &[String],
        blocks: &[&[T]],
    ) -> Result<(Scaler, Vec<String>)> {
        let f = feature_names.len();
        if f == 0 || blocks.iter().all(|b| b.len() < f) {
            return Err(Error::data("cannot fit a scaler on zero training rows"));
        }
        // One row-major pass: extremes and finiteness.
        let mut lo = vec![f64::INFINITY; f];
        let mut hi = vec![f64::NEG_INFINITY; f];
        for block in blocks {
            assert_eq!(block.len() % f, 0, "blocks must be (n, {f})");
            for row in block.chunks_exact(f) {
                for ((&x, l), h) in row.iter().zip(&mut lo).zip(&mut hi) {
                    let x: f64 = x.into();
                    *l = l.min(x);
                    *h = h.max(x);
                }
            }
        }
        if let Some(j) = (0..f).find(|&j| !lo[j].is_finite() || !hi[j].is_finite()) {
            return Err(Error::data(format!(
                "cannot fit a scaler: feature {} has a non-finite value in the training rows",
                super::names::quoted(&feature_names[j])
            )));
        }
        // Robust: quantiles per column (one strided gather per column).
        let mut quartiles = vec![(0.0, 0.0, 0.0); f];
        if kind == ScalerKind::Robust {
            let mut col: Vec<f64> = Vec::new();
            for (j, q) in quartiles.iter_mut().enumerate() {
                col.clear();
                for block in blocks {
                    col.extend(block.iter().skip(j).step_by(f).map(|&v| v.into()));
                }
                *q = (quantile(&mut col, 0.25), quantile(&mut col, 0.5), quantile(&mut col, 0.75));
            }
        }
        let stats: Vec<(f64, f64, (f64, f64, f64))> = (0..f).map(|j| (lo[j], hi[j], quartiles[j])).collect();
        let constant: Vec<&str> =
            stats.iter().zip(feature_names).filter(|((lo, hi, _), _)| lo == hi).map(|(_, n)| n.as_str()).collect();
        let mut warnings = Vec::new();
        if !constant.is_empty() {
            warnings.push(format!(
                "{} feature{} constant in the training rows and scaled to 0: {}",
                constant.len(),
                if constant.len() == 1 { " is" } else { "s are" },
                constant.join(", ")
            ));
        }
        let names = feature_names.to_vec();
        let scaler = match kind {
            ScalerKind::MinMax => {
                let scale: Vec<f64> = stats.iter().map(|&(lo, hi, _)| 1.0 / handle_zero(hi - lo)).collect();
                Scaler::MinMax {
                    feature_names: names,
                    data_min: stats.iter().map(|s| s.0).collect(),
                    data_max: stats.iter().map(|s| s.1).collect(),
                    offset: stats.iter().zip(&scale).map(|(s, k)| -s.0 * k).collect(),
                    scale,
                }
            }
            ScalerKind::Robust => {
                let zero_iqr: Vec<&str> = stats
                    .iter()
                    .zip(feature_names)
                    .filter(|((lo, hi, (q1, _, q3)), _)| lo != hi && handle_zero(q3 - q1) == 1.0 && q3 - q1 != 1.0)
                    .map(|(_, n)| n.as_str())
                    .collect();
                if !zero_iqr.is_empty() {
                    warnings.push(format!(
                        "zero interquartile range (divided by 1, as scikit-learn does) for: {}",
                        zero_iqr.join(", ")
                    ));
                }
                Scaler::Robust {
                    feature_names: names,
                    center: stats.iter().map(|s| s.2 .1).collect(),
                    scale: stats.iter().map(|s| handle_zero(s.2 .2 - s.2 .0)).collect(),
                }
            }
        };
        Ok((scaler, warnings))
    }

    pub fn kind(&self) -> ScalerKind {
        match self {
            Scaler::MinMax { .. } => ScalerKind::MinMax,
            Scaler::Robust { .. } => ScalerKind::Robust,
        }
    }
    pub fn feature_names(&self) -> &[String] {
        match self {
            Scaler::MinMax { feature_names, .. } | Scaler::Robust { feature_names, .. } => feature_names,
        }
    }
    pub fn n_features(&self) -> usize {
        self.feature_names().len()
    }

    /// The scaled value of `x` in column `j`, in f64.
    #[inline]
    pub fn apply_f64(&self, j: usize, x: f64) -> f64 {
        match self {
            Scaler::MinMax { scale, offset, .. } => x * scale[j] + offset[j],
            Scaler::Robust { center, scale, .. } => (x - center[j]) / scale[j],
        }
    }

    /// Scales rows `(N, F)` in place.
    pub fn transform(&self, rows: &mut [f32]) {
        let f = self.n_features();
        if f == 0 {
            return;
        }
        assert_eq!(rows.len() % f, 0, "rows must be (N, {f})");
        for row in rows.chunks_exact_mut(f) {
            for (j, x) in row.iter_mut().enumerate() {
                *x = saturate(self.apply_f64(j, *x as f64));
            }
        }
    }

    /// Scales every series of `dataset` in place (after checking the features match).
    pub fn transform_dataset(&self, dataset: &mut super::Dataset) -> Result<()> {
        self.check_features(&dataset.feature_names)?;
        for s in &mut dataset.series {
            self.transform(&mut s.features);
        }
        Ok(())
    }

    /// Errors unless `names` are the scaler's features, in order.
    pub fn check_features(&self, names: &[String]) -> Result<()> {
        if names != self.feature_names() {
            return Err(Error::data(format!(
                "the scaler was fitted on {} features ({}...) but the data has {} ({}...)",
                self.n_features(),
                self.feature_names().iter().take(3).cloned().collect::<Vec<_>>().join(", "),
                names.len(),
                names.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
            )));
        }
        Ok(())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a scaler serialises")
    }

    /// Parses a scaler saved by [`to_json`](Self::to_json); `source` names it in errors.
    pub fn from_json(text: &str, source: &str) -> Result<Scaler> {
        let s: Scaler = serde_json::from_str(text)
            .map_err(|e| Error::input(source, Some(e.line() as u64), None, format!("not a kubelstm scaler: {e}")))?;
        let f = s.n_features();
        let ok = match &s {
            Scaler::MinMax { data_min, data_max, scale, offset, .. } => {
                [data_min.len(), data_max.len(), scale.len(), offset.len()].iter().all(|&n| n == f)
                    && scale.iter().chain(offset).all(|v| v.is_finite())
            }
            Scaler::Robust { center, scale, .. } => {
                center.len() == f
                    && scale.len() == f
                    && center.iter().all(|v| v.is_finite())
                    && scale.iter().all(|v| v.is_finite() && *v != 0.0)
            }
        };
        if !ok {
            return Err(Error::input(
                source,
                None,
                None,
                format!("scaler parameters do not match its {f} features or are not finite"),
            ));
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fixture() -> serde_json::Value {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/preprocessing.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }
    fn arr(v: &serde_json::Value) -> Vec<f64> {
        v["data"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
    }
    fn close(got: &[f64], want: &[f64], tol: f64, what: &str) {
        assert_eq!(got.len(), want.len(), "{what}");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!((g - w).abs() <= tol * (1.0 + w.abs()), "{what}[{i}]: {g} vs {w}");
        }
    }

    #[test]
    fn matches_scikit_learn_fixture() {
        let fx = fixture();
        let train = arr(&fx["train"]);
        let test = arr(&fx["test"]);
        let names: Vec<String> = (0..5).map(|i| format!("c{i}")).collect();
        for (kind, key) in [(ScalerKind::MinMax, "minmax"), (ScalerKind::Robust, "robust")] {
            let (s, warnings) = Scaler::fit_f64(kind, &names, &train).unwrap();
            assert!(warnings[0].contains("c2"), "{warnings:?}");
            match &s {
                Scaler::MinMax { data_min, data_max, scale, .. } => {
                    close(data_min, &arr(&fx[key]["data_min"]), 1e-15, "data_min");
                    close(data_max, &arr(&fx[key]["data_max"]), 1e-15, "data_max");
                    close(scale, &arr(&fx[key]["scale"]), 1e-15, "scale");
                }
                Scaler::Robust { center, scale, .. } => {
                    close(center, &arr(&fx[key]["center"]), 1e-15, "center");
                    close(scale, &arr(&fx[key]["scale"]), 1e-15, "scale");
                }
            }
            let apply = |rows: &[f64]| -> Vec<f64> {
                rows.chunks(5).flat_map(|r| r.iter().enumerate().map(|(j, &x)| s.apply_f64(j, x))).collect()
            };
            close(&apply(&train), &arr(&fx[key]["train_scaled"]), 1e-12, "train_scaled f64");
            close(&apply(&test), &arr(&fx[key]["test_scaled"]), 1e-12, "test_scaled f64");
            // The f32 path: fitted on f32 data, transformed in place.
            let mut rows: Vec<f32> = test.iter().map(|&x| x as f32).collect();
            let train32: Vec<f32> = train.iter().map(|&x| x as f32).collect();
            let (s32, _) = Scaler::fit(kind, &names, &[&train32]).unwrap();
            s32.transform(&mut rows);
            let rows: Vec<f64> = rows.iter().map(|&x| x as f64).collect();
            close(&rows, &arr(&fx[key]["test_scaled"]), 1e-5, "test_scaled f32");
        }
    }

    #[test]
    fn json_round_trip_is_exact() {
        let names: Vec<String> = (0..3).map(|i| format!("f{i}")).collect();
        let rows: Vec<f32> = (0..60).map(|i| ((i * 7919) % 101) as f32 * 0.37 + 1.0 / (i as f32 + 3.0)).collect();
        for kind in [ScalerKind::MinMax, ScalerKind::Robust] {
            let (s, _) = Scaler::fit(kind, &names, &[&rows[..30], &rows[30..]]).unwrap();
            let back = Scaler::from_json(&s.to_json(), crate::artifacts::names::SCALER_FILE).unwrap();
            assert_eq!(back, s);
            let (mut a, mut b) = (rows.clone(), rows.clone());
            s.transform(&mut a);
            back.transform(&mut b);
            assert_eq!(
                a.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                b.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
            );
        }
        let e =
            Scaler::from_json("{\"kind\":\"robust\",\"feature_names\":[\"a\"],\"center\":[1],\"scale\":[]}", "s.json")
                .unwrap_err()
                .to_string();
        assert!(e.contains("s.json") && e.contains("do not match"), "{e}");
    }

    fn naive_quantile(v: &[f64], q: f64) -> f64 {
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        let h = (s.len() - 1) as f64 * q;
        let lo = h.floor() as usize;
        let hi = (lo + 1).min(s.len() - 1);
        s[lo] + (s[hi] - s[lo]) * (h - lo as f64)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn quantile_matches_sorting(v in prop::collection::vec(-1e6f64..1e6, 1..50), q in 0.0f64..=1.0) {
            let want = naive_quantile(&v, q);
            let got = quantile(&mut v.clone(), q);
            prop_assert!((got - want).abs() <= 1e-9 * (1.0 + want.abs()));
        }
    }
}
