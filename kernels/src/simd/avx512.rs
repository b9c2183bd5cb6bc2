//! AVX-512F: `__m512`, sixteen lanes, fused multiply-add, `k` mask registers. Tails use
//! masked loads (masked-off lanes are not read and never fault) and a stack copy for stores.

use core::arch::x86_64::*;
use core::ops::{Add, Div, Mul, Sub};

use super::vector::Simd;

/// Token for AVX-512F. A value exists only if the CPU supports it (see [`Avx512::new_unchecked`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx512(());

impl Avx512 {
    /// # Safety
    /// The CPU must support AVX-512F (which implies AVX2 and FMA).
    #[inline(always)]
    pub(crate) unsafe fn new_unchecked() -> Avx512 {
        Avx512(())
    }
}

/// Sixteen `f32` lanes. Only [`Avx512`] makes values of this type, so holding one proves the
/// CPU supports AVX-512F, which is what makes the operator impls below sound.
#[derive(Clone, Copy, Debug)]
pub(crate) struct F32x16(__m512);

macro_rules! binop {
    ($tr:ident, $method:ident, $intr:ident) => {
        impl $tr for F32x16 {
            type Output = F32x16;
            #[inline(always)]
            fn $method(self, rhs: F32x16) -> F32x16 {
                // SAFETY: an F32x16 exists only if an Avx512 token did, i.e. the CPU has AVX-512F.
                F32x16(unsafe { $intr(self.0, rhs.0) })
            }
        }
    };
}
binop!(Add, add, _mm512_add_ps);
binop!(Sub, sub, _mm512_sub_ps);
binop!(Mul, mul, _mm512_mul_ps);
binop!(Div, div, _mm512_div_ps);

/// Lanes `0..min(n, 16)` set.
#[inline(always)]
fn lane_mask(n: usize) -> __mmask16 {
    ((1u32 << n.min(16)) - 1) as __mmask16
}

const SIGN: i32 = i32::MIN;

impl Simd for Avx512 {
    type V = F32x16;
    type M = __mmask16;
    const LANES: usize = 16;

    #[inline(always)]
    fn splat(self, x: f32) -> F32x16 {
        // SAFETY: `self` proves the CPU has AVX-512F.
        F32x16(unsafe { _mm512_set1_ps(x) })
    }
    #[inline(always)]
    fn load(self, s: &[f32]) -> F32x16 {
        assert!(s.len() >= 16);
        // SAFETY: AVX-512F is available (token) and `s` holds at least 16 readable f32s;
        // `loadu` has no alignment requirement.
        F32x16(unsafe { _mm512_loadu_ps(s.as_ptr()) })
    }
    #[inline(always)]
    fn load_partial(self, s: &[f32], fill: f32) -> F32x16 {
        // SAFETY: AVX-512F is available; the masked load reads only the first min(len, 16)
        // elements, which lie inside `s`; masked-off lanes are not accessed.
        F32x16(unsafe { _mm512_mask_loadu_ps(_mm512_set1_ps(fill), lane_mask(s.len()), s.as_ptr()) })
    }
    #[inline(always)]
    fn store(self, v: F32x16, s: &mut [f32]) {
        assert!(s.len() >= 16);
        // SAFETY: AVX-512F is available and `s` has room for 16 f32s; no alignment needed.
        unsafe { _mm512_storeu_ps(s.as_mut_ptr(), v.0) }
    }
    #[inline(always)]
    fn store_partial(self, v: F32x16, s: &mut [f32]) {
        // Not `_mm512_mask_storeu_ps`: Zen 4 executes 512-bit masked stores so slowly that one
        // per softmax row of 10 tripled the row's cost; a full store to the stack and a copy
        // of the live lanes is ~2.5× faster there (masked *loads* are fast and stay).
        let mut buf = [0.0f32; 16];
        // SAFETY: AVX-512F is available (token) and `buf` has room for 16 f32s.
        unsafe { _mm512_storeu_ps(buf.as_mut_ptr(), v.0) };
        for (d, x) in s.iter_mut().zip(buf) {
            *d = x;
        }
    }
    #[inline(always)]
    fn mul_add(self, a: F32x16, b: F32x16, c: F32x16) -> F32x16 {
        // SAFETY: AVX-512F is available (token).
        F32x16(unsafe { _mm512_fmadd_ps(a.0, b.0, c.0) })
    }
    #[inline(always)]
    fn max(self, a: F32x16, b: F32x16) -> F32x16 {
        // SAFETY: AVX-512F is available (token).
        F32x16(unsafe { _mm512_max_ps(a.0, b.0) })
    }
    #[inline(always)]
    fn abs(self, a: F32x16) -> F32x16 {
        // SAFETY: AVX-512F is available (token).
        F32x16(unsafe { _mm512_abs_ps(a.0) })
    }
    #[inline(always)]
    fn neg_abs(self, a: F32x16) -> F32x16 {
        // SAFETY: AVX-512F is available (token). (Float `or` needs AVX-512DQ; the integer
        // form does the same on the bits.)
        F32x16(unsafe { _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(a.0), _mm512_set1_epi32(SIGN))) })
    }
    #[inline(always)]
    fn copysign(self, mag: F32x16, sign: F32x16) -> F32x16 {
        // SAFETY: AVX-512F is available (token). `ternarylogic` 0xE4 = (C & A) | (!C & B)
        // with A = sign, B = mag, C = the sign-bit mask: sign bit from `sign`, the rest from `mag`.
        unsafe {
            let m = _mm512_set1_epi32(SIGN);
            let r = _mm512_ternarylogic_epi32::<0xE4>(_mm512_castps_si512(sign.0), _mm512_castps_si512(mag.0), m);
            F32x16(_mm512_castsi512_ps(r))
        }
    }
    #[inline(always)]
    fn sqrt(self, a: F32x16) -> F32x16 {
        // SAFETY: AVX-512F is available (token).
        F32x16(unsafe { _mm512_sqrt_ps(a.0) })
    }
    #[inline(always)]
    fn lt(self, a: F32x16, b: F32x16) -> __mmask16 {
        // SAFETY: AVX-512F is available (token).
        unsafe { _mm512_cmp_ps_mask::<_CMP_LT_OQ>(a.0, b.0) }
    }
    #[inline(always)]
    fn gt(self, a: F32x16, b: F32x16) -> __mmask16 {
        // SAFETY: AVX-512F is available (token).
        unsafe { _mm512_cmp_ps_mask::<_CMP_GT_OQ>(a.0, b.0) }
    }
    #[inline(always)]
    fn ge(self, a: F32x16, b: F32x16) -> __mmask16 {
        // SAFETY: AVX-512F is available (token).
        unsafe { _mm512_cmp_ps_mask::<_CMP_GE_OQ>(a.0, b.0) }
    }
    #[inline(always)]
    fn first_n(self, n: usize) -> __mmask16 {
        lane_mask(n)
    }
    #[inline(always)]
    fn select(self, m: __mmask16, t: F32x16, f: F32x16) -> F32x16 {
        // SAFETY: AVX-512F is available (token). `mask_blend` takes the second vector where
        // the mask bit is set.
        F32x16(unsafe { _mm512_mask_blend_ps(m, f.0, t.0) })
    }
    #[inline(always)]
    fn shl23(self, a: F32x16) -> F32x16 {
        // SAFETY: AVX-512F is available (token).
        F32x16(unsafe { _mm512_castsi512_ps(_mm512_slli_epi32::<23>(_mm512_castps_si512(a.0))) })
    }
    #[inline(always)]
    fn reduce_add(self, a: F32x16) -> f32 {
        // SAFETY: AVX-512F is available (token), which implies AVX.
        unsafe {
            let lo = _mm512_castps512_ps256(a.0);
            let hi = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(a.0)));
            let o = _mm256_add_ps(lo, hi);
            let q = _mm_add_ps(_mm256_castps256_ps128(o), _mm256_extractf128_ps::<1>(o));
            let d = _mm_add_ps(q, _mm_movehl_ps(q, q));
            _mm_cvtss_f32(_mm_add_ss(d, _mm_movehdup_ps(d)))
        }
    }
    #[inline(always)]
    fn reduce_max(self, a: F32x16) -> f32 {
        // SAFETY: AVX-512F is available (token), which implies AVX.
        unsafe {
            let lo = _mm512_castps512_ps256(a.0);
            let hi = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(a.0)));
            let o = _mm256_max_ps(lo, hi);
            let q = _mm_max_ps(_mm256_castps256_ps128(o), _mm256_extractf128_ps::<1>(o));
            let d = _mm_max_ps(q, _mm_movehl_ps(q, q));
            _mm_cvtss_f32(_mm_max_ss(d, _mm_movehdup_ps(d)))
        }
    }
}
