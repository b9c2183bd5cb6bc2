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
            // The rest of the data path a training run takes.
            let mut ds = ds;
            let t = Instant::now();
            let cfg =
                data::SplitConfig::new(0.2, data::split::VALIDATION_SHARE, 10, data::LabelAt::Next).expect("valid");
            let splits = match data::Splits::new(&ds.series, &cfg) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e}");
                    return std::process::ExitCode::from(2);
                }
            };
            let split_s = t.elapsed().as_secs_f64();
            let f = ds.n_features();
            let t = Instant::now();
            let blocks = splits.train_rows(&ds.series, f);
            let (robust, _) = data::Scaler::fit(data::ScalerKind::Robust, &ds.feature_names, &blocks).expect("fit");
            let robust_s = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let (minmax, _) = data::Scaler::fit(data::ScalerKind::MinMax, &ds.feature_names, &blocks).expect("fit");
            let minmax_s = t.elapsed().as_secs_f64();
            drop(blocks);
            let t = Instant::now();
            minmax.transform_dataset(&mut ds).expect("same features");
            let transform_s = t.elapsed().as_secs_f64();
            let _ = robust;
            let t = Instant::now();
            let batch: Vec<usize> = (0..splits.train.len()).step_by(97).take(1024).collect();
            let mut x = vec![0.0f32; 10 * batch.len() * f]; // (T, B, F)
            splits.train.gather(&ds.series, f, &batch, &mut x);
            let gather_s = t.elapsed().as_secs_f64();
            println!(
                "windows train/validation/test {}/{}/{} ({} straddling dropped) in {:.2} s; scaler fit robust {:.2} s, \
                 minmax {:.2} s; transform {:.2} s; gather (T=10, B={}) {:.4} s",
                splits.train.len(),
                splits.validation.len(),
                splits.test.len(),
                splits.dropped_crossing,
                split_s,
                robust_s,
                minmax_s,
                transform_s,
                batch.len(),
                gather_s
            );
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}", kubelstm::cli::error_chain(&e));
            std::process::ExitCode::from(2)
        }
    }
}
