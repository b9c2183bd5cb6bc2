//! The file names of a run folder (`train`'s `run_…` and `evaluate`'s `evaluation_…`), in
//! one place: writers and readers name a file through these, so the two cannot drift apart.
//! They are part of the on-disk format: renaming one breaks every saved run.

/// The model's description: configuration, features, pipeline, threshold, checksum.
pub const META_FILE: &str = "model.json";
/// The trained weights (safetensors).
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// The fitted scaler (a copy of the one in `model.json`, for other tools).
pub const SCALER_FILE: &str = "scaler.json";
/// The chosen threshold, the rule behind it and the alternatives.
pub const THRESHOLD_FILE: &str = "threshold.json";
/// The settings the run was started with.
pub const PARAMETERS_FILE: &str = "parameters.json";
/// Loss and metrics per epoch.
pub const HISTORY_FILE: &str = "history.csv";
/// The metrics of the test split (`train`) or of the evaluated data (`evaluate`).
pub const EVALUATION_FILE: &str = "evaluation.json";
/// The human-readable report.
pub const SUMMARY_FILE: &str = "summary_report.txt";
/// Training's log, appended as the run goes.
pub const LOG_FILE: &str = "training.log";
/// Written last: whether the run finished, and how.
pub const STATUS_FILE: &str = "run_status.json";

/// Loss and accuracy (or validation scores) per epoch.
pub const HISTORY_PLOT: &str = "training_history.png";
pub const ROC_PLOT: &str = "roc_curve.png";
pub const PRECISION_RECALL_PLOT: &str = "precision_recall_curve.png";
pub const CONFUSION_PLOT: &str = "confusion_matrix.png";
/// Scores over time with the threshold, labelled anomalies and incidents.
pub const SCORES_PLOT: &str = "scores.png";
