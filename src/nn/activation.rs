//! Elementwise activations. Forward in place; backward adds `dy · f'(x)` into `dx`, written
//! in terms of the output y (which is what the caches keep).
//!   relu: y = max(x, 0),  dx += dy·[y > 0]
//!   sigmoid: y = σ(x),    dx += dy·y(1 − y)
//!   tanh: y = tanh(x),    dx += dy·(1 − y²)
//! The kernels live in `kubelstm-kernels` (SIMD for f32); this module names them for layers.

use crate::Float;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Relu,
    Sigmoid,
    Tanh,
}

impl Activation {
    pub fn forward<F: Float>(self, x: &mut [F]) {
        match self {
            Activation::Relu => F::relu_inplace(x),
            Activation::Sigmoid => F::sigmoid_inplace(x),
            Activation::Tanh => F::tanh_inplace(x),
        }
    }
    pub fn backward<F: Float>(self, dx: &mut [F], dy: &[F], y: &[F]) {
        match self {
            Activation::Relu => F::relu_backward(dx, dy, y),
            Activation::Sigmoid => F::sigmoid_backward(dx, dy, y),
            Activation::Tanh => F::tanh_backward(dx, dy, y),
        }
    }
}
