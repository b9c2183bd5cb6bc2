//! The Adam update.

use super::*;

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
pub(in crate::simd) fn adam_update<S: Simd>(
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
