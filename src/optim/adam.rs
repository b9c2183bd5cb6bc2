//! Adam in Keras' form (defaults lr 1e-3, β₁ 0.9, β₂ 0.999, ε 1e-7), at step t ≥ 1:
//!   m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²
//!   α = lr · √(1 − β₂ᵗ) / (1 − β₁ᵗ),   p ← p − α m / (√v + ε)
//! (PyTorch adds ε to the bias-corrected √v̂ instead; the two differ only where gradients
//! are tiny.) Moments share the parameters' flat layout, so a step is one kernel call.

use serde::{Deserialize, Serialize};

use crate::Float;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdamConfig {
    pub learning_rate: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub epsilon: f64,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig { learning_rate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }
    }
}

/// Adam state: the two moments and the step count.
#[derive(Clone, Debug)]
pub struct Adam<F> {
    pub config: AdamConfig,
    pub m: Vec<F>,
    pub v: Vec<F>,
    pub step: u64,
}

impl<F: Float> Adam<F> {
    pub fn new(config: AdamConfig, params: usize) -> Self {
        Adam { config, m: vec![F::ZERO; params], v: vec![F::ZERO; params], step: 0 }
    }

    /// One update of `p` from gradients `g`.
    pub fn update(&mut self, p: &mut [F], g: &[F]) {
        self.update_in(p, g, None)
    }

    /// One update, spread over `pool`'s threads when given. The update is elementwise, so the
    /// result is the same bits however it is split.
    pub fn update_in(&mut self, p: &mut [F], g: &[F], pool: Option<&rayon::ThreadPool>) {
        use rayon::prelude::*;
        assert!(p.len() == g.len() && p.len() == self.m.len(), "adam: buffers differ in length");
        let AdamConfig { learning_rate, beta1, beta2, epsilon } = self.config;
        self.step += 1;
        let t = self.step as i32;
        // The bias corrections are computed in f64 whatever F is.
        let alpha = F::from_f64(learning_rate * (1.0 - beta2.powi(t)).sqrt() / (1.0 - beta1.powi(t)));
        let (b1, b2, eps) = (F::from_f64(beta1), F::from_f64(beta2), F::from_f64(epsilon));
        let (m, v) = (&mut self.m, &mut self.v);
        match pool {
            Some(pool) => {
                const CHUNK: usize = 16 * 1024;
                pool.install(|| {
                    p.par_chunks_mut(CHUNK)
                        .zip(m.par_chunks_mut(CHUNK))
                        .zip(v.par_chunks_mut(CHUNK))
                        .zip(g.par_chunks(CHUNK))
                        .for_each(|(((p, m), v), g)| F::adam_update(p, m, v, g, alpha, b1, b2, eps))
                })
            }
            None => F::adam_update(p, m, v, g, alpha, b1, b2, eps),
        }
    }
}

/// Scales `g` so its global L2 norm is at most `max_norm`; returns the norm before clipping.
pub fn clip_global_norm<F: Float>(g: &mut [F], max_norm: f64) -> f64 {
    let norm = g.iter().map(|v| v.to_f64() * v.to_f64()).sum::<f64>().sqrt();
    if norm > max_norm && norm.is_finite() {
        let scale = F::from_f64(max_norm / norm);
        g.iter_mut().for_each(|v| *v *= scale);
    }
    norm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_scales_to_the_bound_and_leaves_small_gradients_alone() {
        let mut g = vec![3.0f64, 4.0];
        assert_eq!(clip_global_norm(&mut g, 1.0), 5.0);
        assert!((g[0] - 0.6).abs() < 1e-12 && (g[1] - 0.8).abs() < 1e-12);
        let mut small = vec![0.3f64, 0.4];
        clip_global_norm(&mut small, 1.0);
        assert_eq!(small, vec![0.3, 0.4]);
    }

    #[test]
    fn first_step_moves_each_parameter_by_about_the_learning_rate() {
        // With m = v = 0, step 1 gives m/√v = sign(g): every parameter moves by ≈ lr.
        let mut adam = Adam::<f64>::new(AdamConfig::default(), 3);
        let mut p = vec![1.0, 1.0, 1.0];
        adam.update(&mut p, &[0.5, -2.0, 1e-3]);
        for (v, sign) in p.iter().zip([-1.0, 1.0, -1.0]) {
            // ε = 1e-7 shrinks the step of the tiny gradient by ~0.3 %.
            assert!(((v - 1.0) - sign * 1e-3).abs() < 5e-6, "{v}");
        }
    }
}
