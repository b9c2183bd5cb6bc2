//! The portable instruction set: `wide::f32x8`. `wide` picks its instructions when the crate
//! is *compiled* (`cfg(target_feature)`), so in a default x86-64 build this is SSE2 (two
//! `__m128` per vector, `mul_add` as a separate multiply and add); on aarch64 it is NEON.
//! It needs no run-time check and is what non-x86 targets run.

use wide::{f32x8, u32x8};

use super::vector::Simd;

/// Token for the portable `wide` implementation; always available.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Portable;

const LANE_INDEX: f32x8 = f32x8::new([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);

impl Simd for Portable {
    type V = f32x8;
    type M = f32x8;
    const LANES: usize = 8;

    #[inline(always)]
    fn splat(self, x: f32) -> f32x8 {
        f32x8::splat(x)
    }
    #[inline(always)]
    fn load(self, s: &[f32]) -> f32x8 {
        let a: [f32; 8] = s[..8].try_into().unwrap();
        f32x8::new(a)
    }
    #[inline(always)]
    fn load_partial(self, s: &[f32], fill: f32) -> f32x8 {
        // Lane by lane with a fixed trip count: a `copy_from_slice` of a run-time length
        // becomes an out-of-line memcpy call, which dominated short rows.
        f32x8::new(core::array::from_fn(|i| s.get(i).copied().unwrap_or(fill)))
    }
    #[inline(always)]
    fn store(self, v: f32x8, s: &mut [f32]) {
        s[..8].copy_from_slice(&v.to_array());
    }
    #[inline(always)]
    fn store_partial(self, v: f32x8, s: &mut [f32]) {
        for (d, x) in s.iter_mut().zip(v.to_array()) {
            *d = x;
        }
    }
    #[inline(always)]
    fn mul_add(self, a: f32x8, b: f32x8, c: f32x8) -> f32x8 {
        a.mul_add(b, c)
    }
    #[inline(always)]
    fn max(self, a: f32x8, b: f32x8) -> f32x8 {
        // `fast_max` is `maxps(a, b)` on x86 (returns b when either is NaN) and NaN-propagating
        // `vmaxq` on aarch64: a NaN in b comes out either way.
        a.fast_max(b)
    }
    #[inline(always)]
    fn abs(self, a: f32x8) -> f32x8 {
        f32x8::from_bits(a.to_bits() & u32x8::splat(0x7fff_ffff))
    }
    #[inline(always)]
    fn neg_abs(self, a: f32x8) -> f32x8 {
        f32x8::from_bits(a.to_bits() | u32x8::splat(0x8000_0000))
    }
    #[inline(always)]
    fn copysign(self, mag: f32x8, sign: f32x8) -> f32x8 {
        f32x8::from_bits((mag.to_bits() & u32x8::splat(0x7fff_ffff)) | (sign.to_bits() & u32x8::splat(0x8000_0000)))
    }
    #[inline(always)]
    fn sqrt(self, a: f32x8) -> f32x8 {
        a.sqrt()
    }
    #[inline(always)]
    fn lt(self, a: f32x8, b: f32x8) -> f32x8 {
        a.simd_lt(b)
    }
    #[inline(always)]
    fn gt(self, a: f32x8, b: f32x8) -> f32x8 {
        a.simd_gt(b)
    }
    #[inline(always)]
    fn ge(self, a: f32x8, b: f32x8) -> f32x8 {
        a.simd_ge(b)
    }
    #[inline(always)]
    fn first_n(self, n: usize) -> f32x8 {
        LANE_INDEX.simd_lt(f32x8::splat(n.min(8) as f32))
    }
    #[inline(always)]
    fn select(self, m: f32x8, t: f32x8, f: f32x8) -> f32x8 {
        m.select(t, f)
    }
    #[inline(always)]
    fn shl23(self, a: f32x8) -> f32x8 {
        f32x8::from_bits(a.to_bits() << 23u32)
    }
    #[inline(always)]
    fn reduce_add(self, a: f32x8) -> f32 {
        let l = a.to_array();
        ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]))
    }
    #[inline(always)]
    fn reduce_max(self, a: f32x8) -> f32 {
        let l = a.to_array();
        let m = |x: f32, y: f32| if x > y { x } else { y };
        m(m(m(l[0], l[4]), m(l[2], l[6])), m(m(l[1], l[5]), m(l[3], l[7])))
    }
}
