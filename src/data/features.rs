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

use std::sync::Arc;

use super::names::{quoted, quoted_list};
use super::options::MissingPolicy;
use super::schema;
use crate::{Error, Result};

/// How one output feature derives from the raw columns (indices into the raw row `(R,)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Derivation {
    Raw(usize),
    Rate(usize),
    RateChange(usize),
    RollingMean3(usize),
    RollingStd3(usize),
    /// `num / den`, a divisor of 0 taken as 1 (the original's `replace(0, 1)`).
    Ratio {
        num: usize,
        den: usize,
    },
    Sum(usize, usize),
}

/// The current row and up to two before it, all filled: `rows[0]` is row t, `rows[1]` row t−1,
/// `rows[2]` row t−2; only the first `len` are valid.
#[derive(Clone, Copy, Debug)]
pub struct Neighbourhood<'a> {
    pub rows: [&'a [f32]; 3],
    pub len: usize,
}

impl Neighbourhood<'_> {
    /// A neighbourhood from explicit rows, most recent first (1 to 3 rows).
    pub fn from_rows<'a>(rows: &[&'a [f32]]) -> Neighbourhood<'a> {
        assert!((1..=3).contains(&rows.len()), "a neighbourhood has 1 to 3 rows");
        let mut r = [rows[0]; 3];
        r[..rows.len()].copy_from_slice(rows);
        Neighbourhood { rows: r, len: rows.len() }
    }
    fn x(&self, k: usize, c: usize) -> f64 {
        self.rows[k][c] as f64
    }
}

impl Derivation {
    /// The feature value at the neighbourhood's current row.
    pub fn eval(&self, nb: &Neighbourhood<'_>) -> f32 {
        let n = nb.len;
        let v = match *self {
            Derivation::Raw(c) => nb.x(0, c),
            Derivation::Rate(c) => {
                if n >= 2 {
                    nb.x(0, c) - nb.x(1, c)
                } else {
                    0.0
                }
            }
            Derivation::RateChange(c) => match n {
                1 => 0.0,
                2 => nb.x(0, c) - nb.x(1, c),
                _ => (nb.x(0, c) - nb.x(1, c)) - (nb.x(1, c) - nb.x(2, c)),
            },
            Derivation::RollingMean3(c) => (0..n).map(|k| nb.x(k, c)).sum::<f64>() / n as f64,
            Derivation::RollingStd3(c) => {
                if n < 2 {
                    0.0
                } else {
                    let mean = (0..n).map(|k| nb.x(k, c)).sum::<f64>() / n as f64;
                    let ss: f64 = (0..n).map(|k| (nb.x(k, c) - mean).powi(2)).sum();
                    (ss / (n - 1) as f64).sqrt()
                }
            }
            Derivation::Ratio { num, den } => {
                let d = nb.x(0, den);
                nb.x(0, num) / if d == 0.0 { 1.0 } else { d }
            }
            Derivation::Sum(a, b) => nb.x(0, a) + nb.x(0, b),
        };
        saturate(v)
    }
}

/// `v` rounded to f32, saturating at ±`f32::MAX` (differences and sums of values near the
/// f32 limit would otherwise overflow to infinity).
#[inline]
pub fn saturate(v: f64) -> f32 {
    v.clamp(-(f32::MAX as f64), f32::MAX as f64) as f32
}

/// The output features of a load, as derivations of the raw numeric columns.
#[derive(Clone, Debug, PartialEq)]
pub struct FeaturePlan {
    raw_names: Vec<String>,
    names: Vec<String>,
    derivations: Vec<Derivation>,
    missing: MissingPolicy,
}

fn push_derived(names: &mut Vec<String>, ders: &mut Vec<Derivation>, name: &str, c: usize) {
    names.push(format!("{name}_rate"));
    ders.push(Derivation::Rate(c));
    names.push(format!("{name}_rate_change"));
    ders.push(Derivation::RateChange(c));
    names.push(format!("{name}_rolling_mean_3"));
    ders.push(Derivation::RollingMean3(c));
    names.push(format!("{name}_rolling_std_3"));
    ders.push(Derivation::RollingStd3(c));
}

impl FeaturePlan {
    /// The original project's features for the Kubernetes schema. `raw_names` are the numeric
    /// columns present, a subsequence of [`schema::NUMERIC`] that holds every required one:
    /// the raw columns themselves, then the four derived features of each base metric, then
    /// `Container_Readiness_Ratio`, `CPU_Utilization_Ratio` and `Memory_Utilization_Ratio`
    /// (when limits exist), `Network_Total_Bytes`, `FS_Total_Operations`.
    pub fn kubernetes(raw_names: &[String], missing: MissingPolicy) -> FeaturePlan {
        let col = |n: &str| raw_names.iter().position(|r| r == n);
        let req = |n: &str| col(n).unwrap_or_else(|| panic!("required column {n} resolved"));
        let mut names: Vec<String> = raw_names.to_vec();
        let mut ders: Vec<Derivation> = (0..raw_names.len()).map(Derivation::Raw).collect();
        for base in schema::BASE_METRICS {
            push_derived(&mut names, &mut ders, base, req(base));
        }
        names.push("Container_Readiness_Ratio".into());
        ders.push(Derivation::Ratio { num: req(schema::READY_CONTAINERS), den: req(schema::TOTAL_CONTAINERS) });
        if let Some(den) = col(schema::CPU_LIMITS) {
            names.push("CPU_Utilization_Ratio".into());
            ders.push(Derivation::Ratio { num: req(schema::CPU_USAGE), den });
        }
        if let Some(den) = col(schema::MEMORY_LIMITS) {
            names.push("Memory_Utilization_Ratio".into());
            ders.push(Derivation::Ratio { num: req(schema::MEMORY_MB), den });
        }
        names.push("Network_Total_Bytes".into());
        ders.push(Derivation::Sum(req(schema::NET_RX_BYTES), req(schema::NET_TX_BYTES)));
        names.push("FS_Total_Operations".into());
        ders.push(Derivation::Sum(req(schema::FS_READS), req(schema::FS_WRITES)));
        FeaturePlan { raw_names: raw_names.to_vec(), names, derivations: ders, missing }
    }

    /// Generic mode: the raw columns as they are, plus the four derived features of each when
    /// `derived`.
    pub fn generic(raw_names: &[String], derived: bool, missing: MissingPolicy) -> Result<FeaturePlan> {
        let mut names: Vec<String> = raw_names.to_vec();
        let mut ders: Vec<Derivation> = (0..raw_names.len()).map(Derivation::Raw).collect();
        if derived {
            for (c, name) in raw_names.iter().enumerate() {
                push_derived(&mut names, &mut ders, name, c);
            }
        }
        let mut seen = std::collections::HashSet::with_capacity(names.len());
        if let Some(n) = names.iter().find(|n| !seen.insert(n.as_str())) {
            return Err(Error::config(format!(
                "feature name {} would occur twice (a column already has a derived feature's name); \
                 rename the column or leave out --derived-features",
                quoted(n)
            )));
        }
        Ok(FeaturePlan { raw_names: raw_names.to_vec(), names, derivations: ders, missing })
    }

    /// The plan restricted to `wanted` (a model's feature names), in that order. Errors list
    /// every name this file cannot provide.
    pub fn select(&self, file: &str, wanted: &[String]) -> Result<FeaturePlan> {
        let mut derivations = Vec::with_capacity(wanted.len());
        let mut missing = Vec::new();
        let mut position = std::collections::HashMap::with_capacity(self.names.len());
        for (i, n) in self.names.iter().enumerate() {
            position.entry(n.as_str()).or_insert(i);
        }
        for w in wanted {
            match position.get(w.as_str()) {
                Some(&i) => derivations.push(self.derivations[i]),
                None => missing.push(quoted(w)),
            }
        }
        if !missing.is_empty() {
            return Err(Error::schema(
                file,
                format!(
                    "the model needs feature{} {} which this file cannot provide (it has the columns for: {}); \
                     score a file with the columns the model was trained on",
                    if missing.len() == 1 { "" } else { "s" },
                    missing.join(", "),
                    quoted_list(&self.raw_names)
                ),
            ));
        }
        Ok(FeaturePlan {
            raw_names: self.raw_names.clone(),
            names: wanted.to_vec(),
            derivations,
            missing: self.missing,
        })
    }

    /// Output feature names `(F,)`.
    pub fn names(&self) -> &[String] {
        &self.names
    }
    /// Raw numeric input columns `(R,)`.
    pub fn raw_names(&self) -> &[String] {
        &self.raw_names
    }
    pub fn derivations(&self) -> &[Derivation] {
        &self.derivations
    }
    pub fn n_features(&self) -> usize {
        self.names.len()
    }
    pub fn n_raw(&self) -> usize {
        self.raw_names.len()
    }
    pub fn missing(&self) -> MissingPolicy {
        self.missing
    }
    /// Writes the features of the neighbourhood's current row. `out`: `(F,)`.
    pub fn compute(&self, nb: &Neighbourhood<'_>, out: &mut [f32]) {
        assert_eq!(out.len(), self.derivations.len(), "feature row length");
        for (o, d) in out.iter_mut().zip(&self.derivations) {
            *o = d.eval(nb);
        }
    }
}

/// Why [`FeatureBuilder::push`] did not accept a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushed {
    Accepted,
    /// Forward fill: a value is missing and the series has not seen that column yet.
    NoPriorValue,
    /// `--missing drop` (or `error`, defensively): a value is missing.
    MissingValue,
}

/// Per-series incremental feature state: the last three accepted (filled) raw rows and the
/// forward-fill memory. Bounded: `O(R)` floats whatever the series length.
#[derive(Clone, Debug)]
pub struct FeatureBuilder {
    plan: Arc<FeaturePlan>,
    ring: Vec<f32>, // (3, R) accepted rows; slot `head` is the most recent
    head: usize,
    len: usize,          // accepted rows, saturating at 3
    last_seen: Vec<f32>, // (R,) last observed value per column, NaN before the first
    scratch: Vec<f32>,   // (R,) the row being filled
    filled: Vec<u64>,    // (R,) values filled (forward fill or zero) per column
    accepted: u64,
}

impl FeatureBuilder {
    pub fn new(plan: Arc<FeaturePlan>) -> FeatureBuilder {
        let r = plan.n_raw();
        FeatureBuilder {
            plan,
            ring: vec![0.0; 3 * r],
            head: 0,
            len: 0,
            last_seen: vec![f32::NAN; r],
            scratch: vec![0.0; r],
            filled: vec![0; r],
            accepted: 0,
        }
    }

    pub fn plan(&self) -> &FeaturePlan {
        &self.plan
    }

    /// Offers the next raw row of this series (`(R,)`, NaN = missing; rows in time order).
    /// Missing values are filled per the plan's policy; an accepted row becomes the current
    /// row of [`neighbourhood`](Self::neighbourhood).
    pub fn push(&mut self, raw: &[f32]) -> Pushed {
        let r = self.plan.n_raw();
        assert_eq!(raw.len(), r, "raw row length");
        let policy = self.plan.missing();
        let mut outcome = Pushed::Accepted;
        for ((slot, &v), last) in self.scratch.iter_mut().zip(raw).zip(self.last_seen.iter_mut()) {
            *slot = if v.is_nan() {
                match policy {
                    MissingPolicy::ForwardFill if !last.is_nan() => *last,
                    MissingPolicy::ForwardFill => {
                        outcome = Pushed::NoPriorValue;
                        v
                    }
                    MissingPolicy::Zero => 0.0,
                    MissingPolicy::Drop | MissingPolicy::Error => {
                        outcome = Pushed::MissingValue;
                        v
                    }
                }
            } else {
                // Observed values feed the forward fill even when the row itself is dropped
                // (pandas: groupby().ffill() before dropna()).
                *last = v;
                v
            };
        }
        if outcome != Pushed::Accepted {
            return outcome;
        }
        for (count, v) in self.filled.iter_mut().zip(raw) {
            *count += v.is_nan() as u64;
        }
        self.head = (self.head + 1) % 3;
        self.ring[self.head * r..(self.head + 1) * r].copy_from_slice(&self.scratch);
        self.len = (self.len + 1).min(3);
        self.accepted += 1;
        Pushed::Accepted
    }

    /// The last accepted row and up to two before it. Panics before the first accepted row.
    pub fn neighbourhood(&self) -> Neighbourhood<'_> {
        assert!(self.len > 0, "no row accepted yet");
        let r = self.plan.n_raw();
        let slot = |k: usize| {
            let s = (self.head + 3 - k) % 3;
            &self.ring[s * r..(s + 1) * r]
        };
        Neighbourhood { rows: [slot(0), slot(1), slot(2)], len: self.len }
    }

    /// Features of the last accepted row. `out`: `(F,)`.
    pub fn features(&self, out: &mut [f32]) {
        self.plan.compute(&self.neighbourhood(), out);
    }

    /// [`push`](Self::push) then [`features`](Self::features); false when the row was dropped.
    pub fn push_features(&mut self, raw: &[f32], out: &mut [f32]) -> bool {
        if self.push(raw) == Pushed::Accepted {
            self.features(out);
            true
        } else {
            false
        }
    }

    /// Values filled so far, per raw column `(R,)`.
    pub fn filled_counts(&self) -> &[u64] {
        &self.filled
    }
    pub fn accepted(&self) -> u64 {
        self.accepted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
