//! The dense head shared by the three classifiers (the original project's):
//!   Dense(64, ReLU) → LayerNorm → Dropout(0.2) → Dense(32, ReLU) → LayerNorm → Dense(K)
//! K = 1 for a classifier: the logit (σ is applied by the loss, on logits for stability, and
//! by scoring). K = F for a forecaster: the predicted next row of scaled features.
//! PyTorch names: `head.d1`, `head.ln1`, `head.d2`, `head.ln2`, `head.out`.

use rand::Rng;

use crate::nn::dropout::MaskShape;
use crate::nn::{resize, Dense, Dropout, LayerNorm, LayerNormCache};
use crate::params::ParamLayout;
use crate::Float;

use super::{DropoutSeed, LayerSummary, ModelConfig, Objective, ParamCount};

#[derive(Clone, Debug)]
pub struct Head {
    pub d1: Dense,
    pub ln1: LayerNorm,
    pub drop: Dropout,
    pub d2: Dense,
    pub ln2: LayerNorm,
    pub out: Dense,
}

/// Buffers of one forward/backward pass, all `(B, ·)`.
#[derive(Clone, Debug, Default)]
pub struct HeadCache<F> {
    a1: Vec<F>, // (B, W1) relu(d1(x))
    n1: Vec<F>, // (B, W1) ln1(a1)
    ln1: LayerNormCache<F>,
    mask: Vec<F>, // (B, W1)
    n1d: Vec<F>,  // (B, W1) dropout(n1)
    a2: Vec<F>,   // (B, W2) relu(d2(n1d))
    n2: Vec<F>,   // (B, W2) ln2(a2)
    ln2: LayerNormCache<F>,
    /// The outputs `(B, K)`: logits (K = 1) or forecasts (K = F).
    pub out: Vec<F>,
    dropped: bool,
    // gradients
    d_n2: Vec<F>,
    d_a2: Vec<F>,
    d_z2: Vec<F>,
    d_n1d: Vec<F>,
    d_n1: Vec<F>,
    d_a1: Vec<F>,
    d_z1: Vec<F>,
}

impl<F: Float> HeadCache<F> {
    /// `a > 0` for every ReLU output of the last forward pass.
    pub fn relu_pattern(&self) -> Vec<bool> {
        self.a1.iter().chain(&self.a2).map(|&v| v > F::ZERO).collect()
    }
}

impl Head {
    /// A head from `input` features to `outputs` (K) values per sample.
    pub fn new(
        layout: &mut ParamLayout,
        input: usize,
        widths: [usize; 2],
        outputs: usize,
        dropout: f64,
        dropout_id: u64,
    ) -> Self {
        Head {
            d1: Dense::new(layout, "head.d1", input, widths[0]),
            ln1: LayerNorm::new(layout, "head.ln1", widths[0]),
            drop: Dropout::new(dropout, dropout_id),
            d2: Dense::new(layout, "head.d2", widths[0], widths[1]),
            ln2: LayerNorm::new(layout, "head.ln2", widths[1]),
            out: Dense::new(layout, "head.out", widths[1], outputs),
        }
    }

    pub fn init<F: Float>(&self, p: &mut [F], rng: &mut impl Rng) {
        self.d1.init(p, rng);
        self.ln1.init(p);
        self.d2.init(p, rng);
        self.ln2.init(p);
        self.out.init(p, rng);
    }

    /// `x (B, in)` → `cache.out (B, K)`.
    pub fn forward<F: Float>(
        &self,
        cache: &mut HeadCache<F>,
        x: &[F],
        p: &[F],
        batch: usize,
        dropout: Option<DropoutSeed>,
    ) {
        let (w1, w2) = (self.d1.output, self.d2.output);
        resize(&mut cache.a1, batch * w1);
        resize(&mut cache.n1, batch * w1);
        resize(&mut cache.a2, batch * w2);
        resize(&mut cache.n2, batch * w2);
        resize(&mut cache.out, batch * self.out.output);

        self.d1.forward(&mut cache.a1, x, p);
        F::relu_inplace(&mut cache.a1);
        self.ln1.forward(&mut cache.n1, &mut cache.ln1, &cache.a1, p);
        cache.dropped = dropout.is_some() && self.drop.rate > 0.0;
        let n1d: &[F] = match dropout {
            Some(seed) if cache.dropped => {
                resize(&mut cache.mask, batch * w1);
                resize(&mut cache.n1d, batch * w1);
                let shape = MaskShape { steps: 1, batch, cols: w1, first_sample: seed.first_sample };
                self.drop.sample_mask(&mut cache.mask, seed.seed, shape);
                Dropout::forward(&mut cache.n1d, &cache.n1, &cache.mask);
                &cache.n1d
            }
            _ => &cache.n1,
        };
        self.d2.forward(&mut cache.a2, n1d, p);
        F::relu_inplace(&mut cache.a2);
        self.ln2.forward(&mut cache.n2, &mut cache.ln2, &cache.a2, p);
        self.out.forward(&mut cache.out, &cache.n2, p);
    }

    /// Backward from `d_out (B, K)`; adds into `g` and, when given, `dx (B, in)`.
    pub fn backward<F: Float>(
        &self,
        dx: Option<&mut [F]>,
        g: &mut [F],
        cache: &mut HeadCache<F>,
        d_out: &[F],
        x: &[F],
        p: &[F],
    ) {
        let batch = d_out.len() / self.out.output;
        let (w1, w2) = (self.d1.output, self.d2.output);
        for (buf, len) in [
            (&mut cache.d_n2, batch * w2),
            (&mut cache.d_a2, batch * w2),
            (&mut cache.d_z2, batch * w2),
            (&mut cache.d_n1d, batch * w1),
            (&mut cache.d_n1, batch * w1),
            (&mut cache.d_a1, batch * w1),
            (&mut cache.d_z1, batch * w1),
        ] {
            resize(buf, len);
            buf.fill(F::ZERO);
        }
        self.out.backward(Some(&mut cache.d_n2), g, d_out, &cache.n2, p);
        self.ln2.backward(&mut cache.d_a2, g, &cache.d_n2, &cache.a2, &cache.ln2, p);
        F::relu_backward(&mut cache.d_z2, &cache.d_a2, &cache.a2);
        let n1d = if cache.dropped { &cache.n1d } else { &cache.n1 };
        self.d2.backward(Some(&mut cache.d_n1d), g, &cache.d_z2, n1d, p);
        if cache.dropped {
            Dropout::backward(&mut cache.d_n1, &cache.d_n1d, &cache.mask);
        } else {
            std::mem::swap(&mut cache.d_n1, &mut cache.d_n1d);
        }
        self.ln1.backward(&mut cache.d_a1, g, &cache.d_n1, &cache.a1, &cache.ln1, p);
        F::relu_backward(&mut cache.d_z1, &cache.d_a1, &cache.a1);
        self.d1.backward(dx, g, &cache.d_z1, x, p);
    }
}

impl Head {
    /// The head's rows of [`Model::summary`](super::Model::summary).
    pub fn summary(cfg: &ModelConfig, count: &ParamCount<'_>) -> Vec<LayerSummary> {
        let ([d1, d2], f) = (cfg.dense, cfg.features);
        let row = LayerSummary::new;
        let mut rows = vec![
            row("head.d1", "Dense(ReLU)", format!("(B, {d1})"), count.of("head.d1")),
            row("head.ln1", "LayerNorm", format!("(B, {d1})"), count.of("head.ln1")),
            row("head.drop", "Dropout", format!("(B, {d1})"), 0),
            row("head.d2", "Dense(ReLU)", format!("(B, {d2})"), count.of("head.d2")),
            row("head.ln2", "LayerNorm", format!("(B, {d2})"), count.of("head.ln2")),
        ];
        if cfg.objective == Objective::Forecast {
            rows.push(row("head.out", "Dense (forecast)", format!("(B, {f})"), count.of("head.out")));
            rows.push(row("error", "SquaredError(last row)", "(B, 1)".to_string(), 0));
        } else {
            rows.push(row("head.out", "Dense(sigmoid)", "(B, 1)".to_string(), count.of("head.out")));
        }
        rows
    }
}
