//! kubelstm's integration tests: one binary, one module per area.

mod cli_train;
mod data;
mod fixtures_pytorch;
mod gradients;
mod layers;
mod metrics;
mod plot;
mod reliability;
mod training;
