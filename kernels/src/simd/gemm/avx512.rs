//! AVX-512 micro-kernels: 8 × 32 blocks, wider panels for the last rows.

use super::*;

/// Rows per block in the bulk of C.
pub(super) const MR: usize = 8;
const LANES: usize = 16;

/// C[0..R, 0..cols] of one block, `V` vectors (16·V columns) wide. Pointers are at the
/// block's origin.
///
/// # Safety
/// The CPU has AVX-512F. For every i < R, l < k, j < cols: `a + i·rsa + l·csa`,
/// `b + l·ldb + j` and `c + i·ldc + j` are in bounds; cols ≤ 16·V.
// Not inlined: one compact function per block shape keeps the accumulators in registers.
#[inline(never)]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn block<const R: usize, const V: usize>(
    k: usize,
    a: *const f32,
    rsa: usize,
    csa: usize,
    b: *const f32,
    ldb: usize,
    c: *mut f32,
    ldc: usize,
    cols: usize,
    alpha: f32,
    beta: f32,
) {
    let mut acc = [[_mm512_setzero_ps(); V]; R];
    let full = cols == V * LANES;
    let mut masks = [0 as __mmask16; V];
    for (v, m) in masks.iter_mut().enumerate() {
        let n = cols.saturating_sub(v * LANES).min(LANES);
        *m = ((1u32 << n) - 1) as __mmask16;
    }
    if full {
        for l in 0..k {
            let bp = b.add(l * ldb);
            let mut bv = [_mm512_setzero_ps(); V];
            for (v, x) in bv.iter_mut().enumerate() {
                *x = _mm512_loadu_ps(bp.add(v * LANES));
            }
            let ap = a.add(l * csa);
            for (i, row) in acc.iter_mut().enumerate() {
                let ai = _mm512_set1_ps(*ap.add(i * rsa));
                for (x, &bx) in row.iter_mut().zip(&bv) {
                    *x = _mm512_fmadd_ps(ai, bx, *x);
                }
            }
        }
    } else {
        for l in 0..k {
            let bp = b.add(l * ldb);
            let mut bv = [_mm512_setzero_ps(); V];
            for (v, x) in bv.iter_mut().enumerate() {
                *x = _mm512_maskz_loadu_ps(masks[v], bp.add(v * LANES));
            }
            let ap = a.add(l * csa);
            for (i, row) in acc.iter_mut().enumerate() {
                let ai = _mm512_set1_ps(*ap.add(i * rsa));
                for (x, &bx) in row.iter_mut().zip(&bv) {
                    *x = _mm512_fmadd_ps(ai, bx, *x);
                }
            }
        }
    }
    let va = _mm512_set1_ps(alpha);
    let vb = _mm512_set1_ps(beta);
    for (i, row) in acc.iter().enumerate() {
        let cp = c.add(i * ldc);
        if full {
            for (v, &x) in row.iter().enumerate() {
                let out = combine(x, va, vb, beta, || _mm512_loadu_ps(cp.add(LANES * v)));
                _mm512_storeu_ps(cp.add(LANES * v), out);
            }
        } else {
            // Partial rows go through a stack copy: masked 512-bit stores are slow on Zen 4.
            let mut tmp = [[0.0f32; LANES]; V];
            let t = tmp.as_mut_ptr() as *mut f32;
            core::ptr::copy_nonoverlapping(cp, t, cols);
            for (v, &x) in row.iter().enumerate() {
                let out = combine(x, va, vb, beta, || _mm512_loadu_ps(t.add(LANES * v)));
                _mm512_storeu_ps(t.add(LANES * v), out);
            }
            core::ptr::copy_nonoverlapping(t, cp, cols);
        }
    }
}

/// `α·acc + β·c`, not reading c when β = 0 (it may be uninitialised garbage).
#[inline(always)]
unsafe fn combine(acc: __m512, va: __m512, vb: __m512, beta: f32, load_c: impl FnOnce() -> __m512) -> __m512 {
    if beta == 0.0 {
        _mm512_mul_ps(va, acc)
    } else {
        _mm512_fmadd_ps(va, acc, _mm512_mul_ps(vb, load_c()))
    }
}

/// # Safety
/// The CPU has AVX-512F, and the views were checked by `gemm::check_shapes`.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn gemm(alpha: f32, a: &Mat<'_, f32>, b: &Mat<'_, f32>, beta: f32, c: &mut MatMut<'_, f32>) {
    let (ap, bp, cp) = (a.data.as_ptr(), b.data.as_ptr(), c.data.as_mut_ptr());
    let (rsa, csa, ldb, ldc) = (a.rs, a.cs, b.rs, c.rs);
    k_blocks(a.cols, beta, |k0, k, beta| {
        pass(alpha, ap.add(k0 * csa), rsa, csa, bp.add(k0 * ldb), ldb, beta, cp, ldc, c.rows, c.cols, k)
    });
}

/// One K block of the product: C = α·A·B + β·C over `k` columns of A.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn pass(
    alpha: f32,
    ap: *const f32,
    rsa: usize,
    csa: usize,
    bp: *const f32,
    ldb: usize,
    beta: f32,
    cp: *mut f32,
    ldc: usize,
    m: usize,
    n: usize,
    k: usize,
) {
    let bulk = m - m % MR;
    let rest = m - bulk;
    if bulk > 0 {
        // Blocks of 8 rows × 32 columns (16 accumulators); the last few rows in the same
        // column panel, while it is still in L1.
        let (a0, c0) = (ap.add(bulk * rsa), cp.add(bulk * ldc));
        blocks(1, n, 1, 2 * LANES, |_, _, n0, cols| {
            let mut m0 = 0;
            while m0 < bulk {
                block::<8, 2>(
                    k,
                    ap.add(m0 * rsa),
                    rsa,
                    csa,
                    bp.add(n0),
                    ldb,
                    cp.add(m0 * ldc + n0),
                    ldc,
                    cols,
                    alpha,
                    beta,
                );
                m0 += MR;
            }
            macro_rules! go {
                ($r:literal) => {
                    block::<$r, 2>(k, a0, rsa, csa, bp.add(n0), ldb, c0.add(n0), ldc, cols, alpha, beta)
                };
            }
            match rest {
                0 => {}
                7 => go!(7),
                6 => go!(6),
                5 => go!(5),
                4 => go!(4),
                3 => go!(3),
                2 => go!(2),
                _ => go!(1),
            }
        });
        return;
    }
    // Fewer than 8 rows (a batch of one, say): panels wide enough for at least 8
    // independent FMA chains (one row: 128 columns) so FMA latency is hidden. Each
    // element is still the same chain over k, so the bits match the 8-row blocks.
    macro_rules! go {
        ($r:literal, $v:literal) => {
            blocks(1, n, 1, $v * LANES, |_, _, n0, cols| {
                block::<$r, $v>(k, ap, rsa, csa, bp.add(n0), ldb, cp.add(n0), ldc, cols, alpha, beta)
            })
        };
    }
    match rest {
        7 => go!(7, 2),
        6 => go!(6, 2),
        5 => go!(5, 2),
        4 => go!(4, 2),
        3 => go!(3, 4),
        2 => go!(2, 4),
        _ => go!(1, 8),
    }
}
