//! `kubelstm bench`: the canonical speed workload on this machine (see [`crate::bench`]),
//! as a table or, with `--json`, in the PyTorch reference script's results shape.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

use super::gradcheck::ArchChoice;
use super::Outcome;
use crate::bench::{bench_arch, workload, ArchResult, Timing};
use crate::models::Arch;
use crate::{Error, Result};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Which architecture to measure.
    #[arg(long, value_enum, default_value = "all")]
    pub arch: ArchChoice,
    /// Seconds per repeat (3 repeats after 1 s of warm-up; the median is reported).
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print JSON in the shape of the PyTorch script's results file.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Report {
    framework: &'static str,
    version: &'static str,
    threads: usize,
    cpu: String,
    simd: &'static str,
    seconds: f64,
    archs: BTreeMap<String, ArchResult>,
}

pub fn default_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

pub fn run(args: Args) -> Result<Outcome> {
    if !(args.seconds > 0.0 && args.seconds.is_finite()) {
        return Err(Error::config(format!("--seconds must be positive, got {}", args.seconds)));
    }
    let threads = super::resolve_threads(args.threads)?;
    let archs: Vec<Arch> = match args.arch {
        ArchChoice::Standard => vec![Arch::Standard],
        ArchChoice::Bidirectional => vec![Arch::Bidirectional],
        ArchChoice::Attention => vec![Arch::Attention],
        ArchChoice::Autoencoder => vec![Arch::Autoencoder],
        ArchChoice::All => Arch::ALL.to_vec(),
    };
    let timing = Timing { seconds: args.seconds, ..Timing::default() };
    let (pool, weights) = workload(0);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let io = |e| Error::io("write to", "standard output", e);
    let simd = kubelstm_kernels::active_isa().name();
    let cpu = kubelstm_kernels::cpu_name();
    if !args.json {
        writeln!(out, "kubelstm {} bench: T=10 F=64, {threads} threads, simd {simd}", env!("CARGO_PKG_VERSION"))
            .map_err(io)?;
        writeln!(out, "cpu: {cpu}").map_err(io)?;
        writeln!(
            out,
            "{:<14} {:>12} {:>12} {:>13} {:>12} {:>10} {:>10} {:>10}",
            "arch", "train b32/s", "train b256/s", "infer b1024/s", "latency b1", "GF/s b32", "GF/s b256", "GF/s inf"
        )
        .map_err(io)?;
    }
    let mut results = BTreeMap::new();
    for arch in archs {
        let r = bench_arch(arch, threads, timing, &pool, weights)?;
        if !args.json {
            writeln!(
                out,
                "{:<14} {:>12.0} {:>12.0} {:>13.0} {:>10.0}µs {:>10.1} {:>10.1} {:>10.1}",
                arch.name(),
                r.train_b32.median,
                r.train_b256.median,
                r.infer_b1024.median,
                r.latency_b1_us.median,
                r.gflops.train_b32,
                r.gflops.train_b256,
                r.gflops.infer_b1024
            )
            .map_err(io)?;
            out.flush().map_err(io)?;
        }
        results.insert(arch.name().to_string(), r);
    }
    if args.json {
        let report = Report {
            framework: "kubelstm",
            version: env!("CARGO_PKG_VERSION"),
            threads,
            cpu,
            simd,
            seconds: args.seconds,
            archs: results,
        };
        serde_json::to_writer_pretty(&mut out, &report).map_err(|e| Error::data(e.to_string()))?;
        writeln!(out).map_err(io)?;
    }
    Ok(Outcome::Success)
}
