//! Optimisation: Adam over the flat parameter buffer, global-norm gradient clipping, and the
//! two Keras callbacks the original project used (reduce-on-plateau, early stopping).

pub mod adam;
pub mod early_stopping;
pub mod schedule;

pub use adam::{clip_global_norm, Adam, AdamConfig};
pub use early_stopping::{EarlyStopping, Verdict};
pub use schedule::ReduceOnPlateau;
