//! kubelstm's integration tests: one binary, one module per area.

mod data;
mod fixtures_pytorch;
mod gradients;
mod layers;
mod metrics;
mod plot;
mod training;
