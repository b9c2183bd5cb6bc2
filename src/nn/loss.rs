//! Losses, written on logits so they stay finite where σ saturates.
//!
//! Weighted binary cross-entropy (Keras `class_weight` semantics: mean over the batch of
//! the per-sample weighted loss), with p = σ(z):
//!   ℓ_b = w_b · (softplus(z_b) − y_b z_b) = w_b · ((1 − y) softplus(z) + y softplus(−z))
//!       = w_b · (ln(1 + e^{−|z|}) + (1 − y) max(z, 0) + y max(−z, 0))
//!   dℓ/dz_b = w_b (σ(z_b) − y_b) / B = w_b ((1 − y) σ(z) − y σ(−z)) / B
//! The last forms have no cancellation for y ∈ {0, 1}. `softplus(z) − y z` and σ(z) − y
//! subtract two numbers of size |z| (or 1) to get one of size e^{−|z|} on a confidently
//! right logit, and so lose all their digits there (exactly 0 for |z| ≳ 37 in f64, ≳ 16
//! in f32).
//! Mean squared error: L = mean (a − b)²,  dL/da = 2 (a − b) / N.

use kubelstm_kernels::scalar::sigmoid;

use crate::Float;

/// Returns the loss and writes `dz (B)` (overwritten) for logits `z (B)`, labels `y (B)` in
/// {0, 1} and per-sample weights `w (B)`.
pub fn weighted_bce_with_logits<F: Float>(dz: &mut [F], z: &[F], y: &[F], w: &[F]) -> F {
    let n = z.len();
    assert!(dz.len() == n && y.len() == n && w.len() == n, "weighted BCE: length mismatch");
    if n == 0 {
        return F::ZERO;
    }
    let inv_n = F::ONE / F::from_usize(n);
    let mut total = F::ZERO;
    for b in 0..n {
        let zb = z[b];
        let log_term = (-zb.abs()).exp().ln_1p();
        total += w[b] * (log_term + (F::ONE - y[b]) * zb.max(F::ZERO) + y[b] * (-zb).max(F::ZERO));
        dz[b] = w[b] * ((F::ONE - y[b]) * sigmoid(zb) - y[b] * sigmoid(-zb)) * inv_n;
    }
    total * inv_n
}

/// Mean of `(a − b)²`; writes `da = 2 (a − b) / N` (overwritten).
pub fn mse<F: Float>(da: &mut [F], a: &[F], b: &[F]) -> F {
    let n = a.len();
    assert!(da.len() == n && b.len() == n, "mse: length mismatch");
    if n == 0 {
        return F::ZERO;
    }
    let inv_n = F::ONE / F::from_usize(n);
    let mut total = F::ZERO;
    for i in 0..n {
        let diff = a[i] - b[i];
        total += diff * diff;
        da[i] = (diff + diff) * inv_n;
    }
    total * inv_n
}
