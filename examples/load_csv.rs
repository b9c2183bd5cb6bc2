//! Loads a metrics CSV with the default settings and prints the ingest report and timings:
//! the measurement behind the data layer's memory and speed numbers.
//!
//! ```text
//! kubelstm generate --rows 1000000 -o /tmp/metrics_1m.csv
//! cargo build --release --example load_csv
//! /usr/bin/time -v target/release/examples/load_csv /tmp/metrics_1m.csv
//! ```
use std::time::Instant;

use kubelstm::data::{self, LoadOptions};

fn main() -> std::process::ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: load_csv FILE.csv");
        return std::process::ExitCode::from(2);
    };
    let started = Instant::now();
    match data::load(path.as_ref(), &LoadOptions::default()) {
        Ok(ds) => {
            let secs = started.elapsed().as_secs_f64();
            print!("{}", ds.report);
            let bytes: usize = ds.series.iter().map(|s| s.features.len() * 4 + s.timestamps.len() * 9).sum();
            println!(
                "loaded {} rows x {} features in {:.2} s ({:.0} rows/s); dataset holds {:.0} MB",
                ds.n_rows(),
                ds.n_features(),
                secs,
                ds.n_rows() as f64 / secs,
                bytes as f64 / 1e6
            );
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}", kubelstm::cli::error_chain(&e));
            std::process::ExitCode::from(2)
        }
    }
}
