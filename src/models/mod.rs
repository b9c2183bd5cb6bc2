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
use serde::{Deserialize, Serialize};

use crate::nn::dropout::MaskShape;
use crate::nn::{resize, Dropout};
use crate::params::ParamLayout;
use crate::{Error, Float, Result};

pub mod architecture;
pub mod attention;
pub mod autoencoder;
pub mod bidirectional;
mod forecast;
pub mod head;
pub mod standard;

use architecture::{with_arch, with_cache, with_net};
pub use architecture::{Architecture, ArchitectureCache};
pub use attention::AttentionModel;
pub use autoencoder::Autoencoder;
pub use bidirectional::Bidirectional;
pub use standard::Standard;

use forecast::ForecastCache;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    Standard,
    Bidirectional,
    Attention,
    Autoencoder,
}

impl Arch {
    pub const ALL: [Arch; 4] = [Arch::Standard, Arch::Bidirectional, Arch::Attention, Arch::Autoencoder];
    pub fn name(self) -> &'static str {
        match self {
            Arch::Standard => "standard",
            Arch::Bidirectional => "bidirectional",
            Arch::Attention => "attention",
            Arch::Autoencoder => "autoencoder",
        }
    }

    /// Whether the model has bidirectional layers, whose two directions can run on two threads.
    pub fn has_bidirectional_layers(self) -> bool {
        self != Arch::Standard
    }
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What the model's output means and which loss trains it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Objective {
    /// Output is a logit; trained with class-weighted binary cross-entropy.
    Classifier,
    /// Autoencoder only: output is the per-sample reconstruction MSE, trained on it directly.
    Reconstruction,
    /// Standard, bidirectional and attention models: the head predicts the window's last row
    /// from the rows before it; output is the squared error of that forecast.
    Forecast,
}

impl Objective {
    /// True for the objectives trained without labels, whose output is an error.
    pub fn is_unsupervised(self) -> bool {
        self != Objective::Classifier
    }

    /// The fewest time steps a window may have: a forecaster needs a row to forecast from.
    pub fn min_steps(self) -> usize {
        if self == Objective::Forecast {
            2
        } else {
            1
        }
    }

    /// The unsupervised objective of `arch`.
    pub fn unsupervised_for(arch: Arch) -> Objective {
        if arch == Arch::Autoencoder {
            Objective::Reconstruction
        } else {
            Objective::Forecast
        }
    }
}

/// Architecture and sizes: everything needed to rebuild the parameter layout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub arch: Arch,
    pub objective: Objective,
    /// F, the number of input features.
    pub features: usize,
    /// Widths of the two recurrent layers: LSTM units per direction, (128, 64) by default;
    /// for the autoencoder the encoder's (64, 32), mirrored by the decoder.
    pub lstm: [usize; 2],
    /// Widths of the head's two dense layers, (64, 32).
    pub dense: [usize; 2],
    /// Dropout after each recurrent layer (0.3) and inside the head (0.2).
    pub dropout_lstm: f64,
    pub dropout_head: f64,
    /// Unsupervised models: per-feature weights of the error that makes the score, 1 / each
    /// feature's mean error on the validation windows (set after training; `None`, plain MSE,
    /// while training). Old model files have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_weights: Option<Vec<f64>>,
}

/// Bounds on a model's shape, checked before any buffer is sized. Widths and features come from
/// the command line and from `model.json` (which may be damaged or hostile): unchecked, a width of
/// 10^8 asked the allocator for 10^17 bytes and aborted the process instead of returning an error.
/// With these bounds every tensor's element count fits in `usize` without overflow.
pub const MAX_FEATURES: usize = 1 << 20;
pub const MAX_WIDTH: usize = 1 << 14;
/// 2^27 parameters: 512 MiB of f32 weights, about 2.5 GiB while training (gradients, Adam moments,
/// the best checkpoint). Far beyond anything a CPU trains on pod metrics.
pub const MAX_PARAMETERS: usize = 1 << 27;

/// The longest window (T, time steps) a model takes: 100,000 steps is over two months of
/// one-minute samples. `train --sequence-length` and `model.json` are held to it, so a damaged
/// `"sequence_length": 1000000` is an error at load time rather than a failed allocation
/// when the first window fills.
pub const MAX_SEQUENCE_LENGTH: usize = 100_000;
/// The most values (T × F) one window may hold: 2^24, 64 MiB of f32. Scoring keeps a window per
/// series and queues batches of them, so this bounds the memory one window costs.
pub const MAX_WINDOW_VALUES: usize = 1 << 24;

/// Checks a window of `steps` time steps over `features` features against
/// [`MAX_SEQUENCE_LENGTH`] and [`MAX_WINDOW_VALUES`].
pub fn check_window(steps: usize, features: usize) -> Result<()> {
    if steps > MAX_SEQUENCE_LENGTH {
        return Err(Error::config(format!(
            "sequence length {steps} is beyond the {MAX_SEQUENCE_LENGTH} time steps a model can take"
        )));
    }
    let values = steps.saturating_mul(features);
    if values > MAX_WINDOW_VALUES {
        return Err(Error::config(format!(
            "a window of {steps} time steps × {features} features holds {values} values, beyond the \
             {MAX_WINDOW_VALUES} kubelstm allows"
        )));
    }
    Ok(())
}

impl ModelConfig {
    /// The original project's sizes for `arch` over `features` inputs.
    pub fn new(arch: Arch, features: usize) -> Self {
        let lstm = if arch == Arch::Autoencoder { [64, 32] } else { [128, 64] };
        ModelConfig {
            arch,
            objective: Objective::Classifier,
            features,
            lstm,
            dense: [64, 32],
            dropout_lstm: 0.3,
            dropout_head: 0.2,
            error_weights: None,
        }
    }

    /// The same model trained without labels: the autoencoder reconstructs, the others forecast.
    pub fn unsupervised(mut self) -> Self {
        self.objective = Objective::unsupervised_for(self.arch);
        self
    }

    /// K, the head's outputs per sample: 1 logit, or a forecast of the F features.
    pub fn head_outputs(&self) -> usize {
        if self.objective == Objective::Forecast {
            self.features
        } else {
            1
        }
    }

    /// The fewest time steps a window of this model may have ([`Objective::min_steps`]).
    pub fn min_steps(&self) -> usize {
        self.objective.min_steps()
    }

    pub fn validate(&self) -> Result<()> {
        if self.features == 0 {
            return Err(Error::config("the model needs at least one input feature"));
        }
        if self.features > MAX_FEATURES {
            return Err(Error::config(format!(
                "the model would take {} input features; kubelstm builds models of at most {MAX_FEATURES}",
                self.features
            )));
        }
        if self.lstm.contains(&0) || self.dense.contains(&0) {
            return Err(Error::config(format!(
                "layer widths must be positive, got lstm {:?}, dense {:?}",
                self.lstm, self.dense
            )));
        }
        if self.lstm.iter().chain(&self.dense).any(|&w| w > MAX_WIDTH) {
            return Err(Error::config(format!(
                "layer widths must be at most {MAX_WIDTH}, got lstm {:?}, dense {:?}",
                self.lstm, self.dense
            )));
        }
        for rate in [self.dropout_lstm, self.dropout_head] {
            if !(0.0..1.0).contains(&rate) {
                return Err(Error::config(format!("dropout rate {rate} is outside [0, 1)")));
            }
        }
        if self.objective.is_unsupervised() && self.objective != Objective::unsupervised_for(self.arch) {
            return Err(Error::config(format!(
                "the {} model trains unsupervised as a {}, not as a {}",
                self.arch,
                if self.arch == Arch::Autoencoder { "reconstruction" } else { "forecast" },
                if self.arch == Arch::Autoencoder { "forecast" } else { "reconstruction" },
            )));
        }
        if let Some(w) = &self.error_weights {
            if !self.objective.is_unsupervised() {
                return Err(Error::config("error weights belong to an unsupervised model only"));
            }
            if w.len() != self.features {
                return Err(Error::config(format!(
                    "{} error weights for {} features; there must be one per feature",
                    w.len(),
                    self.features
                )));
            }
            if let Some(bad) = w.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
                return Err(Error::config(format!("error weights must be positive and finite, found {bad}")));
            }
        }
        Ok(())
    }
}

/// Seeds the dropout masks of one training forward pass; `None` in its place means
/// inference (no dropout). `first_sample` is the shard's offset in the whole batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DropoutSeed {
    pub seed: u64,
    pub first_sample: usize,
}

/// A built model: its configuration, parameter layout and layers.
#[derive(Clone, Debug)]
pub struct Model {
    pub config: ModelConfig,
    pub layout: ParamLayout,
    net: Net,
}

#[derive(Clone, Debug)]
enum Net {
    Standard(Standard),
    Bidirectional(Bidirectional),
    Attention(AttentionModel),
    Autoencoder(Autoencoder),
}

/// Per-pass buffers of a model, reused across calls: the network's caches and, for a
/// forecaster, those of its error.
#[derive(Clone, Debug)]
pub struct Workspace<F> {
    net: NetCache<F>,
    forecast: ForecastCache<F>,
}

/// Variants differ in size, but a model has one workspace per thread, made once: boxing
/// would buy nothing.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)]
enum NetCache<F> {
    Standard(standard::Cache<F>),
    Bidirectional(bidirectional::Cache<F>),
    Attention(attention::Cache<F>),
    Autoencoder(autoencoder::Cache<F>),
}

impl<F: Float> Workspace<F> {
    /// Declares the version of the weights the next passes use (see
    /// [`Weights`](crate::params::Weights)); layers then keep their transposed weights while
    /// it stays the same. `None` (the default) rebuilds them every pass.
    pub fn set_weights_generation(&mut self, generation: Option<u64>) {
        with_cache!(&mut self.net, |c| c.set_weights_generation(generation))
    }

    /// Makes [`Model::backward`] skip the LSTM layers' weight and bias gradients (the bulk of
    /// its work) when only the gradient of the input is wanted; the parameter gradients it
    /// returns are then incomplete.
    pub fn set_input_gradients_only(&mut self, on: bool) {
        with_cache!(&mut self.net, |c| c.set_input_gradients_only(on))
    }

    /// Lets bidirectional layers run their two directions on two threads in the forward
    /// pass (see [`crate::nn::BiLstmCache::set_parallel_directions`]).
    pub fn set_parallel_directions(&mut self, parallel: bool) {
        with_cache!(&mut self.net, |c| c.set_parallel_directions(parallel))
    }
}

impl<F: Float> NetCache<F> {
    /// The head's outputs `(B, K)` of the last forward pass (`None` for the autoencoder).
    fn head_out(&self) -> Option<&[F]> {
        with_cache!(self, |c| c.head().map(|h| h.out.as_slice()))
    }
}

impl Model {
    pub fn new(config: ModelConfig) -> Result<Self> {
        config.validate()?;
        let mut layout = ParamLayout::new();
        let net = match config.arch {
            Arch::Standard => Net::Standard(Standard::new(&mut layout, &config)),
            Arch::Bidirectional => Net::Bidirectional(Bidirectional::new(&mut layout, &config)),
            Arch::Attention => Net::Attention(AttentionModel::new(&mut layout, &config)),
            Arch::Autoencoder => Net::Autoencoder(Autoencoder::new(&mut layout, &config)),
        };
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
        let net = match &self.net {
            Net::Standard(_) => NetCache::Standard(Default::default()),
            Net::Bidirectional(_) => NetCache::Bidirectional(Default::default()),
            Net::Attention(_) => NetCache::Attention(Default::default()),
            Net::Autoencoder(_) => NetCache::Autoencoder(Default::default()),
        };
        Workspace { net, forecast: ForecastCache::default() }
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

/// Parameters of the layers whose tensors are named `prefix.*`.
pub struct ParamCount<'a>(&'a ParamLayout);

impl ParamCount<'_> {
    pub fn of(&self, prefix: &str) -> usize {
        self.0.tensors().iter().filter(|t| t.name.starts_with(&format!("{prefix}."))).map(|t| t.span.len).sum()
    }
}

/// The time steps a model's recurrent layers read: a forecaster's the first T − 1 rows.
pub(crate) fn steps_read(cfg: &ModelConfig) -> &'static str {
    if cfg.objective == Objective::Forecast {
        "T-1"
    } else {
        "T"
    }
}

impl LayerSummary {
    pub fn new(name: &str, kind: &str, output_shape: String, params: usize) -> LayerSummary {
        LayerSummary { name: name.to_string(), kind: kind.to_string(), output_shape, params }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerSummary {
    pub name: String,
    pub kind: String,
    pub output_shape: String,
    pub params: usize,
}

/// Applies `drop` to `x (T, B, C)` when training and returns the buffer holding the result:
/// `out` (masked with a fresh `mask`) or `x` itself at inference.
#[allow(clippy::too_many_arguments)]
pub(crate) fn dropout_forward<'a, F: Float>(
    drop: &Dropout,
    mask: &mut Vec<F>,
    out: &'a mut Vec<F>,
    x: &'a [F],
    steps: usize,
    batch: usize,
    seed: Option<DropoutSeed>,
) -> &'a [F] {
    match seed {
        Some(seed) if drop.rate > 0.0 => {
            let cols = x.len() / (steps * batch).max(1);
            resize(mask, x.len());
            resize(out, x.len());
            drop.sample_mask(mask, seed.seed, MaskShape { steps, batch, cols, first_sample: seed.first_sample });
            Dropout::forward(out, x, mask);
            out
        }
        _ => x,
    }
}

/// Zero-filled gradient scratch of `len` elements.
pub(crate) fn zeroed<F: Float>(buf: &mut Vec<F>, len: usize) {
    resize(buf, len);
    buf.fill(F::ZERO);
}

/// Backward of [`dropout_forward`]: `dx += dy ⊙ mask` when it was applied, else `dx += dy`.
pub(crate) fn dropout_backward<F: Float>(dx: &mut [F], dy: &[F], mask: &[F], applied: bool) {
    if applied {
        Dropout::backward(dx, dy, mask);
    } else {
        for (d, &v) in dx.iter_mut().zip(dy) {
            *d += v;
        }
    }
}

#[cfg(test)]
mod window_limit_tests {
    use super::*;

    #[test]
    fn windows_beyond_the_limits_are_refused() {
        assert!(check_window(10, 26).is_ok());
        assert!(check_window(MAX_SEQUENCE_LENGTH, MAX_WINDOW_VALUES / MAX_SEQUENCE_LENGTH).is_ok());
        let long = check_window(MAX_SEQUENCE_LENGTH + 1, 1).unwrap_err().to_string();
        assert!(long.contains("sequence length 100001 is beyond the 100000"), "{long}");
        let wide = check_window(1000, MAX_FEATURES).unwrap_err().to_string();
        assert!(wide.contains("holds 1048576000 values, beyond the 16777216"), "{wide}");
        assert!(check_window(usize::MAX, usize::MAX).is_err());
    }
}

#[cfg(test)]
mod summary_tests {
    use super::*;

    #[test]
    fn every_parameter_is_in_exactly_one_summary_row() {
        for arch in Arch::ALL {
            for unsupervised in [false, true] {
                let mut cfg = ModelConfig::new(arch, 7);
                if unsupervised {
                    cfg = cfg.unsupervised();
                }
                let model = Model::new(cfg).unwrap();
                let rows = model.summary();
                let total: usize = rows.iter().map(|r| r.params).sum();
                assert_eq!(total, model.layout.len(), "{arch} unsupervised={unsupervised}: {rows:?}");
                let mut names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
                names.sort_unstable();
                names.dedup();
                assert_eq!(names.len(), rows.len(), "{arch}: a layer named twice");
                assert_eq!(rows[0].name, "input");
            }
        }
    }
}
