//! The forecasters' error: a classifier's layers read rows `0..T−1` of a window and their head
//! (ending in `Dense(F)`) predicts row `T − 1`; the output is the weighted squared error of that
//! forecast ([`crate::nn::window_error`] over one step). The row forecast is an input too, so
//! its gradient is the error's −∂/∂p. [`super::Model`] splits each window into context and
//! target and calls this around the network's own forward and backward.

use crate::nn::{window_error_backward, window_error_forward, ErrorShape};
use crate::Float;

#[derive(Clone, Debug, Default)]
pub(crate) struct ForecastCache<F> {
    err: Vec<F>,              // (B)
    pub(crate) parts: Vec<F>, // (B, F) per-feature squared error
    d_prediction: Vec<F>,     // (B, F)
}

/// One step of `batch` windows over `features`.
fn shape(batch: usize, features: usize) -> ErrorShape {
    ErrorShape { steps: 1, batch, features }
}

impl<F: Float> ForecastCache<F> {
    /// `prediction` and `target` are `(B, F)`; returns the errors `(B)`.
    pub(crate) fn forward(&mut self, prediction: &[F], target: &[F], batch: usize, weights: Option<&[f64]>) -> &[F] {
        let shape = shape(batch, target.len() / batch.max(1));
        window_error_forward(&mut self.err, &mut self.parts, prediction, target, shape, weights);
        &self.err
    }

    /// ∂L/∂prediction `(B, F)` from `d_err (B)`.
    pub(crate) fn backward(&mut self, d_err: &[F], prediction: &[F], target: &[F], weights: Option<&[f64]>) -> &[F] {
        let batch = d_err.len();
        let shape = shape(batch, target.len() / batch.max(1));
        window_error_backward(&mut self.d_prediction, d_err, prediction, target, shape, weights);
        &self.d_prediction
    }
}
