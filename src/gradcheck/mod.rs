//! Gradient audit: analytic gradients (the hand-written backward passes) against numeric
//! ones, in f64.
//!
//! The numeric derivative is the sixth-order central difference
//!   f'(x) ≈ [−f(x−3h) + 9f(x−2h) − 45f(x−h) + 45f(x+h) − 9f(x+2h) + f(x+3h)] / (60h)
//! with h = 1e-5, of the *same generic forward pass* evaluated in double-double arithmetic
//! ([`DoubleDouble`], ~32 digits). Its truncation error is O(h⁶) ≈ 1e-30 and its rounding
//! error ≈ 1e-31·|L| / h, so the reference is exact to f64 precision. Evaluated in plain f64
//! instead, central differences have a rounding floor near 1e-12, which is the whole
//! tolerance of the audit's measure for gradient entries near 1e-6; a check done that way
//! fails on correct code or must be loosened, and we want neither.
//!
//! The loss is L = ⟨r, y⟩ with a random r, so every output element carries weight. The
//! error measure is |a − n| / max(|a|, |n|, 1e-6) with `a` the f64 analytic gradient. A ReLU
//! kink inside the stencil would make the numeric derivative meaningless: such a point is
//! *redrawn* (new inputs and weights), never excused; the report counts the redraws.

mod double_double;

pub use double_double::DoubleDouble;

use rand::{Rng, SeedableRng};

use crate::Float as _;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::models::{DropoutSeed, Model, ModelConfig, Objective};
use crate::params::standard_normal;
use crate::{Error, Result};

/// The audit bound on the relative error.
pub const TOLERANCE: f64 = 1e-6;

/// |a − n| / max(|a|, |n|, 1e-6).
pub fn relative_error(analytic: f64, numeric: f64) -> f64 {
    (analytic - numeric).abs() / analytic.abs().max(numeric.abs()).max(1e-6)
}

/// Step of the stencil.
pub const STEP: f64 = 1e-5;

const STENCIL: [(f64, f64); 6] = [(-3.0, -1.0), (-2.0, 9.0), (-1.0, -45.0), (1.0, 45.0), (2.0, -9.0), (3.0, 1.0)];

/// Derivative of `f` along coordinate `i` of `x` by the sixth-order central difference,
/// evaluated in double-double. `f` returns `None` where the point is unusable (a ReLU kink
/// was crossed), and then so does this.
pub fn numeric_partial(
    x: &mut [DoubleDouble],
    i: usize,
    mut f: impl FnMut(&[DoubleDouble]) -> Option<DoubleDouble>,
) -> Option<f64> {
    let saved = x[i];
    let mut acc = DoubleDouble::default();
    for (offset, weight) in STENCIL {
        x[i] = saved + DoubleDouble::from_f64(offset * STEP);
        let value = f(x);
        x[i] = saved;
        acc += value? * DoubleDouble::from_f64(weight);
    }
    Some((acc / DoubleDouble::from_f64(60.0 * STEP)).to_f64())
}

/// Numeric gradient of `f` with respect to every element of `x` (see [`numeric_partial`]).
pub fn numeric_gradient(x: &[f64], mut f: impl FnMut(&[DoubleDouble]) -> Option<DoubleDouble>) -> Option<Vec<f64>> {
    let mut xd: Vec<DoubleDouble> = x.iter().map(|&v| DoubleDouble::from_f64(v)).collect();
    (0..x.len()).map(|i| numeric_partial(&mut xd, i, &mut f)).collect()
}

/// Worst errors of one tensor.
#[derive(Clone, Debug, Serialize)]
pub struct TensorCheck {
    pub name: String,
    pub elements: usize,
    pub max_abs_error: f64,
    pub max_rel_error: f64,
}

impl TensorCheck {
    pub fn new(name: impl Into<String>, analytic: &[f64], numeric: &[f64]) -> Self {
        let mut check =
            TensorCheck { name: name.into(), elements: analytic.len(), max_abs_error: 0.0, max_rel_error: 0.0 };
        for (&a, &n) in analytic.iter().zip(numeric) {
            check.max_abs_error = check.max_abs_error.max((a - n).abs());
            check.max_rel_error = check.max_rel_error.max(relative_error(a, n));
        }
        check
    }
    pub fn passed(&self) -> bool {
        self.max_rel_error <= TOLERANCE
    }
}

/// The audit of one model.
#[derive(Clone, Debug, Serialize)]
pub struct ModelCheck {
    pub label: String,
    pub tensors: Vec<TensorCheck>,
    /// Points redrawn because the stencil crossed a ReLU kink.
    pub redraws: usize,
}

impl ModelCheck {
    pub fn passed(&self) -> bool {
        self.tensors.iter().all(TensorCheck::passed)
    }
    pub fn worst(&self) -> f64 {
        self.tensors.iter().map(|t| t.max_rel_error).fold(0.0, f64::max)
    }
}

/// Sizes of the audit model: small, and odd so SIMD tails and uneven shapes run.
#[derive(Clone, Copy, Debug)]
pub struct AuditShape {
    pub steps: usize,
    pub batch: usize,
    pub features: usize,
    pub lstm: [usize; 2],
    pub dense: [usize; 2],
}

impl Default for AuditShape {
    fn default() -> Self {
        AuditShape { steps: 4, batch: 3, features: 5, lstm: [5, 3], dense: [5, 3] }
    }
}

/// Checks every parameter tensor and the input of `config`'s model at `shape`, with dropout
/// active (masks fixed by seed), against the numeric gradient.
pub fn check_model(config: &ModelConfig, shape: AuditShape, seed: u64) -> Result<ModelCheck> {
    let mut cfg = config.clone();
    cfg.features = shape.features;
    cfg.lstm = shape.lstm;
    cfg.dense = shape.dense;
    let model = Model::new(cfg)?;
    let label = match (model.config.arch, model.config.objective) {
        (arch, Objective::Classifier) if arch == crate::models::Arch::Autoencoder => format!("{arch} (supervised)"),
        (arch, Objective::Reconstruction) => format!("{arch} (unsupervised)"),
        (arch, Objective::Forecast) => format!("{arch} (forecaster)"),
        (arch, _) => arch.to_string(),
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    const MAX_REDRAWS: usize = 50;
    for redraw in 0..=MAX_REDRAWS {
        if let Some(tensors) = try_point(&model, shape, &mut rng) {
            return Ok(ModelCheck { label, tensors, redraws: redraw });
        }
    }
    Err(Error::data(format!("{label}: every one of {MAX_REDRAWS} random points sat on a ReLU kink")))
}

/// One random point: `None` if a ReLU kink lies inside some stencil.
fn try_point(model: &Model, shape: AuditShape, rng: &mut ChaCha8Rng) -> Option<Vec<TensorCheck>> {
    let AuditShape { steps, batch, .. } = shape;
    let f = model.config.features;
    // Random weights around Keras' initial values, so no unit starts dead or saturated.
    let mut p: Vec<f64> = model.init_params(rng.random());
    for v in p.iter_mut() {
        *v += 0.2 * standard_normal(rng);
    }
    let x: Vec<f64> = (0..steps * batch * f).map(|_| standard_normal(rng)).collect();
    let r: Vec<f64> = (0..batch).map(|_| standard_normal(rng)).collect();
    let dropout = Some(DropoutSeed { seed: rng.random(), first_sample: 0 });

    let mut ws = model.workspace::<f64>();
    model.forward(&mut ws, &p, &x, steps, batch, dropout);
    let pattern = model.relu_pattern(&ws);
    let mut g = model.layout.zeros::<f64>();
    let mut dx = vec![0.0; x.len()];
    model.backward(&mut ws, &mut g, &p, &x, &r, Some(&mut dx));

    // The reference: the same forward pass in double-double.
    let mut ws_dd = model.workspace::<DoubleDouble>();
    let r_dd: Vec<DoubleDouble> = r.iter().map(|&v| DoubleDouble::from_f64(v)).collect();
    let mut loss = |p: &[DoubleDouble], x: &[DoubleDouble]| -> Option<DoubleDouble> {
        let out = model.forward(&mut ws_dd, p, x, steps, batch, dropout);
        let value = out.iter().zip(&r_dd).map(|(&o, &r)| o * r).sum();
        (model.relu_pattern(&ws_dd) == pattern).then_some(value)
    };
    let to_dd = |v: &[f64]| -> Vec<DoubleDouble> { v.iter().map(|&v| DoubleDouble::from_f64(v)).collect() };
    let x_dd = to_dd(&x);
    let mut p_dd = to_dd(&p);
    let mut checks = Vec::new();
    for tensor in model.layout.tensors() {
        let mut numeric = Vec::with_capacity(tensor.span.len);
        for i in tensor.span.range() {
            numeric.push(numeric_partial(&mut p_dd, i, |p| loss(p, &x_dd))?);
        }
        checks.push(TensorCheck::new(tensor.name.clone(), tensor.span.of(&g), &numeric));
    }
    let numeric = numeric_gradient(&x, |x| loss(&p_dd, x))?;
    checks.push(TensorCheck::new("input x", &dx, &numeric));
    Some(checks)
}
