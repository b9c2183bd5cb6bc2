//! Scoring new metrics with a trained model: `kubelstm detect`, batch and streaming.
//!
//! ```text
//!  CSV rows ──RowParser + FeatureBuilder (the model's PipelineSpec)──▶ feature rows (F,) per pod
//!           ──Scaler (fitted at training)──▶ scaled rows
//!           ──last T rows of the pod──▶ window (T, F) ──Scorer──▶ score, per-feature shares
//! ```
//!
//! Two drivers share every stage:
//! - **batch** ([`batch`]): the whole input is loaded as training loads it (rows sorted by time
//!   per pod, duplicate timestamps resolved), every full window is scored, `B` windows per
//!   worker thread at a time, and the rows are written pod by pod in time order;
//! - **streaming** ([`stream`], `--follow`): records are taken as they arrive; each pod keeps a
//!   ring of its last `T` scaled rows, and a completed window is queued and scored with the
//!   others that arrived together — at once when the input pauses ([`follow`] knows when), so
//!   a trickle of rows gets its scores immediately and a backlog is scored at batch speed.
//!   A window's score does not depend on what it is batched with, so both drivers give the
//!   same bits for the same rows in time order (`tests/detect.rs` checks it).
//!
//! ## What a score means
//!
//! The score of the window of rows `t−T+1 ..= t` of a pod is written with the timestamp of
//! row `t`, the newest row the model has seen. What it estimates depends on how the model was
//! trained (`model.json`: `model.objective`, `pipeline.label_at`):
//!
//! | model | `label_at` | score at row `t` |
//! |---|---|---|
//! | classifier (standard, bidirectional, attention, supervised autoencoder) | `next` (default) | probability that the pod's **next** sample, `t+1`, is anomalous: a one-step forecast |
//! | classifier | `last` | probability that sample `t` itself is anomalous |
//! | unsupervised autoencoder | either | mean squared reconstruction error of the scaled window; not a probability |
//!
//! The classifiers were trained with balanced class weights, so their probabilities are
//! inflated for the rare class; the decision is `score >= threshold`, with the threshold chosen
//! on the validation split at training (F1-optimal for classifiers, a percentile of the
//! reconstruction errors for the unsupervised autoencoder), or given by `--threshold`.
//!
//! The per-feature **shares** explain a score: gradient × input, `Σ_t |∂z/∂x_{t,f} · x_{t,f}|`,
//! for the classifiers, and the per-feature reconstruction error for the autoencoder, each
//! divided by its window total (see [`scorer`]).
//!
//! ## Incidents
//!
//! With `--events` the scored windows go to an [`EventSink`] instead of an [`Output`]: the
//! [`Incidents`] accumulator merges each pod's anomalous windows into incidents (a gap of up
//! to `--merge-gap` normal windows joins two) and one record per incident is written when it
//! closes. Both are [`WindowSink`]s, so the drivers do not know which they feed.

pub mod batch;
pub mod batcher;
pub mod columns;
pub mod event_output;
pub mod follow;
pub mod incidents;
pub mod model;
pub mod output;
pub mod scorer;
pub mod sink;
pub mod smoothing;
pub mod stream;

pub use batch::BatchScorer;
pub use event_output::EventSink;
pub use incidents::{Incident, Incidents, DEFAULT_MERGE_GAP};
pub use model::{Horizon, ScoringModel};
pub use output::{Format, Output, OutputOptions, Scored};
pub use scorer::{top_features, Scorer};
pub use sink::WindowSink;
pub use smoothing::{Smoothed, Smoother};
pub use stream::StreamScorer;
