//! Scoring new metrics with a trained model: window scoring with per-feature explanations
//! ([`scorer`]), per-pod window buffers for batch and streaming input, and output formats.

pub mod scorer;

pub use scorer::Scorer;
