//! Features of a row from its own ≤3-row neighbourhood, computed incrementally per series.
//!
//! For a series value `x` at row `t` (rows of one pod, time-sorted, after missing-value fill):
//!
//! ```text
//!   rate_t            = x_t − x_{t−1}                       (0 at t = 0)
//!   rate_change_t     = rate_t − rate_{t−1}                 (0 at t = 0; rate_{−1} = 0)
//!                     = (x_t − x_{t−1}) − (x_{t−1} − x_{t−2})
//!   rolling_mean_3_t  = mean(x_{t−k}, k < n),  n = min(t+1, 3)
//!   rolling_std_3_t   = sqrt(Σ (x_{t−k} − mean)² / (n − 1))  (sample std; 0 when n = 1)
//! ```
//!
//! These are pandas' `diff().fillna(0)`, `rolling(3, min_periods=1).mean()` and
//! `.std().fillna(0)` (checked against `tests/fixtures/preprocessing.json`). Each feature depends
//! on at most the current row and the two before it, and is computed *directly from those ≤3
//! values* in f64, then rounded once to f32 — no running sums. [`FeatureBuilder`] keeps those
//! rows per series; batch loading pushes every row through it, and `detect --follow` does the
//! same one row at a time, so streaming features equal batch features bit for bit by
//! construction.
//!
//! Values beyond the f32 range saturate at ±`f32::MAX` (only reachable with inputs near it).
//!
//! A [`FeaturePlan`] lists the output features as [`Derivation`]s of the raw numeric columns
//! `(R,)`; selecting a model's saved feature names is a new plan with a subset of outputs.
//!
//! Files: `derivation.rs` (one feature of one row), `plan.rs` (the features of a load),
//! `builder.rs` (one series' state).

mod builder;
mod derivation;
mod plan;

pub use builder::{FeatureBuilder, Pushed};
pub use derivation::{saturate, Derivation, Neighbourhood};
pub use plan::FeaturePlan;

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::data::options::MissingPolicy;
    use proptest::prelude::*;

    /// Naive whole-series versions (pandas' definitions, f64 throughout).
    fn naive_rate(s: &[f64]) -> Vec<f64> {
        (0..s.len()).map(|t| if t == 0 { 0.0 } else { s[t] - s[t - 1] }).collect()
    }
    fn naive_window(s: &[f64], t: usize) -> &[f64] {
        &s[t.saturating_sub(2)..=t]
    }
    fn naive_mean(w: &[f64]) -> f64 {
        w.iter().sum::<f64>() / w.len() as f64
    }
    fn naive_std(w: &[f64]) -> f64 {
        if w.len() < 2 {
            return 0.0;
        }
        let m = naive_mean(w);
        (w.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (w.len() - 1) as f64).sqrt()
    }

    fn one_column(values: &[f32]) -> Vec<[f32; 4]> {
        let plan = Arc::new(FeaturePlan::generic(&["x".to_string()], true, MissingPolicy::ForwardFill).unwrap());
        assert_eq!(plan.names(), ["x", "x_rate", "x_rate_change", "x_rolling_mean_3", "x_rolling_std_3"]);
        let mut b = FeatureBuilder::new(plan);
        let mut out = [0.0f32; 5];
        values
            .iter()
            .map(|&v| {
                assert!(b.push_features(&[v], &mut out));
                [out[1], out[2], out[3], out[4]]
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn rolling_and_differences_match_naive(values in prop::collection::vec(-1.0e4f32..1.0e4, 1..40)) {
            let s: Vec<f64> = values.iter().map(|&v| v as f64).collect();
            let rate = naive_rate(&s);
            let rate_change = naive_rate(&rate);
            let got = one_column(&values);
            for t in 0..s.len() {
                let w = naive_window(&s, t);
                // Same f64 arithmetic on the same inputs, one rounding to f32: equal exactly
                // for differences, to a few ulps for mean/std (summation order may differ).
                prop_assert_eq!(got[t][0], rate[t] as f32);
                prop_assert_eq!(got[t][1], rate_change[t] as f32);
                let tol = |x: f64| 1e-6 * (1.0 + x.abs()) as f32;
                prop_assert!((got[t][2] - naive_mean(w) as f32).abs() <= tol(naive_mean(w)));
                prop_assert!((got[t][3] - naive_std(w) as f32).abs() <= tol(naive_std(w)));
            }
        }

        #[test]
        fn forward_fill_matches_naive(values in prop::collection::vec(prop::option::weighted(0.7, -100.0f32..100.0), 1..30)) {
            // Naive: ffill the whole series, then drop the leading rows that stay missing.
            let mut last = None;
            let filled: Vec<Option<f32>> = values.iter().map(|v| { if v.is_some() { last = *v; } last }).collect();
            let kept: Vec<f32> = filled.iter().flatten().copied().collect();
            let plan = Arc::new(FeaturePlan::generic(&["x".to_string()], true, MissingPolicy::ForwardFill).unwrap());
            let mut b = FeatureBuilder::new(plan);
            let mut out = [0.0f32; 5];
            let mut got = Vec::new();
            for v in &values {
                if b.push_features(&[v.unwrap_or(f32::NAN)], &mut out) {
                    got.push(out[0]);
                }
            }
            prop_assert_eq!(got, kept);
        }
    }

    #[test]
    fn matches_pandas_fixture() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/preprocessing.json")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let data =
            |k: &str| -> Vec<f64> { v[k]["data"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect() };
        let series: Vec<f32> = data("series").iter().map(|&x| x as f32).collect();
        let got = one_column(&series);
        for (i, key) in ["rate", "rate_change", "rolling_mean_3", "rolling_std_3"].iter().enumerate() {
            for (t, want) in data(key).iter().enumerate() {
                assert!(
                    (got[t][i] as f64 - want).abs() <= 1e-6 * (1.0 + want.abs()),
                    "{key}[{t}]: {} vs {want}",
                    got[t][i]
                );
            }
        }
    }

    #[test]
    fn ratio_divisor_zero_is_one() {
        let d = Derivation::Ratio { num: 0, den: 1 };
        assert_eq!(d.eval(&Neighbourhood::from_rows(&[&[3.0, 0.0]])), 3.0);
        assert_eq!(d.eval(&Neighbourhood::from_rows(&[&[3.0, 4.0]])), 0.75);
    }

    #[test]
    fn missing_policies() {
        let names = ["a".to_string(), "b".to_string()];
        let nan = f32::NAN;
        for (policy, want) in [
            (MissingPolicy::ForwardFill, vec![Pushed::NoPriorValue, Pushed::Accepted, Pushed::Accepted]),
            (MissingPolicy::Zero, vec![Pushed::Accepted; 3]),
            (MissingPolicy::Drop, vec![Pushed::MissingValue, Pushed::Accepted, Pushed::MissingValue]),
        ] {
            let mut b = FeatureBuilder::new(Arc::new(FeaturePlan::generic(&names, false, policy).unwrap()));
            let got: Vec<Pushed> = [[1.0, nan], [2.0, 5.0], [nan, 6.0]].iter().map(|r| b.push(r)).collect();
            assert_eq!(got, want, "{policy:?}");
            let mut out = [0.0; 2];
            b.features(&mut out);
            match policy {
                MissingPolicy::ForwardFill => assert_eq!((out, b.filled_counts()), ([2.0, 6.0], &[1u64, 0][..])),
                MissingPolicy::Zero => assert_eq!((out, b.filled_counts()), ([0.0, 6.0], &[1u64, 1][..])),
                _ => assert_eq!((out, b.filled_counts()), ([2.0, 5.0], &[0u64, 0][..])),
            }
        }
    }
}
