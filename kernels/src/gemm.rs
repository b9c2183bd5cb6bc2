//! A safe, size-checked GEMM over strided matrix views, backed by `matrixmultiply`.
//!
//! `C (m, n) = alpha · A (m, k) · B (k, n) + beta · C`. A view is a slice plus row and column
//! strides, so a transpose is a swap of strides ([`Mat::t`]) and costs nothing. With
//! `beta = 0` the old contents of C are never read (they may be uninitialised garbage or NaN).

use crate::Float;

/// A read-only strided matrix view: element (i, j) is `data[i·rs + j·cs]`.
#[derive(Clone, Copy, Debug)]
pub struct Mat<'a, F> {
    pub data: &'a [F],
    pub rows: usize,
    pub cols: usize,
    pub rs: usize,
    pub cs: usize,
}

/// A mutable strided matrix view; distinct (i, j) must map to distinct elements.
#[derive(Debug)]
pub struct MatMut<'a, F> {
    pub data: &'a mut [F],
    pub rows: usize,
    pub cols: usize,
    pub rs: usize,
    pub cs: usize,
}

impl<'a, F: Copy> Mat<'a, F> {
    /// A contiguous row-major `(rows, cols)` matrix at the start of `data`.
    pub fn new(data: &'a [F], rows: usize, cols: usize) -> Self {
        Self { data, rows, cols, rs: cols, cs: 1 }
    }
    /// A row-major `(rows, cols)` matrix whose rows are `row_stride` elements apart.
    pub fn strided(data: &'a [F], rows: usize, cols: usize, row_stride: usize) -> Self {
        Self { data, rows, cols, rs: row_stride, cs: 1 }
    }
    /// The transpose: the same memory with the strides swapped.
    pub fn t(self) -> Self {
        Self { data: self.data, rows: self.cols, cols: self.rows, rs: self.cs, cs: self.rs }
    }
    #[inline(always)]
    pub fn at(&self, i: usize, j: usize) -> F {
        self.data[i * self.rs + j * self.cs]
    }
}

impl<'a, F: Copy> MatMut<'a, F> {
    pub fn new(data: &'a mut [F], rows: usize, cols: usize) -> Self {
        Self { data, rows, cols, rs: cols, cs: 1 }
    }
    pub fn strided(data: &'a mut [F], rows: usize, cols: usize, row_stride: usize) -> Self {
        Self { data, rows, cols, rs: row_stride, cs: 1 }
    }
    pub fn t(self) -> Self {
        Self { data: self.data, rows: self.cols, cols: self.rows, rs: self.cs, cs: self.rs }
    }
    #[inline(always)]
    pub fn index(&self, i: usize, j: usize) -> usize {
        i * self.rs + j * self.cs
    }
}

/// The smallest slice length that holds every element of a `(rows, cols)` view, or `None`
/// if it overflows `usize` (such a view cannot fit in any slice).
fn extent(rows: usize, cols: usize, rs: usize, cs: usize) -> Option<usize> {
    if rows == 0 || cols == 0 {
        return Some(0);
    }
    (rows - 1).checked_mul(rs)?.checked_add((cols - 1).checked_mul(cs)?)?.checked_add(1)
}

/// Panics unless the shapes agree and every view lies inside its slice, and C's elements
/// are distinct (one stride spans the whole other dimension).
pub fn check_shapes<F: Copy>(a: &Mat<'_, F>, b: &Mat<'_, F>, c: &MatMut<'_, F>) {
    assert_eq!(a.cols, b.rows, "gemm: A is {}×{} but B is {}×{}", a.rows, a.cols, b.rows, b.cols);
    assert!(c.rows == a.rows && c.cols == b.cols, "gemm: C is {}×{}, expected {}×{}", c.rows, c.cols, a.rows, b.cols);
    // Checked arithmetic: with wrapping, huge strides could pass these checks in a release
    // build and send matrixmultiply outside the slices.
    let fits = |e: Option<usize>, len: usize| e.is_some_and(|e| e <= len);
    assert!(fits(extent(a.rows, a.cols, a.rs, a.cs), a.data.len()), "gemm: A view exceeds its slice");
    assert!(fits(extent(b.rows, b.cols, b.rs, b.cs), b.data.len()), "gemm: B view exceeds its slice");
    assert!(fits(extent(c.rows, c.cols, c.rs, c.cs), c.data.len()), "gemm: C view exceeds its slice");
    let spans = |stride: usize, count: usize, step: usize| count.checked_mul(step).is_some_and(|w| stride >= w);
    let distinct = c.rows <= 1 && (c.cols <= 1 || c.cs >= 1)
        || c.cols <= 1 && c.rs >= 1
        || c.cs >= 1 && spans(c.rs, c.cols, c.cs)
        || c.rs >= 1 && spans(c.cs, c.rows, c.rs);
    assert!(distinct, "gemm: C strides ({}, {}) alias elements", c.rs, c.cs);
    // Strides become isize inside matrixmultiply.
    assert!(
        [a.rs, a.cs, b.rs, b.cs, c.rs, c.cs].iter().all(|&s| s <= isize::MAX as usize),
        "gemm: stride overflows isize"
    );
}

/// `C = alpha · A B + beta · C` in any [`Float`]; dispatches to `sgemm` or `dgemm`.
pub fn gemm<F: Float>(alpha: F, a: Mat<'_, F>, b: Mat<'_, F>, beta: F, c: MatMut<'_, F>) {
    F::gemm(alpha, a, b, beta, c)
}

/// `C = alpha · A B + beta · C` in f32: the LSTM-shaped micro-kernels of
/// [`crate::simd::gemm`] when B and C have contiguous rows and the CPU has AVX2 or AVX-512
/// (`KUBELSTM_SIMD` chooses as for the other kernels), `matrixmultiply::sgemm` otherwise.
pub fn gemm_f32(alpha: f32, a: Mat<'_, f32>, b: Mat<'_, f32>, beta: f32, mut c: MatMut<'_, f32>) {
    check_shapes(&a, &b, &c);
    if !crate::simd::gemm::gemm(crate::active_isa(), alpha, &a, &b, beta, &mut c) {
        sgemm_unchecked(alpha, a, b, beta, c)
    }
}

macro_rules! mm_impl {
    ($name:ident, $t:ty, $mm:path) => {
        /// matrixmultiply on views already checked by [`check_shapes`].
        fn $name(alpha: $t, a: Mat<'_, $t>, b: Mat<'_, $t>, beta: $t, c: MatMut<'_, $t>) {
            let (m, k, n) = (a.rows, a.cols, b.cols);
            if m == 0 || n == 0 {
                return;
            }
            // SAFETY: check_shapes proved every element the views address lies inside its
            // slice and that C's elements are distinct; `c` is a unique borrow, so C does not
            // alias A or B. matrixmultiply reads exactly the m×k, k×n, m×n views given, and
            // with k = 0 only scales C by beta.
            unsafe {
                $mm(
                    m,
                    k,
                    n,
                    alpha,
                    a.data.as_ptr(),
                    a.rs as isize,
                    a.cs as isize,
                    b.data.as_ptr(),
                    b.rs as isize,
                    b.cs as isize,
                    beta,
                    c.data.as_mut_ptr(),
                    c.rs as isize,
                    c.cs as isize,
                );
            }
        }
    };
}

mm_impl!(sgemm_unchecked, f32, matrixmultiply::sgemm);
mm_impl!(dgemm_unchecked, f64, matrixmultiply::dgemm);

/// `C = alpha · A B + beta · C` in f64 (`matrixmultiply::dgemm`).
pub fn gemm_f64(alpha: f64, a: Mat<'_, f64>, b: Mat<'_, f64>, beta: f64, c: MatMut<'_, f64>) {
    check_shapes(&a, &b, &c);
    dgemm_unchecked(alpha, a, b, beta, c)
}

/// `dst (cols, rows) = srcᵀ` for a row-major `src (rows, cols)`, the rows of `dst`
/// `dst_stride` (≥ `rows`) elements apart: how callers turn a weight `W (out, in)` into the
/// row-major `Wᵀ` the GEMM micro-kernels read by rows, at the stride [`b_row_stride`] gives.
/// Elements between the rows of `dst` are left as they are.
pub fn transpose<F: Float>(dst: &mut [F], dst_stride: usize, src: &[F], rows: usize, cols: usize) {
    F::transpose(dst, dst_stride, src, rows, cols)
}

/// The row stride to store a `(k, cols)` matrix at that [`gemm`] reads as B, by rows:
/// `cols` rounded up to whole 64-byte lines of f32, and to an odd number of them. A column
/// panel of B is one line per row; at a power-of-two stride (4H = 512 floats is 2 KB) all its
/// rows fall into two sets of the L1 cache and evict each other, while an odd number of lines
/// spreads them over every set, so the panel stays in L1 while the rows of A stream past it.
/// Only the layout changes: every element is the same arithmetic, so the same bits.
pub fn b_row_stride(cols: usize) -> usize {
    const LINE: usize = 16;
    let lines = cols.div_ceil(LINE);
    LINE * (lines | 1)
}

/// Checks the slices of a transpose: `src` holds `rows · cols`, `dst` holds `cols` rows of
/// `rows` elements at `dst_stride`.
pub(crate) fn check_transpose(dst_len: usize, dst_stride: usize, src_len: usize, rows: usize, cols: usize) {
    let len = rows.checked_mul(cols).expect("transpose: size overflows");
    assert!(src_len == len, "transpose: src must hold {rows}×{cols}");
    assert!(dst_stride >= rows, "transpose: the row stride of dst ({dst_stride}) is shorter than its rows ({rows})");
    let need = if cols == 0 { Some(0) } else { (cols - 1).checked_mul(dst_stride).and_then(|n| n.checked_add(rows)) };
    assert!(
        need.is_some_and(|n| dst_len >= n),
        "transpose: dst must hold {cols} rows of {rows} at stride {dst_stride}"
    );
}

/// The portable transpose (tiled loop), what [`transpose`] runs where no SIMD version applies.
pub fn transpose_scalar<F: Copy>(dst: &mut [F], dst_stride: usize, src: &[F], rows: usize, cols: usize) {
    check_transpose(dst.len(), dst_stride, src.len(), rows, cols);
    // 16×16 tiles: both the 16 source rows and the 16 destination rows stay in L1.
    const TILE: usize = 16;
    let (s, d) = (src.as_ptr(), dst.as_mut_ptr());
    for r0 in (0..rows).step_by(TILE) {
        let r1 = (r0 + TILE).min(rows);
        for c0 in (0..cols).step_by(TILE) {
            let c1 = (c0 + TILE).min(cols);
            for r in r0..r1 {
                for c in c0..c1 {
                    // SAFETY: r < rows and c < cols, so r·cols + c < rows·cols = src.len() and
                    // c·dst_stride + r ≤ (cols−1)·dst_stride + rows − 1 < dst.len() (both
                    // checked above); dst is a unique borrow, so it does not overlap src.
                    unsafe { *d.add(c * dst_stride + r) = *s.add(r * cols + c) };
                }
            }
        }
    }
}
