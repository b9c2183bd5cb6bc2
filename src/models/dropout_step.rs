//! Dropout between a model's layers: the seed of a training pass's masks, and the forward and
//! backward of a dropout that is only applied while training.

use crate::nn::dropout::MaskShape;
use crate::nn::{resize, Dropout};
use crate::Float;

/// Seeds the dropout masks of one training forward pass; `None` in its place means
/// inference (no dropout). `first_sample` is the shard's offset in the whole batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DropoutSeed {
    pub seed: u64,
    pub first_sample: usize,
}

/// Applies `drop` to `x (T, B, C)` when training and returns the buffer holding the result:
/// `out` (masked with a fresh `mask`) or `x` itself at inference.
pub(crate) fn dropout_forward<'a, F: Float>(
    drop: &Dropout,
    mask: &mut Vec<F>,
    out: &'a mut Vec<F>,
    x: &'a [F],
    steps: usize,
    batch: usize,
    seed: Option<DropoutSeed>,
) -> &'a [F] {
    match seed {
        Some(seed) if drop.rate > 0.0 => {
            let cols = x.len() / (steps * batch).max(1);
            resize(mask, x.len());
            resize(out, x.len());
            drop.sample_mask(mask, seed.seed, MaskShape { steps, batch, cols, first_sample: seed.first_sample });
            Dropout::forward(out, x, mask);
            out
        }
        _ => x,
    }
}

/// Backward of [`dropout_forward`]: `dx += dy ⊙ mask` when it was applied, else `dx += dy`.
pub(crate) fn dropout_backward<F: Float>(dx: &mut [F], dy: &[F], mask: &[F], applied: bool) {
    if applied {
        Dropout::backward(dx, dy, mask);
    } else {
        for (d, &v) in dx.iter_mut().zip(dy) {
            *d += v;
        }
    }
}
