//! What a model is before it is built: its architecture, objective and sizes, and the bounds
//! every size is held to before a buffer is allocated.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

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
