//! `kubelstm pull`: a Prometheus range saved as the CSV that `train --prometheus` would read,
//! byte for byte. To train or score offline (an air-gapped copy), to see what the queries
//! return, or to keep the exact data a model was trained on (`train --data-path` on the file
//! gives the same data hash as the pull).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use super::Outcome;
use crate::prometheus::{self, PrometheusArgs, PullReader};
use crate::{Error, Result};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub source: PrometheusArgs,
    /// Output file (written atomically), or `-` for standard output (the default when it is
    /// not a terminal).
    #[arg(short, long, value_name = "FILE|-")]
    pub output: Option<PathBuf>,
    /// Do not print the summary.
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(args: Args) -> Result<Outcome> {
    if !args.source.is_set() {
        return Err(Error::config("pull needs --prometheus URL"));
    }
    let spec = args.source.spec(None)?;
    let settings = args.source.pull_settings(&spec, "-7d", 0)?;
    let url = settings.client.url.clone();
    let copy = |reader: &mut PullReader, out: &mut dyn Write, dest: &str| -> Result<()> {
        let handle = reader.handle();
        std::io::copy(reader, out).map_err(|e| handle.explain(Error::io("write", dest, e)))?;
        Ok(())
    };
    let mut reader = PullReader::open(&settings)?;
    let handle = reader.handle();
    match args.output.as_deref() {
        Some(p) if p != Path::new("-") => {
            crate::artifacts::write_atomic_with(p, |out| copy(&mut reader, out, &p.display().to_string()))?
        }
        explicit => {
            let stdout = std::io::stdout();
            if explicit.is_none() && stdout.is_terminal() {
                return Err(Error::config(
                    "not writing CSV to a terminal: pass -o FILE, or -o - (or a pipe) for standard output",
                ));
            }
            let mut lock = stdout.lock();
            copy(&mut reader, &mut lock, "<stdout>")?;
            lock.flush().map_err(|e| Error::io("write", "<stdout>", e))?;
        }
    }
    if !args.quiet {
        let stats = handle.stats();
        for w in &stats.warnings {
            eprintln!("warning: {w}");
        }
        eprintln!("{}", prometheus::describe(&url, &stats));
    }
    Ok(Outcome::Success)
}
