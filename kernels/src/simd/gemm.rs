//! `f32` GEMM micro-kernels for the shapes of an LSTM: `C (M, N) = α · A (M, K) · B (K, N) + β · C`
//! where B and C have unit column stride (their rows are contiguous) and A has any strides.
//!
//! Why not `matrixmultiply` for these: it packs B on every call. The LSTM recurrence
//! multiplies by the same weights T times per pass, with M = the batch (1 to a few hundred),
//! so repacking dominates at small batches and is most of a batch-1 forward. These kernels
//! read B in place, row by row: for each K step a row segment of `NR` columns is loaded and
//! multiplied by `MR` broadcast elements of A into `MR × NR` register accumulators (AVX-512:
//! 8 × 32; AVX2: 6 × 16, 12 of the 16 YMM registers). For the last few rows — all of a batch
//! of one — the panels are wider (AVX-512 up to 128 columns, AVX2 up to 96), so there are
//! still enough independent FMA chains to hide their latency. A column panel of B (K × NR)
//! stays in cache while the row blocks of A stream past it. Callers hand in Wᵀ as a row-major
//! copy (transposed once per pass).
//!
//! **Every element of C is, per K block of 256, one FMA chain over the block's k in order,
//! started from zero, then combined with C.** Row and column remainders use the same chains
//! (fewer rows, masked loads) and the K blocks depend on K alone, so an element's bits do not
//! depend on M, N or where it sits: a window scored alone gives the same bits as inside a batch.
//!
//! The micro-kernels exist for x86-64 only; on other targets [`gemm`] and [`transpose`] return
//! false and the callers use `matrixmultiply` and a plain loop, so the shared helpers go unused.
#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code, unused_variables, unused_mut, unreachable_code))]

#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::*;

use crate::gemm::{Mat, MatMut};

/// Whether [`gemm`] can take this product: B and C with rows contiguous.
/// The choice depends on B's strides alone (never on M), so a product always takes the
/// same path whatever the batch.
pub fn applicable(b: &Mat<'_, f32>, c: &MatMut<'_, f32>) -> bool {
    b.cs == 1 && (c.cs == 1 || c.cols <= 1)
}

/// Depth of a K block: a 32-column panel of B over one block (32 KB) stays in L1 while the
/// row blocks of A stream past it.
const KC: usize = 256;

/// Splits K into blocks of [`KC`] (the last one shorter). The first block combines with C by
/// the caller's β, the others accumulate (β = 1). The split depends on K alone, so every
/// element of C still has the same arithmetic whatever M, N or its position.
#[inline(always)]
fn k_blocks(k: usize, beta: f32, mut pass: impl FnMut(usize, usize, f32)) {
    if k == 0 {
        pass(0, 0, beta);
        return;
    }
    let mut k0 = 0;
    while k0 < k {
        let len = KC.min(k - k0);
        pass(k0, len, if k0 == 0 { beta } else { 1.0 });
        k0 += len;
    }
}

/// The loop nest shared by both instruction sets: column panels outside, row blocks inside.
/// `kernel(rows, m0, n0, cols)` computes C[m0..m0+rows, n0..n0+cols].
#[inline(always)]
fn blocks(m: usize, n: usize, mr: usize, nr: usize, mut kernel: impl FnMut(usize, usize, usize, usize)) {
    let mut n0 = 0;
    while n0 < n {
        let cols = nr.min(n - n0);
        let mut m0 = 0;
        while m0 < m {
            let rows = mr.min(m - m0);
            kernel(rows, m0, n0, cols);
            m0 += mr;
        }
        n0 += nr;
    }
}

// ------------------------------------------------------------------------------- AVX-512

#[cfg(target_arch = "x86_64")]
mod avx512 {
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
}

// ------------------------------------------------------------------------------- AVX2 + FMA

#[cfg(target_arch = "x86_64")]
mod avx2 {
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
}

// ------------------------------------------------------------------------------- Aᵀ-free dot products
//
// `C = α · A · Wᵀ + β · C` where W (N, K) has contiguous rows — a Dense layer `x Wᵀ` or the
// attention scores `X Xᵀ` — computed as dot products of rows: no transposed copy of W. Each
// element is a vector-lane FMA chain over k in steps of the vector width, then a fixed-tree
// lane sum: still the same arithmetic whatever M, N and the element's position.

/// Whether [`gemm`] takes this product as dot products: B is the transpose of a matrix with
/// contiguous rows, and A's rows are contiguous too.
pub fn applicable_nt(a: &Mat<'_, f32>, b: &Mat<'_, f32>, c: &MatMut<'_, f32>) -> bool {
    b.cs != 1 && b.rs == 1 && (a.cs == 1 || a.cols <= 1) && (c.cs == 1 || c.cols <= 1)
}

#[cfg(target_arch = "x86_64")]
mod nt512 {
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
}

/// Runs the product on `isa`'s micro-kernel; returns false (and does nothing) when this
/// instruction set has none or the layout does not fit ([`applicable`]). The caller has
/// checked the views with `gemm::check_shapes`.
pub fn gemm(
    isa: crate::Isa,
    alpha: f32,
    a: &Mat<'_, f32>,
    b: &Mat<'_, f32>,
    beta: f32,
    c: &mut MatMut<'_, f32>,
) -> bool {
    if c.rows == 0 || c.cols == 0 {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    if isa == crate::Isa::Avx512 && applicable_nt(a, b, c) {
        let a = Mat { cs: 1, ..*a };
        let b = Mat { rs: 1, ..*b };
        let mut c = MatMut { data: &mut *c.data, cs: 1, ..*c };
        // SAFETY: Avx512 is only reported after run-time detection of avx512f; the caller
        // checked the views (check_shapes), so every row the kernel reads or writes lies
        // inside its slice.
        unsafe { nt512::gemm(alpha, &a, &b, beta, &mut c) };
        return true;
    }
    if !applicable(b, c) {
        return false;
    }
    // The column stride of a 1-column C is irrelevant; make it unit so the kernels'
    // arithmetic stays in bounds.
    let mut c = MatMut { data: &mut *c.data, cs: 1, ..*c };
    match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: dispatch only reports Avx512 after run-time detection of avx512f, and the
        // caller checked every view against its slice (check_shapes), so each address the
        // kernel forms (row < M, col < N, k < K) is inside its slice.
        crate::Isa::Avx512 => unsafe { avx512::gemm(alpha, a, b, beta, &mut c) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above, for avx2 and fma.
        crate::Isa::Avx2Fma => unsafe { avx2::gemm(alpha, a, b, beta, &mut c) },
        _ => return false,
    }
    true
}

// ------------------------------------------------------------------------------- transpose

/// `dst (cols, rows) = srcᵀ`, f32, in 8 × 8 tiles transposed in registers (AVX) where the CPU
/// has AVX2 (or AVX-512); returns false to let the caller use the scalar loop.
pub fn transpose(isa: crate::Isa, dst: &mut [f32], src: &[f32], rows: usize, cols: usize) -> bool {
    assert!(
        dst.len() == rows * cols && src.len() == rows * cols,
        "transpose: dst and src must both hold {rows}×{cols}"
    );
    match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: Avx2Fma and Avx512 are only reported after run-time detection (AVX-512F
        // and AVX2 both imply AVX); the slices hold rows·cols elements (asserted above).
        crate::Isa::Avx2Fma | crate::Isa::Avx512 => unsafe { transpose_avx(dst, src, rows, cols) },
        _ => return false,
    }
    true
}

/// # Safety
/// The CPU has AVX; `dst` and `src` hold `rows · cols` elements.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn transpose_avx(dst: &mut [f32], src: &[f32], rows: usize, cols: usize) {
    let (s, d) = (src.as_ptr(), dst.as_mut_ptr());
    let (r8, c8) = (rows - rows % 8, cols - cols % 8);
    for r0 in (0..r8).step_by(8) {
        for c0 in (0..c8).step_by(8) {
            // Rows r0..r0+8, columns c0..c0+8 of src: the classic unpack/shuffle/permute.
            let mut x = [_mm256_setzero_ps(); 8];
            for (i, v) in x.iter_mut().enumerate() {
                *v = _mm256_loadu_ps(s.add((r0 + i) * cols + c0));
            }
            let t0 = _mm256_unpacklo_ps(x[0], x[1]);
            let t1 = _mm256_unpackhi_ps(x[0], x[1]);
            let t2 = _mm256_unpacklo_ps(x[2], x[3]);
            let t3 = _mm256_unpackhi_ps(x[2], x[3]);
            let t4 = _mm256_unpacklo_ps(x[4], x[5]);
            let t5 = _mm256_unpackhi_ps(x[4], x[5]);
            let t6 = _mm256_unpacklo_ps(x[6], x[7]);
            let t7 = _mm256_unpackhi_ps(x[6], x[7]);
            let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
            let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
            let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
            let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
            let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
            let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
            let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
            let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
            let out = [
                _mm256_permute2f128_ps::<0x20>(u0, u4),
                _mm256_permute2f128_ps::<0x20>(u1, u5),
                _mm256_permute2f128_ps::<0x20>(u2, u6),
                _mm256_permute2f128_ps::<0x20>(u3, u7),
                _mm256_permute2f128_ps::<0x31>(u0, u4),
                _mm256_permute2f128_ps::<0x31>(u1, u5),
                _mm256_permute2f128_ps::<0x31>(u2, u6),
                _mm256_permute2f128_ps::<0x31>(u3, u7),
            ];
            for (j, &v) in out.iter().enumerate() {
                _mm256_storeu_ps(d.add((c0 + j) * rows + r0), v);
            }
        }
    }
    // Edges: the last rows % 8 rows and cols % 8 columns, element by element.
    for r in 0..rows {
        let c_start = if r < r8 { c8 } else { 0 };
        for c in c_start..cols {
            *d.add(c * rows + r) = *s.add(r * cols + c);
        }
    }
}
