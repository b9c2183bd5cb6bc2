//! The layer-by-layer summary `inspect` prints ([`Model::summary`](super::Model::summary)).

use serde::{Deserialize, Serialize};

use super::{ModelConfig, Objective};
use crate::params::ParamLayout;

/// Parameters of the layers whose tensors are named `prefix.*`.
pub struct ParamCount<'a>(pub(super) &'a ParamLayout);

impl ParamCount<'_> {
    pub fn of(&self, prefix: &str) -> usize {
        self.0.tensors().iter().filter(|t| t.name.starts_with(&format!("{prefix}."))).map(|t| t.span.len).sum()
    }
}

/// The time steps a model's recurrent layers read: a forecaster's the first T − 1 rows.
pub(crate) fn steps_read(cfg: &ModelConfig) -> &'static str {
    if cfg.objective == Objective::Forecast {
        "T-1"
    } else {
        "T"
    }
}

impl LayerSummary {
    pub fn new(name: &str, kind: &str, output_shape: String, params: usize) -> LayerSummary {
        LayerSummary { name: name.to_string(), kind: kind.to_string(), output_shape, params }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerSummary {
    pub name: String,
    pub kind: String,
    pub output_shape: String,
    pub params: usize,
}

#[cfg(test)]
mod summary_tests {
    use crate::models::{Arch, Model, ModelConfig};

    #[test]
    fn every_parameter_is_in_exactly_one_summary_row() {
        for arch in Arch::ALL {
            for unsupervised in [false, true] {
                let mut cfg = ModelConfig::new(arch, 7);
                if unsupervised {
                    cfg = cfg.unsupervised();
                }
                let model = Model::new(cfg).unwrap();
                let rows = model.summary();
                let total: usize = rows.iter().map(|r| r.params).sum();
                assert_eq!(total, model.layout.len(), "{arch} unsupervised={unsupervised}: {rows:?}");
                let mut names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
                names.sort_unstable();
                names.dedup();
                assert_eq!(names.len(), rows.len(), "{arch}: a layer named twice");
                assert_eq!(rows[0].name, "input");
            }
        }
    }
}
