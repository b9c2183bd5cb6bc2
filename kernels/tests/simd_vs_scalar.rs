//! Every SIMD kernel, on every instruction set the CPU supports, against the scalar
//! reference: lengths 0..=67 (so every tail length of 8- and 16-lane vectors occurs, and
//! several full vectors), offsets 0..4 (misaligned sub-slices, for inputs and outputs).
//!
//! Tolerances (see `kubelstm_testkit::kernels` for the derivations), u = 2⁻²⁴:
//! - bit-identical: ReLU, relu/sigmoid/tanh backward, add_bias_rows, column_sums, Adam,
//!   layer-norm dγ and dβ (same IEEE operations in the same order, no FMA);
//! - sigmoid, tanh (and the gates of the LSTM cell): 1e-6·|ref| + f32::MIN_POSITIVE;
//! - LSTM cell c, h and the whole backward: 4e-6 × the expression's absolute-value bound;
//! - softmax, layer norm: (16 + 2n)·u × the bound, n the row length (summation order).

use kubelstm_testkit::kernels::*;
use proptest::prelude::*;

use crate::common::*;

proptest! {
    #![proptest_config(cases(96))]

    #[test]
    fn activations(x in (0usize..=67).prop_flat_map(|n| values(n, 10.0)), off in 0usize..4) {
        let buf = at_offset(&x, off);
        for k in simd_paths() {
            check_activations(k, &buf[off..]);
        }
    }

    /// Any bit pattern: NaN, ±∞, subnormals, ±f32::MAX.
    #[test]
    fn activations_any_f32(x in prop::collection::vec(any::<f32>(), 0..=67), off in 0usize..4) {
        let buf = at_offset(&x, off);
        for k in simd_paths() {
            check_activations(k, &buf[off..]);
        }
    }

    #[test]
    fn activation_backward(
        (dx, dy, y) in (0usize..=67).prop_flat_map(|n| (values(n, 3.0), values(n, 3.0), values(n, 1.0))),
        off in 0usize..4,
    ) {
        let buf = at_offset(&dx, off);
        for k in simd_paths() {
            check_activation_backward(k, &buf[off..], &dy, &y);
        }
    }

    #[test]
    fn bias_and_column_sums(
        (y, bias) in (0usize..5, 1usize..=67).prop_flat_map(|(r, c)| (values(r * c, 5.0), values(c, 5.0))),
        off in 0usize..4,
    ) {
        let buf = at_offset(&y, off);
        for k in simd_paths() {
            check_bias(k, &buf[off..], &bias);
        }
    }

    #[test]
    fn lstm_cell_forward(
        (hidden, gates, c_prev) in (0usize..=3, 1usize..=67)
            .prop_flat_map(|(b, h)| (Just(h), values(4 * b * h, 4.0), values(b * h, 2.0))),
        off in 0usize..4,
    ) {
        let buf = at_offset(&gates, off);
        for k in simd_paths() {
            check_lstm_cell_forward(k, &buf[off..], &c_prev, hidden);
        }
    }

    #[test]
    fn lstm_cell_backward(
        (hidden, gates, st) in (0usize..=3, 1usize..=67).prop_flat_map(|(b, h)| {
            // Activated gates: i, f, o in [0, 1]; g in [−1, 1] (drawn in [0, 1] and mapped).
            (Just(h), prop::collection::vec(unit(), 4 * b * h), values(4 * b * h, 2.0))
        }),
        off in 0usize..4,
    ) {
        let mut gates = gates;
        for (e, g) in gates.iter_mut().enumerate() {
            if (e / hidden) % 4 == 2 {
                *g = 2.0 * *g - 1.0;
            }
        }
        let n = gates.len() / 4;
        let (c_prev, c, dh, dc) = (&st[..n], &st[n..2 * n], &st[2 * n..3 * n], &st[3 * n..]);
        let buf = at_offset(&gates, off);
        for k in simd_paths() {
            check_lstm_cell_backward(k, &buf[off..], c_prev, c, dh, dc, hidden);
        }
    }

    #[test]
    fn softmax_rows(
        (cols, x) in (0usize..=4, 1usize..=67).prop_flat_map(|(r, c)| (Just(c), values(r * c, 8.0))),
        off in 0usize..4,
    ) {
        let buf = at_offset(&x, off);
        for k in simd_paths() {
            check_softmax_rows(k, &buf[off..], cols);
        }
    }

    #[test]
    fn softmax_rows_backward(
        (cols, dx, dy, y) in (0usize..=4, 1usize..=67).prop_flat_map(|(r, c)| {
            (Just(c), values(r * c, 2.0), values(r * c, 2.0), prop::collection::vec(unit(), r * c))
        }),
        off in 0usize..4,
    ) {
        let buf = at_offset(&dx, off);
        for k in simd_paths() {
            check_softmax_rows_backward(k, &buf[off..], &dy, &y, cols);
        }
    }

    #[test]
    fn layer_norm_forward(
        (x, gamma, beta) in (0usize..=4, 1usize..=67)
            .prop_flat_map(|(r, c)| (values(r * c, 5.0), values(c, 2.0), values(c, 2.0))),
        eps in prop_oneof![Just(1e-3f32), Just(1e-5f32), 1e-6f32..1.0],
        off in 0usize..4,
    ) {
        let buf = at_offset(&x, off);
        for k in simd_paths() {
            check_layer_norm_forward(k, &buf[off..], &gamma, &beta, eps);
        }
    }

    #[test]
    fn layer_norm_backward(
        (x, dy, dx, gamma, dg, db) in (0usize..=4, 1usize..=67).prop_flat_map(|(r, c)| {
            (values(r * c, 5.0), values(r * c, 2.0), values(r * c, 2.0), values(c, 2.0), values(c, 2.0), values(c, 2.0))
        }),
        eps in prop_oneof![Just(1e-3f32), 1e-6f32..1.0],
        off in 0usize..4,
    ) {
        let buf = at_offset(&x, off);
        for k in simd_paths() {
            check_layer_norm_backward(k, &dx, &dg, &db, &dy, &buf[off..], &gamma, eps);
        }
    }

    #[test]
    fn adam(
        (p, m, v, g) in (0usize..=67).prop_flat_map(|n| {
            (values(n, 1.0), values(n, 0.1), prop::collection::vec(0.0f32..0.01, n), values(n, 1.0))
        }),
        alpha in 1e-5f32..1e-1,
        beta1 in 0.5f32..0.999,
        beta2 in 0.9f32..0.99999,
        eps in prop_oneof![Just(1e-7f32), 1e-9f32..1e-3],
        off in 0usize..4,
    ) {
        let buf = at_offset(&p, off);
        for k in simd_paths() {
            check_adam(k, &buf[off..], &m, &v, &g, alpha, beta1, beta2, eps);
        }
    }
}

/// Shapes with nothing in them are no-ops, as in the reference.
#[test]
fn empty_inputs() {
    for k in simd_paths() {
        check_activations(k, &[]);
        check_activation_backward(k, &[], &[], &[]);
        check_bias(k, &[], &[]);
        check_lstm_cell_forward(k, &[], &[], 0);
        check_lstm_cell_forward(k, &[], &[], 5);
        check_lstm_cell_backward(k, &[], &[], &[], &[], &[], 0);
        check_softmax_rows(k, &[], 3);
        check_softmax_rows_backward(k, &[], &[], &[], 3);
        check_layer_norm_forward(k, &[], &[1.0, 2.0], &[0.0, 0.0], 1e-3);
        check_layer_norm_backward(k, &[], &[0.0; 2], &[0.0; 2], &[], &[], &[1.0, 2.0], 1e-3);
        check_adam(k, &[], &[], &[], &[], 1e-3, 0.9, 0.999, 1e-7);
    }
}

/// The SIMD kernels keep the reference's shape checks.
#[test]
#[should_panic(expected = "lstm_cell_forward: state length")]
fn cell_forward_rejects_a_short_state() {
    let k = simd_paths().pop().expect("wide is always supported");
    let (mut g, mut c, mut h) = (vec![0.0; 8], vec![0.0; 2], vec![0.0; 1]);
    k.lstm_cell_forward(&mut g, &mut c, &mut h, &[0.0; 2], 2);
}

#[test]
#[should_panic(expected = "softmax_rows: length 7 not a multiple of 3")]
fn softmax_rejects_a_ragged_row() {
    let k = simd_paths().pop().expect("wide is always supported");
    k.softmax_rows(&mut [0.0; 7], 3);
}

#[test]
#[should_panic(expected = "adam_update: p, m, v, g differ in length")]
fn adam_rejects_mismatched_lengths() {
    let k = simd_paths().pop().expect("wide is always supported");
    k.adam_update(&mut [0.0; 9], &mut [0.0; 9], &mut [0.0; 9], &[0.0; 8], 1e-3, 0.9, 0.999, 1e-7);
}
