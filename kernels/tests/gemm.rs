//! `gemm_f32` / `gemm_f64` (matrixmultiply behind the safe wrapper) against the naive
//! `scalar::gemm`: odd sizes including 0 and 1, transposes as stride swaps (`Mat::t`), row
//! strides larger than the column count, beta = 0 (old C, even NaN, must not leak), beta = 1
//! (accumulate), k = 0. And the wrapper's bounds checks.
//!
//! Tolerance: both sides are dot products of length k, each within (k + 1)·u of the exact
//! value relative to |alpha|·Σ|a||b| + |beta|·|c|, so they may differ by twice that;
//! we allow 2·(k + 2)·u of that sum (u = 2⁻²⁴ for f32, 2⁻⁵³ for f64).

use kubelstm_kernels::gemm::{b_row_stride, gemm_f32, gemm_f64, Mat, MatMut};
use kubelstm_kernels::{scalar, Float};
use proptest::prelude::*;

use crate::common::cases;

const PAD_SENTINEL: f64 = 12345.0;

#[derive(Clone, Debug)]
struct Case {
    m: usize,
    k: usize,
    n: usize,
    /// Store A (resp. B, C) transposed and view it through `.t()`.
    ta: bool,
    tb: bool,
    tc: bool,
    /// Extra elements at the end of every stored row.
    pads: [usize; 3],
    alpha: f64,
    beta: f64,
    seed: u64,
}

fn case(max: usize) -> impl Strategy<Value = Case> {
    (
        (0..=max, 0..=max, 0..=max),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        [0usize..3, 0usize..3, 0usize..3],
        prop_oneof![Just(1.0), Just(-0.5), Just(2.0)],
        prop_oneof![Just(0.0), Just(1.0), Just(0.5)],
        any::<u64>(),
    )
        .prop_map(|((m, k, n), (ta, tb, tc), pads, alpha, beta, seed)| Case {
            m,
            k,
            n,
            ta,
            tb,
            tc,
            pads,
            alpha,
            beta,
            seed,
        })
}

/// Deterministic values in [−1, 1).
fn fill(len: usize, seed: u64) -> Vec<f64> {
    let mut s = seed | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        })
        .collect()
}

/// Storage for a `(rows, cols)` view: stored rows of `inner` elements (+ pad) each.
struct Stored {
    len: usize,
    /// (outer, inner, stride): the stored shape.
    inner: usize,
    stride: usize,
    outer: usize,
}

fn stored(rows: usize, cols: usize, transposed: bool, pad: usize) -> Stored {
    let (outer, inner) = if transposed { (cols, rows) } else { (rows, cols) };
    let stride = inner + pad;
    Stored { len: outer * stride, inner, stride, outer }
}

fn view<'a, F: Copy>(data: &'a [F], rows: usize, cols: usize, transposed: bool, st: &Stored) -> Mat<'a, F> {
    if transposed {
        Mat::strided(data, cols, rows, st.stride).t()
    } else {
        Mat::strided(data, rows, cols, st.stride)
    }
}

fn view_mut<'a, F: Copy>(data: &'a mut [F], rows: usize, cols: usize, transposed: bool, st: &Stored) -> MatMut<'a, F> {
    if transposed {
        MatMut::strided(data, cols, rows, st.stride).t()
    } else {
        MatMut::strided(data, rows, cols, st.stride)
    }
}

fn is_pad(st: &Stored, idx: usize) -> bool {
    idx % st.stride >= st.inner || idx / st.stride >= st.outer
}

fn run<F: Float>(c: &Case, gemm: fn(F, Mat<'_, F>, Mat<'_, F>, F, MatMut<'_, F>), unit_roundoff: f64) {
    let (m, k, n) = (c.m, c.k, c.n);
    let (sa, sb, sc) = (stored(m, k, c.ta, c.pads[0]), stored(k, n, c.tb, c.pads[1]), stored(m, n, c.tc, c.pads[2]));
    let a: Vec<F> = fill(sa.len, c.seed).into_iter().map(F::from_f64).collect();
    let b: Vec<F> = fill(sb.len, c.seed ^ 0x9e37).into_iter().map(F::from_f64).collect();
    // Old C: NaN when beta = 0 (it must not be read), padding a sentinel (must not be written).
    let c0: Vec<F> = fill(sc.len, c.seed ^ 0x51ed)
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            if is_pad(&sc, i) {
                F::from_f64(PAD_SENTINEL)
            } else if c.beta == 0.0 {
                F::from_f64(f64::NAN)
            } else {
                F::from_f64(v)
            }
        })
        .collect();
    let (alpha, beta) = (F::from_f64(c.alpha), F::from_f64(c.beta));
    let (mut got, mut want) = (c0.clone(), c0.clone());
    gemm(alpha, view(&a, m, k, c.ta, &sa), view(&b, k, n, c.tb, &sb), beta, view_mut(&mut got, m, n, c.tc, &sc));
    scalar::gemm(
        alpha,
        view(&a, m, k, c.ta, &sa),
        view(&b, k, n, c.tb, &sb),
        beta,
        view_mut(&mut want, m, n, c.tc, &sc),
    );

    let (av, bv) = (view(&a, m, k, c.ta, &sa), view(&b, k, n, c.tb, &sb));
    let cv = view_mut(&mut got, m, n, c.tc, &sc);
    for i in 0..m {
        for j in 0..n {
            let idx = cv.index(i, j);
            let (g, w) = (cv.data[idx].to_f64(), want[idx].to_f64());
            let abs_sum: f64 = (0..k).map(|l| (av.at(i, l).to_f64() * bv.at(l, j).to_f64()).abs()).sum();
            let old = if c.beta == 0.0 { 0.0 } else { c0[idx].to_f64().abs() };
            let bound =
                2.0 * (k as f64 + 2.0) * unit_roundoff * (c.alpha.abs() * abs_sum + c.beta.abs() * old) + 1e-300;
            assert!(g.is_finite(), "{} C[{i}, {j}] = {g} is not finite ({c:?})", F::NAME);
            assert!((g - w).abs() <= bound, "{} C[{i}, {j}] = {g}, naive {w}, bound {bound:e} ({c:?})", F::NAME);
        }
    }
    for (idx, v) in cv.data.iter().enumerate() {
        if is_pad(&sc, idx) {
            assert_eq!(v.to_f64(), PAD_SENTINEL, "{} padding element {idx} of C was written ({c:?})", F::NAME);
        }
    }
}

proptest! {
    #![proptest_config(cases(160))]

    #[test]
    fn gemm_f32_matches_naive(c in case(19)) {
        run::<f32>(&c, gemm_f32, f32::EPSILON as f64 / 2.0);
    }

    #[test]
    fn gemm_f64_matches_naive(c in case(19)) {
        run::<f64>(&c, gemm_f64, f64::EPSILON / 2.0);
    }
}

/// Sizes past matrixmultiply's blocking (kc, mc, and the 16×16 AVX-512 tile) and LSTM-like
/// shapes, every transpose combination.
#[test]
fn gemm_large_and_lstm_shapes() {
    let shapes = [(33, 600, 45), (70, 65, 130), (32, 192, 64), (1, 300, 17), (17, 1, 300)];
    for (s, &(m, k, n)) in shapes.iter().enumerate() {
        for t in 0..8u64 {
            let c = Case {
                m,
                k,
                n,
                ta: t & 1 != 0,
                tb: t & 2 != 0,
                tc: t & 4 != 0,
                pads: [1, 0, 2],
                alpha: 1.0,
                beta: if t % 3 == 0 { 0.0 } else { 1.0 },
                seed: 7 + s as u64 * 8 + t,
            };
            run::<f32>(&c, gemm_f32, f32::EPSILON as f64 / 2.0);
            run::<f64>(&c, gemm_f64, f64::EPSILON / 2.0);
        }
    }
}

#[test]
fn k_zero_scales_c_by_beta() {
    let (a, b): ([f32; 0], [f32; 0]) = ([], []);
    let mut c = [f32::NAN, f32::INFINITY, 1.0, -2.0, 5.0, 6.0];
    gemm_f32(1.0, Mat::new(&a, 2, 0), Mat::new(&b, 0, 3), 0.0, MatMut::new(&mut c, 2, 3));
    assert_eq!(c, [0.0; 6], "beta = 0 overwrites C, NaN and ∞ included");
    let mut c = [1.0f64, -2.0, 3.0, 4.0];
    gemm_f64(1.0, Mat::new(&[], 2, 0), Mat::new(&[], 0, 2), 0.5, MatMut::new(&mut c, 2, 2));
    assert_eq!(c, [0.5, -1.0, 1.5, 2.0]);
    let mut c = [1.0f64, -2.0, 3.0, 4.0];
    gemm_f64(1.0, Mat::new(&[], 2, 0), Mat::new(&[], 0, 2), 1.0, MatMut::new(&mut c, 2, 2));
    assert_eq!(c, [1.0, -2.0, 3.0, 4.0], "beta = 1 keeps C");
}

#[test]
fn beta_one_accumulates() {
    let a = [1.0f32, 2.0, 3.0, 4.0];
    let b = [1.0f32, 0.0, 0.0, 1.0];
    let mut c = [10.0f32, 20.0, 30.0, 40.0];
    gemm_f32(1.0, Mat::new(&a, 2, 2), Mat::new(&b, 2, 2), 1.0, MatMut::new(&mut c, 2, 2));
    assert_eq!(c, [11.0, 22.0, 33.0, 44.0]);
    gemm_f32(1.0, Mat::new(&a, 2, 2).t(), Mat::new(&b, 2, 2), 1.0, MatMut::new(&mut c, 2, 2));
    assert_eq!(c, [12.0, 25.0, 35.0, 48.0], "Aᵀ = [[1, 3], [2, 4]]");
}

// ------------------------------------------------------------------------------- bounds checks

#[test]
#[should_panic(expected = "gemm: A view exceeds its slice")]
fn short_a_panics() {
    let mut c = [0.0f32; 4];
    gemm_f32(1.0, Mat::new(&[0.0; 5], 2, 3), Mat::new(&[0.0; 6], 3, 2), 0.0, MatMut::new(&mut c, 2, 2));
}

#[test]
#[should_panic(expected = "gemm: B view exceeds its slice")]
fn short_b_panics() {
    let mut c = [0.0f32; 4];
    gemm_f32(1.0, Mat::new(&[0.0; 6], 2, 3), Mat::new(&[0.0; 5], 3, 2), 0.0, MatMut::new(&mut c, 2, 2));
}

#[test]
#[should_panic(expected = "gemm: C view exceeds its slice")]
fn short_c_panics() {
    let mut c = [0.0f64; 3];
    gemm_f64(1.0, Mat::new(&[0.0; 6], 2, 3), Mat::new(&[0.0; 6], 3, 2), 0.0, MatMut::new(&mut c, 2, 2));
}

#[test]
#[should_panic(expected = "gemm: B view exceeds its slice")]
fn strided_view_past_the_end_panics() {
    // Rows 4 apart: the last row of a 3×3 view ends at 2·4 + 3 = 11 > 10.
    let mut c = [0.0f32; 9];
    gemm_f32(1.0, Mat::new(&[0.0; 9], 3, 3), Mat::strided(&[0.0; 10], 3, 3, 4), 0.0, MatMut::new(&mut c, 3, 3));
}

#[test]
#[should_panic(expected = "gemm: A view exceeds its slice")]
fn transposed_view_past_the_end_panics() {
    let mut c = [0.0f32; 6];
    // Stored (2, 3) with row stride 3 needs 6 elements; give 5, view the transpose (3, 2).
    let a = Mat::strided(&[0.0; 5], 2, 3, 3).t();
    gemm_f32(1.0, a, Mat::new(&[0.0; 4], 2, 2), 0.0, MatMut::new(&mut c, 3, 2));
}

#[test]
#[should_panic(expected = "gemm: A view exceeds its slice")]
fn huge_strides_do_not_wrap_past_the_check() {
    // (rows − 1)·rs = 2·2⁶³ wraps to 0 in usize arithmetic; the check must not be fooled.
    let a = Mat { data: &[0.0f32; 16], rows: 3, cols: 3, rs: (usize::MAX / 2) + 1, cs: 1 };
    let mut c = [0.0f32; 9];
    gemm_f32(1.0, a, Mat::new(&[0.0; 9], 3, 3), 0.0, MatMut::new(&mut c, 3, 3));
}

#[test]
#[should_panic(expected = "gemm: A is 2×3 but B is 2×2")]
fn mismatched_inner_dimension_panics() {
    let mut c = [0.0f32; 4];
    gemm_f32(1.0, Mat::new(&[0.0; 6], 2, 3), Mat::new(&[0.0; 4], 2, 2), 0.0, MatMut::new(&mut c, 2, 2));
}

#[test]
#[should_panic(expected = "gemm: C is 2×3, expected 2×2")]
fn wrong_c_shape_panics() {
    let mut c = [0.0f32; 6];
    gemm_f32(1.0, Mat::new(&[0.0; 4], 2, 2), Mat::new(&[0.0; 4], 2, 2), 0.0, MatMut::new(&mut c, 2, 3));
}

#[test]
#[should_panic(expected = "alias")]
fn aliasing_c_strides_panic() {
    let mut c = [0.0f32; 4];
    let cv = MatMut { data: &mut c, rows: 2, cols: 2, rs: 1, cs: 1 };
    gemm_f32(1.0, Mat::new(&[0.0; 4], 2, 2), Mat::new(&[0.0; 4], 2, 2), 0.0, cv);
}

// ------------------------------------------------------------------------------- micro-kernels
// The AVX2 and AVX-512 micro-kernels of `simd::gemm`, called directly (whatever dispatch
// picks on this machine), on sizes spanning several 8×32 / 6×16 blocks with remainders.

mod micro_kernels {
    use super::*;
    use kubelstm_kernels::gemm::check_shapes;
    use kubelstm_kernels::simd::gemm as micro;
    use kubelstm_kernels::Isa;

    fn via(isa: Isa, alpha: f32, a: Mat<'_, f32>, b: Mat<'_, f32>, beta: f32, mut c: MatMut<'_, f32>) {
        check_shapes(&a, &b, &c);
        if !micro::gemm(isa, alpha, &a, &b, beta, &mut c) {
            // Layouts the micro-kernels do not take (B or C transposed) go to matrixmultiply.
            assert!(!micro::applicable(&b, &c) || c.rows == 0 || c.cols == 0, "{isa:?} refused an applicable product");
            gemm_f32(alpha, a, b, beta, c);
        }
    }
    fn avx512(alpha: f32, a: Mat<'_, f32>, b: Mat<'_, f32>, beta: f32, c: MatMut<'_, f32>) {
        via(Isa::Avx512, alpha, a, b, beta, c)
    }
    fn avx2(alpha: f32, a: Mat<'_, f32>, b: Mat<'_, f32>, beta: f32, c: MatMut<'_, f32>) {
        via(Isa::Avx2Fma, alpha, a, b, beta, c)
    }
    type Gemm = fn(f32, Mat<'_, f32>, Mat<'_, f32>, f32, MatMut<'_, f32>);
    fn supported() -> Vec<(Isa, Gemm)> {
        [(Isa::Avx512, avx512 as Gemm), (Isa::Avx2Fma, avx2 as Gemm)]
            .into_iter()
            .filter(|(i, _)| i.is_supported())
            .collect()
    }

    proptest! {
        #![proptest_config(cases(48))]

        #[test]
        fn match_naive(c in case(70)) {
            for (_, gemm) in supported() {
                run::<f32>(&c, gemm, f32::EPSILON as f64 / 2.0);
            }
        }

        /// Products with B = Wᵀ (W's rows contiguous) run as dot products; a row of C is
        /// still independent of the other rows, and of the other columns too.
        #[test]
        fn transposed_b_rows_and_columns_are_independent(m in 1usize..20, k in 0usize..70, n in 1usize..20, seed in any::<u64>()) {
            let a: Vec<f32> = fill(m * k, seed).into_iter().map(|v| v as f32).collect();
            let w: Vec<f32> = fill(n * k, seed ^ 5).into_iter().map(|v| v as f32).collect();
            for (isa, _) in supported() {
                let mut all = vec![0.0f32; m * n];
                via(isa, 1.0, Mat::new(&a, m, k), Mat::new(&w, n, k).t(), 0.0, MatMut::new(&mut all, m, n));
                let (i, j) = (m - 1, n / 2);
                let mut one = [0.0f32];
                via(isa, 1.0, Mat::new(&a[i * k..(i + 1) * k], 1, k), Mat::new(&w[j * k..(j + 1) * k], 1, k).t(), 0.0, MatMut::new(&mut one, 1, 1));
                prop_assert_eq!(one[0].to_bits(), all[i * n + j].to_bits(), "{:?}: C[{}, {}] differs alone", isa, i, j);
            }
        }

        /// A row of C has the same bits computed alone as inside any batch: what makes a
        /// streamed window score exactly like the same window in a batch.
        #[test]
        fn a_row_does_not_depend_on_the_other_rows(m in 1usize..40, k in 0usize..70, n in 1usize..70, beta in prop_oneof![Just(0.0f32), Just(1.0)], seed in any::<u64>()) {
            let a: Vec<f32> = fill(m * k, seed).into_iter().map(|v| v as f32).collect();
            let b: Vec<f32> = fill(k * n, seed ^ 7).into_iter().map(|v| v as f32).collect();
            let c0: Vec<f32> = fill(m * n, seed ^ 9).into_iter().map(|v| v as f32).collect();
            for (isa, _) in supported() {
                let mut all = c0.clone();
                via(isa, 1.0, Mat::new(&a, m, k), Mat::new(&b, k, n), beta, MatMut::new(&mut all, m, n));
                for i in 0..m {
                    let mut one = c0[i * n..(i + 1) * n].to_vec();
                    via(isa, 1.0, Mat::new(&a[i * k..(i + 1) * k], 1, k), Mat::new(&b, k, n), beta, MatMut::new(&mut one, 1, n));
                    let same = one.iter().zip(&all[i * n..(i + 1) * n]).all(|(x, y)| x.to_bits() == y.to_bits());
                    prop_assert!(same, "{isa:?}: row {i} of {m} differs when computed alone");
                }
            }
        }
    }

    /// The first of `rows` of A (m, k) · B (k, n) whose bits differ when that row is
    /// multiplied alone instead of inside the whole product (β = 0); None when all agree.
    fn first_row_differing_alone(
        isa: Isa,
        a: &[f32],
        b: &[f32],
        (m, k, n): (usize, usize, usize),
        rows: &[usize],
    ) -> Option<usize> {
        let mut all = vec![0.0f32; m * n];
        via(isa, 1.0, Mat::new(a, m, k), Mat::new(b, k, n), 0.0, MatMut::new(&mut all, m, n));
        rows.iter().copied().find(|&i| {
            let mut one = vec![0.0f32; n];
            via(isa, 1.0, Mat::new(&a[i * k..(i + 1) * k], 1, k), Mat::new(b, k, n), 0.0, MatMut::new(&mut one, 1, n));
            !one.iter().zip(&all[i * n..(i + 1) * n]).all(|(x, y)| x.to_bits() == y.to_bits())
        })
    }

    /// K beyond one K block (256): the blocks accumulate into C, rows stay independent.
    #[test]
    fn long_k_spans_several_blocks() {
        for &(m, k, n) in &[(9usize, 257usize, 33usize), (3, 513, 40), (17, 600, 70), (1, 1024, 129)] {
            for beta in [0.0, 1.0] {
                let case = Case {
                    m,
                    k,
                    n,
                    ta: false,
                    tb: false,
                    tc: false,
                    pads: [1, 0, 2],
                    alpha: 1.0,
                    beta,
                    seed: (m * k) as u64,
                };
                for (_, gemm) in supported() {
                    run::<f32>(&case, gemm, f32::EPSILON as f64 / 2.0);
                }
            }
            let a: Vec<f32> = fill(m * k, 3).into_iter().map(|v| v as f32).collect();
            let b: Vec<f32> = fill(k * n, 4).into_iter().map(|v| v as f32).collect();
            for (isa, _) in supported() {
                let differs = first_row_differing_alone(isa, &a, &b, (m, k, n), &[m - 1]);
                assert_eq!(differs, None, "{isa:?} k={k}");
            }
        }
    }
    /// Sizes past the AVX2 kernel's row chunks (96 rows) and its widest panels (one row:
    /// 96 columns; two: 48): against the naive loop, and each row alone has the same bits.
    #[test]
    fn row_chunks_and_wide_panels() {
        let sizes = [(97usize, 33usize, 97usize), (200, 20, 50), (101, 7, 193), (1, 40, 200), (2, 9, 100), (5, 3, 513)];
        for &(m, k, n) in &sizes {
            for beta in [0.0, 1.0] {
                let case = Case {
                    m,
                    k,
                    n,
                    ta: false,
                    tb: false,
                    tc: false,
                    pads: [0, 3, 1],
                    alpha: 0.5,
                    beta,
                    seed: (m + n) as u64,
                };
                for (_, gemm) in supported() {
                    run::<f32>(&case, gemm, f32::EPSILON as f64 / 2.0);
                }
            }
            let a: Vec<f32> = fill(m * k, 11).into_iter().map(|v| v as f32).collect();
            let b: Vec<f32> = fill(k * n, 12).into_iter().map(|v| v as f32).collect();
            for (isa, _) in supported() {
                let differs = first_row_differing_alone(isa, &a, &b, (m, k, n), &[0, m / 2, m - 1]);
                assert_eq!(differs, None, "{isa:?} {m}×{k}×{n}: this row differs when computed alone");
            }
        }
    }
}

/// The register-tiled transpose against the plain loop, for every size up to 3 tiles, a
/// dense and a padded destination stride, and every instruction set that has one; the
/// padding between destination rows is left untouched.
#[test]
fn transpose_matches_the_plain_loop() {
    use kubelstm_kernels::gemm::transpose_scalar;
    use kubelstm_kernels::simd::gemm::transpose;
    use kubelstm_kernels::Isa;
    const UNTOUCHED: f32 = -777.0;
    for rows in 0..26 {
        for cols in 0..26 {
            for stride in [rows, rows + 3, b_row_stride(rows)] {
                let src: Vec<f32> = (0..rows * cols).map(|i| i as f32 * 0.5 - 3.0).collect();
                let len = if cols == 0 { 0 } else { (cols - 1) * stride + rows };
                let mut want = vec![UNTOUCHED; len];
                transpose_scalar(&mut want, stride, &src, rows, cols);
                for (i, &v) in want.iter().enumerate() {
                    let (c, r) = (i / stride.max(1), i % stride.max(1));
                    let expected = if r < rows { src[r * cols + c] } else { UNTOUCHED };
                    assert_eq!(v, expected, "{rows}×{cols} at stride {stride}, element {i}");
                }
                for isa in Isa::ALL.into_iter().filter(|i| i.is_supported()) {
                    let mut got = vec![UNTOUCHED; len];
                    if transpose(isa, &mut got, stride, &src, rows, cols) {
                        assert_eq!(got, want, "{isa:?} {rows}×{cols} at stride {stride}");
                    }
                }
            }
        }
    }
}

/// The stride for B: whole 64-byte lines of f32, an odd number of them, never shorter.
#[test]
fn b_row_stride_is_an_odd_number_of_lines() {
    for cols in 0..2000 {
        let s = b_row_stride(cols);
        assert!(s >= cols && s.is_multiple_of(16) && !(s / 16).is_multiple_of(2) && s < cols + 32, "{cols} → {s}");
    }
    assert_eq!(b_row_stride(512), 528);
}
