//! Load settings: the raw command-line flags ([`DataArgs`], flattened into `train`, `detect`
//! and `evaluate`) and the validated [`LoadOptions`] every load takes. Flags are checked once,
//! here, before any data is read.
//!
//! [`PipelineSpec`] is the part of the settings a model must remember to score new data the
//! way it was trained (schema, columns, derived features, missing policy, label source, feature
//! names); `LoadOptions::for_scoring` turns it back into options.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::labels::LabelRules;
use super::schema::SchemaKind;
use crate::{Error, Result};

/// What to do with an empty or `NaN`/`NA`/`null` cell in a numeric column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum MissingPolicy {
    /// Carry the series' last observed value forward; rows before any value are dropped.
    #[default]
    ForwardFill,
    /// Write 0 (explicitly asked for; counted in the report).
    Zero,
    /// Drop the row.
    Drop,
    /// Stop with an error naming file, line and column.
    Error,
}

/// Which row labels a window of rows `[s, s+T)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LabelAt {
    /// The row right after the window, `s+T` (the original project's semantics: predict the next step).
    #[default]
    Next,
    /// The window's last row, `s+T-1`.
    Last,
}

/// Data flags shared by `train`, `detect` and `evaluate` (`#[command(flatten)]` them).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct DataArgs {
    /// Generic mode: the feature columns, comma-separated, or `all` for every numeric column other
    /// than the time, group and label columns. Without it, the Kubernetes schema is detected.
    #[arg(long, alias = "feature_columns", value_name = "NAMES|all")]
    pub feature_columns: Option<String>,
    /// Generic mode: the timestamp column (RFC 3339, 'YYYY-MM-DD HH:MM:SS', Go's time.Time form
    /// or epoch seconds).
    /// Without it, row order is time.
    #[arg(long, alias = "time_column", value_name = "NAME")]
    pub time_column: Option<String>,
    /// Generic mode: columns whose values name a series (comma-separated). Without them the file
    /// is one series.
    #[arg(long, alias = "group_columns", value_name = "NAMES", value_delimiter = ',')]
    pub group_columns: Vec<String>,
    /// The 0/1 label column. By default a column named `label` or `anomaly` is used; without
    /// one, Kubernetes data is labelled by the rules and generic data has no labels.
    #[arg(long, alias = "label_column", value_name = "NAME")]
    pub label_column: Option<String>,
    /// Generic mode: add `_rate`, `_rate_change`, `_rolling_mean_3` and `_rolling_std_3` for
    /// every feature column.
    #[arg(long, alias = "derived_features")]
    pub derived_features: bool,
    /// Missing values (empty, NaN, NA, null) in numeric columns.
    #[arg(long, value_enum, default_value_t = MissingPolicy::ForwardFill)]
    pub missing: MissingPolicy,
    /// Skip rows with a bad value (non-numeric, infinite, negative count, bad timestamp, wrong
    /// field count) instead of stopping; the report counts them.
    #[arg(long, alias = "skip_bad_rows")]
    pub skip_bad_rows: bool,
    /// A TOML file of labelling rules and thresholds (defaults: the original project's).
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Which row labels a window: the row right after it (`next`) or its last row (`last`).
    #[arg(long, alias = "label_at", value_enum, default_value_t = LabelAt::Next)]
    pub label_at: LabelAt,
}

/// Which columns are features in generic mode.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeatureColumns {
    /// Every numeric column other than the time, group and label columns.
    All,
    Names(Vec<String>),
}

/// Generic-mode settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenericSpec {
    pub features: FeatureColumns,
    pub time_column: Option<String>,
    pub group_columns: Vec<String>,
    /// Add the four rolling/difference features per feature column.
    pub derived: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemaMode {
    /// Detect the Kubernetes schema; error with the flags to pass otherwise.
    Auto,
    Generic(GenericSpec),
}

/// Validated load settings.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    pub schema: SchemaMode,
    pub missing: MissingPolicy,
    pub skip_bad_rows: bool,
    /// `None`: a column named `label`/`anomaly` if there is one.
    pub label_column: Option<String>,
    /// When true a named `label_column` missing from the file means "no labels" rather than an
    /// error (scoring files need not carry labels).
    pub label_column_optional: bool,
    /// Rules that label Kubernetes data without a label column; `None`: such data gets no
    /// labels (scoring a model whose labels came from a column).
    pub rules: Option<LabelRules>,
    /// Scoring: keep exactly these features, in this order (the model's saved names).
    pub select_features: Option<Vec<String>>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            schema: SchemaMode::Auto,
            missing: MissingPolicy::ForwardFill,
            skip_bad_rows: false,
            label_column: None,
            label_column_optional: false,
            rules: Some(LabelRules::default()),
            select_features: None,
        }
    }
}

fn non_empty(flag: &str, value: &str) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        Err(Error::config(format!("{flag} has an empty name")))
    } else {
        Ok(v.to_owned())
    }
}

impl DataArgs {
    /// The first generic-mode column flag given, if any.
    pub fn generic_flag(&self) -> Option<&'static str> {
        if self.feature_columns.is_some() {
            Some("--feature-columns")
        } else if self.time_column.is_some() {
            Some("--time-column")
        } else if !self.group_columns.is_empty() {
            Some("--group-columns")
        } else {
            None
        }
    }

    /// Checks the flags and builds the settings (reads the rules file if one is given).
    pub fn to_options(&self) -> Result<LoadOptions> {
        let generic = self.feature_columns.is_some()
            || self.time_column.is_some()
            || !self.group_columns.is_empty()
            || self.derived_features;
        let schema = if generic {
            let features = match self.feature_columns.as_deref().map(str::trim) {
                None | Some("all") => FeatureColumns::All,
                Some(list) => {
                    let names =
                        list.split(',').map(|n| non_empty("--feature-columns", n)).collect::<Result<Vec<_>>>()?;
                    let mut seen = std::collections::HashSet::with_capacity(names.len());
                    if let Some(d) = names.iter().find(|n| !seen.insert(n.as_str())) {
                        return Err(Error::config(format!(
                            "--feature-columns names {} twice",
                            super::names::quoted(d)
                        )));
                    }
                    FeatureColumns::Names(names)
                }
            };
            let group_columns =
                self.group_columns.iter().map(|n| non_empty("--group-columns", n)).collect::<Result<Vec<_>>>()?;
            let time_column = self.time_column.as_deref().map(|n| non_empty("--time-column", n)).transpose()?;
            if let Some(t) = &time_column {
                if group_columns.contains(t) {
                    return Err(Error::config(format!(
                        "{} is both the time column and a group column",
                        super::names::quoted(t)
                    )));
                }
            }
            SchemaMode::Generic(GenericSpec { features, time_column, group_columns, derived: self.derived_features })
        } else {
            SchemaMode::Auto
        };
        let rules = match &self.rules {
            Some(path) => LabelRules::from_file(path)?,
            None => LabelRules::default(),
        };
        Ok(LoadOptions {
            schema,
            missing: self.missing,
            skip_bad_rows: self.skip_bad_rows,
            label_column: self.label_column.as_deref().map(|n| non_empty("--label-column", n)).transpose()?,
            label_column_optional: false,
            rules: Some(rules),
            select_features: None,
        })
    }
}

/// Where a dataset's labels came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "lowercase")]
pub enum LabelSource {
    None,
    Column { name: String },
    Rules { rules: LabelRules },
}

/// What a model must remember to compute its features from new data (saved in `model.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PipelineSpec {
    pub schema: SchemaKind,
    /// Generic mode: the input columns the features derive from, in order.
    pub raw_columns: Vec<String>,
    pub time_column: Option<String>,
    pub group_columns: Vec<String>,
    pub derived_features: bool,
    pub missing: MissingPolicy,
    pub labels: LabelSource,
    /// The model's input features, in order `(F,)`.
    pub feature_names: Vec<String>,
}

impl LoadOptions {
    /// Options that compute exactly `spec.feature_names` from a file in the same schema (extra
    /// columns are ignored). Labels come from the same source as in training when the file has
    /// it (a label column) or from the same rules; a file without them simply has no labels.
    pub fn for_scoring(spec: &PipelineSpec) -> LoadOptions {
        let schema = match spec.schema {
            SchemaKind::Kubernetes => SchemaMode::Auto,
            SchemaKind::Generic => SchemaMode::Generic(GenericSpec {
                features: FeatureColumns::Names(spec.raw_columns.clone()),
                time_column: spec.time_column.clone(),
                group_columns: spec.group_columns.clone(),
                derived: spec.derived_features,
            }),
        };
        let (label_column, rules) = match &spec.labels {
            LabelSource::Column { name } => (Some(name.clone()), None),
            LabelSource::Rules { rules } => (None, Some(rules.clone())),
            LabelSource::None => (None, None),
        };
        LoadOptions {
            schema,
            missing: spec.missing,
            skip_bad_rows: false,
            label_column,
            label_column_optional: true,
            rules,
            select_features: Some(spec.feature_names.clone()),
        }
    }
}
