//! The LSTM autoencoder:
//!   e1 BiLSTM(64, seq) → e2 BiLSTM(32, last) → RepeatVector(T) → d1 BiLSTM(32, seq) →
//!   d2 BiLSTM(64, seq) → recon: Dense(F) on every step = reconstruction r (T, B, F)
//!   err_b = mean_{t,f} (r − x)²
//! Supervised (the original's): logit = `score` Dense(1)(err), trained with weighted BCE.
//! Unsupervised: the output is err itself, trained on it alone (only normal windows), and
//! the per-feature errors explain a detection. Note that err depends on x twice, through the
//! reconstruction and directly, so dx has both terms.

use rand::Rng;

use crate::nn::repeat::{repeat_backward, repeat_forward};
use crate::nn::RecurrentCache;
use crate::nn::{
    resize, window_error_backward, window_error_forward, BiLstm, BiLstmCache, Dense, ErrorShape, LstmOutput,
};
use crate::params::ParamLayout;
use crate::Float;

use super::architecture::{Architecture, ArchitectureCache};
use super::head::HeadCache;
use super::{zeroed, DropoutSeed, LayerSummary, ModelConfig, Objective, ParamCount};

#[derive(Clone, Debug)]
pub struct Autoencoder {
    pub e1: BiLstm,
    pub e2: BiLstm,
    pub d1: BiLstm,
    pub d2: BiLstm,
    pub recon: Dense,
    /// `Dense(1)` on the error, supervised objective only.
    pub score: Option<Dense>,
    pub features: usize,
    /// Per-feature weights of the error (see [`crate::nn::window_error`]); unsupervised only.
    pub error_weights: Option<Vec<f64>>,
}

#[derive(Clone, Debug, Default)]
pub struct Cache<F> {
    steps: usize,
    batch: usize,
    e1: BiLstmCache<F>,
    e2: BiLstmCache<F>,
    rep: Vec<F>, // (T, B, 2H2)
    d1: BiLstmCache<F>,
    d2: BiLstmCache<F>,
    recon: Vec<F>, // (T, B, F)
    err: Vec<F>,   // (B)
    parts: Vec<F>, // (B, F) per-feature mean squared error
    logit: Vec<F>, // (B)
    d_err: Vec<F>,
    d_recon: Vec<F>,
    d_h4: Vec<F>,
    d_h3: Vec<F>,
    d_rep: Vec<F>,
    d_z: Vec<F>,
    d_h1: Vec<F>,
}

impl<F: Float> ArchitectureCache<F> for Cache<F> {
    fn for_each_recurrent(&mut self, f: &mut dyn FnMut(&mut dyn RecurrentCache)) {
        for layer in [&mut self.e1, &mut self.e2, &mut self.d1, &mut self.d2] {
            f(layer);
        }
    }

    /// The autoencoder has no dense head.
    fn head(&self) -> Option<&HeadCache<F>> {
        None
    }
}

impl<F: Float> Cache<F> {
    /// The reconstruction `(T, B, F)` of the last forward pass.
    pub fn reconstruction(&self) -> &[F] {
        &self.recon
    }

    /// Per-feature errors `(B, F)` of the last forward pass (unweighted).
    pub fn feature_errors(&self) -> &[F] {
        &self.parts
    }
}

impl Autoencoder {
    pub fn new(layout: &mut ParamLayout, cfg: &ModelConfig) -> Self {
        let [outer, inner] = cfg.lstm;
        let f = cfg.features;
        Autoencoder {
            e1: BiLstm::new(layout, "e1", f, outer),
            e2: BiLstm::new(layout, "e2", 2 * outer, inner),
            d1: BiLstm::new(layout, "d1", 2 * inner, inner),
            d2: BiLstm::new(layout, "d2", 2 * inner, outer),
            recon: Dense::new(layout, "recon", 2 * outer, f),
            score: (cfg.objective == Objective::Classifier).then(|| Dense::new(layout, "score", 1, 1)),
            features: f,
            error_weights: cfg.error_weights.clone().filter(|_| cfg.objective == Objective::Reconstruction),
        }
    }
}

impl Architecture for Autoencoder {
    type Cache<F: Float> = Cache<F>;

    fn init<F: Float>(&self, p: &mut [F], rng: &mut impl Rng) {
        for l in [&self.e1, &self.e2, &self.d1, &self.d2] {
            l.init(p, rng);
        }
        self.recon.init(p, rng);
        if let Some(score) = &self.score {
            score.init(p, rng);
        }
    }

    /// No dropout in the autoencoder (as in the original): `_dropout` is ignored.
    fn forward<'c, F: Float>(
        &self,
        c: &'c mut Cache<F>,
        x: &[F],
        p: &[F],
        steps: usize,
        batch: usize,
        _dropout: Option<DropoutSeed>,
    ) -> &'c [F] {
        c.steps = steps;
        c.batch = batch;
        self.e1.forward(&mut c.e1, x, p, steps, batch, LstmOutput::Sequence);
        self.e2.forward(&mut c.e2, &c.e1.out, p, steps, batch, LstmOutput::Last);
        resize(&mut c.rep, steps * c.e2.out.len());
        repeat_forward(&mut c.rep, &c.e2.out, steps);
        self.d1.forward(&mut c.d1, &c.rep, p, steps, batch, LstmOutput::Sequence);
        self.d2.forward(&mut c.d2, &c.d1.out, p, steps, batch, LstmOutput::Sequence);
        resize(&mut c.recon, x.len());
        self.recon.forward(&mut c.recon, &c.d2.out, p);

        // err_b = mean over (t, f) of w_f (r − x)²; the supervised objective's weights are 1.
        let shape = ErrorShape { steps, batch, features: self.features };
        window_error_forward(&mut c.err, &mut c.parts, &c.recon, x, shape, self.error_weights.as_deref());
        match &self.score {
            Some(score) => {
                resize(&mut c.logit, batch);
                score.forward(&mut c.logit, &c.err, p);
                &c.logit
            }
            None => &c.err,
        }
    }

    fn backward<F: Float>(
        &self,
        c: &mut Cache<F>,
        g: &mut [F],
        p: &[F],
        x: &[F],
        d_out: &[F],
        mut dx: Option<&mut [F]>,
    ) {
        let (steps, batch, f) = (c.steps, c.batch, self.features);
        let (outer, inner) = (self.e1.hidden(), self.e2.hidden());
        zeroed(&mut c.d_err, batch);
        match &self.score {
            Some(score) => score.backward(Some(&mut c.d_err), g, d_out, &c.err, p),
            None => c.d_err.copy_from_slice(d_out),
        }
        // d r = d err_b · 2 w_f (r − x) / (T F); the direct path gives dx −= the same.
        let shape = ErrorShape { steps, batch, features: f };
        window_error_backward(&mut c.d_recon, &c.d_err, &c.recon, x, shape, self.error_weights.as_deref());
        if let Some(dx) = dx.as_deref_mut() {
            for (d, &v) in dx.iter_mut().zip(&c.d_recon) {
                *d -= v;
            }
        }
        zeroed(&mut c.d_h4, steps * batch * 2 * outer);
        zeroed(&mut c.d_h3, steps * batch * 2 * inner);
        zeroed(&mut c.d_rep, steps * batch * 2 * inner);
        zeroed(&mut c.d_z, batch * 2 * inner);
        zeroed(&mut c.d_h1, steps * batch * 2 * outer);
        self.recon.backward(Some(&mut c.d_h4), g, &c.d_recon, &c.d2.out, p);
        self.d2.backward(Some(&mut c.d_h3), g, &mut c.d2, &c.d_h4, LstmOutput::Sequence, &c.d1.out, p);
        self.d1.backward(Some(&mut c.d_rep), g, &mut c.d1, &c.d_h3, LstmOutput::Sequence, &c.rep, p);
        repeat_backward(&mut c.d_z, &c.d_rep);
        self.e2.backward(Some(&mut c.d_h1), g, &mut c.e2, &c.d_z, LstmOutput::Last, &c.e1.out, p);
        self.e1.backward(dx, g, &mut c.e1, &c.d_h1, LstmOutput::Sequence, x, p);
    }

    fn summary(&self, cfg: &ModelConfig, count: &ParamCount<'_>) -> Vec<LayerSummary> {
        let ([a, b], f, row) = (cfg.lstm, cfg.features, LayerSummary::new);
        let mut rows = vec![
            row("e1", "BiLSTM", format!("(B, T, {})", 2 * a), count.of("e1")),
            row("e2", "BiLSTM(last)", format!("(B, {})", 2 * b), count.of("e2")),
            row("repeat", "RepeatVector(T)", format!("(B, T, {})", 2 * b), 0),
            row("d1", "BiLSTM", format!("(B, T, {})", 2 * b), count.of("d1")),
            row("d2", "BiLSTM", format!("(B, T, {})", 2 * a), count.of("d2")),
            row("recon", "TimeDistributed(Dense)", format!("(B, T, {f})"), count.of("recon")),
            row("error", "MeanSquaredError", "(B, 1)".to_string(), 0),
        ];
        if cfg.objective == Objective::Classifier {
            rows.push(row("score", "Dense(sigmoid)", "(B, 1)".to_string(), count.of("score")));
        }
        rows
    }
}
