//! Scalar reference kernels: the specification every SIMD kernel is tested against, and
//! the kernels the `f64` audit path runs. Plain loops, written for clarity, not speed.
//!
//! Shapes use B (batch rows), H (hidden units), C (columns). Every kernel asserts its own
//! size invariants: a mismatch is a programmer error, not a user error.

use crate::Float;

/// Numerically stable logistic function: never computes `exp` of a large positive number.
#[inline(always)]
pub fn sigmoid<F: Float>(x: F) -> F {
    if x >= F::ZERO {
        F::ONE / (F::ONE + (-x).exp())
    } else {
        let e = x.exp();
        e / (F::ONE + e)
    }
}

pub fn sigmoid_inplace<F: Float>(x: &mut [F]) {
    for v in x {
        *v = sigmoid(*v);
    }
}

pub fn tanh_inplace<F: Float>(x: &mut [F]) {
    for v in x {
        *v = v.tanh();
    }
}

pub fn relu_inplace<F: Float>(x: &mut [F]) {
    for v in x {
        // `max` would turn NaN into 0 and hide a divergence; keep NaN visible.
        if *v < F::ZERO {
            *v = F::ZERO;
        }
    }
}

pub fn relu_backward<F: Float>(dx: &mut [F], dy: &[F], y: &[F]) {
    assert!(dx.len() == dy.len() && dy.len() == y.len(), "relu_backward: length mismatch");
    for ((d, &g), &o) in dx.iter_mut().zip(dy).zip(y) {
        if o > F::ZERO {
            *d += g;
        }
    }
}

pub fn sigmoid_backward<F: Float>(dx: &mut [F], dy: &[F], y: &[F]) {
    assert!(dx.len() == dy.len() && dy.len() == y.len(), "sigmoid_backward: length mismatch");
    for ((d, &g), &o) in dx.iter_mut().zip(dy).zip(y) {
        *d += g * o * (F::ONE - o);
    }
}

pub fn tanh_backward<F: Float>(dx: &mut [F], dy: &[F], y: &[F]) {
    assert!(dx.len() == dy.len() && dy.len() == y.len(), "tanh_backward: length mismatch");
    for ((d, &g), &o) in dx.iter_mut().zip(dy).zip(y) {
        *d += g * (F::ONE - o * o);
    }
}

/// `y (rows, C) += bias (C)` row by row.
pub fn add_bias_rows<F: Float>(y: &mut [F], bias: &[F]) {
    let cols = bias.len();
    if cols == 0 {
        assert!(y.is_empty(), "add_bias_rows: empty bias for non-empty y");
        return;
    }
    assert!(y.len().is_multiple_of(cols), "add_bias_rows: y length {} not a multiple of {cols}", y.len());
    for row in y.chunks_exact_mut(cols) {
        for (v, &b) in row.iter_mut().zip(bias) {
            *v += b;
        }
    }
}

/// `sums (C) += Σ_rows x (rows, C)`.
pub fn column_sums<F: Float>(sums: &mut [F], x: &[F]) {
    let cols = sums.len();
    if cols == 0 {
        assert!(x.is_empty(), "column_sums: empty sums for non-empty x");
        return;
    }
    assert!(x.len().is_multiple_of(cols), "column_sums: x length {} not a multiple of {cols}", x.len());
    for row in x.chunks_exact(cols) {
        for (s, &v) in sums.iter_mut().zip(row) {
            *s += v;
        }
    }
}

pub(crate) fn check_cell_shapes(gates: usize, states: &[usize], hidden: usize, name: &str) -> usize {
    assert!(hidden > 0 || gates == 0, "{name}: hidden = 0");
    let batch = if hidden == 0 { 0 } else { gates / (4 * hidden) };
    assert_eq!(gates, batch * 4 * hidden, "{name}: gates length {gates} is not B·4H with H = {hidden}");
    for &s in states {
        assert_eq!(s, batch * hidden, "{name}: state length {s}, expected B·H = {}", batch * hidden);
    }
    batch
}

/// Fused LSTM cell forward; see [`Float::lstm_cell_forward`]. Gate order i, f, g, o.
pub fn lstm_cell_forward<F: Float>(gates: &mut [F], c: &mut [F], h: &mut [F], c_prev: &[F], hidden: usize) {
    let batch = check_cell_shapes(gates.len(), &[c.len(), h.len(), c_prev.len()], hidden, "lstm_cell_forward");
    for b in 0..batch {
        let g = &mut gates[b * 4 * hidden..(b + 1) * 4 * hidden];
        for j in 0..hidden {
            let i_gate = sigmoid(g[j]);
            let f_gate = sigmoid(g[hidden + j]);
            let g_gate = g[2 * hidden + j].tanh();
            let o_gate = sigmoid(g[3 * hidden + j]);
            g[j] = i_gate;
            g[hidden + j] = f_gate;
            g[2 * hidden + j] = g_gate;
            g[3 * hidden + j] = o_gate;
            let c_new = f_gate * c_prev[b * hidden + j] + i_gate * g_gate;
            c[b * hidden + j] = c_new;
            h[b * hidden + j] = o_gate * c_new.tanh();
        }
    }
}

/// Fused LSTM cell backward; see [`Float::lstm_cell_backward`].
///   tc = tanh(c);  dc_t = dc + dh·o·(1 − tc²)
///   dpre_i = dc_t·g·i(1−i);  dpre_f = dc_t·c_prev·f(1−f);  dpre_g = dc_t·i·(1−g²);
///   dpre_o = dh·tc·o(1−o);   dc ← dc_t·f
pub fn lstm_cell_backward<F: Float>(
    dpre: &mut [F],
    dc: &mut [F],
    gates: &[F],
    c_prev: &[F],
    c: &[F],
    dh: &[F],
    hidden: usize,
) {
    assert_eq!(dpre.len(), gates.len(), "lstm_cell_backward: dpre and gates differ in length");
    let batch =
        check_cell_shapes(gates.len(), &[dc.len(), c_prev.len(), c.len(), dh.len()], hidden, "lstm_cell_backward");
    for b in 0..batch {
        let g = &gates[b * 4 * hidden..(b + 1) * 4 * hidden];
        let d = &mut dpre[b * 4 * hidden..(b + 1) * 4 * hidden];
        for j in 0..hidden {
            let k = b * hidden + j;
            let (i_gate, f_gate, g_gate, o_gate) = (g[j], g[hidden + j], g[2 * hidden + j], g[3 * hidden + j]);
            let tc = c[k].tanh();
            let dc_total = dc[k] + dh[k] * o_gate * (F::ONE - tc * tc);
            d[j] = dc_total * g_gate * i_gate * (F::ONE - i_gate);
            d[hidden + j] = dc_total * c_prev[k] * f_gate * (F::ONE - f_gate);
            d[2 * hidden + j] = dc_total * i_gate * (F::ONE - g_gate * g_gate);
            d[3 * hidden + j] = dh[k] * tc * o_gate * (F::ONE - o_gate);
            dc[k] = dc_total * f_gate;
        }
    }
}

/// Row softmax in place, max-subtracted for stability.
pub fn softmax_rows<F: Float>(x: &mut [F], cols: usize) {
    if x.is_empty() {
        return;
    }
    assert!(cols > 0 && x.len().is_multiple_of(cols), "softmax_rows: length {} not a multiple of {cols}", x.len());
    for row in x.chunks_exact_mut(cols) {
        let mut max = row[0];
        for &v in row.iter() {
            if v > max {
                max = v;
            }
        }
        let mut sum = F::ZERO;
        for v in row.iter_mut() {
            *v = (*v - max).exp();
            sum += *v;
        }
        let inv = F::ONE / sum;
        for v in row.iter_mut() {
            *v *= inv;
        }
    }
}

pub fn softmax_rows_backward<F: Float>(dx: &mut [F], dy: &[F], y: &[F], cols: usize) {
    assert!(dx.len() == dy.len() && dy.len() == y.len(), "softmax_rows_backward: length mismatch");
    if y.is_empty() {
        return;
    }
    assert!(
        cols > 0 && y.len().is_multiple_of(cols),
        "softmax_rows_backward: length {} not a multiple of {cols}",
        y.len()
    );
    for ((dxr, dyr), yr) in dx.chunks_exact_mut(cols).zip(dy.chunks_exact(cols)).zip(y.chunks_exact(cols)) {
        let mut dot = F::ZERO;
        for (&g, &o) in dyr.iter().zip(yr) {
            dot += g * o;
        }
        for ((d, &g), &o) in dxr.iter_mut().zip(dyr).zip(yr) {
            *d += o * (g - dot);
        }
    }
}

pub(crate) fn check_ln_shapes(x: usize, rows: usize, gamma: usize, beta: usize) {
    assert_eq!(gamma, beta, "layer_norm: gamma and beta differ in length");
    assert!(gamma > 0 || x == 0, "layer_norm: zero columns");
    assert_eq!(x, rows * gamma, "layer_norm: x length {x} is not rows {rows} × C {gamma}");
}

pub fn layer_norm_forward<F: Float>(
    y: &mut [F],
    mean: &mut [F],
    rstd: &mut [F],
    x: &[F],
    gamma: &[F],
    beta: &[F],
    eps: F,
) {
    let rows = mean.len();
    assert_eq!(rstd.len(), rows, "layer_norm_forward: mean and rstd differ in length");
    assert_eq!(y.len(), x.len(), "layer_norm_forward: x and y differ in length");
    check_ln_shapes(x.len(), rows, gamma.len(), beta.len());
    let cols = gamma.len();
    if cols == 0 {
        return;
    }
    let n = F::from_usize(cols);
    for r in 0..rows {
        let xr = &x[r * cols..(r + 1) * cols];
        let mu = xr.iter().copied().sum::<F>() / n;
        let var = xr.iter().map(|&v| (v - mu) * (v - mu)).sum::<F>() / n;
        let rs = F::ONE / (var + eps).sqrt();
        mean[r] = mu;
        rstd[r] = rs;
        for (j, out) in y[r * cols..(r + 1) * cols].iter_mut().enumerate() {
            *out = (xr[j] - mu) * rs * gamma[j] + beta[j];
        }
    }
}

/// With x̂ = (x − μ)·rstd and g = dy ⊙ γ:
/// dx = rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂)),  dγ = Σ dy ⊙ x̂,  dβ = Σ dy.
#[allow(clippy::too_many_arguments)]
pub fn layer_norm_backward<F: Float>(
    dx: &mut [F],
    dgamma: &mut [F],
    dbeta: &mut [F],
    dy: &[F],
    x: &[F],
    mean: &[F],
    rstd: &[F],
    gamma: &[F],
) {
    let rows = mean.len();
    let cols = gamma.len();
    assert_eq!(rstd.len(), rows, "layer_norm_backward: mean and rstd differ in length");
    assert!(dx.len() == x.len() && dy.len() == x.len(), "layer_norm_backward: x, dx, dy differ in length");
    assert!(dgamma.len() == cols && dbeta.len() == cols, "layer_norm_backward: dgamma/dbeta length");
    check_ln_shapes(x.len(), rows, cols, dbeta.len());
    if cols == 0 {
        return;
    }
    let n = F::from_usize(cols);
    for r in 0..rows {
        let (xr, dyr) = (&x[r * cols..(r + 1) * cols], &dy[r * cols..(r + 1) * cols]);
        let (mu, rs) = (mean[r], rstd[r]);
        let mut mean_g = F::ZERO;
        let mut mean_gx = F::ZERO;
        for j in 0..cols {
            let xhat = (xr[j] - mu) * rs;
            let g = dyr[j] * gamma[j];
            mean_g += g;
            mean_gx += g * xhat;
            dgamma[j] += dyr[j] * xhat;
            dbeta[j] += dyr[j];
        }
        mean_g /= n;
        mean_gx /= n;
        for (j, d) in dx[r * cols..(r + 1) * cols].iter_mut().enumerate() {
            let xhat = (xr[j] - mu) * rs;
            *d += rs * (dyr[j] * gamma[j] - mean_g - xhat * mean_gx);
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub fn adam_update<F: Float>(p: &mut [F], m: &mut [F], v: &mut [F], g: &[F], alpha: F, beta1: F, beta2: F, eps: F) {
    assert!(p.len() == m.len() && m.len() == v.len() && v.len() == g.len(), "adam_update: p, m, v, g differ in length");
    for i in 0..p.len() {
        m[i] = beta1 * m[i] + (F::ONE - beta1) * g[i];
        v[i] = beta2 * v[i] + (F::ONE - beta2) * g[i] * g[i];
        p[i] -= alpha * m[i] / (v[i].sqrt() + eps);
    }
}

/// Naive triple-loop GEMM over strided views: the reference for [`crate::gemm::gemm`].
/// `C = alpha · A B + beta · C`; with `beta = 0`, C is not read (as in BLAS).
pub fn gemm<F: Float>(
    alpha: F,
    a: crate::gemm::Mat<'_, F>,
    b: crate::gemm::Mat<'_, F>,
    beta: F,
    c: crate::gemm::MatMut<'_, F>,
) {
    crate::gemm::check_shapes(&a, &b, &c);
    let (m, k, n) = (a.rows, a.cols, b.cols);
    for i in 0..m {
        for j in 0..n {
            let mut acc = F::ZERO;
            for l in 0..k {
                acc += a.at(i, l) * b.at(l, j);
            }
            let idx = c.index(i, j);
            c.data[idx] = if beta == F::ZERO { alpha * acc } else { alpha * acc + beta * c.data[idx] };
        }
    }
}
