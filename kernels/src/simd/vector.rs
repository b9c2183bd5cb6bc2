//! The small vector trait every SIMD kernel is written over, and the vector math (exp,
//! sigmoid, tanh) built on it.
//!
//! An implementation is a zero-sized *token* type (`Portable`, `Avx2`, `Avx512`) whose
//! existence proves that the CPU can run its instruction set, plus a vector type `V` of
//! `LANES` `f32`s. The token's constructor is the only unsafe step: for the x86 tokens it is
//! `unsafe fn new_unchecked()`, called inside a `#[target_feature]` function that dispatch only
//! reaches after run-time detection. Every value of `V` is made through a token, so once a
//! token exists all vector operations are safe to call, and loads and stores take slices, so
//! the generic kernel bodies in [`super::generic`] contain no `unsafe` at all.
//!
//! The operations are chosen so that one lane never influences another except in the
//! explicit reductions (`reduce_add`, `reduce_max`): an element's result depends only on the
//! element's own inputs, never on where it sits in a slice.

use core::ops::{Add, Div, Mul, Sub};

/// An instruction set's `f32` vector, reached through a token (see the module docs).
pub(crate) trait Simd: Copy {
    /// `LANES` `f32`s.
    type V: Copy + Add<Output = Self::V> + Sub<Output = Self::V> + Mul<Output = Self::V> + Div<Output = Self::V>;
    /// One boolean per lane, as produced by the comparisons.
    type M: Copy;
    const LANES: usize;

    fn splat(self, x: f32) -> Self::V;
    /// The first `LANES` elements of `s`. Panics if `s` is shorter.
    fn load(self, s: &[f32]) -> Self::V;
    /// The first `min(s.len(), LANES)` elements of `s`; the remaining lanes are `fill`.
    fn load_partial(self, s: &[f32], fill: f32) -> Self::V;
    /// Writes all lanes to the first `LANES` elements of `s`. Panics if `s` is shorter.
    fn store(self, v: Self::V, s: &mut [f32]);
    /// Writes the first `min(s.len(), LANES)` lanes to `s`.
    fn store_partial(self, v: Self::V, s: &mut [f32]);

    /// `a · b + c`, with one rounding where the instruction set has FMA (AVX2+FMA, AVX-512),
    /// two otherwise. Either way the same for every lane and every call.
    fn mul_add(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// Lane-wise maximum; if `b` is NaN the lane is NaN (x86 `maxps` with `b` second).
    fn max(self, a: Self::V, b: Self::V) -> Self::V;
    /// `|a|` (clears the sign bit).
    fn abs(self, a: Self::V) -> Self::V;
    /// `−|a|` (sets the sign bit).
    fn neg_abs(self, a: Self::V) -> Self::V;
    /// `|mag|` with the sign bit of `sign`.
    fn copysign(self, mag: Self::V, sign: Self::V) -> Self::V;
    /// Correctly rounded square root.
    fn sqrt(self, a: Self::V) -> Self::V;
    /// `a < b`, false where either is NaN.
    fn lt(self, a: Self::V, b: Self::V) -> Self::M;
    /// `a > b`, false where either is NaN.
    fn gt(self, a: Self::V, b: Self::V) -> Self::M;
    /// `a >= b`, false where either is NaN.
    fn ge(self, a: Self::V, b: Self::V) -> Self::M;
    /// Lanes `0..n` set (all of them if `n >= LANES`).
    fn first_n(self, n: usize) -> Self::M;
    /// Per lane: `m ? t : f`.
    fn select(self, m: Self::M, t: Self::V, f: Self::V) -> Self::V;
    /// The bit pattern of each lane shifted left by 23 (the exponent field): turns the
    /// integer `k` held in the low mantissa bits of `2^23 + k` into the float `2^(k − 127)`.
    fn shl23(self, a: Self::V) -> Self::V;
    /// Sum of the lanes in a fixed order (a fixed tree, the same on every call).
    fn reduce_add(self, a: Self::V) -> f32;
    /// Maximum of the lanes in a fixed order.
    fn reduce_max(self, a: Self::V) -> f32;
}

// ------------------------------------------------------------------------------- exp

const LOG2_E: f32 = core::f32::consts::LOG2_E;
/// `2^23 + 127`: adding it to `x·log2(e)` rounds to the nearest integer `n` and leaves
/// `n + 127`, the biased exponent of `2^n`, in the low mantissa bits.
const EXP_MAGIC: f32 = 8_388_735.0;
/// Cody–Waite split of ln 2 (Cephes): `LN2_HI` has 9 significant bits, so `n · LN2_HI` is exact.
#[allow(clippy::excessive_precision)] // exactly 355/512
const LN2_HI: f32 = 0.693_359_375;
#[allow(clippy::excessive_precision)]
const LN2_LO: f32 = -2.121_944_40e-4;
/// `ln(f32::MIN_POSITIVE)`: below it `exp` would be subnormal; the kernels return 0 instead.
#[allow(clippy::excessive_precision)]
const EXP_MIN_ARG: f32 = -87.336_544_75;
/// Cephes `expf` minimax polynomial for `(e^r − 1 − r) / r²` on `|r| ≤ ln2 / 2`, digits as
/// published (they round to the intended `f32`s).
#[allow(clippy::excessive_precision)]
const EXP_P: [f32; 6] = [
    1.987_569_150_0e-4,
    1.398_199_950_7e-3,
    8.333_451_907_3e-3,
    4.166_579_589_4e-2,
    1.666_666_545_9e-1,
    5.000_000_120_1e-1,
];

/// `e^x` for `x ≤ 88` (the kernels only need `x ≤ 0`), Cephes style: `x = n ln2 + r` with
/// `|r| ≤ ln2/2`, `e^r` by a degree-7 polynomial, `2^n` built in the exponent field.
/// About 1 ulp where the result is a normal float; results below `f32::MIN_POSITIVE`
/// (`x < −87.34`, including `−∞`) are flushed to +0. NaN propagates.
#[inline(always)]
pub(crate) fn exp<S: Simd>(s: S, x: S::V) -> S::V {
    // For x below EXP_MIN_ARG (or −∞) the arithmetic below yields garbage (the bits of 2^n
    // wrap), which the final select discards, so no clamp is needed.
    let t = s.mul_add(x, s.splat(LOG2_E), s.splat(EXP_MAGIC));
    let n = t - s.splat(EXP_MAGIC);
    let r = s.mul_add(n, s.splat(-LN2_HI), x);
    let r = s.mul_add(n, s.splat(-LN2_LO), r);
    let mut p = s.splat(EXP_P[0]);
    for &coef in &EXP_P[1..] {
        p = s.mul_add(p, r, s.splat(coef));
    }
    let r2 = r * r;
    let er = s.mul_add(p, r2, r) + s.splat(1.0);
    let y = er * s.shl23(t);
    s.select(s.lt(x, s.splat(EXP_MIN_ARG)), s.splat(0.0), y)
}

// ------------------------------------------------------------------------------- sigmoid, tanh

/// `σ(x) = 1 / (1 + e^−x)`, stable for every input: with `e = e^−|x| ∈ [0, 1]`,
/// `σ = 1/(1+e)` for `x ≥ 0` and `e/(1+e)` for `x < 0`, so nothing overflows and no
/// cancellation occurs. `σ(±∞) = 1, 0`; NaN propagates. Within ~3 ulp of the exact value
/// (absolute error below `f32::MIN_POSITIVE` where the result is subnormal).
#[inline(always)]
pub(crate) fn sigmoid<S: Simd>(s: S, x: S::V) -> S::V {
    let e = exp(s, s.neg_abs(x));
    let one = s.splat(1.0);
    let r = one / (one + e);
    s.select(s.ge(x, s.splat(0.0)), r, e * r)
}

/// Below this |x| tanh uses its odd polynomial (Cephes `tanhf`), above it `(1 − e)/(1 + e)`.
const TANH_SMALL: f32 = 0.625;
/// Cephes `tanhf` polynomial: `tanh(x) ≈ x + x · z · P(z)`, `z = x²`, for `|x| < 0.625`.
#[allow(clippy::excessive_precision)]
const TANH_P: [f32; 5] =
    [-5.704_988_727_45e-3, 2.063_908_879_54e-2, -5.373_971_555_31e-2, 1.333_144_220_36e-1, -3.333_328_194_22e-1];

/// `tanh(x)`, stable for every input: for `|x| ≥ 0.625`, `e = e^−2|x| ∈ [0, 0.29]` and
/// `tanh = ±(1 − e)/(1 + e)` (no overflow, no cancellation; exactly ±1 for large |x| and ±∞);
/// below, the Cephes polynomial keeps full relative accuracy near 0. NaN propagates.
/// Within ~3 ulp of the exact value.
#[inline(always)]
pub(crate) fn tanh<S: Simd>(s: S, x: S::V) -> S::V {
    let a = s.abs(x);
    let one = s.splat(1.0);
    // Large branch.
    let e = exp(s, s.neg_abs(x + x));
    let large = s.copysign((one - e) / (one + e), x);
    // Small branch.
    let z = x * x;
    let mut p = s.splat(TANH_P[0]);
    for &coef in &TANH_P[1..] {
        p = s.mul_add(p, z, s.splat(coef));
    }
    let small = s.mul_add(p * z, x, x);
    s.select(s.lt(a, s.splat(TANH_SMALL)), small, large)
}
