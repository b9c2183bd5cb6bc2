//! LSTM, one direction. PyTorch layout and gate order i, f, g, o:
//!   W_ih (4H, I), W_hh (4H, H), b_ih (4H), b_hh (4H)
//!   a_t = x_t W_ihᵀ + h_{t−1} W_hhᵀ + b_ih + b_hh
//!   i, f, o = σ(a_t[i|f|o]),  g = tanh(a_t[g])
//!   c_t = f ⊙ c_{t−1} + i ⊙ g,  h_t = o ⊙ tanh(c_t),   h_{−1} = c_{−1} = 0
//! A reverse LSTM reads x_{T−1} … x_0 with its own weights (`_reverse` names); its state at
//! time t is the one after reading x_{T−1} down to x_t, so its output is aligned to input
//! time t (Keras and PyTorch semantics).
//!
//! Only the recurrence h_{t−1} → a_t is sequential. The input projection of every step is one
//! GEMM before the loop; in backward, dW_ih, dW_hh and dx are one GEMM each after the loop.
//!
//! States are kept in T + 1 *slots* in time order. Forward direction: slot 0 is the initial
//! state and slot t + 1 the state after x_t. Reverse direction: slot T is the initial state
//! and slot t the state after x_t. Either way the output sequence (T, B, H) is a contiguous
//! run of slots, and so are the previous states of all steps (for dW_hh).

use kubelstm_kernels::gemm::{b_row_stride, transpose};
use kubelstm_kernels::{gemm, Mat, MatMut};
use rand::Rng;

use crate::nn::{resize, RecurrentCache};
use crate::params::{glorot_uniform, orthogonal, ParamLayout, Span};
use crate::Float;

#[derive(Clone, Debug)]
pub struct Lstm {
    pub input: usize,
    pub hidden: usize,
    pub reverse: bool,
    pub w_ih: Span,
    pub w_hh: Span,
    pub b_ih: Span,
    pub b_hh: Span,
}

/// What the caller wants back: every step's output, or only the last state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LstmOutput {
    /// `(T, B, H)`: h for every input time t.
    Sequence,
    /// `(B, H)`: the state after the whole sequence was read (h_{T−1} forward, the output at
    /// time 0 for the reverse direction).
    Last,
}

/// Everything backward needs, sized once per (T, B) and reused across steps.
#[derive(Clone, Debug, Default)]
pub struct LstmCache<F> {
    steps: usize,
    batch: usize,
    hidden: usize,
    reverse: bool,
    bias: Vec<F>,   // (4H) b_ih + b_hh
    gates: Vec<F>,  // (T, B, 4H) activations i, f, g, o
    c: Vec<F>,      // (T+1, B, H) slots
    h: Vec<F>,      // (T+1, B, H) slots
    dpre: Vec<F>,   // (T, B, 4H) gradient of the pre-activations
    dh: Vec<F>,     // (B, H) gradient reaching h of the current step
    dc: Vec<F>,     // (B, H) gradient reaching c of the current step
    w_ih_t: Vec<F>, // (I, 4H) W_ihᵀ, row-major, rows b_row_stride(4H) apart: GEMM reads B by rows
    w_hh_t: Vec<F>, // (H, 4H) W_hhᵀ, the same stride
    /// Version of the weights the caller promises for the next forward pass; `None` means
    /// "unknown" and the transposes are redone every pass.
    weights_generation: Option<u64>,
    transposed_generation: Option<u64>,
    /// Backward computes dx only and leaves the parameter gradients alone.
    input_gradients_only: bool,
}

impl<F: Float> RecurrentCache for LstmCache<F> {
    fn set_weights_generation(&mut self, generation: Option<u64>) {
        self.weights_generation = generation;
    }

    fn set_input_gradients_only(&mut self, on: bool) {
        self.input_gradients_only = on;
    }
}

impl<F: Float> LstmCache<F> {
    fn block(&self) -> usize {
        self.batch * self.hidden
    }
    /// The output of every time step, `(T, B, H)`, after [`Lstm::forward`].
    pub fn sequence(&self) -> &[F] {
        let n = self.block();
        if self.reverse {
            &self.h[..self.steps * n]
        } else {
            &self.h[n..]
        }
    }
    /// The last state `(B, H)` after [`Lstm::forward`] (see [`LstmOutput::Last`]).
    pub fn last(&self) -> &[F] {
        let n = self.block();
        let slot = if self.reverse { 0 } else { self.steps };
        &self.h[slot * n..(slot + 1) * n]
    }
    /// The final cell state `(B, H)`.
    pub fn last_cell(&self) -> &[F] {
        let n = self.block();
        let slot = if self.reverse { 0 } else { self.steps };
        &self.c[slot * n..(slot + 1) * n]
    }
}

/// Splits a slot buffer into the previous slot (read) and the current slot (written).
fn prev_and_cur<F>(buf: &mut [F], prev: usize, cur: usize, n: usize) -> (&[F], &mut [F]) {
    if prev < cur {
        let (lo, hi) = buf.split_at_mut(cur * n);
        (&lo[prev * n..(prev + 1) * n], &mut hi[..n])
    } else {
        let (lo, hi) = buf.split_at_mut(prev * n);
        (&hi[..n], &mut lo[cur * n..(cur + 1) * n])
    }
}

impl Lstm {
    /// Registers `{prefix}.weight_ih_l0{suffix}` etc., suffix `_reverse` for a reverse LSTM.
    pub fn new(layout: &mut ParamLayout, prefix: &str, input: usize, hidden: usize, reverse: bool) -> Self {
        let suffix = if reverse { "_reverse" } else { "" };
        let w_ih = layout.add(format!("{prefix}.weight_ih_l0{suffix}"), &[4 * hidden, input]);
        let w_hh = layout.add(format!("{prefix}.weight_hh_l0{suffix}"), &[4 * hidden, hidden]);
        let b_ih = layout.add(format!("{prefix}.bias_ih_l0{suffix}"), &[4 * hidden]);
        let b_hh = layout.add(format!("{prefix}.bias_hh_l0{suffix}"), &[4 * hidden]);
        Lstm { input, hidden, reverse, w_ih, w_hh, b_ih, b_hh }
    }

    /// Keras defaults: Glorot-uniform W_ih, orthogonal W_hh, zero biases except the forget
    /// gate's 1 (`unit_forget_bias`), carried by b_ih.
    pub fn init<F: Float>(&self, p: &mut [F], rng: &mut impl Rng) {
        let h = self.hidden;
        glorot_uniform(self.w_ih.of_mut(p), 4 * h, self.input, rng);
        orthogonal(self.w_hh.of_mut(p), 4 * h, h, rng);
        let b_ih = self.b_ih.of_mut(p);
        b_ih.fill(F::ZERO);
        b_ih[h..2 * h].fill(F::ONE);
        self.b_hh.of_mut(p).fill(F::ZERO);
    }

    /// (previous slot, current slot) of input time t.
    #[inline]
    fn slots(&self, t: usize) -> (usize, usize) {
        if self.reverse {
            (t + 1, t)
        } else {
            (t, t + 1)
        }
    }

    /// Input times in the order this direction reads them.
    fn order(&self, steps: usize) -> impl Iterator<Item = usize> {
        let reverse = self.reverse;
        (0..steps).map(move |s| if reverse { steps - 1 - s } else { s })
    }

    /// Runs the layer over `x (T, B, I)`; the result is in `cache` ([`LstmCache::sequence`],
    /// [`LstmCache::last`]).
    pub fn forward<F: Float>(&self, cache: &mut LstmCache<F>, x: &[F], p: &[F], steps: usize, batch: usize) {
        let (h, n_in) = (self.hidden, self.input);
        assert_eq!(x.len(), steps * batch * n_in, "lstm forward: x is not (T={steps}, B={batch}, I={n_in})");
        cache.steps = steps;
        cache.batch = batch;
        cache.hidden = h;
        cache.reverse = self.reverse;
        let rows = steps * batch;
        let block = batch * h;
        resize(&mut cache.bias, 4 * h);
        resize(&mut cache.gates, rows * 4 * h);
        resize(&mut cache.c, (steps + 1) * block);
        resize(&mut cache.h, (steps + 1) * block);

        for ((b, &bi), &bh) in cache.bias.iter_mut().zip(self.b_ih.of(p)).zip(self.b_hh.of(p)) {
            *b = bi + bh;
        }
        // The transposed weights' rows are `ld` apart, a stride that keeps GEMM's panels in L1.
        let ld = b_row_stride(4 * h);
        if cache.weights_generation.is_none() || cache.weights_generation != cache.transposed_generation {
            resize(&mut cache.w_ih_t, n_in * ld);
            resize(&mut cache.w_hh_t, h * ld);
            transpose(&mut cache.w_ih_t, ld, self.w_ih.of(p), 4 * h, n_in);
            transpose(&mut cache.w_hh_t, ld, self.w_hh.of(p), 4 * h, h);
            cache.transposed_generation = cache.weights_generation;
        }
        // Input projection of every step at once: gates (TB, 4H) = x (TB, I) · W_ihᵀ + b.
        let w_ih_t = Mat::strided(&cache.w_ih_t, n_in, 4 * h, ld);
        gemm(F::ONE, Mat::new(x, rows, n_in), w_ih_t, F::ZERO, MatMut::new(&mut cache.gates, rows, 4 * h));
        F::add_bias_rows(&mut cache.gates, &cache.bias);

        let init = if self.reverse { steps } else { 0 };
        cache.h[init * block..(init + 1) * block].fill(F::ZERO);
        cache.c[init * block..(init + 1) * block].fill(F::ZERO);
        let w_hh_t = Mat::strided(&cache.w_hh_t, h, 4 * h, ld);
        for (s, t) in self.order(steps).enumerate() {
            let (prev, cur) = self.slots(t);
            let gates_t = &mut cache.gates[t * batch * 4 * h..(t + 1) * batch * 4 * h];
            // gates_t (B, 4H) += h_prev (B, H) · W_hhᵀ. The first step's h_prev is the zero
            // initial state: its product would add exact zeros, so it is skipped (same bits).
            if s > 0 {
                gemm(
                    F::ONE,
                    Mat::new(&cache.h[prev * block..(prev + 1) * block], batch, h),
                    w_hh_t,
                    F::ONE,
                    MatMut::new(gates_t, batch, 4 * h),
                );
            }
            let (c_prev, c_cur) = prev_and_cur(&mut cache.c, prev, cur, block);
            let h_cur = &mut cache.h[cur * block..(cur + 1) * block];
            F::lstm_cell_forward(gates_t, c_cur, h_cur, c_prev, h);
        }
    }

    /// Backpropagation through time. `dy` is the gradient of the output chosen by `output`
    /// (`(T, B, H)` or `(B, H)`). Adds into the parameter gradients in `g` and, when given,
    /// into `dx (T, B, I)`. `x` and `cache` must be those of the matching forward call.
    #[allow(clippy::too_many_arguments)]
    pub fn backward<F: Float>(
        &self,
        dx: Option<&mut [F]>,
        g: &mut [F],
        cache: &mut LstmCache<F>,
        dy: &[F],
        output: LstmOutput,
        x: &[F],
        p: &[F],
    ) {
        let (steps, batch, h, n_in) = (cache.steps, cache.batch, self.hidden, self.input);
        assert_eq!(cache.hidden, h, "lstm backward: cache is from another layer");
        assert_eq!(x.len(), steps * batch * n_in, "lstm backward: x does not match the forward pass");
        let rows = steps * batch;
        let block = batch * h;
        match output {
            LstmOutput::Sequence => assert_eq!(dy.len(), rows * h, "lstm backward: dy is not (T, B, H)"),
            LstmOutput::Last => assert_eq!(dy.len(), block, "lstm backward: dy is not (B, H)"),
        }
        resize(&mut cache.dpre, rows * 4 * h);
        resize(&mut cache.dh, block);
        resize(&mut cache.dc, block);
        cache.dc.fill(F::ZERO);
        cache.dh.fill(F::ZERO);

        let w_hh = Mat::new(self.w_hh.of(p), 4 * h, h);
        // Walk the steps in the opposite order to the one the forward pass read them in.
        for s in 0..steps {
            let t = if self.reverse { s } else { steps - 1 - s };
            let (prev, cur) = self.slots(t);
            // dh holds the recurrent gradient from the step processed before (zero at first).
            match output {
                LstmOutput::Sequence => {
                    for (d, &v) in cache.dh.iter_mut().zip(&dy[t * block..(t + 1) * block]) {
                        *d += v;
                    }
                }
                LstmOutput::Last if s == 0 => cache.dh.copy_from_slice(dy),
                LstmOutput::Last => {}
            }
            let dpre_t = &mut cache.dpre[t * batch * 4 * h..(t + 1) * batch * 4 * h];
            F::lstm_cell_backward(
                dpre_t,
                &mut cache.dc,
                &cache.gates[t * batch * 4 * h..(t + 1) * batch * 4 * h],
                &cache.c[prev * block..(prev + 1) * block],
                &cache.c[cur * block..(cur + 1) * block],
                &cache.dh,
                h,
            );
            // dh_prev (B, H) = dpre_t (B, 4H) · W_hh (4H, H), except after the step read first:
            // its h_prev is the constant initial state, whose gradient nobody needs.
            if s + 1 < steps {
                gemm(F::ONE, Mat::new(dpre_t, batch, 4 * h), w_hh, F::ZERO, MatMut::new(&mut cache.dh, batch, h));
            }
        }

        let dpre = Mat::new(&cache.dpre, rows, 4 * h);
        if let Some(dx) = dx {
            assert_eq!(dx.len(), x.len(), "lstm backward: dx has wrong length");
            // dx (TB, I) += dpre (TB, 4H) · W_ih (4H, I)
            gemm(F::ONE, dpre, Mat::new(self.w_ih.of(p), 4 * h, n_in), F::ONE, MatMut::new(dx, rows, n_in));
        }
        if cache.input_gradients_only {
            return;
        }
        // dW_ih (4H, I) += dpreᵀ (4H, TB) · x (TB, I)
        gemm(F::ONE, dpre.t(), Mat::new(x, rows, n_in), F::ONE, MatMut::new(self.w_ih.of_mut(g), 4 * h, n_in));
        // dW_hh (4H, H) += dpreᵀ · h_prev over the steps in time order, leaving out the step
        // read first: its h_prev is the zero initial state.
        if steps > 1 {
            let later = (steps - 1) * batch; // rows of the steps with a real h_prev
            let (dpre_later, h_prev) = if self.reverse {
                (&cache.dpre[..later * 4 * h], &cache.h[block..steps * block])
            } else {
                (&cache.dpre[batch * 4 * h..], &cache.h[block..steps * block])
            };
            let dpre_later = Mat::new(dpre_later, later, 4 * h);
            gemm(
                F::ONE,
                dpre_later.t(),
                Mat::new(h_prev, later, h),
                F::ONE,
                MatMut::new(self.w_hh.of_mut(g), 4 * h, h),
            );
        }
        F::column_sums(self.b_ih.of_mut(g), &cache.dpre);
        F::column_sums(self.b_hh.of_mut(g), &cache.dpre);
    }
}
