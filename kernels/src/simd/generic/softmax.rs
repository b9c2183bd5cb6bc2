//! Row softmax and its backward pass.

use super::*;

/// Softmax of one row in place; the reductions depend only on `row.len()`. The partial tail
/// vector stays in a register from the first pass to the last: storing it with a masked
/// store and loading it back would stall (masked stores do not forward to loads), which for
/// short rows (attention over T ≈ 10 keys) cost more than the arithmetic.
#[inline(always)]
fn softmax_row<S: Simd>(s: S, row: &mut [f32]) {
    let l = S::LANES;
    let n = row.len();
    let tail = n % l;
    let full = n - tail;
    let x_tail = s.load_partial(&row[full..], f32::NEG_INFINITY);
    let mut m = x_tail;
    let mut j = 0;
    while j < full {
        m = s.max(m, s.load(&row[j..]));
        j += l;
    }
    let max = s.splat(s.reduce_max(m));
    let zero = s.splat(0.0);
    // exp(−∞ − max) = 0 in the padding lanes; masked anyway in case max is ±∞ or NaN.
    let e_tail = exp(s, x_tail - max);
    let mut sum = s.select(s.first_n(tail), e_tail, zero);
    j = 0;
    while j < full {
        let e = exp(s, s.load(&row[j..]) - max);
        sum = sum + e;
        s.store(e, &mut row[j..]);
        j += l;
    }
    let inv = s.splat(1.0 / s.reduce_add(sum));
    j = 0;
    while j < full {
        let v = s.load(&row[j..]) * inv;
        s.store(v, &mut row[j..]);
        j += l;
    }
    if tail > 0 {
        s.store_partial(e_tail * inv, &mut row[full..]);
    }
}

#[inline(always)]
pub(in crate::simd) fn softmax_rows<S: Simd>(s: S, x: &mut [f32], cols: usize) {
    if x.is_empty() {
        return;
    }
    assert!(cols > 0 && x.len().is_multiple_of(cols), "softmax_rows: length {} not a multiple of {cols}", x.len());
    for row in x.chunks_exact_mut(cols) {
        softmax_row(s, row);
    }
}

/// `Σ_j a_j b_j` over one row, vector-accumulated; the order depends only on the length.
#[inline(always)]
fn dot<S: Simd>(s: S, a: &[f32], b: &[f32]) -> f32 {
    let l = S::LANES;
    let n = a.len();
    let tail = n % l;
    let full = n - tail;
    let mut acc = s.splat(0.0);
    let mut j = 0;
    while j < full {
        acc = s.mul_add(s.load(&a[j..]), s.load(&b[j..]), acc);
        j += l;
    }
    if tail > 0 {
        let p = s.load_partial(&a[full..], 0.0) * s.load_partial(&b[full..], 0.0);
        acc = acc + s.select(s.first_n(tail), p, s.splat(0.0));
    }
    s.reduce_add(acc)
}

#[inline(always)]
pub(in crate::simd) fn softmax_rows_backward<S: Simd>(s: S, dx: &mut [f32], dy: &[f32], y: &[f32], cols: usize) {
    assert!(dx.len() == dy.len() && dy.len() == y.len(), "softmax_rows_backward: length mismatch");
    if y.is_empty() {
        return;
    }
    assert!(
        cols > 0 && y.len().is_multiple_of(cols),
        "softmax_rows_backward: length {} not a multiple of {cols}",
        y.len()
    );
    let l = S::LANES;
    for ((dxr, dyr), yr) in dx.chunks_exact_mut(cols).zip(dy.chunks_exact(cols)).zip(y.chunks_exact(cols)) {
        let d = s.splat(dot(s, dyr, yr));
        let mut j = 0;
        while j + l <= cols {
            let v = s.load(&dxr[j..]) + s.load(&yr[j..]) * (s.load(&dyr[j..]) - d);
            s.store(v, &mut dxr[j..]);
            j += l;
        }
        if j < cols {
            let v = lp(s, dxr, j) + lp(s, yr, j) * (lp(s, dyr, j) - d);
            s.store_partial(v, &mut dxr[j..]);
        }
    }
}
