//! JSON has no NaN or infinity. Curves carry two non-finite values with fixed meanings: a
//! ROC curve's first threshold is +inf, and a rate over an empty class is NaN. Both are
//! written as `null` (as `tests/fixtures/metrics.json` stores the +inf threshold) and read
//! back to the value the field means.

use serde::{Deserialize, Deserializer, Serializer};

fn serialize_vec<S: Serializer>(values: &[f64], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(values.iter().map(|v| v.is_finite().then_some(*v)))
}

fn deserialize_vec<'de, D: Deserializer<'de>>(deserializer: D, null: f64) -> Result<Vec<f64>, D::Error> {
    let values: Vec<Option<f64>> = Vec::deserialize(deserializer)?;
    Ok(values.into_iter().map(|v| v.unwrap_or(null)).collect())
}

/// `Vec<f64>` where `null` stands for NaN (an undefined rate).
pub(crate) mod null_is_nan {
    use super::*;
    pub fn serialize<S: Serializer>(values: &[f64], serializer: S) -> Result<S::Ok, S::Error> {
        serialize_vec(values, serializer)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f64>, D::Error> {
        deserialize_vec(deserializer, f64::NAN)
    }
}

/// `Vec<f64>` where `null` stands for +inf (the ROC curve's "predict nothing" threshold).
pub(crate) mod null_is_inf {
    use super::*;
    pub fn serialize<S: Serializer>(values: &[f64], serializer: S) -> Result<S::Ok, S::Error> {
        serialize_vec(values, serializer)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f64>, D::Error> {
        deserialize_vec(deserializer, f64::INFINITY)
    }
}
