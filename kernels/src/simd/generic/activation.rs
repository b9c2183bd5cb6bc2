//! Activations and their backward passes: sigmoid, tanh, ReLU.

use super::*;

#[inline(always)]
pub(in crate::simd) fn sigmoid_inplace<S: Simd>(s: S, x: &mut [f32]) {
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
pub(in crate::simd) fn tanh_inplace<S: Simd>(s: S, x: &mut [f32]) {
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
pub(in crate::simd) fn relu_inplace<S: Simd>(s: S, x: &mut [f32]) {
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
pub(in crate::simd) fn relu_backward<S: Simd>(s: S, dx: &mut [f32], dy: &[f32], y: &[f32]) {
    assert!(dx.len() == dy.len() && dy.len() == y.len(), "relu_backward: length mismatch");
    // `dx` is left untouched (not `dx + 0`, which would turn −0 into +0) where y ≤ 0.
    backward_loop!(s, dx, dy, y, |d, g, o| s.select(s.gt(o, s.splat(0.0)), d + g, d));
}

#[inline(always)]
pub(in crate::simd) fn sigmoid_backward<S: Simd>(s: S, dx: &mut [f32], dy: &[f32], y: &[f32]) {
    assert!(dx.len() == dy.len() && dy.len() == y.len(), "sigmoid_backward: length mismatch");
    backward_loop!(s, dx, dy, y, |d, g, o| d + g * o * (s.splat(1.0) - o));
}

#[inline(always)]
pub(in crate::simd) fn tanh_backward<S: Simd>(s: S, dx: &mut [f32], dy: &[f32], y: &[f32]) {
    assert!(dx.len() == dy.len() && dy.len() == y.len(), "tanh_backward: length mismatch");
    backward_loop!(s, dx, dy, y, |d, g, o| d + g * (s.splat(1.0) - o * o));
}
