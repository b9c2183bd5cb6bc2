//! Bidirectional LSTM (Keras `Bidirectional(LSTM(H))`, merge mode concat; PyTorch
//! `nn.LSTM(bidirectional=True)`): a forward and a reverse [`Lstm`] over the same input,
//! outputs concatenated forward half first.
//!   Sequence: y_t = [h→_t, h←_t]          (T, B, 2H)
//!   Last:     y   = [h→_{T−1}, h←_0]       (B, 2H), the state of each direction after it
//!                                            has read the whole sequence
//! Backward splits dy into the two halves and runs both directions; both add into dx.

use rand::Rng;

use crate::nn::lstm::{Lstm, LstmCache, LstmOutput};
use crate::nn::{resize, RecurrentCache};
use crate::params::ParamLayout;
use crate::Float;

#[derive(Clone, Debug)]
pub struct BiLstm {
    pub forward: Lstm,
    pub reverse: Lstm,
}

#[derive(Clone, Debug, Default)]
pub struct BiLstmCache<F> {
    pub forward: LstmCache<F>,
    pub reverse: LstmCache<F>,
    /// The layer output: `(T, B, 2H)` or `(B, 2H)`.
    pub out: Vec<F>,
    dy_half: Vec<F>, // one direction's share of dy
    /// Run the two directions of the forward pass on two threads (see
    /// [`RecurrentCache::set_parallel_directions`]).
    parallel: bool,
}

impl<F: Float> RecurrentCache for BiLstmCache<F> {
    /// Worth it when the batch is too small to split across threads (a window at a time):
    /// each core then keeps one direction's weights in its own L2. The results are the same
    /// bits either way; the directions share nothing.
    fn set_parallel_directions(&mut self, parallel: bool) {
        self.parallel = parallel;
    }

    fn set_input_gradients_only(&mut self, on: bool) {
        self.forward.set_input_gradients_only(on);
        self.reverse.set_input_gradients_only(on);
    }

    fn set_weights_generation(&mut self, generation: Option<u64>) {
        self.forward.set_weights_generation(generation);
        self.reverse.set_weights_generation(generation);
    }
}

impl BiLstm {
    pub fn new(layout: &mut ParamLayout, prefix: &str, input: usize, hidden: usize) -> Self {
        BiLstm {
            forward: Lstm::new(layout, prefix, input, hidden, false),
            reverse: Lstm::new(layout, prefix, input, hidden, true),
        }
    }

    pub fn hidden(&self) -> usize {
        self.forward.hidden
    }

    pub fn init<F: Float>(&self, p: &mut [F], rng: &mut impl Rng) {
        self.forward.init(p, rng);
        self.reverse.init(p, rng);
    }

    /// Runs both directions over `x (T, B, I)` and writes `cache.out`.
    pub fn forward<F: Float>(
        &self,
        cache: &mut BiLstmCache<F>,
        x: &[F],
        p: &[F],
        steps: usize,
        batch: usize,
        output: LstmOutput,
    ) {
        let h = self.hidden();
        if cache.parallel {
            let (fwd, rev) = (&mut cache.forward, &mut cache.reverse);
            rayon::join(
                || self.forward.forward(fwd, x, p, steps, batch),
                || self.reverse.forward(rev, x, p, steps, batch),
            );
        } else {
            self.forward.forward(&mut cache.forward, x, p, steps, batch);
            self.reverse.forward(&mut cache.reverse, x, p, steps, batch);
        }
        let (fwd, rev) = match output {
            LstmOutput::Sequence => (cache.forward.sequence(), cache.reverse.sequence()),
            LstmOutput::Last => (cache.forward.last(), cache.reverse.last()),
        };
        resize(&mut cache.out, fwd.len() * 2);
        crate::nn::concat::concat_forward(&mut cache.out, fwd, h, rev, h);
    }

    /// Adds into the gradients of both directions and, when given, into `dx (T, B, I)`.
    #[allow(clippy::too_many_arguments)]
    pub fn backward<F: Float>(
        &self,
        mut dx: Option<&mut [F]>,
        g: &mut [F],
        cache: &mut BiLstmCache<F>,
        dy: &[F],
        output: LstmOutput,
        x: &[F],
        p: &[F],
    ) {
        let h = self.hidden();
        let half = dy.len() / 2;
        resize(&mut cache.dy_half, half);
        for (direction, lstm, offset) in [(0, &self.forward, 0), (1, &self.reverse, h)] {
            // Gather this direction's columns of dy into a contiguous (rows, H) buffer.
            for (dst, src) in cache.dy_half.chunks_exact_mut(h).zip(dy.chunks_exact(2 * h)) {
                dst.copy_from_slice(&src[offset..offset + h]);
            }
            let lstm_cache = if direction == 0 { &mut cache.forward } else { &mut cache.reverse };
            lstm.backward(dx.as_deref_mut(), g, lstm_cache, &cache.dy_half, output, x, p);
        }
    }
}
