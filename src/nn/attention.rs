//! Dot-product self-attention exactly as `keras.layers.Attention()([x, x])`: no scaling, no
//! masks, no parameters. Per sample b, with X = x_b (T, D) as query, key and value:
//!   S = X Xᵀ (T, T),   A = softmax_rows(S),   Y = A X (T, D)
//! Backward, with dY given:
//!   dA = dY Xᵀ,   dS = A ⊙ (dA − rowsum(dA ⊙ A)),   dX += Aᵀ dY + (dS + dSᵀ) X
//! (value path, then query and key paths).
//!
//! Sequences are time-major `(T, B, D)`, so sample b's rows are `D·B` elements apart: the
//! per-sample products are strided GEMMs, no transposition copies.

use kubelstm_kernels::{gemm, Mat, MatMut};

use crate::nn::resize;
use crate::Float;

#[derive(Clone, Copy, Debug, Default)]
pub struct SelfAttention;

#[derive(Clone, Debug, Default)]
pub struct AttentionCache<F> {
    /// Attention weights A per sample, `(B, T, T)`.
    pub weights: Vec<F>,
    d_weights: Vec<F>, // (T, T) dA for one sample
    d_scores: Vec<F>,  // (T, T) dS for one sample
}

impl SelfAttention {
    /// `y (T, B, D) = softmax(x xᵀ) x` per sample.
    pub fn forward<F: Float>(y: &mut [F], cache: &mut AttentionCache<F>, x: &[F], steps: usize, batch: usize) {
        let d = x.len().checked_div(steps * batch).unwrap_or(0);
        assert_eq!(x.len(), steps * batch * d, "attention: x is not (T, B, D)");
        assert_eq!(y.len(), x.len(), "attention: y must have x's shape");
        resize(&mut cache.weights, batch * steps * steps);
        let stride = batch * d;
        for b in 0..batch {
            let xb = Mat::strided(&x[b * d..], steps, d, stride);
            let w = &mut cache.weights[b * steps * steps..(b + 1) * steps * steps];
            gemm(F::ONE, xb, xb.t(), F::ZERO, MatMut::new(w, steps, steps));
            F::softmax_rows(w, steps);
            gemm(F::ONE, Mat::new(w, steps, steps), xb, F::ZERO, MatMut::strided(&mut y[b * d..], steps, d, stride));
        }
    }

    /// Adds the gradient of all three paths into `dx (T, B, D)`.
    pub fn backward<F: Float>(
        dx: &mut [F],
        cache: &mut AttentionCache<F>,
        dy: &[F],
        x: &[F],
        steps: usize,
        batch: usize,
    ) {
        let d = x.len().checked_div(steps * batch).unwrap_or(0);
        assert!(dx.len() == x.len() && dy.len() == x.len(), "attention backward: shapes differ");
        assert_eq!(cache.weights.len(), batch * steps * steps, "attention backward: cache from another shape");
        let stride = batch * d;
        let tt = steps * steps;
        resize(&mut cache.d_weights, tt);
        resize(&mut cache.d_scores, tt);
        for b in 0..batch {
            let xb = Mat::strided(&x[b * d..], steps, d, stride);
            let dyb = Mat::strided(&dy[b * d..], steps, d, stride);
            let a = Mat::new(&cache.weights[b * tt..(b + 1) * tt], steps, steps);
            // dA = dY Xᵀ
            gemm(F::ONE, dyb, xb.t(), F::ZERO, MatMut::new(&mut cache.d_weights, steps, steps));
            cache.d_scores.fill(F::ZERO);
            F::softmax_rows_backward(&mut cache.d_scores, &cache.d_weights, a.data, steps);
            // dS ← dS + dSᵀ, then dX += Aᵀ dY + (dS + dSᵀ) X.
            for i in 0..steps {
                for j in 0..i {
                    let sum = cache.d_scores[i * steps + j] + cache.d_scores[j * steps + i];
                    cache.d_scores[i * steps + j] = sum;
                    cache.d_scores[j * steps + i] = sum;
                }
                let diagonal = cache.d_scores[i * steps + i];
                cache.d_scores[i * steps + i] = diagonal + diagonal;
            }
            gemm(F::ONE, a.t(), dyb, F::ONE, MatMut::strided(&mut dx[b * d..], steps, d, stride));
            gemm(
                F::ONE,
                Mat::new(&cache.d_scores, steps, steps),
                xb,
                F::ONE,
                MatMut::strided(&mut dx[b * d..], steps, d, stride),
            );
        }
    }
}
