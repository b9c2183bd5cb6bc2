//! Double-double arithmetic: a value is the unevaluated sum `hi + lo` of two f64s, about
//! 106 bits of mantissa (≈ 32 decimal digits).
//!
//! Why it exists: the gradient audit compares the f64 analytic gradient with central
//! differences. Evaluated in f64, a central difference has a rounding floor of roughly
//! 1e-16·|L| / h ≈ 1e-12 in absolute terms, which is the *whole* tolerance of the audit's
//! relative-error measure for gradient entries near 1e-6 (it divides by max(|a|, |n|, 1e-6)).
//! Evaluating the same generic forward pass in double-double drops that floor below 1e-20,
//! so the numeric reference is exact to f64 precision and a failure always means a wrong
//! backward pass, never noise.
//!
//! Only what the engine's forward pass needs: + − × ÷, sqrt, exp, tanh, ln_1p, comparisons.
//! Algorithms: Dekker/Knuth error-free transformations (two-sum, FMA two-product), exp by
//! range reduction, argument halving and a Taylor series, ln_1p by Newton on exp.

use std::cmp::Ordering;
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

use kubelstm_kernels::{Float, Mat, MatMut};

#[derive(Clone, Copy, Debug, Default)]
pub struct DoubleDouble {
    pub hi: f64,
    pub lo: f64,
}

/// a + b exactly, as (sum, error).
#[inline]
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// a + b exactly when |a| ≥ |b|.
#[inline]
fn quick_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (s, b - (s - a))
}

/// a · b exactly, as (product, error), via FMA.
#[inline]
fn two_prod(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    (p, a.mul_add(b, -p))
}

/// 1/n! for n = 0..=10, computed once in double-double.
fn inverse_factorials() -> &'static [DoubleDouble; 11] {
    static TABLE: std::sync::OnceLock<[DoubleDouble; 11]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = [DoubleDouble::from_f64(1.0); 11];
        for n in 1..11 {
            table[n] = table[n - 1] / DoubleDouble::from_f64(n as f64);
        }
        table
    })
}

const LN2: DoubleDouble = DoubleDouble { hi: std::f64::consts::LN_2, lo: 2.319_046_813_846_299_6e-17 };

impl DoubleDouble {
    pub const fn from_f64(v: f64) -> Self {
        DoubleDouble { hi: v, lo: 0.0 }
    }

    fn renormalise(hi: f64, lo: f64) -> Self {
        if !hi.is_finite() {
            return DoubleDouble { hi, lo: 0.0 };
        }
        let (hi, lo) = quick_two_sum(hi, lo);
        DoubleDouble { hi, lo }
    }

    fn mul_f64(self, b: f64) -> Self {
        let (p, e) = two_prod(self.hi, b);
        Self::renormalise(p, e + self.lo * b)
    }

    fn ldexp(self, k: i32) -> Self {
        let scale = 2f64.powi(k);
        DoubleDouble { hi: self.hi * scale, lo: self.lo * scale }
    }

    /// e^x − 1 for |x| ≤ ln2 / 2, accurate near 0: Taylor series after halving the argument
    /// eight times, then eight doublings with e^{2y} − 1 = (e^y − 1)(e^y − 1 + 2).
    fn expm1_reduced(self) -> Self {
        const HALVINGS: i32 = 8;
        let y = self.ldexp(-HALVINGS);
        // |y| < 1.4e-3, so y¹¹/11! < 1e-39: ten terms of the series, Horner form.
        let inverse_factorials = inverse_factorials();
        let mut sum = inverse_factorials[10];
        for n in (1..10).rev() {
            sum = sum * y + inverse_factorials[n];
        }
        let mut sum = sum * y;
        for _ in 0..HALVINGS {
            sum = sum * (sum + Self::from_f64(2.0));
        }
        sum
    }

    pub fn exp_m1(self) -> Self {
        if self.hi.abs() <= 0.5 * std::f64::consts::LN_2 {
            return self.expm1_reduced();
        }
        self.exp() - Self::from_f64(1.0)
    }

    pub fn exp(self) -> Self {
        if self.hi.is_nan() {
            return self;
        }
        if self.hi > 709.0 {
            return Self::from_f64(f64::INFINITY);
        }
        if self.hi < -745.0 {
            return Self::from_f64(0.0);
        }
        let k = (self.hi / std::f64::consts::LN_2).round();
        let r = self - LN2.mul_f64(k);
        (r.expm1_reduced() + Self::from_f64(1.0)).ldexp(k as i32)
    }

    pub fn tanh(self) -> Self {
        if self.hi.abs() > 40.0 {
            return Self::from_f64(self.hi.signum());
        }
        // tanh x = (e^{2x} − 1) / (e^{2x} + 1), with e^{2x} − 1 from exp_m1 so small x keeps
        // its relative precision.
        let e = (self + self).exp_m1();
        e / (e + Self::from_f64(2.0))
    }

    pub fn sqrt(self) -> Self {
        if self.hi <= 0.0 {
            return Self::from_f64(self.hi.sqrt());
        }
        // One Newton step from the f64 root doubles the correct bits: s + (a − s²) / 2s.
        let s = self.hi.sqrt();
        let (p, e) = two_prod(s, s);
        let residual = (self - DoubleDouble { hi: p, lo: e }).hi;
        Self::renormalise(s, residual / (2.0 * s))
    }

    pub fn ln_1p(self) -> Self {
        if self.hi <= -1.0 {
            return Self::from_f64((self.hi).ln_1p());
        }
        // Newton on e^y = 1 + x: y ← y + (1 + x) e^{−y} − 1, from the f64 guess; two steps.
        let one = Self::from_f64(1.0);
        let mut y = Self::from_f64(self.hi.ln_1p());
        for _ in 0..2 {
            y = y + (one + self) * (-y).exp() - one;
        }
        y
    }

    pub fn abs(self) -> Self {
        if self.hi < 0.0 {
            -self
        } else {
            self
        }
    }
}

impl Add for DoubleDouble {
    type Output = Self;
    fn add(self, b: Self) -> Self {
        let (s, e) = two_sum(self.hi, b.hi);
        let (t, f) = two_sum(self.lo, b.lo);
        let (s, e) = quick_two_sum(s, e + t);
        Self::renormalise(s, e + f)
    }
}

impl Neg for DoubleDouble {
    type Output = Self;
    fn neg(self) -> Self {
        DoubleDouble { hi: -self.hi, lo: -self.lo }
    }
}

impl Sub for DoubleDouble {
    type Output = Self;
    fn sub(self, b: Self) -> Self {
        self + (-b)
    }
}

impl Mul for DoubleDouble {
    type Output = Self;
    fn mul(self, b: Self) -> Self {
        let (p, e) = two_prod(self.hi, b.hi);
        Self::renormalise(p, e + (self.hi * b.lo + self.lo * b.hi))
    }
}

impl Div for DoubleDouble {
    type Output = Self;
    fn div(self, b: Self) -> Self {
        // Long division: q1 = a/b in f64, remainder r = a − q1 b, q2 = r/b, and once more.
        let q1 = self.hi / b.hi;
        if !q1.is_finite() {
            return Self::from_f64(q1);
        }
        let r = self - b.mul_f64(q1);
        let q2 = r.hi / b.hi;
        let r = r - b.mul_f64(q2);
        let q3 = r.hi / b.hi;
        let (hi, lo) = quick_two_sum(q1, q2);
        DoubleDouble { hi, lo } + Self::from_f64(q3)
    }
}

macro_rules! assign_op {
    ($tr:ident, $method:ident, $op:tt) => {
        impl $tr for DoubleDouble {
            fn $method(&mut self, b: Self) {
                *self = *self $op b;
            }
        }
    };
}
assign_op!(AddAssign, add_assign, +);
assign_op!(SubAssign, sub_assign, -);
assign_op!(MulAssign, mul_assign, *);
assign_op!(DivAssign, div_assign, /);

impl PartialEq for DoubleDouble {
    fn eq(&self, b: &Self) -> bool {
        self.hi == b.hi && self.lo == b.lo
    }
}

impl PartialOrd for DoubleDouble {
    fn partial_cmp(&self, b: &Self) -> Option<Ordering> {
        match self.hi.partial_cmp(&b.hi)? {
            Ordering::Equal => self.lo.partial_cmp(&b.lo),
            other => Some(other),
        }
    }
}

impl Sum for DoubleDouble {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::default(), |a, b| a + b)
    }
}

impl fmt::Display for DoubleDouble {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:e} + {:e}", self.hi, self.lo)
    }
}

/// Every kernel is the generic scalar reference; GEMM is its naive loop.
impl Float for DoubleDouble {
    const ZERO: Self = DoubleDouble::from_f64(0.0);
    const ONE: Self = DoubleDouble::from_f64(1.0);
    const NAME: &'static str = "double-double";

    fn from_f64(v: f64) -> Self {
        DoubleDouble::from_f64(v)
    }
    fn to_f64(self) -> f64 {
        self.hi + self.lo
    }
    fn exp(self) -> Self {
        DoubleDouble::exp(self)
    }
    fn ln(self) -> Self {
        (self - Self::ONE).ln_1p()
    }
    fn ln_1p(self) -> Self {
        DoubleDouble::ln_1p(self)
    }
    fn sqrt(self) -> Self {
        DoubleDouble::sqrt(self)
    }
    fn tanh(self) -> Self {
        DoubleDouble::tanh(self)
    }
    fn abs(self) -> Self {
        DoubleDouble::abs(self)
    }
    fn max(self, other: Self) -> Self {
        if other > self {
            other
        } else {
            self
        }
    }
    fn min(self, other: Self) -> Self {
        if other < self {
            other
        } else {
            self
        }
    }
    fn is_finite(self) -> bool {
        self.hi.is_finite()
    }
    fn powi(self, n: i32) -> Self {
        let mut result = Self::ONE;
        for _ in 0..n.unsigned_abs() {
            result *= self;
        }
        if n < 0 {
            Self::ONE / result
        } else {
            result
        }
    }
    fn gemm(alpha: Self, a: Mat<'_, Self>, b: Mat<'_, Self>, beta: Self, c: MatMut<'_, Self>) {
        kubelstm_kernels::scalar::gemm(alpha, a, b, beta, c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dd(v: f64) -> DoubleDouble {
        DoubleDouble::from_f64(v)
    }

    #[test]
    fn functions_agree_with_f64_to_its_precision() {
        for &v in &[-30.0, -3.3, -0.7, -0.2, -1e-5, 0.0, 1e-9, 0.1, 0.34, 0.5, 1.0, 2.5, 17.0] {
            let rel = |a: DoubleDouble, b: f64| ((a.to_f64() - b) / b.abs().max(1e-300)).abs();
            assert!(rel(dd(v).exp(), v.exp()) < 4e-16, "exp({v})");
            assert!(rel(dd(v).tanh(), v.tanh()) < 4e-16 || v == 0.0, "tanh({v})");
            assert!(rel(dd(v.abs()).sqrt(), v.abs().sqrt()) < 4e-16 || v == 0.0, "sqrt({v})");
            assert!(rel(dd(v.abs()).ln_1p(), v.abs().ln_1p()) < 4e-16 || v == 0.0, "ln_1p({v})");
        }
    }

    #[test]
    fn identities_hold_to_double_double_precision() {
        for &v in &[-5.1, -0.3, 0.001, 0.7, 3.9, 12.25] {
            let x = dd(v) / dd(3.0); // not representable in f64: exercises the low word
            let one = x.exp() * (-x).exp();
            assert!((one - dd(1.0)).abs().to_f64() < 1e-30, "exp(x)exp(−x) − 1 at {v}");
            let root = x.abs().sqrt();
            assert!(((root * root - x.abs()) / x.abs()).abs().to_f64() < 1e-30, "sqrt at {v}");
            let back = x.abs().ln_1p().exp_m1();
            assert!(((back - x.abs()) / x.abs()).abs().to_f64() < 1e-29, "ln_1p at {v}");
            // tanh(2x) = 2 tanh x / (1 + tanh² x)
            let t = x.tanh();
            let t2 = (x + x).tanh();
            let rhs = (t + t) / (dd(1.0) + t * t);
            assert!(((t2 - rhs) / t2).abs().to_f64() < 1e-29, "tanh at {v}");
        }
        let third = dd(1.0) / dd(3.0);
        assert!((third * dd(3.0) - dd(1.0)).abs().to_f64() < 1e-32);
    }
}
