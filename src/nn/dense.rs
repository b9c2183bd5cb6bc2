//! Dense (fully connected) layer, PyTorch `nn.Linear` layout.
//!   y (N, out) = x (N, in) · Wᵀ + b,   W (out, in), b (out)
//!   dW += dyᵀ · x,   db += Σ_rows dy,   dx += dy · W
//! A time-distributed dense layer is the same layer over N = T·B rows.

use kubelstm_kernels::{gemm, Mat, MatMut};
use rand::Rng;

use crate::params::{glorot_uniform, ParamLayout, Span};
use crate::Float;

#[derive(Clone, Debug)]
pub struct Dense {
    pub input: usize,
    pub output: usize,
    /// `{prefix}.weight (out, in)`
    pub weight: Span,
    /// `{prefix}.bias (out)`
    pub bias: Span,
}

impl Dense {
    pub fn new(layout: &mut ParamLayout, prefix: &str, input: usize, output: usize) -> Self {
        let weight = layout.add(format!("{prefix}.weight"), &[output, input]);
        let bias = layout.add(format!("{prefix}.bias"), &[output]);
        Dense { input, output, weight, bias }
    }

    /// Keras defaults: Glorot-uniform weight, zero bias.
    pub fn init<F: Float>(&self, p: &mut [F], rng: &mut impl Rng) {
        glorot_uniform(self.weight.of_mut(p), self.output, self.input, rng);
        self.bias.of_mut(p).fill(F::ZERO);
    }

    fn rows(&self, x_len: usize) -> usize {
        assert!(
            self.input > 0 && x_len.is_multiple_of(self.input),
            "dense: input length {x_len} not a multiple of {}",
            self.input
        );
        x_len / self.input
    }

    /// `y (N, out) = x (N, in) · Wᵀ + b`.
    pub fn forward<F: Float>(&self, y: &mut [F], x: &[F], p: &[F]) {
        let n = self.rows(x.len());
        assert_eq!(y.len(), n * self.output, "dense forward: y has wrong length");
        let w = Mat::new(self.weight.of(p), self.output, self.input).t();
        gemm(F::ONE, Mat::new(x, n, self.input), w, F::ZERO, MatMut::new(y, n, self.output));
        F::add_bias_rows(y, self.bias.of(p));
    }

    /// `dW += dyᵀ x`, `db += Σ dy`, and `dx += dy W` when `dx` is given.
    pub fn backward<F: Float>(&self, dx: Option<&mut [F]>, g: &mut [F], dy: &[F], x: &[F], p: &[F]) {
        let n = self.rows(x.len());
        assert_eq!(dy.len(), n * self.output, "dense backward: dy has wrong length");
        let dy_mat = Mat::new(dy, n, self.output);
        gemm(
            F::ONE,
            dy_mat.t(),
            Mat::new(x, n, self.input),
            F::ONE,
            MatMut::new(self.weight.of_mut(g), self.output, self.input),
        );
        F::column_sums(self.bias.of_mut(g), dy);
        if let Some(dx) = dx {
            assert_eq!(dx.len(), x.len(), "dense backward: dx has wrong length");
            let w = Mat::new(self.weight.of(p), self.output, self.input);
            gemm(F::ONE, dy_mat, w, F::ONE, MatMut::new(dx, n, self.input));
        }
    }
}
