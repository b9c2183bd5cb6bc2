//! kubelstm's integration tests: one binary, one module per area.

mod data;
mod detect;
mod fixtures_pytorch;
mod gradients;
mod layers;
mod metrics;
mod plot;
mod training;
