//! The attention model: BiLSTM(128, seq) → Dropout(0.3) → [x, Attention()([x, x])] →
//! BiLSTM(64, last) → Dropout(0.3) → head. PyTorch names as `models_torch.Attention`.

use rand::Rng;

use crate::nn::concat::{concat_backward, concat_forward};
use crate::nn::RecurrentCache;
use crate::nn::{resize, AttentionCache, BiLstm, BiLstmCache, Dropout, LstmOutput, SelfAttention};
use crate::params::ParamLayout;
use crate::Float;

use super::architecture::{Architecture, ArchitectureCache};
use super::head::{Head, HeadCache};
use super::{
    dropout_backward, dropout_forward, steps_read, zeroed, DropoutSeed, LayerSummary, ModelConfig, ParamCount,
};

#[derive(Clone, Debug)]
pub struct AttentionModel {
    pub l1: BiLstm,
    pub l2: BiLstm,
    pub drop1: Dropout,
    pub drop2: Dropout,
    pub head: Head,
}

#[derive(Clone, Debug, Default)]
pub struct Cache<F> {
    steps: usize,
    batch: usize,
    dropped: bool,
    l1: BiLstmCache<F>,
    mask1: Vec<F>, // (T, B, D), D = 2H1
    h1d: Vec<F>,   // (T, B, D)
    att: Vec<F>,   // (T, B, D)
    attention: AttentionCache<F>,
    cat: Vec<F>, // (T, B, 2D)
    l2: BiLstmCache<F>,
    mask2: Vec<F>, // (B, 2H2)
    h2d: Vec<F>,   // (B, 2H2)
    head: HeadCache<F>,
    d_h2d: Vec<F>,
    d_h2: Vec<F>,
    d_cat: Vec<F>,
    d_att: Vec<F>,
    d_h1d: Vec<F>,
    d_h1: Vec<F>,
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

impl AttentionModel {
    pub fn new(layout: &mut ParamLayout, cfg: &ModelConfig) -> Self {
        let [h1, h2] = cfg.lstm;
        AttentionModel {
            l1: BiLstm::new(layout, "l1", cfg.features, h1),
            l2: BiLstm::new(layout, "l2", 4 * h1, h2),
            drop1: Dropout::new(cfg.dropout_lstm, 1),
            drop2: Dropout::new(cfg.dropout_lstm, 2),
            head: Head::new(layout, 2 * h2, cfg.dense, cfg.head_outputs(), cfg.dropout_head, 3),
        }
    }
}

impl Architecture for AttentionModel {
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
        let d = 2 * self.l1.hidden();
        c.steps = steps;
        c.batch = batch;
        c.dropped = dropout.is_some();
        self.l1.forward(&mut c.l1, x, p, steps, batch, LstmOutput::Sequence);
        let h1d = dropout_forward(&self.drop1, &mut c.mask1, &mut c.h1d, &c.l1.out, steps, batch, dropout);
        resize(&mut c.att, h1d.len());
        SelfAttention::forward(&mut c.att, &mut c.attention, h1d, steps, batch);
        resize(&mut c.cat, 2 * h1d.len());
        concat_forward(&mut c.cat, h1d, d, &c.att, d);
        self.l2.forward(&mut c.l2, &c.cat, p, steps, batch, LstmOutput::Last);
        let h2d = dropout_forward(&self.drop2, &mut c.mask2, &mut c.h2d, &c.l2.out, 1, batch, dropout);
        self.head.forward(&mut c.head, h2d, p, batch, dropout);
        &c.head.out
    }

    fn backward<F: Float>(&self, c: &mut Cache<F>, g: &mut [F], p: &[F], x: &[F], d_out: &[F], dx: Option<&mut [F]>) {
        let (steps, batch) = (c.steps, c.batch);
        let (d, h2) = (2 * self.l1.hidden(), self.l2.hidden());
        let applied1 = c.dropped && self.drop1.rate > 0.0;
        let applied2 = c.dropped && self.drop2.rate > 0.0;
        let seq = steps * batch * d;
        zeroed(&mut c.d_h2d, batch * 2 * h2);
        zeroed(&mut c.d_h2, batch * 2 * h2);
        zeroed(&mut c.d_cat, 2 * seq);
        zeroed(&mut c.d_att, seq);
        zeroed(&mut c.d_h1d, seq);
        zeroed(&mut c.d_h1, seq);

        let h2d = if applied2 { &c.h2d[..] } else { &c.l2.out[..] };
        self.head.backward(Some(&mut c.d_h2d), g, &mut c.head, d_out, h2d, p);
        dropout_backward(&mut c.d_h2, &c.d_h2d, &c.mask2, applied2);
        self.l2.backward(Some(&mut c.d_cat), g, &mut c.l2, &c.d_h2, LstmOutput::Last, &c.cat, p);
        concat_backward(Some(&mut c.d_h1d), d, Some(&mut c.d_att), d, &c.d_cat);
        let h1d = if applied1 { &c.h1d[..] } else { &c.l1.out[..] };
        SelfAttention::backward(&mut c.d_h1d, &mut c.attention, &c.d_att, h1d, steps, batch);
        dropout_backward(&mut c.d_h1, &c.d_h1d, &c.mask1, applied1);
        self.l1.backward(dx, g, &mut c.l1, &c.d_h1, LstmOutput::Sequence, x, p);
    }

    fn summary(&self, cfg: &ModelConfig, count: &ParamCount<'_>) -> Vec<LayerSummary> {
        let ([a, b], t, row) = (cfg.lstm, steps_read(cfg), LayerSummary::new);
        let mut rows = vec![
            row("l1", "BiLSTM", format!("(B, {t}, {})", 2 * a), count.of("l1")),
            row("drop1", "Dropout", format!("(B, {t}, {})", 2 * a), 0),
            row("attention", "Attention(dot)", format!("(B, {t}, {})", 2 * a), 0),
            row("concat", "Concatenate", format!("(B, {t}, {})", 4 * a), 0),
            row("l2", "BiLSTM(last)", format!("(B, {})", 2 * b), count.of("l2")),
            row("drop2", "Dropout", format!("(B, {})", 2 * b), 0),
        ];
        rows.extend(Head::summary(cfg, count));
        rows
    }
}
