//! kubelstm's integration tests: one binary, one module per area.

mod gradients;
mod metrics;
mod plot;
mod training;
