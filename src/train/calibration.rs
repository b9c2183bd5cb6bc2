//! Calibration of an unsupervised model's score after training: each feature's error is
//! divided by its mean on the validation windows, so the score is the mean over features of
//! "this error in units of that feature's typical error" (≈ 1 on normal windows) and one noisy
//! metric does not drown the others. The weights are stored in the model
//! ([`ModelConfig::error_weights`](crate::models::ModelConfig)), so `detect` and `serve` score
//! as training validated.

use rayon::prelude::*;

use super::Windows;
use crate::models::Model;
use crate::{Error, Result};

/// How an unsupervised model's per-feature errors combine into its score.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorWeighting {
    /// Each feature's error in units of its mean error on the validation windows.
    PerFeature,
    /// The plain mean squared error of the scaled features.
    None,
}

/// A feature whose validation error is below this share of the features' average gets the
/// weight of one at the share: a metric that never moved in validation (error ≈ 0) would
/// otherwise get a weight of 10^12 and turn its first rounding-size change into an alarm.
const RELATIVE_FLOOR: f64 = 1e-2;

/// Windows per forward pass.
const CHUNK: usize = 256;

/// Mean over the windows of `w` of each feature's error `(F)`, as the model computes it.
pub fn mean_feature_errors(model: &Model, params: &[f32], w: &dyn Windows) -> Result<Vec<f64>> {
    let (steps, f) = (w.steps(), model.config.features);
    if w.is_empty() {
        return Err(Error::data("no validation windows to calibrate the score on"));
    }
    let ids: Vec<usize> = (0..w.len()).collect();
    // Chunk sums are collected in order and added in order: the weights, so the saved model,
    // do not depend on how the chunks were spread over threads.
    let chunk_sums: Vec<Vec<f64>> = ids
        .par_chunks(CHUNK)
        .map(|ids| {
            let mut ws = model.workspace::<f32>();
            let mut x = vec![0.0f32; steps * ids.len() * f];
            w.gather(ids, &mut x);
            model.forward(&mut ws, params, &x, steps, ids.len(), None);
            let parts = model.feature_errors(&ws).expect("an unsupervised model has per-feature errors");
            let mut sum = vec![0.0f64; f];
            for row in parts.chunks_exact(f) {
                for (s, &e) in sum.iter_mut().zip(row) {
                    *s += f64::from(e);
                }
            }
            sum
        })
        .collect();
    let mut sums = vec![0.0f64; f];
    for chunk in &chunk_sums {
        sums.iter_mut().zip(chunk).for_each(|(s, c)| *s += c);
    }
    Ok(sums.iter().map(|s| s / w.len() as f64).collect())
}

/// The weights `1 / max(mean error, floor)` of [`ErrorWeighting::PerFeature`].
pub fn error_weights(mean_errors: &[f64]) -> Result<Vec<f64>> {
    if let Some(bad) = mean_errors.iter().find(|e| !e.is_finite()) {
        return Err(Error::data(format!(
            "a feature's mean validation error is {bad}: the model's forecasts are not finite"
        )));
    }
    let average = mean_errors.iter().sum::<f64>() / mean_errors.len().max(1) as f64;
    let floor = (RELATIVE_FLOOR * average).max(1e-12);
    Ok(mean_errors.iter().map(|&e| 1.0 / e.max(floor)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_invert_errors_with_a_floor_for_silent_features() {
        let w = error_weights(&[2.0, 0.5, 0.0, 1.5]).unwrap();
        assert_eq!(w[0], 0.5);
        assert_eq!(w[1], 2.0);
        // Average 1.0, floor 0.01: a feature that never erred gets 100, not infinity.
        assert_eq!(w[2], 100.0);
        assert!(error_weights(&[1.0, f64::NAN]).unwrap_err().to_string().contains("NaN"));
        // All zero: the absolute floor keeps the weights finite.
        assert!(error_weights(&[0.0, 0.0]).unwrap().iter().all(|w| w.is_finite()));
    }
}
