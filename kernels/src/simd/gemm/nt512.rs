//! AVX-512 dot-product kernels for C = A · Bᵀ with contiguous rows on both sides.

use super::*;

const LANES: usize = 16;
/// Rows of A and of W per block: 4 × 4 accumulators, 8 loads per 16 FMAs.
pub(super) const R: usize = 4;

/// Lane-sum in a fixed tree.
#[inline(always)]
unsafe fn sum(v: __m512) -> f32 {
    let lo = _mm512_castps512_ps256(v);
    let hi = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(v)));
    let o = _mm256_add_ps(lo, hi);
    let q = _mm_add_ps(_mm256_castps256_ps128(o), _mm256_extractf128_ps::<1>(o));
    let d = _mm_add_ps(q, _mm_movehl_ps(q, q));
    _mm_cvtss_f32(_mm_add_ss(d, _mm_movehdup_ps(d)))
}

/// C[0..RA, 0..RB] = dots of RA rows of A with RB rows of W.
///
/// # Safety
/// AVX-512F; rows i < RA of A (`a + i·lda`, k elements), rows j < RB of W (`w + j·ldw`,
/// k elements) and `c + i·ldc + j` are in bounds.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn block<const RA: usize, const RB: usize>(
    k: usize,
    a: *const f32,
    lda: usize,
    w: *const f32,
    ldw: usize,
    c: *mut f32,
    ldc: usize,
    alpha: f32,
    beta: f32,
) {
    let mut acc = [[_mm512_setzero_ps(); RB]; RA];
    let mut l = 0;
    while l + LANES <= k {
        let mut wv = [_mm512_setzero_ps(); RB];
        for (j, x) in wv.iter_mut().enumerate() {
            *x = _mm512_loadu_ps(w.add(j * ldw + l));
        }
        for (i, row) in acc.iter_mut().enumerate() {
            let av = _mm512_loadu_ps(a.add(i * lda + l));
            for (x, &wx) in row.iter_mut().zip(&wv) {
                *x = _mm512_fmadd_ps(av, wx, *x);
            }
        }
        l += LANES;
    }
    if l < k {
        let mask = ((1u32 << (k - l)) - 1) as __mmask16;
        let mut wv = [_mm512_setzero_ps(); RB];
        for (j, x) in wv.iter_mut().enumerate() {
            *x = _mm512_maskz_loadu_ps(mask, w.add(j * ldw + l));
        }
        for (i, row) in acc.iter_mut().enumerate() {
            let av = _mm512_maskz_loadu_ps(mask, a.add(i * lda + l));
            for (x, &wx) in row.iter_mut().zip(&wv) {
                *x = _mm512_fmadd_ps(av, wx, *x);
            }
        }
    }
    for (i, row) in acc.iter().enumerate() {
        for (j, &x) in row.iter().enumerate() {
            let dst = c.add(i * ldc + j);
            let dot = alpha * sum(x);
            *dst = if beta == 0.0 { dot } else { dot + beta * *dst };
        }
    }
}

/// # Safety
/// AVX-512F, views checked by `gemm::check_shapes`, layout per [`applicable_nt`].
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn gemm(alpha: f32, a: &Mat<'_, f32>, b: &Mat<'_, f32>, beta: f32, c: &mut MatMut<'_, f32>) {
    let (k, m, n) = (a.cols, c.rows, c.cols);
    let (ap, wp, cp) = (a.data.as_ptr(), b.data.as_ptr(), c.data.as_mut_ptr());
    // B = Wᵀ: W's row j is B's column j, at wp + j·b.cs.
    let (lda, ldw, ldc) = (a.rs, b.cs, c.rs);
    let mut i0 = 0;
    while i0 < m {
        let ra = R.min(m - i0);
        let mut j0 = 0;
        while j0 < n {
            let rb = R.min(n - j0);
            let (a0, w0, c0) = (ap.add(i0 * lda), wp.add(j0 * ldw), cp.add(i0 * ldc + j0));
            macro_rules! go {
                ($ra:literal, $rb:literal) => {
                    block::<$ra, $rb>(k, a0, lda, w0, ldw, c0, ldc, alpha, beta)
                };
            }
            match (ra, rb) {
                (4, 4) => go!(4, 4),
                (4, 3) => go!(4, 3),
                (4, 2) => go!(4, 2),
                (4, _) => go!(4, 1),
                (3, 4) => go!(3, 4),
                (3, 3) => go!(3, 3),
                (3, 2) => go!(3, 2),
                (3, _) => go!(3, 1),
                (2, 4) => go!(2, 4),
                (2, 3) => go!(2, 3),
                (2, 2) => go!(2, 2),
                (2, _) => go!(2, 1),
                (_, 4) => go!(1, 4),
                (_, 3) => go!(1, 3),
                (_, 2) => go!(1, 2),
                (_, _) => go!(1, 1),
            }
            j0 += R;
        }
        i0 += R;
    }
}
