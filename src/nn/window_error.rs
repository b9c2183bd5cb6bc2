//! The squared error of one window: the output, and the training loss, of the unsupervised
//! models (the autoencoder's reconstruction of its whole window, a forecaster's prediction of
//! its window's last row). Over `S` steps of a time-major batch `(S, B, F)`:
//!   err_b      = 1/(S·F) Σ_s Σ_f w_f (p_{s,b,f} − y_{s,b,f})²
//!   part_{b,f} = 1/S Σ_s (p_{s,b,f} − y_{s,b,f})²        (unweighted, per feature)
//!   ∂err_b/∂p_{s,b,f} = 2 w_f (p − y) / (S·F),   ∂err_b/∂y = −∂err_b/∂p
//! `w` are the per-feature weights of the score (1 / each feature's mean error on validation
//! windows, so that one noisy metric does not drown the others); `None` is w_f = 1, plain MSE,
//! with the same bits (1·v = v exactly). Training always runs with `None`; the parts are what
//! explanations and the weights' calibration read.

use super::resize;
use crate::Float;

/// Shape of one error evaluation: `S` steps, `B` windows, `F` features.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorShape {
    pub steps: usize,
    pub batch: usize,
    pub features: usize,
}

/// Writes `err (B)` and `parts (B, F)` for predictions `p` and targets `y`, both `(S, B, F)`.
pub fn window_error_forward<F: Float>(
    err: &mut Vec<F>,
    parts: &mut Vec<F>,
    p: &[F],
    y: &[F],
    shape: ErrorShape,
    weights: Option<&[f64]>,
) {
    let ErrorShape { steps, batch, features: f } = shape;
    assert!(p.len() == steps * batch * f && y.len() == p.len(), "window error: p and y must be (S, B, F)");
    resize(err, batch);
    resize(parts, batch * f);
    err.fill(F::ZERO);
    parts.fill(F::ZERO);
    let weight = |j: usize| weights.map_or(F::ONE, |w| F::from_f64(w[j]));
    for s in 0..steps {
        for b in 0..batch {
            let row = (s * batch + b) * f;
            let mut sum = F::ZERO;
            for j in 0..f {
                let d = p[row + j] - y[row + j];
                let sq = d * d;
                parts[b * f + j] += sq;
                sum += weight(j) * sq;
            }
            err[b] += sum;
        }
    }
    let inv = F::ONE / F::from_usize(steps * f);
    err.iter_mut().for_each(|e| *e *= inv);
    let inv_steps = F::ONE / F::from_usize(steps);
    parts.iter_mut().for_each(|e| *e *= inv_steps);
}

/// Overwrites `d_p (S, B, F)` with ∂L/∂p from `d_err (B)`; the gradient of `y` is `−d_p`.
pub fn window_error_backward<F: Float>(
    d_p: &mut Vec<F>,
    d_err: &[F],
    p: &[F],
    y: &[F],
    shape: ErrorShape,
    weights: Option<&[f64]>,
) {
    let ErrorShape { steps, batch, features: f } = shape;
    assert_eq!(d_err.len(), batch, "window error: d_err must be (B)");
    resize(d_p, p.len());
    let scale = F::from_f64(2.0) / F::from_usize(steps * f);
    let weight = |j: usize| weights.map_or(F::ONE, |w| F::from_f64(w[j]));
    for s in 0..steps {
        for (b, &d) in d_err.iter().enumerate() {
            let row = (s * batch + b) * f;
            let k = d * scale;
            for j in 0..f {
                d_p[row + j] = k * (weight(j) * (p[row + j] - y[row + j]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_weights_are_plain_mse_and_parts_average_over_steps() {
        // S = 2, B = 1, F = 2: differences (1, 2) then (3, 0).
        let p = [1.0, 2.0, 3.0, 0.0];
        let y = [0.0; 4];
        let shape = ErrorShape { steps: 2, batch: 1, features: 2 };
        let (mut err, mut parts) = (Vec::new(), Vec::new());
        window_error_forward::<f64>(&mut err, &mut parts, &p, &y, shape, None);
        assert_eq!(err, vec![(1.0 + 4.0 + 9.0) / 4.0]);
        assert_eq!(parts, vec![(1.0 + 9.0) / 2.0, 4.0 / 2.0]);
        window_error_forward::<f64>(&mut err, &mut parts, &p, &y, shape, Some(&[0.5, 2.0]));
        assert_eq!(err, vec![(0.5 * 10.0 + 2.0 * 4.0) / 4.0]);
        // The parts do not carry the weights.
        assert_eq!(parts, vec![5.0, 2.0]);
    }
}
