//! Peaks over threshold (POT): a threshold set from the shape of the score tail, by extreme
//! value theory (Siffer et al., "Anomaly detection in streams with extreme value theory",
//! KDD 2017, the SPOT paper's initialisation step).
//!
//! ## Why
//!
//! A percentile threshold flags a fixed share of the calibration windows by construction:
//! the 95th percentile of normal validation scores calls 5 % of normal windows anomalous,
//! whatever the scores look like. POT instead asks for a *risk* `q` (say 1e-4, the
//! probability that a normal window's score exceeds the threshold) and extrapolates the tail
//! of the calibration scores to it, so the threshold lands far out when the tail is heavy and
//! close in when it is light.
//!
//! ## How it is meant to be used
//!
//! On the **validation** scores of a model trained on normal data (never on the test split,
//! never on labels): `pot_threshold(&validation_scores, 1e-4, 0.98)`; the [`PotFit`] is saved
//! beside the other thresholds in the model's threshold artifact, so the choice can be
//! audited. The risk must stay below `N_t / n` (the share of scores above the initial
//! threshold), and at least [`MIN_EXCESSES`] scores must be above it for the fit to mean
//! anything.
//!
//! ## Equations
//!
//! ```text
//! t      = initial_quantile-th percentile of the n scores (numpy's linear percentile)
//! y_i    = s_i − t for the N_t scores s_i > t                        (the excesses)
//! GPD    P(Y > y) = (1 + γ y / σ)^(−1/γ)      (γ = 0: exp(−y / σ))
//! log L(γ, σ) = −N_t ln σ − (1 + 1/γ) Σ ln(1 + γ y_i / σ)   (γ = 0: −N_t ln σ − Σ y_i / σ)
//! z_q    = t + σ/γ · ((q n / N_t)^(−γ) − 1)       (γ = 0: t − σ ln(q n / N_t))
//! ```
//!
//! The maximum-likelihood fit uses Grimshaw's reparametrisation `x = γ / σ`: for a fixed `x`
//! the likelihood is maximised by `γ(x) = (1/N_t) Σ ln(1 + x y_i)`, `σ = γ(x) / x`, leaving the
//! one-dimensional profile
//!
//! ```text
//! ℓ(x) = −N_t (ln(γ(x) / x) + γ(x) + 1)        (x → 0: −N_t (ln ȳ + 1), the exponential)
//! ```
//!
//! on `x > −1 / max y`. Rather than Grimshaw's root finding on ℓ′ (which can miss roots), ℓ
//! is evaluated on a log-spaced grid over both signs of `x`, and the best grid point is refined
//! by golden-section search between its neighbours. The GPD likelihood is unbounded as
//! `γ → −∞` at the edge `x → −1 / max y` (for γ < −1), so the search keeps to `γ(x) ≥ −1`,
//! where the maximum-likelihood estimator is defined (Smith 1985); the exponential `x = 0` is
//! always a candidate.

use serde::{Deserialize, Serialize};

use super::{check_finite, percentile};
use crate::{Error, Result};

/// Fewest excesses over the initial threshold a fit accepts.
pub const MIN_EXCESSES: usize = 10;

/// A fitted POT threshold, saved with the model's thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PotFit {
    /// `z_q`: the score a normal window exceeds with probability `risk`.
    pub threshold: f64,
    /// The risk `q` the threshold was set at.
    pub risk: f64,
    /// `t`: the `initial_quantile` percentile of the calibration scores.
    pub initial_threshold: f64,
    pub initial_quantile: f64,
    /// GPD shape γ (0: exponential tail; > 0 heavy; < 0 bounded, ending at t + σ/|γ|).
    pub shape_gamma: f64,
    /// GPD scale σ.
    pub scale_sigma: f64,
    /// `N_t`: scores strictly above `t`.
    pub excesses: usize,
    /// `n`: calibration scores.
    pub n: usize,
}

/// |γ| below this is treated as the exponential (γ = 0) in the quantile formula, where
/// σ/γ · (a^(−γ) − 1) loses all its digits to cancellation.
const GAMMA_ZERO: f64 = 1e-9;
/// Grid points per sign of `x`.
const GRID: usize = 200;

/// Log-likelihood of a GPD(γ, σ) for excesses `y` (all > 0); `-inf` outside the support.
pub fn gpd_log_likelihood(y: &[f64], gamma: f64, sigma: f64) -> f64 {
    if sigma.is_nan() || sigma <= 0.0 {
        return f64::NEG_INFINITY;
    }
    let n = y.len() as f64;
    if gamma.abs() < GAMMA_ZERO {
        return -n * sigma.ln() - y.iter().sum::<f64>() / sigma;
    }
    let mut s = 0.0;
    for &v in y {
        let u = gamma * v / sigma;
        if u.is_nan() || u <= -1.0 {
            return f64::NEG_INFINITY;
        }
        s += u.ln_1p();
    }
    -n * sigma.ln() - (1.0 + 1.0 / gamma) * s
}

/// Profile of Grimshaw's `x`: `(ℓ(x), γ(x), σ(x))`; `None` outside `γ ≥ −1` or the support.
fn profile(y: &[f64], mean: f64, x: f64) -> Option<(f64, f64, f64)> {
    let n = y.len() as f64;
    if x == 0.0 {
        return Some((-n * (mean.ln() + 1.0), 0.0, mean));
    }
    let mut s = 0.0;
    for &v in y {
        let u = x * v;
        if u.is_nan() || u <= -1.0 {
            return None;
        }
        s += u.ln_1p();
    }
    let gamma = s / n;
    let sigma = gamma / x;
    if gamma < -1.0 || !sigma.is_finite() || sigma <= 0.0 {
        return None;
    }
    // −N ln σ − (1 + 1/γ) N γ = −N (ln σ + γ + 1)
    Some((-n * (sigma.ln() + gamma + 1.0), gamma, sigma))
}

/// Maximum-likelihood GPD fit `(γ, σ)` to the excesses `y` (all > 0, at least two distinct).
pub fn fit_gpd(y: &[f64]) -> (f64, f64) {
    let n = y.len() as f64;
    let mean = y.iter().sum::<f64>() / n;
    let (ymin, ymax) = y.iter().fold((f64::INFINITY, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
    // The grid in x: negative side log-spaced towards the edge −1/ymax (to within 1e-12), the
    // exponential at 0, positive side log-spaced from 1e-8/ymax to Grimshaw's upper bound
    // 2(ȳ − y_min)/y_min² (where every root of ℓ′ lies), capped so x·ymax stays below 1e12.
    let upper = (2.0 * (mean - ymin) / (ymin * ymin)).min(1e12 / ymax).max(1e-6 / ymax);
    let mut xs = Vec::with_capacity(2 * GRID + 1);
    for i in 0..GRID {
        // x ymax = −c/(1 + c), c log-spaced 1e-8 .. 1e12: from next to 0 to within 1e-12 of the edge.
        let c = 10f64.powf(-8.0 + 20.0 * i as f64 / (GRID - 1) as f64);
        xs.push(-c / (1.0 + c) / ymax);
    }
    xs.push(0.0);
    let lo = (1e-8 / ymax).ln();
    let hi = upper.ln().max(lo);
    for i in 0..GRID {
        xs.push((lo + (hi - lo) * i as f64 / (GRID - 1) as f64).exp());
    }
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let values: Vec<f64> = xs.iter().map(|&x| profile(y, mean, x).map_or(f64::NEG_INFINITY, |p| p.0)).collect();
    let best = (0..xs.len()).max_by(|&a, &b| values[a].total_cmp(&values[b])).unwrap_or(0);
    let (mut a, mut b) = (xs[best.saturating_sub(1)], xs[(best + 1).min(xs.len() - 1)]);
    // Golden-section search for the maximum of ℓ on [a, b] (unimodal there at grid resolution).
    let f = |x: f64| profile(y, mean, x).map_or(f64::NEG_INFINITY, |p| p.0);
    let r = (5f64.sqrt() - 1.0) / 2.0;
    let mut c = b - r * (b - a);
    let mut d = a + r * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..200 {
        if (b - a).abs() <= 1e-15 * (a.abs() + b.abs()) {
            break;
        }
        if fc >= fd {
            b = d;
            d = c;
            fd = fc;
            c = b - r * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + r * (b - a);
            fd = f(d);
        }
    }
    let mut candidates = vec![xs[best], c, d, 0.0];
    candidates.retain(|x| x.is_finite());
    let x = candidates.into_iter().max_by(|&p, &q| f(p).total_cmp(&f(q))).unwrap_or(0.0);
    match profile(y, mean, x) {
        Some((_, gamma, sigma)) => (gamma, sigma),
        None => (0.0, mean),
    }
}

/// The POT threshold of `calibration_scores` at `risk` (probability that a normal score
/// exceeds it), from a GPD fitted to the scores above their `initial_quantile` (0.98 in the
/// SPOT paper) percentile. See the module documentation for the equations and the errors.
pub fn pot_threshold(calibration_scores: &[f64], risk: f64, initial_quantile: f64) -> Result<PotFit> {
    if !(risk > 0.0 && risk < 1.0) {
        return Err(Error::config(format!("POT: the risk must be between 0 and 1 (exclusive), got {risk}")));
    }
    if !(initial_quantile > 0.0 && initial_quantile < 1.0) {
        return Err(Error::config(format!(
            "POT: the initial quantile must be between 0 and 1 (exclusive), got {initial_quantile}"
        )));
    }
    if calibration_scores.is_empty() {
        return Err(Error::data("POT: no calibration scores to fit a tail to"));
    }
    check_finite(calibration_scores, "calibration scores")?;
    let n = calibration_scores.len();
    let (lo, hi) =
        calibration_scores.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    if lo == hi {
        return Err(Error::data(format!("POT: all {n} calibration scores are equal ({lo}): there is no tail to fit")));
    }
    let t = percentile(calibration_scores, initial_quantile * 100.0)?;
    let y: Vec<f64> = calibration_scores.iter().filter(|&&s| s > t).map(|&s| s - t).collect();
    let nt = y.len();
    if nt < MIN_EXCESSES {
        return Err(Error::data(format!(
            "POT: only {nt} of {n} calibration scores are above the initial threshold {t} (the {}th \
             percentile); a tail fit needs at least {MIN_EXCESSES}: use more validation windows or a lower \
             initial quantile",
            initial_quantile * 100.0
        )));
    }
    let supported = nt as f64 / n as f64;
    if risk >= supported {
        return Err(Error::config(format!(
            "POT: risk {risk} is not below the share of calibration scores above the initial threshold, \
             {nt}/{n} = {supported:.3e}: this data supports a risk below {supported:.3e} (the percentile \
             threshold covers larger risks)"
        )));
    }
    let (gamma, sigma) = fit_gpd(&y);
    let ratio = risk * n as f64 / nt as f64;
    let threshold =
        if gamma.abs() < GAMMA_ZERO { t - sigma * ratio.ln() } else { t + sigma / gamma * (ratio.powf(-gamma) - 1.0) };
    Ok(PotFit {
        threshold,
        risk,
        initial_threshold: t,
        initial_quantile,
        shape_gamma: gamma,
        scale_sigma: sigma,
        excesses: nt,
        n,
    })
}
