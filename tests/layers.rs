//! Gradient audit of every layer, under proptest.
//!
//! For each layer and a random point (shapes drawn small and often odd, values from a seeded
//! RNG whose seed proptest draws), with the loss L = ⟨r, y⟩ for a random r:
//! - the f64 analytic gradient (the hand-written backward pass) of every parameter and of
//!   the input matches [`numeric_gradient`], the sixth-order central difference of the *same
//!   generic forward pass* run in double-double, to `gradcheck::TOLERANCE` (1e-6) in
//!   [`relative_error`] = |a − n| / max(|a|, |n|, 1e-6). Observed: ~1e-10 and below.
//! - backward accumulates: two backward calls on one forward pass's cache give exactly
//!   twice the gradient of one (to 1e-12 relative), into the parameters and into dx.
//! - the f32 forward pass matches the f64 one to 1e-5 in |y₃₂ − y₆₄| / max(1, |y₆₄|).
//!
//! The losses start backpropagation, so they are checked on their own: value against the
//! direct formula evaluated in double-double, gradient against the numeric one and the
//! closed form. ReLU inputs are drawn at least 1e-3 from the kink (the stencil spans
//! ±3e-5), so the finite difference never crosses it.

use std::cell::Cell;

use kubelstm::gradcheck::{numeric_gradient, relative_error, DoubleDouble, TOLERANCE};
use kubelstm::nn::activation::Activation;
use kubelstm::nn::concat::{concat_backward, concat_forward};
use kubelstm::nn::dropout::MaskShape;
use kubelstm::nn::loss::{mse, weighted_bce_with_logits};
use kubelstm::nn::repeat::{repeat_backward, repeat_forward};
use kubelstm::nn::{
    AttentionCache, BiLstm, BiLstmCache, Dense, Dropout, LayerNorm, LayerNormCache, Lstm, LstmCache, LstmOutput,
    SelfAttention,
};
use kubelstm::params::{convert, standard_normal, ParamLayout};
use kubelstm::Float;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

type Dd = DoubleDouble;

/// Bound of the accumulation check: the second backward adds the same numbers again.
const ACCUMULATE_TOL: f64 = 1e-12;
/// Bound of the f32 forward pass against f64.
const F32_TOL: f64 = 1e-5;

// ------------------------------------------------------------------ the harness

/// A layer under audit: its forward pass in any float type, and its f64 backward pass.
trait Audited {
    /// The parameter tensors (empty for parameter-free layers).
    fn layout(&self) -> &ParamLayout;
    /// `y = layer(p, x)`, flat.
    fn forward<F: Float>(&self, p: &[F], x: &[F]) -> Vec<F>;
    /// One f64 forward pass, then `repeats` backward passes from `dy` on its caches, each
    /// adding into `g` (the whole parameter buffer) and `dx`.
    fn backward(&self, p: &[f64], x: &[f64], dy: &[f64], g: &mut [f64], dx: &mut [f64], repeats: usize);
}

/// The worst errors seen, per check.
#[derive(Clone, Copy, Debug, Default)]
struct Worst {
    gradient: f64,
    accumulate: f64,
    f32_forward: f64,
}

impl Worst {
    fn max(self, o: Worst) -> Worst {
        Worst {
            gradient: self.gradient.max(o.gradient),
            accumulate: self.accumulate.max(o.accumulate),
            f32_forward: self.f32_forward.max(o.f32_forward),
        }
    }
}

fn dot<F: Float>(a: &[F], b: &[F]) -> F {
    a.iter().zip(b).map(|(&x, &y)| x * y).sum()
}

fn normal(rng: &mut ChaCha8Rng, n: usize, scale: f64) -> Vec<f64> {
    (0..n).map(|_| scale * standard_normal(rng)).collect()
}

/// Name of flat parameter index `i`.
fn param_name(layout: &ParamLayout, i: usize) -> String {
    let t = layout.tensors().iter().find(|t| t.span.range().contains(&i)).expect("index inside the layout");
    format!("{}[{}]", t.name, i - t.span.offset)
}

/// Rounds to the nearest f32, so the f32 pass sees exactly the f64 pass's inputs and the
/// comparison measures the arithmetic alone, not the conditioning of the input rounding.
fn f32_exact(v: &[f64]) -> Vec<f64> {
    v.iter().map(|&v| v as f32 as f64).collect()
}

/// All three checks at one point `(p, x)` (rounded to f32-representable values first).
fn audit(layer: &impl Audited, p: &[f64], x: &[f64], rng: &mut ChaCha8Rng) -> Result<Worst, TestCaseError> {
    let layout = layer.layout();
    prop_assert_eq!(p.len(), layout.len());
    let (p, x) = (&f32_exact(p)[..], &f32_exact(x)[..]);
    let y = layer.forward::<f64>(p, x);
    let r = normal(rng, y.len(), 1.0);
    let mut g = vec![0.0; p.len()];
    let mut dx = vec![0.0; x.len()];
    layer.backward(p, x, &r, &mut g, &mut dx, 1);

    // Numeric gradient of L = ⟨r, y⟩ with the forward pass in double-double.
    let r_dd: Vec<Dd> = convert(&r);
    let (p_dd, x_dd): (Vec<Dd>, Vec<Dd>) = (convert(p), convert(x));
    let num_p = numeric_gradient(p, |p| Some(dot(&layer.forward(p, &x_dd), &r_dd))).unwrap();
    let num_x = numeric_gradient(x, |x| Some(dot(&layer.forward(&p_dd, x), &r_dd))).unwrap();
    let mut worst = Worst::default();
    for (i, (&a, &n)) in g.iter().zip(&num_p).enumerate() {
        let err = relative_error(a, n);
        prop_assert!(err <= TOLERANCE, "d/d{}: analytic {a:e}, numeric {n:e}, error {err:.2e}", param_name(layout, i));
        worst.gradient = worst.gradient.max(err);
    }
    for (i, (&a, &n)) in dx.iter().zip(&num_x).enumerate() {
        let err = relative_error(a, n);
        prop_assert!(err <= TOLERANCE, "d/dx[{i}]: analytic {a:e}, numeric {n:e}, error {err:.2e}");
        worst.gradient = worst.gradient.max(err);
    }

    // Backward adds: twice on the same caches is twice the gradient.
    let mut g2 = vec![0.0; p.len()];
    let mut dx2 = vec![0.0; x.len()];
    layer.backward(p, x, &r, &mut g2, &mut dx2, 2);
    for (what, twice, once) in [("parameter", &g2, &g), ("input", &dx2, &dx)] {
        for (i, (&b, &a)) in twice.iter().zip(once.iter()).enumerate() {
            let err = (b - 2.0 * a).abs() / (2.0 * a).abs().max(1.0);
            prop_assert!(err <= ACCUMULATE_TOL, "{what} gradient {i}: two backward calls gave {b:e}, one gave {a:e}");
            worst.accumulate = worst.accumulate.max(err);
        }
    }

    // The f32 forward pass follows f64.
    let y32 = layer.forward::<f32>(&convert(p), &convert(x));
    prop_assert_eq!(y32.len(), y.len());
    for (i, (&a, &b)) in y32.iter().zip(&y).enumerate() {
        let err = (a as f64 - b).abs() / b.abs().max(1.0);
        prop_assert!(err <= F32_TOL, "f32 y[{i}] = {a:e}, f64 {b:e}: error {err:.2e}");
        worst.f32_forward = worst.f32_forward.max(err);
    }
    Ok(worst)
}

/// Runs `case` on `cases` draws of `strategy` and prints the worst errors seen.
fn run<S: Strategy>(name: &str, cases: u32, strategy: S, case: impl Fn(S::Value) -> Result<Worst, TestCaseError>) {
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let worst = Cell::new(Worst::default());
    let result = runner.run(&strategy, |value| {
        worst.set(worst.get().max(case(value)?));
        Ok(())
    });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    let w = worst.get();
    eprintln!(
        "{name}: {cases} cases, worst gradient error {:.1e}, accumulation {:.1e}, f32 forward {:.1e}",
        w.gradient, w.accumulate, w.f32_forward
    );
}

// ------------------------------------------------------------------ dense

struct DenseCase {
    layout: ParamLayout,
    dense: Dense,
}

impl Audited for DenseCase {
    fn layout(&self) -> &ParamLayout {
        &self.layout
    }
    fn forward<F: Float>(&self, p: &[F], x: &[F]) -> Vec<F> {
        let mut y = vec![F::ZERO; x.len() / self.dense.input * self.dense.output];
        self.dense.forward(&mut y, x, p);
        y
    }
    fn backward(&self, p: &[f64], x: &[f64], dy: &[f64], g: &mut [f64], dx: &mut [f64], repeats: usize) {
        for _ in 0..repeats {
            self.dense.backward(Some(&mut *dx), g, dy, x, p);
        }
    }
}

/// Dense over N rows (N = T·B for the time-distributed use).
#[test]
fn dense_gradients() {
    run("dense", 32, (1..=9usize, 1..=7usize, 1..=7usize, any::<u64>()), |(rows, n_in, n_out, seed)| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut layout = ParamLayout::new();
        let dense = Dense::new(&mut layout, "dense", n_in, n_out);
        let case = DenseCase { dense, layout };
        let p = normal(&mut rng, case.layout.len(), 0.7);
        let x = normal(&mut rng, rows * n_in, 1.0);
        audit(&case, &p, &x, &mut rng)
    });
}

// ------------------------------------------------------------------ LSTM, one direction

struct LstmCase {
    layout: ParamLayout,
    lstm: Lstm,
    steps: usize,
    batch: usize,
    output: LstmOutput,
}

impl LstmCase {
    fn forward_cache<F: Float>(&self, p: &[F], x: &[F]) -> LstmCache<F> {
        let mut cache = LstmCache::default();
        self.lstm.forward(&mut cache, x, p, self.steps, self.batch);
        cache
    }
}

impl Audited for LstmCase {
    fn layout(&self) -> &ParamLayout {
        &self.layout
    }
    fn forward<F: Float>(&self, p: &[F], x: &[F]) -> Vec<F> {
        let cache = self.forward_cache(p, x);
        match self.output {
            LstmOutput::Sequence => cache.sequence().to_vec(),
            LstmOutput::Last => cache.last().to_vec(),
        }
    }
    fn backward(&self, p: &[f64], x: &[f64], dy: &[f64], g: &mut [f64], dx: &mut [f64], repeats: usize) {
        let mut cache = self.forward_cache(p, x);
        for _ in 0..repeats {
            self.lstm.backward(Some(&mut *dx), g, &mut cache, dy, self.output, x, p);
        }
    }
}

/// Shapes of a recurrent case: T, B, I, H and the RNG seed.
fn recurrent_shapes() -> impl Strategy<Value = (usize, usize, usize, usize, u64)> {
    (1..=5usize, 1..=4usize, 1..=7usize, 1..=7usize, any::<u64>())
}

fn lstm_case(
    reverse: bool,
    output: LstmOutput,
) -> impl Fn((usize, usize, usize, usize, u64)) -> Result<Worst, TestCaseError> {
    move |(steps, batch, n_in, hidden, seed)| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut layout = ParamLayout::new();
        let lstm = Lstm::new(&mut layout, "lstm", n_in, hidden, reverse);
        let case = LstmCase { layout, lstm, steps, batch, output };
        let p = normal(&mut rng, case.layout.len(), 0.6);
        let x = normal(&mut rng, steps * batch * n_in, 1.0);
        audit(&case, &p, &x, &mut rng)
    }
}

#[test]
fn lstm_forward_sequence_gradients() {
    run("lstm forward, sequence", 12, recurrent_shapes(), lstm_case(false, LstmOutput::Sequence));
}

#[test]
fn lstm_forward_last_gradients() {
    run("lstm forward, last", 12, recurrent_shapes(), lstm_case(false, LstmOutput::Last));
}

#[test]
fn lstm_reverse_sequence_gradients() {
    run("lstm reverse, sequence", 12, recurrent_shapes(), lstm_case(true, LstmOutput::Sequence));
}

#[test]
fn lstm_reverse_last_gradients() {
    run("lstm reverse, last", 12, recurrent_shapes(), lstm_case(true, LstmOutput::Last));
}

// ------------------------------------------------------------------ bidirectional LSTM

struct BiLstmCase {
    layout: ParamLayout,
    bi: BiLstm,
    steps: usize,
    batch: usize,
    output: LstmOutput,
}

impl BiLstmCase {
    fn forward_cache<F: Float>(&self, p: &[F], x: &[F]) -> BiLstmCache<F> {
        let mut cache = BiLstmCache::default();
        self.bi.forward(&mut cache, x, p, self.steps, self.batch, self.output);
        cache
    }
}

impl Audited for BiLstmCase {
    fn layout(&self) -> &ParamLayout {
        &self.layout
    }
    fn forward<F: Float>(&self, p: &[F], x: &[F]) -> Vec<F> {
        self.forward_cache(p, x).out
    }
    fn backward(&self, p: &[f64], x: &[f64], dy: &[f64], g: &mut [f64], dx: &mut [f64], repeats: usize) {
        let mut cache = self.forward_cache(p, x);
        for _ in 0..repeats {
            self.bi.backward(Some(&mut *dx), g, &mut cache, dy, self.output, x, p);
        }
    }
}

fn bilstm_case(output: LstmOutput) -> impl Fn((usize, usize, usize, usize, u64)) -> Result<Worst, TestCaseError> {
    move |(steps, batch, n_in, hidden, seed)| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut layout = ParamLayout::new();
        let bi = BiLstm::new(&mut layout, "bilstm", n_in, hidden);
        let case = BiLstmCase { layout, bi, steps, batch, output };
        let p = normal(&mut rng, case.layout.len(), 0.6);
        let x = normal(&mut rng, steps * batch * n_in, 1.0);
        audit(&case, &p, &x, &mut rng)
    }
}

#[test]
fn bilstm_sequence_gradients() {
    run("bilstm, sequence", 8, recurrent_shapes(), bilstm_case(LstmOutput::Sequence));
}

#[test]
fn bilstm_last_gradients() {
    run("bilstm, last", 8, recurrent_shapes(), bilstm_case(LstmOutput::Last));
}

// ------------------------------------------------------------------ self-attention

struct AttentionCase {
    layout: ParamLayout,
    steps: usize,
    batch: usize,
}

impl Audited for AttentionCase {
    fn layout(&self) -> &ParamLayout {
        &self.layout
    }
    fn forward<F: Float>(&self, _: &[F], x: &[F]) -> Vec<F> {
        let mut y = vec![F::ZERO; x.len()];
        SelfAttention::forward(&mut y, &mut AttentionCache::default(), x, self.steps, self.batch);
        y
    }
    fn backward(&self, _: &[f64], x: &[f64], dy: &[f64], _: &mut [f64], dx: &mut [f64], repeats: usize) {
        let mut cache = AttentionCache::default();
        let mut y = vec![0.0; x.len()];
        SelfAttention::forward(&mut y, &mut cache, x, self.steps, self.batch);
        for _ in 0..repeats {
            SelfAttention::backward(dx, &mut cache, dy, x, self.steps, self.batch);
        }
    }
}

#[test]
fn self_attention_gradients() {
    run("self-attention", 32, (1..=5usize, 1..=4usize, 1..=7usize, any::<u64>()), |(steps, batch, d, seed)| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let case = AttentionCase { layout: ParamLayout::new(), steps, batch };
        // Scores x·xᵀ grow with d; unit-scale values keep the softmax away from one-hot.
        let x = normal(&mut rng, steps * batch * d, 0.6);
        audit(&case, &[], &x, &mut rng)
    });
}

// ------------------------------------------------------------------ layer norm

struct LayerNormCase {
    layout: ParamLayout,
    ln: LayerNorm,
}

impl Audited for LayerNormCase {
    fn layout(&self) -> &ParamLayout {
        &self.layout
    }
    fn forward<F: Float>(&self, p: &[F], x: &[F]) -> Vec<F> {
        let mut y = vec![F::ZERO; x.len()];
        self.ln.forward(&mut y, &mut LayerNormCache::default(), x, p);
        y
    }
    fn backward(&self, p: &[f64], x: &[f64], dy: &[f64], g: &mut [f64], dx: &mut [f64], repeats: usize) {
        let mut cache = LayerNormCache::default();
        let mut y = vec![0.0; x.len()];
        self.ln.forward(&mut y, &mut cache, x, p);
        for _ in 0..repeats {
            self.ln.backward(dx, g, dy, x, &cache, p);
        }
    }
}

#[test]
fn layer_norm_gradients() {
    run("layer norm", 32, (1..=6usize, 1..=7usize, 0.05..3.0f64, any::<u64>()), |(rows, cols, spread, seed)| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut layout = ParamLayout::new();
        let ln = LayerNorm::new(&mut layout, "ln", cols);
        let case = LayerNormCase { layout, ln };
        let p = normal(&mut rng, case.layout.len(), 1.0);
        // Rows with a small spread make ε = 1e-3 matter; each row gets its own mean to remove.
        let offsets: Vec<f64> = (0..rows).map(|_| spread * rng.random_range(-2.0..2.0)).collect();
        let x: Vec<f64> = (0..rows * cols).map(|i| spread * standard_normal(&mut rng) + offsets[i / cols]).collect();
        audit(&case, &p, &x, &mut rng)
    });
}

// ------------------------------------------------------------------ dropout (mask fixed)

struct DropoutCase {
    layout: ParamLayout,
    drop: Dropout,
    seed: u64,
    shape: MaskShape,
}

impl DropoutCase {
    fn mask<F: Float>(&self) -> Vec<F> {
        let MaskShape { steps, batch, cols, .. } = self.shape;
        let mut mask = vec![F::ZERO; steps * batch * cols];
        self.drop.sample_mask(&mut mask, self.seed, self.shape);
        mask
    }
}

impl Audited for DropoutCase {
    fn layout(&self) -> &ParamLayout {
        &self.layout
    }
    fn forward<F: Float>(&self, _: &[F], x: &[F]) -> Vec<F> {
        let mut y = vec![F::ZERO; x.len()];
        Dropout::forward(&mut y, x, &self.mask());
        y
    }
    fn backward(&self, _: &[f64], _: &[f64], dy: &[f64], _: &mut [f64], dx: &mut [f64], repeats: usize) {
        let mask = self.mask::<f64>();
        for _ in 0..repeats {
            Dropout::backward(dx, dy, &mask);
        }
    }
}

#[test]
fn dropout_gradients() {
    let shapes = (1..=5usize, 1..=4usize, 1..=7usize, 0.0..0.9f64, any::<u64>());
    run("dropout", 32, shapes, |(steps, batch, cols, rate, seed)| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let shape = MaskShape { steps, batch, cols, first_sample: rng.random_range(0..100) };
        let case = DropoutCase { layout: ParamLayout::new(), drop: Dropout::new(rate, 3), seed: rng.random(), shape };
        let x = normal(&mut rng, steps * batch * cols, 1.0);
        audit(&case, &[], &x, &mut rng)
    });
}

// ------------------------------------------------------------------ concatenate

/// `x` holds `a (N, Ca)` followed by `b (N, Cb)`.
struct ConcatCase {
    layout: ParamLayout,
    rows: usize,
    a_cols: usize,
    b_cols: usize,
}

impl Audited for ConcatCase {
    fn layout(&self) -> &ParamLayout {
        &self.layout
    }
    fn forward<F: Float>(&self, _: &[F], x: &[F]) -> Vec<F> {
        let (a, b) = x.split_at(self.rows * self.a_cols);
        let mut y = vec![F::ZERO; x.len()];
        concat_forward(&mut y, a, self.a_cols, b, self.b_cols);
        y
    }
    fn backward(&self, _: &[f64], _: &[f64], dy: &[f64], _: &mut [f64], dx: &mut [f64], repeats: usize) {
        let (da, db) = dx.split_at_mut(self.rows * self.a_cols);
        for _ in 0..repeats {
            concat_backward(Some(&mut *da), self.a_cols, Some(&mut *db), self.b_cols, dy);
        }
    }
}

#[test]
fn concat_gradients() {
    run("concat", 32, (1..=9usize, 1..=7usize, 1..=7usize, any::<u64>()), |(rows, a_cols, b_cols, seed)| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let case = ConcatCase { layout: ParamLayout::new(), rows, a_cols, b_cols };
        let x = normal(&mut rng, rows * (a_cols + b_cols), 1.0);
        audit(&case, &[], &x, &mut rng)
    });
}

// ------------------------------------------------------------------ RepeatVector

struct RepeatCase {
    layout: ParamLayout,
    steps: usize,
}

impl Audited for RepeatCase {
    fn layout(&self) -> &ParamLayout {
        &self.layout
    }
    fn forward<F: Float>(&self, _: &[F], x: &[F]) -> Vec<F> {
        let mut y = vec![F::ZERO; self.steps * x.len()];
        repeat_forward(&mut y, x, self.steps);
        y
    }
    fn backward(&self, _: &[f64], _: &[f64], dy: &[f64], _: &mut [f64], dx: &mut [f64], repeats: usize) {
        for _ in 0..repeats {
            repeat_backward(dx, dy);
        }
    }
}

#[test]
fn repeat_vector_gradients() {
    run("repeat vector", 32, (1..=5usize, 1..=4usize, 1..=7usize, any::<u64>()), |(steps, batch, cols, seed)| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let case = RepeatCase { layout: ParamLayout::new(), steps };
        let x = normal(&mut rng, batch * cols, 1.0);
        audit(&case, &[], &x, &mut rng)
    });
}

// ------------------------------------------------------------------ activations

struct ActivationCase {
    layout: ParamLayout,
    act: Activation,
}

impl Audited for ActivationCase {
    fn layout(&self) -> &ParamLayout {
        &self.layout
    }
    fn forward<F: Float>(&self, _: &[F], x: &[F]) -> Vec<F> {
        let mut y = x.to_vec();
        self.act.forward(&mut y);
        y
    }
    fn backward(&self, _: &[f64], x: &[f64], dy: &[f64], _: &mut [f64], dx: &mut [f64], repeats: usize) {
        let y = self.forward(&[], x);
        for _ in 0..repeats {
            self.act.backward(dx, dy, &y);
        }
    }
}

fn activation_case(act: Activation) -> impl Fn((usize, u64)) -> Result<Worst, TestCaseError> {
    move |(n, seed)| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let case = ActivationCase { layout: ParamLayout::new(), act };
        let x: Vec<f64> = match act {
            // At least 1e-3 from the kink, either side: the stencil spans ±3e-5.
            Activation::Relu => (0..n)
                .map(|_| {
                    let magnitude = rng.random_range(1e-3..3.0);
                    if rng.random::<bool>() {
                        magnitude
                    } else {
                        -magnitude
                    }
                })
                .collect(),
            Activation::Sigmoid | Activation::Tanh => normal(&mut rng, n, 3.0),
        };
        audit(&case, &[], &x, &mut rng)
    }
}

#[test]
fn relu_gradients() {
    run("relu", 32, (1..=67usize, any::<u64>()), activation_case(Activation::Relu));
}

#[test]
fn sigmoid_gradients() {
    run("sigmoid", 32, (1..=67usize, any::<u64>()), activation_case(Activation::Sigmoid));
}

#[test]
fn tanh_gradients() {
    run("tanh", 32, (1..=67usize, any::<u64>()), activation_case(Activation::Tanh));
}

// ------------------------------------------------------------------ losses

/// `mean_b w_b · −(y_b ln p_b + (1 − y_b) ln(1 − p_b))`, `p = 1 / (1 + e^{−z})`, the
/// textbook formula, evaluated in double-double so that ln(1 − p) keeps its digits even
/// where p rounds to 1 in f64.
fn bce_direct(z: &[f64], y: &[f64], w: &[f64]) -> f64 {
    let one = Dd::ONE;
    let mut total = Dd::ZERO;
    for ((&z, &y), &w) in z.iter().zip(y).zip(w) {
        let (z, y, w) = (Dd::from_f64(z), Dd::from_f64(y), Dd::from_f64(w));
        let p = one / (one + (-z).exp());
        total += w * -(y * p.ln() + (one - y) * (one - p).ln());
    }
    (total / Dd::from_usize(z.len())).to_f64()
}

#[test]
fn weighted_bce_with_logits_matches_the_formula_and_its_gradient() {
    let worst = Cell::new(0.0f64);
    let mut runner = TestRunner::new(Config { cases: 64, failure_persistence: None, ..Config::default() });
    let result = runner.run(&(1..=9usize, 0.5..30.0f64, any::<u64>()), |(n, spread, seed)| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let z: Vec<f64> = (0..n).map(|_| rng.random_range(-spread..spread)).collect();
        let y: Vec<f64> = (0..n).map(|_| rng.random_range(0..2u8) as f64).collect();
        let w: Vec<f64> = y.iter().map(|&y| if y == 1.0 { rng.random_range(0.5..4.0) } else { 0.75 }).collect();
        // dz is overwritten, whatever it held.
        let mut dz = vec![f64::NAN; n];
        let loss = weighted_bce_with_logits(&mut dz, &z, &y, &w);
        let direct = bce_direct(&z, &y, &w);
        let err = (loss - direct).abs() / direct.abs();
        prop_assert!(err <= 1e-13, "loss {loss:e}, direct formula {direct:e}: error {err:.2e}");
        let mut dz32 = vec![0.0f32; n];
        let loss32 = weighted_bce_with_logits::<f32>(&mut dz32, &convert(&z), &convert(&y), &convert(&w)) as f64;
        let err32 = (loss32 - direct).abs() / direct.abs();
        prop_assert!(err32 <= F32_TOL, "f32 loss {loss32:e}, direct formula {direct:e}: error {err32:.2e}");

        let (y_dd, w_dd): (Vec<Dd>, Vec<Dd>) = (convert(&y), convert(&w));
        let numeric = numeric_gradient(&z, |z| {
            let mut scratch = vec![Dd::ZERO; z.len()];
            Some(weighted_bce_with_logits(&mut scratch, z, &y_dd, &w_dd))
        })
        .unwrap();
        let mut case_worst = err;
        for b in 0..n {
            let e = relative_error(dz[b], numeric[b]);
            prop_assert!(e <= TOLERANCE, "dz[{b}] = {:e}, numeric {:e}: error {e:.2e}", dz[b], numeric[b]);
            case_worst = case_worst.max(e);
            // The closed form in double-double, in plain relative error: dz must keep its
            // digits where σ(z) − y is tiny (a confidently right logit), as the loss does.
            let (zb, yb) = (Dd::from_f64(z[b]), Dd::from_f64(y[b]));
            let sigma = Dd::ONE / (Dd::ONE + (-zb).exp());
            let closed = (Dd::from_f64(w[b]) * (sigma - yb) / Dd::from_usize(n)).to_f64();
            for (what, got, tol) in [("f64", dz[b], 1e-13), ("f32", dz32[b] as f64, F32_TOL)] {
                let e = (got - closed).abs() / closed.abs();
                prop_assert!(e <= tol, "{what} dz[{b}] = {got:e}, closed form {closed:e}: error {e:.2e}");
                if what == "f64" {
                    case_worst = case_worst.max(e);
                }
            }
        }
        worst.set(worst.get().max(case_worst));
        Ok(())
    });
    if let Err(e) = result {
        panic!("weighted BCE: {e}");
    }
    eprintln!("weighted BCE: 64 cases, worst error {:.1e}", worst.get());
}

#[test]
fn mse_matches_the_formula_and_its_gradient() {
    let worst = Cell::new(0.0f64);
    let mut runner = TestRunner::new(Config { cases: 64, failure_persistence: None, ..Config::default() });
    let result = runner.run(&(1..=67usize, any::<u64>()), |(n, seed)| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let a = normal(&mut rng, n, 1.0);
        let b = normal(&mut rng, n, 1.0);
        let mut da = vec![f64::NAN; n];
        let loss = mse(&mut da, &a, &b);
        let direct = a.iter().zip(&b).map(|(&a, &b)| (a - b) * (a - b)).sum::<f64>() / n as f64;
        let err = (loss - direct).abs() / direct.abs();
        prop_assert!(err <= 1e-13, "loss {loss:e}, direct formula {direct:e}: error {err:.2e}");
        let b_dd: Vec<Dd> = convert(&b);
        let numeric = numeric_gradient(&a, |a| {
            let mut scratch = vec![Dd::ZERO; a.len()];
            Some(mse(&mut scratch, a, &b_dd))
        })
        .unwrap();
        let mut case_worst = err;
        for i in 0..n {
            let e = relative_error(da[i], numeric[i]);
            prop_assert!(e <= TOLERANCE, "da[{i}] = {:e}, numeric {:e}: error {e:.2e}", da[i], numeric[i]);
            case_worst = case_worst.max(e);
        }
        worst.set(worst.get().max(case_worst));
        Ok(())
    });
    if let Err(e) = result {
        panic!("mse: {e}");
    }
    eprintln!("mse: 64 cases, worst error {:.1e}", worst.get());
}

// ------------------------------------------------------------------ cache reuse

/// Training reuses one workspace for every batch, and the last batch of an epoch is smaller;
/// windows may differ in length between runs. Every model (so every layer's cache) must give
/// bit for bit what a fresh workspace gives, after serving a larger and a smaller shape.
#[test]
fn workspaces_reused_across_shapes_match_fresh_ones() {
    use kubelstm::models::{Arch, DropoutSeed, Model, ModelConfig};
    let configs =
        Arch::ALL
            .into_iter()
            .map(|arch| ModelConfig::new(arch, 3))
            .chain(Arch::ALL.into_iter().map(|arch| ModelConfig::new(arch, 3).unsupervised()));
    for mut config in configs {
        config.lstm = [4, 3];
        config.dense = [5, 3];
        let model = Model::new(config.clone()).unwrap();
        let p: Vec<f64> = model.init_params(11);
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        let pass = |ws: &mut kubelstm::models::Workspace<f64>, steps: usize, batch: usize, rng: &mut ChaCha8Rng| {
            let x = normal(rng, steps * batch * 3, 1.0);
            let d_out = normal(rng, batch, 1.0);
            let dropout = Some(DropoutSeed { seed: 5, first_sample: 0 });
            let out = model.forward(ws, &p, &x, steps, batch, dropout).to_vec();
            let mut g = model.layout.zeros::<f64>();
            let mut dx = vec![0.0; x.len()];
            model.backward(ws, &mut g, &p, &x, &d_out, Some(&mut dx));
            (out, g, dx)
        };
        let mut reused = model.workspace::<f64>();
        for (steps, batch) in [(5, 4), (3, 2), (6, 1), (5, 4)] {
            let state = rng.clone();
            let got = pass(&mut reused, steps, batch, &mut rng);
            let want = pass(&mut model.workspace::<f64>(), steps, batch, &mut state.clone());
            assert!(
                got == want,
                "{:?} {:?}: reused workspace differs at T = {steps}, B = {batch}",
                config.arch,
                config.objective
            );
        }
    }
}
