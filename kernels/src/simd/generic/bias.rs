//! Bias rows and column sums (the bias gradient).

use super::*;

/// `y (rows, C) += bias (C)`.
#[inline(always)]
pub(in crate::simd) fn add_bias_rows<S: Simd>(s: S, y: &mut [f32], bias: &[f32]) {
    let cols = bias.len();
    if cols == 0 {
        assert!(y.is_empty(), "add_bias_rows: empty bias for non-empty y");
        return;
    }
    assert!(y.len().is_multiple_of(cols), "add_bias_rows: y length {} not a multiple of {cols}", y.len());
    let l = S::LANES;
    for row in y.chunks_exact_mut(cols) {
        let mut j = 0;
        while j + l <= cols {
            let v = s.load(&row[j..]) + s.load(&bias[j..]);
            s.store(v, &mut row[j..]);
            j += l;
        }
        if j < cols {
            let v = s.load_partial(&row[j..], 0.0) + s.load_partial(&bias[j..], 0.0);
            s.store_partial(v, &mut row[j..]);
        }
    }
}

/// `sums (C) += Σ_rows x (rows, C)`. Blocks of four vectors of columns stay in registers
/// while the rows stream past; each column is still summed row by row in order, exactly as
/// the reference does.
#[inline(always)]
pub(in crate::simd) fn column_sums<S: Simd>(s: S, sums: &mut [f32], x: &[f32]) {
    let cols = sums.len();
    if cols == 0 {
        assert!(x.is_empty(), "column_sums: empty sums for non-empty x");
        return;
    }
    assert!(x.len().is_multiple_of(cols), "column_sums: x length {} not a multiple of {cols}", x.len());
    let l = S::LANES;
    let mut j = 0;
    while j + 4 * l <= cols {
        let mut a =
            [s.load(&sums[j..]), s.load(&sums[j + l..]), s.load(&sums[j + 2 * l..]), s.load(&sums[j + 3 * l..])];
        for row in x.chunks_exact(cols) {
            let r = &row[j..j + 4 * l];
            a[0] = a[0] + s.load(r);
            a[1] = a[1] + s.load(&r[l..]);
            a[2] = a[2] + s.load(&r[2 * l..]);
            a[3] = a[3] + s.load(&r[3 * l..]);
        }
        for (k, v) in a.into_iter().enumerate() {
            s.store(v, &mut sums[j + k * l..]);
        }
        j += 4 * l;
    }
    while j + l <= cols {
        let mut a = s.load(&sums[j..]);
        for row in x.chunks_exact(cols) {
            a = a + s.load(&row[j..]);
        }
        s.store(a, &mut sums[j..]);
        j += l;
    }
    if j < cols {
        let mut a = s.load_partial(&sums[j..], 0.0);
        for row in x.chunks_exact(cols) {
            a = a + s.load_partial(&row[j..], 0.0);
        }
        s.store_partial(a, &mut sums[j..]);
    }
}
