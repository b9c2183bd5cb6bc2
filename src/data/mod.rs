//! Everything between a CSV of pod metrics and the tensors the models consume.
//!
//! ```text
//!  CSV ──csv_ingest──▶ raw rows ──series──▶ per-pod, time-sorted ──features──▶ Dataset
//!   (schema: Kubernetes or generic)          (dedup, fill)          (+ labels: column or rules)
//!
//!  Dataset ──split──▶ train / validation / test windows (by time; no window crosses a boundary)
//!          ──scaler──▶ fitted on training rows only, applied in place
//!          ──windows──▶ gather a batch into a time-major buffer (T, B, F)
//! ```
//!
//! | module | holds |
//! |---|---|
//! | [`options`] | `DataArgs` (clap flags) → `LoadOptions`; `PipelineSpec` a model saves |
//! | [`schema`] | the Kubernetes column names; header resolution (Kubernetes or generic) |
//! | [`hashing`] | `HashingReader`: the SHA-256 of a load's input as it is read |
//! | [`csv_ingest`] | `RowParser` (one record → raw row) and the batch reader |
//! | [`csv_guard`] | `LineGuard`: quoted fields end with their line; line numbers; length limits |
//! | [`series`] | grouping, sorting, duplicate timestamps |
//! | [`sources`] | several files (a directory, a pattern) as one dataset; series named after files |
//! | [`features`] | `FeaturePlan` and the incremental `FeatureBuilder` (batch = streaming) |
//! | [`stream`] | `FeatureStream`: record-at-a-time features for `detect --follow` |
//! | [`labels`] | the labelling rules (`rules.toml`) |
//! | [`scaler`] | MinMax and Robust scalers (scikit-learn semantics), JSON round trip |
//! | [`windows`] | `WindowIndex`: (series, start) views and the time-major gather |
//! | [`split`] | time-ordered splits and balanced class weights |
//! | [`synthetic`] | the synthetic cluster behind `kubelstm generate` and the default dataset |
//! | [`openmetrics`] | the synthetic cluster as cAdvisor / kube-state-metrics series (`generate --format openmetrics`) |
//! | [`time`] | timestamp parsing and formatting |
//!
//! Shapes: `F` features, `R` raw numeric columns, `T` sequence length, `B` batch size, `T_s` the
//! rows of one series.

use std::fmt;
use std::io::Read;
use std::path::Path;

pub mod csv_guard;
pub mod csv_ingest;
pub mod features;
pub mod hashing;
pub mod labels;
pub mod names;
pub mod openmetrics;
pub mod options;
pub mod report;
pub mod scaler;
pub mod schema;
pub mod series;
pub mod sources;
pub mod split;
pub mod stream;
pub mod synthetic;
pub mod time;
pub mod windows;

pub use csv_ingest::{RawRow, RowParser};
pub use features::{FeatureBuilder, FeaturePlan, Pushed};
pub use labels::LabelRules;
pub use options::{DataArgs, LabelAt, LabelSource, LoadOptions, MissingPolicy, PipelineSpec};
pub use report::{IngestReport, InputFile};
pub use scaler::{Scaler, ScalerKind};
pub use schema::SchemaKind;
pub use sources::DataFiles;
pub use split::{class_weights, Part, SplitConfig, Splits};
pub use stream::{FeatureStream, StreamRow};
pub use windows::{Window, WindowIndex};

use crate::{Error, Result};

/// A series' name: its group values (`[namespace, pod]` for Kubernetes data; empty for a
/// one-series file).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct SeriesKey(pub Vec<String>);

impl fmt::Display for SeriesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            write!(f, "(all rows)")
        } else {
            write!(f, "{}", self.0.join("/"))
        }
    }
}

/// One pod's (or group's) rows, sorted by time.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub key: SeriesKey,
    /// `(T_s,)` epoch seconds, strictly increasing; the row index when there is no time column.
    pub timestamps: Vec<i64>,
    /// `(T_s, F)` row-major.
    pub features: Vec<f32>,
    /// `(T_s,)` 0/1, when the data has labels.
    pub labels: Option<Vec<u8>>,
}

impl Series {
    pub fn len(&self) -> usize {
        self.timestamps.len()
    }
    pub fn is_empty(&self) -> bool {
        self.timestamps.is_empty()
    }
    /// Row `t`, `(F,)`.
    pub fn row(&self, t: usize, f: usize) -> &[f32] {
        &self.features[t * f..(t + 1) * f]
    }
}

/// A loaded dataset: per-series feature rows and labels, and what the load did.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// The file name (or `<stdin>`, or the synthetic cluster's description).
    pub source: String,
    pub schema: SchemaKind,
    /// `(F,)` in column order of every feature row.
    pub feature_names: Vec<String>,
    /// Names of the columns that make a series key (`Namespace`, `Pod Name` for Kubernetes).
    pub group_columns: Vec<String>,
    /// `None`: timestamps are row indices.
    pub time_column: Option<String>,
    /// Sorted by key.
    pub series: Vec<Series>,
    pub labels: LabelSource,
    pub report: IngestReport,
    pipeline: PipelineSpec,
}

impl Dataset {
    pub(crate) fn assemble(parser: RowParser, series: Vec<Series>, report: IngestReport) -> Dataset {
        let schema = parser.schema();
        let pipeline = PipelineSpec {
            schema: schema.kind,
            raw_columns: parser.plan().raw_names().to_vec(),
            time_column: schema.time.map(|c| schema.header[c].clone()),
            group_columns: schema.group_names(),
            derived_features: parser.plan().derivations().iter().any(|d| !matches!(d, features::Derivation::Raw(_))),
            missing: parser.plan().missing(),
            labels: parser.label_source(),
            feature_names: parser.feature_names().to_vec(),
        };
        Dataset {
            source: parser.source().to_owned(),
            schema: schema.kind,
            feature_names: parser.feature_names().to_vec(),
            group_columns: pipeline.group_columns.clone(),
            time_column: pipeline.time_column.clone(),
            series,
            labels: pipeline.labels.clone(),
            report,
            pipeline,
        }
    }

    pub fn n_features(&self) -> usize {
        self.feature_names.len()
    }
    pub fn n_rows(&self) -> usize {
        self.series.iter().map(Series::len).sum()
    }
    pub fn has_labels(&self) -> bool {
        self.labels != LabelSource::None
    }
    /// What a model must save to compute the same features from new data.
    pub fn pipeline(&self) -> &PipelineSpec {
        &self.pipeline
    }
}

/// Loads a CSV file. `-` is not special here: the command line maps it to [`load_reader`] on
/// standard input.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Dataset> {
    let file = std::fs::File::open(path).map_err(|e| Error::io("open", path, e))?;
    load_reader(file, &path.display().to_string(), options)
}

/// Loads CSV from any reader; `source` names it in messages (`<stdin>` for standard input).
pub fn load_reader<R: Read>(reader: R, source: &str, options: &LoadOptions) -> Result<Dataset> {
    csv_ingest::read_dataset(reader, source, options)
}
