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
//! `avx512.rs` and `avx2.rs` hold the two instruction sets' micro-kernels for `A · B`,
//! `nt512.rs` the AVX-512 dot products for `A · Wᵀ`; this file has what they share (the K
//! blocks, the walk over C's blocks), the dispatch and the transpose.
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

#[cfg(target_arch = "x86_64")]
mod avx512;

#[cfg(target_arch = "x86_64")]
mod avx2;

// Aᵀ-free dot products (`nt512.rs`):
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
mod nt512;

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

/// `dst (cols, rows) = srcᵀ` with the rows of `dst` `dst_stride` apart (see
/// [`crate::gemm::transpose`]), f32, in 8 × 8 tiles transposed in registers (AVX) where the
/// CPU has AVX2 (or AVX-512); returns false to let the caller use the scalar loop.
pub fn transpose(isa: crate::Isa, dst: &mut [f32], dst_stride: usize, src: &[f32], rows: usize, cols: usize) -> bool {
    crate::gemm::check_transpose(dst.len(), dst_stride, src.len(), rows, cols);
    match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: Avx2Fma and Avx512 are only reported after run-time detection (AVX-512F
        // and AVX2 both imply AVX); the slices fit the shapes and the stride (checked above).
        crate::Isa::Avx2Fma | crate::Isa::Avx512 => unsafe { transpose_avx(dst, dst_stride, src, rows, cols) },
        _ => return false,
    }
    true
}

/// # Safety
/// The CPU has AVX; `src` holds `rows · cols` elements and `dst` `cols` rows of `rows` at
/// `dst_stride` ≥ `rows`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn transpose_avx(dst: &mut [f32], dst_stride: usize, src: &[f32], rows: usize, cols: usize) {
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
                _mm256_storeu_ps(d.add((c0 + j) * dst_stride + r0), v);
            }
        }
    }
    // Edges: the last rows % 8 rows and cols % 8 columns, element by element.
    for r in 0..rows {
        let c_start = if r < r8 { c8 } else { 0 };
        for c in c_start..cols {
            *d.add(c * dst_stride + r) = *s.add(r * cols + c);
        }
    }
}
