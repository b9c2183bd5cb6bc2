//! Every SIMD kernel, written once over [`Simd`]; [`super`] instantiates them per instruction
//! set inside `#[target_feature]` functions. All bodies are `#[inline(always)]` so that they
//! are compiled with the instruction set of the function they land in, and all are safe code:
//! the vector token carries the proof that the instruction set is available.
//!
//! Tails (the last `len % LANES` elements of a slice or row) go through `load_partial` /
//! `store_partial` and the *same* vector arithmetic as full vectors, so an element's result
//! never depends on its position in the slice or on the slice's length. Reductions happen only
//! inside a row (softmax, layer norm), in an order fixed by the row length alone.
//!
//! Kernels that need no transcendental function (ReLU, the activation backward passes, bias,
//! column sums, Adam) use exactly the scalar reference's operations in the same order, without
//! FMA, so they are bit-identical to [`crate::scalar`].

use super::vector::{exp, sigmoid, tanh, Simd};
use crate::scalar;

/// The vector of `x` starting at `at`.
#[inline(always)]
fn ld<S: Simd>(s: S, x: &[f32], at: usize) -> S::V {
    s.load(&x[at..])
}

/// The tail of `x` from `at` on (shorter than a vector), zero-filled.
#[inline(always)]
fn lp<S: Simd>(s: S, x: &[f32], at: usize) -> S::V {
    s.load_partial(&x[at..], 0.0)
}

// ------------------------------------------------------------------------------- activations

#[inline(always)]
pub(super) fn sigmoid_inplace<S: Simd>(s: S, x: &mut [f32]) {
    let l = S::LANES;
    let mut i = 0;
    while i + l <= x.len() {
        let v = sigmoid(s, s.load(&x[i..]));
        s.store(v, &mut x[i..]);
        i += l;
    }
    if i < x.len() {
        let v = sigmoid(s, s.load_partial(&x[i..], 0.0));
        s.store_partial(v, &mut x[i..]);
    }
}

#[inline(always)]
pub(super) fn tanh_inplace<S: Simd>(s: S, x: &mut [f32]) {
    let l = S::LANES;
    let mut i = 0;
    while i + l <= x.len() {
        let v = tanh(s, s.load(&x[i..]));
        s.store(v, &mut x[i..]);
        i += l;
    }
    if i < x.len() {
        let v = tanh(s, s.load_partial(&x[i..], 0.0));
        s.store_partial(v, &mut x[i..]);
    }
}

/// `x < 0 ? 0 : x`: keeps NaN and −0 as the reference does.
#[inline(always)]
fn relu<S: Simd>(s: S, x: S::V) -> S::V {
    let zero = s.splat(0.0);
    s.select(s.lt(x, zero), zero, x)
}

#[inline(always)]
pub(super) fn relu_inplace<S: Simd>(s: S, x: &mut [f32]) {
    let l = S::LANES;
    let mut i = 0;
    while i + l <= x.len() {
        let v = relu(s, s.load(&x[i..]));
        s.store(v, &mut x[i..]);
        i += l;
    }
    if i < x.len() {
        let v = relu(s, s.load_partial(&x[i..], 0.0));
        s.store_partial(v, &mut x[i..]);
    }
}

/// Shared loop of the three activation backward kernels: `dx ← f(dx, dy, y)` elementwise.
macro_rules! backward_loop {
    ($s:ident, $dx:ident, $dy:ident, $y:ident, |$d:ident, $g:ident, $o:ident| $body:expr) => {{
        let l = S::LANES;
        let n = $dx.len();
        let mut i = 0;
        while i + l <= n {
            let ($d, $g, $o) = ($s.load(&$dx[i..]), $s.load(&$dy[i..]), $s.load(&$y[i..]));
            $s.store($body, &mut $dx[i..]);
            i += l;
        }
        if i < n {
            let ($d, $g, $o) =
                ($s.load_partial(&$dx[i..], 0.0), $s.load_partial(&$dy[i..], 0.0), $s.load_partial(&$y[i..], 0.0));
            $s.store_partial($body, &mut $dx[i..]);
        }
    }};
}

#[inline(always)]
pub(super) fn relu_backward<S: Simd>(s: S, dx: &mut [f32], dy: &[f32], y: &[f32]) {
    assert!(dx.len() == dy.len() && dy.len() == y.len(), "relu_backward: length mismatch");
    // `dx` is left untouched (not `dx + 0`, which would turn −0 into +0) where y ≤ 0.
    backward_loop!(s, dx, dy, y, |d, g, o| s.select(s.gt(o, s.splat(0.0)), d + g, d));
}

#[inline(always)]
pub(super) fn sigmoid_backward<S: Simd>(s: S, dx: &mut [f32], dy: &[f32], y: &[f32]) {
    assert!(dx.len() == dy.len() && dy.len() == y.len(), "sigmoid_backward: length mismatch");
    backward_loop!(s, dx, dy, y, |d, g, o| d + g * o * (s.splat(1.0) - o));
}

#[inline(always)]
pub(super) fn tanh_backward<S: Simd>(s: S, dx: &mut [f32], dy: &[f32], y: &[f32]) {
    assert!(dx.len() == dy.len() && dy.len() == y.len(), "tanh_backward: length mismatch");
    backward_loop!(s, dx, dy, y, |d, g, o| d + g * (s.splat(1.0) - o * o));
}

// ------------------------------------------------------------------------------- bias

/// `y (rows, C) += bias (C)`.
#[inline(always)]
pub(super) fn add_bias_rows<S: Simd>(s: S, y: &mut [f32], bias: &[f32]) {
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
pub(super) fn column_sums<S: Simd>(s: S, sums: &mut [f32], x: &[f32]) {
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

// ------------------------------------------------------------------------------- LSTM cell

/// One LSTM cell on a vector of units: pre-activations in, activations and new state out.
#[inline(always)]
fn cell_forward<S: Simd>(s: S, i: S::V, f: S::V, g: S::V, o: S::V, c_prev: S::V) -> [S::V; 6] {
    let (i, f, g, o) = (sigmoid(s, i), sigmoid(s, f), tanh(s, g), sigmoid(s, o));
    let c = s.mul_add(f, c_prev, i * g);
    let h = o * tanh(s, c);
    [i, f, g, o, c, h]
}

/// Fused LSTM cell forward; see [`crate::Float::lstm_cell_forward`]. `gates (B, 4H)`,
/// `c, h, c_prev (B, H)`.
#[inline(always)]
pub(super) fn lstm_cell_forward<S: Simd>(
    s: S,
    gates: &mut [f32],
    c: &mut [f32],
    h: &mut [f32],
    c_prev: &[f32],
    hidden: usize,
) {
    let batch = scalar::check_cell_shapes(gates.len(), &[c.len(), h.len(), c_prev.len()], hidden, "lstm_cell_forward");
    if batch == 0 {
        return;
    }
    let l = S::LANES;
    let h4 = 4 * hidden;
    for b in 0..batch {
        let g = &mut gates[b * h4..(b + 1) * h4];
        let (gi, rest) = g.split_at_mut(hidden);
        let (gf, rest) = rest.split_at_mut(hidden);
        let (gg, go) = rest.split_at_mut(hidden);
        let st = b * hidden..(b + 1) * hidden;
        let (cp, cr, hr) = (&c_prev[st.clone()], &mut c[st.clone()], &mut h[st]);
        let mut j = 0;
        while j + l <= hidden {
            let out = cell_forward(s, ld(s, gi, j), ld(s, gf, j), ld(s, gg, j), ld(s, go, j), ld(s, cp, j));
            for (v, dst) in out.into_iter().zip([&mut *gi, &mut *gf, &mut *gg, &mut *go, &mut *cr, &mut *hr]) {
                s.store(v, &mut dst[j..]);
            }
            j += l;
        }
        if j < hidden {
            let out = cell_forward(s, lp(s, gi, j), lp(s, gf, j), lp(s, gg, j), lp(s, go, j), lp(s, cp, j));
            for (v, dst) in out.into_iter().zip([gi, gf, gg, go, cr, hr]) {
                s.store_partial(v, &mut dst[j..]);
            }
        }
    }
}

/// Backward of one cell on a vector of units; returns `[dpre_i, dpre_f, dpre_g, dpre_o, dc_prev]`.
#[inline(always)]
fn cell_backward<S: Simd>(s: S, gates: [S::V; 4], c_prev: S::V, c: S::V, dh: S::V, dc: S::V) -> [S::V; 5] {
    let [i, f, g, o] = gates;
    let one = s.splat(1.0);
    let tc = tanh(s, c);
    let dh_o = dh * o;
    let dct = s.mul_add(dh_o, one - tc * tc, dc);
    [
        dct * g * (i * (one - i)),
        dct * c_prev * (f * (one - f)),
        dct * i * (one - g * g),
        dh * tc * (o * (one - o)),
        dct * f,
    ]
}

/// Fused LSTM cell backward; see [`crate::Float::lstm_cell_backward`].
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn lstm_cell_backward<S: Simd>(
    s: S,
    dpre: &mut [f32],
    dc: &mut [f32],
    gates: &[f32],
    c_prev: &[f32],
    c: &[f32],
    dh: &[f32],
    hidden: usize,
) {
    assert_eq!(dpre.len(), gates.len(), "lstm_cell_backward: dpre and gates differ in length");
    let batch = scalar::check_cell_shapes(
        gates.len(),
        &[dc.len(), c_prev.len(), c.len(), dh.len()],
        hidden,
        "lstm_cell_backward",
    );
    if batch == 0 {
        return;
    }
    let l = S::LANES;
    let h4 = 4 * hidden;
    for b in 0..batch {
        let g = &gates[b * h4..(b + 1) * h4];
        let (gi, gf, gg, go) = (&g[..hidden], &g[hidden..2 * hidden], &g[2 * hidden..3 * hidden], &g[3 * hidden..]);
        let d = &mut dpre[b * h4..(b + 1) * h4];
        let (di, rest) = d.split_at_mut(hidden);
        let (df, rest) = rest.split_at_mut(hidden);
        let (dg, dout) = rest.split_at_mut(hidden);
        let st = b * hidden..(b + 1) * hidden;
        let (cp, cr, dhr, dcr) = (&c_prev[st.clone()], &c[st.clone()], &dh[st.clone()], &mut dc[st]);
        let mut j = 0;
        while j + l <= hidden {
            let gv = [s.load(&gi[j..]), s.load(&gf[j..]), s.load(&gg[j..]), s.load(&go[j..])];
            let out = cell_backward(s, gv, s.load(&cp[j..]), s.load(&cr[j..]), s.load(&dhr[j..]), s.load(&dcr[j..]));
            for (v, dst) in out.into_iter().zip([&mut *di, &mut *df, &mut *dg, &mut *dout, &mut *dcr]) {
                s.store(v, &mut dst[j..]);
            }
            j += l;
        }
        if j < hidden {
            let gv = [lp(s, gi, j), lp(s, gf, j), lp(s, gg, j), lp(s, go, j)];
            let out = cell_backward(s, gv, lp(s, cp, j), lp(s, cr, j), lp(s, dhr, j), lp(s, dcr, j));
            for (v, dst) in out.into_iter().zip([di, df, dg, dout, dcr]) {
                s.store_partial(v, &mut dst[j..]);
            }
        }
    }
}

// ------------------------------------------------------------------------------- softmax

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
pub(super) fn softmax_rows<S: Simd>(s: S, x: &mut [f32], cols: usize) {
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
pub(super) fn softmax_rows_backward<S: Simd>(s: S, dx: &mut [f32], dy: &[f32], y: &[f32], cols: usize) {
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

// ------------------------------------------------------------------------------- layer norm

#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn layer_norm_forward<S: Simd>(
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
pub(super) fn layer_norm_backward<S: Simd>(
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

// ------------------------------------------------------------------------------- Adam

/// `m ← β1 m + (1−β1) g`, `v ← β2 v + (1−β2) g g`, `p ← p − α m / (√v + ε)`, with
/// `k = [α, β1, 1−β1, β2, 1−β2, ε]`.
#[inline(always)]
fn adam_step<S: Simd>(s: S, k: [S::V; 6], p: S::V, m: S::V, v: S::V, g: S::V) -> (S::V, S::V, S::V) {
    let [alpha, b1, c1, b2, c2, eps] = k;
    let m = b1 * m + c1 * g;
    let v = b2 * v + c2 * g * g;
    let p = p - alpha * m / (s.sqrt(v) + eps);
    (p, m, v)
}

/// One Adam step; the reference's operations in its order, so bit-identical to it.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn adam_update<S: Simd>(
    s: S,
    p: &mut [f32],
    m: &mut [f32],
    v: &mut [f32],
    g: &[f32],
    alpha: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
) {
    assert!(p.len() == m.len() && m.len() == v.len() && v.len() == g.len(), "adam_update: p, m, v, g differ in length");
    // Constants as in the reference: (1 − β) is rounded to f32 once.
    let k = [s.splat(alpha), s.splat(beta1), s.splat(1.0 - beta1), s.splat(beta2), s.splat(1.0 - beta2), s.splat(eps)];
    let l = S::LANES;
    let n = p.len();
    let mut i = 0;
    while i + l <= n {
        let (pv, mv, vv) = adam_step(s, k, s.load(&p[i..]), s.load(&m[i..]), s.load(&v[i..]), s.load(&g[i..]));
        s.store(pv, &mut p[i..]);
        s.store(mv, &mut m[i..]);
        s.store(vv, &mut v[i..]);
        i += l;
    }
    if i < n {
        let (pv, mv, vv) = adam_step(s, k, lp(s, p, i), lp(s, m, i), lp(s, v, i), lp(s, g, i));
        s.store_partial(pv, &mut p[i..]);
        s.store_partial(mv, &mut m[i..]);
        s.store_partial(vv, &mut v[i..]);
    }
}
