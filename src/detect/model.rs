//! A run folder opened for scoring: the verified model plus everything that turns raw rows
//! into its input windows, checked for consistency before any row is read.
//!
//! [`load_model`] already checks the status file, the format version, every tensor's name,
//! shape and dtype and the weights' checksum. On top of that, scoring needs the feature
//! pipeline in `model.json` to agree with itself and with the run's `scaler.json` and
//! `threshold.json`: a folder whose files were edited, mixed from two runs or left behind by a
//! diverged run is refused with what is wrong and what to do.

use super::smoothing::MAX_SMOOTH_WINDOWS;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::scorer::Scorer;
use crate::artifacts::bounded::{read_bounded_string, SCALER_LIMIT, THRESHOLD_LIMIT};
use crate::artifacts::names::{META_FILE, SCALER_FILE, STATUS_FILE, THRESHOLD_FILE};
use crate::artifacts::{load_model, LoadedModel, ModelPipeline, RunStatus};
use crate::data::csv_ingest::KEY_SEPARATOR;
use crate::data::{LabelAt, LoadOptions, Scaler, SchemaKind};
use crate::metrics::Threshold;
use crate::models::{Arch, Objective};
use crate::{Error, Result};

/// What a score estimates (see the [module docs](super)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Horizon {
    /// Probability that the pod's next sample is anomalous.
    NextSample,
    /// Probability that the window's last sample is anomalous.
    LastSample,
    /// Reconstruction error of the window (unsupervised autoencoder).
    ReconstructionError,
    /// Error of the forecast of the window's last row (unsupervised forecaster).
    ForecastError,
}

impl Horizon {
    pub fn describe(self) -> &'static str {
        match self {
            Horizon::NextSample => "probability that the pod's next sample is anomalous",
            Horizon::LastSample => "probability that the window's last sample is anomalous",
            Horizon::ReconstructionError => "mean squared reconstruction error of the scaled window",
            Horizon::ForecastError => "squared error of the forecast of the window's last row, scaled features",
        }
    }
}

/// `threshold.json` as `kubelstm train` writes it.
#[derive(Clone, Debug, Deserialize)]
pub struct ThresholdFile {
    #[serde(flatten)]
    pub chosen: Threshold,
    pub chosen_on: String,
    #[serde(default)]
    pub alternatives: Vec<Threshold>,
    /// The threshold applies to the mean of a pod's last `smooth_windows` window scores (see
    /// [`super::smoothing`]); 1 (folders before smoothing): each window's own score.
    #[serde(default = "one_window")]
    pub smooth_windows: usize,
}

fn one_window() -> usize {
    1
}

/// A verified run folder, ready to score.
#[derive(Clone, Debug)]
pub struct ScoringModel {
    pub loaded: LoadedModel,
    pub pipeline: ModelPipeline,
    /// The run's decision threshold and the alternatives it was compared with.
    pub thresholds: ThresholdFile,
}

fn read_file(dir: &Path, name: &str, what: &str, limit: u64) -> Result<String> {
    let path = dir.join(name);
    read_bounded_string(&path, limit).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::model(
                dir,
                format!("{name} ({what}) is missing: the run folder is incomplete; copy the whole folder"),
            )
        } else {
            Error::io("read", &path, e)
        }
    })
}

fn damaged(dir: &Path, message: String) -> Error {
    Error::model(
        dir,
        format!("{message}: the run folder was altered or mixed from two runs; use the folder as training wrote it"),
    )
}

impl ScoringModel {
    /// Opens `dir` (a run folder written by `kubelstm train`) and checks it can score: as
    /// [`open`](Self::open), and the weights must have been trained for at least one epoch.
    pub fn load(dir: &Path) -> Result<ScoringModel> {
        let model = Self::open(dir)?;
        if model.untrained() {
            return Err(Error::model(
                dir,
                format!(
                    "training was interrupted before its first epoch ended ({STATUS_FILE}: interrupted, \
                     0 epochs run): the weights are untrained; train again and let at least one epoch finish"
                ),
            ));
        }
        Ok(model)
    }

    /// True when training stopped before any epoch finished: the weights are the initial ones.
    pub fn untrained(&self) -> bool {
        self.loaded.epochs_run == Some(0)
    }

    /// Opens and verifies `dir` without requiring trained weights (`inspect` shows such a
    /// folder; `detect` and `evaluate` go through [`load`](Self::load)).
    pub fn open(dir: &Path) -> Result<ScoringModel> {
        let loaded = load_model(dir)?;
        if loaded.status == RunStatus::Diverged {
            return Err(Error::model(
                dir,
                "training diverged: the folder holds the last good checkpoint but no tuned threshold or scaler; \
                 retrain (a lower --learning-rate or --clip-norm usually helps)",
            ));
        }
        let meta = &loaded.meta;
        let pipeline = meta.pipeline.clone().ok_or_else(|| {
            Error::model(
                dir,
                format!("{META_FILE} has no feature pipeline: it was not written by `kubelstm train`; retrain"),
            )
        })?;
        if meta.sequence_length == 0 {
            return Err(damaged(dir, format!("{META_FILE} says sequence length 0")));
        }
        if pipeline.spec.feature_names != meta.features {
            return Err(damaged(
                dir,
                format!("{META_FILE}'s pipeline computes other features than the model's input list"),
            ));
        }
        if pipeline.scaler.feature_names() != meta.features.as_slice() {
            return Err(damaged(dir, format!("{META_FILE}'s scaler was fitted on other features than the model's")));
        }
        // The scaler inside model.json is what scoring uses; the copy in scaler.json must agree.
        let scaler_text = read_file(dir, SCALER_FILE, "the fitted scaler", SCALER_LIMIT)?;
        let scaler = Scaler::from_json(&scaler_text, &dir.join(SCALER_FILE).display().to_string())?;
        if scaler != pipeline.scaler {
            return Err(damaged(dir, format!("{SCALER_FILE} differs from the scaler recorded in {META_FILE}")));
        }
        let threshold_text = read_file(dir, THRESHOLD_FILE, "the decision threshold", THRESHOLD_LIMIT)?;
        let thresholds: ThresholdFile = serde_json::from_str(&threshold_text)
            .map_err(|e| Error::model(dir, format!("{THRESHOLD_FILE} is damaged ({e})")))?;
        if thresholds.chosen.value.to_bits() != meta.threshold.to_bits() {
            return Err(damaged(
                dir,
                format!(
                    "{THRESHOLD_FILE} says threshold {} but {META_FILE} says {}",
                    thresholds.chosen.value, meta.threshold
                ),
            ));
        }
        if !(1..=MAX_SMOOTH_WINDOWS).contains(&thresholds.smooth_windows) {
            return Err(damaged(
                dir,
                format!(
                    "{THRESHOLD_FILE}'s smooth_windows is {}, outside 1..={MAX_SMOOTH_WINDOWS}",
                    thresholds.smooth_windows
                ),
            ));
        }
        if !meta.threshold.is_finite() {
            return Err(damaged(dir, format!("the threshold {} is not a finite number", meta.threshold)));
        }
        Ok(ScoringModel { loaded, pipeline, thresholds })
    }

    /// A scoring model assembled in memory (tests, the fuzz check); [`load`](Self::load)
    /// is the way from disk.
    pub fn from_parts(loaded: LoadedModel, pipeline: ModelPipeline, thresholds: ThresholdFile) -> ScoringModel {
        ScoringModel { loaded, pipeline, thresholds }
    }

    pub fn dir(&self) -> &PathBuf {
        &self.loaded.dir
    }
    /// T, rows per window.
    pub fn steps(&self) -> usize {
        self.loaded.meta.sequence_length
    }
    /// F, features per row.
    pub fn features(&self) -> usize {
        self.loaded.model.config.features
    }
    pub fn feature_names(&self) -> &[String] {
        &self.loaded.meta.features
    }
    pub fn threshold(&self) -> f64 {
        self.loaded.meta.threshold
    }
    /// Window scores averaged per pod before the threshold applies (1: none).
    pub fn smooth_windows(&self) -> usize {
        self.thresholds.smooth_windows
    }
    /// Steps a pull reaches back before the first window it reports: the window's T rows, 3
    /// more for the history the rate features read, and the k − 1 windows a smoothed score
    /// averages.
    pub fn history_steps(&self) -> u64 {
        self.steps() as u64 + 3 + (self.smooth_windows() as u64 - 1)
    }
    pub fn label_at(&self) -> LabelAt {
        self.pipeline.label_at
    }
    pub fn scaler(&self) -> &Scaler {
        &self.pipeline.scaler
    }
    pub fn arch(&self) -> Arch {
        self.loaded.model.config.arch
    }

    pub fn horizon(&self) -> Horizon {
        match (self.loaded.model.config.objective, self.pipeline.label_at) {
            (Objective::Reconstruction, _) => Horizon::ReconstructionError,
            (Objective::Forecast, _) => Horizon::ForecastError,
            (Objective::Classifier, LabelAt::Next) => Horizon::NextSample,
            (Objective::Classifier, LabelAt::Last) => Horizon::LastSample,
        }
    }

    /// A scorer over the model's weights (one per worker thread).
    pub fn scorer(&self) -> Scorer {
        Scorer::new(self.loaded.model.clone(), self.loaded.params.clone())
    }

    /// Load options that compute the model's features from a file in its schema.
    pub fn load_options(&self, skip_bad_rows: bool) -> LoadOptions {
        LoadOptions { skip_bad_rows, ..LoadOptions::for_scoring(&self.pipeline.spec) }
    }

    /// Names of the columns that make a series key in output: `namespace`, `pod` for
    /// Kubernetes data, the group column names for generic data.
    pub fn key_names(&self) -> Vec<String> {
        match self.pipeline.spec.schema {
            SchemaKind::Kubernetes => vec!["namespace".into(), "pod".into()],
            SchemaKind::Generic => self.pipeline.spec.group_columns.clone(),
        }
    }

    /// True when rows carry real timestamps (otherwise a timestamp is the row's index).
    pub fn has_time(&self) -> bool {
        self.pipeline.spec.time_column.is_some() || self.pipeline.spec.schema == SchemaKind::Kubernetes
    }
}

/// Splits a joined series key into its group values.
pub fn key_parts(key: &str) -> impl Iterator<Item = &str> {
    // An empty key is the one series of a file without group columns: no parts.
    key.split(KEY_SEPARATOR).filter(move |_| !key.is_empty())
}
