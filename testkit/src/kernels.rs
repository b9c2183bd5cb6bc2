//! Differential checks of the SIMD kernels against the scalar reference, shared by the
//! property tests (`kernels/tests/`), the fuzz target (`fuzz/fuzz_targets/kernels.rs`) and the
//! replay of its corpus. Each `check_*` runs one instruction set's [`Kernels`] and
//! [`kubelstm_kernels::scalar`] on the same inputs and panics, naming the kernel, instruction set,
//! output and element, when they disagree by more than that kernel's tolerance:
//!
//! | kernel                                   | tolerance (u = 2⁻²⁴, the f32 unit roundoff)              |
//! |------------------------------------------|----------------------------------------------------------|
//! | relu, relu/sigmoid/tanh backward, bias, column sums, Adam, layer-norm dγ, dβ | bit-identical (same operations, same order, no FMA) |
//! | sigmoid, tanh                            | `1e-6·|ref| + f32::MIN_POSITIVE` (≈17 u; flushed subnormals) |
//! | LSTM cell forward: gates                 | as sigmoid / tanh                                        |
//! | LSTM cell forward: c, h; cell backward   | `4e-6 · s + 1e-30`, `s` the same formula in absolute values (error bound of the expression) |
//! | softmax, layer norm (row reductions over n columns) | `(16 + 2n)·u · s + f32::MIN_POSITIVE`: both summation orders are within `n·u` |
//!
//! NaN must match NaN (either side NaN ⇒ both NaN), infinities must match exactly.
//!
//! On top of agreement with the reference, [`check_elementwise_invariance`],
//! [`check_cell_invariance`] and [`check_row_invariance`] check reproducibility: an element
//! (or row) gives bit-identical results alone or inside a longer slice (or batch).
//!

use kubelstm_kernels::dispatch::Isa;
use kubelstm_kernels::scalar;
use kubelstm_kernels::simd::Kernels;

const U: f32 = f32::EPSILON / 2.0;
/// Relative tolerance of sigmoid and tanh.
pub const ACT_TOL: f32 = 1e-6;
/// Relative tolerance (to the absolute-value bound `s`) of the fused LSTM cell.
pub const CELL_TOL: f32 = 4e-6;
const CELL_FLOOR: f32 = 1e-30;

/// Relative tolerance of a row reduction over `n` columns.
pub fn row_tol(n: usize) -> f32 {
    (16 + 2 * n) as f32 * U
}

fn same_bits_or_nan(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// Panics unless `got` and `want` are bit-identical (any NaN matches any NaN).
pub fn assert_exact(kernel: &str, isa: Isa, what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{kernel} [{}]: {what} length", isa.name());
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            same_bits_or_nan(g, w),
            "{kernel} [{}]: {what}[{i}] = {g:e} ({:#010x}), reference {w:e} ({:#010x}): must be bit-identical",
            isa.name(),
            g.to_bits(),
            w.to_bits()
        );
    }
}

/// Panics unless `|got − want| ≤ bound(i)` for every element; NaN only with NaN, and an
/// infinity only with the same infinity.
pub fn assert_close(kernel: &str, isa: Isa, what: &str, got: &[f32], want: &[f32], bound: impl Fn(usize) -> f32) {
    assert_eq!(got.len(), want.len(), "{kernel} [{}]: {what} length", isa.name());
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let ok = if g.is_nan() || w.is_nan() {
            g.is_nan() && w.is_nan()
        } else if g.is_infinite() || w.is_infinite() {
            g == w
        } else {
            let b = bound(i);
            // A bound that overflowed to ∞ (huge inputs) accepts any finite pair.
            (g as f64 - w as f64).abs() <= b as f64 || b.is_nan()
        };
        assert!(
            ok,
            "{kernel} [{}]: {what}[{i}] = {g:e}, reference {w:e}, |diff| {:e} > bound {:e}",
            isa.name(),
            (g as f64 - w as f64).abs(),
            bound(i)
        );
    }
}

/// An output buffer placed at the same misalignment as an input: a copy of `v` starting
/// `(like's address / 4) % 4` elements into its allocation, so that when the caller passes
/// misaligned inputs, the kernels also write through misaligned slices.
struct Shifted {
    buf: Vec<f32>,
    off: usize,
}

impl Shifted {
    fn like(like: &[f32], v: &[f32]) -> Shifted {
        let off = (like.as_ptr() as usize / 4) % 4;
        let mut buf = vec![0.0; off + v.len()];
        buf[off..].copy_from_slice(v);
        Shifted { buf, off }
    }
}

impl core::ops::Deref for Shifted {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        &self.buf[self.off..]
    }
}

impl core::ops::DerefMut for Shifted {
    fn deref_mut(&mut self) -> &mut [f32] {
        &mut self.buf[self.off..]
    }
}

// ------------------------------------------------------------------------------- activations

/// sigmoid and tanh in place: `1e-6·|ref| + f32::MIN_POSITIVE`. ReLU: bit-identical.
pub fn check_activations(k: Kernels, x: &[f32]) {
    let isa = k.isa();
    let (mut got, mut want) = (Shifted::like(x, x), x.to_vec());
    k.sigmoid_inplace(&mut got);
    scalar::sigmoid_inplace(&mut want);
    assert_close("sigmoid_inplace", isa, "x", &got, &want, |i| ACT_TOL * want[i].abs() + f32::MIN_POSITIVE);

    let (mut got, mut want) = (Shifted::like(x, x), x.to_vec());
    k.tanh_inplace(&mut got);
    scalar::tanh_inplace(&mut want);
    assert_close("tanh_inplace", isa, "x", &got, &want, |i| ACT_TOL * want[i].abs() + f32::MIN_POSITIVE);

    let (mut got, mut want) = (Shifted::like(x, x), x.to_vec());
    k.relu_inplace(&mut got);
    scalar::relu_inplace(&mut want);
    assert_exact("relu_inplace", isa, "x", &got, &want);
}

/// relu/sigmoid/tanh backward (`dx +=`): bit-identical. `dx`, `dy`, `y` of equal length.
pub fn check_activation_backward(k: Kernels, dx: &[f32], dy: &[f32], y: &[f32]) {
    let isa = k.isa();
    type Simd = fn(&Kernels, &mut [f32], &[f32], &[f32]);
    type Reference = fn(&mut [f32], &[f32], &[f32]);
    let cases: [(&str, Simd, Reference); 3] = [
        ("relu_backward", Kernels::relu_backward, scalar::relu_backward::<f32>),
        ("sigmoid_backward", Kernels::sigmoid_backward, scalar::sigmoid_backward::<f32>),
        ("tanh_backward", Kernels::tanh_backward, scalar::tanh_backward::<f32>),
    ];
    for (name, simd, reference) in cases {
        let (mut got, mut want) = (Shifted::like(dx, dx), dx.to_vec());
        simd(&k, &mut got, dy, y);
        reference(&mut want, dy, y);
        assert_exact(name, isa, "dx", &got, &want);
    }
}

/// `y (rows, C) += bias (C)` and `sums (C) += Σ_rows x`: bit-identical.
pub fn check_bias(k: Kernels, y: &[f32], bias: &[f32]) {
    let isa = k.isa();
    let (mut got, mut want) = (Shifted::like(y, y), y.to_vec());
    k.add_bias_rows(&mut got, bias);
    scalar::add_bias_rows(&mut want, bias);
    assert_exact("add_bias_rows", isa, "y", &got, &want);

    let (mut got, mut want) = (Shifted::like(y, bias), bias.to_vec());
    k.column_sums(&mut got, y);
    scalar::column_sums(&mut want, y);
    assert_exact("column_sums", isa, "sums", &got, &want);
}

// ------------------------------------------------------------------------------- LSTM cell

/// Fused cell forward on `gates (B, 4H)` pre-activations and `c_prev (B, H)`. Gates as the
/// activations; `c` within `4e-6·(|f c_prev| + |i g|)`, `h` within
/// `4e-6·|o|·(|tanh c| + |f c_prev| + |i g|)`, plus 1e-30.
pub fn check_lstm_cell_forward(k: Kernels, gates: &[f32], c_prev: &[f32], hidden: usize) {
    let isa = k.isa();
    let n = c_prev.len();
    let (mut g_got, mut g_want) = (Shifted::like(gates, gates), gates.to_vec());
    let zeros = vec![0.0; n];
    let (mut c_got, mut c_want) = (Shifted::like(gates, &zeros), zeros.clone());
    let (mut h_got, mut h_want) = (Shifted::like(gates, &zeros), zeros.clone());
    k.lstm_cell_forward(&mut g_got, &mut c_got, &mut h_got, c_prev, hidden);
    scalar::lstm_cell_forward(&mut g_want, &mut c_want, &mut h_want, c_prev, hidden);
    let name = "lstm_cell_forward";
    assert_close(name, isa, "gates", &g_got, &g_want, |i| ACT_TOL * g_want[i].abs() + f32::MIN_POSITIVE);
    // (|f c_prev| + |i g|) and |o| for state element k = b·H + j, from the reference gates.
    let parts = |k: usize| {
        let (b, j) = (k / hidden, k % hidden);
        let g = &g_want[b * 4 * hidden..(b + 1) * 4 * hidden];
        ((g[hidden + j] * c_prev[k]).abs() + (g[j] * g[2 * hidden + j]).abs(), g[3 * hidden + j].abs())
    };
    assert_close(name, isa, "c", &c_got, &c_want, |k| CELL_TOL * parts(k).0 + CELL_FLOOR);
    assert_close(name, isa, "h", &h_got, &h_want, |k| {
        let (cs, o) = parts(k);
        CELL_TOL * o * (c_want[k].tanh().abs() + cs) + CELL_FLOOR
    });
}

/// Fused cell backward. Every output within `4e-6·s + 1e-30`, where `s` evaluates the
/// output's formula with every term replaced by its absolute value and `1 − y²` by `1 + y²`
/// (the rounding-error bound of the expression; `1 − tanh²c` cancels, so its error is
/// absolute, not relative).
#[allow(clippy::too_many_arguments)]
pub fn check_lstm_cell_backward(
    k: Kernels,
    gates: &[f32],
    c_prev: &[f32],
    c: &[f32],
    dh: &[f32],
    dc: &[f32],
    hidden: usize,
) {
    let isa = k.isa();
    let zeros = vec![0.0; gates.len()];
    let (mut d_got, mut d_want) = (Shifted::like(gates, &zeros), zeros.clone());
    let (mut dc_got, mut dc_want) = (Shifted::like(gates, dc), dc.to_vec());
    k.lstm_cell_backward(&mut d_got, &mut dc_got, gates, c_prev, c, dh, hidden);
    scalar::lstm_cell_backward(&mut d_want, &mut dc_want, gates, c_prev, c, dh, hidden);
    let name = "lstm_cell_backward";
    // Absolute-value bounds: [s_i, s_f, s_g, s_o, s_dc] for state element k.
    let scales = |k: usize| {
        let (b, j) = (k / hidden, k % hidden);
        let g = &gates[b * 4 * hidden..(b + 1) * 4 * hidden];
        let (i, f, gg, o) = (g[j], g[hidden + j], g[2 * hidden + j], g[3 * hidden + j]);
        let tc = c[k].tanh();
        let dct = dc[k].abs() + (dh[k] * o).abs() * (1.0 + tc * tc);
        [
            dct * (gg * i * (1.0 - i)).abs(),
            dct * (c_prev[k] * f * (1.0 - f)).abs(),
            dct * i.abs() * (1.0 + gg * gg),
            (dh[k] * tc * o * (1.0 - o)).abs(),
            dct * f.abs(),
        ]
    };
    assert_close(name, isa, "dpre", &d_got, &d_want, |e| {
        let (b, r) = (e / (4 * hidden), e % (4 * hidden));
        CELL_TOL * scales(b * hidden + r % hidden)[r / hidden] + CELL_FLOOR
    });
    assert_close(name, isa, "dc", &dc_got, &dc_want, |k| CELL_TOL * scales(k)[4] + CELL_FLOOR);
}

// ------------------------------------------------------------------------------- softmax

/// Row softmax of `x (rows, cols)`: `row_tol(cols)·|ref| + MIN_POSITIVE`.
pub fn check_softmax_rows(k: Kernels, x: &[f32], cols: usize) {
    let isa = k.isa();
    let (mut got, mut want) = (Shifted::like(x, x), x.to_vec());
    k.softmax_rows(&mut got, cols);
    scalar::softmax_rows(&mut want, cols);
    let tol = row_tol(cols);
    assert_close("softmax_rows", isa, "x", &got, &want, |i| tol * want[i].abs() + f32::MIN_POSITIVE);
}

/// `dx += y ⊙ (dy − Σ dy·y)` per row: `row_tol(cols)·(|dx| + |y|·(|dy| + Σ|dy·y|))`.
pub fn check_softmax_rows_backward(k: Kernels, dx: &[f32], dy: &[f32], y: &[f32], cols: usize) {
    let isa = k.isa();
    let (mut got, mut want) = (Shifted::like(dx, dx), dx.to_vec());
    k.softmax_rows_backward(&mut got, dy, y, cols);
    scalar::softmax_rows_backward(&mut want, dy, y, cols);
    let tol = row_tol(cols);
    let abs_dot = |r: usize| -> f32 { (r * cols..(r + 1) * cols).map(|j| (dy[j] * y[j]).abs()).sum() };
    assert_close("softmax_rows_backward", isa, "dx", &got, &want, |i| {
        tol * (dx[i].abs() + y[i].abs() * (dy[i].abs() + abs_dot(i / cols))) + f32::MIN_POSITIVE
    });
}

// ------------------------------------------------------------------------------- layer norm

/// Layer norm forward over rows of `x (rows, C)`, `C = gamma.len()`, with `t = row_tol(C)`:
/// `mean` within `t·mean|x|`, `rstd` within `t·rstd·(1 + 2 max|x|² rstd²)` (the variance of
/// nearly equal values loses relative precision), `y` within
/// `t·(|γ|·rstd·(max|x| + |x − μ|) + |β|)`; each plus `MIN_POSITIVE`.
pub fn check_layer_norm_forward(k: Kernels, x: &[f32], gamma: &[f32], beta: &[f32], eps: f32) {
    let isa = k.isa();
    let cols = gamma.len();
    let rows = x.len().checked_div(cols).unwrap_or(0);
    let (zx, zr) = (vec![0.0; x.len()], vec![0.0; rows]);
    let (mut y_got, mut y_want) = (Shifted::like(x, &zx), zx.clone());
    let (mut m_got, mut m_want) = (Shifted::like(x, &zr), zr.clone());
    let (mut r_got, mut r_want) = (Shifted::like(x, &zr), zr.clone());
    k.layer_norm_forward(&mut y_got, &mut m_got, &mut r_got, x, gamma, beta, eps);
    scalar::layer_norm_forward(&mut y_want, &mut m_want, &mut r_want, x, gamma, beta, eps);
    let name = "layer_norm_forward";
    let t = row_tol(cols);
    let row = |r: usize| &x[r * cols..(r + 1) * cols];
    let max_abs = |r: usize| row(r).iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let mean_abs = |r: usize| row(r).iter().map(|v| v.abs()).sum::<f32>() / cols as f32;
    assert_close(name, isa, "mean", &m_got, &m_want, |r| t * mean_abs(r) + f32::MIN_POSITIVE);
    assert_close(name, isa, "rstd", &r_got, &r_want, |r| {
        let (rs, mx) = (r_want[r], max_abs(r));
        t * rs * (1.0 + 2.0 * mx * mx * rs * rs) + f32::MIN_POSITIVE
    });
    assert_close(name, isa, "y", &y_got, &y_want, |i| {
        let (r, j) = (i / cols, i % cols);
        let s = gamma[j].abs() * r_want[r] * (max_abs(r) + (x[i] - m_want[r]).abs()) + beta[j].abs();
        t * s + f32::MIN_POSITIVE
    });
}

/// Layer norm backward, with `mean`, `rstd` from the scalar forward: `dγ`, `dβ` bit-identical;
/// `dx` within `row_tol(C)·(|dx| + rstd·(|g| + mean|g| + |x̂|·(|mean(g x̂)| + mean|g x̂|)))`,
/// `g = dy ⊙ γ`, plus `MIN_POSITIVE`.
#[allow(clippy::too_many_arguments)]
pub fn check_layer_norm_backward(
    k: Kernels,
    dx: &[f32],
    dgamma: &[f32],
    dbeta: &[f32],
    dy: &[f32],
    x: &[f32],
    gamma: &[f32],
    eps: f32,
) {
    let isa = k.isa();
    let cols = gamma.len();
    let rows = x.len().checked_div(cols).unwrap_or(0);
    let (mut y, mut mean, mut rstd) = (vec![0.0; x.len()], vec![0.0; rows], vec![0.0; rows]);
    let beta = vec![0.0; cols];
    scalar::layer_norm_forward(&mut y, &mut mean, &mut rstd, x, gamma, &beta, eps);
    let (mut dx_got, mut dx_want) = (Shifted::like(x, dx), dx.to_vec());
    let (mut dg_got, mut dg_want) = (Shifted::like(x, dgamma), dgamma.to_vec());
    let (mut db_got, mut db_want) = (Shifted::like(x, dbeta), dbeta.to_vec());
    k.layer_norm_backward(&mut dx_got, &mut dg_got, &mut db_got, dy, x, &mean, &rstd, gamma);
    scalar::layer_norm_backward(&mut dx_want, &mut dg_want, &mut db_want, dy, x, &mean, &rstd, gamma);
    let name = "layer_norm_backward";
    assert_exact(name, isa, "dgamma", &dg_got, &dg_want);
    assert_exact(name, isa, "dbeta", &db_got, &db_want);
    let t = row_tol(cols);
    let xhat = |i: usize| (x[i] - mean[i / cols]) * rstd[i / cols];
    let g = |i: usize| dy[i] * gamma[i % cols];
    // Per row: (mean|g|, |mean(g x̂)| + mean|g x̂|).
    let row_stats = |r: usize| {
        let idx = r * cols..(r + 1) * cols;
        let n = cols as f32;
        let mg = idx.clone().map(|i| g(i).abs()).sum::<f32>() / n;
        let mgx = idx.clone().map(|i| (g(i) * xhat(i)).abs()).sum::<f32>() / n;
        let sgx = (idx.map(|i| g(i) * xhat(i)).sum::<f32>() / n).abs();
        (mg, mgx + sgx)
    };
    assert_close(name, isa, "dx", &dx_got, &dx_want, |i| {
        let (mg, mgx) = row_stats(i / cols);
        t * (dx[i].abs() + rstd[i / cols] * (g(i).abs() + mg + xhat(i).abs() * mgx)) + f32::MIN_POSITIVE
    });
}

// ------------------------------------------------------------------------------- Adam

/// One Adam step: `p`, `m`, `v` bit-identical.
#[allow(clippy::too_many_arguments)]
pub fn check_adam(
    k: Kernels,
    p: &[f32],
    m: &[f32],
    v: &[f32],
    g: &[f32],
    alpha: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
) {
    let isa = k.isa();
    let (mut pg, mut mg, mut vg) = (Shifted::like(p, p), Shifted::like(p, m), Shifted::like(p, v));
    let (mut pw, mut mw, mut vw) = (p.to_vec(), m.to_vec(), v.to_vec());
    k.adam_update(&mut pg, &mut mg, &mut vg, g, alpha, beta1, beta2, eps);
    scalar::adam_update(&mut pw, &mut mw, &mut vw, g, alpha, beta1, beta2, eps);
    assert_exact("adam_update", isa, "p", &pg, &pw);
    assert_exact("adam_update", isa, "m", &mg, &mw);
    assert_exact("adam_update", isa, "v", &vg, &vw);
}

// ------------------------------------------------------------------------------- reproducibility

/// sigmoid, tanh, ReLU: every element gives the same bits when the kernel runs on the element
/// alone, and on the slice without its first element (so every element moves to another lane).
pub fn check_elementwise_invariance(k: Kernels, x: &[f32]) {
    let isa = k.isa();
    type InPlace = fn(&Kernels, &mut [f32]);
    let kernels: [(&str, InPlace); 3] = [
        ("sigmoid_inplace", Kernels::sigmoid_inplace),
        ("tanh_inplace", Kernels::tanh_inplace),
        ("relu_inplace", Kernels::relu_inplace),
    ];
    for (name, f) in kernels {
        let mut whole = x.to_vec();
        f(&k, &mut whole);
        if x.len() > 1 {
            let mut shifted = x[1..].to_vec();
            f(&k, &mut shifted);
            assert_exact(name, isa, "slice shifted by one vs whole", &shifted, &whole[1..]);
        }
        for (i, &v) in x.iter().enumerate() {
            let mut one = [v];
            f(&k, &mut one);
            assert_exact(name, isa, &format!("element {i} alone vs in the slice"), &one, &whole[i..i + 1]);
        }
    }
}

/// The fused cell, forward and backward: each batch row alone, and each unit alone (H = 1,
/// so it runs through the tail path) give the same bits as the whole batch.
pub fn check_cell_invariance(k: Kernels, gates: &[f32], c_prev: &[f32], dh: &[f32], dc: &[f32], hidden: usize) {
    let isa = k.isa();
    let n = c_prev.len();
    let batch = n / hidden.max(1);
    let fwd = |g: &[f32], cp: &[f32], h: usize| {
        let (mut g, mut c, mut hh) = (g.to_vec(), vec![0.0; cp.len()], vec![0.0; cp.len()]);
        k.lstm_cell_forward(&mut g, &mut c, &mut hh, cp, h);
        (g, c, hh)
    };
    let bwd = |g: &[f32], cp: &[f32], c: &[f32], dh: &[f32], dc: &[f32], h: usize| {
        let (mut d, mut dc) = (vec![0.0; g.len()], dc.to_vec());
        k.lstm_cell_backward(&mut d, &mut dc, g, cp, c, dh, h);
        (d, dc)
    };
    let (g_all, c_all, h_all) = fwd(gates, c_prev, hidden);
    let (d_all, dc_all) = bwd(&g_all, c_prev, &c_all, dh, dc, hidden);
    let name = "lstm_cell (reproducibility)";
    for b in 0..batch {
        let (gr, sr) = (b * 4 * hidden..(b + 1) * 4 * hidden, b * hidden..(b + 1) * hidden);
        let (g1, c1, h1) = fwd(&gates[gr.clone()], &c_prev[sr.clone()], hidden);
        assert_exact(name, isa, &format!("row {b} alone: gates"), &g1, &g_all[gr.clone()]);
        assert_exact(name, isa, &format!("row {b} alone: c"), &c1, &c_all[sr.clone()]);
        assert_exact(name, isa, &format!("row {b} alone: h"), &h1, &h_all[sr.clone()]);
        let (d1, dc1) =
            bwd(&g_all[gr.clone()], &c_prev[sr.clone()], &c_all[sr.clone()], &dh[sr.clone()], &dc[sr.clone()], hidden);
        assert_exact(name, isa, &format!("row {b} alone: dpre"), &d1, &d_all[gr]);
        assert_exact(name, isa, &format!("row {b} alone: dc"), &dc1, &dc_all[sr]);
        for j in 0..hidden {
            let s = b * hidden + j;
            let gate = |q: usize, src: &[f32]| src[b * 4 * hidden + q * hidden + j];
            let g_unit: Vec<f32> = (0..4).map(|q| gate(q, gates)).collect();
            let (g1, c1, h1) = fwd(&g_unit, &c_prev[s..s + 1], 1);
            let g_expect: Vec<f32> = (0..4).map(|q| gate(q, &g_all)).collect();
            assert_exact(name, isa, &format!("unit ({b}, {j}) alone: gates"), &g1, &g_expect);
            assert_exact(name, isa, &format!("unit ({b}, {j}) alone: c, h"), &[c1[0], h1[0]], &[c_all[s], h_all[s]]);
            let (d1, dc1) = bwd(&g_expect, &c_prev[s..s + 1], &c_all[s..s + 1], &dh[s..s + 1], &dc[s..s + 1], 1);
            let d_expect: Vec<f32> = (0..4).map(|q| gate(q, &d_all)).collect();
            assert_exact(name, isa, &format!("unit ({b}, {j}) alone: dpre"), &d1, &d_expect);
            assert_exact(name, isa, &format!("unit ({b}, {j}) alone: dc"), &dc1, &dc_all[s..s + 1]);
        }
    }
}

/// Softmax and layer norm (forward and backward): each row alone gives the same bits as
/// inside the whole `x (rows, cols)`.
pub fn check_row_invariance(k: Kernels, x: &[f32], dy: &[f32], cols: usize) {
    let isa = k.isa();
    if cols == 0 {
        return;
    }
    let rows = x.len() / cols;
    let gamma: Vec<f32> = (0..cols).map(|j| 0.5 + j as f32 / cols as f32).collect();
    let beta: Vec<f32> = (0..cols).map(|j| j as f32 * 0.1 - 0.2).collect();
    let softmax = |x: &[f32]| {
        let mut y = x.to_vec();
        k.softmax_rows(&mut y, cols);
        y
    };
    let layer_norm = |x: &[f32], dy: &[f32]| {
        let r = x.len() / cols;
        let (mut y, mut mean, mut rstd) = (vec![0.0; x.len()], vec![0.0; r], vec![0.0; r]);
        k.layer_norm_forward(&mut y, &mut mean, &mut rstd, x, &gamma, &beta, 1e-3);
        let (mut dx, mut dg, mut db) = (vec![0.0; x.len()], vec![0.0; cols], vec![0.0; cols]);
        k.layer_norm_backward(&mut dx, &mut dg, &mut db, dy, x, &mean, &rstd, &gamma);
        (y, mean, rstd, dx)
    };
    let sy = softmax(x);
    let mut sdx = vec![0.0; x.len()];
    k.softmax_rows_backward(&mut sdx, dy, &sy, cols);
    let (ly, lmean, lrstd, ldx) = layer_norm(x, dy);
    for r in 0..rows {
        let span = r * cols..(r + 1) * cols;
        let y1 = softmax(&x[span.clone()]);
        assert_exact("softmax_rows", isa, &format!("row {r} alone"), &y1, &sy[span.clone()]);
        let mut dx_alone = vec![0.0; cols];
        k.softmax_rows_backward(&mut dx_alone, &dy[span.clone()], &sy[span.clone()], cols);
        assert_exact("softmax_rows_backward", isa, &format!("row {r} alone"), &dx_alone, &sdx[span.clone()]);
        let (y1, m1, r1, dx1) = layer_norm(&x[span.clone()], &dy[span.clone()]);
        assert_exact("layer_norm_forward", isa, &format!("row {r} alone: y"), &y1, &ly[span.clone()]);
        assert_exact(
            "layer_norm_forward",
            isa,
            &format!("row {r} alone: mean, rstd"),
            &[m1[0], r1[0]],
            &[lmean[r], lrstd[r]],
        );
        assert_exact("layer_norm_backward", isa, &format!("row {r} alone: dx"), &dx1, &ldx[span]);
    }
}

// ------------------------------------------------------------------------------- fuzz input

/// Reads the fuzzer's bytes as shape parameters and `f32` values; cycles when it runs out.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        if self.data.is_empty() {
            return 0;
        }
        let b = self.data[self.pos % self.data.len()];
        self.pos += 1;
        b
    }
    /// Any bit pattern: NaN, ±∞, subnormals, huge values.
    fn raw(&mut self) -> f32 {
        f32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }
    /// A finite value with `|v| ≤ bound`: raw values inside the range are kept, others are
    /// mapped into it (so both "typical" and boundary values occur).
    fn bounded(&mut self, bound: f32) -> f32 {
        let v = self.raw();
        if v.is_finite() && v.abs() <= bound {
            v
        } else {
            (v.to_bits() % 2_000_001) as f32 / 1_000_000.0 * bound - bound
        }
    }
    fn raws(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.raw()).collect()
    }
    fn boundeds(&mut self, n: usize, bound: f32) -> Vec<f32> {
        (0..n).map(|_| self.bounded(bound)).collect()
    }
}

/// Copies `v` into a fresh buffer at element offset `off` (0..=3), so kernels see misaligned
/// slices; returns the buffer and the offset.
fn misaligned(v: &[f32], off: usize) -> (Vec<f32>, usize) {
    let mut buf = vec![0.0; v.len() + off];
    buf[off..].copy_from_slice(v);
    (buf, off)
}

/// The fuzz target: decodes `data` into one kernel's inputs and checks every supported
/// instruction set against the scalar reference (and the reproducibility properties).
/// Panics on a mismatch. Sizes stay small (≤ 4 rows of ≤ 40 units, ≤ 67 elements) so
/// libFuzzer runs many inputs per second.
pub fn check(data: &[u8]) {
    let mut r = Reader { data, pos: 0 };
    let which = r.byte() % 13;
    let off = (r.byte() % 4) as usize;
    let len = (r.byte() % 68) as usize;
    let (rows, cols) = (1 + (r.byte() % 4) as usize, 1 + (r.byte() % 40) as usize);
    for k in Kernels::all_supported().into_iter().filter(|k| k.isa() != Isa::Scalar) {
        let mut rd = Reader { data, pos: r.pos };
        match which {
            0 => {
                let (b, o) = misaligned(&rd.raws(len), off);
                check_activations(k, &b[o..]);
                check_elementwise_invariance(k, &b[o..]);
            }
            1 => {
                // Activations on moderate values, where most of the accuracy budget is spent.
                let (b, o) = misaligned(&rd.boundeds(len, 20.0), off);
                check_activations(k, &b[o..]);
                check_elementwise_invariance(k, &b[o..]);
            }
            2 => {
                let (dx, dy, y) = (rd.raws(len), rd.raws(len), rd.raws(len));
                let (b, o) = misaligned(&dx, off);
                check_activation_backward(k, &b[o..], &dy, &y);
            }
            3 => {
                let (y, bias) = (rd.raws(rows * cols), rd.raws(cols));
                let (b, o) = misaligned(&y, off);
                check_bias(k, &b[o..], &bias);
            }
            4 | 5 => {
                // Pre-activations of any size (saturated gates included), modest states.
                let gates =
                    if which == 4 { rd.boundeds(4 * rows * cols, 30.0) } else { rd.boundeds(4 * rows * cols, 1e4) };
                let c_prev = rd.boundeds(rows * cols, 100.0);
                let (b, o) = misaligned(&gates, off);
                check_lstm_cell_forward(k, &b[o..], &c_prev, cols);
                let (dh, dc) = (rd.boundeds(rows * cols, 100.0), rd.boundeds(rows * cols, 100.0));
                check_cell_invariance(k, &gates, &c_prev, &dh, &dc, cols);
            }
            6 => {
                // Activated gates (i, f, o in [0, 1], g in [−1, 1]) as the backward pass sees them.
                let mut gates = rd.boundeds(4 * rows * cols, 1.0);
                for (e, g) in gates.iter_mut().enumerate() {
                    if (e / cols) % 4 != 2 {
                        *g = g.abs();
                    }
                }
                let (c_prev, c) = (rd.boundeds(rows * cols, 100.0), rd.boundeds(rows * cols, 20.0));
                let (dh, dc) = (rd.boundeds(rows * cols, 100.0), rd.boundeds(rows * cols, 100.0));
                let (b, o) = misaligned(&gates, off);
                check_lstm_cell_backward(k, &b[o..], &c_prev, &c, &dh, &dc, cols);
            }
            7 => {
                let x = rd.boundeds(rows * cols, 50.0);
                let (b, o) = misaligned(&x, off);
                check_softmax_rows(k, &b[o..], cols);
                let dy = rd.boundeds(rows * cols, 10.0);
                check_row_invariance(k, &x, &dy, cols);
            }
            8 => {
                let (dx, dy) = (rd.boundeds(rows * cols, 10.0), rd.boundeds(rows * cols, 10.0));
                let mut y = rd.boundeds(rows * cols, 1.0);
                y.iter_mut().for_each(|v| *v = v.abs());
                let (b, o) = misaligned(&dx, off);
                check_softmax_rows_backward(k, &b[o..], &dy, &y, cols);
            }
            9 => {
                let x = rd.boundeds(rows * cols, 1e3);
                let (gamma, beta) = (rd.boundeds(cols, 3.0), rd.boundeds(cols, 3.0));
                let eps = 10f32.powi(-((rd.byte() % 6) as i32));
                let (b, o) = misaligned(&x, off);
                check_layer_norm_forward(k, &b[o..], &gamma, &beta, eps);
            }
            10 => {
                let (x, dy, dx) =
                    (rd.boundeds(rows * cols, 1e3), rd.boundeds(rows * cols, 10.0), rd.boundeds(rows * cols, 10.0));
                let (gamma, dg, db) = (rd.boundeds(cols, 3.0), rd.boundeds(cols, 10.0), rd.boundeds(cols, 10.0));
                let eps = 10f32.powi(-((rd.byte() % 6) as i32));
                let (b, o) = misaligned(&x, off);
                check_layer_norm_backward(k, &dx, &dg, &db, &dy, &b[o..], &gamma, eps);
            }
            11 => {
                let x = rd.boundeds(rows * cols, 1e3);
                let dy = rd.boundeds(rows * cols, 10.0);
                check_row_invariance(k, &x, &dy, cols);
            }
            _ => {
                let (p, m, v, g) = (rd.raws(len), rd.raws(len), rd.raws(len), rd.raws(len));
                let (alpha, beta1, beta2, eps) = (rd.raw(), rd.raw(), rd.raw(), rd.raw());
                let (b, o) = misaligned(&p, off);
                check_adam(k, &b[o..], &m, &v, &g, alpha, beta1, beta2, eps);
            }
        }
    }
}
