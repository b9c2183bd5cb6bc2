//! The `kubelstm` command line: one file per command. `main` parses the flags, runs the
//! command and maps errors to exit codes (ripgrep's convention): 0 success, 1 "found
//! something" (`detect --fail-on-anomaly`), 2 error, 130 interrupted (Ctrl-C). A closed stdout
//! pipe exits 0.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::{Error, Result};

pub mod bench;
pub mod detect;
pub mod evaluate;
pub mod generate;
pub mod gradcheck;
pub mod inspect;
pub mod pull;
pub mod train;

#[derive(Parser, Debug)]
#[command(name = "kubelstm", version, about = "LSTM anomaly detection for Kubernetes pod metrics")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train an anomaly detector and write a run folder (model, scaler, threshold, report, plots).
    Train(train::Args),
    /// Score metrics with a trained model: one row per window (CSV, JSON lines) or each pod's
    /// latest score for Prometheus; as a batch or following a stream.
    Detect(detect::Args),
    /// Score labelled data with a saved model: the metrics, report and plots of training's test
    /// split, in a new evaluation folder.
    Evaluate(evaluate::Args),
    /// Show a run folder: layers, parameters, features, scaler, threshold, metrics.
    Inspect(inspect::Args),
    /// Write a synthetic Kubernetes cluster's pod metrics as CSV, or as its Prometheus series
    /// (OpenMetrics, for promtool's backfill).
    Generate(generate::Args),
    /// Watch Prometheus and serve every pod's latest anomaly score on /metrics, always on.
    Serve(crate::serve::Args),
    /// Save a Prometheus range as the CSV `train --prometheus` reads (to train or score offline).
    Pull(pull::Args),
    /// Measure training and inference speed on the canonical workload.
    Bench(bench::Args),
    /// Audit the hand-written gradients against finite differences (f64).
    Gradcheck(gradcheck::Args),
}

/// What a successful command wants the process to exit with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// `detect --fail-on-anomaly` found an anomaly.
    AnomalyFound,
    /// Ctrl-C stopped the job; what could be saved was saved.
    Interrupted,
}

pub fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::Train(args) => train::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Pull(args) => pull::run(args),
        Command::Serve(args) => crate::serve::run(args),
        Command::Detect(args) => detect::run(args),
        Command::Evaluate(args) => evaluate::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Gradcheck(args) => gradcheck::run(args),
        Command::Bench(args) => bench::run(args),
    }
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = err.print();
            return if err.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    match check_environment().and_then(|()| run(cli)) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::AnomalyFound) => ExitCode::from(1),
        Ok(Outcome::Interrupted) => ExitCode::from(130),
        Err(err) if err.is_broken_pipe() => ExitCode::SUCCESS,
        Err(err @ crate::Error::Interrupted(_)) => {
            eprintln!("{}", error_chain(&err));
            ExitCode::from(130)
        }
        Err(err) => {
            eprintln!("error: {}", error_chain(&err));
            ExitCode::from(2)
        }
    }
}

/// The environment settings (README, "Settings from the environment"), checked before any
/// work so that a typo stops the command at once instead of after loading the data, or
/// silently doing something else.
fn check_environment() -> Result<()> {
    kubelstm_kernels::dispatch::simd_setting().map_err(Error::config)?;
    crate::train::engine::micro_batch_setting()?;
    Ok(())
}

/// The error and every `source()` below it, joined with ": ".
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// More worker threads than this is a typo, not a machine: each one holds a workspace and a
/// gradient buffer, and `--threads 100000` spent minutes starting threads before it failed.
const MAX_THREADS: usize = 1024;

/// `--threads`: the given count (1 to [`MAX_THREADS`]), or every core.
pub fn resolve_threads(threads: Option<usize>) -> Result<usize> {
    let threads = threads.unwrap_or_else(bench::default_threads);
    if !(1..=MAX_THREADS).contains(&threads) {
        return Err(Error::config(format!("--threads must be between 1 and {MAX_THREADS}, got {threads}")));
    }
    Ok(threads)
}

/// `--threshold`, when given, must be a finite number.
pub fn check_threshold(threshold: Option<f64>) -> Result<()> {
    match threshold {
        Some(t) if !t.is_finite() => Err(Error::config(format!("--threshold must be a finite number, got {t}"))),
        _ => Ok(()),
    }
}
