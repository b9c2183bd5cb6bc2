//! Activations at special and extreme inputs, and an accuracy sweep over the whole f32 range.

use kubelstm_testkit::kernels::{check_activations, check_lstm_cell_forward, check_softmax_rows, ACT_TOL};
use kubelstm_kernels::scalar;

use crate::common::*;

const SPECIALS: [f32; 40] = [
    0.0,
    -0.0,
    f32::INFINITY,
    f32::NEG_INFINITY,
    f32::NAN,
    1e30,
    -1e30,
    f32::MAX,
    f32::MIN,
    f32::MIN_POSITIVE,
    -f32::MIN_POSITIVE,
    1e-40,
    -1e-40,
    1e-8,
    -1e-8,
    0.625,
    -0.625,
    0.624_999_9,
    -0.624_999_9,
    9.0,
    -9.0,
    15.0,
    -15.0,
    44.0,
    -44.0,
    87.0,
    -87.0,
    87.34,
    -87.34,
    88.8,
    -88.8,
    100.0,
    -100.0,
    104.0,
    -104.0,
    1e5,
    -1e5,
    0.5,
    -0.5,
    1.0,
];

#[test]
fn activations_at_special_values() {
    for k in simd_paths() {
        check_activations(k, &SPECIALS);
        let mut s = SPECIALS;
        k.sigmoid_inplace(&mut s);
        let mut t = SPECIALS;
        k.tanh_inplace(&mut t);
        for ((&x, &sv), &tv) in SPECIALS.iter().zip(&s).zip(&t) {
            let isa = k.isa().name();
            if x.is_nan() {
                assert!(sv.is_nan() && tv.is_nan(), "[{isa}] NaN must propagate");
                continue;
            }
            // Finite, and in range, for every non-NaN input.
            assert!((0.0..=1.0).contains(&sv), "[{isa}] sigmoid({x:e}) = {sv:e}");
            assert!((-1.0..=1.0).contains(&tv), "[{isa}] tanh({x:e}) = {tv:e}");
        }
        let mut ends = [f32::INFINITY, f32::NEG_INFINITY, 1e30, -1e30];
        k.sigmoid_inplace(&mut ends);
        assert_eq!(ends, [1.0, 0.0, 1.0, 0.0], "[{}] sigmoid at the ends", k.isa().name());
        let mut ends = [f32::INFINITY, f32::NEG_INFINITY, 1e30, -1e30];
        k.tanh_inplace(&mut ends);
        assert_eq!(ends, [1.0, -1.0, 1.0, -1.0], "[{}] tanh at the ends", k.isa().name());
        let mut relu = [-0.0f32, f32::NAN, -1.0, 2.0];
        k.relu_inplace(&mut relu);
        assert!(relu[0].to_bits() == (-0.0f32).to_bits() && relu[1].is_nan() && relu[2] == 0.0 && relu[3] == 2.0);
    }
}

/// Every 509th bit pattern of the f32 range (8.4 M values, all exponents, both signs):
/// sigmoid and tanh stay within 1e-6·|ref| + MIN_POSITIVE of the std-based reference. Prints
/// the largest error seen, in units of the tolerance.
#[test]
fn activations_sweep_the_f32_range() {
    let x: Vec<f32> = (0..u32::MAX / 509).map(|i| f32::from_bits(i * 509)).filter(|v| !v.is_nan()).collect();
    let (mut sig, mut th) = (x.clone(), x.clone());
    scalar::sigmoid_inplace(&mut sig);
    scalar::tanh_inplace(&mut th);
    for k in simd_paths() {
        for (name, reference, f) in [
            ("sigmoid", &sig, kubelstm_kernels::simd::Kernels::sigmoid_inplace as fn(&_, &mut [f32])),
            ("tanh", &th, kubelstm_kernels::simd::Kernels::tanh_inplace),
        ] {
            let mut got = x.clone();
            f(&k, &mut got);
            let (mut worst, mut worst_at, mut worst_rel) = (0.0f64, 0usize, 0.0f64);
            for (i, (&g, &w)) in got.iter().zip(reference.iter()).enumerate() {
                let err = (g as f64 - w as f64).abs();
                let ratio = err / (ACT_TOL as f64 * (w.abs() as f64) + f32::MIN_POSITIVE as f64);
                if ratio > worst {
                    (worst, worst_at) = (ratio, i);
                }
                if w.abs() >= f32::MIN_POSITIVE {
                    worst_rel = worst_rel.max(err / w.abs() as f64);
                }
            }
            eprintln!(
                "{name} [{}]: max relative error {worst_rel:.2e} ({:.2} ulp); worst vs tolerance {worst:.3} at x = {:e}",
                k.isa().name(),
                worst_rel / f32::EPSILON as f64,
                x[worst_at]
            );
            assert!(worst <= 1.0, "{name} [{}] exceeds 1e-6 relative at x = {:e}", k.isa().name(), x[worst_at]);
        }
    }
}

#[test]
fn softmax_with_infinities_and_masks() {
    for k in simd_paths() {
        // A −∞ entry (a masked key) gets exactly zero weight.
        let mut row = [f32::NEG_INFINITY, 0.0, 1.0, f32::NEG_INFINITY, 2.0];
        k.softmax_rows(&mut row, 5);
        assert_eq!((row[0], row[3]), (0.0, 0.0), "[{}]", k.isa().name());
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        // Rows with NaN or +∞, or all −∞, are NaN throughout, as in the reference.
        let rows = [
            [f32::NAN, 0.0, 1.0, 2.0, 3.0],
            [0.0, 1.0, f32::NAN, 2.0, 3.0],
            [0.0, f32::INFINITY, 1.0, 2.0, 3.0],
            [f32::NEG_INFINITY; 5],
            [1e30, -1e30, 0.0, 3e38, -3e38],
        ];
        let x: Vec<f32> = rows.iter().flatten().copied().collect();
        check_softmax_rows(k, &x, 5);
        check_softmax_rows(k, &x[..17], 17);
    }
}

/// Saturated gates and huge states: finite, in range, and as the reference.
#[test]
fn lstm_cell_at_extremes() {
    let pre = [1e30f32, -1e30, f32::INFINITY, f32::NEG_INFINITY, 88.8, -88.8, 0.0, 1e-40, 20.0, -20.0, 5.0];
    let hidden = pre.len();
    // Every combination of position: gate q of unit j takes pre[(j + 3q) % len].
    let gates: Vec<f32> = (0..4).flat_map(|q| (0..hidden).map(move |j| pre[(j + 3 * q) % hidden])).collect();
    let c_prev: Vec<f32> = (0..hidden).map(|j| [1e30f32, -3.0, 0.0, 1e-30][j % 4]).collect();
    for k in simd_paths() {
        check_lstm_cell_forward(k, &gates, &c_prev, hidden);
        let (mut g, mut c, mut h) = (gates.clone(), vec![0.0; hidden], vec![0.0; hidden]);
        k.lstm_cell_forward(&mut g, &mut c, &mut h, &c_prev, hidden);
        assert!(
            g.iter().chain(&h).all(|v| v.is_finite() && v.abs() <= 1.0),
            "[{}] gates/h out of range",
            k.isa().name()
        );
        assert!(c.iter().all(|v| v.is_finite()), "[{}] c not finite", k.isa().name());
    }
}
