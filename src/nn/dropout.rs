//! Inverted dropout, training only: `y = x ⊙ m`, `m ∈ {0, 1/(1−p)}`;  `dx += dy ⊙ m`.
//!
//! The mask of an element is a pure function of (step seed, layer id, sample, time step,
//! column): 16 bits of SplitMix64 of a counter (one hash serves four adjacent columns). So a
//! sample gets the same mask whichever batch shard or thread it lands in, training is
//! reproducible from `--seed`, and a gradient check can replay the exact mask of a forward
//! pass.

use crate::Float;

#[derive(Clone, Copy, Debug)]
pub struct Dropout {
    /// Probability of dropping an element, in [0, 1).
    pub rate: f64,
    /// Distinguishes the dropout layers of one model so their masks differ.
    pub id: u64,
}

/// Where a `(T, B, C)` time-major buffer sits in the whole batch, for mask addressing.
#[derive(Clone, Copy, Debug)]
pub struct MaskShape {
    pub steps: usize,
    pub batch: usize,
    pub cols: usize,
    /// Index of this shard's first sample in the whole batch.
    pub first_sample: usize,
}

/// SplitMix64 finaliser (Steele, Lea, Flood 2014).
#[inline(always)]
fn splitmix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Dropout {
    pub fn new(rate: f64, id: u64) -> Self {
        assert!((0.0..1.0).contains(&rate), "dropout rate {rate} outside [0, 1)");
        Dropout { rate, id }
    }

    /// Fills `mask (T, B, C)` for the step seeded by `seed`.
    pub fn sample_mask<F: Float>(&self, mask: &mut [F], seed: u64, shape: MaskShape) {
        let MaskShape { steps, batch, cols, first_sample } = shape;
        assert_eq!(mask.len(), steps * batch * cols, "dropout mask has wrong length");
        let keep_scale = F::from_f64(1.0 / (1.0 - self.rate));
        // Each 64-bit hash gives four 16-bit uniforms, one per element of a group of four
        // columns; keep an element when its uniform is ≥ rate (resolution 2⁻¹⁶).
        let threshold = (self.rate * 65536.0).round() as u64;
        let base = seed ^ splitmix64(self.id.wrapping_add(0x5DEE_CE66_D1CE_4E5B));
        let groups = cols.div_ceil(4) as u64;
        for t in 0..steps {
            for b in 0..batch {
                let sample = (first_sample + b) as u64;
                let row = (sample * steps as u64 + t as u64) * groups;
                let out = &mut mask[(t * batch + b) * cols..(t * batch + b + 1) * cols];
                for (g, four) in out.chunks_mut(4).enumerate() {
                    let z = splitmix64(base.wrapping_add((row + g as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)));
                    for (k, m) in four.iter_mut().enumerate() {
                        let u = (z >> (16 * k)) & 0xFFFF;
                        *m = if u >= threshold { keep_scale } else { F::ZERO };
                    }
                }
            }
        }
    }

    /// `y = x ⊙ mask`.
    pub fn forward<F: Float>(y: &mut [F], x: &[F], mask: &[F]) {
        assert!(y.len() == x.len() && x.len() == mask.len(), "dropout forward: length mismatch");
        for ((o, &v), &m) in y.iter_mut().zip(x).zip(mask) {
            *o = v * m;
        }
    }

    /// `dx += dy ⊙ mask`.
    pub fn backward<F: Float>(dx: &mut [F], dy: &[F], mask: &[F]) {
        assert!(dx.len() == dy.len() && dy.len() == mask.len(), "dropout backward: length mismatch");
        for ((d, &g), &m) in dx.iter_mut().zip(dy).zip(mask) {
            *d += g * m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_keeps_the_expected_fraction_and_scales_survivors() {
        let drop = Dropout::new(0.3, 1);
        let shape = MaskShape { steps: 10, batch: 32, cols: 128, first_sample: 0 };
        let mut mask = vec![0.0f64; 10 * 32 * 128];
        drop.sample_mask(&mut mask, 42, shape);
        let kept = mask.iter().filter(|&&m| m > 0.0).count() as f64 / mask.len() as f64;
        assert!((kept - 0.7).abs() < 0.01, "kept fraction {kept}");
        assert!(mask.iter().all(|&m| m == 0.0 || (m - 1.0 / 0.7).abs() < 1e-12));
    }

    #[test]
    fn a_sample_has_the_same_mask_in_any_shard() {
        let drop = Dropout::new(0.5, 7);
        let (steps, cols) = (3, 5);
        let mut whole = vec![0.0f32; steps * 4 * cols];
        drop.sample_mask(&mut whole, 9, MaskShape { steps, batch: 4, cols, first_sample: 0 });
        let mut shard = vec![0.0f32; steps * 2 * cols];
        drop.sample_mask(&mut shard, 9, MaskShape { steps, batch: 2, cols, first_sample: 2 });
        for t in 0..steps {
            for b in 0..2 {
                let a = &whole[(t * 4 + b + 2) * cols..(t * 4 + b + 3) * cols];
                let s = &shard[(t * 2 + b) * cols..(t * 2 + b + 1) * cols];
                assert_eq!(a, s);
            }
        }
        let mut other_seed = vec![0.0f32; whole.len()];
        drop.sample_mask(&mut other_seed, 10, MaskShape { steps, batch: 4, cols, first_sample: 0 });
        assert_ne!(whole, other_seed);
    }
}
