//! RepeatVector(T): `y (T, B, C)` = T copies of `x (B, C)`;  `dx += Σ_t dy_t`.

use crate::Float;

pub fn repeat_forward<F: Float>(y: &mut [F], x: &[F], steps: usize) {
    assert_eq!(y.len(), x.len() * steps, "repeat: y must hold T copies of x");
    if x.is_empty() {
        return;
    }
    for block in y.chunks_exact_mut(x.len()) {
        block.copy_from_slice(x);
    }
}

pub fn repeat_backward<F: Float>(dx: &mut [F], dy: &[F]) {
    if dx.is_empty() {
        return;
    }
    assert_eq!(dy.len() % dx.len(), 0, "repeat backward: dy is not T copies of dx");
    for block in dy.chunks_exact(dx.len()) {
        for (d, &g) in dx.iter_mut().zip(block) {
            *d += g;
        }
    }
}
