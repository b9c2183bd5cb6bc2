//! # kubelstm
//!
//! Trains LSTM anomaly detectors on Kubernetes pod metrics and scores new metrics with them,
//! on a neural engine of its own: every layer has a hand-written forward and backward pass
//! over the SIMD kernels of `kubelstm-kernels`.
//!
//! | module | what it holds |
//! |---|---|
//! | [`params`] | the flat parameter buffer with named tensors; gradients and Adam moments share it |
//! | [`nn`] | layers as forward/backward pairs: dense, LSTM, BiLSTM, attention, layer norm, ... |
//! | [`models`] | the four architectures: standard, bidirectional, attention, autoencoder |
//! | [`optim`] | Adam, learning-rate schedule, early stopping |
//! | [`train`] | the epoch loop, batching, history, the data-parallel engine |
//! | [`parallel`] | worker thread pools and the contiguous share of a batch each thread takes |
//! | [`detect`] | `kubelstm detect`: scoring new metrics, batch and `--follow`; outputs, incidents |
//! | [`prometheus`] | Prometheus as a data source: queries, HTTP client, pulls read as CSV |
//! | [`serve`] | `kubelstm serve`: the always-on exporter Prometheus scrapes |
//! | [`source`] | where metrics come from: files, standard input, synthetic, Prometheus; read whole or followed |
//! | [`data`] | CSV ingest, per-pod series, features, labels, scalers, windows, splits, synthetic cluster |
//! | [`metrics`] | ROC, precision-recall, AUC, confusion matrix, thresholds |
//! | [`plot`] | PNG charts |
//! | [`artifacts`] | the run folder, model file, atomic writes |
//! | [`bench`] | the canonical speed workload of `kubelstm bench` and the criterion benches |
//! | [`gradcheck`] | the gradient audit: hand-written backward passes against f64 finite differences |
//! | [`error`] | the error type; every message names the file, row, column or setting to fix |
//! | [`cli`] | the `kubelstm` command line, one file per command |
#![forbid(unsafe_code)]

pub mod artifacts;
pub mod bench;
pub mod cli;
pub mod data;
pub mod detect;
pub mod error;
pub mod gradcheck;
pub mod metrics;
pub mod models;
pub mod nn;
pub mod optim;
pub mod parallel;
pub mod params;
pub mod plot;
pub mod prometheus;
pub mod serve;
pub mod source;
pub mod train;

pub use error::{Error, Result};
pub use kubelstm_kernels::Float;
