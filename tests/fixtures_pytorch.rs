//! The engine against PyTorch float64 reference values (`tests/fixtures/*.json`, see the
//! README there), then a 10-step training trajectory.
//!
//! Each fixture runs twice: in f64, where every output, intermediate, gradient, loss and Adam
//! step must match to 1e-9, and in f32 (the fast path), to 1e-5. The measure is the fixtures'
//! own, `|engine − reference| / max(1, |reference|)`, element by element; the worst error of
//! each run is printed (`--nocapture`).
//!
//! The fixtures are batch-first `[B, T, C]` and row-major; the engine is time-major
//! `(T, B, C)`, so sequences are transposed on the way in and out (`time_major`,
//! `batch_first`). The layer fixtures drive the layers directly; `standard_mini.json` runs
//! through [`Model`], the composition training uses.

use kubelstm::models::head::Head;
use kubelstm::models::{Arch, Model, ModelConfig, Standard};
use kubelstm::nn::activation::Activation;
use kubelstm::nn::loss::weighted_bce_with_logits;
use kubelstm::nn::{
    AttentionCache, BiLstm, BiLstmCache, Dense, LayerNorm, LayerNormCache, Lstm, LstmCache, LstmOutput, SelfAttention,
};
use kubelstm::optim::adam::{Adam, AdamConfig};
use kubelstm::params::{convert, ParamLayout, Span};
use kubelstm::Float;
use kubelstm_kernels::scalar::sigmoid;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

/// Tolerances the gradient audit is held to (f64, f32), in the fixtures' measure.
const TOL_F64: f64 = 1e-9;
const TOL_F32: f64 = 1e-5;

// ------------------------------------------------------------------ fixture access

struct Fixture {
    name: &'static str,
    json: Value,
}

impl Fixture {
    fn load(name: &'static str) -> Self {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        Fixture { name, json: serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}")) }
    }
    /// `section[key]`; keys may themselves contain dots (`params["lstm1.W_ih"]`).
    fn value(&self, section: &str, key: &str) -> &Value {
        let v = &self.json[section][key];
        assert!(!v.is_null(), "{}: no {section}[{key}]", self.name);
        v
    }
    /// A tensor's flat row-major data, checked against the shape it declares.
    fn tensor(&self, section: &str, key: &str) -> Vec<f64> {
        let v = self.value(section, key);
        let shape: usize = v["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).product();
        let data: Vec<f64> = v["data"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        assert_eq!(data.len(), shape, "{}: {section}[{key}] data does not fill its shape", self.name);
        data
    }
    fn number(&self, section: &str, key: &str) -> f64 {
        self.value(section, key).as_f64().unwrap_or_else(|| panic!("{}: {section}[{key}] is not a number", self.name))
    }
    /// `to[key] − from[key]`: the change of a parameter over an Adam step.
    fn step(&self, key: &str, from: &str, to: &str) -> Vec<f64> {
        self.tensor(to, key).iter().zip(self.tensor(from, key)).map(|(new, old)| new - old).collect()
    }
    fn size(&self, key: &str) -> usize {
        self.number("sizes", key) as usize
    }
}

/// `[B, T, C]` batch-first → `(T, B, C)` time-major, converted to `F`.
fn time_major<F: Float>(v: &[f64], batch: usize, steps: usize, cols: usize) -> Vec<F> {
    assert_eq!(v.len(), batch * steps * cols);
    let mut out = vec![F::ZERO; v.len()];
    for b in 0..batch {
        for t in 0..steps {
            for c in 0..cols {
                out[(t * batch + b) * cols + c] = F::from_f64(v[(b * steps + t) * cols + c]);
            }
        }
    }
    out
}

/// `(T, B, C)` time-major → `[B, T, C]` batch-first, in f64.
fn batch_first<F: Float>(v: &[F], batch: usize, steps: usize, cols: usize) -> Vec<f64> {
    assert_eq!(v.len(), batch * steps * cols);
    let mut out = vec![0.0; v.len()];
    for t in 0..steps {
        for b in 0..batch {
            for c in 0..cols {
                out[(b * steps + t) * cols + c] = v[(t * batch + b) * cols + c].to_f64();
            }
        }
    }
    out
}

fn set<F: Float>(p: &mut [F], span: Span, values: &[f64]) {
    assert_eq!(span.len, values.len(), "fixture tensor does not fit its span");
    for (dst, &v) in span.of_mut(p).iter_mut().zip(values) {
        *dst = F::from_f64(v);
    }
}

/// Element-wise comparison in the fixtures' measure; keeps the worst error of a run.
struct Compare {
    label: String,
    tol: f64,
    worst: f64,
    worst_at: String,
    checked: usize,
}

impl Compare {
    fn new<F: Float>(fixture: &Fixture) -> Self {
        let tol = if F::NAME == "f64" { TOL_F64 } else { TOL_F32 };
        Compare {
            label: format!("{} [{}]", fixture.name, F::NAME),
            tol,
            worst: 0.0,
            worst_at: String::new(),
            checked: 0,
        }
    }
    fn values<F: Float>(&mut self, what: &str, got: &[F], want: &[f64]) {
        assert_eq!(got.len(), want.len(), "{}: {what} has {} elements, PyTorch {}", self.label, got.len(), want.len());
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            let g = g.to_f64();
            let err = (g - w).abs() / w.abs().max(1.0);
            assert!(
                err <= self.tol,
                "{}: {what}[{i}] = {g:e}, PyTorch {w:e}: error {err:.2e} > {:.0e}",
                self.label,
                self.tol
            );
            if err > self.worst || self.worst_at.is_empty() {
                self.worst = err;
                self.worst_at = format!("{what}[{i}]");
            }
        }
        self.checked += got.len();
    }
    fn scalar<F: Float>(&mut self, what: &str, got: F, want: f64) {
        self.values(what, &[got], &[want]);
    }
    fn report(&self) {
        eprintln!("{}: {} values, worst error {:.2e} at {}", self.label, self.checked, self.worst, self.worst_at);
    }
}

fn dot<F: Float>(a: &[F], b: &[F]) -> F {
    a.iter().zip(b).map(|(&x, &y)| x * y).sum()
}

// ------------------------------------------------------------------ lstm_layer.json

// Computed in float64 from the equations in the fixture's `description`, cross-checked
// against PyTorch:
//
//     lstm = torch.nn.LSTM(input_size=5, hidden_size=4, batch_first=True, dtype=torch.float64)
//     # lstm.weight_ih_l0 = W_ih [16, 5], weight_hh_l0 = W_hh [16, 4], bias_ih_l0 = b_ih, bias_hh_l0 = b_hh
//     x = x.requires_grad_()                       # [3, 6, 5]
//     out, (h_T, c_T) = lstm(x)                    # out [3, 6, 4]; h_T, c_T [1, 3, 4]
//     loss = (out * R).sum(); loss.backward()      # grad.x = x.grad, grad.W_ih = lstm.weight_ih_l0.grad, ...
fn lstm_layer<F: Float>() {
    let fx = Fixture::load("lstm_layer.json");
    let mut cmp = Compare::new::<F>(&fx);
    let (batch, steps, n_in, hidden) = (fx.size("batch"), fx.size("T"), fx.size("in"), fx.size("H"));
    let mut layout = ParamLayout::new();
    let lstm = Lstm::new(&mut layout, "lstm", n_in, hidden, false);
    let tensors = [(lstm.w_ih, "W_ih"), (lstm.w_hh, "W_hh"), (lstm.b_ih, "b_ih"), (lstm.b_hh, "b_hh")];
    let mut p = layout.zeros::<F>();
    for (span, name) in tensors {
        set(&mut p, span, &fx.tensor("params", name));
    }
    let x = time_major::<F>(&fx.tensor("inputs", "x"), batch, steps, n_in);
    let r = time_major::<F>(&fx.tensor("inputs", "R"), batch, steps, hidden);

    let mut cache = LstmCache::default();
    lstm.forward(&mut cache, &x, &p, steps, batch);
    cmp.values("out", &batch_first(cache.sequence(), batch, steps, hidden), &fx.tensor("outputs", "out"));
    cmp.values("h_T", cache.last(), &fx.tensor("outputs", "h_T"));
    cmp.values("c_T", cache.last_cell(), &fx.tensor("outputs", "c_T"));
    cmp.scalar("loss", dot(cache.sequence(), &r), fx.number("outputs", "loss"));

    // d loss / d out = R.
    let mut g = layout.zeros::<F>();
    let mut dx = vec![F::ZERO; x.len()];
    lstm.backward(Some(&mut dx), &mut g, &mut cache, &r, LstmOutput::Sequence, &x, &p);
    cmp.values("grad x", &batch_first(&dx, batch, steps, n_in), &fx.tensor("grad", "x"));
    for (span, name) in tensors {
        cmp.values(&format!("grad {name}"), span.of(&g), &fx.tensor("grad", name));
    }
    cmp.report();
}

#[test]
fn lstm_layer_matches_pytorch_f64() {
    lstm_layer::<f64>();
}

#[test]
fn lstm_layer_matches_pytorch_f32() {
    lstm_layer::<f32>();
}

// ------------------------------------------------------------------ bilstm_layer.json

// Computed in float64 from the equations in the fixture's `description`, cross-checked
// against PyTorch (and Keras `Bidirectional(LSTM(4, return_sequences=True))`):
//
//     lstm = torch.nn.LSTM(5, 4, batch_first=True, bidirectional=True, dtype=torch.float64)
//     # weight_ih_l0 = W_ih, ..., weight_ih_l0_reverse = W_ih_reverse, ... (each direction its own)
//     out, (h_T, c_T) = lstm(x)                    # x [3, 6, 5]; out [3, 6, 8] = [forward | backward]
//     # h_T, c_T [2, 3, 4] = [forward after t = T-1, backward after t = 0]
//     loss = (out * R).sum(); loss.backward()
fn bilstm_layer<F: Float>() {
    let fx = Fixture::load("bilstm_layer.json");
    let mut cmp = Compare::new::<F>(&fx);
    let (batch, steps, n_in, hidden) = (fx.size("batch"), fx.size("T"), fx.size("in"), fx.size("H"));
    let mut layout = ParamLayout::new();
    let bi = BiLstm::new(&mut layout, "bilstm", n_in, hidden);
    let (fw, rv) = (&bi.forward, &bi.reverse);
    let tensors = [
        (fw.w_ih, "W_ih"),
        (fw.w_hh, "W_hh"),
        (fw.b_ih, "b_ih"),
        (fw.b_hh, "b_hh"),
        (rv.w_ih, "W_ih_reverse"),
        (rv.w_hh, "W_hh_reverse"),
        (rv.b_ih, "b_ih_reverse"),
        (rv.b_hh, "b_hh_reverse"),
    ];
    let mut p = layout.zeros::<F>();
    for (span, name) in tensors {
        set(&mut p, span, &fx.tensor("params", name));
    }
    let x = time_major::<F>(&fx.tensor("inputs", "x"), batch, steps, n_in);
    let r = time_major::<F>(&fx.tensor("inputs", "R"), batch, steps, 2 * hidden);

    let mut cache = BiLstmCache::default();
    bi.forward(&mut cache, &x, &p, steps, batch, LstmOutput::Sequence);
    cmp.values("out", &batch_first(&cache.out, batch, steps, 2 * hidden), &fx.tensor("outputs", "out"));
    let h_t = [cache.forward.last(), cache.reverse.last()].concat();
    let c_t = [cache.forward.last_cell(), cache.reverse.last_cell()].concat();
    cmp.values("h_T", &h_t, &fx.tensor("outputs", "h_T"));
    cmp.values("c_T", &c_t, &fx.tensor("outputs", "c_T"));
    cmp.scalar("loss", dot(&cache.out, &r), fx.number("outputs", "loss"));

    let mut g = layout.zeros::<F>();
    let mut dx = vec![F::ZERO; x.len()];
    bi.backward(Some(&mut dx), &mut g, &mut cache, &r, LstmOutput::Sequence, &x, &p);
    cmp.values("grad x", &batch_first(&dx, batch, steps, n_in), &fx.tensor("grad", "x"));
    for (span, name) in tensors {
        cmp.values(&format!("grad {name}"), span.of(&g), &fx.tensor("grad", name));
    }

    // Keras `return_sequences=False`: the last-step output is concat(h_T[0], h_T[1]) per sample.
    let mut last = BiLstmCache::default();
    bi.forward(&mut last, &x, &p, steps, batch, LstmOutput::Last);
    let h_t_ref = fx.tensor("outputs", "h_T");
    let (fwd_final, bwd_final) = h_t_ref.split_at(batch * hidden);
    let want: Vec<f64> = (0..batch)
        .flat_map(|b| {
            fwd_final[b * hidden..(b + 1) * hidden].iter().chain(&bwd_final[b * hidden..(b + 1) * hidden]).copied()
        })
        .collect();
    cmp.values("last-step out", &last.out, &want);
    cmp.report();
}

#[test]
fn bilstm_layer_matches_pytorch_f64() {
    bilstm_layer::<f64>();
}

#[test]
fn bilstm_layer_matches_pytorch_f32() {
    bilstm_layer::<f32>();
}

// ------------------------------------------------------------------ attention.json

// Computed in float64 from the fixture's `description`, cross-checked against
// `keras.layers.Attention()([x, x])` (use_scale=False, score_mode='dot'):
//
//     x = x.requires_grad_()                       # [2, 5, 6]
//     scores = x @ x.transpose(1, 2)               # [2, 5, 5], query rows, key columns
//     weights = torch.softmax(scores, dim=-1)
//     out = weights @ x                            # [2, 5, 6]
//     loss = (out * R).sum(); loss.backward()      # grad.x: query, key and value paths
//
// The engine softmaxes the scores in place, so `scores` itself is not observable; the
// weights (its softmax), the output and the gradient are.
fn attention<F: Float>() {
    let fx = Fixture::load("attention.json");
    let mut cmp = Compare::new::<F>(&fx);
    let (batch, steps, d) = (fx.size("batch"), fx.size("T"), fx.size("d"));
    let x = time_major::<F>(&fx.tensor("inputs", "x"), batch, steps, d);
    let r = time_major::<F>(&fx.tensor("inputs", "R"), batch, steps, d);

    let mut cache = AttentionCache::default();
    let mut y = vec![F::ZERO; x.len()];
    SelfAttention::forward(&mut y, &mut cache, &x, steps, batch);
    cmp.values("out", &batch_first(&y, batch, steps, d), &fx.tensor("outputs", "out"));
    // cache.weights is (B, T, T), the fixture's layout.
    cmp.values("weights", &cache.weights, &fx.tensor("outputs", "weights"));
    cmp.scalar("loss", dot(&y, &r), fx.number("outputs", "loss"));

    let mut dx = vec![F::ZERO; x.len()];
    SelfAttention::backward(&mut dx, &mut cache, &r, &x, steps, batch);
    cmp.values("grad x", &batch_first(&dx, batch, steps, d), &fx.tensor("grad", "x"));
    cmp.report();
}

#[test]
fn attention_matches_pytorch_f64() {
    attention::<f64>();
}

#[test]
fn attention_matches_pytorch_f32() {
    attention::<f32>();
}

// ------------------------------------------------------------------ head_layers.json

// Computed in float64 from the fixture's `description`, cross-checked against PyTorch:
//
//     d1 = torch.nn.Linear(6, 5, dtype=torch.float64)       # weight = W1, bias = b1
//     ln = torch.nn.LayerNorm(5, eps=1e-3, dtype=torch.float64)  # weight = gamma, bias = beta
//     d2 = torch.nn.Linear(5, 1, dtype=torch.float64)       # weight = W2, bias = b2
//     z1 = d1(x); a1 = torch.relu(z1); l = ln(a1); z2 = d2(l); p = torch.sigmoid(z2)
//     w = torch.where(y == 1, w1, w0)                       # class weights
//     loss = (w * torch.nn.functional.binary_cross_entropy(p, y, reduction='none')).mean()
//     loss.backward()                                       # grad.*; retain_grad() for grad_intermediate.*
//
// The engine works on the logit z2 (BCE with logits), so d loss / d p is recovered from
// d loss / d z2 = d loss / d p · p (1 − p).
fn head_layers<F: Float>() {
    let fx = Fixture::load("head_layers.json");
    let mut cmp = Compare::new::<F>(&fx);
    let (batch, n_in, hidden) = (fx.size("batch"), fx.size("in"), fx.size("hidden"));
    let mut layout = ParamLayout::new();
    let d1 = Dense::new(&mut layout, "d1", n_in, hidden);
    let ln = LayerNorm::new(&mut layout, "ln", hidden);
    let d2 = Dense::new(&mut layout, "d2", hidden, 1);
    let tensors = [
        (d1.weight, "W1"),
        (d1.bias, "b1"),
        (ln.gamma, "gamma"),
        (ln.beta, "beta"),
        (d2.weight, "W2"),
        (d2.bias, "b2"),
    ];
    let mut p = layout.zeros::<F>();
    for (span, name) in tensors {
        set(&mut p, span, &fx.tensor("params", name));
    }
    let x: Vec<F> = convert(&fx.tensor("inputs", "x"));
    let y: Vec<F> = convert(&fx.tensor("inputs", "y"));
    let (w0, w1) = (fx.number("class_weight", "w0"), fx.number("class_weight", "w1"));
    let w: Vec<F> = y.iter().map(|&v| F::from_f64(if v == F::ONE { w1 } else { w0 })).collect();

    let mut z1 = vec![F::ZERO; batch * hidden];
    d1.forward(&mut z1, &x, &p);
    cmp.values("z1", &z1, &fx.tensor("outputs", "z1"));
    let mut a1 = z1.clone();
    Activation::Relu.forward(&mut a1);
    cmp.values("a1", &a1, &fx.tensor("outputs", "a1"));
    let mut l = vec![F::ZERO; batch * hidden];
    let mut ln_cache = LayerNormCache::default();
    ln.forward(&mut l, &mut ln_cache, &a1, &p);
    cmp.values("ln", &l, &fx.tensor("outputs", "ln"));
    let mut z2 = vec![F::ZERO; batch];
    d2.forward(&mut z2, &l, &p);
    cmp.values("z2", &z2, &fx.tensor("outputs", "z2"));
    let prob: Vec<F> = z2.iter().map(|&z| sigmoid(z)).collect();
    cmp.values("p", &prob, &fx.tensor("outputs", "p"));
    let mut dz2 = vec![F::ZERO; batch];
    let loss = weighted_bce_with_logits(&mut dz2, &z2, &y, &w);
    cmp.scalar("loss", loss, fx.number("outputs", "loss"));

    let mut g = layout.zeros::<F>();
    let mut dl = vec![F::ZERO; l.len()];
    let mut da1 = vec![F::ZERO; a1.len()];
    let mut dz1 = vec![F::ZERO; z1.len()];
    let mut dx = vec![F::ZERO; x.len()];
    d2.backward(Some(&mut dl), &mut g, &dz2, &l, &p);
    ln.backward(&mut da1, &mut g, &dl, &a1, &ln_cache, &p);
    Activation::Relu.backward(&mut dz1, &da1, &a1);
    d1.backward(Some(&mut dx), &mut g, &dz1, &x, &p);
    let dp: Vec<F> = dz2.iter().zip(&prob).map(|(&d, &q)| d / (q * (F::ONE - q))).collect();
    cmp.values("d/dp", &dp, &fx.tensor("grad_intermediate", "p"));
    cmp.values("d/dz2", &dz2, &fx.tensor("grad_intermediate", "z2"));
    cmp.values("d/dln", &dl, &fx.tensor("grad_intermediate", "ln"));
    cmp.values("d/da1", &da1, &fx.tensor("grad_intermediate", "a1"));
    cmp.values("d/dz1", &dz1, &fx.tensor("grad_intermediate", "z1"));
    cmp.values("grad x", &dx, &fx.tensor("grad", "x"));
    for (span, name) in tensors {
        cmp.values(&format!("grad {name}"), span.of(&g), &fx.tensor("grad", name));
    }
    cmp.report();
}

#[test]
fn head_layers_match_pytorch_f64() {
    head_layers::<f64>();
}

#[test]
fn head_layers_match_pytorch_f32() {
    head_layers::<f32>();
}

// ------------------------------------------------------------------ standard_mini.json

/// Engine tensor ↔ fixture tensor. The fixture's LSTMs have Keras' single bias `b`; the
/// engine's `bias_ih` carries it and `bias_hh` is held at zero (see `standard_mini`).
const STANDARD_MINI_TENSORS: [(&str, &str); 16] = [
    ("l1.weight_ih_l0", "lstm1.W_ih"),
    ("l1.weight_hh_l0", "lstm1.W_hh"),
    ("l1.bias_ih_l0", "lstm1.b"),
    ("l2.weight_ih_l0", "lstm2.W_ih"),
    ("l2.weight_hh_l0", "lstm2.W_hh"),
    ("l2.bias_ih_l0", "lstm2.b"),
    ("head.d1.weight", "dense1.W"),
    ("head.d1.bias", "dense1.b"),
    ("head.ln1.weight", "ln1.gamma"),
    ("head.ln1.bias", "ln1.beta"),
    ("head.d2.weight", "dense2.W"),
    ("head.d2.bias", "dense2.b"),
    ("head.ln2.weight", "ln2.gamma"),
    ("head.ln2.bias", "ln2.beta"),
    ("head.out.weight", "out.W"),
    ("head.out.bias", "out.b"),
];
/// The second LSTM bias of each layer and the fixture's bias it shadows.
const STANDARD_MINI_HH: [(&str, &str); 2] = [("l1.bias_hh_l0", "lstm1.b"), ("l2.bias_hh_l0", "lstm2.b")];

fn span(model: &Model, name: &str) -> Span {
    model.layout.find(name).unwrap_or_else(|| panic!("the model has no tensor {name}")).span
}

/// Compares a parameter-shaped buffer (gradients or parameters) tensor by tensor with a
/// fixture section. `hh` says what each `bias_hh` must hold, from the fixture's `b` values.
fn compare_params<F: Float>(
    cmp: &mut Compare,
    fx: &Fixture,
    model: &Model,
    buf: &[F],
    section: &str,
    hh: impl Fn(&str) -> Vec<f64>,
) {
    for (engine, fixture) in STANDARD_MINI_TENSORS {
        cmp.values(&format!("{section} {engine}"), span(model, engine).of(buf), &fx.tensor(section, fixture));
    }
    for (engine, fixture) in STANDARD_MINI_HH {
        cmp.values(&format!("{section} {engine}"), span(model, engine).of(buf), &hh(fixture));
    }
}

// Computed in float64 from the fixture's `description` (and `tests/fixtures/README.md`),
// cross-checked against PyTorch and Keras 3 with the same weights:
//
//     class Mini(torch.nn.Module):                 # float64, no dropout
//         def __init__(self):
//             super().__init__()
//             self.l1 = torch.nn.LSTM(5, 8, batch_first=True)   # bias_ih_l0 = b, bias_hh_l0 = 0
//             self.l2 = torch.nn.LSTM(8, 4, batch_first=True)
//             self.d1, self.ln1 = torch.nn.Linear(4, 4), torch.nn.LayerNorm(4, eps=1e-3)
//             self.d2, self.ln2 = torch.nn.Linear(4, 3), torch.nn.LayerNorm(3, eps=1e-3)
//             self.out = torch.nn.Linear(3, 1)
//         def forward(self, x):                    # x [3, 6, 5]
//             h1, _ = self.l1(x); _, (h2, _) = self.l2(h1)
//             a = self.ln1(torch.relu(self.d1(h2[-1])))
//             a = self.ln2(torch.relu(self.d2(a)))
//             return self.out(a)                   # logit [3, 1]
//     logit = model(x); p = torch.sigmoid(logit)
//     loss = (torch.where(y == 1, w1, w0) * F.binary_cross_entropy(p, y, reduction='none')).mean()
//     loss.backward()                              # grad.*
//     # adam_keras_step1/2: Keras' Adam formula (lr 1e-3, β 0.9/0.999, ε 1e-7), written out;
//     # adam_torch_step1: torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7).step()
//
// Two LSTM biases against one: the fixture's b sits in `bias_ih`, `bias_hh` is zero, so
// a = x W_ihᵀ + h W_hhᵀ + (b + 0) is Keras' pre-activation, and ∂L/∂bias_ih = ∂L/∂bias_hh
// = ∂L/∂b. Adam then gives bias_hh the same gradient, hence the same moments and the same
// step δ as bias_ih: after a step bias_ih = b + δ = b_new (the fixture's) and bias_hh = δ =
// b_new − b. The sum bias_ih + bias_hh = b + 2δ would no longer be Keras' bias, so before
// step 2 bias_hh is reset to 0 (bias_ih already equals the fixture's step-1 b); the moments
// are kept, and step 2 again gives bias_hh = b_step2 − b_step1.
fn standard_mini<F: Float>() {
    let fx = Fixture::load("standard_mini.json");
    let mut cmp = Compare::new::<F>(&fx);
    let (batch, steps, features) = (fx.size("batch"), fx.size("T"), fx.size("in"));
    let (h1, h2) = (fx.size("lstm1_H"), fx.size("lstm2_H"));
    let mut config = ModelConfig::new(Arch::Standard, features);
    config.lstm = [h1, h2];
    config.dense = [4, 3];
    let model = Model::new(config.clone()).unwrap();
    // Every engine tensor is set from the fixture: none is left at zero by omission.
    let mut covered: Vec<&str> =
        STANDARD_MINI_TENSORS.iter().chain(&STANDARD_MINI_HH).map(|(engine, _)| *engine).collect();
    let mut names: Vec<&str> = model.layout.tensors().iter().map(|t| t.name.as_str()).collect();
    covered.sort_unstable();
    names.sort_unstable();
    assert_eq!(covered, names, "the fixture mapping does not cover the model's tensors exactly");

    let mut p = model.layout.zeros::<F>();
    for (engine, fixture) in STANDARD_MINI_TENSORS {
        set(&mut p, span(&model, engine), &fx.tensor("params", fixture));
    }
    let x = time_major::<F>(&fx.tensor("inputs", "x"), batch, steps, features);
    let y: Vec<F> = convert(&fx.tensor("inputs", "y"));
    let (w0, w1) = (fx.number("class_weight", "w0"), fx.number("class_weight", "w1"));
    let w: Vec<F> = y.iter().map(|&v| F::from_f64(if v == F::ONE { w1 } else { w0 })).collect();

    // Intermediates, through the layers the model is made of (same names, same spans).
    let mut layout = ParamLayout::new();
    let net = Standard::new(&mut layout, &config);
    assert_eq!(layout, model.layout, "Standard::new and Model::new disagree on the layout");
    standard_mini_intermediates(&mut cmp, &fx, &net, &p, &x, steps, batch);

    // One training step through Model: forward (inference: no dropout), loss, backward.
    let mut ws = model.workspace::<F>();
    let grad_step = |cmp: &mut Compare, p: &[F], ws: &mut kubelstm::models::Workspace<F>, first: bool| -> Vec<F> {
        let logit = model.forward(ws, p, &x, steps, batch, None).to_vec();
        let mut d_logit = vec![F::ZERO; batch];
        let loss = weighted_bce_with_logits(&mut d_logit, &logit, &y, &w);
        let mut g = model.layout.zeros::<F>();
        let mut dx = vec![F::ZERO; x.len()];
        model.backward(ws, &mut g, p, &x, &d_logit, Some(&mut dx));
        if first {
            cmp.values("logit", &logit, &fx.tensor("outputs", "logit"));
            let prob: Vec<F> = logit.iter().map(|&z| model.score(z)).collect();
            cmp.values("p", &prob, &fx.tensor("outputs", "p"));
            cmp.scalar("loss", loss, fx.number("outputs", "loss"));
            cmp.values("grad x", &batch_first(&dx, batch, steps, features), &fx.tensor("grad", "x"));
        }
        g
    };
    let g = grad_step(&mut cmp, &p, &mut ws, true);
    compare_params(&mut cmp, &fx, &model, &g, "grad", |b| fx.tensor("grad", b));

    // Adam step 1 (Keras form).
    let mut adam = Adam::<F>::new(AdamConfig::default(), model.layout.len());
    assert_eq!(
        (adam.config.learning_rate, adam.config.beta1, adam.config.beta2, adam.config.epsilon),
        (fx.number("adam", "lr"), fx.number("adam", "beta1"), fx.number("adam", "beta2"), fx.number("adam", "eps")),
        "the engine's Adam defaults are not the fixture's"
    );
    let p0 = p.clone();
    adam.update(&mut p, &g);
    compare_params(&mut cmp, &fx, &model, &p, "adam_keras_step1", |b| fx.step(b, "params", "adam_keras_step1"));
    if F::NAME == "f64" {
        adam_torch_step1(&mut cmp, &fx, &model, &convert(&p0), &convert(&g));
    }

    // Step 2: bias_hh back to 0 (see above), gradients at the step-1 parameters, then Adam.
    for (engine, _) in STANDARD_MINI_HH {
        span(&model, engine).of_mut(&mut p).fill(F::ZERO);
    }
    let g2 = grad_step(&mut cmp, &p, &mut ws, false);
    compare_params(&mut cmp, &fx, &model, &g2, "grad_step2", |b| fx.tensor("grad_step2", b));
    adam.update(&mut p, &g2);
    compare_params(&mut cmp, &fx, &model, &p, "adam_keras_step2", |b| {
        fx.step(b, "adam_keras_step1", "adam_keras_step2")
    });
    cmp.report();
}

/// `lstm1_out`, `lstm2_out`, `dense1_pre`, `ln1_out`, `dense2_pre`, `ln2_out`, `logit`,
/// recomputed with the model's own layer objects.
fn standard_mini_intermediates<F: Float>(
    cmp: &mut Compare,
    fx: &Fixture,
    net: &Standard,
    p: &[F],
    x: &[F],
    steps: usize,
    batch: usize,
) {
    let Head { d1, ln1, d2, ln2, out, .. } = &net.head;
    let mut l1 = LstmCache::default();
    net.l1.forward(&mut l1, x, p, steps, batch);
    cmp.values(
        "lstm1_out",
        &batch_first(l1.sequence(), batch, steps, net.l1.hidden),
        &fx.tensor("outputs", "lstm1_out"),
    );
    let mut l2 = LstmCache::default();
    net.l2.forward(&mut l2, l1.sequence(), p, steps, batch);
    cmp.values("lstm2_out", l2.last(), &fx.tensor("outputs", "lstm2_out"));
    let dense_ln = |cmp: &mut Compare, dense: &Dense, ln: &LayerNorm, input: &[F], names: [&str; 2]| -> Vec<F> {
        let mut z = vec![F::ZERO; batch * dense.output];
        dense.forward(&mut z, input, p);
        cmp.values(names[0], &z, &fx.tensor("outputs", names[0]));
        Activation::Relu.forward(&mut z);
        let mut n = vec![F::ZERO; z.len()];
        ln.forward(&mut n, &mut LayerNormCache::default(), &z, p);
        cmp.values(names[1], &n, &fx.tensor("outputs", names[1]));
        n
    };
    let n1 = dense_ln(cmp, d1, ln1, l2.last(), ["dense1_pre", "ln1_out"]);
    let n2 = dense_ln(cmp, d2, ln2, &n1, ["dense2_pre", "ln2_out"]);
    let mut logit = vec![F::ZERO; batch];
    out.forward(&mut logit, &n2, p);
    cmp.values("logit (layers)", &logit, &fx.tensor("outputs", "logit"));
}

/// PyTorch's Adam differs from Keras' only in where ε enters; one step of it, written here
/// from the engine's f64 gradients, must reproduce `adam_torch_step1`. (The engine's Adam
/// is the Keras form; this checks the gradients once more through the other formula, and
/// pins down that the two fixtures differ for the reason the README gives.)
fn adam_torch_step1(cmp: &mut Compare, fx: &Fixture, model: &Model, p0: &[f64], g: &[f64]) {
    let AdamConfig { learning_rate: lr, beta1: b1, beta2: b2, epsilon: eps } = AdamConfig::default();
    let step: Vec<f64> = p0
        .iter()
        .zip(g)
        .map(|(&p, &g)| {
            let (m, v) = ((1.0 - b1) * g, (1.0 - b2) * g * g);
            p - lr * (m / (1.0 - b1)) / ((v / (1.0 - b2)).sqrt() + eps)
        })
        .collect();
    compare_params(cmp, fx, model, &step, "adam_torch_step1", |b| fx.step(b, "params", "adam_torch_step1"));
}

#[test]
fn standard_mini_model_matches_pytorch_f64() {
    standard_mini::<f64>();
}

#[test]
fn standard_mini_model_matches_pytorch_f32() {
    standard_mini::<f32>();
}

// ------------------------------------------------------------------ 10-step loss trajectory

/// Trains a tiny standard model for 10 full-batch Adam steps (Keras defaults) on fixed
/// random data and returns the loss before each step and after the last. Dropout is off, so
/// the trajectory is deterministic and each step must lower the loss of the same batch (with
/// masks redrawn every step it need not: at these widths the first step with dropout raises
/// the no-dropout loss; dropout's backward is audited by `gradients.rs` and `layers.rs`).
fn trajectory<F: Float>() -> Vec<f64> {
    let (steps, batch, features) = (5, 7, 3);
    let mut config = ModelConfig::new(Arch::Standard, features);
    config.lstm = [5, 3];
    config.dense = [5, 3];
    let model = Model::new(config).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    // Anomalous windows (y = 1) are shifted up, so there is something to learn.
    let y: Vec<f64> = (0..batch).map(|b| (b % 3 == 0) as u8 as f64).collect();
    let mut x = vec![0.0; steps * batch * features];
    for t in 0..steps {
        for b in 0..batch {
            for f in 0..features {
                x[(t * batch + b) * features + f] = rng.random_range(-1.0..1.0) + y[b];
            }
        }
    }
    let w: Vec<f64> = y.iter().map(|&v| if v == 1.0 { 1.5 } else { 0.75 }).collect();
    let (x, y, w): (Vec<F>, Vec<F>, Vec<F>) = (convert(&x), convert(&y), convert(&w));

    let mut p: Vec<F> = model.init_params(7);
    let mut adam = Adam::<F>::new(AdamConfig::default(), p.len());
    let mut ws = model.workspace::<F>();
    let mut d_logit = vec![F::ZERO; batch];
    let mut losses = Vec::new();
    for step in 0..=10 {
        let logit = model.forward(&mut ws, &p, &x, steps, batch, None).to_vec();
        losses.push(weighted_bce_with_logits(&mut d_logit, &logit, &y, &w).to_f64());
        if step == 10 {
            break;
        }
        let mut g = model.layout.zeros::<F>();
        model.backward(&mut ws, &mut g, &p, &x, &d_logit, None);
        adam.update(&mut p, &g);
    }
    losses
}

#[test]
fn ten_adam_steps_lower_the_loss_and_f32_follows_f64() {
    let l64 = trajectory::<f64>();
    let l32 = trajectory::<f32>();
    eprintln!("loss trajectory f64: {l64:.6?}");
    eprintln!("loss trajectory f32: {l32:.6?}");
    for (step, pair) in l64.windows(2).enumerate() {
        assert!(pair[1] < pair[0], "step {}: loss rose from {} to {}", step + 1, pair[0], pair[1]);
    }
    let (first, last) = (l64[0], l64[l64.len() - 1]);
    assert!(last < 0.9 * first, "10 steps lowered the loss only from {first} to {last}");
    // f32 rounding (~6e-8 relative per operation) must not move the trajectory visibly:
    // within 1e-5 of the loss at every step.
    let worst = l32.iter().zip(&l64).map(|(a, b)| (a - b).abs() / b.abs().max(1.0)).fold(0.0, f64::max);
    eprintln!("f32 vs f64 trajectory: worst relative gap {worst:.2e}");
    assert!(worst <= 1e-5, "the f32 trajectory left the f64 one by {worst:.2e}");
}
