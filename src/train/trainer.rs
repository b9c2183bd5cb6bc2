//! The epoch loop, as the original's `model.fit` with its callbacks, done correctly:
//! shuffled mini-batches each epoch (seeded), class-weighted loss, validation on the
//! time-ordered validation split after every epoch, reduce-on-plateau (×0.5 after 5 flat
//! epochs, floor 1e-4), early stopping (patience 10) with the best weights restored.
//!
//! Per epoch and split: loss, accuracy, ROC-AUC, precision, recall. Training metrics come
//! from the training passes themselves (dropout on), as Keras reports them; validation runs
//! a separate inference pass. Validation loss is unweighted (Keras applies `class_weight`
//! to training only). A non-finite loss or gradient stops training with
//! [`Error::Diverged`](crate::Error::Diverged) naming the epoch and batch.

use std::time::Instant;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::metrics::{confusion_matrix, percentile, roc_auc};
use crate::models::Objective;
use crate::nn::loss::weighted_bce_with_logits;
use crate::optim::{clip_global_norm, Adam, AdamConfig, EarlyStopping, ReduceOnPlateau, Verdict};
use crate::params::Weights;
use crate::train::{Engine, EpochRecord, History, SplitMetrics, Windows};
use crate::{Error, Result};

#[derive(Clone, Debug)]
pub struct TrainSettings {
    pub epochs: usize,
    pub batch_size: usize,
    pub adam: AdamConfig,
    pub patience: usize,
    pub plateau: ReduceOnPlateau,
    pub seed: u64,
    /// Global-norm gradient clipping; `None` is Keras' default (off).
    pub clip_norm: Option<f64>,
    /// Loss weight of class 0 and class 1 (balanced: n / (2·count)).
    pub class_weights: [f64; 2],
    /// For the reconstruction objective: the error percentile that counts as anomalous in
    /// the per-epoch accuracy/precision/recall.
    pub threshold_percentile: f64,
}

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            epochs: 50,
            batch_size: 32,
            adam: AdamConfig::default(),
            patience: 10,
            plateau: ReduceOnPlateau::default(),
            seed: 42,
            clip_norm: None,
            class_weights: [1.0, 1.0],
            threshold_percentile: 95.0,
        }
    }
}

/// Hooks for progress, checkpoints and interruption.
pub trait Observer {
    fn epoch_started(&mut self, _epoch: usize, _batches: usize) {}
    fn batch_done(&mut self, _epoch: usize, _batch: usize, _loss: f64) {}
    /// Called after every epoch; `best` when its weights are the best so far (save them).
    fn epoch_done(&mut self, _record: &EpochRecord, _best: bool, _params: &[f32]) -> Result<()> {
        Ok(())
    }
    /// Checked after every batch: true stops training after that batch (Ctrl-C).
    fn stop_requested(&self) -> bool {
        false
    }
}

/// An observer that does nothing.
pub struct Silent;
impl Observer for Silent {}

impl<O: Observer + ?Sized> Observer for &mut O {
    fn epoch_started(&mut self, epoch: usize, batches: usize) {
        (**self).epoch_started(epoch, batches)
    }
    fn batch_done(&mut self, epoch: usize, batch: usize, loss: f64) {
        (**self).batch_done(epoch, batch, loss)
    }
    fn epoch_done(&mut self, record: &EpochRecord, best: bool, params: &[f32]) -> Result<()> {
        (**self).epoch_done(record, best, params)
    }
    fn stop_requested(&self) -> bool {
        (**self).stop_requested()
    }
}

/// Two observers, `.0` told first (the checkpoint is saved before the log says so).
impl<A: Observer, B: Observer> Observer for (A, B) {
    fn epoch_started(&mut self, epoch: usize, batches: usize) {
        self.0.epoch_started(epoch, batches);
        self.1.epoch_started(epoch, batches);
    }
    fn batch_done(&mut self, epoch: usize, batch: usize, loss: f64) {
        self.0.batch_done(epoch, batch, loss);
        self.1.batch_done(epoch, batch, loss);
    }
    fn epoch_done(&mut self, record: &EpochRecord, best: bool, params: &[f32]) -> Result<()> {
        self.0.epoch_done(record, best, params)?;
        self.1.epoch_done(record, best, params)
    }
    fn stop_requested(&self) -> bool {
        self.0.stop_requested() || self.1.stop_requested()
    }
}

#[derive(Clone, Debug)]
pub struct TrainOutcome {
    /// The weights of the best epoch (or the last weights if no epoch finished).
    pub params: Vec<f32>,
    pub history: History,
    /// 1-based best epoch, `None` if no epoch finished.
    pub best_epoch: Option<usize>,
    pub stopped_early: bool,
    pub interrupted: bool,
    pub seconds: f64,
    pub samples_per_second: f64,
}

/// Loss and classification metrics of a split from its outputs.
fn split_metrics(
    objective: Objective,
    loss: f64,
    outputs: &[f32],
    labels: &[u8],
    threshold: f64,
) -> Result<SplitMetrics> {
    let scores: Vec<f64> = match objective {
        Objective::Classifier => outputs.iter().map(|&z| kubelstm_kernels::scalar::sigmoid(f64::from(z))).collect(),
        Objective::Reconstruction | Objective::Forecast => outputs.iter().map(|&e| f64::from(e)).collect(),
    };
    let mut m = SplitMetrics { loss, ..Default::default() };
    if scores.is_empty() || scores.iter().any(|s| !s.is_finite()) {
        return Ok(m);
    }
    let cm = confusion_matrix(labels, &scores, threshold)?;
    m.accuracy = Some(cm.accuracy());
    m.precision = Some(cm.precision());
    m.recall = Some(cm.recall());
    m.auc = roc_auc(labels, &scores)?;
    Ok(m)
}

/// Unweighted validation loss from outputs.
fn validation_loss(objective: Objective, outputs: &[f32], labels: &[u8]) -> f64 {
    if outputs.is_empty() {
        return f64::NAN;
    }
    match objective {
        Objective::Classifier => {
            let z: Vec<f64> = outputs.iter().map(|&v| f64::from(v)).collect();
            let y: Vec<f64> = labels.iter().map(|&l| f64::from(l.min(1))).collect();
            let w = vec![1.0; z.len()];
            let mut dz = vec![0.0; z.len()];
            weighted_bce_with_logits(&mut dz, &z, &y, &w)
        }
        Objective::Reconstruction | Objective::Forecast => {
            outputs.iter().map(|&e| f64::from(e)).sum::<f64>() / outputs.len() as f64
        }
    }
}

/// SplitMix64 of (seed, epoch, batch): the dropout seed of one step.
fn step_seed(seed: u64, epoch: usize, batch: usize) -> u64 {
    let mut z = seed ^ ((epoch as u64) << 32 | batch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Trains `params` on the windows of `train`, validating on those of `validation`.
pub fn fit(
    engine: &mut Engine,
    params: Vec<f32>,
    train: &dyn Windows,
    validation: &dyn Windows,
    settings: &TrainSettings,
    observer: &mut dyn Observer,
) -> Result<TrainOutcome> {
    if train.is_empty() {
        return Err(Error::data("no training windows"));
    }
    if validation.is_empty() {
        return Err(Error::data("no validation windows: use more data or a longer time range"));
    }
    let objective = engine.model.config.objective;
    let mut adam = Adam::new(settings.adam, params.len());
    let mut params = Weights::new(params);
    let mut plateau = settings.plateau.clone();
    let mut early = EarlyStopping::new(settings.patience);
    let mut best_params = params.values().to_vec();
    let mut history = History::default();
    let train_ids: Vec<usize> = (0..train.len()).collect();
    let val_ids: Vec<usize> = (0..validation.len()).collect();
    let mut order = train_ids.clone();
    let mut train_outputs = vec![0.0f32; order.len()];
    let mut val_outputs = vec![0.0f32; val_ids.len()];
    let val_labels: Vec<u8> = val_ids.iter().map(|&i| validation.label(i)).collect();
    let batch_size = settings.batch_size.max(1);
    let batches = order.len().div_ceil(batch_size);
    let started = Instant::now();
    let mut samples_seen = 0usize;
    let (mut stopped_early, mut interrupted) = (false, false);

    for epoch in 1..=settings.epochs {
        let epoch_start = Instant::now();
        observer.epoch_started(epoch, batches);
        order.copy_from_slice(&train_ids);
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(
            settings.seed ^ (epoch as u64).wrapping_mul(0xA24B_AED4_963E_E407),
        ));
        let mut loss_sum = 0.0;
        let mut done = 0;
        for (b, ids) in order.chunks(batch_size).enumerate() {
            let out = &mut train_outputs[b * batch_size..b * batch_size + ids.len()];
            let loss = engine.loss_and_gradient(
                &params,
                train,
                ids,
                settings.class_weights,
                step_seed(settings.seed, epoch, b),
                out,
            );
            let grads = engine.gradient_mut();
            let norm = match settings.clip_norm {
                Some(max) => clip_global_norm(grads, max),
                None => grads.iter().map(|&g| f64::from(g) * f64::from(g)).sum::<f64>().sqrt(),
            };
            if !loss.is_finite() || !norm.is_finite() {
                let what = if loss.is_finite() { "the gradient" } else { "the loss" };
                // Before the first update the weights are the initial ones: no learning rate
                // caused this, the inputs did (values too large for the model once scaled).
                let advice = if samples_seen == 0 {
                    "before any weight update, so the learning rate is not the cause: the scaled inputs are too \
                     large for the model; look for extreme values in the data (the robust scaler does not bound \
                     outliers)"
                } else {
                    "try a lower --learning-rate, or --clip-norm"
                };
                return Err(Error::Diverged {
                    epoch,
                    batch: b + 1,
                    message: format!("{what} became NaN or infinite (loss {loss}); {advice}"),
                });
            }
            engine.step(&mut adam, &mut params);
            loss_sum += loss * ids.len() as f64;
            done += ids.len();
            samples_seen += ids.len();
            observer.batch_done(epoch, b + 1, loss);
            if observer.stop_requested() {
                interrupted = true;
                break;
            }
        }
        if interrupted {
            break;
        }
        let train_loss = loss_sum / done as f64;
        let train_labels: Vec<u8> = order.iter().map(|&i| train.label(i)).collect();
        let threshold = match objective {
            Objective::Classifier => 0.5,
            Objective::Reconstruction | Objective::Forecast => {
                percentile(&train_outputs, settings.threshold_percentile)?
            }
        };
        // Without labels the losses are all there is to measure (a 0/1 metric against
        // all-normal stand-in labels would be noise).
        let train = if train.has_labels() {
            split_metrics(objective, train_loss, &train_outputs, &train_labels, threshold)?
        } else {
            SplitMetrics { loss: train_loss, ..Default::default() }
        };

        engine.model_outputs(&params, validation, &val_ids, 1024, &mut val_outputs);
        let val_loss = validation_loss(objective, &val_outputs, &val_labels);
        let validation = if validation.has_labels() {
            split_metrics(objective, val_loss, &val_outputs, &val_labels, threshold)?
        } else {
            SplitMetrics { loss: val_loss, ..Default::default() }
        };
        let verdict = early.step(epoch, val_loss);
        let learning_rate = adam.config.learning_rate;
        adam.config.learning_rate = plateau.step(val_loss, learning_rate);
        let seconds = epoch_start.elapsed().as_secs_f64();
        let record = EpochRecord {
            epoch,
            train,
            validation,
            learning_rate,
            seconds,
            samples_per_second: done as f64 / seconds.max(1e-9),
        };
        let best = verdict == Verdict::Improved;
        if best {
            best_params.copy_from_slice(params.values());
        }
        observer.epoch_done(&record, best, params.values())?;
        history.epochs.push(record);
        if verdict == Verdict::Stop {
            stopped_early = true;
            break;
        }
    }
    let best_epoch = early.best_epoch();
    let seconds = started.elapsed().as_secs_f64();
    Ok(TrainOutcome {
        params: if best_epoch.is_some() { best_params } else { params.into_values() },
        history,
        best_epoch,
        stopped_early,
        interrupted,
        seconds,
        samples_per_second: samples_seen as f64 / seconds.max(1e-9),
    })
}
