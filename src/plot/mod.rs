//! PNG charts of a training run, drawn by the project itself: plotters into an RGB buffer,
//! text by `ab_glyph` with DejaVu Sans compiled into the binary (no system fonts), PNG by
//! `image`.
//!
//! | function | chart | size |
//! |---|---|---|
//! | [`training_history_png`] | 2×2: loss, accuracy, ROC-AUC, precision per epoch, train and validation (supervised runs) | [`HISTORY_SIZE`] |
//! | [`roc_curve_png`] | ROC curve, chance diagonal, AUC in the legend | [`SIZE`] |
//! | [`precision_recall_png`] | precision-recall steps, prevalence baseline, AP and PR-AUC in the legend | [`SIZE`] |
//! | [`confusion_matrix_png`] | 2×2 heat map with counts and row shares, colour bar | [`SIZE`] |
//! | [`unsupervised_history_png`] | a run without labels: loss per epoch (log axis over decades), learning rate if it changed, histogram of the validation scores with the threshold and its rule | [`HISTORY_SIZE`] |
//! | [`scores_png`] | anomaly score against time (log axis over decades), threshold line, labelled anomalies shaded, incidents marked; several pods as max and median per time step | [`SIZE`] |
//!
//! Every function returns the PNG bytes; the caller writes them (atomically). Every chart
//! has a title, axis labels, tick labels and a legend. Data that cannot be drawn (empty,
//! NaN, a single epoch, all-equal scores) gives a labelled chart with a "no data" note or
//! a sensible range, never a panic. Long series are decimated per pixel column before
//! drawing, so 10^6 scores render in well under a second.

mod axes;
mod canvas;
mod confusion;
mod downsample;
mod histogram;
mod history;
mod precision_recall;
mod roc;
mod scores;
mod ticks;
mod unsupervised;

pub use confusion::confusion_matrix_png;
pub use history::{training_history_png, HistoryCurves, TrainValidation};
pub use precision_recall::precision_recall_png;
pub use roc::roc_curve_png;
pub use axes::TimeKind;
pub use scores::{scores_png, ScoreTrace, LOG_DECADES};
pub use unsupervised::{unsupervised_history_png, ValidationScores};

/// Width and height in pixels of the single charts.
pub const SIZE: (u32, u32) = (1000, 700);
/// Width and height in pixels of the 2×2 training history.
pub const HISTORY_SIZE: (u32, u32) = (1400, 1000);
