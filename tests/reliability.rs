//! Reliability through the real binary: every bad-input case either is handled as documented
//! (README, "Errors and exit codes") or stops with exit code 2 and a message that names the problem (file, line, column where
//! they apply), never a panic, never a run folder that looks complete. Then faults — SIGKILL at
//! random moments, SIGINT, divergence, a full or unwritable output directory — and the replay of
//! every fuzz corpus on stable Rust.
//!
//! The damaged-model-folder cases as `detect` meets them live with `detect` (tests/detect.rs);
//! here `load_model` is checked at the library level.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use kubelstm::artifacts::{load_model, RunStatus};
use kubelstm::models::{Arch, Model, ModelConfig};
use kubelstm::train::{fit, DenseWindows, Engine, EpochRecord, Observer, TrainSettings, Windows};
use kubelstm::Error;
use kubelstm_testkit::model_folder::{check as fuzz_model_folder, encode_model_folder, Outcome as FuzzOutcome, Parts};
use rand::{Rng, SeedableRng};

use crate::cli_train::{
    assert_success, generate_k8s, generic_text, kubelstm, read_json, run_folder_of, text, EXE, GENERIC_FLAGS, TINY,
};

// ---------------------------------------------------------------------------------------
// Helpers

/// Every `run_*` folder under `out_dir` (none if it does not exist).
pub(crate) fn run_folders(out_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(out_dir) else { return Vec::new() };
    let mut dirs: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("run_")))
        .collect();
    dirs.sort();
    dirs
}

/// The status a run folder claims, if it claims one.
pub(crate) fn claimed_status(dir: &Path) -> Option<String> {
    let path = dir.join("run_status.json");
    path.exists().then(|| read_json(&path)["status"].as_str().unwrap_or("").to_string())
}

/// Asserts a failed run: exit 2, an `error:` line holding every `needle`, no panic.
pub(crate) fn assert_error(out: &Output, needles: &[&str]) -> String {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "exit {:?}, stderr:\n{stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let error = stderr.lines().find(|l| l.starts_with("error: ")).unwrap_or_else(|| panic!("no error line:\n{stderr}"));
    for needle in needles {
        assert!(error.contains(needle), "the error does not say '{needle}':\n{error}");
    }
    error.to_string()
}

/// Splits a simple CSV text (no quoting) into its lines' fields.
fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines().map(|l| l.split(',').map(str::to_owned).collect()).collect()
}

fn join(rows: &[Vec<String>]) -> String {
    rows.iter().map(|r| r.join(",") + "\n").collect()
}

/// `text` with the cell at data row `row` (0-based) of column `column` set to `value`.
fn set_cell(text: &str, row: usize, column: &str, value: &str) -> String {
    let mut r = rows(text);
    let c = r[0].iter().position(|h| h == column).unwrap_or_else(|| panic!("no column {column}"));
    r[row + 1][c] = value.to_string();
    join(&r)
}

/// A Kubernetes CSV (quoted fields possible) with `edit` applied to its records.
fn edit_k8s(text: &str, edit: impl FnOnce(&mut Vec<csv::StringRecord>)) -> String {
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    let mut records: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    edit(&mut records);
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
    for r in &records {
        w.write_record(r).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

fn k8s_column(records: &[csv::StringRecord], name: &str) -> usize {
    records[0].iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"))
}

fn k8s_set(records: &mut [csv::StringRecord], row: usize, column: &str, value: &str) {
    let c = k8s_column(records, column);
    let fields: Vec<String> =
        records[row + 1].iter().enumerate().map(|(i, f)| if i == c { value.into() } else { f.into() }).collect();
    records[row + 1] = csv::StringRecord::from(fields);
}

// ---------------------------------------------------------------------------------------
// The bad-input table

/// Which data and column flags a case starts from.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Base {
    /// [`generic_text`]: 3 hosts × 240 rows, `--feature-columns cpu,latency_ms`, T = 6.
    Generic,
    /// The same flags but `--feature-columns cpu` (for headers that lack `latency_ms`).
    GenericCpu,
    /// The first 240 rows of the generated cluster, no column flags (for errors).
    K8sHead,
    /// The whole generated cluster (6 pods × 500 rows), no column flags (for successes).
    K8s,
}

#[derive(Debug)]
enum Want {
    /// Exit 2; the error line holds each string; no run folder is created.
    Error(&'static [&'static str]),
    /// Exit 0, a complete run folder; stderr holds each of `stderr`, the summary report each of `report`.
    Handled { stderr: &'static [&'static str], report: &'static [&'static str] },
}

struct Case {
    name: &'static str,
    base: Base,
    /// Builds the file from the base text.
    csv: fn(&str) -> Vec<u8>,
    flags: &'static [&'static str],
    want: Want,
}

fn same(t: &str) -> Vec<u8> {
    t.as_bytes().to_vec()
}

fn cases() -> Vec<Case> {
    use Base::*;
    use Want::*;
    let case = |name, base, csv, flags, want| Case { name, base, csv, flags, want };
    vec![
        // -- the file as a whole
        case("empty file", Generic, |_| Vec::new(), &[], Error(&["metrics.csv", "the file is empty"])),
        case("blank lines only", Generic, |_| b"\n\n\r\n".to_vec(), &[], Error(&["metrics.csv", "the file is empty"])),
        case(
            "header only",
            Generic,
            |t| t.lines().next().unwrap().as_bytes().to_vec(),
            &[],
            Error(&["metrics.csv", "the file has a header but no data rows"]),
        ),
        // -- the header
        case(
            "Kubernetes header without required columns",
            K8sHead,
            |t| {
                edit_k8s(t, |r| {
                    let drop = [k8s_column(r, "Node Name"), k8s_column(r, "Pod Restarts")];
                    for rec in r.iter_mut() {
                        let kept: Vec<String> = rec
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| !drop.contains(i))
                            .map(|(_, f)| f.to_string())
                            .collect();
                        *rec = csv::StringRecord::from(kept);
                    }
                })
                .into_bytes()
            },
            &[],
            Error(&["metrics.csv", "missing required columns 'Node Name', 'Pod Restarts'"]),
        ),
        case(
            "Kubernetes column name in another case",
            K8sHead,
            |t| t.replacen("Pod Restarts", "pod restarts", 1).into_bytes(),
            &[],
            Error(&["missing required column 'Pod Restarts' (the file has 'pod restarts'; names are exact)"]),
        ),
        case(
            "generic header without the named columns",
            Generic,
            |t| t.replacen("ts,host,cpu", "time,host,cpu_pct", 1).into_bytes(),
            &[],
            Error(&["metrics.csv", "columns not in the file", "'ts' (--time-column)", "'cpu' (--feature-columns)"]),
        ),
        case(
            "no recognised schema without generic flags",
            K8sHead,
            |_| generic_text(true).into_bytes(),
            &[],
            Error(&["metrics.csv", "no recognised schema", "--feature-columns"]),
        ),
        case(
            "duplicated Kubernetes column",
            K8sHead,
            |t| t.replacen("Event Count", "CPU Usage (%)", 1).into_bytes(),
            &[],
            Error(&["metrics.csv", "duplicated column name 'CPU Usage (%)' (columns 7 and 23)"]),
        ),
        case(
            "duplicated generic column",
            GenericCpu,
            |t| t.replacen("latency_ms", "cpu", 1).into_bytes(),
            &[],
            Error(&["metrics.csv", "duplicated column name 'cpu' (columns 3 and 4)"]),
        ),
        case(
            "invalid UTF-8 in the header",
            Generic,
            |t| [b"\xff".as_slice(), t.as_bytes()].concat(),
            &[],
            Error(&["metrics.csv, line 1", "invalid UTF-8"]),
        ),
        // -- values
        case(
            "non-numeric value",
            Generic,
            |t| set_cell(t, 5, "cpu", "abc").into_bytes(),
            &[],
            Error(&["metrics.csv, line 7, column 'cpu': 'abc' is not a number"]),
        ),
        case(
            "inf",
            Generic,
            |t| set_cell(t, 5, "cpu", "inf").into_bytes(),
            &[],
            Error(&["metrics.csv, line 7, column 'cpu': infinite value 'inf'"]),
        ),
        case(
            "-inf",
            Generic,
            |t| set_cell(t, 5, "latency_ms", "-inf").into_bytes(),
            &[],
            Error(&["metrics.csv, line 7, column 'latency_ms': infinite value '-inf'"]),
        ),
        case(
            "-Infinity",
            Generic,
            |t| set_cell(t, 300, "cpu", "-Infinity").into_bytes(),
            &[],
            Error(&["metrics.csv, line 302, column 'cpu': infinite value '-Infinity'"]),
        ),
        case(
            "NaN under --missing error",
            Generic,
            |t| set_cell(t, 5, "cpu", "NaN").into_bytes(),
            &["--missing", "error"],
            Error(&["metrics.csv, line 7, column 'cpu': missing value 'NaN' (--missing error"]),
        ),
        case(
            "empty cell under --missing error",
            Generic,
            |t| set_cell(t, 5, "cpu", "").into_bytes(),
            &["--missing", "error"],
            Error(&["metrics.csv, line 7, column 'cpu': missing value ''"]),
        ),
        case(
            "NaN is forward-filled and counted",
            Generic,
            |t| set_cell(t, 5, "cpu", "NaN").into_bytes(),
            &[],
            Handled {
                stderr: &["filled 1 missing values in 'cpu'"],
                report: &["filled 1 missing values in 'cpu' (--missing forward-fill)"],
            },
        ),
        case(
            "empty cells are forward-filled and counted",
            Generic,
            |t| set_cell(&set_cell(t, 5, "cpu", ""), 9, "latency_ms", "").into_bytes(),
            &[],
            Handled {
                stderr: &["filled 1 missing values in 'cpu'", "filled 1 missing values in 'latency_ms'"],
                report: &["filled 1 missing values in 'cpu'", "filled 1 missing values in 'latency_ms'"],
            },
        ),
        case(
            "NaN under --missing zero",
            Generic,
            |t| set_cell(t, 5, "cpu", "null").into_bytes(),
            &["--missing", "zero"],
            Handled { stderr: &[], report: &["filled 1 missing values in 'cpu' (--missing zero)"] },
        ),
        case(
            "NaN under --missing drop",
            Generic,
            |t| set_cell(t, 5, "cpu", "NA").into_bytes(),
            &["--missing", "drop"],
            Handled { stderr: &[], report: &["left out 1 rows: missing value (--missing drop)"] },
        ),
        case(
            "a missing first value has nothing to carry forward",
            Generic,
            |t| set_cell(t, 0, "cpu", "").into_bytes(),
            &[],
            Handled { stderr: &[], report: &["left out 1 rows: missing value with no earlier value to carry forward"] },
        ),
        case(
            "value beyond the f32 range",
            Generic,
            |t| set_cell(t, 5, "cpu", "1e39").into_bytes(),
            &[],
            Error(&["metrics.csv, line 7, column 'cpu': value 1e39 is beyond the f32 range"]),
        ),
        case(
            "negative value beyond the f32 range",
            Generic,
            |t| set_cell(t, 5, "latency_ms", "-4e38").into_bytes(),
            &[],
            Error(&["metrics.csv, line 7, column 'latency_ms': value -4e38 is beyond the f32 range"]),
        ),
        case(
            "negative count",
            K8sHead,
            |t| edit_k8s(t, |r| k8s_set(r, 5, "Pod Restarts", "-1")).into_bytes(),
            &[],
            Error(&["metrics.csv, line 7, column 'Pod Restarts': negative value -1"]),
        ),
        case(
            "label that is not 0 or 1",
            Generic,
            |t| set_cell(t, 5, "label", "2").into_bytes(),
            &[],
            Error(&["metrics.csv, line 7, column 'label': label '2' is not 0 or 1"]),
        ),
        case(
            "every row bad under --skip-bad-rows",
            Generic,
            |t| {
                let mut r = rows(t);
                r.iter_mut().skip(1).for_each(|row| row[2] = "x".into());
                join(&r).into_bytes()
            },
            &["--skip-bad-rows"],
            Error(&["metrics.csv: no usable rows", "720 bad numeric value"]),
        ),
        // -- timestamps
        case(
            "unparseable timestamp",
            Generic,
            |t| set_cell(t, 5, "ts", "yesterday").into_bytes(),
            &[],
            Error(&["metrics.csv, line 7, column 'ts': cannot parse timestamp 'yesterday'"]),
        ),
        case(
            "impossible date",
            Generic,
            |t| set_cell(t, 5, "ts", "2024-02-30 10:00:00").into_bytes(),
            &[],
            Error(&["metrics.csv, line 7, column 'ts': cannot parse timestamp '2024-02-30 10:00:00'"]),
        ),
        case(
            // Rows at -9e18 and 9e18 seconds used to overflow the split arithmetic (a panic).
            "epoch seconds beyond the year 9999",
            Generic,
            |t| set_cell(&set_cell(t, 0, "ts", "-9000000000000000000"), 5, "ts", "9000000000000000000").into_bytes(),
            &["--skip-bad-rows"],
            Handled { stderr: &["skipped 2 rows: bad timestamp"], report: &["left out 2 rows: bad timestamp"] },
        ),
        case(
            "epoch seconds beyond the year 9999 without --skip-bad-rows",
            Generic,
            |t| set_cell(t, 5, "ts", "9000000000000000000").into_bytes(),
            &[],
            Error(&["line 7, column 'ts': cannot parse timestamp '9000000000000000000'", "in the years 0000 to 9999"]),
        ),
        case(
            "out-of-order timestamps are sorted",
            Generic,
            |t| {
                let mut r = rows(t);
                r.swap(4, 11); // data rows 3 and 10 of h0: rows 4..=10 come after a later one
                join(&r).into_bytes()
            },
            &[],
            Handled {
                stderr: &["sorted 7 out-of-order rows into time order"],
                report: &["sorted 7 out-of-order rows into time order"],
            },
        ),
        case(
            "duplicate timestamps within a pod keep the later row",
            Generic,
            |t| {
                let mut r = rows(t);
                let mut dup = r[6].clone(); // data row 5 of h0, line 7
                dup[2] = "99".into();
                r.insert(7, dup); // line 8
                join(&r).into_bytes()
            },
            &[],
            Handled {
                stderr: &[],
                report: &[
                    "left out 1 rows: duplicate timestamp in its series (kept the last)",
                    "metrics.csv, line 7: series h0 has another row at 2024-03-04T00:05:00Z (line 8)",
                ],
            },
        ),
        // -- series length and classes
        case(
            "a pod shorter than the sequence length is skipped",
            Generic,
            |t| (t.to_string() + "1709510400,hx,1,2,0\n1709510460,hx,1,2,0\n1709510520,hx,1,2,1\n").into_bytes(),
            &[],
            Handled {
                stderr: &[
                    "warning: 1 series have fewer than 7 rows and give no windows, skipped (first: hx with 3 rows)",
                ],
                report: &["warning: 1 series have fewer than 7 rows"],
            },
        ),
        case(
            "no pod long enough",
            Generic,
            |t| {
                let r = rows(t);
                let keep: Vec<Vec<String>> = r
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i == 0 || (*i - 1) % 240 < 6)
                    .map(|(_, x)| x.clone())
                    .collect();
                join(&keep).into_bytes()
            },
            &[],
            Error(&["no series is long enough for a window: sequence length 6 needs 7 rows", "the longest has 6"]),
        ),
        case(
            "one class only",
            Generic,
            |t| {
                let mut r = rows(t);
                r.iter_mut().skip(1).for_each(|row| row[4] = "0".into());
                join(&r).into_bytes()
            },
            &[],
            Error(&["the training split has only normal windows", "supervised training needs both classes"]),
        ),
        case(
            "no anomaly in the test split",
            Generic,
            |t| {
                let mut r = rows(t);
                r.iter_mut()
                    .skip(1)
                    .filter(|row| row[0].parse::<i64>().unwrap() >= 1_709_510_400 + 60 * 190)
                    .for_each(|row| row[4] = "0".into());
                join(&r).into_bytes()
            },
            &[],
            Error(&["the test split has only normal windows", "supervised training needs both classes"]),
        ),
        case(
            "constant column is scaled to 0 with a warning",
            Generic,
            |t| {
                let mut r = rows(t);
                r.iter_mut().skip(1).for_each(|row| row[3] = "80".into());
                join(&r).into_bytes()
            },
            &[],
            Handled {
                stderr: &["warning: 1 feature is constant in the training rows and scaled to 0: latency_ms"],
                report: &["warning: 1 feature is constant in the training rows and scaled to 0: latency_ms"],
            },
        ),
        // -- the shape of the file
        case(
            "ragged row with an extra field",
            Generic,
            |t| {
                let mut r = rows(t);
                r[6].push("9".into());
                join(&r).into_bytes()
            },
            &[],
            Error(&["metrics.csv, line 7: this row has 6 fields but the header has 5", "--skip-bad-rows"]),
        ),
        case(
            "ragged row with a missing field",
            Generic,
            |t| {
                let mut r = rows(t);
                r[6].pop();
                join(&r).into_bytes()
            },
            &[],
            Error(&["metrics.csv, line 7: this row has 4 fields but the header has 5"]),
        ),
        case(
            "ragged row under --skip-bad-rows is left out and counted",
            Generic,
            |t| {
                let mut r = rows(t);
                r[6].pop();
                join(&r).into_bytes()
            },
            &["--skip-bad-rows"],
            Handled {
                stderr: &["skipped 1 rows: wrong number of fields"],
                report: &["left out 1 rows: wrong number of fields"],
            },
        ),
        case(
            "UTF-8 BOM and CRLF (generic)",
            Generic,
            |t| [b"\xef\xbb\xbf".as_slice(), t.replace('\n', "\r\n").as_bytes()].concat(),
            &[],
            Handled { stderr: &[], report: &["Rows read: 720 (720 used, 0 left out)"] },
        ),
        case(
            "UTF-8 BOM and CRLF (Kubernetes)",
            K8s,
            |t| [b"\xef\xbb\xbf".as_slice(), t.replace('\n', "\r\n").as_bytes()].concat(),
            &[],
            Handled { stderr: &[], report: &["Rows read: 3000 (3000 used, 0 left out)"] },
        ),
        case(
            "invalid UTF-8",
            Generic,
            |t| {
                let mut b = t.as_bytes().to_vec();
                let at = t.match_indices("h1").nth(4).unwrap().0; // data row 4 of h1: line 246
                b.splice(at..at + 2, *b"h\xff");
                b
            },
            &[],
            Error(&["metrics.csv, line 246, column 'host': invalid UTF-8", "convert the file"]),
        ),
        // -- flags out of range (on good data)
        case(
            "sequence length 0",
            Generic,
            same,
            &["--sequence-length", "0"],
            Error(&["--sequence-length must be at least 1"]),
        ),
        case(
            "sequence length beyond any series",
            Generic,
            same,
            &["--sequence-length", "100000"],
            Error(&["no series is long enough for a window"]),
        ),
        case(
            "sequence length beyond the limit",
            Generic,
            same,
            &["--sequence-length", "18446744073709551615"],
            Error(&["--sequence-length must be at most 100000, got 18446744073709551615"]),
        ),
        case("batch size 0", Generic, same, &["--batch-size", "0"], Error(&["--batch-size must be at least 1"])),
        case(
            "test size 0",
            Generic,
            same,
            &["--test-size", "0"],
            Error(&["--test-size must be between 0 and 1 (exclusive), got 0"]),
        ),
        case(
            "test size 1",
            Generic,
            same,
            &["--test-size", "1"],
            Error(&["--test-size must be between 0 and 1 (exclusive), got 1"]),
        ),
        case(
            "test size 1.5",
            Generic,
            same,
            &["--test-size", "1.5"],
            Error(&["--test-size must be between 0 and 1 (exclusive), got 1.5"]),
        ),
        case(
            "test size -0.5",
            Generic,
            same,
            &["--test-size", "-0.5"],
            Error(&["--test-size must be between 0 and 1 (exclusive), got -0.5"]),
        ),
        case(
            "test size NaN",
            Generic,
            same,
            &["--test-size", "NaN"],
            Error(&["--test-size must be between 0 and 1 (exclusive), got NaN"]),
        ),
        case(
            "percentile 0",
            Generic,
            same,
            &["--threshold-percentile", "0"],
            Error(&["--threshold-percentile must be in (0, 100], got 0"]),
        ),
        case(
            "percentile 101",
            Generic,
            same,
            &["--threshold-percentile", "101"],
            Error(&["--threshold-percentile must be in (0, 100], got 101"]),
        ),
        case(
            "percentile -5",
            Generic,
            same,
            &["--threshold-percentile", "-5"],
            Error(&["--threshold-percentile must be in (0, 100], got -5"]),
        ),
        case(
            "negative learning rate",
            Generic,
            same,
            &["--learning-rate", "-1"],
            Error(&["--learning-rate must be a positive number, got -1"]),
        ),
        case(
            "learning rate 0",
            Generic,
            same,
            &["--learning-rate", "0"],
            Error(&["--learning-rate must be a positive number, got 0"]),
        ),
        case(
            "infinite learning rate",
            Generic,
            same,
            &["--learning-rate", "inf"],
            Error(&["--learning-rate must be a positive number, got inf"]),
        ),
        case("epochs 0", Generic, same, &["--epochs", "0"], Error(&["--epochs must be at least 1"])),
        case("patience 0", Generic, same, &["--patience", "0"], Error(&["--patience must be at least 1"])),
        case(
            "smooth 0",
            Generic,
            same,
            &["--smooth", "0"],
            Error(&["--smooth must be between 1 and 1000 windows, got 0"]),
        ),
        case(
            "smooth 5000",
            Generic,
            same,
            &["--smooth", "5000"],
            Error(&["--smooth must be between 1 and 1000 windows, got 5000"]),
        ),
        case("threads 0", Generic, same, &["--threads", "0"], Error(&["--threads must be between 1 and 1024, got 0"])),
        case(
            "threads 100000",
            Generic,
            same,
            &["--threads", "100000"],
            Error(&["--threads must be between 1 and 1024, got 100000"]),
        ),
        case(
            "negative clip norm",
            Generic,
            same,
            &["--clip-norm", "-1"],
            Error(&["--clip-norm must be a positive number, got -1"]),
        ),
        case("zero width", Generic, same, &["--lstm-units", "0,4"], Error(&["--lstm-units takes two positive widths"])),
        case(
            "absurd width",
            Generic,
            same,
            &["--dense-units", "100000000,4"],
            Error(&["--dense-units takes two positive widths of at most 16384"]),
        ),
        case("one width", Generic, same, &["--lstm-units", "8"], Error(&["--lstm-units takes two positive widths"])),
        case(
            "model too large",
            Generic,
            same,
            &["--lstm-units", "16384,16384"],
            Error(&["the model would have", "parameters, more than the 134217728 kubelstm trains"]),
        ),
        case(
            "unsupervised autoencoder needs no labels (the same file trains)",
            Generic,
            same,
            &["--use-autoencoder", "--mode", "unsupervised"],
            Handled { stderr: &[], report: &["LSTM autoencoder (unsupervised)"] },
        ),
    ]
}

/// Runs one case; returns a description of what went wrong, if anything.
fn run_case(case: &Case, tmp: &Path, k8s_full: &str, k8s_head: &str, generic: &str) -> Result<(), String> {
    let dir = tmp.join(case.name.replace(|c: char| !c.is_ascii_alphanumeric(), "_"));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("metrics.csv");
    let base = match case.base {
        Base::Generic | Base::GenericCpu => generic,
        Base::K8sHead => k8s_head,
        Base::K8s => k8s_full,
    };
    std::fs::write(&data, (case.csv)(base)).unwrap();
    let out_dir = dir.join("out");
    // Relative paths, run from the case's folder: messages then say "metrics.csv, line 7".
    let mut args: Vec<&str> = vec!["train", "--data-path", "metrics.csv", "--output-dir", "out"];
    // Default flag pairs, unless the case sets the flag itself (clap refuses a flag twice).
    let mut defaults: Vec<[&str; 2]> = vec![["--epochs", "1"]];
    defaults.extend(TINY.chunks(2).map(|kv| [kv[0], kv[1]]));
    match case.base {
        Base::Generic => defaults.push(["--feature-columns", "cpu,latency_ms"]),
        Base::GenericCpu => defaults.push(["--feature-columns", "cpu"]),
        Base::K8sHead | Base::K8s => {}
    }
    if matches!(case.base, Base::Generic | Base::GenericCpu) {
        defaults.extend(GENERIC_FLAGS[2..].chunks(2).map(|kv| [kv[0], kv[1]]));
        defaults.push(["--sequence-length", "6"]);
    }
    args.extend(defaults.iter().filter(|[flag, _]| !case.flags.contains(flag)).flatten());
    args.extend(case.flags);
    let out = Command::new(EXE).args(&args).current_dir(&dir).output().unwrap();
    let stderr = text(&out.stderr);
    let result = std::panic::catch_unwind(|| match &case.want {
        Want::Error(needles) => {
            assert_error(&out, needles);
            // Every error above is found before training starts: not even an unfinished folder.
            assert!(run_folders(&out_dir).is_empty(), "a run folder was left in {}", out_dir.display());
        }
        Want::Handled { stderr: want_stderr, report } => {
            assert_success(&out);
            for needle in *want_stderr {
                assert!(stderr.contains(needle), "stderr does not say '{needle}':\n{stderr}");
            }
            let run = dir.join(run_folder_of(&out));
            assert_eq!(claimed_status(&run).as_deref(), Some("complete"));
            let summary = std::fs::read_to_string(run.join("summary_report.txt")).unwrap();
            for needle in *report {
                assert!(summary.contains(needle), "summary_report.txt does not say '{needle}':\n{summary}");
            }
            load_model(&run).unwrap_or_else(|e| panic!("load_model: {e}"));
        }
    });
    result.map_err(|panic| {
        let why = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        format!("case '{}' ({args:?}): {why}\n--- stderr:\n{stderr}", case.name)
    })
}

/// The table of bad inputs, through the binary. All cases run; the failures are
/// reported together.
#[test]
fn bad_input_table() {
    let tmp = tempfile::tempdir().unwrap();
    let k8s_full = std::fs::read_to_string(generate_k8s(tmp.path())).unwrap();
    let k8s_head: String = k8s_full.lines().take(241).map(|l| l.to_string() + "\n").collect();
    let generic = generic_text(true);
    let cases = cases();
    let started = Instant::now();
    let failures: Vec<String> = std::thread::scope(|s| {
        // Two workers: the table is mostly errors that take milliseconds; the handled cases train.
        let chunks: Vec<&[Case]> = cases.chunks(cases.len().div_ceil(2)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let (tmp, k8s_full, k8s_head, generic) = (tmp.path(), &k8s_full, &k8s_head, &generic);
                s.spawn(move || {
                    chunk.iter().filter_map(|c| run_case(c, tmp, k8s_full, k8s_head, generic).err()).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    eprintln!("bad-input table: {} cases in {:.1} s", cases.len(), started.elapsed().as_secs_f64());
    assert!(failures.is_empty(), "{} of {} cases failed:\n\n{}", failures.len(), cases.len(), failures.join("\n\n"));
}

/// The data file itself cannot be read.
#[test]
fn unreadable_data_path() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    let missing = tmp.path().join("nowhere.csv");
    for (data, needles) in [
        (missing.as_path(), ["could not open", "nowhere.csv: No such file or directory"]),
        // A directory is its *.csv files (see tests/sources.rs); this one has none.
        (tmp.path(), ["--data-path", "holds no .csv files"]),
    ] {
        let out = kubelstm(["train", "--data-path", data.to_str().unwrap(), "--output-dir", out_dir.to_str().unwrap()]);
        assert_error(&out, &needles);
        assert!(run_folders(&out_dir).is_empty());
    }
}

// ---------------------------------------------------------------------------------------
// Unwritable and full output directories

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// True when this machine lets an unprivileged user namespace mount a tmpfs (Linux with user
/// namespaces enabled): then a tiny or read-only file system can be simulated without root.
fn can_mount_tmpfs() -> bool {
    let probe = std::env::temp_dir();
    Command::new("unshare")
        .args(["-Urm", "sh", "-c", r#"mount -t tmpfs -o size=16k tmpfs "$1""#, "sh", probe.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `kubelstm args` inside a new mount namespace with a tmpfs (`options`) mounted on
/// `mount_point`; returns its output, and what the tmpfs held afterwards (it vanishes with the
/// namespace), one path per line after a `--- files` marker on stdout.
fn in_tmpfs(mount_point: &Path, options: &str, args: &[&str]) -> (Output, Vec<String>, Option<String>) {
    let script = r#"
        mp="$1"; opts="$2"; shift 2
        mount -t tmpfs -o "$opts" tmpfs "$mp" || exit 97
        "$@"; rc=$?
        echo '--- files'
        find "$mp" -type f | sort
        echo '--- status'
        cat "$mp"/run_*/run_status.json 2>/dev/null
        exit $rc"#;
    let mut cmd = Command::new("unshare");
    cmd.args(["-Urm", "sh", "-c", script, "sh", mount_point.to_str().unwrap(), options, EXE]).args(args);
    let out = cmd.output().unwrap();
    let stdout = text(&out.stdout);
    let files = stdout
        .split("--- files\n")
        .nth(1)
        .and_then(|rest| rest.split("--- status").next())
        .map(|l| l.lines().map(str::to_owned).collect())
        .unwrap_or_default();
    let status = stdout.split("--- status\n").nth(1).map(str::to_owned).filter(|s| !s.trim().is_empty());
    (out, files, status)
}

fn train_args<'a>(data: &'a str, out: &'a str) -> Vec<&'a str> {
    let mut args = vec!["train", "--data-path", data, "--output-dir", out, "--epochs", "1"];
    args.extend(TINY);
    args.extend(GENERIC_FLAGS);
    args
}

#[test]
fn unwritable_output_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("metrics.csv");
    std::fs::write(&data, generic_text(true)).unwrap();
    let data = data.to_str().unwrap();

    // A path below a regular file can never be created, whoever runs the test.
    let below_a_file = format!("{data}/out");
    let out = kubelstm(train_args(data, &below_a_file));
    assert_error(&out, &["could not create the output directory", &below_a_file, "Not a directory"]);
    // Found before the data is loaded (no ingest report on stderr), not after a long load.
    assert!(!text(&out.stderr).contains("rows read"), "{}", text(&out.stderr));

    // Permissions: root ignores them, so only as another user.
    if is_root() {
        eprintln!("unwritable_output_directory: running as root, permission bits not enforced; skipped that part");
    } else {
        use std::os::unix::fs::PermissionsExt;
        let locked = tmp.path().join("locked");
        std::fs::create_dir(&locked).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
        let out_dir = locked.join("out");
        let out = kubelstm(train_args(data, out_dir.to_str().unwrap()));
        assert_error(&out, &["could not create the output directory", "Permission denied"]);
        let out = kubelstm(train_args(data, locked.to_str().unwrap()));
        assert_error(&out, &["could not create a file in the output directory", "Permission denied"]);
    }

    // A read-only file system, where the machine allows a private mount.
    if can_mount_tmpfs() {
        let mp = tmp.path().join("ro");
        std::fs::create_dir(&mp).unwrap();
        let (out, files, _) = in_tmpfs(&mp, "ro,size=64k", &train_args(data, mp.to_str().unwrap()));
        assert_error(&out, &["could not create a file in the output directory", "Read-only file system"]);
        assert!(files.is_empty(), "{files:?}");
    } else {
        eprintln!(
            "unwritable_output_directory: no unprivileged tmpfs mounts here; read-only file system not simulated"
        );
    }
}

/// The disk fills up while the run folder is being written: the run stops with the path and
/// the OS error, removes its temporary file, and leaves a folder marked incomplete (no status
/// file) that `load_model` refuses.
#[test]
fn full_output_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("metrics.csv");
    std::fs::write(&data, generic_text(true)).unwrap();
    let data = data.to_str().unwrap();

    // Everywhere: a file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored) makes a write fail with EFBIG
    // the way a full disk fails it with ENOSPC. 64 blocks (32 or 64 KiB, by shell) hold the
    // model but not the plots.
    let out_dir = tmp.path().join("out");
    let script = r#"trap '' XFSZ; ulimit -f 64; exec "$@""#;
    let out = Command::new("sh")
        .args(["-c", script, "sh", EXE])
        .args(train_args(data, out_dir.to_str().unwrap()))
        .output()
        .unwrap();
    let error = assert_error(&out, &["could not write", "File too large"]);
    let runs = run_folders(&out_dir);
    assert_eq!(runs.len(), 1);
    assert!(error.contains(runs[0].to_str().unwrap()), "the error names the file: {error}");
    assert_eq!(claimed_status(&runs[0]), None, "a run that could not write its artifacts claims a status");
    let refused = load_model(&runs[0]).unwrap_err().to_string();
    assert!(refused.contains("did not finish"), "{refused}");
    for entry in std::fs::read_dir(&runs[0]).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.contains(".tmp-"), "temporary file {name} left behind");
    }

    // A real ENOSPC on a 64 KiB tmpfs, where the machine allows a private mount.
    if can_mount_tmpfs() {
        let mp = tmp.path().join("small");
        std::fs::create_dir(&mp).unwrap();
        let (out, files, status) = in_tmpfs(&mp, "size=64k", &train_args(data, mp.to_str().unwrap()));
        assert_error(&out, &["could not write", "No space left on device"]);
        assert!(!files.is_empty(), "the run folder was created");
        assert!(files.iter().all(|f| !f.ends_with("run_status.json") && !f.contains(".tmp-")), "{files:?}");
        assert_eq!(status, None);
    } else {
        eprintln!("full_output_directory: no unprivileged tmpfs mounts here; ENOSPC not simulated (EFBIG was)");
    }
}

// ---------------------------------------------------------------------------------------
// Faults: SIGKILL, SIGINT, divergence

/// A `train` run in the background, its output going to files (a pipe nobody reads could
/// fill up and stall it).
pub(crate) struct Background {
    pub(crate) child: Child,
    pub(crate) out_dir: PathBuf,
    stderr: PathBuf,
    started: Instant,
}

pub(crate) fn spawn_train(dir: &Path, name: &str, args: &[&str]) -> Background {
    let out_dir = dir.join(name);
    let stderr = dir.join(format!("{name}.stderr"));
    let child = Command::new(EXE)
        .args(args)
        .args(["--output-dir", out_dir.to_str().unwrap()])
        .stdout(std::fs::File::create(dir.join(format!("{name}.stdout"))).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    Background { child, out_dir, stderr, started: Instant::now() }
}

/// Generous: the tests must not fail because another build shares the two cores.
const PATIENCE: Duration = Duration::from_secs(300);

impl Background {
    /// The training log of the (one) run folder, once it exists.
    fn log(&self) -> Option<String> {
        run_folders(&self.out_dir).first().and_then(|d| std::fs::read_to_string(d.join("training.log")).ok())
    }

    /// Polls until `ready` holds. Returns false if the process exited first.
    pub(crate) fn wait_until(&mut self, what: &str, mut ready: impl FnMut(&Self) -> bool) -> bool {
        loop {
            if ready(self) {
                return true;
            }
            if self.child.try_wait().unwrap().is_some() {
                return false;
            }
            assert!(self.started.elapsed() < PATIENCE, "waited {PATIENCE:?} for {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    pub(crate) fn wait_for_log(&mut self, needle: &str) -> bool {
        self.wait_until(&format!("'{needle}' in training.log"), |b| b.log().is_some_and(|l| l.contains(needle)))
    }

    pub(crate) fn finish(mut self) -> (std::process::ExitStatus, String) {
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "train did not exit within {PATIENCE:?}");
            std::thread::sleep(Duration::from_millis(10));
        };
        (status, std::fs::read_to_string(&self.stderr).unwrap_or_default())
    }
}

/// The files a complete run on labelled data leaves.
const ARTIFACTS: [&str; 15] = [
    "model.safetensors",
    "model.json",
    "scaler.json",
    "threshold.json",
    "parameters.json",
    "history.csv",
    "evaluation.json",
    "summary_report.txt",
    "training.log",
    "training_history.png",
    "roc_curve.png",
    "precision_recall_curve.png",
    "confusion_matrix.png",
    "scores.png",
    "run_status.json",
];

/// What a folder left by a killed run looks like: `complete` (then it loads) or `incomplete`
/// (no status file; `load_model` refuses it). Either way every visible file is a whole
/// artifact — atomic writes leave only hidden `.name.tmp-PID` files half-written.
fn inspect_killed_folder(dir: &Path) -> String {
    let mut visible = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            assert!(name.contains(".tmp-"), "unexpected hidden file {name}");
            assert!(!ARTIFACTS.contains(&name.as_str()));
        } else {
            assert!(ARTIFACTS.contains(&name.as_str()), "unexpected file {name}");
            visible.push(name);
        }
    }
    for name in &visible {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).unwrap();
        match name.rsplit('.').next() {
            Some("json") => {
                serde_json::from_slice::<serde_json::Value>(&bytes)
                    .unwrap_or_else(|e| panic!("{name} is cut short: {e}"));
            }
            Some("png") => {
                image::load_from_memory(&bytes).unwrap_or_else(|e| panic!("{name} is cut short: {e}"));
            }
            Some("safetensors") => {
                safetensors::SafeTensors::deserialize(&bytes).unwrap_or_else(|e| panic!("{name} is cut short: {e}"));
            }
            Some("csv") | Some("txt") => assert!(bytes.ends_with(b"\n"), "{name} is cut short"),
            _ => {} // training.log is appended line by line, not an artifact readers trust
        }
    }
    match claimed_status(dir) {
        Some(status) => {
            assert_eq!(status, "complete", "a killed run can only have finished before the kill");
            let loaded = load_model(dir).unwrap_or_else(|e| panic!("complete folder does not load: {e}"));
            assert_eq!(loaded.status, RunStatus::Complete);
            let mut have = visible.clone();
            have.sort();
            let mut want: Vec<String> = ARTIFACTS.iter().map(|s| s.to_string()).collect();
            want.sort();
            assert_eq!(have, want, "a complete folder holds every artifact");
            "complete, loads".into()
        }
        None => {
            let err = load_model(dir).unwrap_err().to_string();
            assert!(err.contains("did not finish"), "{err}");
            format!("incomplete: no status file, load_model refuses it ({} whole files)", visible.len())
        }
    }
}

/// About two seconds of training on an idle machine: eight epochs of a mid-sized model.
fn kill_args(data: &str) -> Vec<&str> {
    vec![
        "train",
        "--data-path",
        data,
        "--epochs",
        "8",
        "--patience",
        "50",
        "--lstm-units",
        "64,32",
        "--dense-units",
        "16,8",
        "--threads",
        "1",
    ]
}

enum Wait {
    Start,
    Log(&'static str),
    File(&'static str),
}

/// SIGKILL at random moments — during loading, training, a checkpoint write, the final
/// artifact writes — leaves every run folder either complete and loadable or clearly
/// incomplete, and never a half-written file under an artifact's name.
#[test]
fn sigkill_at_random_moments() {
    let tmp = tempfile::tempdir().unwrap();
    let data = generate_k8s(tmp.path());
    let args = kill_args(data.to_str().unwrap());

    // One uninterrupted run measures how long a run takes here, now.
    let run = spawn_train(tmp.path(), "whole", &args);
    let out_dir = run.out_dir.clone();
    let (status, stderr) = run.finish();
    assert!(status.success(), "{stderr}");
    let took = status_time(&out_dir);
    assert_eq!(inspect_killed_folder(&run_folders(&out_dir)[0]), "complete, loads");

    let seed: u64 = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    eprintln!("sigkill_at_random_moments: seed {seed}, an uninterrupted run takes {took:.2} s");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let ms = |s: f64| Duration::from_secs_f64(s.max(0.0));
    // (name, what to wait for, random delay after it)
    let plans: [(&str, Wait, Duration); 5] = [
        ("early", Wait::Start, ms(rng.random_range(0.0..0.5) * took)),
        ("late", Wait::Start, ms(rng.random_range(0.5..1.1) * took)),
        // The checkpoint file itself, not the epoch's log line: under load the kill could land
        // between the line and the (atomic) write of the checkpoint.
        ("checkpoint", Wait::File("model.json"), ms(rng.random_range(0.0..0.05))),
        ("after-training", Wait::Log("epoch 8/8"), ms(rng.random_range(0.0..0.1) * took)),
        ("mid-artifacts", Wait::File("threshold.json"), ms(rng.random_range(0.0..0.03))),
    ];
    for (name, after, delay) in plans {
        let mut run = spawn_train(tmp.path(), name, &args);
        let reached = match after {
            Wait::Start => true,
            Wait::Log(line) => run.wait_for_log(line),
            Wait::File(file) => run.wait_until(file, |b| run_folders(&b.out_dir).iter().any(|d| d.join(file).exists())),
        };
        let start = Instant::now();
        let mut finished_first = !reached;
        while !finished_first && start.elapsed() < delay {
            finished_first = run.child.try_wait().unwrap().is_some();
            std::thread::sleep(Duration::from_millis(2));
        }
        let at = run.started.elapsed().as_secs_f64();
        let _ = run.child.kill(); // SIGKILL
        let (status, stderr) = run.finish();
        assert!(!stderr.contains("panicked"), "{stderr}");
        let folders = run_folders(&tmp.path().join(name));
        let what: Vec<String> = folders.iter().map(|d| inspect_killed_folder(d)).collect();
        eprintln!(
            "  {name}: killed at {at:.2} s ({}) -> {}",
            if finished_first { format!("had already exited: {status}") } else { "SIGKILL".into() },
            if what.is_empty() { "no run folder yet".to_string() } else { what.join("; ") }
        );
        if name == "checkpoint" {
            // Killed just after the first epoch's checkpoint with seven epochs to go.
            assert_eq!(what.len(), 1);
            assert!(what[0].starts_with("incomplete"), "{what:?}");
            let dir = &folders[0];
            assert!(dir.join("model.json").exists(), "the first epoch's checkpoint is on disk");
        }
    }
}

/// Seconds between the run folder's creation and its status file (how long a run took).
fn status_time(out_dir: &Path) -> f64 {
    let dir = &run_folders(out_dir)[0];
    let created = std::fs::metadata(dir.join("training.log")).unwrap().created().ok();
    let finished = std::fs::metadata(dir.join("run_status.json")).unwrap().modified().unwrap();
    match created {
        Some(c) => finished.duration_since(c).map_or(1.0, |d| d.as_secs_f64()).max(0.2),
        None => 3.0,
    }
}

fn sigint(child: &Child) {
    // SAFETY: kill(2) with a live child's pid and a valid signal number has no memory effects.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(rc, 0, "kill(SIGINT): {}", std::io::Error::last_os_error());
}

/// Ctrl-C after the first epoch: training stops after the current batch, the run finishes
/// with the best weights so far and a report marked interrupted, and the exit code is 130.
#[test]
fn sigint_finishes_the_run_as_interrupted() {
    let tmp = tempfile::tempdir().unwrap();
    let data = generate_k8s(tmp.path());
    let mut args = vec!["train", "--data-path", data.to_str().unwrap(), "--epochs", "50", "--patience", "50"];
    args.extend(TINY);
    let mut run = spawn_train(tmp.path(), "out", &args);
    assert!(run.wait_for_log("epoch 1/50"), "train exited before its first epoch ended");
    sigint(&run.child);
    let out_dir = run.out_dir.clone();
    let (status, stderr) = run.finish();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("stopping after the current batch (Ctrl-C again to abort)"), "{stderr}");
    check_interrupted(&run_folders(&out_dir)[0], 1..50);
}

/// Ctrl-C before any epoch has finished still leaves a finished, loadable, interrupted run
/// (with the weights as they were: there is no best epoch yet).
#[test]
fn sigint_before_the_first_epoch_ends() {
    let tmp = tempfile::tempdir().unwrap();
    let data = generate_k8s(tmp.path());
    // The original's widths: an epoch takes most of a second, so the signal, sent as soon as
    // training starts, lands inside epoch 1.
    let args = vec!["train", "--data-path", data.to_str().unwrap(), "--epochs", "2", "--threads", "1"];
    let mut run = spawn_train(tmp.path(), "out", &args);
    assert!(run.wait_for_log(" train: "), "train exited before training started");
    sigint(&run.child);
    let out_dir = run.out_dir.clone();
    let (status, stderr) = run.finish();
    assert_eq!(status.code(), Some(130), "{stderr}");
    let dir = &run_folders(&out_dir)[0];
    check_interrupted(dir, 0..1);
    let summary = std::fs::read_to_string(dir.join("summary_report.txt")).unwrap();
    assert!(summary.contains("Best epoch: none"), "{summary}");
}

/// True once `pid` has installed a handler for SIGINT (Linux: bit 1 of `SigCgt` in
/// `/proc/PID/status`). Elsewhere, or if unreadable, false.
pub(crate) fn catches_sigint(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("SigCgt:").map(|m| m.trim().to_string())))
        .and_then(|mask| u64::from_str_radix(&mask, 16).ok())
        .is_some_and(|mask| mask & (1 << (libc::SIGINT - 1)) != 0)
}

/// Ctrl-C while the data is still loading: nothing to save yet, so no run folder is created
/// (it used to go on to train one batch and write a whole "interrupted" run); exit 130.
#[test]
fn sigint_while_loading_leaves_no_run_folder() {
    if !Path::new("/proc/self/status").exists() {
        eprintln!("sigint_while_loading_leaves_no_run_folder: no /proc to see the handler; skipped");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("big.csv");
    // 200,000 rows (30 MB): most of a second to load, so the signal lands during the load.
    let out = kubelstm(["generate", "--pods", "50", "--rows", "200000", "-q", "-o", data.to_str().unwrap()]);
    assert_success(&out);
    let mut args = vec!["train", "--data-path", data.to_str().unwrap(), "--epochs", "1"];
    args.extend(TINY);
    let mut run = spawn_train(tmp.path(), "out", &args);
    let pid = run.child.id();
    assert!(run.wait_until("the SIGINT handler", |_| catches_sigint(pid)), "train exited early");
    sigint(&run.child);
    let out_dir = run.out_dir.clone();
    let (status, stderr) = run.finish();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted: stopped before training started; no run folder was created"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(run_folders(&out_dir).is_empty(), "a run folder was created");
}

pub(crate) fn check_interrupted(dir: &Path, epochs: std::ops::Range<usize>) {
    assert_eq!(claimed_status(dir).as_deref(), Some("interrupted"));
    assert_eq!(read_json(&dir.join("run_status.json"))["message"], "interrupted by the user");
    let summary = std::fs::read_to_string(dir.join("summary_report.txt")).unwrap();
    assert!(summary.contains("STATUS: INTERRUPTED"), "{summary}");
    let history = std::fs::read_to_string(dir.join("history.csv")).unwrap();
    let rows = history.lines().count() - 1;
    assert!(epochs.contains(&rows), "{rows} epochs in history.csv, expected {epochs:?}");
    let log = std::fs::read_to_string(dir.join("training.log")).unwrap();
    assert!(log.contains("interrupted: finishing the run with the best weights so far"), "{log}");
    for name in ARTIFACTS {
        assert!(dir.join(name).exists(), "{name} missing from an interrupted run");
    }
    let loaded = load_model(dir).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded.status, RunStatus::Interrupted);
}

/// An absurd learning rate overflows the weights within the first epoch: exit 2, the message
/// names the epoch and batch, the folder says `diverged`, and holds no model (no epoch
/// finished, so there is no good checkpoint) — `load_model` says so rather than loading junk.
#[test]
fn divergence_names_epoch_and_batch() {
    let tmp = tempfile::tempdir().unwrap();
    let data = generate_k8s(tmp.path());
    let out_dir = tmp.path().join("out");
    let mut args = vec!["train", "--data-path", data.to_str().unwrap(), "--output-dir", out_dir.to_str().unwrap()];
    args.extend(["--epochs", "3", "--learning-rate", "1e30"]);
    args.extend(TINY);
    let out = kubelstm(&args);
    let error =
        assert_error(&out, &["training diverged at epoch 1, batch ", "NaN or infinite", "try a lower --learning-rate"]);
    let batch: usize = error.split("batch ").nth(1).unwrap().split(':').next().unwrap().parse().unwrap();
    assert!(batch >= 1);
    let dir = &run_folders(&out_dir)[0];
    assert_eq!(claimed_status(dir).as_deref(), Some("diverged"));
    let message = read_json(&dir.join("run_status.json"))["message"].as_str().unwrap().to_string();
    assert_eq!(format!("error: {message}"), error);
    assert!(std::fs::read_to_string(dir.join("training.log")).unwrap().contains(&message));
    assert!(!dir.join("model.safetensors").exists() && !dir.join("summary_report.txt").exists());
    let refused = load_model(dir).unwrap_err().to_string();
    assert!(refused.contains("model.json is missing"), "{refused}");
}

/// Extreme values that a robust scaler leaves extreme overflow the autoencoder's loss on its
/// very first batch: the message must blame the data, not the learning rate.
#[test]
fn divergence_caused_by_the_data_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let mut r = rows(&generic_text(false));
    // Every fifth row of every host: every window holds one, so the first batch diverges
    // whatever the shuffle puts in it.
    for row in (0..r.len() - 1).step_by(5) {
        r[row + 1][2] = "3e38".into();
    }
    let data = tmp.path().join("metrics.csv");
    std::fs::write(&data, join(&r)).unwrap();
    let out_dir = tmp.path().join("out");
    let mut args = vec!["train", "--data-path", data.to_str().unwrap(), "--output-dir", out_dir.to_str().unwrap()];
    args.extend(["--use-autoencoder", "--use-robust-scaler", "--epochs", "2"]);
    args.extend(TINY);
    args.extend(GENERIC_FLAGS);
    let out = kubelstm(&args);
    assert_error(
        &out,
        &["training diverged at epoch 1, batch 1", "before any weight update", "look for extreme values in the data"],
    );
    assert!(!text(&out.stderr).contains("--learning-rate"), "{}", text(&out.stderr));
    assert_eq!(claimed_status(&run_folders(&out_dir)[0]).as_deref(), Some("diverged"));
}

/// Windows whose inputs turn to NaN from the `poison_from`-th gather on (0-based).
struct PoisonedWindows {
    inner: DenseWindows,
    gathers: std::sync::atomic::AtomicUsize,
    poison_from: usize,
}

impl Windows for PoisonedWindows {
    fn len(&self) -> usize {
        self.inner.len()
    }
    fn steps(&self) -> usize {
        self.inner.steps()
    }
    fn features(&self) -> usize {
        self.inner.features()
    }
    fn label(&self, i: usize) -> u8 {
        self.inner.label(i)
    }
    fn gather(&self, ids: &[usize], x: &mut [f32]) {
        self.inner.gather(ids, x);
        if self.gathers.fetch_add(1, std::sync::atomic::Ordering::SeqCst) >= self.poison_from {
            x.fill(f32::NAN);
        }
    }
}

/// Records what the job's observer would checkpoint.
#[derive(Default)]
struct Checkpoints {
    saved: Vec<(usize, Vec<f32>)>,
}

impl Observer for Checkpoints {
    fn epoch_done(&mut self, record: &EpochRecord, best: bool, params: &[f32]) -> kubelstm::Result<()> {
        if best {
            self.saved.push((record.epoch, params.to_vec()));
        }
        Ok(())
    }
}

/// Divergence after a good epoch (the CLI cannot make one happen on cue: an absurd learning
/// rate overflows at once or never): the trainer stops at the poisoned batch with an error
/// naming epoch 2, batch 3, after handing epoch 1's weights to the checkpoint hook — which in
/// `train` writes them to the run folder, where they stay.
#[test]
fn divergence_after_a_good_epoch_keeps_its_checkpoint() {
    let (steps, features, n) = (4, 3, 64);
    let x: Vec<f32> = (0..n * steps * features).map(|i| ((i * 37 % 101) as f32 / 101.0) - 0.5).collect();
    let labels: Vec<u8> = (0..n).map(|i| u8::from(i % 4 == 0)).collect();
    let batch_size = 16;
    let batches_per_epoch = n / batch_size;
    let train = PoisonedWindows {
        inner: DenseWindows { x: x.clone(), labels: labels.clone(), steps, features },
        gathers: Default::default(),
        poison_from: batches_per_epoch + 2, // epoch 2, batch 3
    };
    let validation = DenseWindows { x, labels, steps, features };
    let mut cfg = ModelConfig::new(Arch::Standard, features);
    cfg.lstm = [4, 3];
    cfg.dense = [4, 3];
    let model = Model::new(cfg).unwrap();
    let params = model.init_params(1);
    let mut engine = Engine::new(model, 1).unwrap();
    let settings = TrainSettings { epochs: 5, batch_size, ..Default::default() };
    let mut checkpoints = Checkpoints::default();
    let err = fit(&mut engine, params, &train, &validation, &settings, &mut checkpoints).unwrap_err();
    match err {
        Error::Diverged { epoch, batch, ref message } => {
            assert_eq!((epoch, batch), (2, 3), "{message}");
            assert!(err.to_string().starts_with("training diverged at epoch 2, batch 3: the loss became NaN"), "{err}");
        }
        other => panic!("expected divergence, got {other}"),
    }
    assert_eq!(checkpoints.saved.len(), 1, "epoch 1 was checkpointed");
    assert_eq!(checkpoints.saved[0].0, 1);
    assert!(checkpoints.saved[0].1.iter().all(|v| v.is_finite()), "the checkpoint holds finite weights");
}

// ---------------------------------------------------------------------------------------
// load_model on damaged folders, and the fuzz corpora on stable

/// A real, tiny, complete run folder (2 generic features, widths 2): the valid seed of the
/// `model_load` corpus and the base of the damage table.
pub(crate) fn tiny_run_folder(tmp: &Path, extra: &[&str]) -> PathBuf {
    let data = tmp.join("metrics.csv");
    std::fs::write(&data, generic_text(true)).unwrap();
    let out_dir = tmp.join("out");
    let mut args = vec!["train", "--data-path", data.to_str().unwrap(), "--output-dir", out_dir.to_str().unwrap()];
    args.extend(extra);
    args.extend(["--epochs", "1", "--lstm-units", "2,2", "--dense-units", "2,2", "--threads", "1"]);
    args.extend(["--feature-columns", "cpu,latency_ms", "--time-column", "ts", "--group-columns", "host"]);
    let out = kubelstm(&args);
    assert_success(&out);
    run_folder_of(&out)
}

type Damage = fn(&Path);

fn edit_json(path: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut v = read_json(path);
    edit(&mut v);
    std::fs::write(path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

/// (name, damage, what the error must say)
fn damages() -> Vec<(&'static str, Damage, &'static str)> {
    vec![
        ("no-status", |d| std::fs::remove_file(d.join("run_status.json")).unwrap(), "the run did not finish"),
        (
            "status-damaged",
            |d| std::fs::write(d.join("run_status.json"), "{\"status\": \"compl").unwrap(),
            "run_status.json is damaged",
        ),
        ("no-model-json", |d| std::fs::remove_file(d.join("model.json")).unwrap(), "model.json is missing"),
        ("no-weights", |d| std::fs::remove_file(d.join("model.safetensors")).unwrap(), "model.safetensors is missing"),
        (
            "model-json-not-json",
            |d| std::fs::write(d.join("model.json"), "{\"format\": ").unwrap(),
            "model.json is not valid JSON",
        ),
        (
            "not-a-model-json",
            |d| std::fs::write(d.join("model.json"), "[1, 2, 3]").unwrap(),
            "is not a kubelstm model description",
        ),
        (
            "other-version",
            |d| edit_json(&d.join("model.json"), |v| v["format_version"] = 2.into()),
            "model format version 2 is not supported",
        ),
        (
            "field-missing",
            |d| {
                edit_json(&d.join("model.json"), |v| {
                    v.as_object_mut().unwrap().remove("features");
                })
            },
            "model.json is damaged: missing field `features`",
        ),
        (
            "wider-lstm",
            |d| edit_json(&d.join("model.json"), |v| v["model"]["lstm"] = serde_json::json!([3, 2])),
            "has shape",
        ),
        (
            "other-arch",
            |d| edit_json(&d.join("model.json"), |v| v["model"]["arch"] = "bidirectional".into()),
            "model.safetensors has",
        ),
        (
            "unknown-arch",
            |d| edit_json(&d.join("model.json"), |v| v["model"]["arch"] = "transformer".into()),
            "model.json is damaged: unknown variant `transformer`",
        ),
        (
            "feature-names-mismatch",
            |d| edit_json(&d.join("model.json"), |v| v["features"].as_array_mut().unwrap().push("extra".into())),
            "model.json lists 3 features but the model takes 2",
        ),
        (
            "other-features",
            |d| {
                edit_json(&d.join("model.json"), |v| {
                    v["features"].as_array_mut().unwrap().push("extra".into());
                    v["model"]["features"] = 3.into();
                })
            },
            "has shape",
        ),
        (
            "absurd-width",
            |d| edit_json(&d.join("model.json"), |v| v["model"]["lstm"] = serde_json::json!([1_000_000_000, 2])),
            "layer widths must be at most 16384",
        ),
        (
            "zero-width",
            |d| edit_json(&d.join("model.json"), |v| v["model"]["dense"] = serde_json::json!([0, 2])),
            "layer widths must be positive",
        ),
        (
            "bad-dropout",
            |d| edit_json(&d.join("model.json"), |v| v["model"]["dropout_lstm"] = 1.5.into()),
            "dropout rate 1.5 is outside [0, 1)",
        ),
        (
            "sequence-length-0",
            |d| edit_json(&d.join("model.json"), |v| v["sequence_length"] = 0.into()),
            "sequence length 0",
        ),
        (
            "negative-sequence-length",
            |d| edit_json(&d.join("model.json"), |v| v["sequence_length"] = (-3).into()),
            "model.json is damaged",
        ),
        (
            "weights-truncated",
            |d| {
                let b = std::fs::read(d.join("model.safetensors")).unwrap();
                std::fs::write(d.join("model.safetensors"), &b[..b.len() / 2]).unwrap();
            },
            "model.safetensors is truncated or damaged",
        ),
        (
            "weights-empty",
            |d| std::fs::write(d.join("model.safetensors"), b"").unwrap(),
            "model.safetensors is truncated or damaged",
        ),
        (
            "weight-altered",
            |d| {
                let p = d.join("model.safetensors");
                let mut b = std::fs::read(&p).unwrap();
                let n = b.len();
                b[n - 3] ^= 0x10;
                std::fs::write(&p, b).unwrap();
            },
            "do not match the checksum in model.json",
        ),
        (
            "nan-weight-with-matching-checksum",
            |d| {
                let loaded = load_model(d).unwrap();
                let mut params = loaded.params.clone();
                params[0] = f32::NAN;
                let bytes = kubelstm::artifacts::model_file::safetensors_bytes(&loaded.model, &params).unwrap();
                std::fs::write(d.join("model.safetensors"), bytes).unwrap();
                let sum = kubelstm::artifacts::model_file::weights_sha256(&params);
                edit_json(&d.join("model.json"), |v| v["weights_sha256"] = sum.into());
            },
            "holds NaN or infinite weights",
        ),
    ]
}

/// `load_model` refuses every kind of damaged folder with a message that says what is wrong
/// (the library half of the damaged-folder cases `detect` meets), and the fuzz check agrees.
#[test]
fn load_model_refuses_damaged_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let good = tiny_run_folder(tmp.path(), &[]);
    assert!(matches!(
        fuzz_model_folder(&encode_model_folder(&good, Parts::ModelFiles).unwrap()),
        FuzzOutcome::Loaded { scaler_ok: true }
    ));
    let err = load_model(&tmp.path().join("no-such-run")).unwrap_err().to_string();
    assert!(err.contains("no such run folder"), "{err}");
    for (name, damage, needle) in damages() {
        let dir = tmp.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        for entry in std::fs::read_dir(&good).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
        }
        damage(&dir);
        let err = load_model(&dir).map(|_| ()).unwrap_err();
        let text = kubelstm::cli::error_chain(&err);
        assert!(text.contains(needle), "{name}: '{text}' does not say '{needle}'");
        assert!(text.contains(dir.to_str().unwrap()), "{name}: '{text}' does not name the folder");
        let outcome = fuzz_model_folder(&encode_model_folder(&dir, Parts::WithStatus).unwrap());
        assert!(matches!(outcome, FuzzOutcome::Refused { .. }), "{name}: {outcome:?}");
    }
}

/// Writes the `model_load` seed corpus: a tiny valid folder of each architecture (so the
/// fuzzer starts from every model's loading and scoring path) and each damaged variant.
/// `cargo test --test main reliability::write_model_load_seed_corpus -- --ignored`
#[test]
#[ignore]
fn write_model_load_seed_corpus() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/model_load");
    std::fs::create_dir_all(&corpus).unwrap();
    for (name, extra) in [
        ("valid-tiny-bidirectional", &["--use-bidirectional"][..]),
        ("valid-tiny-attention", &["--use-attention"]),
        ("valid-tiny-autoencoder", &["--use-autoencoder"]),
        (
            "valid-tiny-autoencoder-unsupervised",
            &["--use-autoencoder", "--mode", "unsupervised", "--use-robust-scaler"],
        ),
    ] {
        let dir = tmp.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        let run = tiny_run_folder(&dir, extra);
        std::fs::write(corpus.join(name), encode_model_folder(&run, Parts::ModelFiles).unwrap()).unwrap();
    }
    let good = tiny_run_folder(tmp.path(), &[]);
    std::fs::write(corpus.join("valid-tiny-standard"), encode_model_folder(&good, Parts::ModelFiles).unwrap()).unwrap();
    for (name, damage, _) in damages() {
        let dir = tmp.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        for entry in std::fs::read_dir(&good).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
        }
        damage(&dir);
        std::fs::write(corpus.join(name), encode_model_folder(&dir, Parts::WithStatus).unwrap()).unwrap();
    }
}

/// Every fuzz target's corpus (`fuzz/corpus/<target>/`) through the check function its target
/// runs, once: the seeds and every crash input added there stay regression tests on stable Rust.
#[test]
fn every_fuzz_corpus_replays() {
    let replay = kubelstm_testkit::corpus::replay_all(&kubelstm_testkit::corpus::fuzz_dir());
    eprintln!("fuzz corpora replayed: {:?}", replay.replayed);
    assert_eq!(replay.replayed.len(), 4, "kernels, csv_ingest, model_load, detect_stream: {:?}", replay.replayed);
    assert!(replay.failures.is_empty(), "these corpus inputs fail their fuzz check:\n{}", replay.failures.join("\n"));
}
