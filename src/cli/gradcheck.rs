//! `kubelstm gradcheck`: the auditor's command. Builds each chosen model small, in f64,
//! compares the analytic gradient of every parameter tensor (and the input) with central
//! differences (see [`crate::gradcheck`]), prints a table and fails if any relative error
//! exceeds 1e-6.

use std::io::Write;

use super::Outcome;
use crate::gradcheck::{check_model, AuditShape, ModelCheck, TOLERANCE};
use crate::models::{Arch, ModelConfig};
use crate::{Error, Result};

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchChoice {
    Standard,
    Bidirectional,
    Attention,
    Autoencoder,
    All,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Which model to audit (the autoencoder is checked with both its heads).
    #[arg(long, value_enum, default_value = "all")]
    pub arch: ArchChoice,
    /// Seed of the random weights, inputs and dropout masks.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Print the table as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The model configurations an `--arch` choice audits.
pub fn configs(choice: ArchChoice) -> Vec<ModelConfig> {
    let archs: &[Arch] = match choice {
        ArchChoice::Standard => &[Arch::Standard],
        ArchChoice::Bidirectional => &[Arch::Bidirectional],
        ArchChoice::Attention => &[Arch::Attention],
        ArchChoice::Autoencoder => &[Arch::Autoencoder],
        ArchChoice::All => &Arch::ALL,
    };
    let mut out = Vec::new();
    for &arch in archs {
        // Every architecture with its supervised head and its unsupervised one (the
        // autoencoder's reconstruction, the others' forecast).
        out.push(ModelConfig::new(arch, 5));
        out.push(ModelConfig::new(arch, 5).unsupervised());
    }
    out
}

fn print_table(out: &mut impl Write, check: &ModelCheck) -> std::io::Result<()> {
    writeln!(out, "{} ({} redraws)", check.label, check.redraws)?;
    writeln!(out, "  {:<32} {:>8} {:>14} {:>14}  result", "tensor", "elements", "max abs error", "max rel error")?;
    for t in &check.tensors {
        let verdict = if t.passed() { "ok" } else { "FAIL" };
        writeln!(
            out,
            "  {:<32} {:>8} {:>14.3e} {:>14.3e}  {verdict}",
            t.name, t.elements, t.max_abs_error, t.max_rel_error
        )?;
    }
    writeln!(out)
}

pub fn run(args: Args) -> Result<Outcome> {
    let shape = AuditShape::default();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let io = |e| Error::io("write to", "standard output", e);
    if !args.json {
        writeln!(
            out,
            "gradient audit: f64 analytic vs central differences (double-double), T={} B={} F={}, seed {}, tolerance {TOLERANCE:e}\n",
            shape.steps, shape.batch, shape.features, args.seed
        )
        .map_err(io)?;
    }
    let mut checks = Vec::new();
    for config in configs(args.arch) {
        let check = check_model(&config, shape, args.seed)?;
        if !args.json {
            print_table(&mut out, &check).map_err(io)?;
        }
        checks.push(check);
    }
    let failed: Vec<&str> = checks.iter().filter(|c| !c.passed()).map(|c| c.label.as_str()).collect();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &checks).map_err(|e| Error::data(e.to_string()))?;
        writeln!(out).map_err(io)?;
    } else {
        let worst = checks.iter().map(ModelCheck::worst).fold(0.0, f64::max);
        writeln!(out, "worst relative error {worst:.3e} (tolerance {TOLERANCE:e})").map_err(io)?;
    }
    if failed.is_empty() {
        Ok(Outcome::Success)
    } else {
        Err(Error::data(format!("gradient check failed for {}", failed.join(", "))))
    }
}
