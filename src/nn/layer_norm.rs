//! Layer normalisation over the last axis, as Keras `LayerNormalization` (epsilon 1e-3)
//! and PyTorch `nn.LayerNorm(eps=1e-3)`, biased variance:
//!   y = (x − μ) / √(σ² + ε) · γ + β
//!   dx = rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂)),  g = dy ⊙ γ;   dγ += Σ dy ⊙ x̂;  dβ += Σ dy
//! Parameters are named as in PyTorch: `{prefix}.weight` (γ) and `{prefix}.bias` (β).

use crate::nn::resize;
use crate::params::{ParamLayout, Span};
use crate::Float;

/// Keras' default epsilon.
pub const KERAS_EPSILON: f64 = 1e-3;

#[derive(Clone, Debug)]
pub struct LayerNorm {
    pub dim: usize,
    pub eps: f64,
    pub gamma: Span,
    pub beta: Span,
}

/// Per-row statistics saved for the backward pass.
#[derive(Clone, Debug, Default)]
pub struct LayerNormCache<F> {
    pub mean: Vec<F>, // (N)
    pub rstd: Vec<F>, // (N)
}

impl LayerNorm {
    pub fn new(layout: &mut ParamLayout, prefix: &str, dim: usize) -> Self {
        let gamma = layout.add(format!("{prefix}.weight"), &[dim]);
        let beta = layout.add(format!("{prefix}.bias"), &[dim]);
        LayerNorm { dim, eps: KERAS_EPSILON, gamma, beta }
    }

    /// γ = 1, β = 0.
    pub fn init<F: Float>(&self, p: &mut [F]) {
        self.gamma.of_mut(p).fill(F::ONE);
        self.beta.of_mut(p).fill(F::ZERO);
    }

    /// `y (N, C) = LN(x (N, C))`.
    pub fn forward<F: Float>(&self, y: &mut [F], cache: &mut LayerNormCache<F>, x: &[F], p: &[F]) {
        assert!(
            x.len().is_multiple_of(self.dim),
            "layer norm: input length {} not a multiple of {}",
            x.len(),
            self.dim
        );
        let rows = x.len() / self.dim;
        resize(&mut cache.mean, rows);
        resize(&mut cache.rstd, rows);
        F::layer_norm_forward(
            y,
            &mut cache.mean,
            &mut cache.rstd,
            x,
            self.gamma.of(p),
            self.beta.of(p),
            F::from_f64(self.eps),
        );
    }

    /// Adds into `dx`, `dγ`, `dβ`.
    pub fn backward<F: Float>(&self, dx: &mut [F], g: &mut [F], dy: &[F], x: &[F], cache: &LayerNormCache<F>, p: &[F]) {
        // γ and β are adjacent spans: split the gradient buffer once to borrow both.
        assert_eq!(self.beta.offset, self.gamma.offset + self.dim, "layer norm: γ and β must be adjacent");
        let (dgamma, dbeta) = g[self.gamma.offset..self.beta.offset + self.dim].split_at_mut(self.dim);
        F::layer_norm_backward(dx, dgamma, dbeta, dy, x, &cache.mean, &cache.rstd, self.gamma.of(p));
    }
}
