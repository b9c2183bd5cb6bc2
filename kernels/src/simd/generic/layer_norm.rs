//! Layer normalisation, forward and backward.

use super::*;

#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(in crate::simd) fn layer_norm_forward<S: Simd>(
    s: S,
    y: &mut [f32],
    mean: &mut [f32],
    rstd: &mut [f32],
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    eps: f32,
) {
    let rows = mean.len();
    assert_eq!(rstd.len(), rows, "layer_norm_forward: mean and rstd differ in length");
    assert_eq!(y.len(), x.len(), "layer_norm_forward: x and y differ in length");
    scalar::check_ln_shapes(x.len(), rows, gamma.len(), beta.len());
    let cols = gamma.len();
    if cols == 0 {
        return;
    }
    let l = S::LANES;
    let tail = cols % l;
    let full = cols - tail;
    let n = cols as f32;
    let zero = s.splat(0.0);
    for r in 0..rows {
        let xr = &x[r * cols..(r + 1) * cols];
        let mut acc = zero;
        let mut j = 0;
        while j < full {
            acc = acc + s.load(&xr[j..]);
            j += l;
        }
        if tail > 0 {
            acc = acc + s.load_partial(&xr[full..], 0.0);
        }
        let mu = s.reduce_add(acc) / n;
        let muv = s.splat(mu);
        acc = zero;
        j = 0;
        while j < full {
            let d = s.load(&xr[j..]) - muv;
            acc = s.mul_add(d, d, acc);
            j += l;
        }
        if tail > 0 {
            let d = s.select(s.first_n(tail), s.load_partial(&xr[full..], 0.0) - muv, zero);
            acc = s.mul_add(d, d, acc);
        }
        let var = s.reduce_add(acc) / n;
        let rs = 1.0 / (var + eps).sqrt();
        mean[r] = mu;
        rstd[r] = rs;
        let rsv = s.splat(rs);
        let yr = &mut y[r * cols..(r + 1) * cols];
        j = 0;
        while j < full {
            let v = (s.load(&xr[j..]) - muv) * rsv * s.load(&gamma[j..]) + s.load(&beta[j..]);
            s.store(v, &mut yr[j..]);
            j += l;
        }
        if tail > 0 {
            let v = (lp(s, xr, full) - muv) * rsv * lp(s, gamma, full) + lp(s, beta, full);
            s.store_partial(v, &mut yr[full..]);
        }
    }
}

/// Backward of [`layer_norm_forward`]; adds into `dx`, `dgamma`, `dbeta`. `dgamma` and `dbeta`
/// are accumulated row by row in order (as in the reference, and bit-identical to it); the
/// per-row means of `g = dy ⊙ γ` and `g ⊙ x̂` are vector reductions.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(in crate::simd) fn layer_norm_backward<S: Simd>(
    s: S,
    dx: &mut [f32],
    dgamma: &mut [f32],
    dbeta: &mut [f32],
    dy: &[f32],
    x: &[f32],
    mean: &[f32],
    rstd: &[f32],
    gamma: &[f32],
) {
    let rows = mean.len();
    let cols = gamma.len();
    assert_eq!(rstd.len(), rows, "layer_norm_backward: mean and rstd differ in length");
    assert!(dx.len() == x.len() && dy.len() == x.len(), "layer_norm_backward: x, dx, dy differ in length");
    assert!(dgamma.len() == cols && dbeta.len() == cols, "layer_norm_backward: dgamma/dbeta length");
    scalar::check_ln_shapes(x.len(), rows, cols, dbeta.len());
    if cols == 0 {
        return;
    }
    let l = S::LANES;
    let tail = cols % l;
    let full = cols - tail;
    let n = cols as f32;
    let zero = s.splat(0.0);
    for r in 0..rows {
        let (xr, dyr) = (&x[r * cols..(r + 1) * cols], &dy[r * cols..(r + 1) * cols]);
        let (muv, rsv) = (s.splat(mean[r]), s.splat(rstd[r]));
        let (mut acc_g, mut acc_gx) = (zero, zero);
        let mut j = 0;
        while j < full {
            let (xv, dyv) = (s.load(&xr[j..]), s.load(&dyr[j..]));
            let xhat = (xv - muv) * rsv;
            let g = dyv * s.load(&gamma[j..]);
            acc_g = acc_g + g;
            acc_gx = s.mul_add(g, xhat, acc_gx);
            let dgv = s.load(&dgamma[j..]) + dyv * xhat;
            s.store(dgv, &mut dgamma[j..]);
            let dbv = s.load(&dbeta[j..]) + dyv;
            s.store(dbv, &mut dbeta[j..]);
            j += l;
        }
        if tail > 0 {
            let (xv, dyv) = (lp(s, xr, full), lp(s, dyr, full));
            let xhat = (xv - muv) * rsv;
            let g = dyv * lp(s, gamma, full);
            let m = s.first_n(tail);
            acc_g = acc_g + s.select(m, g, zero);
            acc_gx = acc_gx + s.select(m, g * xhat, zero);
            s.store_partial(lp(s, dgamma, full) + dyv * xhat, &mut dgamma[full..]);
            s.store_partial(lp(s, dbeta, full) + dyv, &mut dbeta[full..]);
        }
        let mean_g = s.splat(s.reduce_add(acc_g) / n);
        let mean_gx = s.splat(s.reduce_add(acc_gx) / n);
        let dxr = &mut dx[r * cols..(r + 1) * cols];
        j = 0;
        while j < full {
            let xhat = (s.load(&xr[j..]) - muv) * rsv;
            let t = s.load(&dyr[j..]) * s.load(&gamma[j..]) - mean_g - xhat * mean_gx;
            let v = s.load(&dxr[j..]) + rsv * t;
            s.store(v, &mut dxr[j..]);
            j += l;
        }
        if tail > 0 {
            let xhat = (lp(s, xr, full) - muv) * rsv;
            let t = lp(s, dyr, full) * lp(s, gamma, full) - mean_g - xhat * mean_gx;
            let v = lp(s, dxr, full) + rsv * t;
            s.store_partial(v, &mut dxr[full..]);
        }
    }
}
