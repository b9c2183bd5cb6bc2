//! Scores windows and explains them.
//!
//! Scores: σ(logit) for the classifiers and the supervised autoencoder, the weighted squared
//! error for the unsupervised models. Explanations, as shares of each window's total
//! (they sum to 1 over the features):
//! - classifiers: gradient × input, Σ_t |∂z/∂x_{t,f} · x_{t,f}|, with ∂z/∂x from the engine's
//!   own backward pass (σ' only rescales a window's row, so the logit's gradient gives the
//!   same shares as the probability's);
//! - unsupervised models: the score's parts, each feature's error times its weight
//!   (`w_f · mean_t (r_{t,f} − x_{t,f})²` for the autoencoder, `w_f · (p_f − x_{T−1,f})²` for a
//!   forecaster);
//! - supervised autoencoder: per-feature reconstruction error Σ_t (r_{t,f} − x_{t,f})².
//!
//! Every window's score depends only on that window: the kernels compute each output
//! element the same way whatever the batch, so a window scored alone (streaming) and inside
//! a batch give bit-identical f32 scores.

use crate::models::{Arch, Model, Objective, Workspace};
use crate::nn::resize;
use crate::params::Weights;

pub struct Scorer {
    model: Model,
    params: Weights<f32>,
    ws: Workspace<f32>,
    grads: Vec<f32>, // (P) scratch: parameter gradients are not wanted, only dx
    dx: Vec<f32>,    // (T, B, F)
    d_out: Vec<f32>, // (B)
}

impl Scorer {
    pub fn new(model: Model, params: Vec<f32>) -> Self {
        assert_eq!(params.len(), model.layout.len(), "scorer: parameters do not fit the model");
        // The scorer's weights never change: its layers keep their transposed weights.
        let params = Weights::new(params);
        let mut ws = model.workspace();
        ws.set_weights_generation(Some(params.generation()));
        // Attributions need only the gradient of the input.
        ws.set_input_gradients_only(true);
        let grads = model.layout.zeros();
        Scorer { model, params, ws, grads, dx: Vec::new(), d_out: Vec::new() }
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Scores the windows `x (T, B, F)` into `scores (B)`; with `explain (B, F)`, also writes
    /// each window's per-feature shares.
    pub fn score(&mut self, x: &[f32], steps: usize, batch: usize, scores: &mut [f32], explain: Option<&mut [f32]>) {
        let f = self.model.config.features;
        assert_eq!(x.len(), steps * batch * f, "score: x is not (T, B, F)");
        assert_eq!(scores.len(), batch, "score: one score per window");
        if batch == 0 {
            return;
        }
        let out = self.model.forward(&mut self.ws, self.params.values(), x, steps, batch, None);
        for (s, &o) in scores.iter_mut().zip(out) {
            *s = self.model.score(o);
        }
        let Some(explain) = explain else { return };
        assert_eq!(explain.len(), batch * f, "score: explanations are (B, F)");
        explain.fill(0.0);
        if let Some(parts) = self.model.feature_errors(&self.ws) {
            // The score's own parts: each feature's error times its weight.
            let weights = self.model.config.error_weights.as_deref();
            for (shares, errors) in explain.chunks_exact_mut(f).zip(parts.chunks_exact(f)) {
                for (j, (s, &e)) in shares.iter_mut().zip(errors).enumerate() {
                    *s = e * weights.map_or(1.0, |w| w[j] as f32);
                }
            }
        } else if self.model.config.arch == Arch::Autoencoder {
            // The supervised autoencoder: the reconstruction error per feature.
            let r = self.model.reconstruction(&self.ws).expect("autoencoder keeps its reconstruction");
            for t in 0..steps {
                for b in 0..batch {
                    let row = (t * batch + b) * f;
                    for j in 0..f {
                        let d = r[row + j] - x[row + j];
                        explain[b * f + j] += d * d;
                    }
                }
            }
        } else {
            debug_assert_eq!(self.model.config.objective, Objective::Classifier);
            resize(&mut self.d_out, batch);
            self.d_out.fill(1.0);
            resize(&mut self.dx, x.len());
            self.dx.fill(0.0);
            self.model.backward(
                &mut self.ws,
                &mut self.grads,
                self.params.values(),
                x,
                &self.d_out,
                Some(&mut self.dx),
            );
            for t in 0..steps {
                for b in 0..batch {
                    let row = (t * batch + b) * f;
                    for j in 0..f {
                        explain[b * f + j] += (self.dx[row + j] * x[row + j]).abs();
                    }
                }
            }
        }
        for shares in explain.chunks_exact_mut(f) {
            let total: f32 = shares.iter().sum();
            if total > 0.0 && total.is_finite() {
                shares.iter_mut().for_each(|s| *s /= total);
            }
        }
    }
}

/// The `k` largest shares of one window as (feature index, share), largest first.
pub fn top_features(shares: &[f32], k: usize) -> Vec<(usize, f32)> {
    let mut out = Vec::with_capacity(k);
    top_features_into(shares, k, &mut out);
    out
}

/// [`top_features`] into a reused buffer: one pass, insertion into the at most `k` kept so
/// far (k is small), so the per-window cost is `O(F·k)` with no allocation. Ties keep the
/// lower feature index first.
pub fn top_features_into(shares: &[f32], k: usize, out: &mut Vec<(usize, f32)>) {
    out.clear();
    if k == 0 {
        return;
    }
    for (j, &s) in shares.iter().enumerate() {
        // First kept entry that `s` beats (strictly: equal shares keep index order).
        let at = out.iter().position(|&(_, t)| s.total_cmp(&t).is_gt()).unwrap_or(out.len());
        if at < k {
            if out.len() == k {
                out.pop();
            }
            out.insert(at, (j, s));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ModelConfig;

    fn tiny(arch: Arch) -> (Model, Vec<f32>) {
        let mut cfg = ModelConfig::new(arch, 4);
        cfg.lstm = [5, 3];
        cfg.dense = [4, 3];
        let model = Model::new(cfg).unwrap();
        let params = model.init_params(1);
        (model, params)
    }

    fn windows(steps: usize, batch: usize, f: usize) -> Vec<f32> {
        (0..steps * batch * f).map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0).collect()
    }

    #[test]
    fn a_window_scores_the_same_alone_and_in_a_batch() {
        for arch in Arch::ALL {
            let (model, params) = tiny(arch);
            let mut scorer = Scorer::new(model, params);
            let (steps, batch, f) = (6, 5, 4);
            let x = windows(steps, batch, f);
            let mut all = vec![0.0; batch];
            scorer.score(&x, steps, batch, &mut all, None);
            for b in 0..batch {
                let mut one_x = Vec::new();
                for t in 0..steps {
                    one_x.extend_from_slice(&x[(t * batch + b) * f..(t * batch + b + 1) * f]);
                }
                let mut one = [0.0];
                scorer.score(&one_x, steps, 1, &mut one, None);
                assert_eq!(one[0].to_bits(), all[b].to_bits(), "{arch}: window {b}");
            }
        }
    }

    #[test]
    fn input_only_backward_gives_the_attributions_of_the_full_backward() {
        for arch in [Arch::Standard, Arch::Bidirectional, Arch::Attention] {
            let (model, params) = tiny(arch);
            let (steps, batch, f) = (6, 5, 4);
            let x = windows(steps, batch, f);
            let mut shares = [vec![0.0; batch * f], vec![0.0; batch * f]];
            for (input_only, shares) in [true, false].into_iter().zip(&mut shares) {
                let mut scorer = Scorer::new(model.clone(), params.clone());
                scorer.ws.set_input_gradients_only(input_only);
                let mut scores = vec![0.0; batch];
                scorer.score(&x, steps, batch, &mut scores, Some(shares));
                // The full backward really did compute LSTM weight gradients; the other did not.
                let w_ih = scorer.model.layout.find("l1.weight_ih_l0").unwrap().span.of(&scorer.grads);
                assert_eq!(w_ih.iter().any(|&g| g != 0.0), !input_only, "{arch}");
            }
            let bits = |v: &[f32]| v.iter().map(|s| s.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&shares[0]), bits(&shares[1]), "{arch}");
            assert!(shares[0].iter().any(|&s| s > 0.0), "{arch}");
        }
    }

    #[test]
    fn explanations_are_shares_that_favour_the_influential_feature() {
        let (model, params) = tiny(Arch::Standard);
        let mut scorer = Scorer::new(model, params);
        let (steps, batch, f) = (5, 3, 4);
        let mut x = windows(steps, batch, f);
        // Zero input contributes nothing to gradient × input.
        for t in 0..steps {
            for b in 0..batch {
                x[(t * batch + b) * f + 2] = 0.0;
            }
        }
        let mut scores = vec![0.0; batch];
        let mut shares = vec![0.0; batch * f];
        scorer.score(&x, steps, batch, &mut scores, Some(&mut shares));
        for w in shares.chunks(f) {
            assert!((w.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            assert_eq!(w[2], 0.0);
        }
        assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)));
        assert_eq!(top_features(&[0.1, 0.5, 0.4], 2), vec![(1, 0.5), (2, 0.4)]);
        assert_eq!(top_features(&[0.2, 0.5, 0.2, 0.1], 3), vec![(1, 0.5), (0, 0.2), (2, 0.2)]);
        assert_eq!(top_features(&[0.3, 0.7], 5), vec![(1, 0.7), (0, 0.3)]);
        assert_eq!(top_features(&[0.3, 0.7], 0), vec![]);
    }
}
