//! The fused LSTM cell, forward and backward.

use super::*;

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
pub(in crate::simd) fn lstm_cell_forward<S: Simd>(
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
pub(in crate::simd) fn lstm_cell_backward<S: Simd>(
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
