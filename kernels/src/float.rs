//! The float types the engine runs on: `f32` (the fast path, SIMD kernels behind runtime
//! dispatch) and `f64` (the audit path, scalar reference kernels).
//!
//! Kernels are methods of [`Float`] so that generic layer code calls `F::lstm_cell_forward(..)`
//! and gets the scalar reference for `f64` and the dispatched SIMD version for `f32`. Every
//! default body below *is* the scalar reference from [`crate::scalar`]; `f32` overrides them.

use core::fmt::{Debug, Display};
use core::iter::Sum;
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

use crate::gemm::{gemm_f32, gemm_f64, Mat, MatMut};
use crate::{scalar, simd};

/// A real number type the engine can compute in.
pub trait Float:
    Copy
    + Send
    + Sync
    + Default
    + Debug
    + Display
    + PartialEq
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
    + 'static
{
    const ZERO: Self;
    const ONE: Self;
    /// `"f32"` or `"f64"`, as in safetensors dtypes and error messages.
    const NAME: &'static str;

    fn from_f64(v: f64) -> Self;
    fn to_f64(self) -> f64;
    fn from_usize(n: usize) -> Self {
        Self::from_f64(n as f64)
    }
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    fn ln_1p(self) -> Self;
    fn sqrt(self) -> Self;
    fn tanh(self) -> Self;
    fn abs(self) -> Self;
    fn max(self, other: Self) -> Self;
    fn min(self, other: Self) -> Self;
    fn is_finite(self) -> bool;
    fn powi(self, n: i32) -> Self;

    // ---------------------------------------------------------------- GEMM

    /// `C = alpha · A · B + beta · C` (see [`crate::gemm::gemm`]).
    fn gemm(alpha: Self, a: Mat<'_, Self>, b: Mat<'_, Self>, beta: Self, c: MatMut<'_, Self>);

    /// `dst (cols, rows) = srcᵀ` for a row-major `src (rows, cols)`, the rows of `dst`
    /// `dst_stride` apart (see [`crate::gemm::transpose`]).
    fn transpose(dst: &mut [Self], dst_stride: usize, src: &[Self], rows: usize, cols: usize) {
        crate::gemm::transpose_scalar(dst, dst_stride, src, rows, cols)
    }

    // ---------------------------------------------------------------- elementwise

    /// `x ← σ(x)`.
    fn sigmoid_inplace(x: &mut [Self]) {
        scalar::sigmoid_inplace(x)
    }
    /// `x ← tanh(x)`.
    fn tanh_inplace(x: &mut [Self]) {
        scalar::tanh_inplace(x)
    }
    /// `x ← max(x, 0)`.
    fn relu_inplace(x: &mut [Self]) {
        scalar::relu_inplace(x)
    }
    /// `dx += dy · [y > 0]` where `y = relu(x)`.
    fn relu_backward(dx: &mut [Self], dy: &[Self], y: &[Self]) {
        scalar::relu_backward(dx, dy, y)
    }
    /// `dx += dy · y (1 − y)` where `y = σ(x)`.
    fn sigmoid_backward(dx: &mut [Self], dy: &[Self], y: &[Self]) {
        scalar::sigmoid_backward(dx, dy, y)
    }
    /// `dx += dy · (1 − y²)` where `y = tanh(x)`.
    fn tanh_backward(dx: &mut [Self], dy: &[Self], y: &[Self]) {
        scalar::tanh_backward(dx, dy, y)
    }
    /// `y[r, :] += bias` for each of the `rows` rows of `y (rows, bias.len())`.
    fn add_bias_rows(y: &mut [Self], bias: &[Self]) {
        scalar::add_bias_rows(y, bias)
    }
    /// `sums[j] += Σ_r x[r, j]` over `x (rows, sums.len())`: bias gradients.
    fn column_sums(sums: &mut [Self], x: &[Self]) {
        scalar::column_sums(sums, x)
    }

    // ---------------------------------------------------------------- fused LSTM cell

    /// One LSTM step for a batch. `gates (B, 4H)` holds the pre-activations
    /// `x Wihᵀ + h Whhᵀ + b` in gate order i, f, g, o and is overwritten with the activations
    /// (σ, σ, tanh, σ). Writes `c = f ⊙ c_prev + i ⊙ g` and `h = o ⊙ tanh(c)`, both `(B, H)`.
    fn lstm_cell_forward(gates: &mut [Self], c: &mut [Self], h: &mut [Self], c_prev: &[Self], hidden: usize) {
        scalar::lstm_cell_forward(gates, c, h, c_prev, hidden)
    }
    /// Backward of [`Float::lstm_cell_forward`]. Inputs: the activated `gates (B, 4H)`,
    /// `c_prev`, `c`, and `dh (B, H)`, the full gradient of `h`. `dc (B, H)` holds dL/dc_t
    /// coming from step t+1 and is overwritten with dL/dc_{t-1}. Writes `dpre (B, 4H)`,
    /// the gradient of the pre-activations (overwritten, not accumulated).
    #[allow(clippy::too_many_arguments)]
    fn lstm_cell_backward(
        dpre: &mut [Self],
        dc: &mut [Self],
        gates: &[Self],
        c_prev: &[Self],
        c: &[Self],
        dh: &[Self],
        hidden: usize,
    ) {
        scalar::lstm_cell_backward(dpre, dc, gates, c_prev, c, dh, hidden)
    }

    // ---------------------------------------------------------------- softmax, layer norm

    /// Softmax of each row of `x (rows, cols)`, in place.
    fn softmax_rows(x: &mut [Self], cols: usize) {
        scalar::softmax_rows(x, cols)
    }
    /// `dx += y ⊙ (dy − Σ_j dy·y)` per row, for `y = softmax(x)` rows of length `cols`.
    fn softmax_rows_backward(dx: &mut [Self], dy: &[Self], y: &[Self], cols: usize) {
        scalar::softmax_rows_backward(dx, dy, y, cols)
    }
    /// Layer norm over rows of `x (rows, C)`: `y = (x − μ) / √(σ² + eps) · γ + β`, biased
    /// variance. Saves `mean (rows)` and `rstd (rows)` for the backward pass.
    #[allow(clippy::too_many_arguments)]
    fn layer_norm_forward(
        y: &mut [Self],
        mean: &mut [Self],
        rstd: &mut [Self],
        x: &[Self],
        gamma: &[Self],
        beta: &[Self],
        eps: Self,
    ) {
        scalar::layer_norm_forward(y, mean, rstd, x, gamma, beta, eps)
    }
    /// Backward of [`Float::layer_norm_forward`]; adds into `dx`, `dgamma`, `dbeta`.
    #[allow(clippy::too_many_arguments)]
    fn layer_norm_backward(
        dx: &mut [Self],
        dgamma: &mut [Self],
        dbeta: &mut [Self],
        dy: &[Self],
        x: &[Self],
        mean: &[Self],
        rstd: &[Self],
        gamma: &[Self],
    ) {
        scalar::layer_norm_backward(dx, dgamma, dbeta, dy, x, mean, rstd, gamma)
    }

    // ---------------------------------------------------------------- optimizer

    /// One Adam step (Keras form): `m ← β1 m + (1−β1) g`, `v ← β2 v + (1−β2) g²`,
    /// `p ← p − alpha · m / (√v + eps)`, with `alpha = lr √(1−β2^t) / (1−β1^t)` precomputed.
    #[allow(clippy::too_many_arguments)]
    fn adam_update(
        p: &mut [Self],
        m: &mut [Self],
        v: &mut [Self],
        g: &[Self],
        alpha: Self,
        beta1: Self,
        beta2: Self,
        eps: Self,
    ) {
        scalar::adam_update(p, m, v, g, alpha, beta1, beta2, eps)
    }
}

macro_rules! float_math {
    ($t:ty) => {
        const ZERO: Self = 0.0;
        const ONE: Self = 1.0;
        const NAME: &'static str = stringify!($t);
        #[inline(always)]
        fn from_f64(v: f64) -> Self {
            v as $t
        }
        #[inline(always)]
        fn to_f64(self) -> f64 {
            self as f64
        }
        #[inline(always)]
        fn exp(self) -> Self {
            <$t>::exp(self)
        }
        #[inline(always)]
        fn ln(self) -> Self {
            <$t>::ln(self)
        }
        #[inline(always)]
        fn ln_1p(self) -> Self {
            <$t>::ln_1p(self)
        }
        #[inline(always)]
        fn sqrt(self) -> Self {
            <$t>::sqrt(self)
        }
        #[inline(always)]
        fn tanh(self) -> Self {
            <$t>::tanh(self)
        }
        #[inline(always)]
        fn abs(self) -> Self {
            <$t>::abs(self)
        }
        #[inline(always)]
        fn max(self, other: Self) -> Self {
            <$t>::max(self, other)
        }
        #[inline(always)]
        fn min(self, other: Self) -> Self {
            <$t>::min(self, other)
        }
        #[inline(always)]
        fn is_finite(self) -> bool {
            <$t>::is_finite(self)
        }
        #[inline(always)]
        fn powi(self, n: i32) -> Self {
            <$t>::powi(self, n)
        }
    };
}

/// The audit path: every kernel is the scalar reference; GEMM is `matrixmultiply::dgemm`.
impl Float for f64 {
    float_math!(f64);

    fn gemm(alpha: Self, a: Mat<'_, Self>, b: Mat<'_, Self>, beta: Self, c: MatMut<'_, Self>) {
        gemm_f64(alpha, a, b, beta, c)
    }
}

/// The fast path: kernels go through [`crate::simd`], which picks AVX-512, AVX2+FMA, the
/// portable `wide` version or the scalar reference at run time.
impl Float for f32 {
    float_math!(f32);

    fn gemm(alpha: Self, a: Mat<'_, Self>, b: Mat<'_, Self>, beta: Self, c: MatMut<'_, Self>) {
        gemm_f32(alpha, a, b, beta, c)
    }
    fn transpose(dst: &mut [Self], dst_stride: usize, src: &[Self], rows: usize, cols: usize) {
        if !simd::gemm::transpose(crate::active_isa(), dst, dst_stride, src, rows, cols) {
            crate::gemm::transpose_scalar(dst, dst_stride, src, rows, cols)
        }
    }
    fn sigmoid_inplace(x: &mut [Self]) {
        simd::sigmoid_inplace(x)
    }
    fn tanh_inplace(x: &mut [Self]) {
        simd::tanh_inplace(x)
    }
    fn relu_inplace(x: &mut [Self]) {
        simd::relu_inplace(x)
    }
    fn relu_backward(dx: &mut [Self], dy: &[Self], y: &[Self]) {
        simd::relu_backward(dx, dy, y)
    }
    fn sigmoid_backward(dx: &mut [Self], dy: &[Self], y: &[Self]) {
        simd::sigmoid_backward(dx, dy, y)
    }
    fn tanh_backward(dx: &mut [Self], dy: &[Self], y: &[Self]) {
        simd::tanh_backward(dx, dy, y)
    }
    fn add_bias_rows(y: &mut [Self], bias: &[Self]) {
        simd::add_bias_rows(y, bias)
    }
    fn column_sums(sums: &mut [Self], x: &[Self]) {
        simd::column_sums(sums, x)
    }
    fn lstm_cell_forward(gates: &mut [Self], c: &mut [Self], h: &mut [Self], c_prev: &[Self], hidden: usize) {
        simd::lstm_cell_forward(gates, c, h, c_prev, hidden)
    }
    fn lstm_cell_backward(
        dpre: &mut [Self],
        dc: &mut [Self],
        gates: &[Self],
        c_prev: &[Self],
        c: &[Self],
        dh: &[Self],
        hidden: usize,
    ) {
        simd::lstm_cell_backward(dpre, dc, gates, c_prev, c, dh, hidden)
    }
    fn softmax_rows(x: &mut [Self], cols: usize) {
        simd::softmax_rows(x, cols)
    }
    fn softmax_rows_backward(dx: &mut [Self], dy: &[Self], y: &[Self], cols: usize) {
        simd::softmax_rows_backward(dx, dy, y, cols)
    }
    fn layer_norm_forward(
        y: &mut [Self],
        mean: &mut [Self],
        rstd: &mut [Self],
        x: &[Self],
        gamma: &[Self],
        beta: &[Self],
        eps: Self,
    ) {
        simd::layer_norm_forward(y, mean, rstd, x, gamma, beta, eps)
    }
    fn layer_norm_backward(
        dx: &mut [Self],
        dgamma: &mut [Self],
        dbeta: &mut [Self],
        dy: &[Self],
        x: &[Self],
        mean: &[Self],
        rstd: &[Self],
        gamma: &[Self],
    ) {
        simd::layer_norm_backward(dx, dgamma, dbeta, dy, x, mean, rstd, gamma)
    }
    fn adam_update(
        p: &mut [Self],
        m: &mut [Self],
        v: &mut [Self],
        g: &[Self],
        alpha: Self,
        beta1: Self,
        beta2: Self,
        eps: Self,
    ) {
        simd::adam_update(p, m, v, g, alpha, beta1, beta2, eps)
    }
}
