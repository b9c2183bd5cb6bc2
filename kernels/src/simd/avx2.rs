//! AVX2 + FMA: `__m256`, eight lanes, fused multiply-add. Tails use `vmaskmovps`.

use core::arch::x86_64::*;
use core::ops::{Add, Div, Mul, Sub};

use super::vector::Simd;

/// Token for AVX2 + FMA. A value exists only if the CPU supports both (see [`Avx2::new_unchecked`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx2(());

impl Avx2 {
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[inline(always)]
    pub(crate) unsafe fn new_unchecked() -> Avx2 {
        Avx2(())
    }
}

/// Eight `f32` lanes. Only [`Avx2`] makes values of this type, so holding one proves the CPU
/// supports AVX2 + FMA, which is what makes the operator impls below sound.
#[derive(Clone, Copy, Debug)]
pub(crate) struct F32x8(__m256);

macro_rules! binop {
    ($tr:ident, $method:ident, $intr:ident) => {
        impl $tr for F32x8 {
            type Output = F32x8;
            #[inline(always)]
            fn $method(self, rhs: F32x8) -> F32x8 {
                // SAFETY: an F32x8 exists only if an Avx2 token did, i.e. the CPU has AVX.
                F32x8(unsafe { $intr(self.0, rhs.0) })
            }
        }
    };
}
binop!(Add, add, _mm256_add_ps);
binop!(Sub, sub, _mm256_sub_ps);
binop!(Mul, mul, _mm256_mul_ps);
binop!(Div, div, _mm256_div_ps);

/// A mask with lanes `0..n` all-ones (`n ≤ 8`), for `vmaskmovps`.
#[inline(always)]
fn lane_mask(_: Avx2, n: usize) -> __m256i {
    // SAFETY: the Avx2 token proves AVX2 is available.
    unsafe { _mm256_cmpgt_epi32(_mm256_set1_epi32(n.min(8) as i32), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)) }
}

const SIGN: i32 = i32::MIN;

impl Simd for Avx2 {
    type V = F32x8;
    type M = F32x8;
    const LANES: usize = 8;

    #[inline(always)]
    fn splat(self, x: f32) -> F32x8 {
        // SAFETY: `self` proves the CPU has AVX2 + FMA.
        F32x8(unsafe { _mm256_set1_ps(x) })
    }
    #[inline(always)]
    fn load(self, s: &[f32]) -> F32x8 {
        assert!(s.len() >= 8);
        // SAFETY: AVX is available (token) and `s` holds at least 8 readable f32s; `loadu`
        // has no alignment requirement.
        F32x8(unsafe { _mm256_loadu_ps(s.as_ptr()) })
    }
    #[inline(always)]
    fn load_partial(self, s: &[f32], fill: f32) -> F32x8 {
        let mask = lane_mask(self, s.len());
        // SAFETY: AVX is available; `maskload` reads only the lanes whose mask is set, which
        // are the first min(len, 8) elements of `s`, and masked-off lanes never fault.
        unsafe {
            let v = _mm256_maskload_ps(s.as_ptr(), mask);
            F32x8(_mm256_blendv_ps(_mm256_set1_ps(fill), v, _mm256_castsi256_ps(mask)))
        }
    }
    #[inline(always)]
    fn store(self, v: F32x8, s: &mut [f32]) {
        assert!(s.len() >= 8);
        // SAFETY: AVX is available and `s` has room for 8 f32s; no alignment needed.
        unsafe { _mm256_storeu_ps(s.as_mut_ptr(), v.0) }
    }
    #[inline(always)]
    fn store_partial(self, v: F32x8, s: &mut [f32]) {
        let mask = lane_mask(self, s.len());
        // SAFETY: AVX is available; `maskstore` writes only the first min(len, 8) lanes,
        // which lie inside `s`.
        unsafe { _mm256_maskstore_ps(s.as_mut_ptr(), mask, v.0) }
    }
    #[inline(always)]
    fn mul_add(self, a: F32x8, b: F32x8, c: F32x8) -> F32x8 {
        // SAFETY: the token proves FMA is available.
        F32x8(unsafe { _mm256_fmadd_ps(a.0, b.0, c.0) })
    }
    #[inline(always)]
    fn max(self, a: F32x8, b: F32x8) -> F32x8 {
        // SAFETY: AVX is available (token).
        F32x8(unsafe { _mm256_max_ps(a.0, b.0) })
    }
    #[inline(always)]
    fn abs(self, a: F32x8) -> F32x8 {
        // SAFETY: AVX is available (token).
        F32x8(unsafe { _mm256_andnot_ps(_mm256_castsi256_ps(_mm256_set1_epi32(SIGN)), a.0) })
    }
    #[inline(always)]
    fn neg_abs(self, a: F32x8) -> F32x8 {
        // SAFETY: AVX is available (token).
        F32x8(unsafe { _mm256_or_ps(_mm256_castsi256_ps(_mm256_set1_epi32(SIGN)), a.0) })
    }
    #[inline(always)]
    fn copysign(self, mag: F32x8, sign: F32x8) -> F32x8 {
        // SAFETY: AVX is available (token).
        unsafe {
            let s = _mm256_castsi256_ps(_mm256_set1_epi32(SIGN));
            F32x8(_mm256_or_ps(_mm256_andnot_ps(s, mag.0), _mm256_and_ps(s, sign.0)))
        }
    }
    #[inline(always)]
    fn sqrt(self, a: F32x8) -> F32x8 {
        // SAFETY: AVX is available (token).
        F32x8(unsafe { _mm256_sqrt_ps(a.0) })
    }
    #[inline(always)]
    fn lt(self, a: F32x8, b: F32x8) -> F32x8 {
        // SAFETY: AVX is available (token).
        F32x8(unsafe { _mm256_cmp_ps::<_CMP_LT_OQ>(a.0, b.0) })
    }
    #[inline(always)]
    fn gt(self, a: F32x8, b: F32x8) -> F32x8 {
        // SAFETY: AVX is available (token).
        F32x8(unsafe { _mm256_cmp_ps::<_CMP_GT_OQ>(a.0, b.0) })
    }
    #[inline(always)]
    fn ge(self, a: F32x8, b: F32x8) -> F32x8 {
        // SAFETY: AVX is available (token).
        F32x8(unsafe { _mm256_cmp_ps::<_CMP_GE_OQ>(a.0, b.0) })
    }
    #[inline(always)]
    fn first_n(self, n: usize) -> F32x8 {
        // SAFETY: AVX is available (token).
        F32x8(unsafe { _mm256_castsi256_ps(lane_mask(self, n)) })
    }
    #[inline(always)]
    fn select(self, m: F32x8, t: F32x8, f: F32x8) -> F32x8 {
        // SAFETY: AVX is available (token).
        F32x8(unsafe { _mm256_blendv_ps(f.0, t.0, m.0) })
    }
    #[inline(always)]
    fn shl23(self, a: F32x8) -> F32x8 {
        // SAFETY: AVX2 is available (token).
        F32x8(unsafe { _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_castps_si256(a.0))) })
    }
    #[inline(always)]
    fn reduce_add(self, a: F32x8) -> f32 {
        // SAFETY: AVX is available (token).
        unsafe {
            let q = _mm_add_ps(_mm256_castps256_ps128(a.0), _mm256_extractf128_ps::<1>(a.0));
            let d = _mm_add_ps(q, _mm_movehl_ps(q, q));
            _mm_cvtss_f32(_mm_add_ss(d, _mm_movehdup_ps(d)))
        }
    }
    #[inline(always)]
    fn reduce_max(self, a: F32x8) -> f32 {
        // SAFETY: AVX is available (token).
        unsafe {
            let q = _mm_max_ps(_mm256_castps256_ps128(a.0), _mm256_extractf128_ps::<1>(a.0));
            let d = _mm_max_ps(q, _mm_movehl_ps(q, q));
            _mm_cvtss_f32(_mm_max_ss(d, _mm_movehdup_ps(d)))
        }
    }
}
