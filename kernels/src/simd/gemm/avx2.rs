//! AVX2 + FMA micro-kernels: 6 × 16 blocks in 96-row chunks of A.

use super::*;

const LANES: usize = 8;
/// Rows per block in the bulk of C: 6 × 16 is 12 accumulators, 2 B vectors and one
/// broadcast, 15 of the 16 YMM registers.
const MR: usize = 6;
/// Rows of A per chunk. Column panels run inside a chunk, so the chunk's rows of A
/// (≤ 96 × 256 f32, 96 KB) stay in L2 across the panels and C is written row chunk by
/// row chunk, not in 64-byte pieces strided over all of M.
const MC: usize = 96;

/// C[0..R, 0..cols] of one block, `V` vectors (8·V columns) wide, `cols` > 8·(V−1): only
/// the last vector may be partial. Pointers are at the block's origin.
///
/// # Safety
/// The CPU has AVX2 and FMA. For every i < R, l < k, j < cols: `a + i·rsa + l·csa`,
/// `b + l·ldb + j` and `c + i·ldc + j` are in bounds; 8·(V−1) < cols ≤ 8·V.
// Register budget (16 YMM): the full-panel loop holds no mask, e.g. 6 × 2 is 12
// accumulators + 2 B vectors + 1 broadcast; the partial loop adds one mask. With the two
// masks of an earlier version live in every loop, LLVM spilled accumulators each k step.
#[inline(never)]
#[target_feature(enable = "avx2,fma")]
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
    let mut acc = [[_mm256_setzero_ps(); V]; R];
    let last = V - 1;
    if cols == V * LANES {
        for l in 0..k {
            let (bp, ap) = (b.add(l * ldb), a.add(l * csa));
            step::<R, V>(&mut acc, ap, rsa, |v| _mm256_loadu_ps(bp.add(v * LANES)));
        }
    } else {
        // One mask, for the last vector: the others are full.
        let mask = lanes(cols - last * LANES);
        for l in 0..k {
            let (bp, ap) = (b.add(l * ldb), a.add(l * csa));
            step::<R, V>(&mut acc, ap, rsa, |v| {
                if v == last {
                    _mm256_maskload_ps(bp.add(v * LANES), mask)
                } else {
                    _mm256_loadu_ps(bp.add(v * LANES))
                }
            });
        }
    }
    let va = _mm256_set1_ps(alpha);
    let vb = _mm256_set1_ps(beta);
    for (i, row) in acc.iter().enumerate() {
        let cp = c.add(i * ldc);
        for (v, &x) in row.iter().enumerate() {
            let dst = cp.add(v * LANES);
            if v < last || cols == V * LANES {
                let out = combine(x, va, vb, beta, || _mm256_loadu_ps(dst));
                _mm256_storeu_ps(dst, out);
            } else {
                let mask = lanes(cols - last * LANES);
                let out = combine(x, va, vb, beta, || _mm256_maskload_ps(dst, mask));
                _mm256_maskstore_ps(dst, mask, out);
            }
        }
    }
}

/// One k step of a block: `acc[i][v] += a[i] · b[v]`. Wide blocks (R ≤ V) broadcast all
/// R elements of A first and load each B vector once for its R FMAs; tall ones load the
/// V vectors of B first. Either way at most 16 registers are live.
#[inline(always)]
unsafe fn step<const R: usize, const V: usize>(
    acc: &mut [[__m256; V]; R],
    ap: *const f32,
    rsa: usize,
    load_b: impl Fn(usize) -> __m256,
) {
    if R <= V {
        let mut av = [_mm256_setzero_ps(); R];
        for (i, x) in av.iter_mut().enumerate() {
            *x = _mm256_broadcast_ss(&*ap.add(i * rsa));
        }
        for v in 0..V {
            let bv = load_b(v);
            for (row, &ai) in acc.iter_mut().zip(&av) {
                row[v] = _mm256_fmadd_ps(ai, bv, row[v]);
            }
        }
    } else {
        let mut bv = [_mm256_setzero_ps(); V];
        for (v, x) in bv.iter_mut().enumerate() {
            *x = load_b(v);
        }
        for (i, row) in acc.iter_mut().enumerate() {
            let ai = _mm256_broadcast_ss(&*ap.add(i * rsa));
            for (x, &bx) in row.iter_mut().zip(&bv) {
                *x = _mm256_fmadd_ps(ai, bx, *x);
            }
        }
    }
}

/// Lane mask selecting the first `n` (≤ 8) lanes, for `maskload`/`maskstore`.
#[inline(always)]
unsafe fn lanes(n: usize) -> __m256i {
    let idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    _mm256_cmpgt_epi32(_mm256_set1_epi32(n as i32), idx)
}

/// `α·acc + β·c`, not reading c when β = 0 (it may be uninitialised garbage).
#[inline(always)]
unsafe fn combine(acc: __m256, va: __m256, vb: __m256, beta: f32, load_c: impl FnOnce() -> __m256) -> __m256 {
    if beta == 0.0 {
        _mm256_mul_ps(va, acc)
    } else {
        _mm256_fmadd_ps(va, acc, _mm256_mul_ps(vb, load_c()))
    }
}

/// # Safety
/// The CPU has AVX2 and FMA, and the views were checked by `gemm::check_shapes`.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn gemm(alpha: f32, a: &Mat<'_, f32>, b: &Mat<'_, f32>, beta: f32, c: &mut MatMut<'_, f32>) {
    let (ap, bp, cp) = (a.data.as_ptr(), b.data.as_ptr(), c.data.as_mut_ptr());
    let (rsa, csa, ldb, ldc) = (a.rs, a.cs, b.rs, c.rs);
    k_blocks(a.cols, beta, |k0, k, beta| {
        pass(alpha, ap.add(k0 * csa), rsa, csa, bp.add(k0 * ldb), ldb, beta, cp, ldc, c.rows, c.cols, k)
    });
}

/// One K block of the product over `k` columns of A: chunks of [`MC`] rows; in each, the
/// 6-row blocks sweep the 16-column panels of B, and the last chunk's few remaining rows
/// take blocks wide enough for ten independent FMA chains (one row: 96 columns), so FMA
/// latency stays hidden at a batch of one. Every element of C is the same chain over k
/// whatever block computes it.
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
    // C[m0.., ..] for the last few rows, in blocks R × 8V (V the first width listed); a
    // shorter last panel takes the narrowest listed width that covers it.
    macro_rules! sweep {
        ($r:literal, $m0:expr; $v:literal $(, $w:literal)*) => {{
            let (a0, c0) = (ap.add($m0 * rsa), cp.add($m0 * ldc));
            let mut n0 = 0;
            while n0 < n {
                let cols = ($v * LANES).min(n - n0);
                let (b0, c1) = (bp.add(n0), c0.add(n0));
                match cols.div_ceil(LANES) {
                    $($w => block::<$r, $w>(k, a0, rsa, csa, b0, ldb, c1, ldc, cols, alpha, beta),)*
                    _ => block::<$r, $v>(k, a0, rsa, csa, b0, ldb, c1, ldc, cols, alpha, beta),
                }
                n0 += $v * LANES;
            }
        }};
    }
    let bulk = m - m % MR;
    let mut chunk = 0;
    while chunk < bulk {
        let end = (chunk + MC).min(bulk);
        let mut n0 = 0;
        while n0 < n {
            let cols = (2 * LANES).min(n - n0);
            let mut m0 = chunk;
            while m0 < end {
                let (a0, b0, c0) = (ap.add(m0 * rsa), bp.add(n0), cp.add(m0 * ldc + n0));
                if cols > LANES {
                    block::<6, 2>(k, a0, rsa, csa, b0, ldb, c0, ldc, cols, alpha, beta);
                } else {
                    block::<6, 1>(k, a0, rsa, csa, b0, ldb, c0, ldc, cols, alpha, beta);
                }
                m0 += MR;
            }
            n0 += 2 * LANES;
        }
        chunk = end;
    }
    match m - bulk {
        0 => {}
        5 => sweep!(5, bulk; 2, 1),
        4 => sweep!(4, bulk; 3, 2, 1),
        3 => sweep!(3, bulk; 4, 3, 2, 1),
        2 => sweep!(2, bulk; 6, 5, 4, 3, 2, 1),
        _ => sweep!(1, bulk; 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1),
    }
}
