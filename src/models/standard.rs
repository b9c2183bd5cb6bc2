//! The standard model: LSTM(128, seq) → Dropout(0.3) → LSTM(64, last) → Dropout(0.3) → head.
//! PyTorch names `l1.*`, `l2.*`, `head.*` (as `models_torch.Standard`).

use rand::Rng;

use crate::nn::RecurrentCache;
use crate::nn::{Dropout, Lstm, LstmCache, LstmOutput};
use crate::params::ParamLayout;
use crate::Float;

use super::architecture::{Architecture, ArchitectureCache};
use super::head::{Head, HeadCache};
use super::{
    dropout_backward, dropout_forward, steps_read, zeroed, DropoutSeed, LayerSummary, ModelConfig, ParamCount,
};

#[derive(Clone, Debug)]
pub struct Standard {
    pub l1: Lstm,
    pub l2: Lstm,
    pub drop1: Dropout,
    pub drop2: Dropout,
    pub head: Head,
}

#[derive(Clone, Debug, Default)]
pub struct Cache<F> {
    steps: usize,
    batch: usize,
    dropped: bool,
    l1: LstmCache<F>,
    mask1: Vec<F>, // (T, B, H1)
    h1d: Vec<F>,   // (T, B, H1)
    l2: LstmCache<F>,
    mask2: Vec<F>, // (B, H2)
    h2d: Vec<F>,   // (B, H2)
    head: HeadCache<F>,
    d_h2d: Vec<F>, // (B, H2)
    d_h2: Vec<F>,  // (B, H2)
    d_h1d: Vec<F>, // (T, B, H1)
    d_h1: Vec<F>,  // (T, B, H1)
}

impl<F: Float> ArchitectureCache<F> for Cache<F> {
    fn for_each_recurrent(&mut self, f: &mut dyn FnMut(&mut dyn RecurrentCache)) {
        f(&mut self.l1);
        f(&mut self.l2);
    }

    fn head(&self) -> Option<&HeadCache<F>> {
        Some(&self.head)
    }
}

impl Standard {
    pub fn new(layout: &mut ParamLayout, cfg: &ModelConfig) -> Self {
        let [h1, h2] = cfg.lstm;
        Standard {
            l1: Lstm::new(layout, "l1", cfg.features, h1, false),
            l2: Lstm::new(layout, "l2", h1, h2, false),
            drop1: Dropout::new(cfg.dropout_lstm, 1),
            drop2: Dropout::new(cfg.dropout_lstm, 2),
            head: Head::new(layout, h2, cfg.dense, cfg.head_outputs(), cfg.dropout_head, 3),
        }
    }
}

impl Architecture for Standard {
    type Cache<F: Float> = Cache<F>;

    fn init<F: Float>(&self, p: &mut [F], rng: &mut impl Rng) {
        self.l1.init(p, rng);
        self.l2.init(p, rng);
        self.head.init(p, rng);
    }

    fn forward<'c, F: Float>(
        &self,
        c: &'c mut Cache<F>,
        x: &[F],
        p: &[F],
        steps: usize,
        batch: usize,
        dropout: Option<DropoutSeed>,
    ) -> &'c [F] {
        c.steps = steps;
        c.batch = batch;
        c.dropped = dropout.is_some();
        self.l1.forward(&mut c.l1, x, p, steps, batch);
        let h1d = dropout_forward(&self.drop1, &mut c.mask1, &mut c.h1d, c.l1.sequence(), steps, batch, dropout);
        self.l2.forward(&mut c.l2, h1d, p, steps, batch);
        let h2d = dropout_forward(&self.drop2, &mut c.mask2, &mut c.h2d, c.l2.last(), 1, batch, dropout);
        self.head.forward(&mut c.head, h2d, p, batch, dropout);
        &c.head.out
    }

    fn backward<F: Float>(&self, c: &mut Cache<F>, g: &mut [F], p: &[F], x: &[F], d_out: &[F], dx: Option<&mut [F]>) {
        let (steps, batch) = (c.steps, c.batch);
        let (h1, h2) = (self.l1.hidden, self.l2.hidden);
        let applied1 = c.dropped && self.drop1.rate > 0.0;
        let applied2 = c.dropped && self.drop2.rate > 0.0;
        zeroed(&mut c.d_h2d, batch * h2);
        zeroed(&mut c.d_h2, batch * h2);
        zeroed(&mut c.d_h1d, steps * batch * h1);
        zeroed(&mut c.d_h1, steps * batch * h1);

        let h2d = if applied2 { &c.h2d[..] } else { c.l2.last() };
        self.head.backward(Some(&mut c.d_h2d), g, &mut c.head, d_out, h2d, p);
        dropout_backward(&mut c.d_h2, &c.d_h2d, &c.mask2, applied2);
        let h1d = if applied1 { &c.h1d[..] } else { c.l1.sequence() };
        self.l2.backward(Some(&mut c.d_h1d), g, &mut c.l2, &c.d_h2, LstmOutput::Last, h1d, p);
        dropout_backward(&mut c.d_h1, &c.d_h1d, &c.mask1, applied1);
        self.l1.backward(dx, g, &mut c.l1, &c.d_h1, LstmOutput::Sequence, x, p);
    }

    fn summary(&self, cfg: &ModelConfig, count: &ParamCount<'_>) -> Vec<LayerSummary> {
        let ([a, b], t, row) = (cfg.lstm, steps_read(cfg), LayerSummary::new);
        let mut rows = vec![
            row("l1", "LSTM", format!("(B, {t}, {a})"), count.of("l1")),
            row("drop1", "Dropout", format!("(B, {t}, {a})"), 0),
            row("l2", "LSTM(last)", format!("(B, {b})"), count.of("l2")),
            row("drop2", "Dropout", format!("(B, {b})"), 0),
        ];
        rows.extend(Head::summary(cfg, count));
        rows
    }
}
