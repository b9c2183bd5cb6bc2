//! Concatenation along the feature axis, row by row: `y (N, Ca + Cb) = [a (N, Ca), b (N, Cb)]`.
//! Backward splits `dy` and adds each half into `da` and `db`.

use crate::Float;

pub fn concat_forward<F: Float>(y: &mut [F], a: &[F], a_cols: usize, b: &[F], b_cols: usize) {
    let cols = a_cols + b_cols;
    let rows = y.len().checked_div(cols).unwrap_or(0);
    assert!(
        y.len() == rows * cols && a.len() == rows * a_cols && b.len() == rows * b_cols,
        "concat: lengths do not fit ({rows} rows of {a_cols} + {b_cols})"
    );
    for r in 0..rows {
        y[r * cols..r * cols + a_cols].copy_from_slice(&a[r * a_cols..(r + 1) * a_cols]);
        y[r * cols + a_cols..(r + 1) * cols].copy_from_slice(&b[r * b_cols..(r + 1) * b_cols]);
    }
}

/// Adds the halves of `dy` into `da` and `db` (either may be skipped with `None`).
pub fn concat_backward<F: Float>(da: Option<&mut [F]>, a_cols: usize, db: Option<&mut [F]>, b_cols: usize, dy: &[F]) {
    let cols = a_cols + b_cols;
    if cols == 0 {
        return;
    }
    let rows = dy.len() / cols;
    assert_eq!(dy.len(), rows * cols, "concat backward: dy length");
    let add = |dst: &mut [F], offset: usize, width: usize| {
        assert_eq!(dst.len(), rows * width, "concat backward: gradient length");
        for r in 0..rows {
            for (d, &g) in
                dst[r * width..(r + 1) * width].iter_mut().zip(&dy[r * cols + offset..r * cols + offset + width])
            {
                *d += g;
            }
        }
    };
    if let Some(da) = da {
        add(da, 0, a_cols);
    }
    if let Some(db) = db {
        add(db, a_cols, b_cols);
    }
}
