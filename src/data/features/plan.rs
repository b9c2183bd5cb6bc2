//! [`FeaturePlan`]: the output features of a load, as derivations of the raw numeric columns.

use super::{Derivation, Neighbourhood};
use crate::data::names::{quoted, quoted_list};
use crate::data::options::MissingPolicy;
use crate::data::schema;
use crate::{Error, Result};

/// The output features of a load, as derivations of the raw numeric columns.
#[derive(Clone, Debug, PartialEq)]
pub struct FeaturePlan {
    raw_names: Vec<String>,
    names: Vec<String>,
    derivations: Vec<Derivation>,
    missing: MissingPolicy,
}

fn push_derived(names: &mut Vec<String>, ders: &mut Vec<Derivation>, name: &str, c: usize) {
    names.push(format!("{name}_rate"));
    ders.push(Derivation::Rate(c));
    names.push(format!("{name}_rate_change"));
    ders.push(Derivation::RateChange(c));
    names.push(format!("{name}_rolling_mean_3"));
    ders.push(Derivation::RollingMean3(c));
    names.push(format!("{name}_rolling_std_3"));
    ders.push(Derivation::RollingStd3(c));
}

impl FeaturePlan {
    /// The original project's features for the Kubernetes schema. `raw_names` are the numeric
    /// columns present, a subsequence of [`schema::NUMERIC`] that holds every required one:
    /// the raw columns themselves, then the four derived features of each base metric, then
    /// `Container_Readiness_Ratio`, `CPU_Utilization_Ratio` and `Memory_Utilization_Ratio`
    /// (when limits exist), `Network_Total_Bytes`, `FS_Total_Operations`.
    pub fn kubernetes(raw_names: &[String], missing: MissingPolicy) -> FeaturePlan {
        let col = |n: &str| raw_names.iter().position(|r| r == n);
        let req = |n: &str| col(n).unwrap_or_else(|| panic!("required column {n} resolved"));
        let mut names: Vec<String> = raw_names.to_vec();
        let mut ders: Vec<Derivation> = (0..raw_names.len()).map(Derivation::Raw).collect();
        for base in schema::BASE_METRICS {
            push_derived(&mut names, &mut ders, base, req(base));
        }
        names.push("Container_Readiness_Ratio".into());
        ders.push(Derivation::Ratio { num: req(schema::READY_CONTAINERS), den: req(schema::TOTAL_CONTAINERS) });
        if let Some(den) = col(schema::CPU_LIMITS) {
            names.push("CPU_Utilization_Ratio".into());
            ders.push(Derivation::Ratio { num: req(schema::CPU_USAGE), den });
        }
        if let Some(den) = col(schema::MEMORY_LIMITS) {
            names.push("Memory_Utilization_Ratio".into());
            ders.push(Derivation::Ratio { num: req(schema::MEMORY_MB), den });
        }
        names.push("Network_Total_Bytes".into());
        ders.push(Derivation::Sum(req(schema::NET_RX_BYTES), req(schema::NET_TX_BYTES)));
        names.push("FS_Total_Operations".into());
        ders.push(Derivation::Sum(req(schema::FS_READS), req(schema::FS_WRITES)));
        FeaturePlan { raw_names: raw_names.to_vec(), names, derivations: ders, missing }
    }

    /// Generic mode: the raw columns as they are, plus the four derived features of each when
    /// `derived`.
    pub fn generic(raw_names: &[String], derived: bool, missing: MissingPolicy) -> Result<FeaturePlan> {
        let mut names: Vec<String> = raw_names.to_vec();
        let mut ders: Vec<Derivation> = (0..raw_names.len()).map(Derivation::Raw).collect();
        if derived {
            for (c, name) in raw_names.iter().enumerate() {
                push_derived(&mut names, &mut ders, name, c);
            }
        }
        let mut seen = std::collections::HashSet::with_capacity(names.len());
        if let Some(n) = names.iter().find(|n| !seen.insert(n.as_str())) {
            return Err(Error::config(format!(
                "feature name {} would occur twice (a column already has a derived feature's name); \
                 rename the column or leave out --derived-features",
                quoted(n)
            )));
        }
        Ok(FeaturePlan { raw_names: raw_names.to_vec(), names, derivations: ders, missing })
    }

    /// The plan restricted to `wanted` (a model's feature names), in that order. Errors list
    /// every name this file cannot provide.
    pub fn select(&self, file: &str, wanted: &[String]) -> Result<FeaturePlan> {
        let mut derivations = Vec::with_capacity(wanted.len());
        let mut missing = Vec::new();
        let mut position = std::collections::HashMap::with_capacity(self.names.len());
        for (i, n) in self.names.iter().enumerate() {
            position.entry(n.as_str()).or_insert(i);
        }
        for w in wanted {
            match position.get(w.as_str()) {
                Some(&i) => derivations.push(self.derivations[i]),
                None => missing.push(quoted(w)),
            }
        }
        if !missing.is_empty() {
            return Err(Error::schema(
                file,
                format!(
                    "the model needs feature{} {} which this file cannot provide (it has the columns for: {}); \
                     score a file with the columns the model was trained on",
                    if missing.len() == 1 { "" } else { "s" },
                    missing.join(", "),
                    quoted_list(&self.raw_names)
                ),
            ));
        }
        Ok(FeaturePlan {
            raw_names: self.raw_names.clone(),
            names: wanted.to_vec(),
            derivations,
            missing: self.missing,
        })
    }

    /// Output feature names `(F,)`.
    pub fn names(&self) -> &[String] {
        &self.names
    }
    /// Raw numeric input columns `(R,)`.
    pub fn raw_names(&self) -> &[String] {
        &self.raw_names
    }
    pub fn derivations(&self) -> &[Derivation] {
        &self.derivations
    }
    pub fn n_features(&self) -> usize {
        self.names.len()
    }
    pub fn n_raw(&self) -> usize {
        self.raw_names.len()
    }
    pub fn missing(&self) -> MissingPolicy {
        self.missing
    }
    /// Writes the features of the neighbourhood's current row. `out`: `(F,)`.
    pub fn compute(&self, nb: &Neighbourhood<'_>, out: &mut [f32]) {
        assert_eq!(out.len(), self.derivations.len(), "feature row length");
        for (o, d) in out.iter_mut().zip(&self.derivations) {
            *o = d.eval(nb);
        }
    }
}
