//! `kubelstm train`: the main job. With no flags it trains the standard model on the built-in
//! synthetic cluster; with the original project's flags (underscore spellings accepted) it
//! does what the original did, correctly. See [`crate::train::job`].

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::Outcome;
use crate::artifacts::RunStatus;
use crate::data::split::VALIDATION_SHARE;
use crate::data::synthetic::SyntheticConfig;
use crate::data::{DataArgs, DataFiles, ScalerKind};
use crate::detect::smoothing::MAX_SMOOTH_WINDOWS;
use crate::metrics::ThresholdChoice;
use crate::models::{Arch, Objective, MAX_SEQUENCE_LENGTH, MAX_WIDTH};
use crate::optim::AdamConfig;
use crate::prometheus::PrometheusArgs;
use crate::source::{FilesSource, PrometheusSource, Source, SyntheticSource};
use crate::train::calibration::ErrorWeighting;
use crate::train::job::{self, JobSettings};
use crate::train::TrainSettings;
use crate::{Error, Result};

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Learn from labels (a label column or the labelling rules).
    Supervised,
    /// Learn what normal looks like, without labels: the autoencoder reconstructs each
    /// window, the other models forecast its last row; a high error is an anomaly.
    Unsupervised,
}

// Numeric flags take `allow_negative_numbers` so `--learning-rate -1` reaches the range checks
// in `settings` (which name the flag and the valid range) instead of clap's
// "unexpected argument '-1' found".
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Pod metrics CSV; or several files (repeat the flag, or list them after it), a directory
    /// (its *.csv files) or a pattern (DIR/*_metric.csv), read as one dataset with one header.
    /// Without it, the built-in synthetic cluster (50 pods, 100,000 rows).
    #[arg(long, alias = "data_path", value_name = "FILE|DIR|PATTERN", num_args = 1..)]
    pub data_path: Vec<PathBuf>,
    /// Where the run folder (run_YYYYMMDD_HHMMSS) is created.
    #[arg(long, alias = "output_dir", default_value = "model_artifacts", value_name = "DIR")]
    pub output_dir: PathBuf,
    /// Time steps per window.
    #[arg(long, alias = "sequence_length", default_value_t = 10, allow_negative_numbers = true)]
    pub sequence_length: usize,
    #[arg(long, alias = "batch_size", default_value_t = 32, allow_negative_numbers = true)]
    pub batch_size: usize,
    /// Maximum epochs (early stopping usually ends sooner).
    #[arg(long, default_value_t = 50, allow_negative_numbers = true)]
    pub epochs: usize,
    /// How the decision threshold is chosen on the validation windows: f1-optimal on labels
    /// (the supervised default), pot (peaks over threshold: the score a normal window exceeds
    /// with probability --risk, from the tail of the validation scores; the unsupervised
    /// default) or percentile (flags --threshold-percentile's complement of the validation
    /// windows by construction, whatever their scores).
    #[arg(long, value_enum)]
    pub threshold_rule: Option<ThresholdChoice>,
    /// POT: probability that a normal window's score exceeds the threshold.
    #[arg(long, default_value_t = 1e-4, allow_negative_numbers = true)]
    pub risk: f64,
    /// Percentile of validation scores used as the percentile threshold (the fallback when
    /// POT cannot fit the validation tail).
    #[arg(long, alias = "threshold_percentile", default_value_t = 95.0, allow_negative_numbers = true)]
    pub threshold_percentile: f64,
    /// Fraction of the time range held out as the test split.
    #[arg(long, alias = "test_size", default_value_t = 0.2, allow_negative_numbers = true)]
    pub test_size: f64,
    /// LSTM with self-attention (precedence: autoencoder, attention, bidirectional, standard).
    #[arg(long, alias = "use_attention")]
    pub use_attention: bool,
    /// Bidirectional LSTM.
    #[arg(long, alias = "use_bidirectional")]
    pub use_bidirectional: bool,
    /// LSTM autoencoder.
    #[arg(long, alias = "use_autoencoder")]
    pub use_autoencoder: bool,
    /// RobustScaler (median/IQR) instead of MinMaxScaler.
    #[arg(long, alias = "use_robust_scaler")]
    pub use_robust_scaler: bool,
    /// Supervised or unsupervised (default: supervised when the data has labels, a label
    /// column or the Kubernetes labelling rules; unsupervised otherwise).
    #[arg(long, value_enum)]
    pub mode: Option<Mode>,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Worker threads (default: all cores). Runs are reproducible at a fixed thread count.
    #[arg(long, allow_negative_numbers = true)]
    pub threads: Option<usize>,
    #[arg(long, alias = "learning_rate", default_value_t = 1e-3, allow_negative_numbers = true)]
    pub learning_rate: f64,
    /// Epochs without validation improvement before stopping.
    #[arg(long, default_value_t = 10, allow_negative_numbers = true)]
    pub patience: usize,
    /// Clip gradients to this global L2 norm (off by default, as in Keras).
    #[arg(long, alias = "clip_norm", value_name = "NORM", allow_negative_numbers = true)]
    pub clip_norm: Option<f64>,
    /// Units of the two recurrent layers (default 128,64; autoencoder 64,32).
    // `num_args = 1..=2` so both `8,4` and `8 4` parse: clap counts raw values before splitting
    // on the delimiter, so `num_args = 2` refused the documented `A,B` spelling.
    #[arg(long, value_name = "A,B", value_delimiter = ',', num_args = 1..=2)]
    pub lstm_units: Option<Vec<usize>>,
    /// Units of the head's two dense layers (default 64,32).
    #[arg(long, value_name = "A,B", value_delimiter = ',', num_args = 1..=2)]
    pub dense_units: Option<Vec<usize>>,
    /// Unsupervised score: each feature's error in units of its mean validation error
    /// (per-feature), or the plain mean squared error of the scaled features (none).
    #[arg(long, value_enum, default_value_t = ErrorWeighting::PerFeature)]
    pub error_weights: ErrorWeighting,
    /// Average each pod's score over its last K windows before the threshold applies (the
    /// threshold is chosen on validation scores smoothed the same way; detect and serve apply
    /// the model's K). 1: each window's own score.
    #[arg(long, value_name = "K", default_value_t = 1, allow_negative_numbers = true)]
    pub smooth: usize,
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub source: PrometheusArgs,
}

fn pair(name: &str, v: &Option<Vec<usize>>) -> Result<Option<[usize; 2]>> {
    match v.as_deref() {
        None => Ok(None),
        Some([a, b]) if (1..=MAX_WIDTH).contains(a) && (1..=MAX_WIDTH).contains(b) => Ok(Some([*a, *b])),
        Some(other) => {
            Err(Error::config(format!("{name} takes two positive widths of at most {MAX_WIDTH}, got {other:?}")))
        }
    }
}

impl Args {
    /// Checks every flag before any work starts.
    pub fn settings(&self) -> Result<JobSettings> {
        if self.sequence_length == 0 {
            return Err(Error::config("--sequence-length must be at least 1"));
        }
        if self.sequence_length > MAX_SEQUENCE_LENGTH {
            return Err(Error::config(format!(
                "--sequence-length must be at most {MAX_SEQUENCE_LENGTH}, got {}",
                self.sequence_length
            )));
        }
        if !(self.risk > 0.0 && self.risk < 1.0) {
            return Err(Error::config(format!("--risk must be between 0 and 1 (exclusive), got {}", self.risk)));
        }
        if self.batch_size == 0 {
            return Err(Error::config("--batch-size must be at least 1"));
        }
        if self.epochs == 0 {
            return Err(Error::config("--epochs must be at least 1"));
        }
        if !(self.test_size > 0.0 && self.test_size < 1.0) {
            return Err(Error::config(format!(
                "--test-size must be between 0 and 1 (exclusive), got {}",
                self.test_size
            )));
        }
        if !(self.threshold_percentile > 0.0 && self.threshold_percentile <= 100.0) {
            return Err(Error::config(format!(
                "--threshold-percentile must be in (0, 100], got {}",
                self.threshold_percentile
            )));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(Error::config(format!(
                "--learning-rate must be a positive number, got {}",
                self.learning_rate
            )));
        }
        if !(1..=MAX_SMOOTH_WINDOWS).contains(&self.smooth) {
            return Err(Error::config(format!(
                "--smooth must be between 1 and {MAX_SMOOTH_WINDOWS} windows, got {}",
                self.smooth
            )));
        }
        if self.patience == 0 {
            return Err(Error::config("--patience must be at least 1"));
        }
        if let Some(c) = self.clip_norm {
            if !(c > 0.0 && c.is_finite()) {
                return Err(Error::config(format!("--clip-norm must be a positive number, got {c}")));
            }
        }
        let threads = super::resolve_threads(self.threads)?;
        let arch = if self.use_autoencoder {
            Arch::Autoencoder
        } else if self.use_attention {
            Arch::Attention
        } else if self.use_bidirectional {
            Arch::Bidirectional
        } else {
            Arch::Standard
        };
        let objective = match self.mode {
            Some(Mode::Supervised) => Some(Objective::Classifier),
            Some(Mode::Unsupervised) => Some(Objective::unsupervised_for(arch)),
            None => None,
        };
        self.source.check_unused()?;
        let data: Arc<dyn Source> = match (self.data_path.is_empty(), self.source.is_set()) {
            (false, true) => return Err(Error::config("--data-path and --prometheus are two sources: pass one")),
            (false, false) => Arc::new(FilesSource(DataFiles::resolve(&self.data_path, "--data-path")?)),
            (true, false) => Arc::new(SyntheticSource(SyntheticConfig::default())),
            (true, true) => {
                if let Some(flag) = self.data.generic_flag() {
                    return Err(Error::config(format!(
                        "{flag} names CSV columns; with --prometheus the columns are the queries' \
                         (--query NAME=PROMQL, --group-labels)"
                    )));
                }
                Arc::new(PrometheusSource::for_training(&self.source, "-7d", self.data.derived_features)?)
            }
        };
        let parameters = serde_json::json!({
            // As given: one path, or the list (the ingest report names the files read).
            "data_path": match self.data_path.as_slice() {
                [] => serde_json::Value::Null,
                [one] => one.display().to_string().into(),
                many => many.iter().map(|p| p.display().to_string()).collect(),
            },
            "prometheus": self.source.prometheus,
            "start": self.source.start,
            "end": self.source.is_set().then_some(&self.source.end),
            "output_dir": self.output_dir.display().to_string(),
            "sequence_length": self.sequence_length,
            "batch_size": self.batch_size,
            "epochs": self.epochs,
            "threshold_percentile": self.threshold_percentile,
            "test_size": self.test_size,
            "validation_size": VALIDATION_SHARE,
            "architecture": arch.name(),
            "scaler": if self.use_robust_scaler { "robust" } else { "minmax" },
            "seed": self.seed,
            "learning_rate": self.learning_rate,
            "patience": self.patience,
            "clip_norm": self.clip_norm,
            "missing": self.data.missing,
            "label_at": self.data.label_at,
            "error_weights": self.error_weights,
            "threshold_rule": self.threshold_rule,
            "risk": self.risk,
            "smooth": self.smooth,
        });
        Ok(JobSettings {
            data,
            load: self.data.to_options()?,
            label_at: self.data.label_at,
            output_dir: self.output_dir.clone(),
            sequence_length: self.sequence_length,
            test_size: self.test_size,
            validation_size: VALIDATION_SHARE,
            scaler: if self.use_robust_scaler { ScalerKind::Robust } else { ScalerKind::MinMax },
            arch,
            objective,
            error_weighting: self.error_weights,
            threshold_rule: self.threshold_rule,
            risk: self.risk,
            smooth_windows: self.smooth,
            threshold_percentile: self.threshold_percentile,
            train: TrainSettings {
                epochs: self.epochs,
                batch_size: self.batch_size,
                adam: AdamConfig { learning_rate: self.learning_rate, ..AdamConfig::default() },
                patience: self.patience,
                seed: self.seed,
                clip_norm: self.clip_norm,
                ..TrainSettings::default()
            },
            threads,
            lstm: pair("--lstm-units", &self.lstm_units)?,
            dense: pair("--dense-units", &self.dense_units)?,
            parameters,
        })
    }
}

/// The settings of `kubelstm train WORDS…`, parsed exactly as the command line is: for the
/// examples and tests that drive a training run from the library.
pub fn settings_from_words<S: AsRef<str>>(words: &[S]) -> Result<JobSettings> {
    use clap::Parser;
    let argv = ["kubelstm", "train"].into_iter().chain(words.iter().map(AsRef::as_ref));
    match super::Cli::try_parse_from(argv) {
        Ok(super::Cli { command: super::Command::Train(args) }) => args.settings(),
        Ok(_) => unreachable!("the words follow `train`"),
        Err(e) => Err(Error::config(e.to_string())),
    }
}

pub fn run(args: Args) -> Result<Outcome> {
    let settings = args.settings()?;
    let interrupt = Arc::new(AtomicBool::new(false));
    let flag = interrupt.clone();
    // First Ctrl-C: finish the current batch and save; a second one aborts at once. SIGTERM
    // and SIGHUP (ctrlc's `termination` feature) do the same: `docker stop`, `kubectl delete`,
    // `timeout` and a Job's deadline send SIGTERM, and deserve the same loadable run.
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            eprintln!("\naborted");
            std::process::exit(130);
        }
        eprintln!("\nstopping after the current batch (Ctrl-C again to abort)...");
    });
    let result = job::run(&settings, interrupt)?;
    println!("{}", result.summary);
    println!("run folder: {}", result.run_dir.display());
    Ok(if result.status == RunStatus::Interrupted { Outcome::Interrupted } else { Outcome::Success })
}
