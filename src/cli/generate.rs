//! `kubelstm generate`: a synthetic Kubernetes cluster's pod metrics as CSV (see
//! [`crate::data::synthetic`]). Prints the rows written and the labelling rules' firing counts
//! to stderr, so stdout can carry the CSV.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::Outcome;
use crate::data::synthetic::{self, SyntheticConfig};
use crate::data::time::format_rfc3339;
use crate::{Error, Result};

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
    let (dest, report) = match args.output.as_deref() {
        Some(p) if p != Path::new("-") => {
            let report = write_file(&cfg, p)?;
            (p.display().to_string(), report)
        }
        explicit => {
            let stdout = std::io::stdout();
            if explicit.is_none() && stdout.is_terminal() {
                return Err(Error::config(
                    "not writing CSV to a terminal: pass -o FILE, or -o - (or a pipe) for standard output",
                ));
            }
            let report = synthetic::write_csv(&cfg, stdout.lock(), "<stdout>")?;
            ("<stdout>".to_string(), report)
        }
    };
    if !args.quiet {
        let end = cfg.start + (cfg.steps() as i64 - 1) * cfg.interval_seconds as i64;
        eprintln!(
            "wrote {} rows ({} pods, {} samples each, every {} s, {} to {}) to {} in {:.2} s",
            report.rows_read,
            cfg.pods.min(cfg.rows),
            cfg.steps(),
            cfg.interval_seconds,
            format_rfc3339(cfg.start),
            format_rfc3339(end),
            dest,
            started.elapsed().as_secs_f64()
        );
        eprint!("{report}");
    }
    Ok(Outcome::Success)
}

/// Writes under a temporary name in the same folder and renames when complete, so an
/// interrupted run never leaves a truncated file under the requested name.
fn write_file(cfg: &SyntheticConfig, path: &Path) -> Result<crate::data::IngestReport> {
    // A device or FIFO (`-o /dev/null`) is written in place: renaming over it would replace
    // the device with a regular file.
    let Some(dest) = crate::artifacts::atomic_destination(path)? else {
        let file = std::fs::File::create(path).map_err(|e| Error::io("create", path, e))?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        let report = synthetic::write_csv(cfg, &mut out, &path.display().to_string())?;
        out.flush().map_err(|e| Error::io("write", path, e))?;
        return Ok(report);
    };
    let path = dest.as_path();
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| Error::config(format!("-o {}: not a file name", path.display())))?;
    let tmp = dir.join(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id()));
    let file = std::fs::File::create(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let result = synthetic::write_csv(cfg, &mut out, &path.display().to_string()).and_then(|report| {
        out.flush().map_err(|e| Error::io("write", path, e))?;
        out.get_ref().sync_all().map_err(|e| Error::io("write", path, e))?;
        Ok(report)
    });
    drop(out);
    match result {
        Ok(report) => {
            std::fs::rename(&tmp, path).map_err(|e| Error::io("rename the finished file to", path, e))?;
            Ok(report)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}
