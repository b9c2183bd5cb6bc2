//! `f32` kernels, dispatched by instruction set at run time.
//!
//! Each kernel is written once (`simd/generic/`, one file per kind of kernel) over a small vector trait
//! (`simd/vector.rs`), and instantiated three times:
//!
//! | [`Isa`]            | vector                         | compiled with                              |
//! |--------------------|--------------------------------|--------------------------------------------|
//! | [`Isa::Avx512`]    | `__m512` (16 lanes, `k` masks) | `#[target_feature(enable = "avx512f")]`    |
//! | [`Isa::Avx2Fma`]   | `__m256` (8 lanes)             | `#[target_feature(enable = "avx2,fma")]`   |
//! | [`Isa::Wide`]      | `wide::f32x8`                  | the build's baseline (SSE2 on x86-64)      |
//! | [`Isa::Scalar`]    | —                              | the reference kernels of [`crate::scalar`] |
//!
//! **Why `std::arch` for x86 and `wide` only for the portable path.** `wide` chooses its
//! instructions with `cfg(target_feature)` when the crate is *compiled*: a release binary
//! built for plain x86-64 gets SSE2 from it, and one built with `-C target-cpu=native` would
//! not run on older CPUs. To ship one binary that uses AVX2/FMA or AVX-512 where the CPU has
//! them, the x86 paths use `core::arch` intrinsics inside `#[target_feature]` functions, which
//! are chosen by run-time detection ([`crate::dispatch`], cached once, overridable with
//! `KUBELSTM_SIMD`). `wide` serves the targets without such paths (aarch64 gets NEON from it)
//! and the `KUBELSTM_SIMD=wide` setting. All x86 code is behind `cfg(target_arch = "x86_64")`.
//!
//! **Reproducibility.** Within one instruction set, every element of the elementwise and
//! LSTM-cell kernels is computed by the same instruction sequence wherever it sits in the
//! slice (tails use masked or padded vectors, not a scalar loop), and row kernels (softmax,
//! layer norm) reduce in an order fixed by the row length alone. So a window scored alone or
//! inside a batch gives bit-identical results. Different instruction sets may differ in the
//! last bits (FMA or not).
//!
//! **Accuracy.** `exp` is Cephes-style (range reduction by ln 2, degree-7 polynomial, ~1 ulp);
//! sigmoid and tanh are built on it in forms that never overflow, within a few ulp of the
//! scalar reference (tolerances per kernel are stated in the tests). Results that would be
//! subnormal (`exp(x)` for x < −87.3, `σ(x)` for x < −87.3) are flushed to zero. ReLU, the
//! activation backward passes, bias, column sums and Adam are bit-identical to the reference.

pub mod gemm;
mod generic;
mod portable;
mod vector;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;

use crate::dispatch::{active_isa, Isa};
use crate::scalar;

/// Calls `$m!(name(arg: type, ...))` once for every kernel.
macro_rules! for_each_kernel {
    ($m:ident) => {
        $m!(sigmoid_inplace(x: &mut [f32]));
        $m!(tanh_inplace(x: &mut [f32]));
        $m!(relu_inplace(x: &mut [f32]));
        $m!(relu_backward(dx: &mut [f32], dy: &[f32], y: &[f32]));
        $m!(sigmoid_backward(dx: &mut [f32], dy: &[f32], y: &[f32]));
        $m!(tanh_backward(dx: &mut [f32], dy: &[f32], y: &[f32]));
        $m!(add_bias_rows(y: &mut [f32], bias: &[f32]));
        $m!(column_sums(sums: &mut [f32], x: &[f32]));
        $m!(lstm_cell_forward(gates: &mut [f32], c: &mut [f32], h: &mut [f32], c_prev: &[f32], hidden: usize));
        $m!(lstm_cell_backward(
            dpre: &mut [f32],
            dc: &mut [f32],
            gates: &[f32],
            c_prev: &[f32],
            c: &[f32],
            dh: &[f32],
            hidden: usize
        ));
        $m!(softmax_rows(x: &mut [f32], cols: usize));
        $m!(softmax_rows_backward(dx: &mut [f32], dy: &[f32], y: &[f32], cols: usize));
        $m!(layer_norm_forward(
            y: &mut [f32],
            mean: &mut [f32],
            rstd: &mut [f32],
            x: &[f32],
            gamma: &[f32],
            beta: &[f32],
            eps: f32
        ));
        $m!(layer_norm_backward(
            dx: &mut [f32],
            dgamma: &mut [f32],
            dbeta: &mut [f32],
            dy: &[f32],
            x: &[f32],
            mean: &[f32],
            rstd: &[f32],
            gamma: &[f32]
        ));
        $m!(adam_update(
            p: &mut [f32],
            m: &mut [f32],
            v: &mut [f32],
            g: &[f32],
            alpha: f32,
            beta1: f32,
            beta2: f32,
            eps: f32
        ));
    };
}

/// The portable instantiation: plain functions, `wide` vectors.
mod portable_kernels {
    use super::portable::Portable;
    macro_rules! instantiate {
        ($name:ident($($a:ident: $t:ty),*)) => {
            #[allow(clippy::too_many_arguments)]
            #[inline(never)]
            pub(super) fn $name($($a: $t),*) {
                super::generic::$name(Portable, $($a),*)
            }
        };
    }
    for_each_kernel!(instantiate);
}

/// The AVX2 + FMA instantiation.
#[cfg(target_arch = "x86_64")]
mod avx2_kernels {
    use super::avx2::Avx2;
    macro_rules! instantiate {
        ($name:ident($($a:ident: $t:ty),*)) => {
            /// # Safety
            /// The CPU must support AVX2 and FMA.
            #[allow(clippy::too_many_arguments)]
            #[target_feature(enable = "avx2,fma")]
            pub(super) unsafe fn $name($($a: $t),*) {
                // SAFETY: this function's contract is that the CPU supports AVX2 and FMA.
                let s = unsafe { Avx2::new_unchecked() };
                super::generic::$name(s, $($a),*)
            }
        };
    }
    for_each_kernel!(instantiate);
}

/// The AVX-512F instantiation.
#[cfg(target_arch = "x86_64")]
mod avx512_kernels {
    use super::avx512::Avx512;
    macro_rules! instantiate {
        ($name:ident($($a:ident: $t:ty),*)) => {
            /// # Safety
            /// The CPU must support AVX-512F.
            #[allow(clippy::too_many_arguments)]
            #[target_feature(enable = "avx512f")]
            pub(super) unsafe fn $name($($a: $t),*) {
                // SAFETY: this function's contract is that the CPU supports AVX-512F.
                let s = unsafe { Avx512::new_unchecked() };
                super::generic::$name(s, $($a),*)
            }
        };
    }
    for_each_kernel!(instantiate);
}

/// The `f32` kernels of one instruction set that this CPU supports.
///
/// [`Kernels::active`] is what the free functions of this module (and `Float for f32`) use;
/// [`Kernels::new`] picks any supported set explicitly, so tests and benchmarks can run every
/// path in one process, whatever `KUBELSTM_SIMD` says. The methods have the semantics of the
/// [`crate::Float`] methods of the same name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kernels {
    /// Invariant: `isa.is_supported()`.
    isa: Isa,
}

macro_rules! dispatch_method {
    ($name:ident($($a:ident: $t:ty),*)) => {
        #[doc = concat!("See [`crate::Float::", stringify!($name), "`].")]
        #[allow(clippy::too_many_arguments)]
        #[inline]
        pub fn $name(&self, $($a: $t),*) {
            match self.isa {
                Isa::Scalar => scalar::$name($($a),*),
                Isa::Wide => portable_kernels::$name($($a),*),
                // SAFETY: `self.isa` is supported (the `Kernels` invariant), so this CPU has
                // AVX2 and FMA.
                #[cfg(target_arch = "x86_64")]
                Isa::Avx2Fma => unsafe { avx2_kernels::$name($($a),*) },
                // SAFETY: `self.isa` is supported, so this CPU has AVX-512F.
                #[cfg(target_arch = "x86_64")]
                Isa::Avx512 => unsafe { avx512_kernels::$name($($a),*) },
                #[cfg(not(target_arch = "x86_64"))]
                Isa::Avx2Fma | Isa::Avx512 => unreachable!("x86 instruction set on a non-x86 target"),
            }
        }
    };
}

impl Kernels {
    /// The kernels for `isa`, or `None` if this CPU cannot run them.
    pub fn new(isa: Isa) -> Option<Kernels> {
        isa.is_supported().then_some(Kernels { isa })
    }
    /// The kernels for the process-wide [`active_isa`].
    #[inline]
    pub fn active() -> Kernels {
        // `active_isa` only ever returns a supported instruction set.
        Kernels { isa: active_isa() }
    }
    /// Every instruction set this CPU supports, scalar first.
    pub fn all_supported() -> Vec<Kernels> {
        Isa::ALL.into_iter().filter_map(Kernels::new).collect()
    }
    pub fn isa(&self) -> Isa {
        self.isa
    }
    for_each_kernel!(dispatch_method);
}

// ------------------------------------------------------------------------------- free functions
// The API the engine is written against; each runs on the active instruction set.

pub fn sigmoid_inplace(x: &mut [f32]) {
    Kernels::active().sigmoid_inplace(x)
}
pub fn tanh_inplace(x: &mut [f32]) {
    Kernels::active().tanh_inplace(x)
}
pub fn relu_inplace(x: &mut [f32]) {
    Kernels::active().relu_inplace(x)
}
pub fn relu_backward(dx: &mut [f32], dy: &[f32], y: &[f32]) {
    Kernels::active().relu_backward(dx, dy, y)
}
pub fn sigmoid_backward(dx: &mut [f32], dy: &[f32], y: &[f32]) {
    Kernels::active().sigmoid_backward(dx, dy, y)
}
pub fn tanh_backward(dx: &mut [f32], dy: &[f32], y: &[f32]) {
    Kernels::active().tanh_backward(dx, dy, y)
}
pub fn add_bias_rows(y: &mut [f32], bias: &[f32]) {
    Kernels::active().add_bias_rows(y, bias)
}
pub fn column_sums(sums: &mut [f32], x: &[f32]) {
    Kernels::active().column_sums(sums, x)
}
pub fn lstm_cell_forward(gates: &mut [f32], c: &mut [f32], h: &mut [f32], c_prev: &[f32], hidden: usize) {
    Kernels::active().lstm_cell_forward(gates, c, h, c_prev, hidden)
}
pub fn lstm_cell_backward(
    dpre: &mut [f32],
    dc: &mut [f32],
    gates: &[f32],
    c_prev: &[f32],
    c: &[f32],
    dh: &[f32],
    hidden: usize,
) {
    Kernels::active().lstm_cell_backward(dpre, dc, gates, c_prev, c, dh, hidden)
}
pub fn softmax_rows(x: &mut [f32], cols: usize) {
    Kernels::active().softmax_rows(x, cols)
}
pub fn softmax_rows_backward(dx: &mut [f32], dy: &[f32], y: &[f32], cols: usize) {
    Kernels::active().softmax_rows_backward(dx, dy, y, cols)
}
#[allow(clippy::too_many_arguments)]
pub fn layer_norm_forward(
    y: &mut [f32],
    mean: &mut [f32],
    rstd: &mut [f32],
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    eps: f32,
) {
    Kernels::active().layer_norm_forward(y, mean, rstd, x, gamma, beta, eps)
}
#[allow(clippy::too_many_arguments)]
pub fn layer_norm_backward(
    dx: &mut [f32],
    dgamma: &mut [f32],
    dbeta: &mut [f32],
    dy: &[f32],
    x: &[f32],
    mean: &[f32],
    rstd: &[f32],
    gamma: &[f32],
) {
    Kernels::active().layer_norm_backward(dx, dgamma, dbeta, dy, x, mean, rstd, gamma)
}
#[allow(clippy::too_many_arguments)]
pub fn adam_update(
    p: &mut [f32],
    m: &mut [f32],
    v: &mut [f32],
    g: &[f32],
    alpha: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
) {
    Kernels::active().adam_update(p, m, v, g, alpha, beta1, beta2, eps)
}
