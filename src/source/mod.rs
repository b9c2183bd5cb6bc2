//! Where metrics come from, behind one seam: CSV files, standard input, the synthetic
//! cluster, a Prometheus pull. `train`, `evaluate`, `detect` and `serve` all read through it,
//! so a new source is one file here.
//!
//! ```text
//!  Source ──read_whole(loader)──▶ CSV bytes ──Loader──▶ Dataset (+ SHA-256 of the bytes)
//!     │                                        training's: the LoadOptions of the flags
//!     │                                        scoring's: a saved model's schema and scaler
//!     └──open_live()──▶ LiveInput: bytes as they arrive (a followed file, a pipe)
//!                         ──▶ `detect --follow` and `serve --data FILE --follow`
//! ```
//!
//! A source only produces CSV bytes and says what it knows of their columns; what the rows
//! mean is the [`Loader`]'s (the same bytes are parsed by the flags when training, by the
//! model's pipeline when scoring). The several-files rules (a directory, a pattern, one
//! series per file) are [`crate::data::sources`]'s.
//!
//! | file | source |
//! |---|---|
//! | `files.rs` | one CSV file, or several read as one dataset; one file can be followed |
//! | `stdin.rs` | standard input, read whole or as a stream |
//! | `synthetic.rs` | the built-in synthetic cluster |
//! | `prometheus.rs` | a range pull from a Prometheus server |
//! | `followed.rs` | a file read as `tail -F` reads it (rotation, truncation) |

use std::io::Read;

use crate::data::options::{GenericSpec, SchemaMode};
use crate::data::{DataFiles, Dataset, LoadOptions};
use crate::prometheus::PrometheusSpec;
use crate::{Error, Result};

mod files;
mod followed;
mod prometheus;
mod stdin;
mod synthetic;

pub use files::FilesSource;
pub use followed::FollowedFile;
pub use prometheus::PrometheusSource;
pub use stdin::StdinSource;
pub use synthetic::SyntheticSource;

/// A source of metrics rows as CSV.
pub trait Source: std::fmt::Debug + Send + Sync {
    /// Names the source in messages: a path, `<stdin>`, `Prometheus at URL`.
    fn describe(&self) -> String;

    /// Reads everything the source holds now through `loader`.
    fn read_whole(&self, loader: &dyn Loader) -> Result<Loaded>;

    /// Opens the source to be read as it grows. Most sources cannot be.
    fn open_live(&self, _quiet: bool) -> Result<LiveInput> {
        Err(Error::config(format!("{} cannot be followed: --follow reads a growing file or a pipe", self.describe())))
    }

    /// The pull a model trained on this source repeats when it scores (`model.json`), if any.
    fn pull_spec(&self) -> Option<&PrometheusSpec> {
        None
    }
}

/// Turns a source's CSV bytes into a dataset: training's loader is the [`LoadOptions`] of its
/// flags; scoring's is a saved model's (`detect::batch::ScoringLoader`).
pub trait Loader {
    /// One stream of CSV bytes, named `source` in messages. `columns`: what the source knows
    /// of its columns when it is not the Kubernetes schema (a pull of other queries names its
    /// own), for a loader that has no schema of its own to read them by.
    fn load(&self, input: &mut dyn Read, source: &str, columns: Option<&GenericSpec>) -> Result<Dataset>;

    /// Several files (or one) as one dataset, with the SHA-256 of their bytes in order.
    fn load_files(&self, files: &DataFiles) -> Result<(Dataset, String)>;
}

/// Training: the rows as the flags describe them; a pull of other queries than the
/// Kubernetes set is read in generic mode over its own columns.
impl Loader for LoadOptions {
    fn load(&self, input: &mut dyn Read, source: &str, columns: Option<&GenericSpec>) -> Result<Dataset> {
        match columns {
            Some(spec) => {
                let options = LoadOptions { schema: SchemaMode::Generic(spec.clone()), ..self.clone() };
                crate::data::load_reader(input, source, &options)
            }
            None => crate::data::load_reader(input, source, self),
        }
    }

    fn load_files(&self, files: &DataFiles) -> Result<(Dataset, String)> {
        crate::data::sources::load_files(files, self)
    }
}

/// What [`Source::read_whole`] read.
#[derive(Debug)]
pub struct Loaded {
    pub dataset: Dataset,
    /// SHA-256 of the CSV bytes, as a run records its training data.
    pub sha256: String,
    /// Rows before this instant were read only as the history of the first windows (a pull
    /// reaches back for it); their windows are not reported. `None`: every window counts.
    pub scored_from: Option<i64>,
    /// A line for stderr on what reading took (a pull's summary).
    pub note: Option<String>,
}

impl Loaded {
    fn whole(dataset: Dataset, sha256: String) -> Loaded {
        Loaded { dataset, sha256, scored_from: None, note: None }
    }
}

/// A source opened to be read as it grows.
pub struct LiveInput {
    /// Names the input in messages.
    pub name: String,
    pub reader: Box<dyn Read + Send>,
    /// End of input means "nothing more yet" (a file, `tail -F`) rather than the end (a pipe).
    pub tail: bool,
}
