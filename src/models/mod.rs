//! The four architectures of the original project, composed from [`crate::nn`] layers.
//!
//! | arch | layers |
//! |---|---|
//! | standard | LSTM(128, seq) → Dropout .3 → LSTM(64, last) → Dropout .3 → head |
//! | bidirectional | BiLSTM(128, seq) → Dropout .3 → BiLSTM(64, last) → Dropout .3 → head |
//! | attention | BiLSTM(128, seq) → Dropout .3 → [x, attention(x)] → BiLSTM(64, last) → Dropout .3 → head |
//! | autoencoder | BiLSTM(64, seq) → BiLSTM(32, last) → RepeatVector(T) → BiLSTM(32, seq) → BiLSTM(64, seq) → Dense(F) per step |
//!
//! head = Dense(64, ReLU) → LayerNorm → Dropout .2 → Dense(32, ReLU) → LayerNorm → Dense(1).
//!
//! Every model maps a time-major batch `x (T, B, F)` to one output per sample `(B)`: the
//! **logit** of the anomaly probability for the classifiers and the supervised autoencoder
//! (whose logit is `Dense(1)` of the per-sample reconstruction MSE), and a squared **error**
//! for the unsupervised models ([`crate::nn::window_error`]): the autoencoder's over its
//! reconstruction of the window, a forecaster's over its prediction of the window's last row
//! from the `T − 1` rows before it. A forecaster is a classifier's layers with the head ending
//! in `Dense(F)` instead of `Dense(1)`. [`Model::score`] maps outputs to scores.
//! Widths are configurable so tests and `gradcheck` can run the models small.
//!
//! Each architecture is one file implementing [`Architecture`] (its layers, initialisation,
//! forward and backward side by side) with a cache implementing [`ArchitectureCache`];
//! [`Model`] dispatches to them in one place (the macros of [`architecture`]), and a
//! forecaster's error (`forecast.rs`) wraps any of them.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::nn::resize;
use crate::params::ParamLayout;
use crate::{Error, Float, Result};

pub mod architecture;
pub mod attention;
pub mod autoencoder;
pub mod bidirectional;
mod config;
mod dropout_step;
mod forecast;
pub mod head;
pub mod standard;
mod summary;

use architecture::{with_arch, with_cache, with_net, Net, NetCache};
pub use architecture::{Architecture, ArchitectureCache};
pub use attention::AttentionModel;
pub use autoencoder::Autoencoder;
pub use bidirectional::Bidirectional;
pub use config::{
    check_window, Arch, ModelConfig, Objective, MAX_FEATURES, MAX_PARAMETERS, MAX_SEQUENCE_LENGTH, MAX_WIDTH,
    MAX_WINDOW_VALUES,
};
pub use dropout_step::DropoutSeed;
pub(crate) use dropout_step::{dropout_backward, dropout_forward};
pub use standard::Standard;
pub(crate) use summary::steps_read;
pub use summary::{LayerSummary, ParamCount};

use forecast::ForecastCache;

/// A built model: its configuration, parameter layout and layers.
#[derive(Clone, Debug)]
pub struct Model {
    pub config: ModelConfig,
    pub layout: ParamLayout,
    net: Net,
}

/// Per-pass buffers of a model, reused across calls: the network's caches and, for a
/// forecaster, those of its error.
#[derive(Clone, Debug)]
pub struct Workspace<F> {
    net: NetCache<F>,
    forecast: ForecastCache<F>,
}

impl<F: Float> Workspace<F> {
    /// Declares the version of the weights the next passes use (see
    /// [`Weights`](crate::params::Weights)); layers then keep their transposed weights while
    /// it stays the same. `None` (the default) rebuilds them every pass.
    pub fn set_weights_generation(&mut self, generation: Option<u64>) {
        with_cache!(&mut self.net, |c| c.for_each_recurrent(&mut |l| l.set_weights_generation(generation)))
    }

    /// Makes [`Model::backward`] skip the LSTM layers' weight and bias gradients (the bulk of
    /// its work) when only the gradient of the input is wanted; the parameter gradients it
    /// returns are then incomplete.
    pub fn set_input_gradients_only(&mut self, on: bool) {
        with_cache!(&mut self.net, |c| c.for_each_recurrent(&mut |l| l.set_input_gradients_only(on)))
    }

    /// Lets bidirectional layers run their two directions on two threads in the forward
    /// pass (see [`crate::nn::RecurrentCache::set_parallel_directions`]).
    pub fn set_parallel_directions(&mut self, parallel: bool) {
        with_cache!(&mut self.net, |c| c.for_each_recurrent(&mut |l| l.set_parallel_directions(parallel)))
    }
}

impl Model {
    pub fn new(config: ModelConfig) -> Result<Self> {
        config.validate()?;
        let mut layout = ParamLayout::new();
        let net = Net::new(&mut layout, &config);
        if layout.len() > MAX_PARAMETERS {
            return Err(Error::config(format!(
                "the model would have {} parameters, more than the {MAX_PARAMETERS} kubelstm trains; \
                 use smaller --lstm-units / --dense-units",
                layout.len()
            )));
        }
        Ok(Model { config, layout, net })
    }

    /// Freshly initialised parameters (Keras initialisers), reproducible from `seed`.
    pub fn init_params<F: Float>(&self, seed: u64) -> Vec<F> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut p = self.layout.zeros();
        with_arch!(&self.net, |m| m.init(&mut p, &mut rng));
        p
    }

    pub fn workspace<F: Float>(&self) -> Workspace<F> {
        Workspace { net: self.net.new_cache(), forecast: ForecastCache::default() }
    }

    /// Forward pass over `x (T, B, F)`; returns the outputs `(B)` (see the module docs).
    /// `dropout: None` is inference. A forecaster reads rows `0..T−1` of each window and
    /// forecasts row `T − 1`, so it needs `T ≥ 2`.
    pub fn forward<'w, F: Float>(
        &self,
        ws: &'w mut Workspace<F>,
        p: &[F],
        x: &[F],
        steps: usize,
        batch: usize,
        dropout: Option<DropoutSeed>,
    ) -> &'w [F] {
        assert_eq!(p.len(), self.layout.len(), "forward: parameter buffer does not fit the model");
        assert_eq!(x.len(), steps * batch * self.config.features, "forward: x is not (T, B, F)");
        if self.config.objective == Objective::Forecast {
            assert!(steps >= 2, "forward: a forecaster needs windows of at least 2 steps");
            let (context, target) = x.split_at((steps - 1) * batch * self.config.features);
            let Workspace { net, forecast } = ws;
            let prediction = self.net_forward(net, p, context, steps - 1, batch, dropout);
            return forecast.forward(prediction, target, batch, self.config.error_weights.as_deref());
        }
        self.net_forward(&mut ws.net, p, x, steps, batch, dropout)
    }

    fn net_forward<'w, F: Float>(
        &self,
        net: &'w mut NetCache<F>,
        p: &[F],
        x: &[F],
        steps: usize,
        batch: usize,
        dropout: Option<DropoutSeed>,
    ) -> &'w [F] {
        with_net!(&self.net, net, |m, c| m.forward(c, x, p, steps, batch, dropout))
    }

    /// Backward pass from `d_out (B)`, the gradient of the loss with respect to the outputs
    /// of the last [`Model::forward`] on this workspace. Adds into `g` and, when given, into
    /// `dx (T, B, F)`.
    pub fn backward<F: Float>(
        &self,
        ws: &mut Workspace<F>,
        g: &mut [F],
        p: &[F],
        x: &[F],
        d_out: &[F],
        dx: Option<&mut [F]>,
    ) {
        assert_eq!(g.len(), self.layout.len(), "backward: gradient buffer does not fit the model");
        if self.config.objective == Objective::Forecast {
            let f = self.config.features;
            let batch = d_out.len();
            let steps = x.len() / (batch * f).max(1);
            let (context, target) = x.split_at((steps - 1) * batch * f);
            let Workspace { net, forecast } = ws;
            let prediction = net.head_out().expect("a forecaster has a head");
            let d_prediction = forecast.backward(d_out, prediction, target, self.config.error_weights.as_deref());
            let dx_context = dx.map(|dx| {
                let (dx_context, dx_target) = dx.split_at_mut(context.len());
                // The target is an input too: ∂err/∂y = −∂err/∂p.
                for (d, &v) in dx_target.iter_mut().zip(d_prediction) {
                    *d -= v;
                }
                dx_context
            });
            self.net_backward(net, g, p, context, d_prediction, dx_context);
            return;
        }
        self.net_backward(&mut ws.net, g, p, x, d_out, dx);
    }

    fn net_backward<F: Float>(
        &self,
        net: &mut NetCache<F>,
        g: &mut [F],
        p: &[F],
        x: &[F],
        d_out: &[F],
        dx: Option<&mut [F]>,
    ) {
        with_net!(&self.net, net, |m, c| m.backward(c, g, p, x, d_out, dx))
    }

    /// Anomaly score from an output: σ(logit) for classifiers, the error itself otherwise.
    pub fn score<F: Float>(&self, output: F) -> F {
        match self.config.objective {
            Objective::Classifier => kubelstm_kernels::scalar::sigmoid(output),
            Objective::Reconstruction | Objective::Forecast => output,
        }
    }

    /// Which ReLU units of the last forward pass were active: a gradient check compares it
    /// across its stencil to detect a crossed kink.
    pub fn relu_pattern<F: Float>(&self, ws: &Workspace<F>) -> Vec<bool> {
        with_cache!(&ws.net, |c| c.head().map_or_else(Vec::new, |h| h.relu_pattern()))
    }

    /// The autoencoder's reconstruction `(T, B, F)` from the last forward pass.
    pub fn reconstruction<'w, F: Float>(&self, ws: &'w Workspace<F>) -> Option<&'w [F]> {
        match &ws.net {
            NetCache::Autoencoder(c) => Some(c.reconstruction()),
            _ => None,
        }
    }

    /// The unsupervised models' per-feature errors `(B, F)` from the last forward pass
    /// (unweighted: the score weighs them with `error_weights`); `None` for classifiers.
    pub fn feature_errors<'w, F: Float>(&self, ws: &'w Workspace<F>) -> Option<&'w [F]> {
        match (self.config.objective, &ws.net) {
            (Objective::Forecast, _) => Some(&ws.forecast.parts),
            (Objective::Reconstruction, NetCache::Autoencoder(c)) => Some(c.feature_errors()),
            _ => None,
        }
    }

    /// A layer-by-layer summary for `inspect` (name, output shape, parameter count).
    pub fn summary(&self) -> Vec<LayerSummary> {
        let f = self.config.features;
        let mut rows = vec![LayerSummary::new("input", "Input", format!("(B, T, {f})"), 0)];
        let count = ParamCount(&self.layout);
        rows.extend(with_arch!(&self.net, |m| m.summary(&self.config, &count)));
        rows
    }
}

/// Zero-filled gradient scratch of `len` elements.
pub(crate) fn zeroed<F: Float>(buf: &mut Vec<F>, len: usize) {
    resize(buf, len);
    buf.fill(F::ZERO);
}
