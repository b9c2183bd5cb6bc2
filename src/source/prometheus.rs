//! A range pull from a Prometheus server, read as CSV (see [`crate::prometheus`]).

use super::{Loaded, Loader, Source};
use crate::data::options::{FeatureColumns, GenericSpec};
use crate::prometheus::{self, queries, PrometheusArgs, PrometheusSpec, PullReader, PullSettings};
use crate::Result;

/// `--prometheus URL` and the pull its flags (or a model's saved spec) describe.
#[derive(Clone, Debug)]
pub struct PrometheusSource {
    pub pull: PullSettings,
    /// Step, rate window and queries: what a model trained on the pull saves.
    pub spec: PrometheusSpec,
    /// Steps pulled before `--start`: the first windows' history, not scored.
    pub lookback: u64,
    /// Generic mode only: add the rolling features to the pulled columns (training).
    pub derived: bool,
}

impl PrometheusSource {
    /// The pull to train on: the flags' queries over `--start` (default `default_start`) to
    /// `--end`.
    pub fn for_training(args: &PrometheusArgs, default_start: &str, derived: bool) -> Result<PrometheusSource> {
        let spec = args.spec(None)?;
        let pull = args.pull_settings(&spec, default_start, 0)?;
        Ok(PrometheusSource { pull, spec, lookback: 0, derived })
    }

    /// The pull a saved model scores: its step, rate window and queries unless the flags say
    /// otherwise (`model`: its saved spec), reaching `lookback` steps before `--start`.
    pub fn for_scoring(
        args: &PrometheusArgs,
        model: Option<&PrometheusSpec>,
        default_start: &str,
        lookback: u64,
    ) -> Result<PrometheusSource> {
        let spec = args.spec(model)?;
        let pull = args.pull_settings(&spec, default_start, lookback)?;
        Ok(PrometheusSource { pull, spec, lookback, derived: false })
    }

    /// The first instant asked for; rows before it are only the first windows' history.
    pub fn scored_from(&self) -> i64 {
        self.pull.range.start + (self.lookback * self.spec.step_seconds) as i64
    }

    /// A pull of other queries than the Kubernetes set names its own columns: every numeric
    /// one a feature, grouped by the set's group labels.
    fn columns(&self, reader: &PullReader) -> Option<GenericSpec> {
        let set = &self.spec.queries;
        (!set.is_kubernetes()).then(|| GenericSpec {
            features: FeatureColumns::Names(reader.numeric_names()),
            time_column: Some(queries::TIME_COLUMN.to_owned()),
            group_columns: set.group_columns.clone(),
            derived: self.derived,
        })
    }
}

impl Source for PrometheusSource {
    fn describe(&self) -> String {
        format!("Prometheus at {}", self.pull.client.url)
    }

    fn read_whole(&self, loader: &dyn Loader) -> Result<Loaded> {
        let name = self.describe();
        let reader = PullReader::open(&self.pull)?;
        let columns = self.columns(&reader);
        let (dataset, sha256, stats) =
            prometheus::load_pull(reader, &name, |r| loader.load(r, &name, columns.as_ref()))?;
        Ok(Loaded {
            dataset,
            sha256,
            scored_from: Some(self.scored_from()),
            note: Some(prometheus::describe(&self.pull.client.url, &stats)),
        })
    }

    fn pull_spec(&self) -> Option<&PrometheusSpec> {
        Some(&self.spec)
    }
}
