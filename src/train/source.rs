//! Where a training run's data comes from (CSV files, the synthetic cluster, a Prometheus
//! pull) and its loading into one [`Dataset`], with the hash the run records.

use sha2::{Digest, Sha256};

use crate::artifacts::model_file::hex;
use crate::data::synthetic::{self, SyntheticConfig};
use crate::data::{DataFiles, Dataset, LoadOptions};
use crate::prometheus::{self, PrometheusSpec, PullReader, PullSettings};
use crate::Result;

/// Where the data comes from.
#[derive(Clone, Debug)]
pub enum DataSource {
    /// One CSV, or several read as one dataset (see [`crate::data::sources`]).
    Files(DataFiles),
    Synthetic(SyntheticConfig),
    /// A pull from a Prometheus server; `derived` adds the rolling features in generic mode.
    Prometheus {
        pull: Box<PullSettings>,
        spec: PrometheusSpec,
        derived: bool,
    },
}

/// Loads the data; returns it with the SHA-256 of its CSV bytes.
pub fn load_data(source: &DataSource, options: &LoadOptions) -> Result<(Dataset, String)> {
    match source {
        DataSource::Files(files) => crate::data::sources::load_files(files, options),
        DataSource::Synthetic(cfg) => {
            let (bytes, _) = synthetic::csv_bytes(cfg)?;
            let hash = hex(&Sha256::digest(&bytes));
            Ok((crate::data::load_reader(bytes.as_slice(), &cfg.describe(), options)?, hash))
        }
        DataSource::Prometheus { pull, spec, derived } => {
            let reader = PullReader::open(pull)?;
            let options = prometheus::training_options(options, &spec.queries, &reader, *derived);
            let source = format!("Prometheus at {}", pull.client.url);
            let (dataset, hash, stats) =
                prometheus::load_pull(reader, &source, |r| crate::data::load_reader(r, &source, &options))?;
            eprintln!("{}", prometheus::describe(&pull.client.url, &stats));
            Ok((dataset, hash))
        }
    }
}
