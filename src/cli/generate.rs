//! `kubelstm generate`: a synthetic Kubernetes cluster's pod metrics as CSV (see
//! [`crate::data::synthetic`]) or, with `--format openmetrics`, as the Prometheus series of the
//! same cluster (see [`crate::data::openmetrics`]). Prints a summary to stderr, so stdout can
//! carry the data.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::Outcome;
use crate::data::openmetrics;
use crate::data::synthetic::{self, SyntheticConfig};
use crate::data::time::format_rfc3339;
use crate::{Error, Result};

/// What `generate` writes.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// The input schema of `train` and `detect`.
    #[default]
    Csv,
    /// cAdvisor / kube-state-metrics series for `promtool tsdb create-blocks-from openmetrics`.
    Openmetrics,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Pods in the cluster (each is one series).
    #[arg(long, default_value_t = 50)]
    pub pods: usize,
    /// Rows to write in all (one row per pod per sample).
    #[arg(long, default_value_t = 100_000)]
    pub rows: usize,
    /// Random seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Seconds between a pod's samples.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub interval: u32,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
    /// Output file, or `-` for standard output (the default when stdout is not a terminal).
    #[arg(short, long, value_name = "FILE|-")]
    pub output: Option<PathBuf>,
    /// Do not print the summary.
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(args: Args) -> Result<Outcome> {
    let cfg = SyntheticConfig {
        pods: args.pods,
        rows: args.rows,
        seed: args.seed,
        interval_seconds: args.interval,
        ..SyntheticConfig::default()
    };
    cfg.validate()?;
    let started = Instant::now();
    let format = args.format;
    // Writes to `out`; `spill` is where the OpenMetrics exporter may put its temporary file.
    let write = |out: &mut dyn Write, spill: &Path, dest: &str| -> Result<Summary> {
        match format {
            Format::Csv => synthetic::write_csv(&cfg, out, dest).map(Summary::Csv),
            Format::Openmetrics => openmetrics::write_openmetrics(&cfg, out, spill, dest).map(Summary::OpenMetrics),
        }
    };
    let (dest, summary) = match args.output.as_deref() {
        Some(p) if p != Path::new("-") => (p.display().to_string(), write_file(p, write)?),
        explicit => {
            let stdout = std::io::stdout();
            if explicit.is_none() && stdout.is_terminal() {
                return Err(Error::config(
                    "not writing data to a terminal: pass -o FILE, or -o - (or a pipe) for standard output",
                ));
            }
            let summary = write(&mut stdout.lock(), &std::env::temp_dir(), "<stdout>")?;
            ("<stdout>".to_string(), summary)
        }
    };
    if !args.quiet {
        let end = cfg.start + (cfg.steps() as i64 - 1) * cfg.interval_seconds as i64;
        let what = match &summary {
            Summary::Csv(_) => String::new(),
            Summary::OpenMetrics(s) => format!(" as {} OpenMetrics samples in {} series", s.samples, s.series),
        };
        eprintln!(
            "wrote {} rows ({} pods, {} samples each, every {} s, {} to {}){what} to {} in {:.2} s",
            cfg.rows,
            cfg.pods.min(cfg.rows),
            cfg.steps(),
            cfg.interval_seconds,
            format_rfc3339(cfg.start),
            format_rfc3339(end),
            dest,
            started.elapsed().as_secs_f64()
        );
        if let Summary::Csv(report) = &summary {
            eprint!("{report}");
        }
    }
    Ok(Outcome::Success)
}

/// What a format reports after writing.
enum Summary {
    Csv(crate::data::IngestReport),
    OpenMetrics(openmetrics::OpenMetricsSummary),
}

/// Writes under a temporary name in the same folder and renames when complete, so an
/// interrupted run never leaves a truncated file under the requested name. `write` gets the
/// output, a folder for temporary files and the destination's name for messages.
fn write_file<T>(path: &Path, write: impl FnOnce(&mut dyn Write, &Path, &str) -> Result<T>) -> Result<T> {
    let name = path.display().to_string();
    // A device or FIFO (`-o /dev/null`) is written in place: renaming over it would replace
    // the device with a regular file (and temporary files go to the system's folder).
    let Some(dest) = crate::artifacts::atomic_destination(path)? else {
        let file = File::create(path).map_err(|e| Error::io("create", path, e))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let result = write(&mut out, &std::env::temp_dir(), &name)?;
        out.flush().map_err(|e| Error::io("write", path, e))?;
        return Ok(result);
    };
    let dir = dest.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut result = None;
    crate::artifacts::write_atomic_with(&dest, |out| {
        result = Some(write(out, dir, &name)?);
        Ok(())
    })?;
    Ok(result.expect("written"))
}
