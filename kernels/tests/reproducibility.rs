//! Bit-identical results regardless of position: an element alone or inside a slice, a batch
//! row alone or inside a batch (so a window scored alone or in a batch gives the same f32s).

use kubelstm_testkit::kernels::{check_cell_invariance, check_elementwise_invariance, check_row_invariance};
use kubelstm_kernels::gemm::{gemm_f32, Mat, MatMut};
use proptest::prelude::*;

use crate::common::*;

proptest! {
    #![proptest_config(cases(48))]

    #[test]
    fn elementwise_kernels_are_position_independent(x in (0usize..=67).prop_flat_map(|n| values(n, 10.0))) {
        for k in simd_paths() {
            check_elementwise_invariance(k, &x);
        }
    }

    #[test]
    fn lstm_cell_is_position_independent(
        (hidden, gates, st) in (1usize..=3, 1usize..=40)
            .prop_flat_map(|(b, h)| (Just(h), values(4 * b * h, 4.0), values(3 * b * h, 2.0))),
    ) {
        let n = gates.len() / 4;
        for k in simd_paths() {
            check_cell_invariance(k, &gates, &st[..n], &st[n..2 * n], &st[2 * n..], hidden);
        }
    }

    #[test]
    fn row_kernels_are_independent_of_other_rows(
        (cols, x, dy) in (1usize..=5, 1usize..=67).prop_flat_map(|(r, c)| (Just(c), values(r * c, 5.0), values(r * c, 2.0))),
    ) {
        for k in simd_paths() {
            check_row_invariance(k, &x, &dy, cols);
        }
    }
}

/// The LSTM input projection `x (B, I) · W_ihᵀ (I, 4H)` through `gemm_f32`: each row of the
/// batch product is bit-identical to the product of that row alone. matrixmultiply
/// accumulates every C element over k in the same order whatever m is, and this pins it.
#[test]
fn gemm_rows_do_not_depend_on_the_batch() {
    let (batch, inputs, outputs) = (9, 37, 4 * 19);
    let x: Vec<f32> = (0..batch * inputs).map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0).collect();
    let w: Vec<f32> = (0..outputs * inputs).map(|i| ((i * 104_729) % 1000) as f32 / 700.0 - 0.7).collect();
    let mut all = vec![0.0f32; batch * outputs];
    gemm_f32(
        1.0,
        Mat::new(&x, batch, inputs),
        Mat::new(&w, outputs, inputs).t(),
        0.0,
        MatMut::new(&mut all, batch, outputs),
    );
    for b in 0..batch {
        let mut one = vec![0.0f32; outputs];
        let row = &x[b * inputs..(b + 1) * inputs];
        gemm_f32(
            1.0,
            Mat::new(row, 1, inputs),
            Mat::new(&w, outputs, inputs).t(),
            0.0,
            MatMut::new(&mut one, 1, outputs),
        );
        let same = one.iter().zip(&all[b * outputs..(b + 1) * outputs]).all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same, "row {b} of the batch product differs from the row alone");
    }
}
